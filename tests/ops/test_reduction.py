"""Reductions, scans, arg-max/min and top_k against NumPy."""

import numpy as np
import pytest
import scipy.special as sp

import dlframe as tf
from dlframe.errors import AxisError, InvalidArgumentError
from tests.helpers import check_op

RNG = np.random.default_rng(7)
AXES = [None, 0, 1, -1, [0, 2], (2, 0, 1), []]


def _np_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


REDUCTIONS = [
    ("sum", tf.reduce_sum, np.sum),
    ("mean", tf.reduce_mean, np.mean),
    ("max", tf.reduce_max, np.max),
    ("min", tf.reduce_min, np.min),
    ("prod", tf.reduce_prod, np.prod),
    ("std", tf.math.reduce_std, np.std),
    ("variance", tf.math.reduce_variance, np.var),
    ("logsumexp", tf.reduce_logsumexp, sp.logsumexp),
    ("euclidean_norm", tf.math.reduce_euclidean_norm,
     lambda x, axis=None, keepdims=False: np.sqrt(np.sum(x * x, axis=axis,
                                                          keepdims=keepdims))),
]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name,fn,ref", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reduction_forward_and_grad(name, fn, ref, axis, keepdims):
    x = RNG.uniform(0.5, 1.5, (2, 3, 4))
    check_op(lambda v: fn(v, axis=axis, keepdims=keepdims), [x],
             lambda v: ref(v, axis=_np_axis(axis), keepdims=keepdims), rtol=1e-7,
             grad=not (name == "std" and axis == []))  # sqrt'(0): inf, as in TF


@pytest.mark.parametrize("name,fn,ref", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reduction_float32_keeps_dtype(name, fn, ref):
    x = RNG.uniform(0.5, 1.5, (3, 5)).astype(np.float32)
    out = fn(tf.constant(x), axis=1)
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), ref(x.astype(np.float64), axis=1), rtol=1e-5)


@pytest.mark.parametrize("name,fn,ref", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reduction_bad_axis(name, fn, ref):
    with pytest.raises(AxisError, match="Invalid reduction dimension"):
        fn(tf.ones([2, 3]), axis=2)
    with pytest.raises(InvalidArgumentError):
        fn(tf.ones([2, 3]), axis=[1, -1])
    with pytest.raises(InvalidArgumentError):
        fn(tf.constant(2.0), axis=0)


def test_empty_reductions_match_tf():
    e = tf.zeros([0, 3])
    np.testing.assert_array_equal(tf.reduce_sum(e, axis=0).numpy(), [0, 0, 0])
    assert tf.reduce_sum(e, axis=1).shape == (0,)
    assert tf.reduce_prod(tf.zeros([0])).numpy() == 1.0
    assert np.isnan(tf.reduce_mean(tf.zeros([0])).numpy())
    assert tf.reduce_max(tf.zeros([0])).numpy() == -np.inf
    assert tf.reduce_min(tf.zeros([0])).numpy() == np.inf
    assert tf.reduce_max(tf.zeros([0], tf.int32)).numpy() == np.iinfo(np.int32).min
    assert tf.reduce_logsumexp(tf.zeros([0])).numpy() == -np.inf
    assert tuple(tf.reduce_max(e, axis=0, keepdims=True).shape) == (1, 3)
    assert np.isnan(tf.math.reduce_std(tf.zeros([0])).numpy())


def test_scalar_reductions():
    x = tf.constant(3.0)
    for fn in (tf.reduce_sum, tf.reduce_mean, tf.reduce_max, tf.reduce_prod):
        assert fn(x).numpy() == 3.0
    assert tf.reduce_logsumexp(x).numpy() == pytest.approx(3.0)


def test_integer_reductions_and_dtype_rules():
    x = tf.constant([[-1, -2], [3, 4]])
    assert tf.reduce_sum(x).dtype == tf.int32
    np.testing.assert_array_equal(tf.reduce_mean(x, axis=1).numpy(), [-1, 3])  # truncates
    np.testing.assert_array_equal(tf.reduce_max(x, axis=0).numpy(), [3, 4])
    np.testing.assert_array_equal(tf.reduce_prod(x, axis=1).numpy(), [2, 12])
    assert tf.reduce_sum(tf.constant([100, 100], tf.int8)).numpy() == -56  # wraps as TF
    assert tf.math.reduce_euclidean_norm(tf.constant([3, 4])).numpy() == 5
    for fn in (tf.reduce_sum, tf.reduce_max, tf.reduce_mean, tf.reduce_prod):
        with pytest.raises(InvalidArgumentError, match="bool"):
            fn(tf.constant([True, False]))
    with pytest.raises(TypeError, match="real or complex"):
        tf.math.reduce_std(tf.constant([1, 2]))
    with pytest.raises(InvalidArgumentError, match="int32"):
        tf.reduce_logsumexp(tf.constant([1, 2]))


def test_reduce_mean_half_accumulates_in_float32():
    x = np.full(4096, 0.1, np.float16)
    out = tf.reduce_mean(tf.constant(x))
    assert out.dtype == tf.float16
    assert abs(float(out.numpy()) - 0.1) < 1e-3


def test_max_min_ties_split_gradient_evenly():
    x = tf.constant([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        hi = tf.reduce_max(x, axis=1)
        lo = tf.reduce_min(x)
    np.testing.assert_allclose(tape.gradient(hi, x).numpy(),
                               [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(tape.gradient(lo, x).numpy(), [[1, 0, 0], [0, 0, 0]])


def test_prod_gradient_with_zeros():
    # one zero: only that entry gets the product of the others; two zeros: all zero
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.5, 2.0, -1.0]])
    check_op(lambda v: tf.reduce_prod(v, axis=1), [x], lambda v: np.prod(v, axis=1))
    check_op(lambda v: tf.reduce_prod(v, axis=[0, 1]), [x], lambda v: np.prod(v))
    check_op(lambda v: tf.reduce_prod(v), [x[:, :1]], np.prod)


def test_logsumexp_is_stable():
    x = tf.constant([[1000.0, 1000.0], [-1000.0, -1000.0]])
    np.testing.assert_allclose(tf.reduce_logsumexp(x, axis=1).numpy(),
                               [1000 + np.log(2), -1000 + np.log(2)])
    assert tf.reduce_logsumexp(tf.constant([-np.inf, -np.inf])).numpy() == -np.inf
    assert tf.reduce_logsumexp(tf.constant([np.inf, 1.0])).numpy() == np.inf
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_logsumexp(x, axis=1)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), np.full((2, 2), 0.5))


