"""Ragged elements in pipelines: ``from_tensor_slices`` of RaggedTensors (the rows are
the elements) and ``ragged_batch`` / ``experimental.dense_to_ragged_batch`` (elements
whose leading dimension varies become the rows of a RaggedTensor); ``sparse_batch`` /
``experimental.dense_to_sparse_batch`` (elements of varying shape become the rows of a
SparseTensor).

RaggedTensor leaves stay RaggedTensors on the host inside a pipeline.
"""

import numpy as np

from dlframe.core import dtypes as _dt
from dlframe.core.tensor import Tensor
from dlframe.data import structure as S
from dlframe.data.dataset import Dataset, _int_arg
from dlframe.errors import InvalidArgumentError
from dlframe.io.sparse_tensor import SparseTensor
from dlframe.ops.ragged_spec import RaggedTensorSpec
from dlframe.ops.ragged_tensor import RaggedTensor


def is_ragged(value):
    return isinstance(value, RaggedTensor)


def has_ragged(structure):
    return any(is_ragged(leaf) for leaf in S.flatten(structure))


def _host_rows(rt):
    """A ragged_rank-1 RaggedTensor's rows as host arrays."""
    if rt.ragged_rank != 1:
        raise NotImplementedError("from_tensor_slices supports RaggedTensors of "
                                  f"ragged_rank 1, got ragged_rank {rt.ragged_rank}")
    values = S.to_host_array(rt.values)
    splits = rt.row_splits.numpy()
    return [values[splits[i]:splits[i + 1]] for i in range(len(splits) - 1)]


class _RaggedSliceDataset(Dataset):
    """``from_tensor_slices`` of a structure holding RaggedTensors."""

    def __init__(self, tensors):
        super().__init__()
        structure = tensors   # lists are tensors here (as from_tensor_slices)
        flat = S.flatten(structure)
        columns, specs = [], []
        for leaf in flat:
            if is_ragged(leaf):
                columns.append(_host_rows(leaf))
                specs.append(S.TensorSpec([None] + leaf.shape.as_list()[2:], leaf.dtype))
            else:
                arr = S.to_host_array(leaf)
                if arr.ndim == 0:
                    raise ValueError("Unbatching a tensor is only supported for rank "
                                     f">= 1, got a scalar component {leaf!r}")
                columns.append(list(arr))
                specs.append(S.TensorSpec(arr.shape[1:], _dt.from_numpy(arr.dtype)))
        sizes = {len(c) for c in columns}
        if len(sizes) > 1:
            raise ValueError(f"all components of from_tensor_slices must have the same "
                             f"number of rows; got {[len(c) for c in columns]}")
        self._structure = structure
        self._columns = columns
        self._n = sizes.pop()
        self._spec = S.pack_sequence_as(structure, specs)

    def _iter(self):
        single = len(self._columns) == 1 and not S.is_nested(self._structure)
        for i in range(self._n):
            row = [np.asarray(c[i]) for c in self._columns]
            yield row[0] if single else S.pack_sequence_as(self._structure, row)

    def _cardinality(self):
        return self._n


def _batch_component(items, spec, splits_dtype):
    if isinstance(spec, S.TensorSpec) and spec.shape.is_fully_defined() and all(
            list(np.shape(x)) == spec.shape.as_list() for x in items):
        return np.stack(items)     # components of a static shape stay dense, as TF
    if any(np.ndim(x) == 0 for x in items):
        raise InvalidArgumentError(None, None, "ragged_batch: a scalar component cannot "
                                   "be batched into a RaggedTensor")
    inner = items[0].shape[1:]
    for x in items:
        if x.shape[1:] != inner:
            raise InvalidArgumentError(
                None, None, f"ragged_batch: only the first dimension may vary; got "
                f"shapes {list(items[0].shape)} and {list(x.shape)}")
    values = np.concatenate(items) if items else np.zeros((0,) + inner)
    splits = np.concatenate([[0], np.cumsum([len(x) for x in items])]).astype(
        splits_dtype.as_numpy_dtype)
    dev = S.host_device()
    return RaggedTensor.from_row_splits(Tensor(values, dev), Tensor(splits, dev),
                                        validate=False)


