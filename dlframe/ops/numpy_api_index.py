"""NumPy-style indexing and selection: ``take``, ``take_along_axis``, ``where``,
``nonzero``, ``tril``/``triu``, ``diag``/``diagonal``/``trace``, ``meshgrid``,
``select``, ``searchsorted``, ``digitize``, ``bincount``, ``unravel_index``.
"""

from dlframe.core import dtypes
from dlframe.ops import array as _a
from dlframe.ops import array_index as _ai
from dlframe.ops import counting as _cnt
from dlframe.ops import creation as _c
from dlframe.ops import linalg as _la
from dlframe.ops import math as _m
from dlframe.ops import reduction as _r
from dlframe.ops import sorting as _s
from dlframe.ops.numpy_api import as_tensor, default_int, dtype_kind, promote
from dlframe.ops.numpy_api_shape import _axis, moveaxis

_pyslice = slice


def _wrap_negative(idx, n):
    idx = as_tensor(idx)
    if dtype_kind(idx) not in "iu":
        raise TypeError(f"indices must be integers, got a {idx.dtype.name} tensor")
    if dtype_kind(idx) == "u":
        return idx
    return _m.where(_m.less(idx, 0), _m.add(idx, _m.cast(n, idx.dtype)), idx)


def take(x, indices, axis=None):
    """Elements of ``x`` at ``indices`` along ``axis`` (of the flattened input when
    None); negative indices count from the end.

    Args:
      x: input tensor.
      indices: integer indices.
      axis: int or None.
    """
    x = as_tensor(x)
    if axis is None:   # a flattened take's gradient is dense, as in TF
        x = _a.reshape(x, [-1])
        return _ai.gather_dense_grad(x, _wrap_negative(indices, x._value.shape[0]))
    ax = _axis(axis, x._value.ndim, "take")
    return _ai.gather(x, _wrap_negative(indices, x._value.shape[ax]), axis=ax)


def take_along_axis(x, indices, axis=None):
    """Picks values of ``x`` by matching ``indices`` along ``axis`` (NumPy's
    broadcasting rule for the other axes).

    Args:
      x: input tensor.
      indices: integer tensor of the same rank as ``x``.
      axis: int or None (flattened input).
    """
    x = as_tensor(x)
    idx = as_tensor(indices)
    if axis is None:
        x, idx, axis = _a.reshape(x, [-1]), _a.reshape(idx, [-1]), 0
    nd = x._value.ndim
    ax = _axis(axis, nd, "take_along_axis")
    idx = _wrap_negative(idx, x._value.shape[ax])
    if idx._value.ndim != nd:
        raise ValueError(f"take_along_axis: `indices` must have the rank of `x` ({nd}), "
                         f"got shape {tuple(idx._value.shape)}")
    xm, im = moveaxis(x, ax, -1), moveaxis(idx, ax, -1)
    lead = [max(a, b) for a, b in zip(xm._value.shape[:-1], im._value.shape[:-1])]
    xm = _a.broadcast_to(xm, tuple(lead) + (xm._value.shape[-1],))
    im = _a.broadcast_to(im, tuple(lead) + (im._value.shape[-1],))
    out = _ai.gather(xm, im, axis=nd - 1, batch_dims=nd - 1)
    return moveaxis(out, -1, ax)


def _truthy(x):
    x = as_tensor(x)
    return x if dtype_kind(x) == "b" else _m.not_equal(x, _m.zeros_like(x))


def nonzero(x):
    """A list with the indices of non-zero elements, one tensor per axis (TF's
    tnp/Keras return a list where NumPy returns a tuple).

    Args:
      x: input tensor.
    """
    coords = _m.cast(_m.where(_truthy(x)), default_int())
    return list(_a.unstack(coords, num=coords._value.shape[1], axis=1))


