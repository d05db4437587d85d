"""CPU devices on NumPy, with BLAS threading chosen per product size.

Small matrix products run on one BLAS thread: on a 2-core machine a 100x100 GEMM
was 6x slower with two OpenBLAS threads while another process was busy. Large
products (>= ``BIG_GEMM_FLOPS``) use ``config.intra_op_threads()`` threads, unless
other processes keep the cores busy: then a second BLAS thread only waits for a
core (measured: the CNN step went from 14 ms to 40-200 ms), so they stay on one.
Thread counts are switched through threadpoolctl's library controller (~0.5 us).

glibc returns freed blocks above its mmap threshold to the kernel, so every new
megabyte-sized array (RNN state buffers, activations of a batch) is fresh memory
that page-faults on first touch: ~2000 faults, 3-4 ms of a 10 ms LSTM forward.
On glibc the first CPU device raises the mmap and trim thresholds (``mallopt``),
so freed blocks stay in the heap for the next step; set ``DLFRAME_MALLOC_TUNING=0``
to leave malloc alone.
"""

import ctypes
import os
import time

import numpy

from dlframe import config
from dlframe.backends.base import Device

BIG_GEMM_FLOPS = 8e6
# In a loop of GEMMs (RNN steps) the threads stay up between products, so smaller
# ones gain from the second core too (64x128x384: 56 -> 31 us on the 2-core EPYC).
BIG_LOOP_GEMM_FLOPS = 2e6
# glibc mallopt parameters (malloc.h) and the values dlframe sets
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD_BYTES = 64 << 20
TRIM_THRESHOLD_BYTES = 512 << 20
_malloc_tuned = None


def tune_malloc():
    """Keeps freed arrays' memory in the process heap (glibc only; once per process).

    Returns True when the thresholds were set, False where they could not be
    (another C library, or ``DLFRAME_MALLOC_TUNING=0``).
    """
    global _malloc_tuned
    if _malloc_tuned is None:
        _malloc_tuned = False
        if os.environ.get("DLFRAME_MALLOC_TUNING", "1").strip() not in ("0", "false", "no"):
            try:
                libc = ctypes.CDLL("libc.so.6")
                _malloc_tuned = bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
                                     and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
            except (OSError, AttributeError):  # not glibc
                _malloc_tuned = False
    return _malloc_tuned


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
        tune_malloc()
        self._blas = blas_threads()
        self._many = config.intra_op_threads()
        self._gemm_loop_depth = 0

    def set_intra_op_threads(self, n):
        self._many = n or config.intra_op_threads()

    def asarray(self, value, dtype=None):
        return numpy.asarray(value, dtype=dtype)

    def to_numpy(self, array):
        return numpy.array(array, copy=True)

    def is_array(self, value):
        return isinstance(value, numpy.ndarray)

    def _threads_for(self, flops, threshold=None):
        if threshold is None:
            threshold = BIG_GEMM_FLOPS
        if flops >= threshold and self._many > 1 and not _load.others_busy():
            return self._many
        return 1

    def matmul(self, a, b):
        if self._gemm_loop_depth:
            return numpy.matmul(a, b)
        # 2*m*k*n flops (batched products count the batch too)
        k = a.shape[-1]
        n = self._threads_for(2.0 * (a.size // k if k else 0) * b.shape[-1] * k)
        if n > 1:
            self._blas.set(n)
            out = numpy.matmul(a, b)
            self._blas.set(1)
            return out
        return numpy.matmul(a, b)

    def gemm_loop(self, flops):
        # switching threads around each small GEMM costs ~5 us (wake-ups); set once
        return _GemmLoop(self, flops)

    def special(self, name):
        import scipy.special  # imported on first use: keeps `import dlframe` fast
        return getattr(scipy.special, name)

    def rng(self):
        if self._rng is None:
            self._rng = numpy.random.default_rng()
        return self._rng

    def seed_rng(self, seed):
        self._rng = numpy.random.default_rng(seed)


class _GemmLoop:
    """Holds the BLAS thread count chosen for a loop's GEMMs until the loop ends."""

    def __init__(self, device, flops):
        self.device = device
        self.flops = flops

    def __enter__(self):
        dev = self.device
        if not dev._gemm_loop_depth:
            dev._blas.set(dev._threads_for(self.flops, BIG_LOOP_GEMM_FLOPS))
        dev._gemm_loop_depth += 1
        return self

    def __exit__(self, *exc):
        dev = self.device
        dev._gemm_loop_depth -= 1
        if not dev._gemm_loop_depth:
            dev._blas.set(1)
