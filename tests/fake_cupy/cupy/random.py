"""``cupy.random`` of the fake CuPy: NumPy generators behind CuPy's API (device
results; CuPy's extra ``dtype=`` arguments; Generator methods CuPy 14 has)."""

import numpy

from cupy._core import ndarray, wrap

_GENERATOR_METHODS = {"random", "uniform", "integers", "beta", "binomial", "chisquare",
                      "dirichlet", "exponential", "f", "gamma", "geometric",
                      "hypergeometric", "logseries", "poisson", "power",
                      "standard_exponential", "standard_gamma", "standard_normal"}


def _host(value):
    if isinstance(value, ndarray):
        return value._a
    if isinstance(value, numpy.ndarray):
        raise TypeError(f"Unsupported type {type(value)}: a host numpy.ndarray")
    return value


class Generator:
    """CuPy's ``Generator``: only the methods CuPy 14 implements."""

    def __init__(self, bit_generator=None, *, _np=None):
        self._g = _np if _np is not None else numpy.random.default_rng()

    def __getattr__(self, name):
        if name not in _GENERATOR_METHODS:
            raise AttributeError(f"'cupy.random.Generator' object has no attribute {name!r}")
        method = getattr(self._g, name)

        def call(*args, dtype=None, **kwargs):
            args = [_host(a) for a in args]
            kwargs = {k: _host(v) for k, v in kwargs.items()}
            if dtype is not None and name in ("integers",):
                kwargs["dtype"] = dtype
            result = numpy.asarray(method(*args, **kwargs))
            if dtype is not None and name != "integers":
                if numpy.dtype(dtype).char not in "fd":
                    raise TypeError(f"Unsupported dtype {numpy.dtype(dtype).name} for {name}")
                result = result.astype(dtype)
            return wrap(result)
        return call


def default_rng(seed=None):
    if isinstance(seed, ndarray):
        seed = int(seed)
    return Generator(_np=numpy.random.default_rng(seed))


class RandomState:
    """CuPy's legacy ``RandomState`` (most methods take ``dtype=``)."""

    def __init__(self, seed=None, method=None):
        self._rs = numpy.random.RandomState(seed)

    def seed(self, seed=None):
        self._rs.seed(seed)

    def __getattr__(self, name):
        method = getattr(self._rs, name)

        def call(*args, dtype=None, **kwargs):
            args = [_host(a) for a in args]
            kwargs = {k: _host(v) for k, v in kwargs.items()}
            if name in ("randint", "random_integers") and dtype is not None:
                kwargs["dtype"] = dtype
                dtype = None
            result = method(*args, **kwargs)
            if name in ("shuffle",):
                return None
            result = numpy.asarray(result)
            return wrap(result if dtype is None else result.astype(dtype))
        return call


_state = RandomState()


def get_random_state():
    return _state


def set_random_state(rs):
    global _state
    _state = rs


def seed(seed=None):
    _state.seed(seed)


def shuffle(a):
    if not isinstance(a, ndarray):
        raise TypeError("The array must be cupy.ndarray")
    a._a[...] = a._a[_state._rs.permutation(len(a._a))]


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(_state, name)
