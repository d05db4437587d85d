"""pytest plugin of the fake-CuPy harness (``-p fake_gpu_plugin``).

The fake device's arrays live in host memory, so a real libcudnn (present on a GPU
machine) must never see their pointers: loading cuDNN is made to fail, as on a
machine without the library, and dlframe takes its portable RNN kernel. The same
holds for dlframe's cuBLAS binding (matmuls then use the fake ``cupy.matmul``).
"""

from dlframe.backends import cublas_api, cudnn


def _no_cudnn(*args, **kwargs):
    raise cudnn.CudnnUnavailableError("cuDNN is disabled under the fake CuPy")


cudnn.load_library = _no_cudnn


def _no_cublas(*args, **kwargs):
    raise cublas_api.CublasUnavailableError("cuBLAS is disabled under the fake CuPy")


cublas_api.load_library = _no_cublas