def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` else ``x2`` (broadcasting, promoted dtypes); with
    only ``condition``, the ``nonzero`` indices.

    Args:
      condition: bool (or truthy) tensor.
      x1: values where true.
      x2: values where false.
    """
    if x1 is None and x2 is None:
        return nonzero(condition)
    if x1 is None or x2 is None:
        raise ValueError("where: `x1` and `x2` must both be given or both be None")
    a, b = promote(x1, x2)
    cond = _truthy(condition)
    shape = _broadcast_shape(cond, a, b)
    return _m.where(_a.broadcast_to(cond, shape), _a.broadcast_to(a, shape),
                    _a.broadcast_to(b, shape))


def _broadcast_shape(*xs):
    shape = ()
    for x in xs:
        shape = _bshape(shape, tuple(x._value.shape))
    return shape


def _bshape(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for p, q in zip(a, b):
        if p != q and 1 not in (p, q):
            raise ValueError(f"shapes {a} and {b} cannot be broadcast together")
        out.append(q if p == 1 else p)
    return tuple(out)


def select(condlist, choicelist, default=0):
    """Elements from ``choicelist[i]`` for the first true ``condlist[i]``, else
    ``default``.

    Args:
      condlist: list of bool tensors.
      choicelist: list of value tensors.
      default: value where no condition holds.
    """
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: `condlist` and `choicelist` must have the same "
                         f"length, got {len(condlist)} and {len(choicelist)}")
    *choices, out = promote(*choicelist, default)
    for cond, choice in reversed(list(zip(condlist, choices))):
        out = where(cond, choice, out)
    return out


def _band(x, k, lower):
    x = as_tensor(x)
    rows, cols = x._value.shape[-2:]
    r = _a.reshape(_c.range(rows, dtype=dtypes.int32), [-1, 1])
    c = _a.reshape(_c.range(cols, dtype=dtypes.int32), [1, -1])
    d = _m.subtract(c, r)
    keep = _m.less_equal(d, int(k)) if lower else _m.greater_equal(d, int(k))
    return _m.where(_a.broadcast_to(keep, tuple(x._value.shape)), x, _m.zeros_like(x))


def tril(x, k=0):
    """The lower triangle of the last two axes (elements above diagonal ``k`` zeroed).

    Args:
      x: tensor of rank >= 2.
      k: diagonal offset.
    """
    return _band(x, k, True)


def triu(x, k=0):
    """The upper triangle of the last two axes (elements below diagonal ``k`` zeroed).

    Args:
      x: tensor of rank >= 2.
      k: diagonal offset.
    """
    return _band(x, k, False)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The ``offset`` diagonal of the ``(axis1, axis2)`` planes, on the last axis.

    Args:
      x: tensor of rank >= 2.
      offset: diagonal offset (positive: above the main diagonal).
      axis1: first axis of the planes.
      axis2: second axis of the planes.
    """
    x = moveaxis(as_tensor(x), (axis1, axis2), (-2, -1))
    key = [_pyslice(None)] * x._value.ndim
    if offset >= 0:
        key[-1] = _pyslice(int(offset), None)
    else:
        key[-2] = _pyslice(-int(offset), None)
    x = x[tuple(key)]
    if 0 in x._value.shape[-2:]:
        return _a.reshape(x, list(x._value.shape[:-2]) + [0])
    return _la.diag_part(x)


def diag(x, k=0):
    """The ``k``-th diagonal of a 2-D ``x``, or a 2-D matrix with 1-D ``x`` on its
    ``k``-th diagonal.

    Args:
      x: 1-D or 2-D tensor.
      k: diagonal offset.
    """
    x = as_tensor(x)
    if x._value.ndim == 2:
        return diagonal(x, k)
    if x._value.ndim != 1:
        raise ValueError(f"diag: `x` must be 1-D or 2-D, got shape "
                         f"{tuple(x._value.shape)}")
    m = _la.diag(x)
    k = int(k)
    if k == 0:
        return m
    pads = [[0, k], [k, 0]] if k > 0 else [[-k, 0], [0, -k]]
    return _a.pad(m, pads)


def diagflat(x, k=0):
    """A 2-D matrix with the flattened ``x`` on diagonal ``k``.

    Args:
      x: input tensor.
      k: diagonal offset.
    """
    return diag(_a.reshape(as_tensor(x), [-1]), k)


def trace(x, offset=0, axis1=0, axis2=1):
    """Sum along the ``offset`` diagonal of the ``(axis1, axis2)`` planes.

    Args:
      x: tensor of rank >= 2.
      offset: diagonal offset.
      axis1: first axis of the planes.
      axis2: second axis of the planes.
    """
    d = diagonal(x, offset, axis1, axis2)
    if dtype_kind(d) in "bi" and d._value.dtype.itemsize < 4:
        d = _m.cast(d, default_int())
    return _r.reduce_sum(d, axis=-1)


def meshgrid(*x, indexing="xy"):
    """Coordinate matrices from 1-D coordinate vectors.

    Args:
      *x: 1-D tensors.
      indexing: 'xy' (Cartesian) or 'ij' (matrix).
    """
    return _a.meshgrid(*promote(*x), indexing=indexing)


def searchsorted(sorted_sequence, values, side="left"):
    """Insertion indices of ``values`` into the 1-D ``sorted_sequence``.

    Args:
      sorted_sequence: ascending 1-D tensor.
      values: values of any shape.
      side: 'left' or 'right'.
    """
    seq, vals = promote(sorted_sequence, values)
    if seq._value.ndim != 1:
        raise ValueError(f"searchsorted: `sorted_sequence` must be 1-D, got shape "
                         f"{tuple(seq._value.shape)}")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: `side` must be 'left' or 'right', got {side!r}")
    out = _s.searchsorted(_a.reshape(seq, [1, -1]), _a.reshape(vals, [1, -1]), side=side,
                          out_type=default_int())
    return _a.reshape(out, tuple(vals._value.shape))


def digitize(x, bins):
    """Index of the bin (``bins`` ascending) each value falls in.

    Args:
      x: input tensor.
      bins: ascending 1-D bin edges.
    """
    return searchsorted(bins, x, side="right")


def bincount(x, weights=None, minlength=0, sparse=False):
    """Counts of each non-negative integer in 1-D ``x`` (weighted sums with
    ``weights``).

    Args:
      x: non-negative int tensor.
      weights: optional weights, same shape as ``x``.
      minlength: minimum output length.
      sparse: must be False.
    """
    if sparse:
        raise ValueError("bincount: sparse=True is not supported")
    x = as_tensor(x)
    w = None if weights is None else as_tensor(weights)
    dtype = w.dtype if w is not None else default_int()
    return _cnt.bincount(x, weights=w, minlength=int(minlength) or None, dtype=dtype)


def unravel_index(indices, shape):
    """Coordinate tensors of flat ``indices`` into an array of ``shape``.

    Args:
      indices: int tensor of flat indices.
      shape: the array shape.
    """
    idx = as_tensor(indices)
    out = []
    for dim in reversed(list(shape)):
        out.append(_m.floormod(idx, int(dim)))
        idx = _m.floordiv(idx, int(dim))
    return tuple(reversed(out))


__all__ = [
    "bincount", "diag", "diagflat", "diagonal", "digitize", "meshgrid", "nonzero",
    "searchsorted", "select", "take", "take_along_axis", "trace", "tril", "triu",
    "unravel_index", "where",
]
