"""cuBLAS GEMM through ctypes, usable inside CUDA-graph stream capture.

CuPy 14 refuses every cuBLAS call while the current stream is capturing (its
``setStream`` wrapper raises NotImplementedError, a CuPy policy), so a traced
training step with a matrix product could never become a CUDA graph. cuBLAS
itself supports capture when the handle has a user workspace
(``cublasSetWorkspace``), so that it never allocates while capturing (NVIDIA cuBLAS
docs, "CUDA Graphs Support"). This module owns one handle per (thread, device)
with a persistent 32 MiB workspace and runs row-major (batched) products with
``cublasGemmEx`` / ``cublasGemmStridedBatchedEx``.

Row-major trick: a row-major ``C (M, N) = A (M, K) @ B (K, N)`` is the column-major
``C^T (N, M) = B^T A^T``, so cuBLAS's "A" is our ``b`` and its "B" is our ``a``.
An operand whose rows are contiguous is passed as is (op N), one whose columns
are contiguous (a transposed view) with op T. :func:`plan_gemm` holds that
mapping as pure Python (tested on the CPU against a NumPy emulation of
column-major GEMM); :func:`gemm` runs it on CuPy arrays. Importing this module
loads nothing; signatures and enum values: cuBLAS 12/13 ``cublas_api.h`` and
``library_types.h`` (checked against CUDA 13.0's ``library_types.h``).

TF32: a float32 product uses TF32 tensor cores only when both ``CUPY_TF32=1`` is set
and dlframe's flag (``tf.config.experimental.enable_tensor_float_32_execution``,
default on) is on. TensorFlow enables TF32 by default on Ampere and newer GPUs;
dlframe deliberately stays strict float32 unless CuPy's opt-in is given as well, so
that GPU and CPU float32 results agree to float32 rounding (see :func:`gemm`).

Every matrix product of op code reaches cuBLAS through ``Device.matmul`` (einsum
through ``backends/einsum_plan.py``), never through ``cupy.matmul``/``dot``/
``tensordot``/``einsum`` directly, so that a traced step can be captured.
"""

import ctypes
import importlib.util
import os
import threading
from typing import NamedTuple

CUBLAS_STATUS_SUCCESS = 0
CUBLAS_OP_N = 0
CUBLAS_OP_T = 1
CUDA_R_32F = 0
CUDA_R_64F = 1
CUDA_R_16F = 2
CUDA_R_16BF = 14
CUBLAS_COMPUTE_32F = 68
CUBLAS_COMPUTE_64F = 70
CUBLAS_COMPUTE_32F_FAST_TF32 = 77
CUBLAS_DEFAULT_MATH = 0
CUBLAS_GEMM_DEFAULT = -1

WORKSPACE_BYTES = 32 << 20   # NVIDIA's recommendation for Hopper (4 MiB before)
INT_MAX = (1 << 31) - 1

# dtype name -> (cudaDataType of A/B/C, compute type, scalar kind of alpha/beta)
DTYPES = {
    "float16": (CUDA_R_16F, CUBLAS_COMPUTE_32F, "f"),
    "bfloat16": (CUDA_R_16BF, CUBLAS_COMPUTE_32F, "f"),
    "float32": (CUDA_R_32F, CUBLAS_COMPUTE_32F, "f"),
    "float64": (CUDA_R_64F, CUBLAS_COMPUTE_64F, "d"),
}

_P = ctypes.c_void_p
_I = ctypes.c_int
_LL = ctypes.c_longlong
SIGNATURES = {  # name: (restype, argtypes); every symbol used is declared
    "cublasCreate_v2": (_I, [ctypes.POINTER(ctypes.c_void_p)]),
    "cublasDestroy_v2": (_I, [_P]),
    "cublasGetVersion_v2": (_I, [_P, ctypes.POINTER(ctypes.c_int)]),
    "cublasSetStream_v2": (_I, [_P, _P]),
    "cublasSetWorkspace_v2": (_I, [_P, _P, ctypes.c_size_t]),
    "cublasSetMathMode": (_I, [_P, _I]),
    "cublasGemmEx": (_I, [_P, _I, _I, _I, _I, _I, _P, _P, _I, _I, _P, _I, _I, _P,
                          _P, _I, _I, _I, _I]),
    "cublasGemmStridedBatchedEx": (_I, [_P, _I, _I, _I, _I, _I, _P, _P, _I, _I, _LL,
                                        _P, _I, _I, _LL, _P, _P, _I, _I, _LL, _I, _I,
                                        _I]),
}
_ONE_ZERO = (ctypes.c_float(1.0), ctypes.c_double(1.0), ctypes.c_float(0.0),
             ctypes.c_double(0.0))   # alpha/beta in host memory, kept alive here
