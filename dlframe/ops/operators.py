"""Installs Python operators on Tensor (core cannot import ops; ops patch core)."""

from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import CompositeTensorError, ShapeMismatchError, SymbolicTensorError
from dlframe.ops import array, linalg, math, math_binary
from dlframe.ops._util import operands


def _r(fn):
    return lambda self, other: fn(other, self)


def _eq(self, other):
    if other is None:
        return False
    try:
        return math.equal(self, other)
    except CompositeTensorError:
        return NotImplemented
    except ShapeMismatchError:   # TF compares incompatible shapes as a scalar False
        return convert_to_tensor(False, device=self._device)


def _ne(self, other):
    if other is None:
        return True
    try:
        return math.not_equal(self, other)
    except CompositeTensorError:
        return NotImplemented
    except ShapeMismatchError:   # TF compares incompatible shapes as a scalar True
        return convert_to_tensor(True, device=self._device)


def _and(x, y):
    x, y = math.operands(x, y, "LogicalAnd")
    return math.logical_and(x, y) if x._value.dtype.kind == "b" else math.bitwise_and(x, y)


def _or(x, y):
    x, y = math.operands(x, y, "LogicalOr")
    return math.logical_or(x, y) if x._value.dtype.kind == "b" else math.bitwise_or(x, y)


def _xor(x, y):
    x, y = math.operands(x, y, "LogicalXor")
    return math.logical_xor(x, y) if x._value.dtype.kind == "b" else math.bitwise_xor(x, y)


def _invert(x):
    return math.logical_not(x) if x._value.dtype.kind == "b" else math.invert(x)


_REFLECTED = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}


def _deferring(fn, name):
    """``fn`` returning NotImplemented for a composite operand (a RaggedTensor) or a
    symbolic Keras one (``tf.ones(...) + keras.Input(...)``) that has the reflected
    operator, so Python calls it; otherwise ``fn``'s own error stands (``Tensor @
    RaggedTensor`` says what to do instead of "unsupported operand")."""
    reflected = f"__{_REFLECTED.get(name, 'r' + name)}__"

    def op(self, other):
        try:
            return fn(self, other)
        except (CompositeTensorError, SymbolicTensorError):
            if getattr(type(other), reflected, None) is None:
                raise
            return NotImplemented
    return op


_BINARY = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "and", "or", "xor",
           "lt", "le", "gt", "ge", "matmul")


def install():
    T = Tensor
    T.__add__ = lambda s, o: math.add(s, o)
    T.__radd__ = _r(math_binary._add)   # ``np_array + t``: t's dtype (TF)
    T.__sub__ = lambda s, o: math.subtract(s, o)
    T.__rsub__ = _r(math.subtract)
    T.__mul__ = lambda s, o: math.multiply(s, o)
    T.__rmul__ = _r(math.multiply)
    T.__truediv__ = lambda s, o: math.divide(s, o)
    T.__rtruediv__ = _r(math.divide)
    T.__floordiv__ = lambda s, o: math.floordiv(s, o)
    T.__rfloordiv__ = _r(math.floordiv)
    T.__mod__ = lambda s, o: math.floormod(s, o)
    T.__rmod__ = _r(math.floormod)
    T.__pow__ = lambda s, o: math.pow(s, o)
    T.__rpow__ = _r(math.pow)
    T.__matmul__ = lambda s, o: linalg.matmul(s, o)
    T.__rmatmul__ = lambda s, o: linalg.matmul(*operands(o, s, "MatMul"))
    T.__neg__ = lambda s: math.negative(s)
    T.__pos__ = lambda s: s
    T.__abs__ = lambda s: math.abs(s)
    T.__invert__ = _invert
    T.__and__ = _and
    T.__rand__ = _r(_and)
    T.__or__ = _or
    T.__ror__ = _r(_or)
    T.__xor__ = _xor
    T.__rxor__ = _r(_xor)
    T.__lt__ = lambda s, o: math.less(s, o)
    T.__le__ = lambda s, o: math.less_equal(s, o)
    T.__gt__ = lambda s, o: math.greater(s, o)
    T.__ge__ = lambda s, o: math.greater_equal(s, o)
    T.__eq__ = _eq
    T.__ne__ = _ne
    T.__getitem__ = array.getitem
    for name in _BINARY:
        setattr(T, f"__{name}__", _deferring(getattr(T, f"__{name}__"), name))
    T.__hash__ = Tensor.__dict__["__hash__"]  # __eq__ assignment must not re-enable hashing
    T.T = property(lambda s: array.transpose(s))
