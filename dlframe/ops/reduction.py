"""Reductions: sum, mean, max, min, prod, std, logsumexp, any/all, arg-max/min and
top_k, with TF's keepdims, axis and dtype rules; the scans (cumsum, cumprod,
cumulative_logsumexp) live in ``reduction_scan`` and are re-exported here."""

import collections

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.static_dims import graph_dims, merge_dims
from dlframe.core.tensor import Tensor
from dlframe.errors import AxisError, DTypeMismatchError, InvalidArgumentError
from dlframe.ops import math as m
from dlframe.ops._util import t
from dlframe.ops.late_bound import reads_values
from dlframe.ops.reduction_arg import argmax, argmin
from dlframe.ops.reduction_scan import (  # noqa: F401 - re-exported (tf.math names)
    cumprod,
    cumprod_p,
    cumsum,
    cumsum_p,
    cumulative_logsumexp,
    cumlogsumexp_p,
)


def _array():
    from dlframe.ops import array  # array imports this module: bind late
    return array


def _axes(axis, ndim, op):
    """A reduction ``axis`` argument as a sorted tuple of non-negative ints (None = all)."""
    if axis is None:
        return None
    if isinstance(axis, Tensor):
        axis = axis.numpy().tolist()
    elif isinstance(axis, np.ndarray):   # axis=np.arange(1, ndim)
        axis = axis.tolist()
    items = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    out = []
    for a in items:
        if isinstance(a, (float, np.floating)):
            raise TypeError(f"{op}: `axis` must hold integers, got {axis!r}")
        a = int(a)
        if not -ndim <= a < ndim:
            raise AxisError(f"{op}: Invalid reduction dimension ({a} for input with {ndim} "
                            f"dimension(s)) [Op:{op}]")
        a %= ndim
        if a in out:
            raise InvalidArgumentError(f"{op}: Invalid reduction arguments: Axes contains "
                                       f"duplicate dimension: {a} [Op:{op}]")
        out.append(a)
    return tuple(sorted(out))


