"""``cupyx.scipy.special``: SciPy's special functions on device arrays (strict)."""

import scipy.special
from cupy import _core


def __getattr__(name):
    func = getattr(scipy.special, name)
    if not callable(func):
        return func

    def call(*args, **kwargs):
        result = func(*_core.unwrap_args(args, f"cupyx.scipy.special.{name}"),
                      **_core.unwrap_kwargs(kwargs, f"cupyx.scipy.special.{name}"))
        return _core.wrap(result)
    call.__name__ = name
    globals()[name] = call
    return call
