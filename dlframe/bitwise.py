"""``dlframe.bitwise``: the tf.bitwise name table."""

from dlframe.ops import bitwise as _bitwise
from dlframe.ops.names import public_op as _public

for _name in _bitwise.BITWISE_NAMES:
    globals()[_name] = _public(getattr(_bitwise, _name), f"bitwise.{_name}")
