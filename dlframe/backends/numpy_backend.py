"""CPU devices on NumPy, with BLAS threading chosen per product shape.

Small matrix products (< ``MIN_THREADED_GEMM_FLOPS``) run on one BLAS thread. For
larger ones the first runs of each shape time one thread against
``config.intra_op_threads()`` and keep the faster. While other processes keep the
cores busy every product runs on one thread: a second BLAS thread only waits for a
core (measured: a 100x100 GEMM 6x slower, the CNN step 14 ms -> 40-200 ms).
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
import warnings

import numpy

from dlframe import config
from dlframe.backends.base import Device
from dlframe.backends.numpy_reduce import folded_sum

# TF kernels return inf/nan for x/0, log(0) or an overflow without a word; NumPy warns,
# attributing the warning to the dlframe line that ran the ufunc. Those warnings are
# silenced for dlframe's own modules only (user NumPy code keeps its warnings).
warnings.filterwarnings(
    "ignore", message=r"(divide by zero|overflow|invalid value|underflow) encountered",
    category=RuntimeWarning, module=r"dlframe\.")

BIG_GEMM_FLOPS = 8e6
# Smaller products always run on one thread (OpenBLAS would not split them anyway).
MIN_THREADED_GEMM_FLOPS = 1e6
# Timed runs per thread count before a product shape's thread count is fixed, and
# the most shapes remembered (beyond it: the BIG_GEMM_FLOPS rule).
GEMM_TUNING_TRIALS = 3
GEMM_TUNING_SHAPES = 4096
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
        self._gemm_threads = {}   # product key -> BLAS threads (tuned)
        self._gemm_trials = {}    # product key -> (one-thread times, many-thread times)
        self._clock = time.perf_counter

    def set_intra_op_threads(self, n):
        self._many = n or config.intra_op_threads()
        self._gemm_threads.clear()
        self._gemm_trials.clear()

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

    def sum(self, x, axes, keepdims=False, dtype=None):
        return folded_sum(x, axes, keepdims, dtype)

    def matmul(self, a, b, out=None):
        """``a @ b`` on one BLAS thread or ``intra_op_threads``, whichever the first
        runs of this shape and layout measured faster (see ``_tuned_threads``);
        into ``out`` when given."""
        if self._gemm_loop_depth:
            return numpy.matmul(a, b, out=out)
        # 2*m*k*n flops (batched products count the batch too)
        k = a.shape[-1]
        flops = 2.0 * (a.size // k if k else 0) * b.shape[-1] * k
        if flops < MIN_THREADED_GEMM_FLOPS or self._many == 1 or _load.others_busy():
            return numpy.matmul(a, b, out=out)
        key = (a.shape, b.shape, a.strides, b.strides, a.dtype.char, b.dtype.char)
        n = self._gemm_threads.get(key)
        if n is None:
            if len(self._gemm_threads) >= GEMM_TUNING_SHAPES:
                n = self._threads_for(flops)
            else:
                return _into(self._tuning_matmul(key, a, b), out)
        # (products this big that ask for ``out`` are rare: the loops that reuse
        # buffers run inside ``gemm_loop``, on the first return above)
        return _into(self._matmul_on(n, a, b), out)

    def _matmul_on(self, n, a, b):
        if n > 1:
            self._blas.set(n)
            out = numpy.matmul(a, b)
            self._blas.set(1)
            return out
        return numpy.matmul(a, b)

    def _tuning_matmul(self, key, a, b):
        """Runs a product of a shape still being tuned, alternating one thread and
        ``intra_op_threads``, timing each (thread switches included); after
        ``GEMM_TUNING_TRIALS`` runs of each the faster count is kept for the shape.

        Whether a second thread pays depends on the shape, not only the flops: on
        the 2-core EPYC 32x784x128 took 58 us on one thread and 35 on two, but
        32x784x100 49 and 50, 4x1024x1024 158 and 174, 32x512x64 20 and 24.
        """
        one, many = self._gemm_trials.setdefault(key, ([], []))
        runs = one if len(one) <= len(many) else many
        t0 = self._clock()
        out = self._matmul_on(1 if runs is one else self._many, a, b)
        runs.append(self._clock() - t0)
        if len(many) >= GEMM_TUNING_TRIALS:
            self._gemm_threads[key] = 1 if min(one) <= min(many) else self._many
            del self._gemm_trials[key]
        return out

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


def _into(result, out):
    """``result``, or ``out`` holding it when given."""
    if out is None:
        return result
    out[...] = result
    return out


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
