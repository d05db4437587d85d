"""Round-20 probes of keras.io vision examples (Swin Transformer, Perceiver, MLP-Mixer /
FNet, PointNet, keypoints, depth estimation, video, NeRF): the differences found
against TF 2.21, as regressions, plus the example paths that already agreed."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.keras import layers
from tests.helpers import numeric_grad


# -- keras.Variable(dtype="int"): Keras's dtype spellings -----------------------------
@pytest.mark.parametrize("dtype, expect", [("int", "int64"), (int, "int64"),
                                           (float, "float32"), ("float16", "float16"),
                                           (bool, "bool")])
def test_keras_variable_takes_keras_dtype_spellings(dtype, expect):
    value = np.arange(4).reshape(2, 2)
    v = keras.Variable(initializer=value, shape=value.shape, dtype=dtype,
                       trainable=False)
    assert v.dtype.name == expect   # TF 2.21: "int" and int are int64
    np.testing.assert_array_equal(v.numpy(), value.astype(expect))


def test_keras_variable_rejects_unknown_dtype_spelling():
    with pytest.raises(ValueError, match="float"):
        keras.Variable(initializer=np.zeros(2), dtype="float")


def _window_partition(x, window_size):
    _, height, width, channels = x.shape
    x = tf.reshape(x, (-1, height // window_size, window_size, width // window_size,
                       window_size, channels))
    x = tf.transpose(x, (0, 1, 3, 2, 4, 5))
    return tf.reshape(x, (-1, window_size, window_size, channels))


def _window_reverse(windows, window_size, height, width, channels):
    x = tf.reshape(windows, (-1, height // window_size, width // window_size,
                             window_size, window_size, channels))
    x = tf.transpose(x, (0, 1, 3, 2, 4, 5))
    return tf.reshape(x, (-1, height, width, channels))


class _ShiftedWindowAttention(layers.Layer):
    """The Swin example's pieces: a relative position table read with tf.gather
    through an int Variable, and the shifted-window mask built in build()."""

    def __init__(self, num_patch, window_size, shift_size, num_heads, **kwargs):
        super().__init__(**kwargs)
        self.num_patch, self.window_size = num_patch, window_size
        self.shift_size, self.num_heads = shift_size, num_heads

    def build(self, input_shape):
        ws, channels = self.window_size, input_shape[-1]
        self.qkv = layers.Dense(3 * channels)
        self.table = self.add_weight(shape=((2 * ws - 1) ** 2, self.num_heads),
                                     initializer="random_normal", name="table")
        coords = np.stack(np.meshgrid(np.arange(ws), np.arange(ws), indexing="ij"))
        flat = coords.reshape(2, -1)
        rel = (flat[:, :, None] - flat[:, None, :]).transpose([1, 2, 0]) + ws - 1
        index = rel[:, :, 0] * (2 * ws - 1) + rel[:, :, 1]
        self.index = keras.Variable(initializer=index, shape=index.shape, dtype="int",
                                    trainable=False)
        height, width = self.num_patch
        mask = np.zeros((1, height, width, 1))
        cuts = (slice(0, -ws), slice(-ws, -self.shift_size),
                slice(-self.shift_size, None))
        count = 0
        for h in cuts:
            for w in cuts:
                mask[:, h, w, :] = count
                count += 1
        windows = tf.reshape(_window_partition(tf.convert_to_tensor(mask), ws),
                             (-1, ws * ws))
        attn_mask = tf.expand_dims(windows, 1) - tf.expand_dims(windows, 2)
        attn_mask = tf.where(attn_mask != 0, -100.0, attn_mask)
        self.attn_mask = keras.Variable(initializer=attn_mask, shape=attn_mask.shape,
                                        dtype=attn_mask.dtype, trainable=False)

    def call(self, x):
        (height, width), ws = self.num_patch, self.window_size
        channels, heads = x.shape[-1], self.num_heads
        x = tf.reshape(x, (-1, height, width, channels))
        x = tf.roll(x, shift=[-self.shift_size, -self.shift_size], axis=[1, 2])
        x = tf.reshape(_window_partition(x, ws), (-1, ws * ws, channels))
        qkv = tf.transpose(tf.reshape(self.qkv(x), (-1, ws * ws, 3, heads,
                                                    channels // heads)),
                           (2, 0, 3, 1, 4))
        attn = qkv[0] @ tf.transpose(qkv[1], (0, 1, 3, 2))
        bias = tf.gather(self.table, tf.reshape(self.index, (-1,)))
        bias = tf.transpose(tf.reshape(bias, (ws * ws, ws * ws, -1)), (2, 0, 1))
        attn = attn + tf.expand_dims(bias, 0)
        n_windows = self.attn_mask.shape[0]
        attn = tf.reshape(attn, (-1, n_windows, heads, ws * ws, ws * ws))
        attn = attn + tf.cast(self.attn_mask[None, :, None], attn.dtype)
        attn = keras.activations.softmax(tf.reshape(attn, (-1, heads, ws * ws, ws * ws)))
        out = tf.reshape(tf.transpose(attn @ qkv[2], (0, 2, 1, 3)),
                         (-1, ws, ws, channels))
        out = _window_reverse(out, ws, height, width, channels)
        out = tf.roll(out, shift=[self.shift_size, self.shift_size], axis=[1, 2])
        return tf.reshape(out, (-1, height * width, channels))


def test_window_partition_reverse_and_roll_round_trip():
    x = tf.reshape(tf.range(2 * 4 * 4 * 3, dtype=tf.float32), (2, 4, 4, 3))
    windows = _window_partition(x, 2)
    assert windows.shape == (8, 2, 2, 3)
    ref = np.arange(96).reshape(2, 2, 2, 2, 2, 3).transpose(0, 1, 3, 2, 4, 5)
    np.testing.assert_array_equal(windows.numpy(), ref.reshape(8, 2, 2, 3))
    np.testing.assert_array_equal(_window_reverse(windows, 2, 4, 4, 3).numpy(), x.numpy())
    rolled = tf.roll(x, shift=[-1, -1], axis=[1, 2])
    np.testing.assert_array_equal(rolled.numpy(), np.roll(x.numpy(), (-1, -1), (1, 2)))


def test_swin_shifted_window_layer_builds_int_index_and_trains():
    keras.utils.set_random_seed(0)
    layer = _ShiftedWindowAttention((4, 4), window_size=2, shift_size=1, num_heads=2)
    inputs = keras.Input((16, 8))
    model = keras.Model(inputs, layers.Dense(3)(layers.GlobalAveragePooling1D()(
        layer(inputs))))
    assert layer.index.dtype == tf.int64 and not layer.index.trainable
    assert layer.attn_mask.shape == (4, 4, 4)
    # the last window mixes three regions of the shifted image: -100 between them
    assert sorted(np.unique(layer.attn_mask.numpy()).tolist()) == [-100.0, 0.0]
    x = np.random.default_rng(0).random((8, 16, 8)).astype("float32")
    y = np.random.default_rng(1).integers(0, 3, 8)
    eager = model(x).numpy()
    np.testing.assert_allclose(tf.function(model)(x).numpy(), eager, rtol=1e-5,
                               atol=1e-6)
    before = layer.table.numpy().copy()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert not np.allclose(layer.table.numpy(), before)   # gather gradient reaches it


# -- Softmax-layer masking (MultiHeadAttention, GroupQueryAttention, Softmax) --------
def test_softmax_layer_zeroes_masked_positions_and_fully_masked_rows():
    x = tf.reshape(tf.range(12.0), (1, 3, 4)) / 4
    mask = np.array([[[1, 1, 0, 0], [0, 0, 0, 0], [1, 0, 1, 0]]], bool)
    # TF 2.21 (Keras 3.15): a fully masked row is zeros, not uniform
    expect = [[0.4378, 0.5622, 0.0, 0.0], [0.0] * 4, [0.3775, 0.0, 0.6225, 0.0]]
    np.testing.assert_allclose(layers.Softmax()(x, mask=mask).numpy()[0], expect,
                               atol=1e-4)
    # a float mask keeps values > 0.5
    np.testing.assert_allclose(layers.Softmax()(x, mask=mask * 0.7).numpy()[0], expect,
                               atol=1e-4)
    joint = layers.Softmax(axis=(1, 2))(x, mask=mask).numpy()[0]
    np.testing.assert_allclose(joint.sum(), 1.0, rtol=1e-6)
    assert (joint[~mask[0]] == 0).all()
    half = layers.Softmax()(tf.cast(x, tf.float16), mask=mask).numpy()[0]
    np.testing.assert_allclose(half, expect, atol=2e-3)


def _mha_reference(layer, q, kv, mask):
    """NumPy multi-head attention with Keras 3's masked softmax."""
    wq, bq, wk, bk, wv, bv, wo, bo = (w.numpy().astype("float64") for w in layer.weights)
    qh = np.einsum("btd,dnh->bnth", q, wq) + bq[None, :, None]
    kh = np.einsum("bsd,dnh->bnsh", kv, wk) + bk[None, :, None]
    vh = np.einsum("bsd,dnh->bnsh", kv, wv) + bv[None, :, None]
    scores = qh @ kh.transpose(0, 1, 3, 2) / np.sqrt(wq.shape[-1])
    keep = np.broadcast_to(mask[:, None], scores.shape)
    scores = np.where(keep, scores, -1e9)
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs = np.where(keep, probs / probs.sum(-1, keepdims=True), 0.0)
    out = np.einsum("bnth,hnd->btd", probs @ vh, wo.transpose(1, 0, 2)) + bo
    return out, probs