def _kept_shape(shape, axes):
    """Shape of a keepdims reduction of ``shape`` over ``axes`` (None = all)."""
    if axes is None:
        return tuple(1 for _ in shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _reduced_static_shape(in_dims, attrs):
    """TF's static shape of a reduction from its input's (None: unknown) dims."""
    dims, axes, keep = in_dims[0], attrs["axes"], attrs["keepdims"]
    if keep:
        return list(_kept_shape(dims, axes))
    return [] if axes is None else [d for i, d in enumerate(dims) if i not in axes]


def _kept_axes(axes, ndim):
    return tuple(range(ndim)) if axes is None else tuple(axes)


@primitive("ReductionGrad")
def _reduction_grad_p(d, dy, x, *, axes, keepdims, scale):
    """A reduction's output gradient spread back over ``x``'s shape at run time
    (divided by the reduced count when ``scale``: the mean's rule), so compiled
    graphs stay right when ``x``'s size changes between runs (loop outputs)."""
    xp = d.xp
    if not keepdims:
        dy = xp.expand_dims(dy, _kept_axes(axes, x.ndim)) if x.ndim else dy
    out = xp.broadcast_to(dy, x.shape)
    if scale:
        n = x.size // max(dy.size, 1)
        out = out / xp.asarray(max(n, 1), dtype=out.dtype)
    return out


@_reduction_grad_p.defgrad
def _reduction_grad_grad(inputs, out, g, *, axes, keepdims, scale):
    reduce = reduce_mean if scale else reduce_sum
    return reduce(g, axis=axes, keepdims=keepdims), None


def _expand_back(dy, x, axes, keepdims, scale=False):
    """Broadcasts a reduction's output gradient back to the input's shape."""
    if not scale and tuple(dy._value.shape) == tuple(x._value.shape):
        return dy
    return call(_reduction_grad_p, (dy, x), {"axes": axes, "keepdims": keepdims,
                                              "scale": scale})


def _reduce(p, input_tensor, axis, keepdims, kinds):
    x = t(input_tensor)
    if m._kind(x) not in kinds:
        m._check(p.name, x, kinds)
    axes = _axes(axis, x._value.ndim, p.name)
    return call(p, (x,), {"axes": axes, "keepdims": bool(keepdims)})


@primitive("Sum")
def sum_p(d, x, *, axes, keepdims):
    if x.dtype.itemsize == 2 and x.dtype.kind not in "iub":
        # float16/bfloat16 accumulate in float32 and round once, as TF's kernels do
        with np.errstate(over="ignore"):   # past the half range: inf, as TF
            return d.sum(x, axes, keepdims, dtype="float32").astype(x.dtype)
    return d.sum(x, axes, keepdims, dtype=x.dtype)


@sum_p.defgrad
def _sum_grad(inputs, out, dy, *, axes, keepdims):
    return _expand_back(dy, inputs[0], axes, keepdims)


def _axis_follow(input_tensor, axis=None, keepdims=False, name=None):
    """A reduction's ``axis`` TF's graph does not know: its output dims are unknown,
    and its rank too unless ``keepdims`` (``reads_values``'s ``sizes_follow``)."""
    return True if keepdims is True else "rank"


def _axis_reads(op):
    """``reads_values`` of a reduction's ``axis``: output dims unknown where TF's
    graph does not know it, and a stand-in (``op`` over all axes, same dtype) for
    a trace's placeholder axes that ``op`` refuses (``[0, 0]``: duplicates)."""
    def stand_in(input_tensor, axis=None, keepdims=False, name=None):
        return op(input_tensor, None, keepdims)
    return reads_values("axis", sizes_follow=_axis_follow, stand_in=stand_in)(op)


@_axis_reads
def reduce_sum(input_tensor, axis=None, keepdims=False, name=None):
    """Sum of elements across ``axis``.

    Args:
      input_tensor: a numeric tensor.
      axis: None (all axes), an int or a list of ints in ``[-rank, rank)``.
      keepdims: keep reduced axes with length 1.
    """
    return _reduce(sum_p, input_tensor, axis, keepdims, "fciu")


def _is_low_float(dtype):
    return dtype.kind == "f" and dtype.itemsize < 4 or dtype.kind == "V"


@primitive("Mean")
def mean_p(d, x, *, axes, keepdims):
    xp = d.xp
    if x.dtype.kind in "iu":  # TF's integer mean truncates toward zero
        # summed in 64 bits, as TF (the mean of int8 [100, 100] is 100)
        s = xp.sum(x, axis=axes, keepdims=keepdims,
                   dtype=xp.int64 if x.dtype.kind == "i" else xp.uint64)
        n = x.size // max(s.size, 1) if x.size else 1
        if not n:
            return s.astype(x.dtype)
        q = s // n
        if x.dtype.kind == "i":
            q = q + ((q * n != s) & (s < 0))
        return q.astype(x.dtype)
    if x.size == 0:
        shape = xp.sum(x, axis=axes, keepdims=keepdims).shape
        return xp.full(shape, xp.nan, dtype=x.dtype)
    if x.dtype == xp.float16:
        # TF: the sum rounded to half (inf past 65504), over the count as half
        total = xp.sum(x, axis=axes, keepdims=keepdims, dtype=xp.float32)
        n = x.size // max(total.size, 1)
        with np.errstate(over="ignore", invalid="ignore"):
            return total.astype(x.dtype) / xp.float16(n if n < 65520 else np.inf)
    if _is_low_float(x.dtype):  # accumulate bfloat16 in float32, as TF
        with np.errstate(over="ignore", invalid="ignore"):   # (inf past the range)
            return xp.mean(x.astype(xp.float32), axis=axes,
                           keepdims=keepdims).astype(x.dtype)
    total = d.sum(x, axes, keepdims, dtype=x.dtype)
    return (total / (x.size // max(total.size, 1))).astype(x.dtype, copy=False)


@mean_p.defgrad
def _mean_grad(inputs, out, dy, *, axes, keepdims):
    return _expand_back(dy, inputs[0], axes, keepdims, scale=True)


@_axis_reads
def reduce_mean(input_tensor, axis=None, keepdims=False, name=None):
    """Mean of elements across ``axis`` (integer inputs give a truncated integer mean)."""
    return _reduce(mean_p, input_tensor, axis, keepdims, "fciu")


def _empty_fill(xp, x, axes, keepdims, fill):
    shape = [1 if (axes is None or i in axes) else s for i, s in enumerate(x.shape)]
    if not keepdims:
        shape = [s for i, s in enumerate(x.shape) if not (axes is None or i in axes)]
    return xp.full(shape, fill, dtype=x.dtype)


def _extreme(name, fn, lowest):
    def forward(d, x, *, axes, keepdims):
        xp = d.xp
        if x.size == 0:
            if x.dtype.kind in "iu":
                info = xp.iinfo(x.dtype)
                fill = info.min if lowest else info.max
            else:
                fill = -xp.inf if lowest else xp.inf
            return _empty_fill(xp, x, axes, keepdims, fill)
        return fn(x, axis=axes, keepdims=keepdims)

    p = primitive(name)(forward)

    @p.defgrad
    def grad(inputs, out, dy, *, axes, keepdims):
        # ties share the gradient evenly, as TF
        x = inputs[0]
        peak = _expand_back(out, x, axes, keepdims)
        mask = m.cast(m.equal(x, peak), dy.dtype)
        count = reduce_sum(mask, axis=axes, keepdims=True)
        return m.divide(m.multiply(_expand_back(dy, x, axes, keepdims), mask), count)

    def op(input_tensor, axis=None, keepdims=False, name=None):
        return _reduce(p, input_tensor, axis, keepdims, "fiu")
    op.__doc__ = (f"{'Maximum' if lowest else 'Minimum'} of elements across ``axis`` "
                  "(ties share the gradient).")
    return p, _axis_reads(op)


max_p, reduce_max = _extreme("Max", lambda x, **kw: x.max(**kw), True)
min_p, reduce_min = _extreme("Min", lambda x, **kw: x.min(**kw), False)


@primitive("Prod")
def prod_p(d, x, *, axes, keepdims):
    with np.errstate(over="ignore", invalid="ignore"):   # past the range: inf, as TF
        return d.xp.prod(x, axis=axes, keepdims=keepdims, dtype=x.dtype)


@prod_p.defgrad
def _prod_grad(inputs, out, dy, *, axes, keepdims):
    # d prod / dx_i = product of the others: exclusive cumprods from both ends of the
    # flattened reduced axes, so zeros in x are handled exactly
    a = _array()
    x = inputs[0]
    shape = tuple(x._value.shape)
    red = tuple(range(len(shape))) if axes is None else axes
    keep = tuple(i for i in range(len(shape)) if i not in red)
    perm = red + keep
    xt = a.transpose(x, perm)
    n_red = 1
    for i in red:
        n_red *= shape[i]
    n_keep = 1
    for i in keep:
        n_keep *= shape[i]
    flat = a.reshape(xt, (n_red, n_keep))
    others = m.multiply(cumprod(flat, axis=0, exclusive=True),
                        cumprod(flat, axis=0, exclusive=True, reverse=True))
    if others.dtype.is_complex:   # dy * conj(d prod / dx), TF's convention
        others = m.conj(others)
    others = a.reshape(others, tuple(xt._value.shape))
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    others = a.transpose(others, inverse)
    return m.multiply(_expand_back(dy, x, axes, keepdims), others)


@_axis_reads
def reduce_prod(input_tensor, axis=None, keepdims=False, name=None):
    """Product of elements across ``axis`` (gradient exact also where x has zeros)."""
    return _reduce(prod_p, input_tensor, axis, keepdims, "fciu")


def _logical_reduce(name, fn):
    p = primitive(name)(lambda d, x, *, axes, keepdims: fn(d.xp)(x, axis=axes,
                                                                keepdims=keepdims))
    p.static_shape = _reduced_static_shape

    def op(input_tensor, axis=None, keepdims=False, name=None):
        x = t(input_tensor)
        if x._value.dtype.kind != "b":
            raise DTypeMismatchError(
                f"cannot compute {p.name} as input #0(zero-based) was expected to be a "
                f"bool tensor but is a {x.dtype.name} tensor [Op:{p.name}]")
        axes = _axes(axis, x._value.ndim, p.name)
        return call(p, (x,), {"axes": axes, "keepdims": bool(keepdims)})
    op.__doc__ = (f"Logical {'OR' if name == 'Any' else 'AND'} of a bool tensor across "
                  "``axis``.")
    return _axis_reads(op)


for _p in (sum_p, mean_p, max_p, min_p, prod_p):
    _p.static_shape = _reduced_static_shape

reduce_any = _logical_reduce("Any", lambda xp: xp.any)
reduce_all = _logical_reduce("All", lambda xp: xp.all)


# ---------------------------------------------------------------- composites
@_axis_reads
def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None):
    """log(sum(exp(x))) across ``axis``, computed stably by subtracting the maximum.

    Empty reductions give -inf; all -inf inputs give -inf; +inf inputs give +inf.
    """
    x = t(input_tensor)
    m._check("ReduceLogSumExp", x, "f")
    peak = reduce_max(x, axis=axis, keepdims=True)
    # a non-finite peak (empty, all -inf, some +inf) is replaced by 0 so exp stays sane
    peak = _array().stop_gradient(m.where(m.is_finite(peak), peak, m.zeros_like(peak)))
    total = reduce_sum(m.exp(m.subtract(x, peak)), axis=axis, keepdims=True)
    out = m.add(m.log(total), peak)
    if not keepdims:
        axes = _axes(axis, x._value.ndim, "ReduceLogSumExp")
        shape = [s for i, s in enumerate(x._value.shape)
                 if axes is not None and i not in axes]
        out = _array().reshape(out, shape)
    return out


def _check_real_or_complex(x):
    if m._kind(x) not in "fc":
        raise TypeError(f"Input must be either real or complex. Received integer type "
                        f"{x.dtype}.")


@_axis_reads
def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """Population variance across ``axis`` (real result for complex inputs).

    Raises:
      TypeError: for integer inputs, as TF.
    """
    x = t(input_tensor)
    _check_real_or_complex(x)
    centered = m.subtract(x, reduce_mean(x, axis=axis, keepdims=True))
    if m._kind(x) == "c":
        sq = m.real(m.multiply(centered, m.conj(centered)))
    else:
        sq = m.square(centered)
    return reduce_mean(sq, axis=axis, keepdims=keepdims)


@_axis_reads
def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """Population standard deviation across ``axis``."""
    return m.sqrt(reduce_variance(input_tensor, axis=axis, keepdims=keepdims))


@_axis_reads
def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    """sqrt(sum(x**2)) across ``axis`` (integer inputs give a truncated integer norm)."""
    x = t(input_tensor)
    kind = m._kind(x)
    if kind in "iu":
        sq = reduce_sum(m.square(m.cast(x, dtypes.float64)), axis=axis, keepdims=keepdims)
        return m.cast(m.sqrt(sq), x.dtype)
    if kind == "c":
        sq = m.real(m.multiply(x, m.conj(x)))
        return m.cast(m.sqrt(reduce_sum(sq, axis=axis, keepdims=keepdims)), x.dtype)
    m._check("EuclideanNorm", x, "f")
    return m.sqrt(reduce_sum(m.square(x), axis=axis, keepdims=keepdims))


@reads_values("axis", "keepdims")
def count_nonzero(input, axis=None, keepdims=None, dtype=dtypes.int64,  # noqa: A002
                  name=None):
    """Number of non-zero (True, non-empty) elements across ``axis``, as ``dtype``."""
    x = t(input)
    nonzero = m.not_equal(x, False if x._value.dtype.kind == "b" else
                          ("" if x._value.dtype.kind == "O" else 0))
    return reduce_sum(m.cast(nonzero, dtype), axis=axis, keepdims=bool(keepdims))


# ---------------------------------------------------------------- top_k
TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])


