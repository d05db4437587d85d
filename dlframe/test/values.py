"""Host views of test values: what ``TestCase.evaluate`` returns and what the array
assertions compare.

``evaluate`` follows TensorFlow: Tensors and Variables become NumPy values (a 0-d
result is a NumPy scalar), SparseTensors a ``SparseTensorValue``, RaggedTensors a
``RaggedTensorValue``; anything else but ``None`` is a ``ValueError``. The
assertions are more lenient and also take NumPy arrays and Python values.
"""

import collections.abc as _abc
import itertools as _itertools

from dlframe.backends.base import np  # host copies of test values
from dlframe.core import nest
from dlframe.core.tensor import Tensor
from dlframe.data.structure import SparseTensorValue
from dlframe.ops.ragged_tensor import RaggedTensor
from dlframe.ops.sparse_tensor import SparseTensor


class RaggedTensorValue:
    """NumPy value of a RaggedTensor (``tf.compat.v1.ragged.RaggedTensorValue``).

    Args:
      values: the NumPy values (or a nested ``RaggedTensorValue``).
      row_splits: the int NumPy row splits of the outer ragged dimension.
    """

    def __init__(self, values, row_splits):
        self._values = values
        self._row_splits = row_splits

    values = property(lambda self: self._values)
    row_splits = property(lambda self: self._row_splits)

    @property
    def flat_values(self):
        """The innermost NumPy values."""
        values = self._values
        while isinstance(values, RaggedTensorValue):
            values = values.values
        return values

    @property
    def nested_row_splits(self):
        """The row splits of every ragged dimension, outermost first."""
        splits, values = [self._row_splits], self._values
        while isinstance(values, RaggedTensorValue):
            splits.append(values.row_splits)
            values = values.values
        return tuple(splits)

    @property
    def ragged_rank(self):
        return len(self.nested_row_splits)

    @property
    def dtype(self):
        return self.flat_values.dtype

    def to_list(self):
        """The value as nested Python lists."""
        inner = (self._values.to_list() if isinstance(self._values, RaggedTensorValue)
                 else self._values.tolist())
        splits = self._row_splits.tolist()
        return [inner[start:stop] for start, stop in _itertools.pairwise(splits)]

    def __repr__(self):
        return (f"tf.RaggedTensorValue(values={self._values!r}, "
                f"row_splits={self._row_splits!r})")


def _ragged_value(rt):
    inner = rt.values
    values = (_ragged_value(inner) if isinstance(inner, RaggedTensor)
              else inner.numpy())
    return RaggedTensorValue(values, rt.row_splits.numpy())


def _tensor_value(tensor):
    value = tensor.numpy()
    return value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else value


def evaluate_leaf(leaf):
    """TF's ``evaluate`` of one leaf of a structure."""
    if leaf is None:
        return None
    if isinstance(leaf, Tensor):        # Variables are Tensors too
        return _tensor_value(leaf)
    if isinstance(leaf, RaggedTensor):
        return _ragged_value(leaf)
    if isinstance(leaf, SparseTensor):
        return SparseTensorValue(leaf.indices.numpy(), leaf.values.numpy(),
                                 leaf.dense_shape.numpy())
    raise ValueError(f"Unsupported type {type(leaf).__name__!r}.")


def evaluate(tensors):
    """NumPy values of a tensor or nested structure of tensors (``evaluate``)."""
    return nest.map_structure(evaluate_leaf, tensors)


def host(value):
    """What the assertions compare: NumPy arrays for tensors, nested Python lists
    for ragged values, the value itself otherwise."""
    if isinstance(value, Tensor):
        return value.numpy()
    if isinstance(value, (RaggedTensor, RaggedTensorValue)):
        return value.to_list()
    if isinstance(value, SparseTensor):
        return evaluate_leaf(value)
    return value


def as_array(value):
    """``value`` as a NumPy array (tensors copied to the host)."""
    value = host(value)
    return value if isinstance(value, np.ndarray) else np.asarray(value)


def _is_sequence(value):
    return isinstance(value, (list, tuple))


def _path(path):
    return "".join(f"[{p}]" for p in path)


def compare_structures(a, b, leaf_check, msg=None, path=()):
    """Walks nested dicts/lists/tuples/namedtuples of ``a`` and ``b`` together and
    calls ``leaf_check(a_array, b_array, where)`` on matching array-like leaves.

    A list that converts to a non-object NumPy array is one leaf (so ``[1., 2.]``
    and ``(1., 2.)`` compare equal); ragged or mixed lists are walked element-wise.
    Mismatched keys or lengths raise AssertionError; a dict against a non-dict is a
    ValueError, as in TensorFlow.
    """
    a, b = host(a), host(b)
    where = _path(path)
    suffix = f" {msg}" if msg else ""
    if isinstance(a, _abc.Mapping) or isinstance(b, _abc.Mapping):
        if not (isinstance(a, _abc.Mapping) and isinstance(b, _abc.Mapping)):
            raise ValueError(  # noqa: TRY004 - TF's error type
                f"Can't compare dict to non-dict, a{where} vs b{where}.{suffix}")
        if set(a) != set(b):
            raise AssertionError(
                f"mismatched keys: a{where} has keys {sorted(a, key=str)}, but "
                f"b{where} has keys {sorted(b, key=str)}.{suffix}")
        for key in a:
            compare_structures(a[key], b[key], leaf_check, msg, path + (key,))
        return
    if _is_sequence(a) or _is_sequence(b):
        arrays = _leaf_arrays(a, b)
        if arrays is not None:
            leaf_check(*arrays, where)
            return
        if not (_is_sequence(a) and _is_sequence(b)):
            raise AssertionError(f"Mismatched structure: a{where} is a "
                                 f"{type(a).__name__} and b{where} a "
                                 f"{type(b).__name__}.{suffix}")
        if len(a) != len(b):
            raise AssertionError(f"Length of a{where} ({len(a)}) != length of "
                                 f"b{where} ({len(b)}).{suffix}")
        names = getattr(a, "_fields", None) or range(len(a))   # namedtuple fields
        for name, item_a, item_b in zip(names, a, b):
            compare_structures(item_a, item_b, leaf_check, msg, path + (name,))
        return
    leaf_check(as_array(a), as_array(b), where)


def _leaf_arrays(a, b):
    """Both sides as regular NumPy arrays, or None when either is ragged/mixed."""
    arrays = []
    for value in (a, b):
        if _is_sequence(value) and any(
                isinstance(v, (Tensor, RaggedTensor, SparseTensor)) for v in value):
            return None
        try:
            array = np.asarray(value)
        except (ValueError, TypeError):   # ragged nesting
            return None
        if array.dtype == object and _is_sequence(value) and any(
                _is_sequence(v) or isinstance(v, _abc.Mapping) or v is None
                for v in value):
            return None
        arrays.append(array)
    return arrays


def normalize_strings(array):
    """bytes decoded to str (so ``b'a'`` equals ``'a'`` as in TF); others unchanged."""
    if array.dtype.kind not in "SUO":
        return array
    flat = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v
            for v in array.reshape(-1).tolist()]
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(array.shape)
