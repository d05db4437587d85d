"""RaggedTensor and SparseTensor arguments of ``dlframe.function`` (TF's trace types).

A composite argument is traced through its component tensors. As in TF, the trace
type of a RaggedTensor leaves its ragged dimensions open (one trace serves every row
length), and a ``RaggedTensorSpec`` / ``SparseTensorSpec`` in ``input_signature`` or
``get_concrete_function`` opens its None dimensions; graphs are still specialized per
concrete size underneath, quietly. The composite classes live above core, so they are
recognized here by their type names.
"""

from dlframe.backends.base import np
from dlframe.core.tensor import constant
from dlframe.core.tensor_shape import TensorShape
from dlframe.core.tensor_spec import TensorSpec


def kind(value):
    """'ragged' / 'sparse' for such a value or spec, 'extension' for an ExtensionType
    value or spec (which trace through their own ``_dlframe_*`` methods), else None."""
    if hasattr(value, "_dlframe_component_specs"):
        return "extension"
    name = type(value).__name__
    if name in ("RaggedTensor", "RaggedTensorSpec"):
        return "ragged"
    if name in ("SparseTensor", "SparseTensorSpec"):
        return "sparse"
    return None


def is_spec(value):
    return type(value).__name__ in ("RaggedTensorSpec", "SparseTensorSpec") or getattr(
        value, "_dlframe_is_spec", False)


def _ragged_parts(spec):
    shape = spec.shape.as_list()
    return shape, spec.ragged_rank


def placeholder(spec):
    """A small value of a composite spec (None dimensions of size 1) to trace with."""
    if kind(spec) == "extension":
        return spec._dlframe_placeholder()
    dtype = spec.dtype.as_numpy_dtype
    if kind(spec) == "sparse":
        dims = [1 if d is None else d for d in spec.shape.as_list()]
        return spec.value_type(np.zeros((0, len(dims)), np.int64),
                               np.zeros((0,), dtype),
                               np.asarray(dims, np.int64))
    shape, ragged_rank = _ragged_parts(spec)
    n = 1 if shape[0] is None else shape[0]
    splits = []
    for d in shape[1:ragged_rank + 1]:
        size = 1 if d is None else d
        splits_dtype = spec.row_splits_dtype.as_numpy_dtype
        splits.append(np.arange(n + 1, dtype=splits_dtype) * size)
        n *= size
    value = constant(np.zeros([n] + [1 if d is None else d
                                      for d in shape[ragged_rank + 1:]], dtype))
    for s in reversed(splits):
        value = spec.value_type.from_row_splits(value, constant(s), validate=False)
    return value


def component_specs(value):
    """TensorSpecs of a composite's component tensors (in flattening order) that
    accept every value of its trace type or spec."""
    if kind(value) == "extension":
        return value._dlframe_component_specs()
    spec = value if is_spec(value) else None
    if kind(value) == "sparse":
        rank = (spec.shape.rank if spec is not None
                else int(value.dense_shape.shape[0]))
        vdtype = spec.dtype if spec is not None else value.values.dtype
        return [TensorSpec([None, rank], "int64"), TensorSpec([None], vdtype)]
    if spec is None:
        spec = value._type_spec()
    shape, ragged_rank = _ragged_parts(spec)
    splits_dtype = spec.row_splits_dtype
    flat = TensorSpec([None] + shape[ragged_rank + 1:], spec.dtype)
    splits = [TensorSpec([None], splits_dtype) for _ in range(ragged_rank - 1)]
    outer = TensorSpec([None if shape[0] is None else shape[0] + 1], splits_dtype)
    return [flat] + splits + [outer]


def pattern(value, struct):
    """The template entry of a composite spec: its structure description with the
    spec's None dimensions (sparse dense shapes are part of the structure)."""
    if is_spec(value) and kind(value) == "sparse":
        return type(struct)(tuple(value.shape.as_list()))
    return struct


def matches(pattern_struct, struct):
    """True when a structure description fits a pattern's (None dims match any)."""
    if pattern_struct == struct:
        return True
    shape = getattr(pattern_struct, "shape", None)
    if type(pattern_struct) is not type(struct) or shape is None or struct.shape is None:
        return False
    return TensorShape(list(shape)).is_compatible_with(TensorShape(list(struct.shape)))


def padded_widths(value):
    """Per ragged level of a RaggedTensor argument, its longest row: part of the trace
    key, as a dense argument's shape is, since the padded form a trace may build
    (``to_tensor()``, an RNN over its steps) has that width; () for other composites."""
    widths = []
    while getattr(value, "_dlframe_composite", False) and hasattr(value, "row_splits"):
        splits = value.row_splits._device.to_numpy(value.row_splits._value)
        widths.append(int(np.diff(splits).max()) if splits.size > 1 else 0)
        value = value.values
    return tuple(widths)