def test_logsumexp_second_order():
    x = RNG.standard_normal((5,))
    check_op(lambda v: tf.reduce_logsumexp(v), [x], sp.logsumexp, second_order=True)


def test_any_all():
    b = RNG.random((2, 3, 4)) > 0.6
    for fn, ref in [(tf.reduce_any, np.any), (tf.reduce_all, np.all)]:
        for axis in (None, 1, [0, 2]):
            for keep in (False, True):
                out = fn(tf.constant(b), axis=axis, keepdims=keep)
                assert out.dtype == tf.bool
                np.testing.assert_array_equal(out.numpy(),
                                              ref(b, axis=_np_axis(axis), keepdims=keep))
        with pytest.raises(InvalidArgumentError, match="bool"):
            fn(tf.constant([1, 2]))
    assert not tf.reduce_any(tf.zeros([0], tf.bool)).numpy()
    assert tf.reduce_all(tf.zeros([0], tf.bool)).numpy()


def test_count_nonzero():
    x = tf.constant([[1.0, 0.0], [3.0, 0.0]])
    out = tf.math.count_nonzero(x)
    assert out.dtype == tf.int64 and out.numpy() == 2
    out = tf.math.count_nonzero(x, axis=0, dtype=tf.int32)
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), [2, 0])
    assert tuple(tf.math.count_nonzero(x, axis=1, keepdims=True).shape) == (2, 1)
    assert tf.math.count_nonzero(tf.constant([True, False])).numpy() == 1


def test_std_variance_complex():
    z = tf.constant([1 + 1j, 2 - 1j])
    v = tf.math.reduce_variance(z)
    assert v.dtype == tf.float64
    assert v.numpy() == pytest.approx(1.25)


# ---------------------------------------------------------------- argmax / argmin
def test_argmax_argmin():
    x = RNG.standard_normal((3, 4, 5))
    for fn, ref in [(tf.argmax, np.argmax), (tf.argmin, np.argmin)]:
        for axis in (0, 1, -1, 2):
            out = fn(tf.constant(x), axis=axis)
            assert out.dtype == tf.int64
            np.testing.assert_array_equal(out.numpy(), ref(x, axis=axis))
        np.testing.assert_array_equal(fn(tf.constant(x)).numpy(), ref(x, axis=0))
        out = fn(tf.constant(x), axis=tf.constant(1), output_type=tf.int32)
        assert out.dtype == tf.int32
        np.testing.assert_array_equal(out.numpy(), ref(x, axis=1))
    assert tf.math.argmax is tf.argmax
    assert tf.argmax(tf.constant([3.0, 1.0, 3.0])).numpy() == 0  # first of ties
    assert tf.argmin(tf.constant([1, 1, 3])).numpy() == 0
    assert tf.argmax(tf.constant([False, True])).numpy() == 1


