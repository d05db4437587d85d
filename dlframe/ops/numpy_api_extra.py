"""More NumPy-style functions of Keras 3's ``keras.ops.numpy``: integer math
(``gcd``, ``lcm``, ``ldexp``), ``trapezoid``, ``vander``, ``corrcoef``, ``correlate``,
``argpartition``, ``view`` and ``vectorize``; window functions (``numpy_api_windows``),
``histogram``/``unique``/``isin`` (``numpy_api_sets``) and NaN-ignoring statistics
(``numpy_api_nan``) are re-exported here, and ``__all__`` lists them all.

Set-like and integer functions have no gradient (as in every backend); the
statistics are written with dlframe ops, so they are differentiable and traceable.
"""

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.ops import array as _a
from dlframe.ops import array_index as _ai
from dlframe.ops import functional_ops as _fo
from dlframe.ops import linalg as _la
from dlframe.ops import math as _m
from dlframe.ops import reduction as _r
from dlframe.ops import special_functions as _sf
from dlframe.ops import special_math as _sm
from dlframe.ops.numpy_api import (
    as_tensor,
    dtype_kind,
    float_tensor,
    keras_dtype,
    promote,
    scalar,
    to_float,
)
from dlframe.ops.numpy_api_windows import (  # noqa: F401 - re-exported
    _window,
    _window_factory,
    _window_p,
    bartlett,
    blackman,
    hamming,
    hanning,
    kaiser,
)

# isort: split
# windows first: the primitives keep their registration order
from dlframe.ops.numpy_api_nan import (  # noqa: F401 - re-exported
    _all_nan,
    _axes,
    _nan_arg,
    _nan_extreme,
    _nan_scan,
    nanargmax,
    nanargmin,
    nancumprod,
    nancumsum,
    nanmax,
    nanmedian,
    nanmin,
    nanpercentile,
    nanquantile,
    nanstd,
    nanvar,
)
from dlframe.ops.numpy_api_sets import (  # noqa: F401 - re-exported
    _histogram_p,
    _isin_p,
    _unique_p,
    histogram,
    isin,
    unique,
)


# ---------------------------------------------------------------- integer / float bits
@primitive("KerasGcd")
def _gcd_p(d, a, b):
    return d.xp.gcd(a, b)


@primitive("KerasLcm")
def _lcm_p(d, a, b):
    return d.xp.lcm(a, b)


def _integer_pair(x1, x2, op):
    a, b = promote(x1, x2)
    if dtype_kind(a) not in "iu":
        raise TypeError(f"{op}: arguments must be integers, got {a.dtype.name}")
    return a, b


def gcd(x1, x2):
    """Elementwise greatest common divisor of two integer tensors.

    Args:
      x1: integer tensor.
      x2: integer tensor, broadcast against ``x1``.
    """
    return call(_gcd_p, tuple(_integer_pair(x1, x2, "gcd")))


def lcm(x1, x2):
    """Elementwise least common multiple of two integer tensors.

    Args:
      x1: integer tensor.
      x2: integer tensor, broadcast against ``x1``.
    """
    return call(_lcm_p, tuple(_integer_pair(x1, x2, "lcm")))


def ldexp(x1, x2):
    """``x1 * 2 ** x2`` elementwise (``x2`` integer).

    Args:
      x1: mantissas.
      x2: integer exponents.
    """
    x1 = float_tensor(x1)
    x2 = as_tensor(x2)
    if dtype_kind(x2) not in "iu":
        raise TypeError(f"ldexp: `x2` must be integer, got {x2.dtype.name}")
    return _m.multiply(x1, _m.pow(scalar(2.0, x1), _m.cast(x2, x1.dtype)))


def nextafter(x1, x2):
    """The next representable float after ``x1`` towards ``x2``.

    Args:
      x1: start values.
      x2: directions.
    """
    a, b = promote(x1, x2)
    return _sm.nextafter(to_float(a), to_float(b))


def i0(x):
    """The modified Bessel function of the first kind, order 0.

    Args:
      x: input tensor (integers are computed in float64, as Keras does).
    """
    x = as_tensor(x)
    if dtype_kind(x) not in "fc":
        x = _m.cast(x, dtypes.float64)
    return _sf.bessel_i0(x)


def isreal(x):
    """Whether each element has a zero imaginary part (bool).

    Args:
      x: input tensor.
    """
    x = as_tensor(x)
    if dtype_kind(x) == "c":
        return _m.equal(_m.imag(x), _m.zeros_like(_m.imag(x)))
    return _m.ones_like(x, dtype=dtypes.bool)