_ONE = {"f": ctypes.byref(_ONE_ZERO[0]), "d": ctypes.byref(_ONE_ZERO[1])}
_ZERO = {"f": ctypes.byref(_ONE_ZERO[2]), "d": ctypes.byref(_ONE_ZERO[3])}
_PLANS = {}   # (shapes, strides, dtypes) -> (GemmPlan | None, DTYPES entry | None)
_MAX_PLANS = 4096


class CublasUnavailableError(RuntimeError):
    """libcublas could not be found or lacks a symbol."""


class CublasError(RuntimeError):
    """A cuBLAS call returned a status other than CUBLAS_STATUS_SUCCESS."""

    def __init__(self, call, status):
        self.call, self.status = call, int(status)
        super().__init__(f"{call} failed with cublasStatus_t {self.status}")


# ---------------------------------------------------------------------------------
# The argument mapping (pure Python)
# ---------------------------------------------------------------------------------

class GemmPlan(NamedTuple):
    """Arguments of one column-major cuBLAS call computing a row-major product.

    cuBLAS's A operand is the row-major ``b`` buffer, its B operand the ``a``
    buffer; C is a new C-contiguous array of ``out_shape``. Strides are in elements.
    """

    transa: int
    transb: int
    m: int
    n: int
    k: int
    lda: int
    ldb: int
    ldc: int
    stride_a: int
    stride_b: int
    stride_c: int
    batch: int
    out_shape: tuple


def _layout(rows, cols, row_stride, col_stride):
    """(op, ld) of a row-major ``rows x cols`` matrix as a column-major operand
    holding its transpose, or None (the caller makes it contiguous first).

    Rows contiguous: the column-major view with ld = row stride already is the
    transpose (op N). Columns contiguous: the view is the matrix itself (op T).
    A stride of a length-1 dimension is never used, so it may take any value.
    """
    rs = max(cols, 1) if rows == 1 else row_stride
    cs = 1 if cols == 1 else col_stride
    if cs == 1 and rs >= max(cols, 1):
        return CUBLAS_OP_N, rs
    rs = 1 if rows == 1 else row_stride
    cs = max(rows, 1) if cols == 1 else col_stride
    if rs == 1 and cs >= max(rows, 1):
        return CUBLAS_OP_T, cs
    return None


def _batch_stride(shape, strides, batch_shape):
    """One element stride stepping through ``batch_shape`` (0 when broadcast), or
    None when the operand's batch dims do not collapse to a single stride."""
    pad = len(batch_shape) - len(shape)
    shape, strides = (1,) * pad + tuple(shape), (0,) * pad + tuple(strides)
    step = None
    inner = 1   # product of the batch sizes inside the current dim
    for size, full, stride in zip(reversed(shape), reversed(batch_shape),
                                  reversed(strides)):
        if full == 1:
            continue
        s = 0 if size == 1 else stride
        if step is None:
            step = s
        elif s != step * inner:
            return None
        inner *= full
    return 0 if step is None else step


def broadcast_batch(a_shape, b_shape):
    """NumPy's broadcast of the batch dims of two matmul operands, or None."""
    a, b = tuple(a_shape[:-2]), tuple(b_shape[:-2])
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            return None
        out.append(y if x == 1 else x)
    return tuple(out)


