"""Values TF's graph knows inside a trace: which elements of shape-derived tensors
it would not know (*value masks*, and the unknown output dims they give the ops that
take shapes), and ``tf.get_static_value`` of a traced tensor. The unknown static
dimensions themselves: ``static_dims``.
"""

from dlframe import backends
from dlframe.backends.base import np
from dlframe.core.primitive import STATE
from dlframe.core.tensor import Tensor

_HOST = backends.get_device("cpu:0")


def _broadcast(shapes):
    """The NumPy broadcast of ``shapes``, or None when they do not broadcast."""
    rank = max((len(s) for s in shapes), default=0)
    out = [1] * rank
    for s in shapes:
        for i, d in enumerate(s, start=rank - len(s)):
            if d != 1:
                if out[i] not in (1, d):
                    return None
                out[i] = d
    return tuple(out)


# -- values TF knows of shape tensors (its partial constant folding of Shape) -------
# ``tf.shape(x)`` of an input with unknown dims is a tensor whose elements TF knows
# where the dims are known: ``tf.zeros([tf.shape(x)[1] * 2])`` has a known size and
# ``tf.reshape(x, [tf.shape(x)[0], -1])`` does not. dlframe's trace computes such
# shapes as constants, so a boolean *value mask* per shape-derived tensor says which
# elements TF would not know; ops that take shapes turn it into unknown output dims.

# primitives that only move elements (their first input's; the others give indices,
# axes or more moved elements): masks follow the elements
_MOVES = frozenset({"ConcatV2", "ExpandDims", "GatherV2", "Identity", "Pack",
                    "Reshape", "ReverseV2", "Squeeze", "StridedSlice", "Tile",
                    "Transpose", "Unpack"})
_JOINS = frozenset({"ConcatV2", "Pack"})   # every input holds moved elements


def _moved_masks(prim, inputs, in_masks, attrs, outs):
    """Masks of a moving primitive: its forward run on element numbers."""
    xp = np
    joined = prim.name in _JOINS
    moved = inputs if joined else inputs[:1]
    numbered, start = [], 0
    for x in moved:
        size = x._value.size
        numbered.append(xp.arange(start, start + size, dtype="int64").reshape(
            x._value.shape))
        start += size
    flat = xp.concatenate([xp.zeros(0, bool)] + [
        (xp.zeros(x._value.shape, bool) if m is None else m).reshape(-1)
        for x, m in zip(moved, in_masks)])
    others = [x._device.to_numpy(x._value) for x in inputs[len(moved):]]
    try:
        found = prim.forward(_HOST, *numbered, *others, **(attrs or {}))
    except Exception:   # noqa: BLE001 - an unexpected attribute: tell nothing
        return None
    found = found if isinstance(found, (list, tuple)) else [found]
    return [flat[xp.asarray(f, dtype="int64")] for f in found]


def value_masks(prim, inputs, in_masks, attrs, outs):
    """Per output of one traced primitive, a bool array of its elements whose value
    TF would not know, given the inputs' masks ``in_masks`` (None: all known)."""
    if prim.name in _MOVES:
        found = _moved_masks(prim, inputs, in_masks, attrs, outs)
        if found is not None and all(f.shape == o._value.shape
                                     for f, o in zip(found, outs)):
            return found
    shape = _broadcast([tuple(x._value.shape) for x in inputs])
    if shape is not None and all(tuple(o._value.shape) == shape for o in outs):
        union = np.zeros(shape, bool)   # elementwise math: unknown where any is
        for m in in_masks:
            if m is not None:
                union = union | m
        return [union] * len(outs)
    return [np.ones(o._value.shape, bool) for o in outs]   # reductions and others


def shape_arg_dims(shape):
    """The dims TF knows of a shape argument holding tensors (a list of ints /
    scalar tensors, or a 1-D tensor) inside a trace that follows shape values: its
    values, None where a value mask hides them; None for other arguments (Python
    ints: the op's own static-shape rule applies) or outside such a trace."""
    trace = STATE.trace
    if getattr(trace, "value_mask", None) is None or \
            getattr(trace, "nodes", None) is None:
        return None
    if isinstance(shape, Tensor):
        if shape._value.ndim != 1:
            return None
        mask = hidden_values(trace, shape)
        values = shape._device.to_numpy(shape._value).tolist()
        if mask is None:
            return [int(v) for v in values] if trace.value_unknown else None
        return [None if u else int(v) for v, u in zip(values, mask.tolist())]
    if not isinstance(shape, (list, tuple)) or \
            not any(isinstance(s, Tensor) for s in shape):
        return None
    dims = []
    for s in shape:
        mask = hidden_values(trace, s) if isinstance(s, Tensor) else None
        # a Tensor's own value, read without the concrete-value check: the
        # op replays with the run-time value; this only annotates static dims
        dims.append(None if mask is not None else -1 if s is None else
                    int(s._device.to_numpy(s._value)) if isinstance(s, Tensor)
                    else int(s))
    if None not in dims and not trace.value_unknown:
        return None   # nothing hidden: the op's own rule applies
    return dims


