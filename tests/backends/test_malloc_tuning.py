"""The CPU device keeps freed arrays' memory in the heap (glibc mallopt), so a
training step's megabyte-sized buffers do not page-fault again on every step."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Six 1.6 MB buffers per "step", like an LSTM's per-step state buffers.
_PROGRAM = r"""
import resource
import dlframe as tf
from dlframe.backends import numpy_backend
tf.zeros([1])  # creates the CPU device
np = numpy_backend.numpy

def step():
    bufs = [np.ones((64, 50, 128), "float32") for _ in range(6)]
    return sum(float(b.sum()) for b in bufs)

step(); step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10
print(numpy_backend.tune_malloc(), faults)
"""


def _faults_per_step(tuning):
    env = dict(os.environ, DLFRAME_MALLOC_TUNING=tuning, DLFRAME_DEVICE="cpu",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", _PROGRAM], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    return out[0] == "True", float(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt is Linux-only")
def test_tuned_malloc_reuses_freed_buffers():
    tuned, faults = _faults_per_step("1")
    if not tuned:
        pytest.skip("C library without mallopt (not glibc)")
    untuned_flag, untuned = _faults_per_step("0")
    assert not untuned_flag
    # untuned glibc hands the 9.6 MB back to the kernel each step (~2400 faults)
    assert untuned > 1000
    assert faults < untuned / 20