def plan_gemm(a_shape, a_strides, b_shape, b_strides):
    """Maps a row-major ``a @ b`` (both ``ndim >= 2``) to one cuBLAS call.

    Args:
      a_shape, b_shape: shapes ``(..., M, K)`` and ``(..., K, N)``; batch dims
        broadcast as in NumPy.
      a_strides, b_strides: strides in elements (not bytes).

    Returns:
      A :class:`GemmPlan`, or None when a layout is not covered (a matrix with
      neither unit row nor unit column stride, batch dims that do not collapse to
      one stride, sizes past int32, empty products, mismatched K).
    """
    if len(a_shape) < 2 or len(b_shape) < 2 or a_shape[-1] != b_shape[-2]:
        return None
    big_m, k = a_shape[-2:]
    n = b_shape[-1]
    batch_shape = broadcast_batch(a_shape, b_shape)
    if batch_shape is None:
        return None
    batch = 1
    for s in batch_shape:
        batch *= s
    if 0 in (big_m, n, k, batch) or max(big_m, n, k, batch) > INT_MAX:
        return None
    b_layout = _layout(k, n, *b_strides[-2:])
    a_layout = _layout(big_m, k, *a_strides[-2:])
    sa = _batch_stride(a_shape[:-2], a_strides[:-2], batch_shape)
    sb = _batch_stride(b_shape[:-2], b_strides[:-2], batch_shape)
    if None in (a_layout, b_layout, sa, sb):
        return None
    transa, lda = b_layout
    transb, ldb = a_layout
    out_shape = batch_shape + (big_m, n)
    m_rows = big_m
    if batch > 1 and sb == 0 and transb == CUBLAS_OP_N and sa == big_m * ldb and \
            big_m * batch <= INT_MAX:
        # a shared right operand and evenly spaced rows of ``a`` across the batch:
        # one (batch*M, K) @ (K, N) product, as a Dense layer on 3-D input (not
        # past int32 rows: a batched call then, else the copy fallback fails too)
        m_rows, batch, sa = big_m * batch, 1, 0
    if max(lda, ldb) > INT_MAX:
        return None
    return GemmPlan(transa, transb, n, m_rows, k, lda, ldb, n, sb, sa, big_m * n, batch,
                    out_shape)


# ---------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------

def _sonames(major):
    names = ["libcublas.so.13", "libcublas.so.12"]
    preferred = f"libcublas.so.{major}"
    return sorted(names, key=lambda s: s != preferred)


def _load_via_pathfinder(major):
    from cuda import pathfinder  # cuda-pathfinder, a CuPy 14 dependency
    loaded = pathfinder.load_nvidia_dynamic_lib("cublas")   # never closed
    path = getattr(loaded, "abs_path", None) or _sonames(major)[0]
    return ctypes.CDLL(path), f"{path} (cuda.pathfinder)"


def _load_from_wheel(major):
    # nvidia-cublas (CUDA 13) installs under nvidia/cu13/lib, nvidia-cublas-cu12
    # under nvidia/cublas/lib (GPU.md §3.2)
    errors = []
    for pkg in ("nvidia.cu13", "nvidia.cublas"):
        try:
            spec = importlib.util.find_spec(pkg)
        except ModuleNotFoundError:
            spec = None
        for root in (spec.submodule_search_locations or []) if spec else []:
            for name in _sonames(major):
                path = os.path.join(root, "lib", name)
                if os.path.exists(path):
                    return ctypes.CDLL(path), f"{path} ({pkg} wheel)"
                errors.append(f"no {path}")
    raise OSError("; ".join(errors) or "no nvidia cuBLAS wheel")


def _load_by_soname(major):
    errors = []
    for name in _sonames(major):
        try:
            return ctypes.CDLL(name), f"{name} (system loader)"
        except OSError as exc:
            errors.append(str(exc))
    raise OSError("; ".join(errors))


LOADERS = [("cuda.pathfinder", _load_via_pathfinder),
           ("nvidia cuBLAS wheel", _load_from_wheel),
           ("dlopen libcublas", _load_by_soname)]

_lock = threading.Lock()
_fns = None
_load_error = None
_local = threading.local()
_idle = {}   # device id -> handles of finished threads, taken over by new threads


def load_library(major=13):
    """Opens libcublas once per process; returns {name: declared ctypes function}.

    Args:
      major: the CUDA major version CuPy runs on (its soname is tried first).

    Raises:
      CublasUnavailableError: no loader found a library with every symbol.
    """
    global _fns, _load_error
    if _fns is not None:
        return _fns
    with _lock:
        if _fns is None:
            if _load_error is not None:
                raise _load_error
            errors = []
            for name, loader in LOADERS:
                try:
                    lib, where = loader(major)
                    _fns = _declare(lib, where)
                    break
                except Exception as exc:  # noqa: BLE001 - OSError, pathfinder errors
                    errors.append(f"{name}: {type(exc).__name__}: {exc}")
            else:
                _load_error = CublasUnavailableError(
                    "libcublas not usable (" + "; ".join(errors) + ")")
                raise _load_error
    return _fns


def _declare(lib, where):
    fns = {"where": where}
    for name, (restype, argtypes) in SIGNATURES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise CublasUnavailableError(f"{where} has no symbol {name}") from None
        fn.restype, fn.argtypes = restype, argtypes
        fns[name] = fn
    return fns


def _check(fns, name, *args):
    status = fns[name](*args)
    if status != CUBLAS_STATUS_SUCCESS:
        raise CublasError(name, status)


