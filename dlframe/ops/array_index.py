"""Gather and scatter: gather, gather_nd, scatter_nd, tensor_scatter_nd_*,
boolean_mask, repeat.

Gradients pair each gather with a scatter-add primitive whose own gradient is the
gather again, so both are differentiable to any order.
"""

from dlframe.backends.base import np
from dlframe.core import indexed_slices as _slices
from dlframe.core.primitive import call, primitive
from dlframe.core.static_dims import graph_dims, merge_dims, shape_arg_static
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError, ShapeMismatchError
from dlframe.ops import device_index as _dev
from dlframe.ops import math as m
from dlframe.ops import scatter_nan as _nan_rule
from dlframe.ops._util import one_axis as _one_axis
from dlframe.ops._util import probing_branch, stand_in, t
from dlframe.ops.array import expand_dims, reshape, squeeze
from dlframe.ops.late_bound import reads_values
from dlframe.ops.slicing import getitem


def _int_indices(indices, op):
    idx = t(indices)
    if idx._value.dtype.kind not in "iu":
        raise InvalidArgumentError(f"{op}: indices must be int32 or int64, got "
                                   f"{idx.dtype.name} [Op:{op}]")
    return idx


def _first_bad(d, bad):
    """Host position (tuple) of the first True in a device bool array."""
    host = d.to_numpy(bad)
    return tuple(int(i) for i in np.argwhere(host)[0])


# ---------------------------------------------------------------- gather
def _gather_dims(shape, idx_shape, axis, batch_dims):
    nb = _dev.prod(shape[:batch_dims])
    mid = _dev.prod(shape[batch_dims:axis])
    rest = _dev.prod(shape[axis + 1:])
    inner = _dev.prod(idx_shape[batch_dims:])
    return nb, mid, rest, inner


def _flat_batch_indices(xp, idx, nb, size):
    """Indices into the (batch * size) axis of a batch-flattened operand."""
    flat = idx.reshape(nb, -1).astype("int64", copy=False)
    if nb > 1:
        flat = flat + (xp.arange(nb, dtype="int64") * size)[:, None]
    return flat.reshape(-1)


@primitive("GatherV2")
def gather_p(d, x, idx, *, axis, batch_dims):
    xp = d.xp
    size = x.shape[axis]
    if d.is_gpu:   # TF's GPU kernel: no host check, zeros at out-of-range indices
        return _dev.gather_axis(xp, x, idx, axis, batch_dims, _take)
    bad = (idx < 0) | (idx >= size)
    if bad.any() and probing_branch():   # stand-in rows (see probing_branch)
        if not size:
            return stand_in(xp.zeros(
                x.shape[:axis] + idx.shape[batch_dims:] + x.shape[axis + 1:],
                dtype=x.dtype))
        idx, bad = stand_in(xp.clip(idx, 0, size - 1)), bad & False
    if bad.any():
        pos = _first_bad(d, bad)
        val = int(d.to_numpy(idx[pos]))
        raise InvalidArgumentError(f"GatherV2: indices[{','.join(map(str, pos))}] = {val} "
                                   f"is not in [0, {size}) [Op:GatherV2]")
    return _take(xp, x, idx, axis, batch_dims)


def _take(xp, x, idx, axis, batch_dims):
    """The gather of in-range ``idx`` along ``axis`` (after ``batch_dims``)."""
    size = x.shape[axis]
    if batch_dims == 0:   # (asarray: a scalar take of a string vector is bytes)
        return xp.asarray(xp.take(x, idx, axis=axis), dtype=x.dtype)
    nb, mid, rest, inner = _gather_dims(x.shape, idx.shape, axis, batch_dims)
    xt = xp.moveaxis(x.reshape(nb, mid, size, rest), 2, 1).reshape(nb * size, mid, rest)
    out = xp.take(xt, _flat_batch_indices(xp, idx, nb, size), axis=0)
    out = xp.moveaxis(out.reshape(nb, inner, mid, rest), 1, 2)
    shape = x.shape[:axis] + idx.shape[batch_dims:] + x.shape[axis + 1:]
    return out.reshape(shape)


