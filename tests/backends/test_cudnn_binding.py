"""The cuDNN ctypes binding on CPU: loading, signatures, errors, descriptor caching.

Runs everywhere with a fake library object; the checks against the real
libcudnn/headers run only when the nvidia-cudnn wheel is installed (never in CI).
Descriptor calls work without a GPU; ``cudnnCreate`` does not (GPU.md §3.2).
"""

import ctypes
import importlib.util
import os
import re
import subprocess
import sys

import pytest

from dlframe.backends import cudnn, rnn_layout


def _cudnn_spec():
    try:
        return importlib.util.find_spec("nvidia.cudnn")
    except ModuleNotFoundError:
        return None


# ---------------------------------------------------------------------------------
# A fake libcudnn: records calls, hands out fake pointers, fails on request.
# ---------------------------------------------------------------------------------

class _FakeFn:
    def __init__(self, lib, name):
        self.lib, self.name = lib, name
        self.argtypes, self.restype = None, None

    def __call__(self, *args):
        lib = self.lib
        lib.calls.append((self.name, args))
        if self.name in lib.fail:
            return lib.fail[self.name]
        if self.name == "cudnnGetVersion":
            return lib.version
        if self.name == "cudnnGetErrorString":
            return b"CUDNN_STATUS_FAKE"
        if self.name == "cudnnGetLastErrorString":
            args[0].value = b"fake detail"
            return None
        if self.name.startswith("cudnnCreate"):
            lib.next_ptr += 16
            args[0]._obj.value = lib.next_ptr
        return 0


class FakeLib:
    def __init__(self, version=92700, missing=()):
        self.version = version
        self.missing = set(missing)
        self.calls = []
        self.fail = {}
        self.next_ptr = 0x1000

    def __getattr__(self, name):
        if name.startswith("cudnn") and name not in self.missing:
            fn = _FakeFn(self, name)
            object.__setattr__(self, name, fn)  # ctypes-like: same object each time
            return fn
        raise AttributeError(name)

    def count(self, name):
        return sum(1 for n, _ in self.calls if n == name)


def _key(batch=3, max_len=5, cell="lstm", dtype="f"):
    return (cell, 4, 6, dtype, batch, max_len, "seq_major", False)


# ---------------------------------------------------------------------------------

def test_enum_values():
    assert (cudnn.CUDNN_DATA_FLOAT, cudnn.CUDNN_DATA_DOUBLE, cudnn.CUDNN_DATA_HALF) == (0, 1, 2)
    assert (cudnn.CUDNN_DEFAULT_MATH, cudnn.CUDNN_TENSOR_OP_MATH, cudnn.CUDNN_FMA_MATH) == (0, 1, 3)
    assert (cudnn.CUDNN_LSTM, cudnn.CUDNN_GRU) == (2, 3)
    assert cudnn.CUDNN_RNN_DOUBLE_BIAS == 2 and cudnn.CUDNN_RNN_ALGO_STANDARD == 0
    assert (cudnn.CUDNN_FWD_MODE_INFERENCE, cudnn.CUDNN_FWD_MODE_TRAINING) == (0, 1)
    assert cudnn.CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_UNPACKED == 0
    assert cudnn.CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED == 2
    assert cudnn.CUDNN_RNN_PADDED_IO_ENABLED == 1 and cudnn.CUDNN_WGRAD_MODE_ADD == 0
    assert cudnn.CUDNN_UNIDIRECTIONAL == 0 and cudnn.CUDNN_LINEAR_INPUT == 0


def test_import_is_lazy():
    code = ("import sys, dlframe; assert 'dlframe.backends.cudnn' not in sys.modules; "
            "from dlframe.backends import cudnn; assert cudnn._api is None; "
            "assert not any('libcudnn' in l for l in open('/proc/self/maps'))")
    env = dict(os.environ, DLFRAME_DEVICE="cpu")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120, check=False)
    assert res.returncode == 0, res.stderr


