"""The name tables of ``keras.ops`` (Keras 3): which shared NumPy-style function
(``dlframe.ops.numpy_api*``) each namespace exposes.

Every function is wrapped once by ``public_op``, so a call on symbolic Keras tensors
(``keras.ops.mean(keras.Input(...))``) inserts an op layer, and every alias
(``ops.abs``/``ops.numpy.abs``) is the same object.
"""

import importlib

from dlframe.ops.names import public_op

_MATH = ["cdist", "erfc", "istft", "segment_min", "segment_prod", "view_as_complex",
         "view_as_real", "erf", "erfinv", "extract_sequences", "fft", "fft2", "ifft2", "in_top_k",
         "irfft", "logdet", "logsumexp", "qr", "rfft", "rsqrt", "segment_max",
         "segment_sum", "solve", "stft", "top_k"]
_CORE = ["associative_scan", "cast", "cond", "convert_to_numpy", "convert_to_tensor",
         "custom_gradient", "dtype", "fori_loop", "is_tensor", "map", "saturate_cast",
         "scan", "scatter", "scatter_update", "shape", "slice", "slice_update",
         "stop_gradient", "switch", "unstack", "vectorized_map", "while_loop"]
_LINALG = ["eig", "jvp", "lu_factor", "cholesky", "cholesky_inverse", "det", "eigh", "inv", "lstsq", "matrix_rank",
           "norm", "pinv", "qr", "solve", "solve_triangular", "svd"]
_NUMPY_MODULES = ["numpy_api", "numpy_api_reduce", "numpy_api_create",
                  "numpy_api_shape", "numpy_api_index", "numpy_api_extra"]
_NUMPY_LINALG = ["cross", "dot", "einsum", "inner", "kron", "matmul", "outer", "slogdet",
                 "tensordot", "vdot"]
# in the numpy_api modules but not in keras.ops.numpy (they live in math / core)
_NOT_NUMPY = {"erf", "erfc", "erfinv", "rsqrt", "logsumexp", "shape", "asarray", "around",
              "degrees", "radians", "fix", "positive", "remainder", "atleast_1d",
              "atleast_2d", "atleast_3d"}


def _module(name):
    return importlib.import_module(f"dlframe.ops.{name}")


def _names(module):
    return list(_module(module).__all__)


def _source():
    """{public name: function} over every numpy_api module."""
    found = {}
    for mod in _NUMPY_MODULES + ["numpy_api_linalg", "numpy_api_nn", "numpy_api_conv",
                                 "numpy_api_core", "numpy_api_image",
                                 "numpy_api_extra_nn"]:
        m = _module(mod)
        for name in m.__all__:
            found.setdefault(name, getattr(m, name))
    api = _module("numpy_api")   # Keras 3 on TF differs from tnp for these two
    found["clip"], found["mod"] = api.keras_clip, api.keras_mod
    return found


def namespace_names(namespace):
    """The public names of ``keras.ops.<namespace>`` ('' for the top level)."""
    if namespace == "numpy":
        names = [n for mod in _NUMPY_MODULES for n in _names(mod)] + _NUMPY_LINALG
        return sorted(set(names) - _NOT_NUMPY)
    if namespace == "nn":
        extra = _module("numpy_api_extra_nn").KERAS_NN
        return sorted(_names("numpy_api_nn") + _names("numpy_api_conv") + extra)
    if namespace == "math":
        return list(_MATH)
    if namespace == "core":
        return list(_CORE)
    if namespace == "linalg":
        return list(_LINALG)
    if namespace == "image":
        return _names("numpy_api_image")
    if namespace == "":
        top = set()
        for ns in ("numpy", "nn", "math", "core", "linalg"):
            top.update(namespace_names(ns))
        return sorted(top | {"rearrange"})
    raise ValueError(f"unknown keras.ops namespace {namespace!r}")


def build(namespace):
    """{name: public op} for ``keras.ops.<namespace>``."""
    source = _source()
    prefix = "keras.ops." if namespace in ("", "numpy", "nn", "math", "core",
                                           "linalg") else f"keras.ops.{namespace}."
    return {name: public_op(source[name], prefix + name)
            for name in namespace_names(namespace)}
