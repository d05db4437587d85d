"""``dlframe.linalg``: the tf.linalg name table, collected from each ops module's LINALG_NAMES."""

from dlframe.ops.names import collect as _collect

globals().update(_collect("LINALG_NAMES"))
from dlframe import linear_operator as _linear_operator

globals().update({_n: getattr(_linear_operator, _n)
                  for _n in _linear_operator.LINEAR_OPERATOR_NAMES})
