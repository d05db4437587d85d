"""``dlframe.signal``: the tf.signal name table, collected from each ops module's SIGNAL_NAMES."""

from dlframe.ops.names import collect as _collect

globals().update(_collect("SIGNAL_NAMES"))
