"""What operators built from a list of operators share: argument checks, the
broadcast batch shape, and hints implied when every member has one."""

from dlframe.linear_operator import _util as u
from dlframe.linear_operator.base import LinearOperator


def check_operators(operators, what="operators"):
    """``operators`` as a non-empty list of LinearOperators of one dtype."""
    operators = list(operators) if isinstance(operators, (list, tuple)) else operators
    if not isinstance(operators, list) or not operators:
        raise ValueError(f"Expected a non-empty list of operators. Found: {operators}")
    for op in operators:
        if not isinstance(op, LinearOperator):
            raise TypeError(f"Argument `{what}` must hold LinearOperators. Received: "
                            f"{op!r}.")
    dtype = operators[0].dtype
    if any(op.dtype != dtype for op in operators):
        found = "   ".join(f"({op.name!r}, {op.dtype!r})" for op in operators)
        raise TypeError(f"Expected all operators to have the same dtype.  Found {found}")
    return operators


def fold(operators, method, combine):
    """``combine`` applied left to right over each operator's ``method()`` result."""
    out = getattr(operators[0], method)()
    for op in operators[1:]:
        out = combine(out, getattr(op, method)())
    return out


class OperatorList(LinearOperator):
    """Base of the operators built from a flat list ``self._operators``."""

    @property
    def operators(self):
        return list(self._operators)

    def _dims(self, which):
        """Each member's ``range_dimension`` or ``domain_dimension`` as ints."""
        return [int(getattr(op, which)) for op in self._operators]


def batch_shape(operators):
    return u.broadcast_shapes(*(tuple(op.batch_shape.as_list()) for op in operators))


def implied_hints(operators, kind, is_non_singular, is_self_adjoint,
                  is_positive_definite, checks=("non-singular", "self-adjoint",
                                                "positive-definite"), detail=False):
    """Hints that hold for a ``kind`` ('direct sum', ...) when all members have them.

    ``checks`` names which of the three properties the construction preserves;
    ``detail`` adds TF's "Expected argument ..." sentence to the conflict error.
    """
    given = {"non-singular": is_non_singular, "self-adjoint": is_self_adjoint,
             "positive-definite": is_positive_definite}
    attr = {"non-singular": "is_non_singular", "self-adjoint": "is_self_adjoint",
            "positive-definite": "is_positive_definite"}
    for prop in checks:
        if all(getattr(op, attr[prop]) for op in operators):
            arg = attr[prop]
            extra = (f" Expected argument `{arg}` to be True. Received: {{given}}."
                     if detail else "")
            given[prop] = u.implied_hint(
                given[prop], True,
                f"The {kind} of {prop} operators is always {prop}." + extra)
    return given["non-singular"], given["self-adjoint"], given["positive-definite"]
