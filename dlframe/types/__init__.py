"""``tf.types``: public type descriptions for annotations and ``isinstance`` checks."""

from dlframe.types import experimental

__all__ = ["experimental"]