def test_every_called_symbol_is_declared():
    src = ""
    for name in ("cudnn.py", "cudnn_api.py", "cudnn_plan.py"):  # the binding's modules
        with open(os.path.join(os.path.dirname(cudnn.__file__), name)) as f:
            src += f.read()
    called = set(re.findall(r'api\(\s*"(cudnn\w+)"', src))
    called |= set(re.findall(r'self\(\s*f?"(cudnn\w+)"', src))
    for what in set(re.findall(r'(?:create|_create)\("(\w*)"\)', src)):
        called |= {f"cudnnCreate{what}", f"cudnnDestroy{what}"}
    called |= {"cudnnGetVersion", "cudnnGetErrorString", "cudnnGetLastErrorString"}
    assert "cudnnRNNForward" in called and "cudnnRNNBackwardWeights_v8" in called
    missing = called - set(cudnn.SIGNATURES)
    assert not missing, f"calls without argtypes: {sorted(missing)}"
    unused = set(cudnn.SIGNATURES) - called
    assert not unused, f"declared but never called: {sorted(unused)}"
    for name, (restype, argtypes) in cudnn.SIGNATURES.items():
        assert isinstance(argtypes, list), name
        if name not in ("cudnnGetVersion", "cudnnGetErrorString", "cudnnGetLastErrorString"):
            assert restype is ctypes.c_int, name


def test_api_declares_argtypes_and_checks_status():
    lib = FakeLib()
    api = cudnn.Api(lib, "fake")
    assert api.version == 92700
    for name, (restype, argtypes) in cudnn.SIGNATURES.items():
        fn = getattr(lib, name)
        assert fn.argtypes == argtypes and fn.restype is restype
    lib.fail["cudnnSetStream"] = 2000
    with pytest.raises(cudnn.CudnnError) as info:
        api("cudnnSetStream", 1, 2)
    err = info.value
    assert err.call == "cudnnSetStream" and err.status == 2000
    assert "cudnnSetStream" in str(err) and "2000" in str(err)
    assert "CUDNN_STATUS_FAKE" in str(err) and "fake detail" in str(err)
    assert isinstance(err, RuntimeError)


def test_api_rejects_old_or_incomplete_library():
    with pytest.raises(cudnn.CudnnUnavailableError, match="8907"):
        cudnn.Api(FakeLib(version=8907))
    with pytest.raises(cudnn.CudnnUnavailableError, match="cudnnRNNForward"):
        cudnn.Api(FakeLib(missing={"cudnnRNNForward"}))


def test_loader_missing_library_raises_clean_error(monkeypatch):
    def fail_import():
        raise ImportError("No module named 'cuda'")

    def fail_os():
        raise OSError("libcudnn.so.9: cannot open shared object file")

    monkeypatch.setattr(cudnn, "LOADERS", [("pathfinder", fail_import), ("soname", fail_os)])
    monkeypatch.setattr(cudnn, "_api", None)
    monkeypatch.setattr(cudnn, "_load_error", None)
    with pytest.raises(cudnn.CudnnUnavailableError) as info:
        cudnn.load_library()
    msg = str(info.value)
    assert "pathfinder: ImportError" in msg and "soname: OSError" in msg
    assert "nvidia-cudnn-cu13" in msg
    # remembered: no second search
    monkeypatch.setattr(cudnn, "LOADERS", [])
    with pytest.raises(cudnn.CudnnUnavailableError):
        cudnn.load_library()


def test_loader_falls_back_in_order(monkeypatch):
    lib = FakeLib()
    tried = []

    def first():
        tried.append("first")
        raise OSError("nope")

    def second():
        tried.append("second")
        return lib, "fake path"

    def third():
        tried.append("third")
        raise AssertionError("not reached")

    monkeypatch.setattr(cudnn, "LOADERS", [("a", first), ("b", second), ("c", third)])
    monkeypatch.setattr(cudnn, "_api", None)
    monkeypatch.setattr(cudnn, "_load_error", None)
    api = cudnn.load_library()
    assert tried == ["first", "second"] and api.lib is lib and api.where == "fake path"
    assert cudnn.load_library() is api


def test_rnn_kernel_refuses_cpu_device_without_loading(monkeypatch):
    class Cpu:
        is_gpu = False
        name = "cpu:0"

    monkeypatch.setattr(cudnn, "LOADERS", [])
    monkeypatch.setattr(cudnn, "_api", None)
    monkeypatch.setattr(cudnn, "_load_error", None)
    with pytest.raises(cudnn.CudnnUnavailableError, match="GPU"):
        cudnn.rnn_kernel(Cpu(), "lstm")
    with pytest.raises(ValueError, match="cell_kind"):
        cudnn.rnn_kernel(Cpu(), "rnn")


def test_context_open_creates_handle_and_no_dropout_descriptor():
    lib = FakeLib()
    ctx = cudnn._Context.open(cudnn.Api(lib))
    assert lib.count("cudnnCreate") == 1 and lib.count("cudnnCreateDropoutDescriptor") == 1
    (_, args), = [c for c in lib.calls if c[0] == "cudnnSetDropoutDescriptor"]
    assert args[1] == ctx.handle and args[2] == 0.0 and args[3] is None
    ctx.set_stream(1234)
    ctx.set_stream(1234)
    assert lib.count("cudnnSetStream") == 1
    ctx.set_stream(0)  # legacy default stream -> NULL
    assert lib.calls[-1] == ("cudnnSetStream", (ctx.handle, None))


