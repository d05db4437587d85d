"""Fallback ArgMax primitive for metrics while the op library has none.

``dlframe.keras.losses.argmax`` prefers an op-library ``argmax`` when one exists.
"""

from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor

try:
    _p = primitive("KerasArgMax")(lambda d, x, *, axis: d.xp.argmax(x, axis=axis))
except ValueError:  # pragma: no cover - re-import of the module
    from dlframe.core.primitive import REGISTRY
    _p = REGISTRY["KerasArgMax"]


def argmax(x, axis=-1):
    """Index of the largest entry along ``axis`` (first on ties), int64."""
    x = x if isinstance(x, Tensor) else convert_to_tensor(x)
    return call(_p, (x,), {"axis": int(axis)})
