"""Sparse embedding lookups and sampled losses of ``tf.nn``, and the candidate
samplers of ``tf.random``.

- ``embedding_lookup_sparse`` / ``safe_embedding_lookup_sparse``: weighted sums, means
  or sqrt-n averages of embedding rows per row of a SparseTensor of ids.
- ``sampled_softmax_loss`` / ``nce_loss``: the loss over the true classes and a few
  sampled ones, with logits corrected by ``log Q`` (the expected count of each class
  in the sample).
- ``log_uniform_candidate_sampler`` / ``uniform_candidate_sampler`` /
  ``fixed_unigram_candidate_sampler``: seeded draws with TF's seed semantics (the
  numbers are dlframe's own stream, not TF's).
"""

import collections

from dlframe.backends.base import np  # host draws of the candidate samplers
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops import array as _array
from dlframe.ops import array_index as _index
from dlframe.ops import linalg as _linalg
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops import nn as _nn
from dlframe.ops import reduction as _red
from dlframe.ops import segment as _segment
from dlframe.ops._util import t
from dlframe.ops.nn_impl import embedding_lookup
from dlframe.ops.random_kernels import _rng, _source
from dlframe.ops.sparse_ops import fill_empty_rows, reshape, retain
from dlframe.ops.sparse_tensor import parts

_COMBINERS = ("sum", "mean", "sqrtn")


# ---------------------------------------------------------------- sparse lookups
def _combiner(combiner):
    combiner = "mean" if combiner is None else combiner
    if combiner not in _COMBINERS:
        raise ValueError(f"combiner must be one of 'mean', 'sqrtn' or 'sum'; received "
                         f"{combiner!r}")
    return combiner


def embedding_lookup_sparse(params, sp_ids, sp_weights, combiner=None, max_norm=None,
                            name=None, allow_fast_lookup=False):
    """Combines the embeddings of each row's ids (rows of a rank-2 SparseTensor).

    Args:
      params: ``[vocab, dim]`` embeddings (or a list of 'div' shards).
      sp_ids: int SparseTensor ``[batch, ids_per_row]`` in row-major order.
      sp_weights: SparseTensor of weights with the indices of ``sp_ids``, or None
        for weight 1.
      combiner: ``"sum"``, ``"mean"`` (default; ``sum(w e) / sum(w)``) or ``"sqrtn"``
        (``sum(w e) / sqrt(sum(w^2))``).
      max_norm: clip each embedding to this L2 norm before combining.
      name: unused.
      allow_fast_lookup: accepted for compatibility; results do not depend on it.

    Returns:
      ``[max_row + 1, dim]``: one combined embedding per row up to the last row that
      holds an id (rows without ids are zeros).
    """
    combiner = _combiner(combiner)
    indices, ids, _ = parts(sp_ids, "embedding_lookup_sparse")
    segments = _index.gather(indices, 0, axis=1)
    rows = embedding_lookup(params, ids, max_norm=max_norm)
    if sp_weights is None:
        op = {"sum": _segment.segment_sum, "mean": _segment.segment_mean,
              "sqrtn": _sqrt_n}[combiner]
        return op(rows, segments)
    _, weights, _ = parts(sp_weights, "embedding_lookup_sparse")
    weights = _math.cast(weights, rows.dtype)
    total = _segment.segment_sum(_math.multiply(rows, weights[:, None]), segments)
    if combiner == "sum":
        return total
    if combiner == "mean":
        return _divide_rows(total, _segment.segment_sum(weights, segments))
    return _divide_rows(total, _segment.segment_sum(_math.square(weights), segments),
                        root=True)


def _divide_rows(total, scale, root=False):
    """``total / scale[:, None]`` (``sqrt(scale)`` with ``root``), 0 where ``scale``
    is 0 (rows without ids), with no 0/0 evaluated in the forward or the gradient."""
    empty = _math.equal(scale, 0)
    safe = _logic.where(empty, _logic.ones_like(scale), scale)
    safe = _math.sqrt(safe) if root else safe
    return _logic.where(empty[:, None], _logic.zeros_like(total),
                        _math.divide(total, safe[:, None]))


def _sqrt_n(rows, segments):
    count = _segment.segment_sum(_logic.ones_like(segments, dtype=rows.dtype), segments)
    return _divide_rows(_segment.segment_sum(rows, segments), count, root=True)


