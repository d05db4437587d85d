"""Clipping: clip_by_value, clip_by_norm, clip_by_global_norm and global_norm.

Composites of math and reduction ops, so their gradients come from those ops.
IndexedSlices stay IndexedSlices: as TF, their norms are taken over ``values`` (rows
named twice count twice) and the clipped values keep the indices.
"""

from dlframe.core.indexed_slices import IndexedSlices, like_slices
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import ShapeMismatchError
from dlframe.ops import math as m
from dlframe.ops._util import t


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """Clips values to ``[clip_value_min, clip_value_max]``.

    The gradient reaches ``t`` only where it lies inside the range (bounds included);
    where a bound wins, it goes to that bound.

    Args:
      t: a numeric tensor (float or integer).
      clip_value_min: lower bound, a scalar or a tensor broadcastable to ``t``.
      clip_value_max: upper bound, a scalar or a tensor broadcastable to ``t``.

    Raises:
      ValueError: when a bound would broadcast ``t`` to a larger shape.
    """
    if isinstance(t, IndexedSlices):   # TF: the values are clipped, slices returned
        return _rewrap(t, clip_by_value(t.values, clip_value_min, clip_value_max))
    x = t if isinstance(t, Tensor) else convert_to_tensor(t)
    out = m.maximum(m.minimum(x, clip_value_max), clip_value_min)
    if out._value.shape != x._value.shape:
        raise ShapeMismatchError(f"clip_by_value: Shapes {tuple(x._value.shape)} and "
                                 f"{tuple(out._value.shape)} are incompatible")
    return out


def _sum_squares(x):
    from dlframe.ops.reduction import reduce_sum
    return reduce_sum(m.square(x))


def global_norm(t_list, name=None):
    """sqrt(sum of squares of all entries of all tensors in ``t_list``); None skipped."""
    if not isinstance(t_list, (list, tuple)):
        raise TypeError(f"`t_list` should be a list or tuple, got {type(t_list).__name__}")
    parts = [_sum_squares(_values(x)) for x in t_list if x is not None]
    if not parts:
        return convert_to_tensor(0.0)
    return m.sqrt(m.add_n(parts))


def _values(x):
    """The tensor whose entries count in a norm: an IndexedSlices' values."""
    return x.values if isinstance(x, IndexedSlices) else t(x)


def _rewrap(x, values):
    """``values`` in the form of ``x``: IndexedSlices with x's indices, or dense."""
    return like_slices(x, values, x.indices) if isinstance(x, IndexedSlices) else values


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """Rescales ``t`` so its L2 norm over ``axes`` is at most ``clip_norm``.

    Args:
      t: a Tensor or IndexedSlices (then its ``values`` are clipped, and an
        IndexedSlices is returned).
      clip_norm: the maximum norm, a positive scalar.
      axes: the axes the norm is taken over (default: all).
    """
    if isinstance(t, IndexedSlices):
        return _rewrap(t, clip_by_norm(t.values, clip_norm, axes))
    from dlframe.ops.reduction import reduce_sum
    x = t if isinstance(t, Tensor) else convert_to_tensor(t)
    l2sum = reduce_sum(m.square(x), axis=axes, keepdims=True)
    positive = m.greater(l2sum, 0)
    # sqrt only of positive sums keeps the gradient finite for an all-zero t
    l2norm = m.where(positive, m.sqrt(m.where(positive, l2sum, m.ones_like(l2sum))), l2sum)
    # TF clips a negative clip_norm at 0 (the result is then all zeros)
    clip = m.maximum(m.cast(clip_norm, x.dtype), 0) if isinstance(clip_norm, Tensor) \
        else max(clip_norm, 0)
    return m.divide(m.multiply(x, clip), m.maximum(l2norm, clip))


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scales every tensor by ``clip_norm / max(global_norm, clip_norm)``.

    Returns:
      ``(list_clipped, global_norm)``; None entries stay None. When the global norm
      is infinite or NaN, every clipped tensor is NaN (TF's rule).
    """
    if not isinstance(t_list, (list, tuple)):
        raise TypeError(f"`t_list` should be a list or tuple, got {type(t_list).__name__}")
    norm = global_norm(t_list) if use_norm is None else t(use_norm)
    scale = m.divide(clip_norm, m.maximum(norm, clip_norm))
    # TF's scale, clip_norm * min(1 / norm, 1 / clip_norm), is 1 for a negative clip
    if isinstance(clip_norm, Tensor):
        scale = m.where(m.less(clip_norm, 0), m.ones_like(scale), scale)
    elif clip_norm < 0:
        scale = m.ones_like(scale)
    # as TF, an infinite (or NaN) global norm makes every output NaN
    scale = m.where(m.is_finite(norm), scale, m.multiply(m.ones_like(scale), float("nan")))
    out = []
    for x in t_list:
        if x is None:
            out.append(None)
            continue
        values = _values(x)
        out.append(_rewrap(x, m.multiply(values, m.cast(scale, values.dtype))))
    return out, norm


__all__ = ["clip_by_global_norm", "clip_by_norm", "clip_by_value"]
LINALG_NAMES = ["global_norm"]
