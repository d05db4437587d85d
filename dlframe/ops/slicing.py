"""Indexing and slicing: NumPy-style ``Tensor.__getitem__``, ``slice``, ``strided_slice``.

Every form lowers to one primitive whose static key holds ints, slices, None,
Ellipsis and slots for index tensors; its gradient scatters back into zeros.
"""

import operator

from dlframe.backends.base import np
from dlframe.core.primitive import STATE, call, primitive
from dlframe.core.static_dims import note_slice_sizes, note_unknown_axes
from dlframe.core.tensor import Tensor, _tracing_tensor, convert_to_tensor
from dlframe.errors import GraphInvalidArgumentError, InvalidArgumentError
from dlframe.ops._util import probing_branch, stand_in, static_shape, t

_pyslice = slice  # the builtin; this module's public `slice` is TF's op


class _Slot:
    """Placeholder for a tensor-valued part of an index key (an extra op input)."""

    __slots__ = ("i",)

    def __init__(self, i):
        self.i = i

    def __eq__(self, other):
        return isinstance(other, _Slot) and other.i == self.i

    def __hash__(self):
        return hash(("slot", self.i))

    def __repr__(self):
        return f"_Slot({self.i})"


def _build_key(key, arrays):
    return tuple(arrays[k.i] if isinstance(k, _Slot) else
                 _build_slice(k, arrays) if isinstance(k, _pyslice) else k for k in key)


def _build_slice(k, arrays):
    """A Python slice whose tensor-valued bounds (slots) take the run-time values."""
    parts = (k.start, k.stop, k.step)
    if not any(isinstance(v, _Slot) for v in parts):
        return k
    vals = [int(arrays[v.i]) if isinstance(v, _Slot) else v for v in parts]
    if vals[2] == 0:
        raise InvalidArgumentError("StridedSlice: slice step cannot be zero")
    return _pyslice(*vals)


@primitive("StridedSlice", aliases=True)
def getitem_p(d, x, *index_arrays, key, sizes=None):
    if index_arrays:
        full = _build_key(key, index_arrays)
        if probing_branch():
            x, full = _in_bounds(d, x, full)
        else:
            _check_indices(d, x, full)
        out = x[full]
    else:   # no slots: the static key indexes as it is
        out = x[key]
    if not hasattr(out, "ndim"):  # a string (object) array's element is Python bytes
        out = d.xp.asarray(out, dtype=x.dtype)
    return out


def _value_shaped(inputs, attrs):
    """Indexing with a boolean mask (x[mask], tf.boolean_mask) keeps a value-dependent
    count, and so does a slice with a tensor bound (x[a:a + n], a CutMix box); a
    scalar tensor index (x[i]) drops its dimension whatever its value."""
    return any(t._value.dtype.kind == "b" for t in inputs[1:]) or any(
        isinstance(v, _Slot)
        for k in attrs["key"] if isinstance(k, _pyslice)
        for v in (k.start, k.stop, k.step))


getitem_p.value_shaped = _value_shaped


def _getitem_static_shape(in_dims, attrs):
    """TF's static shape of ``x[key]`` from x's static dims (None: unknown): a sliced
    dimension is known only when x's is and the bounds are constants (``x[:2]`` of an
    unknown dimension may be shorter than 2); ``tf.slice`` sizes other than -1 are
    known. None (no rule) for advanced or boolean index arrays."""
    dims, key, sizes = in_dims[0], attrs["key"], attrs.get("sizes")
    if sizes is not None:   # tf.slice: (begin, begin + size) per dimension
        return [n if n != -1 else None if d is None else d - k.start
                for n, d, k in zip(sizes, dims, key)]
    if any(isinstance(k, _Slot) and in_dims[1 + k.i] for k in key):
        return None
    n_specified = sum(1 for k in key if k is not None and k is not Ellipsis)
    if Ellipsis not in key:
        key = key + (Ellipsis,)
    out, dim = [], 0
    for k in key:
        if k is Ellipsis:
            rest = len(dims) - n_specified
            out += dims[dim:dim + rest]
            dim += rest
        elif k is None:
            out.append(1)
        elif isinstance(k, _pyslice):
            d = dims[dim]
            constant = not any(isinstance(v, _Slot) for v in (k.start, k.stop, k.step))
            out.append(len(range(*k.indices(d))) if d is not None and constant else None)
            dim += 1
        else:   # an int or a scalar index tensor drops the dimension
            dim += 1
    return out


