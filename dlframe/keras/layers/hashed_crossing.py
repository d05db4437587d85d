# ruff: noqa: TRY004 - Keras raises ValueError for these type checks
"""Keras 3's ``HashedCrossing``: hashes the cross of categorical features into bins.

The ids are TF's ``sparse_cross_hashed`` (``dlframe.ops.hash_cross``), so they equal
Keras's for the same strings and integers.
"""

from dlframe.core import dtypes as _dt
from dlframe.core.primitive import call
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.layers.preprocessing_categorical import maybe_sparse
from dlframe.keras.layers.preprocessing_lookup import encode_categorical
from dlframe.ops import array as _array
from dlframe.ops import math as _math
from dlframe.ops.hash_cross import DEFAULT_HASH_KEY, cross_hashed_p

_MODES = ("int", "one_hot")


class HashedCrossing(Layer):
    """Crosses two or more categorical features (string or integer) by hashing
    each combination of values into ``num_bins`` bins.

    Called on a list or tuple of tensors of one shape: ``()``, ``(batch,)`` or
    ``(batch, 1)``.

    Args:
      num_bins: number of hash bins.
      output_mode: 'int' (int64 bin ids, the inputs' shape) or 'one_hot' (float
        vectors of ``num_bins``).
      sparse: with 'one_hot', a SparseTensor of the ones (as TF); ignored with 'int'.
    """

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None, dtype=None,
                 **kwargs):
        if dtype is None:
            dtype = "int64" if output_mode == "int" else "float32"
        super().__init__(name=name, dtype=dtype, **kwargs)
        if isinstance(num_bins, bool) or not isinstance(num_bins, int) or num_bins < 1:
            raise ValueError(f"`num_bins` should be a positive integer. Received: "
                             f"num_bins={num_bins!r}")
        if output_mode not in _MODES:
            raise ValueError(f"Unknown value for `output_mode` argument of "
                             f"HashedCrossing. Allowed values are: {_MODES}. Received: "
                             f"output_mode={output_mode}")
        self.num_bins = num_bins
        self.output_mode = output_mode
        self.sparse = sparse

    @property
    def _fixed_output_dtype(self):
        return _dt.int64 if self.output_mode == "int" else _dt.as_dtype(
            self.compute_dtype)

    def _check(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError("`HashedCrossing` should be called on a list or tuple of "
                             f"inputs. Received: inputs={inputs}")
        if len(inputs) < 2:
            raise ValueError("`HashedCrossing` should be called on at least two "
                             f"inputs. Received: inputs={inputs}")
        xs = [x if isinstance(x, Tensor) else convert_to_tensor(x) for x in inputs]
        shapes = [tuple(x.shape) for x in xs]
        if len(set(shapes)) != 1:
            raise ValueError("All `HashedCrossing` inputs should have equal shape. "
                             f"Received: shapes={shapes}")
        if len(shapes[0]) > 2 or (len(shapes[0]) == 2 and shapes[0][1] != 1):
            raise ValueError("All `HashedCrossing` inputs should have shape `()`, "
                             f"`(batch_size)` or `(batch_size, 1)`. Received: "
                             f"shapes={shapes}")
        for x in xs:
            if x.dtype != _dt.string and not x.dtype.is_integer:
                raise ValueError("All `HashedCrossing` inputs should have an integer "
                                 f"or string dtype. Received: dtype={x.dtype.name}")
        return xs

    def call(self, inputs):
        xs = self._check(inputs)
        shape = tuple(xs[0].shape)
        columns = []
        for x in xs:
            if x.dtype != _dt.string:
                x = _math.cast(x.cpu(), _dt.int64)
            columns.append(_array.reshape(x, [-1, 1]))
        ids = call(cross_hashed_p, tuple(columns),
                   {"num_buckets": self.num_bins, "hash_key": DEFAULT_HASH_KEY})
        ids = _array.reshape(ids, list(shape))
        if self.output_mode == "int":
            return ids
        return maybe_sparse(encode_categorical(ids, self.num_bins, "one_hot",
                                               dtype=self.compute_dtype), self.sparse)

    def compute_output_shape(self, input_shape):
        shape = list(TensorShape(input_shape[0]).as_list())
        if self.output_mode == "int":
            return TensorShape(shape)
        if shape and shape[-1] == 1:
            shape = shape[:-1]
        return TensorShape(shape + [self.num_bins])

    def get_config(self):
        config = super().get_config()
        config.pop("trainable", None)   # Keras 3's HashedCrossing does not take it
        config.update({"num_bins": self.num_bins, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config


__all__ = ["HashedCrossing"]
