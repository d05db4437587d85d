"""``tf.RaggedTensorSpec`` and the ``DynamicRaggedShape`` that ``tf.shape`` gives for
a RaggedTensor."""

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.tensor import convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.core.tensor_spec import TypeSpec
from dlframe.ops.ragged_tensor import RaggedTensor


class RaggedTensorSpec(TypeSpec):
    """The type of a RaggedTensor: shape (None for ragged dims), dtype, ragged_rank
    and row_splits dtype.

    Args:
      shape: the (static) shape; its rank must be known.
      dtype: element dtype.
      ragged_rank: number of ragged partitions (default ``rank - 1``).
      row_splits_dtype: int64 or int32.
    """

    def __init__(self, shape=None, dtype=dtypes.float32, ragged_rank=None,
                 row_splits_dtype=dtypes.int64, flat_values_spec=None):
        self._shape = TensorShape(shape)
        self._dtype = dtypes.as_dtype(dtype)
        self._row_splits_dtype = dtypes.as_dtype(row_splits_dtype)
        rank = self._shape.rank
        if ragged_rank is None:
            if rank is None:
                raise ValueError("Must specify ragged_rank or a shape with a known rank.")
            ragged_rank = rank - 1
        if not isinstance(ragged_rank, int):
            raise TypeError(f"Argument `ragged_rank` must be an int. Received "
                            f"{ragged_rank!r}.")
        self._ragged_rank = ragged_rank
        if rank is not None and ragged_rank >= max(rank, 1):
            raise ValueError(f"Argument `ragged_rank` ({ragged_rank}) must be less than "
                             f"rank ({rank}).")
        if ragged_rank < 0:
            raise ValueError(f"Argument `ragged_rank` must be non-negative, got "
                             f"{ragged_rank}")

    shape = property(lambda self: self._shape)
    dtype = property(lambda self: self._dtype)
    ragged_rank = property(lambda self: self._ragged_rank)
    row_splits_dtype = property(lambda self: self._row_splits_dtype)

    @property
    def value_type(self):
        return RaggedTensor

    @classmethod
    def from_value(cls, value):
        """The spec of a RaggedTensor."""
        return cls(value.shape, value.dtype, value.ragged_rank, value.row_splits.dtype)

    def is_compatible_with(self, spec_or_value):
        other = spec_or_value
        if isinstance(other, RaggedTensor):
            other = RaggedTensorSpec.from_value(other)
        if not isinstance(other, RaggedTensorSpec):
            return False
        return (other.dtype == self.dtype and other.ragged_rank == self.ragged_rank
                and other.row_splits_dtype == self.row_splits_dtype
                and self.shape.is_compatible_with(other.shape))

    def most_specific_compatible_type(self, other):
        if (not isinstance(other, RaggedTensorSpec) or other.dtype != self.dtype
                or other.ragged_rank != self.ragged_rank
                or other.row_splits_dtype != self.row_splits_dtype):
            raise ValueError(f"{self} is not compatible with {other}")
        return RaggedTensorSpec(self.shape.most_specific_compatible_shape(other.shape),
                                self.dtype, self.ragged_rank, self.row_splits_dtype)

    def _batch(self, batch_size):
        dims = None if self.shape.rank is None else [batch_size] + self.shape.as_list()
        return RaggedTensorSpec(dims, self.dtype, self.ragged_rank + 1,
                                self.row_splits_dtype)

    def _unbatch(self):
        dims = None if self.shape.rank is None else self.shape.as_list()[1:]
        return RaggedTensorSpec(dims, self.dtype, max(self.ragged_rank - 1, 0),
                                self.row_splits_dtype)

    def __eq__(self, other):
        return (isinstance(other, RaggedTensorSpec) and other.shape == self.shape
                and other.dtype == self.dtype and other.ragged_rank == self.ragged_rank
                and other.row_splits_dtype == self.row_splits_dtype)

    def __hash__(self):
        dims = tuple(self.shape.as_list()) if self.shape.rank is not None else None
        return hash((dims, self.dtype, self.ragged_rank, self.row_splits_dtype))

    def __repr__(self):
        return (f"RaggedTensorSpec({self.shape!r}, tf.{self.dtype.name}, "
                f"{self.ragged_rank}, tf.{self.row_splits_dtype.name})")


class DynamicRaggedShape:
    """The shape of a RaggedTensor (``tf.shape(rt)``): uniform dimensions are
    scalars, ragged ones the row lengths.

    ``shape[0]`` is the number of rows and ``shape[k]`` a uniform inner size;
    indexing a ragged dimension raises ValueError, as in TF.
    """

    def __init__(self, rt, out_type=dtypes.int64):
        self._rt = rt
        self._dtype = dtypes.as_dtype(out_type)

    @property
    def rank(self):
        return self._rt.shape.rank

    @property
    def num_row_partitions(self):
        return self._rt.ragged_rank

    @property
    def dtype(self):
        return self._dtype

    @property
    def inner_shape(self):
        flat = self._rt.flat_values
        dims = [int(np.prod([self._rt.flat_values._value.shape[0]]))] + \
            list(flat._value.shape[1:])
        return convert_to_tensor(np.array(dims, dtype=self._dtype.as_numpy_dtype))

    def static_lengths(self):
        out = [self._rt.nrows_static()] + [None] * self._rt.ragged_rank
        return out + list(self._rt.flat_values._value.shape[1:])

    def _scalar(self, value):
        return convert_to_tensor(np.array(value, dtype=self._dtype.as_numpy_dtype))

    def __getitem__(self, index):
        rank = self.rank
        if isinstance(index, slice):
            raise NotImplementedError("slicing a DynamicRaggedShape is not supported; "
                                      "use rt.bounding_shape()")
        i = int(index) + (rank if int(index) < 0 else 0)
        if not 0 <= i < rank:
            raise IndexError(f"Index {index} out of range for a shape of rank {rank}")
        if i == 0:
            return self._scalar(self._rt.nrows_static())
        if i <= self._rt.ragged_rank:
            raise ValueError(f"Index {index} is not uniform")
        return self._scalar(self._rt.flat_values._value.shape[i - self._rt.ragged_rank])

    def __len__(self):
        return self.rank

    def __repr__(self):
        rt, parts = self._rt, [str(self._rt.nrows_static())]
        if not _traced(rt):
            r = rt
            while isinstance(r, RaggedTensor):
                parts.append(str(tuple(r.row_lengths().numpy().tolist())))
                r = r.values
        else:
            parts += ["?"] * rt.ragged_rank
        parts += [str(d) for d in rt.flat_values._value.shape[1:]]
        return (f"<DynamicRaggedShape lengths=[{', '.join(parts)}] "
                f"num_row_partitions={rt.ragged_rank}>")


def _traced(rt):
    from dlframe.ops.ragged_tensor import _symbolic
    return _symbolic(rt.flat_values, *rt.nested_row_splits)