def test_context_open_failure_destroys_handle():
    lib = FakeLib()
    lib.fail["cudnnSetDropoutDescriptor"] = 1001
    with pytest.raises(cudnn.CudnnError):
        cudnn._Context.open(cudnn.Api(lib))
    assert lib.count("cudnnDestroy") == 1


def test_plan_cached_per_shape_key():
    lib = FakeLib()
    ctx = cudnn._Context.open(cudnn.Api(lib))
    p1 = ctx.plan(_key())
    assert ctx.plan(_key()) is p1
    assert lib.count("cudnnCreateRNNDescriptor") == 1
    p2 = ctx.plan(_key(batch=4))
    p3 = ctx.plan(_key(max_len=7))
    p4 = ctx.plan(_key(cell="gru"))
    p5 = ctx.plan(_key(dtype="d"))
    assert len({id(p) for p in (p1, p2, p3, p4, p5)}) == 5
    assert lib.count("cudnnCreateRNNDescriptor") == 5


def test_plan_descriptor_arguments():
    lib = FakeLib()
    ctx = cudnn._Context.open(cudnn.Api(lib))
    ctx.plan(("gru", 4, 6, "f", 3, 5, "seq_major", False))
    (_, a), = [c for c in lib.calls if c[0] == "cudnnSetRNNDescriptor_v8"]
    assert a[1:9] == (cudnn.CUDNN_RNN_ALGO_STANDARD, cudnn.CUDNN_GRU,
                      cudnn.CUDNN_RNN_DOUBLE_BIAS, cudnn.CUDNN_UNIDIRECTIONAL,
                      cudnn.CUDNN_LINEAR_INPUT, cudnn.CUDNN_DATA_FLOAT, cudnn.CUDNN_DATA_FLOAT,
                      cudnn.CUDNN_FMA_MATH)
    assert a[9:13] == (4, 6, 6, 1)  # inputSize, hiddenSize, projSize = hidden, 1 layer
    assert a[13] == ctx.dropout and a[14] == cudnn.CUDNN_RNN_PADDED_IO_ENABLED
    (_, t), = [c for c in lib.calls if c[0] == "cudnnSetTensorNdDescriptor"]
    assert t[1:3] == (cudnn.CUDNN_DATA_FLOAT, 3)
    assert list(t[3]) == [1, 3, 6] and list(t[4]) == [18, 6, 1]
    lib.calls.clear()
    ctx.plan(("lstm", 4, 6, "e", 3, 5, "seq_major", False))
    (_, a), = [c for c in lib.calls if c[0] == "cudnnSetRNNDescriptor_v8"]
    assert a[2] == cudnn.CUDNN_LSTM
    assert a[6:9] == (cudnn.CUDNN_DATA_HALF, cudnn.CUDNN_DATA_FLOAT, cudnn.CUDNN_TENSOR_OP_MATH)
    lib.calls.clear()
    ctx.plan(("lstm", 4, 6, "d", 3, 5, "seq_major", False))
    (_, a), = [c for c in lib.calls if c[0] == "cudnnSetRNNDescriptor_v8"]
    assert a[6:8] == (cudnn.CUDNN_DATA_DOUBLE, cudnn.CUDNN_DATA_DOUBLE)
    lib.calls.clear()
    ctx.plan(("lstm", 4, 6, "f", 3, 5, "seq_major", True))
    (_, a), = [c for c in lib.calls if c[0] == "cudnnSetRNNDescriptor_v8"]
    assert a[8] == cudnn.CUDNN_DEFAULT_MATH  # TF32 allowed