def safe_embedding_lookup_sparse(embedding_weights, sparse_ids, sparse_weights=None,
                                 combiner="mean", default_id=None, max_norm=None,
                                 name=None, allow_fast_lookup=False):
    """``embedding_lookup_sparse`` that tolerates invalid ids and empty rows.

    Ids < 0 (and, unless ``combiner="sum"``, entries of weight <= 0) are dropped; a row left without ids gets
    the embedding of ``default_id``, or zeros when it is None. ``sparse_ids`` may have
    rank > 2: the result is ``[d_0, ..., d_{n-2}, dim]``.
    """
    combiner = _combiner(combiner)
    _, _, shape = parts(sparse_ids, "safe_embedding_lookup_sparse")
    if len(shape) < 2:
        raise ValueError(f"sparse_ids must have rank >= 2; received dense shape "
                         f"{list(shape)}")
    flat_shape = [int(np.prod(shape[:-1])), shape[-1]]
    ids = reshape(sparse_ids, flat_shape) if len(shape) > 2 else sparse_ids
    weights = sparse_weights
    if weights is not None:
        weights = reshape(weights, flat_shape) if len(shape) > 2 else weights
    keep = _math.greater_equal(parts(ids)[1], 0)
    if weights is not None:
        if combiner != "sum":   # as TF: a sum keeps entries of weight <= 0
            keep = _logic.logical_and(keep, _math.greater(parts(weights)[1], 0))
        weights = retain(weights, keep)
    ids = retain(ids, keep)
    ids, empty = fill_empty_rows(ids, 0 if default_id is None else int(default_id))
    if weights is not None:
        weights, _ = fill_empty_rows(weights, 1.0)
    result = embedding_lookup_sparse(embedding_weights, ids, weights, combiner,
                                     max_norm=max_norm)
    if default_id is None:
        result = _math.multiply(result, _math.cast(_logic.logical_not(empty),
                                                   result.dtype)[:, None])
    return _array.reshape(result, list(shape[:-1]) + [int(result.shape[-1])])


# ---------------------------------------------------------------- candidate samplers
def _class_probs(kind, range_max, unigrams, distortion):
    classes = np.arange(range_max, dtype=np.float64)
    if kind == "log_uniform":
        return np.log((classes + 2) / (classes + 1)) / np.log(range_max + 1)
    if kind == "uniform":
        return np.full(range_max, 1.0 / range_max)
    weights = np.asarray(unigrams, dtype=np.float64) ** distortion
    return weights / weights.sum()


def _draw(d, generator, kind, probs, count):
    # the device generator's draws come to the host explicitly (CuPy refuses an
    # implicit conversion); the inverse-CDF lookup runs in NumPy
    u = d.to_numpy(generator.random(count)).astype(np.float64, copy=False)
    range_max = len(probs)
    if kind == "log_uniform":
        out = np.floor(np.exp(u * np.log(range_max + 1))) - 1
    elif kind == "uniform":
        out = np.floor(u * range_max)
    else:
        out = np.searchsorted(np.cumsum(probs), u * np.sum(probs), side="right")
    return np.clip(out, 0, range_max - 1).astype(np.int64)


def _expected(p, num_sampled, tries):
    if tries == num_sampled:
        return p * num_sampled
    return -np.expm1(tries * np.log1p(-p))


@primitive("CandidateSampler", n_out=3, stateful=True)
def _sampler_p(d, true_classes, *, kind, num_sampled, unique, range_max, unigrams,
               distortion, source):
    probs = _class_probs(kind, range_max, unigrams, distortion)
    generator = _rng(d, source)
    if unique:
        picked, seen, tries = [], set(), 0
        while len(picked) < num_sampled:
            for c in _draw(d, generator, kind, probs, num_sampled).tolist():
                tries += 1
                if c not in seen:
                    seen.add(c)
                    picked.append(c)
                    if len(picked) == num_sampled:
                        break
        sampled = np.asarray(picked, dtype=np.int64)
    else:
        sampled, tries = _draw(d, generator, kind, probs, num_sampled), num_sampled
    classes = np.clip(d.to_numpy(true_classes), 0, range_max - 1)
    return (d.asarray(sampled),
            d.asarray(_expected(probs[classes], num_sampled, tries).astype(np.float32)),
            d.asarray(_expected(probs[sampled], num_sampled, tries).astype(np.float32)))


_SAMPLER_FIELDS = ["sampled_candidates", "true_expected_count", "sampled_expected_count"]
# TF returns each sampler's triple as a namedtuple named after its op
SAMPLER_RESULTS = {op: collections.namedtuple(op, _SAMPLER_FIELDS) for op in (
    "LogUniformCandidateSampler", "UniformCandidateSampler",
    "FixedUnigramCandidateSampler", "LearnedUnigramCandidateSampler",
    "AllCandidateSampler")}
