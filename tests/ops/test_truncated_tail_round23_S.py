"""One-sided far-out intervals of ``stateless_parameterized_truncated_normal``:
finite samples with the truncated normal's mean (no ``inf`` from a uniform
fallback over an infinite interval)."""

import math

import numpy as np

import dlframe as tf


def _tail_mean(alpha):
    """Mean of a standard normal conditioned on ``z >= alpha``."""
    pdf = math.exp(-alpha * alpha / 2) / math.sqrt(2 * math.pi)
    return pdf / (0.5 * math.erfc(alpha / math.sqrt(2)))


def _draw(**kw):
    return tf.random.stateless_parameterized_truncated_normal(
        [20000], seed=[1, 2], means=1.0, stddevs=2.0, **kw).numpy()


def test_lower_bounded_tail_is_finite_with_the_right_mean():
    x = _draw(minvals=7.0, maxvals=np.inf)       # 3 stddevs out
    assert np.all(np.isfinite(x)) and x.min() >= 7.0
    np.testing.assert_allclose(x.mean(), 1.0 + 2.0 * _tail_mean(3.0), atol=0.02)


def test_upper_bounded_tail_is_mirrored():
    y = _draw(minvals=-np.inf, maxvals=-9.0)     # 5 stddevs out
    assert np.all(np.isfinite(y)) and y.max() <= -9.0
    np.testing.assert_allclose(y.mean(), 1.0 - 2.0 * _tail_mean(5.0), atol=0.02)