def test_plan_lengths_reset_only_when_changed():
    lib = FakeLib()
    ctx = cudnn._Context.open(cudnn.Api(lib))
    plan = ctx.plan(_key())
    plan.set_lengths((5, 3, 1))
    plan.set_lengths((5, 3, 1))
    calls = [a for n, a in lib.calls if n == "cudnnSetRNNDataDescriptor"]
    assert len(calls) == 2  # x and y once
    x_args, y_args = calls
    assert x_args[0] == plan.x_desc and y_args[0] == plan.y_desc
    assert x_args[2] == cudnn.CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_UNPACKED
    assert x_args[3:6] == (5, 3, 4) and y_args[3:6] == (5, 3, 6)  # maxLen, batch, vector
    assert list(x_args[6]) == [5, 3, 1]
    plan.temp_sizes(ctx.handle, cudnn.CUDNN_FWD_MODE_TRAINING)
    plan.temp_sizes(ctx.handle, cudnn.CUDNN_FWD_MODE_TRAINING)
    assert lib.count("cudnnGetRNNTempSpaceSizes") == 1
    plan.set_lengths((2, 2, 2))
    assert lib.count("cudnnSetRNNDataDescriptor") == 4
    plan.temp_sizes(ctx.handle, cudnn.CUDNN_FWD_MODE_TRAINING)
    assert lib.count("cudnnGetRNNTempSpaceSizes") == 2  # recomputed for new lengths


def test_plan_lru_eviction_and_destroy():
    lib = FakeLib()
    ctx = cudnn._Context.open(cudnn.Api(lib))
    ctx.MAX_PLANS = 2
    first = ctx.plan(_key(batch=1))
    ctx.plan(_key(batch=2))
    ctx.plan(_key(batch=1))  # refresh: batch=2 is now the oldest
    ctx.plan(_key(batch=3))
    assert {k[4] for k in ctx.plans} == {1, 3}
    assert ctx.plans[_key(batch=1)] is first
    assert lib.count("cudnnDestroyRNNDescriptor") == 1  # evicted plan freed its descriptors
    assert lib.count("cudnnDestroyRNNDataDescriptor") == 2


def test_plan_weight_views_offsets_from_addresses():
    """GetRNNWeightParams addresses become element offsets; dims come from the mDesc."""
    lib = FakeLib()
    api = cudnn.Api(lib)
    ctx = cudnn._Context.open(api)
    plan = ctx.plan(_key(cell="gru"))
    views = rnn_layout.synthetic_views("gru", 4, 6)
    base = 0x10000
    itemsize = 4
    lin_of = {}

    def weight_params(h, r, layer, nbytes, ws, lin, m_desc, m_addr, b_desc, b_addr):
        assert layer == 0 and ws == base and nbytes == views.size * itemsize
        m_addr._obj.value = base + views.matrices[lin][0] * itemsize
        b_addr._obj.value = base + views.biases[lin][0] * itemsize
        lin_of["m"] = lin
        return 0

    def space_size(h, r, out):
        out._obj.value = views.size * itemsize
        return 0

    def get_nd(desc, n, dt, nb, dims, strides):
        lin = lin_of["m"]
        shape = views.matrices[lin][1] if desc == plan.m_desc else views.biases[lin][1]
        nb._obj.value = len(shape)
        for i, d in enumerate(shape):
            dims[i] = d
        return 0

    lib.cudnnGetRNNWeightParams = weight_params
    lib.cudnnGetRNNWeightSpaceSize = space_size
    lib.cudnnGetTensorNdDescriptor = get_nd
    api._fn.update(cudnnGetRNNWeightParams=weight_params,
                   cudnnGetRNNWeightSpaceSize=space_size, cudnnGetTensorNdDescriptor=get_nd)
    got = plan.weight_views(ctx.handle, lambda n: (base, None), itemsize)
    assert got == views
    assert plan.weight_views(ctx.handle, None, itemsize) is got  # cached


def test_lengths_validation():
    ok = cudnn.CudnnRNN._lengths(None, 3, 5)
    assert ok == (5, 5, 5)
    assert cudnn.CudnnRNN._lengths([5, 3, 1], 3, 5) == (5, 3, 1)
    with pytest.raises(ValueError, match="portable"):
        cudnn.CudnnRNN._lengths([5, 0, 1], 3, 5)
    with pytest.raises(ValueError, match=r"\[1, 5\]"):
        cudnn.CudnnRNN._lengths([6, 1, 1], 3, 5)
    with pytest.raises(ValueError, match="3 entries"):
        cudnn.CudnnRNN._lengths([1, 1], 3, 5)
    assert cudnn.CudnnRNN.supports("float32") and cudnn.CudnnRNN.supports("float16")
    assert not cudnn.CudnnRNN.supports("int32")
    assert not cudnn.CudnnRNN.supports("float32", [3, 0])


# ---------------------------------------------------------------------------------
# Against the real library (only where the nvidia-cudnn wheel is installed)
# ---------------------------------------------------------------------------------

needs_wheel = pytest.mark.skipif(_cudnn_spec() is None, reason="nvidia-cudnn not installed")


