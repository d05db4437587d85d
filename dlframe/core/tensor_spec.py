"""TypeSpec (``tf.TypeSpec``), the base of every value type description, and
TensorSpec: the shape/dtype description of a tensor (``tf.TensorSpec``)."""

from dlframe.core import dtypes
from dlframe.core.tensor_shape import TensorShape


class TypeSpec:
    """Base class of the specifications of a value's type (``tf.TypeSpec``).

    Subclasses implement ``value_type``, ``is_compatible_with`` and
    ``most_specific_compatible_type``; the subtype relations TF offers for tracing
    (``is_subtype_of``, ``most_specific_common_supertype``) are derived from them.
    """

    __slots__ = ()

    @property
    def value_type(self):
        """The Python type of the values this spec describes."""
        raise NotImplementedError(f"{type(self).__name__}.value_type")

    def is_compatible_with(self, spec_or_value):
        """Whether ``spec_or_value`` (a spec or a value) has a compatible type."""
        raise NotImplementedError(f"{type(self).__name__}.is_compatible_with")

    def most_specific_compatible_type(self, other):
        """The most specific spec compatible with both ``self`` and ``other``."""
        raise NotImplementedError(
            f"{type(self).__name__}.most_specific_compatible_type")

    def is_subtype_of(self, other):
        """True when every value of ``self`` is also a value of ``other``.

        Args:
          other: a TypeSpec.
        """
        if type(other) is not type(self) or not self.is_compatible_with(other):
            return False
        return self.most_specific_common_supertype([other]) == other

    def most_specific_common_supertype(self, others):
        """The most specific spec that all of ``self`` and ``others`` are subtypes of,
        or None when there is none.

        Args:
          others: a sequence of TypeSpecs.
        """
        result = self
        for other in others:
            if type(other) is not type(self):
                return None
            try:
                result = result.most_specific_compatible_type(other)
            except (TypeError, ValueError):
                return None
        return result

    def __ne__(self, other):
        return not self == other


class TensorSpec(TypeSpec):
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

    @property
    def value_type(self):
        from dlframe.core.tensor import Tensor
        return Tensor

    @classmethod
    def from_tensor(cls, tensor, name=None):
        return cls(tensor.shape, tensor.dtype, name)

    @classmethod
    def from_spec(cls, spec, name=None):
        return cls(spec.shape, spec.dtype, name or spec.name)

    def is_compatible_with(self, other):
        if isinstance(other, (int, float, complex, str, bytes)):
            return False   # a Python value is not a Tensor (as TF)
        other_dtype = getattr(other, "dtype", None)
        try:
            if other_dtype is not None and dtypes.as_dtype(other_dtype) != self._dtype:
                return False
            return self._shape.is_compatible_with(getattr(other, "shape", other))
        except (TypeError, ValueError):
            return False   # e.g. a nested Python list (TF: not a Tensor)

    def most_specific_compatible_type(self, other):
        if dtypes.as_dtype(other.dtype) != self._dtype:
            raise ValueError(f"No TypeSpec is compatible with both {self!r} and "
                             f"{other!r}")
        name = self._name if self._name == getattr(other, "name", None) else None
        return TensorSpec(self._shape.most_specific_compatible_shape(other.shape),
                          self._dtype, name)

    def is_subtype_of(self, other):
        # as TF: an unnamed spec may be a subtype of a named one, not the reverse
        return (isinstance(other, TensorSpec)
                and (self._name is None or self._name == other.name)
                and self._dtype == other.dtype
                and self._shape.is_subtype_of(other.shape))

    def most_specific_common_supertype(self, others):
        if any(getattr(o, "name", None) != self._name for o in others):
            return None   # as TF: only specs with one name have a common supertype
        return super().most_specific_common_supertype(others)

    def __eq__(self, other):
        return (isinstance(other, TensorSpec) and self._shape == other._shape
                and self._dtype == other._dtype and self._name == other._name)

    def __hash__(self):
        return hash((self._shape, self._dtype, self._name))

    def __repr__(self):
        return f"TensorSpec(shape={self._shape}, dtype={self._dtype!r}, name={self._name!r})"
