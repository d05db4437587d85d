"""Run-time helpers called by AutoGraph-converted code (bound to the name ``ag__``).

Each helper keeps Python semantics for Python values and concrete tensors, and
switches to graph control flow (cond / while_loop) for symbolic tensors.
"""

import inspect
import types

from dlframe.core.primitive import STATE
from dlframe.core.tensor import Tensor
from dlframe.ops import control_flow
from dlframe.ops import math as _math


class UndefinedType:
    """Marks a variable not yet defined when a converted statement starts."""

    def __repr__(self):
        return "Undefined"


Undefined = UndefinedType()


def ld(getter):
    """Value of a local variable, or Undefined if it is not assigned yet."""
    try:
        return getter()
    except NameError:
        return Undefined


def _symbolic(x):
    trace = STATE.trace
    return isinstance(x, Tensor) and trace is not None and trace.is_symbolic(x)


def _truth(x):
    if isinstance(x, Tensor):
        return bool(x._device.to_numpy(x._value))
    return bool(x)


def if_stmt(test, true_fn, false_fn, init):
    """``if`` statement: graph cond for symbolic tests, Python branch otherwise."""
    if _symbolic(test):
        def wrap(fn):
            def branch():
                out = fn(*init)
                for i, v in enumerate(out):
                    if v is Undefined:
                        raise ValueError(
                            f"A variable ({i}) must be defined in both branches of an "
                            "`if` whose condition is a tensor (AutoGraph).")
                return tuple(out)
            return branch
        return control_flow.cond(test, wrap(true_fn), wrap(false_fn))
    return true_fn(*init) if _truth(test) else false_fn(*init)


def if_exp(test, true_fn, false_fn, init):
    """An if/else whose branches both ``return``: returns the branch's value."""
    if _symbolic(test):
        return control_flow.cond(test, lambda: true_fn(*init), lambda: false_fn(*init))
    return true_fn(*init) if _truth(test) else false_fn(*init)


def while_stmt(cond_fn, body_fn, init):
    """``while`` statement: graph while_loop once the test is symbolic."""
    state = tuple(init)
    first = cond_fn(*state)
    if _symbolic(first) or any(_symbolic(v) for v in state if isinstance(v, Tensor)) \
            and isinstance(first, Tensor):
        keep, expand = _carried(state)
        out = control_flow.while_loop(
            lambda *s: cond_fn(*expand(s)),
            lambda *s: tuple(v for i, v in enumerate(body_fn(*expand(s))) if i in keep),
            [state[i] for i in keep])
        return expand(tuple(out) if isinstance(out, (list, tuple)) else (out,))
    while _truth(first):
        state = tuple(body_fn(*state))
        first = cond_fn(*state)
    return state


class _TensorRange:
    def __init__(self, start, stop, step):
        self.start, self.stop, self.step = start, stop, step


def range_(*args, tensor_range=None):
    """``range`` (or ``tf.range`` when ``tensor_range`` is given) in a ``for`` header;
    symbolic bounds make a graph loop."""
    if any(_symbolic(a) for a in args):
        start, stop, step = (0, args[0], 1) if len(args) == 1 else (
            args[0], args[1], args[2] if len(args) > 2 else 1)
        return _TensorRange(start, stop, step)
    if tensor_range is not None:
        return tensor_range(*args)
    return range(*[int(a) if isinstance(a, Tensor) else a for a in args])


def for_stmt(iterable, body_fn, init, break_index=None):
    """``for`` statement over Python iterables, tensors and tensor ranges.

    ``break_index``: position of the loop's break flag in the state (None: no break).
    """
    if isinstance(iterable, _TensorRange) or _symbolic(iterable):
        if isinstance(iterable, _TensorRange):
            start, stop, step = iterable.start, iterable.stop, iterable.step
            get = None
        else:
            start, stop, step = 0, iterable.shape[0], 1
            get = iterable
        i0 = start if isinstance(start, Tensor) else _as_index(start, stop)
        keep, expand = _carried(tuple(init))

        def cond(i, *state):
            more = _math.less(i, stop) if _step_positive(step) else _math.greater(i, stop)
            if break_index is None:
                return more
            return _math.logical_and(more, not_(_as_bool(expand(state)[break_index])))

        def body(i, *state):
            item = get[i] if get is not None else i
            new = tuple(body_fn(item, *expand(state)))
            return (_math.add(i, step),) + tuple(v for k, v in enumerate(new) if k in keep)
        out = control_flow.while_loop(cond, body, [i0] + [init[k] for k in keep])
        return expand(tuple(out[1:]))
    state = tuple(init)
    for item in iterable:
        state = tuple(body_fn(item, *state))
        if break_index is not None:
            flag = state[break_index]
            if _symbolic(flag):
                raise NotImplementedError(
                    "A `break` that depends on a tensor inside a `for` loop over a Python "
                    "iterable cannot be converted; loop over tf.range(...) instead.")
            if _truth(flag):
                break
    return state


