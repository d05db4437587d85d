"""dlframe: a TensorFlow-2-compatible deep-learning framework on CuPy and NumPy.

``import dlframe as tf`` and write TF2 code.
"""

from dlframe import config, errors
from dlframe.core import dtypes
from dlframe.core.dtypes import (DType, as_dtype, bfloat16, bool, complex64, complex128,
                                 double, float16, float32, float64, half, int8, int16,
                                 int32, int64, string, uint8, uint16, uint32, uint64)
from dlframe.core.tape import GradientTape, UnconnectedGradients
from dlframe.core.tensor import Tensor, constant, convert_to_tensor, is_tensor
from dlframe.core.tensor import is_symbolic_tensor  # noqa: F401
from dlframe.core.tensor_shape import Dimension, TensorShape
from dlframe.core.variable import (Variable, VariableAggregation, VariableSynchronization,
                                   name_scope, variable_creator_scope)
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
from dlframe.ops import cpu_fusions as _cpu_fusions  # noqa: F401 - remapper kernels
from dlframe.ops.random import *  # noqa: F401,F403
from dlframe.ops.control_flow import case, cond, switch_case, while_loop
from dlframe.ops.tensor_array import TensorArray
from dlframe.ops.functional_ops import *  # noqa: F401,F403
from dlframe.ops.py_func import *  # noqa: F401,F403
from dlframe.ops.framework_ops import *  # noqa: F401,F403
from dlframe.ops.array_misc import *  # noqa: F401,F403
from dlframe.ops.partition import *  # noqa: F401,F403
from dlframe.ops.logging import print  # noqa: A004 - TF's public name
from dlframe.ops.gradients import *  # noqa: F401,F403,A004 - tf.gradients, tf.tuple...
from dlframe.ops.variable_ops import *  # noqa: F401,F403 - tf.IndexedSlices, scatter_*
from dlframe.ops.nn_extra import *  # noqa: F401,F403 - tf.space_to_batch_nd, ...
from dlframe.core.function import function
from dlframe.core.tensor_spec import TensorSpec
from dlframe.core.trace import OperatorNotAllowedInGraphError
errors.OperatorNotAllowedInGraphError = OperatorNotAllowedInGraphError
from dlframe import autograph
from dlframe.device_scope import device
from dlframe import math, linalg, nn, random  # noqa: E402 - namespaces over ops
from dlframe import data, io, train  # noqa: E402 - tf.data, tf.io, tf.train
from dlframe import debugging, nest, sparse  # noqa: E402
from dlframe.ops.debugging import *  # noqa: E402,F401,F403
from dlframe.ops.debugging_extra import *  # noqa: E402,F401,F403
from dlframe.core.module import Module  # noqa: E402
from dlframe.core.custom_gradient import custom_gradient, recompute_grad  # noqa: E402
from dlframe import image, signal, strings  # noqa: E402
from dlframe.ops.strings import as_string  # noqa: E402,F401 - tf.as_string
from dlframe.io.sparse_tensor import SparseTensor  # noqa: E402
from dlframe import distribute, summary  # noqa: E402 - tf.distribute, tf.summary
from dlframe.summary.tensor_util import make_ndarray, make_tensor_proto  # noqa: E402
from dlframe import keras  # noqa: E402,F401 - tf.keras
from dlframe import saved_model  # noqa: E402,F401 - tf.saved_model (Keras models)
from dlframe import lite  # noqa: E402,F401 - tf.lite (dlframe-format models)
from dlframe import version, sysconfig  # noqa: E402 - tf.version, tf.sysconfig
from dlframe import compat  # noqa: E402 - tf.compat.v1 / v2
from dlframe import feature_column  # noqa: E402,F401 - tf.feature_column
from dlframe.ops.names import wrap_namespace as _wrap_namespace  # noqa: E402

_wrap_namespace(globals())   # tf.X ops accept KerasTensors (op layers, as in Keras 2)

newaxis = None
# tf.dtypes also holds the casting ops (the core dtypes module cannot import ops).
dtypes.cast, dtypes.complex, dtypes.saturate_cast = cast, complex, saturate_cast
__version__ = version.VERSION

# TF2 top-level initializer names are the Keras initializer classes (one table).
initializers = keras.initializers
constant_initializer = keras.initializers.Constant
zeros_initializer = keras.initializers.Zeros
ones_initializer = keras.initializers.Ones
random_normal_initializer = keras.initializers.RandomNormal
random_uniform_initializer = keras.initializers.RandomUniform
glorot_uniform_initializer = keras.initializers.GlorotUniform
glorot_normal_initializer = keras.initializers.GlorotNormal
truncated_normal_initializer = keras.initializers.TruncatedNormal
# TF2 keeps tf.losses / tf.metrics / tf.optimizers as the Keras modules.
losses, metrics, optimizers = keras.losses, keras.metrics, keras.optimizers


