"""LinearOperatorAdjoint and LinearOperatorInversion share their construction
(``DerivedOperator``): the operator check, inherited hints and default names."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.linear_operator.inversion import DerivedOperator

LA = tf.linalg


def _op(**hints):
    return LA.LinearOperatorFullMatrix(np.array([[2.0, 1.0], [0.0, 3.0]]), name="m",
                                       **hints)


@pytest.mark.parametrize("cls, suffix", [(LA.LinearOperatorAdjoint, "_adjoint"),
                                         (LA.LinearOperatorInversion, "_inv")])
def test_derived_operators_share_construction(cls, suffix):
    op = _op(is_non_singular=True)
    derived = cls(op)
    assert isinstance(derived, DerivedOperator)
    assert derived.operator is op and derived.name == "m" + suffix
    assert derived.is_non_singular is True
    assert cls(op, name="x").name == "x"
    assert derived.parameters["operator"] is op
    with pytest.raises(TypeError, match="must be a LinearOperator"):
        cls(np.eye(2))
    with pytest.raises(ValueError, match="non-singular"):
        cls(op, is_non_singular=False)


def test_adjoint_and_inverse_values():
    a = np.array([[2.0, 1.0], [0.0, 3.0]])
    np.testing.assert_allclose(LA.LinearOperatorAdjoint(_op()).to_dense().numpy(), a.T)
    np.testing.assert_allclose(LA.LinearOperatorInversion(_op()).to_dense().numpy(),
                               np.linalg.inv(a), rtol=1e-12)


def test_inversion_refuses_an_operator_hinted_singular_or_non_square():
    with pytest.raises(ValueError, match="is_non_singular"):
        LA.LinearOperatorInversion(_op(is_non_singular=False))
    # an explicit hint overrides the check, then must agree with the operator's
    with pytest.raises(ValueError, match="non-singular"):
        LA.LinearOperatorInversion(_op(is_non_singular=False), is_non_singular=True)
    assert LA.LinearOperatorAdjoint(_op(is_non_singular=False)).is_non_singular is False
