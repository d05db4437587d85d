"""Shape broadcasting helpers, bitcast and fixed-width histograms:
broadcast_static_shape, broadcast_dynamic_shape, bitcast, histogram_fixed_width,
histogram_fixed_width_bins. None of them is differentiable (as in TF).
"""

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, _tracing_tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.errors import DTypeMismatchError, InvalidArgumentError
from dlframe.ops._util import probing_branch, stand_in, t
from dlframe.ops.math import cast


def _dims(shape):
    return "(" + ", ".join(str(d) for d in shape.as_list()) + ("," if shape.rank == 1
                                                               else "") + ")"


def broadcast_static_shape(shape_x, shape_y):
    """The broadcast shape of two TensorShapes (unknown dimensions allowed).

    Raises:
      ValueError: when the shapes cannot be broadcast.
    """
    x, y = TensorShape(shape_x), TensorShape(shape_y)
    if x.rank is None or y.rank is None:
        return TensorShape(None)
    a, b = x.as_list()[::-1], y.as_list()[::-1]
    out = []
    for i in range(max(len(a), len(b))):
        p = a[i] if i < len(a) else 1
        q = b[i] if i < len(b) else 1
        if p == 1 or p == q:
            out.append(q)
        elif q == 1 or q is None and p is not None:
            out.append(p)
        elif p is None:
            out.append(q)
        else:
            raise ValueError(
                "Incompatible shapes for broadcasting. Two shapes are compatible if for "
                "each dimension pair they are either equal or one of them is 1. "
                f"Received: {_dims(x)} and {_dims(y)}.")
    return TensorShape(out[::-1])


@primitive("BroadcastArgs")
def _broadcast_args_p(d, sx, sy):
    a, b = d.to_numpy(sx).tolist(), d.to_numpy(sy).tolist()
    try:
        shape = np.broadcast_shapes(tuple(a), tuple(b))
    except ValueError:
        raise InvalidArgumentError(
            f"Incompatible shapes: [{','.join(map(str, a))}] vs. "
            f"[{','.join(map(str, b))}] [Op:BroadcastArgs]") from None
    return d.xp.asarray(shape, dtype=sx.dtype)


def broadcast_dynamic_shape(shape_x, shape_y):
    """The broadcast shape of two 1-D int shape tensors, as a tensor of their dtype.

    Raises:
      InvalidArgumentError: when the shapes cannot be broadcast or their dtypes differ.
    """
    sx = shape_x if isinstance(shape_x, Tensor) else convert_to_tensor(
        shape_x, dtype=shape_y.dtype if isinstance(shape_y, Tensor) else dtypes.int32)
    sy = shape_y if isinstance(shape_y, Tensor) else convert_to_tensor(shape_y,
                                                                       dtype=sx.dtype)
    if sx.dtype != sy.dtype:
        raise DTypeMismatchError(
            f"cannot compute BroadcastArgs as input #1(zero-based) was expected to be a "
            f"{sx.dtype.name} tensor but is a {sy.dtype.name} tensor [Op:BroadcastArgs]")
    return call(_broadcast_args_p, (sx, sy))


_BITCAST_TYPES = "fiuc"
_BITCAST_NAMES = ("bfloat16, half, float, double, int64, int32, uint8, uint16, uint32, "
                  "uint64, int8, int16, complex64, complex128")


@primitive("Bitcast", aliases=True)
def _bitcast_p(d, x, *, dtype):
    src, dst = x.dtype.itemsize, np.dtype(dtype).itemsize
    if not x.flags.c_contiguous:
        x = x.copy()
    if src == dst:
        return x.view(dtype)
    if src > dst:
        return x.reshape(x.shape + (1,)).view(dtype)
    if x.ndim == 0 or x.shape[-1] * src != dst:
        raise InvalidArgumentError(
            f"Cannot bitcast from {x.dtype} to {np.dtype(dtype)}: the last dimension "
            f"must be {dst // src}, got shape {list(x.shape)} [Op:Bitcast]")
    return x.view(dtype).reshape(x.shape[:-1])


