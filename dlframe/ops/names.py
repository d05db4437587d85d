"""Collects the per-namespace name tables that ops modules declare.

Each module of ``dlframe.ops`` may list the names it contributes to ``tf.math``
(``MATH_NAMES``), ``tf.linalg`` (``LINALG_NAMES``), ``tf.nn`` (``NN_NAMES``) and
``tf.random`` (``RANDOM_NAMES``); ``dlframe.math`` etc. are built from them, so an
alias is always the same object, never a second implementation.
"""

import functools
import importlib
import pkgutil
import types

from dlframe import ops
from dlframe.core.primitive import STATE
from dlframe.errors import (
    CompositeTensorError,
    InvalidArgumentError,
    SymbolicTensorError,
    graph_time_error,
)

# Set by dlframe.keras: fn(op, api_name, args, kwargs) -> output KerasTensor(s) (or
# NotImplemented), building an op layer for a public op called on KerasTensors.
SYMBOLIC_OP_HOOK = [None]
# op function -> its implementation for composite (ragged) arguments (see ragged_dispatch)
COMPOSITE_DISPATCH = {}
# Set by dlframe.experimental.dispatch: fn(op, args, kwargs) -> the result of a dispatch
# target registered for this call (tf.experimental.dispatch_for_api), or NotImplemented.
API_DISPATCH_HOOK = [None]
_PUBLIC = {}   # op function -> its public wrapper (one per op: aliases stay identical)
_NAMESPACES = {"MATH_NAMES": "math", "LINALG_NAMES": "linalg", "NN_NAMES": "nn",
               "RANDOM_NAMES": "random", "IMAGE_NAMES": "image",
               "STRINGS_NAMES": "strings", "DEBUGGING_NAMES": "debugging",
               "SIGNAL_NAMES": "signal"}


def public_op(fn, api_name):
    """The public face of op ``fn`` (``tf.<api_name>``).

    It calls ``fn``; a call on symbolic Keras tensors (building a functional model,
    ``tf.nn.relu(inputs)``) goes to the Keras hook, which inserts an op layer as
    Keras 2's TFOpLambda does. Anything that is not a function of ``dlframe.ops`` is
    returned unchanged.
    """
    if (not isinstance(fn, types.FunctionType) or hasattr(fn, "_dlframe_op")
            or not fn.__module__.startswith("dlframe.ops.")):
        return fn   # not an op, or already its public wrapper
    wrapper = _PUBLIC.get(fn)
    if wrapper is None:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                if STATE.trace is not None:
                    return _traced_call(fn, api_name, args, kwargs)
                return fn(*args, **kwargs)
            except SymbolicTensorError:
                hook = SYMBOLIC_OP_HOOK[0]
                out = NotImplemented if hook is None else hook(fn, api_name, args, kwargs)
                if out is NotImplemented:
                    raise
                return out
            except CompositeTensorError as e:
                return _composite_call(fn, api_name, e, args, kwargs)
        wrapper._dlframe_op = fn
        _PUBLIC[fn] = wrapper
    return wrapper


# graph names of public ops whose TF name differs from their op type's default
# (``tf.add`` makes 'Add' where ``x + y`` makes 'add')
_DEFAULT_NAMES = {"add": "Add", "math.add": "Add", "multiply": "Mul",
                  "math.multiply": "Mul", "subtract": "Sub", "math.subtract": "Sub",
                  "pow": "Pow", "math.pow": "Pow", "matmul": "MatMul",
                  "linalg.matmul": "MatMul", "divide": "truediv",
                  "math.divide": "truediv", "transpose": "transpose",
                  "linalg.matrix_transpose": "matrix_transpose", "one_hot": "one_hot",
                  "stack": "stack", "unstack": "unstack", "split": "split",
                  "zeros": "zeros", "ones": "ones", "add_n": "AddN",
                  "math.add_n": "AddN", "nn.bias_add": "BiasAdd", "shape": "Shape",
                  "rank": "Rank", "size": "Size", "where": "SelectV2"}


def _traced_call(fn, api_name, args, kwargs):
    """``fn`` inside a traced function: its outputs take TF's graph name
    (``name=`` or the op's default name) in the current name scope."""
    trace = STATE.trace
    start = len(getattr(trace, "nodes", ()))
    try:
        out = fn(*args, **kwargs)
    except InvalidArgumentError as e:
        # TF finds shape/axis mistakes while building the graph: ValueError there
        converted = graph_time_error(e)
        if converted is e:
            raise
        raise converted from None
    name = kwargs.get("name") or _DEFAULT_NAMES.get(api_name)
    if isinstance(name, str) and hasattr(trace, "name_outputs"):
        trace.name_outputs(out, name, start)
    return out


def _composite_call(fn, api_name, error, args, kwargs):
    """Op ``fn`` on composite arguments: a dispatch target registered for this call
    (``tf.experimental.dispatch_for_api``), else the built-in ragged version."""
    hook = API_DISPATCH_HOOK[0]
    if hook is not None:
        out = hook(fn, args, kwargs)
        if out is not NotImplemented:
            return out
    impl = COMPOSITE_DISPATCH.get(fn)
    if impl is None:
        raise CompositeTensorError(
            f"tf.{api_name} does not support RaggedTensor arguments ({error}); "
            "apply it to rt.flat_values (tf.ragged.map_flat_values) or to "
            "rt.to_tensor().") from None
    return impl(*args, **kwargs)


def unwrap(fn):
    """The op behind a public wrapper (``fn`` itself otherwise)."""
    return getattr(fn, "_dlframe_op", fn)


def collect(table):
    """{name: object} over every ops module's list attribute ``table``."""
    found = {}
    for info in sorted(pkgutil.iter_modules(ops.__path__), key=lambda i: i.name):
        if info.name.startswith("numpy_api"):
            continue   # keras.ops / tnp implementations: no tf.* tables, loaded lazily
        mod = importlib.import_module(f"dlframe.ops.{info.name}")
        for name in getattr(mod, table, ()):
            api = f"{_NAMESPACES[table]}.{name}"
            obj = getattr(mod, name)
            if isinstance(obj, types.SimpleNamespace):   # e.g. tf.random.experimental
                for attr, value in vars(obj).items():
                    setattr(obj, attr, public_op(value, f"{api}.{attr}"))
            found[name] = public_op(obj, api)
    return found


def wrap_namespace(namespace):
    """Replaces the ops functions of a module namespace dict by their public wrappers."""
    for name, obj in list(namespace.items()):
        if not name.startswith("_"):
            namespace[name] = public_op(obj, name)
