"""``dlframe.image``: the tf.image name table, collected from each ops module's IMAGE_NAMES."""

from dlframe.ops.names import collect as _collect

globals().update(_collect("IMAGE_NAMES"))
