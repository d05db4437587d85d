"""Parsing tf.train.SequenceExample records: ``parse_single_sequence_example`` and
``parse_sequence_example`` (context features as in an Example, plus feature lists
with one Feature per time step)."""

import types

from dlframe.backends.base import np  # host arrays for file I/O
from dlframe.core import dtypes as _dt
from dlframe.errors import InvalidArgumentError
from dlframe.io import parsing as P
from dlframe.io.sparse_tensor import SparseTensor


def _sequence_class():
    from dlframe.train import _proto
    return _proto.classes()["SequenceExample"]


def _check(context_features, sequence_features):
    if not context_features and not sequence_features:
        raise ValueError("Missing features: `context_features` and `sequence_features` "
                         "are both empty.")
    for key, config in (sequence_features or {}).items():
        if not isinstance(config, (P.FixedLenSequenceFeature, P.VarLenFeature,
                                   P.RaggedFeature)):
            raise TypeError(f"sequence_features[{key!r}] must be a FixedLenSequenceFeature, "
                            f"VarLenFeature or RaggedFeature, got {config!r}")
        if isinstance(config, P.RaggedFeature) and config.partitions:
            raise NotImplementedError("RaggedFeature partitions in sequence_features are "
                                      f"not supported (key {key!r}).")


def _steps(seq, key, config, index):
    """The per-step value arrays of feature list ``key`` (None when absent)."""
    dtype, kind = P._kind(config.dtype, key)
    lists = seq.feature_lists.feature_list
    if isinstance(config, P.RaggedFeature):
        key = config.value_key or key
    if key not in lists:
        if isinstance(config, P.FixedLenSequenceFeature) and not config.allow_missing:
            where = "" if index is None else f" (example {index})"
            raise InvalidArgumentError(
                None, None, f"Name: <unknown>, Feature list '{key}' is required but could "
                f"not be found.  Did you mean to include it in feature_list_dense_missing"
                f"_assumed_empty or feature_list_dense_defaults?{where}")
        return []
    steps = []
    for feature in lists[key].feature:
        holder = types.SimpleNamespace(features=types.SimpleNamespace(
            feature={key: feature}))
        values = P._values(holder, key, kind, dtype)
        if isinstance(config, P.FixedLenSequenceFeature):
            shape = P._shape(config.shape)
            n = int(np.prod(shape)) if shape else 1
            if values.size != n:
                raise InvalidArgumentError(
                    None, None, f"Name: <unknown>, Key: {key}, Index: {len(steps)}.  "
                    f"Number of values != expected.  values size: {values.size} but "
                    f"output shape: {shape}")
            values = values.reshape(shape)
        steps.append(values)
    return steps


def _parse(data, sequence_features, index):
    seq = P._decode(_sequence_class(), data, index)
    return {key: _steps(seq, key, config, index)
            for key, config in (sequence_features or {}).items()}


# A SequenceExample's context is field 1, as an Example's features: parsing the record
# as an Example reads the context (and skips the feature lists).


def _np_dtype(config, key):
    dtype, _ = P._kind(config.dtype, key)
    return dtype, object if dtype is _dt.string else dtype._np


def _single_sequence(steps, config, key):
    dtype, np_dtype = _np_dtype(config, key)
    if isinstance(config, P.FixedLenSequenceFeature):
        shape = tuple(P._shape(config.shape))
        return P._tensor(np.stack(steps) if steps else np.zeros((0,) + shape, np_dtype))
    lengths = [len(s) for s in steps]
    flat = np.concatenate(steps).astype(np_dtype) if steps else P._empty(dtype)
    if isinstance(config, P.RaggedFeature):
        splits = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return P._ragged_tensor(flat, [splits], config.row_splits_dtype)
    indices = [[t, i] for t, n in enumerate(lengths) for i in range(n)]
    return SparseTensor(P._tensor(np.asarray(indices, np.int64).reshape(-1, 2)),
                        P._tensor(flat),
                        P._tensor(np.asarray([len(steps), max(lengths, default=0)],
                                             np.int64)))


