"""``tf.experimental``: the members real TF2 programs touch (``tf.experimental.numpy``)."""

from dlframe.experimental import numpy  # noqa: F401
