"""``tf.compat.v1.data``: TF2's ``tf.data`` plus the TF1 element-structure helpers."""

from dlframe.data.legacy_structure import (
    get_output_classes,
    get_output_shapes,
    get_output_types,
    make_initializable_iterator,
    make_one_shot_iterator,
)

__all__ = ["get_output_classes", "get_output_shapes", "get_output_types",
           "make_initializable_iterator", "make_one_shot_iterator"]