def executing_eagerly():
    """False while a dlframe.function is being traced, else True."""
    from dlframe.core.primitive import STATE
    return STATE.trace is None


def get_logger():
    """TF's ``tf.get_logger``: the Python logger named ``'tensorflow'``.

    dlframe's own records go to the ``'dlframe'`` logger, which is placed under
    ``'tensorflow'`` in the logger hierarchy: a level (or handler) set on
    ``'tensorflow'`` (``logging.getLogger('tensorflow').setLevel(logging.ERROR)``,
    ``tf.get_logger().setLevel('ERROR')``) applies to dlframe's records unless the
    ``'dlframe'`` logger sets its own level.

    Returns:
      The ``logging.Logger`` named ``'tensorflow'``.
    """
    import logging
    tf_logger = logging.getLogger("tensorflow")
    own = logging.getLogger("dlframe")
    if own.parent is not tf_logger:   # dlframe's effective level follows TF's
        own.parent = tf_logger
    return tf_logger


get_logger()


def no_gradient(op_type):
    """Declares the primitive ``op_type`` non-differentiable."""
    from dlframe.core.primitive import REGISTRY
    if op_type not in REGISTRY:
        raise KeyError(f"no_gradient: unknown op type {op_type!r}")
    REGISTRY[op_type].grad = None
from dlframe import ragged  # noqa: E402 - tf.ragged
from dlframe.ops.ragged_tensor import RaggedTensor  # noqa: E402
from dlframe.ops.ragged_spec import RaggedTensorSpec  # noqa: E402
from dlframe.data.structure import SparseTensorSpec  # noqa: F401 - tf.SparseTensorSpec
from dlframe import lookup  # noqa: E402 - tf.lookup
from dlframe import bitwise  # noqa: E402 - tf.bitwise
from dlframe import audio  # noqa: E402 - tf.audio
from dlframe import tpu  # noqa: E402 - tf.tpu (no TPU runtime: raises clearly)
config.experimental_connect_to_cluster = tpu.experimental_connect_to_cluster
config.experimental_connect_to_host = tpu.experimental_connect_to_host


# tf.experimental (tnp, extension types), tf.estimator, tf.test (unittest),
# tf.profiler and tf.raw_ops: imported on first use (import time)
_LAZY_MODULES = ("experimental", "estimator", "test", "profiler", "raw_ops")


def __getattr__(name):
    if name in _LAZY_MODULES:
        import importlib
        return importlib.import_module(f"dlframe.{name}")
    raise AttributeError(f"module 'dlframe' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_MODULES))


from dlframe import autodiff  # noqa: E402 - tf.autodiff (ForwardAccumulator)
from dlframe.core.tensor_spec import TypeSpec  # noqa: E402 - tf.TypeSpec
from dlframe.data.type_specs import (  # noqa: E402,F401 - tf.*Spec
    IndexedSlicesSpec, NoneTensorSpec, OptionalSpec, TensorArraySpec, type_spec_from_value)
from dlframe import sets  # noqa: E402 - tf.sets
from dlframe.ops.sets import edit_distance  # noqa: E402,F401 - tf.edit_distance
from dlframe.ops.array_utils import *  # noqa: E402,F401,F403 - tf.unravel_index, ...
eig, eigvals = linalg.eig, linalg.eigvals  # noqa: E305 - tf.eig / tf.eigvals
from dlframe.core.dtypes import (  # noqa: E402,F401 - quantized dtypes
    qint8, qint16, qint32, quint8, quint16)
from dlframe.ops.nn_misc import approx_top_k  # noqa: E402,F401 - tf.approx_top_k
from dlframe.ops.matrix_functions import matrix_square_root  # noqa: E402,F401
from dlframe.compat.v1_nn_native import (  # noqa: E402,F401 - tf.conv2d_backprop_*_v2
    conv2d_backprop_filter_v2, conv2d_backprop_input_v2)
from dlframe import types  # noqa: F401 - tf.types.experimental
from dlframe.core.device_spec import DeviceSpec  # noqa: F401 - tf.DeviceSpec
from dlframe.core.aggregation_method import AggregationMethod  # noqa: F401
from dlframe.compat.v1_graph import Graph  # noqa: F401 - eager: collections only
from dlframe.ops import quantization  # noqa: F401 - tf.quantization (fake quant)
