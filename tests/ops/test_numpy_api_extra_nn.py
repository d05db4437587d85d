"""The later keras.ops nn / math / linalg names (adaptive pooling, fold/unfold,
ctc_decode, sparsemax, cdist, istft, eig, lu_factor, jvp, rearrange...) against
NumPy references and values taken from TF 2.21 / Keras 3 where noted."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.keras import ops
from tests.helpers import check_function_matches_eager, check_grad, check_op

RNG = np.random.default_rng(7)


def _adaptive_ref(x, out, reduce):
    """PyTorch's adaptive pooling bins over axes 1..-2 (channels last)."""
    for axis, n in zip(range(1, x.ndim - 1), out):
        length = x.shape[axis]
        parts = [reduce(np.take(x, range(j * length // n, -(-(j + 1) * length // n)),
                                axis=axis), axis=axis, keepdims=True) for j in range(n)]
        x = np.concatenate(parts, axis=axis)
    return x


@pytest.mark.parametrize("shape,out", [((2, 7, 3), (3,)), ((1, 5, 6, 2), (2, 4)),
                                       ((1, 4, 5, 3, 2), (3, 2, 2))])
def test_adaptive_pools_match_bins(shape, out):
    x = RNG.normal(size=shape)
    check_op(lambda v: ops.adaptive_average_pool(v, out), [x],
             lambda v: _adaptive_ref(v, out, np.mean))
    check_op(lambda v: ops.adaptive_max_pool(v, out), [x],
             lambda v: _adaptive_ref(v, out, np.max))


def test_adaptive_pool_channels_first_and_errors():
    x = RNG.normal(size=(1, 2, 5, 5))
    got = ops.adaptive_average_pool(x, 2, data_format="channels_first").numpy()
    ref = _adaptive_ref(x.transpose(0, 2, 3, 1), (2, 2), np.mean).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(got, ref)
    with pytest.raises(ValueError, match="output_size"):
        ops.adaptive_max_pool(x, (2, 2, 2))


def _unfold_ref(x, k, stride, pad):
    n, c, h, w = x.shape
    xp = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    cols = np.empty((n, c, k * k, oh * ow))
    for ky in range(k):
        for kx in range(k):
            patch = xp[:, :, ky:ky + stride * oh:stride, kx:kx + stride * ow:stride]
            cols[:, :, ky * k + kx] = patch.reshape(n, c, -1)
    return cols.reshape(n, c * k * k, -1)


def test_unfold_matches_loops_and_keras_values():
    x = RNG.normal(size=(2, 3, 5, 5))
    check_op(lambda v: ops.unfold(v, 3, padding=1), [x],
             lambda v: _unfold_ref(v, 3, 1, 1))
    check_op(lambda v: ops.unfold(v, 2, stride=2), [x[:, :, :4, :4]],
             lambda v: _unfold_ref(v, 2, 2, 0))
    small = np.arange(16, dtype="float32").reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(ops.unfold(small, 2, stride=2).numpy()[0],
                                  [[0, 2, 8, 10], [1, 3, 9, 11], [4, 6, 12, 14],
                                   [5, 7, 13, 15]])   # TF 2.21


def test_fold_is_the_adjoint_of_unfold():
    x = RNG.normal(size=(2, 2, 5, 4))
    cols = RNG.normal(size=tuple(ops.unfold(x, 3, padding=1, stride=2).shape))
    lhs = np.sum(ops.unfold(x, 3, padding=1, stride=2).numpy() * cols)
    rhs = np.sum(x * ops.fold(cols, (5, 4), 3, padding=1, stride=2).numpy())
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)
    np.testing.assert_array_equal(
        ops.fold(np.ones((1, 4, 9), "float32"), (4, 4), 2).numpy()[0, 0],
        [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])   # TF 2.21
    check_grad(lambda c: ops.fold(c, (5, 4), 3, padding=1, stride=2), [cols])
    with pytest.raises(ValueError, match="does not match"):
        ops.fold(np.ones((1, 5, 9)), (4, 4), 2)


