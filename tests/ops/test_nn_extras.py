"""tf.nn extras: morphology, fractional pooling, isotonic regression, CTC label
helpers, batch_norm_with_global_normalization, with_space_to_batch,
atrous_conv2d_transpose, approx top-k and candidate samplers."""

import itertools

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_grad, check_op


# ---------------------------------------------------------------- morphology
def _dilation_ref(x, w, s, r, padding):
    b, h, wd, c = x.shape
    kh, kw, _ = w.shape
    geo = []
    for n, k, st, rt in ((h, kh, s[0], r[0]), (wd, kw, s[1], r[1])):
        span = (k - 1) * rt + 1
        if padding == "VALID":
            geo.append(((n - span) // st + 1, 0))
        else:
            out = -(-n // st)
            geo.append((out, max((out - 1) * st + span - n, 0) // 2))
    out = np.full((b, geo[0][0], geo[1][0], c), -np.inf)
    for i in range(geo[0][0]):
        for j in range(geo[1][0]):
            for di in range(kh):
                for dj in range(kw):
                    y = i * s[0] + di * r[0] - geo[0][1]
                    z = j * s[1] + dj * r[1] - geo[1][1]
                    if 0 <= y < h and 0 <= z < wd:
                        out[:, i, j] = np.maximum(out[:, i, j], x[:, y, z] + w[di, dj])
    return out


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("s,r", [((1, 1), (1, 1)), ((2, 3), (1, 1)), ((1, 2), (2, 2))])
def test_dilation2d_and_erosion2d(padding, s, r):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 7, 6, 3))
    w = rng.standard_normal((3, 2, 3))

    def dil(a, b):
        return tf.nn.dilation2d(a, b, [1, *s, 1], padding, "NHWC", [1, *r, 1])

    def ero(a, b):
        return tf.nn.erosion2d(a, b, [1, *s, 1], padding, "NHWC", [1, *r, 1])

    check_op(dil, [x, w], lambda a, b: _dilation_ref(a, b, s, r, padding))
    check_op(ero, [x, w], lambda a, b: -_dilation_ref(-a, b[::-1, ::-1], s, r, padding))


def test_dilation2d_matches_tf_values_and_errors():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 7, 6, 3)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3)).astype(np.float32)
    y = tf.nn.dilation2d(x, w, [1, 2, 3, 1], "SAME", "NHWC", [1, 1, 1, 1])
    assert y.shape == (2, 4, 2, 3)
    assert round(float(tf.reduce_sum(y)), 3) == 76.901   # TF 2.21
    with pytest.raises(ValueError, match="NHWC"):
        tf.nn.dilation2d(x, w, [1, 1, 1, 1], "SAME", "NCHW", [1, 1, 1, 1])
    with pytest.raises(ValueError, match="filters"):
        tf.nn.dilation2d(x, w[:, :, :2], [1, 1, 1, 1], "SAME", "NHWC", [1, 1, 1, 1])
    with pytest.raises(ValueError, match="strides"):
        tf.nn.dilation2d(x, w, [2, 1, 1, 1], "SAME", "NHWC", [1, 1, 1, 1])


# ---------------------------------------------------------------- fractional pooling
def _regions(seq, n, overlapping):
    return [(a, min(b + (1 if overlapping else 0), n)) for a, b in itertools.pairwise(seq)]


