"""``tf.linalg.LinearOperatorInversion``: ``A^-1`` of an operator, whose products
are the operator's solves and whose solves are its products."""

from dlframe.linear_operator import _util as u
from dlframe.linear_operator.base import LinearOperator
from dlframe.ops import math as m


def _check_hint(name, operator_hint, given, relation):
    if operator_hint is not None and given is not None and operator_hint != given:
        raise ValueError(f"An operator is {name} if and only if its {relation} is "
                         f"{name}.")
    return operator_hint if given is None else given


def inherited_hints(operator, relation, **given):
    """The four hints of an operator derived from ``operator`` (its inverse or
    adjoint), which shares them: each given hint must agree with ``operator``'s."""
    return {attr: _check_hint(attr[3:].replace("_", "-"), getattr(operator, attr),
                              given[attr], relation)
            for attr in ("is_non_singular", "is_self_adjoint", "is_positive_definite",
                         "is_square")}


class DerivedOperator(LinearOperator):
    """Base of an operator derived from one ``operator`` (its adjoint or inverse):
    it keeps ``operator`` and shares its hints. Subclasses set ``_RELATION`` (for
    errors) and ``_SUFFIX`` (of the default name)."""

    _RELATION = _SUFFIX = None

    def __init__(self, operator, parameters, name, **given):
        if not isinstance(operator, LinearOperator):
            raise TypeError(f"Argument `operator` must be a LinearOperator. Received: "
                            f"{operator!r}.")
        self._check_operator(operator, given)
        self._operator = operator
        hints = inherited_hints(operator, self._RELATION, **given)
        super().__init__(operator.dtype, name=name or operator.name + self._SUFFIX,
                         parameters=parameters, **hints)

    def _check_operator(self, operator, given):
        """Raises for an ``operator`` this derivation does not apply to."""

    @property
    def operator(self):
        """The operator this one is derived from."""
        return self._operator


class LinearOperatorInversion(DerivedOperator):
    """``A^-1`` of a square, non-singular ``operator``.

    Args:
      operator: the LinearOperator to invert (``is_square`` and
        ``is_non_singular`` must not be hinted False).
      is_non_singular: hint (taken from ``operator`` when None).
      is_self_adjoint: hint (taken from ``operator`` when None).
      is_positive_definite: hint (taken from ``operator`` when None).
      is_square: hint (taken from ``operator`` when None).
      name: the operator's name (default ``operator.name + "_inv"``).
    """

    _RELATION, _SUFFIX = "inverse", "_inv"

    def __init__(self, operator, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None, name=None):
        super().__init__(operator, u.constructor_parameters(locals()), name,
                         is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint,
                         is_positive_definite=is_positive_definite, is_square=is_square)

    def _check_operator(self, operator, given):
        for hint in ("is_non_singular", "is_square"):
            if getattr(operator, hint) is False and given[hint] is None:
                raise ValueError(
                    f"Argument `{hint}` or argument `operator` must have supplied hint "
                    f"`{hint}` equal to `True` or `None`. Found `operator.{hint}`: "
                    f"False, `{hint}`: None.")

    def _shape(self):
        return self._operator.shape

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return self._operator.solve(x, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def _matvec(self, x, adjoint=False):
        return self._operator.solvevec(x, adjoint=adjoint)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self._operator.matmul(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def _solvevec(self, rhs, adjoint=False):
        return self._operator.matvec(rhs, adjoint=adjoint)

    def _determinant(self):
        return m.reciprocal(self._operator.determinant())

    def _log_abs_determinant(self):
        return m.negative(self._operator.log_abs_determinant())

    def _linop_inverse(self):
        return self._operator
