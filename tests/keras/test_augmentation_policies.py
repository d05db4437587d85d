"""Keras 3 RandAugment, AugMix, RandomElasticTransform, MaxNumBoundingBoxes and
ContrastLimitedAdaptiveHistogramEqualization."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.keras.layers.augmentation_elastic import map_coordinates_2d
from dlframe.keras.layers.augmentation_policies import RAND_AUGMENT_OPS

L = tf.keras.layers


def _images(n=4, h=16, w=16, seed=0):
    return np.random.RandomState(seed).randint(0, 256, (n, h, w, 3)).astype("uint8")


RANDOM_LAYERS = [
    lambda: L.RandAugment(seed=1),
    lambda: L.RandAugment(value_range=(0, 1), num_ops=3, factor=(0.2, 0.8), seed=2),
    lambda: L.AugMix(seed=3),
    lambda: L.AugMix(num_chains=2, chain_depth=2, all_ops=False, alpha=0.5, seed=4),
    lambda: L.RandomElasticTransform(seed=5),
    lambda: L.RandomElasticTransform(factor=(1.0, 1.0), scale=(0.5, 1.0),
                                     fill_mode="constant", seed=6),
]


@pytest.mark.parametrize("make", RANDOM_LAYERS)
def test_shapes_range_identity_and_config(make):
    layer = make()
    high = float(layer.value_range[1])
    x = _images().astype("float32") * (high / 255.0)
    assert np.array_equal(layer(x, training=False).numpy(), x)
    changed = 0.0
    for _ in range(4):
        y = layer(x, training=True).numpy()
        assert y.shape == x.shape and y.dtype == np.float32
        assert y.min() >= layer.value_range[0] and y.max() <= high + 1e-4
        changed = max(changed, np.abs(y - x).mean())
    assert changed > 0.0
    single = layer(x[0], training=True)                     # unbatched image
    assert single.shape == x[0].shape
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


def test_config_spellings_match_keras():
    # from Keras 3.15: a float factor f is stored as (0, f)
    config = L.RandAugment(seed=1).get_config()
    assert config["factor"] == (0, 0.5) and config["num_ops"] == 2
    assert config["value_range"] == (0, 255) and config["interpolation"] == "bilinear"
    config = L.AugMix().get_config()
    assert (config["num_chains"], config["chain_depth"], config["alpha"],
            config["all_ops"], config["factor"]) == (3, 3, 1.0, True, (0, 0.3))
    config = L.RandomElasticTransform().get_config()
    assert config["factor"] == (0, 1.0) and config["scale"] == (0, 1.0)
    assert len(RAND_AUGMENT_OPS) == 11


@pytest.mark.parametrize("bad", [
    lambda: L.RandAugment(factor=1.5), lambda: L.RandAugment(num_ops=-1),
    lambda: L.AugMix(alpha=0), lambda: L.AugMix(num_chains=0),
    lambda: L.RandomElasticTransform(scale=2.0)])
def test_bad_arguments_raise_value_error(bad):
    with pytest.raises(ValueError):
        bad()


def test_bad_modes_raise_not_implemented():
    with pytest.raises(NotImplementedError, match="fill_mode"):
        L.RandomElasticTransform(fill_mode="bogus")
    with pytest.raises(NotImplementedError, match="interpolation"):
        L.RandAugment(interpolation="bicubic")


def test_rand_augment_ops_are_drawn_per_batch():
    # identical images stay identical after RandAugment only if every image went
    # through the same operations; with factor 0 the geometric and colour ops are
    # no-ops, so whichever op is drawn the images still match each other
    x = np.repeat(_images(1).astype("float32"), 6, axis=0)
    layer = L.RandAugment(factor=0.0, seed=3)
    for _ in range(5):
        y = layer(x, training=True).numpy()
        assert np.allclose(y, y[:1], atol=1e-4)


def test_augmentations_draw_new_ops_under_function_and_dataset():
    x = _images().astype("float32")
    for layer in (L.RandAugment(seed=1), L.AugMix(seed=2)):
        step = tf.function(lambda a, layer=layer: layer(a, training=True))
        outs = [step(x).numpy() for _ in range(3)]
        assert not all(np.array_equal(outs[0], o) for o in outs[1:])
    aug = L.RandAugment(seed=7)
    ds = tf.data.Dataset.from_tensor_slices(x).batch(2).map(
        lambda b: aug(b, training=True))
    batches = [b.numpy() for b in ds]
    assert [b.shape for b in batches] == [(2, 16, 16, 3)] * 2


def test_augmix_mixes_chain_outputs_and_model_use():
    # on a flat 128 image with factor 0 every op maps a flat image to a flat one
    # (solarization to 255 - v, 1-bit posterization to 0 or 128, the rest to
    # itself), and the chains and weights are drawn per batch: the output is one
    # value, a convex mix of chain results in {0, 127, 128}
    x = np.full((4, 12, 12, 3), 128.0, "float32")
    layer = L.AugMix(factor=0.0, all_ops=False, seed=0)
    for _ in range(5):
        y = layer(x, training=True).numpy()
        assert np.ptp(y) < 1e-3 and -1e-3 <= y.min() and y.max() <= 128.0 + 1e-3
    model = tf.keras.Sequential([tf.keras.Input((16, 16, 3)), L.Rescaling(1 / 255.0),
                                 L.RandomElasticTransform(value_range=(0, 1), seed=1),
                                 L.GlobalAveragePooling2D(), L.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(_images(8), np.ones((8, 1)), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_elastic_transform_warps_smoothly():
    x = np.tile(np.linspace(0, 255, 32, dtype="float32")[None, None, :, None],
                (2, 32, 1, 3))
    layer = L.RandomElasticTransform(factor=(1.0, 1.0), scale=(1.0, 1.0), seed=4)
    y = layer(x, training=True).numpy()
    diff = np.abs(y - x)
    assert diff.mean() > 0.1
    # a smooth field moves neighbouring pixels alike: the warped ramp stays ramp-like
    assert np.abs(np.diff(y, axis=2)).max() < 8 * (255.0 / 31)


@pytest.mark.parametrize("mode, expected_row0", [
    ("reflect", [5.5, 6.5, 7.5, 8.5, 9.0]),
    ("mirror", [10.5, 11.5, 12.5, 13.5, 13.5]),
    ("wrap", [10.5, 11.5, 12.5, 13.5, 12.0]),
    ("nearest", [0.5, 1.5, 2.5, 3.5, 4.0]),
    ("constant", [-1.0] * 5)])
def test_map_coordinates_fill_modes(mode, expected_row0):
    # sampling 2 rows up and half a pixel right of a 4x5 ramp; the 'mirror' row
    # equals scipy.ndimage.map_coordinates(order=1, mode='mirror')
    img = np.arange(20, dtype="float32").reshape(1, 4, 5, 1)
    rows = np.broadcast_to(np.arange(4, dtype="float32")[None, :, None], (1, 4, 5))
    cols = np.broadcast_to(np.arange(5, dtype="float32")[None, None, :], (1, 4, 5))
    out = map_coordinates_2d(tf.constant(img), tf.constant(rows - 2),
                             tf.constant(cols + 0.5), "bilinear", mode, -1.0).numpy()
    np.testing.assert_allclose(out[0, 0, :, 0], expected_row0)
    np.testing.assert_allclose(out[0, 2, :4, 0], [0.5, 1.5, 2.5, 3.5])


def _boxes():
    return {"boxes": np.arange(24, dtype="float32").reshape(2, 3, 4),
            "labels": np.array([[1, 2, 3], [4, 5, 6]])}


def test_max_num_bounding_boxes_pads_and_truncates():
    images = np.zeros((2, 5, 5, 3), "uint8")
    padded = L.MaxNumBoundingBoxes(4, bounding_box_format="xyxy")(
        {"images": images, "bounding_boxes": _boxes()})
    boxes, labels = padded["bounding_boxes"]["boxes"], padded["bounding_boxes"]["labels"]
    assert boxes.shape == (2, 4, 4) and labels.shape == (2, 4)
    np.testing.assert_array_equal(boxes.numpy()[:, :3], _boxes()["boxes"])
    np.testing.assert_array_equal(boxes.numpy()[:, 3], -np.ones((2, 4)))
    np.testing.assert_array_equal(labels.numpy(), [[1, 2, 3, -1], [4, 5, 6, -1]])
    assert padded["images"].shape == images.shape
    cut = L.MaxNumBoundingBoxes(2, fill_value=-7, bounding_box_format="xyxy")(
        {"images": images, "bounding_boxes": _boxes()}, training=False)
    np.testing.assert_array_equal(cut["bounding_boxes"]["labels"].numpy(),
                                  [[1, 2], [4, 5]])
    layer = L.MaxNumBoundingBoxes(5, fill_value=0, bounding_box_format="xyxy")
    assert L.MaxNumBoundingBoxes.from_config(layer.get_config()).get_config() == \
        layer.get_config()
    shape = layer.compute_output_shape({"images": (2, 5, 5, 3), "bounding_boxes": {
        "boxes": (2, 3, 4), "labels": (2, 3)}})
    assert shape["bounding_boxes"] == {"boxes": [2, 5, 4], "labels": [2, 5]}


def test_max_num_bounding_boxes_in_dataset_and_errors():
    images = np.zeros((2, 5, 5, 3), "uint8")
    ds = tf.data.Dataset.from_tensor_slices(
        {"images": images, "bounding_boxes": _boxes()}).batch(2).map(
        L.MaxNumBoundingBoxes(5, bounding_box_format="xyxy"))
    (batch,) = list(ds)
    np.testing.assert_array_equal(batch["bounding_boxes"]["labels"].numpy(),
                                  [[1, 2, 3, -1, -1], [4, 5, 6, -1, -1]])
    with pytest.raises(ValueError, match="bounding_box_format"):
        L.MaxNumBoundingBoxes(3)({"images": images, "bounding_boxes": _boxes()})
    with pytest.raises(KeyError, match="images"):
        L.MaxNumBoundingBoxes(3, bounding_box_format="xyxy")(_boxes())
    with pytest.raises(ValueError, match="max_number"):
        L.MaxNumBoundingBoxes(0)


# from TF 2.21 / Keras 3.15: ContrastLimitedAdaptiveHistogramEqualization(
#   tile_grid_size=(2, 2), clip_limit=2.0) on (arange(24) * 7 % 50) as [1, 4, 6, 1]
CLAHE_IN = (np.arange(24).reshape(1, 4, 6, 1) * 7 % 50).astype("float32")
CLAHE_TF = [[0.0, 10.754245, 18.801033, 26.113634, 36.057262, 45.35104],
            [48.401978, 57.140785, 7.4348884, 15.4525585, 23.424541, 33.728176],
            [38.55094, 47.24758, 56.250004, 5.77398, 15.111557, 24.104942],
            [26.776327, 35.44661, 46.449795, 55.78662, 5.4781594, 16.481346]]


def test_clahe_matches_keras_values():
    layer = L.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2),
                                                           clip_limit=2.0)
    out = layer(CLAHE_IN)
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy()[0, :, :, 0], CLAHE_TF, rtol=1e-5,
                               atol=1e-4)
    # the same numbers on another value range, unbatched, and under tf.function
    scaled = L.ContrastLimitedAdaptiveHistogramEqualization(
        value_range=(0, 1), tile_grid_size=(2, 2), clip_limit=2.0)
    unit = tf.function(lambda a: scaled(a))(CLAHE_IN[0] / 255.0)
    np.testing.assert_allclose(unit.numpy()[:, :, 0] * 255.0, CLAHE_TF, rtol=1e-4,
                               atol=1e-3)


def test_clahe_equalizes_and_keeps_dtype():
    # a low-contrast image gets stretched; uint8 stays uint8; inference applies too
    rng = np.random.RandomState(0)
    low = (100 + rng.randint(0, 20, (2, 32, 32, 1))).astype("uint8")
    layer = L.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(4, 4))
    out = layer(low, training=False)
    assert out.dtype == tf.uint8 and out.shape == low.shape
    assert np.ptp(out.numpy().astype(int)) > 3 * np.ptp(low.astype(int))
    # without clipping, each tile's equalization is a monotone map of its pixels
    flat = L.ContrastLimitedAdaptiveHistogramEqualization(clip_limit=0,
                                                          tile_grid_size=(1, 1))
    y = flat(low[:1].astype("float32")).numpy().ravel()
    order = np.argsort(low[:1].ravel(), kind="stable")
    assert (np.diff(y[order]) >= -1e-3).all()
    config = layer.get_config()
    assert config["tile_grid_size"] == (4, 4) and config["clip_limit"] == 4.0
    assert type(layer).from_config(config).get_config() == config
    with pytest.raises(ValueError, match="tile_grid_size"):
        L.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(0, 2))