def _gather_static_shape(in_dims, attrs):
    x, idx = in_dims
    a, b = attrs["axis"], attrs["batch_dims"]
    return merge_dims(x[:b], idx[:b]) + x[b:a] + idx[b:] + x[a + 1:]


gather_p.static_shape = _gather_static_shape


@gather_p.defgrad
def _gather_grad(inputs, out, dy, *, axis, batch_dims):
    x, idx = inputs
    if axis == 0 and batch_dims == 0:   # TF: a row gather's gradient is IndexedSlices
        return _slices.from_gather(dy, idx, x._value.shape), None
    return call(gather_grad_p, (dy, idx), {"axis": axis, "batch_dims": batch_dims,
                                           "shape": tuple(x._value.shape)}), None


@primitive("GatherGrad")
def gather_grad_p(d, dy, idx, *, axis, batch_dims, shape):
    xp = d.xp
    size = shape[axis]
    nb, mid, rest, inner = _gather_dims(shape, idx.shape, axis, batch_dims)
    upd = xp.moveaxis(dy.reshape(nb, mid, inner, rest), 2, 1).reshape(nb * inner, mid, rest)
    flat = _flat_batch_indices(xp, idx, nb, size)
    if d.is_gpu:   # rows of out-of-range indices (zeros forward) are dropped
        bad = ((idx < 0) | (idx >= size)).reshape(-1)
        g = _dev.scatter_rows(d, None, flat, bad, upd, "add", (nb * size, mid, rest))
    else:
        g = xp.zeros((nb * size, mid, rest), dtype=dy.dtype)
        d.scatter_add(g, flat, upd)
    return xp.ascontiguousarray(xp.moveaxis(g.reshape(nb, size, mid, rest), 1, 2)) \
        .reshape(shape)


@gather_grad_p.defgrad
def _gather_grad_grad(inputs, out, ddy, *, axis, batch_dims, shape):
    return call(gather_p, (ddy, inputs[1]), {"axis": axis, "batch_dims": batch_dims}), None


@reads_values("axis", "batch_dims", sizes_follow=True)
def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    """Gathers slices of ``params`` along ``axis`` at ``indices``.

    Args:
      params: the Tensor to gather from.
      indices: int tensor of positions in [0, params.shape[axis]); others raise
        InvalidArgumentError on the CPU and give zeros on a GPU, as in TF.
      axis: the gathered dimension (default ``batch_dims``).
      batch_dims: number of leading dimensions shared by params and indices.

    Returns:
      A tensor of shape ``params.shape[:axis] + indices.shape[batch_dims:] +
      params.shape[axis + 1:]``.
    """
    x = t(params)
    idx = _int_indices(indices, "GatherV2")
    # the indices follow the table (a recorded copy); strings (host) gathered at
    # GPU indices run as a host op (the primitive call's rule)
    if idx._device is not x._device and x._value.dtype != object:
        from dlframe.core.tensor import copy_to_device
        idx = copy_to_device(idx, x._device)
    nd, ni = x._value.ndim, idx._value.ndim
    b = int(batch_dims)
    if b < 0:
        b += ni
    if not 0 <= b <= ni:
        raise InvalidArgumentError(f"GatherV2: Expected batch_dims in the range [{-ni}, "
                                   f"{ni}], but got {batch_dims} [Op:GatherV2]")
    a = b if axis is None else int(axis)
    if a < 0:
        a += nd
    if not 0 <= a < nd:
        raise InvalidArgumentError(f"GatherV2: Expected axis in the range [{-nd}, {nd}), "
                                   f"but got {axis}; params has rank {nd} [Op:GatherV2]")
    if b > a:
        raise InvalidArgumentError(f"GatherV2: batch_dims ({b}) must be less than or "
                                   f"equal to axis ({a}) [Op:GatherV2]")
    if x._value.shape[:b] != idx._value.shape[:b]:
        raise InvalidArgumentError(
            f"GatherV2: params.shape[:{b}] {list(x._value.shape[:b])} must equal "
            f"indices.shape[:{b}] {list(idx._value.shape[:b])} [Op:GatherV2]")
    return call(gather_p, (x, idx), {"axis": a, "batch_dims": b})


