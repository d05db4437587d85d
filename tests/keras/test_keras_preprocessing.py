"""keras.utils.pad_sequences and keras.preprocessing.{sequence,text,image}."""

import math

import numpy as np
import pytest

from dlframe import keras

pad = keras.utils.pad_sequences
text = keras.preprocessing.text


def test_pad_sequences_matches_keras():
    # expected values produced by tf.keras (TensorFlow 2.21)
    assert keras.preprocessing.sequence.pad_sequences is pad
    out = pad([[1, 2, 3], [4], []])
    assert out.dtype == np.int32
    assert out.tolist() == [[1, 2, 3], [0, 0, 4], [0, 0, 0]]
    assert pad([[1, 2, 3], [4]], maxlen=2, padding="post", truncating="post",
               value=-1).tolist() == [[1, 2], [4, -1]]
    assert pad([[1, 2, 3], [4, 5, 6, 7]], maxlen=2).tolist() == [[2, 3], [6, 7]]
    assert pad([[1.5, 2], [3]], dtype="float32").tolist() == [[1.5, 2.0], [0.0, 3.0]]
    assert pad([[1.5, 2], [3]]).tolist() == [[1, 2], [0, 3]]  # int32 truncates
    assert pad([["a", "b"], ["c"]], dtype=object, value="<pad>").tolist() == [
        ["a", "b"], ["<pad>", "c"]]
    assert pad([[[1, 2], [3, 4]], [[5, 6]]]).tolist() == [[[1, 2], [3, 4]], [[0, 0],
                                                                             [5, 6]]]
    assert pad([[]]).shape == (1, 0)
    assert pad([np.array([1, 2]), np.array([3])], maxlen=3).tolist() == [[0, 1, 2],
                                                                         [0, 0, 3]]


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="dtype=object"):
        pad([[1], [2]], value="x")
    with pytest.raises(ValueError, match='Padding type "mid"'):
        pad([[1], [2, 3]], padding="mid")
    with pytest.raises(ValueError, match='Truncating type "x"'):
        pad([[1], [2, 3]], truncating="x")
    with pytest.raises(ValueError, match="non-iterable: 1"):
        pad([1, 2])
    with pytest.raises(ValueError, match="different from expected shape"):
        pad([[[1, 2]], [[1, 2, 3]]])


def test_text_to_word_sequence():
    assert text.text_to_word_sequence("Hello, World!  It's  me.") == [
        "hello", "world", "it's", "me"]
    assert text.text_to_word_sequence("A-b c", filters="", lower=False) == ["A-b", "c"]
    assert text.text_to_word_sequence("a;b;;c", split=";") == ["a", "b", "c"]


TEXTS = ["The cat sat on the mat.", "The dog ate my homework!", "the cat"]


def test_tokenizer_vocabulary_and_sequences():
    tok = text.Tokenizer()
    tok.fit_on_texts(TEXTS)
    # by count (the 4, cat 2), ties in first-seen order
    assert list(tok.word_index) == ["the", "cat", "sat", "on", "mat", "dog", "ate", "my",
                                    "homework"]
    assert tok.word_index["the"] == 1 and tok.index_word[2] == "cat"
    assert tok.word_counts["the"] == 4 and tok.word_docs["cat"] == 2
    assert tok.document_count == 3 and tok.index_docs[1] == 3
    assert tok.texts_to_sequences(["The cat ate a fish"]) == [[1, 2, 7]]
    assert tok.sequences_to_texts([[1, 2, 7, 99]]) == ["the cat ate"]


def test_tokenizer_num_words_and_oov():
    tok = text.Tokenizer(num_words=4, oov_token="<OOV>")
    tok.fit_on_texts(TEXTS)
    assert tok.word_index["<OOV>"] == 1 and tok.word_index["the"] == 2
    assert len(tok.word_index) == 10  # fitting keeps every word
    assert tok.texts_to_sequences(["the cat sat on a mat"]) == [[2, 3, 1, 1, 1, 1]]
    assert tok.sequences_to_texts([[2, 3, 5, 42]]) == ["the cat <OOV> <OOV>"]
    plain = text.Tokenizer(num_words=3)
    plain.fit_on_texts(TEXTS)
    assert plain.texts_to_sequences(["the cat sat"]) == [[1, 2]]


