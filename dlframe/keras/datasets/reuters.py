"""Reuters newswire topics: 11,228 word-index sequences labelled with 46 topics."""

import json

import numpy as np

from dlframe.keras.datasets import _sequences
from dlframe.keras.datasets._download import get_file, load_npz_objects

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"  # md5, as Keras publishes it

_LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing",
    "money-supply", "coffee", "sugar", "trade", "reserves", "ship", "cotton",
    "carcass", "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp", "meal-feed",
    "alum", "oilseed", "gold", "tin", "strategic-metal", "livestock", "retail", "ipi",
    "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem",
    "dlr", "gas", "silver", "wpi", "hog", "lead")


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None,
              test_split=0.2, seed=113, start_char=1, oov_char=2, index_from=3, *,
              cache_dir=None, **kwargs):
    """Loads Reuters as lists of word indices (Keras's preprocessing and arguments).

    The file's ``reuters.npz`` is read from the cache (``~/.keras/datasets`` copies
    are used as they are) or downloaded once.

    Args:
      path: file name in the cache.
      num_words: keep the most frequent words only (rarer ones become ``oov_char``).
      skip_top: also replace the ``skip_top`` most frequent words.
      maxlen: drop sequences of ``maxlen`` words or more.
      test_split: fraction of the (shuffled) data held out for testing.
      seed: shuffling seed.
      start_char: index marking a sequence start (None: no marker).
      oov_char: replacement index (None: drop the words instead).
      index_from: offset added to every word index.
      cache_dir: cache folder to use instead of the default.

    Returns:
      ``(x_train, y_train), (x_test, y_test)``; x are object arrays of lists, y
      integer topic indices (see ``get_label_names``).

    Raises:
      ValueError: ``test_split`` is outside [0, 1).
    """
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    if not 0 <= test_split < 1:
        raise ValueError("Invalid value for argument `test_split`: it must be between "
                         f"0 and 1 (exclusive of 1). Received: test_split={test_split}")
    path = get_file(path, origin=ORIGIN_FOLDER + "reuters.npz", file_hash=FILE_HASH,
                    cache_dir_override=cache_dir)
    f = load_npz_objects(path)
    xs, labels = f["x"], f["y"]
    order = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(order)
    seqs, labels, _ = _sequences.prepare(
        list(xs[order]), labels[order], num_words=num_words, skip_top=skip_top,
        maxlen=maxlen, start_char=start_char, oov_char=oov_char, index_from=index_from)
    n_train = int(len(seqs) * (1 - test_split))
    x = _sequences.object_array(seqs)
    return (x[:n_train], labels[:n_train]), (x[n_train:], labels[n_train:])


def get_word_index(path="reuters_word_index.json", *, cache_dir=None):
    """The dict word -> index used by ``load_data`` (before ``index_from``)."""
    path = get_file(path, origin=ORIGIN_FOLDER + "reuters_word_index.json",
                    file_hash=WORD_INDEX_HASH, cache_dir_override=cache_dir)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def get_label_names():
    """The 46 topic names, indexed by the labels ``load_data`` returns."""
    return _LABEL_NAMES
