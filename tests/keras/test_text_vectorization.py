"""TextVectorization against outputs recorded from TensorFlow 2.21 on the same corpus."""

import numpy as np
import pytest

import dlframe as tf

CORPUS = ["The cat sat on the mat.", "The dog ate my homework!",
          "Cats and dogs, dogs and cats?"]


def test_int_mode_vocabulary_and_padding_match_tf():
    v = tf.keras.layers.TextVectorization(max_tokens=12, output_sequence_length=6)
    v.adapt(CORPUS)
    assert v.get_vocabulary() == ["", "[UNK]", "the", "dogs", "cats", "and", "sat", "on",
                                  "my", "mat", "homework", "dog"]
    out = v(["the cat ate", "unknown words here and there"])
    assert out.dtype == tf.int64
    assert out.numpy().tolist() == [[2, 1, 1, 0, 0, 0], [1, 1, 1, 5, 1, 0]]
    assert v(tf.constant([["the mat"]])).numpy().tolist() == [[2, 9, 0, 0, 0, 0]]


def test_multi_hot_ngrams_and_tf_idf_match_tf():
    m = tf.keras.layers.TextVectorization(output_mode="multi_hot", max_tokens=8)
    m.adapt(CORPUS)
    assert m.get_vocabulary() == ["[UNK]", "the", "dogs", "cats", "and", "sat", "on", "my"]
    assert m(["the dog and the cat"]).numpy().tolist() == [[1, 1, 0, 0, 1, 0, 0, 0]]
    n = tf.keras.layers.TextVectorization(ngrams=2, max_tokens=10)
    n.adapt(CORPUS)
    assert n.get_vocabulary()[6:] == ["the mat", "the dog", "the cat", "sat on"]
    t = tf.keras.layers.TextVectorization(output_mode="tf_idf", max_tokens=6)
    t.adapt(CORPUS)
    np.testing.assert_allclose(t(["the the cat"]).numpy(),
                               [[0.87166, 1.38629, 0, 0, 0, 0]], rtol=1e-4)


def test_padding_never_counts_in_vector_modes():
    """Documents of different lengths in one batch: the shorter one is padded inside,
    which must not add [UNK] counts (TF output on the same inputs)."""
    c = tf.keras.layers.TextVectorization(output_mode="count", max_tokens=8)
    c.adapt(CORPUS)
    out = c(["the", "the dog and the cat sat"]).numpy().tolist()
    assert out == [[0, 1, 0, 0, 0, 0, 0, 0], [2, 2, 0, 0, 1, 1, 0, 0]]


def test_bad_arguments():
    with pytest.raises(ValueError, match="output_mode"):
        tf.keras.layers.TextVectorization(output_mode="bag")
    with pytest.raises(ValueError, match="output_sequence_length"):
        tf.keras.layers.TextVectorization(output_mode="count", output_sequence_length=3)


def test_text_classifier_trains_on_raw_strings():
    rng = np.random.default_rng(0)
    good, bad = ["great", "fine", "nice", "love"], ["awful", "bad", "poor", "hate"]
    filler = ["movie", "plot", "the", "it", "was", "really"]
    texts, labels = [], []
    for i in range(400):
        pos = i % 2 == 0
        words = list(rng.choice(filler, 4)) + [rng.choice(good if pos else bad)]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(float(pos))
    vec = tf.keras.layers.TextVectorization(max_tokens=50, output_sequence_length=6)
    vec.adapt(texts)
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(1,), dtype=tf.string), vec,
        tf.keras.layers.Embedding(50, 8), tf.keras.layers.GlobalAveragePooling1D(),
        tf.keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    x = np.array(texts, dtype=object)[:, None]
    hist = model.fit(x, np.array(labels), epochs=15, batch_size=32, verbose=0)
    assert hist.history["accuracy"][-1] > 0.95
