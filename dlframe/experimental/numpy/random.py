"""``tf.experimental.numpy.random``: NumPy-style sampling (float64 by default)."""

from dlframe.core import dtypes as _dtypes
from dlframe.ops import random as _random
from dlframe.ops import random_kernels as _kernels


def _shape(size):
    if size is None:
        return ()
    return (int(size),) if isinstance(size, int) else tuple(int(s) for s in size)


def seed(s):
    """Seeds the global random generator.

    Args:
      s: an int seed.
    """
    _kernels.set_seed(int(s))


def uniform(low=0.0, high=1.0, size=None):
    """Samples from ``[low, high)`` (float64).

    Args:
      low: lower bound.
      high: upper bound.
      size: output shape (None: a scalar).
    """
    return _random.uniform(_shape(size), low, high, dtype=_dtypes.float64)


def rand(*size):
    """Uniform samples in ``[0, 1)`` of shape ``size`` (float64)."""
    return uniform(size=size)


def random(size=None):
    """Uniform samples in ``[0, 1)`` (float64).

    Args:
      size: output shape (None: a scalar).
    """
    return uniform(size=size)


def standard_normal(size=None):
    """Standard normal samples (float64).

    Args:
      size: output shape (None: a scalar).
    """
    return _random.normal(_shape(size), dtype=_dtypes.float64)


def randn(*size):
    """Standard normal samples of shape ``size`` (float64)."""
    return standard_normal(size)


def randint(low, high=None, size=None, dtype=_dtypes.int64):
    """Integers sampled from ``[low, high)`` (``[0, low)`` when ``high`` is None).

    Args:
      low: lower bound (or the upper bound when ``high`` is None).
      high: upper bound (exclusive).
      size: output shape.
      dtype: integer dtype (default int64).
    """
    if high is None:
        low, high = 0, low
    if int(high) <= int(low):
        raise ValueError(f"randint: `high` ({high}) must be greater than `low` ({low})")
    return _random.uniform(_shape(size), int(low), int(high), dtype=dtype)


def poisson(lam=1.0, size=None):
    """Poisson samples (int64).

    Args:
      lam: rate.
      size: output shape.
    """
    return _random.poisson(_shape(size), lam, dtype=_dtypes.int64)