getitem_p.static_shape = _getitem_static_shape


def getitem_static_shape(dims, key):
    """TF's static shape (a list, None for unknown) of ``x[key]`` for an ``x`` of
    static ``dims``; None when the key holds index arrays (no static rule)."""
    stand_in = convert_to_tensor(np.zeros([2 if d is None else d for d in dims], "int8"))
    static, extra = _normalize_key(stand_in, key)
    return _getitem_static_shape(
        [list(dims)] + [list(e._value.shape) for e in extra], {"key": static})


@getitem_p.defgrad
def _getitem_grad(inputs, out, dy, *, key, sizes=None):
    x = inputs[0]
    return (call(getitem_grad_p, (dy,) + tuple(inputs[1:]),
                 {"key": key, "shape": tuple(x._value.shape)}),) + (None,) * (len(inputs) - 1)


@primitive("StridedSliceGrad")
def getitem_grad_p(d, dy, *index_arrays, key, shape):
    g = d.xp.zeros(shape, dtype=dy.dtype)
    k = _build_key(key, index_arrays)
    if probing_branch():
        padded, k = _in_bounds(d, g, k)
        if padded is not g:   # an empty indexed dimension: nothing to scatter into
            return g
    # integer index arrays may repeat positions: those must accumulate
    if any(not isinstance(p, (int, _pyslice, type(None), type(Ellipsis)))
           and p.dtype.kind != "b" for p in k):
        d.scatter_add(g, k, dy)
    else:
        g[k] = dy
    return g


@getitem_grad_p.defgrad
def _getitem_grad_grad(inputs, out, ddy, *, key, shape):
    return (call(getitem_p, (ddy,) + tuple(inputs[1:]), {"key": key}),) + \
        (None,) * (len(inputs) - 1)


def _as_index_tensor(k, x):
    # NumPy (and TF under NumPy behaviour) reads a tuple inside the key as an array
    if isinstance(k, (list, np.ndarray)) or (_NUMPY_INDEXING[0]
                                             and isinstance(k, tuple)):
        return convert_to_tensor(np.asarray(k), device=x._device)
    if isinstance(k, Tensor) and k._device is not x._device:
        # the index follows the sliced tensor (a recorded copy)
        from dlframe.core.tensor import copy_to_device
        return copy_to_device(k, x._device)
    return k


def _normalize_key(x, key):
    """Validates an index key; returns (static key with slots, index tensors)."""
    if not isinstance(key, tuple):
        key = (key,)
    key = tuple(_as_index_tensor(k, x) for k in key)
    shape = x._value.shape
    out, extra = [], []
    dim = 0
    n_specified = 0
    for k in key:
        if isinstance(k, Tensor) and k._value.dtype.kind == "b":
            n_specified += k._value.ndim
        elif k is not None and k is not Ellipsis:
            n_specified += 1
    if n_specified > len(shape):
        raise InvalidArgumentError(
            f"StridedSlice: Index out of range using input dim {len(shape)}; input has "
            f"only {len(shape)} dims, key {key!r}")
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise InvalidArgumentError("StridedSlice: Multiple ellipses in slice spec not "
                                   "allowed")
    for k in key:
        if isinstance(k, Tensor):
            kind = k._value.dtype.kind
            if k._value.ndim == 0 and kind in "iu" and not _tracing_tensor(k):
                k = int(k)
            elif kind in "iub":
                if kind == "b":
                    _check_mask(k, shape, dim)
                    dim += k._value.ndim
                else:
                    dim += 1
                out.append(_Slot(len(extra)))
                extra.append(k)
                continue
            else:
                raise TypeError(f"Only integers, slices, ellipsis, None and integer or "
                                f"boolean tensors are valid indices, got {k.dtype.name}")
        if hasattr(k, "__index__") and not isinstance(k, (bool, _pyslice)):
            k = int(k.__index__())
            size = shape[dim] if dim < len(shape) else 0
            if not -size <= k < size and probing_branch() and STATE.trace.is_dynamic(x):
                # a size only the run knows, in a probe (see probing_branch): the
                # index becomes an input, checked when the graph runs
                out.append(_Slot(len(extra)))
                extra.append(_as_index_tensor(np.asarray(k), x))
                dim += 1
                continue
            if not -size <= k < size:
                # a static shape: TF's graph construction raises ValueError
                raise (InvalidArgumentError if STATE.trace is None
                       else GraphInvalidArgumentError)(
                    f"StridedSlice: slice index {k} of dimension {dim} out of bounds. "
                    f"[Op:StridedSlice]")
            dim += 1
        elif isinstance(k, _pyslice):
            k = _pyslice(*(_bound(v, x, extra) for v in (k.start, k.stop, k.step)))
            if k.step == 0:
                raise InvalidArgumentError("StridedSlice: slice step cannot be zero")
            dim += 1
        elif k is Ellipsis:
            dim = len(shape) - (n_specified - dim)
        elif k is None:
            pass
        else:
            raise TypeError(f"Only integers, slices (`:`), ellipsis (`...`), "
                            f"tf.newaxis (`None`) and scalar tf.int32/tf.int64 tensors are "
                            f"valid indices, got {k!r}")
        out.append(k)
    return tuple(out), tuple(extra)


