"""Run-time helpers called by AutoGraph-converted code (bound to the name ``ag__``).

Each helper keeps Python semantics for Python values and concrete tensors, and
switches to graph control flow (cond / while_loop) for symbolic tensors. ``if_stmt``,
``while_stmt`` and ``for_stmt`` take ``returns=(did_return, retval)`` positions when
their state carries a ``return`` lowered out of a loop (see converter.py): a graph
construct then gives a still-undefined retval a zeros placeholder shaped by staging.
"""

import inspect
import types

from dlframe.core.primitive import STATE
from dlframe.core.tensor import Tensor
from dlframe.core.trace import OperatorNotAllowedInGraphError
from dlframe.errors import InvalidArgumentError
from dlframe.ops import control_flow, creation
from dlframe.ops import logic as _logic
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


def if_stmt(test, true_fn, false_fn, init, returns=None, names=None):
    """``if`` statement: graph cond for symbolic tests, Python branch otherwise.

    ``returns``: (did_return, retval) positions in ``init`` when a branch records a
    ``return`` from inside a loop; an undefined retval then gets a placeholder.
    ``names``: the variables' names, for error messages.
    """
    if _symbolic(test):
        entry = tuple(init)
        init = _define_return(entry, returns, lambda: _staged(lambda: true_fn(*entry)),
                              lambda: _staged(lambda: false_fn(*entry)))
        names = names or [f"variable {i}" for i in range(len(init))]
        structures, values = {}, {}

        def wrap(fn, here, other):
            def branch():
                out = tuple(fn(*init))
                for i, v in enumerate(out):
                    if v is Undefined:
                        raise ValueError(f"'{names[i]}' must also be initialized in "
                                         f"the {here} branch")
                    kind = _nest_kind(v)
                    if structures.setdefault(i, kind) != kind:
                        raise TypeError(f"'{names[i]}' must have the same nested "
                                        f"structure in the main and else branches: "
                                        f"{structures[i]} in the {other} branch, "
                                        f"{kind} in the {here} branch")
                    if i in values:   # the main branch was traced first
                        _check_dtypes(names[i], values[i], v, "in the main branch",
                                      "in the else branch")
                    values[i] = v
                return out
            return branch
        return control_flow.cond(test, wrap(true_fn, "main", "else"),
                                 wrap(false_fn, "else", "main"))
    return true_fn(*init) if _truth(test) else false_fn(*init)