class Handle:
    """A cuBLAS handle of one device and thread, with its persistent workspace.

    The workspace comes straight from ``cudaMalloc`` (``cupy.cuda.memory.Memory``), not
    from a memory pool, so no capture's private pool owns it; it lives as long as
    the handle. Handles are never destroyed (as cuDNN's): a finished thread's go to
    the next threads (:class:`_ThreadHandles`), except ``pinned`` ones, which a
    captured CUDA graph holds (its kernels use the workspace at every replay).
    """

    def __init__(self, cp, fns, device_id):
        self.fns = fns
        self.device_id = device_id
        ptr = ctypes.c_void_p()
        _check(fns, "cublasCreate_v2", ctypes.byref(ptr))
        self.ptr = ptr.value
        _check(fns, "cublasSetMathMode", self.ptr, CUBLAS_DEFAULT_MATH)
        self.workspace = cp.cuda.memory.Memory(WORKSPACE_BYTES)
        version = ctypes.c_int()
        _check(fns, "cublasGetVersion_v2", self.ptr, ctypes.byref(version))
        self.version = version.value
        self.stream = None
        self.pinned = False

    def bind(self, stream_ptr):
        """Points the handle at ``stream_ptr``. cublasSetStream resets the workspace
        to cuBLAS's own pool (cuBLAS docs), so the user workspace is set again."""
        if stream_ptr != self.stream:
            _check(self.fns, "cublasSetStream_v2", self.ptr, stream_ptr)
            _check(self.fns, "cublasSetWorkspace_v2", self.ptr, self.workspace.ptr,
                   WORKSPACE_BYTES)
            self.stream = stream_ptr


class _ThreadHandles(dict):
    """One thread's handles by device id. When the thread ends (eager
    ``MirroredStrategy.run`` starts replica threads per call) they become idle for
    the next threads, rather than a cublasCreate and a 32 MiB cudaMalloc per thread
    (the handle leaked, the workspace freed). Only handles last bound to the legacy
    default stream (ptr 0) are shared: the next owner's kernels on it run after the
    last owner's, so the workspace is never used by both at once.
    """

    def __init__(self, idle):
        super().__init__()
        self.idle = idle

    def __del__(self):
        for device_id, h in self.items():
            if not h.pinned and h.stream in (None, 0):
                self.idle.setdefault(device_id, []).append(h)


def handle(cp):
    """This thread's handle for CuPy's current device (created on first use).

    Raises:
      RuntimeError: the first use happens while the current stream captures
        (creation allocates and may synchronise; callers warm up first).
      CublasUnavailableError: no library, or no handle could be made.
    """
    handles = getattr(_local, "handles", None)
    if handles is None:
        handles = _local.handles = _ThreadHandles(_idle)
    device_id = cp.cuda.runtime.getDevice()
    h = handles.get(device_id)
    if h is None:
        try:   # a finished thread's handle (list.pop is atomic)
            h = handles[device_id] = _idle.get(device_id, []).pop()
            return h
        except IndexError:
            pass
        if cp.cuda.get_current_stream().is_capturing():
            raise RuntimeError("the cuBLAS handle must be created before capture")
        major = cp.cuda.runtime.runtimeGetVersion() // 1000
        fns = load_library(major)
        try:
            h = Handle(cp, fns, device_id)
        except Exception as exc:  # no GPU, a CuPy stand-in, ...
            raise CublasUnavailableError(f"no cuBLAS handle: {exc}") from exc
        handles[device_id] = h
    return h


