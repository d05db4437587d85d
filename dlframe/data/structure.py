"""Nested element structures, type specs and host/device conversion of elements.

Inside a pipeline an element is a nested structure (tuples, namedtuples, dicts) whose
leaves are host NumPy arrays (strings as object arrays of ``bytes``), host
``SparseTensor`` values, or nested ``Dataset`` objects (from ``window``). Leaves become
``Tensor`` objects only at the edges: when a user function is called, and when an
iterator hands an element to the user.
"""

import numpy as np

from dlframe import backends
from dlframe.core import dtypes as _dt
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.core.tensor_spec import TensorSpec, TypeSpec
from dlframe.io.sparse_tensor import SparseTensor
from dlframe.ops.ragged_spec import RaggedTensorSpec

_CPU = None


def host_device():
    """The ``cpu:0`` device on which user functions of a pipeline run."""
    global _CPU
    if _CPU is None:
        _CPU = backends.get_device("cpu:0")
    return _CPU


# ---------------------------------------------------------------- specs
def batch_spec(spec, batch_size):
    """The spec of ``batch_size`` (None: unknown) stacked elements of ``spec``."""
    if hasattr(spec, "_batch"):   # sparse and ragged specs
        return spec._batch(batch_size)
    if isinstance(spec, DatasetSpec):
        raise TypeError("Cannot batch elements that contain datasets.")
    dims = None if spec.shape.rank is None else [batch_size] + spec.shape.dims
    return TensorSpec(dims, spec.dtype)


def unbatch_spec(spec):
    """The spec of the slices of ``spec`` along its first dimension."""
    if hasattr(spec, "_unbatch"):
        return spec._unbatch()
    if spec.shape.rank == 0:
        raise ValueError("Unbatching a tensor is only supported for rank >= 1")
    return TensorSpec(None if spec.shape.rank is None else spec.shape.dims[1:], spec.dtype)


def is_spec(value):
    return isinstance(value, TypeSpec)


class SparseTensorSpec(TypeSpec):
    """Describes a ``SparseTensor`` by its dense shape and value dtype."""

    def __init__(self, shape=None, dtype=_dt.float32):
        self.shape = TensorShape(shape)
        self.dtype = _dt.as_dtype(dtype)

    def is_compatible_with(self, spec_or_value):
        other = spec_or_value
        if isinstance(other, SparseTensor):
            other = SparseTensorSpec(np.asarray(other.dense_shape).tolist(), other.dtype)
        return (isinstance(other, SparseTensorSpec) and other.dtype == self.dtype
                and self.shape.is_compatible_with(other.shape))

    @property
    def value_type(self):
        return SparseTensor

    def most_specific_compatible_type(self, other):
        if not isinstance(other, SparseTensorSpec) or other.dtype != self.dtype:
            raise ValueError(f"No TypeSpec is compatible with both {self!r} and "
                             f"{other!r}")
        return SparseTensorSpec(self.shape.most_specific_compatible_shape(other.shape),
                                self.dtype)

    def _unbatch(self):
        return SparseTensorSpec(None if self.shape.rank is None else self.shape.dims[1:],
                                self.dtype)

    def _batch(self, batch_size):
        return SparseTensorSpec(None if self.shape.rank is None else
                                [batch_size] + self.shape.dims, self.dtype)

    def __eq__(self, other):
        return (isinstance(other, SparseTensorSpec) and other.shape == self.shape
                and other.dtype == self.dtype)

    def __hash__(self):
        return hash((tuple(self.shape.dims or ()), self.dtype))

    def __repr__(self):
        return f"SparseTensorSpec(TensorShape({self.shape.as_list()}), {self.dtype!r})"


class DatasetSpec(TypeSpec):
    """Describes a nested Dataset element (as produced by ``Dataset.window``)."""

    def __init__(self, element_spec, dataset_shape=()):
        self.element_spec = element_spec
        self.shape = TensorShape(dataset_shape)

    @staticmethod
    def from_value(value):
        """The ``DatasetSpec`` of the Dataset ``value``."""
        from dlframe.data.dataset import Dataset
        if not isinstance(value, Dataset):
            raise TypeError(f"`value` must be a `tf.data.Dataset`, got "
                            f"{type(value).__name__}.")
        return DatasetSpec(value.element_spec)

    def is_compatible_with(self, spec_or_value):
        from dlframe.data.dataset import Dataset
        if isinstance(spec_or_value, Dataset):
            spec_or_value = DatasetSpec(spec_or_value.element_spec)
        return isinstance(spec_or_value, DatasetSpec)

    @property
    def value_type(self):
        from dlframe.data.dataset import Dataset
        return Dataset

    def most_specific_compatible_type(self, other):
        if not isinstance(other, DatasetSpec) or other != self:
            raise ValueError(f"No TypeSpec is compatible with both {self!r} and "
                             f"{other!r}")
        return self

    def __eq__(self, other):
        return (isinstance(other, DatasetSpec) and other.element_spec == self.element_spec
                and other.shape == self.shape)

    def __hash__(self):
        return hash(repr(self))

    def __repr__(self):
        return f"DatasetSpec({self.element_spec!r}, TensorShape({self.shape.dims}))"


