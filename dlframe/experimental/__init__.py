"""``tf.experimental``: the members real TF2 programs touch (``tf.experimental.numpy``)."""

from dlframe.data.iterators import Optional  # noqa: F401 - tf.experimental.Optional
from dlframe.experimental import numpy  # noqa: F401
