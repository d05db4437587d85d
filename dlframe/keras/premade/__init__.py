"""Keras 2's premade models: ``LinearModel`` and ``WideDeepModel``
(public as ``tf.keras.experimental``)."""

from dlframe.keras.premade.linear import LinearModel  # noqa: F401
from dlframe.keras.premade.wide_deep import WideDeepModel  # noqa: F401
