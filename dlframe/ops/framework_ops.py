"""Graph-construction utilities of TF's framework that TF2 code still calls:
control_dependencies, group, no_op, init_scope, identity_n, get_static_value,
timestamp.

A ``dlframe.function`` runs its ops in program order and never prunes effects
(variable writes, prints, asserts, py_function), so control dependencies already
hold and ``control_dependencies``/``group``/``no_op`` have nothing left to do.
"""

import time

from dlframe.core import static_dims as _static_dims
from dlframe.core.primitive import STATE, call, primitive
from dlframe.core.tensor import Tensor
from dlframe.core.trace import paused
from dlframe.ops.array import identity


class control_dependencies:
    """Context manager: ops created inside run after ``control_inputs``.

    Args:
      control_inputs: Tensors, ops or callables (or None to clear dependencies).

    dlframe keeps program order, so this only scopes the code (as TF eagerly).
    """

    def __init__(self, control_inputs):
        if control_inputs is not None and not isinstance(control_inputs, (list, tuple)):
            control_inputs = [control_inputs]
        self.control_inputs = control_inputs

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def group(*inputs, **kwargs):
    """Groups ops (run them all): they run in program order anyway; returns None as
    TF does eagerly."""
    return


def no_op(name=None):
    """Does nothing; returns None as TF does eagerly."""
    return


class init_scope:
    """Context manager lifting code out of a function being traced (and out of the
    active gradient tapes): its ops run eagerly, once, and their results are
    constants of the graph, as TF's ``init_scope`` lifts them into the outer
    eager context (use it to create state such as Variables or lookup tables)."""

    def __enter__(self):
        self._paused = paused()
        self._paused.__enter__()
        self._tapes = STATE.tapes
        STATE.tapes = []

    def __exit__(self, *exc):
        STATE.tapes = self._tapes
        self._paused.__exit__(*exc)
        return False


def identity_n(input, name=None):
    """A list with the identity of each tensor of ``input``."""
    return [identity(x) for x in input]


def get_static_value(tensor, partial=False):
    """The value of ``tensor`` if known without running a graph, else None.

    Eager tensors give their NumPy value. Inside a ``dlframe.function``, as TF's
    graph: constants and what TF folds without running (``tf.shape`` of a fully
    known shape, casts, concats, stacks, fills of constants, ``tf.rank``) have a
    value; anything computed from the inputs, Variables or other math (``c + 1``)
    gives None. Python values are returned unchanged and Variables give None.

    Args:
      tensor: the tensor (or Python value).
      partial: inside a trace, a stack of partly known scalars gives an object
        array with None where unknown.
    """
    if tensor is None or not isinstance(tensor, Tensor):
        return tensor
    if tensor._is_variable:
        return None
    trace = STATE.trace
    if trace is not None:
        return _static_dims.static_value(trace, tensor, partial)
    return tensor._device.to_numpy(tensor._value)


def _trace_time_value(tensor):
    """The value of ``tensor`` while tracing when it does not depend on the
    function's inputs (raw ops' attribute arguments), else None."""
    trace = STATE.trace
    if trace is not None and (tensor._is_variable or trace.is_symbolic(tensor)):
        return None
    return tensor._device.to_numpy(tensor._value)


@primitive("Timestamp", stateful=True)
def _timestamp_p(d):
    return d.xp.asarray(time.time(), dtype="float64")


def timestamp(name=None):
    """Seconds since the Unix epoch as a float64 scalar, read each time it runs."""
    return call(_timestamp_p, ())


__all__ = ["control_dependencies", "get_static_value", "group", "identity_n",
           "init_scope", "no_op", "timestamp"]
