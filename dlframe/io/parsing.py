"""Parsing tf.train.Example records: feature configs, parse_single_example, parse_example.

Example protos only hold three kinds of lists, so features are float32 (FloatList),
int64 (Int64List) or string (BytesList), as in TensorFlow.
"""

import collections

from dlframe.backends.base import np  # host arrays for file I/O
from dlframe.core import dtypes as _dt
from dlframe.core.primitive import STATE
from dlframe.core.tensor import Tensor
from dlframe.errors import InvalidArgumentError
from dlframe.io.host_ops import string_input
from dlframe.io.parsing_layout import BATCH, Part, parser_primitive, run_parser

_KIND = {"float32": "float_list", "int64": "int64_list", "string": "bytes_list"}
_KIND_NAME = {"float_list": "float", "int64_list": "int64", "bytes_list": "string"}


class FixedLenFeature(collections.namedtuple(
        "FixedLenFeature", ["shape", "dtype", "default_value"])):
    """A dense feature of a fixed shape; missing values take ``default_value``.

    Args:
      shape: the feature's shape (its values are read in row-major order).
      dtype: float32, int64 or string.
      default_value: used when the feature is absent; without it the feature is required.
    """

    def __new__(cls, shape, dtype, default_value=None):
        return super().__new__(cls, shape, dtype, default_value)


class FixedLenSequenceFeature(collections.namedtuple(
        "FixedLenSequenceFeature", ["shape", "dtype", "allow_missing", "default_value"])):
    """A dense feature of ``[n] + shape`` values for a variable ``n``."""

    def __new__(cls, shape, dtype, allow_missing=False, default_value=None):
        return super().__new__(cls, shape, dtype, allow_missing, default_value)


class VarLenFeature(collections.namedtuple("VarLenFeature", ["dtype"])):
    """A variable-length feature, parsed into a ``SparseTensor``."""


class RaggedFeature(collections.namedtuple(
        "RaggedFeature", ["dtype", "value_key", "partitions", "row_splits_dtype",
                          "validate"])):
    """A variable-length feature, parsed into a ``RaggedTensor`` (one example: a 1-D
    Tensor, or a RaggedTensor when ``partitions`` split it further).

    Args:
      dtype: float32, int64 or string.
      value_key: the feature holding the values (default: the dict key).
      partitions: row partitions from outermost to innermost, each naming an int64
        feature (``RowSplits``, ``RowLengths``, ``RowStarts``, ``RowLimits``,
        ``ValueRowIds``) or giving a ``UniformRowLength``.
      row_splits_dtype: int32 (default) or int64.
      validate: accepted for TF compatibility (partitions are always checked).
    """

    RowSplits = collections.namedtuple("RowSplits", ["key"])
    RowLengths = collections.namedtuple("RowLengths", ["key"])
    RowStarts = collections.namedtuple("RowStarts", ["key"])
    RowLimits = collections.namedtuple("RowLimits", ["key"])
    ValueRowIds = collections.namedtuple("ValueRowIds", ["key"])
    UniformRowLength = collections.namedtuple("UniformRowLength", ["length"])

    def __new__(cls, dtype, value_key=None, partitions=(), row_splits_dtype=_dt.int32,
                validate=False):
        row_splits_dtype = _dt.as_dtype(row_splits_dtype)
        if row_splits_dtype not in (_dt.int32, _dt.int64):
            raise ValueError("row_splits_dtype must be int32 or int64, got "
                             f"{row_splits_dtype!r}")
        return super().__new__(cls, dtype, value_key, tuple(partitions),
                               row_splits_dtype, validate)


_SPARSE_FIELDS = ["index_key", "value_key", "dtype", "size", "already_sorted"]


