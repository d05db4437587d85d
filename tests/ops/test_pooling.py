"""Pooling ops against NumPy window loops, TF-checked anchors and finite differences."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import errors
from tests.helpers import check_op, numeric_grad

RNG = np.random.default_rng(99)


def distinct(*shape):
    """Values with no ties (max-pool gradients are then smooth)."""
    return RNG.permutation(int(np.prod(shape))).reshape(shape) / 10.0 - 3.0


def tf_same_pads(n, k, s, d=1):
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return (total // 2, total - total // 2)


def ref_pool(x, ksize, strides, padding, kind, dils=None):
    """Max or mean over the in-bounds elements of every window (N-d loop)."""
    r = x.ndim - 2
    dils = dils or [1] * r
    if padding == "SAME":
        pads = [tf_same_pads(n, k, s, d) for n, k, s, d in
                zip(x.shape[1:-1], ksize, strides, dils)]
    elif padding == "VALID":
        pads = [(0, 0)] * r
    else:
        pads = [tuple(p) for p in padding[1:-1]]
    out_sp = [(n + lo + hi - (k - 1) * d - 1) // s + 1 for n, k, s, d, (lo, hi) in
              zip(x.shape[1:-1], ksize, strides, dils, pads)]
    out = np.zeros([x.shape[0]] + out_sp + [x.shape[-1]], dtype=x.dtype)
    for o in np.ndindex(*out_sp):
        vals = []
        for k in np.ndindex(*ksize):
            pos = [o[i] * strides[i] - pads[i][0] + k[i] * dils[i] for i in range(r)]
            if all(0 <= p < n for p, n in zip(pos, x.shape[1:-1])):
                vals.append(x[(slice(None),) + tuple(pos)])
        vals = np.stack(vals)
        out[(slice(None),) + o] = vals.max(0) if kind == "max" else vals.mean(0)
    return out


def as_list(v, r):
    return [v] * r if isinstance(v, int) else list(v)


POOL2D_CASES = [
    # input spatial, ksize, strides, padding
    ((8, 8), 2, 2, "VALID"),       # tiled fast path
    ((9, 7), 2, 2, "VALID"),       # tiled with a dropped remainder
    ((9, 9), 2, 2, "SAME"),
    ((7, 7), 3, 2, "SAME"),
    ((7, 6), 3, 1, "SAME"),        # overlapping windows
    ((8, 8), 3, 2, "VALID"),
    ((7, 7), [2, 3], [1, 2], "SAME"),
    ((6, 6), [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("sp,ksize,strides,padding", POOL2D_CASES)
def test_pool2d_matches_window_loop_and_gradients(kind, sp, ksize, strides, padding):
    x = distinct(2, *sp, 3)
    fn = tf.nn.max_pool2d if kind == "max" else tf.nn.avg_pool2d
    k2 = as_list(ksize, 2)[-3:-1] if len(as_list(ksize, 2)) == 4 else as_list(ksize, 2)
    s2 = as_list(strides, 2)[-3:-1] if len(as_list(strides, 2)) == 4 else \
        as_list(strides, 2)
    check_op(lambda a: fn(a, ksize, strides, padding), [x],
             lambda a: ref_pool(a, k2, s2, padding, kind))


def test_max_pool_explicit_padding_never_picks_padding():
    x = distinct(2, 7, 7, 3) - 100.0  # all negative: a zero pad would win
    padding = [[0, 0], [1, 1], [1, 0], [0, 0]]
    check_op(lambda a: tf.nn.max_pool2d(a, 2, 2, padding), [x],
             lambda a: ref_pool(a, [2, 2], [2, 2], padding, "max"))


def test_avg_pool_same_divides_by_valid_count_tf_anchor():
    x = np.arange(25, dtype=np.float32).reshape(1, 5, 5, 1)
    got = tf.nn.avg_pool2d(x, 3, 2, "SAME")
    assert got.dtype == tf.float32
    np.testing.assert_array_equal(got.numpy()[0, :, :, 0],
                                  [[3, 4.5, 6], [10.5, 12, 13.5], [18, 19.5, 21]])
    np.testing.assert_array_equal(tf.nn.max_pool2d(x, 2, 2, "SAME").numpy()[0, :, :, 0],
                                  [[6, 8, 9], [16, 18, 19], [21, 23, 24]])


def test_max_pool_gradient_ties_go_to_first_max_like_tf():
    x = tf.constant(np.ones((1, 4, 4, 1), np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.max_pool2d(x, 2, 2, "VALID")
    np.testing.assert_array_equal(tape.gradient(y, x).numpy()[0, :, :, 0],
                                  [[1, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.max_pool2d(x, 3, 1, "SAME")
    np.testing.assert_array_equal(tape.gradient(y, x).numpy()[0, :, :, 0],
                                  [[4, 2, 2, 0], [2, 1, 1, 0], [2, 1, 1, 0], [0, 0, 0, 0]])


def test_pool1d_pool3d_and_rank_dispatch():
    x1 = distinct(2, 9, 3)
    for kind, fn in (("max", tf.nn.max_pool1d), ("avg", tf.nn.avg_pool1d)):
        check_op(lambda a, fn=fn: fn(a, 3, 2, "SAME"), [x1],
                 lambda a, kind=kind: ref_pool(a, [3], [2], "SAME", kind))
    x3 = distinct(1, 4, 5, 5, 2)
    for kind, fn in (("max", tf.nn.max_pool3d), ("avg", tf.nn.avg_pool3d)):
        check_op(lambda a, fn=fn: fn(a, 2, 2, "SAME"), [x3],
                 lambda a, kind=kind: ref_pool(a, [2, 2, 2], [2, 2, 2], "SAME", kind))
    x2 = distinct(2, 6, 6, 2)
    np.testing.assert_array_equal(tf.nn.max_pool(x2, 2, 2, "VALID").numpy(),
                                  ref_pool(x2, [2, 2], [2, 2], "VALID", "max"))
    np.testing.assert_allclose(tf.nn.avg_pool(x1, 2, 1, "VALID").numpy(),
                               ref_pool(x1, [2], [1], "VALID", "avg"))


def test_pool_generic_with_dilation():
    x = distinct(2, 7, 7, 3)
    check_op(lambda a: tf.nn.pool(a, [2, 2], "MAX", strides=[1, 1], padding="VALID",
                                  dilations=[2, 2]), [x],
             lambda a: ref_pool(a, [2, 2], [1, 1], "VALID", "max", [2, 2]))
    check_op(lambda a: tf.nn.pool(a, [3, 3], "AVG", strides=[2, 2], padding="SAME"), [x],
             lambda a: ref_pool(a, [3, 3], [2, 2], "SAME", "avg"))
    with pytest.raises(ValueError, match="dilation_rate"):
        tf.nn.pool(x, [2, 2], "AVG", padding="SAME", dilations=[2, 2])


def test_pool_nchw_and_dtypes():
    x = distinct(2, 3, 6, 6).astype(np.float32)
    got = tf.nn.max_pool2d(x, 2, 2, "VALID", data_format="NCHW").numpy()
    want = ref_pool(x.transpose(0, 2, 3, 1), [2, 2], [2, 2], "VALID", "max")
    np.testing.assert_array_equal(got, want.transpose(0, 3, 1, 2))
    xi = RNG.integers(-50, 50, (1, 4, 4, 2)).astype(np.int32)
    yi = tf.nn.max_pool2d(tf.constant(xi), 2, 2, "SAME")
    assert yi.dtype == tf.int32
    np.testing.assert_array_equal(yi.numpy(), ref_pool(xi, [2, 2], [2, 2], "SAME", "max"))
    with pytest.raises(errors.InvalidArgumentError, match="AvgPool.*int32"):
        tf.nn.avg_pool2d(tf.constant(xi), 2, 2, "VALID")


@pytest.mark.parametrize("kind,padding,ksize,strides", [
    ("max", "VALID", 2, 2), ("max", "SAME", 3, 2), ("avg", "SAME", 3, 2),
    ("avg", "VALID", 2, 2)])
def test_pool_second_derivatives(kind, padding, ksize, strides):
    fn = tf.nn.max_pool2d if kind == "max" else tf.nn.avg_pool2d
    x = distinct(1, 5, 5, 2)
    v = RNG.standard_normal(x.shape)

    def f(a):  # nonlinear in the pooled values, so the second derivative is non-zero
        return tf.reduce_sum(tf.square(fn(a, ksize, strides, padding)))

    def first(a):
        at = tf.constant(a)
        with tf.GradientTape() as t:
            t.watch(at)
            s = f(at)
        return t.gradient(s, at).numpy()

    xt = tf.constant(x)
    with tf.GradientTape() as outer:
        outer.watch(xt)
        with tf.GradientTape() as inner:
            inner.watch(xt)
            s = f(xt)
        total = tf.reduce_sum(inner.gradient(s, xt) * tf.constant(v))
    got = outer.gradient(total, xt).numpy()
    want = numeric_grad(lambda a: float(np.sum(first(a) * v)), [x.copy()], 0, eps=1e-5)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert np.abs(got).max() > 0


def test_pooling_errors():
    x = np.zeros((2, 5, 5, 3), np.float32)
    with pytest.raises(errors.InvalidArgumentError, match=r"MaxPool.*4-dimensional.*\[5, 5, 3\]"):
        tf.nn.max_pool2d(x[0], 2, 2, "SAME")
    with pytest.raises(errors.InvalidArgumentError, match="padding.*FULL"):
        tf.nn.max_pool2d(x, 2, 2, "FULL")
    with pytest.raises(ValueError, match="ksize should be of length 1, 2 or 4"):
        tf.nn.max_pool2d(x, [2, 2, 2], 1, "VALID")
    with pytest.raises(errors.UnimplementedError, match="batch dimension"):
        tf.nn.max_pool2d(x, [2, 2, 2, 1], [1, 2, 2, 1], "VALID")
    with pytest.raises(errors.InvalidArgumentError, match="output size would be negative"):
        tf.nn.max_pool2d(x, 7, 1, "VALID")
    with pytest.raises(TypeError, match="padding"):
        tf.nn.avg_pool2d(x, 2, 2, [[0, 0], [1, 1], [1, 1], [0, 0]])


def test_nn_namespace_exports():
    for name in ("max_pool", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool",
                 "avg_pool1d", "avg_pool2d", "avg_pool3d", "pool"):
        assert callable(getattr(tf.nn, name))