def _real_api():
    try:
        return cudnn.load_library()
    except cudnn.CudnnUnavailableError as exc:
        pytest.skip(f"libcudnn does not load here: {exc}")


def _header_dir():
    spec = _cudnn_spec()
    for root in spec.submodule_search_locations:
        inc = os.path.join(root, "include")
        if os.path.isdir(inc):
            return inc
    pytest.skip("cuDNN headers not in the wheel")


@needs_wheel
def test_signatures_match_headers():
    inc = _header_dir()
    text = ""
    for name in ("cudnn_graph.h", "cudnn_ops.h", "cudnn_adv.h"):
        with open(os.path.join(inc, name)) as f:
            text += f.read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    for name, (_, argtypes) in cudnn.SIGNATURES.items():
        m = re.search(r"\b" + name + r"\s*\(([^;]*?)\)\s*;", text)
        assert m, f"{name} not declared in the headers"
        params = m.group(1).strip()
        n = 0 if params in ("", "void") else params.count(",") + 1
        assert n == len(argtypes), f"{name}: header has {n} params, binding {len(argtypes)}"


@needs_wheel
def test_enum_values_match_headers():
    inc = _header_dir()
    text = ""
    for name in ("cudnn_graph.h", "cudnn_adv.h"):
        with open(os.path.join(inc, name)) as f:
            text += f.read()
    for name in dir(cudnn):
        if not name.startswith("CUDNN_") or name == "CUDNN_STATUS_SUCCESS":
            continue
        m = (re.search(r"\b" + name + r"\s*=\s*(\d+)", text)
             or re.search(r"#define\s+" + name + r"\s+\((\d+)U?\s*<<\s*0\)", text)
             or re.search(r"#define\s+" + name + r"\s+(\d+)\b", text))
        assert m, f"{name} not found in headers"
        assert int(m.group(1)) == getattr(cudnn, name), name


@needs_wheel
def test_real_library_descriptors_without_gpu():
    api = _real_api()
    assert api.version >= cudnn.MIN_VERSION
    # Descriptor calls need no GPU; the dropout descriptor may stay unset at set time.
    ctx = cudnn._Context(api, handle=None, dropout=api.create("DropoutDescriptor"))
    for cell in ("lstm", "gru"):
        for dtype in ("e", "f", "d"):
            for layout in ("seq_major", "batch_major"):
                plan = ctx.plan((cell, 4, 6, dtype, 3, 5, layout, False))
                plan.set_lengths((5, 3, 1))
                assert plan.x_desc and plan.y_desc and plan.h_desc
    # GetTensorNdDescriptor round trip on the h descriptor
    dt, nb = ctypes.c_int(), ctypes.c_int()
    dims, strides = (ctypes.c_int * 3)(), (ctypes.c_int * 3)()
    api("cudnnGetTensorNdDescriptor", plan.h_desc, 3, ctypes.byref(dt), ctypes.byref(nb),
        dims, strides)
    assert nb.value == 3 and list(dims) == [1, 3, 6] and list(strides) == [18, 6, 1]
    assert dt.value == cudnn.CUDNN_DATA_DOUBLE


@needs_wheel
def test_real_library_error_reporting():
    api = _real_api()
    rnn = api.create("RNNDescriptor")
    try:
        with pytest.raises(cudnn.CudnnError) as info:
            api("cudnnSetRNNDescriptor_v8", rnn, 0, cudnn.CUDNN_LSTM, 2, 0, 0, 0, 0, 3,
                4, 6, 0, 1, None, 1)  # projSize 0 is BAD_PARAM in cuDNN 9
        assert info.value.status == cudnn.CUDNN_STATUS_BAD_PARAM
        assert "cudnnSetRNNDescriptor_v8" in str(info.value)
        assert "BAD_PARAM" in info.value.status_name
    finally:
        api.destroy("RNNDescriptor", rnn)
    with pytest.raises(cudnn.CudnnError) as info:  # no GPU here, or skipped above
        h = api.create("")
        api.destroy("", h)
        pytest.skip("a GPU is present: cudnnCreate succeeded")
    assert info.value.call == "cudnnCreate"


# ---------------------------------------------------------------------------------
# The whole kernel (forward/backward plumbing) against a CPU emulation of the cuDNN
# RNN API: device memory = NumPy memory addressed by pointer, math = the NumPy
# reference. Checks argument order per GPU.md §3.4, transposes, pack/unpack, the
# backward call order, lengths handling. Says nothing about real cuDNN numerics.
# ---------------------------------------------------------------------------------

np = pytest.importorskip("numpy")