def _bound(v, x, extra):
    """A slice bound as an int, None, or a slot for a traced scalar tensor."""
    if v is None:
        return None
    if isinstance(v, Tensor) and _tracing_tensor(v):
        if v._value.ndim != 0 or v._value.dtype.kind not in "iu":
            raise TypeError(f"slice indices must be integers or None, got a "
                            f"{v.dtype.name} tensor of shape {list(v.shape)}")
        if v._device is not x._device:
            v = _as_index_tensor(v, x)
        extra.append(v)
        return _Slot(len(extra) - 1)
    try:   # as TF, t[0.5:] is refused rather than truncated
        return operator.index(v)
    except TypeError:
        raise TypeError(f"Only integers, slices (`:`), ellipsis (`...`), tf.newaxis "
                        f"(`None`) and scalar tf.int32/tf.int64 tensors are valid "
                        f"indices, got {v!r}") from None


def _check_mask(k, shape, dim):
    ms = k._value.shape
    if tuple(shape[dim:dim + len(ms)]) != tuple(ms):
        raise InvalidArgumentError(
            f"boolean mask of shape {list(ms)} does not match the indexed dimensions "
            f"{list(shape[dim:dim + len(ms)])} of the input of shape {list(shape)}")


def _index_arrays(x, key):
    """(position in ``key``, integer index array, dimension of ``x`` it indexes)
    for each integer index array of the full ``key``."""
    dim = 0
    for pos, k in enumerate(key):
        if k is Ellipsis:
            after = key[next(i for i, p in enumerate(key) if p is Ellipsis) + 1:]
            dim = x.ndim - sum(0 if p is None else p.ndim if hasattr(p, "dtype") and
                               p.dtype.kind == "b" else 1 for p in after)
            continue
        if k is None:
            continue
        if hasattr(k, "dtype"):
            if k.dtype.kind == "b":
                dim += k.ndim
                continue
            yield pos, k, dim
        dim += 1


def _in_bounds(d, x, key):
    """``(x, key)`` with out-of-range index arrays clipped (and an empty indexed
    dimension padded to size one), so a probing trace gets a result of the right
    shape (a ``stand_in``)."""
    key = list(key)
    for pos, k, dim in list(_index_arrays(x, key)):
        size = x.shape[dim]
        if not ((k < -size) | (k >= size)).any():
            continue
        stand_in()
        if size == 0:
            pad = [(0, 0)] * x.ndim
            pad[dim] = (0, 1)
            x, size = d.xp.pad(x, pad), 1
        key[pos] = d.xp.clip(k, -size, size - 1)
    return x, tuple(key)


def _check_indices(d, x, key):
    # index arrays are checked when the op runs (CuPy would wrap around silently)
    for _, k, dim in _index_arrays(x, key):
        size = x.shape[dim]
        bad = (k < -size) | (k >= size)
        if bad.any():
            val = int(d.to_numpy(k[bad].ravel()[0]))
            if k.ndim == 0:
                raise InvalidArgumentError(
                    f"StridedSlice: slice index {val} of dimension {dim} out of "
                    f"bounds. [Op:StridedSlice]")
            raise InvalidArgumentError(f"StridedSlice: indices = {val} is not in "
                                       f"[0, {size}) for dimension {dim}")


