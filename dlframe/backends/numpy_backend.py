"""CPU devices on NumPy, with BLAS threading chosen per product size.

Small matrix products run on one BLAS thread: on a 2-core machine a 100x100 GEMM
was 6x slower with two OpenBLAS threads while another process was busy. Large
products (>= ``BIG_GEMM_FLOPS``) use ``config.intra_op_threads()`` threads.
Thread counts are switched through threadpoolctl's library controller (~0.5 us).
"""

import numpy

from dlframe import config
from dlframe.backends.base import Device

BIG_GEMM_FLOPS = 8e6


class _BlasThreads:
    """Owns the BLAS thread count of the process (via threadpoolctl when present)."""

    def __init__(self):
        self._controllers = []
        self._current = None
        try:
            from threadpoolctl import ThreadpoolController
            self._controllers = [
                c for c in ThreadpoolController().lib_controllers
                if c.user_api == "blas"]
        except Exception:  # threadpoolctl missing or unable to inspect: leave BLAS alone
            self._controllers = []
        self.set(1)

    def set(self, n):
        if n == self._current:
            return
        for c in self._controllers:
            c.set_num_threads(n)
        self._current = n


_blas = None


def blas_threads():
    """The process-wide BLAS thread controller (created on first use)."""
    global _blas
    if _blas is None:
        _blas = _BlasThreads()
    return _blas


class CPUDevice(Device):
    """A (logical) CPU device computing with NumPy."""

    kind = "cpu"
    xp = numpy

    def __init__(self, index):
        super().__init__(index)
        self._blas = blas_threads()
        self._many = config.intra_op_threads()

    def set_intra_op_threads(self, n):
        self._many = n or config.intra_op_threads()

    def asarray(self, value, dtype=None):
        return numpy.asarray(value, dtype=dtype)

    def to_numpy(self, array):
        return numpy.array(array, copy=True)

    def is_array(self, value):
        return isinstance(value, numpy.ndarray)

    def matmul(self, a, b):
        # 2*m*k*n flops (batched products count the batch too)
        k = a.shape[-1]
        flops = 2.0 * (a.size // k if k else 0) * b.shape[-1] * k
        if flops >= BIG_GEMM_FLOPS:
            self._blas.set(self._many)
            out = numpy.matmul(a, b)
            self._blas.set(1)
            return out
        return numpy.matmul(a, b)

    def special(self, name):
        import scipy.special  # imported on first use: keeps `import dlframe` fast
        return getattr(scipy.special, name)

    def rng(self):
        if self._rng is None:
            self._rng = numpy.random.default_rng()
        return self._rng

    def seed_rng(self, seed):
        self._rng = numpy.random.default_rng(seed)
