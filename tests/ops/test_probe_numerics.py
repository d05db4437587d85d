"""Regression tests for differences from TensorFlow found by numerics probe programs
(tf.math, tf.linalg, tf.image, tf.random edge cases). Expected values marked "TF 2.21"
were read from TensorFlow 2.21 running the same call."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError
from tests.helpers import check_grad

NAN, INF = np.nan, np.inf


def _eager_and_compiled(fn, *args):
    """``fn(*args)`` eagerly and through ``tf.function``; both must agree."""
    eager = fn(*args)
    compiled = tf.function(fn)(*args)
    np.testing.assert_array_equal(eager.numpy(), compiled.numpy())
    return eager


# ---------------------------------------------------------------- tf.math
def test_divide_no_nan_converts_integers_like_divide():
    out = tf.math.divide_no_nan(tf.constant([1, 2]), tf.constant([0, 3]))
    assert out.dtype == tf.float64
    np.testing.assert_allclose(out.numpy(), [0.0, 2 / 3])
    small = tf.math.divide_no_nan(tf.constant([1, 2], tf.uint8), tf.constant([0, 4], tf.uint8))
    assert small.dtype == tf.float32
    np.testing.assert_allclose(small.numpy(), [0.0, 0.5])
    assert tf.math.divide_no_nan(1, 0).dtype == tf.float64
    with pytest.raises(InvalidArgumentError):
        tf.math.divide_no_nan(tf.constant([1]), tf.constant([1.0]))


def test_multiply_accepts_bool_as_logical_and():
    a, b = tf.constant([True, False, True]), tf.constant([True, True, False])
    out = _eager_and_compiled(lambda x, y: x * y, a, b)
    assert out.dtype == tf.bool
    np.testing.assert_array_equal(out.numpy(), [True, False, False])
    with pytest.raises(InvalidArgumentError):
        tf.add(a, b)   # only Mul has a bool kernel in TF


@pytest.mark.parametrize("dtype,values,expect", [
    (tf.int8, [100, 100], 100), (tf.uint8, [250, 250], 250),
    (tf.int16, [30000, 30000], 30000), (tf.int32, [2**31 - 1, 2**31 - 1], 2**31 - 1),
    (tf.int32, [-3, 0], -1),   # truncated toward zero
])
def test_integer_reduce_mean_accumulates_without_overflow(dtype, values, expect):
    out = _eager_and_compiled(tf.reduce_mean, tf.constant(values, dtype))
    assert out.dtype == dtype
    assert int(out.numpy()) == expect


def test_integer_reduce_mean_along_an_axis():
    x = tf.constant([[250, 250], [10, 250]], tf.uint8)
    np.testing.assert_array_equal(tf.reduce_mean(x, axis=1).numpy(), [250, 130])


def test_argmax_argmin_skip_nan_as_tf_cpu():
    rows = [[NAN, NAN], [1.0, NAN], [NAN, 1.0], [-INF, NAN], [NAN, -INF, 2.0]]
    # TF 2.21: NaN is never chosen unless every value is NaN (then index 0)
    assert [int(tf.argmax(tf.constant(r))) for r in rows] == [0, 0, 1, 0, 2]
    rows_min = [[NAN, NAN], [1.0, NAN], [NAN, 1.0], [INF, NAN], [NAN, INF, 2.0]]
    assert [int(tf.argmin(tf.constant(r))) for r in rows_min] == [0, 0, 1, 0, 2]
    x = tf.constant([[NAN, 1.0], [2.0, NAN]])
    np.testing.assert_array_equal(_eager_and_compiled(
        lambda v: tf.argmax(v, axis=0), x).numpy(), [1, 0])
    assert int(tf.argmax(tf.constant([NAN, 1.0], tf.float16))) == 1
    assert int(tf.argmax(tf.constant([1, 5, 5]))) == 1   # ints: first maximum


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_cumprod_gradient_is_exact_at_zeros(exclusive, reverse):
    # TF's rule divides by x (0 at zeros: wrong for the first zero); this one is exact
    x = np.array([[2.0, 0.0, 3.0, 0.0, 5.0], [1.5, -2.0, 0.0, 4.0, 0.5]])
    check_grad(lambda v: tf.math.cumprod(v, axis=1, exclusive=exclusive, reverse=reverse),
               [x], atol=1e-6)
    check_grad(lambda v: tf.math.cumprod(v, axis=0, exclusive=exclusive, reverse=reverse),
               [x], atol=1e-6)


def test_reduction_axis_must_be_integer():
    with pytest.raises(TypeError, match="axis"):
        tf.reduce_sum(tf.ones([2, 3]), axis=1.0)
    np.testing.assert_array_equal(tf.reduce_sum(tf.ones([2, 3]), axis=np.int64(1)).numpy(),
                                  [3.0, 3.0])


def test_clip_by_global_norm_with_infinite_norm_gives_nan_everywhere():
    clipped, norm = tf.clip_by_global_norm([tf.constant([INF, 1.0]), None,
                                            tf.constant([2.0])], 1.0)
    assert np.isinf(norm.numpy()) and clipped[1] is None
    assert np.isnan(clipped[0].numpy()).all() and np.isnan(clipped[2].numpy()).all()
    finite, norm = tf.clip_by_global_norm([tf.constant([3.0, 4.0]), tf.constant([12.0])],
                                          1.0)
    assert float(norm) == pytest.approx(13.0)
    np.testing.assert_allclose(finite[0].numpy(), [3 / 13, 4 / 13], rtol=1e-6)


def test_segment_mean_of_integers_truncates_in_the_data_dtype():
    data, ids = tf.constant([1, 2, 4, -3, 0]), tf.constant([0, 0, 1, 2, 2])
    out = _eager_and_compiled(tf.math.segment_mean, data, ids)
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), [1, 4, -1])
    # the unsorted variant divides like tf.math.divide (float64 for int32), as TF
    u = tf.math.unsorted_segment_mean(data, ids, 4)
    assert u.dtype == tf.float64
    np.testing.assert_allclose(u.numpy(), [1.5, 4.0, -1.5, 0.0])


def test_bincount_truncates_float_values_to_int32():
    out = tf.math.bincount(tf.constant([1.7, 2.2, -0.5]))
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), [1, 1, 1])
    w = tf.math.bincount(tf.constant([1.7, 2.2]), weights=tf.constant([1.0, 2.0]))
    np.testing.assert_allclose(w.numpy(), [0.0, 1.0, 2.0])


def test_confusion_matrix_checks_label_range_eagerly_and_compiled():
    with pytest.raises(InvalidArgumentError, match="`labels` out of bound"):
        tf.math.confusion_matrix([0, 3], [0, 1], num_classes=2)
    with pytest.raises(InvalidArgumentError, match="`predictions` out of bound"):
        tf.math.confusion_matrix([0, 1], [0, 2], num_classes=2)
    with pytest.raises(InvalidArgumentError, match="`predictions` contains negative"):
        tf.math.confusion_matrix([0, 1], [0, -1], num_classes=2)
    fn = tf.function(lambda lab, pred: tf.math.confusion_matrix(lab, pred, num_classes=3))
    np.testing.assert_array_equal(fn(tf.constant([0, 1]), tf.constant([2, 2])).numpy(),
                                  [[0, 0, 1], [0, 0, 1], [0, 0, 0]])
    with pytest.raises(InvalidArgumentError, match="out of bound"):
        fn(tf.constant([0, 1]), tf.constant([2, 3]))


def test_unique_keeps_every_nan_distinct():
    y, idx, count = tf.unique_with_counts(tf.constant([NAN, 2.0, NAN, 1.0, 2.0]))
    np.testing.assert_array_equal(y.numpy(), [NAN, 2.0, NAN, 1.0])
    np.testing.assert_array_equal(idx.numpy(), [0, 1, 2, 3, 1])
    np.testing.assert_array_equal(count.numpy(), [1, 2, 1, 1])


# ---------------------------------------------------------------- special functions
def _values(fn, *args):
    return fn(*[tf.constant(a, tf.float32) for a in args]).numpy()


def test_special_functions_outside_their_domain_match_tf():
    x = [-2.0, 0.0, 2.0, -INF]
    # TF 2.21 values outside the domain (SciPy differs there)
    np.testing.assert_array_equal(_values(tf.math.special.bessel_y0, x)[[0, 1, 3]],
                                  [-INF, -INF, -INF])
    np.testing.assert_array_equal(_values(tf.math.special.bessel_y1, x)[[0, 1, 3]],
                                  [-INF, NAN, -INF])
    for fn in (tf.math.special.bessel_k0, tf.math.special.bessel_k0e,
               tf.math.special.bessel_k1, tf.math.special.bessel_k1e):
        np.testing.assert_array_equal(_values(fn, x)[[0, 1, 3]], [INF, INF, INF])
    np.testing.assert_array_equal(_values(tf.math.special.expint, [-2.0, INF]), [NAN, NAN])
    np.testing.assert_array_equal(_values(tf.math.lgamma, [-INF]), [INF])
    np.testing.assert_array_equal(_values(tf.math.digamma, [0.0, -0.0, -1.0]),
                                  [NAN, NAN, NAN])
    # inside the domain the values are unchanged: y0(2), k0(2) (SciPy / tables)
    np.testing.assert_allclose(_values(tf.math.special.bessel_y0, [2.0]), [0.5103757],
                               rtol=1e-5)
    np.testing.assert_allclose(_values(tf.math.special.bessel_k0, [2.0]), [0.1138939],
                               rtol=1e-5)


def test_incomplete_gamma_and_beta_domain():
    a = [-1.0, 0.0, 0.0, 0.5, 0.5, 0.5]
    x = [0.0, 0.0, 1.0, -1.0, 0.0, INF]
    np.testing.assert_array_equal(_values(tf.math.igamma, a, x),
                                  [0.0, 0.0, NAN, NAN, 0.0, 1.0])   # TF 2.21
    np.testing.assert_array_equal(_values(tf.math.igammac, a, x),
                                  [NAN, NAN, NAN, NAN, 1.0, 0.0])   # TF 2.21
    out = _values(tf.math.betainc, [0.0, 1.0, 1.0, 1.0, 2.0, 2.0],
                  [1.0, 0.0, 1.0, 1.0, 2.0, 2.0], [0.5, 0.5, -0.1, 1.1, 0.0, 1.0])
    np.testing.assert_array_equal(out, [NAN, NAN, NAN, NAN, 0.0, 1.0])
    np.testing.assert_array_equal(tf.math.lbeta(tf.constant([[0.0, 1.0]])).numpy(), [INF])


def test_igamma_gradient_still_matches_finite_differences():
    a = np.array([0.5, 1.5, 3.0])
    check_grad(lambda x: tf.math.igamma(tf.constant(a), x), [np.array([0.3, 2.0, 1.0])])


def test_polygamma_gives_nan_for_non_integer_or_negative_orders():
    out = _values(tf.math.polygamma, [0.0, 0.0, 1.0, 1.0, 2.0, 0.5, -1.0, 3.0],
                  [0.0, -2.0, 0.0, -1.0, -1.5, 2.0, 2.0, INF])
    expect = [NAN, NAN, INF, INF, -0.2362044, NAN, NAN, 0.0]   # TF 2.21
    np.testing.assert_allclose(out, expect, rtol=1e-5)
    assert np.isnan(_values(tf.math.polygamma, 0.5, [2.0])).all()
    np.testing.assert_allclose(_values(tf.math.polygamma, 1.0, [1.0]), [np.pi**2 / 6],
                               rtol=1e-6)


# ---------------------------------------------------------------- tf.linalg
def test_logdet_reads_the_lower_triangle_like_cholesky():
    m = tf.constant([[4.0, 7.0], [1.0, 3.0]])   # the lower triangle is [[4, 1], [1, 3]]
    assert float(_eager_and_compiled(tf.linalg.logdet, m)) == pytest.approx(np.log(11.0))
    c = tf.complex(tf.constant([[4.0, 1.0], [1.0, 3.0]]),
                   tf.constant([[0.0, 1.0], [-1.0, 0.0]]))
    out = tf.linalg.logdet(c)
    assert out.dtype == tf.float32
    assert float(out) == pytest.approx(np.log(10.0), rel=1e-6)
    np.testing.assert_allclose(tf.linalg.logdet(tf.eye(2, batch_shape=[3]) * 2).numpy(),
                               [np.log(4.0)] * 3, rtol=1e-6)


def test_logdet_gradient_is_the_symmetric_inverse():
    a = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
    x = tf.constant(a)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.linalg.logdet(x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), np.linalg.inv(a), rtol=1e-10)


def test_slogdet_is_a_named_tuple_in_the_input_dtype():
    x = tf.constant([[2.0, 1.0], [1.0, 3.0]])
    res = tf.linalg.slogdet(x)
    assert type(res).__name__ == "LogMatrixDeterminant"
    assert float(res.log_abs_determinant) == pytest.approx(np.log(5.0))
    assert float(res.sign) == 1.0
    c = tf.complex(tf.constant([[4.0, 1.0], [1.0, 3.0]]),
                   tf.constant([[0.0, 1.0], [-1.0, 0.0]]))
    sign, logabs = tf.linalg.slogdet(c)
    assert sign.dtype == tf.complex64 and logabs.dtype == tf.complex64   # as TF
    np.testing.assert_allclose(logabs.numpy(), np.log(10.0), rtol=1e-6)
    with tf.GradientTape() as tape:
        tape.watch(c)
        y = tf.math.real(tf.linalg.slogdet(c).log_abs_determinant)
    # d log|det A| / dA is inv(A)^H; TF 2.21 gives the same
    np.testing.assert_allclose(tape.gradient(y, c).numpy(),
                               np.linalg.inv(c.numpy()).conj().T, rtol=1e-5)


# ---------------------------------------------------------------- tf.image
def test_resize_rejects_float_sizes_and_bad_ranks_with_value_error():
    img = tf.ones([4, 4, 1])
    with pytest.raises(ValueError, match="size"):
        tf.image.resize(img, [2.5, 2])
    with pytest.raises(ValueError, match="size"):
        tf.image.resize(img, tf.constant([2.0, 2.0]))
    with pytest.raises(ValueError, match="3 or 4 dimensions"):
        tf.image.resize(tf.ones([4, 4]), [2, 2])
    assert tf.image.resize(img, np.array([3, 5])).shape == (3, 5, 1)
    assert tf.image.resize(img, tf.shape(img)[:2] * 2).shape == (8, 8, 1)


def test_adjust_hue_delta_out_of_range_is_value_error():
    with pytest.raises(ValueError, match="delta"):
        tf.image.adjust_hue(tf.ones([2, 2, 3]), 2.0)


def _glimpse(image, offsets, size, centered, normalized):
    return tf.image.extract_glimpse(image, size, tf.constant(offsets), centered=centered,
                                    normalized=normalized, noise="zero")


@pytest.mark.parametrize("centered,normalized,offset,size,expect", [
    # TF 2.21 on an 8x8 image holding 0..63: where each glimpse starts
    (True, True, [0.0, 0.0], [3, 3], [[18, 19, 20], [26, 27, 28], [34, 35, 36]]),
    (True, True, [1.0, -1.0], [2, 4], [[0, 0, 56, 57], [0, 0, 0, 0]]),
    (True, True, [0.3, -0.45], [3, 3], [[24, 25, 26], [32, 33, 34], [40, 41, 42]]),
    (True, False, [2.6, 3.5], [2, 4], [[55, 0, 0, 0], [63, 0, 0, 0]]),
    (False, True, [0.3, -0.45], [2, 4], [[0, 0, 0, 16], [0, 0, 0, 24]]),
    (False, False, [-2.5, 6.5], [3, 3], [[0, 0, 0], [0, 0, 0], [6, 7, 0]]),
    (False, False, [0.75, 1.25], [2, 4], [[1, 2, 3, 4], [9, 10, 11, 12]]),
])
def test_extract_glimpse_placement_matches_tf(centered, normalized, offset, size, expect):
    image = tf.reshape(tf.range(64.0), [1, 8, 8, 1])
    out = _glimpse(image, [offset], size, centered, normalized)
    assert out.shape == (1, size[0], size[1], 1) and out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy()[0, :, :, 0], expect)
    compiled = tf.function(lambda im, off: tf.image.extract_glimpse(
        im, size, off, centered=centered, normalized=normalized, noise="zero"))
    np.testing.assert_array_equal(compiled(image, tf.constant([offset])).numpy(),
                                  out.numpy())


def test_extract_glimpse_noise_batches_and_errors():
    image = tf.reshape(tf.range(64.0), [1, 8, 8, 1]) + 100.0
    for noise in ("uniform", "gaussian"):
        out = tf.image.extract_glimpse(image, [20, 20], tf.constant([[0.0, 0.0]]),
                                       centered=False, normalized=False, noise=noise)
        v = out.numpy()
        # outside the image: noise within the channel's [min, max]
        assert v.min() >= 100.0 and v.max() <= 163.0
        np.testing.assert_array_equal(v[0, :8, :8, 0], image.numpy()[0, :, :, 0])
    batch = tf.image.extract_glimpse(tf.ones([2, 4, 4, 2]), [3, 3],
                                     tf.constant([[1.0, 1.0], [0.0, 0.0]]),
                                     centered=False, normalized=False)
    assert batch.shape == (2, 3, 3, 2)
    with pytest.raises(InvalidArgumentError, match="noise"):
        tf.image.extract_glimpse(image, [3, 3], tf.constant([[0.0, 0.0]]), noise="bad")
    with pytest.raises(InvalidArgumentError, match="4-D"):
        tf.image.extract_glimpse(tf.ones([4, 4, 1]), [2, 2], tf.constant([[0.0, 0.0]]))
    with pytest.raises(InvalidArgumentError, match="offsets"):
        tf.image.extract_glimpse(tf.ones([2, 4, 4, 1]), [2, 2], tf.constant([[0.0, 0.0]]))
    with pytest.raises(ValueError, match="float32"):
        tf.image.extract_glimpse(tf.ones([1, 4, 4, 1], tf.int32), [2, 2],
                                 tf.constant([[0.0, 0.0]]))


def test_extract_glimpse_gradient_flows_to_the_pixels_inside():
    image = tf.reshape(tf.range(16.0), [1, 4, 4, 1])
    with tf.GradientTape() as tape:
        tape.watch(image)
        out = _glimpse(image, [[-1.0, 2.0]], [3, 3], False, False)
        total = tf.reduce_sum(out)
    grad = tape.gradient(total, image).numpy()[0, :, :, 0]
    expect = np.zeros((4, 4))
    expect[0:2, 2:4] = 1.0   # rows -1..1 and columns 2..4 meet the image there
    np.testing.assert_array_equal(grad, expect)


def test_non_max_suppression_overlaps():
    overlaps = tf.constant([[1.0, 0.6, 0.2], [0.6, 1.0, 0.55], [0.2, 0.55, 1.0]])
    fn = tf.image.non_max_suppression_overlaps
    out = fn(overlaps, tf.constant([0.9, 0.8, 0.7]), 3)
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), [0, 2])   # TF 2.21
    np.testing.assert_array_equal(
        fn(overlaps, tf.constant([0.7, 0.8, 0.9]), 3, overlap_threshold=0.5,
           score_threshold=0.75).numpy(), [2])
    np.testing.assert_array_equal(   # scores at the threshold leave, as in TF
        fn(overlaps, tf.constant([0.9, 0.8, 0.8]), 3, score_threshold=0.8).numpy(), [0])
    np.testing.assert_array_equal(fn(overlaps, tf.constant([0.9, 0.8, 0.7]), 1).numpy(),
                                  [0])
    compiled = tf.function(lambda o, s: fn(o, s, 3, overlap_threshold=0.7))
    np.testing.assert_array_equal(compiled(overlaps, tf.constant([0.9, 0.8, 0.7])).numpy(),
                                  [0, 1, 2])
    with pytest.raises(ValueError, match="overlaps"):
        fn(tf.ones([3, 2]), tf.constant([0.9, 0.8, 0.7]), 3)


# ---------------------------------------------------------------- tf.random
def test_random_uniform_rejects_non_numeric_dtypes_with_value_error():
    with pytest.raises(ValueError, match="dtype"):
        tf.random.uniform([2], dtype=tf.bool)
    with pytest.raises(ValueError, match="dtype"):
        tf.random.stateless_uniform([2], seed=[1, 2], dtype=tf.bool)


def _left_right_marked(batch):
    """Images whose left column is 0 and right column 1: a flip shows as pixel 1."""
    return tf.tile(tf.reshape(tf.constant([0.0, 1.0]), [1, 1, 2, 1]), [batch, 2, 1, 1])


def test_random_flips_of_a_batch_and_of_one_image_follow_tf():
    img = _left_right_marked(8)
    flipped = tf.image.stateless_random_flip_left_right(img, (1, 2))[:, 0, 0, 0]
    # TF 2.21: a batch flips where the uniform draw is above 0.5 ...
    np.testing.assert_array_equal(flipped.numpy(), [1, 0, 1, 0, 0, 1, 0, 0])
    draws = tf.random.stateless_uniform([8, 1, 1, 1], (1, 2)).numpy().ravel()
    np.testing.assert_array_equal(flipped.numpy(), draws > 0.5)
    # ... and a single image where its draw is below 0.5
    single = [int(tf.image.stateless_random_flip_left_right(img[0], (1, k))[0, 0, 0])
              for k in range(8)]
    assert single == [0, 1, 0, 0, 1, 0, 0, 0]
    tf.random.set_seed(4)
    stateful = tf.image.random_flip_up_down(tf.transpose(img, [0, 2, 1, 3]), seed=3)
    np.testing.assert_array_equal(stateful[:, 0, 0, 0].numpy(), [1, 1, 0, 1, 1, 0, 0, 0])


def test_stateless_poisson_and_gamma_rates_broadcast_to_shape():
    lam = tf.constant([1.0, 5.0, 10.0])
    assert tf.random.stateless_poisson([3], (1, 2), lam=lam).shape == (3,)
    assert tf.random.stateless_poisson([2, 3], (1, 2), lam=lam).shape == (2, 3)
    assert tf.random.stateless_gamma([2, 3], (1, 2), alpha=lam).shape == (2, 3)
    draws = tf.random.stateless_poisson([20000, 3], (5, 6), lam=lam, dtype=tf.float32)
    np.testing.assert_allclose(draws.numpy().mean(axis=0), [1.0, 5.0, 10.0], rtol=0.05)
    with pytest.raises(InvalidArgumentError, match="lam"):
        tf.random.stateless_poisson([3], (1, 2), lam=[[1.0, 5.0, 10.0]])


def test_stateless_shuffle_is_a_seeded_permutation_of_rows():
    shuffle = tf.random.experimental.stateless_shuffle
    x = tf.reshape(tf.range(20), [10, 2])
    a, b = shuffle(x, (3, 4)), shuffle(x, (3, 4))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(np.sort(a.numpy()[:, 0]), np.arange(0, 20, 2))
    np.testing.assert_array_equal(a.numpy()[:, 1], a.numpy()[:, 0] + 1)   # rows intact
    assert not np.array_equal(a.numpy(), shuffle(x, (5, 4)).numpy())
    compiled = tf.function(lambda v, s: shuffle(v, s))
    np.testing.assert_array_equal(compiled(x, tf.constant([3, 4])).numpy(), a.numpy())
    with pytest.raises(InvalidArgumentError, match="rank"):
        shuffle(tf.constant(3), (1, 2))


# ---------------------------------------------------------------- tf.nn
def _xent_reference(labels, logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return -(labels * log_p).sum(axis=-1)


def test_softmax_cross_entropy_casts_and_broadcasts_labels():
    logits = np.array([[1.0, 2.0], [3.0, 1.0], [0.0, 0.0]], np.float32)
    expect = _xent_reference(np.array([[0.0, 1.0]] * 3), logits.astype(np.float64))
    xent = tf.nn.softmax_cross_entropy_with_logits
    for labels in (tf.constant([[0, 1]] * 3), tf.constant([[0.0, 1.0]]),
                   tf.constant([0.0, 1.0]), tf.constant([[0.0, 1.0]] * 3, tf.float64)):
        out = _eager_and_compiled(lambda lab, lg: xent(lab, lg), labels, tf.constant(logits))
        assert out.dtype == tf.float32
        np.testing.assert_allclose(out.numpy(), expect, rtol=1e-6)
    with pytest.raises(InvalidArgumentError, match="broadcastable"):
        xent(tf.constant([[0.0, 1.0, 0.0]]), tf.constant(logits))
    half = xent(tf.constant([[0.0, 1.0]] * 3), tf.constant(logits, tf.float16))
    assert half.dtype == tf.float16   # computed in float32, rounded once (as TF)
    np.testing.assert_array_equal(half.numpy(), expect.astype(np.float16))


def test_softmax_cross_entropy_gradient_reaches_cast_labels():
    labels = np.array([[0.2, 0.8], [0.5, 0.5]])
    logits = np.array([[1.0, 2.0], [3.0, 1.0]])
    check_grad(lambda lab, lg: tf.nn.softmax_cross_entropy_with_logits(lab, lg),
               [labels, logits])
    lab = tf.constant(labels)
    with tf.GradientTape() as tape:
        tape.watch(lab)
        loss = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(
            lab, tf.constant(logits, tf.float32)))
    grad = tape.gradient(loss, lab)
    assert grad.dtype == tf.float64
    shifted = logits - logits.max(axis=-1, keepdims=True)
    np.testing.assert_allclose(
        grad.numpy(), -(shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))),
        rtol=1e-6)


def test_equality_operators_on_incompatible_shapes_give_a_scalar_tensor():
    eq, ne = tf.ones([2]) == tf.ones([3]), tf.ones([2]) != tf.ones([3])
    assert eq.shape == () and eq.dtype == tf.bool and not bool(eq)
    assert ne.shape == () and bool(ne)
    np.testing.assert_array_equal((tf.constant([1, 2]) == [1, 3]).numpy(), [True, False])
    assert (tf.constant([1.0]) == None) is False   # the None rule


# ---------------------------------------------------------------- complex gradients
_Z = np.array([0.3 + 0.2j, 0.6 - 0.4j])
_W = tf.constant([1.5 + 0.1j, -0.5 + 0.7j])
_M = tf.constant([[2.0 + 0.1j, 1.0 - 0.3j], [0.5 + 0.2j, 3.0 + 0.4j]])


def _complex_loss(fn, z):
    out = fn(z)
    if not out.dtype.is_complex:
        return tf.reduce_sum(out)
    return tf.reduce_sum(tf.math.real(out) + 2.0 * tf.math.imag(out))


def _complex_fd(fn, z, eps=1e-6):
    """dL/dRe(z) + i dL/dIm(z): TF's gradient of a real loss w.r.t. complex z."""
    grad = np.zeros_like(z)
    for i in range(z.size):
        parts = []
        for step in (eps, 1j * eps):
            up, down = z.copy(), z.copy()
            up[i] += step
            down[i] -= step
            parts.append((float(_complex_loss(fn, tf.constant(up)))
                          - float(_complex_loss(fn, tf.constant(down)))) / (2 * eps))
        grad[i] = parts[0] + 1j * parts[1]
    return grad


