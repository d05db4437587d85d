"""Word-index preprocessing shared by the IMDB and Reuters loaders."""

import numpy as np


def prepare(seqs, labels, num_words=None, skip_top=0, maxlen=None, start_char=1,
            oov_char=2, index_from=3):
    """Keras's preprocessing of word-index sequences.

    Indices are shifted by ``index_from`` and prefixed with ``start_char``;
    sequences of ``maxlen`` words or more are dropped; words outside
    ``[skip_top, num_words)`` become ``oov_char`` (or are removed when it is None).

    Args:
      seqs: a list of lists of word indices.
      labels: a NumPy array with one label per sequence.

    Returns:
      ``(seqs, labels, kept)``: the processed lists, their labels and the indices of
      the input sequences that were kept.

    Raises:
      ValueError: ``maxlen`` removed every sequence.
    """
    if start_char is not None:
        seqs = [[start_char] + [w + index_from for w in s] for s in seqs]
    elif index_from:
        seqs = [[w + index_from for w in s] for s in seqs]
    kept = list(range(len(seqs)))
    if maxlen:
        kept = [i for i, s in enumerate(seqs) if len(s) < maxlen]
        seqs = [seqs[i] for i in kept]
        labels = labels[kept]
        if not seqs:
            raise ValueError("After filtering for sequences shorter than "
                             f"maxlen={maxlen}, no sequence was kept. Increase maxlen.")
    if not num_words:
        num_words = max(max(s) for s in seqs if s)
    if oov_char is not None:
        seqs = [[w if skip_top <= w < num_words else oov_char for w in s] for s in seqs]
    else:
        seqs = [[w for w in s if skip_top <= w < num_words] for s in seqs]
    return seqs, labels, kept


def object_array(seqs):
    """A 1-D object array holding the lists ``seqs``."""
    out = np.empty(len(seqs), dtype=object)
    out[:] = seqs
    return out
