"""Window functions of Keras 3's ``keras.ops.numpy``: ``bartlett``, ``blackman``,
``hamming``, ``hanning`` and ``kaiser`` (no gradient).
"""

from dlframe.core.primitive import call, primitive
from dlframe.ops.numpy_api import (
    default_float,
)


@primitive("KerasWindow")
def _window_p(d, *, kind, length, beta, dtype):
    xp = d.xp
    fn = getattr(xp, kind)
    win = fn(length, beta) if kind == "kaiser" else fn(length)
    return win.astype(dtype)


def _window(kind, x, beta=None):
    length = int(x.numpy()) if hasattr(x, "numpy") else int(x)
    if length < 0:
        raise ValueError(f"{kind}: the window length `x` must be >= 0, got {length}")
    return call(_window_p, (), {"kind": kind, "length": length, "beta": beta,
                                "dtype": default_float()._np})


def _window_factory(kind, doc):
    def window(x):
        return _window(kind, x)
    window.__name__ = window.__qualname__ = kind
    window.__doc__ = (f"The symmetric {doc} window of ``x`` points (float).\n\n"
                      "    Args:\n      x: the number of points (a Python int or scalar "
                      "tensor).\n    ")
    return window


bartlett = _window_factory("bartlett", "Bartlett (triangular)")
blackman = _window_factory("blackman", "Blackman")
hamming = _window_factory("hamming", "Hamming")
hanning = _window_factory("hanning", "Hann")


def kaiser(x, beta):
    """The symmetric Kaiser window of ``x`` points with shape parameter ``beta``.

    Args:
      x: the number of points.
      beta: the shape parameter (0 gives a rectangular window).
    """
    return _window("kaiser", x, float(beta))
