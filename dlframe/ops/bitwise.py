"""``tf.bitwise``: shifts (the and/or/xor/invert ops live in ``ops.logic``).

As TF's kernels, a shift amount is clamped to ``[0, bits - 1]`` and ``right_shift``
of a signed integer is arithmetic (it keeps the sign).
"""

from dlframe.core.primitive import primitive
from dlframe.ops.logic import (  # noqa: F401 - re-exported in tf.bitwise
    _ALLOWED,
    _bcast,
    _binary,
    bitwise_and,
    bitwise_or,
    bitwise_xor,
    invert,
)

_INTS = "iu"
_ALLOWED.setdefault(_INTS, "int8, int16, int32, int64, uint8, uint16, uint32, uint64")


def _shift(name, fn):
    def kernel(xp, x, y):
        bits = x.dtype.itemsize * 8
        return fn(xp, x, xp.clip(y, 0, bits - 1).astype(x.dtype))
    p = primitive(name)(_bcast(name, kernel))

    def op(x, y, name=None):
        return _binary(p, x, y, _INTS)
    op.__name__ = op.__qualname__ = name
    return op


_left = _shift("LeftShift", lambda xp, x, y: xp.left_shift(x, y))
_right = _shift("RightShift", lambda xp, x, y: xp.right_shift(x, y))


def left_shift(x, y, name=None):
    """``x << y`` elementwise for integer tensors (y clamped to the bit width)."""
    return _left(x, y)


def right_shift(x, y, name=None):
    """``x >> y`` elementwise (arithmetic for signed integers)."""
    return _right(x, y)


BITWISE_NAMES = ["bitwise_and", "bitwise_or", "bitwise_xor", "invert", "left_shift",
                 "right_shift"]
__all__ = []
