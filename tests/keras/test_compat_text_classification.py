"""A TF2 text-classification program (TextVectorization adapted on an in-memory corpus,
Embedding + GlobalAveragePooling1D, fit on a tf.data pipeline) run unchanged on dlframe.
Expected values were recorded from TensorFlow 2.21 on the same program."""

import math

import numpy as np
import pytest

import dlframe as tf

TEXTS = ["The movie was great!", "Terrible acting, awful plot.", "I loved it, great fun",
         "worst film ever", "Great story and great cast", "awful, boring and bad",
         "fun and loved the cast", "bad plot, bad acting"]
LABELS = [1, 0, 1, 0, 1, 0, 1, 0]
TF_VOCAB = ["", "[UNK]", "great", "bad", "and", "the", "plot", "loved", "fun", "cast",
            "awful", "acting", "worst", "was", "terrible", "story", "movie", "it", "i",
            "film"]


@pytest.fixture
def vectorizer():
    vec = tf.keras.layers.TextVectorization(max_tokens=20, output_mode="int",
                                            output_sequence_length=6)
    vec.adapt(tf.data.Dataset.from_tensor_slices(TEXTS).batch(4))
    return vec


def test_adapt_on_dataset_gives_tf_vocabulary(vectorizer):
    assert vectorizer.get_vocabulary() == TF_VOCAB
    assert vectorizer.vocabulary_size() == 20
    out = vectorizer(["great fun movie", "unknown words here please now ok really"])
    assert out.dtype == tf.int64
    assert out.numpy().tolist() == [[2, 8, 16, 0, 0, 0], [1, 1, 1, 1, 1, 1]]
    assert vectorizer("great fun").numpy().tolist() == [2, 8, 0, 0, 0, 0]


def test_fit_on_map_batch_cache_prefetch_pipeline(vectorizer):
    ds = tf.data.Dataset.from_tensor_slices((TEXTS, LABELS))
    assert ds.element_spec == (tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.int32))
    train = (ds.map(lambda text, label: (vectorizer(text), label),
                    num_parallel_calls=tf.data.AUTOTUNE)
             .batch(4).cache().prefetch(tf.data.AUTOTUNE))
    x_spec, y_spec = train.element_spec
    assert x_spec.dtype == tf.int64 and x_spec.shape.as_list() == [None, 6]
    assert y_spec.shape.as_list() == [None]
    x, y = next(iter(train))
    assert x.numpy().tolist() == [[5, 16, 13, 2, 0, 0], [14, 11, 10, 6, 0, 0],
                                  [18, 7, 17, 2, 8, 0], [12, 19, 1, 0, 0, 0]]
    assert y.numpy().tolist() == [1, 0, 1, 0]

    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([tf.keras.layers.Embedding(20, 8),
                                 tf.keras.layers.GlobalAveragePooling1D(),
                                 tf.keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=tf.keras.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(train, epochs=30, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss"]
    assert history.history["accuracy"][-1] == 1.0
    assert history.history["loss"][-1] < history.history["loss"][0] / 4

    end_to_end = tf.keras.Sequential([tf.keras.Input(shape=(1,), dtype="string"),
                                      vectorizer, model])
    pred = end_to_end.predict(tf.constant([["great fun"], ["awful bad"]]), verbose=0)
    assert pred.shape == (2, 1)
    assert pred[0, 0] > pred[1, 0]


def test_custom_standardize_and_tf_idf_weights():
    def standardize(s):
        return tf.strings.regex_replace(tf.strings.lower(s), "[!,.]", "")
    vec = tf.keras.layers.TextVectorization(standardize=standardize, max_tokens=10,
                                            output_mode="tf_idf")
    vec.adapt(TEXTS)
    out = vec(["great great fun"]).numpy()
    assert out.shape == (1, 10) and out.dtype == np.float32
    # idf = log(1 + documents / (1 + documents containing the token)), as TF
    expected = np.zeros(10, np.float32)
    expected[1] = 2 * math.log(1 + 8 / (1 + 3))   # 'great': 3 documents, twice
    expected[7] = math.log(1 + 8 / (1 + 2))       # 'fun': 2 documents
    np.testing.assert_allclose(out[0], expected, rtol=1e-5)


def test_ngrams_multi_hot_count_and_characters_match_tf():
    v3 = tf.keras.layers.TextVectorization(output_mode="multi_hot", ngrams=2, max_tokens=12)
    v3.adapt(TEXTS)
    assert v3.get_vocabulary() == ["[UNK]", "great", "bad", "and", "the", "plot", "loved",
                                   "fun", "cast", "awful", "acting", "worst film"]
    assert v3(["great fun"]).numpy().tolist() == [[1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]]
    v4 = tf.keras.layers.TextVectorization(output_mode="count", vocabulary=["great", "bad"])
    assert v4(["great great bad x"]).numpy().tolist() == [[1, 2, 1]]
    assert v4.get_vocabulary() == ["[UNK]", "great", "bad"]
    v5 = tf.keras.layers.TextVectorization(split="character", max_tokens=8)
    v5.adapt(["abcab", "bcd"])
    assert v5.get_vocabulary() == ["", "[UNK]", "b", "c", "a", "d"]
    assert v5(["abz"]).numpy().tolist() == [[4, 2, 1]]


def test_config_has_tf_keys_and_round_trips(vectorizer):
    config = vectorizer.get_config()
    for key in ("encoding", "idf_weights", "max_tokens", "ngrams", "output_mode",
                "output_sequence_length", "pad_to_max_tokens", "ragged", "sparse",
                "split", "standardize", "vocabulary", "vocabulary_size"):
        assert key in config
    assert config["vocabulary_size"] == 20
    clone = tf.keras.layers.TextVectorization.from_config(config)
    assert clone.get_vocabulary() == TF_VOCAB
    assert clone(["great fun"]).numpy().tolist() == [[2, 8, 0, 0, 0, 0]]


def test_common_mistakes_raise_value_errors():
    with pytest.raises(ValueError, match="output_mode"):
        tf.keras.layers.TextVectorization(output_mode="onehot")
    with pytest.raises(ValueError, match="output_sequence_length"):
        tf.keras.layers.TextVectorization(output_mode="multi_hot", output_sequence_length=3)
    with pytest.raises(ValueError, match="ragged"):
        tf.keras.layers.TextVectorization(ragged=True, output_mode="count")
