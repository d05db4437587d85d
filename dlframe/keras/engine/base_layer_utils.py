"""Layer plumbing: the call context, Keras masks on tensors, dtype policies, helpers."""

import inspect
import threading
import weakref

from dlframe import config as _config
from dlframe.core import dtypes as _dt
from dlframe.core.tensor import Tensor
from dlframe.core.tensor_shape import TensorShape
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
Tensor._keras_mask = property(_get_mask, _set_mask)


def get_mask(x):
    return getattr(x, "_keras_mask", None) if isinstance(x, (Tensor, KerasTensor)) else None


# ---------------------------------------------------------------- dtype policy
class DTypePolicy:
    """Variable and compute dtypes of a layer ('float32', 'mixed_float16', ...)."""

    def __init__(self, name=None):
        name = name or _config.floatx()
        if isinstance(name, DTypePolicy):
            name = name.name
        name = getattr(name, "name", name)
        if name in ("mixed_float16", "mixed_bfloat16"):
            self.compute_dtype, self.variable_dtype = name.split("_")[1], "float32"
        else:
            self.compute_dtype = self.variable_dtype = _dt.as_dtype(name).name
        self.name = name

    def __repr__(self):
        return f'<DTypePolicy "{self.name}">'


def _policy_from(dtype):
    if dtype is None:
        from dlframe.keras import mixed_precision
        return DTypePolicy(mixed_precision.global_policy().name)
    return DTypePolicy(dtype)


# ---------------------------------------------------------------- helpers
def _params(fn):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return {}, False
    return sig.parameters, any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())


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
