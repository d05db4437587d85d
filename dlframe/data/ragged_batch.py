"""Ragged elements in pipelines: ``from_tensor_slices`` of RaggedTensors (the rows are
the elements) and ``ragged_batch`` / ``experimental.dense_to_ragged_batch`` (elements
whose leading dimension varies become the rows of a RaggedTensor); ``sparse_batch`` /
``experimental.dense_to_sparse_batch`` (elements of varying shape become the rows of a
SparseTensor).

RaggedTensor leaves stay RaggedTensors on the host inside a pipeline.
"""

import numpy as np

from dlframe.core import dtypes as _dt
from dlframe.data import structure as S
from dlframe.data.composite import (
    _CompositeSliceDataset,
    is_ragged,
    mark_uniform_rows,
    stack_ragged,
)
from dlframe.data.dataset import Dataset, _int_arg
from dlframe.errors import DataLossError, InvalidArgumentError
from dlframe.io.sparse_tensor import SparseTensor
from dlframe.ops.ragged_spec import RaggedTensorSpec


def has_ragged(structure):
    return any(is_ragged(leaf) for leaf in S.flatten(structure))


_RaggedSliceDataset = _CompositeSliceDataset   # its former name


def _batch_component(items, spec, splits_dtype):
    if isinstance(spec, S.TensorSpec) and spec.shape.is_fully_defined() and all(
            list(np.shape(x)) == spec.shape.as_list() for x in items):
        return np.stack(items)     # components of a static shape stay dense, as TF
    if isinstance(spec, RaggedTensorSpec):
        splits_dtype = spec.row_splits_dtype
    try:
        out = stack_ragged(items, splits_dtype, _dense_ragged_rank(spec))
    except ValueError as e:
        raise InvalidArgumentError(None, None, f"ragged_batch: {e}") from None
    if isinstance(spec, S.TensorSpec):
        mark_uniform_rows(out, spec.shape.as_list()[:_dense_ragged_rank(spec)])
    return out


def _dense_ragged_rank(spec):
    """The ragged_rank a dense element of ``spec`` takes before batching (as TF):
    every dimension up to its last unknown one is ragged."""
    if not isinstance(spec, S.TensorSpec) or spec.shape.rank is None:
        return 0
    unknown = [i for i, d in enumerate(spec.shape.as_list()) if d is None]
    return unknown[-1] if unknown else 0


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
                return RaggedTensorSpec([dim] + s.shape.as_list(), s.dtype,
                                        _dense_ragged_rank(s) + 1, self._splits_dtype)
            if isinstance(s, RaggedTensorSpec):
                return RaggedTensorSpec([dim] + s.shape.as_list(), s.dtype,
                                        s.ragged_rank + 1, self._splits_dtype)
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
            if x.ndim != len(shape):
                raise InvalidArgumentError(
                    None, None, f"sparse_batch: an element of shape {list(x.shape)} does "
                    f"not fit in row_shape {self._row_shape}")
            if any(n > d for n, d in zip(x.shape, shape)):   # TF: a DataLossError
                raise DataLossError(
                    None, None, f"Input element had shape ({list(x.shape)}) that is "
                    f"larger than the row shape ({self._row_shape}).")
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