class SparseFeature(collections.namedtuple("SparseFeature", _SPARSE_FIELDS)):
    """A sparse feature stored as index feature(s) and a value feature, parsed into a
    ``SparseTensor`` of dense shape ``size``.

    Args:
      index_key: the int64 feature holding the indices (a list of keys, one per
        dimension, for a multi-dimensional feature).
      value_key: the feature holding the values.
      dtype: float32, int64 or string.
      size: the dense size (a list, one per dimension, with a list ``index_key``).
      already_sorted: the indices are already in order (otherwise they are sorted).
    """

    def __new__(cls, index_key, value_key, dtype, size, already_sorted=False):
        return super().__new__(cls, index_key, value_key, dtype, size, already_sorted)


def _sparse_parts(example, key, config, dtype, kind):
    """One example's SparseFeature as (``[n, ndims]`` indices, values)."""
    index_keys = config.index_key if isinstance(config.index_key, (list, tuple)) else \
        [config.index_key]
    values = _values(example, config.value_key, kind, dtype)
    values = _empty(dtype) if values is None else values
    columns = []
    for ik in index_keys:
        ids = _values(example, ik, "int64_list", _dt.int64)
        ids = np.zeros(0, np.int64) if ids is None else ids.astype(np.int64)
        if len(ids) != len(values):
            raise InvalidArgumentError(
                None, None, f"Key: {key}.  SparseFeature index {ik!r} has {len(ids)} "
                f"values but value {config.value_key!r} has {len(values)}")
        columns.append(ids)
    indices = np.stack(columns, axis=1) if columns else np.zeros((0, 0), np.int64)
    if not config.already_sorted and len(values):
        order = np.lexsort(indices.T[::-1])
        indices, values = indices[order], values[order]
    return indices.reshape(len(values), len(index_keys)), values


def _sparse_size(config):
    return _shape(config.size)


def _kind(dtype, key):
    d = _dt.as_dtype(dtype)
    kind = _KIND.get(d.name)
    if kind is None:
        raise InvalidArgumentError(   # TF's eager error (its graph mode: TypeError)
            None, None, f"Unsupported dtype {d.name} for feature {key!r}: Example "
            "features are float32, int64 or string.")
    return d, kind


def _example_class():
    from dlframe.train import _proto
    return _proto.classes()["Example"]


def _decode(example_cls, data, index):
    if isinstance(data, str):
        data = data.encode()
    try:
        return example_cls.FromString(bytes(data))
    except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError
        where = "" if index is None else f" (example {index})"
        raise InvalidArgumentError(None, None,
                                   f"Could not parse example input{where}: {exc}") from None


def _values(example, key, kind, dtype):
    """The values of feature ``key`` as a 1-D host array, or None when absent."""
    fmap = example.features.feature
    if key not in fmap:
        return None
    feature = fmap[key]
    which = feature.WhichOneof("kind")
    if which is None:
        return np.zeros(0, dtype=dtype._np)
    if which != kind:
        raise InvalidArgumentError(
            None, None, f"Key: {key}.  Data types don't match. Data type: "
            f"{_KIND_NAME[which]} but expected type: {_KIND_NAME[kind]}")
    values = getattr(feature, which).value
    if kind == "bytes_list":
        out = np.empty(len(values), dtype=object)
        out[:] = list(values)
        return out
    return np.asarray(values, dtype=dtype._np)


def _default(config, key, dtype, shape):
    if config.default_value is None:
        return None
    value = config.default_value
    if isinstance(value, Tensor):
        value = value.numpy()
    arr = np.asarray(value, dtype=object if dtype is _dt.string else dtype._np)
    if dtype is _dt.string:
        arr = np.vectorize(lambda s: s.encode() if isinstance(s, str) else s,
                           otypes=[object])(arr) if arr.size else arr
    try:
        return np.broadcast_to(arr.reshape(arr.shape if arr.size != 1 else ()),
                               shape).copy()
    except ValueError:
        raise ValueError(f"default_value {config.default_value!r} of feature {key!r} "
                         f"does not fit shape {list(shape)}") from None


