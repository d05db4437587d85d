"""``dlframe.nn``: the tf.nn name table, collected from each ops module's NN_NAMES."""

from dlframe.ops.names import collect as _collect

globals().update(_collect("NN_NAMES"))
