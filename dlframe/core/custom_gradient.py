"""``tf.custom_gradient``: a function whose gradient the user supplies.

``f(*x)`` returns ``(y, grad_fn)``. Tapes record its forward (``grad_fn`` may
differentiate through it), then one tape entry links the inputs (and the Variables
it read) to ``y``, distinct tensors made with the tapes paused; backprop calls
``grad_fn(*dy)`` — or ``grad_fn(*dy, variables=vars)``, which returns
``(input_grads, variable_grads)`` — written in dlframe ops like any rule.
"""

import functools
import inspect
import sys

from dlframe.core.basic import broadcast_to_p
from dlframe.core.nest import flatten, map_structure
from dlframe.core.primitive import Primitive, call
from dlframe.core.tensor import Tensor, convert_to_tensor


def _rule(inputs, outs, dys, *, grad_fn, n_inputs, variables):
    if variables:
        grads, var_grads = grad_fn(*dys, variables=list(variables))
    else:
        grads, var_grads = grad_fn(*dys), []
    grads = list(grads) if isinstance(grads, (list, tuple)) else [grads]
    if len(grads) != n_inputs:
        raise ValueError(f"custom_gradient function expected to return {n_inputs} "
                         f"gradients, but returned {len(grads)} instead.")
    var_grads = list(var_grads)
    if len(var_grads) != len(variables):
        raise ValueError("Must return gradient for each variable from "
                         f"@custom_gradient grad_fn (got {len(var_grads)} for "
                         f"{len(variables)} variables).")
    # TF converts what grad_fn returns: a Python number or NumPy array is a gradient
    return tuple(_as_gradient(g, x) for g, x in zip(grads + var_grads, inputs))


def _as_gradient(grad, x):
    if grad is None or isinstance(grad, Tensor) or hasattr(grad, "indices"):
        return grad
    return convert_to_tensor(grad, dtype=x.dtype)


# the module itself (``dlframe.core.primitive`` the attribute is a function)
_primitive = sys.modules[Primitive.__module__]

_CUSTOM = Primitive("CustomGradient", forward=None, grad=_rule, n_out=-1)


class _AccessedVariables:
    """Collects Variables read while ``f`` runs (a recorder that never records)."""

    def __init__(self):
        self.seen = {}

    def _record(self, prim, inputs, outs, attrs):
        for t in inputs:
            if t._is_variable and t._trainable:
                self.seen.setdefault(id(t), t)


def _accepts_variables(grad_fn):
    """Whether ``grad_fn`` takes a ``variables`` keyword (named or through
    ``**kwargs``), as TF requires of a function that reads Variables."""
    params = inspect.signature(grad_fn).parameters.values()
    return any(p.name == "variables" or p.kind is p.VAR_KEYWORD for p in params)


def _alias(t):
    """A new tensor sharing ``t``'s data (recorded by traces, free to run)."""
    if _primitive.STATE.trace is None and not t._is_variable:
        # eager: a new wrapper is enough (no graph has to see it) and skips a
        # primitive call's overhead on every output of every call
        return Tensor(t._value, t._device)
    return call(broadcast_to_p, (t,), {"shape": tuple(t._value.shape)})


def custom_gradient(f=None):
    """Decorator: ``f`` returns ``(outputs, grad_fn)``; tapes use ``grad_fn``.

    Args:
      f: function of tensors returning ``(y, grad_fn)``.
    """
    if f is None:
        return custom_gradient

    @functools.wraps(f)
    def decorated(*args, **kwargs):
        inputs = [a for a in flatten((args, kwargs)) if isinstance(a, Tensor)]
        # through the module: a saved tf.function pickles this closure by value, and
        # the thread-local state itself cannot be pickled
        state = _primitive.STATE
        tapes = state.tapes
        if not tapes:
            result, _ = f(*args, **kwargs)
            return result
        recorder = _AccessedVariables()
        # as TF, the tapes record the forward: ``grad_fn`` reading its tensors is
        # differentiable in turn (second derivatives through a custom gradient)
        state.tapes = list(tapes) + [recorder]
        passed = {id(t) for t in inputs}   # a Variable passed as an argument is an input
        try:
            result, grad_fn = f(*args, **kwargs)
            # the outputs are distinct tensors made with the tapes paused: their one
            # tape entry is grad_fn's, so gradients never flow around it
            state.tapes = [recorder]
            result = map_structure(
                lambda o: _alias(o) if isinstance(o, Tensor) else o, result)
        finally:
            state.tapes = tapes
        variables = tuple(v for k, v in recorder.seen.items() if k not in passed)
        if variables and not _accepts_variables(grad_fn):
            raise TypeError("@tf.custom_gradient grad_fn must accept keyword argument "
                            "'variables', since function uses variables: "
                            f"{list(variables)}")
        outs = tuple(o for o in flatten(result) if isinstance(o, Tensor))
        attrs = {"grad_fn": grad_fn, "n_inputs": len(inputs), "variables": variables}
        for tape in tapes:
            tape._record(_CUSTOM, tuple(inputs) + variables, outs, attrs)
        return result
    return decorated


def recompute_grad(f):
    """Returns ``f``: gradients are identical (dlframe does not trade memory for compute)."""
    return f
