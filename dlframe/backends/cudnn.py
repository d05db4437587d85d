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

The C API facts (enums, signatures, ``Api``) live in ``cudnn_api`` and the host
descriptor objects in ``cudnn_plan``; both are re-exported here.
"""

import ctypes
import importlib.util
import os
import threading

import numpy

from dlframe.backends import rnn_layout
from dlframe.backends.cudnn_api import (  # noqa: F401 - re-exported
    _CELL_MODE,
    _DTYPES,
    _LAYOUTS,
    CUDNN_BIDIRECTIONAL,
    CUDNN_DATA_DOUBLE,
    CUDNN_DATA_FLOAT,
    CUDNN_DATA_HALF,
    CUDNN_DEFAULT_MATH,
    CUDNN_FMA_MATH,
    CUDNN_FWD_MODE_INFERENCE,
    CUDNN_FWD_MODE_TRAINING,
    CUDNN_GRU,
    CUDNN_LINEAR_INPUT,
    CUDNN_LSTM,
    CUDNN_RNN_ALGO_STANDARD,
    CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED,
    CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_PACKED,
    CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_UNPACKED,
    CUDNN_RNN_DOUBLE_BIAS,
    CUDNN_RNN_NO_BIAS,
    CUDNN_RNN_PADDED_IO_DISABLED,
    CUDNN_RNN_PADDED_IO_ENABLED,
    CUDNN_RNN_RELU,
    CUDNN_RNN_SINGLE_INP_BIAS,
    CUDNN_RNN_SINGLE_REC_BIAS,
    CUDNN_RNN_TANH,
    CUDNN_SKIP_INPUT,
    CUDNN_STATUS_BAD_PARAM,
    CUDNN_STATUS_NOT_INITIALIZED,
    CUDNN_STATUS_SUCCESS,
    CUDNN_TENSOR_OP_MATH,
    CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION,
    CUDNN_UNIDIRECTIONAL,
    CUDNN_WGRAD_MODE_ADD,
    CUDNN_WGRAD_MODE_SET,
    MIN_VERSION,
    SIGNATURES,
    Api,
    CudnnError,
    CudnnUnavailableError,
)
from dlframe.backends.cudnn_plan import (  # noqa: F401 - re-exported
    _Context,
    _int_array,
    _Plan,
)

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


def version():
    """cudnnGetVersion() of the loaded library (loads it)."""
    return load_library().version


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
            dev_lengths = plan.device_lengths(cp, lengths)
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