_KIND_OPS = {"log_uniform": "LogUniformCandidateSampler",
             "uniform": "UniformCandidateSampler",
             "unigram": "FixedUnigramCandidateSampler"}


def check_true_classes(true_classes, num_true, op):
    """``true_classes`` as an int64 ``[batch, num_true]`` tensor. As TF's kernels, a
    tensor of another dtype is refused (Python lists and NumPy arrays convert)."""
    if isinstance(true_classes, Tensor) and true_classes.dtype != dtypes.int64:
        raise InvalidArgumentError(
            f"cannot compute {op} as input #0(zero-based) was expected to be a int64 "
            f"tensor but is a {true_classes.dtype.name} tensor [Op:{op}]")
    classes = t(true_classes)
    if not classes.dtype.is_integer or classes.ndim != 2 or \
            int(classes.shape[1]) != int(num_true):
        raise InvalidArgumentError(f"{op}: true_classes must be a batch_size * num_true "
                                   f"(num_true={num_true}) int64 matrix; received "
                                   f"{classes.dtype.name} {list(classes.shape)}")
    return _math.cast(classes, dtypes.int64)


def _sample(kind, true_classes, num_true, num_sampled, unique, range_max, seed,
            unigrams=(), distortion=1.0, op=None):
    op = op or _KIND_OPS[kind]
    classes = check_true_classes(true_classes, num_true, op)
    range_max, num_sampled = int(range_max), int(num_sampled)
    if range_max < 1 or num_sampled < 1:
        raise InvalidArgumentError(f"range_max and num_sampled must be positive; "
                                   f"received {range_max} and {num_sampled}")
    if unique and num_sampled > range_max:
        raise InvalidArgumentError(f"Sampler's range is too small: num_sampled="
                                   f"{num_sampled} unique candidates out of range_max="
                                   f"{range_max}")
    result = call(_sampler_p, (classes,), {
        "kind": kind, "num_sampled": num_sampled, "unique": bool(unique),
        "range_max": range_max, "unigrams": tuple(float(u) for u in unigrams),
        "distortion": float(distortion), "source": _source(seed)})
    return SAMPLER_RESULTS[op](*result)


def log_uniform_candidate_sampler(true_classes, num_true, num_sampled, unique,
                                  range_max, seed=None, name=None):
    """Samples classes with Zipf probabilities ``P(k) = log((k + 2) / (k + 1)) /
    log(range_max + 1)`` (class ids sorted by decreasing frequency).

    Args:
      true_classes: int64 ``[batch_size, num_true]`` target classes.
      num_true: true classes per example.
      num_sampled: number of classes to sample.
      unique: sample without replacement.
      range_max: the number of classes.
      seed: op seed.
      name: unused.

    Returns:
      A ``LogUniformCandidateSampler`` namedtuple ``(sampled_candidates int64
      [num_sampled], true_expected_count float32 [batch_size, num_true],
      sampled_expected_count float32 [num_sampled])``: the
      expected counts are each class's expected number of occurrences in the sample
      (with ``unique``, its probability of being in it after the draws it took).
    """
    return _sample("log_uniform", true_classes, num_true, num_sampled, unique,
                   range_max, seed)


def uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                              seed=None, name=None):
    """Samples classes uniformly from ``[0, range_max)``; outputs as
    ``log_uniform_candidate_sampler``."""
    return _sample("uniform", true_classes, num_true, num_sampled, unique, range_max,
                   seed)


def fixed_unigram_candidate_sampler(true_classes, num_true, num_sampled, unique,
                                    range_max, vocab_file="", distortion=1.0,
                                    num_reserved_ids=0, num_shards=1, shard=0,
                                    unigrams=(), seed=None, name=None):
    """Samples classes with probability proportional to ``unigrams ** distortion``;
    outputs as ``log_uniform_candidate_sampler``. Only in-memory ``unigrams`` are
    supported (not ``vocab_file``, reserved ids or sharding)."""
    if vocab_file or num_reserved_ids or num_shards != 1 or shard:
        raise NotImplementedError("fixed_unigram_candidate_sampler supports only "
                                  "`unigrams` (no vocab_file, reserved ids or shards)")
    if len(unigrams) != int(range_max):
        raise InvalidArgumentError(f"unigrams must have range_max={range_max} entries; "
                                   f"received {len(unigrams)}")
    return _sample("unigram", true_classes, num_true, num_sampled, unique, range_max,
                   seed, unigrams, distortion)