_NP_DTYPE = {cudnn.CUDNN_DATA_HALF: np.float16, cudnn.CUDNN_DATA_FLOAT: np.float32,
             cudnn.CUDNN_DATA_DOUBLE: np.float64}


class _Ptr:
    def __init__(self, ptr):
        self.ptr = ptr


class FakeDeviceArray(np.ndarray):
    """NumPy array with CuPy's ``a.data.ptr``."""

    @property
    def data(self):
        return _Ptr(self.ctypes.data)

    def get(self):
        return np.asarray(self)


def _wrap(fn):
    def inner(*args, **kwargs):
        return np.asarray(fn(*args, **kwargs)).view(FakeDeviceArray)
    return inner


class _Stream:
    ptr = 0


fake_cp = type(sys)("fake_cupy")
for _name in ("empty", "zeros", "zeros_like", "ascontiguousarray", "asarray", "arange"):
    setattr(fake_cp, _name, _wrap(getattr(np, _name)))
fake_cp.int32, fake_cp.uint8, fake_cp.ndarray = np.int32, np.uint8, FakeDeviceArray
fake_cp.cuda = type(sys)("fake_cupy.cuda")
fake_cp.cuda.get_current_stream = lambda: _Stream()


class FakeGpu:
    is_gpu = True
    name = "gpu:0"
    index = 0
    xp = fake_cp

    def context(self):
        import contextlib
        return contextlib.nullcontext()


def _mem(ptr, dtype, shape):
    n = int(np.prod(shape)) * np.dtype(dtype).itemsize
    buf = (ctypes.c_char * n).from_address(ptr)
    return np.frombuffer(buf, dtype=dtype).reshape(shape)


