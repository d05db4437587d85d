"""Math, special functions, linalg, nn and py_func ops on every device (round 21,
the first real GPU run).

Each test runs through the ``device`` fixture (cpu:0 always, gpu:0 where there is
one) against NumPy/SciPy references. Where TF's GPU kernels differ from its CPU ones
by design (out-of-range sparse labels give NaN; NaN cast to int32 gives 0), the
expected value depends on the device, as it does in TF.
"""

import numpy as np
import pytest
import scipy.special as sp

import dlframe as tf

RNG = np.random.default_rng(2121)


def _on(device, t):
    """Asserts ``t`` lives on ``device`` ('cpu:0' / 'gpu:0'); returns its value."""
    assert t.device.lower().endswith(device.replace("gpu", "device:gpu").replace(
        "cpu", "device:cpu")), (t.device, device)
    return t.numpy()


# ---------------------------------------------------------------- special functions
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_polygamma_scalar_and_tensor_orders(device, dtype):
    x = np.array([0.3, 1.5, 2.0, 7.25], dtype)
    for n in (0, 1, 3):
        got = _on(device, tf.math.polygamma(tf.constant(float(n), dtype), tf.constant(x)))
        np.testing.assert_allclose(got, sp.polygamma(n, x), rtol=1e-5)
        assert got.dtype == dtype
    orders = np.array([0.0, 1.0, 2.0, 0.5], dtype)
    got = _on(device, tf.math.polygamma(tf.constant(orders), tf.constant(x)))
    want = np.where(orders == np.floor(orders), sp.polygamma(
        np.floor(orders).astype(int), x), np.nan)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_lgamma_digamma_second_derivatives(device):
    x = tf.constant([0.7, 2.5, 4.0], tf.float64)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(tf.math.lgamma(x))
        g = inner.gradient(y, x)
    gg = outer.gradient(g, x)
    np.testing.assert_allclose(_on(device, g), sp.digamma(x.numpy()), rtol=1e-10)
    np.testing.assert_allclose(_on(device, gg), sp.polygamma(1, x.numpy()), rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_functions_cupy_lacks(device, dtype):
    # CuPy 14.2 has no dawsn, fresnel or spence: they run on host copies
    x = np.array([0.0, 0.4, 1.3, 3.0, 8.5], dtype)
    cases = [(tf.math.special.dawsn, sp.dawsn(x)),
             (tf.math.special.fresnel_sin, sp.fresnel(x)[0]),
             (tf.math.special.fresnel_cos, sp.fresnel(x)[1]),
             (tf.math.special.spence, sp.spence(x))]
    for fn, want in cases:
        got = _on(device, fn(tf.constant(x)))
        assert got.dtype == dtype, fn
        np.testing.assert_allclose(got, want, rtol=1e-6 if dtype == np.float32 else
                                   1e-12, atol=1e-12, err_msg=fn.__name__)
    xv = tf.constant(x[1:])
    with tf.GradientTape() as tape:
        tape.watch(xv)
        y = tf.reduce_sum(tf.math.special.dawsn(xv))
    # d/dx dawsn(x) = 1 - 2 x dawsn(x)
    want = 1 - 2 * x[1:] * sp.dawsn(x[1:])
    np.testing.assert_allclose(_on(device, tape.gradient(y, xv)), want, rtol=1e-5)


# ---------------------------------------------------------------- linalg
def test_singular_inverse_and_solve_raise(device):
    # TF's GPU kernels check the LU factorization's info as its CPU ones do
    singular = tf.constant([[1.0, 1.0], [1.0, 1.0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="not invertible"):
        tf.linalg.inv(singular)
    with pytest.raises(tf.errors.InvalidArgumentError, match="not invertible"):
        tf.linalg.inv(tf.stack([tf.eye(2), singular]))   # one of a batch
    with pytest.raises(tf.errors.InvalidArgumentError, match="not invertible"):
        tf.linalg.solve(singular, tf.constant([[2.0], [4.0]]))
    a = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
    np.testing.assert_allclose(_on(device, tf.linalg.inv(tf.constant(a))),
                               np.linalg.inv(a), rtol=1e-10)


@pytest.mark.parametrize("a_batch,b_batch", [((), (3,)), ((2, 1), (4,)), ((3,), ())])
def test_triangular_solve_broadcasts_batches(device, a_batch, b_batch):
    a = np.tril(RNG.standard_normal(a_batch + (4, 4))) + 4 * np.eye(4)
    b = RNG.standard_normal(b_batch + (4, 2))
    got = _on(device, tf.linalg.triangular_solve(tf.constant(a), tf.constant(b)))
    np.testing.assert_allclose(got, np.linalg.solve(a, b), rtol=1e-10)
    got = _on(device, tf.linalg.triangular_solve(tf.constant(a), tf.constant(b),
                                                 adjoint=True))
    np.testing.assert_allclose(got, np.linalg.solve(np.swapaxes(a, -1, -2), b),
                               rtol=1e-10)


# ---------------------------------------------------------------- variable scatters
@pytest.mark.parametrize("mode", ["add", "sub", "mul", "div", "max", "min"])
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_variable_scatter_repeated_rows(device, mode, dtype):
    init = RNG.integers(1, 9, (5, 3)).astype(dtype)
    rows = np.array([3, 0, 3, 4, 3])
    values = RNG.integers(1, 4, (5, 3)).astype(dtype)
    ufunc = {"add": np.add, "sub": np.subtract, "mul": np.multiply,
             "div": np.floor_divide if dtype == np.int32 else np.true_divide,
             "max": np.maximum, "min": np.minimum}[mode]
    want = init.copy()
    ufunc.at(want, rows, values)
    v = tf.Variable(init)
    getattr(v, f"scatter_{mode}")(tf.IndexedSlices(tf.constant(values),
                                                   tf.constant(rows)))
    np.testing.assert_allclose(_on(device, v.read_value()), want, rtol=1e-6)


def test_variable_scatter_nd_repeated_elements(device):
    init = np.arange(1.0, 13.0, dtype=np.float32).reshape(3, 4)
    idx = np.array([[0, 1], [2, 3], [0, 1]])
    upd = np.array([2.0, 40.0, 3.0], np.float32)
    for mode, ufunc in (("add", np.add), ("sub", np.subtract), ("max", np.maximum)):
        want = init.copy()
        ufunc.at(want, (idx[:, 0], idx[:, 1]), upd)
        v = tf.Variable(init)
        getattr(v, f"scatter_nd_{mode}")(tf.constant(idx), tf.constant(upd))
        np.testing.assert_allclose(_on(device, v.read_value()), want, rtol=1e-6)


# ---------------------------------------------------------------- nn / numerics
def test_sparse_xent_out_of_range_labels(device):
    logits = tf.constant([[1.0, 2.0, 0.5], [0.1, 0.2, 0.3]])
    if device.startswith("cpu"):
        with pytest.raises(tf.errors.InvalidArgumentError, match="label value of 5"):
            tf.nn.sparse_softmax_cross_entropy_with_logits([5, 0], logits)
        return
    # TF's GPU kernel: no host check, NaN loss for the out-of-range row
    got = _on(device, tf.nn.sparse_softmax_cross_entropy_with_logits([5, 0], logits))
    ref = _on(device, tf.nn.sparse_softmax_cross_entropy_with_logits([0, 0], logits))
    assert np.isnan(got[0]) and got[1] == ref[1]


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_sparse_xent_keeps_narrow_dtypes(device, dtype):
    logits = tf.constant([[1.0, -2.0, 0.5]], dtype=dtype)
    out = tf.nn.sparse_softmax_cross_entropy_with_logits([1], logits)
    assert out.dtype == tf.as_dtype(dtype)
    want = -np.log(sp.softmax(np.array([1.0, -2.0, 0.5])))[1]
    np.testing.assert_allclose(_on(device, out).astype(np.float32), [want], rtol=2e-2)


def test_saturate_cast_to_int32_per_device(device):
    got = _on(device, tf.dtypes.saturate_cast(
        tf.constant([np.nan, np.inf, -np.inf, 3e9, -3e9, 7.9], tf.float32), tf.int32))
    # NaN -> int is the device's cast, in TF as here: x86 INT_MIN, CUDA 0
    nan_as = -2**31 if device.startswith("cpu") else 0
    top = 2147483520   # the largest float32 below 2**31
    np.testing.assert_array_equal(got, [nan_as, top, -2**31, top, -2**31, 7])


# ---------------------------------------------------------------- py_func strings
@pytest.mark.parametrize("wrap", ["py_function", "numpy_function"])
def test_traced_py_func_string_results_live_on_the_host(device, wrap):
    fn = getattr(tf, wrap)

    @tf.function
    def texts(x):
        s = fn(lambda v: np.array(["ab", "cde"]), [x], tf.string)
        return s, tf.strings.length(s) + tf.cast(x, tf.int32)

    s, n = texts(tf.constant(1.0))
    assert s.numpy().tolist() == [b"ab", b"cde"]
    assert "CPU" in s.device   # strings stay in host memory, as in TF
    np.testing.assert_array_equal(n.numpy(), [3, 4])
