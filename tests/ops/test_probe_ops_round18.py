"""Round-18 probe of less-common ops against TF 2.21: the incomplete gamma functions'
gradient with respect to ``a``, dense (not IndexedSlices) gradients of sort / repeat /
frame / sparse segment reductions, and values of rarely used math, linalg, signal and
image ops against NumPy references."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_function_matches_eager, check_grad


def _grad(fn, x):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return tape.gradient(y, x)


# ---------------------------------------------------------------- igamma d/da
def test_igamma_gradient_wrt_a_matches_finite_differences():
    a = np.array([0.3, 1.0, 2.5, 7.0])
    x = np.array([0.2, 1.5, 2.0, 12.0])
    check_grad(tf.math.igamma, [a, x], rtol=1e-5, atol=1e-8)
    check_grad(tf.math.igammac, [a, x], rtol=1e-5, atol=1e-8)


def test_igamma_gradient_wrt_a_tf_values_and_broadcasting():
    a = tf.constant([0.5, 2.0])
    x = tf.constant([1.0, 1.5])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(a)
        p, q = tf.math.igamma(a, x), tf.math.igammac(a, x)
    # values from TF 2.21 (IgammaGradA)
    np.testing.assert_allclose(tape.gradient(p, a).numpy(), [-0.389837, -0.313483],
                               atol=1e-5)
    np.testing.assert_allclose(tape.gradient(q, a).numpy(), [0.389837, 0.313483],
                               atol=1e-5)
    a2 = tf.constant([[0.5], [3.0]])
    g = _grad(lambda v: tf.math.igamma(v, tf.constant([1.0, 2.0, 4.0])), a2.numpy())
    assert g.shape == (2, 1)
    np.testing.assert_allclose(g.numpy(), [[-0.542023], [-0.516555]], atol=1e-5)


def test_igamma_gradient_wrt_a_extremes_and_domain():
    a = np.array([0.01, 1e4, 3.0, 2.0, 0.0, -1.0, 2.0])
    x = np.array([1e-3, 1e4, 500.0, 0.0, 1.0, 1.0, -1.0])
    g = _grad(lambda v: tf.math.igamma(v, tf.constant(x)), a).numpy()
    # -5.957906 from TF 2.21; d/da P(1e4, 1e4) = -0.003989456 (mpmath, 30 digits)
    np.testing.assert_allclose(g[:2], [-5.957906, -0.003989456], rtol=1e-6)
    assert g[2] == 0 and g[3] == 0          # deep upper tail, and P(a, 0) = 0
    assert np.isnan(g[4:]).all()            # a <= 0 or x < 0, as TF


def test_igamma_gradient_wrt_a_compiled_equals_eager():
    def grad_a(a, x):
        with tf.GradientTape() as tape:
            tape.watch(a)
            y = tf.reduce_sum(tf.math.igamma(a, x))
        return tape.gradient(y, a)
    check_function_matches_eager(grad_a, [np.array([0.5, 3.0], np.float32),
                                          np.array([1.0, 2.0], np.float32)])


# ---------------------------------------------------------------- gradient kinds
DENSE_GRADS = {
    "sort": lambda x: tf.sort(x),
    "sort_descending": lambda x: tf.sort(x, direction="DESCENDING"),
    "frame": lambda x: tf.signal.frame(x, 3, 2),
    "frame_pad_end": lambda x: tf.signal.frame(x, 4, 3, pad_end=True),
    "stft": lambda x: tf.abs(tf.signal.stft(x, 4, 2)),
    "repeat": lambda x: tf.repeat(x, [1, 2, 0, 1, 3, 1]),
    "sparse_segment_sum": lambda x: tf.sparse.segment_sum(x, [0, 2, 2], [0, 1, 1]),
    "sparse_segment_mean": lambda x: tf.sparse.segment_mean(x, [0, 2], [0, 1]),
    "sparse_segment_sqrt_n": lambda x: tf.sparse.segment_sqrt_n(x, [0, 2, 5], [0, 0, 2],
                                                                num_segments=4),
    "tnp_take": lambda x: tf.experimental.numpy.take(x, [0, 2, 2]),
    "tnp_sort": lambda x: tf.experimental.numpy.sort(x),
}


@pytest.mark.parametrize("name", sorted(DENSE_GRADS))
def test_rearranging_ops_give_dense_gradients(name):
    fn = DENSE_GRADS[name]
    x = np.array([3.0, 1.0, 2.0, 5.0, 4.0, 0.5])
    g = _grad(fn, x)
    assert isinstance(g, tf.Tensor) and not isinstance(g, tf.IndexedSlices), type(g)
    g.numpy()   # a dense gradient has a value
    check_grad(fn, [x])


def test_row_gathers_keep_indexed_slices_gradients():
    x = np.arange(12.0).reshape(3, 4)
    assert isinstance(_grad(lambda v: tf.gather(v, [0, 2]), x), tf.IndexedSlices)
    # TF: gather_nd with [n, 1] indices is a row gather too
    g = _grad(lambda v: tf.gather_nd(v, [[2], [0], [2]]), x)
    assert isinstance(g, tf.IndexedSlices)
    np.testing.assert_allclose(tf.convert_to_tensor(g).numpy(),
                               [[1.0] * 4, [0.0] * 4, [2.0] * 4])
    assert isinstance(_grad(lambda v: tf.gather_nd(v, [[2, 1]]), x), tf.Tensor)
    check_grad(lambda v: tf.gather_nd(v, [[2], [0], [2]]), [x])
    # a sort of a matrix (batched gather) was dense already
    assert not isinstance(_grad(lambda v: tf.sort(v), x), tf.IndexedSlices)


def test_sort_frame_repeat_values_unchanged_and_compiled():
    x = np.array([3.0, 1.0, 2.0, 5.0, 4.0, 0.5], np.float32)
    np.testing.assert_array_equal(tf.sort(x).numpy(), np.sort(x))
    np.testing.assert_array_equal(tf.repeat(x, 2).numpy(), np.repeat(x, 2))
    np.testing.assert_array_equal(tf.signal.frame(x, 4, 2).numpy(),
                                  np.stack([x[0:4], x[2:6]]))
    np.testing.assert_array_equal(
        tf.signal.frame(x.reshape(3, 2), 2, 1, axis=0).numpy(),
        np.stack([x.reshape(3, 2)[0:2], x.reshape(3, 2)[1:3]]))
    for name in ("sort", "frame_pad_end", "repeat", "sparse_segment_mean"):
        check_function_matches_eager(DENSE_GRADS[name], [x])


# ---------------------------------------------------------------- values vs NumPy
def test_bincount_variants_match_numpy():
    x = np.array([[1, 2, 2], [0, 0, 3]], np.int32)
    rows = [np.bincount(r, minlength=5) for r in x]
    np.testing.assert_array_equal(tf.math.bincount(x, axis=-1, minlength=5).numpy(), rows)
    got = tf.math.bincount(x, axis=-1, minlength=5, binary_output=True)
    np.testing.assert_array_equal(got.numpy(), np.minimum(rows, 1))
    w = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32)
    got = tf.math.bincount(x, weights=w, axis=-1)
    np.testing.assert_allclose(got.numpy(), [np.bincount(r, wr, 4) for r, wr in zip(x, w)])
    assert got.dtype == tf.float32
    flat = tf.math.bincount(x, maxlength=3)
    np.testing.assert_array_equal(flat.numpy(), np.bincount(x.ravel())[:3])


def test_cumulative_logsumexp_and_histogram_match_numpy():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    got = tf.math.cumulative_logsumexp(tf.constant(x), exclusive=True, reverse=True)
    tails = [np.log(np.sum(np.exp(x[i + 1:]))) if i < 3 else -np.inf for i in range(4)]
    np.testing.assert_allclose(got.numpy(), tails)
    check_grad(lambda v: tf.math.cumulative_logsumexp(v, axis=0),
               [np.array([[1.0, 2.0], [3.0, -1.0]])])
    values = np.array([-1.0, 0.0, 1.5, 2.0, 5.0, 15.0], np.float32)
    got = tf.histogram_fixed_width(values, [0.0, 5.0], nbins=5)
    np.testing.assert_array_equal(got.numpy(), [2, 1, 1, 0, 2])   # TF 2.21


def test_unique_with_counts_top_k_ties_and_searchsorted():
    y, idx, count = tf.unique_with_counts(tf.constant([4, 1, 4, 7, 1, 4]),
                                          out_idx=tf.int64)
    np.testing.assert_array_equal(y.numpy(), [4, 1, 7])
    np.testing.assert_array_equal(idx.numpy(), [0, 1, 0, 2, 1, 0])
    np.testing.assert_array_equal(count.numpy(), [3, 2, 1])
    assert idx.dtype == tf.int64 and count.dtype == tf.int64
    top = tf.math.top_k(tf.constant([1, 3, 3, 2, 3]), 3)
    np.testing.assert_array_equal(top.indices.numpy(), [1, 2, 4])   # ties: lower first
    sorted_seq = np.array([[0.0, 3.0, 9.0, 9.0, 10.0]])
    got = tf.searchsorted(sorted_seq, [[9.0, 11.0, -1.0]], side="right",
                          out_type=tf.int64)
    np.testing.assert_array_equal(got.numpy(), [np.searchsorted(sorted_seq[0],
                                                                [9.0, 11.0, -1.0],
                                                                side="right")])
    np.testing.assert_array_equal(
        tf.argsort(tf.constant([3, 1, 3, 1, 2]), direction="DESCENDING",
                   stable=True).numpy(), [0, 2, 4, 1, 3])


def test_confusion_matrix_and_in_top_k():
    got = tf.math.confusion_matrix([1, 2, 4], [2, 2, 4], num_classes=6,
                                   weights=[1.0, 2.0, 3.0], dtype=tf.float32)
    expect = np.zeros((6, 6), np.float32)
    expect[1, 2], expect[2, 2], expect[4, 4] = 1.0, 2.0, 3.0
    np.testing.assert_array_equal(got.numpy(), expect)
    with pytest.raises(tf.errors.InvalidArgumentError, match="labels"):
        tf.math.confusion_matrix([1, 2, 4], [2, 2, 4], num_classes=3)
    hits = tf.math.in_top_k(tf.constant([2, 0, 1]),
                            tf.constant([[0.1, 0.3, 0.3], [0.5, 0.2, 0.1],
                                         [0.2, 0.2, 0.2]]), 1)
    np.testing.assert_array_equal(hits.numpy(), [True, True, True])   # TF 2.21: ties hit


def test_lstsq_tridiagonal_and_band_part_match_numpy():
    r = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0], [1.0, 0.0]])
    b = np.array([[1.0], [2.0], [3.0], [4.0]])
    got = tf.linalg.lstsq(r, b, l2_regularizer=0.5)
    expect = np.linalg.solve(r.T @ r + 0.5 * np.eye(2), r.T @ b)
    np.testing.assert_allclose(got.numpy(), expect, rtol=1e-6)
    diags = np.array([[1.0, 2.0, 0.0], [4.0, 5.0, 6.0], [0.0, 7.0, 8.0]])
    dense = np.diag(diags[1]) + np.diag(diags[0, :-1], 1) + np.diag(diags[2, 1:], -1)
    rhs = np.array([[1.0], [2.0], [3.0]])
    got = tf.linalg.tridiagonal_solve(diags, rhs)
    np.testing.assert_allclose(got.numpy(), np.linalg.solve(dense, rhs), rtol=1e-6)
    m = np.arange(16.0).reshape(4, 4)
    np.testing.assert_array_equal(tf.linalg.band_part(m, 0, 2).numpy(),
                                  np.triu(m) - np.triu(m, 3))


def test_signal_dct_ortho_and_irfft_length_match_numpy():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    n = np.arange(5)
    basis = np.cos(np.pi * (2 * n[None, :] + 1) * n[:, None] / 10)
    scale = np.where(n == 0, np.sqrt(1 / 5), np.sqrt(2 / 5))
    dct2 = scale * (basis @ x)
    np.testing.assert_allclose(tf.signal.dct(x, norm="ortho").numpy(), dct2, atol=1e-6)
    np.testing.assert_allclose(tf.signal.dct(dct2, type=3, norm="ortho").numpy(), x,
                               rtol=1e-6)
    spec = np.array([1 + 0j, 2 - 1j, 3 + 2j], np.complex64)
    np.testing.assert_allclose(tf.signal.irfft(spec, fft_length=[7]).numpy(),
                               np.fft.irfft(spec, 7), rtol=1e-5, atol=1e-6)
    periodic = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(6) / 6)
    np.testing.assert_allclose(tf.signal.hann_window(6).numpy(), periodic, atol=1e-6)


# ---------------------------------------------------------------- round-18 fixes
def test_confusion_matrix_inside_function_reads_num_classes_at_run_time():
    fn = tf.function(lambda a, b: tf.math.confusion_matrix(a, b))
    got = fn(tf.constant([0, 1, 2]), tf.constant([0, 2, 2]))
    np.testing.assert_array_equal(got.numpy(), [[1, 0, 0], [0, 0, 1], [0, 0, 1]])
    got = fn(tf.constant([0, 1, 3]), tf.constant([0, 2, 2]))   # same trace, 4 classes
    assert got.shape == (4, 4) and int(got.numpy()[3, 2]) == 1
    with_n = tf.function(lambda a, b, n: tf.math.confusion_matrix(a, b, num_classes=n))
    got = with_n(tf.constant([0, 1]), tf.constant([1, 1]), tf.constant(3))
    np.testing.assert_array_equal(got.numpy(), [[0, 1, 0], [0, 1, 0], [0, 0, 0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of bound"):
        tf.function(lambda a, b: tf.math.confusion_matrix(a, b, num_classes=3))(
            tf.constant([0, 1, 5]), tf.constant([0, 2, 2]))


def test_in_top_k_target_out_of_range_is_false():
    preds = tf.constant([[0.1, 0.9, 0.5], [0.3, 0.2, 0.1], [0.2, 0.2, 0.2]])
    # values from TF 2.21: an out-of-range target is never in the top k
    np.testing.assert_array_equal(
        tf.math.in_top_k(tf.constant([5, -1, 2]), preds, 2).numpy(), [False, False, True])
    got = tf.function(lambda a, b: tf.math.in_top_k(a, b, 1))(tf.constant([3, 0, 1]),
                                                              preds)
    np.testing.assert_array_equal(got.numpy(), [False, True, True])


def test_searchsorted_needs_matching_row_counts_not_ranks():
    seq = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(
        tf.searchsorted(tf.constant([[1.0, 2.0]]), tf.constant([1.0])).numpy(), [0])
    got = tf.searchsorted(seq, tf.constant([[[1.0], [5.0]]]))
    assert got.shape == (1, 2, 1)
    np.testing.assert_array_equal(got.numpy().ravel(), [0, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Leading dim"):
        tf.searchsorted(seq, tf.constant([1.0, 5.0]))


def test_image_bad_input_error_types():
    image = tf.ones([1, 4, 4, 1])
    # TF: InvalidArgumentError from the eager kernels, ValueError from shape inference
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\(1, 3\)"):
        tf.image.crop_and_resize(image, [[0.0, 0.0, 1.0]], [0], [2, 2])
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        tf.image.non_max_suppression(tf.ones([3, 3]), tf.ones([3]), 2)
    with pytest.raises(ValueError, match=r"\[-2, 2\]"):
        tf.image.resize(image, [-2, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[0, 2\]"):
        tf.image.resize(image, [0, 2])
    for adjust in (lambda x: tf.image.adjust_hue(x, 0.1),
                   lambda x: tf.image.adjust_saturation(x, 0.5)):
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"3-D.*\[3, 3\]"):
            adjust(tf.ones([3, 3]))
        assert adjust(tf.ones([2, 3])[None]).shape == (1, 2, 3)
