"""Gradients reach the operators' parameters (vs float64 central differences), and
tf.function gives the eager results."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_function_matches_eager, check_grad
from tests.linear_operator.linop_cases import CASES

RNG = np.random.default_rng(11)
GRAD_CASES = [c for c in CASES if c.grad]


def _outputs(case):
    """A function of the parameters returning every differentiable result."""
    dense = case.dense(*case.params)
    x = RNG.standard_normal((dense.shape[-1], 2))
    rhs = RNG.standard_normal((dense.shape[-2], 2))

    def fn(*params):
        op = case.build(*params)
        outs = [op.to_dense(), op.matmul(tf.constant(x)),
                op.matmul(tf.constant(rhs), adjoint=True), op.diag_part()]
        if case.solvable:
            outs += [op.solve(tf.constant(rhs)), op.log_abs_determinant(),
                     op.determinant()]
        return outs
    return fn


@pytest.mark.parametrize("case", GRAD_CASES, ids=[c.name for c in GRAD_CASES])
def test_gradients_match_finite_differences(case):
    check_grad(_outputs(case), case.params, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_function_matches_eager(case):
    dense = case.dense(*case.params)
    x = RNG.standard_normal((dense.shape[-1], 2)).astype(dense.dtype)

    def fn(*params):
        op = case.build(*params)
        outs = [op.to_dense(), op.matmul(tf.constant(x)), op.diag_part(), op.trace()]
        if case.solvable:
            outs += [op.solve(tf.constant(x)), op.log_abs_determinant()]
        return outs
    check_function_matches_eager(fn, case.params, rtol=1e-9, atol=1e-9)


def test_variables_are_tracked_and_trained():
    """A Variable inside an operator: found by trainable_variables, read at each
    use, and an optimizer fitting ``A^H A b`` to a target converges."""
    diag = tf.Variable([1.0, 1.0, 1.0], dtype=tf.float64)
    op = tf.linalg.LinearOperatorDiag(diag)
    assert op.trainable_variables == (diag,)
    assert op.diag is diag
    target = np.array([2.0, 4.0, 0.5])
    b = tf.constant([1.0, 1.0, 1.0], dtype=tf.float64)
    opt = tf.keras.optimizers.SGD(learning_rate=0.05)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum((op.matvec(op.matvec(b), adjoint=True) - target) ** 2)
        grads = tape.gradient(loss, op.trainable_variables)
        opt.apply_gradients(zip(grads, op.trainable_variables))
        return loss

    for _ in range(300):
        loss = step()
    assert float(loss) < 1e-8
    np.testing.assert_allclose(diag.numpy() ** 2, target, rtol=1e-4)


def test_variable_gradient_through_nested_operators():
    a = tf.Variable(np.eye(2) * 2.0 + 0.1)
    d = tf.Variable([1.0, 3.0], dtype=tf.float64)
    op = tf.linalg.LinearOperatorKronecker([
        tf.linalg.LinearOperatorFullMatrix(a), tf.linalg.LinearOperatorDiag(d)])
    assert {id(v) for v in op.trainable_variables} == {id(a), id(d)}
    with tf.GradientTape() as tape:
        y = op.log_abs_determinant()
    ga, gd = tape.gradient(y, [a, d])
    # d/dA log|det(A (x) D)| = n_D * A^-T ; d/dd = n_A / d
    np.testing.assert_allclose(ga.numpy(), 2 * np.linalg.inv(a.numpy()).T, rtol=1e-10)
    np.testing.assert_allclose(gd.numpy(), 2 / d.numpy(), rtol=1e-10)
    a.assign(np.eye(2) * 3.0)   # the operator reads the Variable's new value
    np.testing.assert_allclose(op.to_dense().numpy()[0, 0], 3.0)


def test_operator_as_tf_function_argument():
    f = tf.function(lambda op, x: op.matvec(x))
    d1 = tf.linalg.LinearOperatorDiag([1.0, 2.0])
    d2 = tf.linalg.LinearOperatorDiag([3.0, 4.0])
    np.testing.assert_allclose(f(d1, tf.ones(2)).numpy(), [1.0, 2.0])
    np.testing.assert_allclose(f(d2, tf.ones(2)).numpy(), [3.0, 4.0])