def test_multi_head_attention_fully_masked_query_rows_are_zero():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(2, 3, 4)).astype("float32")
    kv = rng.normal(size=(2, 5, 4)).astype("float32")
    mask = np.ones((2, 3, 5), bool)
    mask[0, 1] = False            # a query that sees no key
    mask[1, :, 2:] = False
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=2, bias_initializer="ones")
    out, scores = mha(q, kv, attention_mask=mask, return_attention_scores=True)
    ref_out, ref_scores = _mha_reference(mha, q, kv, mask)
    np.testing.assert_allclose(scores.numpy(), ref_scores, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-4, atol=1e-5)
    assert (scores.numpy()[0, :, 1] == 0).all()
    compiled = tf.function(lambda a, b: mha(a, b, attention_mask=mask))
    np.testing.assert_allclose(compiled(q, kv).numpy(), out.numpy(), rtol=1e-5,
                               atol=1e-6)


def test_multi_head_attention_masked_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    q = rng.normal(size=(1, 3, 4))
    kv = rng.normal(size=(1, 4, 4))
    mask = np.array([[[1, 1, 0, 0], [0, 0, 0, 0], [1, 0, 1, 1]]], bool)
    mha = layers.MultiHeadAttention(num_heads=1, key_dim=3, dtype="float64")
    mha(q, kv, attention_mask=mask)
    weights = rng.normal(size=(1, 3, 4))

    def f(qq):
        return float(np.sum(mha(qq, kv, attention_mask=mask).numpy() * weights))

    x = tf.constant(q)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(mha(x, kv, attention_mask=mask) * weights)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), numeric_grad(f, [q], 0),
                               rtol=1e-5, atol=1e-7)