def test_argmax_errors():
    with pytest.raises(InvalidArgumentError, match="empty"):
        tf.argmax(tf.zeros([0, 3]))
    with pytest.raises(InvalidArgumentError, match="range"):
        tf.argmax(tf.constant(1.0))
    with pytest.raises(InvalidArgumentError, match="range"):
        tf.argmax(tf.ones([2, 3]), axis=2)
    with pytest.raises(InvalidArgumentError, match="output_type"):
        tf.argmax(tf.ones([2, 3]), output_type=tf.float32)


def test_argmax_not_differentiable():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.cast(tf.argmax(x), tf.float32)
    assert tape.gradient(y, x) is None


# ---------------------------------------------------------------- scans
def _np_scan(fn, identity):
    def ref(x, axis=0, exclusive=False, reverse=False):
        x = np.flip(x, axis) if reverse else x
        out = fn(x, axis=axis)
        if exclusive:
            out = np.concatenate([np.full_like(np.take(out, [0], axis=axis), identity),
                                  np.delete(out, -1, axis=axis)], axis=axis)
        return np.flip(out, axis) if reverse else out
    return ref


SCANS = [
    ("cumsum", tf.cumsum, _np_scan(np.cumsum, 0)),
    ("cumprod", tf.math.cumprod, _np_scan(np.cumprod, 1)),
    ("cumulative_logsumexp", tf.math.cumulative_logsumexp,
     _np_scan(np.logaddexp.accumulate, -np.inf)),
]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("name,fn,ref", SCANS, ids=[s[0] for s in SCANS])
def test_scans(name, fn, ref, axis, exclusive, reverse):
    x = RNG.uniform(0.5, 1.5, (3, 4))

    def op(v):
        out = fn(v, axis=axis, exclusive=exclusive, reverse=reverse)
        # an exclusive log-sum-exp starts at -inf, which finite differences can't see
        return tf.where(tf.math.is_finite(out), out, tf.zeros_like(out))

    def expect(v):
        out = ref(v, axis=axis, exclusive=exclusive, reverse=reverse)
        return np.where(np.isfinite(out), out, 0)
    check_op(op, [x], expect, rtol=1e-7)


def test_scan_second_order_and_dtypes():
    x = RNG.uniform(0.5, 1.5, (5,))
    check_op(lambda v: tf.math.cumprod(v, reverse=True), [x],
             lambda v: np.cumprod(v[::-1])[::-1], second_order=True)
    check_op(tf.math.cumulative_logsumexp, [x], np.logaddexp.accumulate, second_order=True)
    out = tf.cumsum(tf.constant([1, 2, 3]), exclusive=True, reverse=True)
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), [5, 3, 0])
    np.testing.assert_array_equal(tf.math.cumprod(tf.constant([1, 2, 3]), reverse=True),
                                  [6, 6, 3])
    assert tuple(tf.cumsum(tf.zeros([0, 2]), axis=1).shape) == (0, 2)
    np.testing.assert_array_equal(tf.cumsum(tf.ones([2, 3]), axis=tf.constant(1)).numpy(),
                                  [[1, 2, 3], [1, 2, 3]])
    with pytest.raises(InvalidArgumentError, match="scan axis"):
        tf.cumsum(tf.constant([1.0, 2.0]), axis=1)
    with pytest.raises(InvalidArgumentError, match="scan axis"):
        tf.cumsum(tf.constant(1.0))
    with pytest.raises(InvalidArgumentError, match="bool"):
        tf.cumsum(tf.constant([True]))


