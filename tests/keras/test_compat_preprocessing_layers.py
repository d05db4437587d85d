"""A TF2 program exercising the categorical and image preprocessing layers, in a
tf.data map and in a functional model. Expected values were recorded from TensorFlow
2.21 (Keras 3) on the same inputs."""

import numpy as np
import pytest

import dlframe as tf

L = tf.keras.layers


def test_string_and_integer_lookups_match_tf():
    lookup = L.StringLookup()
    lookup.adapt(["a", "b", "b", "c", "c", "c"])
    assert lookup.get_vocabulary() == ["[UNK]", "c", "b", "a"]
    out = lookup(["c", "a", "z"])
    assert out.dtype == tf.int64 and out.numpy().tolist() == [1, 3, 0]
    inverse = L.StringLookup(vocabulary=lookup.get_vocabulary(), invert=True)
    assert inverse([0, 1, 3]).numpy().tolist() == [b"[UNK]", b"c", b"a"]
    onehot = L.StringLookup(vocabulary=["x", "y"], output_mode="one_hot")
    assert onehot(["y", "q"]).numpy().tolist() == [[0, 0, 1], [1, 0, 0]]
    masked = L.StringLookup(vocabulary=["x", "y"], num_oov_indices=2, mask_token="")
    assert masked(["", "x", "y", "zz"]).numpy().tolist() == [0, 3, 4, 1]
    assert masked.vocabulary_size() == 5

    ints = L.IntegerLookup()
    ints.adapt([12, 36, 1138, 42, 42, 42])
    assert ints.get_vocabulary() == [-1, 42, 1138, 36, 12]
    assert ints([42, 12, 7]).numpy().tolist() == [1, 4, 0]
    multi = L.IntegerLookup(vocabulary=[12, 36], output_mode="multi_hot")
    assert multi([[12, 36, 12], [5, 5, 5]]).numpy().tolist() == [[0, 1, 1], [1, 0, 0]]
    count = L.IntegerLookup(vocabulary=[12, 36], output_mode="count", num_oov_indices=0)
    assert count([[12, 36, 12]]).numpy().tolist() == [[2, 1]]