_NUMPY_INDEXING = [False]   # set by tnp.experimental_enable_numpy_behavior()


def set_numpy_indexing(flag):
    """Reads a list key as NumPy does (``x[[0, 2]]`` gathers rows 0 and 2), as TF's
    tensors do under ``tnp.experimental_enable_numpy_behavior()``."""
    _NUMPY_INDEXING[0] = bool(flag)


def _is_plain_index(k):
    return isinstance(k, (bool, int, np.integer, np.bool_))


def _list_key(key):
    """A list key as TF reads it: a tuple of indices, except that under NumPy
    behaviour a flat list of ints or bools is one index array (and a list holding
    sequences stays a tuple, NumPy's legacy reading that TF keeps)."""
    if _NUMPY_INDEXING[0] and all(map(_is_plain_index, key)):
        return np.asarray(key) if key else np.zeros([0], np.int64)
    if _NUMPY_INDEXING[0] or not any(isinstance(k, (list, tuple)) for k in key):
        return tuple(key)   # TF reads x[[0, 1]] as x[0, 1], never as a gather
    return key


def getitem(tensor, key):
    """NumPy-style indexing: ints, slices with steps, ..., None, bool/int masks."""
    x = t(tensor)
    if isinstance(key, list):
        key = _list_key(key)
    static, extra = _normalize_key(x, key)
    out = call(getitem_p, (x,) + extra, {"key": static})
    if len(extra) == 1 and extra[0]._value.dtype.kind == "b":   # TF: None masked rows
        note_unknown_axes(out, [_mask_axis(static, x._value.ndim, extra[0])])
    return out


def _mask_axis(key, rank, mask):
    """The output axis of the rows a boolean ``mask`` (the key's only index array)
    keeps: one per slice or new axis before it, and the dims an Ellipsis spans."""
    fixed = sum(mask._value.ndim if isinstance(k, _Slot) else 1 for k in key
                if k is not None and k is not Ellipsis)
    axis = 0
    for k in key:
        if isinstance(k, _Slot):
            return axis
        axis += (rank - fixed) if k is Ellipsis else (
            1 if k is None or isinstance(k, _pyslice) else 0)
    return axis


def _slice_key(begin, size, shape):
    """The Python slices of ``tf.slice``; out-of-range begin/size is TF's error."""
    if len(begin) != len(shape) or len(size) != len(shape):
        raise InvalidArgumentError(
            f"Slice: Expected begin and size arguments to be 1-D tensors of size "
            f"{len(shape)}, but got shapes [{len(begin)}] and [{len(size)}] instead.")
    key = []
    for i, (b, s, n) in enumerate(zip(begin, size, shape)):
        e = n if s == -1 else b + s
        if b < 0 or s < -1 or e > n:
            raise InvalidArgumentError(
                f"Slice: Expected begin[{i}] in [0, {n}] and size[{i}] in [0, {n - b}], "
                f"but got begin {list(begin)} and size {list(size)} for input shape "
                f"{list(shape)}")
        key.append(_pyslice(b, e))
    return tuple(key)


@primitive("Slice", aliases=True)
def _slice_p(d, x, begin, size):
    begin = [int(v) for v in d.to_numpy(begin).reshape(-1)]
    size = [int(v) for v in d.to_numpy(size).reshape(-1)]
    return x[_slice_key(begin, size, x.shape)]


_slice_p.value_shaped = True   # begin/size tensors: the output size follows values


@_slice_p.defgrad
def _slice_grad(inputs, out, dy):
    x, begin = inputs[0], inputs[1]
    return (call(_slice_grad_p, (dy, begin), {"shape": tuple(x._value.shape)}),
            None, None)


@primitive("SliceGrad")
def _slice_grad_p(d, dy, begin, *, shape):
    g = d.xp.zeros(shape, dtype=dy.dtype)
    begin = [int(v) for v in d.to_numpy(begin).reshape(-1)]
    g[tuple(_pyslice(b, b + n) for b, n in zip(begin, dy.shape))] = dy
    return g