@pytest.mark.parametrize("name,fn", [
    (n, getattr(tf.math, n)) for n in (
        "exp", "log", "sqrt", "rsqrt", "expm1", "log1p", "reciprocal", "sin", "cos", "tan",
        "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
        "sigmoid", "square", "abs")] + [
    ("pow3", lambda z: tf.pow(z, 3.0 + 0j)), ("pow_w", lambda z: tf.pow(z, _W)),
    ("pow_base", lambda z: tf.pow(_W, z)),
    ("divide_no_nan", lambda z: tf.math.divide_no_nan(z, _W)),
    ("divide_no_nan_y", lambda z: tf.math.divide_no_nan(_W, z)),
    ("reduce_prod", tf.reduce_prod),
    ("squared_difference", lambda z: tf.math.squared_difference(z, _W)),
    ("l2_normalize", tf.math.l2_normalize),
    ("det", lambda z: tf.linalg.det(_M + tf.linalg.diag(z))),
    ("slogdet", lambda z: tf.math.reduce_prod(
        tf.linalg.slogdet(_M + tf.linalg.diag(z)).sign)
        * tf.exp(tf.linalg.slogdet(_M + tf.linalg.diag(z)).log_abs_determinant)),
])
def test_complex_gradients_follow_tf_convention(name, fn):
    z = tf.constant(_Z)
    with tf.GradientTape() as tape:
        tape.watch(z)
        loss = _complex_loss(fn, z)
    grad = tape.gradient(loss, z).numpy()
    if name == "squared_difference":
        # TF's rule is 2 * dy * (x - y) for complex inputs too (not the derivative of
        # |x - y|^2): dy = 1 + 2j here, as TF 2.21 returns
        np.testing.assert_allclose(grad, 2 * (1 + 2j) * (_Z - _W.numpy()), rtol=1e-6)
        return
    np.testing.assert_allclose(grad, _complex_fd(fn, _Z.copy()), rtol=1e-5, atol=1e-7)


