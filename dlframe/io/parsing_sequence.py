"""Parsing tf.train.SequenceExample records: ``parse_single_sequence_example`` and
``parse_sequence_example`` (context features as in an Example, plus feature lists
with one Feature per time step)."""

import types

from dlframe.backends.base import np  # host arrays for file I/O
from dlframe.core import dtypes as _dt
from dlframe.errors import InvalidArgumentError
from dlframe.io import parsing as P
from dlframe.io.host_ops import string_input
from dlframe.io.parsing_layout import BATCH, Part, parser_primitive, run_parser


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
    """The arrays of one record's feature list ``key``."""
    dtype, np_dtype = _np_dtype(config, key)
    if isinstance(config, P.FixedLenSequenceFeature):
        shape = tuple(P._shape(config.shape))
        return [np.stack(steps) if steps else np.zeros((0,) + shape, np_dtype)]
    lengths = [len(s) for s in steps]
    flat = np.concatenate(steps).astype(np_dtype) if steps else P._empty(dtype)
    if isinstance(config, P.RaggedFeature):
        splits = np.concatenate([[0], np.cumsum(lengths)])
        return [flat, splits.astype(config.row_splits_dtype._np)]
    indices = [[t, i] for t, n in enumerate(lengths) for i in range(n)]
    return [np.asarray(indices, np.int64).reshape(-1, 2), flat,
            np.asarray([len(steps), max(lengths, default=0)], np.int64)]


def _batch_sequence(rows, config, key):
    """The arrays of feature list ``key`` of a batch of records (``rows``)."""
    dtype, np_dtype = _np_dtype(config, key)
    if isinstance(config, P.FixedLenSequenceFeature):
        shape = tuple(P._shape(config.shape))
        fill = config.default_value
        if fill is None:
            fill = b"" if dtype is _dt.string else 0
        steps = [np.stack(r) if r else np.zeros((0,) + shape, np_dtype) for r in rows]
        return [P._padded(steps, shape, fill, np_dtype)]
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
    return [np.asarray(indices, np.int64).reshape(-1, 3), flat,
            np.asarray([len(rows), longest_steps, longest], np.int64)]


def _sequence_kernel(serialized, sequence_features):
    if serialized.ndim == 0:
        steps = _parse(serialized[()], sequence_features, None)
        return {key: _single_sequence(steps[key], config, key)
                for key, config in sequence_features.items()}
    parsed = [_parse(d, sequence_features, i)
              for i, d in enumerate(serialized.reshape(-1))]
    out = {}
    for key, config in sequence_features.items():
        rows = [seqs[key] for seqs in parsed]
        out[key] = _batch_sequence(rows, config, key)
        if isinstance(config, P.FixedLenSequenceFeature):   # (_sequences' parts)
            out[("lengths", key)] = [np.asarray([len(r) for r in rows], np.int64)]
    return out


_parse_sequence_p = parser_primitive("ParseSequenceExampleV2")


def _sequence_part(config, batched):
    lead = (BATCH,) if batched else ()
    dtype = _dt.as_dtype(config.dtype)
    if isinstance(config, P.FixedLenSequenceFeature):
        return Part("dense", dtype, lead + (None,) + tuple(P._shape(config.shape)))
    if isinstance(config, P.RaggedFeature):
        return Part("ragged", dtype, lead, 1 + batched, config.row_splits_dtype.name)
    return Part("sparse", dtype, lead + (None, None))


def _sequences(serialized, sequence_features, batched):
    """(feature lists, lengths) of the records ``serialized`` (a host Tensor)."""
    ordered = P._tf_order(sequence_features, dict(sequence_features))
    parts = [(key, _sequence_part(config, batched)) for key, config in ordered.items()]
    if batched:
        parts += [(("lengths", key), Part("dense", _dt.int64, (BATCH,)))
                  for key, config in ordered.items()
                  if isinstance(config, P.FixedLenSequenceFeature)]
    out = run_parser(_parse_sequence_p, serialized, _sequence_kernel, ordered, parts)
    return ({k: v for k, v in out.items() if not isinstance(k, tuple)},
            {k[1]: v for k, v in out.items() if isinstance(k, tuple)})


def _records(serialized, rank):
    data = string_input(serialized, "serialized", scalar=False)
    if data.shape.rank not in (rank, None):
        raise ValueError(f"Input serialized must be a {('scalar', 'vector')[rank]}, "
                         f"got shape {data.shape}")
    return data


def parse_single_sequence_example(serialized, context_features=None,
                                  sequence_features=None, example_name=None, name=None):
    """Parses one serialized ``tf.train.SequenceExample`` (a graph op: inside a
    ``dlframe.function`` it parses the record each call gets).

    Args:
      serialized: a scalar string Tensor or bytes.
      context_features: dict of key -> ``FixedLenFeature`` / ``VarLenFeature`` /
        ``RaggedFeature`` for the context.
      sequence_features: dict of key -> ``FixedLenSequenceFeature`` (a dense
        ``[steps] + shape`` Tensor), ``VarLenFeature`` (a ``[steps, max_len]``
        SparseTensor) or ``RaggedFeature`` (a ``[steps, None]`` RaggedTensor).
      example_name: unused.
      name: unused.

    Returns:
      ``(context, feature_lists)``: two dicts of Tensors.

    Raises:
      ValueError: ``serialized`` is not a scalar.
      InvalidArgumentError: a malformed proto, a required feature missing, a type or
        size mismatch (when the op runs).
    """
    _check(context_features, sequence_features)
    data = _records(serialized, 0)
    context = P.parse_single_example(data, context_features) \
        if context_features else {}
    lists = _sequences(data, sequence_features, False)[0] if sequence_features else {}
    return context, lists


def parse_sequence_example(serialized, context_features=None, sequence_features=None,
                           example_names=None, name=None):
    """Parses a batch (1-D) of serialized ``tf.train.SequenceExample`` records (a
    graph op, as ``parse_example``).

    Args:
      serialized: a 1-D string Tensor (or list of bytes).
      context_features: dict of context feature configs (see ``parse_example``).
      sequence_features: dict of feature-list configs (see
        ``parse_single_sequence_example``).
      example_names: unused.
      name: unused.

    Returns:
      ``(context, feature_lists, feature_list_lengths)``: context batched as in
      ``parse_example``; dense feature lists padded to the longest example's steps;
      the lengths (int64 ``[batch]``) of each ``FixedLenSequenceFeature`` list.
    """
    _check(context_features, sequence_features)
    data = _records(serialized, 1)
    context = P.parse_example(data, context_features) if context_features else {}
    lists, lengths = _sequences(data, sequence_features, True) \
        if sequence_features else ({}, {})
    return context, lists, lengths
