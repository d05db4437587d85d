"""TF1's view of a dataset element: ``output_shapes``, ``output_types`` and
``output_classes`` (``tf.compat.v1.data.get_output_*`` and the properties of the same
names on an iterator), derived from an ``element_spec``."""

from dlframe.core.tensor import Tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.core.tensor_spec import TensorSpec
from dlframe.data import structure as S


def _leaf_shape(spec):
    if isinstance(spec, S.DatasetSpec):
        return spec   # as TF: a nested dataset reports its spec for all three
    shape = getattr(spec, "shape", None)
    return shape if isinstance(shape, TensorShape) else TensorShape(None)


def _leaf_type(spec):
    return getattr(spec, "dtype", spec)


def _leaf_class(spec):
    if isinstance(spec, TensorSpec):
        return Tensor
    if isinstance(spec, S.SparseTensorSpec):
        return S.SparseTensor
    return spec   # as TF: other composites (ragged, datasets) report their spec


def _element_spec(dataset_or_iterator):
    spec = getattr(dataset_or_iterator, "element_spec", None)
    if spec is None and not hasattr(dataset_or_iterator, "element_spec"):
        raise TypeError(f"Expected a tf.data.Dataset or iterator, got "
                        f"{dataset_or_iterator!r}")
    return spec


def get_output_shapes(dataset_or_iterator):
    """The TensorShape of each component of the element (``output_shapes``).

    Args:
      dataset_or_iterator: a ``tf.data.Dataset`` or an iterator over one.
    """
    return S.map_structure(_leaf_shape, _element_spec(dataset_or_iterator))


def get_output_types(dataset_or_iterator):
    """The DType of each component of the element (``output_types``).

    Args:
      dataset_or_iterator: a ``tf.data.Dataset`` or an iterator over one.
    """
    return S.map_structure(_leaf_type, _element_spec(dataset_or_iterator))


def get_output_classes(dataset_or_iterator):
    """The Python class of each component (``tf.Tensor``, ``tf.SparseTensor``; the
    spec itself for other composites), as ``output_classes``.

    Args:
      dataset_or_iterator: a ``tf.data.Dataset`` or an iterator over one.
    """
    return S.map_structure(_leaf_class, _element_spec(dataset_or_iterator))


class LegacyOutputsMixin:
    """``output_shapes``/``output_types``/``output_classes`` from ``element_spec``."""

    @property
    def output_shapes(self):
        """TF1's ``iterator.output_shapes``."""
        return get_output_shapes(self)

    @property
    def output_types(self):
        """TF1's ``iterator.output_types``."""
        return get_output_types(self)

    @property
    def output_classes(self):
        """TF1's ``iterator.output_classes``."""
        return get_output_classes(self)


def _check_dataset(dataset, function_name):
    from dlframe.data.dataset import Dataset
    if not isinstance(dataset, Dataset):
        raise TypeError(f"{function_name}() expects `dataset` to be a tf.data.Dataset, "
                        f"got {dataset!r} of type {type(dataset).__name__}")


def make_one_shot_iterator(dataset):
    """TF1's one-shot iterator; eagerly (as in TF2) simply ``iter(dataset)``.

    Args:
      dataset: a ``tf.data.Dataset``.

    Returns:
      An iterator over ``dataset`` with ``get_next()`` and the ``output_*``
      properties.
    """
    _check_dataset(dataset, "make_one_shot_iterator")
    return iter(dataset)


def make_initializable_iterator(dataset, shared_name=None):
    """TF1's initializable iterator, which needs a graph session: in eager mode
    (always, in dlframe) a RuntimeError, as TF2 raises.

    Args:
      dataset: a ``tf.data.Dataset``.
      shared_name: unused (TF1 resource sharing).
    """
    _check_dataset(dataset, "make_initializable_iterator")
    raise RuntimeError("`make_initializable_iterator()` is not supported in eager "
                       "mode. Use Python-style iteration instead.")
