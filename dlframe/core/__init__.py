"""Core: Tensor, Variable, dtypes, the primitive registry, GradientTape, tracing."""

from dlframe.core import dtypes
from dlframe.core.primitive import Primitive, call, primitive
from dlframe.core.tape import GradientTape
from dlframe.core.tensor import Tensor, as_operand, constant, convert_to_tensor, is_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.core.variable import Variable, name_scope

__all__ = ["dtypes", "Primitive", "call", "primitive", "GradientTape", "Tensor",
           "constant", "convert_to_tensor", "is_tensor", "as_operand", "TensorShape",
           "Variable", "name_scope"]
