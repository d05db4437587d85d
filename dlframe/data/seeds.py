"""Random generators for shuffling and sampling, following TF's seed rules.

Seeds are resolved when the dataset is built, through ``dlframe.random``'s
``get_seed``: an op seed gives an order sequence that repeats from run to run; no op
seed but a global seed (``dlframe.random.set_seed``) gives one derived from it (a new
one per dataset, as TF); neither gives a pair drawn from fresh entropy when the
dataset is built (as TF draws its seeds then), so each pass of one dataset still has
its own order while a restored iterator can replay the orders it had seen.
"""

import numpy as np


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
