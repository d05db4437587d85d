"""Keras 3's seeded dropout in two primitives: the keep mask and its application.

``keras.random.dropout`` (and the Dropout layers after
``keras.utils.set_random_seed``) draw TF's ``stateless_dropout``: uniforms from
the layer's folded int64 seed state, kept where ``>= rate``, scaled by
``1 / (1 - rate)``: ``(x * scale) * keep``. ``StatelessDropoutMask`` folds the
seed and makes ``keep`` from the Philox words without building the uniforms
(``philox.keep_mask``); ``DropoutScaleKeep`` applies it as TF does: dropped
entries are 0 even where ``x`` is inf or NaN or ``x * scale`` overflows (a
select, not a product with the mask), kept ones ``x * scale`` (inf on overflow);
its gradient likewise: ``where(keep, dy, 0) * scale``. Two primitives instead of
eight, the same numbers.
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


_UINTS = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def select_kept(xp, y, kept):
    """``where(kept, y, +0)`` (TF's dropout select: a dropped entry is +0 even
    where ``y`` is inf or NaN), in place on ``y`` on the host: an AND of its bits
    with all-ones or zero words (NumPy's ``where`` on a random mask costs ~30x a
    product); a device's ``where`` is one kernel."""
    if xp is not np:
        return xp.where(kept, y, y.dtype.type(0)).astype(y.dtype, copy=False)
    y = np.asarray(y)   # (a 0-d product is a NumPy scalar)
    words = y.view(_UINTS[y.dtype.itemsize])
    words &= np.negative(kept.astype(words.dtype))   # kept: all ones; dropped: 0
    return y


@primitive("DropoutScaleKeep")
def scale_keep_p(d, x, keep, *, scale):
    """``where(keep, x * scale, 0)`` with ``scale`` rounded to ``x``'s dtype (the
    same select as ``where(keep, x, 0) * scale``: a dropped entry is +0)."""
    with np.errstate(over="ignore"):   # TF's inf where a kept value overflows
        return select_kept(d.xp, d.xp.multiply(x, x.dtype.type(scale)), keep != 0)


@scale_keep_p.defgrad
def _scale_keep_grad(inputs, out, dy, *, scale):
    return call(scale_keep_p, (dy, inputs[1]), {"scale": scale}), None