@primitive("TopKIndices")
def _top_k_indices_p(d, x, *, k, dtype):
    xp = d.xp
    n = x.shape[-1]
    # a stable ascending sort of the reversed row, read backwards, orders values
    # descending with ties in ascending index order (TF's order)
    stable = {} if d.is_gpu else {"kind": "stable"}  # CuPy sorts are always stable
    from dlframe.ops.sorting import sortable   # bound late (no import cycle at load)
    order = xp.argsort(xp.flip(sortable(x), -1), axis=-1, **stable)[..., ::-1][..., :k]
    return xp.ascontiguousarray((n - 1 - order).astype(dtype))


_top_k_indices_p.static_shape = lambda in_dims, attrs: in_dims[0][:-1] + [attrs["k"]]


@primitive("GatherLast")
def _gather_last_p(d, x, idx):
    return d.xp.take_along_axis(x, idx.astype(d.xp.int64), axis=-1)


_gather_last_p.static_shape = lambda in_dims, attrs: (
    merge_dims(in_dims[0][:-1], in_dims[1][:-1]) + in_dims[1][-1:])


@_gather_last_p.defgrad
def _gather_last_grad(inputs, out, dy):
    x, idx = inputs
    return call(_scatter_last_p, (dy, idx), {"n": x._value.shape[-1]}), None


