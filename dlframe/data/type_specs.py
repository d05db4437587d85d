"""The TypeSpecs of TF's other value types (``tf.TensorArraySpec``,
``tf.IndexedSlicesSpec``, ``tf.NoneTensorSpec``, ``tf.OptionalSpec``,
``tf.data.IteratorSpec``, the ``VariableSpec`` of a Variable) and
``tf.type_spec_from_value``, which finds the spec of any value."""

from dlframe.core import dtypes
from dlframe.core import indexed_slices as _slices_mod
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.core.tensor_spec import TensorSpec, TypeSpec
from dlframe.core.variable import Variable
from dlframe.data import structure as S
from dlframe.ops.tensor_array import TensorArray
from dlframe.ops.variable_ops import IndexedSlices


def _incompatible(a, b):
    return ValueError(f"No TypeSpec is compatible with both {a!r} and {b!r}")


def _dims(shape):
    return None if shape.rank is None else shape.as_list()


class _FieldSpec(TypeSpec):
    """A spec that is a tuple of fields: equality, hash and ``repr`` come from
    ``_fields()``; subclasses give ``_fields`` and ``_merge`` (the field-wise most
    specific compatible type, raising ValueError when there is none)."""

    def _fields(self):
        raise NotImplementedError

    def _merge(self, other):
        raise NotImplementedError

    def most_specific_compatible_type(self, other):
        if type(other) is not type(self):
            raise _incompatible(self, other)
        return self._merge(other)

    def is_compatible_with(self, spec_or_value):
        other = spec_or_value
        if not isinstance(other, TypeSpec):
            if not isinstance(other, self.value_type):
                return False
            other = type_spec_from_value(other)
        if type(other) is not type(self):
            return False
        try:
            self._merge(other)   # the non-shape fields agree
        except (TypeError, ValueError):
            return False
        return _compatible_fields(self._fields(), other._fields())

    def __eq__(self, other):
        return type(other) is type(self) and self._fields() == other._fields()

    def __hash__(self):
        return hash((type(self).__name__, repr(self._fields())))

    def __repr__(self):
        return f"{type(self).__name__}{self._fields()!r}"


def _compatible_fields(a, b):
    """Whether each shape, spec or nested spec field of ``a`` is compatible with the
    one of ``b``."""
    for x, y in zip(a, b):
        if isinstance(x, TensorShape) and not x.is_compatible_with(y):
            return False
        if isinstance(x, TypeSpec) and not x.is_compatible_with(y):
            return False
        if isinstance(x, (tuple, dict)) and not _nested_compatible(x, y):
            return False
    return True


def _nested_compatible(a, b):
    if not S.same_structure(a, b):
        return False
    return all(x.is_compatible_with(y) for x, y in zip(S.flatten(a), S.flatten(b)))


def _nested_merge(a, b):
    """The field-wise most specific compatible spec of two nested element specs."""
    if not S.same_structure(a, b):
        raise _incompatible(a, b)
    return S.map_structure(lambda x, y: x.most_specific_compatible_type(y), a, b)


class TensorArraySpec(_FieldSpec):
    """The type of a ``tf.TensorArray``.

    Args:
      element_shape: the shape of each element (None: unknown).
      dtype: the elements' dtype.
      dynamic_size: whether the array can grow past its initial size.
      infer_shape: whether shape inference is enabled.
    """

    def __init__(self, element_shape=None, dtype=dtypes.float32, dynamic_size=False,
                 infer_shape=True):
        self._element_shape = TensorShape(element_shape)
        self._dtype = dtypes.as_dtype(dtype)
        self._dynamic_size = bool(dynamic_size)
        self._infer_shape = bool(infer_shape)

    @property
    def value_type(self):
        return TensorArray

    @classmethod
    def from_value(cls, value):
        """The spec of the TensorArray ``value``."""
        if not isinstance(value, TensorArray):
            raise TypeError(f"Expected value to be a TensorArray, but got: "
                             f"{type(value)}")
        return cls(value.element_shape, value.dtype, value.dynamic_size,
                   value._infer_shape)

    def _fields(self):
        return (self._element_shape, self._dtype, self._dynamic_size, self._infer_shape)

    def _merge(self, other):
        if self._fields()[1:] != other._fields()[1:]:
            raise _incompatible(self, other)
        return TensorArraySpec(
            _dims(self._element_shape.most_specific_compatible_shape(
                other._element_shape)), *self._fields()[1:])


class IndexedSlicesSpec(_FieldSpec):
    """The type of a ``tf.IndexedSlices``.

    Args:
      shape: the dense shape of the value.
      dtype: the values' dtype.
      indices_dtype: the indices' dtype.
      dense_shape_dtype: the dense shape's dtype (None: no dense shape).
      indices_shape: the shape of the indices (default ``[None]``).
    """

    def __init__(self, shape=None, dtype=dtypes.float32, indices_dtype=dtypes.int64,
                 dense_shape_dtype=None, indices_shape=None):
        self._shape = TensorShape(shape)
        self._values_dtype = dtypes.as_dtype(dtype)
        self._indices_dtype = dtypes.as_dtype(indices_dtype)
        self._dense_shape_dtype = (None if dense_shape_dtype is None
                                   else dtypes.as_dtype(dense_shape_dtype))
        self._indices_shape = TensorShape([None] if indices_shape is None
                                          else indices_shape)

    @property
    def value_type(self):
        return IndexedSlices

    @classmethod
    def from_value(cls, value):
        """The spec of the IndexedSlices ``value``."""
        dense = value.dense_shape
        return cls(value.shape, value.dtype, value.indices.dtype,
                   None if dense is None else dense.dtype, value.indices.shape)

    def _fields(self):
        return (self._shape, self._values_dtype, self._indices_dtype,
                self._dense_shape_dtype, self._indices_shape)

    def _merge(self, other):
        if self._fields()[1:4] != other._fields()[1:4]:
            raise _incompatible(self, other)
        return IndexedSlicesSpec(
            _dims(self._shape.most_specific_compatible_shape(other._shape)),
            *self._fields()[1:4],
            _dims(self._indices_shape.most_specific_compatible_shape(
                other._indices_shape)))