# ---------------------------------------------------------------- nesting
def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def is_nested(x):
    """True for the containers that structure an element (tuple, dict)."""
    return isinstance(x, (tuple, dict))


def flatten(structure):
    """The leaves of ``structure`` in order (dict entries sorted by key, as TF's nest)."""
    out = []
    _flatten_into(structure, out)
    return out


def _flatten_into(s, out):
    if isinstance(s, dict):
        for k in sorted(s):
            _flatten_into(s[k], out)
    elif isinstance(s, tuple):
        for item in s:
            _flatten_into(item, out)
    else:
        out.append(s)


def pack_sequence_as(structure, flat):
    """Rebuilds ``structure``'s shape from the leaves ``flat``."""
    it = iter(flat)
    result = _pack(structure, it)
    return result


def _pack(s, it):
    if isinstance(s, dict):
        packed = {k: _pack(s[k], it) for k in sorted(s)}
        return type(s)((k, packed[k]) for k in s)
    if _is_namedtuple(s):
        return type(s)(*[_pack(item, it) for item in s])
    if isinstance(s, tuple):
        return tuple(_pack(item, it) for item in s)
    return next(it)


def map_structure(fn, *structures):
    """Applies ``fn`` to corresponding leaves of equally structured values."""
    first = structures[0]
    if len(structures) > 1:
        for other in structures[1:]:
            assert_same_structure(first, other)
    flats = [flatten(s) for s in structures]
    return pack_sequence_as(first, [fn(*leaves) for leaves in zip(*flats)])