def test_query_mask_from_embedding_zeroes_padded_query_rows():
    keras.utils.set_random_seed(2)
    emb = layers.Embedding(10, 4, mask_zero=True)
    query = emb(tf.constant([[1, 2, 0], [3, 0, 0]]))
    value = emb(tf.constant([[1, 2, 3, 0, 0], [4, 5, 0, 0, 0]]))
    _, scores = layers.MultiHeadAttention(num_heads=1, key_dim=2)(
        query, value, return_attention_scores=True)
    s = scores.numpy()[:, 0]
    # TF 2.21: padded query positions get all-zero rows; valid rows sum to 1
    assert (s[0, 2] == 0).all() and (s[1, 1:] == 0).all()
    np.testing.assert_allclose(s[0, :2].sum(-1), 1.0, rtol=1e-6)
    assert (s[0, :2, 3:] == 0).all() and (s[1, 0, 2:] == 0).all()


def test_attention_axes_and_grouped_query_attention_zero_fully_masked_rows():
    x = tf.reshape(tf.range(24.0), (1, 2, 3, 4)) / 24
    mask = np.ones((1, 2, 3, 2, 3), bool)
    mask[0, 0, 0] = False
    mha = layers.MultiHeadAttention(num_heads=1, key_dim=2, attention_axes=(1, 2))
    _, scores = mha(x, x, attention_mask=mask, return_attention_scores=True)
    assert (scores.numpy()[0, 0, 0, 0] == 0).all()
    np.testing.assert_allclose(scores.numpy()[0, 0, 0, 1].sum(), 1.0, rtol=1e-6)
    q = np.random.default_rng(3).normal(size=(2, 3, 4)).astype("float32")
    kv = np.random.default_rng(4).normal(size=(2, 5, 4)).astype("float32")
    qmask = np.ones((2, 3, 5), bool)
    qmask[0, 1] = False
    gqa = layers.GroupQueryAttention(head_dim=2, num_query_heads=2,
                                     num_key_value_heads=1)
    _, gscores = gqa(q, kv, attention_mask=qmask, return_attention_scores=True)
    assert (gscores.numpy()[0, :, 1] == 0).all()
    np.testing.assert_allclose(gscores.numpy()[0, :, 0].sum(-1), 1.0, rtol=1e-6)


