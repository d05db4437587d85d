"""Sorting and set ops: sort, argsort, unique, unique_with_counts, searchsorted."""

import collections

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, _tracing_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops._util import one_axis, t
from dlframe.ops.array import transpose
from dlframe.ops.array_index import gather, gather_dense_grad
from dlframe.ops.logic import _check

Unique = collections.namedtuple("Unique", ["y", "idx"])
UniqueWithCounts = collections.namedtuple("UniqueWithCounts", ["y", "idx", "count"])


def sortable(x):
    """``x`` in a dtype a device can sort: bfloat16/float8 (ml_dtypes), which CuPy
    cannot sort, as float32 (it holds each value exactly, in the same order)."""
    return x.astype("float32") if x.dtype.kind == "V" else x


@primitive("ArgSort")
def argsort_p(d, x, *, descending, dtype):
    xp = d.xp
    x = sortable(x)
    if not descending:
        return xp.argsort(x, axis=-1, kind="stable").astype(dtype, copy=False)
    # stable descending order: sort the reversed row ascending, then map back
    n = x.shape[-1]
    rev = xp.argsort(x[..., ::-1], axis=-1, kind="stable")[..., ::-1]
    return (n - 1 - rev).astype(dtype)


def _direction(direction):
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(f"Argument `direction` should be one of ASCENDING, DESCENDING. "
                         f"Received: direction={direction}")
    return direction == "DESCENDING"


def _to_last(x, axis, op):
    _check(op, x, "fiu")   # TF sorts real numbers only (no bool, string, complex)
    nd = x._value.ndim
    if nd == 0:
        raise InvalidArgumentError(f"{op}: input must be at least rank 1, got a scalar")
    if isinstance(axis, Tensor) and _tracing_tensor(axis):
        raise ValueError(f"Argument `axis` must be a constant scalar. Received: "
                         f"axis={axis!r}.")
    a = one_axis(axis, nd, op)
    perm = None
    if a != nd - 1:
        perm = list(range(nd))
        perm[a], perm[-1] = perm[-1], perm[a]
        x = transpose(x, perm)
    return x, perm


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    """Indices (int32) that sort ``values`` along ``axis``; ties keep input order.

    Args:
      values: a numeric Tensor.
      axis: the sorted dimension (default last).
      direction: "ASCENDING" or "DESCENDING".
      stable: accepted for TF compatibility; the sort is always stable.
    """
    desc = _direction(direction)
    x, perm = _to_last(t(values), axis, "ArgSort")
    idx = call(argsort_p, (x,), {"descending": desc, "dtype": dtypes.int32._np})
    return transpose(idx, perm) if perm else idx


def sort(values, axis=-1, direction="ASCENDING", name=None):
    """``values`` sorted along ``axis`` (differentiable: gradients follow the order).

    Args:
      values: a numeric Tensor.
      axis: the sorted dimension (default last).
      direction: "ASCENDING" or "DESCENDING".
    """
    desc = _direction(direction)
    x, perm = _to_last(t(values), axis, "Sort")
    idx = call(argsort_p, (x,), {"descending": desc, "dtype": dtypes.int64._np})
    nd = x._value.ndim
    if nd == 1:   # TF's gradient of a sort is dense, never IndexedSlices
        out = gather_dense_grad(x, idx)
    else:
        out = gather(x, idx, axis=nd - 1, batch_dims=nd - 1)
    return transpose(out, perm) if perm else out


@primitive("UniqueWithCounts", n_out=3)
def unique_p(d, x, *, dtype):
    xp = d.xp
    keys = sortable(x)
    # as TF's hash map, every NaN is an element of its own (NaN != NaN)
    distinct_nans = {"equal_nan": False} if keys.dtype.kind in "fc" and bool(
        xp.isnan(keys).any()) else {}
    uniq, first, inverse, counts = xp.unique(keys, return_index=True, return_inverse=True,
                                             return_counts=True, **distinct_nans)
    uniq = uniq.astype(x.dtype, copy=False)
    order = xp.argsort(first, kind="stable")  # TF keeps first-occurrence order
    rank = xp.empty_like(order)
    rank[order] = xp.arange(order.size)
    return (uniq[order], rank[inverse.reshape(-1)].astype(dtype),
            counts[order].astype(dtype))


unique_p.value_shaped = True   # its output size depends on input values
unique_p.static_shape = lambda in_dims, attrs: [[None], list(in_dims[0]), [None]]


def _unique(x, out_idx, op):
    x = t(x)
    if x._value.ndim != 1:
        raise InvalidArgumentError(f"{op}: unique expects a 1D vector, got shape "
                                   f"{list(x._value.shape)} [Op:{op}]")
    out_idx = dtypes.as_dtype(out_idx)
    if out_idx not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"{op}: out_idx must be int32 or int64, got {out_idx.name}")
    return call(unique_p, (x,), {"dtype": out_idx._np})


def unique(x, out_idx=dtypes.int32, name=None):
    """Unique elements of 1-D ``x`` in order of first occurrence.

    Returns:
      ``Unique(y, idx)`` with ``x == gather(y, idx)``.
    """
    y, idx, _ = _unique(x, out_idx, "Unique")
    return Unique(y, idx)


def unique_with_counts(x, out_idx=dtypes.int32, name=None):
    """Like ``unique``, plus how often each unique element occurs.

    Returns:
      ``UniqueWithCounts(y, idx, count)``.
    """
    y, idx, count = _unique(x, out_idx, "UniqueWithCounts")
    return UniqueWithCounts(y, idx, count)


@primitive("SearchSorted")
def searchsorted_p(d, seq, values, *, right, dtype):
    xp = d.xp
    side = "right" if right else "left"
    if seq.ndim == 1:
        return xp.searchsorted(seq, values, side=side).astype(dtype)
    rows_s = seq.reshape(-1, seq.shape[-1])
    rows_v = values.reshape(-1, values.shape[-1])
    out = xp.empty(rows_v.shape, dtype=dtype)
    for i in range(rows_s.shape[0]):
        out[i] = xp.searchsorted(rows_s[i], rows_v[i], side=side)
    return out.reshape(values.shape)


def searchsorted(sorted_sequence, values, side="left", out_type=dtypes.int32, name=None):
    """Insertion points of ``values`` into the rows of ``sorted_sequence``.

    Args:
      sorted_sequence: N-D tensor sorted along its last dimension.
      values: N-D tensor with as many rows (the product of the leading dimensions).
      side: "left" (first suitable index) or "right" (last).
      out_type: int32 or int64.
    """
    seq = t(sorted_sequence)
    from dlframe.core.tensor import as_operand
    vals = as_operand(values, seq)
    if side not in ("left", "right"):
        raise ValueError(f"Argument `side` must be either 'right' or 'left'. Received: "
                         f"`side` = {side}.")
    # as TF, both are read as rows of their last dimension: the row counts must match
    if seq._value.ndim == 0 or vals._value.ndim == 0 or \
            np.prod(seq._value.shape[:-1]) != np.prod(vals._value.shape[:-1]):
        raise InvalidArgumentError(
            f"SearchSorted: Leading dim(s) must match: sorted_sequence shape "
            f"{list(seq._value.shape)}, values shape {list(vals._value.shape)}")
    return call(searchsorted_p, (seq, vals), {"right": side == "right",
                                              "dtype": dtypes.as_dtype(out_type)._np})


__all__ = ["argsort", "searchsorted", "sort", "unique", "unique_with_counts"]
