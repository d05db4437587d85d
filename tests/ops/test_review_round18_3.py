"""Review of round 18's ``igamma``/``igammac`` gradient with respect to ``a``: its
series runs only when that gradient is asked for, its memory stays bounded for many
elements (chunks of elements of similar window length), and elements far in the
upper tail (huge ``x``) are 0 at once instead of summing ~15 sqrt(x) terms."""

import numpy as np
import scipy.special as sp

import dlframe as tf
from dlframe.ops import special_functions as sf


def _grads(a, x, wrt):
    """Gradients of sum(P(a, x)) with respect to the inputs numbered ``wrt``."""
    inputs = [tf.constant(a), tf.constant(x)]
    with tf.GradientTape(persistent=True) as tape:
        for i in wrt:
            tape.watch(inputs[i])
        p = tf.reduce_sum(tf.math.igamma(*inputs))
    return [tape.gradient(p, inputs[i]) for i in wrt]


def _fd_grad_a(a, x, h):
    """Central difference of SciPy's P(a, x) in a (float64)."""
    return (sp.gammainc(a + h, x) - sp.gammainc(a - h, x)) / (2 * h)


def test_gradient_in_x_only_skips_the_series_in_a(monkeypatch):
    calls = []
    real = sf._poisson_window_sum
    monkeypatch.setattr(sf, "_poisson_window_sum",
                        lambda *args: calls.append(1) or real(*args))
    a, x = np.array([2.0, 5.0]), np.array([1.5, 4.0])
    (gx,) = _grads(a, x, wrt=[1])
    np.testing.assert_allclose(gx.numpy(), np.exp(
        (a - 1) * np.log(x) - x - sp.gammaln(a)), rtol=1e-12)
    assert calls == []
    _grads(a, x, wrt=[0])
    assert calls


def test_chunked_series_equals_one_chunk_and_finite_differences(monkeypatch):
    rs = np.random.RandomState(0)
    a = np.concatenate([rs.uniform(0.1, 5, 20), rs.uniform(50, 500, 20),
                        [1e5, 2e3, 0.5]])
    x = np.concatenate([rs.uniform(0.1, 5, 20), rs.uniform(50, 500, 20),
                        [1e5 + 100, 2e3 - 30, 0.25]])
    order = rs.permutation(a.size)   # mixed window lengths in the input order
    a, x = a[order], x[order]
    (whole,) = _grads(a, x, wrt=[0])
    monkeypatch.setattr(sf, "_IGAMMA_A_TERMS", 512 * 3)   # 3 elements a chunk
    (chunked,) = _grads(a, x, wrt=[0])
    # a chunk sums up to its own longest window: the extra terms are negligible
    np.testing.assert_allclose(chunked.numpy(), whole.numpy(), rtol=1e-9)
    h = np.clip(1e-4 * a, 1e-5, 0.5)
    np.testing.assert_allclose(whole.numpy(), _fd_grad_a(a, x, h), rtol=1e-5,
                               atol=1e-10)


def test_large_a_and_x_float32_matches_float64_reference():
    a = np.array([1e5, 1e6, 3e4], np.float32)
    x = np.array([1e5, 1e6 - 900, 3e4 + 250], np.float32)
    (g,) = _grads(a, x, wrt=[0])
    assert g.dtype == tf.float32
    a64, x64 = a.astype(np.float64), x.astype(np.float64)
    np.testing.assert_allclose(g.numpy(), _fd_grad_a(a64, x64, 0.5), rtol=1e-5)


def test_far_upper_tail_is_zero_without_summing_the_window(monkeypatch):
    lengths = []
    real = sf._poisson_window_sum
    monkeypatch.setattr(sf, "_poisson_window_sum",
                        lambda d, a, x, count: lengths.append(count) or real(d, a, x,
                                                                             count))
    a = np.array([1.0, 5.0, 2.0, 3.0])
    x = np.array([1e30, 1e12, 1e4, 2.0])
    (g,) = _grads(a, x, wrt=[0])
    np.testing.assert_array_equal(g.numpy()[:3], 0.0)   # P = 1 to double precision
    np.testing.assert_allclose(g.numpy()[3], _fd_grad_a(3.0, 2.0, 1e-5), rtol=1e-7)
    assert lengths and max(lengths) < 100   # only the (3, 2) element is summed


def test_igammac_gradient_in_a_is_minus_igammas_and_compiles():
    a, x = tf.constant([0.7, 4.0, 40.0]), tf.constant([0.3, 6.0, 35.0])

    def grad_a(a, x):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(a)
            p, q = tf.math.igamma(a, x), tf.math.igammac(a, x)
        return tape.gradient(p, a), tape.gradient(q, a)

    dp, dq = grad_a(a, x)
    np.testing.assert_array_equal(dq.numpy(), -dp.numpy())
    cp, cq = tf.function(grad_a)(a, x)
    np.testing.assert_allclose(cp.numpy(), dp.numpy(), rtol=1e-6)
    np.testing.assert_allclose(cq.numpy(), dq.numpy(), rtol=1e-6)
