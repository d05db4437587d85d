"""Nested call arguments and results of ``dlframe.function`` as flat tensor leaves
plus a hashable template (the structure and the Python values), and the matching of
templates and shapes against a trace's signature."""

import functools
import types

from dlframe.backends.base import np
from dlframe.core import function_composites as _composites
from dlframe.core.function_signature import CompositeOutput
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.core.tensor_spec import TensorSpec


def _flatten(value, leaves, specs_are_leaves=False, composites=None):
    """Flattens nested lists/tuples/dicts/namedtuples; returns a structure template.
    With ``specs_are_leaves`` TensorSpecs are leaves too (see ``_leaf_shapes``); a
    ``composites`` list receives the type spec of each composite (RaggedTensor)."""
    if isinstance(value, Tensor) or specs_are_leaves and isinstance(value, TensorSpec):
        leaves.append(value)
        return _LEAF
    if isinstance(value, (np.ndarray, np.generic)):   # as TF: NumPy values are tensors
        leaves.append(convert_to_tensor(value))
        return _LEAF
    rec = functools.partial(_flatten, leaves=leaves, specs_are_leaves=specs_are_leaves,
                            composites=composites)
    if isinstance(value, dict):
        return ("dict", tuple((k, rec(value[k])) for k in sorted(value, key=str)))
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return ("namedtuple", type(value), tuple(rec(v) for v in value))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(rec(v) for v in value))
    if specs_are_leaves and _composites.kind(value) is not None:
        # a RaggedTensorSpec/SparseTensorSpec, or a composite as its trace type: the
        # specs of its components, under the template of a value of that type
        if composites is not None:
            composites.append(value if _composites.is_spec(value) else
                              getattr(value, "_type_spec", lambda: None)())
        sample = (_composites.placeholder(value) if _composites.is_spec(value)
                  else value)
        node = _flatten(sample, [])
        leaves.extend(_composites.component_specs(value))
        return (node[0], _composites.pattern(value, node[1]), node[2])
    if getattr(value, "_dlframe_composite", False):  # a RaggedTensor: its tensors
        spec, parts = value._dlframe_flatten()
        if composites is not None:
            type_spec = getattr(value, "_type_spec", None)
            composites.append(type_spec() if type_spec is not None else spec)
        return ("composite", spec, tuple(rec(p) for p in parts),
                _composites.padded_widths(value))
    return ("py", _py_key(value))


_LEAF = ("T",)


_NUMBERS = (bool, int, float)


def _py_key(value):
    """A Python argument's part of the cache key. As TF, numbers key by value alone
    (``1``, ``True`` and ``1.0`` share a trace), other values by type and value;
    an unhashable value cannot be traced on."""
    if type(value) in _NUMBERS:
        return ("number", value)
    try:
        hash(value)
    except TypeError:
        raise TypeError(
            f"Could not generate a generic TraceType for {value!r}.Please verify that "
            "it is immutable/hashable. Otherwise, consider implementing the Tracing "
            "Protocol for it.") from None
    return (type(value), value)


def python_mismatch(traced, called):
    """``(called value, traced value)`` of the first Python argument a call gives
    that differs from the one a trace was made with (templates of ``_flatten``, in
    the same places), else None. As TF, numbers equal by value (2 and 2.0);
    parts of the call absent from the trace, or tensors, are not compared."""
    if not (isinstance(traced, tuple) and isinstance(called, tuple)) or \
            not traced or not called:
        return None
    if traced[0] == "py" and called[0] == "py":
        return None if traced[1] == called[1] else (called[1][1], traced[1][1])
    if traced[0] != called[0] or traced[0] not in ("tuple", "list", "dict"):
        return None
    if traced[0] == "dict":
        mine = dict(called[1])
        pairs = [(node, mine[k]) for k, node in traced[1] if k in mine]
    else:
        pairs = zip(traced[1], called[1])
    for a, b in pairs:
        found = python_mismatch(a, b)
        if found is not None:
            return found
    return None


