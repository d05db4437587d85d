"""``keras.preprocessing.sequence``: ``pad_sequences`` (also ``keras.utils``),
``TimeseriesGenerator`` and the word2vec helpers ``skipgrams`` and
``make_sampling_table``. Results are NumPy arrays and Python lists, as in Keras."""

import json
import random

from dlframe.backends.base import np  # host-side data utility: returns NumPy, as Keras
from dlframe.keras.utils.py_dataset import PyDataset
from dlframe.keras.utils.sequence_utils import pad_sequences

__all__ = ["TimeseriesGenerator", "make_sampling_table", "pad_sequences", "skipgrams"]


class TimeseriesGenerator(PyDataset):
    """Batches of sliding windows over a time series, with the target that follows
    each window (a ``PyDataset``, so ``fit`` accepts it).

    Window ``i`` ends just before row ``r_i`` and holds rows
    ``data[r_i - length : r_i : sampling_rate]``; its target is ``targets[r_i]``.

    Args:
      data: indexable rows (array or list), time along the first axis.
      targets: one target per row of ``data``.
      length: how many rows back a window reaches (before sampling).
      sampling_rate: keep every ``sampling_rate``-th row of a window.
      stride: rows between the ends of consecutive windows.
      start_index, end_index: rows before ``start_index`` are never window ends;
        ``end_index`` is the last row used (default: the last row).
      shuffle: draw the window ends of each batch at random.
      reverse: windows in reverse time order.
      batch_size: windows per batch.
      **kwargs: ``workers``, ``use_multiprocessing``, ``max_queue_size``.
    """

    def __init__(self, data, targets, length, sampling_rate=1, stride=1, start_index=0,
                 end_index=None, shuffle=False, reverse=False, batch_size=128,
                 **kwargs):
        super().__init__(**kwargs)
        if len(data) != len(targets):
            raise ValueError("Data and targets have to be of same length. Data length "
                             f"is {len(data)} while target length is {len(targets)}")
        for name, value in (("length", length), ("sampling_rate", sampling_rate),
                            ("stride", stride), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer. Received: "
                                 f"{name}={value!r}")
        self.data, self.targets = data, targets
        self.length, self.sampling_rate, self.stride = length, sampling_rate, stride
        self.start_index = start_index + length
        self.end_index = len(data) - 1 if end_index is None else end_index
        self.shuffle, self.reverse, self.batch_size = shuffle, reverse, batch_size
        if self.start_index > self.end_index:
            raise ValueError(f"`start_index+length={self.start_index} > end_index="
                             f"{self.end_index}` is disallowed, as no part of the "
                             "sequence would be left to be used as current step.")

    def __len__(self):
        span = self.batch_size * self.stride
        return (self.end_index - self.start_index + span) // span

    def _window_ends(self, index):
        if self.shuffle:
            return np.random.randint(self.start_index, self.end_index + 1,
                                     size=self.batch_size)
        first = self.start_index + self.batch_size * self.stride * index
        last = min(first + self.batch_size * self.stride, self.end_index + 1)
        return np.arange(first, last, self.stride)

    def __getitem__(self, index):
        rows = self._window_ends(index)
        samples = np.array([self.data[r - self.length:r:self.sampling_rate]
                            for r in rows])
        targets = np.array([self.targets[r] for r in rows])
        if self.reverse:
            samples = samples[:, ::-1, ...]
        return samples, targets

    def get_config(self):
        """The constructor arguments (``data``/``targets`` as lists)."""
        def listed(v):
            return v.tolist() if isinstance(v, np.ndarray) else v
        return {"data": listed(self.data), "targets": listed(self.targets),
                "length": self.length, "sampling_rate": self.sampling_rate,
                "stride": self.stride, "start_index": self.start_index - self.length,
                "end_index": self.end_index, "shuffle": self.shuffle,
                "reverse": self.reverse, "batch_size": self.batch_size}

    def to_json(self, **kwargs):
        """A JSON string of the class name and ``get_config()``."""
        return json.dumps({"class_name": type(self).__name__,
                           "config": self.get_config()}, **kwargs)


def make_sampling_table(size, sampling_factor=1e-5):
    """Keep-probabilities for word ranks ``0..size-1`` under a Zipf-law estimate of
    word frequencies (word2vec's subsampling of frequent words; rank 0 counts as
    rank 1).

    Args:
      size: the vocabulary size.
      sampling_factor: word2vec's ``t``; smaller keeps fewer frequent words.

    Returns:
      A float64 array of length ``size``.
    """
    euler_gamma = 0.577
    rank = np.arange(size, dtype=np.float64)
    rank[0] = 1
    # 1 / frequency of the word of this rank: rank * H(rank), H by its expansion.
    inverse_freq = rank * (np.log(rank) + euler_gamma) + 0.5 - 1.0 / (12.0 * rank)
    scaled = sampling_factor * inverse_freq
    return np.minimum(1.0, scaled / np.sqrt(scaled))


def skipgrams(sequence, vocabulary_size, window_size=4, negative_samples=1.0,
              shuffle=True, categorical=False, sampling_table=None, seed=None):
    """Word2vec training pairs from a sequence of word indices.

    Every (word, neighbour within ``window_size``) pair is a positive couple (label
    1); ``negative_samples`` times as many couples pair a word with a random index
    in ``[1, vocabulary_size)`` (label 0). Index 0 is padding and never paired.

    Args:
      sequence: word indices.
      vocabulary_size: one more than the largest index.
      window_size: how far a neighbour may be.
      negative_samples: negatives per positive (0: none).
      shuffle: shuffle the couples (and their labels alike).
      categorical: labels as ``[0, 1]``/``[1, 0]`` instead of ``1``/``0``.
      sampling_table: keep-probability per index (``make_sampling_table``); a word
        is skipped as the centre of a window when a uniform draw exceeds it.
      seed: seed of the shuffle.

    Returns:
      ``(couples, labels)``: lists of ``[word, context]`` and of labels.
    """
    positive, negative = ([0, 1], [1, 0]) if categorical else (1, 0)
    couples, labels = [], []
    for i, word in enumerate(sequence):
        if not word:
            continue
        if sampling_table is not None and sampling_table[word] < random.random():
            continue
        lo, hi = max(0, i - window_size), min(len(sequence), i + window_size + 1)
        for j in range(lo, hi):
            if j != i and sequence[j]:
                couples.append([word, sequence[j]])
                labels.append(positive)
    if negative_samples > 0 and couples:
        count = int(len(labels) * negative_samples)
        words = [c[0] for c in couples]
        random.shuffle(words)
        couples += [[words[k % len(words)], random.randint(1, vocabulary_size - 1)]
                    for k in range(count)]
        labels += [negative] * count
    if shuffle:
        if seed is None:
            seed = random.randint(0, 10**7)
        order = list(range(len(couples)))
        random.Random(seed).shuffle(order)
        couples = [couples[k] for k in order]
        labels = [labels[k] for k in order]
    return couples, labels
