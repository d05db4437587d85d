"""Counting: bincount and confusion_matrix; approximate top-k (computed exactly)."""

import collections

from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops import math as m
from dlframe.ops._util import t
from dlframe.ops.late_bound import reads_values
from dlframe.ops.reduction import top_k


def _array():
    from dlframe.ops import array  # bound late: array imports the reduction module
    return array


@primitive("DenseBincount")
def _bincount_p(d, arr, *weights, minlength, maxlength, dtype, binary):
    xp = d.xp
    # the size is read from the values when the op runs (compiled functions follow it)
    if arr.size and int(arr.min()) < 0:
        raise InvalidArgumentError("DenseBincount: Input arr must be non-negative! "
                                   "[Op:DenseBincount]")
    size = int(arr.max()) + 1 if arr.size else 0
    if minlength is not None:
        size = max(size, minlength)
    if maxlength is not None:
        size = min(size, maxlength)
    rows = arr.reshape(-1, arr.shape[-1]) if arr.ndim == 2 else arr.reshape(1, -1)
    w = weights[0].reshape(rows.shape) if weights else None
    out = xp.zeros((rows.shape[0], size), dtype=dtype)
    keep = rows < size
    r = xp.broadcast_to(xp.arange(rows.shape[0])[:, None], rows.shape)[keep]
    vals = (w[keep] if w is not None else xp.ones(int(keep.sum()), dtype=dtype))
    d.scatter_add(out, (r, rows[keep]), vals.astype(dtype, copy=False))
    if binary:
        out = (out != 0).astype(dtype)
    return out if arr.ndim == 2 else out[0]


# the bin count follows the values (their max): shape queries run with the graph,
# and TF's graph leaves every dim unknown (even for a constant minlength)
_bincount_p.value_shaped = True
_bincount_p.static_shape = lambda in_dims, attrs: [None] * len(in_dims[0])


@reads_values("minlength", "maxlength")
def bincount(arr, weights=None, minlength=None, maxlength=None, dtype=dtypes.int32,
             name=None, axis=None, binary_output=False):
    """Counts occurrences of each value in the non-negative integer tensor ``arr``.

    Args:
      arr: non-negative integers (floating values are truncated to int32).
      weights: optional tensor shaped like ``arr``; sums weights instead of counting
        (the output then has the weights' dtype).
      minlength: the output has at least this many bins.
      maxlength: values >= maxlength are dropped; at most this many bins.
      dtype: output dtype without weights.
      axis: None (count over everything) or -1 (per row of a 2-D ``arr``).
      binary_output: 1 where a value occurs instead of the count.
    """
    a = t(arr)
    if m._kind(a) == "f":   # TF casts floating values to int32 (truncation)
        a = m.cast(a, dtypes.int32)
    if m._kind(a) not in "iu":
        raise InvalidArgumentError(f"DenseBincount: arr must be an integer tensor, got "
                                   f"{a.dtype.name}")
    if axis not in (None, 0, -1) or (axis == -1 and a._value.ndim != 2):
        raise InvalidArgumentError(f"DenseBincount: axis must be None or -1 for a 2-D "
                                   f"input, got axis={axis} and rank {a._value.ndim}")
    if axis is None or axis == 0:
        a = _array().reshape(a, [-1])
    inputs = (a,)
    out_dtype = dtypes.as_dtype(dtype)
    if weights is not None and not binary_output:
        w = t(weights)
        inputs = (a, w)
        out_dtype = w.dtype
    return call(_bincount_p, inputs, {
        "minlength": None if minlength is None else int(minlength),
        "maxlength": None if maxlength is None else int(maxlength),
        "dtype": out_dtype._np, "binary": bool(binary_output)})


def _assert_all(condition, message, values):
    """A run-time check (kept by compiled functions) raising InvalidArgumentError."""
    from dlframe.ops.debugging import Assert
    from dlframe.ops.reduction import reduce_all
    Assert(reduce_all(condition), [message, values])


