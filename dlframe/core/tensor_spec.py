"""TensorSpec: the shape/dtype description of a tensor (``tf.TensorSpec``)."""

from dlframe.core import dtypes
from dlframe.core.tensor_shape import TensorShape


class TensorSpec:
    """Describes a tensor: shape (None dims allowed), dtype and an optional name.

    Args:
      shape: a TensorShape-like value.
      dtype: element type (default float32).
      name: optional name.
    """

    __slots__ = ("_shape", "_dtype", "_name")

    def __init__(self, shape, dtype=dtypes.float32, name=None):
        self._shape = TensorShape(shape)
        self._dtype = dtypes.as_dtype(dtype)
        self._name = name

    @property
    def shape(self):
        return self._shape

    @property
    def dtype(self):
        return self._dtype

    @property
    def name(self):
        return self._name

    @classmethod
    def from_tensor(cls, tensor, name=None):
        return cls(tensor.shape, tensor.dtype, name)

    @classmethod
    def from_spec(cls, spec, name=None):
        return cls(spec.shape, spec.dtype, name or spec.name)

    def is_compatible_with(self, other):
        other_dtype = getattr(other, "dtype", None)
        if other_dtype is not None and dtypes.as_dtype(other_dtype) != self._dtype:
            return False
        return self._shape.is_compatible_with(getattr(other, "shape", other))

    def most_specific_compatible_type(self, other):
        return TensorSpec(self._shape.most_specific_compatible_shape(other.shape),
                          self._dtype)

    def __eq__(self, other):
        return (isinstance(other, TensorSpec) and self._shape == other._shape
                and self._dtype == other._dtype and self._name == other._name)

    def __hash__(self):
        return hash((self._shape, self._dtype, self._name))

    def __repr__(self):
        return f"TensorSpec(shape={self._shape}, dtype={self._dtype!r}, name={self._name!r})"
