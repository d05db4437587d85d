"""``dlframe.image``: the tf.image name table, collected from each ops module's IMAGE_NAMES."""

from dlframe.io import image_ops as _image_ops
from dlframe.ops.names import collect as _collect

globals().update(_collect("IMAGE_NAMES"))

# Image file codecs run on the host and live with the other file ops in dlframe.io.
globals().update({name: getattr(_image_ops, name) for name in _image_ops.IMAGE_CODEC_NAMES})