class EmulatedLib(FakeLib):
    """FakeLib whose RNN calls compute with rnn_layout's NumPy reference."""

    def __init__(self):
        super().__init__()
        self.desc = {}
        self.reserve = {}
        self.order = []
        lib = self

        def setter(name):
            def fn(*a):
                lib.calls.append((name, a))
                return getattr(lib, "_" + name)(*a) or 0
            return fn

        for name in ("cudnnSetRNNDescriptor_v8", "cudnnSetRNNDataDescriptor",
                     "cudnnSetTensorNdDescriptor", "cudnnGetTensorNdDescriptor",
                     "cudnnGetRNNWeightSpaceSize", "cudnnGetRNNWeightParams",
                     "cudnnGetRNNTempSpaceSizes", "cudnnRNNForward",
                     "cudnnRNNBackwardData_v8", "cudnnRNNBackwardWeights_v8"):
            object.__setattr__(self, name, setter(name))

    # descriptors
    def _cudnnSetRNNDescriptor_v8(self, r, algo, mode, bias_mode, direction, inp, dt, prec,
                                  math, in_size, hidden, proj, layers, dropout, aux):
        assert (algo, bias_mode, direction, inp, proj, layers, aux) == (0, 2, 0, 0, hidden, 1, 1)
        self.desc[r] = {"cell": {2: "lstm", 3: "gru"}[mode], "dtype": _NP_DTYPE[dt],
                        "input": in_size, "hidden": hidden}

    def _cudnnSetRNNDataDescriptor(self, d, dt, layout, max_len, batch, vec, lengths, fill):
        self.desc[d] = {"dtype": _NP_DTYPE[dt], "layout": layout, "T": max_len, "B": batch,
                        "V": vec, "lengths": [lengths[i] for i in range(batch)]}

    def _cudnnSetTensorNdDescriptor(self, d, dt, nb, dims, strides):
        self.desc[d] = {"dims": tuple(dims[i] for i in range(nb))}

    def _cudnnGetTensorNdDescriptor(self, d, n, dt, nb, dims, strides):
        shape = self.desc[d]["dims"]
        nb._obj.value = len(shape)
        for i, v in enumerate(shape):
            dims[i] = v

    def _views(self, r):
        info = self.desc[r]
        return rnn_layout.synthetic_views(info["cell"], info["input"], info["hidden"])

    def _cudnnGetRNNWeightSpaceSize(self, h, r, out):
        out._obj.value = self._views(r).size * np.dtype(self.desc[r]["dtype"]).itemsize

    def _cudnnGetRNNWeightParams(self, h, r, layer, nbytes, base, lin, m, m_addr, b, b_addr):
        views, item = self._views(r), np.dtype(self.desc[r]["dtype"]).itemsize
        assert nbytes == views.size * item
        m_addr._obj.value = base + views.matrices[lin][0] * item
        b_addr._obj.value = base + views.biases[lin][0] * item
        self.desc[m] = {"dims": views.matrices[lin][1]}
        self.desc[b] = {"dims": views.biases[lin][1]}

    def _cudnnGetRNNTempSpaceSizes(self, h, r, mode, x_desc, work, reserve):
        work._obj.value, reserve._obj.value = 32, 64 if mode == 1 else 0

    # compute; the reserve space holds a token naming what forward/backward left there
    def _store(self, res, value):
        token = len(self.reserve) + 1
        self.reserve[token] = value
        _mem(res, np.int64, (1,))[0] = token

    def _load(self, res):
        return self.reserve[int(_mem(res, np.int64, (1,))[0])]

    def _seq(self, d, ptr, writable=False):
        info = self.desc[d]
        if info["layout"] == 0:
            return _mem(ptr, info["dtype"], (info["T"], info["B"], info["V"])).transpose(1, 0, 2)
        assert info["layout"] == 2
        return _mem(ptr, info["dtype"], (info["B"], info["T"], info["V"]))

    def _state(self, h_desc, ptr, dtype):
        dims = self.desc[h_desc]["dims"]
        return None if not ptr else _mem(ptr, dtype, dims[1:])

    def _weights(self, r, nbytes, ptr):
        info, views = self.desc[r], self._views(r)
        flat = _mem(ptr, info["dtype"], (views.size,))
        g = rnn_layout.num_gates(info["cell"])
        u, n = info["hidden"], info["input"]

        def m(lin, cols):
            return flat[views.matrices[lin][0]:][:u * cols].reshape(u, cols)

        def v(lin):
            return flat[views.biases[lin][0]:][:u]

        return ([m(k, n) for k in range(g)], [m(g + k, u) for k in range(g)],
                [v(k) for k in range(g)], [v(g + k) for k in range(g)])

    def _cudnnRNNForward(self, h, r, mode, dev_len, x_desc, x, y_desc, y, h_desc, hx, hy,
                         c_desc, cx, cy, w_size, w, work_size, work, res_size, res):
        self.order.append("forward")
        info = self.desc[r]
        dt = info["dtype"]
        lengths = self.desc[x_desc]["lengths"]
        assert list(_mem(dev_len, np.int32, (len(lengths),))) == lengths
        ww, rr, bw, br = self._weights(r, w_size, w)
        out_y, out_h, out_c, cache = rnn_layout.cudnn_equations_forward(
            info["cell"], self._seq(x_desc, x).astype(np.float64),
            self._state(h_desc, hx, dt), self._state(c_desc, cx, dt),
            ww, rr, bw, br, lengths)
        self._seq(y_desc, y)[...] = out_y  # padded outputs = paddingFill 0
        self._state(h_desc, hy, dt)[...] = out_h
        if info["cell"] == "lstm":
            assert cy
            self._state(c_desc, cy, dt)[...] = out_c
        else:
            assert not (cx or cy)
        if mode == 1:
            assert res and res_size == 64
            self._store(res, cache)
        else:
            assert not res and res_size == 0

    def _cudnnRNNBackwardData_v8(self, h, r, dev_len, y_desc, y, dy, x_desc, dx, h_desc, hx,
                                 dhy, dhx, c_desc, cx, dcy, dcx, w_size, w, work_size, work,
                                 res_size, res):
        self.order.append("data")
        dt = self.desc[r]["dtype"]
        cache = self._load(res)
        grads = rnn_layout.cudnn_equations_backward(
            cache, self._seq(y_desc, dy), self._state(h_desc, dhy, dt),
            self._state(c_desc, dcy, dt))
        self._seq(x_desc, dx)[...] = grads[0]
        self._state(h_desc, dhx, dt)[...] = grads[1]
        if dcx:
            self._state(c_desc, dcx, dt)[...] = grads[2]
        self._store(res, ("after-data", grads[3:]))  # cuDNN mutates the reserve too

    def _cudnnRNNBackwardWeights_v8(self, h, r, mode, dev_len, x_desc, x, h_desc, hx,
                                    y_desc, y, w_size, dw, work_size, work, res_size, res):
        self.order.append("weights")
        assert mode == cudnn.CUDNN_WGRAD_MODE_ADD
        tag, (gw, gr, gbw, gbr) = self._load(res)
        assert tag == "after-data", "BackwardWeights must follow BackwardData"
        ww, rr, bw, br = self._weights(r, w_size, dw)
        for dst, src in zip(ww + rr + bw + br, gw + gr + gbw + gbr):
            dst += src  # ADD mode


