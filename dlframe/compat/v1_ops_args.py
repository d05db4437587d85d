"""More TF1 spellings found by probing TF1-era snippets against TF 2.21.

Top-level ``tf.compat.v1`` functions whose TF1 signature differs from TF2's
(``convert_to_tensor(preferred_dtype=)``, ``norm(keep_dims=)``, ``batch_gather``,
``setdiff1d``) and ``tf.compat.v1.nn`` functions with TF1 argument names
(``softmax(dim=)``, ``moments(keep_dims=)``, ``dropout(keep_prob=)``, ``in_top_k``'s
TF1 argument order). Each is a thin adapter onto the TF2 op.
"""

import collections

import dlframe as _tf
from dlframe.compat.v1_ops import _one_of
from dlframe.core import dtypes as _dt
from dlframe.core import tensor_shape as _tensor_shape

ListDiff = collections.namedtuple("ListDiff", ["out", "idx"])
where_v2 = _tf.where
reverse_v2 = _tf.reverse
dimension_value = _tensor_shape.dimension_value


def dimension_at_index(shape, index):
    """``shape[index]`` as a ``Dimension`` (unknown for a shape of unknown rank)."""
    shape = _tensor_shape.as_shape(shape)
    if shape.rank is None:
        return _tensor_shape.Dimension(None)
    return _tensor_shape.Dimension(shape[index])


def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None,
                      dtype_hint=None):
    """TF1's ``convert_to_tensor``: ``preferred_dtype`` is TF2's ``dtype_hint``."""
    hint = _one_of(dtype_hint, "dtype_hint", preferred_dtype, "preferred_dtype")
    return _tf.convert_to_tensor(value, dtype=dtype, dtype_hint=hint, name=name)


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None,
         keep_dims=None):
    """TF1's ``norm`` (``keep_dims`` is ``keepdims``)."""
    keepdims = _one_of(keepdims, "keepdims", keep_dims, "keep_dims")
    return _tf.norm(tensor, ord=ord, axis=axis, keepdims=bool(keepdims), name=name)


def batch_gather(params, indices, name=None):
    """``tf.gather(params, indices, batch_dims=rank(indices) - 1)`` (TF1 name)."""
    indices = _tf.convert_to_tensor(indices)
    return _tf.gather(params, indices, batch_dims=indices.shape.rank - 1, name=name)


def setdiff1d(x, y, index_dtype=_dt.int32, name=None):
    """The values of 1-D ``x`` not in ``y``, in ``x``'s order, and their positions.

    Returns:
      ``ListDiff(out, idx)`` with ``out == gather(x, idx)``.
    """
    x = _tf.convert_to_tensor(x)
    y = _tf.convert_to_tensor(y, dtype=x.dtype)
    if x.shape.rank != 1 or y.shape.rank != 1:
        raise ValueError(f"setdiff1d: x and y must be 1-D, got shapes {x.shape} and "
                         f"{y.shape}")
    keep = _tf.logical_not(_tf.reduce_any(
        _tf.equal(_tf.expand_dims(x, 1), _tf.expand_dims(y, 0)), axis=1))
    idx = _tf.cast(_tf.reshape(_tf.where(keep), [-1]), index_dtype)
    return ListDiff(_tf.gather(x, idx), idx)


# ---------------------------------------------------------------- tf.compat.v1.nn
def softmax(logits, axis=None, name=None, dim=None):
    """TF1's ``nn.softmax`` (``dim`` is ``axis``)."""
    axis = _one_of(axis, "axis", dim, "dim")
    return _tf.nn.softmax(logits, axis=-1 if axis is None else axis, name=name)


def log_softmax(logits, axis=None, name=None, dim=None):
    """TF1's ``nn.log_softmax`` (``dim`` is ``axis``)."""
    axis = _one_of(axis, "axis", dim, "dim")
    return _tf.nn.log_softmax(logits, axis=-1 if axis is None else axis, name=name)


def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None):
    """TF1's ``nn.moments`` (``keep_dims`` is ``keepdims``; ``shift`` is unused)."""
    keepdims = _one_of(keepdims, "keepdims", keep_dims, "keep_dims")
    return _tf.nn.moments(x, axes, keepdims=bool(keepdims), name=name)


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """TF1's ``nn.dropout``: ``keep_prob`` is ``1 - rate``."""
    if (keep_prob is None) == (rate is None):
        raise ValueError("dropout: give exactly one of `keep_prob` and `rate`, got "
                         f"keep_prob={keep_prob!r}, rate={rate!r}")
    if rate is None:
        rate = 1.0 - keep_prob
    return _tf.nn.dropout(x, rate=rate, noise_shape=noise_shape, seed=seed, name=name)


def in_top_k(predictions, targets, k, name=None):
    """TF1's ``in_top_k`` argument order (predictions first)."""
    return _tf.math.in_top_k(targets, predictions, k, name=name)


__all__ = ["batch_gather", "convert_to_tensor", "dimension_at_index", "dimension_value",
           "norm", "reverse_v2", "setdiff1d", "where_v2"]
NN_NAMES = ["dropout", "in_top_k", "log_softmax", "moments", "softmax"]
