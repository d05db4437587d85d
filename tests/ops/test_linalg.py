"""Linear algebra ops against NumPy: matmul, tensordot, einsum, norm, inv, det, diag."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import DTypeMismatchError, InvalidArgumentError
from tests.helpers import check_op

RNG = np.random.default_rng(11)


def _r(*shape):
    return RNG.standard_normal(shape)


def _well_conditioned(*shape):
    n = shape[-1]
    return _r(*shape) + 3 * np.eye(n)


# ---------------------------------------------------------------- matmul
MATMUL_CASES = [
    ((2, 3), (3, 4), {}),
    ((3, 2), (3, 4), {"transpose_a": True}),
    ((2, 3), (4, 3), {"transpose_b": True}),
    ((3, 2), (4, 3), {"adjoint_a": True, "adjoint_b": True}),
    ((5, 2, 3), (5, 3, 4), {}),
    ((5, 1, 2, 3), (4, 3, 6), {}),  # batch broadcasting
    ((2, 3), (7, 3, 4), {}),
    ((0, 3), (3, 4), {}),
    ((2, 0), (0, 4), {}),
]


def _np_matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False,
               adjoint_b=False):
    if transpose_a or adjoint_a:
        a = np.swapaxes(a, -1, -2)
    if transpose_b or adjoint_b:
        b = np.swapaxes(b, -1, -2)
    return np.matmul(a, b)


@pytest.mark.parametrize("sa,sb,kw", MATMUL_CASES, ids=str)
def test_matmul(sa, sb, kw):
    check_op(lambda a, b: tf.matmul(a, b, **kw), [_r(*sa), _r(*sb)],
             lambda a, b: _np_matmul(a, b, **kw), rtol=1e-7)


def test_matmul_float32_int_and_operator():
    a, b = _r(2, 3).astype(np.float32), _r(3, 4).astype(np.float32)
    out = tf.constant(a) @ tf.constant(b)
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), a @ b, rtol=1e-5)
    ints = tf.matmul(tf.ones([2, 3], tf.int32), tf.ones([3, 4], tf.int32))
    assert ints.dtype == tf.int32
    np.testing.assert_array_equal(ints.numpy(), np.full((2, 4), 3))


def test_matmul_complex_adjoint():
    a = (_r(2, 3) + 1j * _r(2, 3)).astype(np.complex128)
    b = (_r(2, 4) + 1j * _r(2, 4)).astype(np.complex128)
    out = tf.matmul(tf.constant(a), tf.constant(b), adjoint_a=True)
    np.testing.assert_allclose(out.numpy(), a.conj().T @ b)


def test_matmul_errors():
    with pytest.raises(InvalidArgumentError, match="rank >= 2"):
        tf.matmul(tf.ones([3]), tf.ones([3, 4]))
    with pytest.raises(InvalidArgumentError, match=r"size-incompatible: In\[0\]: \[2, 3\]"):
        tf.matmul(tf.ones([2, 3]), tf.ones([4, 4]))
    with pytest.raises(InvalidArgumentError, match="compatible batch dimensions"):
        tf.matmul(tf.ones([2, 2, 3]), tf.ones([3, 3, 4]))
    with pytest.raises(DTypeMismatchError, match="float64"):
        tf.matmul(tf.ones([2, 3]), tf.ones([3, 4], tf.float64))
    with pytest.raises(InvalidArgumentError, match="bool"):
        tf.matmul(tf.ones([2, 2], tf.bool), tf.ones([2, 2], tf.bool))


def test_matmul_second_order():
    a, b = _r(2, 3), _r(3, 2)
    at, bt = tf.constant(a), tf.constant(b)
    with tf.GradientTape() as outer:
        outer.watch(at)
        with tf.GradientTape() as inner:
            inner.watch(at)
            y = tf.reduce_sum(tf.square(tf.matmul(at, bt)))
        g = inner.gradient(y, at)  # 2 (a b) b^T
        z = tf.reduce_sum(g)
    gg = outer.gradient(z, at).numpy()
    # d/da sum(2 a b b^T) = 2 * ones @ (b b^T)^T
    np.testing.assert_allclose(gg, 2 * np.ones((2, 3)) @ (b @ b.T).T)


def test_matvec_and_matrix_transpose():
    a, v = _r(4, 2, 3), _r(3)
    check_op(lambda x, y: tf.linalg.matvec(x, y), [a, v], lambda x, y: x @ y)
    check_op(lambda x: tf.linalg.matrix_transpose(x), [a], lambda x: np.swapaxes(x, -1, -2))
    z = tf.constant([[1 + 2j, 3j]])
    np.testing.assert_allclose(tf.linalg.adjoint(z).numpy(), [[1 - 2j], [-3j]])
    with pytest.raises(ValueError, match="rank >= 2"):
        tf.linalg.matrix_transpose(tf.ones([3]))


# ---------------------------------------------------------------- tensordot
TENSORDOT = [
    ((2, 3), (3, 4), 1),
    ((2, 3, 4), (3, 4, 5), 2),
    ((2, 3, 4), (4, 3, 5), [[1, 2], [1, 0]]),
    ((2, 3), (3, 4), [1, 0]),
    ((2,), (3,), 0),
    ((2, 3), (2, 3), [[0, 1], [0, 1]]),
]


@pytest.mark.parametrize("sa,sb,axes", TENSORDOT, ids=str)
def test_tensordot(sa, sb, axes):
    check_op(lambda a, b: tf.tensordot(a, b, axes), [_r(*sa), _r(*sb)],
             lambda a, b: np.tensordot(a, b, axes), rtol=1e-7)


def test_tensordot_errors_and_ints():
    with pytest.raises(ValueError, match="must not be larger"):
        tf.tensordot(tf.ones([2, 3]), tf.ones([3, 4]), axes=3)
    with pytest.raises(InvalidArgumentError, match="size-incompatible"):
        tf.tensordot(tf.ones([2, 3]), tf.ones([2, 4]), axes=1)
    out = tf.tensordot(tf.ones([2, 3], tf.int32), tf.ones([3, 4], tf.int32), axes=1)
    np.testing.assert_array_equal(out.numpy(), np.full((2, 4), 3))


# ---------------------------------------------------------------- einsum
EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(5, 2, 3), (5, 3, 4)]),
    ("...ij,...jk->...ik", [(5, 2, 3), (3, 4)]),
    ("...ij,...jk->...ik", [(5, 2, 3), (1, 3, 4)]),
    ("ij->ji", [(2, 3)]),
    ("ij->i", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("iij->ij", [(3, 3, 2)]),
    ("i,j->ij", [(2,), (3,)]),
    ("i,i->", [(4,), (4,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ij,k->ijk", [(2, 3), (2,)]),
    (" ab , bc -> ac ", [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM, ids=[e[0] for e in EINSUM])
def test_einsum(eq, shapes):
    arrays = [_r(*s) for s in shapes]
    check_op(lambda *xs: tf.einsum(eq, *xs), arrays,
             lambda *xs: np.einsum(eq.replace(" ", ""), *xs), rtol=1e-7)


def test_einsum_second_order():
    a, b = _r(2, 3), _r(3, 4)
    at, bt = tf.constant(a), tf.constant(b)
    with tf.GradientTape() as outer:
        outer.watch(at)
        with tf.GradientTape() as inner:
            inner.watch(at)
            y = tf.reduce_sum(tf.square(tf.einsum("ij,jk->ik", at, bt)))
        z = tf.reduce_sum(inner.gradient(y, at))
    np.testing.assert_allclose(outer.gradient(z, at).numpy(),
                               2 * np.ones((2, 3)) @ (b @ b.T).T)


def test_einsum_float32_int_and_errors():
    out = tf.einsum("ij,jk->ik", tf.ones([2, 3]), tf.ones([3, 4]))
    assert out.dtype == tf.float32
    ints = tf.einsum("ij,jk->ik", tf.ones([2, 3], tf.int32), tf.ones([3, 4], tf.int32))
    np.testing.assert_array_equal(ints.numpy(), np.full((2, 4), 3))
    with pytest.raises(InvalidArgumentError, match="Expected dimension 3"):
        tf.einsum("ij,jk->ik", tf.ones([2, 3]), tf.ones([2, 4]))
    with pytest.raises(InvalidArgumentError, match="Expected dimension"):
        tf.einsum("ij,ij->ij", tf.ones([2, 1]), tf.ones([2, 3]))
    with pytest.raises(ValueError, match="expecting 2"):
        tf.einsum("ij,jk->ik", tf.ones([2, 3]))
    with pytest.raises(InvalidArgumentError, match="rank 3"):
        tf.einsum("ijk,jk->i", tf.ones([2, 3]), tf.ones([3, 4]))
    with pytest.raises(DTypeMismatchError, match="float64"):
        tf.einsum("ij,jk->ik", tf.ones([2, 3]), tf.ones([3, 4], tf.float64))


# ---------------------------------------------------------------- norm
NORMS = [
    ("euclidean", None, False),
    ("euclidean", 1, True),
    (2, 0, False),
    (1, -1, False),
    (np.inf, 1, False),
    (3, 1, True),
    (0.5, 0, False),
    ("fro", (0, 1), False),
    ("euclidean", [1, 2], True),
    (1, (0, 1), False),
    (np.inf, (1, 0), True),
    (2, (0, 1), False),
    (2, (2, 1), True),
]


def _np_norm(x, ord, axis, keepdims):  # noqa: A002
    if axis is None:
        return np.linalg.norm(x.reshape(-1), keepdims=False)
    if isinstance(axis, (list, tuple)):
        o = "fro" if ord == "euclidean" else ord
        return np.linalg.norm(x, ord=o, axis=tuple(axis), keepdims=keepdims)
    return np.linalg.norm(x, ord=2 if ord == "euclidean" else ord, axis=axis,
                          keepdims=keepdims)


@pytest.mark.parametrize("ord,axis,keepdims", NORMS, ids=str)
def test_norm(ord, axis, keepdims):  # noqa: A002
    x = RNG.uniform(0.5, 2.0, (3, 4, 2)) * RNG.choice([-1, 1], (3, 4, 2))
    if isinstance(axis, (list, tuple)) and ord == 2:
        x = x[..., 0] if axis == (0, 1) else x
    check_op(lambda v: tf.norm(v, ord=ord, axis=axis, keepdims=keepdims), [x],
             lambda v: _np_norm(v, ord, axis, keepdims), rtol=1e-7)
    assert tf.linalg.norm is tf.norm


def test_norm_dtypes_and_errors():
    x = tf.constant([[3.0, -4.0], [1.0, 1.0]])
    assert tf.norm(x).dtype == tf.float32
    assert tf.norm(x).numpy() == pytest.approx(np.sqrt(27))
    z = tf.norm(tf.constant([3 + 4j]))
    assert z.dtype == tf.complex128 and z.numpy() == pytest.approx(5)
    with pytest.raises(InvalidArgumentError, match="int32"):
        tf.norm(tf.constant([3, 4]))
    with pytest.raises(ValueError, match="supported matrix norm"):
        tf.norm(x, ord=3, axis=[0, 1])
    with pytest.raises(ValueError, match="supported matrix norm"):
        tf.norm(x, ord="nuc", axis=[0, 1])
    with pytest.raises(ValueError, match="supported vector norm"):
        tf.norm(x, ord="fro", axis=1)
    with pytest.raises(ValueError, match="supported vector norm"):
        tf.norm(x, ord="fro")
    with pytest.raises(ValueError, match="supported vector norm"):
        tf.norm(x, ord=-1)


# ---------------------------------------------------------------- inv, det, solve
def test_inv():
    a = _well_conditioned(2, 3, 3)
    check_op(tf.linalg.inv, [a], np.linalg.inv, rtol=1e-7, grad_rtol=1e-5)
    check_op(lambda v: tf.linalg.inv(v, adjoint=True), [a[0]],
             lambda v: np.linalg.inv(v.T), rtol=1e-7)
    assert tf.linalg.inv(tf.constant(a.astype(np.float32))).dtype == tf.float32
    with pytest.raises(InvalidArgumentError, match="not invertible"):
        tf.linalg.inv(tf.constant([[1.0, 1.0], [1.0, 1.0]]))
    with pytest.raises(InvalidArgumentError, match="int32"):
        tf.linalg.inv(tf.constant([[1, 0], [0, 1]]))
    with pytest.raises(InvalidArgumentError, match="square"):
        tf.linalg.inv(tf.ones([2, 3]))


def test_det_slogdet_logdet():
    a = _well_conditioned(2, 3, 3)
    check_op(tf.linalg.det, [a], np.linalg.det, rtol=1e-7)
    check_op(lambda v: tf.linalg.slogdet(v)[1], [a], lambda v: np.linalg.slogdet(v)[1],
             rtol=1e-7)
    sign, _ = tf.linalg.slogdet(tf.constant(a))
    np.testing.assert_array_equal(sign.numpy(), np.linalg.slogdet(a)[0])
    spd = a @ np.swapaxes(a, -1, -2)
    # logdet reads the lower triangle (Cholesky, as TF) and its gradient is symmetric:
    # differentiate it through a symmetrization
    check_op(lambda v: tf.linalg.logdet((v + tf.linalg.matrix_transpose(v)) / 2), [spd],
             lambda v: np.linalg.slogdet(v)[1], rtol=1e-7)
    assert tf.linalg.det(tf.ones([0, 0])).numpy() == 1.0
    with pytest.raises(InvalidArgumentError, match="square"):
        tf.linalg.det(tf.ones([2, 3]))
    with pytest.raises(InvalidArgumentError, match="int32"):
        tf.linalg.det(tf.ones([2, 2], tf.int32))


def test_solve():
    a, b = _well_conditioned(2, 3, 3), _r(2, 3, 2)
    check_op(tf.linalg.solve, [a, b], np.linalg.solve, rtol=1e-7)
    check_op(lambda x, y: tf.linalg.solve(x, y, adjoint=True), [a, b],
             lambda x, y: np.linalg.solve(np.swapaxes(x, -1, -2), y), rtol=1e-7)
    with pytest.raises(InvalidArgumentError, match="not invertible"):
        tf.linalg.solve(tf.constant([[1.0, 1.0], [1.0, 1.0]]), tf.constant([[2.0], [4.0]]))


# ---------------------------------------------------------------- diagonals, trace
def test_diag_diag_part_trace_set_diag():
    v = _r(2, 3)
    check_op(tf.linalg.diag, [v], lambda u: u[..., :, None] * np.eye(3))
    check_op(lambda u: tf.linalg.diag(u, num_rows=4), [v],
             lambda u: np.concatenate([u[..., :, None] * np.eye(3), np.zeros((2, 1, 3))],
                                      axis=-2))
    x = _r(2, 3, 4)
    check_op(tf.linalg.diag_part, [x], lambda u: np.diagonal(u, axis1=-2, axis2=-1))
    check_op(tf.linalg.trace, [x], lambda u: np.trace(u, axis1=-2, axis2=-1))
    check_op(tf.linalg.set_diag, [x, v], lambda u, d: u * (1 - np.eye(3, 4)) +
             np.concatenate([d[..., :, None] * np.eye(3), np.zeros((2, 3, 1))], axis=-1))
    assert tf.linalg.trace(tf.ones([3, 3], tf.int32)).numpy() == 3
    np.testing.assert_array_equal(
        tf.linalg.diag(tf.constant([1, 2])).numpy(), [[1, 0], [0, 2]])
    with pytest.raises(InvalidArgumentError, match="at least 2-dim"):
        tf.linalg.diag_part(tf.constant([1, 2]))
    with pytest.raises(InvalidArgumentError, match="at least 2-dim"):
        tf.linalg.trace(tf.constant([1, 2]))


def test_linalg_table():
    for n in ("adjoint", "det", "diag", "diag_part", "einsum", "global_norm", "inv",
              "logdet", "matmul", "matrix_transpose", "matvec", "norm", "set_diag",
              "slogdet", "solve", "tensordot", "trace"):
        assert callable(getattr(tf.linalg, n)), n
    assert tf.linalg.matmul is tf.matmul and tf.linalg.einsum is tf.einsum
    assert tf.linalg.tensordot is tf.tensordot