def shape_arg_static(shape, *_args, **_kwargs):
    """The dims TF knows of an op's output made with the shape argument ``shape``
    (a ``reads_values`` op's ``static_shape``): None for the entries TF would not
    know (``tf.random.uniform([k])``), or None when it cannot tell."""
    dims = shape_arg_dims(shape)
    if dims is None and isinstance(shape, (list, tuple)) and \
            all(isinstance(s, int) for s in shape):
        dims = list(shape)
    return dims


def hidden_values(trace, x):
    """The bool mask of the elements of ``x`` (a Tensor of the running ``trace``)
    whose values TF's graph would not know, None when it knows them all: a mask
    noted for a shape value, else those computed from the trace's inputs or
    variables (``tf.zeros([k])`` of a scalar input ``k`` has an unknown size)."""
    mask = trace.value_mask(x)
    if mask is None and trace.is_symbolic(x):
        mask = unknown_values(x)
    return mask if mask is not None and mask.any() else None


def note_shaped(out, shape, source=None):
    """Marks the dims of ``out`` (made with the shape argument ``shape``) that TF
    would not know because the argument holds hidden sizes; a ``-1`` entry (a
    reshape of ``source``) is unknown when another entry is or ``source`` has
    unknown dims. No-op outside a trace or when the argument hides nothing."""
    trace = STATE.trace
    if trace is None:
        return out
    _note_sources(out, shape if isinstance(shape, (list, tuple)) else [shape])
    dims = shape_arg_dims(shape)
    if dims is None:
        return out
    src = trace.static_shape(source) if source is not None else None
    free = any(d is None for d in dims) or (src is not None and None in src)
    axes = frozenset(a for a, d in enumerate(dims) if d is None or (d == -1 and free))
    if axes and len(dims) == out._value.ndim and out is not source and \
            id(out) in trace.produced:
        trace.note_unknown(out, axes)
    return out


def note_shape_of(out, x, size=False):
    """Marks the elements of ``out`` (``tf.shape(x)``, or with ``size`` the scalar
    ``tf.size(x)``) that follow dims of ``x`` TF does not know."""
    trace = STATE.trace
    static = getattr(trace, "static_shape", None)
    dims = static(x) if static is not None else None
    if dims is None or not hasattr(trace, "note_value"):
        return out
    unknown = [d is None for d in dims]
    mask = np.asarray(any(unknown) if size else unknown, dtype=bool)
    if mask.shape == out._value.shape and mask.any():
        trace.note_value(out, mask)
    return out


def note_sized(out, *sizes):
    """Marks every dim of ``out`` unknown when one of the scalar ``sizes`` it was
    made from (``tf.range(n)``, ``tf.eye(n)``) is a value TF would not know."""
    _note_sources(out, sizes)
    trace = STATE.trace
    if getattr(trace, "value_mask", None) is None or not out._value.ndim or \
            getattr(trace, "nodes", None) is None:
        return out
    for s in sizes:
        mask = hidden_values(trace, s) if isinstance(s, Tensor) else None
        if mask is not None and id(out) in trace.produced:
            trace.note_unknown(out, frozenset(range(out._value.ndim)))
            break
    return out


def _note_sources(out, values):
    """Remembers the tensors among ``values`` (shape or size arguments, given as
    attributes) that traced ``out`` was made from: TF's graph has them as inputs,
    so ``static_value`` knows ``out`` only when it knows them."""
    trace = STATE.trace
    if trace is None or id(out) not in getattr(trace, "produced", ()):
        return
    tensors = [v for v in values if isinstance(v, Tensor)]
    if tensors:
        trace.__dict__.setdefault("sources", {})[id(out)] = tensors


_SHAPE_OF = frozenset({"Shape", "ShapeN", "Size", "Rank"})   # values: the dims


def unknown_values(x):
    """A bool array over the elements of ``x`` (a Tensor, a Python value, or a
    nested list of them, as a ``paddings`` argument) that TF's graph would not know
    inside the running trace: those computed from the values of the trace's inputs
    or variables (a shape's elements only where the dims are unknown). None
    outside a trace."""
    trace = STATE.trace
    if getattr(trace, "nodes", None) is None:
        return None
    if isinstance(x, (list, tuple)):
        parts = [unknown_values(v) for v in x]
        return np.asarray([p.tolist() for p in parts], dtype=bool)
    if not isinstance(x, Tensor):
        return np.zeros(np.shape(x), bool)
    # one memo per trace (a tensor's mask is fixed once it is recorded): asked for
    # every shape argument, a fresh walk of the ancestry made tracing quadratic.
    # It holds the tensor too, so its id cannot be reused by another one
    memo = trace.__dict__.setdefault("_unknown_masks", {})

    def mask(t):
        key = id(t)
        entry = memo.get(key)
        if entry is None:
            entry = memo[key] = (t, _unknown_mask(trace, t, _producer(trace, key), mask))
        return entry[1]

    try:
        return mask(x)
    except RecursionError:
        return np.ones(x._value.shape, bool)


