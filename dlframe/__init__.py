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
from dlframe.ops.array import (broadcast_to, concat, expand_dims, fill, identity, ones,
                               rank, reshape, shape, shape_n, size, split, squeeze, stack,
                               stop_gradient, transpose, unstack, zeros)
from dlframe.ops.linalg import matmul
from dlframe.ops.math import (abs, acos, acosh, add, add_n, asin, asinh, atan, atan2, atanh,
                              cast, ceil, cos, cosh, divide, equal, exp, expm1, floor,
                              floordiv, greater, greater_equal, less, less_equal, log,
                              log1p, logical_and, logical_not, logical_or, logical_xor,
                              maximum, minimum, multiply, negative, not_equal, ones_like,
                              pow, realdiv, reciprocal, round, rsqrt, saturate_cast,
                              sigmoid, sign, sin, sinh, sqrt, square, squared_difference,
                              subtract, tan, tanh, truediv, where, zeros_like)
from dlframe.ops.reduction import (reduce_max, reduce_mean, reduce_min, reduce_prod,
                                   reduce_sum)
from dlframe.device_scope import device
from dlframe import math, linalg, nn, random  # noqa: E402 - namespaces over ops

newaxis = None
__version__ = "0.1.0"
