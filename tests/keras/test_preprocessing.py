"""Stage-1 preprocessing layers: Rescaling, Normalization, Resizing, CenterCrop,
Identity, GroupNormalization and the random augmentation layers. ``TF_REF`` values
were recorded from TensorFlow 2.21 / Keras 3 for the same inputs."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from tests.keras.layer_test_utils import run_layer_test

X = ((np.arange(20, dtype=np.float32).reshape(1, 4, 5, 1) * 7) % 23)
X6 = (np.arange(24, dtype=np.float32).reshape(2, 3, 4) ** 1.5) % 7

TF_REF = {
    'rot': [8.845499992370605, 14.508600234985352, 17.02050018310547, 14.220499992370605, 11.917499542236328, 4.730999946594238, 10.824600219726562, 6.203100204467773, 17.302400588989258, 10.112799644470215, 9.363800048828125, 14.795700073242188, 12.442299842834473, 13.190600395202637, 13.269000053405762, 6.082499980926514, 4.673999786376953, 15.448800086975098, 5.162600040435791, 9.154500007629395],
    'zoom': [2.799999952316284, 8.399999618530273, 14.0, 19.600000381469727, 11.399999618530273, 13.0, 14.6899995803833, 4.650000095367432, 10.25, 13.779999732971191, 5.599999904632568, 10.510000228881836, 13.350000381469727, 18.950000762939453, 12.819999694824219, 15.800000190734863, 16.799999237060547, 4.0, 9.600000381469727, 15.199999809265137],
    'trans': [0.0, 0.0, 0.0, 0.0, 0.0, 7.0, 14.0, 21.0, 5.0, 0.0, 19.0, 3.0, 10.0, 17.0, 0.0, 8.0, 15.0, 22.0, 6.0, 0.0],
    'gn': [-1.0968999862670898, -0.6202999949455261, -0.14419999718666077, 1.343500018119812, -0.6202999949455261, 0.8956999778747559, -1.4835000038146973, 0.9189000129699707, -0.32120001316070557, 1.7630000114440918, 0.3549000024795532, -0.9897000193595886, 1.1152000427246094, 0.41440001130104065, -0.8823999762535095, -1.750499963760376, -1.184499979019165, -1.5591000318527222, 1.1282000541687012, 0.7587000131607056, 0.6499999761581421, 0.5638999938964844, 0.3343000113964081, 0.41179999709129333],
    'norm': [-1.0, 1.0],
}


def _close(got, key):
    np.testing.assert_allclose(np.asarray(got).ravel(), TF_REF[key], rtol=1e-4, atol=2e-4)


def test_rescaling():
    _layer, _out = run_layer_test(keras.layers.Rescaling, {"scale": 1 / 255.0, "offset": 0.5},
                                input_shape=(2, 3, 4, 1))
    x = tf.constant([[0, 51, 255]], dtype=tf.int32)
    y = keras.layers.Rescaling(1 / 255.0, -1.0)(x)
    assert y.dtype == tf.float32
    np.testing.assert_allclose(y.numpy(), [[-1.0, -0.8, 0.0]], rtol=1e-6)
    cfg = keras.layers.Rescaling(2.0).get_config()
    assert cfg["scale"] == 2.0 and cfg["offset"] == 0.0


def test_normalization_adapt_numpy_tensor_dataset():
    data = np.arange(12, dtype=np.float32).reshape(6, 2)
    for source in (data, tf.constant(data),
                   tf.data.Dataset.from_tensor_slices(data).batch(4)):
        layer = keras.layers.Normalization()
        layer.adapt(source)
        mean, var, count = layer.get_weights()
        np.testing.assert_allclose(mean, [5.0, 6.0], rtol=1e-6)
        np.testing.assert_allclose(var, [11.666667, 11.666667], rtol=1e-6)
        assert count == 6
        # values checked in Keras: (x - mean) / sqrt(var)
        np.testing.assert_allclose(layer(data).numpy()[:2], [[-1.46385, -1.46385],
                                                           [-0.87831, -0.87831]], rtol=1e-5)
    assert [w.name for w in layer.weights] == [f"{layer.name}/mean:0",
                                               f"{layer.name}/variance:0",
                                               f"{layer.name}/count:0"]
    assert not layer.trainable_weights


def test_normalization_merges_uneven_batches_exactly():
    data = np.random.default_rng(0).standard_normal((37, 3, 4)).astype(np.float32) * 5 + 2
    layer = keras.layers.Normalization(axis=(1, 2))
    layer.adapt(tf.data.Dataset.from_tensor_slices(data).batch(10))
    np.testing.assert_allclose(layer.get_weights()[0], data.mean(0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.get_weights()[1], data.var(0), rtol=1e-5)
    np.testing.assert_allclose(layer(data).numpy(),
                               (data - data.mean(0)) / data.std(0), rtol=1e-4, atol=1e-4)
    scalar = keras.layers.Normalization(axis=None)
    scalar.adapt(np.arange(12, dtype=np.float32).reshape(6, 2))
    np.testing.assert_allclose(scalar.get_weights()[1], 11.916667, rtol=1e-6)
    assert scalar.get_weights()[0].shape == ()


def test_normalization_fixed_stats_invert_and_config():
    layer = keras.layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0], invert=True)
    out = layer(np.array([[0.0, 1.0], [2.0, 3.0]], np.float32))
    np.testing.assert_allclose(out.numpy(), [[1.0, 5.0], [5.0, 11.0]])  # as Keras
    assert layer.weights == []
    cfg = layer.get_config()
    assert cfg["axis"] == (-1,) and cfg["mean"] == [1.0, 2.0] and cfg["invert"] is True
    _close(keras.layers.Normalization(axis=None, mean=2.0, variance=4.0)(
        np.array([[0.0, 4.0]])).numpy(), "norm")
    with pytest.raises(ValueError, match="both"):
        keras.layers.Normalization(mean=1.0)
    run_layer_test(keras.layers.Normalization, {"mean": [1.0, 2.0, 3.0],
                                                "variance": [1.0, 4.0, 9.0]},
                   input_shape=(4, 3))


def test_normalization_in_a_model_trains():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 3)).astype(np.float32) * [10, 0.1, 3] + [5, -2, 0]
    y = (x @ np.array([0.1, 10, 0.3], np.float32))[:, None]
    norm = keras.layers.Normalization()
    norm.adapt(x)
    model = keras.Sequential([keras.Input((3,)), norm, keras.layers.Dense(1)])
    model.compile("adam", "mse")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=3, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before
    np.testing.assert_allclose(norm.get_weights()[0], x.mean(0), rtol=1e-5)


def test_resizing():
    x = np.arange(2 * 4 * 5 * 3, dtype=np.float32).reshape(2, 4, 5, 3)
    layer, out = run_layer_test(keras.layers.Resizing, {"height": 3, "width": 7},
                                input_data=x, expected_output_shape=(2, 3, 7, 3))
    np.testing.assert_allclose(out.numpy(), tf.image.resize(x, (3, 7)).numpy())
    # crop_to_aspect_ratio: values checked in Keras
    crop = keras.layers.Resizing(2, 2, crop_to_aspect_ratio=True)(x)
    np.testing.assert_allclose(crop.numpy()[0, :, :, 0], [[9.0, 15.0], [39.0, 45.0]])
    near = keras.layers.Resizing(3, 7, interpolation="nearest")(x.astype(np.uint8))
    assert near.dtype == tf.uint8
    cfg = layer.get_config()
    assert (cfg["height"], cfg["width"], cfg["interpolation"],
            cfg["crop_to_aspect_ratio"]) == (3, 7, "bilinear", False)
    with pytest.raises(ValueError, match="interpolation"):
        keras.layers.Resizing(2, 2, interpolation="cubic")


def test_center_crop():
    x = np.arange(2 * 4 * 5 * 3, dtype=np.float32).reshape(2, 4, 5, 3)
    _layer, out = run_layer_test(keras.layers.CenterCrop, {"height": 2, "width": 3},
                                input_data=x)
    np.testing.assert_array_equal(out.numpy(), x[:, 1:3, 1:4])
    # larger than the image: crop to the aspect ratio, then resize (as Keras)
    up = keras.layers.CenterCrop(6, 3)(x).numpy()[0, :, :, 0]
    np.testing.assert_allclose(up, [[3.0, 4.5, 6.0], [10.5, 12.0, 13.5],
                                    [20.5, 22.0, 23.5], [30.5, 32.0, 33.5],
                                    [40.5, 42.0, 43.5], [48.0, 49.5, 51.0]], rtol=1e-5)


def test_identity():
    layer, _out = run_layer_test(keras.layers.Identity, input_shape=(2, 3))
    assert layer.get_config().keys() >= {"name", "trainable", "dtype"}


def test_group_normalization():
    layer = keras.layers.GroupNormalization(groups=2, epsilon=0.01)
    _close(layer(X6).numpy(), "gn")
    assert [w.name.split("/")[-1] for w in layer.weights] == ["gamma:0", "beta:0"]
    run_layer_test(keras.layers.GroupNormalization, {"groups": 2}, input_shape=(3, 5, 4),
                   expected_num_trainable_weights=2)
    run_layer_test(keras.layers.GroupNormalization, {"groups": 3, "axis": 1},
                   input_shape=(2, 6, 4, 2))
    x = np.random.default_rng(2).standard_normal((3, 4, 6)).astype(np.float32)
    out = keras.layers.GroupNormalization(groups=3, axis=-1)(x).numpy()
    g = x.reshape(3, 4, 3, 2)
    ref = ((g - g.mean((1, 3), keepdims=True)) /
           np.sqrt(g.var((1, 3), keepdims=True) + 1e-3)).reshape(3, 4, 6)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="multiple"):
        keras.layers.GroupNormalization(groups=4)(x)
    cfg = keras.layers.GroupNormalization().get_config()
    assert (cfg["groups"], cfg["axis"], cfg["epsilon"]) == (32, -1, 1e-3)


# ---------------------------------------------------------------- augmentation
AUG = [(keras.layers.RandomFlip, {}), (keras.layers.RandomRotation, {"factor": 0.2}),
       (keras.layers.RandomZoom, {"height_factor": 0.2}),
       (keras.layers.RandomTranslation, {"height_factor": 0.1, "width_factor": 0.2}),
       (keras.layers.RandomContrast, {"factor": 0.3}),
       (keras.layers.RandomBrightness, {"factor": 0.2})]


@pytest.mark.parametrize("cls,kwargs", AUG)
def test_augmentation_identity_at_inference_and_random_in_training(cls, kwargs):
    x = np.random.default_rng(3).uniform(0, 255, (4, 6, 7, 3)).astype(np.float32)
    layer, out = run_layer_test(cls, dict(kwargs, seed=1), input_data=x,
                                call_kwargs={"training": False})
    np.testing.assert_array_equal(out.numpy(), x)
    tf.random.set_seed(0)
    a = layer(x, training=True).numpy()
    assert a.shape == x.shape and not np.allclose(a, x)
    b = layer(x, training=True).numpy()
    assert not np.allclose(a, b)  # a new draw per call
    # seeded: a layer built with the same seed replays the same draws
    first, again = cls(**dict(kwargs, seed=1)), cls(**dict(kwargs, seed=1))
    np.testing.assert_allclose(again(x).numpy(), first(x).numpy())
    # in a model: fit runs with training=True, predict is the identity
    model = keras.Sequential([keras.Input((6, 7, 3)), cls(**kwargs)])
    np.testing.assert_allclose(model.predict(x, verbose=0), x)


def test_random_flip_modes():
    x = np.random.default_rng(4).standard_normal((32, 3, 4, 1)).astype(np.float32)
    out = keras.layers.RandomFlip("horizontal", seed=2)(x, training=True).numpy()
    same = np.all(out == x, axis=(1, 2, 3))
    flipped = np.all(out == x[:, :, ::-1], axis=(1, 2, 3))
    assert np.all(same | flipped) and same.any() and flipped.any()
    out = keras.layers.RandomFlip("vertical", seed=2)(x, training=True).numpy()
    assert np.all(np.all(out == x, axis=(1, 2, 3)) | np.all(out == x[:, ::-1],
                                                            axis=(1, 2, 3)))
    with pytest.raises(ValueError):
        keras.layers.RandomFlip("diagonal")


def test_fixed_range_transforms_match_keras():
    _close(keras.layers.RandomRotation((0.1, 0.1))(X, training=True).numpy(), "rot")
    _close(keras.layers.RandomZoom((0.3, 0.3), (-0.2, -0.2))(X, training=True).numpy(),
           "zoom")
    _close(keras.layers.RandomTranslation((0.25, 0.25), (-0.2, -0.2), fill_mode="constant")(
        X, training=True).numpy(), "trans")
    # a quarter turn with nearest interpolation is an exact rot90
    sq = np.random.default_rng(5).standard_normal((2, 5, 5, 1)).astype(np.float32)
    out = keras.layers.RandomRotation((0.25, 0.25), interpolation="nearest")(
        sq, training=True)
    np.testing.assert_allclose(out.numpy(), np.rot90(sq, 1, axes=(1, 2)), atol=1e-6)


def test_contrast_and_brightness_semantics():
    x = np.random.default_rng(6).uniform(0, 255, (3, 4, 5, 2)).astype(np.float32)
    out = keras.layers.RandomContrast((0.5, 0.5), seed=3)(x, training=True).numpy()
    mean = x.mean(axis=(1, 2), keepdims=True)
    # (out - mean) / (x - mean) is one factor per image in [0.5, 1.5] where unclipped
    inside = (out > 0) & (out < 255)
    ratio = np.where(inside, (out - mean) / (x - mean), np.nan)
    for r in ratio:
        f = np.nanmedian(r)
        assert 0.5 <= f <= 1.5
        np.testing.assert_allclose(r[~np.isnan(r)], f, rtol=1e-3)
    assert out.min() >= 0 and out.max() <= 255
    out = keras.layers.RandomBrightness((0.1, 0.1), value_range=(0, 1))(x / 255.0,
                                                                        training=True)
    np.testing.assert_allclose(out.numpy(), np.clip(x / 255.0 + 0.1, 0, 1), rtol=1e-6)
    with pytest.raises(ValueError):
        keras.layers.RandomBrightness(1.5)


def test_random_crop():
    x = np.random.default_rng(7).standard_normal((2, 6, 7, 3)).astype(np.float32)
    layer, out = run_layer_test(keras.layers.RandomCrop, {"height": 4, "width": 3,
                                                          "seed": 1}, input_data=x,
                                expected_output_shape=(2, 4, 3, 3),
                                call_kwargs={"training": False})
    # inference: largest centred window of aspect 3:4 (6 x 4 from col 1), resized
    ref = tf.image.resize(x[:, :, 1:5], (4, 3)).numpy()
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5)
    seen = set()
    for _ in range(20):
        crop = layer(x, training=True).numpy()
        hits = [(i, j) for i in range(3) for j in range(5)
                if np.array_equal(crop, x[:, i:i + 4, j:j + 3])]
        assert len(hits) == 1
        seen.add(hits[0])
    assert len(seen) > 3
    same = keras.layers.RandomCrop(6, 7)(x, training=True)
    np.testing.assert_array_equal(same.numpy(), x)


def test_augmentation_configs():
    cfg = keras.layers.RandomRotation(0.2).get_config()
    assert (cfg["factor"], cfg["fill_mode"], cfg["interpolation"], cfg["fill_value"],
            cfg["seed"]) == ((-0.2, 0.2), "reflect", "bilinear", 0.0, None)  # Keras 3
    cfg = keras.layers.RandomFlip().get_config()
    assert cfg["mode"] == "horizontal_and_vertical"
    cfg = keras.layers.RandomZoom(0.1).get_config()
    assert cfg["height_factor"] == 0.1 and cfg["width_factor"] is None
    with pytest.raises(NotImplementedError):
        keras.layers.RandomRotation(0.1, fill_mode="mirror")


def test_augmentation_pipeline_trains():
    rng = np.random.default_rng(8)
    x = rng.uniform(0, 255, (32, 8, 8, 1)).astype(np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 127).astype(np.float32)
    model = keras.Sequential([
        keras.Input((8, 8, 1)), keras.layers.Rescaling(1 / 255.0),
        keras.layers.RandomFlip(seed=1), keras.layers.RandomRotation(0.1, seed=2),
        keras.layers.RandomZoom(0.1, seed=3), keras.layers.Resizing(6, 6),
        keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    hist = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert np.all(np.isfinite(hist.history["loss"]))
    assert model.predict(x[:2], verbose=0).shape == (2, 1)
