"""``Dataset.sample_from_datasets``: elements drawn from datasets picked at random.

TF picks each input with ``stateless_multinomial(log(weights), seed=pair)``, the seed
pairs being consecutive values of ``Dataset.random(seed)`` (two per draw); a pick of
an exhausted input is skipped. dlframe draws the same numbers on the host, so a
seeded sampling yields TF's order.
"""

import itertools

import numpy as np

from dlframe.core.tensor import Tensor
from dlframe.data import structure as S
from dlframe.data.dataset import Dataset
from dlframe.data.options import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY
from dlframe.data.seeds import philox_words, resolve_seed, shuffle_seeds
from dlframe.data.sources import _common_spec, _drawing_cardinality, draw_from
from dlframe.errors import InvalidArgumentError
from dlframe.ops import philox
from dlframe.ops.random_tf_samplers import categorical


def _pick(words, logits):
    """The index TF's ``stateless_multinomial(logits[None], 1)`` draws with the seed
    made of the next two values of ``words``."""
    key, counter = philox.stateless_key_counter(next(words), next(words))
    bits = philox.Bits(np, key, counter)
    return int(categorical(bits, np, logits[None], num_samples=1, dtype=np.int64)[0, 0])


def _log_weights(weights):
    """TF's logits: the log of the weights, in their own float precision."""
    w = np.asarray(weights)
    if w.dtype not in (np.float32, np.float64):
        w = w.astype(np.float32)
    with np.errstate(divide="ignore"):
        return np.log(w)


class _SampleDataset(Dataset):
    """Draws each element from a dataset picked at random with ``weights``: a vector,
    or a Dataset of vectors (one per draw; sampling ends with it)."""

    def __init__(self, datasets, weights, seed, stop_on_empty, rerandomize=False):
        n = len(datasets)
        self._n = n
        self._weights_ds = weights if isinstance(weights, Dataset) else None
        super().__init__(datasets + ([weights] if self._weights_ds else []))
        if self._weights_ds is not None:
            _check_weights_spec(weights.element_spec, n)
            self._logits = None
        elif weights is None:
            self._logits = np.ones(n, np.float32)   # TF: logits of ones
        else:
            w = S.to_host_leaf(weights) if isinstance(weights, Tensor) else weights
            _check_weights_length(np.shape(w), n)
            self._logits = _log_weights(w)
        self._seed = resolve_seed(seed)
        self._stop = stop_on_empty
        # as TF: each pass repeats the first pass's draws unless asked to rerandomize
        self._epoch = itertools.count() if rerandomize else None
        self._spec = _common_spec(datasets)

    def _logit_vectors(self):
        if self._weights_ds is None:
            return itertools.repeat(self._logits)
        return (_log_weights(_weights_vector(w, self._n))
                for w in self._weights_ds._iter())

    def _iter(self):
        seeds = self._seed if self._epoch is None else \
            shuffle_seeds(self._seed, next(self._epoch))
        words = philox_words(seeds)
        picks = (_pick(words, logits) for logits in self._logit_vectors())
        yield from draw_from([d._iter() for d in self._inputs[:self._n]], picks, self._stop)

    def _cardinality(self):
        if (self._weights_ds is not None
                and self._weights_ds._cardinality() != INFINITE_CARDINALITY):
            return UNKNOWN_CARDINALITY
        return _drawing_cardinality(self._inputs[:self._n])


def sample_from_datasets(datasets, weights=None, seed=None, stop_on_empty_dataset=False,
                         rerandomize_each_iteration=None):
    """``Dataset.sample_from_datasets`` (see ``_SampleDataset``): as TF, inputs given
    a zero weight in a list are dropped, and a single remaining input is returned
    as it is."""
    datasets = list(datasets)
    if not datasets:
        raise ValueError("Invalid `datasets`. `datasets` should not be empty.")
    if weights is not None and not isinstance(weights, (Dataset, Tensor)):
        _check_weights_length(np.shape(weights), len(datasets))
        kept = [(d, w) for d, w in zip(datasets, np.asarray(weights).tolist()) if w > 0]
        datasets, weights = ([d for d, _ in kept], [w for _, w in kept]) if kept else \
            ([datasets[0].take(0)], [1.0])
        if len(datasets) == 1:
            return datasets[0]
    elif weights is None and len(datasets) == 1:
        return datasets[0]
    return _SampleDataset(datasets, weights, seed, bool(stop_on_empty_dataset),
                          bool(rerandomize_each_iteration))


def _check_weights_length(shape, n):
    if tuple(shape) != (n,):
        length = shape[0] if len(shape) == 1 else shape
        raise ValueError(
            "Invalid `weights`. `weights` should have the same length as "
            f"`datasets` but got `len(weights)={length}` vs. `len(datasets)={n}`.")


def _check_weights_spec(spec, n):
    """A ``weights`` Dataset must give floating-point vectors of length ``n``."""
    if not S.is_spec(spec) or not hasattr(spec, "dtype") or not spec.dtype.is_floating:
        raise TypeError("Invalid `weights`. A `weights` dataset must produce "
                        f"floating-point vectors, but produces {spec}.")
    dims = spec.shape.as_list() if spec.shape.rank is not None else None
    if dims is not None:
        if len(dims) != 1:
            raise ValueError("Invalid `weights`. A `weights` dataset must produce "
                             f"vectors, but produces {spec}.")
        if dims[0] is not None:
            _check_weights_length((dims[0],), n)


def _weights_vector(element, n):
    w = np.asarray(S.to_host_leaf(element))
    if w.shape != (n,):
        raise InvalidArgumentError(
            None, None, f"Invalid `weights`: expected a vector of {n} weights, got "
            f"shape {w.shape}.")
    return w