class _RaggedBatchDataset(Dataset):
    """Batches elements whose dense components may differ in their first dimension."""

    def __init__(self, input_dataset, batch_size, drop_remainder, row_splits_dtype):
        super().__init__((input_dataset,))
        self._batch_size = _int_arg(batch_size, "batch_size")
        if self._batch_size <= 0:
            raise InvalidArgumentError(None, None, "Batch size must be greater than "
                                       f"zero, got batch_size={batch_size}.")
        self._drop = bool(drop_remainder)
        self._splits_dtype = _dt.as_dtype(row_splits_dtype or _dt.int64)

    def _compute_spec(self):
        dim = self._batch_size if self._drop else None

        def spec(s):
            if isinstance(s, S.TensorSpec) and not s.shape.is_fully_defined():
                return RaggedTensorSpec([dim] + s.shape.as_list(), s.dtype, 1,
                                        self._splits_dtype)
            return S.batch_spec(s, dim)
        return S.map_structure(spec, self._inputs[0].element_spec)

    def _batch(self, buf):
        specs = S.flatten(self._inputs[0].element_spec)
        columns = [S.flatten(e) for e in buf]
        out = [_batch_component([col[c] for col in columns], specs[c],
                                self._splits_dtype) for c in range(len(columns[0]))]
        return S.pack_sequence_as(buf[0], out)

    def _iter(self):
        buf = []
        for element in self._inputs[0]._iter():
            buf.append(element)
            if len(buf) == self._batch_size:
                yield self._batch(buf)
                buf = []
        if buf and not self._drop:
            yield self._batch(buf)

    def _cardinality(self):
        n = self._inputs[0]._cardinality()
        if n < 0:
            return n
        return n // self._batch_size if self._drop else -(-n // self._batch_size)


def ragged_batch(dataset, batch_size, drop_remainder=False, row_splits_dtype=None):
    """``dataset.ragged_batch(...)``."""
    return _RaggedBatchDataset(dataset, batch_size, drop_remainder, row_splits_dtype)


def dense_to_ragged_batch(batch_size, drop_remainder=False, row_splits_dtype=_dt.int64):
    """``tf.data.experimental.dense_to_ragged_batch``: a transformation for
    ``Dataset.apply`` doing ``ragged_batch``."""
    return lambda dataset: ragged_batch(dataset, batch_size, drop_remainder,
                                        row_splits_dtype)


class _SparseBatchDataset(Dataset):
    """Batches single-tensor elements of varying shape into SparseTensors."""

    def __init__(self, input_dataset, batch_size, row_shape):
        super().__init__((input_dataset,))
        self._batch_size = _int_arg(batch_size, "batch_size")
        if self._batch_size <= 0:
            raise InvalidArgumentError(None, None, "Batch size must be greater than "
                                       f"zero, got batch_size={batch_size}.")
        spec = input_dataset.element_spec
        if not isinstance(spec, S.TensorSpec):
            raise TypeError(f"sparse_batch needs elements that are one dense tensor, got "
                            f"{spec!r}")
        dims = row_shape.numpy().tolist() if hasattr(row_shape, "numpy") else (
            row_shape.as_list() if hasattr(row_shape, "as_list") else list(row_shape))
        self._row_shape = [-1 if d is None else int(d) for d in dims]
        if spec.shape.rank is not None and spec.shape.rank != len(self._row_shape):
            raise ValueError(f"`row_shape` {dims} must have the rank of the elements, "
                             f"{spec.shape}")

    def _compute_spec(self):
        spec = self._inputs[0].element_spec
        return S.SparseTensorSpec([None] + [None if d < 0 else d for d in self._row_shape],
                                  spec.dtype)

    def _batch(self, items):
        shape = [max((x.shape[i] for x in items), default=0) if d < 0 else d
                 for i, d in enumerate(self._row_shape)]
        indices, values = [], []
        for b, x in enumerate(items):
            if x.ndim != len(shape) or any(n > d for n, d in zip(x.shape, shape)):
                raise InvalidArgumentError(
                    None, None, f"sparse_batch: an element of shape {list(x.shape)} does "
                    f"not fit in row_shape {self._row_shape}")
            nz = np.argwhere(np.ones(x.shape, dtype=bool))
            indices.append(np.concatenate([np.full((len(nz), 1), b), nz], axis=1))
            values.append(x.reshape(-1))
        return SparseTensor(np.concatenate(indices).astype(np.int64),
                            np.concatenate(values),
                            np.asarray([len(items)] + shape, dtype=np.int64))

    def _iter(self):
        buf = []
        for element in self._inputs[0]._iter():
            buf.append(element)
            if len(buf) == self._batch_size:
                yield self._batch(buf)
                buf = []
        if buf:
            yield self._batch(buf)

    def _cardinality(self):
        n = self._inputs[0]._cardinality()
        return n if n < 0 else -(-n // self._batch_size)


def dense_to_sparse_batch(batch_size, row_shape):
    """``tf.data.experimental.dense_to_sparse_batch``: a transformation for
    ``Dataset.apply`` doing ``sparse_batch``."""
    return lambda dataset: dataset.sparse_batch(batch_size, row_shape)