@pytest.mark.parametrize("pseudo_random", [False, True])
@pytest.mark.parametrize("overlapping", [False, True])
def test_fractional_pools_follow_their_sequences(pseudo_random, overlapping):
    x = np.random.default_rng(1).standard_normal((2, 10, 9, 2))
    xt = tf.constant(x)
    for is_max, fn in ((True, tf.nn.fractional_max_pool),
                       (False, tf.nn.fractional_avg_pool)):
        with tf.GradientTape() as tape:
            tape.watch(xt)
            out, rows, cols = fn(xt, [1.0, 1.6, 1.4, 1.0], pseudo_random, overlapping,
                                 seed=7)
            loss = tf.reduce_sum(out * out)
        grad = tape.gradient(loss, xt).numpy()
        rows, cols = rows.numpy(), cols.numpy()
        assert out.shape == (2, 6, 6, 2) and rows.shape == (7,) and cols.shape == (7,)
        assert rows[0] == 0 and rows[-1] == 10 and cols[-1] == 9
        assert set(np.diff(rows)) <= {1, 2} and set(np.diff(cols)) <= {1, 2}
        expect = np.zeros(out.shape)
        expect_grad = np.zeros(x.shape)
        for i, (r0, r1) in enumerate(_regions(rows, 10, overlapping)):
            for j, (c0, c1) in enumerate(_regions(cols, 9, overlapping)):
                win = x[:, r0:r1, c0:c1]
                if is_max:
                    expect[:, i, j] = win.max(axis=(1, 2))
                    flat = win.reshape(2, -1, 2).argmax(axis=1)
                    for b in range(2):
                        for c in range(2):
                            y, z = np.unravel_index(flat[b, c], win.shape[1:3])
                            expect_grad[b, r0 + y, c0 + z, c] += 2 * expect[b, i, j, c]
                else:
                    expect[:, i, j] = win.mean(axis=(1, 2))
                    expect_grad[:, r0:r1, c0:c1] += \
                        2 * expect[:, i, j][:, None, None] / (win.shape[1] * win.shape[2])
        np.testing.assert_allclose(out.numpy(), expect, rtol=1e-12)
        np.testing.assert_allclose(grad, expect_grad, rtol=1e-10)


def test_fractional_pool_seed_semantics_and_errors():
    x = tf.constant(np.random.default_rng(2).random((1, 10, 10, 1)))
    a = tf.nn.fractional_max_pool(x, [1., 1.5, 1.5, 1.], seed=3)[1].numpy()
    b = tf.nn.fractional_max_pool(x, [1., 1.5, 1.5, 1.], seed=3)[1].numpy()
    np.testing.assert_array_equal(a, b)   # a seed fixes the regions (as in TF)
    seq = tf.nn.fractional_max_pool(x, [1., 3.3, 1.5, 1.], seed=3)[1].numpy()
    assert sorted(np.diff(seq).tolist()) == [3, 3, 4]   # floor(10 / 3.3) = 3 regions
    f = tf.function(lambda v: tf.nn.fractional_avg_pool(v, 2.0, seed=5)[0])
    np.testing.assert_allclose(f(x).numpy(), tf.nn.fractional_avg_pool(x, 2.0, seed=5)[0])
    with pytest.raises(ValueError, match="first and last"):
        tf.nn.fractional_max_pool(x, [2., 1.5, 1.5, 1.])
    with pytest.raises(ValueError, match="4-D"):
        tf.nn.fractional_avg_pool(tf.zeros([3, 3]), 1.5)


# ---------------------------------------------------------------- isotonic regression
def test_isotonic_regression_matches_tf():
    x = tf.constant([[1., 3., 2., 4.], [5., 1., 2., 0.]])
    out, seg = tf.nn.isotonic_regression(x)   # TF 2.21 values
    np.testing.assert_allclose(out.numpy(), [[2.5] * 4, [5., 1.5, 1.5, 0.]])
    np.testing.assert_array_equal(seg.numpy(), [[0, 0, 0, 0], [0, 1, 1, 2]])
    r = tf.nn.isotonic_regression(x, decreasing=False)
    np.testing.assert_allclose(r.output.numpy(), [[1., 2.5, 2.5, 4.], [2.] * 4])
    np.testing.assert_array_equal(r.segments.numpy(), [[0, 1, 1, 2], [0, 0, 0, 0]])
    r = tf.nn.isotonic_regression(tf.constant([[1., 3.], [2., 4.]]), axis=0)
    np.testing.assert_allclose(r.output.numpy(), [[1.5, 3.5], [1.5, 3.5]])
    ties = tf.nn.isotonic_regression(tf.constant([[2., 2., 1., 1., 3., 3.]]))
    np.testing.assert_array_equal(ties.segments.numpy(), [[0, 1, 2, 2, 2, 2]])
    assert tf.nn.isotonic_regression(tf.constant([[1, 3]])).output.dtype == tf.float64
    assert tf.nn.isotonic_regression(tf.constant([[1, 3]], tf.int8)).output.dtype == \
        tf.float32


def _pava_ref(y):
    """Brute force: the closest non-decreasing fit by quadratic programming via PAVA
    on explicit blocks (independent implementation: repeated pooling passes)."""
    blocks = [[v] for v in y]
    changed = True
    while changed:
        changed = False
        for i in range(len(blocks) - 1):
            if np.mean(blocks[i]) > np.mean(blocks[i + 1]):
                blocks[i:i + 2] = [blocks[i] + blocks[i + 1]]
                changed = True
                break
    return np.concatenate([[np.mean(b)] * len(b) for b in blocks])