def test_ctc_decode_greedy_and_beam_search():
    probs = np.array([[[.1, .8, .1], [.1, .8, .1], [.8, .1, .1], [.1, .1, .8]]],
                     "float32")
    decoded, scores = ops.ctc_decode(np.log(probs), np.array([4]))
    np.testing.assert_array_equal(decoded.numpy(), [[[1, 2, -1, -1]]])   # TF 2.21
    np.testing.assert_allclose(scores.numpy(), [[0.8926]], atol=1e-4)
    decoded, _ = ops.ctc_decode(np.log(probs), np.array([4]), mask_index=2)
    np.testing.assert_array_equal(decoded.numpy(), [[[1, 0, -1, -1]]])
    decoded, scores = ops.ctc_decode(np.log(probs), np.array([4]),
                                     strategy="beam_search", top_paths=2, beam_width=4)
    assert decoded.shape == (2, 1, 4) and scores.shape == (1, 2)
    np.testing.assert_array_equal(decoded.numpy()[0, 0, :2], [1, 2])
    assert scores.numpy()[0, 0] >= scores.numpy()[0, 1]
    with pytest.raises(ValueError, match="strategy"):
        ops.ctc_decode(np.log(probs), np.array([4]), strategy="best")


def _sparsemax_ref(z):
    out = np.empty_like(z)
    for i, row in enumerate(z):
        s = np.sort(row)[::-1]
        cs = np.cumsum(s)
        k = np.arange(1, len(row) + 1)
        kz = k[1 + k * s > cs].max()
        out[i] = np.maximum(row - (cs[kz - 1] - 1) / kz, 0)
    return out


def test_sparsemax_projects_onto_the_simplex():
    z = RNG.normal(size=(4, 6)) * 2
    check_op(ops.sparsemax, [z], _sparsemax_ref)
    out = ops.sparsemax(z.T, axis=0).numpy()
    np.testing.assert_allclose(out.sum(axis=0), 1.0)
    np.testing.assert_allclose(out, _sparsemax_ref(z).T)


def test_sparse_sigmoid_polar_view_as():
    x = np.array([-2., -0.5, 0., 0.5, 2.], "float32")
    np.testing.assert_allclose(ops.sparse_sigmoid(x).numpy(),
                               [0, 0.25, 0.5, 0.75, 1])   # TF 2.21
    r, a = np.array([1., 2.], "float32"), np.array([0., 1.], "float32")
    np.testing.assert_allclose(ops.polar(r, a).numpy(), r * np.exp(1j * a), rtol=1e-6)
    z = np.array([1 + 2j, 3 - 1j], "complex64")
    pairs = ops.view_as_real(z)
    np.testing.assert_array_equal(pairs.numpy(), [[1, 2], [3, -1]])
    np.testing.assert_array_equal(ops.view_as_complex(pairs).numpy(), z)
    with pytest.raises(ValueError, match="last dimension"):
        ops.view_as_complex(np.ones((2, 3)))


def test_cdist_erfc_segments():
    a, b = RNG.normal(size=(3, 4)), RNG.normal(size=(5, 4))
    check_op(ops.cdist, [a, b],
             lambda p, q: np.sqrt(((p[:, None] - q[None]) ** 2).sum(-1)))
    np.testing.assert_allclose(ops.erfc(np.array([0., 0.5, 1.])).numpy(),
                               [1.0, 0.4795001, 0.1572992], rtol=1e-6)
    data = np.array([3., 1., 2., 5.], "float32")
    ids = np.array([0, 0, 1, 1])
    out = ops.segment_min(data, ids, num_segments=3).numpy()
    np.testing.assert_array_equal(out[:2], [1, 2])
    assert out[2] == np.finfo("float32").max   # TF 2.21: empty segment
    np.testing.assert_array_equal(ops.segment_prod(data, ids).numpy(), [3, 10])


@pytest.mark.parametrize("center", [True, False])
def test_istft_inverts_stft(center):
    sig = np.sin(np.arange(64, dtype="float32") / 3.0)
    spec = ops.stft(sig, 16, 4, 16, center=center)
    back = ops.istft(spec, 16, 4, 16, center=center, length=64 if center else 60)
    lo, hi = (4, 60) if center else (16, 44)   # edges without full overlap differ
    np.testing.assert_allclose(back.numpy()[lo:hi], sig[lo:hi], atol=1e-5)
    # TF 2.21 sums of the reconstructions (hop 8)
    np.testing.assert_allclose(
        float(np.sum(ops.istft(ops.stft(sig, 16, 8, 16), 16, 8, 16).numpy())), 5.0184,
        atol=1e-3)
    np.testing.assert_allclose(float(np.sum(ops.istft(
        ops.stft(sig, 16, 8, 16, center=False), 16, 8, 16, length=60,
        center=False).numpy())), -1.1394, atol=1e-3)