def test_dot_product_attention_layer_still_subtracts_on_full_masks():
    q = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    kv = np.random.default_rng(1).normal(size=(2, 5, 4)).astype("float32")
    vmask = np.array([[0, 0, 0, 0, 0], [1, 1, 0, 0, 0]], bool)
    _, scores = layers.Attention()([q, kv], mask=[None, vmask],
                                   return_attention_scores=True)
    # Keras 3's Attention layer subtracts 1e9 and keeps the softmax: uniform rows
    np.testing.assert_allclose(scores.numpy()[0], np.full((3, 5), 0.2), rtol=1e-6)
    assert (scores.numpy()[1, :, 2:] == 0).all()


def test_multi_head_attention_unbroadcastable_mask_error_types():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=2)
    q, kv = tf.ones((2, 3, 4)), tf.ones((2, 5, 4))
    with pytest.raises(tf.errors.InvalidArgumentError, match="mask"):
        mha(q, kv, attention_mask=np.ones((2, 3, 4), bool))
    with pytest.raises(ValueError, match="mask"):
        mha(q, kv, attention_mask=np.ones((2, 3, 4), bool))


def test_keras_variable_casts_values_to_int_and_bool_dtypes():
    # Keras casts where tf.constant refuses (TF 2.21: [1, 0] and [False, True, True])
    v = keras.Variable(np.array([1.7, 0.0]), dtype="int32")
    np.testing.assert_array_equal(v.numpy(), [1, 0])
    b = keras.Variable(np.arange(3), dtype=bool)
    np.testing.assert_array_equal(b.numpy(), [False, True, True])


# -- paths that already agreed with TF 2.21 --------------------------------------------
@keras.utils.register_keras_serializable(package="round20")
class OrthogonalRegularizer(keras.regularizers.Regularizer):
    """PointNet's regularizer: ``l2reg * ||X X^T - I||^2`` over the transforms."""

    def __init__(self, num_features, l2reg=0.001):
        self.num_features = num_features
        self.l2reg = l2reg
        self.eye = tf.eye(num_features)

    def __call__(self, x):
        x = tf.reshape(x, (-1, self.num_features, self.num_features))
        xxt = tf.tensordot(x, x, axes=(2, 2))
        xxt = tf.reshape(xxt, (-1, self.num_features, self.num_features))
        return tf.reduce_sum(self.l2reg * tf.square(xxt - self.eye))

    def get_config(self):
        return {"num_features": self.num_features, "l2reg": self.l2reg}


def test_pointnet_tnet_regularizer_dot_and_save_reload(tmp_path):
    w = tf.constant(np.arange(18, dtype="float32").reshape(2, 9) / 10)
    x = w.numpy().reshape(-1, 3, 3)
    xxt = np.tensordot(x, x, axes=(2, 2)).reshape(-1, 3, 3)
    np.testing.assert_allclose(float(OrthogonalRegularizer(3)(w)),
                               0.001 * np.sum((xxt - np.eye(3)) ** 2), rtol=1e-5)
    keras.utils.set_random_seed(1)
    inputs = keras.Input((5, 3))
    h = layers.GlobalMaxPooling1D()(layers.Conv1D(4, 1)(inputs))
    h = layers.Dense(9, kernel_initializer="zeros",
                     bias_initializer=keras.initializers.Constant(np.eye(3).flatten()),
                     activity_regularizer=OrthogonalRegularizer(3))(h)
    outputs = layers.Dot(axes=(2, 1))([inputs, layers.Reshape((3, 3))(h)])
    model = keras.Model(inputs, outputs)
    data = np.random.default_rng(0).random((4, 5, 3)).astype("float32")
    # the transform starts as the identity: the Dot returns the points unchanged
    np.testing.assert_allclose(model(data).numpy(), data, rtol=1e-6)
    model.compile("adam", "mse")
    model.fit(data, data[:, :, ::-1], epochs=2, verbose=0)
    assert len(model.losses) == 1
    path = str(tmp_path / "pointnet.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(data, verbose=0),
                               model.predict(data, verbose=0), rtol=1e-6)
    reg = loaded.layers[3].activity_regularizer
    assert isinstance(reg, OrthogonalRegularizer) and reg.get_config() == {
        "num_features": 3, "l2reg": 0.001}