_slices_mod.OPS["spec"] = IndexedSlicesSpec   # IndexedSlices._type_spec()


class NoneTensorSpec(_FieldSpec):
    """The type of ``None`` where TF expects a (composite) tensor value."""

    @property
    def value_type(self):
        return type(None)

    @classmethod
    def from_value(cls, value):
        return cls()

    def is_compatible_with(self, spec_or_value):
        return spec_or_value is None or isinstance(spec_or_value, NoneTensorSpec)

    def _fields(self):
        return ()

    def _merge(self, other):
        return self

    def _batch(self, batch_size):   # a batch of Nones is None
        return self

    def _unbatch(self):
        return self

    def __repr__(self):
        return "NoneTensorSpec()"


class _NestedSpec(_FieldSpec):
    """A spec wrapping the nested ``element_spec`` of its value."""

    def __init__(self, element_spec):
        self._element_spec = element_spec

    @classmethod
    def from_value(cls, value):
        return cls(value.element_spec)

    def _fields(self):
        return (self._element_spec,)

    def _merge(self, other):
        return type(self)(_nested_merge(self._element_spec, other._element_spec))


class OptionalSpec(_NestedSpec):
    """The type of a ``tf.experimental.Optional``.

    Args:
      element_spec: the nested spec of the value the optional may hold.
    """

    @property
    def value_type(self):
        from dlframe.data.iterators import Optional
        return Optional


class IteratorSpec(_NestedSpec):
    """The type of a ``tf.data.Iterator``.

    Args:
      element_spec: the nested spec of the iterator's elements.
    """

    @property
    def value_type(self):
        from dlframe.data.iterators import OwnedIterator
        return OwnedIterator


class VariableSpec(_FieldSpec):
    """The type of a ``tf.Variable``.

    Args:
      shape: the variable's shape.
      dtype: its dtype.
      trainable: whether it is trainable.
      alias_id: kept for TF compatibility.
    """

    def __init__(self, shape, dtype=dtypes.float32, trainable=True, alias_id=None):
        self.shape = TensorShape(shape)
        self.dtype = dtypes.as_dtype(dtype)
        self.trainable = bool(trainable)
        self.alias_id = alias_id

    @property
    def value_type(self):
        return Variable

    @classmethod
    def from_value(cls, value):
        return cls(value.shape, value.dtype, value.trainable)

    def _fields(self):
        return (self.shape, self.dtype, self.trainable, self.alias_id)

    def _merge(self, other):
        if self._fields()[1:] != other._fields()[1:]:
            raise _incompatible(self, other)
        return VariableSpec(_dims(self.shape.most_specific_compatible_shape(
            other.shape)), *self._fields()[1:])

    def __repr__(self):
        return (f"VariableSpec(shape={self.shape}, dtype={self.dtype!r}, "
                f"trainable={self.trainable}, alias_id={self.alias_id})")


def type_spec_from_value(value):
    """The TypeSpec of ``value`` (``tf.type_spec_from_value``).

    Args:
      value: a Tensor, composite tensor (RaggedTensor, SparseTensor, IndexedSlices,
        TensorArray), Dataset, Iterator, Optional, Variable, None, or anything
        ``tf.convert_to_tensor`` accepts.

    Returns:
      A ``tf.TypeSpec``.

    Raises:
      TypeError: when no TypeSpec describes ``value``.
    """
    from dlframe.data.dataset import Dataset
    from dlframe.data.iterators import Optional, OwnedIterator
    from dlframe.io.sparse_tensor import SparseTensor
    if value is None:
        return NoneTensorSpec()
    if isinstance(value, Variable):
        return VariableSpec.from_value(value)
    if isinstance(value, Tensor):
        return TensorSpec(value.shape, value.dtype)
    if isinstance(value, SparseTensor):
        return S.SparseTensorSpec(TensorShape(value.shape), value.dtype)
    if getattr(value, "_dlframe_composite", False):
        return value._type_spec()
    if isinstance(value, Dataset):
        return S.DatasetSpec(value.element_spec)
    for cls, spec_cls in ((OwnedIterator, IteratorSpec), (Optional, OptionalSpec),
                          (TensorArray, TensorArraySpec),
                          (IndexedSlices, IndexedSlicesSpec)):
        if isinstance(value, cls):
            return spec_cls.from_value(value)
    try:
        tensor = convert_to_tensor(value)
    except (TypeError, ValueError):
        raise TypeError(f"Could not build a TypeSpec for {value!r} of unsupported "
                        f"type {type(value)}.") from None
    return TensorSpec(tensor.shape, tensor.dtype)


def get_structure(dataset_or_iterator):
    """The element spec of a Dataset or Iterator
    (``tf.data.experimental.get_structure``).

    Args:
      dataset_or_iterator: a ``tf.data.Dataset`` or ``tf.data.Iterator``.

    Raises:
      TypeError: for anything else.
    """
    from dlframe.data.dataset import Dataset
    from dlframe.data.iterators import OwnedIterator
    if isinstance(dataset_or_iterator, (Dataset, OwnedIterator)):
        return dataset_or_iterator.element_spec
    raise TypeError("Invalid `dataset_or_iterator`. `dataset_or_iterator` must be a "
                    "`tf.data.Dataset` or tf.data.Iterator object, but got "
                    f"{type(dataset_or_iterator)}.")
