"""Variable.scatter_mul/scatter_div: integer division truncates toward zero (TF), and
repeated indices apply in order on every device (NumPy's ufunc.at on the CPU)."""

import numpy as np

import dlframe as tf


def _slices(values, rows):
    return tf.IndexedSlices(tf.constant(values), tf.constant(rows))


def test_integer_scatter_div_truncates_toward_zero(device):
    v = tf.Variable([7, -7, 7, -7])
    v.scatter_div(_slices([2, 2, -2, -2], [0, 1, 2, 3]))
    assert v.numpy().tolist() == [3, -3, -3, 3]   # TF 2.21
    w = tf.Variable([6, 6])
    w.scatter_div(_slices([-4, 3], [0, 0]))        # 6 / -4 -> -1, then -1 / 3 -> 0
    assert w.numpy().tolist() == [0, 6]            # TF 2.21


def test_repeated_float_scatter_mul_and_div_match_ufunc_at(device):
    rng = np.random.default_rng(0)
    base = rng.uniform(1, 2, (5, 3)).astype("float32")
    rows = rng.integers(0, 5, 400).astype("int32")
    ups = rng.uniform(0.9, 1.1, (400, 3)).astype("float32")
    for method, ufunc in (("scatter_mul", np.multiply), ("scatter_div", np.true_divide)):
        v = tf.Variable(base)
        getattr(v, method)(_slices(ups, rows))
        want = base.copy()
        ufunc.at(want, rows, ups)
        np.testing.assert_allclose(v.numpy(), want, rtol=1e-6)
