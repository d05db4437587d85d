"""Every method of every LinearOperator class against NumPy on the dense matrix."""

import numpy as np
import pytest

import dlframe as tf
from tests.linear_operator.linop_cases import CASES

RNG = np.random.default_rng(7)


def _adj(x):
    return np.conj(np.swapaxes(x, -1, -2))


def _operator(case):
    return case.build(*[tf.constant(p) for p in case.params]), case.dense(*case.params)


def _random(shape, dtype):
    x = RNG.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * RNG.standard_normal(shape)
    return x.astype(dtype)


def _close(got, expect, rtol=1e-8, atol=1e-9):
    got = got.numpy() if hasattr(got, "numpy") else got
    expect = np.asarray(expect)
    assert got.shape == expect.shape, f"shape {got.shape} != {expect.shape}"
    np.testing.assert_allclose(got, expect, rtol=rtol, atol=atol)


@pytest.fixture(params=CASES, ids=[c.name for c in CASES])
def case(request):
    return request.param


def test_shape_and_to_dense(case):
    op, dense = _operator(case)
    assert tuple(op.shape) == dense.shape
    assert op.batch_shape == dense.shape[:-2]
    assert op.range_dimension == dense.shape[-2]
    assert op.domain_dimension == dense.shape[-1]
    assert op.domain_dimension.value == dense.shape[-1]
    assert op.tensor_rank == dense.ndim
    np.testing.assert_array_equal(op.shape_tensor().numpy(), dense.shape)
    np.testing.assert_array_equal(op.batch_shape_tensor().numpy(), dense.shape[:-2])
    assert int(op.domain_dimension_tensor()) == dense.shape[-1]
    assert int(op.range_dimension_tensor()) == dense.shape[-2]
    assert int(op.tensor_rank_tensor()) == dense.ndim
    assert op.dtype.as_numpy_dtype == dense.dtype
    assert op.is_square == (dense.shape[-1] == dense.shape[-2])
    _close(op.to_dense(), dense)


@pytest.mark.parametrize("adjoint", [False, True])
@pytest.mark.parametrize("adjoint_arg", [False, True])
def test_matmul_broadcasts_batch(case, adjoint, adjoint_arg):
    op, dense = _operator(case)
    a = _adj(dense) if adjoint else dense
    x = _random((3, 1, a.shape[-1], 2), dense.dtype)
    arg = _adj(x) if adjoint_arg else x
    _close(op.matmul(arg, adjoint=adjoint, adjoint_arg=adjoint_arg), a @ x)
    if not adjoint and not adjoint_arg:
        _close(op @ x, a @ x)


@pytest.mark.parametrize("adjoint", [False, True])
def test_matvec(case, adjoint):
    op, dense = _operator(case)
    a = _adj(dense) if adjoint else dense
    v = _random((a.shape[-1],), dense.dtype)
    _close(op.matvec(v, adjoint=adjoint), a @ v)


@pytest.mark.parametrize("adjoint", [False, True])
@pytest.mark.parametrize("adjoint_arg", [False, True])
def test_solve(case, adjoint, adjoint_arg):
    if not case.solvable:
        pytest.skip("not invertible")
    op, dense = _operator(case)
    a = _adj(dense) if adjoint else dense
    rhs = _random(dense.shape[:-1] + (2,), dense.dtype)
    arg = _adj(rhs) if adjoint_arg else rhs
    _close(op.solve(arg, adjoint=adjoint, adjoint_arg=adjoint_arg),
           np.linalg.solve(a, rhs), rtol=1e-7)
    vec = _random(dense.shape[:-1], dense.dtype)
    _close(op.solvevec(vec, adjoint=adjoint), np.linalg.solve(a, vec[..., None])[..., 0],
           rtol=1e-7)


def test_scalars(case):
    op, dense = _operator(case)
    _close(op.diag_part(), np.diagonal(dense, axis1=-2, axis2=-1))
    _close(op.trace(), np.trace(dense, axis1=-2, axis2=-1))
    x = _random(dense.shape, dense.dtype)
    _close(op.add_to_tensor(x), dense + x)
    if dense.shape[-1] != dense.shape[-2]:
        with pytest.raises(NotImplementedError, match="not be square"):
            op.determinant()
        return
    _close(op.determinant(), np.linalg.det(dense), rtol=1e-7)
    if case.solvable:
        _close(op.log_abs_determinant(), np.linalg.slogdet(dense)[1], rtol=1e-7)
        _close(op.cond(), np.linalg.cond(dense), rtol=1e-6)


def test_eigvals(case):
    op, dense = _operator(case)
    if not case.self_adjoint:
        if op.is_self_adjoint is None:
            with pytest.raises(NotImplementedError, match="self-adjoint"):
                op.eigvals()
        return
    _close(np.sort(op.eigvals().numpy().real, -1), np.linalg.eigvalsh(dense))


def test_derived_operators(case):
    op, dense = _operator(case)
    _close(op.adjoint().to_dense(), _adj(dense))
    _close(op.H.to_dense(), _adj(dense))
    product = op @ op.adjoint()
    assert isinstance(product, tf.linalg.LinearOperator)
    _close(product.to_dense(), dense @ _adj(dense), rtol=1e-7)
    if case.solvable:
        inv = op.inverse()
        _close(inv.to_dense(), np.linalg.inv(dense), rtol=1e-7)
        _close(inv.inverse().to_dense(), dense, rtol=1e-7)
        solved = op.solve(op)
        _close(solved.to_dense(), np.broadcast_to(np.eye(dense.shape[-1]), dense.shape),
               atol=1e-8)
    if case.positive_definite:
        chol = op.cholesky()
        _close(chol.to_dense(), np.linalg.cholesky(dense), rtol=1e-7)


def test_assertions_pass_on_valid_operators(case):
    op, _ = _operator(case)
    if case.solvable:
        op.assert_non_singular()
    if case.positive_definite:
        op.assert_positive_definite()
    if case.self_adjoint:
        op.assert_self_adjoint()
