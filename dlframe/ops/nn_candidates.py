"""More candidate samplers and ``compute_accidental_hits`` (``tf.nn`` / ``tf.random``).

- ``all_candidate_sampler``: every class ``0..num_sampled-1``, each expected once
  (useful to check a sampled loss against the full softmax).
- ``learned_unigram_candidate_sampler``: TF's sampler learns class counts from the
  true classes it is given *after* drawing, and an eager call starts from a fresh
  kernel with equal counts, so its draws are uniform over ``range_max``; dlframe draws
  the same way (from its own random stream).
- ``compute_accidental_hits``: where a sampled candidate equals a true class.
"""

import collections

from dlframe.backends.base import np  # host-side matching of candidate ids
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.errors import InvalidArgumentError
from dlframe.ops import math as _math
from dlframe.ops._util import t
from dlframe.ops.nn_sampled import (
    _HIT_LOGIT,
    SAMPLER_RESULTS,
    _sample,
    check_true_classes,
    fixed_unigram_candidate_sampler,  # noqa: F401
)


@primitive("AllCandidateSampler", n_out=3)
def _all_sampler_p(d, true_classes, *, num_sampled):
    host = d.to_numpy(true_classes)
    bad = host[(host < 0) | (host >= num_sampled)]
    if bad.size:
        raise InvalidArgumentError(f"`true_candidate` out of range [0, {num_sampled}), "
                                   f"received {int(bad[0])} [Op:AllCandidateSampler]")
    xp = d.xp
    return (xp.arange(num_sampled, dtype=xp.int64),
            xp.ones(true_classes.shape, dtype=xp.float32),
            xp.ones(num_sampled, dtype=xp.float32))


def all_candidate_sampler(true_classes, num_true, num_sampled, unique, seed=None,
                          name=None):
    """Returns all classes ``0..num_sampled-1`` as the sample.

    Args:
      true_classes: int64 ``[batch_size, num_true]`` target classes, each in
        ``[0, num_sampled)``.
      num_true: true classes per example.
      num_sampled: the number of classes (all of them are "sampled").
      unique: unused (the sample has no repeats).
      seed: unused.
      name: unused.

    Returns:
      ``(sampled_candidates int64 [num_sampled], true_expected_count float32
      [batch_size, num_true], sampled_expected_count float32 [num_sampled])``, the
      expected counts all 1.
    """
    classes = check_true_classes(true_classes, num_true, "AllCandidateSampler")
    if int(num_sampled) < 1:
        raise InvalidArgumentError(f"num_sampled must be positive; received "
                                   f"{num_sampled}")
    return SAMPLER_RESULTS["AllCandidateSampler"](
        *call(_all_sampler_p, (classes,), {"num_sampled": int(num_sampled)}))


def learned_unigram_candidate_sampler(true_classes, num_true, num_sampled, unique,
                                      range_max, seed=None, name=None):
    """Samples classes from counts learned from ``true_classes`` (see the module
    docstring: a call draws before learning, i.e. uniformly, as an eager TF call does).

    Args and returns as ``tf.random.uniform_candidate_sampler``.
    """
    check_true_classes(true_classes, num_true, "LearnedUnigramCandidateSampler")
    return _sample("uniform", true_classes, num_true, num_sampled, unique, range_max,
                   seed, op="LearnedUnigramCandidateSampler")


ComputeAccidentalHits = collections.namedtuple("ComputeAccidentalHits",
                                               ["indices", "ids", "weights"])


@primitive("ComputeAccidentalHits", n_out=3)
def _hits_p(d, true_classes, sampled):
    host_true = d.to_numpy(true_classes)
    position = {int(c): k for k, c in enumerate(d.to_numpy(sampled).tolist())}
    rows, ids = [], []
    for i, row in enumerate(host_true.tolist()):
        for c in row:
            k = position.get(int(c))   # the last position of a repeated candidate
            if k is not None:
                rows.append(i)
                ids.append(k)
    xp = d.xp
    return (xp.asarray(np.asarray(rows, np.int32)), xp.asarray(np.asarray(ids, np.int64)),
            xp.full(len(rows), _HIT_LOGIT, dtype=xp.float32))


_hits_p.value_shaped = True   # the number of hits depends on the values


def compute_accidental_hits(true_classes, sampled_candidates, num_true, seed=None,
                            name=None):
    """Finds sampled candidates that equal one of an example's true classes.

    Args:
      true_classes: int64 ``[batch_size, num_true]``.
      sampled_candidates: int64 ``[num_sampled]``.
      num_true: true classes per example.
      seed: unused.
      name: unused.

    Returns:
      ``(indices int32 [num_hits], ids int64 [num_hits], weights float32
      [num_hits])``: the example row, the position in ``sampled_candidates`` and
      ``-FLT_MAX`` to add to that sampled logit, per (example, true class) hit.
    """
    classes = check_true_classes(true_classes, num_true, "ComputeAccidentalHits")
    sampled = t(sampled_candidates)
    if sampled.ndim != 1 or not sampled.dtype.is_integer:
        raise InvalidArgumentError(f"sampled_candidates must be an int64 vector; "
                                   f"received {sampled.dtype.name} {list(sampled.shape)}")
    return ComputeAccidentalHits(*call(_hits_p, (classes, _math.cast(sampled,
                                                                      dtypes.int64))))


NN_NAMES = ["all_candidate_sampler", "learned_unigram_candidate_sampler",
            "fixed_unigram_candidate_sampler", "compute_accidental_hits"]
RANDOM_NAMES = ["all_candidate_sampler", "learned_unigram_candidate_sampler"]
