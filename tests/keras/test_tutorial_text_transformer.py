"""The TF tutorial "Neural machine translation with a Transformer and Keras", run
unchanged at toy size: positional encoding from NumPy, Global/Causal/Cross attention
layers, a LearningRateSchedule subclass, masked loss and accuracy, and a ``tf.Module``
Translator whose ``tf.TensorArray`` decoding loop (growing sequence, ``break`` on a
tensor) is exported with ``tf.function`` and a SavedModel."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
VOCAB, START, END = 30, 1, 2


def positional_encoding(length, depth):
    depth = depth / 2
    positions = np.arange(length)[:, np.newaxis]
    depths = np.arange(depth)[np.newaxis, :] / depth
    angle_rads = positions * (1 / (10000 ** depths))
    pos_encoding = np.concatenate([np.sin(angle_rads), np.cos(angle_rads)], axis=-1)
    return tf.cast(pos_encoding, dtype=tf.float32)


class PositionalEmbedding(keras.layers.Layer):
    def __init__(self, vocab_size, d_model):
        super().__init__()
        self.d_model = d_model
        self.embedding = keras.layers.Embedding(vocab_size, d_model, mask_zero=True)
        self.pos_encoding = positional_encoding(length=64, depth=d_model)

    def compute_mask(self, *args, **kwargs):
        return self.embedding.compute_mask(*args, **kwargs)

    def call(self, x):
        length = tf.shape(x)[1]
        x = self.embedding(x)
        x *= tf.math.sqrt(tf.cast(self.d_model, tf.float32))
        return x + self.pos_encoding[tf.newaxis, :length, :]


class BaseAttention(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__()
        self.mha = keras.layers.MultiHeadAttention(**kwargs)
        self.layernorm = keras.layers.LayerNormalization()
        self.add = keras.layers.Add()


class CrossAttention(BaseAttention):
    def call(self, x, context):
        attn_output, attn_scores = self.mha(query=x, key=context, value=context,
                                            return_attention_scores=True)
        self.last_attn_scores = attn_scores
        return self.layernorm(self.add([x, attn_output]))


class GlobalSelfAttention(BaseAttention):
    def call(self, x):
        return self.layernorm(self.add([x, self.mha(query=x, value=x, key=x)]))


class CausalSelfAttention(BaseAttention):
    def call(self, x):
        attn = self.mha(query=x, value=x, key=x, use_causal_mask=True)
        return self.layernorm(self.add([x, attn]))


class FeedForward(keras.layers.Layer):
    def __init__(self, d_model, dff, dropout_rate=0.1):
        super().__init__()
        self.seq = keras.Sequential([keras.layers.Dense(dff, activation="relu"),
                                     keras.layers.Dense(d_model),
                                     keras.layers.Dropout(dropout_rate)])
        self.add = keras.layers.Add()
        self.layer_norm = keras.layers.LayerNormalization()

    def call(self, x):
        return self.layer_norm(self.add([x, self.seq(x)]))


class Transformer(keras.Model):
    def __init__(self, d_model=16, num_heads=2, dff=32):
        super().__init__()
        self.enc_embed = PositionalEmbedding(VOCAB, d_model)
        self.enc_attn = GlobalSelfAttention(num_heads=num_heads, key_dim=d_model)
        self.enc_ffn = FeedForward(d_model, dff)
        self.dec_embed = PositionalEmbedding(VOCAB, d_model)
        self.dec_self = CausalSelfAttention(num_heads=num_heads, key_dim=d_model)
        self.dec_cross = CrossAttention(num_heads=num_heads, key_dim=d_model)
        self.dec_ffn = FeedForward(d_model, dff)
        self.final_layer = keras.layers.Dense(VOCAB)

    def call(self, inputs):
        context, x = inputs
        context = self.enc_ffn(self.enc_attn(self.enc_embed(context)))
        x = self.dec_cross(x=self.dec_self(self.dec_embed(x)), context=context)
        self.last_attn_scores = self.dec_cross.last_attn_scores
        logits = self.final_layer(self.dec_ffn(x))
        try:
            del logits._keras_mask
        except AttributeError:
            pass
        return logits


class CustomSchedule(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(self, d_model, warmup_steps=4000):
        super().__init__()
        self.d_model = tf.cast(d_model, tf.float32)
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        step = tf.cast(step, dtype=tf.float32)
        arg1 = tf.math.rsqrt(step)
        arg2 = step * (self.warmup_steps ** -1.5)
        return tf.math.rsqrt(self.d_model) * tf.math.minimum(arg1, arg2)

    def get_config(self):
        return {"d_model": float(self.d_model.numpy()), "warmup_steps": self.warmup_steps}


def masked_loss(label, pred):
    mask = label != 0
    loss_object = keras.losses.SparseCategoricalCrossentropy(from_logits=True,
                                                             reduction="none")
    loss = loss_object(label, pred)
    mask = tf.cast(mask, dtype=loss.dtype)
    loss *= mask
    return tf.reduce_sum(loss) / tf.reduce_sum(mask)


def masked_accuracy(label, pred):
    pred = tf.argmax(pred, axis=2)
    label = tf.cast(label, pred.dtype)
    match = (label == pred) & (label != 0)
    return tf.reduce_sum(tf.cast(match, tf.float32)) / tf.reduce_sum(
        tf.cast(label != 0, tf.float32))


class Translator(tf.Module):
    def __init__(self, transformer):
        self.transformer = transformer

    def __call__(self, sentence, max_length=8):
        encoder_input = sentence
        start = tf.constant([START], dtype=tf.int64)
        end = tf.constant([END], dtype=tf.int64)
        output_array = tf.TensorArray(dtype=tf.int64, size=0, dynamic_size=True)
        output_array = output_array.write(0, start)
        for i in tf.range(max_length):
            output = tf.transpose(output_array.stack())
            predictions = self.transformer([encoder_input, output], training=False)
            predicted_id = tf.argmax(predictions[:, -1:, :], axis=-1)
            output_array = output_array.write(i + 1, predicted_id[0])
            if predicted_id == end:
                break
        return tf.transpose(output_array.stack())


class ExportTranslator(tf.Module):
    def __init__(self, translator):
        self.translator = translator

    @tf.function(input_signature=[tf.TensorSpec(shape=[1, 6], dtype=tf.int64)])
    def __call__(self, sentence):
        return self.translator(sentence, max_length=8)


def _copy_task(n=96, seed=0):
    """Target = [START] + source tokens + [END] (the model learns to copy)."""
    rng = np.random.RandomState(seed)
    src = np.zeros((n, 6), np.int64)
    tgt = np.zeros((n, 8), np.int64)
    for i in range(n):
        toks = rng.randint(3, VOCAB, rng.randint(2, 7))
        src[i, :len(toks)] = toks
        tgt[i, :len(toks) + 2] = [START, *toks, END]
    return src, tgt[:, :-1], tgt[:, 1:]


def test_positional_encoding_and_causal_prefix_invariance():
    pos = positional_encoding(length=128, depth=32)
    assert pos.shape == (128, 32) and pos.dtype == tf.float32
    np.testing.assert_allclose(pos.numpy()[5, :16], np.sin(5 / 10000 ** (np.arange(16) / 16)),
                               rtol=1e-5)
    tf.keras.utils.set_random_seed(0)
    embed = PositionalEmbedding(VOCAB, 8)
    csa = CausalSelfAttention(num_heads=2, key_dim=8)
    _, tgt_in, _ = _copy_task(4)
    emb = embed(tgt_in)
    assert emb._keras_mask.shape == tgt_in.shape
    # causal: outputs at the first 3 positions do not see later tokens
    np.testing.assert_allclose(csa(embed(tgt_in[:, :3])).numpy(), csa(emb).numpy()[:, :3],
                               atol=1e-5)


def test_custom_learning_rate_schedule():
    lr = CustomSchedule(16, warmup_steps=40)
    steps = np.arange(1, 100, 20, dtype=np.float32)
    want = 16 ** -0.5 * np.minimum(steps ** -0.5, steps * 40 ** -1.5)
    np.testing.assert_allclose(lr(tf.constant(steps)).numpy(), want, rtol=1e-5)
    assert lr.get_config() == {"d_model": 16.0, "warmup_steps": 40}
    restored = CustomSchedule(**lr.get_config())
    np.testing.assert_allclose(restored(tf.constant(steps)).numpy(), want, rtol=1e-5)


def test_transformer_learns_and_exported_translator_matches(tmp_path):
    tf.keras.utils.set_random_seed(1)
    src, tgt_in, tgt_out = _copy_task()
    model = Transformer()
    out = model((src[:4], tgt_in[:4]))
    assert out.shape == (4, 7, VOCAB)
    assert model.last_attn_scores.shape == (4, 2, 7, 6)
    lr = CustomSchedule(16, warmup_steps=40)
    model.compile(loss=masked_loss, metrics=[masked_accuracy],
                  optimizer=keras.optimizers.Adam(lr, beta_1=0.9, beta_2=0.98,
                                                  epsilon=1e-9))
    ds = tf.data.Dataset.from_tensor_slices(((src, tgt_in), tgt_out)).batch(16)
    history = model.fit(ds, epochs=25, verbose=0)
    assert history.history["masked_accuracy"][-1] > 0.5
    assert history.history["loss"][-1] < history.history["loss"][0] - 1.0

    translator = Translator(model)
    sentence = tf.constant(src[:1])
    eager = translator(sentence).numpy()
    assert eager.dtype == np.int64 and eager[0, 0] == START and eager.shape[1] >= 2
    exported = ExportTranslator(translator)
    np.testing.assert_array_equal(exported(sentence).numpy(), eager)
    tf.saved_model.save(exported, str(tmp_path / "translator"))
    reloaded = tf.saved_model.load(str(tmp_path / "translator"))
    np.testing.assert_array_equal(reloaded(sentence).numpy(), eager)


def test_shape_of_a_growing_loop_variable_is_read_when_the_graph_runs():
    kernel = tf.constant(np.arange(12, dtype=np.float32).reshape(3, 4))

    def decode(n):
        ta = tf.TensorArray(dtype=tf.float32, size=0, dynamic_size=True)
        ta = ta.write(0, tf.ones([2, 3]))
        for i in tf.range(n):
            x = tf.transpose(ta.stack(), [1, 0, 2])    # (2, i + 1, 3)
            y = tf.matmul(tf.reshape(x, [-1, 3]), kernel)
            y = tf.reshape(y, tf.concat([tf.shape(x)[:2], [2, 2]], 0))
            ta = ta.write(i + 1, tf.reduce_mean(y, axis=[1, 3])[:, :1] * tf.ones([2, 3]))
        return tf.transpose(ta.stack(), [1, 0, 2])

    eager = decode(tf.constant(3)).numpy()
    np.testing.assert_allclose(tf.function(decode)(tf.constant(3)).numpy(), eager)
    assert eager.shape == (2, 4, 3)


def _mha_reference(q, v, kernels, causal, v_mask):
    (wq, bq), (wk, bk), (wv, bv), (wo, bo) = kernels
    qh = np.einsum("btd,dhk->bhtk", q, wq) + bq[None, :, None]
    kh = np.einsum("btd,dhk->bhtk", v, wk) + bk[None, :, None]
    vh = np.einsum("btd,dhk->bhtk", v, wv) + bv[None, :, None]
    scores = np.einsum("bhtk,bhsk->bhts", qh / np.sqrt(wq.shape[-1]), kh)
    allowed = np.ones(scores.shape, bool)
    if causal:
        allowed &= np.tril(np.ones(scores.shape[-2:], bool))
    allowed &= v_mask[:, None, None, :]
    scores = np.where(allowed, scores, -1e9)
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    ctx = np.einsum("bhts,bhsk->bhtk", probs, vh)
    return np.einsum("bhtk,hko->bto", ctx, wo) + bo, probs


@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_attention_matches_numpy(causal):
    rng = np.random.RandomState(0)
    q = rng.randn(2, 4, 5).astype(np.float32)
    v = rng.randn(2, 4, 3).astype(np.float32)
    v_mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2,
                                          output_shape=6)
    mha(q, v)
    for w in mha.weights:
        w.assign(rng.randn(*w.shape).astype(np.float32) * 0.5)
    kernels = [(mha.weights[i].numpy(), mha.weights[i + 1].numpy()) for i in (0, 2, 4, 6)]
    out, scores = mha(q, v, attention_mask=v_mask[:, None, :], use_causal_mask=causal,
                      return_attention_scores=True)
    want_out, want_scores = _mha_reference(q, v, kernels, causal, v_mask)
    np.testing.assert_allclose(scores.numpy(), want_scores, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(out.numpy(), want_out, rtol=1e-4, atol=1e-5)
    compiled = tf.function(lambda a, b: mha(a, b, attention_mask=v_mask[:, None, :],
                                            use_causal_mask=causal))
    np.testing.assert_allclose(compiled(q, v).numpy(), want_out, rtol=1e-4, atol=1e-5)


def test_dense_and_attention_keep_empty_batches_and_sequences():
    dense = keras.layers.Dense(4)
    mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    for shape in [(0, 5, 3), (2, 0, 3)]:
        x = np.zeros(shape, np.float32)
        assert dense(x).shape == shape[:2] + (4,)
        assert mha(x, np.zeros((shape[0], 4, 3), np.float32)).shape == shape
