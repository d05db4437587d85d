"""``dlframe.image``: the tf.image name table, collected from each ops module's IMAGE_NAMES."""

from dlframe.io import image_jpeg_quality as _jpeg_quality
from dlframe.io import image_ops as _image_ops
from dlframe.ops.names import collect as _collect

globals().update(_collect("IMAGE_NAMES"))

# Image file codecs run on the host and live with the other file ops in dlframe.io,
# as do the JPEG re-encoding augmentations built on them.
globals().update({name: getattr(_image_ops, name) for name in _image_ops.IMAGE_CODEC_NAMES})
globals().update(
    {name: getattr(_jpeg_quality, name) for name in _jpeg_quality.JPEG_QUALITY_NAMES}
)
