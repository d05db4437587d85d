"""Helpers shared by the ``Dataset`` methods and the transformations: argument
checks (integer arguments, ``num_parallel_calls``, a user function's arity) and the
calls of user functions on host elements (``map`` functions, predicates)."""

import numpy as np

from dlframe.core import dtypes as _dt
from dlframe.data import graph_inputs
from dlframe.data import structure as S
from dlframe.data.options import AUTOTUNE
from dlframe.data.traced_fn import host_call as _call
from dlframe.errors import InvalidArgumentError


def _spec_is_cheap(dataset):
    """Whether ``element_spec`` can be had without running user functions (TF traces
    them when building; dlframe runs them on a first element, so never early)."""
    pending = [dataset]
    while pending:
        d = pending.pop()
        if d._spec is not None:
            continue
        if d._spec_runs_functions:
            return False
        pending.extend(d._inputs)
    return True


def _check_arity(fn, dataset, method):
    """TF traces a function when the pipeline is built, so calling it with the wrong
    number of element components fails there; this checks the same with the
    function's signature (skipped when the element structure is not at hand)."""
    import inspect
    if not _spec_is_cheap(dataset):
        return
    try:
        spec = dataset.element_spec
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # no signature, or an empty dataset
        return
    n = len(spec) if type(spec) is tuple else 1
    try:
        signature.bind(*range(n))
    except TypeError:
        name = getattr(fn, "__qualname__", type(fn).__name__)
        raise TypeError(f"in user code: {name}() cannot take {n} positional "
                        f"argument{'s' if n != 1 else ''}: `Dataset.{method}` passes the "
                        f"{n} components of each element {spec} as separate arguments."
                        ) from None


def _int_arg(value, name):
    if graph_inputs.is_traced(value):   # read again at each run
        return graph_inputs.TracedInt(
            _int_arg(value._device.to_numpy(value._value), name), value)
    if hasattr(value, "numpy"):
        value = value.numpy()
    if isinstance(value, np.ndarray):
        value = value.item()
    try:
        return int(value)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be an integer, got {value!r}") from None


def _parallel_calls_arg(num_parallel_calls):
    """``num_parallel_calls`` checked: None, a positive int or AUTOTUNE."""
    if num_parallel_calls is None:
        return None
    num_parallel_calls = _int_arg(num_parallel_calls, "num_parallel_calls")
    if num_parallel_calls < 1 and num_parallel_calls != AUTOTUNE:
        raise InvalidArgumentError(None, None, "num_parallel_calls must be greater than "
                                   f"zero (or AUTOTUNE), got {num_parallel_calls}.")
    return num_parallel_calls


def apply_fn(fn, element):
    """``fn(element)`` for a host element (a plain tuple is unpacked into arguments);
    returns the function's result converted back to a host element."""
    cpu = S.host_device()
    args = S.to_tensors(element, cpu)
    out = _call(fn, args, unpack=type(args) is tuple)
    return S.to_host(out)


def call_fn_raw(fn, element):
    """Like ``apply_fn`` but returns the function's raw result (predicates, datasets)."""
    args = S.to_tensors(element, S.host_device())
    return _call(fn, args, unpack=type(args) is tuple)


def predicate_value(out, what="predicate"):
    """The Python bool of a predicate's result (a scalar bool)."""
    if out is None:
        raise ValueError(f"Invalid `{what}`. `{what}` must return a `tf.bool` scalar "
                         f"tensor, but its return type is NoneTensorSpec() (did the "
                         f"function forget a `return`?).")
    arr = S.to_host_array(out) if not isinstance(out, (bool, np.bool_)) else np.asarray(out)
    if arr.dtype != np.bool_ or arr.ndim != 0:
        spec = S.TensorSpec(tuple(arr.shape), _dt.from_numpy(arr.dtype))
        raise ValueError(f"Invalid `{what}`. `{what}` must return a `tf.bool` scalar "
                         f"tensor, but its return type is {spec!r}.")
    return bool(arr.reshape(()))
