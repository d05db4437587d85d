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
from dlframe.ops.creation import *  # noqa: F401,F403
from dlframe.ops.slicing import *  # noqa: F401,F403
from dlframe.ops.array_index import *  # noqa: F401,F403
from dlframe.ops.sorting import *  # noqa: F401,F403
from dlframe.ops.linalg import *  # noqa: F401,F403   top-level (tf.X) name table
from dlframe.ops.math import *  # noqa: F401,F403
from dlframe.ops.math import abs, pow, round  # noqa: F401
from dlframe.ops.reduction import *  # noqa: F401,F403
from dlframe.ops.clip_ops import *  # noqa: F401,F403
from dlframe.ops.nn import *  # noqa: F401,F403
from dlframe.ops.conv import *  # noqa: F401,F403
from dlframe.ops.pooling import *  # noqa: F401,F403
from dlframe.ops.random import *  # noqa: F401,F403
from dlframe.ops.control_flow import case, cond, switch_case, while_loop
from dlframe.ops.logging import print  # noqa: A004 - TF's public name
from dlframe.core.function import function
from dlframe.core.tensor_spec import TensorSpec
from dlframe.core.trace import OperatorNotAllowedInGraphError
from dlframe import autograph
from dlframe.device_scope import device
from dlframe import math, linalg, nn, random  # noqa: E402 - namespaces over ops
from dlframe import data, io, train  # noqa: E402 - tf.data, tf.io, tf.train
from dlframe import nest, sparse  # noqa: E402
from dlframe.io.sparse_tensor import SparseTensor  # noqa: E402
from dlframe import keras  # noqa: E402,F401 - tf.keras

newaxis = None
__version__ = "0.1.0"