@_slice_grad_p.defgrad
def _slice_grad_grad(inputs, out, ddy, *, shape):
    dy, begin = inputs
    size = convert_to_tensor(np.asarray(dy._value.shape, dtype=np.int64),
                             dtype=begin.dtype, device=begin._device)
    return call(_slice_p, (ddy, begin, size)), None


def _traced(v):
    return isinstance(v, Tensor) and _tracing_tensor(v)


def _index_parts(value, op, arg):
    """Per-dimension ints, or scalar tensors where ``value`` is only known at run time.

    Inside a ``dlframe.function`` a begin/size/end may be a traced 1-D tensor or a
    list holding traced scalars; those stay tensors so the slice follows their value.
    """
    if _traced(value):
        if value._value.ndim != 1:
            raise InvalidArgumentError(f"{op}: `{arg}` must be a 1-D tensor, got shape "
                                       f"{list(value.shape)}")
        return [getitem(value, k) for k in range(value._value.shape[0])]
    if isinstance(value, (list, tuple)) and any(_traced(v) for v in value):
        return [v if _traced(v) else int(v) for v in value]
    return list(static_shape(value, op, arg))


def _pack(parts, dtype, device):
    from dlframe.ops.array import stack  # array imports this module
    return stack([p if isinstance(p, Tensor) else
                  convert_to_tensor(p, dtype=dtype, device=device) for p in parts])


def slice(input_, begin, size, name=None):
    """Extracts a slice of ``size`` starting at ``begin`` (size -1 takes the rest).

    ``begin`` and ``size`` may be tensors computed inside a ``dlframe.function``:
    the slice then follows their run-time value.

    Args:
      input_: a Tensor.
      begin: the starting index per dimension.
      size: the number of elements per dimension (-1: everything from ``begin``).
      name: unused (TF compatibility).

    Raises:
      InvalidArgumentError: when begin/size do not fit the input's shape.
    """
    x = t(input_)
    begin = _index_parts(begin, "Slice", "begin")
    size = _index_parts(size, "Slice", "size")
    dynamic = [p for p in begin + size if isinstance(p, Tensor)]
    if not dynamic:
        # the sizes make the static shape TF's (known where size is not -1)
        return call(getitem_p, (x,), {"key": _slice_key(begin, size, x._value.shape),
                                      "sizes": tuple(size)})
    dtype, dev = dynamic[0].dtype, x._device
    out = call(_slice_p, (x, _pack(begin, dtype, dev), _pack(size, dtype, dev)))
    return note_slice_sizes(out, x, begin, size)


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0,
                  ellipsis_mask=0, new_axis_mask=0, shrink_axis_mask=0, var=None,
                  name=None):
    """TF's strided slice with bit masks (what ``Tensor.__getitem__`` lowers to in TF).

    Args:
      input_: a Tensor.
      begin, end, strides: 1-D int lists of equal length.
      begin_mask, end_mask: bit i set ignores begin[i] / end[i] (full range).
      ellipsis_mask: bit i set makes spec i an Ellipsis.
      new_axis_mask: bit i set inserts a new axis at spec i.
      shrink_axis_mask: bit i set takes the single index begin[i] (drops the axis).
    """
    begin = _index_parts(begin, "StridedSlice", "begin")
    end = _index_parts(end, "StridedSlice", "end")
    strides = [1] * len(begin) if strides is None else \
        _index_parts(strides, "StridedSlice", "strides")
    if not len(begin) == len(end) == len(strides):
        raise InvalidArgumentError(
            f"StridedSlice: Expected begin, end, and strides to be 1D equal size tensors, "
            f"but got shapes [{len(begin)}], [{len(end)}], and [{len(strides)}] instead.")
    key = []
    for i, (b, e, s) in enumerate(zip(begin, end, strides)):
        bit = 1 << i
        if ellipsis_mask & bit:
            key.append(Ellipsis)
        elif new_axis_mask & bit:
            key.append(None)
        elif shrink_axis_mask & bit:
            key.append(b)
        else:
            key.append(_pyslice(None if begin_mask & bit else b,
                                      None if end_mask & bit else e, s))
    return getitem(input_, tuple(key))


__all__ = ["slice", "strided_slice"]
