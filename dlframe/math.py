"""``dlframe.math``: the TF name table over dlframe.ops (aliases, no second implementations)."""

from dlframe.ops.math import *  # noqa: F401,F403
from dlframe.ops.math import abs, pow, round  # noqa: F401 - not exported by *
from dlframe.ops.reduction import (reduce_max, reduce_mean, reduce_min,  # noqa: F401
                                   reduce_prod, reduce_sum)
