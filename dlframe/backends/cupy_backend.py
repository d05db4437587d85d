"""GPU devices on CuPy. CuPy is imported only when a GPU device is created.

Facts used here are from ../shared/GPU.md §1 (CuPy 14): ``cupy.cuda.is_available``
never raises; a real kernel launch is the final probe; the default memory pool is
stream-aware and caching.
"""

from dlframe.backends.base import Device

_cupy = None
_usable = None
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
            if target.dtype.name in native:
                op(target, index, values)
                return
            wide = "float32" if target.dtype.kind == "f" or \
                target.dtype.name == "bfloat16" else "int32"
            work = target.astype(wide)
            op(work, index, self.xp.asarray(values).astype(wide, copy=False))
            target[...] = work.astype(target.dtype)

    def fuse(self, fn):
        return self.xp.fuse(fn)

    def special(self, name):
        import cupyx.scipy.special
        return getattr(cupyx.scipy.special, name)

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

    def memory_info(self):
        used = int(self._pool.used_bytes())
        self._peak = max(self._peak, used)
        return {"current": used, "peak": self._peak}

    def reset_memory_stats(self):
        self._peak = int(self._pool.used_bytes())


class CudaGraphStep:
    """A traced step replayed as one CUDA graph with static input/output buffers.

    Rules from GPU.md §1.5: captured after an eager warm-up (done by the caller);
    every intermediate stays alive (the slot list is kept); new inputs are copied
    into static buffers; capture runs on a non-blocking stream under a private pool.
    (U) Not yet run on a GPU: tests/gpu/test_function_gpu.py checks it there.
    """

    def __init__(self, device, execute, template, n_inputs, outputs):
        cp = device.xp
        self._cp = cp
        self._device = device
        self._pool = cp.cuda.MemoryPool()
        self._stream = cp.cuda.Stream(non_blocking=True)
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
            return [o.copy() for o in self._outputs]