def test_complex_forward_values_of_newly_accepted_ops():
    x, y = tf.constant([1 + 2j]), tf.constant([0.5 - 1j])
    np.testing.assert_allclose(tf.math.squared_difference(x, y).numpy(), [9.25 + 0j])
    np.testing.assert_allclose(tf.math.l2_normalize(tf.constant([3 + 4j, 1j])).numpy(),
                               np.array([3 + 4j, 1j]) / np.sqrt(26.0), rtol=1e-12)
    np.testing.assert_allclose(tf.math.sigmoid(tf.constant([1 + 1j])).numpy(),
                               1 / (1 + np.exp(-(1 + 1j))), rtol=1e-12)


@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16, tf.float64, tf.uint8])
def test_psnr_and_standardization_are_float32_for_any_image_dtype(dtype):
    rng = np.random.default_rng(3)
    a = rng.random((2, 4, 4, 3))
    b = np.clip(a + 0.05 * rng.standard_normal(a.shape), 0, 1)
    if dtype == tf.uint8:
        a, b, peak = (a * 255).astype(np.uint8), (b * 255).astype(np.uint8), 255
        fa, fb = a / 255.0, b / 255.0
    else:
        a_t, b_t = tf.cast(tf.constant(a), dtype), tf.cast(tf.constant(b), dtype)
        fa = tf.cast(a_t, tf.float64).numpy()
        fb = tf.cast(b_t, tf.float64).numpy()
        a, b, peak = a_t, b_t, 1.0
    out = tf.image.psnr(a, b, peak)
    assert out.dtype == tf.float32
    mse = ((fa - fb) ** 2).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(out.numpy(), -10 * np.log10(mse), rtol=1e-4)
    std = tf.image.per_image_standardization(a)
    # float64 keeps its precision (TF gives float32 there: a deliberate difference)
    assert std.dtype == (tf.float64 if dtype == tf.float64 else tf.float32)
    x = (fa * 255 if dtype == tf.uint8 else fa).reshape(2, -1)
    expect = (x - x.mean(1, keepdims=True)) / np.maximum(x.std(1, keepdims=True),
                                                         1 / np.sqrt(48))
    np.testing.assert_allclose(std.numpy().reshape(2, -1), expect, rtol=1e-3, atol=1e-3)
