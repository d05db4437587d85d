"""Tensor creation: zeros, ones, fill, range, linspace, eye, one_hot, sequence_mask."""

import math as _pymath

from dlframe import backends
from dlframe.backends.base import np
from dlframe.core import basic, dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.static_dims import (
    graph_dims,
    note_shaped,
    note_sized,
    shape_arg_static,
)
from dlframe.core.tensor import Tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops import dynamic_shape as _dyn
from dlframe.ops._util import operands, static_shape, t
from dlframe.ops.late_bound import reads_values


def _creation_dtype(dtype, default=dtypes.float32):
    return dtypes.as_dtype(dtype) if dtype is not None else default


@primitive("Fill")
def fill_p(d, *, shape, value, dtype):
    return d.xp.full(shape, value, dtype=dtype)


def _checked_shape(shape_arg, op):
    shp = static_shape(shape_arg, op)
    if any(s < 0 for s in shp):
        raise InvalidArgumentError(f"{op}: shape must be non-negative, got {list(shp)}")
    return shp


def _filled(shape_arg, value, dtype, op):
    if _dyn.traced(shape_arg):   # sizes TF does not know (``[k]``): None dims
        return note_shaped(_dyn.fill(shape_arg, t(value, dtype) if not isinstance(
            value, Tensor) else value, op), shape_arg)
    # strings live in host memory (no GPU array holds them), as TF keeps them; under
    # a CPU scope (a logical '/CPU:1' too) they stay there
    device = backends.get_device("cpu:0") if dtype == dtypes.string and \
        backends.current_device().is_gpu else None
    return note_shaped(call(fill_p, (), {"shape": _checked_shape(shape_arg, op),
                                         "value": value, "dtype": dtype._np},
                            device=device), shape_arg)


def zeros(shape, dtype=dtypes.float32, name=None, layout=None):
    """A tensor of zeros.

    Args:
      shape: a list/tuple of ints, a TensorShape or a 1-D int tensor.
      dtype: the element type (default float32).
    """
    d = _creation_dtype(dtype)
    zero = False if d.is_bool else b"" if d == dtypes.string else 0
    return _filled(shape, zero, d, "Zeros")


def ones(shape, dtype=dtypes.float32, name=None, layout=None):
    """A tensor of ones.

    Args:
      shape: a list/tuple of ints, a TensorShape or a 1-D int tensor.
      dtype: the element type (default float32).
    """
    d = _creation_dtype(dtype)
    if d == dtypes.string:
        raise TypeError("Cannot convert 1 to EagerTensor of dtype string")
    return _filled(shape, True if d.is_bool else 1, d, "Ones")


def fill(dims, value, name=None, layout=None):
    """A tensor of shape ``dims`` filled with scalar ``value`` (dtype inferred from it).

    Args:
      dims: the output shape.
      value: a scalar; when it is a Tensor the result is differentiable w.r.t. it.
    """
    v = t(value)
    if v._value.ndim != 0:
        raise InvalidArgumentError(f"Fill: value must be a scalar, got shape "
                                   f"{list(v._value.shape)}")
    if isinstance(value, Tensor):
        if _dyn.traced(dims):
            return note_shaped(_dyn.fill(dims, v, "Fill"), dims)
        shp = _checked_shape(dims, "Fill")
        return note_shaped(basic.broadcast_to(v, shp), dims) if shp else v
    host = v._device.to_numpy(v._value)
    return _filled(dims, host.item() if host.dtype != object else host, v.dtype, "Fill")


# ---------------------------------------------------------------- sequences
_RANK = {"int32": 0, "int64": 1, "float32": 2, "float64": 3}


def _range_arg(v):
    """(host scalar, inferred dtype) of a range argument."""
    if isinstance(v, Tensor):
        if v._value.ndim != 0:
            raise InvalidArgumentError(f"Range: arguments must be scalars, got shape "
                                       f"{list(v._value.shape)}")
        return v.numpy().item(), v.dtype
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"Range: expected a number, got {v!r}")
    if isinstance(v, (int, np.integer)):
        if isinstance(v, np.integer):
            return int(v), dtypes.as_dtype(v.dtype)
        return int(v), dtypes.int32 if -2**31 <= v < 2**31 else dtypes.int64
    if isinstance(v, (float, np.floating)):
        return float(v), (dtypes.as_dtype(v.dtype) if isinstance(v, np.floating)
                          else dtypes.float32)
    raise TypeError(f"Range: expected a number or scalar tensor, got {v!r}")


