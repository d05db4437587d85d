"""``tf.test.compute_gradient``: backprop Jacobians against finite differences.

For each argument ``x_i`` of ``f`` two Jacobians of ``y = f(*x)`` are returned, both
of shape ``(y.size, x_i.size)`` (row ``r`` is output element ``r``, column ``c``
input element ``c``, row-major) and of ``x_i``'s real dtype:

* the theoretical one, row by row from ``GradientTape.gradient`` with a one-hot
  ``output_gradients``;
* the numerical one, column by column from central differences
  ``(f(x + delta e_c) - f(x - delta e_c)) / (2 delta)``.

Complex values count as two reals (real part, then imaginary part), so a complex
argument or output doubles its dimension, as in TensorFlow.
"""

from dlframe.backends.base import np  # host Jacobians
from dlframe.core.tape import GradientTape
from dlframe.core.tensor import Tensor, convert_to_tensor

# TF's default step: 2**-10 is exact in binary floating point.
DEFAULT_DELTA = 1.0 / 1024


def _real_numpy_dtype(dtype):
    return dtype.real_dtype.as_numpy_dtype if dtype.is_complex else dtype.as_numpy_dtype


def _check_output(y):
    if not isinstance(y, Tensor):
        raise TypeError(f"compute_gradient: f must return a single Tensor, got "
                        f"{type(y).__name__}: {y!r}")
    return y


def _as_real(flat, is_complex):
    """A complex vector as interleaved (real, imag) reals; real vectors unchanged."""
    if not is_complex:
        return flat.real if np.iscomplexobj(flat) else flat
    out = np.empty(2 * flat.size, dtype=flat.real.dtype)
    out[0::2], out[1::2] = flat.real, flat.imag
    return out


def _theoretical(f, xs):
    with GradientTape(persistent=True) as tape:
        for x in xs:
            tape.watch(x)
        y = _check_output(f(*xs))
    y_complex = y.dtype.is_complex
    y_np_dtype = y.dtype.as_numpy_dtype
    size = int(np.prod(y.shape, dtype=np.int64))
    parts = (1, 1j) if y_complex else (1,)
    rows = size * len(parts)
    jacobians = [np.zeros((rows, int(np.prod(x.shape, dtype=np.int64))
                           * (2 if x.dtype.is_complex else 1)),
                          dtype=_real_numpy_dtype(x.dtype)) for x in xs]
    for r in range(size):
        for p, part in enumerate(parts):
            seed = np.zeros(size, dtype=y_np_dtype)
            seed[r] = part
            grads = tape.gradient(y, list(xs),
                                  output_gradients=convert_to_tensor(
                                      seed.reshape(tuple(y.shape))),
                                  unconnected_gradients="zero")
            for x, grad, jacobian in zip(xs, grads, jacobians):
                if grad is None:
                    continue
                flat = np.asarray(grad.numpy()).reshape(-1)
                jacobian[r * len(parts) + p, :] = _as_real(flat, x.dtype.is_complex)
    del tape
    return jacobians


def _numerical(f, xs, delta):
    host = [np.array(x.numpy()) for x in xs]   # 0-d values too
    jacobians = []
    for i, x in enumerate(xs):
        steps = (delta, 1j * delta) if x.dtype.is_complex else (delta,)
        columns = []
        for c in range(host[i].size):
            for step in steps:
                values = []
                for sign in (1, -1):
                    shifted = host[i].copy()
                    shifted.flat[c] = shifted.flat[c] + sign * step
                    args = list(xs)
                    args[i] = convert_to_tensor(shifted)
                    values.append(_check_output(f(*args)))
                y_complex = values[0].dtype.is_complex
                plus, minus = (v.numpy().reshape(-1) for v in values)
                diff = (plus - minus) / plus.dtype.type(2 * delta)
                columns.append(_as_real(diff, y_complex))
        rows = columns[0].size if columns else _output_rows(f, xs)
        jacobian = (np.stack(columns, axis=1) if columns
                    else np.zeros((rows, 0)))
        jacobians.append(jacobian.astype(_real_numpy_dtype(x.dtype)))
    return jacobians


def _output_rows(f, xs):
    y = _check_output(f(*xs))
    return int(np.prod(y.shape, dtype=np.int64)) * (2 if y.dtype.is_complex else 1)


def compute_gradient(f, x, delta=None):
    """Theoretical and numerical Jacobians of ``f`` with respect to its arguments.

    Args:
      f: function of the tensors in ``x`` returning one Tensor.
      x: list or tuple of arguments of ``f`` (tensors, arrays, Python numbers) of
        floating or complex dtype.
      delta: finite-difference step (default 1/1024).

    Returns:
      ``(theoretical, numerical)``: tuples with one NumPy Jacobian per argument,
      each of shape ``(y.size, x_i.size)`` (complex parts counted twice).

    Raises:
      ValueError: when ``x`` is not a list or tuple.
      AssertionError: when an argument is not floating or complex (as TF).
    """
    if not isinstance(x, (list, tuple)):
        raise ValueError(  # noqa: TRY004 - TF's error type
            f"`x` must be a list or tuple of values convertible to a Tensor "
            f"(arguments to `f`), not a {type(x)}")
    delta = DEFAULT_DELTA if delta is None else float(delta)
    xs = [convert_to_tensor(v) for v in x]
    for i, t in enumerate(xs):
        if not (t.dtype.is_floating or t.dtype.is_complex):
            raise AssertionError(f"Cannot compute gradient for unsupported type "
                                 f"{t.dtype.name} of argument {i}")
    return tuple(_theoretical(f, xs)), tuple(_numerical(f, xs, delta))


def max_error(grad1, grad2):
    """Largest absolute difference between two lists of Jacobians."""
    error = 0.0
    for a, b in zip(grad1, grad2):
        if np.size(a):
            error = max(error, float(np.max(np.abs(np.asarray(a, np.float64)
                                                   - np.asarray(b, np.float64)))))
    return error