def test_lookup_without_oov_buckets_rejects_unknown_values():
    strict = L.IntegerLookup(vocabulary=[12, 36], num_oov_indices=0)
    assert strict([36, 12]).numpy().tolist() == [1, 0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_oov_indices=0"):
        strict([99])
    with pytest.raises(tf.errors.InvalidArgumentError, match="found OOV values"):
        L.StringLookup(vocabulary=["a"], num_oov_indices=0, output_mode="one_hot")(["b"])


def test_encoding_hashing_and_discretization_match_tf():
    onehot = L.CategoryEncoding(num_tokens=4, output_mode="one_hot")
    assert onehot([3, 2, 0, 1]).numpy().tolist() == np.eye(4)[[3, 2, 0, 1]].tolist()
    multi = L.CategoryEncoding(num_tokens=4, output_mode="multi_hot")
    assert multi([[0, 1], [0, 0], [1, 2], [3, 1]]).numpy().tolist() == [
        [1, 1, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1]]
    count = L.CategoryEncoding(num_tokens=4, output_mode="count")
    np.testing.assert_allclose(count([[0, 1, 1]], count_weights=[[0.1, 0.2, 0.3]]).numpy(),
                               [[0.1, 0.5, 0, 0]])

    letters = [["A"], ["B"], ["C"], ["D"], ["E"]]
    assert L.Hashing(num_bins=3)(letters).numpy().ravel().tolist() == [1, 0, 1, 1, 2]
    assert L.Hashing(num_bins=3, salt=133)(letters).numpy().ravel().tolist() == [
        0, 0, 2, 1, 0]
    assert L.Hashing(num_bins=3, mask_value="")([["A"], [""], ["C"]]).numpy() \
        .ravel().tolist() == [1, 0, 2]
    assert L.Hashing(num_bins=3)([[1], [2], [3]]).numpy().ravel().tolist() == [0, 1, 0]

    fixed = L.Discretization(bin_boundaries=[0., 1., 2.])
    out = fixed([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])
    assert out.dtype == tf.int32
    assert out.numpy().tolist() == [[0, 2, 3, 1], [1, 3, 2, 1]]
    learned = L.Discretization(num_bins=4, epsilon=0.01)
    learned.adapt([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])
    np.testing.assert_allclose(learned.bin_boundaries, [0.0, 0.5, 1.3])
    assert learned([[-1.5, 1.0, 3.4, 0.5]]).numpy().tolist() == [[0, 2, 3, 2]]
    assert L.Discretization(bin_boundaries=[0., 1.], output_mode="one_hot")(
        [0.5, 2.0]).numpy().tolist() == [[0, 1, 0], [0, 0, 1]]


def test_resizing_crop_pad_and_center_crop_match_tf():
    x = np.arange(2 * 6 * 8 * 3, dtype="float32").reshape(2, 6, 8, 3)
    assert L.Resizing(3, 4)(x).shape == [2, 3, 4, 3]
    np.testing.assert_allclose(L.Resizing(3, 3, crop_to_aspect_ratio=True)(x)[0, :, :, 0],
                               [[16.5, 22.5, 28.5], [64.5, 70.5, 76.5],
                                [112.5, 118.5, 124.5]])
    np.testing.assert_allclose(L.Resizing(3, 3, pad_to_aspect_ratio=True)(x)[0, :, :, 0],
                               [[2.0833, 8.75, 15.4167], [62.5, 70.5, 78.5],
                                [102.0833, 108.75, 115.4166]], atol=1e-3)
    np.testing.assert_allclose(L.CenterCrop(4, 4)(x)[0, :, :, 0],
                               [[30, 33, 36, 39], [54, 57, 60, 63], [78, 81, 84, 87],
                                [102, 105, 108, 111]])
    assert L.CenterCrop(8, 10)(x).shape == [2, 8, 10, 3]
    np.testing.assert_allclose(L.Rescaling(1 / 127.5, offset=-1)(np.array([0., 127.5, 255.])),
                               [-1, 0, 1])
    assert L.Rescaling(0.5)(np.array([2, 4], dtype="int32")).dtype == tf.float32
    config = L.Resizing(2, 2, pad_to_aspect_ratio=True, fill_value=1.0).get_config()
    for key in ("antialias", "crop_to_aspect_ratio", "data_format", "fill_mode",
                "fill_value", "interpolation", "pad_to_aspect_ratio"):
        assert key in config
    assert L.Resizing.from_config(config).pad_to_aspect_ratio
    with pytest.raises(ValueError, match="Only one of"):
        L.Resizing(2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)


def test_augmentation_layers_train_only_and_configs():
    x = np.arange(2 * 6 * 8 * 3, dtype="float32").reshape(2, 6, 8, 3)
    tf.keras.utils.set_random_seed(5)
    for layer in (L.RandomTranslation(0.2, 0.2, fill_mode="constant"),
                  L.RandomContrast(0.5), L.RandomZoom((-0.3, -0.3), fill_mode="constant"),
                  L.RandomBrightness(factor=0.2, value_range=(0, 255))):
        assert layer(x, training=True).shape == [2, 6, 8, 3]
        assert np.array_equal(layer(x, training=False).numpy(), x)
    flipped = L.RandomFlip("horizontal_and_vertical", seed=3)(x, training=True).numpy()
    for i in range(2):
        assert any(np.array_equal(flipped[i], t)
                   for t in (x[i], x[i, :, ::-1], x[i, ::-1], x[i, ::-1, ::-1]))
    quarter = L.RandomRotation(factor=(0.25, 0.25), fill_mode="constant")
    square = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    np.testing.assert_allclose(quarter(square, training=True)[0, :, :, 0].numpy(),
                               [[3, 7, 11, 15], [2, 6, 10, 14], [1, 5, 9, 13],
                                [0, 4, 8, 12]], atol=1e-5)
    assert sorted(L.RandomFlip("horizontal").get_config()) == [
        "data_format", "dtype", "mode", "name", "seed", "trainable"]
    assert sorted(L.RandomRotation(0.1).get_config()) == [
        "data_format", "dtype", "factor", "fill_mode", "fill_value", "interpolation",
        "name", "seed", "trainable"]
    with pytest.raises(ValueError, match="factor"):
        L.RandomRotation(factor=(0.2,))
    # channels_first images are supported since round 18 (as in TF 2.21)
    assert L.RandomFlip("horizontal", data_format="channels_first").data_format == \
        "channels_first"


def test_preprocessing_in_dataset_map_and_functional_model():
    x = np.zeros((2, 6, 8, 3), "float32")
    ds = tf.data.Dataset.from_tensor_slices((x, [0, 1])).batch(2).map(
        lambda a, b: (L.Resizing(3, 3)(a), b))
    assert ds.element_spec == (tf.TensorSpec([None, 3, 3, 3], tf.float32),
                               tf.TensorSpec([None], tf.int32))
    inputs = tf.keras.Input(shape=(1,), dtype="string", name="color")
    encoded = L.StringLookup(vocabulary=["red", "green", "blue"], output_mode="one_hot")(
        inputs)
    model = tf.keras.Model(inputs, L.Dense(1)(encoded))
    assert model(tf.constant([["red"], ["blue"]])).shape == [2, 1]
