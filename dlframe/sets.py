"""``dlframe.sets``: set operations over the last dimension (``tf.sets``)."""

from dlframe.ops import sets as _sets
from dlframe.ops.names import public_op as _public_op
from dlframe.ops.sets import SET_NAMES as _NAMES

globals().update({_n: _public_op(getattr(_sets, _n), f"sets.{_n}") for _n in _NAMES})
