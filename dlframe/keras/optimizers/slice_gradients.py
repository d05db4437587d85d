"""IndexedSlices gradients (an embedding's rows) before an optimizer densifies them,
treated as TF 2.21 treats them: value clipping clips each row of the slices, norm
clipping scales the rows by the norm of the slices' values (global norm clipping then
densifies them), an optimizer's squared (or absolute) gradient term adds the squares
of the rows of a repeated id, and the replicas of a strategy concatenate their rows
(a repeated id keeps one row per replica, so the per-row squares see each of them)."""

from dlframe import distribute as _distribute
from dlframe.core.indexed_slices import IndexedSlices
from dlframe.core.tensor import convert_to_tensor, copy_to_device
from dlframe.keras.optimizers.clipping import _clip_by_norm, global_norm_scale
from dlframe.ops import array_join as _array
from dlframe.ops import math as _math


def _clip(x, clipvalue):
    return _math.minimum(_math.maximum(x, -clipvalue), clipvalue)


def _on_values(g, fn):
    return IndexedSlices(fn(g.values), g.indices, g.dense_shape) \
        if isinstance(g, IndexedSlices) else fn(g)


def clip_slices(grads, clipnorm=None, global_clipnorm=None, clipvalue=None):
    """``grads`` clipped as TF 2.21 clips them when some are IndexedSlices, before
    they are densified; None when none is a slice or no clipping is set.

    ``clipnorm`` scales each gradient's rows by ``clipnorm / max(norm, clipnorm)``,
    the norm taken over the slices' values (a repeated id's rows count apart);
    ``global_clipnorm`` takes the global norm the same way and densifies the slices;
    ``clipvalue`` clips each row (a repeated id then sums its clipped rows).
    """
    if not any(isinstance(g, IndexedSlices) for g in grads):
        return None
    if clipnorm and clipnorm > 0:
        return [_on_values(g, lambda x: _clip_by_norm(x, float(clipnorm))) for g in grads]
    if global_clipnorm and global_clipnorm > 0:
        scale = global_norm_scale(
            [g.values if isinstance(g, IndexedSlices) else g for g in grads],
            float(global_clipnorm))
        dense = [convert_to_tensor(g) for g in grads]
        return [_math.multiply(g, _math.cast(scale, g.dtype)) for g in dense]
    if clipvalue and clipvalue > 0:
        return [_on_values(g, lambda x: _clip(x, float(clipvalue))) for g in grads]
    return None


def densify_with_rows(grad, variable, row_fn):
    """``(dense, rows)`` for an update by ``grad``: an IndexedSlices' rows summed per
    id (in the variable's dtype) and ``row_fn`` (``square``, ``abs``) of each row
    summed per id, as TF 2.21's optimizers take a repeated id's squared term; a dense
    ``grad`` gives ``(grad, None)``."""
    if not isinstance(grad, IndexedSlices):
        return grad, None
    values = _math.cast(grad.values, variable.dtype)
    dense = convert_to_tensor(IndexedSlices(values, grad.indices, grad.dense_shape))
    rows = convert_to_tensor(IndexedSlices(row_fn(values), grad.indices, grad.dense_shape))
    return dense, rows


def kernel_rows(grad, variable, row_fn=_math.square):
    """``(gradient, extra)`` for a fused dense kernel (``training_ops``): the summed
    gradient, and ``(rows,)`` of ``densify_with_rows`` as the kernel's optional last
    input (``()`` for a dense ``grad``)."""
    grad, rows = densify_with_rows(grad, variable, row_fn)
    return grad, () if rows is None else (rows,)


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