def _carried(state):
    """Indices of loop variables defined before the loop (the ones a graph loop carries),
    and a function re-inserting Undefined for the per-iteration temporaries."""
    keep = [i for i, v in enumerate(state) if v is not Undefined]
    n = len(state)

    def expand(values):
        full = [Undefined] * n
        for i, v in zip(keep, values):
            full[i] = v
        return tuple(full)
    return keep, expand


def _as_bool(value):
    from dlframe.core.tensor import convert_to_tensor
    return value if isinstance(value, Tensor) else convert_to_tensor(bool(value))


def _as_index(start, stop):
    from dlframe.core.tensor import convert_to_tensor
    dtype = stop.dtype if isinstance(stop, Tensor) else None
    return convert_to_tensor(start, dtype=dtype)


def _step_positive(step):
    return (step._device.to_numpy(step._value) > 0) if isinstance(step, Tensor) and \
        not _symbolic(step) else (step > 0 if not isinstance(step, Tensor) else True)


def and_(*thunks):
    """``a and b``: logical_and for tensors, Python short-circuit otherwise."""
    value = thunks[0]()
    for thunk in thunks[1:]:
        if isinstance(value, Tensor) and _symbolic(value):
            value = _math.logical_and(value, thunk())
        elif not _truth(value):
            return value
        else:
            value = thunk()
    return value


def or_(*thunks):
    """``a or b``: logical_or for tensors, Python short-circuit otherwise."""
    value = thunks[0]()
    for thunk in thunks[1:]:
        if isinstance(value, Tensor) and _symbolic(value):
            value = _math.logical_or(value, thunk())
        elif _truth(value):
            return value
        else:
            value = thunk()
    return value


def not_(value):
    """``not x``: logical_not for tensors."""
    if isinstance(value, Tensor):
        return _math.logical_not(value) if _symbolic(value) else not _truth(value)
    return not value


def print_(*args, **kwargs):
    """``print``: run-time printing for symbolic tensors."""
    if any(_symbolic(a) for a in args):
        from dlframe.ops.logging import print as tf_print
        return tf_print(*args, **kwargs)
    return print(*args, **kwargs)


_SKIP_MODULES = ("dlframe", "numpy", "cupy", "builtins", "functools", "inspect",
                 "collections", "typing", "abc", "math", "random", "itertools")


_DLFRAME_DIR = __file__.replace("\\", "/").rsplit("/autograph/", 1)[0] + "/"


def converted_call(__f, /, *args, **kwargs):
    """Calls ``__f``, converting it first when it is user Python code."""
    from dlframe.autograph import converter
    target = __f
    if isinstance(target, types.MethodType) and _convertible(target.__func__):
        conv = converter.convert(target.__func__)
        return conv(target.__self__, *args, **kwargs)
    if isinstance(target, types.FunctionType) and _convertible(target):
        return converter.convert(target)(*args, **kwargs)
    return target(*args, **kwargs)


def _convertible(fn):
    if getattr(fn, "__ag_do_not_convert__", False) or getattr(fn, "__ag_converted__", False):
        return False
    # judge by where the code lives: functools.wraps copies __module__ from the
    # wrapped user function onto library wrappers (e.g. custom_gradient's)
    filename = fn.__code__.co_filename.replace("\\", "/")
    if _DLFRAME_DIR in filename or "/site-packages/" in filename or \
            "/lib/python" in filename:
        return False
    module = getattr(fn, "__module__", "") or ""
    if module.split(".")[0] in _SKIP_MODULES or module.startswith("_pytest"):
        return False
    if fn.__name__ == "<lambda>":
        return False
    return inspect.isfunction(fn)