@pytest.fixture
def emulated(monkeypatch):
    lib = EmulatedLib()
    api = cudnn.Api(lib, "emulated")
    monkeypatch.setattr(cudnn, "_api", api)
    monkeypatch.setattr(cudnn, "_local", __import__("threading").local())
    return lib


def _problem(cell, dtype, seed=0):
    rng = np.random.default_rng(seed)
    g = rnn_layout.num_gates(cell)
    b, t, n, u = 3, 5, 4, 6

    def f(*shape):
        return rng.standard_normal(shape).astype(dtype) * 0.5

    lstm = cell == "lstm"
    arrays = {"x": f(b, t, n), "h0": f(b, u), "c0": f(b, u) if lstm else None,
              "kernel": f(n, g * u), "recurrent_kernel": f(u, g * u),
              "bias": f(g * u) if lstm else f(2, g * u)}
    grads = {"dy": f(b, t, u), "dhy": f(b, u), "dcy": f(b, u) if lstm else None}
    return arrays, grads


def _dev(a):
    return None if a is None else np.asarray(a).view(FakeDeviceArray)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("layout", ["seq_major", "batch_major"])
@pytest.mark.parametrize("lengths", [None, [5, 3, 1]])
def test_emulated_kernel_forward_backward(emulated, cell, layout, lengths):
    arrays, grads = _problem(cell, np.float64)
    kern = cudnn.rnn_kernel(FakeGpu(), cell, layout=layout)
    dev = {k: _dev(v) for k, v in arrays.items()}
    y, hy, cy, state = kern.forward(**dev, seq_lengths=lengths, training=True)
    ry, rhy, rcy, cache = rnn_layout.reference_forward(cell, **arrays, seq_lengths=lengths)
    np.testing.assert_allclose(y, ry, rtol=1e-12)
    np.testing.assert_allclose(hy, rhy, rtol=1e-12)
    if cell == "lstm":
        np.testing.assert_allclose(cy, rcy, rtol=1e-12)
    else:
        assert cy is None
    assert y.shape == (3, 5, 6) and y.flags.c_contiguous
    out = kern.backward(state, _dev(grads["dy"]), _dev(grads["dhy"]), _dev(grads["dcy"]))
    ref = rnn_layout.reference_backward(cache, grads["dy"], grads["dhy"], grads["dcy"])
    for got, want in zip(out, ref):
        if want is None:
            assert got is None
        else:
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert emulated.order == ["forward", "data", "weights"]
    with pytest.raises(RuntimeError, match="already"):
        kern.backward(state, _dev(grads["dy"]))


def test_emulated_inference_and_defaults(emulated):
    arrays, _ = _problem("gru", np.float32)
    kern = cudnn.rnn_kernel(FakeGpu(), "gru")
    dev = {k: _dev(v) for k, v in arrays.items()}
    dev["h0"] = None
    y, _, cy, state = kern.forward(**dev)
    assert state is None and cy is None and y.dtype == np.float32
    arrays["h0"] = None
    ry, _, _, _ = rnn_layout.reference_forward("gru", **arrays)
    np.testing.assert_allclose(y, ry, rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="kernel"):
        kern.forward(**dict(dev, kernel=dev["kernel"].astype(np.float64)))
    with pytest.raises(ValueError, match="portable"):
        kern.forward(**dev, seq_lengths=[5, 0, 1])


def test_emulated_interleaved_lengths_and_retain(emulated):
    """Two forwards sharing a plan with different lengths; backward re-sets the lengths."""
    arrays, grads = _problem("lstm", np.float64)
    kern = cudnn.rnn_kernel(FakeGpu(), "lstm")
    dev = {k: _dev(v) for k, v in arrays.items()}
    _, _, _, s1 = kern.forward(**dev, seq_lengths=[5, 3, 1], training=True)
    _, _, _, s2 = kern.forward(**dev, seq_lengths=[2, 4, 5], training=True)
    assert s1.plan is s2.plan
    g_args = (_dev(grads["dy"]), _dev(grads["dhy"]), _dev(grads["dcy"]))
    got = kern.backward(s1, *g_args, retain=True)
    again = kern.backward(s1, *g_args)
    _, _, _, cache = rnn_layout.reference_forward("lstm", **arrays, seq_lengths=[5, 3, 1])
    ref = rnn_layout.reference_backward(cache, grads["dy"], grads["dhy"], grads["dcy"])
    for a, b, want in zip(got, again, ref):
        np.testing.assert_allclose(a, want, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b, want, rtol=1e-10, atol=1e-12)
