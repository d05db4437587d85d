"""Keras 3's weights layout: where each object's variables live in a
``*.weights.h5`` file (also ``model.weights.h5`` inside a ``.keras`` archive).

Keras 3 walks the model like an object graph. Every object it visits stores its own
variables (``save_own_variables``: ``'0'``, ``'1'``... in ``trainable +
non-trainable`` order) under ``<path>/vars``; its children are
- for Sequential/Functional models: ``layers`` first (the model's layer list);
- then the object's attributes, public names sorted, then private ones sorted;
  an attribute holding a layer adds ``/<attribute>`` to the path, one holding a
  list/tuple/dict adds ``/<attribute>/<snake_case class name>[_<n>]`` per layer;
- an object reached twice is stored once, at the first path.
The model's optimizer is stored under ``optimizer/vars``. Attribute names are the
user's, so subclassed models map one to one; dlframe's built-in layers expose their
sub-layers under Keras's names (``cell``, ``forward_layer``, ``layer``...), and
``MultiHeadAttention``, which owns its projections' variables directly, is split
into Keras's ``query_dense``/``key_dense``/``value_dense``/``output_dense`` groups.
"""

import numpy as np

from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.engine.functional import Functional
from dlframe.keras.engine.model import Model
from dlframe.keras.utils.generic_utils import to_snake_case

# dlframe attributes that hold layers Keras does not walk (graph bookkeeping,
# Bidirectional's unbuilt template) or training state walked separately.
_INTERNAL = frozenset({
    "_graph_layers", "_seq_layers", "_input_layer", "_original_layer",
    "_inbound_nodes", "_outbound_nodes", "_nodes_in_order", "_seq_outputs",
    "_nested_inputs", "_nested_outputs", "optimizer", "compiled_loss",
    "compiled_metrics", "loss", "inputs", "outputs", "history"})

_MHA_PARTS = (("query", "query_dense"), ("key", "key_dense"),
              ("value", "value_dense"), ("attention_output", "output_dense"))


def _join(path, name):
    return f"{path}/{name}" if path else name


def _children(obj):
    """(attribute, value) pairs in Keras's visiting order."""
    if isinstance(obj, Functional):
        yield "layers", obj.layers
    items = vars(obj)
    public = sorted(k for k in items if not k.startswith("_"))
    if isinstance(obj, Model) and not isinstance(obj, Functional):
        public = sorted(public + ["layers"])
    builtin = type(obj).__module__.startswith("dlframe.")
    # built-in layers name the private sub-layers Keras 3 walks (``_lookup_layer``)
    private = [k for k in getattr(obj, "_keras3_private_children", ()) if k in items] \
        if builtin else sorted(
            k for k in items if k.startswith("_") and not k.startswith("__"))
    for key in public + private:
        if key in _INTERNAL:
            continue
        yield key, (obj.layers if key == "layers" else items[key])


def entries(model):
    """``[(path, layer)]`` for every layer Keras 3 would visit, in its order
    (the model itself first, at path ``''``)."""
    out, visited = [], set()

    def visit(obj, path):
        if id(obj) in visited:
            return
        visited.add(id(obj))
        out.append((path, obj))
        for attr, child in _children(obj):
            sub = _join(path, attr)
            if isinstance(child, Layer):
                visit(child, sub)
            elif isinstance(child, (list, tuple, dict)):
                used = {}
                for item in (child.values() if isinstance(child, dict) else child):
                    if isinstance(item, Layer):
                        base = to_snake_case(type(item).__name__)
                        n = used.get(base, 0)
                        used[base] = n + 1
                        visit(item, _join(sub, base if n == 0 else f"{base}_{n}"))
    visit(model, "")
    return out


def _mha_parts(layer):
    """MultiHeadAttention's own variables grouped as Keras's four sub-layers."""
    groups = {name: [] for _, name in _MHA_PARTS}
    table = dict(_MHA_PARTS)
    for v in layer._own_variables():
        part = v.name.split(":")[0].split("/")[-2]
        if part not in table:
            return None
        groups[table[part]].append(v)
    return groups


def _is_mha(layer):
    return type(layer).__name__ == "MultiHeadAttention" and type(
        layer).__module__.startswith("dlframe.")


def _vars_path(path):
    return _join(path, "vars")


