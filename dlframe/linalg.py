"""``dlframe.linalg``: the tf.linalg name table, collected from each ops module's LINALG_NAMES."""

from dlframe.ops.names import collect as _collect

globals().update(_collect("LINALG_NAMES"))
