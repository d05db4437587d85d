"""The Keras 3 image augmentation layers: identity at inference (where Keras is),
random in training, and deterministic transforms equal to TF 2.21's output.

Expected arrays were produced by TF 2.21 (Keras 3) for the input ``_image()``,
with factor ranges collapsed to one value so the transform is deterministic.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe.keras import layers as L
from tests.keras.layer_test_utils import run_layer_test


def _image():
    x = np.random.RandomState(0).uniform(0, 255, (1, 3, 3, 3)).astype("float32")
    x[0, 0, 0] = 0
    return x


TF_EQUAL = np.array([
    [0.0, 0.0, 0.0],
    [170.0, 36.0, 109.0],
    [170.0, 255.0, 255.0],
    [42.0, 146.0, 73.0],
    [170.0, 255.0, 0.0],
    [0.0, 0.0, 182.0],
    [255.0, 255.0, 255.0],
    [255.0, 73.0, 182.0],
    [0.0, 109.0, 36.0],
], 'float32').reshape(1, 3, 3, 3)
TF_SHARP = np.array([
    [0.0, 0.0, 0.0],
    [172.874, 116.976, 197.315],
    [138.662, 255.0, 255.0],
    [102.218, 244.884, 155.524],
    [161.278, 255.0, 0.0],
    [1.376, 0.0, 255.0],
    [251.093, 255.0, 255.0],
    [255.0, 122.907, 242.46],
    [24.18, 206.868, 30.231],
], 'float32').reshape(1, 3, 3, 3)
TF_BLUR = np.array([
    [40.196, 56.11, 38.46],
    [69.14, 95.002, 92.383],
    [53.622, 78.177, 98.225],
    [88.22, 114.88, 88.007],
    [112.432, 147.787, 131.689],
    [65.773, 95.607, 107.875],
    [88.742, 102.602, 93.664],
    [96.87, 116.492, 104.392],
    [45.027, 66.259, 59.767],
], 'float32').reshape(1, 3, 3, 3)
TF_POSTER = np.array([
    [0.0, 0.0, 0.0],
    [128.0, 96.0, 160.0],
    [96.0, 224.0, 224.0],
    [96.0, 192.0, 128.0],
    [128.0, 224.0, 0.0],
    [0.0, 0.0, 192.0],
    [192.0, 192.0, 224.0],
    [192.0, 96.0, 192.0],
    [0.0, 160.0, 32.0],
], 'float32').reshape(1, 3, 3, 3)
TF_DEGEN = np.array([
    [0.0, 0.0, 0.0],
    [134.378, 112.739, 152.409],
    [136.565, 217.637, 230.469],
    [117.377, 190.256, 143.341],
    [156.569, 220.392, 67.853],
    [25.714, 13.77, 158.784],
    [204.297, 220.693, 240.079],
    [188.453, 128.177, 185.128],
    [53.803, 146.916, 58.279],
], 'float32').reshape(1, 3, 3, 3)
TF_SAT = np.array([
    [0.0, 0.0, 0.0],
    [0.41, 0.127, 0.646],
    [0.0, 0.832, 0.964],
    [0.0, 0.792, 0.282],
    [0.538, 0.926, 0.0],
    [0.069, 0.0, 0.833],
    [0.511, 0.725, 0.979],
    [0.799, 0.011, 0.756],
    [0.0, 0.64, 0.031],
], 'float32').reshape(1, 3, 3, 3)
TF_AUTOC = np.array([
    [0.0, 0.0, 0.0],
    [173.864, 116.716, 168.302],
    [139.628, 245.682, 251.103],
    [122.351, 218.119, 137.815],
    [181.255, 255.0, 18.51],
    [27.802, 5.57, 216.957],
    [248.299, 239.687, 255.0],
    [255.0, 127.137, 203.384],
    [37.74, 176.297, 37.354],
], 'float32').reshape(1, 3, 3, 3)


@pytest.mark.parametrize("layer, expect", [
    (lambda: L.Equalization(bins=8), TF_EQUAL),
    (lambda: L.RandomSharpness(factor=(0.8, 0.8)), TF_SHARP),
    (lambda: L.RandomGaussianBlur(factor=(1.0, 1.0), kernel_size=3,
                                  sigma=(1.0, 1.0)), TF_BLUR),
    (lambda: L.RandomPosterization(factor=(3, 3)), TF_POSTER),
    (lambda: L.RandomColorDegeneration(factor=(0.3, 0.3)), TF_DEGEN),
], ids=["equalization", "sharpness", "blur", "posterization", "degeneration"])
def test_deterministic_transforms_match_tf(layer, expect):
    x = _image()
    layer = layer()
    np.testing.assert_allclose(layer(x, training=True).numpy(), expect, atol=2e-3)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    compiled = tf.function(lambda a: layer(a, training=True))(tf.constant(x))
    np.testing.assert_allclose(compiled.numpy(), expect, atol=2e-3)


def test_saturation_and_autocontrast_match_tf():
    x = _image()
    sat = L.RandomSaturation(factor=(0.7, 0.7), value_range=(0, 1))
    np.testing.assert_allclose(sat(x / 255, training=True).numpy(), TF_SAT, atol=1e-3)
    # AutoContrast applies at inference too
    np.testing.assert_allclose(L.AutoContrast()(x).numpy(), TF_AUTOC, atol=2e-3)
    lo, hi = x.min(axis=(1, 2), keepdims=True), x.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(L.AutoContrast(value_range=(0, 1))(x / 255).numpy(),
                               (x - lo) / (hi - lo), atol=1e-5)


def _rgb(n=4, h=8, w=6, seed=0):
    return np.random.RandomState(seed).uniform(0, 255, (n, h, w, 3)).astype("float32")


def _hsv(x):
    x = x / 255.0
    v = x.max(-1)
    s = np.where(v > 0, (v - x.min(-1)) / np.where(v > 0, v, 1), 0)
    return s, v


def test_colour_layers_semantics():
    x = _rgb()
    inv = L.RandomInvert(factor=(1.0, 1.0))(x, training=True).numpy()
    np.testing.assert_allclose(inv, 255.0 - x)
    gray = L.RandomGrayscale(factor=1.0)(x, training=True).numpy()
    expect = (x * [0.2989, 0.587, 0.114]).sum(-1, keepdims=True)
    np.testing.assert_allclose(gray, np.broadcast_to(expect, x.shape), rtol=1e-4)
    sat0 = L.RandomSaturation(factor=(0.0, 0.0))(x, training=True).numpy()
    assert np.allclose(sat0, sat0[..., :1], atol=1e-3)  # saturation 0: gray
    hue = L.RandomHue(factor=(0.5, 0.5))(x, training=True).numpy()
    s0, v0 = _hsv(x)
    s1, v1 = _hsv(hue)
    np.testing.assert_allclose(v1, v0, atol=1e-4)  # a hue rotation keeps S and V
    np.testing.assert_allclose(s1, s0, atol=1e-4)
    assert not np.allclose(hue, x, atol=1.0)
    sol = L.Solarization(threshold_factor=(0.0, 0.0))(x, training=True).numpy()
    np.testing.assert_allclose(sol, 255.0 - x, atol=1e-3)  # threshold 0: all flip
    # Keras draws the threshold from [lower, upper * 255]: pixels below it stay
    some = L.Solarization(threshold_factor=(0.5, 0.5))(x, training=True).numpy()
    assert np.all((some == x) | (np.abs(some - (255.0 - x)) < 1e-3))
    jitter = L.RandomColorJitter(brightness_factor=(0.2, 0.2), contrast_factor=0.0)
    np.testing.assert_allclose(jitter(x, training=True).numpy(),
                               np.clip(x + 51.0, 0, 255), atol=1e-3)


@pytest.mark.parametrize("cls, kwargs", [
    (L.RandomHue, {"factor": 0.5}), (L.RandomSaturation, {"factor": 0.5}),
    (L.RandomGrayscale, {}), (L.RandomInvert, {}),
    (L.RandomPosterization, {"factor": 4}), (L.RandomSharpness, {"factor": 0.5}),
    (L.RandomGaussianBlur, {}), (L.RandomColorDegeneration, {"factor": 0.5}),
    (L.RandomColorJitter, {"brightness_factor": 0.2, "hue_factor": 0.2}),
    (L.Solarization, {"addition_factor": 0.2, "threshold_factor": 0.5}),
    (L.Equalization, {}), (L.RandomShear, {"x_factor": 0.3, "y_factor": 0.2}),
    (L.RandomErasing, {}), (L.MixUp, {}), (L.CutMix, {}),
    (L.RandomHeight, {"factor": 0.3}), (L.RandomWidth, {"factor": 0.3}),
])
def test_identity_at_inference_random_in_training(cls, kwargs):
    x = _rgb()
    kwargs = kwargs if cls is L.Equalization else dict(kwargs, seed=3)
    layer, _ = run_layer_test(cls, kwargs, input_data=x,
                              expected_output_shape=None if cls in (
                                  L.RandomHeight, L.RandomWidth) else x.shape,
                              expected_num_trainable_weights=0,
                              call_kwargs={"training": False})
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    y = layer(x, training=True).numpy()
    assert np.isfinite(y).all()
    if cls not in (L.RandomHeight, L.RandomWidth):
        # one draw may leave x as is (MixUp: identity perm or weight ~1): try three
        assert y.shape == x.shape and not all(
            np.allclose(layer(x, training=True).numpy(), x) for _ in range(3))
        assert y.min() >= -1e-3
    config = layer.get_config()
    assert cls.from_config(config).get_config() == config


def test_geometry_layers():
    x = _rgb()
    taller = L.RandomHeight(factor=(0.5, 0.5))(x, training=True)
    assert tuple(taller.shape) == (4, 12, 6, 3)
    narrower = L.RandomWidth(factor=(-0.5, -0.5), interpolation="nearest")
    assert tuple(narrower(x, training=True).shape) == (4, 8, 3, 3)
    with pytest.raises(ValueError, match="greater than -1"):
        L.RandomHeight(factor=(-1.0, 0.2))
    # a pure x shear moves rows sideways: row 0 (y = 0) is unchanged
    ramp = np.tile(np.arange(6, dtype="float32")[None, None, :, None], (1, 5, 1, 1))
    sheared = L.RandomShear(x_factor=(0.5, 0.5), interpolation="nearest")(
        ramp, training=True).numpy()
    np.testing.assert_array_equal(sheared[0, 0], ramp[0, 0])
    assert not np.array_equal(sheared[0, 4], ramp[0, 4])
    erased = L.RandomErasing(factor=(1.0, 1.0), scale=(0.25, 0.25),
                             fill_value=0.0)(x, training=True).numpy()
    frac = (erased == 0.0).all(-1).mean(axis=(1, 2))
    # a box of height and width sqrt(0.25) * size, rounded to whole pixels
    assert np.all((frac > 0.1) & (frac < 0.45))
    # fills (noise or values) beyond value_range are clipped to it, as Keras 3's
    for fill in (None, -1.0, 300.0):
        out = L.RandomErasing(factor=(1.0, 1.0), scale=(0.25, 0.25), fill_value=fill,
                              seed=1)(x, training=True).numpy()
        assert out.min() >= 0.0 and out.max() <= 255.0
        assert not np.array_equal(out, x)


def test_mixup_and_cutmix_mix_labels_consistently():
    x = _rgb(n=6)
    labels = np.eye(6, dtype="float32")
    out = L.MixUp(alpha=0.4, seed=1)({"images": x, "labels": labels}, training=True)
    mixed, y = out["images"].numpy(), out["labels"].numpy()
    np.testing.assert_allclose(y.sum(1), 1.0, rtol=1e-5)
    # each mixed image is the label-weighted sum of the originals
    np.testing.assert_allclose(mixed, np.einsum("ij,jhwc->ihwc", y, x), rtol=1e-4,
                               atol=1e-2)
    out = L.CutMix(seed=2)({"images": x, "labels": labels}, training=True)
    cut, y = out["images"].numpy(), out["labels"].numpy()
    np.testing.assert_allclose(y.sum(1), 1.0, rtol=1e-5)
    for i in range(6):
        own = (cut[i] == x[i]).all(-1).mean()
        partner = int(np.argmax(y[i] - labels[i] * y[i])) if y[i, i] < 1 else i
        if partner != i:
            other = (cut[i] == x[partner]).all(-1).mean()
            # Keras 3 weighs labels by the box's real-valued area: the pixels it
            # covers differ by less than one row and one column
            h, w = cut.shape[1:3]
            np.testing.assert_allclose([own, other], [y[i, i], y[i, partner]],
                                       atol=(h + w + 1) / (h * w))
    with pytest.raises(ValueError, match="images"):
        L.MixUp()({"labels": labels}, training=True)
