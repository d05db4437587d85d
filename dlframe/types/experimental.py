"""``tf.types.experimental``: the abstract types of TF values and functions.

``TensorLike`` is a ``typing.Union`` (usable in annotations and ``isinstance``);
the function and trace types are abstract base classes that dlframe's own classes
are registered with, so ``isinstance(tf.function(f), GenericFunction)`` holds.
"""

import abc as _abc
import typing as _typing

from dlframe.backends.base import np as _np
from dlframe.core.concrete_function import ConcreteFunction as _ConcreteFunction
from dlframe.core.dtypes import DType as _DType
from dlframe.core.function import Function as _Function
from dlframe.core.tensor import Tensor as _Tensor
from dlframe.core.tensor_shape import TensorShape as _TensorShape
from dlframe.core.tensor_spec import TypeSpec as _TypeSpec

# as TF: Tensors, Python scalars, strings, sequences and NumPy values convert to a
# Tensor; composites (ragged, sparse) and None do not
TensorLike = (_Tensor | int | float | bool | str | bytes | complex | tuple | list
              | _np.ndarray | _np.generic)


class Callable(_abc.ABC):
    """Base type of everything callable like a TF function."""

    @property
    def function_type(self):
        """The function's signature (an ``inspect.Signature``), when known."""
        return None


class ConcreteFunction(Callable):
    """A function traced for one input signature (``get_concrete_function``)."""


class AtomicFunction(Callable):
    """A single graph function with no polymorphism."""


class GenericFunction(Callable):
    """A function that traces a concrete function per input signature."""


class PolymorphicFunction(GenericFunction):
    """What ``tf.function`` returns."""


class TraceType(_abc.ABC):
    """The type of a value as tracing sees it: ``is_subtype_of`` and
    ``most_specific_common_supertype`` decide retracing (TensorShape, DType and
    TypeSpecs are trace types)."""

    @_abc.abstractmethod
    def is_subtype_of(self, other):
        """True when every value of ``self`` is a value of ``other``."""

    @_abc.abstractmethod
    def most_specific_common_supertype(self, others):
        """The most specific type ``self`` and ``others`` are subtypes of, or None."""


@_typing.runtime_checkable
class SupportsTracingProtocol(_typing.Protocol):
    """Objects that give their own trace type (``__tf_tracing_type__``)."""

    def __tf_tracing_type__(self, context):
        """The object's TraceType."""


PolymorphicFunction.register(_Function)
ConcreteFunction.register(_ConcreteFunction)
for _cls in (_TensorShape, _DType, _TypeSpec):
    TraceType.register(_cls)

__all__ = ["AtomicFunction", "Callable", "ConcreteFunction", "GenericFunction",
           "PolymorphicFunction", "SupportsTracingProtocol", "TensorLike", "TraceType"]