def _nest_kind(value):
    """The nested structure of a branch result, tensors and numbers alike as "value"
    (they may differ between branches as long as cond can match them)."""
    if isinstance(value, dict):
        items = ", ".join(f"{k!r}: {_nest_kind(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_nest_kind(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    return "value"


def python_if_test(test, missing):
    """Test of an ``if`` AutoGraph leaves to Python because only one branch returns:
    fine for Python values, TF's ValueError for a symbolic tensor (the branch whose
    ``return`` is missing would have no value in the graph)."""
    if _symbolic(test):
        raise ValueError(
            f"the {missing} branch must also have a return statement (an `if` on a "
            "tensor inside a tf.function returns a value in both branches or in "
            "neither)")
    return test


def if_exp(test, true_fn, false_fn, init):
    """An if/else whose branches both ``return``: returns the branch's value."""
    if _symbolic(test):
        return control_flow.cond(test, lambda: true_fn(*init), lambda: false_fn(*init))
    return true_fn(*init) if _truth(test) else false_fn(*init)


def while_stmt(cond_fn, body_fn, init, returns=None, live=(), names=None):
    """``while`` statement: a graph while_loop once the test is symbolic, also when it
    turns symbolic after Python iterations (a break or return that depends on a tensor).
    ``returns``: as for ``if_stmt``; ``live``: positions of variables read after the
    loop (one first assigned in the body is then carried, as in TF); ``names``: the
    variables' names, for error messages."""
    state = tuple(init)
    while True:
        test = cond_fn(*state)
        if _symbolic(test) or isinstance(test, Tensor) and any(
                _symbolic(v) for v in state if isinstance(v, Tensor)):
            return _graph_loop(cond_fn, lambda *s: ((), body_fn(*s)), (), state,
                               returns, live, names)
        if not _truth(test):
            return state
        state = tuple(body_fn(*state))


class _TensorRange:
    def __init__(self, start, stop, step, unrolled=None):
        self.start, self.stop, self.step = start, stop, step
        # tf.range over Python ints: its elements, if unrolled
        self.unrolled = unrolled

    def __iter__(self):
        # a loop AutoGraph leaves to Python (``for ... else``) iterates it directly
        if self.unrolled is not None:
            return iter(self.unrolled())
        raise OperatorNotAllowedInGraphError(
            "Iterating over a symbolic tf.range is not allowed inside a "
            "dlframe.function: AutoGraph did not convert this loop (a `for` with an "
            "`else` clause is not converted); drop the `else` or use a Python range")


def _length(tensor):
    """First dimension of a rank>=1 tensor: a Python int when the traced shape
    knows it, else a scalar tensor read at run time (as TF's ``tf.shape(x)[0]``)."""
    dim = tensor.shape[0]
    if dim is not None:
        return dim
    from dlframe.ops.array_meta import shape as _shape
    return _shape(tensor)[0]


def _composite_len(value):
    """``len`` in a traced function of a value Python's ``len`` refuses, as TF's
    converted ``len``: a TensorArray's ``size()``, a SparseTensor's / RaggedTensor's
    first dimension (an int when static, else an int32 tensor), a Dataset's
    cardinality (int64; an InvalidArgumentError when infinite or unknown), else
    None."""
    from dlframe.data.dataset import Dataset
    from dlframe.ops.ragged_tensor import RaggedTensor
    from dlframe.ops.sparse_tensor import SparseTensor
    from dlframe.ops.tensor_array import TensorArray
    if isinstance(value, TensorArray):
        return value.size()
    if isinstance(value, Dataset):
        n = value.cardinality()
        if STATE.trace is not None and STATE.trace.is_symbolic(n):
            # a dataset argument's: checked at each run, as TF's Assert
            from dlframe.ops.debugging import Assert
            Assert(_math.greater_equal(n, 0), [
                "len requires dataset with definitive cardinality, got", n])
            return n
        if int(n.numpy()) < 0:
            raise InvalidArgumentError(
                None, None, "assertion failed: [len requires dataset with "
                f"definitive cardinality, got {int(n.numpy())}]")
        return n
    if isinstance(value, SparseTensor):
        dim = value.shape[0]
        return dim if dim is not None else _logic.cast(value.dense_shape[0], "int32")
    if isinstance(value, RaggedTensor):
        dim = value.shape[0]
        return dim if dim is not None else _logic.cast(value.nrows(), "int32")
    return None


def len_(value, fn=len):
    """``len(value)``; for a traced tensor whose length the graph does not know,
    the run-time length as a scalar tensor instead of the trace-time one. ``fn``
    is what the name ``len`` meant where it was called: a user's own function of
    that name is called instead (as converted code)."""
    if fn is not len:
        return converted_call(fn, value)
    if STATE.trace is not None:
        composite = _composite_len(value)
        if composite is not None:
            return composite
    if not _symbolic(value):
        return len(value)
    if value.shape.rank == 0:
        raise ValueError("len requires a non-scalar tensor, got one of shape ()")
    return _length(value)


def range_(*args, tensor_range=None):
    """``range`` (or ``tf.range`` when ``tensor_range`` is given) in a ``for`` header;
    symbolic bounds make a graph loop."""
    if tensor_range is not None and inspect.unwrap(tensor_range) is not creation.range:
        # another ``.range`` (``tf.data.Dataset.range``, ``np.range``...): for_stmt
        # loops over what it returns
        return tensor_range(*args)
    if any(_symbolic(a) for a in args) or (
            tensor_range is not None and STATE.trace is not None
            and any(isinstance(a, Tensor) for a in args)):
        # tf.range over tensors is a graph loop, as in TF, even when its bounds
        # are known while tracing (computed from shapes)
        start, stop, step = (0, args[0], 1) if len(args) == 1 else (
            args[0], args[1], args[2] if len(args) > 2 else 1)
        return _TensorRange(start, stop, step)
    if tensor_range is not None:
        if STATE.trace is None:
            return tensor_range(*args)
        # tf.range over Python ints: unrolled unless a tensor-dependent break/return
        # needs the graph loop TF would build (for_stmt decides)
        start, stop, step = (0, args[0], 1) if len(args) == 1 else (
            args[0], args[1], args[2] if len(args) > 2 else 1)
        return _TensorRange(start, stop, step, unrolled=lambda: tensor_range(*args))
    return range(*[int(a) if isinstance(a, Tensor) else a for a in args])


def for_stmt(iterable, body_fn, init, break_index=None, returns=None, live=(),
             names=None):
    """``for`` statement over Python iterables, tensors and tensor ranges.

    ``break_index``: position of the loop's break flag in the state (None: no break).
    ``returns``, ``live`` and ``names``: as for ``if_stmt`` and ``while_stmt``.
    """
    if isinstance(iterable, _TensorRange) and iterable.unrolled is not None and \
            break_index is None:
        iterable = iterable.unrolled()
    if isinstance(iterable, _TensorRange) or _symbolic(iterable):
        return _graph_for(iterable, body_fn, tuple(init), break_index, returns, live,
                          names)
    hooks = getattr(iterable, "_graph_iteration", None)
    if hooks is not None and STATE.trace is not None:
        hooks = hooks()   # a tf.data Dataset or iterator: a loop pulling its elements
        if hooks is not None:
            # a dataset's loop relaxes changing state shapes (TF's reduce); an
            # iterator's is a while loop, whose shapes must hold
            return _feed_for(hooks, body_fn, tuple(init), break_index, returns, live,
                             names, relax=not hasattr(iterable, "__next__"))
    state = tuple(init)
    for item in iterable:
        state = tuple(body_fn(item, *state))
        if break_index is not None:
            flag = state[break_index]
            if _symbolic(flag):
                raise NotImplementedError(
                    "A `break` or `return` that depends on a tensor inside a `for` "
                    "loop over a Python iterable cannot be converted; loop over "
                    "tf.range(...) instead.")
            if _truth(flag):
                break
    return state


def _graph_for(iterable, body_fn, state, break_index, returns, live=(), names=None):
    if isinstance(iterable, _TensorRange):
        start, stop, step = iterable.start, iterable.stop, iterable.step
        get = None
    else:
        start, stop, step, get = 0, _length(iterable), 1, iterable
    i0 = start if isinstance(start, Tensor) else _as_index(start, stop)

    def cond(i, *s):
        more = _math.less(i, stop) if _step_positive(step) else _math.greater(i, stop)
        if break_index is None:
            return more
        return _math.logical_and(more, not_(_as_bool(s[break_index])))

    def advance(i, *s):
        item = get[i] if get is not None else i
        return (_math.add(i, step),), body_fn(item, *s)
    return _graph_loop(cond, advance, (i0,), state, returns, live, names)


def _feed_for(hooks, body_fn, state, break_index, returns, live=(), names=None,
              relax=False):
    """A graph loop over the elements that ``hooks`` = (start, has_next, get) pull."""
    start, has_next, get = hooks

    def cond(i, *s):
        if break_index is None:
            return has_next(i)
        # after a break no element is pulled: an iterator continues with the next
        # one on its next use (TF's loop tests the break flag first)
        return control_flow.cond(_as_bool(s[break_index]),
                                 lambda: _as_bool(False), lambda: has_next(i))

    def advance(i, *s):
        return (_math.add(i, 1),), body_fn(get(i), *s)
    return _graph_loop(cond, advance, (start(),), state, returns, live, names,
                       relax=relax)


def _graph_loop(cond, advance, counters, state, returns, live=(), names=None,
                relax=False):
    """A graph while_loop carrying ``counters`` and the defined entries of ``state``.

    ``cond(*counters, *state)`` is the test, ``advance(*counters, *state)`` returns the
    next (counters, state). A retval still undefined at entry (``returns``) gets its
    placeholder from one staged iteration; when no ``return`` is reachable at all the
    did-return flag keeps its entry value instead of becoming loop state. So does a
    variable first assigned in the body and read after the loop (``live``), as TF.
    With ``relax`` (a loop over a dataset, TF's reduce) a state whose shape changes
    is relaxed to the shape common to its entry and its update, unless the body
    set its own shape invariants.
    """
    k, pinned = len(counters), ()
    undefined = [i for i in live if state[i] is Undefined]
    if undefined:
        keep, expand = _carried(state)
        staged = _staged(lambda *v: advance(*v[:k], *expand(v[k:]))[1],
                         list(counters) + [state[i] for i in keep])
        state = tuple(_zeros_like(staged[i]) if i in undefined and staged[i] is not
                      Undefined else v for i, v in enumerate(state))
    if returns is not None and state[returns[1]] is Undefined:
        keep, expand = _carried(state)
        state = _define_return(state, returns, lambda: _staged(
            lambda *v: advance(*v[:k], *expand(v[k:]))[1],
            list(counters) + [state[i] for i in keep]))
        if state[returns[1]] is Undefined:
            pinned = (returns[0],)
    keep, expand = _carried(state, pinned)

    def body(*v):
        new_counters, new_state = advance(*v[:k], *expand(v[k:]))
        for i in keep:
            _check_dtypes(_name(names, i), state[i], new_state[i], "before the loop",
                          "after one iteration")
        if relax:
            _relax_state(v[k:], [new_state[i] for i in keep], k)
        return tuple(new_counters) + tuple(new_state[i] for i in keep)
    out = control_flow.while_loop(lambda *v: cond(*v[:k], *expand(v[k:])), body,
                                  list(counters) + [state[i] for i in keep])
    return expand(tuple(out)[k:])


def _relax_state(before, after, k):
    """Shape invariants letting loop state change shape, as TF's dataset loop
    (``k`` counters first); none where the body set its own."""
    from dlframe.data.dataset_reduce import _relaxed_shape
    options = getattr(control_flow._LOOP_OPTIONS, "stack", None)
    if not options or "shape_invariants" in options[-1]:
        return
    relaxed = [_relaxed_shape(a, b) for a, b in zip(before, after)]
    if any(r is not None and r != a.shape for r, a in zip(relaxed, before)):
        control_flow.set_loop_options(shape_invariants=[None] * k + relaxed)


def _name(names, i):
    return names[i] if names and i < len(names) else f"variable {i}"


def _leaf_dtypes(value):
    """DTypes of ``value``'s leaves as a graph construct sees them (Python numbers
    converted), or None when it has no leaves that convert."""
    from dlframe.core.tensor import convert_to_tensor
    leaves = []
    try:
        control_flow._flat(value, leaves, opaque=True)
    except (TypeError, ValueError):
        return None
    out = []
    for x in leaves:
        if not isinstance(x, Tensor) and hasattr(x, "_dlframe_flatten"):
            out.append(None)   # a composite (TensorArray): checked by its parts
            continue
        out.append(x.dtype if isinstance(x, Tensor) else convert_to_tensor(x).dtype)
    return out


def _check_dtypes(name, first, second, first_where, second_where):
    """TypeError naming variable ``name`` when ``first`` and ``second`` (the values a
    graph cond's branches or a loop's entry and body give it) differ in dtype."""
    a, b = _leaf_dtypes(first), _leaf_dtypes(second)
    if a is None or b is None or len(a) != len(b):
        return
    for x, y in zip(a, b):
        if x is not None and y is not None and x != y:
            raise TypeError(f"'{name}' has dtype {x.name} {first_where}, but dtype "
                            f"{y.name} {second_where}")


def _carried(state, pinned=()):
    """Indices of loop variables defined before the loop (the ones a graph loop carries,
    less ``pinned``), and a function re-inserting Undefined for the per-iteration
    temporaries and the entry values of ``pinned``."""
    keep = [i for i, v in enumerate(state) if v is not Undefined and i not in pinned]

    def expand(values):
        full = [state[i] if i in pinned else Undefined for i in range(len(state))]
        for i, v in zip(keep, values):
            full[i] = v
        return tuple(full)
    return keep, expand


def _define_return(state, returns, *stagings):
    """``state`` with a placeholder for its still-undefined return value (``returns``:
    (did_return, retval) positions): zeros with the structure, dtypes and shapes of the
    value that the first of ``stagings`` (throwaway traces of the code that may return,
    each giving its resulting state) assigns. Unchanged when none assigns one: the
    placeholder is only ever read when did_return is true, which that code sets with
    it."""
    if returns is None or state[returns[1]] is not Undefined:
        return state
    i = returns[1]
    for stage in stagings:
        value = stage()[i]
        if value is not Undefined:
            return state[:i] + (_zeros_like(value),) + state[i + 1:]
    return state


def _zeros_like(value):
    """Zeros with the nested structure, dtypes and shapes of ``value``'s tensors."""
    leaves = []
    template = control_flow._flat(value, leaves)
    zeros = [creation.zeros(tuple(x._value.shape), x.dtype) for x in leaves]
    return control_flow._unflat(template, iter(zeros))


def _staged(fn, args=()):
    """``fn(*args)`` traced once into a throwaway sub-graph, each tensor of ``args`` a
    fresh symbolic input as in a graph loop's body; the ops it records are dropped."""
    leaves, result = [], []
    template = control_flow._flat(list(args), leaves)
    control_flow._Branch(lambda *xs: result.append(fn(*control_flow._unflat(
        template, iter(xs)))), STATE.trace, leaves)
    return result[0]


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


def print_(*args, __fn=print, **kwargs):
    """``print``: Python's print, at trace time only, as in TF (a traced tensor prints
    as ``Tensor(shape=..., dtype=...)``; ``tf.print`` is what prints at run time).
    ``__fn`` is what the name ``print`` meant where it was called: a user's own
    function of that name is called instead (as converted code)."""
    if __fn is not print:
        return converted_call(__fn, *args, **kwargs)
    if STATE.silent_trace:  # trace-time output belongs to the signature's first trace
        return None
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
    call = type(target).__call__ if callable(target) else None
    if (not isinstance(target, type) and isinstance(call, types.FunctionType)
            and _convertible(call)):   # a user object's __call__ (a tf.Module's)
        return converter.convert(call)(target, *args, **kwargs)
    return target(*args, **kwargs)


def _convertible(fn):
    if getattr(fn, "__ag_do_not_convert__", False) or \
            getattr(fn, "__ag_converted__", False):
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
    return inspect.isfunction(fn)
