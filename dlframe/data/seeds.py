"""Random generators for shuffling and sampling, following TF's seed rules.

Seeds are resolved when the dataset is built, through ``dlframe.random``'s
``get_seed``: an op seed gives an order sequence that repeats from run to run; no op
seed but a global seed (``dlframe.random.set_seed``) gives one derived from it (a new
one per dataset, as TF); neither gives a pair drawn from fresh entropy when the
dataset is built (as TF draws its seeds then), so each pass of one dataset still has
its own order while a restored iterator can replay the orders it had seen.

``Dataset.shuffle`` draws TF's numbers (``shuffle_seeds``, ``philox_words``): a
stage seeded ``(g, op)`` that reshuffles takes, for pass ``k``, the seeds
``(w[2k], w[2k+1])`` from the 32-bit Philox words ``w`` of the stateful stream
``(g, op)``; one that does not reshuffle uses ``(g, op)`` itself. Each output then
reads one word of the stream of its pass's seeds.
"""

import numpy as np

from dlframe.ops import philox

_FIRST_WORDS = 16        # words made on the host first (short datasets)
_MAX_WORDS = 1 << 14     # the largest chunk of words made at once


def resolve_seed(seed):
    """A ``(global, op)`` seed pair (random when no seed is set)."""
    from dlframe.ops import random as random_ops
    if hasattr(seed, "numpy"):
        seed = int(seed.numpy())
    get_seed = getattr(random_ops, "get_seed", None)
    if get_seed is None:  # pragma: no cover - random ops always define it
        return None if seed is None else (0, int(seed))
    g, op = get_seed(seed)
    if g is None:
        return DrawnSeed((0, int(np.random.default_rng().integers(2**62))))
    return (int(g), int(op))


class DrawnSeed(tuple):
    """A seed pair drawn from fresh entropy (no seed set): a pipeline's fingerprint
    counts it as unseeded, as TF's graph holds zeros there."""


def make_rng(seed_pair, epoch=0):
    """A NumPy Generator for a resolved seed pair and iteration number ``epoch``."""
    if seed_pair is None:
        return np.random.default_rng()
    g, op = seed_pair
    return np.random.default_rng([g % (2**63), op % (2**63), int(epoch)])


def shuffle_seeds(seed_pair, epoch, reshuffle=True):
    """The ``(seed, seed2)`` of a shuffle's pass ``epoch`` (a resolved seed pair):
    the pair itself when the stage does not reshuffle, else words ``2 epoch`` and
    ``2 epoch + 1`` of the Philox stream ``seed_pair``."""
    if not reshuffle:
        return seed_pair
    key, counter = philox.seed_key_counter(*seed_pair)
    block = philox.philox_block(key, philox.add_counter(counter, epoch // 2))
    first = 2 * (epoch % 2)
    return block[first], block[first + 1]


def philox_words(seed_pair):
    """The 32-bit words (Python ints) of the stateful Philox stream seeded
    ``seed_pair``, in order, without end: the first few from the host's scalar
    Philox, then in growing vectorized chunks."""
    key, counter = philox.seed_key_counter(*seed_pair)
    blocks = _FIRST_WORDS // 4
    for b in range(blocks):
        yield from philox.philox_block(key, philox.add_counter(counter, b))
    n = _FIRST_WORDS
    while True:
        n = min(2 * n, _MAX_WORDS)
        bits = philox.Bits(np, key, philox.add_counter(counter, blocks))
        yield from bits.words(n).tolist()
        blocks += n // 4
