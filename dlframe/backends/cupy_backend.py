"""GPU devices on CuPy. CuPy is imported only when a GPU device is created.

Facts used here are from ../shared/GPU.md §1 (CuPy 14): ``cupy.cuda.is_available``
never raises; a real kernel launch is the final probe; the default memory pool is
stream-aware and caching.
"""

import os
import threading
import warnings

from dlframe import config
from dlframe.backends import cublas_api, einsum_plan, philox_cuda
from dlframe.backends.base import Device

_cupy = None
_PHILOX_MADE = threading.Lock()   # GPUDevice.philox_stream's first creation
_usable = None
# GPU matmuls run through dlframe's own cuBLAS handle (backends/cublas_api.py), the
# one path that works inside CUDA-graph capture. "always" (default): eager and
# captured steps make the same cuBLAS call, so a replay equals eager bit for bit;
# "capture": only while the stream captures; "off": cupy.matmul (no capture).
_GEMM_MODE = os.environ.get("DLFRAME_CUBLAS_GEMM", "always")
# TF32 for float32 products: dlframe's flag (tf.config.experimental.
# enable_tensor_float_32_execution, default on as in TF) AND CuPy's opt-in
# CUPY_TF32=1, so that the default stays strict float32 as cupy.matmul computes it
_CUPY_TF32 = os.environ.get("CUPY_TF32", "0") == "1"
_gemm_failed = []   # warned once: the binding is unusable; cupy.matmul from then on
# dtypes cupyx's scatter atomics take (GPU.md 1.8; others are widened)
_ADD_DTYPES = frozenset(("int32", "int64", "uint32", "uint64", "float16", "float32",
                         "float64"))
_MINMAX_DTYPES = frozenset(("int32", "int64", "uint32", "uint64", "float32", "float64"))


def _import_cupy():
    global _cupy
    if _cupy is None:
        import cupy
        _cupy = cupy
    return _cupy


def gpu_usable():
    """True when CuPy imports, a GPU answers and a kernel runs (probed once)."""
    global _usable
    if _usable is not None:
        return _usable
    try:
        cp = _import_cupy()
        _usable = bool(cp.cuda.is_available()) and int((cp.arange(4) + 1).sum()) == 10
    except Exception:  # ImportError, CUDARuntimeError, CUDADriverError, CompileException
        _usable = False
    return _usable


def gpu_count():
    """Number of CUDA devices CuPy sees (0 when unusable)."""
    if not gpu_usable():
        return 0
    return int(_cupy.cuda.runtime.getDeviceCount())


