"""CPU devices on NumPy, with BLAS threading chosen per product size.

Small matrix products run on one BLAS thread: on a 2-core machine a 100x100 GEMM
was 6x slower with two OpenBLAS threads while another process was busy. Large
products (>= ``BIG_GEMM_FLOPS``) use ``config.intra_op_threads()`` threads, unless
other processes keep the cores busy: then a second BLAS thread only waits for a
core (measured: the CNN step went from 14 ms to 40-200 ms), so they stay on one.
Thread counts are switched through threadpoolctl's library controller (~0.5 us).
"""

import os
import time

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


class BackgroundLoad:
    """Estimates whether other processes use the CPUs, from /proc/stat minus our own
    CPU time, sampled at most every ``interval`` seconds (no-op where unavailable)."""

    def __init__(self, interval=0.5, threshold_cores=0.5):
        self.interval = interval
        self.threshold = threshold_cores
        self._busy = False
        self._checked = 0.0
        self._prev = None
        self._hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def _sample(self):
        with open("/proc/stat", "rb") as f:
            fields = f.readline().split()[1:]
        ticks = [int(v) for v in fields]
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
        cpu = os.times()
        return time.monotonic(), sum(ticks), idle, cpu.user + cpu.system

    def others_busy(self):
        now = time.monotonic()
        if now - self._checked < self.interval:
            return self._busy
        self._checked = now
        try:
            sample = self._sample()
        except (OSError, ValueError, IndexError):
            return False
        if self._prev is not None:
            t0, total0, idle0, own0 = self._prev
            t1, total1, idle1, own1 = sample
            window = t1 - t0
            if window > 0:
                busy = ((total1 - total0) - (idle1 - idle0)) / self._hz
                others = busy - (own1 - own0)
                self._busy = others / window > self.threshold
        self._prev = sample
        return self._busy


_blas = None
_load = BackgroundLoad()


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
        if flops >= BIG_GEMM_FLOPS and self._many > 1 and not _load.others_busy():
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
