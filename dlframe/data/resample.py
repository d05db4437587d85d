"""``Dataset.rejection_resample``: rejection sampling towards a class distribution."""

import itertools

import numpy as np

from dlframe.data import structure as S
from dlframe.data.dataset import Dataset, call_fn_raw
from dlframe.data.options import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY
from dlframe.data.seeds import make_rng, resolve_seed


def _distribution(value, arg):
    dist = np.asarray(S.to_host_array(value) if not isinstance(value, (list, tuple))
                      else value, dtype=np.float64)
    if dist.ndim != 1 or dist.size == 0 or (dist < 0).any() or dist.sum() <= 0:
        raise ValueError(f"`{arg}` must be a 1-D list of non-negative class "
                         "probabilities with a positive sum. Received: "
                         f"{arg}={value!r}")
    return dist / dist.sum()


class _RejectionResampleDataset(Dataset):
    """Yields ``(class, element)`` pairs, keeping an element of class ``c`` with
    probability ``(target[c] / initial[c]) / max_k(target[k] / initial[k])``; without
    ``initial_dist`` the class frequencies seen so far estimate it."""

    def __init__(self, input_dataset, class_func, target_dist, initial_dist, seed):
        super().__init__((input_dataset,))
        self._class_func = class_func
        self._target = _distribution(target_dist, "target_dist")
        self._initial = None if initial_dist is None else \
            _distribution(initial_dist, "initial_dist")
        if self._initial is not None and self._initial.shape != self._target.shape:
            raise ValueError(f"`initial_dist` has {self._initial.size} classes but "
                             f"`target_dist` has {self._target.size}.")
        self._seed = resolve_seed(seed)
        self._epoch = itertools.count()

    def _class_of(self, element):
        value = np.asarray(S.to_host_array(call_fn_raw(self._class_func, element)))
        if value.dtype.kind not in "iu":   # TF: the gather of a non-integer index
            raise TypeError("`class_func` must return an integer class; it returned "
                            f"{value.dtype} values.")
        if value.size != 1:
            raise ValueError("`class_func` must return a scalar integer class; it "
                             f"returned {value.dtype} values of shape {value.shape}.")
        label = int(value.reshape(()))
        if not 0 <= label < self._target.size:
            raise ValueError(f"`class_func` returned class {label}, outside [0, "
                             f"{self._target.size}) of `target_dist`.")
        return value.reshape(()), label

    def _iter(self):
        rng = make_rng(self._seed, next(self._epoch))
        counts = np.zeros(self._target.size)
        for element in self._inputs[0]._iter():
            value, label = self._class_of(element)
            if self._initial is not None:
                initial = self._initial
            else:
                counts[label] += 1
                initial = counts / counts.sum()
            seen = initial > 0
            ratio = np.zeros_like(self._target)
            ratio[seen] = self._target[seen] / initial[seen]
            if rng.random() * ratio.max() < ratio[label]:
                yield value, element

    def _cardinality(self):
        n = self._inputs[0]._cardinality()
        return n if n == INFINITE_CARDINALITY else UNKNOWN_CARDINALITY

    def _compute_spec(self):
        inner = self._inputs[0].element_spec
        for element in self._inputs[0]._sample_iter():
            return S.spec_of(self._class_of(element)[0]), inner
        raise ValueError("Cannot infer the element_spec of an empty dataset.")


def rejection_resample(dataset, class_func, target_dist, initial_dist=None, seed=None):
    """``Dataset.rejection_resample`` (see ``_RejectionResampleDataset``)."""
    return _RejectionResampleDataset(dataset, class_func, target_dist, initial_dist,
                                     seed)