def test_isotonic_regression_random_and_gradients():
    x = np.random.default_rng(3).standard_normal((3, 7))

    def fn(v):
        return tf.nn.isotonic_regression(v, decreasing=False).output

    check_op(fn, [x], lambda v: np.stack([_pava_ref(r) for r in v]))
    check_grad(lambda v: tf.nn.isotonic_regression(v, axis=0).output, [x.T.copy()])
    # TF 2.21: d/dx sum(fit * [1..5]) averages the weights over each pooled segment
    xt = tf.constant([[1., 3., 2., 4., 2.5]])
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = tf.nn.isotonic_regression(xt, decreasing=False).output
        s = tf.reduce_sum(y * tf.constant([[1., 2., 3., 4., 5.]]))
    np.testing.assert_allclose(tape.gradient(s, xt).numpy(), [[1., 2.5, 2.5, 4.5, 4.5]])


# ---------------------------------------------------------------- CTC label helpers
def test_collapse_repeated_and_ctc_unique_labels():
    labels, lens = tf.nn.collapse_repeated(
        tf.constant([[1, 1, 2, 2, 3], [4, 4, 4, 0, 0], [5, 6, 6, 7, 0]]),
        tf.constant([5, 3, 4]))   # TF 2.21 values
    np.testing.assert_array_equal(labels.numpy(), [[1, 2, 3], [4, 0, 0], [5, 6, 7]])
    np.testing.assert_array_equal(lens.numpy(), [3, 1, 3])
    labels, lens = tf.nn.collapse_repeated(tf.constant([[1, 1, 1], [1, 1, 1]]),
                                           tf.constant([3, 2]))
    np.testing.assert_array_equal(labels.numpy(), [[1], [1]])
    uniq, idx = tf.nn.ctc_unique_labels(tf.constant([[3, 4, 4, 3], [1, 1, 0, 0]]))
    assert uniq.dtype == tf.int64 and idx.dtype == tf.int32
    np.testing.assert_array_equal(uniq.numpy(), [[3, 4, 0, 0], [1, 0, 0, 0]])
    np.testing.assert_array_equal(idx.numpy(), [[0, 1, 1, 0], [0, 0, 1, 1]])
    with pytest.raises(ValueError, match="seq_length"):
        tf.nn.collapse_repeated(tf.constant([[1, 2]]), tf.constant([1, 2]))


# ---------------------------------------------------------------- misc
def test_batch_norm_with_global_normalization():
    args = [tf.constant([[1., 2.]]), tf.constant([0.5, 1.]), tf.constant([2., 3.]),
            tf.constant([0.1, 0.2]), tf.constant([2., 3.]), 0.001]
    np.testing.assert_allclose(   # TF 2.21 values
        tf.nn.batch_norm_with_global_normalization(*args, True).numpy(),
        [[0.8069301, 1.9317625]], rtol=1e-6)
    np.testing.assert_allclose(
        tf.nn.batch_norm_with_global_normalization(*args, False).numpy(),
        [[0.45346504, 0.7772541]], rtol=1e-6)
    rng = np.random.default_rng(4)
    x, m, v, b, g = (rng.random(s) + 0.5 for s in [(3, 4), (4,), (4,), (4,), (4,)])
    check_op(lambda *a: tf.nn.batch_norm_with_global_normalization(*a, 1e-3, True),
             [x, m, v, b, g], lambda x, m, v, b, g: (x - m) / np.sqrt(v + 1e-3) * g + b)


def test_approx_top_k():
    x = tf.constant([[1., 5., 3., 2.], [0., -1., 7., 7.]])
    r = tf.approx_top_k(x, 2)
    np.testing.assert_array_equal(r.values.numpy(), [[5., 3.], [7., 7.]])
    np.testing.assert_array_equal(r.indices.numpy(), [[1, 2], [2, 3]])
    r = tf.approx_top_k(x, 1, reduction_dimension=0, is_max_k=False)
    np.testing.assert_array_equal(r.values.numpy(), [[0., -1., 3., 2.]])
    np.testing.assert_array_equal(r.indices.numpy(), [[1, 1, 0, 0]])
    assert tf.nn.approx_max_k is tf.math.approx_max_k
    np.testing.assert_array_equal(tf.nn.approx_min_k(x, 1)[0].numpy(), [[1.], [-1.]])


