"""TensorFlow-compatible error types (``dlframe.errors``).

Leaf module: imports nothing of dlframe, so every package may raise these.
"""

import re


class OpError(Exception):
    """Base class of errors raised by an op, as ``tf.errors.OpError``.

    Args:
      node_def: unused, kept for TF signature compatibility.
      op: the op (name) that failed, or None.
      message: the error message.
    """

    def __init__(self, node_def=None, op=None, message=None, *args):
        if message is None and isinstance(node_def, str) and op is None:
            message, node_def = node_def, None
        super().__init__(message)
        self.node_def = node_def
        self.op = op
        self.message = message


class InvalidArgumentError(OpError):
    """An op received an invalid argument (bad shape, value or index)."""


class NotFoundError(OpError):
    """A requested entity (file, device) was not found."""


class AlreadyExistsError(OpError):
    """An entity that should be created already exists."""


class FailedPreconditionError(OpError):
    """The system is not in a state required for the operation."""


class OutOfRangeError(OpError):
    """Iteration went past the end of the input (e.g. a dataset)."""


class ResourceExhaustedError(OpError):
    """Out of memory or another resource."""


class UnimplementedError(OpError):
    """The operation is not implemented or supported."""


class InternalError(OpError):
    """An internal invariant was broken."""


class UnknownError(OpError):
    """An unknown error."""


class DataLossError(OpError):
    """Unrecoverable data loss or corruption (e.g. a bad TFRecord CRC)."""


class CancelledError(OpError):
    """The operation was cancelled."""


class DTypeMismatchError(InvalidArgumentError, TypeError):
    """Operands of an op have different dtypes.

    TensorFlow raises ``InvalidArgumentError`` from the op kernel and ``TypeError``
    from conversion paths; this subclasses both so either ``except`` catches it.
    """


class DeviceMismatchError(InvalidArgumentError, ValueError):
    """Operands of an op live on different devices. dlframe no longer raises it (ops
    copy such operands to their device, as TF does); kept for code that catches it."""


class ShapeMismatchError(InvalidArgumentError, ValueError):
    """Operands of an op have incompatible shapes.

    TF raises ``InvalidArgumentError`` for eager kernels and ``ValueError`` for
    static shape inference; this subclasses both.
    """


class AxisError(InvalidArgumentError, ValueError):
    """An axis argument is out of range for the input's rank."""


class SymbolicTensorError(TypeError):
    """A symbolic tensor (a Keras functional-model placeholder) reached an op that needs
    a concrete value. Public ops catch it and, with Keras loaded, insert an op layer."""


class CompositeTensorError(TypeError):
    """A composite tensor (a RaggedTensor) reached an op that converts its arguments to
    dense Tensors. Public ops catch it and call the op's composite implementation, if
    one is registered; Tensor operators return NotImplemented (the composite's own
    reflected operator runs)."""


__all__ = [
    "OpError", "InvalidArgumentError", "NotFoundError", "AlreadyExistsError",
    "FailedPreconditionError", "OutOfRangeError", "ResourceExhaustedError",
    "UnimplementedError", "InternalError", "UnknownError", "DataLossError",
    "CancelledError", "DTypeMismatchError", "DeviceMismatchError",
    "ShapeMismatchError", "AxisError",
]


class AbortedError(OpError):
    """The operation was aborted (typically a concurrency conflict)."""


class DeadlineExceededError(OpError):
    """A deadline expired before the operation completed."""


class PermissionDeniedError(OpError):
    """The caller lacks permission for the operation."""


class UnauthenticatedError(OpError):
    """The request lacks valid authentication credentials."""


class UnavailableError(OpError):
    """The runtime is currently unavailable."""


