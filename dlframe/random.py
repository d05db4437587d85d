"""``dlframe.random``: the tf.random name table, collected from each ops module's RANDOM_NAMES."""

from dlframe.ops.names import collect as _collect

globals().update(_collect("RANDOM_NAMES"))
