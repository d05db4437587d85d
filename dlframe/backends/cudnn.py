"""ctypes binding of the cuDNN 9 RNN API: fused LSTM / GRU for GPU devices.

Lazy: importing this module loads nothing; ``libcudnn.so.9`` is opened by
:func:`load_library` (first called from :func:`rnn_kernel`, which
``GPUDevice.rnn_kernel`` calls and falls back from, with one warning, when it raises).

Facts from ../shared/GPU.md §3 (cuDNN 9.27 headers; enum values and argument counts
re-checked by tests/backends/test_cudnn_binding.py against the installed headers when
the ``nvidia-cudnn-cu13`` wheel is present). Nothing here has run on a GPU yet: every
GPU-side assumption is marked (U) and covered by tests/gpu/smoke_gpu.py and
tests/gpu/test_cudnn_rnn_gpu.py.

Layout choice: the kernel takes Keras' batch-major ``x [B, T, in]`` and by default
transposes it to a contiguous ``[T, B, in]`` for cuDNN's SEQ_MAJOR_UNPACKED layout
(the layout PyTorch always uses for padded input, hence the best-trodden path); the
outputs are transposed back. ``layout="batch_major"`` passes ``[B, T, in]`` straight
through as BATCH_MAJOR_UNPACKED (saves two copies; algorithm coverage (U)).

Weights: one flat weight space per call, packed from the Keras arrays with
``rnn_layout.pack_weights`` using the per-gate offsets cuDNN reports
(``cudnnGetRNNWeightParams``); weight gradients come back through
``rnn_layout.unpack_gradients``. LSTM: bW = 0, bR = Keras bias, dbias = dbR.
GRU means Keras ``reset_after=True``.

Math: float32 uses FMA_MATH (strict fp32, no TF32) so results match the portable
kernel closely; float16 data computes in float32 with TENSOR_OP_MATH; float64 is for
exactness tests. bfloat16 is not supported (TypeError; use the portable kernel).
"""

import collections
import ctypes
import importlib.util
import os
import threading

import numpy

from dlframe.backends import rnn_layout

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


# ---------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------

def _load_via_pathfinder():
    from cuda import pathfinder  # cuda-pathfinder, a CuPy 14 dependency
    loaded = pathfinder.load_nvidia_dynamic_lib("cudnn")  # honours CUDNN_PATH; never closed
    path = getattr(loaded, "abs_path", None) or "libcudnn.so.9"
    return ctypes.CDLL(path), f"{path} (cuda.pathfinder)"


def _load_from_wheel():
    try:
        spec = importlib.util.find_spec("nvidia.cudnn")
    except ModuleNotFoundError:
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise OSError("the nvidia-cudnn-cu13/cu12 wheel is not installed")
    errors = []
    for root in spec.submodule_search_locations:
        path = os.path.join(root, "lib", "libcudnn.so.9")
        if os.path.exists(path):
            return ctypes.CDLL(path), f"{path} (nvidia.cudnn wheel)"
        errors.append(f"no {path}")
    raise OSError("; ".join(errors))


def _load_by_soname():
    return ctypes.CDLL("libcudnn.so.9"), "libcudnn.so.9 (system loader)"


# Tried in order (GPU.md §3.2); the first that opens a library wins.
LOADERS = [("cuda.pathfinder", _load_via_pathfinder),
           ("nvidia.cudnn wheel", _load_from_wheel),
           ("dlopen libcudnn.so.9", _load_by_soname)]

_lock = threading.Lock()
_api = None
_load_error = None


def load_library():
    """Opens libcudnn once per process and returns the checked API wrapper.

    Raises:
      CudnnUnavailableError: no loader found the library, or it is older than 9.0,
        or a needed symbol is missing. The failure is remembered.
    """
    global _api, _load_error
    if _api is not None:
        return _api
    with _lock:
        if _api is None:
            if _load_error is not None:
                raise _load_error
            try:
                _api = _open(LOADERS)
            except CudnnUnavailableError as exc:
                _load_error = exc
                raise
    return _api


def _open(loaders):
    errors = []
    for name, loader in loaders:
        try:
            lib, where = loader()
        # ImportError, OSError, pathfinder's DynamicLibNotFoundError, ...
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        return Api(lib, where)
    raise CudnnUnavailableError("libcudnn.so.9 not found (" + "; ".join(errors) + "). "
                                "Install the nvidia-cudnn-cu13 wheel for cuDNN RNNs.")


