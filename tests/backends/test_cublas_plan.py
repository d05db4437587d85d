"""The row-major -> column-major cuBLAS argument mapping (``cublas_api.plan_gemm``),
checked on the CPU against NumPy by emulating cuBLAS's column-major GEMM on the raw
buffers of the operands (no GPU, no libcublas needed)."""

import itertools

import numpy as np
import pytest

from dlframe.backends import cublas_api as cb


def _colmajor(flat, offset, rows, cols, ld):
    """The column-major ``rows x cols`` matrix at ``flat[offset]`` with leading
    dimension ``ld`` (cuBLAS requires ld >= max(1, rows))."""
    assert ld >= max(1, rows), (ld, rows)
    r = np.arange(rows)[:, None]
    c = np.arange(cols)[None, :]
    return flat[offset + r + c * ld]


def _emulate(plan, a_flat, a_off, b_flat, b_off, dtype):
    """What cublasGemm(StridedBatched)Ex computes for ``plan`` (cuBLAS A = b's
    buffer, cuBLAS B = a's buffer), read back as the row-major result."""
    p = plan
    c_flat = np.full(int(np.prod(p.out_shape)), np.nan, dtype=np.float64)
    for i in range(p.batch):
        xa = (p.m, p.k) if p.transa == cb.CUBLAS_OP_N else (p.k, p.m)
        xb = (p.k, p.n) if p.transb == cb.CUBLAS_OP_N else (p.n, p.k)
        x = _colmajor(b_flat, b_off + i * p.stride_a, *xa, p.lda)
        y = _colmajor(a_flat, a_off + i * p.stride_b, *xb, p.ldb)
        x = x if p.transa == cb.CUBLAS_OP_N else x.T
        y = y if p.transb == cb.CUBLAS_OP_N else y.T
        prod = x.astype(np.float64) @ y.astype(np.float64)   # (m, n) column-major
        assert p.ldc >= p.m
        r = np.arange(p.m)[:, None]
        c = np.arange(p.n)[None, :]
        c_flat[i * p.stride_c + r + c * p.ldc] = prod
    assert not np.isnan(c_flat).any(), "cuBLAS would leave part of C unwritten"
    return c_flat.reshape(p.out_shape).astype(dtype)


def _view_info(view, base):
    size = view.itemsize
    off = (view.__array_interface__["data"][0] - base.__array_interface__["data"][0])
    return off // size, tuple(s // size for s in view.strides)


def _operand(rng, shape, layout, dtype):
    """A view of ``shape`` with a given memory layout, and (flat base, offset)."""
    *batch, rows, cols = shape
    if layout == "c":
        base = rng.integers(-4, 5, size=shape).astype(dtype)
        view = base
    elif layout == "t":        # a transposed view: columns contiguous
        base = rng.integers(-4, 5, size=(*batch, cols, rows)).astype(dtype)
        view = np.swapaxes(base, -1, -2)
    elif layout == "pad":      # rows padded: row stride > cols (a column slice)
        base = rng.integers(-4, 5, size=(*batch, rows, cols + 3)).astype(dtype)
        view = base[..., :cols]
    elif layout == "tpad":     # transposed and padded
        base = rng.integers(-4, 5, size=(*batch, cols, rows + 2)).astype(dtype)
        view = np.swapaxes(base[..., :rows], -1, -2)
    elif layout == "bcast":    # one matrix broadcast over the batch (stride 0)
        base = rng.integers(-4, 5, size=(rows, cols)).astype(dtype)
        view = np.broadcast_to(base, shape)
    else:
        raise AssertionError(layout)
    off, strides = _view_info(view, base)
    return view, base.reshape(-1), off, strides


SHAPES = [  # (a_shape, b_shape)
    ((3, 4), (4, 5)), ((1, 4), (4, 5)), ((3, 1), (1, 5)), ((3, 4), (4, 1)),
    ((1, 1), (1, 1)), ((7, 2), (2, 9)), ((2, 3, 4), (2, 4, 5)),
    ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 2, 3, 4), (2, 2, 4, 5)),
    ((5, 1, 4), (5, 4, 2)), ((2, 3, 1, 4), (3, 4, 6)), ((4, 1, 1), (4, 1, 3)),
]
LAYOUTS = ["c", "t", "pad", "tpad"]


