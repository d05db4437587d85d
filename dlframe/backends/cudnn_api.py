"""cuDNN 9 C API facts for the RNN binding (``dlframe.backends.cudnn``): enum values,
the ctypes signature of every function the binding calls, its errors and ``Api``,
the loaded library with declared signatures and status checking.

Facts from ../shared/GPU.md §3 (cuDNN 9.27 headers), re-checked by
tests/backends/test_cudnn_binding.py against the installed headers when the
``nvidia-cudnn-cu13`` wheel is present. Importing this module loads nothing.
"""

import ctypes

# ---------------------------------------------------------------------------------
# Enums (cudnn_graph.h / cudnn_adv.h, "@since cuDNN 9.0.0").
# ---------------------------------------------------------------------------------
CUDNN_STATUS_SUCCESS = 0
CUDNN_STATUS_NOT_INITIALIZED = 1001
CUDNN_STATUS_BAD_PARAM = 2000

CUDNN_DATA_FLOAT = 0
CUDNN_DATA_DOUBLE = 1
CUDNN_DATA_HALF = 2

CUDNN_DEFAULT_MATH = 0
CUDNN_TENSOR_OP_MATH = 1
CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION = 2
CUDNN_FMA_MATH = 3

CUDNN_RNN_ALGO_STANDARD = 0
CUDNN_FWD_MODE_INFERENCE = 0
CUDNN_FWD_MODE_TRAINING = 1
CUDNN_RNN_RELU = 0
CUDNN_RNN_TANH = 1
CUDNN_LSTM = 2
CUDNN_GRU = 3
CUDNN_RNN_NO_BIAS = 0
CUDNN_RNN_SINGLE_INP_BIAS = 1
CUDNN_RNN_DOUBLE_BIAS = 2
CUDNN_RNN_SINGLE_REC_BIAS = 3
CUDNN_UNIDIRECTIONAL = 0
CUDNN_BIDIRECTIONAL = 1
CUDNN_LINEAR_INPUT = 0
CUDNN_SKIP_INPUT = 1
CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_UNPACKED = 0
CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_PACKED = 1
CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED = 2
CUDNN_RNN_PADDED_IO_DISABLED = 0
CUDNN_RNN_PADDED_IO_ENABLED = 1
CUDNN_WGRAD_MODE_ADD = 0
CUDNN_WGRAD_MODE_SET = 1

MIN_VERSION = 90000  # every function below is "@since cuDNN 9.0.0"

_CELL_MODE = {"lstm": CUDNN_LSTM, "gru": CUDNN_GRU}
_LAYOUTS = {"seq_major": CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_UNPACKED,
            "batch_major": CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED}
# dtype char -> (dataType, mathPrec, mathType with TF32 disallowed, ... allowed)
_DTYPES = {
    "e": (CUDNN_DATA_HALF, CUDNN_DATA_FLOAT, CUDNN_TENSOR_OP_MATH, CUDNN_TENSOR_OP_MATH),
    "f": (CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT, CUDNN_FMA_MATH, CUDNN_DEFAULT_MATH),
    "d": (CUDNN_DATA_DOUBLE, CUDNN_DATA_DOUBLE, CUDNN_DEFAULT_MATH, CUDNN_DEFAULT_MATH),
}

# ---------------------------------------------------------------------------------
# Signatures (GPU.md §3.4). Every symbol the binding calls is declared here; ctypes
# would otherwise pass Python ints as 32-bit C ints.
# ---------------------------------------------------------------------------------
_P = ctypes.c_void_p
_PP = ctypes.POINTER(ctypes.c_void_p)
_I = ctypes.c_int
_PI = ctypes.POINTER(ctypes.c_int)
_I32 = ctypes.c_int32
_U32 = ctypes.c_uint32
_Z = ctypes.c_size_t
_PZ = ctypes.POINTER(ctypes.c_size_t)
_S = ctypes.c_int  # cudnnStatus_t