def _reset_for_tests():
    global _api, _load_error
    with _lock:
        _api, _load_error = None, None


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


def version():
    """cudnnGetVersion() of the loaded library (loads it)."""
    return load_library().version


# ---------------------------------------------------------------------------------
# Handle + descriptors (host objects; one _Context per device per thread)
# ---------------------------------------------------------------------------------

def _int_array(values):
    return (ctypes.c_int * len(values))(*[int(v) for v in values])


class _Plan:
    """cuDNN descriptors for one shape key (cell, input, units, dtype, batch, maxlen, ...)."""

    def __init__(self, api, ctx, key):
        (self.cell_kind, self.input_size, self.units, self.dtype_char, self.batch,
         self.max_len, self.layout, self.allow_tf32) = key
        self.api = api
        self.key = key
        data_type, math_prec, fma, tf32 = _DTYPES[self.dtype_char]
        self.data_type = data_type
        self._owned = []  # (kind, ptr) destroyed in __del__
        try:
            self.rnn = self._create("RNNDescriptor")
            api("cudnnSetRNNDescriptor_v8", self.rnn, CUDNN_RNN_ALGO_STANDARD,
                _CELL_MODE[self.cell_kind], CUDNN_RNN_DOUBLE_BIAS, CUDNN_UNIDIRECTIONAL,
                CUDNN_LINEAR_INPUT, data_type, math_prec, tf32 if self.allow_tf32 else fma,
                self.input_size, self.units,
                self.units,  # projSize = hiddenSize means "no projection" (0 is BAD_PARAM)
                1, ctx.dropout, CUDNN_RNN_PADDED_IO_ENABLED)
            self.x_desc = self._create("RNNDataDescriptor")
            self.y_desc = self._create("RNNDataDescriptor")
            # h/c: [layers*dirs, B, H] with strides [B*H, H, 1]; GRU passes it as cDesc
            # too with NULL c pointers (PyTorch does the same; a NULL cDesc is (U)).
            self.h_desc = self._create("TensorDescriptor")
            api("cudnnSetTensorNdDescriptor", self.h_desc, data_type, 3,
                _int_array([1, self.batch, self.units]),
                _int_array([self.batch * self.units, self.units, 1]))
            self.m_desc = self._create("TensorDescriptor")  # outputs of GetRNNWeightParams
            self.b_desc = self._create("TensorDescriptor")
        except Exception:
            self.close()
            raise
        # Host scalar 0 for paddingFill: 8 zero bytes read as 0 in half/float/double.
        self._fill = ctypes.c_double(0.0)
        self.lengths = None
        self._temp_sizes = {}
        self.views = None

    def _create(self, what):
        ptr = self.api.create(what)
        self._owned.append((what, ptr))
        return ptr

    def close(self):
        owned, self._owned = getattr(self, "_owned", []), []
        for what, ptr in reversed(owned):
            try:
                self.api.destroy(what, ptr)
            except Exception:  # noqa: BLE001, S110 - at shutdown: leak quietly
                pass

    def __del__(self):
        self.close()

    def set_lengths(self, lengths):
        """(Re)describes x and y for these right-padded lengths (host tuple of B ints)."""
        if lengths == self.lengths:
            return
        arr = _int_array(lengths)
        layout = _LAYOUTS[self.layout]
        self.api("cudnnSetRNNDataDescriptor", self.x_desc, self.data_type, layout,
                 self.max_len, self.batch, self.input_size, arr, ctypes.byref(self._fill))
        self.api("cudnnSetRNNDataDescriptor", self.y_desc, self.data_type, layout,
                 self.max_len, self.batch, self.units, arr, ctypes.byref(self._fill))
        self.lengths = lengths
        self._temp_sizes = {}

    def temp_sizes(self, handle, mode):
        """(workspace bytes, reserve bytes) for ``mode`` and the current lengths."""
        sizes = self._temp_sizes.get(mode)
        if sizes is None:
            work, reserve = ctypes.c_size_t(0), ctypes.c_size_t(0)
            self.api("cudnnGetRNNTempSpaceSizes", handle, self.rnn, mode, self.x_desc,
                     ctypes.byref(work), ctypes.byref(reserve))
            sizes = self._temp_sizes[mode] = (int(work.value), int(reserve.value))
        return sizes

    def weight_views(self, handle, alloc, itemsize):
        """The flat weight-space layout as rnn_layout.WeightViews (queried once).

        ``alloc(nbytes)`` returns a device buffer's address (kept alive by the caller
        during this call); cuDNN reports addresses inside it, turned into offsets.
        """
        if self.views is not None:
            return self.views
        api = self.api
        size = ctypes.c_size_t(0)
        api("cudnnGetRNNWeightSpaceSize", handle, self.rnn, ctypes.byref(size))
        nbytes = int(size.value)
        if nbytes % itemsize:
            raise CudnnError("cudnnGetRNNWeightSpaceSize", -1, "",
                             f"{nbytes} bytes is not a multiple of itemsize {itemsize}")
        base, keep = alloc(nbytes)
        matrices, biases = [], []
        gates = rnn_layout.num_gates(self.cell_kind)
        for lin in range(2 * gates):
            m_addr, b_addr = ctypes.c_void_p(), ctypes.c_void_p()
            api("cudnnGetRNNWeightParams", handle, self.rnn, 0, nbytes, base, lin,
                self.m_desc, ctypes.byref(m_addr), self.b_desc, ctypes.byref(b_addr))
            for addr, desc, out in ((m_addr, self.m_desc, matrices),
                                    (b_addr, self.b_desc, biases)):
                if not addr.value:
                    raise CudnnError("cudnnGetRNNWeightParams", -1, "",
                                     f"linLayerID {lin} returned a NULL address")
                offset, rem = divmod(addr.value - base, itemsize)
                if rem:
                    raise CudnnError("cudnnGetRNNWeightParams", -1, "",
                                     f"linLayerID {lin}: misaligned offset")
                out.append((offset, self._dims(desc)))
        del keep
        self.views = rnn_layout.WeightViews(matrices, biases, nbytes // itemsize)
        return self.views

    def _dims(self, desc):
        data_type, nb = ctypes.c_int(0), ctypes.c_int(0)
        dims, strides = (ctypes.c_int * 3)(), (ctypes.c_int * 3)()
        self.api("cudnnGetTensorNdDescriptor", desc, 3, ctypes.byref(data_type),
                 ctypes.byref(nb), dims, strides)
        return tuple(int(dims[i]) for i in range(min(int(nb.value), 3)))


class _Context:
    """A cuDNN handle, its no-dropout descriptor and the plan cache (one thread, one device)."""

    MAX_PLANS = 64

    def __init__(self, api, handle, dropout):
        self.api = api
        self.handle = handle
        self.dropout = dropout
        self.plans = collections.OrderedDict()
        self._stream = None

    @classmethod
    def open(cls, api):
        """Creates the handle on the current CUDA device (fails without a GPU)."""
        handle = api.create("")
        try:
            dropout = api.create("DropoutDescriptor")
            # p = 0 with no state buffer: the no-dropout pattern (needs a live handle).
            api("cudnnSetDropoutDescriptor", dropout, handle, 0.0, None, 0, 0)
        except Exception:
            api.destroy("", handle)
            raise
        return cls(api, handle, dropout)

    def set_stream(self, stream_ptr):
        if stream_ptr != self._stream:
            self.api("cudnnSetStream", self.handle, stream_ptr or None)
            self._stream = stream_ptr

    def plan(self, key):
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = _Plan(self.api, self, key)
            while len(self.plans) > self.MAX_PLANS:  # evicted plans die with their states
                self.plans.popitem(last=False)
        else:
            self.plans.move_to_end(key)
        return plan


_local = threading.local()


def _context(api, device):
    contexts = getattr(_local, "contexts", None)
    if contexts is None:
        contexts = _local.contexts = {}
    ctx = contexts.get(device.index)
    if ctx is None:
        with device.context():
            ctx = contexts[device.index] = _Context.open(api)
    return ctx


# ---------------------------------------------------------------------------------
# The kernel
# ---------------------------------------------------------------------------------

class RNNState:
    """What backward needs from a training forward (keep it with the tape).

    The reserve space is modified by cudnnRNNBackwardData, so a state supports one
    ``backward`` unless that call passes ``retain=True``.
    """

    __slots__ = ("c0", "consumed", "dev_lengths", "h0", "lengths", "plan", "reserve",
                 "weights", "x", "y")

    def __init__(self, plan, lengths, dev_lengths, x, y, h0, c0, weights, reserve):
        self.plan, self.lengths, self.dev_lengths = plan, lengths, dev_lengths
        self.x, self.y, self.h0, self.c0 = x, y, h0, c0
        self.weights, self.reserve = weights, reserve
        self.consumed = False


def _ptr(array):
    return None if array is None else array.data.ptr


class CudnnRNN:
    """cuDNN's fused single-layer unidirectional LSTM or GRU(reset_after=True).

    Arrays are CuPy arrays on ``device`` in Keras layout. See the module docstring
    for layout, bias and precision choices.
    """

    def __init__(self, device, cell_kind, api, *, layout="seq_major", allow_tf32=False):
        rnn_layout.num_gates(cell_kind)
        if layout not in _LAYOUTS:
            raise ValueError(f"layout must be 'seq_major' or 'batch_major', got {layout!r}")
        self.device = device
        self.cell_kind = cell_kind
        self.api = api
        self.layout = layout
        self.allow_tf32 = bool(allow_tf32)

    def __repr__(self):
        return (f"<CudnnRNN {self.cell_kind} on {self.device.name}, cuDNN "
                f"{self.api.version}, {self.layout}>")

    @staticmethod
    def supports(dtype, seq_lengths=None):
        """True when this kernel handles ``dtype`` and these lengths (all >= 1)."""
        if numpy.dtype(dtype).char not in _DTYPES:
            return False
        return seq_lengths is None or min(_host_ints(seq_lengths)) >= 1

    def forward(self, x, h0, c0, kernel, recurrent_kernel, bias, seq_lengths=None,
                training=False):
        """Runs the RNN over a batch-major sequence.

        Args:
          x: (B, T, input_size), float16/32/64.
          h0: (B, units) or None (zeros). c0: LSTM (B, units) or None; ignored for GRU.
          kernel: (input_size, G*units); recurrent_kernel: (units, G*units);
          bias: LSTM (4*units,), GRU (2, 3*units), or None (zeros).
          seq_lengths: None (all T) or B ints in [1, T] (host sequence or array;
            a CuPy array is copied to the host, which synchronises). Padding is on
            the right.
          training: keep the reserve space and return an :class:`RNNState`.

        Returns:
          (y (B, T, units) with zeros past each length, hy (B, units) = state after
          each sample's last valid step, cy (B, units) or None for GRU,
          state: RNNState when training else None).
        """
        cp = self.device.xp
        with self.device.context():
            batch, steps, input_size = (int(d) for d in x.shape)
            units = int(recurrent_kernel.shape[0])
            dtype = self._check_dtypes(x, h0, c0, kernel, recurrent_kernel, bias)
            lengths = self._lengths(seq_lengths, batch, steps)
            lstm = self.cell_kind == "lstm"
            ctx = _context(self.api, self.device)
            ctx.set_stream(cp.cuda.get_current_stream().ptr)
            plan = ctx.plan((self.cell_kind, input_size, units, dtype.char, batch, steps,
                             self.layout, self.allow_tf32))
            plan.set_lengths(lengths)
            views = plan.weight_views(ctx.handle, _allocator(cp), dtype.itemsize)
            weights = cp.empty((views.size,), dtype=dtype)
            rnn_layout.pack_weights(self.cell_kind, kernel, recurrent_kernel, bias, views,
                                    out=weights)
            xs = self._to_cudnn_layout(cp, x)
            # zeros, not empty: padded outputs stay 0 even if paddingFill is ignored (U)
            ys = cp.zeros(self._cudnn_shape(batch, steps, units), dtype=dtype)
            hx = None if h0 is None else cp.ascontiguousarray(h0)
            cx = None if (c0 is None or not lstm) else cp.ascontiguousarray(c0)
            hy = cp.empty((batch, units), dtype=dtype)
            cy = cp.empty((batch, units), dtype=dtype) if lstm else None
            dev_lengths = cp.asarray(lengths, dtype=cp.int32)  # read asynchronously
            mode = CUDNN_FWD_MODE_TRAINING if training else CUDNN_FWD_MODE_INFERENCE
            work_size, reserve_size = plan.temp_sizes(ctx.handle, mode)
            work = cp.empty((work_size,), dtype=cp.uint8) if work_size else None
            reserve = (cp.empty((reserve_size,), dtype=cp.uint8)
                       if training and reserve_size else None)
            self.api("cudnnRNNForward", ctx.handle, plan.rnn, mode, _ptr(dev_lengths),
                     plan.x_desc, _ptr(xs), plan.y_desc, _ptr(ys),
                     plan.h_desc, _ptr(hx), _ptr(hy), plan.h_desc, _ptr(cx), _ptr(cy),
                     weights.nbytes, _ptr(weights), work_size, _ptr(work),
                     reserve_size if reserve is not None else 0, _ptr(reserve))
            y = self._from_cudnn_layout(cp, ys)
            state = None
            if training:
                state = RNNState(plan, lengths, dev_lengths, xs, ys, hx, cx, weights,
                                 reserve)
            return y, hy, cy, state

    def backward(self, state, dy, dhy=None, dcy=None, *, retain=False):
        """Gradients of a training :meth:`forward`.

        Calls cudnnRNNBackwardData_v8 first, then cudnnRNNBackwardWeights_v8 with
        WGRAD_MODE_ADD into a zeroed buffer (GPU.md §3.5.9).

        Args:
          state: the RNNState from ``forward(..., training=True)``.
          dy: (B, T, units) gradient of y (ignored past each length).
          dhy: (B, units) or None; dcy: LSTM (B, units) or None.
          retain: work on a copy of the reserve space so ``state`` can be
            back-propagated again (costs one copy).

        Returns:
          (dx (B, T, input_size), dh0 (B, units), dc0 (B, units) or None for GRU,
           dkernel, drecurrent_kernel, dbias) in Keras layout; LSTM dbias = dbR.
        """
        if state is None:
            raise ValueError("backward needs the state of forward(..., training=True)")
        if state.consumed:
            raise RuntimeError("this RNNState was already back-propagated (cuDNN's "
                               "reserve space is modified by backward); pass retain=True "
                               "to the first backward to allow another")
        cp = self.device.xp
        plan = state.plan
        lstm = self.cell_kind == "lstm"
        with self.device.context():
            dtype = state.weights.dtype
            batch, steps, units = plan.batch, plan.max_len, plan.units
            ctx = _context(self.api, self.device)
            ctx.set_stream(cp.cuda.get_current_stream().ptr)
            plan.set_lengths(state.lengths)  # another forward may have re-set them
            reserve = state.reserve
            if retain and reserve is not None:
                reserve = reserve.copy()
            else:
                state.consumed = True
            dys = self._to_cudnn_layout(cp, cp.asarray(dy, dtype=dtype))
            if min(state.lengths) < steps:  # dy past a length must not leak in (U)
                dys = dys * self._valid_mask(cp, state.lengths, steps, dtype)
            dhy = None if dhy is None else cp.ascontiguousarray(dhy, dtype=dtype)
            dcy = None if (dcy is None or not lstm) else cp.ascontiguousarray(dcy, dtype=dtype)
            dxs = cp.zeros(state.x.shape, dtype=dtype)
            dhx = cp.empty((batch, units), dtype=dtype)
            dcx = cp.empty((batch, units), dtype=dtype) if lstm else None
            work_size, _ = plan.temp_sizes(ctx.handle, CUDNN_FWD_MODE_TRAINING)
            work = cp.empty((work_size,), dtype=cp.uint8) if work_size else None
            reserve_size = 0 if reserve is None else reserve.nbytes
            weights = state.weights
            self.api("cudnnRNNBackwardData_v8", ctx.handle, plan.rnn, _ptr(state.dev_lengths),
                     plan.y_desc, _ptr(state.y), _ptr(dys), plan.x_desc, _ptr(dxs),
                     plan.h_desc, _ptr(state.h0), _ptr(dhy), _ptr(dhx),
                     plan.h_desc, _ptr(state.c0), _ptr(dcy), _ptr(dcx),
                     weights.nbytes, _ptr(weights), work_size, _ptr(work),
                     reserve_size, _ptr(reserve))
            dweights = cp.zeros_like(weights)
            self.api("cudnnRNNBackwardWeights_v8", ctx.handle, plan.rnn, CUDNN_WGRAD_MODE_ADD,
                     _ptr(state.dev_lengths), plan.x_desc, _ptr(state.x),
                     plan.h_desc, _ptr(state.h0), plan.y_desc, _ptr(state.y),
                     dweights.nbytes, _ptr(dweights), work_size, _ptr(work),
                     reserve_size, _ptr(reserve))
            dkernel, drecurrent, dbias = rnn_layout.unpack_gradients(
                self.cell_kind, dweights, plan.views, plan.input_size, units)
            dx = self._from_cudnn_layout(cp, dxs)
            return dx, dhx, dcx, dkernel, drecurrent, dbias

    # -- helpers ---------------------------------------------------------------
    def _check_dtypes(self, x, h0, c0, kernel, recurrent_kernel, bias):
        dtype = x.dtype
        if dtype.char not in _DTYPES:
            raise TypeError(f"cuDNN RNN supports float16, float32 and float64 inputs; got "
                            f"{dtype}")
        for name, arr in (("h0", h0), ("c0", c0), ("kernel", kernel),
                          ("recurrent_kernel", recurrent_kernel), ("bias", bias)):
            if arr is not None and arr.dtype != dtype:
                raise TypeError(f"{name} has dtype {arr.dtype}; expected {dtype} like x")
        if x.ndim != 3:
            raise ValueError(f"x must be (batch, time, features); got shape {x.shape}")
        return dtype

    @staticmethod
    def _lengths(seq_lengths, batch, steps):
        if seq_lengths is None:
            return (steps,) * batch
        lengths = _host_ints(seq_lengths)
        if len(lengths) != batch:
            raise ValueError(f"seq_lengths needs {batch} entries; got {len(lengths)}")
        if min(lengths) < 1 or max(lengths) > steps:
            raise ValueError(f"seq_lengths must lie in [1, {steps}] for cuDNN (empty "
                             f"sequences go to the portable kernel); got {list(lengths)}")
        return lengths

    def _cudnn_shape(self, batch, steps, features):
        if self.layout == "seq_major":
            return (steps, batch, features)
        return (batch, steps, features)

    def _to_cudnn_layout(self, cp, a):
        if self.layout == "seq_major":
            return cp.ascontiguousarray(a.transpose(1, 0, 2))
        return cp.ascontiguousarray(a)

    def _from_cudnn_layout(self, cp, a):
        if self.layout == "seq_major":
            return cp.ascontiguousarray(a.transpose(1, 0, 2))
        return a

    def _valid_mask(self, cp, lengths, steps, dtype):
        valid = cp.arange(steps)[:, None] < cp.asarray(lengths)[None, :]  # (T, B)
        if self.layout != "seq_major":
            valid = valid.T
        return valid[:, :, None].astype(dtype)


def _host_ints(values):
    if type(values).__module__.split(".")[0] == "cupy":
        values = values.get()  # synchronises; pass host lengths to avoid it
    if hasattr(values, "tolist"):
        values = values.tolist()
    return tuple(int(v) for v in values)


def _allocator(cp):
    def alloc(nbytes):
        buf = cp.empty((max(int(nbytes), 1),), dtype=cp.uint8)
        return buf.data.ptr, buf
    return alloc


def rnn_kernel(device, cell_kind, *, layout="seq_major", allow_tf32=False):
    """The cuDNN LSTM/GRU kernel for a GPU ``device``.

    Loads libcudnn and creates this thread's handle on ``device`` up front, so a
    missing library or an unusable GPU raises here (GPUDevice.rnn_kernel then warns
    once and uses the portable kernel).

    Args:
      device: a GPUDevice.
      cell_kind: 'lstm' or 'gru' (GRU = Keras reset_after=True).
      layout: 'seq_major' (default; x transposed to [T, B, in]) or 'batch_major'.
      allow_tf32: float32 with DEFAULT_MATH (TF32 allowed on Ampere+), else FMA_MATH.

    Raises:
      CudnnUnavailableError: library missing/too old, or ``device`` is not a GPU.
      CudnnError: creating the handle failed.
      ValueError: unknown ``cell_kind`` or ``layout``.
    """
    rnn_layout.num_gates(cell_kind)
    if not getattr(device, "is_gpu", False):
        raise CudnnUnavailableError(f"cuDNN kernels need a GPU device; got {device!r}")
    api = load_library()
    kernel = CudnnRNN(device, cell_kind, api, layout=layout, allow_tf32=allow_tf32)
    _context(api, device)
    return kernel