def test_tokenizer_char_level_and_token_lists():
    tok = text.Tokenizer(char_level=True)
    tok.fit_on_texts(["abca", "Bd"])
    assert tok.word_index == {"a": 1, "b": 2, "c": 3, "d": 4}
    assert tok.texts_to_sequences(["dab"]) == [[4, 1, 2]]
    words = text.Tokenizer(lower=False)
    words.fit_on_texts([["New", "York"], ["new", "York"]])
    assert words.word_index == {"York": 1, "New": 2, "new": 3}


def test_texts_to_matrix_modes():
    tok = text.Tokenizer()
    tok.fit_on_texts(TEXTS)
    docs = ["the the cat", "dog"]
    binary = tok.texts_to_matrix(docs)
    assert binary.shape == (2, 10)
    assert binary[0].tolist() == [0, 1, 1] + [0] * 7
    assert tok.texts_to_matrix(docs, mode="count")[0, 1] == 2
    np.testing.assert_allclose(tok.texts_to_matrix(docs, mode="freq")[0, :3],
                               [0, 2 / 3, 1 / 3])
    tfidf = tok.texts_to_matrix(docs, mode="tfidf")
    expected_the = (1 + math.log(2)) * math.log(1 + 3 / (1 + 3))
    expected_dog = 1.0 * math.log(1 + 3 / (1 + 1))
    np.testing.assert_allclose(tfidf[0, 1], expected_the)
    np.testing.assert_allclose(tfidf[1, 6], expected_dog)
    with pytest.raises(ValueError, match="Unknown vectorization mode"):
        tok.texts_to_matrix(docs, mode="bad")
    with pytest.raises(ValueError, match="num_words"):
        text.Tokenizer().sequences_to_matrix([[1]])
    fixed = text.Tokenizer(num_words=3)
    assert fixed.sequences_to_matrix([[1, 2, 5]]).tolist() == [[0, 1, 1]]


def test_tokenizer_json_round_trip():
    tok = text.Tokenizer(num_words=5, oov_token="?")
    tok.fit_on_texts(TEXTS)
    again = text.tokenizer_from_json(tok.to_json())
    assert again.word_index == tok.word_index and again.index_word == tok.index_word
    assert again.num_words == 5 and again.document_count == 3
    assert again.texts_to_sequences(TEXTS) == tok.texts_to_sequences(TEXTS)
    np.testing.assert_array_equal(again.texts_to_matrix(TEXTS, mode="tfidf"),
                                  tok.texts_to_matrix(TEXTS, mode="tfidf"))


def test_tokenized_texts_train_an_embedding_model():
    positive = ["good great fine", "great good", "fine good nice", "nice great"]
    negative = ["bad awful poor", "awful bad", "poor bad terrible", "terrible awful"]
    tok = text.Tokenizer()
    tok.fit_on_texts(positive + negative)
    x = pad(tok.texts_to_sequences(positive + negative), maxlen=4)
    y = np.array([1] * 4 + [0] * 4, "float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((4,)), keras.layers.Embedding(len(tok.word_index) + 1, 8),
        keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=40, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] == 1.0


def test_img_to_array():
    img = keras.preprocessing.image
    gray = np.arange(6, dtype="uint8").reshape(2, 3)
    out = img.img_to_array(gray)
    assert out.shape == (2, 3, 1) and out.dtype == np.float32
    assert img.img_to_array(np.zeros((2, 3, 3)), data_format="channels_first").shape == (
        3, 2, 3)
    # ImageDataGenerator is implemented now: tests/keras/test_utils_image_generator.py