def test_with_space_to_batch_equals_dilated_convolution():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 9, 8, 3))
    w = rng.standard_normal((3, 2, 3, 4))
    for padding in ("SAME", "VALID"):
        def fn(v, k, padding=padding):
            return tf.nn.with_space_to_batch(
                v, [2, 3], padding,
                lambda inp, n, pad: tf.nn.convolution(inp, k, padding=pad),
                filter_shape=[3, 2])

        expect = tf.nn.convolution(tf.constant(x), tf.constant(w), padding=padding,
                                   dilations=[2, 3]).numpy()
        check_op(fn, [x, w], lambda v, k, e=expect: e, rtol=1e-10)
    with pytest.raises(ValueError, match="filter_shape"):
        tf.nn.with_space_to_batch(x, [2, 2], "SAME", lambda i, n, p: i)


def test_atrous_conv2d_transpose_is_the_adjoint_of_atrous_conv2d():
    rng = np.random.default_rng(6)
    y = rng.standard_normal((1, 7, 7, 4))
    w = rng.standard_normal((3, 3, 2, 4))
    z = rng.standard_normal((1, 7, 7, 2))
    for padding in ("SAME", "VALID"):
        yt = y if padding == "SAME" else y[:, :3, :3]   # VALID: 7 - (3 - 1) * 2 = 3
        t_out = tf.nn.atrous_conv2d_transpose(yt, w, [1, 7, 7, 2], 2, padding)
        fwd = tf.nn.atrous_conv2d(tf.constant(z), tf.constant(w), 2, padding)
        # <conv(z), y> == <z, conv_transpose(y)>
        np.testing.assert_allclose(np.sum(fwd.numpy() * yt), np.sum(z * t_out.numpy()),
                                   rtol=1e-10)
    with pytest.raises(ValueError, match="rate"):
        tf.nn.atrous_conv2d_transpose(y, w, [1, 7, 7, 2], 0, "SAME")


# ---------------------------------------------------------------- candidate samplers
def test_all_candidate_sampler_and_accidental_hits():
    tc = tf.constant([[1, 5], [2, 3], [0, 4]], tf.int64)
    sampled, true_exp, samp_exp = tf.random.all_candidate_sampler(tc, 2, 6, True)
    np.testing.assert_array_equal(sampled.numpy(), np.arange(6))
    np.testing.assert_array_equal(true_exp.numpy(), np.ones((3, 2)))
    np.testing.assert_array_equal(samp_exp.numpy(), np.ones(6))
    assert tf.nn.all_candidate_sampler is tf.random.all_candidate_sampler
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of range"):
        tf.random.all_candidate_sampler(tc, 2, 4, True)
    # TF 2.21: a repeated candidate matches at its last position
    tc = tf.constant([[1, 3], [3, 1]], tf.int64)
    idx, ids, weights = tf.nn.compute_accidental_hits(
        tc, tf.constant([3, 1, 3, 1], tf.int64), 2)
    np.testing.assert_array_equal(idx.numpy(), [0, 0, 1, 1])
    np.testing.assert_array_equal(ids.numpy(), [3, 2, 2, 3])
    np.testing.assert_array_equal(weights.numpy(), [-np.finfo(np.float32).max] * 4)
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_true"):
        tf.nn.compute_accidental_hits(tc, tf.constant([3], tf.int64), 3)


def test_learned_unigram_candidate_sampler():
    tc = tf.constant([[1, 5], [2, 3], [0, 4]], tf.int64)
    tf.random.set_seed(1)
    sampled, true_exp, samp_exp = tf.random.learned_unigram_candidate_sampler(
        tc, 2, 3, False, 6, seed=1)
    assert sampled.shape == (3,) and sampled.dtype == tf.int64
    assert ((sampled.numpy() >= 0) & (sampled.numpy() < 6)).all()
    np.testing.assert_allclose(true_exp.numpy(), np.full((3, 2), 0.5))   # as TF 2.21
    np.testing.assert_allclose(samp_exp.numpy(), np.full(3, 0.5))
    uniq = tf.nn.learned_unigram_candidate_sampler(tc, 2, 6, True, 6, seed=2)[0].numpy()
    assert sorted(uniq.tolist()) == list(range(6))
    assert tf.nn.fixed_unigram_candidate_sampler is \
        tf.random.fixed_unigram_candidate_sampler
