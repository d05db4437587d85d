"""Checkpoint files on disk, laid out as TensorFlow lays them out.

``<prefix>.data-00000-of-00001`` holds the variables' bytes and ``<prefix>.index``
names them (``bundle``), each under TensorFlow's key
``<object path>/.ATTRIBUTES/VARIABLE_VALUE``, next to ``_CHECKPOINTABLE_OBJECT_GRAPH``:
the serialized ``TrackableObjectGraph`` through which TensorFlow matches objects, so
either framework restores the other's checkpoints of the same structure.

Both files are written under temporary names and renamed, the data file first, so a
reader never sees an index without its data. Checkpoints of older dlframe versions (one
NumPy ``.npz`` archive at ``<prefix>.index``; an iterator's position under
``<iterator>/_it/_position``) still load.
"""

import glob
import os
import tempfile

from dlframe import errors
from dlframe.backends.base import np  # host arrays for file I/O
from dlframe.core import dtypes as _dt
from dlframe.ops.framework_ops import init_scope
from dlframe.train import bundle

INDEX_SUFFIX = bundle.INDEX_SUFFIX
ATTRIBUTE = "/.ATTRIBUTES/VARIABLE_VALUE"
OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"


def tf_key(path):
    """A stored object-graph path as TensorFlow names the checkpoint key (a path
    that already names its attribute, ``'it/.ATTRIBUTES/ITERATOR_STATE'``, is one)."""
    return path if _attribute_of(path) else path + ATTRIBUTE


def _attribute_of(path):
    """('it', 'ITERATOR_STATE') for a path naming its own attribute, else None."""
    node, sep, name = ("/" + path).rpartition("/.ATTRIBUTES/")
    return (node[1:], name) if sep and "/" not in name else None


_ITERATOR_STATE = ".ATTRIBUTES/ITERATOR_STATE"   # an iterator's key (as TF's)


def _current_key(path, value):
    """``path`` as this version stores it: older versions kept an iterator's position
    (a scalar) under ``<iterator>/_it/_position``, now TF's ITERATOR_STATE key."""
    node, sep, rest = ("/" + path).rpartition("/_it/_position")
    if not sep or rest or np.ndim(value) != 0:
        return path
    return f"{node[1:]}/{_ITERATOR_STATE}".lstrip("/")


def _to_host(var):
    """A Variable's value as a host array (bfloat16 stays bfloat16)."""
    return np.asarray(var.numpy())


def _data_path(prefix):
    """The index file of a checkpoint prefix (the file whose presence marks it)."""
    return os.fspath(prefix) + INDEX_SUFFIX


def checkpoint_exists(prefix):
    return os.path.isfile(_data_path(prefix))


def remove_checkpoint(prefix):
    """Deletes a checkpoint's index and data files."""
    prefix = os.fspath(prefix)
    for name in [_data_path(prefix)] + glob.glob(glob.escape(prefix) + ".data-*-of-*"):
        if os.path.exists(name):
            os.remove(name)


# ------------------------------------------------------------------ object graph
def object_graph_proto(paths, aliases=None, names=None):
    """A serialized TrackableObjectGraph in which each of ``paths`` ('a/b/kernel') is a
    chain of named child edges from the root ending at a node whose VARIABLE_VALUE
    attribute is stored under ``tf_key(path)``; each of ``aliases`` ({alias path:
    target path}) is one more edge ending at the node of ``target``, a variable's path
    or an object's (a node reachable along several edges, stored once, as TensorFlow
    writes it: TensorFlow matches a saved node to a Python object along any edge).

    Shorter aliases are linked first, so a deeper alias runs through the nodes they
    linked (``model/_functional/_operations/1/_kernel`` reaches the node of
    ``model/layer_with_weights-0``). ``names`` ({path: variable name}) gives a
    value's ``full_name`` (TF's variable name, which TF 1's name-based ``Saver``
    maps by); a path stands in for a missing one."""
    nodes = [{"children": {}, "attribute": None}]

    def walk(edges):
        node = 0
        for edge in edges:
            children = nodes[node]["children"]
            if edge not in children:
                children[edge] = len(nodes)
                nodes.append({"children": {}, "attribute": None})
            node = children[edge]
        return node

    def find(edges):
        node = 0
        for edge in edges:
            node = nodes[node]["children"].get(edge)
            if node is None:
                return None
        return node

    leaves = {}
    for path in sorted(paths):
        node_path = (_attribute_of(path) or (path,))[0]
        leaves[path] = walk(node_path.split("/") if node_path else [])
        nodes[leaves[path]]["attribute"] = path
    for alias, path in sorted((aliases or {}).items(),
                              key=lambda item: (item[0].count("/"), item[0])):
        target = leaves.get(path)
        if target is None:
            target = find(path.split("/"))   # an object's node
        if target is None or target == 0:
            continue
        *parents, edge = alias.split("/")
        parent = walk(parents)
        if nodes[parent]["attribute"] is None and parent != target:
            nodes[parent]["children"].setdefault(edge, target)
    holds = _holds_values(nodes)
    out = b""
    for node, has_values in zip(nodes, holds):
        body = b"".join(bundle.field_bytes(1, bundle.field_varint(1, child)
                                           + bundle.field_bytes(2, edge))
                        for edge, child in node["children"].items())
        if node["attribute"] is not None:
            path = node["attribute"]
            name = (_attribute_of(path) or (path, "VARIABLE_VALUE"))[1]
            full_name = (names or {}).get(path) or path
            body += bundle.field_bytes(2, bundle.field_bytes(1, name)
                                       + bundle.field_bytes(2, _full_name(full_name))
                                       + bundle.field_bytes(3, tf_key(path)))
        # has_checkpoint_values (a BoolValue), which TF 2.x writes on every node
        body += bundle.field_bytes(5, bundle.field_varint(1, 1) if has_values else b"")
        out += bundle.field_bytes(1, body)
    return out


