"""``dlframe.sysconfig``: what this dlframe installation was built with."""

import importlib.util as _importlib_util
import os as _os
import sys as _sys

# The C++ build constants TF publishes for compiling custom ops. dlframe ships no
# C++ library; these give the values of a current TF build (TF 2.21) so that build
# scripts reading them keep working.
CXX11_ABI_FLAG = 1
CXX_VERSION = 201703
MONOLITHIC_BUILD = 0


def _cuda_versions():
    """(cuda_version, cudnn_version) strings of the CuPy runtime, when loaded."""
    cp = _sys.modules.get("cupy")
    if cp is None:
        return None, None
    try:
        runtime = cp.cuda.runtime.runtimeGetVersion()
        cuda = f"{runtime // 1000}.{runtime % 1000 // 10}"
    except Exception:  # noqa: BLE001 - a runtime that cannot answer: no version
        cuda = None
    try:  # only when the GPU backend has loaded cuDNN already
        v = cp.cuda.cudnn.getVersion()
        cudnn_version = f"{v // 10000 if v >= 10000 else v // 1000}"
    except Exception:  # noqa: BLE001 - cuDNN not loaded (or not installed)
        cudnn_version = None
    return cuda, cudnn_version


def is_cuda_build():
    """True when CuPy is installed: dlframe's GPU backend can be used."""
    return _importlib_util.find_spec("cupy") is not None


def get_build_info():
    """Build information as TF's ``tf.sysconfig.get_build_info`` dict.

    ``is_cuda_build`` is true when CuPy (dlframe's GPU backend) is installed; the
    CUDA/cuDNN versions are given once the GPU backend is loaded.
    """
    info = {"is_cuda_build": is_cuda_build(), "is_rocm_build": False,
            "is_tensorrt_build": False}
    if info["is_cuda_build"]:
        cuda, cudnn = _cuda_versions()
        if cuda is not None:
            info["cuda_version"] = cuda
        if cudnn is not None:
            info["cudnn_version"] = cudnn
    return info


def get_include():
    """The directory of dlframe's package (it ships no C headers)."""
    return _os.path.dirname(_os.path.abspath(__file__))


def get_lib():
    """The directory of dlframe's package (it ships no compiled library)."""
    return _os.path.dirname(_os.path.abspath(__file__))


def get_compile_flags():
    return []


def get_link_flags():
    return []


__all__ = ["CXX11_ABI_FLAG", "CXX_VERSION", "MONOLITHIC_BUILD", "get_build_info",
           "get_compile_flags", "get_include", "get_lib", "get_link_flags"]