def _squeeze_trailing_one(labels, predictions):
    """Drops a trailing size-1 axis from whichever of the pair has one more axis, as
    TF does (e.g. ``[n, 1]`` labels against ``[n]`` predictions)."""
    lshape, pshape = labels._value.shape, predictions._value.shape
    if len(lshape) == len(pshape) + 1 and lshape[-1] == 1:
        labels = _array().squeeze(labels, -1)
    elif len(pshape) == len(lshape) + 1 and pshape[-1] == 1:
        predictions = _array().squeeze(predictions, -1)
    return labels, predictions


def confusion_matrix(labels, predictions, num_classes=None, weights=None,
                     dtype=dtypes.int32, name=None):
    """``[num_classes, num_classes]`` counts of (label, prediction) pairs (rows: labels).

    Args:
      labels: 1-D non-negative integer class labels (a trailing size-1 axis that
        ``predictions`` lacks is dropped, and the other way round).
      predictions: 1-D integer predictions of the same length.
      num_classes: number of classes (default: 1 + the largest label or prediction);
        a label or prediction outside ``[0, num_classes)`` raises
        InvalidArgumentError.
      weights: optional per-example weights.
      dtype: output dtype.
    """
    lab, pred = _squeeze_trailing_one(m.cast(t(labels), dtypes.int64),
                                      m.cast(t(predictions), dtypes.int64))
    if tuple(lab._value.shape) != tuple(pred._value.shape):
        raise InvalidArgumentError(f"confusion_matrix: labels and predictions must have the "
                                   f"same shape, got {list(lab._value.shape)} and "
                                   f"{list(pred._value.shape)}")
    if lab._value.ndim != 1:
        raise InvalidArgumentError(f"confusion_matrix: labels and predictions must be 1-D, "
                                   f"got shape {list(lab._value.shape)}")
    if weights is not None and tuple(t(weights)._value.shape) != tuple(pred._value.shape):
        raise ValueError(f"confusion_matrix: weights must have the shape of predictions "
                         f"{list(pred._value.shape)}, got {list(t(weights)._value.shape)}")
    _assert_all(m.greater_equal(lab, 0), "`labels` contains negative values.", lab)
    _assert_all(m.greater_equal(pred, 0), "`predictions` contains negative values.",
                pred)
    from dlframe.ops import array_join, logic, reduction, segment
    if num_classes is None:   # a tensor: a compiled function reads it when it runs
        big = reduction.reduce_max(array_join.concat(
            [lab, pred, m.cast(t([-1]), dtypes.int64)], 0))
        n = m.add(big, 1)
    elif isinstance(num_classes, Tensor):
        n = m.cast(num_classes, dtypes.int64)
    else:
        n = int(num_classes)
    _assert_all(m.less(lab, n), "`labels` out of bound.", lab)
    _assert_all(m.less(pred, n), "`predictions` out of bound.", pred)
    flat = m.add(m.multiply(lab, n), pred)
    w = logic.ones_like(flat, dtype) if weights is None else m.cast(t(weights), dtype)
    counts = segment.unsorted_segment_sum(w, flat, m.multiply(n, n))
    return _array().reshape(counts, array_join.stack([n, n]) if isinstance(n, Tensor)
                            else [n, n])


ApproxTopK = collections.namedtuple("ApproxTopK", ["values", "indices"])


def _approx_k(x, k, largest):
    x = t(x)
    if largest:
        return ApproxTopK(*top_k(x, k))
    res = top_k(m.negative(x), k)
    return ApproxTopK(m.negative(res.values), res.indices)


def approx_max_k(operand, k, reduction_dimension=-1, recall_target=0.95,
                 reduction_input_size_override=-1, aggregate_to_topk=True, name=None):
    """The ``k`` largest entries along the last axis (computed exactly)."""
    if reduction_dimension not in (-1, t(operand)._value.ndim - 1):
        raise NotImplementedError("approx_max_k: only the last dimension is supported")
    return _approx_k(operand, k, True)


def approx_min_k(operand, k, reduction_dimension=-1, recall_target=0.95,
                 reduction_input_size_override=-1, aggregate_to_topk=True, name=None):
    """The ``k`` smallest entries along the last axis (computed exactly)."""
    if reduction_dimension not in (-1, t(operand)._value.ndim - 1):
        raise NotImplementedError("approx_min_k: only the last dimension is supported")
    return _approx_k(operand, k, False)


MATH_NAMES = ["approx_max_k", "approx_min_k", "bincount", "confusion_matrix"]