def gather_dense_grad(params, indices, axis=0):
    """``gather`` along ``axis`` whose gradient is a dense Tensor.

    A row gather's gradient is an IndexedSlices (as TF's ``gather``); ops that TF
    computes by other means (``sort``, ``repeat``, ``signal.frame``, sparse segment
    reductions) give dense gradients, so they gather through a leading unit axis.
    """
    x = t(params)
    if axis % max(x._value.ndim, 1) != 0:
        return gather(x, indices, axis=axis)
    # expand/squeeze, not a reshape to the array's shape: a trace's placeholder
    # dims must not become the graph's static shape
    out = gather(expand_dims(x, 0), indices, axis=1)
    return squeeze(out, [0])


# ---------------------------------------------------------------- gather_nd / scatter_nd
def _nd_key(xp, idx, batch_dims):
    """The advanced-index tuple selecting ``idx[..., :]`` rows (after batch dims)."""
    k = idx.shape[-1]
    lead = idx.shape[:-1]
    key = []
    for j in range(batch_dims):
        shp = [1] * len(lead)
        shp[j] = lead[j]
        key.append(xp.arange(lead[j]).reshape(shp))
    key += [idx[..., i] for i in range(k)]
    return tuple(key)


def _check_nd(d, op, idx, shape, batch_dims, what="param shape"):
    """``idx`` once its rows are checked to index into ``shape``. A probing trace
    (see ``probing_branch``) gets them clipped instead, or None where an indexed
    dimension is empty (nothing to index: the caller's result is zeros / the input).
    """
    k = idx.shape[-1]
    limits = d.xp.asarray(shape[batch_dims:batch_dims + k], dtype=idx.dtype)
    bad = ((idx < 0) | (idx >= limits)).any(axis=-1)
    if bad.any() and probing_branch():
        stand_in()
        if not all(shape[batch_dims:batch_dims + k]):
            return None
        return d.xp.clip(idx, 0, limits - 1)
    if bad.any():
        pos = _first_bad(d, bad)
        row = d.to_numpy(idx[pos]).tolist()
        raise InvalidArgumentError(
            f"{op}: indices[{','.join(map(str, pos))}] = {row} does not index into "
            f"{what} [{','.join(map(str, shape))}] [Op:{op}]")
    return idx


@primitive("GatherNd")
def gather_nd_p(d, x, idx, *, batch_dims):
    xp = d.xp
    if not x.size and _dev.prod(idx.shape[:-1]):   # TF's shape check, every device
        raise InvalidArgumentError(
            "Requested more than 0 entries, but params is empty.  Params shape: "
            f"[{','.join(map(str, x.shape))}] [Op:GatherNd]")
    if d.is_gpu:   # TF's GPU kernel: no host check, zeros at out-of-range rows
        ids, bad = _dev.row_ids(xp, idx, x.shape, batch_dims)
        return _dev.gather_rows(xp, x, ids, bad, batch_dims + idx.shape[-1])
    checked = _check_nd(d, "GatherNd", idx, x.shape, batch_dims)
    if checked is None:
        return xp.zeros(idx.shape[:-1] + x.shape[batch_dims + idx.shape[-1]:],
                        dtype=x.dtype)
    idx = checked
    if idx.shape[-1] == 0 and batch_dims == 0:
        return xp.broadcast_to(x, idx.shape[:-1] + x.shape).copy()
    return x[_nd_key(xp, idx, batch_dims)]


def _gather_nd_static_shape(in_dims, attrs):
    x, idx = in_dims
    b = attrs["batch_dims"]
    if idx[-1] is None:
        return None
    return merge_dims(x[:b], idx[:b]) + idx[b:-1] + x[b + idx[-1]:]


gather_nd_p.static_shape = _gather_nd_static_shape


@gather_nd_p.defgrad
def _gather_nd_grad(inputs, out, dy, *, batch_dims):
    x, idx = inputs
    if batch_dims == 0 and idx._value.ndim == 2 and idx._value.shape[-1] == 1:
        # TF: rows picked by [n, 1] indices give an IndexedSlices gradient
        return _slices.from_gather(dy, idx, x._value.shape), None
    return call(scatter_nd_p, (idx, dy), {"shape": tuple(x._value.shape),
                                          "batch_dims": batch_dims}), None


