"""cuDNN RNN host objects: ``_Plan`` (the descriptors for one shape key, temp-space
sizes and the flat weight-space layout) and ``_Context`` (a handle, its no-dropout
descriptor and the plan cache; one per device per thread).
"""

import collections
import ctypes

from dlframe.backends import rnn_layout
from dlframe.backends.cudnn_api import (
    _CELL_MODE,
    _DTYPES,
    _LAYOUTS,
    CUDNN_LINEAR_INPUT,
    CUDNN_RNN_ALGO_STANDARD,
    CUDNN_RNN_DOUBLE_BIAS,
    CUDNN_RNN_PADDED_IO_ENABLED,
    CUDNN_UNIDIRECTIONAL,
    CudnnError,
)

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
        self._device_lengths = {}
        self._full_lengths = ctx.full_lengths
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

    def device_lengths(self, cp, lengths):
        """The int32 device copy of ``lengths`` (host tuple), made once per lengths:
        cuDNN only reads it, and a host-to-device copy inside a CUDA-graph capture
        is refused, so a captured step must find it made by an earlier run."""
        # Full lengths (no mask: the only capture-safe call) are kept by the context
        # for good: a captured graph holds the copy's address, which must outlive
        # this plan's eviction and a churn of masked lengths.
        full = all(n == self.max_len for n in lengths)
        cache = self._full_lengths if full else self._device_lengths
        arr = cache.get(lengths)
        if arr is None:
            if not full and len(cache) >= 16:   # masks of many lengths: keep few
                cache.clear()
            arr = cache[lengths] = cp.asarray(lengths, dtype=cp.int32)
        return arr

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
        self.full_lengths = {}   # (T,) * B -> its device copy (_Plan.device_lengths)
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