@primitive("Range")
def range_p(d, *, start, limit, delta, dtype):
    return d.xp.arange(start, limit, delta, dtype=dtype)


def range(start, limit=None, delta=1, dtype=None, name="range"):
    """A 1-D sequence from ``start`` up to (not including) ``limit`` by ``delta``.

    Args:
      start: first value, or the limit when ``limit`` is None (then start is 0).
      limit: the exclusive upper (or lower, for negative delta) bound.
      delta: the increment (non-zero).
      dtype: the result type; default inferred from the arguments (ints give int32,
        floats float32, the widest argument wins).
    """
    if limit is None:
        start, limit = 0, start
    return note_sized(_range(start, limit, delta, dtype), start, limit, delta)


def _range(start, limit, delta, dtype):
    if any(_dyn.traced(v) for v in (start, limit, delta)):
        inferred = [v.dtype if isinstance(v, Tensor) else _range_arg(v)[1]
                    for v in (start, limit, delta)]
        out_dtype = dtypes.as_dtype(dtype) if dtype is not None else \
            max(inferred, key=lambda dt: _RANK.get(dt.name, 1))
        return _dyn.range_(start, limit, delta, out_dtype)
    vals = [_range_arg(v) for v in (start, limit, delta)]
    if dtype is None:
        inferred = [dt for _, dt in vals]
        out_dtype = max(inferred, key=lambda dt: _RANK.get(dt.name, 1))
    else:
        out_dtype = dtypes.as_dtype(dtype)
    (s, _), (lim, _), (dl, _) = vals
    if dl == 0:
        raise InvalidArgumentError(f"Range: Requires delta != 0: {dl} [Op:Range]")
    if dl > 0 and s > lim:
        raise InvalidArgumentError(f"Range: Requires start <= limit when delta > 0: "
                                   f"{s}/{lim} [Op:Range]")
    if dl < 0 and s < lim:
        raise InvalidArgumentError(f"Range: Requires start >= limit when delta < 0: "
                                   f"{s}/{lim} [Op:Range]")
    if out_dtype.is_integer:
        s, lim, dl = int(s), int(lim), int(dl)
    n = max(-((s - lim) // dl) if out_dtype.is_integer else _pymath.ceil((lim - s) / dl),
            0)
    if out_dtype.is_floating:
        # arange with a float step may produce one element too many from rounding
        return call(_linear_seq_p, (), {"start": s, "delta": dl, "n": n,
                                        "dtype": out_dtype._np})
    return call(range_p, (), {"start": s, "limit": lim, "delta": dl,
                              "dtype": out_dtype._np})


@primitive("RangeFloat")
def _linear_seq_p(d, *, start, delta, n, dtype):
    xp = d.xp
    return (start + delta * xp.arange(n, dtype="float64")).astype(dtype)


@primitive("LinSpace")
def linspace_p(d, start, stop, *, num, axis):
    xp = d.xp
    return xp.linspace(start, stop, num, axis=axis).astype(start.dtype, copy=False)


@linspace_p.defgrad
def _linspace_grad(inputs, out, dy, *, num, axis):
    from dlframe.ops import math as m
    from dlframe.ops import reduction
    w = _linspace_weights(out, num, axis)
    g_stop = reduction.reduce_sum(m.multiply(dy, w), axis=axis)
    g_start = reduction.reduce_sum(m.multiply(dy, m.subtract(1.0, w)), axis=axis)
    return g_start, g_stop


def _linspace_weights(out, num, axis):
    shape = [1] * out._value.ndim
    shape[axis] = num
    w = _linear_seq_p_call(num, out.dtype, out._device)
    from dlframe.ops.array import reshape
    return reshape(w, shape)


def _linear_seq_p_call(num, dtype, device):
    step = 1.0 / (num - 1) if num > 1 else 0.0
    w = call(_linear_seq_p, (), {"start": 0.0, "delta": step, "n": num,
                                 "dtype": dtype._np}, device=device)
    return w


def _linspace_stand_in(start, stop, num, name=None, axis=0):
    """One value (a placeholder ``num`` that ``linspace`` refuses)."""
    return linspace(start, stop, 1, axis=axis)


@reads_values("num", stand_in=_linspace_stand_in, sizes_follow=True)
def linspace(start, stop, num, name=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive.

    Args:
      start, stop: scalars or tensors (broadcast together); integer inputs give
        float64 like TF.
      num: number of values (>= 1).
      axis: where the new dimension goes in the output.
    """
    start, stop = operands(start, stop, "LinSpace")
    if start._value.dtype.kind in "iu":
        from dlframe.ops.math import cast
        start, stop = cast(start, dtypes.float64), cast(stop, dtypes.float64)
    num = int(num)
    if num < 1:
        raise InvalidArgumentError(f"LinSpace: Requires num > 0: {num}")
    nd = max(start._value.ndim, stop._value.ndim) + 1
    if not -nd <= int(axis) < nd:
        raise InvalidArgumentError(f"LinSpace: axis {axis} out of range [{-nd}, {nd})")
    return call(linspace_p, (start, stop), {"num": num, "axis": int(axis) % nd})


lin_space = linspace


@primitive("Eye")
def eye_p(d, *, rows, cols, batch, dtype):
    xp = d.xp
    e = xp.eye(rows, cols, dtype=dtype)
    if batch:
        e = xp.broadcast_to(e, tuple(batch) + (rows, cols)).copy()
    return e


def _eye_static_dims(num_rows, num_columns=None, batch_shape=None, **_kwargs):
    """The dims TF knows of ``eye``'s result: None where a traced value sets them."""
    batch = [] if batch_shape is None else shape_arg_static(batch_shape)
    if batch is None:
        return None
    rows = None if isinstance(num_rows, Tensor) else int(num_rows)
    cols = rows if num_columns is None else (
        None if isinstance(num_columns, Tensor) else int(num_columns))
    return list(batch) + [rows, cols]


@reads_values("num_rows", "num_columns", "batch_shape", static_shape=_eye_static_dims)
def eye(num_rows, num_columns=None, batch_shape=None, dtype=dtypes.float32, name=None):
    """An identity matrix (or a batch of them).

    Args:
      num_rows: number of rows.
      num_columns: number of columns (default ``num_rows``).
      batch_shape: leading batch dimensions.
      dtype: element type (default float32).
    """
    rows = int(num_rows)
    cols = rows if num_columns is None else int(num_columns)
    if rows < 0 or cols < 0:
        raise InvalidArgumentError(f"Eye: num_rows and num_columns must be non-negative, "
                                   f"got {rows} and {cols}")
    batch = () if batch_shape is None else _checked_shape(batch_shape, "Eye")
    out = call(eye_p, (), {"rows": rows, "cols": cols, "batch": batch,
                           "dtype": _creation_dtype(dtype)._np})
    return note_sized(out, num_rows, num_columns)


@primitive("OneHot")
def one_hot_p(d, indices, *, depth, on, off, axis, dtype):
    xp = d.xp
    hot = indices[..., None] == xp.arange(depth, dtype=indices.dtype)
    out = xp.where(hot, xp.asarray(on, dtype=dtype), xp.asarray(off, dtype=dtype))
    if axis != out.ndim - 1:
        out = xp.ascontiguousarray(xp.moveaxis(out, -1, axis))
    return out


def _host_scalar(v):
    v = t(v)
    return np.asarray(v.numpy()).item(), v.dtype


def _one_hot_dims(indices, depth, on_value=None, off_value=None, axis=None,
                  dtype=None, name=None):
    """TF's static shape of ``one_hot`` by a traced ``depth``: the indices' dims
    with an unknown one at ``axis``."""
    dims = graph_dims(t(indices))
    if getattr(dims, "unknown_rank", False) or isinstance(axis, Tensor):
        return None
    dims = list(dims)
    pos = len(dims) if axis is None or int(axis) == -1 else int(axis)
    if not 0 <= pos <= len(dims):
        return None   # the op's own error
    dims.insert(pos, None)
    return dims


@reads_values("depth", static_shape=_one_hot_dims, sizes_follow=True)
def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None,
            name=None):
    """One-hot encoding: ``on_value`` where ``indices`` equals the position, else
    ``off_value`` (indices outside [0, depth) give an all-off row).

    Args:
      indices: integer tensor.
      depth: size of the one-hot dimension.
      on_value, off_value: scalars (default 1 and 0 of ``dtype``).
      axis: where the new dimension goes (default -1, the last).
      dtype: output type (default: that of on/off_value, else float32).
    """
    idx = t(indices)
    if idx._value.dtype.kind not in "iu":
        raise InvalidArgumentError(f"OneHot: indices must be integers, got {idx.dtype.name}")
    depth = int(depth)
    if depth < 0:
        raise InvalidArgumentError(f"OneHot: depth must be non-negative, got: {depth}")
    on = _host_scalar(on_value) if on_value is not None else None
    off = _host_scalar(off_value) if off_value is not None else None
    if on is not None and off is not None and dtype is None and on[1] != off[1]:
        raise TypeError(f"dtype {on[1]!r} of on_value does not match dtype {off[1]!r} of "
                        f"off_value")
    if dtype is not None:
        out_dtype = dtypes.as_dtype(dtype)
        for what, v in (("on_value", on), ("off_value", off)):
            if v is not None and isinstance(v[0], float) and not out_dtype.is_floating \
                    and not out_dtype.is_complex and v[0] != int(v[0]):
                raise TypeError(f"OneHot: {what} {v[0]} is not compatible with dtype "
                                f"{out_dtype.name}")
    elif on is not None:
        out_dtype = on[1]
    elif off is not None:
        out_dtype = off[1]
    else:
        out_dtype = dtypes.float32
    nd = idx._value.ndim + 1
    a = -1 if axis is None else int(axis)
    if not -1 <= a < nd:
        raise InvalidArgumentError(f"OneHot: Expected axis to be -1 or between [0, {nd}). "
                                   f"But received: {a}")
    return call(one_hot_p, (idx,), {
        "depth": depth, "on": 1 if on is None else on[0], "off": 0 if off is None else off[0],
        "axis": a % nd, "dtype": out_dtype._np})


one_hot_p.static_shape = lambda in_dims, attrs: (
    in_dims[0][:attrs["axis"]] + [attrs["depth"]] + in_dims[0][attrs["axis"]:])


@primitive("SequenceMask")
def sequence_mask_p(d, lengths, *, maxlen, dtype):
    xp = d.xp
    if maxlen is None:  # read at run time, so a compiled function stays correct
        maxlen = int(lengths.max()) if lengths.size else 0
    return (xp.arange(max(maxlen, 0)) < lengths[..., None]).astype(dtype, copy=False)


sequence_mask_p.static_shape = lambda in_dims, attrs: (
    None if attrs["maxlen"] is None else in_dims[0] + [attrs["maxlen"]])


@reads_values("maxlen", sizes_follow=True)
def sequence_mask(lengths, maxlen=None, dtype=dtypes.bool, name=None):
    """``mask[..., j] = j < lengths[...]``.

    Args:
      lengths: integer tensor of sequence lengths.
      maxlen: size of the last dimension (default ``max(lengths)``).
      dtype: output type (default bool).
    """
    lens = t(lengths)
    if lens._value.dtype.kind not in "iuf":
        raise InvalidArgumentError(f"SequenceMask: lengths must be integers, got "
                                   f"{lens.dtype.name}")
    if maxlen is not None:
        maxlen = int(maxlen)
        if maxlen < 0:
            raise InvalidArgumentError(f"SequenceMask: maxlen must be non-negative, got "
                                       f"{maxlen}")
    return call(sequence_mask_p, (lens,), {"maxlen": maxlen,
                                            "dtype": dtypes.as_dtype(dtype)._np})


__all__ = ["eye", "fill", "linspace", "one_hot", "ones", "range", "sequence_mask",
           "zeros"]

LINALG_NAMES = ["eye"]