def same_structure(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and sorted(a) == sorted(b) and all(
            same_structure(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return (isinstance(b, tuple) and not isinstance(b, dict) and len(a) == len(b)
                and all(same_structure(x, y) for x, y in zip(a, b)))
    return not isinstance(b, (tuple, dict))


def assert_same_structure(a, b):
    if not same_structure(a, b):
        raise ValueError("The two structures don't have the same nested structure.\n\n"
                         f"First structure: {a!r}\n\nSecond structure: {b!r}")


def lists_to_tuples(structure):
    """Function outputs: a Python list is a tuple of components (as TF does)."""
    if isinstance(structure, list):
        return tuple(lists_to_tuples(x) for x in structure)
    if isinstance(structure, dict):
        return type(structure)((k, lists_to_tuples(v)) for k, v in structure.items())
    if _is_namedtuple(structure):
        return type(structure)(*[lists_to_tuples(x) for x in structure])
    if isinstance(structure, tuple):
        return tuple(lists_to_tuples(x) for x in structure)
    return structure


# ---------------------------------------------------------------- conversion
def to_host_array(value, dtype=None):
    """Host NumPy array for a Tensor, array or Python value (TF dtype inference).

    Args:
      value: a Tensor, NumPy array, Python scalar/list/bytes/str.
      dtype: optional ``DType`` to convert to.
    """
    if isinstance(value, Tensor):
        dev = value._device
        arr = value._value if not dev.is_gpu else dev.to_numpy(value._value)
        if not isinstance(arr, np.ndarray):  # NumPy ops may leave 0-d results as scalars
            arr = np.asarray(arr)
        if dtype is not None and arr.dtype != dtype._np:
            arr = arr.astype(dtype._np)
        return arr
    if isinstance(value, np.ndarray) and dtype is None:
        if value.dtype.kind in ("U", "S") or _holds_str(value):
            return _encode_strings(value)
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in ("U", "S"):
        value = _encode_strings(value)
    if hasattr(value, "numpy") and not isinstance(value, (np.ndarray, np.generic)):
        value = value.numpy()  # Variables and other tensor-likes
    t = convert_to_tensor(value, dtype=dtype, device=host_device())
    return np.asarray(t._value)


def _holds_str(arr):
    """An object array of Python ``str`` (a pandas text column)."""
    return arr.dtype == object and arr.size > 0 and isinstance(arr.flat[0], str)


def _encode_strings(arr):
    out = np.empty(arr.shape, dtype=object)
    flat_in, flat_out = arr.reshape(-1), out.reshape(-1)
    for i, s in enumerate(flat_in):
        flat_out[i] = s.encode() if isinstance(s, str) else bytes(s)
    return out


def to_host_leaf(value):
    """Converts one leaf of a user value into its pipeline representation."""
    from dlframe.data.dataset import Dataset
    if value is None or isinstance(value, Dataset):   # None: a NoneTensorSpec leaf
        return value
    if isinstance(value, SparseTensor):
        return SparseTensor(to_host_array(value.indices), to_host_array(value.values),
                            to_host_array(value.dense_shape))
    if hasattr(value, "_map_value"):   # an Optional: its value moves like elements
        return value._map_value(to_host)
    if getattr(value, "_dlframe_composite", False):   # a RaggedTensor stays one
        return value
    return to_host_array(value)


def function_output(structure):
    """A map function's result as TF normalizes it: a list returned at the top is a
    tuple of components; a list nested inside (``{"a": [x, y]}``, ``(x, [y, z])``)
    is one Tensor (its items packed)."""
    if isinstance(structure, list):
        structure = tuple(structure)

    def pack(value):
        if isinstance(value, list):   # packed as convert_to_tensor packs
            return convert_to_tensor(value)
        if isinstance(value, dict):
            return type(value)((k, pack(v)) for k, v in value.items())
        if _is_namedtuple(value):
            return type(value)(*[pack(v) for v in value])
        if isinstance(value, tuple):
            return tuple(pack(v) for v in value)
        return value
    return pack(structure)


def to_host(structure):
    """Pipeline representation of a user value (lists inside become tuples)."""
    return map_structure(to_host_leaf, lists_to_tuples(structure))


def to_host_input(structure):
    """Pipeline representation of a ``from_tensors`` input: lists are tensors there."""
    if isinstance(structure, list):
        return to_host_leaf(structure)
    if isinstance(structure, dict):
        return type(structure)((k, to_host_input(v)) for k, v in structure.items())
    if _is_namedtuple(structure):
        return type(structure)(*[to_host_input(x) for x in structure])
    if isinstance(structure, tuple):
        return tuple(to_host_input(x) for x in structure)
    return to_host_leaf(structure)


def leaf_to_tensor(leaf, device):
    """A pipeline leaf as a Tensor on ``device`` (strings stay on the host, as in TF)."""
    if isinstance(leaf, np.ndarray):
        if leaf.dtype == object or not device.is_gpu:
            dev = host_device() if leaf.dtype == object else device
            return Tensor(leaf, dev)
        return Tensor(device.asarray(leaf), device)
    if isinstance(leaf, SparseTensor):
        return SparseTensor(leaf_to_tensor(np.asarray(leaf.indices), device),
                            leaf_to_tensor(np.asarray(leaf.values), device),
                            leaf_to_tensor(np.asarray(leaf.dense_shape), device))
    if hasattr(leaf, "_map_value"):   # an Optional
        return leaf._map_value(lambda value: to_tensors(value, device))
    if getattr(leaf, "_dlframe_composite", False) and hasattr(leaf, "_row_splits"):
        return _ragged_to_device(leaf, device)
    return leaf


def _ragged_to_device(ragged, device):
    """A pipeline RaggedTensor with its values and row splits on ``device``, as a
    dense leaf goes (string values keep the whole tensor on the host)."""
    if not device.is_gpu or ragged.flat_values._value.dtype == object:
        return ragged
    from dlframe.core.tensor import copy_to_device

    def move(part):
        if hasattr(part, "_row_splits"):
            return _ragged_to_device(part, device)
        return part if part._device is device else copy_to_device(part, device)
    out = type(ragged)(move(ragged._values), move(ragged._row_splits), internal=True)
    if hasattr(ragged, "_uniform_row_length"):
        out._uniform_row_length = ragged._uniform_row_length
    return out


def to_tensors(element, device):
    """An element with every array leaf as a Tensor on ``device``."""
    if isinstance(element, np.ndarray):
        return leaf_to_tensor(element, device)
    return map_structure(lambda leaf: leaf_to_tensor(leaf, device), element)


def to_numpy_value(element):
    """``as_numpy_iterator`` view of an element: arrays, NumPy scalars and bytes."""
    def conv(leaf):
        if leaf is None:
            return None
        if isinstance(leaf, np.ndarray):
            return leaf[()] if leaf.ndim == 0 else leaf
        if isinstance(leaf, SparseTensor):
            return SparseTensorValue(np.asarray(leaf.indices), np.asarray(leaf.values),
                                     np.asarray(leaf.dense_shape))
        refuse_numpy(type(leaf))
        if getattr(leaf, "_dlframe_composite", False):
            return leaf.numpy()   # a RaggedTensor: an object array of rows, as TF
        raise TypeError(f"Dataset.as_numpy_iterator() does not support {leaf!r} elements")
    return map_structure(conv, element)


def refuse_numpy(value_type):
    """TypeError for an element type ``as_numpy_iterator`` cannot give (Optional)."""
    if value_type is not None and hasattr(value_type, "_map_value"):
        raise TypeError("`tf.data.Dataset.as_numpy_iterator()` is not supported for "
                        f"datasets that produce values of type {value_type}")


class SparseTensorValue(tuple):
    """``(indices, values, dense_shape)`` NumPy triple of a sparse element."""

    def __new__(cls, indices, values, dense_shape):
        return super().__new__(cls, (indices, values, dense_shape))

    indices = property(lambda self: self[0])
    values = property(lambda self: self[1])
    dense_shape = property(lambda self: self[2])


def spec_of_leaf(leaf):
    """The TypeSpec of one pipeline leaf."""
    from dlframe.data.dataset import Dataset
    if isinstance(leaf, np.ndarray):
        return TensorSpec(leaf.shape, _dt.from_numpy(leaf.dtype))
    if leaf is None:   # a function's None result: TF's NoneTensorSpec component
        from dlframe.data.type_specs import NoneTensorSpec
        return NoneTensorSpec()
    if isinstance(leaf, SparseTensor):
        return SparseTensorSpec(np.asarray(leaf.dense_shape).tolist(), leaf.dtype)
    if isinstance(leaf, Dataset):
        return DatasetSpec(leaf.element_spec)
    if getattr(leaf, "_dlframe_composite", False):
        return leaf._type_spec()
    raise TypeError(f"Unsupported dataset element component {leaf!r}")


def spec_of(element):
    return map_structure(spec_of_leaf, element)


def relax_spec(a, b):
    """The most specific spec compatible with both ``a`` and ``b`` (same structure)."""
    def merge(x, y):
        if isinstance(x, TensorSpec) and isinstance(y, TensorSpec):
            if x.dtype != y.dtype:
                raise TypeError(f"Incompatible dataset elements: {x} vs {y}")
            return TensorSpec(x.shape.most_specific_compatible_shape(y.shape), x.dtype)
        if _has_dims(x) and type(x) is type(y) and x != y:
            try:   # sparse / ragged components whose sizes differ between elements
                return x.most_specific_compatible_type(y)
            except ValueError:
                return x
        return x
    return map_structure(merge, a, b)


def relax_unknown_dims(out_spec, in_spec, in_element):
    """``out_spec`` (a function's output on ``in_element``) with a dimension set to None
    where the input's spec has None at the same axis and the input's size there equals
    the output's: a batch or sequence axis passed through keeps TF's unknown size
    (TF traces map functions with the input's unknown dimensions)."""
    unknown = {}   # axis -> sizes the input had at that unknown axis
    for spec, leaf in zip(flatten(in_spec), flatten(in_element)):
        if isinstance(spec, TensorSpec) and spec.shape.rank and isinstance(leaf,
                                                                          np.ndarray):
            for axis, dim in enumerate(spec.shape.dims):
                if dim is None and axis < leaf.ndim:
                    unknown.setdefault(axis, set()).add(leaf.shape[axis])
        elif isinstance(spec, RaggedTensorSpec) and spec.shape.rank and \
                spec.shape[0] is None and hasattr(leaf, "nrows_static"):
            unknown.setdefault(0, set()).add(leaf.nrows_static())   # its rows
    if not unknown:
        return out_spec

    def relax(spec):
        if not _has_dims(spec) or not spec.shape.rank:
            return spec
        dims = [None if d is not None and d in unknown.get(axis, ()) else d
                for axis, d in enumerate(spec.shape.dims)]
        return with_dims(spec, dims)
    return map_structure(relax, out_spec)


def _has_dims(spec):
    return isinstance(spec, (TensorSpec, SparseTensorSpec, RaggedTensorSpec))


def with_dims(spec, dims):
    """A dense, sparse or ragged ``spec`` with its shape replaced by ``dims``."""
    if isinstance(spec, RaggedTensorSpec):
        return RaggedTensorSpec(dims, spec.dtype, spec.ragged_rank,
                                spec.row_splits_dtype)
    return type(spec)(dims, spec.dtype)