# ---------------------------------------------------------------- sampled losses
# compute_accidental_hits' weight: adding it sends a logit to "minus infinity"
_HIT_LOGIT = -float(np.finfo(np.float32).max)


def _sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes,
                    num_true, sampled_values, subtract_log_q, remove_accidental_hits,
                    seed):
    """(logits [batch, num_true + num_sampled], labels of the same shape)."""
    inputs = t(inputs)
    labels = _array.reshape(_math.cast(t(labels), dtypes.int64), [-1, int(num_true)])
    if sampled_values is None:
        sampled_values = log_uniform_candidate_sampler(labels, num_true, num_sampled,
                                                       True, num_classes, seed)
    sampled, true_expected, sampled_expected = (_array.stop_gradient(t(v))
                                                for v in sampled_values)
    sampled = _math.cast(sampled, dtypes.int64)
    n_true = int(labels.shape[0]) * int(num_true)
    all_ids = _array.concat([_array.reshape(labels, [-1]), sampled], axis=0)
    all_w = embedding_lookup(weights, all_ids)
    all_b = embedding_lookup(biases, all_ids)
    dim = int(inputs.shape[-1])
    true_w = _array.reshape(all_w[:n_true], [-1, int(num_true), dim])
    true_logits = _math.add(
        _red.reduce_sum(_math.multiply(inputs[:, None, :], true_w), axis=-1),
        _array.reshape(all_b[:n_true], [-1, int(num_true)]))
    sampled_logits = _math.add(
        _linalg.matmul(inputs, all_w[n_true:], transpose_b=True), all_b[n_true:])
    if remove_accidental_hits:
        hits = _red.reduce_any(_math.equal(labels[:, :, None], sampled[None, None, :]),
                               axis=1)
        sampled_logits = _math.add(sampled_logits, _math.multiply(
            _math.cast(hits, sampled_logits.dtype), _HIT_LOGIT))
    if subtract_log_q:
        true_logits = _math.subtract(true_logits, _math.log(
            _math.cast(true_expected, true_logits.dtype)))
        sampled_logits = _math.subtract(sampled_logits, _math.log(
            _math.cast(sampled_expected, sampled_logits.dtype)))
    logits = _array.concat([true_logits, sampled_logits], axis=1)
    targets = _array.concat([
        _math.divide(_logic.ones_like(true_logits), float(num_true)),
        _logic.zeros_like(sampled_logits)], axis=1)
    return logits, targets


def sampled_softmax_loss(weights, biases, labels, inputs, num_sampled, num_classes,
                         num_true=1, sampled_values=None, remove_accidental_hits=True,
                         seed=None, name="sampled_softmax_loss"):
    """Softmax cross-entropy over the true classes and ``num_sampled`` sampled ones.

    Args:
      weights: ``[num_classes, dim]`` class embeddings (or a list of shards).
      biases: ``[num_classes]`` class biases.
      labels: int ``[batch_size, num_true]`` target classes.
      inputs: ``[batch_size, dim]`` activations.
      num_sampled: classes to sample per batch.
      num_classes: the number of classes.
      num_true: targets per example (each gets probability ``1 / num_true``).
      sampled_values: a ``(sampled_candidates, true_expected_count,
        sampled_expected_count)`` triple; default: ``log_uniform_candidate_sampler``
        with ``unique=True``.
      remove_accidental_hits: drop sampled classes that equal a target.
      seed: op seed of the default sampler.
      name: unused.

    Returns:
      ``[batch_size]`` losses.
    """
    logits, targets = _sampled_logits(weights, biases, labels, inputs, num_sampled,
                                      num_classes, num_true, sampled_values, True,
                                      remove_accidental_hits, seed)
    return _nn.softmax_cross_entropy_with_logits(targets, logits)


def nce_loss(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1,
             sampled_values=None, remove_accidental_hits=False, name="nce_loss"):
    """Noise-contrastive estimation loss: logistic losses of the true classes (as
    positives) and the sampled ones (as negatives), summed per example. Arguments as
    ``sampled_softmax_loss``.

    Returns:
      ``[batch_size]`` losses.
    """
    logits, targets = _sampled_logits(weights, biases, labels, inputs, num_sampled,
                                      num_classes, num_true, sampled_values, True,
                                      remove_accidental_hits, None)
    losses = _nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits)
    return _red.reduce_sum(losses, axis=1)


NN_NAMES = ["embedding_lookup_sparse", "safe_embedding_lookup_sparse",
            "sampled_softmax_loss", "nce_loss"]
RANDOM_NAMES = ["log_uniform_candidate_sampler", "uniform_candidate_sampler",
                "fixed_unigram_candidate_sampler"]