def test_fnet_fourier_mixing_value_and_gradient():
    x = np.random.default_rng(0).normal(size=(2, 3, 4))

    def mix(v):
        return tf.math.real(tf.signal.fft2d(tf.cast(v, tf.complex128)))

    np.testing.assert_allclose(mix(tf.constant(x)).numpy(), np.fft.fft2(x).real,
                               rtol=1e-10, atol=1e-10)
    weights = np.random.default_rng(1).normal(size=x.shape)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = tf.reduce_sum(mix(xt) * weights)
    numeric = numeric_grad(lambda v: float(np.sum(np.fft.fft2(v).real * weights)), [x], 0)
    np.testing.assert_allclose(tape.gradient(y, xt).numpy(), numeric, rtol=1e-6,
                               atol=1e-8)
    np.testing.assert_allclose(tf.function(mix)(xt).numpy(), mix(xt).numpy())


def test_nerf_volume_rendering_ops():
    t_vals = tf.linspace(2.0, 6.0, 5)
    np.testing.assert_allclose(t_vals.numpy(), [2, 3, 4, 5, 6])
    rows = tf.linspace(tf.constant([0.0, 1.0]), tf.constant([1.0, 3.0]), 3)
    np.testing.assert_allclose(rows.numpy(), [[0, 1], [0.5, 2], [1, 3]])
    c = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    ct = tf.constant(c)
    with tf.GradientTape() as tape:
        tape.watch(ct)
        trans = tf.math.cumprod(ct, axis=-1, exclusive=True)
        y = tf.reduce_sum(trans * np.array([[1.0, 2.0, 3.0], [1.0, -1.0, 0.5]]))
    np.testing.assert_allclose(trans.numpy(), [[1, 1, 2], [1, 4, 20]])
    # TF 2.21's values
    np.testing.assert_allclose(tape.gradient(y, ct).numpy(),
                               [[8.0, 3.0, 0.0], [1.5, 2.0, 0.0]])
    far = tf.broadcast_to([1e10], shape=(2, 1))
    assert far.shape == (2, 1) and far.dtype == tf.float32
    enc = tf.concat([ct] + [fn(2.0 ** i * ct) for i in range(2) for fn in (tf.sin, tf.cos)],
                    axis=-1)
    np.testing.assert_allclose(enc.numpy()[:, 3:6], np.sin(c))


def test_depth_estimation_loss_terms_match_tf():
    a = (np.arange(2 * 12 * 12).reshape(2, 12, 12, 1) % 7 / 7).astype("float32")
    b = (np.arange(2 * 12 * 12).reshape(2, 12, 12, 1) % 5 / 5).astype("float32")
    ssim = tf.image.ssim(a, b, max_val=1.0, filter_size=7, k1=0.01 ** 2, k2=0.03 ** 2)
    np.testing.assert_allclose(ssim.numpy(), [-0.078964, 0.161486], atol=2e-6)  # TF
    x = tf.constant(a)
    with tf.GradientTape() as tape:
        tape.watch(x)
        dy, dx = tf.image.image_gradients(x)
        loss = (tf.reduce_mean(tf.abs(dy)) + tf.reduce_mean(tf.abs(dx)) + tf.reduce_mean(
            1 - tf.image.ssim(x, b, max_val=1.0, filter_size=7, k1=0.01 ** 2,
                              k2=0.03 ** 2)))
    np.testing.assert_allclose(dy.numpy()[:, :-1], np.diff(a, axis=1), atol=1e-6)
    assert (dy.numpy()[:, -1] == 0).all() and (dx.numpy()[:, :, -1] == 0).all()
    np.testing.assert_allclose(float(loss), 1.558937, atol=2e-6)   # TF 2.21
    np.testing.assert_allclose(float(tf.reduce_sum(tf.abs(tape.gradient(loss, x)))),
                               3.7312, atol=1e-4)
