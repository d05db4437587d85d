"""KerasTensor: the symbolic tensor of the functional API.

A KerasTensor has a static shape and dtype and remembers which layer call produced
it (``_keras_history = (layer, node_index, tensor_index)``). Python operators on a
KerasTensor insert an operator layer into the graph, so ``x * 2 + y`` works in a
functional model.
"""

import itertools

from dlframe.core import dtypes as _dt
from dlframe.core.tensor_shape import TensorShape
from dlframe.errors import SymbolicTensorError

_UNNAMED = itertools.count()


def _auto_name():
    """Keras 3's names of unnamed symbolic tensors: keras_tensor, keras_tensor_1..."""
    n = next(_UNNAMED)
    return "keras_tensor" if n == 0 else f"keras_tensor_{n}"


class KerasTensor:
    """A symbolic placeholder for a tensor flowing through a functional model.

    Args:
      shape: the static shape, batch dimension included (None for unknown dims).
      dtype: element type.
      name: optional name (Inputs are named after their InputLayer; others get
        Keras 3's ``keras_tensor_<n>``).
    """

    __array_priority__ = 200
    record_history = True   # Keras 3: the tensor records the op that made it

    def __init__(self, shape, dtype="float32", sparse=False, ragged=False, name=None):
        self._shape = TensorShape(shape)
        self._dtype = _dt.as_dtype(dtype)
        self.sparse = sparse
        self.ragged = ragged
        self.name = name if name is not None else _auto_name()
        self._keras_history = None
        self._keras_mask = None
        self._dry_values = None   # {fill: Tensor} for small int results (node.py)

    @property
    def shape(self):
        return self._shape

    def get_shape(self):
        return self._shape

    @property
    def dtype(self):
        return self._dtype

    @property
    def ndim(self):
        return self._shape.rank

    @property
    def node(self):
        if self._keras_history is None:
            return None
        layer, node_index, _ = self._keras_history
        return layer._inbound_nodes[node_index]

    def __repr__(self):
        created = ""
        if self._keras_history is not None:
            created = f" (created by layer '{self._keras_history[0].name}')"
        shape = tuple(self._shape.as_list()) if self._shape.rank is not None else None
        return (f"<KerasTensor: shape={shape} dtype={self._dtype.name}{created}>")

    __str__ = __repr__

    def __bool__(self):
        raise TypeError("A KerasTensor is symbolic: it has no concrete value, so it "
                        "cannot be used as a Python bool. Use it inside a Layer's call "
                        "or a Lambda layer.")

    def __len__(self):
        raise TypeError("A KerasTensor has no len(); use its .shape instead.")

    def __iter__(self):
        raise TypeError("A KerasTensor is symbolic and cannot be iterated over; use "
                        "it inside a Layer's call or a Lambda layer.")

    def __array__(self, dtype=None, copy=None):
        raise SymbolicTensorError(
            f"You are passing {self!r}, an intermediate Keras symbolic input/output, to "
            "an API that needs a concrete value (a NumPy call or a dlframe op). Wrap "
            "the computation in a Layer's call, or a `keras.layers.Lambda` layer.")

    def _dlframe_tensor_(self, dtype=None):
        # public ops (tf.nn.relu, tf.concat, ...) catch this and insert an op layer
        self.__array__()

    def numpy(self):
        self.__array__()

    # -- operators: each inserts an operator layer -------------------------------
    def _op(self, name, *args):
        from dlframe.keras.layers.core import _operator_call
        return _operator_call(name, (self,) + args)

    def _rop(self, name, other):
        from dlframe.keras.layers.core import _operator_call
        return _operator_call(name, (other, self))

    def __add__(self, o): return self._op("add", o)  # noqa: E704
    def __radd__(self, o): return self._rop("add", o)  # noqa: E704
    def __sub__(self, o): return self._op("subtract", o)  # noqa: E704
    def __rsub__(self, o): return self._rop("subtract", o)  # noqa: E704
    def __mul__(self, o): return self._op("multiply", o)  # noqa: E704
    def __rmul__(self, o): return self._rop("multiply", o)  # noqa: E704
    def __truediv__(self, o): return self._op("truediv", o)  # noqa: E704
    def __rtruediv__(self, o): return self._rop("truediv", o)  # noqa: E704
    def __floordiv__(self, o): return self._op("floordiv", o)  # noqa: E704
    def __rfloordiv__(self, o): return self._rop("floordiv", o)  # noqa: E704
    def __mod__(self, o): return self._op("floormod", o)  # noqa: E704
    def __pow__(self, o): return self._op("pow", o)  # noqa: E704
    def __rpow__(self, o): return self._rop("pow", o)  # noqa: E704
    def __matmul__(self, o): return self._op("matmul", o)  # noqa: E704
    def __rmatmul__(self, o): return self._rop("matmul", o)  # noqa: E704
    def __neg__(self): return self._op("negative")  # noqa: E704
    def __abs__(self): return self._op("abs")  # noqa: E704
    def __lt__(self, o): return self._op("less", o)  # noqa: E704
    def __le__(self, o): return self._op("less_equal", o)  # noqa: E704
    def __gt__(self, o): return self._op("greater", o)  # noqa: E704
    def __ge__(self, o): return self._op("greater_equal", o)  # noqa: E704
    def __getitem__(self, key): return self._op("getitem", key)  # noqa: E704

    def __pos__(self):
        return self

    def _logic(self, logical, bitwise, *args):
        return self._op(logical if self._dtype.is_bool else bitwise, *args)

    def __invert__(self):
        return self._logic("math.logical_not", "bitwise.invert")

    def __and__(self, o):
        return self._logic("math.logical_and", "bitwise.bitwise_and", o)

    def __or__(self, o):
        return self._logic("math.logical_or", "bitwise.bitwise_or", o)

    def __xor__(self, o):
        return self._logic("math.logical_xor", "bitwise.bitwise_xor", o)

    def __rand__(self, o): return self.__and__(o)  # noqa: E704
    def __ror__(self, o): return self.__or__(o)  # noqa: E704
    def __rxor__(self, o): return self.__xor__(o)  # noqa: E704
    def __rmod__(self, o): return self._rop("floormod", o)  # noqa: E704

    def reshape(self, newshape):
        """Keras 3's ``x.reshape(shape)``: ``ops.reshape`` (batch dim included)."""
        return self._op("reshape", newshape)

    def squeeze(self, axis=None):
        """Keras 3's ``x.squeeze(axis)``: drops size-1 axes (all known ones)."""
        if axis is None:
            dims = self._shape.as_list()
            axis = [i for i, d in enumerate(dims) if d == 1]
            if not axis:
                return self
        return self._op("squeeze", axis)

    __hash__ = object.__hash__


def is_keras_tensor(x):
    return isinstance(x, KerasTensor)