# ---------------------------------------------------------------- numeric helpers
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of ``y`` along ``axis`` by the trapezoidal rule.

    Args:
      y: sample values.
      x: optional sample points (1-D along ``axis``, or shaped like ``y``).
      dx: spacing between samples when ``x`` is None.
      axis: the integration axis.
    """
    y = float_tensor(y)
    nd = y._value.ndim
    axis = axis % nd
    n = y._value.shape[axis]
    first = _ai.gather(y, list(range(1, n)), axis=axis)
    last = _ai.gather(y, list(range(n - 1)), axis=axis)
    mid = _m.multiply(_m.add(first, last), 0.5)
    if x is None:
        return _r.reduce_sum(_m.multiply(mid, scalar(dx, y)), axis=axis)
    xt = _m.cast(as_tensor(x), y.dtype)
    if xt._value.ndim == 1:
        d = _m.subtract(xt[1:], xt[:-1])
        d = _a.reshape(d, [-1] + [1] * (nd - 1 - axis))
    else:
        d = _m.subtract(_ai.gather(xt, list(range(1, n)), axis=axis),
                        _ai.gather(xt, list(range(n - 1)), axis=axis))
    return _r.reduce_sum(_m.multiply(mid, d), axis=axis)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of 1-D ``x``: columns are powers of ``x``.

    Args:
      x: 1-D input.
      N: number of columns (default ``len(x)``).
      increasing: powers increase left to right (default: decrease).
    """
    x = as_tensor(x)
    if x._value.ndim != 1:
        raise ValueError(f"vander: `x` must be 1-D, got shape {tuple(x._value.shape)}")
    n = x._value.shape[0] if N is None else int(N)
    powers = list(range(n)) if increasing else list(range(n - 1, -1, -1))
    exps = as_tensor(np.asarray(powers, x._value.dtype), device=x._device)
    return _m.pow(_a.expand_dims(x, -1), exps)


def corrcoef(x):
    """Pearson correlation coefficients between the rows of ``x``.

    Args:
      x: ``[variables, observations]`` (or 1-D) input.
    """
    x = float_tensor(x)
    centred = _m.subtract(x, _r.reduce_mean(x, axis=-1, keepdims=True))
    cov = _la.matmul(centred, _m.conj(_a.transpose(centred))) if x._value.ndim == 2 \
        else _r.reduce_sum(_m.square(centred))
    if x._value.ndim != 2:
        return _m.divide(cov, cov)
    diag = _m.sqrt(_m.real(_la.diag_part(cov)))
    out = _m.divide(_m.divide(cov, _a.expand_dims(diag, -1)), _a.expand_dims(diag, 0))
    return _m.minimum(_m.maximum(out, -1.0), 1.0)


def correlate(x1, x2, mode="valid"):
    """Cross-correlation of two 1-D sequences (NumPy's ``correlate``).

    Args:
      x1: first sequence.
      x2: second sequence.
      mode: 'valid', 'same' or 'full'.
    """
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate: `mode` must be 'valid', 'same' or 'full', got "
                         f"{mode!r}")
    a, v = promote(x1, x2)
    a, v = to_float(a), to_float(v)
    for name, t in (("x1", a), ("x2", v)):
        if t._value.ndim != 1:
            raise ValueError(f"correlate: `{name}` must be 1-D, got shape "
                             f"{tuple(t._value.shape)}")
    m, n = a._value.shape[0], v._value.shape[0]
    padded = _a.pad(a, [[n - 1, n - 1]])
    idx = np.arange(m + n - 1)[:, None] + np.arange(n)[None, :]
    full = _r.reduce_sum(_m.multiply(_ai.gather(padded, idx), _m.conj(v)), axis=-1)
    if mode == "full":
        return full
    if mode == "valid":
        lo, length = min(m, n) - 1, abs(m - n) + 1
    else:   # NumPy's 'same' centring
        length = max(m, n)
        lo = (n - 1) // 2 if m >= n else m // 2
    return full[lo:lo + length]


