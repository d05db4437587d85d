"""IndexedSlices gradients (an embedding's rows) before an optimizer densifies them,
treated as TF 2.21 treats them: value clipping clips each row of the slices, and the
replicas of a strategy concatenate their rows (a repeated id keeps one row per
replica, so an optimizer's per-row squares see each of them)."""

from dlframe import distribute as _distribute
from dlframe.core.indexed_slices import IndexedSlices
from dlframe.core.tensor import copy_to_device
from dlframe.ops import array_join as _array
from dlframe.ops import math as _math


def _clip(x, clipvalue):
    return _math.minimum(_math.maximum(x, -clipvalue), clipvalue)


def clip_slice_rows(grads, clipvalue):
    """``grads`` clipped elementwise to ``[-clipvalue, clipvalue]``, IndexedSlices row
    by row (a repeated id then sums its clipped rows); None when none is a slice."""
    if not any(isinstance(g, IndexedSlices) for g in grads):
        return None
    return [IndexedSlices(_clip(g.values, clipvalue), g.indices, g.dense_shape)
            if isinstance(g, IndexedSlices) else _clip(g, clipvalue) for g in grads]


def replica_slices(grad):
    """Whether ``grad`` is a PerReplica of IndexedSlices."""
    return isinstance(grad, _distribute.PerReplica) and all(
        isinstance(p, IndexedSlices) for p in grad.values)


def concat_replica_slices(grad):
    """The replicas' IndexedSlices summed as TF's all-reduce sums them: their rows
    concatenated on the first replica's device."""
    parts = list(grad.values)
    device = parts[0].values._device
    values = _array.concat([copy_to_device(p.values, device) for p in parts], axis=0)
    indices = _array.concat([copy_to_device(p.indices, device) for p in parts], axis=0)
    return IndexedSlices(values, indices, parts[0].dense_shape)
