"""``dlframe.strings``: the tf.strings name table, collected from each ops module's
STRINGS_NAMES."""

from dlframe.ops.names import collect as _collect

globals().update(_collect("STRINGS_NAMES"))
