"""Layer plumbing: the call context, Keras masks on tensors, dtype policies, helpers."""

import functools
import inspect
import threading
import weakref

from dlframe.core.tensor import Tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.keras import mixed_precision
from dlframe.keras.engine.keras_tensor import KerasTensor


# ---------------------------------------------------------------- call context
class _CallContext(threading.local):
    def __init__(self):
        self.depth = 0
        self.training = []
        self.dry_run = 0


CALL_CONTEXT = _CallContext()


def in_dry_run():
    """True while a layer runs on placeholder data to infer a symbolic output spec."""
    return CALL_CONTEXT.dry_run > 0


# ---------------------------------------------------------------- masks on tensors
_MASKS = {}


def _get_mask(t):
    return _MASKS.get(id(t))


def _set_mask(t, mask):
    key = id(t)
    if mask is None:
        _MASKS.pop(key, None)
        return
    if key not in _MASKS:
        weakref.finalize(t, _MASKS.pop, key, None)
    _MASKS[key] = mask


# Tensors are slotted; their Keras mask lives in a side table behind this property.
# ``del t._keras_mask`` drops it (the TF Transformer tutorial does, before its
# masked loss).
Tensor._keras_mask = property(_get_mask, _set_mask, lambda t: _set_mask(t, None))


def get_mask(x):
    if isinstance(x, (Tensor, KerasTensor)) or getattr(x, "_dlframe_composite", False):
        return getattr(x, "_keras_mask", None)   # ragged outputs carry masks too
    return None


# ---------------------------------------------------------------- dtype policy
DTypePolicy = mixed_precision.Policy   # one policy class (keras.mixed_precision)
_policy_from = mixed_precision.as_policy


# ---------------------------------------------------------------- helpers
def _params(fn):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return {}, False
    params = dict(sig.parameters)   # a plain dict: layers stay deep-copyable
    return params, any(p.kind == p.VAR_KEYWORD for p in params.values())


def _to_shape(x):
    return TensorShape(x.shape)


def _shapes_of(inputs):
    if isinstance(inputs, (list, tuple)):
        return [_shapes_of(i) for i in inputs]
    if isinstance(inputs, dict):
        return {k: _shapes_of(v) for k, v in inputs.items()}
    return _to_shape(inputs) if hasattr(inputs, "shape") else None


def _is_array_like(x):
    return hasattr(x, "__array__") or isinstance(x, (float, int, list)) and not isinstance(
        x, bool)


def keras3_positional(order):
    """Decorates an ``add_weight``-like method so that it also takes Keras 3's
    positional order.

    Keras 2 reads ``add_weight(name, shape, ...)``; Keras 3 reads
    ``add_weight(shape, initializer, ...)``. A first positional argument that is
    neither a string nor None is a shape, so the positional arguments are bound by
    name in ``order`` (Keras 3's order) instead.
    """
    def decorate(method):
        @functools.wraps(method)
        def wrapped(self, *args, **kwargs):
            if not args or args[0] is None or isinstance(args[0], str):
                return method(self, *args, **kwargs)
            if len(args) > len(order):
                raise TypeError(f"{method.__name__}() takes at most {len(order)} "
                                f"positional arguments; received {len(args)}: {args}")
            for key, value in zip(order, args):
                if key in kwargs:
                    raise TypeError(f"{method.__name__}() got multiple values for "
                                    f"argument {key!r}")
                kwargs[key] = value
            return method(self, **kwargs)
        return wrapped
    return decorate


def name_positional_flags(params, rest, kwargs):
    """Moves ``training``/``mask`` given positionally (``model(x, True)``, as Keras 2
    allows) and every positional argument after them into ``kwargs`` by name, so
    that ``__call__`` can read and propagate them like keyword arguments."""
    names = list(params)[1:1 + len(rest)]
    if len(names) < len(rest):   # more than call() takes: let call() raise
        return rest, kwargs
    for i, name in enumerate(names):
        if name in ("training", "mask"):
            if any(params[n].kind != inspect.Parameter.POSITIONAL_OR_KEYWORD
                   for n in names[i:]):
                return rest, kwargs
            for key, value in zip(names[i:], rest[i:]):
                if key in kwargs:
                    raise TypeError(f"call() got multiple values for argument {key!r}")
                kwargs[key] = value
            return rest[:i], kwargs
    return rest, kwargs


def bind_initial_state(args, kwargs):
    """Moves an RNN's second positional argument into ``kwargs['initial_state']``:
    Keras 2 and 3 both read ``lstm(x, [h, c])`` as the initial state (not a mask)."""
    if args:
        if "initial_state" in kwargs:
            raise TypeError("call() got multiple values for argument 'initial_state'")
        kwargs["initial_state"], args = args[0], args[1:]
    return args, kwargs