def _element_strides(array):
    size = array.itemsize
    if any(s % size for s in array.strides):
        return None
    return tuple(s // size for s in array.strides)


def _plan_for(a, b):
    """The cached entry of :func:`gemm` for operands like ``a`` and ``b``:
    (plan or None = copy first, dtype info or None = not handled here)."""
    info = DTYPES.get(a.dtype.name)
    if info is None or b.dtype != a.dtype or a.ndim < 2 or b.ndim < 2:
        return None, None
    sa, sb = _element_strides(a), _element_strides(b)
    plan = None if None in (sa, sb) else plan_gemm(a.shape, sa, b.shape, sb)
    if plan is None:
        batch = broadcast_batch(a.shape, b.shape)
        count = 1
        for size in batch or ():
            count *= size
        if batch is None or a.shape[-1] != b.shape[-2] or \
                0 in a.shape[-2:] + b.shape[-1:] + (count,) or \
                max(a.shape[-2:] + b.shape[-1:] + (count,)) > INT_MAX:
            # cupy.matmul raises, returns the empty result or (a batch count past
            # int32, which no contiguous copy plans either) runs the product
            return None, None
    return plan, info


def _span(x):
    """[first, last) byte addresses an array's elements can occupy."""
    lo = hi = x.data.ptr
    for n, st in zip(x.shape, x.strides):
        if st < 0:
            lo += st * (n - 1)
        else:
            hi += st * (n - 1)
    return lo, hi + x.itemsize


def _writable_into(out, plan, a, b):
    """Whether cuBLAS may write the product straight into ``out``: C-contiguous,
    the product's shape and dtype, and sharing no memory with an operand."""
    if out.shape != plan.out_shape or out.dtype != a.dtype or \
            not out.flags.c_contiguous:
        return False
    lo, hi = _span(out)
    for x in (a, b):
        xlo, xhi = _span(x)
        if xlo < hi and lo < xhi:
            return False
    return True


def gemm(cp, a, b, allow_tf32=False, out=None):
    """``cp.matmul(a, b, out=out)`` for same-dtype float16/bfloat16/float32/float64
    arrays with ``ndim >= 2`` through this module's handle (capture-safe).

    Operands whose layout :func:`plan_gemm` does not cover are copied to
    contiguous (batch-broadcast) arrays first.

    TF32 rule: float32 products use TF32 tensor cores only when the caller passes
    ``allow_tf32`` (``GPUDevice.matmul`` does when the environment sets
    ``CUPY_TF32=1`` AND ``tf.config.experimental.enable_tensor_float_32_execution``
    is on, its default). TensorFlow itself enables TF32 by default on Ampere and
    newer; dlframe keeps float32 strict unless CuPy's own opt-in is also given, so
    that a GPU float32 product matches ``cupy.matmul``'s and the CPU's to float32
    rounding. float16/bfloat16 always accumulate in float32, float64 in float64.

    Args:
      cp: the cupy module.
      a, b: CuPy arrays ``(..., M, K)`` and ``(..., K, N)`` on the current device.
      allow_tf32: float32 products use TF32 tensor cores
        (CUBLAS_COMPUTE_32F_FAST_TF32), else strict float32.
      out: optional array of the product's shape and dtype, written in place
        (directly when C-contiguous and disjoint from ``a`` and ``b``, else through
        a temporary).

    Returns:
      A new C-contiguous array (``out`` when given), or None when the dtypes or
      shapes are not handled here (the caller uses ``cp.matmul``).
    """
    key = (a.shape, a.strides, b.shape, b.strides, a.dtype, b.dtype)
    entry = _PLANS.get(key)
    if entry is None:
        entry = _plan_for(a, b)
        if len(_PLANS) >= _MAX_PLANS:   # many shapes (a sweep): start over
            _PLANS.clear()
        _PLANS[key] = entry
    plan, info = entry
    if info is None:
        return None
    if plan is None:   # a layout plan_gemm does not cover: contiguous copies
        batch = broadcast_batch(a.shape, b.shape)
        a = cp.ascontiguousarray(cp.broadcast_to(a, batch + a.shape[-2:]))
        b = cp.ascontiguousarray(cp.broadcast_to(b, batch + b.shape[-2:]))
        plan = plan_gemm(a.shape, _element_strides(a), b.shape, _element_strides(b))
    dtype, compute, scalar = info
    if compute == CUBLAS_COMPUTE_32F and allow_tf32 and a.dtype.name == "float32":
        compute = CUBLAS_COMPUTE_32F_FAST_TF32
    h = handle(cp)
    h.bind(cp.cuda.get_current_stream().ptr)
    direct = out is not None and _writable_into(out, plan, a, b)
    result = out if direct else cp.empty(plan.out_shape, dtype=a.dtype)
    one, zero = _ONE[scalar], _ZERO[scalar]
    p = plan
    if p.batch == 1:
        _check(h.fns, "cublasGemmEx", h.ptr, p.transa, p.transb, p.m, p.n, p.k, one,
               b.data.ptr, dtype, p.lda, a.data.ptr, dtype, p.ldb, zero,
               result.data.ptr, dtype, p.ldc, compute, CUBLAS_GEMM_DEFAULT)
    else:
        _check(h.fns, "cublasGemmStridedBatchedEx", h.ptr, p.transa, p.transb, p.m,
               p.n, p.k, one, b.data.ptr, dtype, p.lda, p.stride_a, a.data.ptr, dtype,
               p.ldb, p.stride_b, zero, result.data.ptr, dtype, p.ldc, p.stride_c,
               p.batch, compute, CUBLAS_GEMM_DEFAULT)
    if out is not None and not direct:
        out[...] = result
        return out
    return result
