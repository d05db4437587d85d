"""Keras 3's seeded dropout in two primitives: the keep mask and its application.

``keras.random.dropout`` (and the Dropout layers after
``keras.utils.set_random_seed``) draw TF's ``stateless_dropout``: uniforms from
the layer's folded int64 seed state, kept where ``>= rate``, scaled by
``1 / (1 - rate)``: ``(x * scale) * keep``. ``StatelessDropoutMask`` folds the
seed and makes ``keep`` from the Philox words without building the uniforms
(``philox.keep_mask``); ``DropoutScaleKeep`` applies it in TF's order (``x *
(scale * keep)`` would give 0 where TF's ``x * scale`` overflows to inf and
``inf * 0`` is NaN), its gradient in TF's order too: ``(dy * keep) * scale``.
Two primitives instead of eight, the same numbers.
"""

from dlframe.backends.base import np
from dlframe.core.primitive import call, primitive
from dlframe.ops import philox


def _folded(xp, seed, fold):
    """``seed mod fold`` as int32 (Keras 3's int64 seed states; an int32 seed is
    already folded), on the seed's device."""
    if fold is None or seed.dtype == np.int32:
        return seed
    return xp.mod(seed, seed.dtype.type(fold)).astype(np.int32)


@primitive("StatelessDropoutMask")
def stateless_dropout_mask_p(d, seed, *, shape, dtype, rate, fold):
    """1 where the stateless uniform of ``dtype`` drawn from ``seed`` (a ``[2]``
    int tensor, folded modulo ``fold`` unless int32) is ``>= rate``, else 0
    (``dtype`` entries of ``shape``)."""
    if d.xp is not np:   # on the device: no host read of the seed (capturable)
        state = philox.stateless_device_state(d.xp, _folded(d.xp, seed, fold))
        bits = philox.DeviceBits(d.xp, state)
    else:
        s0, s1 = (int(v) for v in _folded(np, d.to_numpy(seed).reshape(-1), fold))
        bits = philox.Bits(np, *philox.stateless_key_counter(s0, s1))
    return philox.keep_mask(bits, shape, dtype, rate)


@primitive("DropoutScaleKeep")
def scale_keep_p(d, x, keep, *, scale, scale_first=True):
    """``(x * scale) * keep`` (``scale_first``; else ``(x * keep) * scale``), with
    ``scale`` rounded to ``x``'s dtype."""
    s = x.dtype.type(scale)
    if scale_first:
        return d.xp.multiply(x, s) * keep
    return d.xp.multiply(x * keep, s)


@scale_keep_p.defgrad
def _scale_keep_grad(inputs, out, dy, *, scale, scale_first=True):
    return call(scale_keep_p, (dy, inputs[1]),
                {"scale": scale, "scale_first": not scale_first}), None