def _unflatten(template, leaves_iter, composite=None, constant=None):
    """Rebuilds a ``_flatten`` (inputs) or ``_structure_outputs`` template from its
    tensor leaves; ``composite(struct, parts)`` (when given) stands for each
    composite instead of rebuilding it from its parts, and ``constant(value)`` for
    each Python constant an output returned (default: a fresh tensor of it)."""
    if template is _LEAF or template == _LEAF:
        return next(leaves_iter)
    kind = template[0]
    rec = functools.partial(_unflatten, leaves_iter=leaves_iter, composite=composite,
                            constant=constant)
    if kind == "dict":
        return {k: rec(t) for k, t in template[1]}
    if kind == "odict":   # an output mapping keeps its own type
        return template[1]((k, rec(t)) for k, t in template[2])
    if kind == "namedtuple":
        return template[1](*[rec(t) for t in template[2]])
    if kind in ("list", "tuple"):
        items = [rec(t) for t in template[1]]
        return items if kind == "list" else tuple(items)
    if kind == "composite":
        parts = [rec(t) for t in template[2]]
        if composite is not None:
            return composite(template[1], parts)
        return template[1]._dlframe_unflatten(parts)
    if kind == "py":   # an input's Python value, by its hash key
        return template[1][1]
    if kind == "pyconst":   # as TF, a returned number/string/array is a tensor
        return (constant or convert_to_tensor)(template[1])
    return template[1]   # "pyval": an output's other Python value (None, objects)


# returned Python values TF turns into constant tensors (None and objects stay)
_CONSTANT_OUTPUTS = (bool, int, float, complex, str, bytes, np.generic, np.ndarray)


def _structure_outputs(value, leaves):
    """Template for outputs: Tensor leaves are graph outputs, the rest Python values."""
    if isinstance(value, Tensor):
        leaves.append(value)
        return _LEAF
    if isinstance(value, dict):
        return ("odict", type(value), tuple((k, _structure_outputs(v, leaves))
                                            for k, v in value.items()))
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return ("namedtuple", type(value), tuple(_structure_outputs(v, leaves)
                                                 for v in value))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__,
                tuple(_structure_outputs(v, leaves) for v in value))
    if hasattr(value, "_dlframe_flatten"):  # a composite (TensorArray): its tensors
        spec, parts = value._dlframe_flatten()
        return ("composite", spec, tuple(_structure_outputs(p, leaves) for p in parts))
    if isinstance(value, _CONSTANT_OUTPUTS):
        return ("pyconst", value)
    if isinstance(value, types.GeneratorType):
        raise TypeError(
            "To be compatible with tf.function, Python functions must return zero or "
            "more Tensors or ExtensionTypes or None values; found return value of type "
            "generator (generators are not supported)")
    return ("pyval", value)


def _rebuild_outputs(template, it, specs=False):
    """Outputs from their template and tensor leaves (``specs``: leaves are
    TensorSpecs, and a composite stands as its structure description)."""
    if specs:
        return _unflatten(template, it, _spec_of_composite, _spec_of_constant)
    return _unflatten(template, it)


def _spec_of_composite(struct, parts):
    return CompositeOutput(struct, parts)


def _spec_of_constant(value):
    t = convert_to_tensor(value)
    return TensorSpec(t.shape, t.dtype)


def _template_matches(pattern, template):
    """``template == pattern``, where composite descriptions of a spec's pattern may
    leave dimensions open (a SparseTensorSpec's None dims)."""
    if pattern == template:
        return True
    if not (isinstance(pattern, tuple) and isinstance(template, tuple)):
        return False
    if pattern and template and pattern[0] == "composite" == template[0]:
        # (a value's template also holds its padded widths: not part of a spec)
        return _composites.matches(pattern[1], template[1]) and _template_matches(
            pattern[2], template[2])
    if len(pattern) != len(template):
        return False
    return all(_template_matches(p, t) for p, t in zip(pattern, template))


def _merge_shapes(shape, concrete):
    if shape.rank is None or shape.rank != len(concrete):
        return TensorShape(None)
    return TensorShape([d if d == c else None
                        for d, c in zip(shape.as_list(), concrete)])


def _leaf_specs(value):
    """Per tensor leaf of ``value`` (in ``_flatten`` order), the TensorSpec there, or
    None for a concrete tensor."""
    leaves = []
    _flatten(value, leaves, specs_are_leaves=True)
    return [leaf if isinstance(leaf, TensorSpec) else None for leaf in leaves]


def _leaf_shapes(value):
    """Per tensor leaf of ``value``, the TensorShape of a TensorSpec there, or None."""
    return [spec.shape if spec is not None else None for spec in _leaf_specs(value)]


def _restore_py(original, rebuilt):
    """Puts original Python (non-tensor) leaves back into a rebuilt structure."""
    if isinstance(original, dict) and isinstance(rebuilt, dict):
        return {k: _restore_py(original[k], rebuilt[k]) for k in original}
    if isinstance(original, (list, tuple)) and isinstance(rebuilt, (list, tuple)):
        items = [_restore_py(o, r) for o, r in zip(original, rebuilt)]
        if isinstance(original, tuple) and hasattr(original, "_fields"):
            return type(original)(*items)
        return type(original)(items)
    if isinstance(original, (Tensor, np.ndarray, np.generic)) or getattr(
            original, "_dlframe_composite", False):
        return rebuilt
    return original
