"""``dlframe.random``: the tf.random name table over dlframe.ops.random (RANDOM_NAMES)."""

from dlframe.ops import random as _random

globals().update({_name: getattr(_random, _name)
                  for _name in getattr(_random, "RANDOM_NAMES", [])})
