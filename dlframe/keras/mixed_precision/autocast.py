"""Autocast variables (TF's AutoCastVariable): inside a mixed-precision layer's
call, float variables made with ``autocast=True`` read as the compute dtype.

Keras 2 wraps such weights in an AutoCastVariable and Keras 3 casts them on read in
``Layer.__call__``; here the variable stays the one object (its optimizer slots,
checkpoints and tapes see the float32 variable) and ``primitive.call`` reads it
through ``read_inputs`` while a mixed-precision layer's call runs: every op (slices,
concat, gather, transpose, ...) gets a recorded Cast of it, so gradients come back
float32 through the Cast's gradient. The reader is installed only while such a call
runs in some thread, so ops outside mixed precision pay nothing.
"""

import sys
import threading

from dlframe.core import dtypes as _dtypes
from dlframe.core.primitive import call
from dlframe.core.variable import AUTOCAST
from dlframe.ops.logic import cast_p

_primitive = sys.modules["dlframe.core.primitive"]   # (the package attribute
# ``dlframe.core.primitive`` is the decorator)

_LOCK = threading.Lock()
_ACTIVE = [0]   # autocast scopes open in all threads


def read_inputs(prim, inputs):
    """``inputs`` with this thread's autocast float variables cast to the compute
    dtype (assignments and casts read what the variable stores)."""
    target = AUTOCAST.dtype
    if target is None or prim.effects or prim is cast_p:
        return inputs
    out = None
    for i, x in enumerate(inputs):
        if x._is_variable and x._autocast and x._value.dtype.name != target and \
                _dtypes.from_numpy(x._value.dtype).is_floating:
            if out is None:
                out = list(inputs)
            out[i] = call(cast_p, (x,), {"dtype": _dtypes.as_dtype(target)._np})
    return inputs if out is None else tuple(out)


class autocast_variables:
    """Context of a layer's call: its autocast float variables (and those of any
    layer it reads) are read as the layer's compute dtype (Keras's
    AutoCastVariable; a layer that does not autocast, or whose policy is not mixed,
    reads them as stored: the innermost layer's policy rules).

    Args:
      layer: the layer being called.
    """

    __slots__ = ("_dtype", "_saved")

    def __init__(self, layer):
        policy = layer._dtype_policy
        self._dtype = policy.compute_dtype if layer._autocast and \
            policy.compute_dtype != policy.variable_dtype else None

    def __enter__(self):
        self._saved = AUTOCAST.dtype
        AUTOCAST.dtype = self._dtype
        if self._dtype is not None:
            with _LOCK:
                _ACTIVE[0] += 1
                _primitive.AUTOCAST_READ = read_inputs

    def __exit__(self, *exc):
        AUTOCAST.dtype = self._saved
        if self._dtype is not None:
            with _LOCK:
                _ACTIVE[0] -= 1
                if not _ACTIVE[0]:
                    _primitive.AUTOCAST_READ = None
        return False