def _full_name(name):
    """A variable's name as TF records it (``'dense/kernel'``, no ``':0'``)."""
    head, sep, tail = name.rpartition(":")
    return head if sep and tail.isdigit() else name


def _holds_values(nodes):
    """Whether each node, or a node below it, stores a value."""
    holds = [node["attribute"] is not None for node in nodes]
    changed = True
    while changed:   # a few passes (the graph's depth); shared nodes, cycles are fine
        changed = False
        for i in range(len(nodes) - 1, -1, -1):
            if not holds[i] and any(holds[c] for c in nodes[i]["children"].values()):
                holds[i] = changed = True
    return holds


_MAX_PATHS_PER_NODE = 16


def graph_aliases(graph):
    """{alias path: stored path} for the variables a serialized TrackableObjectGraph
    reaches along more than one chain of edges from its root (the stored path is
    the one its checkpoint key names)."""
    nodes = [bundle.parse_message(n) for n in bundle.parse_message(graph).get(1, [])]
    seen = [0] * len(nodes)
    aliases, queue = {}, [(0, "")] if nodes else []
    while queue:
        node_id, path = queue.pop(0)
        if node_id >= len(nodes) or seen[node_id] >= _MAX_PATHS_PER_NODE:
            continue   # a cycle, or a node shared too widely to matter
        seen[node_id] += 1
        node = nodes[node_id]
        for raw in node.get(2, []):
            attribute = bundle.parse_message(raw)
            if attribute.get(1) == [b"VARIABLE_VALUE"] and 3 in attribute:
                stored = attribute[3][0].decode().removesuffix(ATTRIBUTE)
                if path and path != stored:
                    aliases[path] = stored
        for raw in node.get(1, []):
            ref = bundle.parse_message(raw)
            edge = ref.get(2, [b""])[0].decode()
            queue.append((ref.get(1, [0])[0], f"{path}/{edge}" if path else edge))
    return aliases


# ------------------------------------------------------------------ write and read
def _process_umask():
    """The process's file-creation mask (Linux reads it without changing it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def publish_mode(path):
    """Gives a file made by ``tempfile.mkstemp`` (mode 0600) the mode a plain
    ``open`` would have given it (0666 less the umask), as TensorFlow's files have:
    a checkpoint written by one user is readable by the serving process of another."""
    os.chmod(path, 0o666 & ~_process_umask())


def _atomic_write(path, payload):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        publish_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _write_file(prefix, arrays, aliases=None, names=None):
    """Writes ``arrays`` ({object path: host array}) as the checkpoint ``prefix``,
    with ``aliases`` ({alias path: object path}) as further edges of its graph and
    ``names`` ({object path: variable name}) as the values' full names."""
    prefix = os.fspath(prefix)
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    tensors = {tf_key(path): value for path, value in arrays.items()}
    tensors[OBJECT_GRAPH_KEY] = np.array(object_graph_proto(arrays, aliases, names),
                                         dtype=object)
    index, data = bundle.encode_bundle(tensors)
    _atomic_write(bundle.data_path(prefix), data)
    _atomic_write(_data_path(prefix), index)