SIGNATURES = {  # name: (restype, argtypes)
    "cudnnGetVersion": (_Z, []),
    "cudnnGetErrorString": (ctypes.c_char_p, [_I]),
    "cudnnGetLastErrorString": (None, [ctypes.c_char_p, _Z]),
    "cudnnCreate": (_S, [_PP]),
    "cudnnDestroy": (_S, [_P]),
    "cudnnSetStream": (_S, [_P, _P]),
    "cudnnCreateTensorDescriptor": (_S, [_PP]),
    "cudnnDestroyTensorDescriptor": (_S, [_P]),
    "cudnnSetTensorNdDescriptor": (_S, [_P, _I, _I, _PI, _PI]),
    "cudnnGetTensorNdDescriptor": (_S, [_P, _I, _PI, _PI, _PI, _PI]),
    "cudnnCreateDropoutDescriptor": (_S, [_PP]),
    "cudnnDestroyDropoutDescriptor": (_S, [_P]),
    "cudnnSetDropoutDescriptor": (_S, [_P, _P, ctypes.c_float, _P, _Z, ctypes.c_ulonglong]),
    "cudnnCreateRNNDescriptor": (_S, [_PP]),
    "cudnnDestroyRNNDescriptor": (_S, [_P]),
    "cudnnSetRNNDescriptor_v8": (_S, [_P, _I, _I, _I, _I, _I, _I, _I, _I,
                                      _I32, _I32, _I32, _I32, _P, _U32]),
    "cudnnGetRNNWeightSpaceSize": (_S, [_P, _P, _PZ]),
    "cudnnGetRNNWeightParams": (_S, [_P, _P, _I32, _Z, _P, _I32, _P, _PP, _P, _PP]),
    "cudnnCreateRNNDataDescriptor": (_S, [_PP]),
    "cudnnDestroyRNNDataDescriptor": (_S, [_P]),
    "cudnnSetRNNDataDescriptor": (_S, [_P, _I, _I, _I, _I, _I, _PI, _P]),
    "cudnnGetRNNTempSpaceSizes": (_S, [_P, _P, _I, _P, _PZ, _PZ]),
    "cudnnRNNForward": (_S, [_P, _P, _I, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P,
                             _Z, _P, _Z, _P, _Z, _P]),
    "cudnnRNNBackwardData_v8": (_S, [_P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P,
                                     _P, _P, _P, _P, _Z, _P, _Z, _P, _Z, _P]),
    "cudnnRNNBackwardWeights_v8": (_S, [_P, _P, _I, _P, _P, _P, _P, _P, _P, _P,
                                        _Z, _P, _Z, _P, _Z, _P]),
}


class CudnnUnavailableError(RuntimeError):
    """libcudnn could not be found, loaded, or is too old / lacks a symbol."""


class CudnnError(RuntimeError):
    """A cuDNN call returned a status other than CUDNN_STATUS_SUCCESS.

    Attributes:
      call: the C function name.
      status: the cudnnStatus_t value.
      status_name: cudnnGetErrorString(status).
      detail: cudnnGetLastErrorString() right after the failure (may be '').
    """

    def __init__(self, call, status, status_name="", detail=""):
        self.call, self.status = call, int(status)
        self.status_name, self.detail = status_name, detail
        msg = f"{call} failed with status {self.status}"
        if status_name:
            msg += f" ({status_name})"
        if detail:
            msg += f": {detail}"
        super().__init__(msg)


class Api:
    """A loaded libcudnn with declared signatures and status checking.

    ``api(name, *args)`` calls the named function and raises :class:`CudnnError`
    unless it returns CUDNN_STATUS_SUCCESS.
    """

    def __init__(self, lib, where="libcudnn"):
        self.lib = lib
        self.where = where
        self._fn = {}
        for name, (restype, argtypes) in SIGNATURES.items():
            try:
                fn = getattr(lib, name)
            except AttributeError:
                raise CudnnUnavailableError(f"{where} has no symbol {name}; cuDNN >= 9 "
                                            "is required") from None
            fn.restype = restype
            fn.argtypes = argtypes
            self._fn[name] = fn
        self.version = int(self._fn["cudnnGetVersion"]())
        if self.version < MIN_VERSION:
            raise CudnnUnavailableError(f"{where} is cuDNN {self.version}; the RNN binding "
                                        f"needs >= {MIN_VERSION}")

    def __call__(self, name, *args):
        status = self._fn[name](*args)
        if status != CUDNN_STATUS_SUCCESS:
            raise CudnnError(name, status, self.error_string(status), self.last_error())

    def error_string(self, status):
        text = self._fn["cudnnGetErrorString"](int(status))
        return text.decode("utf-8", "replace") if text else ""

    def last_error(self):
        buf = ctypes.create_string_buffer(1024)
        self._fn["cudnnGetLastErrorString"](buf, ctypes.sizeof(buf))
        return buf.value.decode("utf-8", "replace")

    def create(self, what):
        """cudnnCreate<what>(&p); returns the pointer as an int ('' = the handle)."""
        ptr = ctypes.c_void_p()
        self(f"cudnnCreate{what}", ctypes.byref(ptr))
        return ptr.value

    def destroy(self, what, ptr):
        if ptr:
            self(f"cudnnDestroy{what}", ptr)
