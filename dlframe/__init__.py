"""dlframe: a TensorFlow-2-compatible deep-learning framework on CuPy and NumPy.

``import dlframe as tf`` and write TF2 code.
"""

from dlframe import config, errors
from dlframe.core import dtypes
from dlframe.core.dtypes import (DType, as_dtype, bfloat16, bool, complex64, complex128,
                                 double, float16, float32, float64, half, int8, int16,
                                 int32, int64, string, uint8, uint16, uint32, uint64)
from dlframe.core.tape import GradientTape
from dlframe.core.tensor import Tensor, constant, convert_to_tensor, is_tensor
from dlframe.core.tensor_shape import Dimension, TensorShape
from dlframe.core.variable import (Variable, VariableAggregation, VariableSynchronization,
                                   name_scope)
from dlframe import ops as _ops
from dlframe.ops.array import *  # noqa: F401,F403 - each ops module's __all__ is its
from dlframe.ops.linalg import *  # noqa: F401,F403   top-level (tf.X) name table
from dlframe.ops.math import *  # noqa: F401,F403
from dlframe.ops.math import abs, pow, round  # noqa: F401
from dlframe.ops.reduction import *  # noqa: F401,F403
from dlframe.ops.nn import *  # noqa: F401,F403
from dlframe.ops.conv import *  # noqa: F401,F403
from dlframe.ops.pooling import *  # noqa: F401,F403
from dlframe.ops.random import *  # noqa: F401,F403
from dlframe.device_scope import device
from dlframe import math, linalg, nn, random  # noqa: E402 - namespaces over ops

newaxis = None
__version__ = "0.1.0"