def _fixed(values, config, key, dtype, shape):
    n = int(np.prod(shape)) if shape else 1
    if values is None:
        default = _default(config, key, dtype, shape)
        if default is None:
            raise InvalidArgumentError(
                None, None, f"Feature: {key} (data type: {_KIND_NAME[_KIND[dtype.name]]}) "
                "is required but could not be found.")
        return default
    if values.size != n:
        raise InvalidArgumentError(
            None, None, f"Key: {key}.  Can't parse serialized Example: number of "
            f"{_KIND_NAME[_KIND[dtype.name]]} values != expected. Values size: "
            f"{values.size} but output shape: {list(shape)}")
    return values.reshape(shape)


def _sequence(values, config, key, dtype, shape):
    n = int(np.prod(shape)) if shape else 1
    if values is None:
        if not config.allow_missing:
            raise InvalidArgumentError(None, None, f"Feature: {key} is required but could "
                                       "not be found.")
        values = np.zeros(0, dtype=object if dtype is _dt.string else dtype._np)
    if n == 0 or values.size % n:
        raise InvalidArgumentError(
            None, None, f"Key: {key}.  Number of values ({values.size}) is not a "
            f"multiple of the element size {n} of shape {list(shape)}")
    return values.reshape([-1] + list(shape))


def _parse_one(example, features):
    out = {}
    for key, config in features.items():
        dtype, kind = _kind(config.dtype, key)
        if isinstance(config, RaggedFeature):
            out[key] = _ragged_parts(example, key, config, dtype, kind)
            continue
        if isinstance(config, SparseFeature):
            out[key] = _sparse_parts(example, key, config, dtype, kind)
            continue
        values = _values(example, key, kind, dtype)
        if isinstance(config, FixedLenFeature):
            out[key] = _fixed(values, config, key, dtype, tuple(_shape(config.shape)))
        elif isinstance(config, FixedLenSequenceFeature):
            out[key] = _sequence(values, config, key, dtype, tuple(_shape(config.shape)))
        elif isinstance(config, VarLenFeature):
            out[key] = values if values is not None else np.zeros(
                0, dtype=object if dtype is _dt.string else dtype._np)
        else:
            raise TypeError(f"Unsupported feature config {config!r} for key {key!r}")
    return out


def _empty(dtype):
    return np.zeros(0, dtype=object if dtype is _dt.string else dtype._np)