class GPUDevice(Device):
    """A CUDA GPU computing with CuPy."""

    kind = "gpu"
    is_gpu = True
    fuses = True

    def __init__(self, index):
        super().__init__(index)
        cp = _import_cupy()
        self.xp = cp
        self._cuda_device = cp.cuda.Device(self.index)
        self._pool = cp.get_default_memory_pool()
        self._peak = 0
        self._rnn_kernels = {}
        self._philox = None        # philox_stream(), made on first use
        self._philox_seed = None

    def context(self):
        return self._cuda_device

    def asarray(self, value, dtype=None):
        with self._cuda_device:
            return self.xp.asarray(value, dtype=dtype)

    def to_numpy(self, array):
        return self.xp.asnumpy(array)

    def synchronize(self):
        with self._cuda_device:
            self.xp.cuda.get_current_stream().synchronize()

    def scatter_add(self, target, index, values):
        self._scatter("scatter_add", _ADD_DTYPES, target, index, values)

    def scatter_max(self, target, index, values):
        self._scatter("scatter_max", _MINMAX_DTYPES, target, index, values)

    def scatter_min(self, target, index, values):
        self._scatter("scatter_min", _MINMAX_DTYPES, target, index, values)

    def _scatter(self, name, native, target, index, values):
        """``cupyx.<name>`` in place on ``target``. Its atomics take only the dtypes in
        ``native`` (GPU.md 1.8: no bfloat16; max/min no float16): others run on a
        widened copy (float32 / int32; exact for max/min) and are cast back."""
        import cupyx
        op = getattr(cupyx, name)
        with self._cuda_device:
            if name != "scatter_add" and target.dtype.name == "float64":
                # CuPy 14.2's float64 max/min atomics round to float32 (H100)
                from dlframe.backends.sorted_scatter import scatter_extreme_sorted
                scatter_extreme_sorted(self.xp, target, index, values,
                                       name == "scatter_max")
                return
            if target.dtype.kind == "c" and name == "scatter_add":
                # no complex atomics (GPU.md 1.9), and the int32 widening below
                # would drop the imaginary parts: each part is added exactly
                values = self.xp.asarray(values)
                for part, add in ((target.real, values.real),
                                  (target.imag, values.imag)):
                    work = part.copy()
                    op(work, index, add.astype(work.dtype, copy=False))
                    part[...] = work
                return
            if target.dtype.name in native:
                op(target, index, values)
                return
            wide = "float32" if target.dtype.kind == "f" or \
                target.dtype.name == "bfloat16" else "int32"
            work = target.astype(wide)
            op(work, index, self.xp.asarray(values).astype(wide, copy=False))
            target[...] = work.astype(target.dtype)

    def matmul(self, a, b, out=None):
        """``a @ b`` (into ``out`` when given) through dlframe's cuBLAS handle
        (capture-safe, see _GEMM_MODE); cupy.matmul for other dtypes and when the
        binding is off or unusable."""
        cp = self.xp
        if _GEMM_MODE == "off" or _gemm_failed or (
                _GEMM_MODE == "capture" and
                not cp.cuda.get_current_stream().is_capturing()):
            return cp.matmul(a, b) if out is None else cp.matmul(a, b, out=out)
        vec_a, vec_b = a.ndim == 1, b.ndim == 1
        if vec_a or vec_b:   # NumPy's 1-D rules on top of the 2-D product
            res = self.matmul(a[None, :] if vec_a else a, b[:, None] if vec_b else b)
            res = res.reshape(() if vec_a and vec_b else res.shape[:-1] if vec_b else
                              res.shape[:-2] + res.shape[-1:])
            if out is None:
                return res
            out[...] = res
            return out
        try:
            with self._cuda_device:
                res = cublas_api.gemm(cp, a, b, allow_tf32=_CUPY_TF32 and
                                      config.tensor_float_32_execution_enabled(),
                                      out=out)
        except (cublas_api.CublasUnavailableError, cublas_api.CublasError) as exc:
            _gemm_failed.append(exc)
            warnings.warn(f"dlframe's cuBLAS binding is unavailable ({exc}); using "
                          "cupy.matmul (CUDA graphs of steps with matmuls will fail).")
            res = None
        if res is not None:
            return res
        return cp.matmul(a, b) if out is None else cp.matmul(a, b, out=out)

    def einsum(self, equation, *operands, optimize=None):
        """Two-operand contractions as one :meth:`matmul` (backends/einsum_plan.py:
        capture-safe); other equations through ``cupy.einsum``."""
        if len(operands) == 2 and _GEMM_MODE != "off":
            a, b = operands
            plan = einsum_plan.plan_einsum(equation, a.shape, b.shape)
            if plan is not None:
                return einsum_plan.einsum_via_matmul(self.xp, self.matmul, plan, a, b)
        return super().einsum(equation, *operands, optimize=optimize)

    def fuse(self, fn):
        return self.xp.fuse(fn)

    def linalg_raises(self):
        """CuPy's ``linalg='raise'``: by default (``'ignore'``) a singular matrix gives
        inf/NaN silently; TF's GPU kernels check cuSOLVER's info and raise."""
        import cupyx
        return cupyx.errstate(linalg="raise")

    def special(self, name):
        """``cupyx.scipy.special.<name>``; the few SciPy functions CuPy 14 lacks
        (dawsn, fresnel, spence) run on host copies and come back to this device."""
        import cupyx.scipy.special
        fn = getattr(cupyx.scipy.special, name, None)
        return fn if fn is not None else _HostSpecial(self, name)

    def capture_step(self, execute, template, n_inputs, outputs):
        """Captures one run of a traced program as a CUDA graph (GPU.md §1.5).

        Args:
          execute: ``execute(slots, free=False)`` runs the program on a slot list.
          template: the slot list with constants and variables filled in.
          n_inputs: the first ``n_inputs`` slots are inputs (copied into static buffers).
          outputs: slots of the outputs.

        Returns:
          A ``CudaGraphStep``; raises on any capture failure (callers fall back).
        """
        return CudaGraphStep(self, execute, template, n_inputs, outputs)

    def rnn_kernel(self, cell_kind):
        """cuDNN's fused LSTM/GRU when libcudnn loads, else None (portable loop)."""
        if cell_kind not in self._rnn_kernels:
            try:
                from dlframe.backends import cudnn
                self._rnn_kernels[cell_kind] = cudnn.rnn_kernel(self, cell_kind)
            except Exception as exc:  # library missing: warn once, fall back
                import warnings
                warnings.warn(f"cuDNN RNN unavailable ({exc}); using the portable kernel.")
                self._rnn_kernels[cell_kind] = None
        return self._rnn_kernels[cell_kind]

    def rng(self):
        if self._rng is None:
            with self._cuda_device:
                self._rng = self.xp.random.default_rng()
        return self._rng

    def seed_rng(self, seed):
        with self._cuda_device:
            self._rng = self.xp.random.default_rng(seed)
            self._philox_seed = seed
            if self._philox is not None:   # in place: captured graphs hold it
                self._philox[...] = self.xp.asarray(philox_cuda.seed_state_words(seed))

    def philox_stream(self):
        """This device's Philox stream for stateful draws: a ``uint32[6]`` device
        array (counter and key, ``backends.philox_cuda``) kept for the device's
        lifetime, keyed by the seed ``seed_rng`` gave (a random key before that).
        Draws read and advance it on the device only, so CUDA graphs capture them."""
        if self._philox is None:
            with _PHILOX_MADE, self._cuda_device:   # one stream per device, ever
                if self._philox is None:
                    self._philox = self.xp.asarray(
                        philox_cuda.seed_state_words(self._philox_seed))
        return self._philox

    def memory_info(self):
        used = int(self._pool.used_bytes())
        self._peak = max(self._peak, used)
        return {"current": used, "peak": self._peak}

    def reset_memory_stats(self):
        self._peak = int(self._pool.used_bytes())


