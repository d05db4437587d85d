"""Segment and scatter max/min/sum in 16-bit floats (round 19).

bfloat16's NumPy kind is "V", so the segment ops' empty-segment fill once fell back
to ``True`` (1): ``segment_min`` of ``[1, 5, 3]`` gave ``[1, 1]``. On CuPy the scatter
atomics take no bfloat16 (and max/min no float16): the GPU device widens those to
float32 and casts back. The GPU path runs on the fake CuPy in a subprocess.
"""

import json

import pytest
from test_fake_gpu_round19 import _run

import dlframe as tf


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "int8", "uint8", "float64"])
def test_segment_extremes_fill_with_the_dtype_limits(dtype):
    x = tf.cast(tf.constant([1, 5, 3]), dtype)
    ids = tf.constant([0, 0, 1])
    assert tf.math.segment_min(x, ids).numpy().astype("float64").tolist() == [1, 3]
    assert tf.math.segment_max(x, ids).numpy().astype("float64").tolist() == [5, 3]
    empty = tf.math.unsorted_segment_min(x, ids, 3).numpy()[2]
    assert empty == tf.as_dtype(dtype).max   # TF: an empty segment holds the limit
    empty = tf.math.unsorted_segment_max(x, ids, 3).numpy()[2]
    assert empty == tf.as_dtype(dtype).min


_ON_FAKE_GPU = r"""
import fake_gpu_plugin  # noqa: F401
import dlframe as tf
out = []
for dt in ["bfloat16", "float16", "float32", "int32"]:
    x = tf.cast(tf.constant([1, 5, 3]), dt)
    ids = tf.constant([0, 0, 1])
    for r in (tf.math.unsorted_segment_max(x, ids, 2), tf.math.segment_min(x, ids),
              tf.tensor_scatter_nd_max(tf.zeros([3], dt), tf.constant([[0], [0]]),
                                       tf.cast(tf.constant([4, 7]), dt)),
              tf.math.unsorted_segment_sum(x, ids, 2)):
        assert "GPU" in r.device, r.device
        out.append([float(v) for v in r.numpy().astype("float32")])
import json
print(json.dumps(out))
"""


def test_gpu_scatter_atomics_widen_16_bit_floats():
    proc = _run(["-c", _ON_FAKE_GPU], timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    expected = [[5, 3], [1, 3], [7, 0, 0], [6, 3]] * 4
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == expected
