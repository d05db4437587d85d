"""The later keras.ops.numpy names (windows, histogram, unique, NaN statistics,
trapezoid, vander, corrcoef, correlate, argpartition, view, vectorize) against
NumPy, with values taken from TF 2.21 / Keras 3 where noted."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.keras import ops
from tests.helpers import check_function_matches_eager, check_grad, check_op

RNG = np.random.default_rng(5)
X_NAN = np.array([[1., np.nan, 3.], [4., 2., np.nan]], "float32")


@pytest.mark.parametrize("name", ["bartlett", "blackman", "hamming", "hanning"])
@pytest.mark.parametrize("n", [0, 1, 5, 8])
def test_windows_match_numpy(name, n):
    out = getattr(ops, name)(n)
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), getattr(np, name)(n), atol=1e-6)


def test_kaiser_and_bad_length():
    np.testing.assert_allclose(ops.kaiser(5, 2.0).numpy(), np.kaiser(5, 2.0), rtol=1e-6)
    with pytest.raises(ValueError, match="window length"):
        ops.hamming(-1)


def test_histogram_counts_and_edges():
    x = np.array([1., 2, 2, 3, 5, 8], "float32")
    counts, edges = ops.histogram(x, bins=4)
    np.testing.assert_array_equal(counts.numpy(), [3, 1, 1, 1])   # TF 2.21
    np.testing.assert_allclose(edges.numpy(), [1, 2.75, 4.5, 6.25, 8])
    counts, edges = ops.histogram(x, bins=3, range=(0, 6))
    np.testing.assert_array_equal(counts.numpy(), [1, 3, 1])
    with pytest.raises(ValueError, match="bins"):
        ops.histogram(x, bins=0)
    with pytest.raises(ValueError, match="range"):
        ops.histogram(x, range=(3, 1))


def test_unique_forms():
    x = np.array([3, 1, 2, 3, 1], "int32")
    np.testing.assert_array_equal(ops.unique(x).numpy(), [1, 2, 3])
    values, index, inverse, counts = ops.unique(x, return_index=True,
                                                return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(index.numpy(), [1, 2, 0])
    np.testing.assert_array_equal(inverse.numpy(), [2, 0, 1, 2, 0])
    np.testing.assert_array_equal(counts.numpy(), [2, 1, 2])
    np.testing.assert_array_equal(values.numpy()[inverse.numpy()], x)
    np.testing.assert_array_equal(ops.unique(x, size=5, fill_value=-1).numpy(),
                                  [1, 2, 3, -1, -1])
    np.testing.assert_array_equal(ops.unique(x, sorted=False).numpy(), [3, 1, 2])
    rows = np.array([[1, 2], [0, 1], [1, 2]])
    np.testing.assert_array_equal(ops.unique(rows, axis=0).numpy(),
                                  np.unique(rows, axis=0))


def test_isin_gcd_lcm_ldexp_nextafter():
    np.testing.assert_array_equal(ops.isin([1, 2, 3, 4], [2, 4]).numpy(),
                                  [False, True, False, True])
    np.testing.assert_array_equal(ops.isin([1, 2, 3, 4], [2, 4], invert=True).numpy(),
                                  [True, False, True, False])
    a, b = np.array([12, 18, 7], "int32"), np.array([8, 12, 3], "int32")
    np.testing.assert_array_equal(ops.gcd(a, b).numpy(), np.gcd(a, b))
    np.testing.assert_array_equal(ops.lcm(a, b).numpy(), np.lcm(a, b))
    with pytest.raises(TypeError, match="integers"):
        ops.gcd(np.ones(2, "float32"), np.ones(2, "float32"))
    np.testing.assert_allclose(ops.ldexp(np.array([1., 3.], "float32"),
                                         np.array([2, 3], "int32")).numpy(), [4, 24])
    one = np.float32(1.0)
    assert ops.nextafter(one, np.float32(2.0)).numpy() == np.nextafter(one, np.float32(2))


def test_i0_and_isreal():
    x = np.array([0., 1., 2.], "float32")
    np.testing.assert_allclose(ops.i0(x).numpy(), np.i0(x), rtol=1e-6)
    assert ops.i0(np.array([0, 1])).dtype == tf.float64   # as Keras 3 on TF
    np.testing.assert_array_equal(
        ops.isreal(np.array([1 + 0j, 1 + 1j], "complex64")).numpy(), [True, False])
    assert ops.isreal(np.ones(2, "float32")).numpy().all()


@pytest.mark.parametrize("axis", [None, 0, 1])
@pytest.mark.parametrize("name", ["nanmax", "nanmin", "nanstd", "nanvar", "nanmedian",
                                  "nanargmax", "nanargmin"])
def test_nan_statistics_match_numpy(name, axis):
    out = getattr(ops, name)(X_NAN, axis=axis)
    np.testing.assert_allclose(out.numpy(), getattr(np, name)(X_NAN, axis=axis),
                               rtol=1e-6)


def test_nan_reductions_keepdims_and_all_nan_slice():
    x = np.array([[np.nan, np.nan], [1., 2.]], "float32")
    np.testing.assert_allclose(ops.nanmax(x, axis=1, keepdims=True).numpy(),
                               [[np.nan], [2.]])
    np.testing.assert_allclose(ops.nanmedian(x, axis=1).numpy(), [np.nan, 1.5])
    assert ops.nanargmax(X_NAN, keepdims=True).shape == (1, 1)


def test_nan_scans_and_quantiles():
    np.testing.assert_allclose(ops.nancumsum(X_NAN, axis=1).numpy(),
                               np.nancumsum(X_NAN, axis=1))
    np.testing.assert_allclose(ops.nancumprod(X_NAN).numpy(), np.nancumprod(X_NAN))
    for method in ("linear", "lower", "higher", "midpoint", "nearest"):
        got = ops.nanquantile(X_NAN, [0.25, 0.6], axis=1, method=method)
        np.testing.assert_allclose(
            got.numpy(), np.nanquantile(X_NAN, [0.25, 0.6], axis=1, method=method),
            rtol=1e-6, err_msg=method)
    np.testing.assert_allclose(ops.nanpercentile(X_NAN, [25, 75]).numpy(),
                               [1.75, 3.25])   # TF 2.21
    np.testing.assert_allclose(ops.nanmedian(X_NAN, axis=0, keepdims=True).numpy(),
                               np.nanmedian(X_NAN, axis=0, keepdims=True))


def test_nan_statistics_gradients_skip_nans():
    x = np.array([[1., 5., 3.], [4., 2., 0.5]])
    mask = np.array([[0., 1., 0.], [0., 0., 1.]])

    def f(v):
        v = tf.where(tf.constant(mask) > 0, tf.constant(np.nan, tf.float64), v)
        return tf.stack([ops.nanstd(v, axis=1), ops.nanmax(v, axis=1),
                         ops.nanmedian(v, axis=1)])
    check_grad(f, [x], rtol=1e-5, atol=1e-7)
    check_function_matches_eager(f, [x])


def test_trapezoid_vander_corrcoef():
    y = RNG.normal(size=(2, 5))
    check_op(lambda v: ops.trapezoid(v), [y], lambda v: np.trapezoid(v, axis=-1))
    xs = np.array([0., 1., 3., 3.5, 6.])
    np.testing.assert_allclose(ops.trapezoid(y, x=xs).numpy(), np.trapezoid(y, x=xs))
    np.testing.assert_allclose(ops.trapezoid(y, dx=0.5, axis=0).numpy(),
                               np.trapezoid(y, dx=0.5, axis=0))
    v = np.array([1., 2., 3.], "float32")
    np.testing.assert_allclose(ops.vander(v).numpy(), np.vander(v))
    out = ops.vander(np.array([1, 2, 3]), N=2, increasing=True)
    assert out.dtype == tf.int64
    np.testing.assert_array_equal(out.numpy(), np.vander([1, 2, 3], 2, increasing=True))
    m = RNG.normal(size=(3, 6))
    check_op(ops.corrcoef, [m], np.corrcoef, rtol=1e-5)


@pytest.mark.parametrize("m,n", [(5, 3), (3, 5), (4, 4), (2, 6), (1, 3), (6, 1)])
@pytest.mark.parametrize("mode", ["valid", "same", "full"])
def test_correlate_matches_numpy(m, n, mode):
    a, v = RNG.normal(size=m), RNG.normal(size=n)
    check_op(lambda p, q: ops.correlate(p, q, mode=mode), [a, v],
             lambda p, q: np.correlate(p, q, mode=mode))


def test_argpartition_partitions_like_keras():
    x = np.array([3, 1, 2, 5, 4], "int32")
    np.testing.assert_array_equal(ops.argpartition(x, 2).numpy(), [1, 2, 0, 3, 4])
    m = RNG.normal(size=(4, 7))
    idx = ops.argpartition(m, 3, axis=0).numpy()
    part = np.take_along_axis(m, idx, axis=0)
    np.testing.assert_allclose(part[3], np.sort(m, axis=0)[3])
    assert (part[:3] <= part[3]).all() and (part[4:] >= part[3]).all()
    with pytest.raises(ValueError, match="kth"):
        ops.argpartition(x, 9)


def test_view_reinterprets_bytes():
    f = np.array([1., 2.], "float32")
    np.testing.assert_array_equal(ops.view(f, "int32").numpy(), f.view("int32"))
    i = np.array([1, 2], "int32")
    np.testing.assert_array_equal(ops.view(i, "int16").numpy(), i.view("int16"))
    with pytest.raises(ValueError, match="multiple"):
        ops.view(np.ones(3, "int16"), "int32")


def test_vectorize_elementwise_and_signature():
    double = ops.vectorize(lambda a: a * 2.0)
    np.testing.assert_allclose(double(np.array([[1., 2.]], "float32")).numpy(),
                               [[2., 4.]])
    dot = ops.vectorize(lambda a, b: tf.reduce_sum(a * b), signature="(n),(n)->()")
    a, b = RNG.normal(size=(3, 4)), RNG.normal(size=(1, 4))
    np.testing.assert_allclose(dot(a, b).numpy(), (a * b).sum(-1))