class _HostSpecial:
    """SciPy's special function ``name`` on host copies of device arrays (CuPy 14.2
    has no dawsn, fresnel or spence); results return to the device."""

    def __init__(self, device, name):
        import scipy.special
        self._device = device
        self._fn = getattr(scipy.special, name)

    def __call__(self, *args):
        dev = self._device
        host = [dev.to_numpy(a) if isinstance(a, dev.xp.ndarray) else a
                for a in args]
        out = self._fn(*host)
        if isinstance(out, tuple):
            return tuple(dev.asarray(o) for o in out)
        return dev.asarray(out)


class CudaGraphStep:
    """A traced step replayed as one CUDA graph with static input/output buffers.

    Rules from GPU.md §1.5: captured after an eager warm-up (done by the caller);
    every intermediate stays alive (the slot list is kept); new inputs are copied
    into static buffers; capture runs on a non-blocking stream under a private pool
    (work buffers a step frees mid-capture go back to that pool, which lives as long
    as the graph). Matrix products go through backends/cublas_api.py (CuPy's own
    cuBLAS calls refuse capture). Verified on an H100 (CuPy 14.2, CUDA 13):
    tests/gpu/test_cuda_graph_cublas_round21.py, tests/gpu/test_function_gpu.py.
    """

    def __init__(self, device, execute, template, n_inputs, outputs):
        cp = device.xp
        self._cp = cp
        self._device = device
        self._pool = cp.cuda.MemoryPool()
        self._stream = cp.cuda.Stream(non_blocking=True)
        with device.context():
            # cuBLAS handle + workspace exist before capture (created outside the
            # private pool; cuBLAS then never allocates while capturing). The graph
            # holds the handle: its workspace must outlive this thread
            self._cublas = None
            if _GEMM_MODE != "off" and not _gemm_failed:
                try:
                    self._cublas = cublas_api.handle(cp)
                    self._cublas.pinned = True
                except cublas_api.CublasUnavailableError:
                    pass   # steps without matmuls still capture (others fail there)
        with device.context(), cp.cuda.using_allocator(self._pool.malloc):
            slots = list(template)
            for i in range(n_inputs):
                slots[i] = cp.array(template[i], copy=True)
            self._inputs = slots[:n_inputs]
            with self._stream:
                self._stream.begin_capture()
                try:
                    execute(slots, free=False)
                finally:
                    self._graph = self._stream.end_capture()
            self._slots = slots
            self._outputs = [slots[s] for s in outputs]
            self._graph.upload(self._stream)

    def __call__(self, arrays):
        cp = self._cp
        with self._device.context():
            current = cp.cuda.get_current_stream()
            ready = current.record()
            self._stream.wait_event(ready)
            with self._stream:
                for buf, a in zip(self._inputs, arrays):
                    buf[...] = a
                self._graph.launch(self._stream)
                done = self._stream.record()
            current.wait_event(done)
            outputs = [o.copy() for o in self._outputs]
            # the next replay (one at a time: core/graph_capture.py, _LockedReplay)
            # may come from another stream: it refills the static buffers only after
            # these copies (U: cross-stream order not run on a GPU)
            self._stream.wait_event(current.record())
            return outputs