def _unknown_mask(trace, t, node, mask):
    shape = t._value.shape
    noted = trace.value_mask(t)
    if noted is not None:
        return noted
    if node is None:   # an input or variable (unknown), or a constant
        return np.full(shape, bool(trace.is_symbolic(t)))
    prim, inputs, outs, attrs, _dev = node
    if prim.name in _SHAPE_OF:   # unknown dims were noted (note_shape_of)
        return np.zeros(shape, bool)
    in_masks = [mask(i) for i in inputs]
    if not any(m.any() for m in in_masks):
        return np.zeros(shape, bool)
    found = value_masks(prim, inputs, in_masks, attrs, outs)
    for o, m in zip(outs, found):
        if o is t and m.shape == shape:
            return m
    return np.ones(shape, bool)


# -- tf.get_static_value inside a trace -----------------------------------------------
# TF's constant_value evaluates a graph tensor only through a few ops whose inputs
# are themselves constants (no general constant folding: ``tf.constant(1) + 1`` has
# no static value), and Shape/Size only when the static shape is fully known.
_CONSTANT_FOLDED = frozenset({"Cast", "ConcatV2", "Equal", "Fill", "Identity",
                              "IdentityN", "NotEqual", "Pack", "Range", "Rank",
                              "StopGradient", "Unpack"})
_LIKE = frozenset({"OnesLike", "ZerosLike"})   # TF: a Fill of the known shape


def _node_table(trace):
    """``{id(tensor): node}`` of the nodes recorded in ``trace`` itself (not its
    parents), kept on the trace and extended as nodes are added."""
    cached = trace.__dict__.get("_producers")
    if cached is None:
        cached = trace.__dict__["_producers"] = [0, {}]
    done, table = cached
    nodes = trace.nodes
    for node in nodes[done:]:
        for o in node[2]:
            table.setdefault(id(o), node)
    cached[0] = len(nodes)
    return table


def _producer(trace, key):
    """The node of ``trace`` or its parents that made the tensor with id ``key``."""
    while trace is not None:
        node = _node_table(trace).get(key)
        if node is not None:
            return node
        trace = trace.parent
    return None


def _producers(trace):
    """``{id(tensor): (primitive, inputs)}`` over ``trace`` and its parents."""
    found = {}
    while trace is not None:
        for key, node in _node_table(trace).items():
            found.setdefault(key, node[:2])
        trace = trace.parent
    return found


def static_value(trace, tensor, partial=False):
    """``tf.get_static_value(tensor, partial)`` for a tensor of the running ``trace``:
    its value where TF's graph would know it, else None (with ``partial``, a packed
    vector of which only some elements are known gives an object array holding
    None for the others, as TF)."""
    producers = _producers(trace)
    sources = {}
    chain = trace
    while chain is not None:
        for key, tensors in chain.__dict__.get("sources", {}).items():
            sources.setdefault(key, tensors)
        chain = chain.parent
    memo = {}

    def fully_known(t):
        dims = trace.static_shape(t)
        return not trace.is_dynamic(t) and (dims is None or None not in dims)

    def known(t):
        key = id(t)
        if key not in memo:
            memo[key] = False   # a cycle cannot occur; guards deep recursion twice
            memo[key] = _known(t)
        return memo[key]

    def _known(t):
        if t._is_variable or not fully_known(t):
            return False
        mask = trace.value_mask(t)
        if mask is not None and mask.any():
            return False
        node = producers.get(id(t))
        if node is None:   # a constant made or captured in the trace, or an input
            return not trace.is_symbolic(t)
        prim, inputs = node
        if prim.name in _LIKE:
            return fully_known(inputs[0])
        return prim.name in _CONSTANT_FOLDED and all(
            known(x) for x in list(inputs) + sources.get(id(t), []))

    try:
        if known(tensor):
            return tensor._device.to_numpy(tensor._value)
    except RecursionError:
        return None
    node = producers.get(id(tensor))
    if partial and node is not None and node[0].name == "Pack" and \
            fully_known(tensor):
        out = np.empty(len(node[1]), dtype=object)
        for i, x in enumerate(node[1]):
            out[i] = x._device.to_numpy(x._value) if known(x) else None
        return out
    return None