def _partial_broadcast(a_shape, b_shape):
    """Some batch dim of one operand broadcasts while another does not."""
    batch = cb.broadcast_batch(a_shape, b_shape)
    for shape in (a_shape[:-2], b_shape[:-2]):
        padded = (1,) * (len(batch) - len(shape)) + tuple(shape)
        flags = {p == f for p, f in zip(padded, batch) if f > 1}
        if len(flags) > 1:
            return True
    return False


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("a_shape,b_shape", SHAPES)
def test_plan_matches_numpy_matmul(a_shape, b_shape, dtype):
    rng = np.random.default_rng(len(a_shape) * 10 + a_shape[-1])
    for la, lb in itertools.product(LAYOUTS, LAYOUTS):
        a, a_flat, a_off, a_str = _operand(rng, a_shape, la, dtype)
        b, b_flat, b_off, b_str = _operand(rng, b_shape, lb, dtype)
        plan = cb.plan_gemm(a.shape, a_str, b.shape, b_str)
        if plan is None:   # only batch dims broadcast in part: gemm() copies them
            assert _partial_broadcast(a_shape, b_shape), (la, lb)
            batch = cb.broadcast_batch(a_shape, b_shape)
            a = np.ascontiguousarray(np.broadcast_to(a, batch + a_shape[-2:]))
            b = np.ascontiguousarray(np.broadcast_to(b, batch + b_shape[-2:]))
            (a_off, a_str), (b_off, b_str) = _view_info(a, a), _view_info(b, b)
            a_flat, b_flat = a.reshape(-1), b.reshape(-1)
            plan = cb.plan_gemm(a.shape, a_str, b.shape, b_str)
            assert plan is not None
        got = _emulate(plan, a_flat, a_off, b_flat, b_off, dtype)
        want = np.matmul(a, b)
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want, err_msg=f"{la} @ {lb}")


@pytest.mark.parametrize("a_shape,b_shape", [((3, 4, 5), (5, 6)), ((2, 3, 4, 5), (5, 2)),
                                             ((3, 4, 5), (3, 5, 6))])
def test_plan_broadcast_operand(a_shape, b_shape):
    """A broadcast (stride-0) batch operand, and the fold of a shared right operand
    into one (batch*M, K) product."""
    rng = np.random.default_rng(1)
    a, a_flat, a_off, a_str = _operand(rng, a_shape, "c", "float64")
    batch = cb.broadcast_batch(a_shape, b_shape)
    b, b_flat, b_off, b_str = _operand(rng, batch + b_shape[-2:], "bcast", "float64")
    plan = cb.plan_gemm(a.shape, a_str, b.shape, b_str)
    assert plan is not None
    np.testing.assert_array_equal(_emulate(plan, a_flat, a_off, b_flat, b_off, "float64"),
                                  np.matmul(a, b))
    # and the other way round: the left operand broadcast
    a2, a2_flat, a2_off, a2_str = _operand(rng, batch + a_shape[-2:][::-1][::-1], "bcast",
                                           "float64")
    b2, b2_flat, b2_off, b2_str = _operand(rng, batch + b_shape[-2:], "c", "float64")
    plan = cb.plan_gemm(a2.shape, a2_str, b2.shape, b2_str)
    assert plan is not None and plan.stride_b == 0
    np.testing.assert_array_equal(
        _emulate(plan, a2_flat, a2_off, b2_flat, b2_off, "float64"), np.matmul(a2, b2))


def test_dense_on_3d_input_is_one_gemm():
    plan = cb.plan_gemm((4, 3, 8), (24, 8, 1), (8, 5), (5, 1))
    assert plan.batch == 1 and plan.n == 12 and plan.m == 5 and plan.k == 8


def test_plan_rejects_uncovered_layouts():
    # neither unit row nor unit column stride (a strided slice of both axes)
    assert cb.plan_gemm((3, 4), (8, 2), (4, 5), (5, 1)) is None
    # a zero stride inside a matrix (broadcast rows)
    assert cb.plan_gemm((3, 4), (0, 1), (4, 5), (5, 1)) is None
    # batch dims that do not collapse to one stride
    assert cb.plan_gemm((2, 3, 3, 4), (100, 12, 4, 1), (4, 5), (5, 1)) is None
    # mismatched K, incompatible batch, empty products
    assert cb.plan_gemm((3, 4), (4, 1), (5, 5), (5, 1)) is None
    assert cb.plan_gemm((2, 3, 4), (12, 4, 1), (3, 4, 5), (20, 5, 1)) is None
    assert cb.plan_gemm((0, 4), (4, 1), (4, 5), (5, 1)) is None
    assert cb.plan_gemm((3, 0), (1, 1), (0, 5), (5, 1)) is None


def test_broadcast_batch():
    assert cb.broadcast_batch((2, 1, 3, 4), (5, 4, 6)) == (2, 5)
    assert cb.broadcast_batch((3, 4), (4, 6)) == ()
    assert cb.broadcast_batch((2, 3, 4), (3, 4, 6)) is None


def test_dtype_table_follows_cublas():
    # cuBLAS: 16F/16BF/32F inputs accumulate in COMPUTE_32F, 64F in COMPUTE_64F
    assert cb.DTYPES["float16"][1] == cb.DTYPES["bfloat16"][1] == cb.CUBLAS_COMPUTE_32F
    assert cb.DTYPES["float32"][1] == cb.CUBLAS_COMPUTE_32F
    assert cb.DTYPES["float64"][1] == cb.CUBLAS_COMPUTE_64F
    assert (cb.CUDA_R_32F, cb.CUDA_R_64F, cb.CUDA_R_16F, cb.CUDA_R_16BF) == (0, 1, 2, 14)


def test_signatures_declare_64bit_pointers_and_strides():
    import ctypes
    args = cb.SIGNATURES["cublasGemmStridedBatchedEx"][1]
    assert len(args) == 23
    assert [i for i, a in enumerate(args) if a is ctypes.c_longlong] == [10, 14, 19]
    assert len(cb.SIGNATURES["cublasGemmEx"][1]) == 19
