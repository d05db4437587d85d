"""``dlframe.debugging``: the tf.debugging name table (ops modules' DEBUGGING_NAMES)."""

from dlframe.ops.names import collect as _collect

globals().update(_collect("DEBUGGING_NAMES"))
