"""A minimal ``SparseTensor`` (COO: indices, values, dense_shape) and ``to_dense``.

Enough for what ``parse_example``'s ``VarLenFeature`` returns and for moving sparse
components through a ``Dataset``; sparse math lives elsewhere (or nowhere yet).
"""

from dlframe.backends.base import np  # host arrays for file I/O
from dlframe.core import dtypes as _dt
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape


def _component(value, dtype=None):
    if isinstance(value, (Tensor, np.ndarray)):
        return value
    return convert_to_tensor(value, dtype=dtype)


def _host(value):
    return value.numpy() if isinstance(value, Tensor) else np.asarray(value)


class SparseTensor:
    """A sparse tensor: ``values[i]`` sits at ``indices[i]`` of a ``dense_shape`` tensor.

    Args:
      indices: int64 ``[N, rank]`` positions of the values, in row-major order.
      values: ``[N]`` values.
      dense_shape: int64 ``[rank]`` shape of the dense tensor.
    """

    def __init__(self, indices, values, dense_shape):
        self.indices = _component(indices, _dt.int64)
        self.values = _component(values)
        self.dense_shape = _component(dense_shape, _dt.int64)
        ishape, shape = tuple(self.indices.shape), tuple(self.dense_shape.shape)
        if len(ishape) != 2 or len(shape) != 1 or (ishape[0] and ishape[1] != shape[0]):
            raise ValueError(f"SparseTensor indices must be [N, rank] and dense_shape "
                             f"[rank]; got indices shape {ishape}, dense_shape shape "
                             f"{shape}")

    @property
    def dtype(self):
        v = self.values
        return v.dtype if isinstance(v, Tensor) else _dt.from_numpy(v.dtype)

    @property
    def shape(self):
        return TensorShape([int(d) for d in _host(self.dense_shape)])

    def get_shape(self):
        return self.shape

    @classmethod
    def from_value(cls, value):
        return value if isinstance(value, SparseTensor) else cls(*value)

    def __repr__(self):
        return (f"SparseTensor(indices={self.indices!r}, values={self.values!r}, "
                f"dense_shape={self.dense_shape!r})")

    __str__ = __repr__


def to_dense(sp_input, default_value=None, validate_indices=True, name=None):
    """The dense Tensor of a SparseTensor; missing entries are ``default_value`` (0).

    Raises:
      InvalidArgumentError: when ``validate_indices`` and an index is out of bounds or
        repeated.
    """
    from dlframe.errors import InvalidArgumentError
    if not isinstance(sp_input, SparseTensor):
        raise TypeError(f"Input must be a SparseTensor, got {type(sp_input).__name__}")
    indices = _host(sp_input.indices).astype(np.int64).reshape(-1, _host(
        sp_input.dense_shape).size)
    values = _host(sp_input.values)
    shape = tuple(int(d) for d in _host(sp_input.dense_shape))
    fill = 0 if default_value is None else _host(default_value)
    if values.dtype == object and default_value is None:
        fill = b""
    dense = np.full(shape, fill, dtype=values.dtype)
    if len(indices):
        if validate_indices:
            if (indices < 0).any() or (indices >= np.asarray(shape)).any():
                raise InvalidArgumentError(
                    f"sparse_to_dense: indices out of bounds for dense shape {list(shape)}")
            flat = np.ravel_multi_index(indices.T, shape) if shape else np.zeros(1)
            if len(np.unique(flat)) != len(flat):
                raise InvalidArgumentError("sparse_to_dense: repeated indices")
        dense[tuple(indices.T)] = values
    device = sp_input.values._device if isinstance(sp_input.values, Tensor) else None
    return convert_to_tensor(dense, device=device)