def bitcast(input, type, name=None):
    """Reinterprets the bytes of ``input`` as ``type``.

    Same element size: same shape. Smaller target elements add a last dimension of
    the size ratio; a larger target consumes a last dimension of that ratio.
    """
    x = t(input)
    want = dtypes.as_dtype(type)
    for dt in (x.dtype, want):
        if dt._np.kind not in _BITCAST_TYPES:
            raise InvalidArgumentError(f"Value for attr 'T' of {dt.name} is not in the "
                                       f"list of allowed values: {_BITCAST_NAMES}")
    return call(_bitcast_p, (x,), {"dtype": want._np})


@primitive("HistogramFixedWidthBins")
def _histogram_bins_p(d, values, value_range, *, nbins):
    xp = d.xp
    host = d.to_numpy(value_range).reshape(-1)
    if host.size != 2 or not host[0] < host[1]:
        if probing_branch():   # a trace's placeholder range: the run checks
            return stand_in(xp.zeros(values.shape, dtype="int64"))
        if host.size != 2:
            raise InvalidArgumentError(
                f"value_range should be a vector of 2 elements, got {host.size} "
                "[Op:HistogramFixedWidth]")
        raise InvalidArgumentError(
            f"value_range should satisfy value_range[0] < value_range[1], but got "
            f"'[{host[0]}, {host[1]}]' [Op:HistogramFixedWidth]")
    lo, hi = float(host[0]), float(host[1])
    scaled = (values.astype("float64") - lo) / (hi - lo) * nbins
    return xp.clip(xp.floor(scaled), 0, nbins - 1).astype("int64")


@primitive("HistogramFixedWidth")
def _histogram_p(d, values, value_range, *, nbins, dtype):
    bins = _histogram_bins_p.forward(d, values, value_range, nbins=nbins)
    return d.xp.bincount(bins.reshape(-1), minlength=nbins).astype(dtype)


def _histogram_args(values, value_range, nbins):
    v = t(values)
    r = value_range if isinstance(value_range, Tensor) else convert_to_tensor(
        value_range, dtype=v.dtype)
    n = int(nbins)
    if n <= 0:
        raise InvalidArgumentError(f"nbins should be a positive number, but got '{n}' "
                                   "[Op:HistogramFixedWidth]")
    if r._value.ndim != 1 or (r._value.shape[0] != 2 and not _tracing_tensor(r)):
        raise InvalidArgumentError(
            f"value_range should be a vector of 2 elements, got shape "
            f"{list(r._value.shape)} [Op:HistogramFixedWidth]")
    return v, r, n


def histogram_fixed_width(values, value_range, nbins=100, dtype=dtypes.int32, name=None):
    """Counts of ``values`` in ``nbins`` equal bins over ``value_range`` ``[lo, hi]``;
    values below ``lo`` count in the first bin, values from ``hi`` up in the last.

    Args:
      values: a numeric tensor.
      value_range: ``[lo, hi]`` with ``lo < hi``, of the dtype of ``values``.
      nbins: the number of bins (a positive int).
      dtype: int32 or int64 counts.
    """
    v, r, n = _histogram_args(values, value_range, nbins)
    return call(_histogram_p, (v, r), {"nbins": n, "dtype": dtypes.as_dtype(dtype)._np})


def histogram_fixed_width_bins(values, value_range, nbins=100, dtype=dtypes.int32,
                               name=None):
    """The bin index of each of ``values`` (the bins of ``histogram_fixed_width``)."""
    v, r, n = _histogram_args(values, value_range, nbins)
    return cast(call(_histogram_bins_p, (v, r), {"nbins": n}), dtype)


__all__ = ["bitcast", "broadcast_dynamic_shape", "broadcast_static_shape",
           "histogram_fixed_width", "histogram_fixed_width_bins"]
