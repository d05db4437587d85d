"""More NumPy-style functions of Keras 3's ``keras.ops.numpy``: window functions,
``histogram``, ``unique``, ``isin``, integer math (``gcd``, ``lcm``), NaN-ignoring
statistics (``nanmax``, ``nanstd``, ``nanmedian``...), ``trapezoid``, ``vander``,
``corrcoef``, ``correlate``, ``argpartition``, ``view`` and ``vectorize``.

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
from dlframe.ops import sorting as _s
from dlframe.ops import special_functions as _sf
from dlframe.ops import special_math as _sm
from dlframe.ops.numpy_api import (
    as_tensor,
    default_float,
    default_int,
    float_tensor,
    promote,
    scalar,
    to_float,
)
from dlframe.ops.numpy_api_reduce import (
    _METHODS,
    _nan_filled,
    interpolation_points,
    nanmean,
)


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axis = axis if isinstance(axis, (list, tuple)) else (axis,)
    return tuple(sorted(a % ndim for a in axis)) if ndim else ()


# ---------------------------------------------------------------- windows
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


# ---------------------------------------------------------------- histogram, sets
@primitive("KerasHistogram", n_out=2)
def _histogram_p(d, x, *, bins, value_range):
    counts, edges = d.xp.histogram(x.reshape(-1), bins=bins, range=value_range)
    return counts.astype(x.dtype), edges.astype(x.dtype)


def histogram(x, bins=10, range=None):
    """Counts of ``x``'s values in ``bins`` equal-width bins.

    Args:
      x: input tensor (flattened).
      bins: number of bins.
      range: ``(low, high)`` of the bins (default: ``x``'s min and max).

    Returns:
      ``(counts, bin_edges)``: ``bins`` counts and ``bins + 1`` edges, both float.
    """
    x = float_tensor(x)
    if not isinstance(bins, int) or bins < 1:
        raise ValueError(f"histogram: `bins` must be a positive int, got {bins!r}")
    if range is not None:
        if len(range) != 2 or float(range[0]) > float(range[1]):
            raise ValueError(f"histogram: `range` must be (low, high) with low <= high, "
                             f"got {range!r}")
        range = (float(range[0]), float(range[1]))
    return call(_histogram_p, (x,), {"bins": bins, "value_range": range})


@primitive("KerasUnique", n_out=4)
def _unique_p(d, x, *, axis, keep_order, size, fill_value, index_dtype):
    xp = d.xp
    if axis is None:
        x = x.reshape(-1)
    values, first, inverse, counts = xp.unique(
        x, return_index=True, return_inverse=True, return_counts=True, axis=axis)
    inverse = inverse.reshape(-1)
    if keep_order:  # first-occurrence order
        order = xp.argsort(first, kind="stable")
        rank = xp.empty_like(order)
        rank[order] = xp.arange(order.size)
        values = xp.take(values, order, axis=0 if axis is None else axis)
        first, counts, inverse = first[order], counts[order], rank[inverse]
    if size is not None:
        n = first.shape[0]
        if n > size:
            take = xp.arange(size)
            values = xp.take(values, take, axis=0 if axis is None else axis)
            first, counts = first[:size], counts[:size]
        elif n < size:
            pad_axis = 0 if axis is None else axis
            widths = [(0, 0)] * values.ndim
            widths[pad_axis] = (0, size - n)
            fill = values.flat[0] if fill_value is None and values.size else fill_value
            values = xp.pad(values, widths, constant_values=fill if fill is not None
                            else 0)
            first = xp.pad(first, (0, size - n))
            counts = xp.pad(counts, (0, size - n))
    return (values, first.astype(index_dtype), inverse.astype(index_dtype),
            counts.astype(index_dtype))


_unique_p.value_shaped = True   # its output size depends on input values


def unique(x, sorted=True, return_index=False, return_inverse=False,
           return_counts=False, axis=None, size=None, fill_value=None):
    """The unique elements of ``x`` (NumPy's ``unique``).

    Args:
      x: input tensor.
      sorted: sort the unique values (False keeps first-occurrence order).
      return_index: also return the index of each value's first occurrence.
      return_inverse: also return, per element of ``x``, the index of its value.
      return_counts: also return how often each value occurs.
      axis: unique slices along this axis (default: over the flattened tensor).
      size: pad (with ``fill_value``, default the first unique value) or cut the
        result to this many entries, for static shapes.
      fill_value: the padding value when ``size`` is given.

    Returns:
      The unique values, or a tuple with the requested extra int32 arrays.
    """
    x = as_tensor(x)
    if axis is not None:
        axis = int(axis) % max(x._value.ndim, 1)
    values, first, inverse, counts = call(_unique_p, (x,), {
        "axis": axis, "keep_order": not sorted,
        "size": None if size is None else int(size), "fill_value": fill_value,
        "index_dtype": default_int()._np})
    extra = [t for flag, t in ((return_index, first), (return_inverse, inverse),
                               (return_counts, counts)) if flag]
    return tuple([values] + extra) if extra else values


@primitive("KerasIsIn")
def _isin_p(d, x1, x2, *, assume_unique, invert):
    return d.xp.isin(x1, x2, assume_unique=assume_unique, invert=invert)


def isin(x1, x2, assume_unique=False, invert=False):
    """Whether each element of ``x1`` occurs in ``x2`` (bool, shaped like ``x1``).

    Args:
      x1: the elements to test.
      x2: the values to look for.
      assume_unique: both inputs have unique elements (faster).
      invert: return the opposite test.
    """
    a, b = promote(x1, x2)
    return call(_isin_p, (a, b), {"assume_unique": bool(assume_unique),
                                  "invert": bool(invert)})


# ---------------------------------------------------------------- integer / float bits
@primitive("KerasGcd")
def _gcd_p(d, a, b):
    return d.xp.gcd(a, b)


@primitive("KerasLcm")
def _lcm_p(d, a, b):
    return d.xp.lcm(a, b)


def _integer_pair(x1, x2, op):
    a, b = promote(x1, x2)
    if a._value.dtype.kind not in "iu":
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
    if x2._value.dtype.kind not in "iu":
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
    if x._value.dtype.kind not in "fc":
        x = _m.cast(x, dtypes.float64)
    return _sf.bessel_i0(x)


def isreal(x):
    """Whether each element has a zero imaginary part (bool).

    Args:
      x: input tensor.
    """
    x = as_tensor(x)
    if x._value.dtype.kind == "c":
        return _m.equal(_m.imag(x), _m.zeros_like(_m.imag(x)))
    return _m.ones_like(x, dtype=dtypes.bool)


# ---------------------------------------------------------------- NaN statistics
def _all_nan(x, axis, keepdims):
    return _r.reduce_all(_m.is_nan(x), axis=axis, keepdims=keepdims)


def _nan_extreme(name, reduce, fill):
    def fn(x, axis=None, keepdims=False):
        x = as_tensor(x)
        if x._value.dtype.kind != "f":
            return reduce(x, axis=axis, keepdims=keepdims)
        out = reduce(_nan_filled(x, fill), axis=axis, keepdims=keepdims)
        nan = _m.multiply(_m.ones_like(out), float("nan"))
        return _m.where(_all_nan(x, axis, keepdims), nan, out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``{name[3:]}`` over ``axis`` ignoring NaNs (NaN where a slice is all "
                  "NaN).\n\n    Args:\n      x: input tensor.\n      axis: int, tuple "
                  "of ints or None.\n      keepdims: keep reduced axes with length 1.\n"
                  "    ")
    return fn


nanmax = _nan_extreme("nanmax", _r.reduce_max, float("-inf"))
nanmin = _nan_extreme("nanmin", _r.reduce_min, float("inf"))


def _nan_arg(name, reduce, fill):
    def fn(x, axis=None, keepdims=False):
        x = as_tensor(x)
        ndim = x._value.ndim
        flat = axis is None
        if flat:
            x = _a.reshape(x, [-1])
        out = reduce(_nan_filled(x, fill), axis=0 if flat else axis,
                     output_type=default_int())
        if keepdims:
            if flat:
                return _a.reshape(out, [1] * ndim)
            out = _a.expand_dims(out, axis)
        return out
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Index of the {name[6:]} over ``axis`` ignoring NaNs (over the "
                  "flattened tensor when ``axis`` is None).\n\n    Args:\n      x: input "
                  "tensor.\n      axis: int or None.\n      keepdims: keep the reduced axis "
                  "with length 1.\n    ")
    return fn


nanargmax = _nan_arg("nanargmax", _r.argmax, float("-inf"))
nanargmin = _nan_arg("nanargmin", _r.argmin, float("inf"))


def nanvar(x, axis=None, keepdims=False):
    """Population variance over ``axis`` ignoring NaNs.

    Args:
      x: input tensor.
      axis: int, tuple of ints or None.
      keepdims: keep reduced axes with length 1.
    """
    x = float_tensor(x)
    valid = _m.logical_not(_m.is_nan(x))
    filled = _nan_filled(x, 0.0)   # NaNs replaced before any arithmetic: finite grads
    centred = _m.where(valid, _m.subtract(filled, nanmean(x, axis, keepdims=True)),
                       _m.zeros_like(filled))
    count = _r.reduce_sum(_m.cast(valid, x.dtype), axis=axis, keepdims=keepdims)
    return _m.divide(_r.reduce_sum(_m.square(centred), axis=axis, keepdims=keepdims),
                     count)


def nanstd(x, axis=None, keepdims=False):
    """Population standard deviation over ``axis`` ignoring NaNs.

    Args:
      x: input tensor.
      axis: int, tuple of ints or None.
      keepdims: keep reduced axes with length 1.
    """
    return _m.sqrt(nanvar(x, axis, keepdims))


def _nan_scan(name, fn, fill):
    def scan(x, axis=None, dtype=None):
        x = as_tensor(x, dtype)
        if axis is None:
            x, axis = _a.reshape(x, [-1]), 0
        return fn(_nan_filled(x, fill), axis=axis)
    scan.__name__ = scan.__qualname__ = name
    scan.__doc__ = (f"Cumulative {name[6:-4]} along ``axis`` treating NaN as "
                    f"{int(fill)} (over the flattened tensor when ``axis`` is None).\n\n"
                    "    Args:\n      x: input tensor.\n      axis: int or None.\n"
                    "      dtype: optional dtype to compute in.\n    ")
    return scan


nancumsum = _nan_scan("nancumsum", _r.cumsum, 0.0)
nancumprod = _nan_scan("nancumprod", _r.cumprod, 1.0)


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantiles of ``x`` along ``axis`` ignoring NaNs.

    Args:
      x: input tensor.
      q: scalar or 1-D quantiles in [0, 1]; a 1-D ``q`` adds a leading axis.
      axis: int, tuple of ints or None.
      method: 'linear', 'lower', 'higher', 'midpoint' or 'nearest'.
      keepdims: keep reduced axes with length 1.
    """
    if method not in _METHODS:
        raise ValueError(f"nanquantile: `method` must be one of {_METHODS}, got "
                         f"{method!r}")
    x = float_tensor(x)
    nd = x._value.ndim
    axes = _axes(axis, nd)
    rest = [i for i in range(nd) if i not in axes]
    flat = _a.reshape(_a.transpose(x, rest + list(axes)) if nd else x,
                      [x._value.shape[i] for i in rest] + [-1])
    ordered = _s.sort(_nan_filled(flat, float("inf")), axis=-1)   # NaNs last
    count = _r.reduce_sum(_m.cast(_m.logical_not(_m.is_nan(flat)), x.dtype), axis=-1,
                          keepdims=True)
    qt = scalar(q, x)
    vector_q = qt._value.ndim == 1
    pos = _m.multiply(qt, _m.maximum(_m.subtract(count, 1.0), 0.0))   # [..., nq|1]
    lo, hi, frac = interpolation_points(pos, method)
    batch = ordered._value.ndim - 1
    take = lambda i: _ai.gather(ordered, _m.cast(i, dtypes.int32), axis=-1,
                                batch_dims=batch)
    a, b = take(lo), take(hi)
    out = _m.add(a, _m.multiply(_m.where(_m.equal(frac, 0.0), _m.zeros_like(a),
                                         _m.subtract(b, a)), frac))
    out = _m.where(_m.equal(_m.multiply(count, _m.ones_like(out)), 0.0),
                   _m.multiply(_m.ones_like(out), float("nan")), out)
    if vector_q:   # the quantile axis goes first, as NumPy
        last = out._value.ndim - 1
        out = _a.transpose(out, [last] + list(range(last)))
    else:
        out = _a.squeeze(out, axis=-1)
    if keepdims:
        lead = 1 if vector_q else 0
        for i in axes:
            out = _a.expand_dims(out, lead + i)
    return out


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th percentiles (``q`` in [0, 100]) along ``axis`` ignoring NaNs.

    Args:
      x: input tensor.
      q: scalar or 1-D percentiles.
      axis: int, tuple of ints or None.
      method: interpolation method (see ``nanquantile``).
      keepdims: keep reduced axes with length 1.
    """
    x = float_tensor(x)
    return nanquantile(x, _m.divide(scalar(q, x), 100.0), axis, method, keepdims)


def nanmedian(x, axis=None, keepdims=False):
    """The median along ``axis`` ignoring NaNs.

    Args:
      x: input tensor.
      axis: int, tuple of ints or None.
      keepdims: keep reduced axes with length 1.
    """
    return nanquantile(x, 0.5, axis, "linear", keepdims)


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
    want = dtypes.as_dtype(dtype)._np
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
