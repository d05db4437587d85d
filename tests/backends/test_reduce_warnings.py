"""Overflow in a sum is silent, as in TF's kernels: a sum that overflows (as
mixed-precision training's gradient sums do) gives inf without a NumPy
RuntimeWarning, for every reduction path of the CPU backend.

Run in a fresh interpreter: pytest resets warning filters around collection, which
drops the filter dlframe installs at import."""

import subprocess
import sys

PROGRAM = """
import numpy as np
import dlframe as tf
cases = [((64, 64), None), ((64, 64), 0), ((128, 16, 16), (0, 1)), ((3, 40000), 0)]
for dtype, big in ((np.float16, 6e4), (np.float32, 3e38), (np.float64, 1.7e308)):
    for shape, axis in cases:
        total = tf.reduce_sum(tf.constant(np.full(shape, big, dtype)), axis=axis)
        assert np.all(np.isinf(total.numpy())), (dtype, shape, axis)
print("done")
"""


def test_float16_overflow_sums_are_silent():
    run = subprocess.run([sys.executable, "-W", "default", "-c", PROGRAM],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "done"
    assert "RuntimeWarning" not in run.stderr, run.stderr
