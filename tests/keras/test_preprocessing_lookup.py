"""Stage-2 categorical preprocessing layers. Expected values were recorded from
TensorFlow 2.21 / Keras 3 for the same inputs."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from tests.keras.layer_test_utils import run_layer_test

L = keras.layers
WORDS = np.array(["b", "a", "c", "b", "c", "c", "d", "a", "e"])


def test_category_encoding_modes():
    x = np.array([[0, 1], [0, 0], [1, 2], [3, 1]])
    out = L.CategoryEncoding(4, output_mode="multi_hot")(x)
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), [[1, 1, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0],
                                                [0, 1, 0, 1]])
    np.testing.assert_array_equal(
        L.CategoryEncoding(4, output_mode="one_hot")(np.array([3, 2, 0, 1])).numpy(),
        np.eye(4)[[3, 2, 0, 1]])
    np.testing.assert_array_equal(
        L.CategoryEncoding(4, output_mode="one_hot")(np.array([[1], [2]])).numpy(),
        np.eye(4)[[1, 2]])
    counts = L.CategoryEncoding(4, output_mode="count")(
        np.array([[0, 1, 1], [3, 3, 3]]), count_weights=np.array([[.5, 1, 2], [1, 1, 1.]]))
    np.testing.assert_allclose(counts.numpy(), [[0.5, 3.0, 0, 0], [0, 0, 0, 3.0]])
    with pytest.raises(tf.errors.InvalidArgumentError):
        L.CategoryEncoding(4)(np.array([[5]]))
    run_layer_test(L.CategoryEncoding, {"num_tokens": 10}, input_shape=(3, 4),
                   input_dtype="int32")


def test_discretization():
    layer = L.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
    out = layer(np.array([[-1.5, 0.0, 0.5, 1.0, 2.0, 3.0]]))
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), [[0, 1, 1, 2, 3, 3]])
    adapted = L.Discretization(num_bins=4)
    adapted.adapt(np.arange(20, dtype=np.float32))
    assert adapted.bin_boundaries == [4.0, 9.0, 14.0]  # as TF
    adapted = L.Discretization(num_bins=3)
    adapted.adapt(tf.data.Dataset.from_tensor_slices(
        np.array([1., 1, 1, 2, 5, 7, 9, 10, 10, 10, 11, 30])).batch(5))
    np.testing.assert_allclose(adapted.bin_boundaries, [2.0, 10.0], rtol=1e-6)
    np.testing.assert_array_equal(
        L.Discretization(bin_boundaries=[0., 1.], output_mode="one_hot")(
            np.array([-1., 0.5, 3])).numpy(), np.eye(3))
    cfg = layer.get_config()
    assert cfg["bin_boundaries"] == [0.0, 1.0, 2.0] and cfg["num_bins"] is None
    with pytest.raises(ValueError):
        L.Discretization()
    run_layer_test(L.Discretization, {"bin_boundaries": [-1.0, 0.0, 1.0]},
                   input_shape=(3, 4))


def test_hashing_matches_tf():
    h = L.Hashing(num_bins=5)
    out = h(np.array([["A"], ["B"], ["C"], ["D"], ["E"]]))
    assert out.dtype == tf.int64
    np.testing.assert_array_equal(out.numpy().ravel(), [4, 3, 2, 0, 2])
    np.testing.assert_array_equal(
        L.Hashing(num_bins=7)(np.array([[1], [2], [-3], [100000]])).numpy().ravel(),
        [5, 5, 4, 0])
    np.testing.assert_array_equal(
        L.Hashing(num_bins=5, mask_value="")(np.array([["A"], [""], ["C"]])).numpy().ravel(),
        [1, 0, 4])
    np.testing.assert_array_equal(
        L.Hashing(num_bins=5, salt=[133, 137])(np.array([["A"], ["B"]])).numpy().ravel(),
        [4, 0])
    cfg = h.get_config()
    assert (cfg["num_bins"], cfg["salt"], cfg["mask_value"]) == (5, None, None)
    assert type(L.Hashing.from_config(cfg)) is L.Hashing
    f = tf.function(lambda x: h(x))
    np.testing.assert_array_equal(f(tf.constant([["A"], ["E"]])).numpy().ravel(), [4, 2])


def test_string_lookup_adapt_and_int_mode():
    s = L.StringLookup()
    s.adapt(WORDS)
    assert s.get_vocabulary() == ["[UNK]", "c", "b", "a", "e", "d"]  # TF's order
    assert s.vocabulary_size() == 6
    out = s(np.array([["a", "b", "z"], ["c", "", "e"]]))
    assert out.dtype == tf.int64
    np.testing.assert_array_equal(out.numpy(), [[3, 2, 0], [1, 0, 4]])
    capped = L.StringLookup(max_tokens=3)
    capped.adapt(tf.data.Dataset.from_tensor_slices(WORDS).batch(4))
    assert capped.get_vocabulary() == ["[UNK]", "c", "b"]
    cfg = s.get_config()
    assert (cfg["num_oov_indices"], cfg["oov_token"], cfg["mask_token"],
            cfg["output_mode"], cfg["vocabulary_size"]) == (1, "[UNK]", None, "int", 6)


def test_string_lookup_mask_oov_buckets_and_invert():
    s = L.StringLookup(vocabulary=["a", "b", "c"], mask_token="", num_oov_indices=2)
    assert s.get_vocabulary() == ["", "[UNK]", "[UNK]", "a", "b", "c"]
    np.testing.assert_array_equal(s(np.array([["a", "", "zz", "c", "q"]])).numpy(),
                                  [[3, 0, 1, 5, 2]])
    inv = L.StringLookup(vocabulary=["a", "b", "c"], invert=True)
    assert inv(np.array([[0, 1, 3]])).numpy().tolist() == [[b"[UNK]", b"a", b"c"]]
    inv = L.StringLookup(vocabulary=["a", "b", "c"], invert=True, mask_token="")
    assert inv(np.array([[0, 1, 3]])).numpy().tolist() == [[b"", b"[UNK]", b"b"]]
    with pytest.raises(ValueError, match="repeated"):
        L.StringLookup(vocabulary=["a", "a"])
    # round trip through get_vocabulary() (which includes the special tokens)
    again = L.StringLookup(vocabulary=s.get_vocabulary(), mask_token="", num_oov_indices=2)
    assert again.get_vocabulary() == s.get_vocabulary()


@pytest.mark.parametrize("mode,expect", [
    ("multi_hot", [[1, 1, 0, 1], [0, 1, 1, 0]]),
    ("count", [[1, 1, 0, 2], [0, 2, 2, 0]]),
    ("tf_idf", [[1.1666666, 0.5, 0.0, 4.0], [0.0, 1.0, 2.0, 0.0]])])
def test_string_lookup_output_modes(mode, expect):
    kw = {"idf_weights": [0.5, 1.0, 2.0]} if mode == "tf_idf" else {}
    s = L.StringLookup(vocabulary=["a", "b", "c"], output_mode=mode, **kw)
    out = s(np.array([["a", "c", "c", "q"], ["b", "b", "a", "a"]]))
    assert out.dtype == (tf.float32 if mode == "tf_idf" else tf.int64)
    np.testing.assert_allclose(out.numpy(), expect, rtol=1e-6)


def test_string_lookup_one_hot_pad_and_tf_idf_adapt():
    s = L.StringLookup(vocabulary=["a", "b", "c"], output_mode="one_hot")
    np.testing.assert_array_equal(s(np.array(["a", "c", "q"])).numpy(),
                                  [[0, 1, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0]])
    s = L.StringLookup(vocabulary=["a", "b", "c"], output_mode="multi_hot",
                       pad_to_max_tokens=True, max_tokens=6)
    np.testing.assert_array_equal(s(np.array([["a", "q"]])).numpy(), [[1, 1, 0, 0, 0, 0]])
    s = L.StringLookup(output_mode="tf_idf")
    s.adapt(np.array([["a", "b", "a"], ["a", "c", "c"], ["d", "a", "a"]]))
    assert s.get_vocabulary() == ["[UNK]", "a", "c", "d", "b"]
    np.testing.assert_allclose(s.idf_weights.numpy(),
                               [0.82712203, 0.5596158, 0.91629076, 0.91629076, 0.91629076],
                               rtol=1e-6)
    np.testing.assert_allclose(s(np.array([["a", "b", "q"]])).numpy(),
                               [[0.82712203, 0.5596158, 0.0, 0.0, 0.91629076]], rtol=1e-6)


def test_integer_lookup():
    i = L.IntegerLookup()
    i.adapt(np.array([12, 36, 1138, 42, 36, 36, 42, 7]))
    assert i.get_vocabulary() == [-1, 36, 42, 1138, 12, 7]
    np.testing.assert_array_equal(i(np.array([[12, 1138, 42], [42, 1000, 36]])).numpy(),
                                  [[4, 3, 2], [2, 0, 1]])
    m = L.IntegerLookup(vocabulary=[12, 36, 1138, 42], mask_token=0)
    assert m.get_vocabulary() == [0, -1, 12, 36, 1138, 42]
    out = m(np.array([[12, 0, 42, 5]]))
    assert out.dtype == tf.int64
    np.testing.assert_array_equal(out.numpy(), [[2, 0, 5, 1]])
    inv = L.IntegerLookup(vocabulary=[12, 36, 1138, 42], invert=True)
    np.testing.assert_array_equal(inv(np.array([[0, 1, 4]])).numpy(), [[-1, 12, 42]])
    oh = L.IntegerLookup(vocabulary=[12, 36], output_mode="one_hot")
    np.testing.assert_array_equal(oh(np.array([12, 36, 5])).numpy(),
                                  [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    buckets = L.IntegerLookup(vocabulary=[12, 36], num_oov_indices=3)
    np.testing.assert_array_equal(buckets(np.array([7, 8, 9, 12])).numpy(),
                                  [7 % 3, 8 % 3, 9 % 3, 3])
    cfg = i.get_config()
    assert cfg["oov_token"] == -1 and cfg["vocabulary_dtype"] == "int64"


def test_lookup_in_a_model_and_config_round_trip():
    vocab = ["cat", "dog", "bird"]
    inp = keras.Input(shape=(2,), dtype="string")
    idx = L.StringLookup(vocabulary=vocab)(inp)
    emb = L.Embedding(5, 3)(idx)
    model = keras.Model(inp, L.GlobalAveragePooling1D()(emb))
    out = model(tf.constant([["cat", "fish"], ["bird", "dog"]]))
    assert tuple(out.shape) == (2, 3)
    layer = L.StringLookup(vocabulary=vocab, output_mode="count")
    clone = L.StringLookup.from_config(layer.get_config())
    assert clone.get_vocabulary() == layer.get_vocabulary()
    x = tf.constant([["cat", "cat", "emu"]])
    np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())
    f = tf.function(lambda t: layer(t))
    np.testing.assert_array_equal(f(x).numpy(), [[1, 2, 0, 0]])
