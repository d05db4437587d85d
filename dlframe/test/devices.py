"""``tf.test``'s device and build queries (``is_gpu_available`` and co)."""

import sys as _sys

from dlframe import backends as _backends
from dlframe import sysconfig as _sysconfig


def is_gpu_available(cuda_only=False, min_cuda_compute_capability=None):
    """Whether a usable GPU is present (deprecated in TF: use
    ``tf.config.list_physical_devices('GPU')``).

    Args:
      cuda_only: accepted for TF compatibility (dlframe's GPUs are CUDA GPUs).
      min_cuda_compute_capability: optional ``(major, minor)`` the GPU must reach.
    """
    if not _backends.gpu_available():
        return False
    if min_cuda_compute_capability is None:
        return True
    cupy = _sys.modules["cupy"]   # loaded by gpu_available()
    capability = int(cupy.cuda.Device(0).compute_capability)   # e.g. "86" -> 8.6
    return (capability // 10, capability % 10) >= tuple(min_cuda_compute_capability)


def gpu_device_name():
    """``'/device:GPU:0'`` when a GPU is available, else ``''``."""
    return "/device:GPU:0" if _backends.gpu_available() else ""


def is_built_with_cuda():
    """True when dlframe's GPU backend (CuPy) is installed."""
    return _sysconfig.is_cuda_build()


def is_built_with_gpu_support():
    """True when dlframe's GPU backend (CuPy) is installed."""
    return _sysconfig.is_cuda_build()


def is_built_with_rocm():
    return False


def is_built_with_xla():
    return False


__all__ = ["gpu_device_name", "is_built_with_cuda", "is_built_with_gpu_support",
           "is_built_with_rocm", "is_built_with_xla", "is_gpu_available"]