def _ragged_parts(example, key, config, dtype, kind):
    """One example's RaggedFeature as (values, row splits outermost first); trailing
    ``UniformRowLength`` partitions become dense inner dimensions of ``values``."""
    values = _values(example, config.value_key or key, kind, dtype)
    values = _empty(dtype) if values is None else values
    splits = []
    for part in reversed(config.partitions):
        n = len(values)
        if isinstance(part, RaggedFeature.UniformRowLength):
            width = int(part.length)
            if splits or width <= 0 or n % width:
                raise InvalidArgumentError(
                    None, None, f"Key: {key}.  UniformRowLength({part.length}) does not "
                    f"divide the {n} values (or follows a ragged partition).")
            values = values.reshape((n // width, width) + values.shape[1:])
            continue
        ids = _values(example, part.key, "int64_list", _dt.int64)
        ids = np.zeros(0, np.int64) if ids is None else ids.astype(np.int64)
        if isinstance(part, RaggedFeature.RowSplits):
            row_splits = ids
        elif isinstance(part, RaggedFeature.RowLengths):
            row_splits = np.concatenate([[0], np.cumsum(ids)])
        elif isinstance(part, RaggedFeature.RowStarts):
            row_splits = np.concatenate([ids, [n]])
        elif isinstance(part, RaggedFeature.RowLimits):
            row_splits = np.concatenate([[0], ids])
        elif isinstance(part, RaggedFeature.ValueRowIds):
            counts = np.bincount(ids, minlength=0) if len(ids) else np.zeros(0, np.int64)
            row_splits = np.concatenate([[0], np.cumsum(counts)])
        else:
            raise TypeError(f"Unsupported partition {part!r} of RaggedFeature {key!r}")
        row_splits = row_splits.astype(np.int64)
        if (len(row_splits) == 0 or row_splits[0] != 0 or row_splits[-1] != n
                or np.any(np.diff(row_splits) < 0)):
            raise InvalidArgumentError(
                None, None, f"Key: {key}.  Invalid row partition {part!r} for "
                f"{n} values: row splits {row_splits.tolist()}")
        splits.insert(0, row_splits)
    return values, splits


def _batch_ragged(parts, dtype, splits_dtype):
    """The arrays (flat values, row splits outermost first) of a RaggedTensor whose
    rows are the examples' (values, splits) ``parts``."""
    depth = len(parts[0][1]) if parts else 0
    inner = parts[0][0].shape[1:] if parts else ()
    levels = [[np.zeros(1, np.int64)] for _ in range(depth + 1)]
    offsets = [0] * (depth + 1)
    for values, splits in parts:
        sizes = [len(sp) - 1 for sp in splits] + [len(values)]
        levels[0].append(np.asarray([offsets[0] + sizes[0]]))
        offsets[0] += sizes[0]
        for level, sp in enumerate(splits, start=1):
            levels[level].append(sp[1:] + offsets[level])
            offsets[level] += sizes[level]
    flat = np.concatenate([v for v, _ in parts]) if parts else \
        np.zeros((0,) + tuple(inner), _empty(dtype).dtype)
    return [flat] + [np.concatenate(lv).astype(splits_dtype._np) for lv in levels]


def _tf_order(features, out):
    """``out`` ordered as TF returns parsed features: sparse keys, then dense keys, then
    ragged keys, each sorted."""
    def rank(key):
        config = features[key]
        group = 0 if isinstance(config, (VarLenFeature, SparseFeature)) else \
            2 if isinstance(config, RaggedFeature) else 1
        return group, key
    return {key: out[key] for key in sorted(out, key=rank)}


def _shape(shape):
    if shape is None:
        return []
    if isinstance(shape, int):
        return [shape]
    return [int(d) for d in shape]


def _feature_keys(key, config):
    """("dense" | "sparse" | "ragged", the Example keys ``config`` reads)."""
    if isinstance(config, RaggedFeature):
        return "ragged", [config.value_key or key] + [
            p.key for p in config.partitions if hasattr(p, "key")]
    if isinstance(config, SparseFeature):
        index = config.index_key
        return "sparse", list(index if isinstance(index, (list, tuple)) else [index]) \
            + [config.value_key]
    if isinstance(config, VarLenFeature):
        return "sparse", [key]
    return "dense", [key]


def _check_features(features):
    if not features:
        raise ValueError("Missing: features was empty.")
    if not isinstance(features, dict):
        raise TypeError(f"features must be a dict of feature configs, got {features!r}")
    keys = {"dense": [], "sparse": [], "ragged": []}
    for key, config in features.items():
        if isinstance(config, FixedLenSequenceFeature) and not config.allow_missing:
            raise ValueError("Unsupported: FixedLenSequenceFeature requires "
                             f"allow_missing to be True (feature {key!r}).")
        dtype, _ = _kind(config.dtype, key)
        if isinstance(config, FixedLenFeature):   # a bad default fails when traced
            _default(config, key, dtype, tuple(_shape(config.shape)))
        kind, names = _feature_keys(key, config)
        keys[kind] += [n for n in names if n not in keys[kind]]
    for a, b in (("dense", "sparse"), ("dense", "ragged"), ("ragged", "sparse")):
        common = set(keys[a]) & set(keys[b])
        if common:
            raise ValueError(f"{a.capitalize()} and {b} keys must not intersect; "
                             f"{a}_keys: {keys[a]}, {b}_keys: {keys[b]}, "
                             f"intersection: {common}")


def _inner_dims(config):
    """(uniform inner dims, ragged partition count) of a RaggedFeature."""
    inner, ragged = [], 0
    for part in config.partitions:
        if isinstance(part, RaggedFeature.UniformRowLength):
            inner.append(int(part.length))
        else:
            ragged, inner = ragged + 1, []
    return inner, ragged


def feature_part(config, batched):
    """The ``Part`` (result layout) of one feature config; ``batched`` for a batch
    of records (a leading ``BATCH`` dim)."""
    lead = (BATCH,) if batched else ()
    dtype = _dt.as_dtype(config.dtype)
    if isinstance(config, RaggedFeature):
        inner, ragged = _inner_dims(config)
        return Part("ragged", dtype, lead + tuple(inner), ragged + batched,
                    config.row_splits_dtype.name)
    if isinstance(config, VarLenFeature):
        return Part("sparse", dtype, lead + (None,))
    if isinstance(config, SparseFeature):
        return Part("sparse", dtype, lead + tuple(_sparse_size(config)))
    seq = (None,) if isinstance(config, FixedLenSequenceFeature) else ()
    return Part("dense", dtype, lead + seq + tuple(_shape(config.shape)))


def _single_arrays(data, features):
    """``{key: [arrays]}`` of one serialized Example (a 0-d host array)."""
    parsed = _parse_one(_decode(_example_class(), data[()], None), features)
    out = {}
    for key, config in features.items():
        value = parsed[key]
        if isinstance(config, VarLenFeature):
            n = len(value)
            out[key] = [np.arange(n, dtype=np.int64).reshape(n, 1), value,
                        np.asarray([n], np.int64)]
        elif isinstance(config, RaggedFeature):
            values, splits = value
            out[key] = [values] + [sp.astype(config.row_splits_dtype._np)
                                   for sp in splits]
        elif isinstance(config, SparseFeature):
            out[key] = list(value) + [np.asarray(_sparse_size(config), np.int64)]
        else:
            out[key] = [value]
    return out


def _padded(values, shape, fill, np_dtype):
    """``values`` (arrays of ``[n_i] + shape``) padded with ``fill`` to the longest."""
    longest = max((len(v) for v in values), default=0)
    dense = np.full((len(values), longest) + tuple(shape), fill, dtype=np_dtype)
    for i, v in enumerate(values):
        if len(v):
            dense[i, :len(v)] = v
    return dense


def _batch_sparse(values, np_dtype, dense_shape):
    """The arrays of a SparseTensor whose row ``i`` holds example ``i``'s
    ``(indices, values)``."""
    idx = [np.concatenate([np.full((len(v), 1), i, np.int64), ind], axis=1)
           for i, (ind, v) in enumerate(values)]
    indices = np.concatenate(idx) if idx else np.zeros((0, len(dense_shape)), np.int64)
    flat = np.concatenate([v for _, v in values]) if values else np.zeros(0, np_dtype)
    return [indices.astype(np.int64), flat.astype(np_dtype),
            np.asarray(dense_shape, np.int64)]


def _batch_arrays(data, features):
    """``{key: [arrays]}`` of a batch (1-D host array) of serialized Examples."""
    cls = _example_class()
    rows = [_parse_one(_decode(cls, d, i), features) for i, d in enumerate(data)]
    out = {}
    for key, config in features.items():
        dtype, _ = _kind(config.dtype, key)
        np_dtype = object if dtype is _dt.string else dtype._np
        values = [r[key] for r in rows]
        shape = tuple(_shape(getattr(config, "shape", None)))
        if isinstance(config, FixedLenFeature):
            out[key] = [np.stack(values) if values else
                        np.zeros((0,) + shape, dtype=np_dtype)]
        elif isinstance(config, FixedLenSequenceFeature):
            fill = config.default_value
            if isinstance(fill, Tensor):
                fill = fill.numpy()
            if fill is None:
                fill = b"" if dtype is _dt.string else 0
            elif isinstance(fill, str):   # string Tensors hold bytes
                fill = fill.encode()
            out[key] = [_padded(values, shape, fill, np_dtype)]
        elif isinstance(config, RaggedFeature):
            out[key] = _batch_ragged(values, dtype, config.row_splits_dtype)
        elif isinstance(config, SparseFeature):
            out[key] = _batch_sparse(values, np_dtype,
                                     [len(values)] + _sparse_size(config))
        else:
            longest = max((len(v) for v in values), default=0)
            pairs = [(np.arange(len(v), dtype=np.int64).reshape(-1, 1), v)
                     for v in values]
            out[key] = _batch_sparse(pairs, np_dtype, [len(values), longest])
    return out


def _example_kernel(serialized, features):
    if serialized.ndim == 0:
        return _single_arrays(serialized, features)
    return _batch_arrays(serialized.reshape(-1), features)


_parse_example_p = parser_primitive("ParseExampleV2")


def _parse(serialized, features, batched):
    _check_features(features)
    data = string_input(serialized, "serialized", scalar=False)
    rank = data.shape.rank
    if rank == 0:   # TF's parse_example of a scalar parses one record
        batched = False
    elif not batched and rank is not None:
        raise ValueError(f"Input serialized must be a scalar, got shape {data.shape}")
    elif rank is not None and rank > 1:
        message = f"Expected serialized to be a scalar or vector, got shape: {data.shape}"
        if STATE.trace is not None:
            raise ValueError(message)
        raise InvalidArgumentError(None, None, message)
    ordered = _tf_order(features, dict(features))
    parts = [(key, feature_part(config, batched)) for key, config in ordered.items()]
    return run_parser(_parse_example_p, data, _example_kernel, ordered, parts)


def parse_single_example(serialized, features, example_names=None, name=None):
    """Parses one serialized ``tf.train.Example`` into a dict of Tensors (a graph op:
    inside a ``dlframe.function`` it parses the record each call gets).

    Args:
      serialized: a scalar string Tensor or bytes.
      features: dict of key -> ``FixedLenFeature`` / ``FixedLenSequenceFeature`` /
        ``VarLenFeature`` / ``SparseFeature`` / ``RaggedFeature``.
      example_names: unused.
      name: unused.

    Returns:
      dict key -> Tensor (``SparseTensor`` for ``VarLenFeature`` and
      ``SparseFeature``, ``RaggedTensor`` for a partitioned ``RaggedFeature``), in
      TF's order: sparse keys, dense keys, ragged keys, each sorted.

    Raises:
      ValueError: ``serialized`` is not a scalar, a bad feature config.
      InvalidArgumentError: malformed proto, a required feature missing, a type or size
        mismatch (when the op runs).
    """
    return _parse(serialized, features, batched=False)


def parse_example(serialized, features, example_names=None, name=None):
    """Parses a batch (1-D) of serialized Examples into a dict of batched Tensors.

    ``VarLenFeature`` values become a ``SparseTensor`` with indices ``[batch, i]`` and
    dense shape ``[batch_size, max_len]``; ``FixedLenSequenceFeature`` values are padded
    to the longest sequence with ``default_value`` (or zero); ``RaggedFeature`` values
    become a ``RaggedTensor`` with one row per example. A graph op: inside a
    ``dlframe.function`` it parses the records each call gets, with TF's static
    shapes (the batch dim is the input's).

    Args:
      serialized: a 1-D string Tensor (or list of bytes).
      features: dict of key -> feature config, as in ``parse_single_example``.
      example_names: unused.
      name: unused.

    Raises:
      ValueError: ``serialized`` is not 1-D, a bad feature config.
      InvalidArgumentError: as ``parse_single_example``'s, when the op runs.
    """
    return _parse(serialized, features, batched=True)
