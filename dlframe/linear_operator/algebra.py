"""Products of two LinearOperators: a structured result when the pair has one
(Diag @ Diag is a Diag, Identity @ A is A), else their Composition."""


def _combined_non_singular(left, right):
    hints = (left.is_non_singular, right.is_non_singular)
    if False in hints:
        return False
    return True if hints == (True, True) else None


def matmul(left, right):
    """``left @ right`` as a LinearOperator (shapes already checked by the caller)."""
    out = left._linop_matmul(right)
    if out is None:
        out = right._linop_rmatmul(left)
    if out is not None:
        return out
    from dlframe.linear_operator.composition import LinearOperatorComposition
    is_square = True if (left.is_square and right.is_square) else None
    if left.is_square is False and right.is_square is False:
        is_square = None
    return LinearOperatorComposition(
        [left, right],
        is_non_singular=_combined_non_singular(left, right) if is_square else None,
        is_square=is_square)