@primitive("ScatterNd")
def scatter_nd_p(d, idx, updates, *, shape, batch_dims):
    xp = d.xp
    if d.is_gpu:   # TF's GPU kernel: out-of-range rows are ignored, no host check
        return _dev.scatter_nd(d, None, idx, updates, "add", shape, batch_dims)
    idx = _check_nd(d, "ScatterNd", idx, shape, batch_dims, "shape")
    g = xp.zeros(shape, dtype=updates.dtype)
    if idx is None:
        return g
    if idx.shape[-1] == 0 and batch_dims == 0:
        return g + updates.reshape((-1,) + tuple(shape)).sum(axis=0)
    d.scatter_add(g, _nd_key(xp, idx, batch_dims), updates)
    return g


@scatter_nd_p.defgrad
def _scatter_nd_grad(inputs, out, dy, *, shape, batch_dims):
    return None, call(gather_nd_p, (dy, inputs[0]), {"batch_dims": batch_dims})


def gather_nd(params, indices, batch_dims=0, name=None):
    """Gathers slices of ``params`` addressed by the rows ``indices[..., :]``.

    Args:
      params: the Tensor to gather from.
      indices: int tensor whose last dimension indexes the leading dimensions of
        ``params`` (after ``batch_dims``).
      batch_dims: number of leading batch dimensions shared by params and indices.

    Returns:
      A tensor of shape ``indices.shape[:-1] + params.shape[batch_dims + K:]``.
    """
    x = t(params)
    idx = _int_indices(indices, "GatherNd")
    b = int(batch_dims)
    ni = idx._value.ndim
    if ni < 1:
        raise InvalidArgumentError("GatherNd: indices must be at least a vector, got a "
                                   "scalar [Op:GatherNd]")
    k = idx._value.shape[-1]
    if not 0 <= b < ni or b + k > x._value.ndim:
        raise InvalidArgumentError(
            f"GatherNd: index innermost dimension length ({k}) plus batch_dims ({b}) must "
            f"be <= params rank ({x._value.ndim}), indices shape "
            f"{list(idx._value.shape)} [Op:GatherNd]")
    if x._value.shape[:b] != idx._value.shape[:b]:
        raise InvalidArgumentError(
            f"GatherNd: params.shape[:{b}] {list(x._value.shape[:b])} must equal "
            f"indices.shape[:{b}] {list(idx._value.shape[:b])} [Op:GatherNd]")
    return call(gather_nd_p, (x, idx), {"batch_dims": b})


def _check_updates(op, idx, updates, shape):
    k = idx._value.shape[-1] if idx._value.ndim else 0
    if idx._value.ndim < 1 or k > len(shape):
        raise InvalidArgumentError(
            f"{op}: indices must have an innermost dimension of at most rank(shape) = "
            f"{len(shape)}, got indices shape {list(idx._value.shape)} [Op:{op}]")
    if k == 0:   # TF refuses an index depth of 0 (no whole-tensor update)
        raise InvalidArgumentError(_depth_zero_message(op, idx._value.shape))
    want = tuple(idx._value.shape[:-1]) + tuple(shape[k:])
    if tuple(updates._value.shape) != want:
        raise ShapeMismatchError(
            f"{op}: updates shape {list(updates._value.shape)} must be indices.shape[:-1] "
            f"+ shape[{k}:] = {list(want)} (indices {list(idx._value.shape)}, shape "
            f"{list(shape)}) [Op:{op}]")


def _depth_zero_message(op, idx_shape):
    """TF's error for scatter indices whose innermost dimension is 0."""
    if _dev.prod(idx_shape[:-1]):
        return (f"{op}: Indices and updates specified for empty output shape "
                f"(indices shape {list(idx_shape)}) [Op:{op}]")
    return (f"{op}: Only indices.shape[-1] values between 1 and 5 are currently "
            f"supported.  Requested rank: 0 [Op:{op}]")


