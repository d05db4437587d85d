"""IMDB movie reviews: 25,000 training and 25,000 test word-index sequences, 0/1 labels."""

import json

import numpy as np

from dlframe.keras.datasets import _sequences
from dlframe.keras.datasets._download import get_file, load_npz_objects

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"  # md5, as Keras publishes it


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113,
              start_char=1, oov_char=2, index_from=3, *, cache_dir=None, **kwargs):
    """Loads IMDB as lists of word indices (Keras's preprocessing and arguments).

    Args:
      num_words: keep the most frequent words only (rarer ones become ``oov_char``).
      skip_top: also replace the ``skip_top`` most frequent words.
      maxlen: drop sequences of ``maxlen`` words or more.
      seed: shuffling seed.
      start_char: index marking a sequence start (None: no marker).
      oov_char: replacement index (None: drop the words instead).
      index_from: offset added to every word index.

    Returns:
      ``(x_train, y_train), (x_test, y_test)``; x are object arrays of lists.
    """
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    path = get_file(path, origin=ORIGIN_FOLDER + "imdb.npz", file_hash=FILE_HASH,
                    cache_dir_override=cache_dir)
    f = load_npz_objects(path)
    x_train, y_train = f["x_train"], f["y_train"]
    x_test, y_test = f["x_test"], f["y_test"]
    rng = np.random.RandomState(seed)
    order = np.arange(len(x_train))
    rng.shuffle(order)
    x_train, y_train = x_train[order], y_train[order]
    order = np.arange(len(x_test))
    rng.shuffle(order)
    x_test, y_test = x_test[order], y_test[order]
    seqs, labels, kept = _sequences.prepare(
        list(x_train) + list(x_test), np.concatenate([y_train, y_test]),
        num_words=num_words, skip_top=skip_top, maxlen=maxlen, start_char=start_char,
        oov_char=oov_char, index_from=index_from)
    n_train = sum(1 for i in kept if i < len(x_train))
    x = _sequences.object_array(seqs)
    return (x[:n_train], labels[:n_train]), (x[n_train:], labels[n_train:])


def get_word_index(path="imdb_word_index.json", *, cache_dir=None):
    """The dict word -> index used by ``load_data`` (before ``index_from``)."""
    path = get_file(path, origin=ORIGIN_FOLDER + "imdb_word_index.json",
                    file_hash=WORD_INDEX_HASH, cache_dir_override=cache_dir)
    with open(path, encoding="utf-8") as f:
        return json.load(f)