def parse_single_sequence_example(serialized, context_features=None,
                                  sequence_features=None, example_name=None, name=None):
    """Parses one serialized ``tf.train.SequenceExample``.

    Args:
      serialized: a scalar string Tensor or bytes.
      context_features: dict of key -> ``FixedLenFeature`` / ``VarLenFeature`` /
        ``RaggedFeature`` for the context.
      sequence_features: dict of key -> ``FixedLenSequenceFeature`` (a dense
        ``[steps] + shape`` Tensor), ``VarLenFeature`` (a ``[steps, max_len]``
        SparseTensor) or ``RaggedFeature`` (a ``[steps, None]`` RaggedTensor).

    Returns:
      ``(context, feature_lists)``: two dicts of Tensors.

    Raises:
      InvalidArgumentError: a malformed proto, a required feature missing, a type or
        size mismatch.
    """
    _check(context_features, sequence_features)
    data = P._serialized_list(serialized)
    if data.ndim != 0:
        raise ValueError(f"Input serialized must be a scalar, got shape {data.shape}")
    sequences = _parse(data[()], sequence_features, None)
    context = P.parse_single_example(data[()], context_features) \
        if context_features else {}
    return context, P._tf_order(sequence_features or {}, {
        key: _single_sequence(sequences[key], config, key)
        for key, config in (sequence_features or {}).items()})


def _batch_sequence(rows, config, key):
    dtype, np_dtype = _np_dtype(config, key)
    if isinstance(config, P.FixedLenSequenceFeature):
        shape = tuple(P._shape(config.shape))
        longest = max((len(r) for r in rows), default=0)
        fill = config.default_value
        if fill is None:
            fill = b"" if dtype is _dt.string else 0
        dense = np.full((len(rows), longest) + shape, fill, dtype=np_dtype)
        for b, steps in enumerate(rows):
            if steps:
                dense[b, :len(steps)] = np.stack(steps)
        return P._tensor(dense)
    if isinstance(config, P.RaggedFeature):
        parts = [(np.concatenate(r).astype(np_dtype) if r else P._empty(dtype),
                  [np.concatenate([[0], np.cumsum([len(s) for s in r])]).astype(
                      np.int64)]) for r in rows]
        return P._batch_ragged(parts, dtype, config.row_splits_dtype)
    indices, values = [], []
    for b, steps in enumerate(rows):
        for t, step in enumerate(steps):
            indices.extend([b, t, i] for i in range(len(step)))
            values.append(step)
    longest_steps = max((len(r) for r in rows), default=0)
    longest = max((len(s) for r in rows for s in r), default=0)
    flat = np.concatenate(values).astype(np_dtype) if values else P._empty(dtype)
    return SparseTensor(P._tensor(np.asarray(indices, np.int64).reshape(-1, 3)),
                        P._tensor(flat),
                        P._tensor(np.asarray([len(rows), longest_steps, longest],
                                             np.int64)))


def parse_sequence_example(serialized, context_features=None, sequence_features=None,
                           example_names=None, name=None):
    """Parses a batch (1-D) of serialized ``tf.train.SequenceExample`` records.

    Returns:
      ``(context, feature_lists, feature_list_lengths)``: context batched as in
      ``parse_example``; dense feature lists padded to the longest example's steps;
      the lengths (int64 ``[batch]``) of each ``FixedLenSequenceFeature`` list.
    """
    _check(context_features, sequence_features)
    data = P._serialized_list(serialized)
    if data.ndim != 1:
        raise ValueError(f"Input serialized must be a vector, got shape {data.shape}")
    parsed = [_parse(d, sequence_features, i) for i, d in enumerate(data)]
    context = P.parse_example(data, context_features) if context_features else {}
    sequences, lengths = {}, {}
    for key, config in (sequence_features or {}).items():
        rows = [seqs[key] for seqs in parsed]
        sequences[key] = _batch_sequence(rows, config, key)
        if isinstance(config, P.FixedLenSequenceFeature):
            lengths[key] = P._tensor(np.asarray([len(r) for r in rows], np.int64))
    return context, P._tf_order(sequence_features or {}, sequences), lengths