def _scatter_nd_stand_in(indices, updates, shape, name=None):
    """A scatter into a shape that holds ``indices`` (placeholder shape values)."""
    idx, upd = t(indices), t(updates)
    host = idx.numpy().reshape(-1, idx._value.shape[-1]) if idx._value.ndim else None
    if host is None or not host.size:
        return scatter_nd(indices, updates, [1] * int(t(shape)._value.size))
    lead = [int(v) + 1 for v in np.maximum(host.max(axis=0), 0)]
    return scatter_nd(idx, upd, lead + list(upd._value.shape[idx._value.ndim - 1:]))


def _scatter_nd_dims(indices, updates, shape, name=None):
    """TF's static shape of ``scatter_nd``: ``shape``'s values it knows."""
    return shape_arg_static(shape)


@reads_values("shape", static_shape=_scatter_nd_dims, stand_in=_scatter_nd_stand_in)
def scatter_nd(indices, updates, shape, name=None):
    """Scatters ``updates`` into zeros of ``shape``; repeated indices add up.

    Args:
      indices: int tensor ``[..., K]`` of positions in the first K dimensions.
      updates: values of shape ``indices.shape[:-1] + shape[K:]``.
      shape: the output shape.
    """
    from dlframe.ops._util import static_shape
    idx = _int_indices(indices, "ScatterNd")
    upd = t(updates)
    shp = static_shape(shape, "ScatterNd")
    _check_updates("ScatterNd", idx, upd, shp)
    return call(scatter_nd_p, (idx, upd), {"shape": shp, "batch_dims": 0})


def _tensor_scatter_args(tensor, indices, updates, op):
    x = t(tensor)
    idx = _int_indices(indices, op)
    upd = updates if isinstance(updates, Tensor) else convert_to_tensor(
        updates, dtype=x.dtype, device=x._device)
    if upd._value.dtype != x._value.dtype:
        from dlframe.errors import DTypeMismatchError
        raise DTypeMismatchError(f"{op}: updates has dtype {upd.dtype.name}, expected "
                                 f"{x.dtype.name} like tensor [Op:{op}]")
    _check_updates(op, idx, upd, tuple(x._value.shape))
    return x, idx, upd


@primitive("TensorScatterUpdate")
def tensor_scatter_update_p(d, x, idx, updates):
    if d.is_gpu:
        return _dev.scatter_nd(d, x, idx, updates, "update")
    idx = _check_nd(d, "TensorScatterUpdate", idx, x.shape, 0, "shape")
    out = x.copy()
    if idx is None:
        return out
    out[_nd_key(d.xp, idx, 0)] = updates
    return out


@tensor_scatter_update_p.defgrad
def _tensor_scatter_update_grad(inputs, out, dy):
    _, idx, upd = inputs
    gx = call(tensor_scatter_update_p, (dy, idx, m.zeros_like(upd)))
    return gx, None, call(gather_nd_p, (dy, idx), {"batch_dims": 0})


@primitive("TensorScatterAdd")
def tensor_scatter_add_p(d, x, idx, updates):
    if d.is_gpu:
        return _dev.scatter_nd(d, x, idx, updates, "add")
    idx = _check_nd(d, "TensorScatterAdd", idx, x.shape, 0, "shape")
    out = x.copy()
    if idx is None:
        return out
    d.scatter_add(out, _nd_key(d.xp, idx, 0), updates)
    return out


@tensor_scatter_add_p.defgrad
def _tensor_scatter_add_grad(inputs, out, dy):
    return dy, None, call(gather_nd_p, (dy, inputs[1]), {"batch_dims": 0})


def _scatter_extreme(name, method):
    @primitive(name)
    def p(d, x, idx, updates):
        mode = method[len("scatter_"):]
        updates = _nan_rule.drop_nan_updates(d.xp, x, updates, mode)
        if d.is_gpu:
            return _nan_rule.keep_nan(d.xp, x, _dev.scatter_nd(d, x, idx, updates,
                                                              mode))
        idx = _check_nd(d, name, idx, x.shape, 0, "shape")
        out = x.copy()
        if idx is None:
            return out
        getattr(d, method)(out, _nd_key(d.xp, idx, 0), updates)
        return _nan_rule.keep_nan(d.xp, x, out)

    @p.defgrad
    def grad(inputs, out, dy):
        # ties share the gradient equally between the tensor and all winning updates
        x, idx, upd = inputs
        gathered = call(gather_nd_p, (out, idx), {"batch_dims": 0})
        hit_x = m.cast(m.equal(x, out), dy.dtype)
        hit_u = m.cast(m.equal(upd, gathered), dy.dtype)
        count = m.add(hit_x, call(scatter_nd_p, (idx, hit_u),
                                  {"shape": tuple(x._value.shape), "batch_dims": 0}))
        share = m.divide(dy, count)
        gu = m.multiply(call(gather_nd_p, (share, idx), {"batch_dims": 0}), hit_u)
        return m.multiply(share, hit_x), None, gu
    return p