def test_eig_and_lu_factor():
    m = RNG.normal(size=(2, 4, 4)).astype("float32")
    w, v = ops.eig(m)
    assert w.dtype == tf.complex64
    lhs = m.astype("complex64") @ v.numpy()
    np.testing.assert_allclose(lhs, v.numpy() * w.numpy()[:, None, :], atol=1e-4)
    lu, perm = ops.lu_factor(m)
    assert perm.dtype == tf.int32
    for b in range(2):
        lower = np.tril(lu.numpy()[b], -1) + np.eye(4)
        upper = np.triu(lu.numpy()[b])
        np.testing.assert_allclose(m[b][perm.numpy()[b]], lower @ upper, atol=1e-5)
    with pytest.raises(ValueError, match="square"):
        ops.eig(np.ones((2, 3)))


def test_jvp_matches_directional_derivative():
    x, t = RNG.normal(size=(3,)), RNG.normal(size=(3,))
    out, tangent = ops.jvp(lambda a: tf.sin(a) * a, (x,), (t,))
    np.testing.assert_allclose(out.numpy(), np.sin(x) * x)
    np.testing.assert_allclose(tangent.numpy(), (np.cos(x) * x + np.sin(x)) * t)
    w = RNG.normal(size=(3, 2))
    out, tangent, aux = ops.jvp(lambda a, b: (tf.matmul(a[None], b), 7), (x, w),
                                (t, np.zeros_like(w)), has_aux=True)
    np.testing.assert_allclose(tangent.numpy(), t[None] @ w)
    assert aux == 7


def test_rearrange_patterns():
    x = np.arange(24).reshape(2, 3, 4)
    np.testing.assert_array_equal(ops.rearrange(x, "b h w -> b w h").numpy(),
                                  x.transpose(0, 2, 1))
    np.testing.assert_array_equal(
        ops.rearrange(x, "b (h1 h2) w -> b h1 (h2 w)", h1=1).numpy(), x.reshape(2, 1, 12))
    np.testing.assert_array_equal(
        ops.rearrange(x.reshape(2, 12), "b (h w) -> b h w", h=3).numpy(), x)
    y = RNG.normal(size=(2, 4, 6, 3))
    check_op(lambda v: ops.rearrange(v, "b (h p) (w q) c -> b (h w) (p q c)", p=2, q=3),
             [y], lambda v: v.reshape(2, 2, 2, 2, 3, 3).transpose(0, 1, 3, 2, 4, 5)
             .reshape(2, 4, 18))
    np.testing.assert_array_equal(ops.rearrange(x, "b ... -> ... b").numpy(),
                                  x.transpose(1, 2, 0))
    with pytest.raises(ValueError, match="rearranged"):
        ops.rearrange(x, "b h w -> b h")


def test_new_ops_trace_inside_function():
    x = RNG.normal(size=(2, 4, 6, 3)).astype("float32")
    check_function_matches_eager(lambda v: ops.adaptive_max_pool(v, (2, 3)), [x])
    check_function_matches_eager(lambda v: ops.sparsemax(v), [x])
    check_function_matches_eager(lambda v: ops.unfold(v, 2), [x])


def test_tf_linalg_eig_and_lu_match_tf():
    m = RNG.normal(size=(3, 3)).astype("float32")
    e, v = tf.linalg.eig(m)
    np.testing.assert_allclose(np.sort_complex(e.numpy()),
                               np.sort_complex(np.linalg.eigvals(m)), rtol=1e-5)
    np.testing.assert_allclose(np.sort_complex(tf.linalg.eigvals(m).numpy()),
                               np.sort_complex(e.numpy()))
    packed, perm = tf.linalg.lu(m, output_idx_type=tf.int64)
    assert perm.dtype == tf.int64
    lower = np.tril(packed.numpy(), -1) + np.eye(3)
    np.testing.assert_allclose(m[perm.numpy()], lower @ np.triu(packed.numpy()),
                               atol=1e-5)
    assert tf.math.erfc is not ops.erfc   # keras.ops names stay out of tf.math
    with pytest.raises(ValueError, match="square"):
        tf.linalg.lu(np.ones((2, 3)))
