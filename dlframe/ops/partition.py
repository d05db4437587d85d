"""dynamic_partition and dynamic_stitch, each the other's gradient."""

from dlframe.backends.base import np
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops import math as m
from dlframe.ops._util import t
from dlframe.ops.array import reshape
from dlframe.ops.array_index import _int_indices, gather


@primitive("DynamicPartition", n_out=-1)
def _partition_p(d, data, partitions, *, num):
    pshape = tuple(partitions.shape)
    if tuple(data.shape[:len(pshape)]) != pshape:
        raise InvalidArgumentError(
            f"data.shape must start with partitions.shape, got data.shape = "
            f"{list(data.shape)}, partitions.shape = {list(pshape)} [Op:DynamicPartition]")
    flat = partitions.reshape(-1)
    host = d.to_numpy(flat)
    bad = np.flatnonzero((host < 0) | (host >= num))
    if bad.size:
        i = int(bad[0])
        raise InvalidArgumentError(f"partitions[{i}] = {int(host[i])} is not in [0, {num})"
                                   " [Op:DynamicPartition]")
    rows = data.reshape((flat.shape[0],) + tuple(data.shape[len(pshape):]))
    return tuple(rows[d.xp.asarray(host == k)] for k in range(num))


_partition_p.value_shaped = True   # its output size depends on input values
_partition_p.static_shape = lambda in_dims, attrs: [
    [None] + list(in_dims[0][len(in_dims[1]):])] * attrs["num"]


@_partition_p.defgrad
def _partition_grad(inputs, outs, dys, *, num):
    data, partitions = inputs
    pshape = tuple(partitions._value.shape)
    positions = convert_to_tensor(np.arange(int(np.prod(pshape, dtype=np.int64)),
                                            dtype=np.int32).reshape(pshape),
                                  device=data._device)
    where = call(_partition_p, (positions, partitions), {"num": num})
    return reshape(dynamic_stitch(list(where), list(dys)), list(data._value.shape)), None


def dynamic_partition(data, partitions, num_partitions, name=None):
    """Splits ``data`` into ``num_partitions`` tensors by the index in ``partitions``.

    Args:
      data: a tensor whose shape starts with ``partitions.shape``.
      partitions: int32 tensor with values in ``[0, num_partitions)``.
      num_partitions: the number of outputs.

    Returns:
      A list of ``num_partitions`` tensors; output ``k`` stacks (in order) the
      slices of ``data`` whose partition is ``k``.
    """
    x = t(data)
    p = _int_indices(partitions, "DynamicPartition")
    n = int(num_partitions)
    if n < 1:
        raise InvalidArgumentError(f"num_partitions must be at least 1, got {n}")
    return list(call(_partition_p, (x, p), {"num": n}))


def _stitch_layout(d, indices, data):
    """Host indices and the slice shape; validates the shapes."""
    hosts = [d.to_numpy(i) for i in indices]
    rest = None
    for k, (idx, x) in enumerate(zip(hosts, data)):
        if tuple(x.shape[:idx.ndim]) != idx.shape:
            raise InvalidArgumentError(
                f"data[{k}].shape = {list(x.shape)} does not start with indices[{k}]"
                f".shape = {list(idx.shape)} [Op:DynamicStitch]")
        tail = tuple(x.shape[idx.ndim:])
        if rest is not None and tail != rest:
            raise InvalidArgumentError(
                f"Need data[{k}].shape[{idx.ndim}:] = {list(tail)} to match data[0]"
                f".shape[{hosts[0].ndim}:] = {list(rest)} [Op:DynamicStitch]")
        rest = tail
    return hosts, rest


@primitive("DynamicStitch")
def _stitch_p(d, *arrays, n):
    indices, data = arrays[:n], arrays[n:]
    hosts, rest = _stitch_layout(d, indices, data)
    size = max((int(h.max()) + 1 for h in hosts if h.size), default=0)
    out = d.xp.zeros((size,) + rest, dtype=data[0].dtype)
    for h, x in zip(hosts, data):
        if h.size:
            out[d.xp.asarray(h.reshape(-1))] = x.reshape((h.size,) + rest)
    return out


@_stitch_p.defgrad
def _stitch_grad(inputs, out, dy, *, n):
    indices = inputs[:n]
    winners = call(_stitch_winners_p, indices, {"n": n})
    grads = []
    for idx, won in zip(indices, winners):
        g = gather(dy, idx)
        rank = g._value.ndim - idx._value.ndim
        mask = reshape(m.cast(won, dy.dtype), list(idx._value.shape) + [1] * rank)
        grads.append(m.multiply(g, mask))
    return (None,) * n + tuple(grads)


@primitive("DynamicStitchWinners", n_out=-1)
def _stitch_winners_p(d, *indices, n):
    """Per indices tensor, True where that position's value is the one kept (a later
    position writing the same index overrides it): where its gradient goes."""
    hosts = [d.to_numpy(i) for i in indices]
    size = max((int(h.max()) + 1 for h in hosts if h.size), default=0)
    owner = np.full(size, -1, dtype=np.int64)
    offset = 0
    for h in hosts:
        owner[h.reshape(-1)] = np.arange(offset, offset + h.size)
        offset += h.size
    out, offset = [], 0
    for h in hosts:
        mine = owner[h.reshape(-1)] == np.arange(offset, offset + h.size)
        out.append(d.xp.asarray(mine.reshape(h.shape)))
        offset += h.size
    return tuple(out)


def dynamic_stitch(indices, data, name=None):
    """Interleaves the values of ``data`` into one tensor at ``indices``.

    ``merged[indices[m][i, ...], ...] = data[m][i, ...]``; when an index repeats, the
    last value (in order of ``m``, then position) wins; unset rows are zeros.

    Args:
      indices: a list of int32 tensors.
      data: a list of tensors, ``data[m].shape`` starting with ``indices[m].shape``.

    Returns:
      ``[max(indices) + 1, *data[0].shape[indices[0].ndim:]]``.
    """
    if len(indices) != len(data) or not indices:
        raise ValueError(f"dynamic_stitch: indices and data must be non-empty lists of the "
                         f"same length, got {len(indices)} and {len(data)}")
    idx = [_int_indices(i, "DynamicStitch") for i in indices]
    first = next((x for x in data if isinstance(x, Tensor)), None)
    dtype = first.dtype if first is not None else None
    vals = [x if isinstance(x, Tensor) else convert_to_tensor(x, dtype=dtype) for x in data]
    for k, v in enumerate(vals):
        if v.dtype != vals[0].dtype:
            raise InvalidArgumentError(f"DynamicStitch: data[{k}] has dtype "
                                       f"{v.dtype.name}, expected {vals[0].dtype.name}")
    return call(_stitch_p, tuple(idx) + tuple(vals), {"n": len(idx)})


__all__ = ["dynamic_partition", "dynamic_stitch"]
