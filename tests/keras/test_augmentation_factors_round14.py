"""Augmentation layers' factor arguments as Keras 3 (TF 2.21) accepts, refuses and
samples them: which forms construct, which error type the others raise, and the
range the random parameters are drawn from."""

import numpy as np
import pytest

import dlframe as tf

L = tf.keras.layers


def _bits_kept(images):
    """The number of bits each posterized 0..255 ramp image kept."""
    return sorted({int(np.log2(len(np.unique(img)))) for img in np.asarray(images)})


def _ramp(n):
    return np.tile(np.arange(256, dtype="float32").reshape(1, 16, 16, 1), (n, 1, 1, 3))


# --- RandomGrayscale ---------------------------------------------------------------

@pytest.mark.parametrize("factor", [(0.1, 0.4), "a", [0.5]])
def test_grayscale_non_number_is_type_error(factor):
    with pytest.raises(TypeError, match="factor"):
        L.RandomGrayscale(factor=factor)


def test_grayscale_out_of_range_is_value_error():
    with pytest.raises(ValueError, match=r"factor=1\.5"):
        L.RandomGrayscale(factor=1.5)


# --- RandomPosterization -------------------------------------------------------------

@pytest.mark.parametrize("factor, bits", [
    # Keras 3 draws randint(lower, upper): the upper end is excluded (TF 2.21 draws
    # exactly these sets of bits for these factors)
    ((2, 5), [2, 3, 4]), (4, [1, 2, 3]), (8, [1, 2, 3, 4, 5, 6, 7]), ((3, 3), [3]),
    (1, [1]), ((5, 2), [2, 3, 4]), ((-3, 4), [1, 2, 3]), ((0, 3), [1, 2]),
])
def test_posterization_draws_keras3_bits(factor, bits):
    layer = L.RandomPosterization(factor=factor, seed=3)
    assert _bits_kept(layer(_ramp(300), training=True)) == bits


def test_posterization_sorted_factor_and_function_matches_range():
    layer = L.RandomPosterization(factor=(5, 2), seed=4)
    assert layer.factor == (2, 5)
    compiled = tf.function(lambda a: layer(a, training=True))
    assert set(_bits_kept(compiled(tf.constant(_ramp(200))))) <= {2, 3, 4}


@pytest.mark.parametrize("factor", [1.5, (0.2, 1.5), (1.2, 1.5), 2.0, (2, 5.0)])
def test_posterization_non_integer_refused_early(factor):
    # Keras 3 accepts these, then fails with a TypeError when called: refused here
    with pytest.raises(TypeError, match="factor"):
        L.RandomPosterization(factor=factor)


@pytest.mark.parametrize("factor", [0.5, 0, 9, -0.2, (-2, -1.5), (0.1, 0.2, 0.3), "a"])
def test_posterization_out_of_range_is_value_error(factor):
    with pytest.raises(ValueError, match="factor"):
        L.RandomPosterization(factor=factor)


# --- Solarization ----------------------------------------------------------------------

@pytest.mark.parametrize("factor", [(-0.5, 0.5), (-1.5, 0.2), (0.2, 1.5), -0.2, 1.5])
def test_solarization_needs_every_number_in_unit_range(factor):
    with pytest.raises(ValueError, match="addition_factor"):
        L.Solarization(addition_factor=factor)


def test_solarization_accepts_pairs_inside_range():
    layer = L.Solarization(addition_factor=(0.4, 0.1), seed=1)
    assert layer.addition_factor == (0.1, 0.4)
    out = np.asarray(layer(np.zeros((8, 4, 4, 3), "float32"), training=True))
    # threshold 0: every pixel is inverted after adding [0.1, 0.4 * 255]
    assert np.all(out <= 255.0 - 0.1 + 1e-3) and np.all(out >= 255.0 - 0.4 * 255 - 1e-3)


# --- probability factors reaching past [0, 1]: drawn from as written ------------------

def _expected_rate(lower, upper):
    """P(U(0, 1) < p) for p ~ U(lower, upper): the mean of clip(p, 0, 1)."""
    p = np.linspace(lower, upper, 200001)
    return float(np.mean(np.clip(p, 0.0, 1.0)))


def _changed_rate(out, x):
    out = np.asarray(out)
    return float(np.mean((np.abs(out - x) > 1e-3).any(axis=(1, 2, 3))))


# TF 2.21 gives 0.12, 0.77 and 0.01 for these erasing factors (4000 images)
@pytest.mark.parametrize("factor", [(-0.5, 0.5), (0.2, 1.5), (-1.5, 0.2)])
def test_erasing_factor_pair_used_as_written(factor):
    layer = L.RandomErasing(factor=factor, scale=(0.5, 0.5), fill_value=0.0, seed=2)
    assert layer.factor == factor
    x = np.full((4000, 8, 8, 3), 100.0, "float32")
    rate = _changed_rate(layer(x, training=True), x)
    assert abs(rate - _expected_rate(*factor)) < 0.03


def test_erasing_scale_reaching_below_zero_erases_nothing_there():
    layer = L.RandomErasing(factor=1.0, scale=(-1.0, 0.0), fill_value=0.0, seed=2)
    x = np.full((16, 8, 8, 3), 100.0, "float32")
    out = np.asarray(layer(x, training=True))
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(out, x)


@pytest.mark.parametrize("cls", ["RandomPerspective", "RandomElasticTransform"])
@pytest.mark.parametrize("factor", [(-0.5, 0.5), (0.2, 1.5)])
def test_warp_probability_pair_used_as_written(cls, factor):
    layer = getattr(L, cls)(factor=factor, seed=2)
    assert tuple(layer.factor) == factor
    x = np.random.RandomState(0).uniform(0, 255, (1500, 8, 8, 3)).astype("float32")
    rate = _changed_rate(layer(x, training=True), x)
    assert abs(rate - _expected_rate(*factor)) < 0.04


