"""``tf.experimental.numpy`` functions that Keras's ``ops.numpy`` does not have:
``broadcast_arrays``, ``compress``, ``diag_indices``, ``divmod``, ``flatten``,
``float_power``, ``iscomplex``, ``ix_``, ``polyval`` (plus ``gcd``, ``lcm``,
``isreal``, ``nextafter``, ``vander`` re-exported from ``numpy_api_extra``).

All are written with dlframe ops, so the float ones are differentiable."""

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.ops import array as _a
from dlframe.ops import array_index as _ai
from dlframe.ops import math as _m
from dlframe.ops.numpy_api import as_tensor, floor_divide, mod, power, promote
from dlframe.ops.numpy_api_extra import (
    gcd,
    isreal,
    lcm,
    nextafter,
    vander,
)
from dlframe.ops.numpy_api_shape import broadcast_to, ravel


def broadcast_arrays(*args, **kwargs):
    """The arguments broadcast against each other (a list of tensors).

    Args:
      *args: array-likes.
    """
    tensors = [as_tensor(a) for a in args]
    shape = np.broadcast_shapes(*[tuple(t._value.shape) for t in tensors])
    return [broadcast_to(t, shape) for t in tensors]


def compress(condition, a, axis=None):
    """The slices of ``a`` along ``axis`` where ``condition`` is true (``a``
    flattened when ``axis`` is None); a shorter ``condition`` selects from the start.

    Args:
      condition: 1-D booleans (or values tested for non-zero).
      a: the array.
      axis: the axis to select along (None: the flattened array).
    """
    cond = np.asarray(as_tensor(condition).numpy()).reshape(-1).astype(bool)
    a = as_tensor(a)
    if axis is None:
        a, axis = ravel(a), 0
    size = a._value.shape[axis]
    if cond.size > size:
        raise ValueError(f"compress: `condition` has {cond.size} entries but the axis "
                         f"has size {size}")
    return _ai.gather(a, np.nonzero(cond)[0].astype(np.int64), axis=axis)


def diag_indices(n, ndim=2):
    """The int32 index arrays of the main diagonal of an ``n``-sided array of
    ``ndim`` dimensions.

    Args:
      n: the size of each dimension.
      ndim: the number of dimensions.
    """
    n, ndim = int(n), int(ndim)
    if n < 0:
        raise ValueError(f"diag_indices: `n` must be non-negative, got {n}")
    idx = as_tensor(np.arange(n, dtype=np.int32))
    return tuple(idx for _ in range(ndim))


def divmod(x1, x2):
    """``(floor_divide(x1, x2), mod(x1, x2))``.

    Args:
      x1: dividends.
      x2: divisors.
    """
    return floor_divide(x1, x2), mod(x1, x2)


def flatten(a, order="C"):
    """``a`` as a 1-D array.

    Args:
      a: the array.
      order: "C" (row-major) or "F" (column-major).
    """
    if order not in ("C", "F"):
        raise ValueError(f"flatten: `order` must be 'C' or 'F', got {order!r}")
    a = as_tensor(a)
    if order == "F":
        a = _a.transpose(a, list(range(a._value.ndim))[::-1])
    return ravel(a)


def float_power(x1, x2):
    """``x1 ** x2`` elementwise; as TF's tnp, integer arguments keep an integer
    result type (``power``'s promotion).

    Args:
      x1: bases.
      x2: exponents.
    """
    return power(x1, x2)


def iscomplex(x):
    """Whether each element has a non-zero imaginary part (bool).

    Args:
      x: the array.
    """
    return _m.logical_not(isreal(x))


def iscomplexobj(x):
    """True when ``x``'s dtype is complex (whatever its values), a Python bool.

    Args:
      x: an array-like.
    """
    return as_tensor(x).dtype.is_complex


def isrealobj(x):
    """True when ``x``'s dtype is not complex, a Python bool.

    Args:
      x: an array-like.
    """
    return not iscomplexobj(x)


def ix_(*args):
    """Open-mesh index arrays: the ``i``-th of ``n`` 1-D inputs reshaped to have its
    values along axis ``i`` and size 1 elsewhere.

    Args:
      *args: 1-D integer (or boolean, meaning their non-zero positions) arrays.
    """
    out = []
    n = len(args)
    for i, seq in enumerate(args):
        t = as_tensor(seq)
        if t._value.ndim != 1:
            raise ValueError(f"ix_: arguments must be 1-D, argument {i} has shape "
                             f"{tuple(t._value.shape)}")
        if t.dtype == dtypes.bool:
            t = as_tensor(np.nonzero(t.numpy())[0].astype(np.int64))
        shape = [1] * n
        shape[i] = -1
        out.append(_a.reshape(t, shape))
    return out


def polyval(p, x):
    """The polynomial with coefficients ``p`` (highest power first) at ``x``
    (Horner's scheme).

    Args:
      p: 1-D coefficients.
      x: the points.
    """
    p = as_tensor(p)
    if p._value.ndim != 1:
        raise ValueError(f"polyval: `p` must be 1-D, got shape {tuple(p._value.shape)}")
    coeffs = [p[i] for i in range(p._value.shape[0])]
    x = as_tensor(x)
    result = _m.zeros_like(promote(coeffs[0], x)[1]) if coeffs else x
    for c in coeffs:
        a, b = promote(_m.multiply(*promote(result, x)), c)
        result = _m.add(a, b)
    return result


__all__ = ["broadcast_arrays", "compress", "diag_indices", "divmod", "flatten",
           "float_power", "gcd", "iscomplex", "iscomplexobj", "isreal", "isrealobj",
           "ix_", "lcm", "nextafter",
           "polyval", "vander"]
