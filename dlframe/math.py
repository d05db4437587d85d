"""``dlframe.math``: the tf.math name table, collected from each ops module's MATH_NAMES."""

from dlframe.ops.names import collect as _collect

globals().update(_collect("MATH_NAMES"))