@primitive("ScatterLast")
def _scatter_last_p(d, dy, idx, *, n):
    xp = d.xp
    lead = dy.shape[:-1]
    k = dy.shape[-1]
    rows = 1
    for s in lead:
        rows *= s
    out = xp.zeros((rows, n), dtype=dy.dtype)
    if rows and k:
        r = xp.arange(rows)[:, None]
        out[r, idx.reshape(rows, k).astype(xp.int64)] = dy.reshape(rows, k)
    return out.reshape(lead + (n,))


@_scatter_last_p.defgrad
def _scatter_last_grad(inputs, out, dy, *, n):
    return call(_gather_last_p, (dy, inputs[1])), None


def _top_k_dims(input, *_args, **_kwargs):  # noqa: A002
    """TF's static shapes of ``top_k`` by a traced ``k``: the last dim unknown."""
    dims = graph_dims(t(input))
    if getattr(dims, "unknown_rank", False) or not dims:
        return None
    return [list(dims[:-1]) + [None], list(dims[:-1]) + [None]]


@reads_values("k", static_shape=_top_k_dims)
def top_k(input, k=1, sorted=True, index_type=dtypes.int32, name=None):  # noqa: A002
    """The ``k`` largest entries along the last axis and their indices.

    Args:
      input: a real tensor of rank >= 1.
      k: number of entries to keep (0 <= k <= last dimension).
      sorted: results are always sorted descending (equal values by index).
      index_type: int32 (default) or int64 for ``indices``.

    Returns:
      A ``TopKV2(values, indices)`` namedtuple.
    """
    x = t(input)
    m._check("TopKV2", x, "fiu")
    if isinstance(k, Tensor):
        k = int(k.numpy())
    k = int(k)
    shape = x._value.shape
    if not shape:
        raise InvalidArgumentError(f"TopKV2: input must be >= 1-D, got shape {list(shape)} "
                                   "[Op:TopKV2]")
    if k < 0:
        raise InvalidArgumentError(f"TopKV2: Need k >= 0, got {k} [Op:TopKV2]")
    if shape[-1] < k:
        raise InvalidArgumentError(f"TopKV2: input must have at least k columns. Had "
                                   f"{shape[-1]}, needed {k} [Op:TopKV2]")
    idx = call(_top_k_indices_p, (x,), {"k": k, "dtype": dtypes.as_dtype(index_type)._np})
    return TopKV2(call(_gather_last_p, (x, idx)), idx)