def write(group, model, optimizer=None):
    """Writes ``model``'s variables (and ``optimizer``'s) into the HDF5 ``group``."""
    for path, layer in entries(model):
        parts = _mha_parts(layer) if _is_mha(layer) else None
        if parts is not None:
            _write_store(group, path, {}, layer.name)
            for sub, variables in parts.items():
                _write_store(group, _join(path, sub),
                             {str(i): v.numpy() for i, v in enumerate(variables)}, sub)
            continue
        store = {}
        layer.save_own_variables(store)
        _write_store(group, path, store, layer.name)
    if optimizer is not None:
        _write_store(group, "optimizer",
                     {str(i): v.numpy() for i, v in enumerate(optimizer.variables)},
                     optimizer.name)


def _write_store(group, path, store, name):
    g = group.create_group(_vars_path(path))
    g.attrs["name"] = str(name)
    for key, value in store.items():
        g.create_dataset(key, data=np.asarray(value))


class _Store:
    """A read-only ``{'0': array, ...}`` view of one ``vars`` group."""

    def __init__(self, group):
        self._group = group

    def keys(self):
        return sorted(self._group.keys(), key=int)

    def __len__(self):
        return len(self._group)

    def __getitem__(self, key):
        return np.asarray(self._group[key])

    def __contains__(self, key):
        return key in self._group


def matches(group, model):
    """Whether ``group`` holds a ``vars`` group for every layer of ``model`` that
    has variables (a file in this layout, written for this architecture)."""
    for path, layer in entries(model):
        if _is_mha(layer) and _mha_parts(layer) is not None:
            if layer._own_variables() and _vars_path(_join(path, "query_dense")) \
                    not in group:
                return False
        elif layer._own_variables() and _vars_path(path) not in group:
            return False
    return True


def read(group, model, skip_mismatch=False):
    """Assigns ``model``'s variables from ``group`` (written by ``write`` or Keras 3).

    Raises:
      ValueError: a layer's variable count or shapes differ from the file's
        (unless ``skip_mismatch``).
    """
    import warnings
    for path, layer in entries(model):
        parts = _mha_parts(layer) if _is_mha(layer) else None
        try:
            if parts is not None:
                for sub, variables in parts.items():
                    _assign(variables, _Store(group[_vars_path(_join(path, sub))]),
                            layer.name)
            elif _vars_path(path) in group and (
                    layer._own_variables() or len(group[_vars_path(path)])):
                layer.load_own_variables(_Store(group[_vars_path(path)]))
        except (ValueError, KeyError) as e:
            if not skip_mismatch:
                raise ValueError(f"Cannot load the weights of layer {layer.name!r} "
                                 f"(file path {path or '/'!r}): {e}") from e
            warnings.warn(f"Skipping loading weights for layer {layer.name!r}: {e}",
                          stacklevel=3)


def _assign(variables, store, name):
    if len(store) != len(variables):
        raise ValueError(f"Layer '{name}' expected {len(variables)} variables, but "
                         f"received {len(store)} variables during loading.")
    for i, v in enumerate(variables):
        value = store[str(i)]
        if tuple(value.shape) != tuple(v.shape):
            raise ValueError(f"Layer '{name}': variable {v.name} has shape "
                             f"{tuple(v.shape)} but the file holds {tuple(value.shape)}.")
        v.assign(value.astype(np.dtype(v.dtype.name), copy=False))


def read_optimizer(group, optimizer, variables):
    """Restores ``optimizer``'s state from ``group['optimizer/vars']`` (building it
    for ``variables`` first); warns and skips when the variable lists differ."""
    import warnings
    if "optimizer/vars" not in group:
        return False
    store = _Store(group["optimizer/vars"])
    if not optimizer.built:
        optimizer.build(variables)
    ours = optimizer.variables
    shapes_match = len(store) == len(ours) and all(
        tuple(store[str(i)].shape) == tuple(v.shape) for i, v in enumerate(ours))
    if not shapes_match:
        warnings.warn(f"Skipping variable loading for optimizer '{optimizer.name}': the "
                      f"file holds {len(store)} variables and the optimizer has "
                      f"{len(ours)} (or their shapes differ).", stacklevel=3)
        return False
    _assign(ours, store, optimizer.name)
    return True
