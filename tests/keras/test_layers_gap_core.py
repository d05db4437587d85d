"""The Keras 3 layers added to close the gap with TF 2.21: EinsumDense,
RMSNormalization, SpectralNormalization, adaptive pooling, ConvLSTM1D/3D,
GroupQueryAttention, ReversibleEmbedding and Pipeline.

Weight shapes/counts were measured on TF 2.21 (Keras 3) and are hard-coded here.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.keras import layers as L
from tests.keras.layer_test_utils import run_layer_test

RNG = np.random.default_rng(0)


def train_step_changes_weights(layer, x, **call_kwargs):
    """One compiled SGD step on sum(y^2) changes every trainable weight."""
    x = tf.constant(x)
    layer(x, **call_kwargs)
    before = [w.numpy().copy() for w in layer.trainable_weights]
    opt = keras.optimizers.SGD(0.05)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            y = layer(x, training=True, **call_kwargs)
            loss = tf.reduce_sum(tf.square(y))
        grads = tape.gradient(loss, layer.trainable_weights)
        opt.apply_gradients(zip(grads, layer.trainable_weights))
    step()
    for b, w in zip(before, layer.trainable_weights):
        assert not np.allclose(b, w.numpy()), f"{w.name} did not change"


# -- EinsumDense ------------------------------------------------------------------
# (equation, output_shape, bias_axes, input shape, kernel shape, bias shape, output)
# kernel/bias shapes measured on TF 2.21.
EINSUM_CASES = [
    ("ab,bc->ac", 4, "c", (2, 3), (3, 4), (4,), (2, 4)),
    ("abc,cd->abd", (None, 5), "d", (2, 7, 3), (3, 5), (5,), (2, 7, 5)),
    ("abc,cde->abde", (None, 2, 4), "de", (2, 7, 3), (3, 2, 4), (2, 4), (2, 7, 2, 4)),
    ("...b,bc->...c", 4, "c", (2, 2, 3), (3, 4), (4,), (2, 2, 4)),
    ("abcd,cde->abe", (None, 6), "e", (2, 2, 3, 4), (3, 4, 6), (6,), (2, 2, 6)),
    ("ab...,bc->ac...", 4, "c", (2, 3, 5), (3, 4), (4, 1), (2, 4, 5)),
    ("abc,cd->abd", (7, 5), "bd", (2, 7, 3), (3, 5), (7, 5), (2, 7, 5)),
    ("...bc,cd->...bd", (7, 5), "d", (2, 4, 7, 3), (3, 5), (5,), (2, 4, 7, 5)),
]


@pytest.mark.parametrize("case", EINSUM_CASES, ids=lambda c: c[0])
def test_einsum_dense_shapes_and_numerics(case):
    equation, out_shape, bias_axes, in_shape, k_shape, b_shape, y_shape = case
    layer, out = run_layer_test(L.EinsumDense, {
        "equation": equation, "output_shape": out_shape, "bias_axes": bias_axes,
        "activation": "relu", "bias_initializer": "random_normal"},
        input_shape=in_shape, expected_output_shape=y_shape,
        expected_num_trainable_weights=2, expected_num_non_trainable_weights=0)
    kernel, bias = (w.numpy() for w in layer.weights)
    assert kernel.shape == k_shape and bias.shape == b_shape
    x = np.random.default_rng(0).standard_normal(in_shape).astype("float32")
    expect = np.maximum(np.einsum(equation, x, kernel) + bias, 0)
    np.testing.assert_allclose(out.numpy(), expect, rtol=1e-5, atol=1e-5)
    train_step_changes_weights(layer, x)


def test_einsum_dense_errors_and_config():
    with pytest.raises(ValueError, match="shared dimension 'b'"):
        L.EinsumDense("abc,cd->abd", output_shape=(8, 5))(tf.zeros((2, 7, 3)))
    with pytest.raises(ValueError, match="Weight dimension 'd'"):
        L.EinsumDense("ab,bcd->ac", output_shape=4)(tf.zeros((2, 3)))
    with pytest.raises(ValueError, match="Bias dimension 'x'"):
        L.EinsumDense("ab,bc->ac", output_shape=4, bias_axes="x")(tf.zeros((2, 3)))
    with pytest.raises(ValueError, match="equation='abbc'"):
        L.EinsumDense("abbc", output_shape=4)
    config = L.EinsumDense("ab,bc->ac", output_shape=4, bias_axes="c").get_config()
    assert config["output_shape"] == (4,) and config["equation"] == "ab,bc->ac"
    assert config["activation"] == "linear" and config["bias_axes"] == "c"


# -- RMSNormalization ---------------------------------------------------------------
def test_rms_normalization_matches_tf_values():
    x = np.random.RandomState(0).randn(2, 4).astype("float32")
    layer = L.RMSNormalization(epsilon=1e-3)
    # output measured on TF 2.21 for this input
    expect = [[1.1596866846, 0.2630630434, 0.6434216499, 1.4731614590],
              [1.6114580631, -0.8432628513, 0.8198019266, -0.1306014508]]
    np.testing.assert_allclose(layer(x).numpy(), expect, rtol=1e-6)
    assert [w.name for w in layer.weights] == [f"{layer.name}/scale:0"]
    assert layer.get_config()["epsilon"] == 1e-3


def test_rms_normalization_layer_suite():
    layer, out = run_layer_test(L.RMSNormalization, {"axis": [1, 2]},
                                input_shape=(2, 3, 4), expected_output_shape=(2, 3, 4),
                                expected_num_trainable_weights=1)
    assert tuple(layer.scale.shape) == (3, 4)  # TF 2.21: (3, 4)
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype("float32")
    expect = x / np.sqrt((x ** 2).mean(axis=(1, 2), keepdims=True) + 1e-6)
    np.testing.assert_allclose(out.numpy(), expect, rtol=1e-5)
    train_step_changes_weights(layer, x)


# -- SpectralNormalization ----------------------------------------------------------
def _power_iteration_ref(kernel, u, iterations):
    w = kernel.reshape(-1, kernel.shape[-1]).astype("float64")
    for _ in range(iterations):
        v = u @ w.T
        v = v / np.sqrt((v ** 2).sum())
        u = v @ w
        u = u / np.sqrt((u ** 2).sum())
    sigma = (v @ w @ u.T)[0, 0]
    return kernel / sigma, u


def test_spectral_normalization_power_iteration():
    rs = np.random.RandomState(0)
    k, b = rs.randn(4, 3).astype("float32"), rs.randn(3).astype("float32")
    u, x = rs.randn(1, 3).astype("float32"), rs.randn(2, 4).astype("float32")
    sn = L.SpectralNormalization(L.Dense(3), power_iterations=2)
    sn(x)
    assert isinstance(sn, L.Wrapper)
    # TF 2.21: kernel, bias trainable; vector_u (1, 3) non-trainable
    assert len(sn.trainable_weights) == 2 and len(sn.non_trainable_weights) == 1
    assert tuple(sn.vector_u.shape) == (1, 3)
    sn.layer.kernel.assign(k)
    sn.layer.bias.assign(b)
    sn.vector_u.assign(u)
    np.testing.assert_allclose(sn(x, training=False).numpy(), x @ k + b, rtol=1e-5)
    y = sn(x, training=True).numpy()
    new_k, new_u = _power_iteration_ref(k, u.astype("float64"), 2)
    np.testing.assert_allclose(sn.layer.kernel.numpy(), new_k, rtol=1e-5)
    np.testing.assert_allclose(sn.vector_u.numpy(), new_u, rtol=1e-5)
    np.testing.assert_allclose(y, x @ new_k + b, rtol=1e-5, atol=1e-6)
    # TF 2.21 output of the training call for these values
    np.testing.assert_allclose(y[0], [-0.2563048601, -0.1643238068, 1.1247658730],
                               rtol=1e-5)
    # the largest singular value of the normalized kernel approaches 1
    for _ in range(20):
        sn(x, training=True)
    assert abs(np.linalg.svd(sn.layer.kernel.numpy())[1][0] - 1) < 1e-3


def test_spectral_normalization_conv_and_config():
    sn = L.SpectralNormalization(L.Conv2D(4, 3))
    out = sn(tf.zeros((1, 8, 8, 2)))
    assert tuple(out.shape) == (1, 6, 6, 4) and tuple(sn.vector_u.shape) == (1, 4)
    clone = L.SpectralNormalization.from_config(sn.get_config())
    assert clone.power_iterations == 1 and isinstance(clone.layer, L.Conv2D)
    with pytest.raises(ValueError, match="power_iterations"):
        L.SpectralNormalization(L.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="kernel"):
        L.SpectralNormalization(L.ReLU())(tf.zeros((1, 2)))
    x = RNG.standard_normal((3, 5)).astype("float32")
    train_step_changes_weights(L.SpectralNormalization(L.Dense(2)), x)


# -- adaptive pooling -----------------------------------------------------------------
def _bins(n, out):
    return [(i * n // out, -(-(i + 1) * n // out)) for i in range(out)]


def _adaptive_ref(x, out_size, reduce):
    spatial = x.shape[1:-1]
    grids = [_bins(n, o) for n, o in zip(spatial, out_size)]
    out = np.zeros((x.shape[0], *out_size, x.shape[-1]), x.dtype)
    for idx in np.ndindex(*out_size):
        sl = tuple(slice(*grids[d][i]) for d, i in enumerate(idx))
        out[(slice(None), *idx)] = reduce(x[(slice(None), *sl)],
                                          axis=tuple(range(1, 1 + len(idx))))
    return out


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("mode", ["Average", "Max"])
def test_adaptive_pooling(rank, mode):
    cls = getattr(L, f"Adaptive{mode}Pooling{rank}D")
    in_shape = (2, 7, 5, 6)[:rank + 1] + (3,)
    out_size = (3, 2, 4)[:rank]
    layer, out = run_layer_test(cls, {"output_size": out_size}, input_shape=in_shape,
                                expected_output_shape=(2, *out_size, 3),
                                expected_num_trainable_weights=0)
    x = np.random.default_rng(0).standard_normal(in_shape).astype("float32")
    ref = _adaptive_ref(x, out_size, np.mean if mode == "Average" else np.max)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-6)
    assert layer.get_config()["output_size"] == out_size


def test_adaptive_pooling_upsamples_and_channels_first():
    x = np.sin(np.arange(2 * 7 * 5 * 3, dtype="float32")).reshape(2, 7, 5, 3)
    y = L.AdaptiveMaxPooling2D((9, 7))(x).numpy()
    np.testing.assert_allclose(y, _adaptive_ref(x, (9, 7), np.max))
    cf = L.AdaptiveAveragePooling2D((3, 2), data_format="channels_first")(x)
    assert tuple(cf.shape) == (2, 7, 3, 2)  # TF 2.21
    with pytest.raises(ValueError, match="output_size"):
        L.AdaptiveAveragePooling2D((0, 2))


# -- ConvLSTM1D / 3D ---------------------------------------------------------------------
def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _conv1d_same(x, k):
    """x [B, W, C], k [K, C, F], stride 1, TF 'SAME' padding."""
    size = k.shape[0]
    lo = (size - 1) // 2
    xp = np.pad(x, ((0, 0), (lo, size - 1 - lo), (0, 0)))
    return sum(np.einsum("bwc,cf->bwf", xp[:, i:i + x.shape[1]], k[i])
               for i in range(size))


def test_conv_lstm1d_matches_numpy_recurrence():
    x = RNG.standard_normal((2, 3, 6, 2)).astype("float32")
    layer = L.ConvLSTM1D(3, 3, padding="same", return_sequences=True)
    out = layer(tf.constant(x)).numpy()
    k, rk, b = (w.numpy() for w in layer.weights)
    # TF 2.21 weight shapes
    assert (k.shape, rk.shape, b.shape) == ((3, 2, 12), (3, 3, 12), (12,))
    h = np.zeros((2, 6, 3), "float32")
    c = np.zeros_like(h)
    for t in range(3):
        z = _conv1d_same(x[:, t], k) + _conv1d_same(h, rk) + b
        i, f, g, o = np.split(z, 4, axis=-1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        np.testing.assert_allclose(out[:, t], h, rtol=1e-4, atol=1e-5)


def test_conv_lstm_layer_suite_and_training():
    layer, _ = run_layer_test(L.ConvLSTM1D, {"filters": 2, "kernel_size": 2,
                                             "strides": 2},
                              input_shape=(2, 3, 6, 2), expected_output_shape=(2, 3, 2),
                              expected_num_trainable_weights=3)
    assert [tuple(w.shape) for w in layer.weights] == [(2, 2, 8), (2, 2, 8), (8,)]
    layer3, _ = run_layer_test(L.ConvLSTM3D, {"filters": 2, "kernel_size": 2},
                               input_shape=(1, 2, 4, 4, 3, 2),
                               expected_output_shape=(1, 3, 3, 2, 2),
                               expected_num_trainable_weights=3)
    # TF 2.21 weight shapes
    assert [tuple(w.shape) for w in layer3.weights] == [
        (2, 2, 2, 2, 8), (2, 2, 2, 2, 8), (8,)]
    assert layer3.weights[0].name == f"{layer3.name}/conv_lstm_cell/kernel:0"
    train_step_changes_weights(layer, RNG.standard_normal((2, 3, 6, 2)).astype(
        "float32"))
    with pytest.raises(ValueError, match="ndim=4"):
        L.ConvLSTM1D(2, 2)(tf.zeros((2, 3, 4, 5, 6)))


# -- GroupQueryAttention -----------------------------------------------------------------
def test_group_query_attention_matches_numpy():
    q = RNG.standard_normal((2, 3, 8)).astype("float32")
    v = RNG.standard_normal((2, 5, 6)).astype("float32")
    gqa = L.GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)
    gqa(q, v)
    # TF 2.21 weight paths and shapes
    assert [(w.name, tuple(w.shape)) for w in gqa.weights] == [
        (f"{gqa.name}/query/kernel:0", (8, 4, 4)), (f"{gqa.name}/query/bias:0", (4, 4)),
        (f"{gqa.name}/key/kernel:0", (6, 2, 4)), (f"{gqa.name}/key/bias:0", (2, 4)),
        (f"{gqa.name}/value/kernel:0", (6, 2, 4)), (f"{gqa.name}/value/bias:0", (2, 4)),
        (f"{gqa.name}/attention_output/kernel:0", (4, 4, 8)),
        (f"{gqa.name}/attention_output/bias:0", (8,))]
    ws = [RNG.standard_normal(tuple(w.shape)).astype("float32") * 0.3
          for w in gqa.weights]
    gqa.set_weights(ws)
    wq, bq, wk, bk, wv, bv, wo, bo = ws

    def ref(causal):
        qh = np.einsum("bqm,muh->bquh", q, wq) + bq
        kh = np.repeat(np.einsum("bkm,mvh->bkvh", v, wk) + bk, 2, axis=2)
        vh = np.repeat(np.einsum("bkm,mvh->bkvh", v, wv) + bv, 2, axis=2)
        s = np.einsum("bquh,bkuh->buqk", qh, kh) / 2.0
        if causal:
            s = np.where(np.tril(np.ones((3, 5), bool)), s, -1e9)
        p = np.exp(s - s.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        return np.einsum("bquh,uhm->bqm", np.einsum("buqk,bkuh->bquh", p, vh), wo) + bo, p

    out, scores = gqa(q, v, return_attention_scores=True)
    expect, probs = ref(False)
    np.testing.assert_allclose(out.numpy(), expect, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(scores.numpy(), probs, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gqa(q, v, use_causal_mask=True).numpy(), ref(True)[0],
                               rtol=1e-4, atol=1e-5)
    compiled = tf.function(lambda a, b: gqa(a, b))(tf.constant(q), tf.constant(v))
    np.testing.assert_allclose(compiled.numpy(), expect, rtol=1e-4, atol=1e-5)


def test_group_query_attention_config_training_and_errors():
    gqa = L.GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=1,
                                dropout=0.1)
    config = gqa.get_config()
    assert config["num_key_value_heads"] == 1 and config["dropout"] == 0.1
    clone = L.GroupQueryAttention.from_config(config)
    assert clone.num_repeats == 2
    q = tf.constant(RNG.standard_normal((2, 3, 4)).astype("float32"))
    gqa(q, q)
    before = [w.numpy().copy() for w in gqa.trainable_weights]
    opt = keras.optimizers.Adam(0.01)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(gqa(q, q, training=True)))
    opt.apply_gradients(zip(tape.gradient(loss, gqa.trainable_weights),
                            gqa.trainable_weights))
    # the key bias adds the same q.b_k to every score of a query row, and softmax
    # ignores such a shift: its gradient is zero up to rounding, so it may not move
    moved = {w.name: not np.allclose(b, w.numpy())
             for b, w in zip(before, gqa.trainable_weights)}
    assert all(m for name, m in moved.items() if "key/bias" not in name), moved
    with pytest.raises(ValueError, match="divisible"):
        L.GroupQueryAttention(head_dim=2, num_query_heads=3, num_key_value_heads=2)
    with pytest.raises(ValueError, match="head_dim"):
        L.GroupQueryAttention(head_dim=0, num_query_heads=2, num_key_value_heads=1)


# -- ReversibleEmbedding and Pipeline ------------------------------------------------------
def test_reversible_embedding():
    tied = L.ReversibleEmbedding(10, 4)
    ids = np.array([[1, 2, 3]])
    emb = tied(ids)
    table = tied.embeddings.numpy()
    np.testing.assert_allclose(emb.numpy(), table[ids])
    h = RNG.standard_normal((2, 4)).astype("float32")
    np.testing.assert_allclose(tied(h, reverse=True).numpy(), h @ table.T, rtol=1e-5)
    untied = L.ReversibleEmbedding(10, 4, tie_weights=False, logit_soft_cap=2.0)
    untied(ids)
    # TF 2.21: embeddings (10, 4) and reverse_embeddings (4, 10)
    assert [tuple(w.shape) for w in untied.weights] == [(10, 4), (4, 10)]
    rev = untied.reverse_embeddings.numpy()
    np.testing.assert_allclose(untied(h, reverse=True).numpy(),
                               np.tanh(h @ rev / 2.0) * 2.0, rtol=1e-5)
    clone = L.ReversibleEmbedding.from_config(untied.get_config())
    assert not clone.tie_weights and clone.logit_soft_cap == 2.0


def test_pipeline():
    p = L.Pipeline([L.Rescaling(2.0), L.Rescaling(0.5, offset=1.0)])
    np.testing.assert_allclose(p(np.ones((2, 2), "float32")).numpy(), 2.0)
    assert len(p.layers) == 2 and not isinstance(p, keras.Model)
    clone = L.Pipeline.from_config(p.get_config())
    assert [type(layer) for layer in clone.layers] == [L.Rescaling, L.Rescaling]
    np.testing.assert_allclose(clone(np.ones((1, 2), "float32")).numpy(), 2.0)
    aug = L.Pipeline([L.RandomInvert(factor=(1.0, 1.0))])
    x = np.full((1, 2, 2, 3), 5.0, "float32")
    np.testing.assert_allclose(aug(x).numpy(), 250.0)  # training defaults to True
    np.testing.assert_allclose(aug(x, training=False).numpy(), 5.0)
    with pytest.raises(ValueError, match="must be a Layer"):
        L.Pipeline([lambda x: x])


def test_spectral_normalization_and_reversible_embedding_layer_suite():
    run_layer_test(L.SpectralNormalization, {"layer": L.Dense(3)}, input_shape=(2, 4),
                   expected_output_shape=(2, 3), expected_num_trainable_weights=2,
                   expected_num_non_trainable_weights=1)
    run_layer_test(L.ReversibleEmbedding, {"input_dim": 10, "output_dim": 4,
                                           "tie_weights": False},
                   input_shape=(2, 3), input_dtype="int32",
                   expected_output_shape=(2, 3, 4), expected_num_trainable_weights=2,
                   check_grad=False)
    train_step_changes_weights(L.Pipeline([L.RMSNormalization(), L.Dense(2)]),
                               RNG.standard_normal((3, 4)).astype("float32"))
