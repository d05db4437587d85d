"""Feature crosses of sparse, ragged and dense columns (``tf.sparse.cross``,
``tf.sparse.cross_hashed``, ``tf.ragged.cross``, ``tf.ragged.cross_hashed``) and
``tf.sparse.reset_shape``.

Each input is a ``[batch, ...]`` column; row ``i`` of the result holds every
combination of one value from row ``i`` of each input (the first input varying
slowest): joined with ``separator`` as strings, or hashed as TF hashes them (the
FarmHash fingerprints of ``hash_cross``, shared with ``HashedCrossing``).
"""

import itertools

from dlframe.backends.base import np
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.ops.hash_cross import DEFAULT_HASH_KEY, feature_hash, fingerprint_cat64
from dlframe.ops.ragged_tensor import RaggedTensor
from dlframe.ops.sparse_tensor import SparseTensor

_INT64_MAX = (1 << 63) - 1


def _rows(column, what):
    """The values of each row of one input column, as Python lists."""
    if isinstance(column, SparseTensor):
        indices = np.asarray(column.indices.numpy())
        values = column.values.numpy()
        batch = int(np.asarray(column.dense_shape.numpy())[0])
        rows = [[] for _ in range(batch)]
        for (row, *_), value in zip(indices.tolist(), values.tolist()):
            rows[row].append(value)
        return rows
    if isinstance(column, RaggedTensor):
        return [list(_flat(r)) for r in column.to_list()]
    t = column if isinstance(column, Tensor) else convert_to_tensor(column)
    arr = t.numpy()
    if arr.ndim != 2:
        raise ValueError(f"{what}: dense inputs must be 2-D [batch, values], got shape "
                         f"{list(arr.shape)}")
    return [list(r) for r in arr.tolist()]


def _flat(row):
    for v in row:
        if isinstance(v, list):
            yield from _flat(v)
        else:
            yield v


def _crossed_rows(inputs, what):
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise TypeError(f"{what}: `inputs` must be a non-empty list of tensors, got "
                        f"{inputs!r}")
    columns = [_rows(c, what) for c in inputs]
    batch = {len(c) for c in columns}
    if len(batch) != 1:
        raise ValueError(f"{what}: inputs have different batch sizes {sorted(batch)}")
    return [list(itertools.product(*row)) for row in zip(*columns)]