# TF's canonical error codes (``tf.errors.INVALID_ARGUMENT``...) and each class's code.
OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND = range(6)
ALREADY_EXISTS, PERMISSION_DENIED, RESOURCE_EXHAUSTED, FAILED_PRECONDITION = range(6, 10)
ABORTED, OUT_OF_RANGE, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS = range(10, 16)
UNAUTHENTICATED = 16
_CODES = {"CancelledError": CANCELLED, "UnknownError": UNKNOWN,
          "InvalidArgumentError": INVALID_ARGUMENT,
          "DeadlineExceededError": DEADLINE_EXCEEDED, "NotFoundError": NOT_FOUND,
          "AlreadyExistsError": ALREADY_EXISTS, "PermissionDeniedError": PERMISSION_DENIED,
          "ResourceExhaustedError": RESOURCE_EXHAUSTED,
          "FailedPreconditionError": FAILED_PRECONDITION, "AbortedError": ABORTED,
          "OutOfRangeError": OUT_OF_RANGE, "UnimplementedError": UNIMPLEMENTED,
          "InternalError": INTERNAL, "UnavailableError": UNAVAILABLE,
          "DataLossError": DATA_LOSS, "UnauthenticatedError": UNAUTHENTICATED}
for _name, _code in _CODES.items():
    globals()[_name].error_code = _code
OpError.error_code = UNKNOWN

__all__ += ["AbortedError", "DeadlineExceededError", "PermissionDeniedError",
            "UnauthenticatedError", "UnavailableError", "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
            "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
            "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
            "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"]


class UnsupportedTypeError(TypeError, ValueError):
    """A value of a type the API cannot take (``tf.constant(object())``, a string
    passed to ``Sequential.add``). TF 2 eager and Keras 3 raise ``ValueError`` where
    graph mode and Keras 2 raised ``TypeError``; this subclasses both."""


class UnsupportedCastError(UnimplementedError, TypeError):
    """A cast TF has no kernel for (string <-> number): TF raises
    ``UnimplementedError``; older dlframe code caught ``TypeError``."""


__all__ += ["UnsupportedCastError", "UnsupportedTypeError"]


class GraphInvalidArgumentError(InvalidArgumentError, ValueError):
    """An op's argument check failed while a ``tf.function`` was being traced.

    TF reports such mistakes (bad shapes, axes, sizes) from graph construction as
    ``ValueError`` and from eager kernels as ``InvalidArgumentError``; dlframe checks
    real values while tracing, so it raises this class, which subclasses both.
    """


class GraphDTypeError(DTypeMismatchError):
    """An op got a tensor of a dtype it has no kernel for, while a ``tf.function``
    was being traced: TF raises ``TypeError`` there (``InvalidArgumentError`` eager).
    """


# messages of dtype checks ("Log: Value for attr 'T' of int32 is not in the list ...",
# "GatherV2: indices must be int32 or int64, got float32")
_DTYPE_MESSAGE = re.compile(r"Value for attr 'T\w*' of|indices must be (int|integers)")


def graph_time_error(exc):
    """``exc`` as raised while tracing: a plain InvalidArgumentError becomes a
    GraphDTypeError (a dtype check) or a GraphInvalidArgumentError (same message and
    op); other errors are returned unchanged.
    """
    if not isinstance(exc, InvalidArgumentError) or isinstance(
            exc, (ValueError, TypeError)):
        return exc
    cls = (GraphDTypeError if _DTYPE_MESSAGE.search(str(exc))
           else GraphInvalidArgumentError)
    new = cls(exc.node_def, exc.op, exc.message)
    new.args = exc.args
    new.__dict__.update(exc.__dict__)   # markers such as ``from_py_function``
    return new.with_traceback(exc.__traceback__)


__all__ += ["GraphDTypeError", "GraphInvalidArgumentError"]


class InvalidDTypeError(InvalidArgumentError, ValueError):
    """An input of a dtype an API does not take, where TF's Python layer raises
    ``ValueError`` (``tf.signal.rfft`` of ints, Keras 3 conv layers on integer
    inputs) and its kernels or Keras 2 ``InvalidArgumentError``; subclasses both."""


__all__ += ["InvalidDTypeError"]