def test_elastic_scale_pair_reaching_outside_accepted():
    layer = L.RandomElasticTransform(scale=(-0.5, 0.5))
    assert layer.scale == (-0.5, 0.5)


@pytest.mark.parametrize("cls, kwargs", [
    ("RandomPerspective", {"factor": -0.2}), ("RandomPerspective", {"factor": 1.5}),
    ("RandomErasing", {"factor": (-2, -1.5)}), ("CutMix", {"factor": (1.2, 1.5)}),
    ("RandomElasticTransform", {"factor": (0.1, 0.2, 0.3)}),
])
def test_probability_factor_wholly_outside_refused(cls, kwargs):
    with pytest.raises(ValueError, match="factor"):
        getattr(L, cls)(**kwargs)


@pytest.mark.parametrize("factor", [(-0.5, 0.5), (-1.5, 0.2), (0.2, 1.5)])
def test_cutmix_factor_pair_accepted_and_mixes_sanely(factor):
    layer = L.CutMix(factor=factor, seed=1)
    assert layer.factor == factor
    rng = np.random.RandomState(0)
    images = rng.uniform(0, 255, (32, 8, 8, 3)).astype("float32")
    labels = np.eye(4, dtype="float32")[rng.randint(0, 4, 32)]
    out = layer({"images": images, "labels": labels}, training=True)
    mixed, mixed_labels = np.asarray(out["images"]), np.asarray(out["labels"])
    assert not np.isnan(mixed).any() and not np.isnan(mixed_labels).any()
    np.testing.assert_allclose(mixed_labels.sum(axis=1), 1.0, rtol=1e-5)


# --- RandomHeight / RandomWidth (Keras's legacy reading) -------------------------------

@pytest.mark.parametrize("cls", ["RandomHeight", "RandomWidth"])
@pytest.mark.parametrize("factor", [-0.2, (0.4, 0.1), (0.5, -0.5), (-1.5, 0.2)])
def test_resize_bad_bounds_value_error(cls, factor):
    with pytest.raises(ValueError, match="factor"):
        getattr(L, cls)(factor)


@pytest.mark.parametrize("cls", ["RandomHeight", "RandomWidth"])
@pytest.mark.parametrize("factor", ["a", ("a", 0.2)])
def test_resize_non_number_type_error(cls, factor):
    with pytest.raises(TypeError, match="factor"):
        getattr(L, cls)(factor)


def test_resize_longer_list_uses_first_two_numbers():
    layer = L.RandomHeight([0.5, 0.5, 0.3], seed=1)
    assert layer.factor == [0.5, 0.5, 0.3]
    out = layer(np.ones((2, 8, 6, 3), "float32"), training=True)
    assert tuple(out.shape) == (2, 12, 6, 3)
    width = L.RandomWidth((-0.5, -0.5, 9), seed=1)
    assert tuple(width(np.ones((2, 8, 6, 3), "float32"), training=True).shape) == \
        (2, 8, 3, 3)


# --- RandomShear -------------------------------------------------------------------------

@pytest.mark.parametrize("factor", [-0.2, (-0.5, 0.5), (0.5, -0.5), 1.5, (0.2, 1.5)])
def test_shear_numbers_must_lie_in_unit_range(factor):
    with pytest.raises(ValueError, match="x_factor"):
        L.RandomShear(x_factor=factor)


def test_shear_number_range_and_config_round_trip():
    layer = L.RandomShear(x_factor=0.2, y_factor=(0.3, 0.1))
    assert layer.x_factor == (-0.2, 0.2) and layer.y_factor == (0.1, 0.3)
    # Keras 3 stores (-0.2, 0.2) and then refuses it in from_config; here it loads
    again = L.RandomShear.from_config(layer.get_config())
    assert again.x_factor == (-0.2, 0.2) and again.y_factor == (0.1, 0.3)


# --- MixUp ----------------------------------------------------------------------------

@pytest.mark.parametrize("alpha", ["a", (0.1, 0.4), None])
def test_mixup_non_number_alpha_type_error(alpha):
    # Keras 3 accepts these, then fails when called: refused early here
    with pytest.raises(TypeError, match="alpha"):
        L.MixUp(alpha=alpha)


@pytest.mark.parametrize("alpha", [-0.2, 0.0])
def test_mixup_non_positive_alpha_value_error(alpha):
    # Keras 3's Beta sampler gives NaN or a constant 0.5 weight there
    with pytest.raises(ValueError, match="alpha"):
        L.MixUp(alpha=alpha)


def test_numpy_scalar_factors_are_numbers():
    """Keras 2 programs pass NumPy scalars; they are accepted like Python numbers
    (bools are not numbers), and sample the same range."""
    import dlframe as tf
    layers = tf.keras.layers
    x = np.linspace(0.0, 255.0, 2 * 8 * 8 * 3, dtype="float32").reshape(2, 8, 8, 3)
    for make in (lambda f: layers.RandomContrast(f, seed=3),
                 lambda f: layers.RandomBrightness(f, seed=3),
                 lambda f: layers.RandomGrayscale(f, seed=3),
                 lambda f: layers.RandomHeight(f, seed=3)):
        a = np.asarray(make(0.25)(x, training=True))
        b = np.asarray(make(np.float32(0.25))(x, training=True))
        np.testing.assert_allclose(a, b, rtol=1e-6)
    with pytest.raises((TypeError, ValueError)):
        layers.RandomGrayscale(True)
