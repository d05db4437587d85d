"""Probe-driven gaps against Keras 3 (TF 2.21), second round: model ``input_spec``,
symbolic ``Attention(return_attention_scores=True)``, ``Resizing(antialias=True)``,
CutMix's factor range, RandomGaussianBlur's pair config and reversed factor pairs."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
L = keras.layers


# -- model.input_spec ---------------------------------------------------------------

def test_functional_input_spec_is_a_list_even_for_one_input():
    # Keras 2 and Keras 3 both answer a list of InputSpecs (batch dim None)
    x = keras.Input((4,))
    model = keras.Model(x, L.Dense(2)(x))
    spec = model.input_spec
    assert isinstance(spec, list) and len(spec) == 1
    assert spec[0].shape == (None, 4) and spec[0].ndim == 2
    assert np.asarray(model(np.ones((3, 4), "float32"))).shape == (3, 2)
    with pytest.raises(ValueError):
        model(np.ones((3, 5), "float32"))


def test_functional_input_spec_for_list_and_dict_inputs():
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    listed = keras.Model([a, b], L.Concatenate()([a, b]))
    assert [s.shape for s in listed.input_spec] == [(None, 4), (None, 3)]
    keyed = keras.Model({"a": a, "b": b}, L.Concatenate()([a, b]))
    assert [s.shape for s in keyed.input_spec] == [(None, 4), (None, 3)]
    out = keyed({"b": np.ones((2, 3), "float32"), "a": np.zeros((2, 4), "float32")})
    np.testing.assert_array_equal(np.asarray(out), [[0] * 4 + [1] * 3] * 2)


def test_sequential_input_spec():
    # Keras 2's form (Keras 3 answers None): a list when the input shape is explicit
    model = keras.Sequential([keras.Input((5,)), L.Dense(2)])
    assert [s.shape for s in model.input_spec] == [(None, 5)]
    inferred = keras.Sequential([L.Dense(2)])
    inferred(np.ones((2, 3), "float32"))
    assert inferred.input_spec is None


# -- Attention with return_attention_scores in a functional model ----------------------

def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("causal", [False, True])
def test_attention_scores_symbolic_and_numeric(causal):
    rng = np.random.RandomState(0)
    q = rng.randn(2, 3, 4).astype("float32")
    v = rng.randn(2, 5, 4).astype("float32")
    qi, vi = keras.Input((3, 4)), keras.Input((5, 4))
    out, scores = L.Attention()([qi, vi], return_attention_scores=True,
                                use_causal_mask=causal)
    assert tuple(out.shape) == (None, 3, 4) and tuple(scores.shape) == (None, 3, 5)
    model = keras.Model([qi, vi], [out, scores])
    got_out, got_scores = model([q, v])
    logits = q @ v.transpose(0, 2, 1)
    if causal:
        logits = np.where(np.tril(np.ones((3, 5), bool)), logits, -1e9)
    probs = _softmax(logits)
    np.testing.assert_allclose(np.asarray(got_scores), probs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(got_out), probs @ v, rtol=1e-5, atol=1e-5)


def test_attention_scores_symbolic_keep_the_query_mask():
    qi = keras.Input((None,), dtype="int32")
    vi = keras.Input((None,), dtype="int32")
    embed = L.Embedding(10, 4, mask_zero=True)
    out, scores = L.AdditiveAttention()([embed(qi), embed(vi)],
                                        return_attention_scores=True)
    assert out._keras_mask is not None
    model = keras.Model([qi, vi], [L.GlobalAveragePooling1D()(out), scores])
    pooled, probs = model([np.array([[1, 2, 0]]), np.array([[3, 0, 0, 0]])])
    assert np.asarray(pooled).shape == (1, 4)
    # only the first value step is unmasked: every query attends to it alone
    np.testing.assert_allclose(np.asarray(probs), [[[1, 0, 0, 0]] * 3], atol=1e-6)


# -- Resizing(antialias=True) --------------------------------------------------------

_IMAGE = np.arange(2 * 6 * 10 * 3, dtype="float32").reshape(2, 6, 10, 3)


def test_resizing_antialias_filters_a_downscale():
    got = np.asarray(L.Resizing(4, 4, antialias=True)(_IMAGE))[0, :, :, 0]
    # from TF 2.21: keras.layers.Resizing(4, 4, antialias=True)
    expected = [[14.25, 20.97, 28.53, 35.25],
                [56.3333, 63.0533, 70.6133, 77.3333],
                [99.6667, 106.3867, 113.9467, 120.6667],
                [141.75, 148.47, 156.03, 162.75]]
    np.testing.assert_allclose(got, expected, atol=1e-3)
    plain = np.asarray(L.Resizing(4, 4)(_IMAGE))[0, :, :, 0]
    assert not np.allclose(plain, expected, atol=1e-2)


def test_resizing_antialias_with_crop_to_aspect_ratio():
    layer = L.Resizing(3, 3, antialias=True, crop_to_aspect_ratio=True)
    got = np.asarray(layer(_IMAGE))[0, :, :, 0]
    # from TF 2.21
    expected = [[29.5714, 34.9286, 40.2857], [83.1429, 88.5, 93.8572],
                [136.7143, 142.0714, 147.4286]]
    np.testing.assert_allclose(got, expected, atol=1e-3)
    reloaded = L.Resizing.from_config(layer.get_config())
    np.testing.assert_allclose(np.asarray(reloaded(_IMAGE))[0, :, :, 0], got)


# -- CutMix ---------------------------------------------------------------------------

@pytest.mark.parametrize("factor, stored", [(1.0, (0.0, 1.0)), (0.5, (0.0, 0.5)),
                                            ((0.6, 0.2), (0.2, 0.6))])
def test_cutmix_keeps_the_factor_range(factor, stored):
    layer = L.CutMix(factor)
    assert layer.factor == stored and layer.get_config()["factor"] == stored
    assert L.CutMix.from_config(layer.get_config()).factor == stored


@pytest.mark.parametrize("factor", [-0.5, 2.0, (0.1, 0.2, 0.3)])
def test_cutmix_rejects_factors_outside_zero_one(factor):
    with pytest.raises(ValueError, match="factor"):
        L.CutMix(factor)


@pytest.mark.parametrize("factor", [1.0, (0.2, 0.6)])
def test_cutmix_labels_follow_the_pasted_area(factor):
    n = 6
    images = np.broadcast_to(np.arange(1, n + 1, dtype="float32")[:, None, None, None],
                             (n, 8, 8, 3)).copy()
    labels = np.eye(n, dtype="float32")
    out = L.CutMix(factor, seed=3)({"images": images, "labels": labels}, training=True)
    mixed, mixed_labels = np.asarray(out["images"]), np.asarray(out["labels"])
    np.testing.assert_allclose(mixed_labels.sum(1), 1.0, rtol=1e-5)
    for i in range(n):
        kept = np.mean(mixed[i] == i + 1)   # pixels still from image i
        # Keras 3 weighs labels by the box's real-valued area: the pixels it covers
        # differ by less than one row and one column
        np.testing.assert_allclose(mixed_labels[i, i], kept, atol=17 / 64)
    assert np.asarray(L.CutMix(factor)(images, training=False)).tolist() == \
        images.tolist()


# -- RandomGaussianBlur -----------------------------------------------------------------

def test_gaussian_blur_config_is_kept_as_pairs():
    config = L.RandomGaussianBlur().get_config()
    # from TF 2.21
    assert config["kernel_size"] == (3, 3) and config["sigma"] == (0.0, 1.0)
    assert config["factor"] == (0.0, 1.0)
    layer = L.RandomGaussianBlur(factor=(0.2, 0.7), kernel_size=(3, 5),
                                 sigma=(1.5, 0.5))
    assert layer.kernel_size == (3, 5) and layer.sigma == (0.5, 1.5)
    again = L.RandomGaussianBlur.from_config(layer.get_config())
    assert again.kernel_size == (3, 5) and again.sigma == (0.5, 1.5)


@pytest.mark.parametrize("kernel_size", [4, (3, 2), 0, (3,), 2.5])
def test_gaussian_blur_rejects_even_or_bad_kernel_sizes(kernel_size):
    with pytest.raises(ValueError, match="kernel_size"):
        L.RandomGaussianBlur(kernel_size=kernel_size)


def _gaussian_taps(size, sigma):
    taps = np.exp(-np.square(np.arange(size) - (size - 1) / 2.0) / (2 * sigma ** 2))
    return taps / taps.sum()


def test_gaussian_blur_per_axis_kernel_matches_numpy():
    rng = np.random.RandomState(0)
    images = rng.uniform(0, 255, (2, 5, 7, 3)).astype("float32")
    layer = L.RandomGaussianBlur(factor=(1.0, 1.0), kernel_size=(1, 3),
                                 sigma=(0.8, 0.8), seed=1)
    got = np.asarray(layer(images, training=True))
    taps = _gaussian_taps(3, 0.8)
    padded = np.pad(images, [(0, 0), (0, 0), (1, 1), (0, 0)])   # SAME, zeros
    expected = sum(taps[j] * padded[:, :, j:j + 7] for j in range(3))
    np.testing.assert_allclose(got, np.clip(expected, 0, 255), rtol=1e-5, atol=1e-3)
    np.testing.assert_array_equal(np.asarray(layer(images, training=False)), images)


# -- reversed factor pairs are sorted (Keras 3) -------------------------------------------

@pytest.mark.parametrize("cls, factor, stored", [
    (L.RandomBrightness, (0.3, -0.2), (-0.2, 0.3)),
    (L.RandomRotation, (0.3, -0.2), (-0.2, 0.3)),
    (L.RandomSaturation, (0.3, -0.2), (-0.2, 0.3)),
    (L.RandomContrast, (0.5, 0.1), (0.1, 0.5)),
    (L.RandomSharpness, (0.6, 0.2), (0.2, 0.6)),
])
def test_reversed_factor_pairs_are_sorted(cls, factor, stored):
    layer = cls(factor)
    assert tuple(layer.get_config()["factor"]) == stored
    images = np.random.RandomState(1).uniform(0, 255, (2, 6, 6, 3)).astype("float32")
    assert np.asarray(layer(images, training=True)).shape == images.shape


@pytest.mark.parametrize("cls", [L.RandomHue, L.RandomContrast, L.RandomInvert,
                                 L.RandomGaussianBlur])
def test_pairs_outside_zero_one_still_raise(cls):
    with pytest.raises(ValueError, match="factor"):
        cls((0.3, -0.2))


def test_reversed_zoom_pair_zooms_within_the_sorted_range():
    # Keras 3 keeps the pair as given in the config and draws within it
    layer = L.RandomZoom((0.3, -0.2), seed=2)
    assert tuple(layer.get_config()["height_factor"]) == (0.3, -0.2)
    images = np.ones((2, 8, 8, 1), "float32")
    assert np.asarray(layer(images, training=True)).shape == (2, 8, 8, 1)
