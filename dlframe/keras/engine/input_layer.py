"""InputLayer and ``keras.Input``: the entry points of a functional graph."""

from dlframe.core.tensor_shape import TensorShape
from dlframe.keras import backend
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.engine.keras_tensor import KerasTensor
from dlframe.keras.engine.node import Node


class InputLayer(Layer):
    """A layer holding one symbolic input (``layer.output`` is a KerasTensor).

    Args:
      input_shape: shape without the batch dimension.
      batch_size: optional fixed batch size.
      dtype: input dtype (default floatx).
      input_tensor: an existing KerasTensor to wrap.
      sparse: the input is a ``SparseTensor`` (a model passes it to its first layers
        as one; ``Dense`` multiplies it sparse-dense).
      ragged: the input is a ``RaggedTensor`` whose ``None`` dimensions (after the
        batch dimension) are ragged.
      name: layer name (default 'input_1', 'input_2', ...).
      batch_input_shape / batch_shape: full shape including the batch dimension.
      optional: the model accepts ``None`` for this input and passes ``None`` on to
        the layers it feeds (Keras 3).
    """

    def __init__(self, input_shape=None, batch_size=None, dtype=None, input_tensor=None,
                 sparse=None, name=None, ragged=None, type_spec=None,
                 batch_input_shape=None, batch_shape=None, optional=False, **kwargs):
        if name is None:
            name = f"input_{backend.get_uid('input')}"
        shape = kwargs.pop("shape", None)
        if input_shape is None and shape is not None:
            input_shape = shape
        batch_input_shape = batch_shape if batch_input_shape is None else batch_input_shape
        if input_shape is not None and batch_input_shape is not None:
            raise ValueError("Only provide the `input_shape` OR `batch_input_shape` "
                             "argument to InputLayer, not both at the same time.")
        if input_tensor is not None and dtype is None:
            dtype = input_tensor.dtype
        dtype = getattr(dtype, "name", dtype) or backend.floatx()
        if sparse and ragged:
            raise ValueError("KerasTensor cannot have `sparse=True` and `ragged=True` "
                             f"at the same time. Received: sparse={sparse!r}, "
                             f"ragged={ragged!r}")
        super().__init__(name=name, dtype=dtype, **kwargs)
        if batch_input_shape is None:
            if input_tensor is not None:
                batch_input_shape = tuple(input_tensor.shape.as_list())
            else:
                if input_shape is None:
                    raise ValueError("Please provide to Input a `shape` or a "
                                     "`tensor` or a `type_spec` argument. Note that "
                                     "`shape` does not include the batch dimension.")
                if isinstance(input_shape, int):
                    input_shape = (input_shape,)
                batch_input_shape = (batch_size,) + tuple(
                    input_shape.as_list() if isinstance(input_shape, TensorShape)
                    else input_shape)
        for d in batch_input_shape:
            if d is not None and (not isinstance(d, int) or d < 0):
                raise ValueError(f"Cannot convert '{tuple(batch_input_shape)}' to a shape: "
                                 f"dimension {d!r} is not a non-negative int or None.")
        self._batch_input_shape = tuple(batch_input_shape)
        self.sparse = bool(sparse)
        self.ragged = bool(ragged)
        self.optional = bool(optional)
        self.built = True
        self.is_placeholder = input_tensor is None
        tensor = input_tensor if input_tensor is not None else KerasTensor(
            self._batch_input_shape, dtype, sparse=self.sparse, ragged=self.ragged,
            name=name)
        node = Node(self, (), {}, tensor)
        node.is_input = True
        self._input_tensor = tensor

    @property
    def dtype(self):
        return self._dtype_policy.name

    def get_config(self):
        return {"batch_input_shape": self._batch_input_shape, "dtype": self.dtype,
                "sparse": self.sparse, "ragged": self.ragged, "name": self.name,
                "optional": self.optional}

    def compute_output_shape(self, input_shape):
        return self._batch_input_shape


def Input(shape=None, batch_size=None, name=None, dtype=None, sparse=None, tensor=None,
          ragged=None, type_spec=None, batch_shape=None, optional=False, **kwargs):
    """Creates a symbolic input (a KerasTensor) for the functional API.

    Args:
      shape: shape tuple without the batch dimension (e.g. ``(28, 28)``).
      batch_size: optional static batch size.
      name: name of the input (and its InputLayer).
      dtype: element type (default floatx).
      tensor: an existing KerasTensor to wrap.
      sparse: the input is a ``SparseTensor``.
      ragged: the input is a ``RaggedTensor``.
      batch_shape: full shape including batch (alternative to shape/batch_size).
      optional: the model accepts ``None`` for this input (Keras 3).
    """
    batch_input_shape = kwargs.pop("batch_input_shape", batch_shape)
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments passed to Input: {kwargs}")
    if shape is None and batch_input_shape is None and tensor is None:
        raise ValueError("Please provide to Input a `shape` or a `tensor` or a "
                         "`type_spec` argument. Note that `shape` does not include "
                         "the batch dimension.")
    if shape is not None and batch_input_shape is not None:
        raise ValueError("Only provide the `shape` OR `batch_shape` argument to Input, "
                         "not both at the same time.")
    layer = InputLayer(input_shape=shape, batch_size=batch_size, name=name, dtype=dtype,
                       sparse=sparse, ragged=ragged, input_tensor=tensor,
                       batch_input_shape=batch_input_shape, optional=optional)
    return layer._input_tensor