def _missing(prefix):
    if os.path.isdir(prefix):
        return errors.DataLossError(   # TF's error when the prefix is a directory
            None, None,
            f"Unable to open table file {prefix}: it is a directory; pass a checkpoint "
            "prefix, e.g. tf.train.latest_checkpoint(directory).")
    return errors.NotFoundError(
        f"Unsuccessful TensorSliceReader constructor: Failed to find any matching "
        f"files for {prefix}")


def read_tensors(prefix):
    """{TensorFlow key: host array} of the checkpoint ``prefix`` (the object graph
    included when the file has one)."""
    prefix = os.fspath(prefix)
    path = _data_path(prefix)
    if not os.path.isfile(path):
        raise _missing(prefix)
    with open(path, "rb") as f:
        index = f.read()
    if index[:2] == b"PK":   # an older dlframe checkpoint: one .npz archive
        with np.load(path, allow_pickle=False) as data:
            return {tf_key(key): data[key] for key in data.files}

    def read_data(shard, num_shards):
        name = bundle.data_path(prefix, shard, num_shards)
        if not os.path.isfile(name):
            raise errors.NotFoundError(f"The checkpoint's data file {name} is missing "
                                       f"(its index {path} names it).")
        with open(name, "rb") as f:
            return f.read()
    try:
        return bundle.decode_bundle(index, read_data)
    except bundle.BundleError as e:
        raise errors.DataLossError(f"Unable to read checkpoint {prefix}: {e}") from None


def _read_file(prefix, with_aliases=False):
    """{object path: host array} of the variables in the checkpoint ``prefix``, and
    with ``with_aliases`` the {alias path: object path} its object graph holds."""
    tensors = read_tensors(prefix)
    values = {key.removesuffix(ATTRIBUTE): value
              for key, value in tensors.items() if key != OBJECT_GRAPH_KEY}
    renamed = {path: _current_key(path, value) for path, value in values.items()}
    values = {renamed[path]: value for path, value in values.items()}
    if not with_aliases:
        return values
    graph = tensors.get(OBJECT_GRAPH_KEY)
    try:
        aliases = graph_aliases(graph.item() if hasattr(graph, "item") else graph) \
            if graph is not None else {}
    except (bundle.BundleError, IndexError, UnicodeDecodeError):
        aliases = {}   # an unreadable graph: restore by stored paths only
    aliases = {_current_key(a, values.get(renamed.get(p))): renamed.get(p, p)
               for a, p in aliases.items()}
    return values, {a: p for a, p in aliases.items() if p in values}


_PROTO_NAMES = {"float32": "float", "float64": "double", "float16": "half",
                "string": "string"}


def _proto_name(dtype):
    """TF's DataType spelling of ``dtype`` in RestoreV2 errors ('float', 'double')."""
    return _PROTO_NAMES.get(dtype.name, dtype.name)


def _assign(var, value, path):
    if value.ndim == 0 and var.shape.rank == 1 and path.endswith(_ITERATOR_STATE):
        # a position saved by an older version: the iterator keeps its pass counters
        value = np.concatenate([value.reshape(1), var.numpy()[1:].astype(value.dtype)])
    want = np.dtype(_dt.numpy_dtype(var.dtype))
    if value.dtype != want and value.dtype.kind in "biufc":
        # TF's RestoreV2 refuses to convert a saved value to another dtype (checked
        # before the shape, as TF), naming dtypes as its DataType enum does
        raise errors.InvalidArgumentError(
            None, None,
            f"tensor_name = {path}/.ATTRIBUTES/VARIABLE_VALUE; expected dtype "
            f"{_proto_name(var.dtype)} does not equal original dtype "
            f"{_proto_name(_dt.as_dtype(value.dtype))}")
    if tuple(value.shape) != tuple(var.shape):
        raise ValueError(
            f"Received incompatible tensor with shape {tuple(value.shape)} when attempting "
            f"to restore variable with shape {tuple(var.shape)} and name {var.name}.")
    # a variable created inside a trace (a layer or optimizer slot built on the
    # first call of a tf.function) gets its saved value once, eagerly: recorded
    # in the graph, the assign would reset it on every later call
    with init_scope():
        var.assign(value.astype(want, copy=False))
    after = var.__dict__.get("_after_restore")   # a PythonState's deserialize
    if after is not None:
        after()
