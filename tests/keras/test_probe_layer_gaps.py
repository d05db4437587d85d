"""Probe-driven gaps against Keras 3.15 (TF 2.21): MultiHeadAttention over any
``attention_axes`` and with ``use_gate``, GroupQueryAttention gates and windows, and
the augmentation layers' Keras 3 factor ranges."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_grad

L = tf.keras.layers


def _softmax_last(x, k):
    """Softmax over the last ``k`` axes jointly."""
    flat = x.reshape(x.shape[:-k] + (-1,))
    e = np.exp(flat - flat.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).reshape(x.shape)


def _proj(x, kernel, bias):
    return np.einsum("...d,dnh->...nh", x, kernel) + bias


def _weights(layer, gate=False):
    w = layer.get_weights()
    names = ["q", "qb", "k", "kb"] + (["g", "gb"] if gate else []) + [
        "v", "vb", "o", "ob"]
    return dict(zip(names, w))


def _mha_reference(q_in, v_in, w, score_eq, combine_eq, k_axes, key_dim, mask=None,
                   gate=False):
    q = _proj(q_in, w["q"], w["qb"]) / np.sqrt(key_dim)
    k = _proj(v_in, w["k"], w["kb"])
    v = _proj(v_in, w["v"], w["vb"])
    scores = np.einsum(score_eq, q, k)
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    probs = _softmax_last(scores, k_axes)
    ctx = np.einsum(combine_eq, probs, v)
    if gate:
        ctx = ctx / (1.0 + np.exp(-_proj(q_in, w["g"], w["gb"])))
    return np.einsum("...nh,nho->...o", ctx, w["o"]) + w["ob"], probs


CASES = [  # attention_axes, input shape, score / combine einsums, key attention axes
    ((1, 2), (2, 3, 4, 6), "bijnc,bklnc->bnijkl", "bnijkl,bklnc->bijnc", 2),
    ((2,), (2, 3, 4, 6), "bxinc,bxjnc->bxnij", "bxnij,bxjnc->bxinc", 1),
    ((-2,), (2, 3, 4, 6), "bxinc,bxjnc->bxnij", "bxnij,bxjnc->bxinc", 1),
    ((1,), (2, 3, 4, 6), "bixnc,bjxnc->bxnij", "bxnij,bjxnc->bixnc", 1),
    (None, (2, 2, 3, 5), "bijnc,bklnc->bnijkl", "bnijkl,bklnc->bijnc", 2),
    ((-1,), (2, 3, 4, 6), "bxyic,bxyjc->bxyij", "bxyij,bxyjc->bxyic", 1),
]


@pytest.mark.parametrize("axes,shape,score_eq,combine_eq,k_axes", CASES,
                         ids=[str(c[0]) for c in CASES])
def test_mha_attention_axes_match_numpy(axes, shape, score_eq, combine_eq, k_axes):
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    layer = L.MultiHeadAttention(2, 3, attention_axes=axes)
    out, scores = layer(x, x, return_attention_scores=True)
    want, probs = _mha_reference(x, x, _weights(layer), score_eq, combine_eq, k_axes, 3)
    assert tuple(out.shape) == shape and tuple(scores.shape) == probs.shape
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(scores.numpy(), probs, rtol=1e-4, atol=1e-6)
    # weight shapes as Keras (independent of rank), axes normalized on build
    assert [tuple(w.shape) for w in layer.weights] == [
        (shape[-1], 2, 3), (2, 3), (shape[-1], 2, 3), (2, 3), (shape[-1], 2, 3),
        (2, 3), (2, 3, shape[-1]), (shape[-1],)]
    rank = len(shape) + 1
    expect_axes = tuple(range(1, rank - 2)) if axes is None else tuple(
        a if a >= 0 else rank - 1 + a for a in axes)
    assert layer.attention_axes == expect_axes
    assert layer.get_config()["attention_axes"] == expect_axes
    compiled = tf.function(lambda a: layer(a, a))
    np.testing.assert_allclose(compiled(x).numpy(), out.numpy(), rtol=1e-5, atol=1e-6)


def test_mha_attention_axes_shapes_from_tf():
    # (attention_axes, query shape, value shape) -> scores shape, from TF 2.21
    for axes, q_shape, v_shape, want in [
            ((0,), (2, 3, 4, 6), None, (3, 4, 2, 2, 2)),
            ((1, 3), (2, 2, 3, 4, 6), None, (2, 3, 2, 2, 4, 2, 4)),
            ((2,), (2, 3, 4, 6), (2, 3, 5, 7), (2, 3, 2, 4, 5)),
            ((1, 2), (2, 3, 4, 6), (2, 2, 5, 7), (2, 2, 3, 4, 2, 5))]:
        q = np.ones(q_shape, "float32")
        v = q if v_shape is None else np.ones(v_shape, "float32")
        out, scores = L.MultiHeadAttention(2, 3, attention_axes=axes)(
            q, v, return_attention_scores=True)
        assert tuple(out.shape) == q_shape and tuple(scores.shape) == want
    layer = L.MultiHeadAttention(2, 3, attention_axes=(1, 2), output_shape=(2, 5))
    assert tuple(layer(np.ones((2, 3, 4, 6), "float32"),
                       np.ones((2, 3, 4, 6), "float32")).shape) == (2, 3, 4, 2, 5)
    assert [tuple(w.shape) for w in layer.weights][-2:] == [(2, 3, 2, 5), (2, 5)]
    assert L.MultiHeadAttention(2, 3, attention_axes=2).attention_axes == (2,)
    with pytest.raises(ValueError, match="attention_axes"):
        L.MultiHeadAttention(2, 3, attention_axes="1")


def test_mha_attention_axes_masks():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4, 6)).astype("float32")
    layer = L.MultiHeadAttention(2, 3, attention_axes=(2,))
    layer(x, x)
    w = _weights(layer)
    # a [B, T, S] mask is broadcast over the other batch axes (Keras's expansion)
    mask = rng.random((2, 4, 4)) > 0.3
    out = layer(x, x, attention_mask=mask)
    want, _ = _mha_reference(x, x, w, "bxinc,bxjnc->bxnij", "bxnij,bxjnc->bxinc", 1, 3,
                             mask=mask[:, None, None])
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-4, atol=1e-5)
    full = rng.random((2, 3, 4, 4)) > 0.3
    want, _ = _mha_reference(x, x, w, "bxinc,bxjnc->bxnij", "bxnij,bxjnc->bxinc", 1, 3,
                             mask=full[:, :, None])
    np.testing.assert_allclose(layer(x, x, attention_mask=full).numpy(), want,
                               rtol=1e-4, atol=1e-5)
    # the causal mask runs along axis 1, so it fits attention_axes=(1,) only (as TF)
    causal_layer = L.MultiHeadAttention(2, 3, attention_axes=(1,))
    out = causal_layer(x, x, use_causal_mask=True)
    tril = np.tril(np.ones((3, 3), bool))
    want, _ = _mha_reference(x, x, _weights(causal_layer), "bixnc,bjxnc->bxnij",
                             "bxnij,bjxnc->bixnc", 1, 3, mask=tril)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError):
        L.MultiHeadAttention(2, 3, attention_axes=(1, 2))(x, x, use_causal_mask=True)
    with pytest.raises(ValueError, match="broadcastable"):
        layer(x, x, use_causal_mask=True)


def test_mha_fully_masked_rows_agree_between_sequence_and_axes_paths():
    # both paths mask additively, as Keras's Softmax: a query row whose keys are all
    # masked gives the same (float64) result through either path
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 6))
    mask = np.ones((2, 4, 4), bool)
    mask[0, 1] = False                                  # query 1 sees no key
    seq = tf.keras.layers.MultiHeadAttention(2, 3, dtype="float64")
    axes = tf.keras.layers.MultiHeadAttention(2, 3, attention_axes=(2,), dtype="float64")
    seq(x, x)
    axes(x[:, None], x[:, None])
    axes.set_weights(seq.get_weights())
    want = seq(x, x, attention_mask=mask).numpy()
    got = axes(x[:, None], x[:, None], attention_mask=mask[:, None]).numpy()[:, 0]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_mha_attention_axes_gradients():
    x = np.random.default_rng(2).standard_normal((1, 2, 3, 4))
    layer = L.MultiHeadAttention(2, 2, attention_axes=(1, 2), use_gate=True,
                                 dtype="float64")
    layer(x, x)
    check_grad(lambda a: layer(a, a), [x], rtol=1e-4, atol=1e-6)


def test_mha_functional_unknown_dims_trains_and_reloads(tmp_path):
    tf.keras.utils.set_random_seed(0)
    inp = tf.keras.Input((None, None, 6))
    mha = L.MultiHeadAttention(2, 4, attention_axes=(1, 2), use_gate=True)
    out = mha(inp, inp)
    assert tuple(out.shape) == (None, None, None, 6)
    model = tf.keras.Model(inp, L.GlobalAveragePooling2D()(out))
    model.compile("adam", "mse")
    x = np.random.rand(16, 3, 4, 6).astype("float32")
    y = np.random.rand(16, 6).astype("float32")
    hist = model.fit(x, y, epochs=4, verbose=0).history["loss"]
    assert hist[-1] < hist[0]
    path = str(tmp_path / "m.keras")
    model.save(path)
    again = tf.keras.models.load_model(path)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("axes", [None, (1, 2)])
def test_mha_use_gate_matches_numpy(axes):
    rng = np.random.default_rng(3)
    shape = (2, 5, 4) if axes is None else (2, 3, 4, 6)
    x = rng.standard_normal(shape).astype("float32")
    layer = L.MultiHeadAttention(2, 3, value_dim=4, use_gate=True, attention_axes=axes)
    out = layer(x, x)
    # Keras 3.15 order: query, key, gate, value, attention_output
    assert [w.name.split("/")[-2] for w in layer.weights] == [
        "query", "query", "key", "key", "gate", "gate", "value", "value",
        "attention_output", "attention_output"]
    assert tuple(layer.weights[4].shape) == (shape[-1], 2, 4)
    eqs = (("btnc,bsnc->bnts", "bnts,bsnc->btnc", 1) if axes is None else
           ("bijnc,bklnc->bnijkl", "bnijkl,bklnc->bijnc", 2))
    want, _ = _mha_reference(x, x, _weights(layer, gate=True), *eqs, 3, gate=True)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-4, atol=1e-5)
    assert layer.get_config()["use_gate"] is True


def test_mha_flash_attention_errors_like_keras():
    with pytest.raises(ValueError, match="Dropout is not supported"):
        L.MultiHeadAttention(2, 3, flash_attention=True, dropout=0.1)
    layer = L.MultiHeadAttention(2, 3, flash_attention=True)
    x = np.ones((1, 3, 4), "float32")
    assert tuple(layer(x, x).shape) == (1, 3, 4)
    with pytest.raises(ValueError, match="attention scores"):
        layer(x, x, return_attention_scores=True)


def test_group_query_attention_gate_and_window():
    rng = np.random.default_rng(4)
    q = rng.standard_normal((2, 5, 4)).astype("float32")
    layer = L.GroupQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2,
                                  use_gate=True, sliding_window=2)
    out, scores = layer(q, q, return_attention_scores=True, use_causal_mask=True)
    qk, qb, kk, kb, gk, gb, vk, vb, ok, ob = layer.get_weights()
    assert gk.shape == (4, 4, 3) and vk.shape == (4, 2, 3)
    qp = np.einsum("btd,dnh->btnh", q, qk) + qb
    kp = np.repeat(np.einsum("bsd,dnh->bsnh", q, kk) + kb, 2, axis=2)
    vp = np.repeat(np.einsum("bsd,dnh->bsnh", q, vk) + vb, 2, axis=2)
    s = np.einsum("btnh,bsnh->bnts", qp, kp) / np.sqrt(3.0)
    i, j = np.arange(5)[:, None], np.arange(5)[None]
    s = np.where((i >= j) & (np.abs(i - j) < 2), s, -1e9)
    p = _softmax_last(s, 1)
    ctx = np.einsum("bnts,bsnh->btnh", p, vp)
    ctx = ctx / (1.0 + np.exp(-(np.einsum("btd,dnh->btnh", q, gk) + gb)))
    want = np.einsum("btnh,nhd->btd", ctx, ok) + ob
    np.testing.assert_allclose(scores.numpy(), p, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-4, atol=1e-5)
    config = layer.get_config()
    assert (config["use_gate"], config["sliding_window"]) == (True, 2)
    with pytest.raises(ValueError, match="sliding_window"):
        L.GroupQueryAttention(3, 4, 2, sliding_window=0)
    with pytest.raises(ValueError, match="Dropout"):
        L.GroupQueryAttention(3, 4, 2, flash_attention=True, dropout=0.5)


# ---------------------------------------------------------------- augmentation
# attribute values from Keras 3.15 (TF 2.21)
FACTORS = [
    (lambda: L.RandomRotation(0.2), "factor", (-0.2, 0.2)),
    (lambda: L.RandomBrightness(0.2), "factor", (-0.2, 0.2)),
    (lambda: L.RandomContrast(0.3), "factor", (0, 0.3)),
    (lambda: L.RandomContrast((0.1, 0.4)), "factor", (0.1, 0.4)),
    (lambda: L.RandomHue(0.2, value_range=(0, 255)), "factor", (0, 0.2)),
    (lambda: L.RandomSaturation(0.5), "factor", (-0.5, 0.5)),
    (lambda: L.RandomSaturation((0.2, 0.6)), "factor", (0.2, 0.6)),
    (lambda: L.RandomSharpness(0.5), "factor", (0, 0.5)),
    (lambda: L.RandomShear(x_factor=0.2), "x_factor", (-0.2, 0.2)),
    (lambda: L.RandomShear(y_factor=(0.1, 0.3)), "y_factor", (0.1, 0.3)),
    (lambda: L.RandomPosterization(factor=4), "factor", (1, 4)),
    (lambda: L.Solarization(0.1, 0.5), "addition_factor", (0, 0.1)),
    (lambda: L.Solarization(0.1, 0.5), "threshold_factor", (0, 0.5)),
    (lambda: L.RandomInvert(0.5), "factor", (0, 0.5)),
    (lambda: L.RandomErasing(0.5), "factor", (0, 0.5)),
    (lambda: L.RandomGaussianBlur(0.5), "factor", (0, 0.5)),
    (lambda: L.RandomGrayscale(0.5), "factor", 0.5),
]


@pytest.mark.parametrize("make,attr,want", FACTORS,
                         ids=[f"{i}-{row[1]}" for i, row in enumerate(FACTORS)])
def test_augmentation_factor_ranges_match_keras3(make, attr, want):
    layer = make()
    got = getattr(layer, attr)
    if isinstance(want, tuple):
        assert isinstance(got, tuple)
        np.testing.assert_allclose(got, want)
    else:
        assert got == want
    config = layer.get_config()
    np.testing.assert_allclose(config[attr], want)
    again = type(layer).from_config(config)   # the stored range round-trips
    np.testing.assert_allclose(getattr(again, attr), getattr(layer, attr))
    x = np.random.default_rng(5).uniform(0, 255, (4, 8, 8, 3)).astype("float32")
    out = again(x, training=True).numpy()
    assert out.shape == x.shape and out.dtype == np.float32
    assert out.min() >= -1e-3 and out.max() <= 255.001


def test_random_contrast_number_only_raises_contrast_as_keras3():
    x = np.random.default_rng(6).uniform(20, 220, (64, 8, 8, 3)).astype("float32")
    std = x.reshape(64, -1, 3).std(1)
    out = L.RandomContrast(0.5, seed=1)(x, training=True).numpy()
    ratio = out.reshape(64, -1, 3).std(1) / std
    assert ratio.min() >= 1.0 - 1e-4 and ratio.max() > 1.2   # TF 2.21: [1.0, 1.46]
    out = L.RandomContrast((0.5, 0.5), seed=1)(x, training=True).numpy()
    ratio = out.reshape(64, -1, 3).std(1) / std
    assert ratio.min() < 0.8
