"""``dlframe.image``: the tf.image name table, collected from each ops module's IMAGE_NAMES."""

from dlframe.ops.names import collect as _collect

globals().update(_collect("IMAGE_NAMES"))

# Image file codecs run on the host and live with the other file ops in dlframe.io.
from dlframe.io.image_ops import (  # noqa: F401
                                  decode_bmp,
                                  decode_gif,
                                  decode_image,
                                  decode_jpeg,
                                  decode_png,
                                  encode_jpeg,
                                  encode_png,
                                  is_jpeg,
)
