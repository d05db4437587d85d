"""Layer outputs against NumPy references; training vs inference behaviour."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.keras import layers


def rnd(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def conv2d_ref(x, w, stride=1, padding="valid"):
    kh, kw = w.shape[:2]
    if padding == "same":
        h, wd = x.shape[1:3]
        oh, ow = -(-h // stride), -(-wd // stride)
        ph = max((oh - 1) * stride + kh - h, 0)
        pw = max((ow - 1) * stride + kw - wd, 0)
        x = np.pad(x, [(0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)])
    n, h, wd, c = x.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, oh, ow, w.shape[3]), np.float64)
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            out[:, i, j, :] = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2]))
    return out


def test_dense_matches_numpy():
    x = rnd(4, 3)
    layer = layers.Dense(5, activation="relu", bias_initializer="ones")
    out = layer(tf.constant(x)).numpy()
    k, b = layer.get_weights()
    np.testing.assert_allclose(out, np.maximum(x @ k + b, 0), rtol=1e-5, atol=1e-6)
    x3 = rnd(2, 4, 3)
    np.testing.assert_allclose(layer(tf.constant(x3)).numpy(),
                               np.maximum(x3 @ k + b, 0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("stride,padding", [(1, "valid"), (2, "same"), (2, "valid")])
def test_conv2d_matches_numpy(stride, padding):
    x = rnd(2, 6, 7, 3)
    layer = layers.Conv2D(4, 3, strides=stride, padding=padding)
    out = layer(tf.constant(x)).numpy()
    k, b = layer.get_weights()
    np.testing.assert_allclose(out, conv2d_ref(x, k, stride, padding) + b, rtol=1e-4,
                               atol=1e-5)


def test_conv1d_matches_numpy():
    x = rnd(2, 8, 3)
    layer = layers.Conv1D(2, 3)
    out = layer(tf.constant(x)).numpy()
    k, b = layer.get_weights()
    ref = conv2d_ref(x[:, :, None, :], k[:, None]) [:, :, 0, :] + b
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)


def test_conv2d_transpose_matches_numpy():
    x = rnd(1, 3, 3, 2)
    layer = layers.Conv2DTranspose(2, 3, strides=2, use_bias=False)
    out = layer(tf.constant(x)).numpy()
    (k,) = layer.get_weights()  # (kh, kw, out, in)
    ref = np.zeros((1, 7, 7, 2))
    for i in range(3):
        for j in range(3):
            ref[0, 2 * i:2 * i + 3, 2 * j:2 * j + 3, :] += np.einsum(
                "c,hwoc->hwo", x[0, i, j], k)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)


def test_depthwise_conv_matches_numpy():
    x = rnd(2, 5, 5, 3)
    layer = layers.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False)
    out = layer(tf.constant(x)).numpy()
    (k,) = layer.get_weights()
    ref = np.concatenate([conv2d_ref(x[..., c:c + 1], k[:, :, c:c + 1, :])
                          for c in range(3)], axis=-1)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)


def test_pooling_matches_numpy():
    x = rnd(2, 4, 6, 3)
    mx = layers.MaxPooling2D()(tf.constant(x)).numpy()
    av = layers.AveragePooling2D()(tf.constant(x)).numpy()
    blocks = x.reshape(2, 2, 2, 3, 2, 3)
    np.testing.assert_allclose(mx, blocks.max(axis=(2, 4)), rtol=1e-6)
    np.testing.assert_allclose(av, blocks.mean(axis=(2, 4)), rtol=1e-5)
    np.testing.assert_allclose(layers.GlobalAveragePooling2D()(tf.constant(x)).numpy(),
                               x.mean(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(layers.GlobalMaxPooling1D()(tf.constant(x[:, 0])).numpy(),
                               x[:, 0].max(axis=1), rtol=1e-6)


def test_batch_normalization_training_and_inference():
    x = rnd(8, 3) * 2 + 1
    bn = layers.BatchNormalization()
    assert bn.momentum == 0.99 and bn.epsilon == 1e-3
    y_inf = bn(tf.constant(x)).numpy()  # moving stats 0/1: nearly identity
    np.testing.assert_allclose(y_inf, x / np.sqrt(1 + 1e-3), rtol=1e-5)
    y_tr = bn(tf.constant(x), training=True).numpy()
    ref = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3)
    np.testing.assert_allclose(y_tr, ref, rtol=1e-4, atol=1e-5)
    mm, mv = bn.moving_mean.numpy(), bn.moving_variance.numpy()
    np.testing.assert_allclose(mm, 0.01 * x.mean(0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(mv, 0.99 + 0.01 * x.var(0), rtol=1e-4)
    assert [w.name for w in bn.non_trainable_weights] == [
        f"{bn.name}/moving_mean:0", f"{bn.name}/moving_variance:0"]
    assert [w.name.split("/")[-1] for w in bn.weights] == [
        "gamma:0", "beta:0", "moving_mean:0", "moving_variance:0"]
    # frozen BN runs in inference mode and leaves its statistics alone
    bn.trainable = False
    y_frozen = bn(tf.constant(x), training=True).numpy()
    np.testing.assert_allclose(y_frozen, (x - mm) / np.sqrt(mv + 1e-3), rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(bn.moving_mean.numpy(), mm)
    assert bn.trainable_weights == [] and len(bn.non_trainable_weights) == 4


def test_layer_normalization_matches_numpy():
    x = rnd(2, 3, 4)
    y = layers.LayerNormalization()(tf.constant(x)).numpy()
    ref = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)


def test_dropout_training_vs_inference():
    x = np.ones((200, 50), "float32")
    d = layers.Dropout(0.4)
    np.testing.assert_array_equal(d(tf.constant(x)).numpy(), x)
    y = d(tf.constant(x), training=True).numpy()
    kept = y != 0
    assert 0.5 < kept.mean() < 0.7
    np.testing.assert_allclose(y[kept], 1 / 0.6, rtol=1e-5)
    s = layers.SpatialDropout1D(0.5)(tf.constant(np.ones((4, 6, 8), "float32")),
                                     training=True).numpy()
    assert np.all((s == 0).all(axis=1) | (s != 0).all(axis=1))  # whole channels
    g = layers.GaussianNoise(1.0)
    np.testing.assert_array_equal(g(tf.constant(x)).numpy(), x)
    assert np.abs(g(tf.constant(x), training=True).numpy() - x).mean() > 0.5


def test_embedding_lookup_and_mask():
    emb = layers.Embedding(10, 3, mask_zero=True)
    ids = np.array([[1, 2, 0], [4, 0, 0]])
    out = emb(tf.constant(ids))
    np.testing.assert_allclose(out.numpy(), emb.embeddings.numpy()[ids])
    np.testing.assert_array_equal(out._keras_mask.numpy(), ids != 0)
    pooled = layers.GlobalAveragePooling1D()(out).numpy()
    ref = emb.embeddings.numpy()[[1, 2]].mean(0)
    np.testing.assert_allclose(pooled[0], ref, rtol=1e-5)


def test_masking_layer():
    x = rnd(2, 4, 3)
    x[0, 2] = 0.0
    out = layers.Masking()(tf.constant(x))
    np.testing.assert_array_equal(out._keras_mask.numpy(),
                                  [[True, True, False, True], [True] * 4])


def test_merges_match_numpy():
    a, b, c = rnd(2, 3, seed=1), rnd(2, 3, seed=2), rnd(2, 3, seed=3)
    t = [tf.constant(v) for v in (a, b, c)]
    np.testing.assert_allclose(layers.add(t).numpy(), a + b + c, rtol=1e-6)
    np.testing.assert_allclose(layers.subtract(t[:2]).numpy(), a - b, rtol=1e-6)
    np.testing.assert_allclose(layers.multiply(t).numpy(), a * b * c, rtol=1e-5)
    np.testing.assert_allclose(layers.average(t).numpy(), (a + b + c) / 3, rtol=1e-5)
    np.testing.assert_allclose(layers.maximum(t).numpy(), np.maximum(np.maximum(a, b), c))
    np.testing.assert_allclose(layers.minimum(t).numpy(), np.minimum(np.minimum(a, b), c))
    np.testing.assert_allclose(layers.concatenate(t, axis=0).numpy(),
                               np.concatenate([a, b, c], 0))
    np.testing.assert_allclose(layers.dot(t[:2], axes=1).numpy(),
                               (a * b).sum(1, keepdims=True), rtol=1e-5)
    an = a / np.linalg.norm(a, axis=1, keepdims=True)
    bn = b / np.linalg.norm(b, axis=1, keepdims=True)
    np.testing.assert_allclose(layers.dot(t[:2], axes=1, normalize=True).numpy(),
                               (an * bn).sum(1, keepdims=True), rtol=1e-5)


def _softmax(z):
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def test_multi_head_attention_matches_numpy():
    q, v = rnd(2, 4, 5, seed=1), rnd(2, 6, 5, seed=2)
    mask = np.ones((2, 4, 6), bool)
    mask[:, :, -2:] = False
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2, output_shape=7)
    out, scores = mha(tf.constant(q), tf.constant(v), attention_mask=tf.constant(mask),
                      return_attention_scores=True)
    assert tuple(out.shape) == (2, 4, 7) and tuple(scores.shape) == (2, 2, 4, 6)
    assert [w.name for w in mha.weights][:2] == [
        f"{mha.name}/query/kernel:0", f"{mha.name}/query/bias:0"]
    wq, bq, wk, bk, wv, bv, wo, bo = [w.numpy() for w in mha.weights]
    K = np.einsum("bsd,dhk->bhsk", v, wk) + bk[None, :, None, :]
    V = np.einsum("bsd,dhk->bhsk", v, wv) + bv[None, :, None, :]
    Q = (np.einsum("btd,dhk->bthk", q, wq) + bq).transpose(0, 2, 1, 3)
    logits = np.einsum("bhtk,bhsk->bhts", Q / np.sqrt(3), K)
    logits = np.where(mask[:, None], logits, -1e9)
    probs = _softmax(logits)
    ctx = np.einsum("bhts,bhsk->bthk", probs, V)
    ref = np.einsum("bthk,hko->bto", ctx, wo) + bo
    np.testing.assert_allclose(scores.numpy(), probs, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-4, atol=1e-5)
    # parameter count as Keras: 3 projections + output
    assert mha.count_params() == (5 * 6 + 6) * 2 + (5 * 4 + 4) + (4 * 7 + 7)
    # gradients reach all 8 weights; causal mask zeroes future positions
    with tf.GradientTape() as tape:
        y = mha(tf.constant(q), tf.constant(v))
        loss = tf.reduce_sum(y * y)
    assert all(g is not None for g in tape.gradient(loss, mha.trainable_weights))
    _, s = mha(tf.constant(q), tf.constant(q), use_causal_mask=True,
               return_attention_scores=True)
    assert np.allclose(np.triu(s.numpy()[0, 0], 1), 0)


def test_multi_head_attention_functional_self_attention():
    from dlframe import keras
    x = keras.Input(shape=(5, 8))
    y = layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x)
    model = keras.Model(x, y)
    assert y.shape.as_list() == [None, 5, 8]
    assert tuple(model(tf.constant(rnd(3, 5, 8))).shape) == (3, 5, 8)


def test_upsampling_padding_cropping():
    x = rnd(1, 2, 3, 1)
    up = layers.UpSampling2D((2, 2))(tf.constant(x)).numpy()
    np.testing.assert_array_equal(up, x.repeat(2, 1).repeat(2, 2))
    pad = layers.ZeroPadding2D(1)(tf.constant(x)).numpy()
    np.testing.assert_array_equal(pad, np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)]))
    crop = layers.Cropping2D(((1, 0), (1, 1)))(tf.constant(pad)).numpy()
    np.testing.assert_array_equal(crop, np.pad(x, [(0, 0), (0, 1), (0, 0), (0, 0)]))


def test_layers_accept_first_argument_by_keyword():
    q = tf.constant(rnd(1, 3, 4))
    mha = layers.MultiHeadAttention(num_heads=1, key_dim=2)
    assert mha(query=q, value=q).shape == (1, 3, 4)
    assert layers.Dense(2)(inputs=q).shape == (1, 3, 2)
