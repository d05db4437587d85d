"""``cupy.cuda`` of the fake CuPy: one or two fake devices, streams, events, pools.

``DLFRAME_FAKE_GPU_COUNT`` (default 1) sets how many devices it reports. Stream capture
(CUDA graphs) raises RuntimeError so callers take their uncaptured path.
"""

import contextlib
import importlib
import os
import threading

from cupy import _core
from cupy.cuda import memory, runtime
from cupy.cuda.memory import (  # noqa: F401
    MemoryPool,
    OutOfMemoryError,
    PinnedMemoryPool,
    get_default_memory_pool,
    get_default_pinned_memory_pool,
    set_allocator,
    using_allocator,
)

_local = threading.local()


def is_available():
    return runtime.getDeviceCount() > 0


def _current_id():
    return getattr(_local, "device", 0)


class Device:
    """A fake CUDA device; ``with Device(i):`` makes it current."""

    def __init__(self, device=None):
        if device is None:
            device = _current_id()
        device = int(device)
        if not 0 <= device < runtime.getDeviceCount():
            raise runtime.CUDARuntimeError(101)   # cudaErrorInvalidDevice
        self.id = device
        self._saved = []

    def use(self):
        _local.device = self.id

    def __enter__(self):
        self._saved.append(_current_id())
        self.use()
        return self

    def __exit__(self, *exc):
        _local.device = self._saved.pop()
        return False

    def synchronize(self):
        pass

    def __int__(self):
        return self.id

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"

    compute_capability = property(lambda self: "90")
    mem_info = property(lambda self: (80 * 2 ** 30 - get_default_memory_pool().total_bytes(),
                                      80 * 2 ** 30))


class Event:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.done = True

    def record(self, stream=None):
        pass

    def synchronize(self):
        pass


def get_elapsed_time(start, end):
    return 0.0


class Stream:
    """A fake stream: work is synchronous; capture is unsupported."""

    null = None

    def __init__(self, null=False, non_blocking=False, ptds=False, priority=None):
        self.ptr = 0 if null else id(self)
        self.done = True
        self._saved = []

    def __enter__(self):
        self._saved.append(get_current_stream())
        _local.stream = self
        return self

    def __exit__(self, *exc):
        _local.stream = self._saved.pop()
        return False

    def use(self):
        _local.stream = self
        return self

    def synchronize(self):
        pass

    def record(self, event=None):
        return event or Event()

    def wait_event(self, event):
        pass

    def begin_capture(self, mode=None):
        raise RuntimeError("fake CuPy: stream capture (CUDA graphs) is not supported")

    def end_capture(self):
        raise RuntimeError("fake CuPy: the stream is not capturing")

    def is_capturing(self):
        return bool(_core.CAPTURING[0])


class ExternalStream(Stream):
    def __init__(self, ptr, device_id=-1):
        super().__init__()
        self.ptr = ptr


Stream.null = Stream(null=True)


@contextlib.contextmanager
def fake_capture():
    """Fake only (no CuPy name): the block runs as if its stream were capturing a
    CUDA graph; cuBLAS-backed calls raise (``cupy._core.refuse_cublas``), and so do
    device-to-host reads (``get``, ``asnumpy``, ``item``, ``bool``/``int`` of an
    array, boolean-mask selections, ``nonzero``: ``cupy._core._sync``)."""
    before = _core.CAPTURING[0]
    _core.CAPTURING[0] = True
    try:
        yield
    finally:
        _core.CAPTURING[0] = before


def get_current_stream(device_id=None):
    return getattr(_local, "stream", None) or Stream.null


@contextlib.contextmanager
def profile():
    yield


def __getattr__(name):
    if name == "cudnn":   # CuPy 14 removed cuDNN (GPU.md §1.1)
        raise AttributeError("module 'cupy.cuda' has no attribute 'cudnn'")
    if name == "nccl":   # a submodule: import it without re-entering this hook
        return importlib.import_module("cupy.cuda.nccl")
    raise AttributeError(f"module 'cupy.cuda' has no attribute {name!r}")


_ = (os, memory)
