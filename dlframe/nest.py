"""``dlframe.nest``: tf.nest over dlframe.core.nest."""

from dlframe.core.nest import *  # noqa: F401,F403