def test_cumulative_logsumexp_is_stable():
    out = tf.math.cumulative_logsumexp(tf.constant([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(out.numpy(), [-1000.0, 0.0, 1000.0])


# ---------------------------------------------------------------- top_k, in_top_k
def test_top_k_values_indices_and_ties():
    res = tf.math.top_k(tf.constant([1.0, 3.0, 2.0, 3.0]), k=2)
    assert type(res).__name__ == "TopKV2"
    values, _ = res
    np.testing.assert_array_equal(values.numpy(), [3, 3])
    np.testing.assert_array_equal(res.indices.numpy(), [1, 3])  # ties by index
    assert res.indices.dtype == tf.int32 and res.values.dtype == tf.float32
    x = RNG.standard_normal((2, 3, 6))
    res = tf.math.top_k(tf.constant(x), k=4)
    order = np.argsort(-x, axis=-1)[..., :4]
    np.testing.assert_array_equal(res.indices.numpy(), order)
    np.testing.assert_allclose(res.values.numpy(), np.take_along_axis(x, order, -1))
    ints = tf.math.top_k(tf.constant([1, 3, 2, 3]), k=3)
    np.testing.assert_array_equal(ints.values.numpy(), [3, 3, 2])
    assert tf.math.top_k(tf.ones([3]), index_type=tf.int64).indices.dtype == tf.int64
    assert tuple(tf.math.top_k(tf.ones([2, 3]), k=0).values.shape) == (2, 0)


def test_top_k_gradient():
    x = RNG.standard_normal((3, 5))
    check_op(lambda v: tf.math.top_k(v, k=2).values, [x],
             lambda v: -np.sort(-v, axis=-1)[..., :2])
    with tf.GradientTape() as outer:
        xt = tf.constant(x)
        outer.watch(xt)
        with tf.GradientTape() as inner:
            inner.watch(xt)
            y = tf.reduce_sum(tf.square(tf.math.top_k(xt, k=2).values))
        g = inner.gradient(y, xt)
        gsum = tf.reduce_sum(g * g)
    gg = outer.gradient(gsum, xt).numpy()
    top = np.argsort(-x, axis=-1)[:, :2]
    expect = np.zeros_like(x)
    np.put_along_axis(expect, top, 8 * np.take_along_axis(x, top, -1), -1)
    np.testing.assert_allclose(gg, expect)


def test_top_k_errors():
    with pytest.raises(InvalidArgumentError, match="at least k columns"):
        tf.math.top_k(tf.constant([1.0, 2.0]), k=3)
    with pytest.raises(InvalidArgumentError, match=">= 1-D"):
        tf.math.top_k(tf.constant(1.0))
    with pytest.raises(InvalidArgumentError, match="k >= 0"):
        tf.math.top_k(tf.ones([3]), k=-1)
    with pytest.raises(InvalidArgumentError, match="bool"):
        tf.math.top_k(tf.constant([True, False]))


def test_in_top_k():
    preds = tf.constant([[0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.2, 0.3]])
    out = tf.math.in_top_k(tf.constant([1, 0, 1]), preds, k=1)
    np.testing.assert_array_equal(out.numpy(), [True, False, False])
    out = tf.math.in_top_k(tf.constant([1, 0, 1]), preds, k=2)
    np.testing.assert_array_equal(out.numpy(), [True, True, False])


# ---------------------------------------------------------------- counting
def test_bincount():
    arr = np.array([1, 1, 3, 0, 3, 3])
    out = tf.math.bincount(tf.constant(arr, tf.int32))
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), np.bincount(arr))
    w = RNG.standard_normal(6).astype(np.float32)
    out = tf.math.bincount(tf.constant(arr, tf.int32), weights=tf.constant(w))
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), np.bincount(arr, weights=w), rtol=1e-6)
    out = tf.math.bincount(tf.constant([1, 1, 3]), minlength=6, maxlength=2)
    np.testing.assert_array_equal(out.numpy(), [0, 2])
    np.testing.assert_array_equal(
        tf.math.bincount(tf.constant([1, 2, 2]), binary_output=True).numpy(), [0, 1, 1])
    np.testing.assert_array_equal(
        tf.math.bincount(tf.constant([[1, 2], [2, 0]]), axis=-1).numpy(),
        [[0, 1, 1], [1, 0, 1]])
    assert tuple(tf.math.bincount(tf.constant([], tf.int32)).shape) == (0,)
    assert tf.math.bincount(tf.constant([1]), dtype=tf.float32).dtype == tf.float32
    with pytest.raises(InvalidArgumentError, match="non-negative"):
        tf.math.bincount(tf.constant([-1, 1]))


def test_confusion_matrix():
    labels, preds = np.array([1, 2, 4, 2]), np.array([2, 2, 4, 0])
    out = tf.math.confusion_matrix(labels, preds)
    expect = np.zeros((5, 5), np.int32)
    np.add.at(expect, (labels, preds), 1)
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), expect)
    out = tf.math.confusion_matrix([1, 2], [2, 2], num_classes=3, weights=[0.5, 1.0],
                                   dtype=tf.float32)
    np.testing.assert_allclose(out.numpy(), [[0, 0, 0], [0, 0, 0.5], [0, 0, 1]])


def test_approx_max_min_k():
    x = tf.constant([[1.0, 5.0, 3.0]])
    hi = tf.math.approx_max_k(x, 2)
    np.testing.assert_array_equal(hi.values.numpy(), [[5, 3]])
    np.testing.assert_array_equal(hi.indices.numpy(), [[1, 2]])
    lo = tf.math.approx_min_k(x, 2)
    np.testing.assert_array_equal(lo.values.numpy(), [[1, 3]])
    np.testing.assert_array_equal(lo.indices.numpy(), [[0, 2]])