tensor_scatter_max_p = _scatter_extreme("TensorScatterMax", "scatter_max")
tensor_scatter_min_p = _scatter_extreme("TensorScatterMin", "scatter_min")


def tensor_scatter_nd_update(tensor, indices, updates, name=None):
    """A copy of ``tensor`` with the slices at ``indices`` replaced by ``updates``.

    Args:
      tensor: the Tensor to copy.
      indices: int tensor ``[..., K]``.
      updates: values of shape ``indices.shape[:-1] + tensor.shape[K:]``.
    """
    return call(tensor_scatter_update_p, _tensor_scatter_args(
        tensor, indices, updates, "TensorScatterUpdate"))


def tensor_scatter_nd_add(tensor, indices, updates, name=None):
    """A copy of ``tensor`` with ``updates`` added at ``indices`` (repeats add up)."""
    return call(tensor_scatter_add_p, _tensor_scatter_args(
        tensor, indices, updates, "TensorScatterAdd"))


def tensor_scatter_nd_sub(tensor, indices, updates, name=None):
    """A copy of ``tensor`` with ``updates`` subtracted at ``indices``."""
    x, idx, upd = _tensor_scatter_args(tensor, indices, updates, "TensorScatterSub")
    return call(tensor_scatter_add_p, (x, idx, m.negative(upd)))


def tensor_scatter_nd_max(tensor, indices, updates, name=None):
    """A copy of ``tensor`` with the elementwise max of it and ``updates`` at ``indices``."""
    return call(tensor_scatter_max_p, _tensor_scatter_args(
        tensor, indices, updates, "TensorScatterMax"))


def tensor_scatter_nd_min(tensor, indices, updates, name=None):
    """A copy of ``tensor`` with the elementwise min of it and ``updates`` at ``indices``."""
    return call(tensor_scatter_min_p, _tensor_scatter_args(
        tensor, indices, updates, "TensorScatterMin"))


# ---------------------------------------------------------------- reverse_sequence
@primitive("ReverseSequence")
def reverse_sequence_p(d, x, lengths, *, seq_axis, batch_axis):
    xp = d.xp
    nd = x.ndim
    steps = x.shape[seq_axis]
    if ((lengths < 0) | (lengths > steps)).any():
        raise InvalidArgumentError(
            f"ReverseSequence: seq_lengths must be in [0, {steps}], got "
            f"{d.to_numpy(lengths).tolist()} [Op:ReverseSequence]")
    j_shape = [1] * nd
    j_shape[seq_axis] = steps
    l_shape = [1] * nd
    l_shape[batch_axis] = x.shape[batch_axis]
    j = xp.arange(steps).reshape(j_shape)
    n = lengths.astype(j.dtype).reshape(l_shape)
    idx = xp.where(j < n, n - 1 - j, j)
    return xp.take_along_axis(x, idx, axis=seq_axis)


@reverse_sequence_p.defgrad
def _reverse_sequence_grad(inputs, out, dy, *, seq_axis, batch_axis):
    return call(reverse_sequence_p, (dy, inputs[1]),
                {"seq_axis": seq_axis, "batch_axis": batch_axis}), None


