"""Review of round 19 (R5): the fake CuPy refuses and allows what CuPy 14 does.

CuPy copies host index arrays/lists of ``take``/``put``/``compress`` and of an
advanced scatter index (and then its host value) to the device
(``_routines_indexing.pyx``: ``core.array(indices)``); ``cupy.where`` and ``clip``
run ufuncs, which refuse every host ``numpy.ndarray``, 0-d included; the atomics
of ``scatter_max``/``scatter_min`` have no float16. Runs in a subprocess, as the
harness does (the fake never enters this interpreter).
"""

from test_fake_gpu_round19 import _run

_CHECKS = r"""
import numpy as np, cupy as cp, cupyx
def raises(fn, exc=TypeError):
    try:
        fn()
    except exc:
        return True
    return False
x = cp.arange(6.0)
c = x > 2
# allowed: CuPy copies host indices (and, with them, host scatter values)
assert cp.asnumpy(x.take(np.array([4, 1]))).tolist() == [4.0, 1.0]
assert cp.asnumpy(cp.take(x, [5, 0])).tolist() == [5.0, 0.0]
assert cp.asnumpy(x.compress(np.array([True, False, True]))).tolist() == [0.0, 2.0]
a = cp.zeros(3, "float32")
cupyx.scatter_add(a, np.array([0, 0, 2]), np.array([1.0, 2.0, 5.0], "float32"))
assert cp.asnumpy(a).tolist() == [3.0, 0.0, 5.0]
cupyx.scatter_max(a, [1], cp.asarray([7.0], "float32"))
assert cp.asnumpy(a).tolist() == [3.0, 7.0, 5.0]
# refused: host operands of ufunc-backed functions, even 0-d
assert raises(lambda: cp.where(c, x, np.asarray(0.0)))
assert raises(lambda: cp.where(c, np.zeros(6), x))
assert raises(lambda: cp.clip(x, np.asarray(1.0), 3.0))
assert cp.asnumpy(cp.where(c, x, np.float64(0.0))).tolist() == [0, 0, 0, 3, 4, 5]
# refused: a host value with basic slices (it meets a ufunc), float16 max/min
assert raises(lambda: cupyx.scatter_add(a, slice(0, 2), np.ones(2, "float32")))
h = cp.zeros(3, "float16")
assert raises(lambda: cupyx.scatter_max(h, cp.asarray([0]), cp.ones(1, "float16")))
assert raises(lambda: cupyx.scatter_min(h, cp.asarray([0]), cp.ones(1, "float16")))
cupyx.scatter_add(h, cp.asarray([0, 0]), cp.ones(2, "float16"))
assert cp.asnumpy(h).tolist() == [2.0, 0.0, 0.0]
print("CHECKS-OK")
"""


def test_fake_cupy_matches_cupy_host_argument_rules():
    proc = _run(["-c", _CHECKS], timeout=120)
    assert proc.returncode == 0 and "CHECKS-OK" in proc.stdout, \
        proc.stdout[-3000:] + proc.stderr[-3000:]
