"""Gradient transforms the Keras optimizers share: clipping by norm, by global norm
and by value (``clipnorm``, ``global_clipnorm``, ``clipvalue``), and the periodic-step
test used by gradient accumulation and EMA overwrites."""

from dlframe.core import dtypes
from dlframe.core.tensor import convert_to_tensor
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red


def _every(iterations, period):
    """True (a bool Tensor) on every ``period``-th step: ``(iterations + 1) % period
    == 0``."""
    return _math.equal(_math.floormod(iterations + 1, period), 0)


def _l2norm(g):
    return _math.sqrt(_red.reduce_sum(_math.square(g)))


def _clip_by_norm(g, clip):
    norm = _l2norm(g)
    scale = _math.divide(convert_to_tensor(clip, dtype=g.dtype, device=g._device),
                         _math.maximum(norm, clip))
    return _math.multiply(g, scale)


def global_norm_scale(tensors, clip):
    """``clip / max(global_norm, clip)`` (float32) for ``tensors``."""
    total = None
    for g in tensors:
        s = _red.reduce_sum(_math.square(_math.cast(g, dtypes.float32)))
        total = s if total is None else _math.add(total, s)
    norm = _math.sqrt(total)
    return _math.divide(clip, _math.maximum(norm, clip))


def clip_by_global_norm(grads, clip):
    """Scales all ``grads`` by ``clip / max(global_norm, clip)``."""
    scale = global_norm_scale(grads, clip)
    return [_math.multiply(g, _math.cast(scale, g.dtype)) for g in grads]


def clip_gradients(grads, clipnorm=None, global_clipnorm=None, clipvalue=None):
    """``grads`` clipped as a Keras optimizer does: per-gradient norm first, else the
    global norm, else elementwise value; unchanged when none is set (or <= 0)."""
    if clipnorm and clipnorm > 0:
        return [_clip_by_norm(g, float(clipnorm)) for g in grads]
    if global_clipnorm and global_clipnorm > 0:
        return clip_by_global_norm(grads, float(global_clipnorm))
    if clipvalue and clipvalue > 0:
        c = float(clipvalue)
        return [_math.minimum(_math.maximum(g, -c), c) for g in grads]
    return grads
