"""``dlframe.nn``: the tf.nn name table over dlframe.ops (each module's NN_NAMES)."""

from dlframe.ops import conv as _conv, nn as _nn, pooling as _pooling
from dlframe.ops.math import sigmoid, softplus, softsign, tanh  # noqa: F401

for _mod in (_nn, _conv, _pooling):
    globals().update({_name: getattr(_mod, _name) for _name in _mod.NN_NAMES})
del _mod
