"""TF1-style symbolic gradient entry points and small graph-context helpers:
``tf.gradients``/``tf.hessians`` (graph-only in TF 2, so they explain the GradientTape
alternative), ``tf.grad_pass_through``, ``tf.inside_function``,
``tf.get_current_name_scope`` and ``tf.tuple``."""

import builtins

from dlframe.core.primitive import STATE
from dlframe.core.tape import graph_gradients
from dlframe.core.variable import current_scope
from dlframe.ops import array as _array
from dlframe.ops import logic as _logic

_EAGER_MSG = "tf.{} is not supported when eager execution is enabled. Use " \
             "tf.GradientTape instead."


def _graph_only(api):
    if STATE.trace is None:
        raise RuntimeError(_EAGER_MSG.format(api))
    raise NotImplementedError(
        f"tf.{api} inside a dlframe.function is not supported: record the computation "
        "on a tf.GradientTape and call tape.gradient (or tape.jacobian) instead.")


def gradients(ys, xs, grad_ys=None, name="gradients", gate_gradients=False,
              aggregation_method=None, stop_gradients=None,
              unconnected_gradients="none"):
    """TF1 symbolic gradients: raises, pointing to ``tf.GradientTape``.

    Raises:
      RuntimeError: when executing eagerly (TF 2's error).
      NotImplementedError: inside a ``dlframe.function`` (dlframe records gradients
        on tapes only).

    Inside a ``tf.estimator`` ``model_fn`` (a graph in TF1) the gradients come from
    the tape the Estimator records the ``model_fn`` on.
    """
    if STATE.trace is None:
        sources = list(xs) if isinstance(xs, (list, builtins.tuple)) else [xs]
        grads = graph_gradients(ys, sources, grad_ys)
        if grads is not None:
            if str(getattr(unconnected_gradients, "value", unconnected_gradients)) \
                    == "zero":
                grads = [_logic.zeros_like(x) if g is None else g
                         for g, x in zip(grads, sources)]
            return list(grads)
    _graph_only("gradients")


def hessians(ys, xs, name="hessians", colocate_gradients_with_ops=False,
             gate_gradients=False, aggregation_method=None):
    """TF1 symbolic Hessians: raises, pointing to nested ``tf.GradientTape``s."""
    _graph_only("hessians")


def grad_pass_through(f):
    """Wraps ``f`` so its outputs take the identity gradient (straight-through).

    Args:
      f: a function of one tensor (e.g. ``tf.round``, a variable's ``assign``).

    Returns:
      ``g(x)`` computing ``f(x)`` forward whose gradient w.r.t. ``x`` is ``dy``.
    """
    def wrapped(x, *args, **kwargs):
        y = f(x, *args, **kwargs)
        y = y.read_value() if hasattr(y, "read_value") else y
        return x + _array.stop_gradient(y - x)
    return wrapped


def inside_function():
    """True while a ``dlframe.function`` is being traced."""
    return STATE.trace is not None


def get_current_name_scope():
    """The name scope active here ('' at the top level), as ``tf.get_current_name_scope``."""
    return current_scope()


def tuple(tensors, name=None, control_inputs=None):
    """The ``tensors`` as a list (eager and traced steps already run in order)."""
    return [None if x is None else _array.identity(x) for x in tensors]


__all__ = [
    "get_current_name_scope",
    "grad_pass_through",
    "gradients",
    "hessians",
    "inside_function",
    "tuple",
]