def reverse_sequence(input, seq_lengths, seq_axis=None, batch_axis=None,
                     name=None):
    """Reverses the first ``seq_lengths[b]`` elements along ``seq_axis`` of each batch b.

    Args:
      input: a Tensor.
      seq_lengths: 1-D int tensor of length ``input.shape[batch_axis]``.
      seq_axis: the dimension that is partially reversed.
      batch_axis: the dimension along which lengths vary (default 0).
    """
    x = t(input)
    lens = t(seq_lengths)
    nd = x._value.ndim
    if seq_axis is None:
        raise ValueError("reverse_sequence: seq_axis is required")
    sa = _one_axis(seq_axis, nd, "ReverseSequence")
    ba = _one_axis(0 if batch_axis is None else batch_axis, nd, "ReverseSequence")
    if sa == ba:
        raise InvalidArgumentError(f"ReverseSequence: seq_dim == batch_dim == {sa}")
    if lens._value.shape != (x._value.shape[ba],):
        raise InvalidArgumentError(
            f"ReverseSequence: Length of seq_lengths {list(lens._value.shape)} != "
            f"input.dims({ba}) {x._value.shape[ba]}")
    return call(reverse_sequence_p, (x, lens), {"seq_axis": sa, "batch_axis": ba})


# ---------------------------------------------------------------- masks, repeat
def boolean_mask(tensor, mask, axis=None, name="boolean_mask"):
    """Keeps the entries of ``tensor`` where ``mask`` is True.

    Args:
      tensor: a Tensor.
      mask: bool tensor matching ``tensor.shape[axis:axis + mask.ndim]``.
      axis: first masked dimension (default 0).

    Returns:
      A tensor of rank ``tensor.ndim - mask.ndim + 1``.
    """
    x = t(tensor)
    msk = t(mask)
    if msk._value.dtype.kind != "b":
        raise TypeError(f"boolean_mask: mask must be bool, got {msk.dtype.name}")
    a = 0 if axis is None else int(axis)
    k = msk._value.ndim
    if a < 0:
        a += x._value.ndim
    if k == 0:
        raise ValueError("mask cannot be scalar.")
    have = tuple(x._value.shape[a:a + k])
    if have != tuple(msk._value.shape):
        raise ShapeMismatchError(f"boolean_mask: Shapes {have} and "
                                 f"{tuple(msk._value.shape)} are incompatible")
    return getitem(x, (slice(None),) * a + (msk,))


def _repeat_dims(input, repeats, axis=None, name=None):  # noqa: A002
    """TF's static shape of a repeat by traced ``repeats``: the input's dims, the
    repeated one unknown (None: every dim, where ``axis`` is None or traced)."""
    if axis is None or isinstance(axis, Tensor):
        return None
    dims = graph_dims(t(input))
    if getattr(dims, "unknown_rank", False):
        return None
    dims = list(dims)
    dims[_one_axis(axis, len(dims), "Repeat")] = None
    return dims


@reads_values("repeats", "axis", static_shape=_repeat_dims, sizes_follow=True)
def repeat(input, repeats, axis=None, name=None):
    """Repeats each element ``repeats`` times along ``axis`` (flattened when None).

    Args:
      input: a Tensor.
      repeats: an int, or a 1-D list/tensor with one count per element along ``axis``.
      axis: the dimension to repeat along.
    """
    x = t(input)
    if axis is None:
        x = reshape(x, [-1])
        a = 0
    else:
        a = _one_axis(axis, x._value.ndim, "Repeat")
    n = x._value.shape[a]
    reps = np.asarray(repeats.numpy() if isinstance(repeats, Tensor) else repeats)
    if reps.ndim > 1:
        raise InvalidArgumentError(f"Repeat: repeats must be a scalar or a vector, got "
                                   f"shape {list(reps.shape)}")
    if reps.ndim == 1 and reps.shape[0] == 1:
        reps = reps[0]
    if reps.ndim == 1 and reps.shape[0] != n:
        raise ShapeMismatchError(f"Repeat: Dimensions {n} and {reps.shape[0]} are not "
                                 f"compatible")
    if (reps < 0).any():
        raise InvalidArgumentError(f"Repeat: repeats must be non-negative, got "
                                   f"{reps.tolist()}")
    ids = np.repeat(np.arange(n, dtype=np.int64), reps)
    return gather_dense_grad(x, convert_to_tensor(ids, device=x._device), axis=a)


__all__ = ["boolean_mask", "gather", "gather_nd", "repeat", "reverse_sequence",
           "scatter_nd",
           "tensor_scatter_nd_add", "tensor_scatter_nd_max", "tensor_scatter_nd_min",
           "tensor_scatter_nd_sub", "tensor_scatter_nd_update"]