@primitive("KerasArgPartition")
def _argpartition_p(d, x, *, kth, axis, dtype):
    # Keras' TF order: the kth+1 smallest sorted, then the rest in original order
    xp = d.xp
    x = xp.moveaxis(x, axis, -1)
    n = x.shape[-1]
    order = xp.argsort(x, axis=-1, kind="stable")
    head = order[..., :kth + 1]
    in_head = xp.zeros(x.shape, dtype="int8")
    xp.put_along_axis(in_head, head, 1, axis=-1)
    rest = xp.argsort(in_head, axis=-1, kind="stable")[..., :n - kth - 1]
    out = xp.concatenate([head, rest], axis=-1)
    return xp.moveaxis(out, -1, axis).astype(dtype)


def argpartition(x, kth, axis=-1):
    """Indices that partition ``x`` along ``axis`` around its ``kth`` element.

    Args:
      x: input tensor.
      kth: the element index (or indices) that end up in sorted position.
      axis: the axis to partition.
    """
    x = as_tensor(x)
    kth = max(int(k) for k in kth) if isinstance(kth, (list, tuple)) else int(kth)
    n = x._value.shape[axis] if x._value.ndim else 1
    if not -n <= kth < n:
        raise ValueError(f"argpartition: `kth` must be in [{-n}, {n}), got {kth}")
    return call(_argpartition_p, (x,), {"kth": kth % n, "axis": int(axis),
                                        "dtype": np.dtype("int32")})


@primitive("KerasView")
def _view_p(d, x, *, dtype):
    return d.xp.ascontiguousarray(x).view(dtype)


def view(x, dtype=None):
    """``x``'s bytes read as ``dtype`` (the last axis is rescaled, as NumPy's ``view``).

    Args:
      x: input tensor.
      dtype: the new dtype (None returns ``x`` unchanged).
    """
    x = as_tensor(x)
    if dtype is None:
        return x
    want = keras_dtype(dtype)._np
    size = x._value.dtype.itemsize
    last = x._value.shape[-1] if x._value.ndim else 1
    if want.itemsize != size and (x._value.ndim == 0 or
                                  (last * size) % want.itemsize):
        raise ValueError(f"view: the last axis ({last} x {size} bytes) is not a "
                         f"multiple of {want.name}'s {want.itemsize} bytes")
    return call(_view_p, (x,), {"dtype": want})


def _core_dims(signature):
    ins, out = signature.replace(" ", "").split("->")
    groups = [g.strip("()") for g in ins.split("),(")]
    return [len([d for d in g.split(",") if d]) for g in groups], out


def vectorize(pyfunc, *, excluded=None, signature=None):
    """``pyfunc`` applied to every element (or core-dimension slice) of its inputs.

    Args:
      pyfunc: a function of tensors.
      excluded: positions of arguments passed unchanged.
      signature: optional generalized ufunc signature such as ``"(n),(n)->()"``.

    Returns:
      The vectorized function (it broadcasts the non-core dimensions).
    """
    excluded = set(excluded or ())

    def vectorized(*args):
        mapped = [i for i in range(len(args)) if i not in excluded]
        tensors = [as_tensor(args[i]) for i in mapped]
        cores = (_core_dims(signature)[0] if signature is not None
                 else [0] * len(tensors))
        if len(cores) != len(tensors):
            raise ValueError(f"vectorize: the signature {signature!r} names "
                             f"{len(cores)} inputs, got {len(tensors)}")
        loops = [tuple(t._value.shape[:t._value.ndim - c]) for t, c in
                 zip(tensors, cores)]
        loop = np.broadcast_shapes(*loops) if loops else ()
        flat = []
        for t, c in zip(tensors, cores):
            core = list(t._value.shape[t._value.ndim - c:])
            t = _a.broadcast_to(t, list(loop) + core)
            flat.append(_a.reshape(t, [-1] + core))

        def one(elems):
            full = list(args)
            for i, e in zip(mapped, elems):
                full[i] = e
            return pyfunc(*full)
        out = _fo.vectorized_map(one, tuple(flat))
        return _a.reshape(out, list(loop) + list(out._value.shape[1:]))
    return vectorized


__all__ = [
    "argpartition", "bartlett", "blackman", "corrcoef", "correlate", "gcd", "hamming",
    "hanning", "histogram", "i0", "isin", "isreal", "kaiser", "lcm", "ldexp",
    "nanargmax", "nanargmin", "nancumprod", "nancumsum", "nanmax", "nanmedian",
    "nanmin", "nanpercentile", "nanquantile", "nanstd", "nanvar", "nextafter",
    "trapezoid", "unique", "vander", "vectorize", "view",
]