def in_top_k(targets, predictions, k, name=None):
    """Whether each ``targets[i]`` is among the ``k`` largest ``predictions[i]``.

    Ties count as in the top k (TF's rule); a non-finite target row, or a target
    outside ``[0, num_classes)``, gives False.
    """
    preds = t(predictions)
    tgt = t(targets)
    classes = preds._value.shape[-1]
    valid = m.logical_and(m.greater_equal(tgt, 0), m.less(tgt, classes))
    safe = m.minimum(m.maximum(tgt, 0), max(classes - 1, 0))
    score = call(_gather_last_p, (preds, _array().reshape(safe, [-1, 1])))
    greater_count = reduce_sum(m.cast(m.greater(preds, score), dtypes.int32), axis=1)
    finite = m.is_finite(_array().reshape(score, [-1]))
    return m.logical_and(m.logical_and(m.less(greater_count, int(k)), finite), valid)


__all__ = ["argmax", "argmin", "cumsum", "reduce_all", "reduce_any", "reduce_logsumexp",
           "reduce_max", "reduce_mean", "reduce_min", "reduce_prod", "reduce_sum"]
MATH_NAMES = ["argmax", "argmin", "count_nonzero", "cumprod", "cumsum",
              "cumulative_logsumexp", "in_top_k", "reduce_all", "reduce_any",
              "reduce_euclidean_norm", "reduce_logsumexp", "reduce_max", "reduce_mean",
              "reduce_min", "reduce_prod", "reduce_std", "reduce_sum", "reduce_variance",
              "top_k"]
NN_NAMES = ["top_k", "in_top_k"]
