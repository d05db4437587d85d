"""keras.ops creation, shape manipulation, indexing and linear algebra against
NumPy, with gradients for a sample and eager == function."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.keras import ops
from tests.helpers import check_function_matches_eager, check_grad

RNG = np.random.default_rng(1)


def test_creation_defaults_and_values():
    # dtypes from TF 2.21 / Keras 3
    assert ops.arange(5).dtype == tf.int32
    assert ops.arange(0.0, 2.0, 0.5).dtype == tf.float32
    assert ops.linspace(0, 1, 5).dtype == tf.float32
    assert ops.zeros((2,)).dtype == tf.float32
    assert ops.full((2,), 3).dtype == tf.float32
    assert ops.eye(2).dtype == tf.float32 and ops.tri(2).dtype == tf.float32
    assert ops.array([1, 2]).dtype == tf.int32 and ops.array([1.0]).dtype == tf.float32
    assert ops.ones_like(tf.constant([1, 2])).dtype == tf.int32
    for args in [(5,), (1, 10, 3), (5, 0, -1), (0.0, 1.0, 0.1), (2, 7)]:
        np.testing.assert_allclose(ops.arange(*args).numpy(), np.arange(*args),
                                   rtol=1e-6)
    np.testing.assert_allclose(ops.linspace(0, 1, 7, endpoint=False).numpy(),
                               np.linspace(0, 1, 7, endpoint=False), rtol=1e-6)
    np.testing.assert_allclose(ops.linspace([0.0, 1.0], [2.0, 5.0], 3, axis=-1).numpy(),
                               np.linspace([0, 1], [2, 5], 3, axis=-1))
    seq, step = ops.linspace(0.0, 1.0, 5, retstep=True)
    assert abs(float(step) - 0.25) < 1e-7 and seq.numpy()[-1] == 1.0
    for k in (-1, 0, 2):
        np.testing.assert_array_equal(ops.eye(3, 4, k).numpy(), np.eye(3, 4, k))
        np.testing.assert_array_equal(ops.tri(3, 4, k).numpy(), np.tri(3, 4, k))
    np.testing.assert_array_equal(ops.full((2, 3), [1, 2, 3], dtype="int32").numpy(),
                                  np.full((2, 3), [1, 2, 3]))
    np.testing.assert_array_equal(ops.full_like(np.ones((2, 2), np.int8), 7).numpy(),
                                  np.full((2, 2), 7, np.int8))
    np.testing.assert_allclose(ops.logspace(0, 2, 3).numpy(), [1, 10, 100], rtol=1e-6)
    np.testing.assert_allclose(ops.identity(3).numpy(), np.identity(3))
    assert ops.shape(tf.zeros((2, 3))) == (2, 3) and ops.ndim(tf.zeros((2, 3))) == 2
    assert int(ops.size(tf.zeros((2, 3)))) == 6
    with pytest.raises(ValueError, match="step"):
        ops.arange(0, 5, 0)
    with pytest.raises(TypeError, match="N"):
        ops.eye(2.5)


def test_linspace_gradient_to_bounds():
    check_grad(lambda a, b: ops.linspace(a, b, 5), [np.array(0.3), np.array(2.0)])


X = np.arange(24.0).reshape(2, 3, 4)


@pytest.mark.parametrize("fn,ref", [
    (lambda x: ops.reshape(x, (4, -1)), lambda x: np.reshape(x, (4, -1))),
    (lambda x: ops.transpose(x), np.transpose),
    (lambda x: ops.transpose(x, (1, 0, 2)), lambda x: np.transpose(x, (1, 0, 2))),
    (lambda x: ops.expand_dims(x, (0, -1)), lambda x: np.expand_dims(x, (0, -1))),
    (lambda x: ops.squeeze(x[:, :1], 1), lambda x: np.squeeze(x[:, :1], 1)),
    (lambda x: ops.swapaxes(x, 0, 2), lambda x: np.swapaxes(x, 0, 2)),
    (lambda x: ops.moveaxis(x, [0, 1], [2, 0]), lambda x: np.moveaxis(x, [0, 1], [2, 0])),
    (lambda x: ops.ravel(x), np.ravel),
    (lambda x: ops.flip(x), np.flip),
    (lambda x: ops.flip(x, (0, 2)), lambda x: np.flip(x, (0, 2))),
    (lambda x: ops.roll(x, 5), lambda x: np.roll(x, 5)),
    (lambda x: ops.roll(x, -1, axis=1), lambda x: np.roll(x, -1, axis=1)),
    (lambda x: ops.tile(x, (2, 1, 1, 2)), lambda x: np.tile(x, (2, 1, 1, 2))),
    (lambda x: ops.tile(x, 2), lambda x: np.tile(x, 2)),
    (lambda x: ops.repeat(x, 2, axis=1), lambda x: np.repeat(x, 2, axis=1)),
    (lambda x: ops.repeat(x, 2), lambda x: np.repeat(x, 2)),
    (lambda x: ops.concatenate([x, x], axis=-1), lambda x: np.concatenate([x, x], -1)),
    (lambda x: ops.concatenate([x, x], axis=None), lambda x: np.concatenate([x, x],
                                                                            None)),
    (lambda x: ops.stack([x, x], axis=1), lambda x: np.stack([x, x], 1)),
    (lambda x: ops.append(x, x, axis=0), lambda x: np.append(x, x, axis=0)),
    (lambda x: ops.vstack([x[0], x[1]]), lambda x: np.vstack([x[0], x[1]])),
    (lambda x: ops.hstack([x[0], x[1]]), lambda x: np.hstack([x[0], x[1]])),
    (lambda x: ops.dstack([x[0], x[1]]), lambda x: np.dstack([x[0], x[1]])),
    (lambda x: ops.diff(x, 2, axis=2), lambda x: np.diff(x, 2, axis=2)),
    (lambda x: ops.rot90(x, 1, (1, 2)), lambda x: np.rot90(x, 1, (1, 2))),
    (lambda x: ops.rot90(x, 3), lambda x: np.rot90(x, 3)),
    (lambda x: ops.broadcast_to(x[0, 0], (2, 4)), lambda x: np.broadcast_to(x[0, 0],
                                                                            (2, 4))),
    (lambda x: ops.take(x, [0, -1], axis=1), lambda x: np.take(x, [0, -1], axis=1)),
    (lambda x: ops.take(x, [[3, 5]]), lambda x: np.take(x, [[3, 5]])),
    (lambda x: ops.tril(x, -1), lambda x: np.tril(x, -1)),
    (lambda x: ops.triu(x, 1), lambda x: np.triu(x, 1)),
    (lambda x: ops.diagonal(x, 1, 1, 2), lambda x: np.diagonal(x, 1, 1, 2)),
    (lambda x: ops.diagonal(x, -1, 0, 2), lambda x: np.diagonal(x, -1, 0, 2)),
    (lambda x: ops.trace(x, 0, 1, 2), lambda x: np.trace(x, 0, 1, 2)),
    (lambda x: ops.diag(x[0], 1), lambda x: np.diag(x[0], 1)),
    (lambda x: ops.diag(x[0, 0], -2), lambda x: np.diag(x[0, 0], -2)),
    (lambda x: ops.get_item(x, (slice(None), 1)), lambda x: x[:, 1]),
])
def test_shape_functions_match_numpy(fn, ref):
    np.testing.assert_array_equal(fn(X).numpy(), ref(X))


def test_split_pad_and_selection():
    for got, want in [(ops.split(X, 2, axis=2), np.split(X, 2, axis=2)),
                      (ops.split(X, [1, 3], axis=-1), np.split(X, [1, 3], axis=-1)),
                      (ops.array_split(X, 3, axis=2), np.array_split(X, 3, axis=2))]:
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w)
    with pytest.raises(tf.errors.InvalidArgumentError, match="evenly divide"):
        ops.split(X, 3, axis=2)   # (TF's Split kernel error, not NumPy's ValueError)
    m = X[0]
    for mode in ("constant", "reflect", "symmetric", "edge", "wrap"):
        np.testing.assert_array_equal(ops.pad(m, ((1, 2), (2, 1)), mode).numpy(),
                                      np.pad(m, ((1, 2), (2, 1)), mode))
    np.testing.assert_array_equal(ops.pad(m, 1, constant_values=7).numpy(),
                                  np.pad(m, 1, constant_values=7))
    with pytest.raises(ValueError, match="mode"):
        ops.pad(m, 1, mode="median")
    idx = np.argsort(X, axis=2)[..., :2]
    np.testing.assert_array_equal(ops.take_along_axis(X, idx, axis=2).numpy(),
                                  np.take_along_axis(X, idx, axis=2))
    one = np.zeros((1, 3, 1), np.int64)
    np.testing.assert_array_equal(ops.take_along_axis(X, one, axis=0).numpy(),
                                  np.take_along_axis(X, one, axis=0))
    z = np.array([[0, 1], [2, 0]])
    for g, w in zip(ops.nonzero(z), np.nonzero(z)):
        np.testing.assert_array_equal(g.numpy(), w)
    conds = [np.array([True, False, False]), np.array([False, True, False])]
    choices = [np.array([1, 2, 3]), np.array([4, 5, 6])]
    np.testing.assert_array_equal(ops.select(conds, choices, 9).numpy(),
                                  np.select(conds, choices, 9))
    np.testing.assert_array_equal(ops.searchsorted([1, 2, 3], [[2.5, 0], [3, 1]],
                                                   side="right").numpy(),
                                  np.searchsorted([1, 2, 3], [[2.5, 0], [3, 1]], "right"))
    np.testing.assert_array_equal(ops.digitize([0.5, 1.5, 3.0], [0, 1, 2]).numpy(),
                                  np.digitize([0.5, 1.5, 3.0], [0, 1, 2]))
    np.testing.assert_array_equal(ops.bincount([0, 1, 1, 3], minlength=6).numpy(),
                                  np.bincount([0, 1, 1, 3], minlength=6))
    for g, w in zip(ops.unravel_index([5, 7], (2, 4)), np.unravel_index([5, 7], (2, 4))):
        np.testing.assert_array_equal(g.numpy(), w)
    grids = ops.meshgrid(np.arange(3), np.arange(2.0))
    for g, w in zip(grids, np.meshgrid(np.arange(3), np.arange(2.0))):
        np.testing.assert_array_equal(g.numpy(), w)


def test_shape_gradients():
    x = RNG.standard_normal((2, 3, 4))
    check_grad(lambda v: ops.take_along_axis(v, np.argsort(x, axis=1), axis=1), [x])
    check_grad(lambda v: ops.pad(v, ((0, 0), (1, 1), (2, 0)), "reflect"), [x])
    check_grad(lambda v: ops.pad(v, 1, "edge"), [x[0]])
    check_grad(lambda v: ops.triu(ops.moveaxis(v, 0, -1), 1), [x])
    check_grad(lambda v: ops.trace(v, 1, 1, 2), [x])
    check_grad(lambda a, b: ops.where(a > 0, a, b), [x, x[0, 0]])


PRODUCTS = [
    (lambda: (RNG.random((2, 3, 4)), RNG.random((4, 5))), "dot"),
    (lambda: (RNG.random((2, 3, 4)), RNG.random(4)), "dot"),
    (lambda: (RNG.random(4), RNG.random(4)), "dot"),
    (lambda: (RNG.random((3, 4)), RNG.random((2, 4, 5))), "dot"),
    (lambda: (RNG.random(4), RNG.random((4, 5))), "matmul"),
    (lambda: (RNG.random((2, 1, 3, 4)), RNG.random((5, 4, 2))), "matmul"),
    (lambda: (RNG.random((2, 3)), RNG.random(4)), "outer"),
    (lambda: (RNG.random((2, 3)), RNG.random((4, 3))), "inner"),
    (lambda: (RNG.random((2, 3)), RNG.random((2, 3))), "vdot"),
    (lambda: (RNG.random((2, 2)), RNG.random((3, 1))), "kron"),
    (lambda: (RNG.random((4, 3)), RNG.random((4, 3))), "cross"),
]


@pytest.mark.parametrize("make,name", PRODUCTS)
def test_products_match_numpy(make, name):
    a, b = make()
    np.testing.assert_allclose(getattr(ops, name)(a, b).numpy(), getattr(np, name)(a, b),
                               rtol=1e-12)
    check_grad(getattr(ops, name), [a, b], rtol=1e-4, atol=1e-7)


def test_einsum_tensordot_and_int_matmul():
    a, b = RNG.random((2, 3, 4)), RNG.random((4, 3, 5))
    np.testing.assert_allclose(ops.einsum("ijk,kjl->il", a, b).numpy(),
                               np.einsum("ijk,kjl->il", a, b))
    np.testing.assert_allclose(ops.tensordot(a, b, axes=[[1, 2], [1, 0]]).numpy(),
                               np.tensordot(a, b, axes=[[1, 2], [1, 0]]))
    out = ops.matmul(np.ones((2, 2), np.int32), np.ones((2, 2), np.int32))
    assert out.dtype == tf.int32   # from TF 2.21 / Keras 3
    with pytest.raises(ValueError, match="scalars"):
        ops.matmul(2.0, np.ones(2))


@pytest.mark.parametrize("ord_", [None, 1, 2, np.inf, -np.inf, 0, 3])
def test_vector_norms(ord_):
    x = RNG.standard_normal((2, 3, 4))
    np.testing.assert_allclose(ops.norm(x, ord_, axis=1).numpy(),
                               np.linalg.norm(x, ord_, axis=1))


@pytest.mark.parametrize("ord_", [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf])
def test_matrix_norms(ord_):
    x = RNG.standard_normal((2, 3, 4))
    np.testing.assert_allclose(ops.norm(x, ord_, axis=(2, 0), keepdims=True).numpy(),
                               np.linalg.norm(x, ord_, axis=(2, 0), keepdims=True),
                               rtol=1e-10)
    np.testing.assert_allclose(ops.linalg.norm(x[0], ord_).numpy(),
                               np.linalg.norm(x[0], ord_), rtol=1e-10)


def test_linalg_decompositions():
    m = RNG.standard_normal((3, 4))
    spd = m @ m.T + np.eye(3)
    v = RNG.standard_normal(3)
    u, s, vh = ops.linalg.svd(m)
    assert u.shape == (3, 3) and vh.shape == (4, 4)
    np.testing.assert_allclose((u.numpy() * s.numpy()) @ vh.numpy()[:3], m, atol=1e-10)
    np.testing.assert_allclose(ops.linalg.svd(m, compute_uv=False).numpy(),
                               np.linalg.svd(m, compute_uv=False))
    w, vecs = ops.linalg.eigh(spd)
    np.testing.assert_allclose(w.numpy(), np.linalg.eigh(spd)[0])
    np.testing.assert_allclose(spd @ vecs.numpy(), vecs.numpy() * w.numpy(), atol=1e-10)
    q, r = ops.qr(m, mode="complete")
    assert q.shape == (3, 3) and r.shape == (3, 4)
    np.testing.assert_allclose(q.numpy() @ r.numpy(), m, atol=1e-10)
    np.testing.assert_allclose(ops.linalg.inv(spd).numpy(), np.linalg.inv(spd))
    np.testing.assert_allclose(ops.linalg.det(spd).numpy(), np.linalg.det(spd))
    np.testing.assert_allclose(ops.linalg.cholesky(spd).numpy(), np.linalg.cholesky(spd))
    np.testing.assert_allclose(ops.solve(spd, v).numpy(), np.linalg.solve(spd, v))
    low = np.tril(spd)
    np.testing.assert_allclose(ops.linalg.solve_triangular(low, v, lower=True).numpy(),
                               np.linalg.solve(low, v))
    rhs = RNG.standard_normal(4)
    np.testing.assert_allclose(ops.linalg.lstsq(m.T, rhs).numpy(),
                               np.linalg.lstsq(m.T, rhs, rcond=None)[0])
    sign, logabs = ops.slogdet(spd)
    np.testing.assert_allclose([float(sign), float(logabs)], np.linalg.slogdet(spd))
    np.testing.assert_allclose(ops.logdet(spd).numpy(), np.linalg.slogdet(spd)[1])
    np.testing.assert_allclose(ops.linalg.pinv(m).numpy(), np.linalg.pinv(m), atol=1e-10)
    check_grad(lambda a: ops.linalg.inv(a), [spd], rtol=1e-4)
    check_grad(lambda a, b: ops.solve(a, b), [spd, v], rtol=1e-4)


def test_shape_functions_trace_like_eager():
    x = RNG.standard_normal((2, 3, 4)).astype(np.float32)

    def f(v):
        a = ops.concatenate([ops.flip(v, 1), ops.roll(v, 1, axis=2)], axis=-1)
        b = ops.tile(ops.expand_dims(ops.mean(a, axis=0), 0), (2, 1, 1))
        return [ops.reshape(b, (2, -1)), ops.take(a, [1, 0], axis=2),
                ops.tril(ops.matmul(v, ops.swapaxes(v, 1, 2))), ops.norm(v, axis=-1)]
    check_function_matches_eager(f, [x])
