"""``dlframe.linalg``: the tf.linalg name table, collected from each ops module's LINALG_NAMES."""

from dlframe.ops.names import collect as _collect

globals().update(_collect("LINALG_NAMES"))


def __getattr__(name):
    """tf.linalg.LinearOperator*: the package is imported on first use (import time)."""
    if name == "experimental":   # tf.linalg.experimental.conjugate_gradient
        from types import SimpleNamespace

        from dlframe.linear_operator.conjugate_gradient import conjugate_gradient
        return SimpleNamespace(conjugate_gradient=conjugate_gradient)
    if name.startswith("LinearOperator"):
        from dlframe import linear_operator
        if name in linear_operator.LINEAR_OPERATOR_NAMES:
            return getattr(linear_operator, name)
    raise AttributeError(f"module 'dlframe.linalg' has no attribute {name!r}")


def __dir__():
    from dlframe import linear_operator
    return sorted(set(globals()) | set(linear_operator.LINEAR_OPERATOR_NAMES)
                  | {"experimental"})