def _as_bytes(value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return str(int(value)).encode()


def _join(combos, separator):
    sep = separator.encode() if isinstance(separator, str) else bytes(separator)
    return [[sep.join(_as_bytes(v) for v in combo) for combo in row] for row in combos]


def _hash(combos, num_buckets, hash_key):
    num_buckets = int(num_buckets)
    if num_buckets < 0:
        raise ValueError(f"`num_buckets` must be >= 0, got {num_buckets}")
    key = DEFAULT_HASH_KEY if hash_key is None else int(hash_key)
    out = []
    for row in combos:
        ids = []
        for combo in row:
            h = key
            for value in combo:
                h = fingerprint_cat64(h, feature_hash(value))
            ids.append(h % num_buckets if num_buckets > 0 else h % _INT64_MAX)
        out.append(ids)
    return out


def _string_array(flat):
    arr = np.empty(len(flat), dtype=object)
    arr[:] = flat
    return arr


def _sparse(rows, dtype):
    indices = [[i, j] for i, row in enumerate(rows) for j in range(len(row))]
    flat = [v for row in rows for v in row]
    values = _string_array(flat) if dtype is object else np.asarray(flat, np.int64)
    width = max((len(r) for r in rows), default=0)
    return SparseTensor(
        convert_to_tensor(np.asarray(indices, np.int64).reshape(-1, 2)),
        convert_to_tensor(values),
        convert_to_tensor(np.asarray([len(rows), width], np.int64)))


def _ragged(rows, dtype, row_splits_dtype="int64"):
    flat = [v for row in rows for v in row]
    values = _string_array(flat) if dtype is object else np.asarray(flat, np.int64)
    lengths = np.asarray([len(r) for r in rows], dtype=row_splits_dtype)
    return RaggedTensor.from_row_lengths(convert_to_tensor(values),
                                         convert_to_tensor(lengths), validate=False)


def sparse_cross(inputs, name=None, separator=None):
    """The string cross of ``inputs`` as a SparseTensor.

    Args:
      inputs: a list of SparseTensor or 2-D dense Tensor columns (strings or ints).
      separator: placed between the crossed values (default ``"_X_"``).
    """
    rows = _crossed_rows(inputs, "sparse.cross")
    return _sparse(_join(rows, "_X_" if separator is None else separator), object)


def sparse_cross_hashed(inputs, num_buckets=0, hash_key=None, name=None):
    """The hashed cross of ``inputs`` as an int64 SparseTensor.

    Args:
      inputs: a list of SparseTensor or 2-D dense Tensor columns.
      num_buckets: ids are taken modulo this (0: the full non-negative int64).
      hash_key: the FingerprintCat64 seed (default TF's ``0xDECAFCAFFE``).
    """
    rows = _crossed_rows(inputs, "sparse.cross_hashed")
    return _sparse(_hash(rows, num_buckets, hash_key), np.int64)


def ragged_cross(inputs, name=None):
    """The string cross (joined with ``"_X_"``) of ragged, sparse or dense columns,
    as a RaggedTensor with one row per batch row.

    Args:
      inputs: a list of RaggedTensor, SparseTensor or 2-D dense Tensor columns.
    """
    return _ragged(_join(_crossed_rows(inputs, "ragged.cross"), "_X_"), object)


def ragged_cross_hashed(inputs, num_buckets=0, hash_key=None, name=None):
    """The hashed cross of ragged, sparse or dense columns as an int64 RaggedTensor.

    Args:
      inputs: a list of RaggedTensor, SparseTensor or 2-D dense Tensor columns.
      num_buckets: ids are taken modulo this (0: the full non-negative int64).
      hash_key: the FingerprintCat64 seed (default TF's ``0xDECAFCAFFE``).
    """
    rows = _crossed_rows(inputs, "ragged.cross_hashed")
    return _ragged(_hash(rows, num_buckets, hash_key), np.int64)


def reset_shape(sp_input, new_shape=None):
    """``sp_input`` with a new dense shape: the tightest one holding its indices
    (None), or ``new_shape``, which may not be smaller in any dimension.

    Args:
      sp_input: a SparseTensor.
      new_shape: None or a 1-D int shape of the same rank.

    Raises:
      ValueError: ``new_shape`` of another rank, or smaller than the current shape.
    """
    if not isinstance(sp_input, SparseTensor):
        raise TypeError(f"`sp_input` must be a SparseTensor, got {sp_input!r}")
    indices = np.asarray(sp_input.indices.numpy(), np.int64)
    old = np.asarray(sp_input.dense_shape.numpy(), np.int64)
    if new_shape is None:
        shape = indices.max(axis=0) + 1 if len(indices) else np.zeros_like(old)
    else:
        shape = np.asarray(new_shape.numpy() if isinstance(new_shape, Tensor)
                           else new_shape, np.int64).reshape(-1)
        if shape.size != old.size:
            raise ValueError(f"`new_shape` {shape.tolist()} must have the rank "
                             f"{old.size} of sp_input's shape {old.tolist()}")
        if np.any(shape < old):
            raise ValueError(f"Requested new_shape should have dimension sizes >= "
                             f"sp_input.shape. Found new_shape ({shape.tolist()}), "
                             f"sp_input.shape ({old.tolist()}).")
    return SparseTensor(sp_input.indices, sp_input.values,
                        convert_to_tensor(shape.astype(np.int64)))


SPARSE_NAMES = ["reset_shape"]
