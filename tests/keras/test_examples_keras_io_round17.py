"""keras.io text / timeseries / structured-data examples (round 17) on tiny synthetic
data: BERT MLM's per-token loss with ``reduction=None``, structured-data
classification's adapted lookups surviving save/load."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
layers = keras.layers


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()
    yield


def test_loss_reduction_none_is_keras3_no_reduction():
    # keras.io "End-to-end Masked Language Modeling with BERT" (Keras 3):
    # SparseCategoricalCrossentropy(reduction=None) returns the per-token losses,
    # which the custom train_step feeds to Mean.update_state with per-token weights.
    loss_fn = keras.losses.SparseCategoricalCrossentropy(reduction=None)
    assert loss_fn.reduction is None
    assert loss_fn.get_config()["reduction"] is None
    labels = np.array([[1, 2], [0, 1]])
    probs = np.array([[[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]],
                      [[0.6, 0.3, 0.1], [0.25, 0.25, 0.5]]], "float32")
    ref = -np.log(np.take_along_axis(probs, labels[..., None], -1)[..., 0])
    np.testing.assert_allclose(loss_fn(labels, probs).numpy(), ref, rtol=1e-6)
    weights = np.array([[1.0, 0.0], [0.0, 1.0]])
    weighted = loss_fn(labels, probs, sample_weight=weights)
    np.testing.assert_allclose(weighted.numpy(), ref * weights, rtol=1e-6)
    tracker = keras.metrics.Mean(name="loss")
    tracker.update_state(weighted, sample_weight=weights)
    expect = (ref * weights * weights).sum() / weights.sum()
    np.testing.assert_allclose(float(tracker.result()), expect, rtol=1e-6)
    again = keras.losses.SparseCategoricalCrossentropy.from_config(
        loss_fn.get_config())
    assert tuple(again(labels, probs).shape) == (2, 2)
    # Keras 2's "auto" still means the default reduction
    auto = keras.losses.SparseCategoricalCrossentropy(reduction="auto")
    np.testing.assert_allclose(float(auto(labels, probs)), ref.mean(), rtol=1e-6)


class _MaskedLanguageModel(keras.Model):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_fn = keras.losses.SparseCategoricalCrossentropy(reduction=None)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def train_step(self, inputs):
        features, labels, sample_weight = inputs
        with tf.GradientTape() as tape:
            predictions = self(features, training=True)
            loss = self.loss_fn(labels, predictions, sample_weight=sample_weight)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.loss_tracker.update_state(loss, sample_weight=sample_weight)
        return {"loss": self.loss_tracker.result()}

    @property
    def metrics(self):
        return [self.loss_tracker]


def test_bert_mlm_train_step_with_per_token_weights_learns():
    vocab, max_len = 12, 6
    rng = np.random.default_rng(0)
    tokens = rng.integers(3, vocab, (32, max_len))
    masked = tokens.copy()
    hide = rng.random(tokens.shape) < 0.3
    masked[hide] = 2
    weights = hide.astype("float32")
    inputs = layers.Input((max_len,), dtype="int64")
    x = layers.Embedding(vocab, 8)(inputs)
    x = layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x, x)
    outputs = layers.Dense(vocab, activation="softmax")(x)
    model = _MaskedLanguageModel(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    ds = tf.data.Dataset.from_tensor_slices((masked, tokens, weights)).batch(8)
    history = model.fit(ds, epochs=6, verbose=0)
    losses = history.history["loss"]
    assert list(history.history) == ["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]


def _adapted_lookup_model():
    thal = keras.Input(shape=(1,), name="thal", dtype="string")
    cp = keras.Input(shape=(1,), name="cp", dtype="int64")
    thal_lookup = layers.StringLookup(output_mode="binary")
    thal_lookup.adapt(np.array([["fixed"], ["normal"], ["reversible"], ["normal"]]))
    cp_lookup = layers.IntegerLookup(output_mode="one_hot")
    cp_lookup.adapt(np.array([[0], [1], [2], [3], [1]], "int64"))
    features = layers.concatenate([thal_lookup(thal), cp_lookup(cp)])
    output = layers.Dense(1, activation="sigmoid")(layers.Dense(4)(features))
    return keras.Model([thal, cp], output)


def test_adapted_lookups_reload_with_their_output_width(tmp_path):
    # keras.io "Structured data classification from scratch": the Dense after the
    # adapted one-hot lookups is rebuilt from the config before the vocabulary
    # comes back from the archive's assets; it must still get the saved width.
    model = _adapted_lookup_model()
    assert tuple(model.layers[-2].kernel.shape) == (4 + 5, 4)
    sample = {"thal": tf.constant([["fixed"], ["other"]]),
              "cp": tf.constant([[3], [9]], dtype="int64")}
    before = model.predict(sample, verbose=0)
    path = str(tmp_path / "structured.keras")
    model.save(path)
    again = keras.models.load_model(path)
    assert tuple(again.layers[-2].kernel.shape) == (9, 4)
    lookup = next(la for la in again.layers if isinstance(la, layers.StringLookup))
    assert lookup.get_vocabulary() == ["[UNK]", "normal", "reversible", "fixed"]
    np.testing.assert_allclose(again.predict(sample, verbose=0), before, atol=1e-6)
    config = lookup.get_config()
    assert config["vocabulary"] is None and config["vocabulary_size"] == 4
    # an unadapted layer made from such a config reports the saved width
    fresh = layers.StringLookup.from_config(config)
    assert tuple(fresh.compute_output_shape((None, 1))) == (None, 4)


class _CrossAttention(layers.Layer):
    def __init__(self, units):
        super().__init__()
        self.mha = layers.MultiHeadAttention(key_dim=units, num_heads=1)

    def call(self, x, context):
        out, scores = self.mha(query=x, value=context, return_attention_scores=True)
        # the tutorial keeps the scores of the last call on the layer
        self.last_attention_weights = tf.reduce_mean(scores, axis=1)
        return x + out


class _Export(tf.Module):
    def __init__(self, attention):
        super().__init__()
        self.attention = attention

    @tf.function(input_signature=[tf.TensorSpec(dtype=tf.float32, shape=[None, 3, 4])])
    def translate(self, x):
        return self.attention(x, x)


def test_saved_model_save_skips_tensors_a_trace_left_on_a_layer(tmp_path):
    # tensorflow.org "Neural machine translation with attention": the exported
    # Translator's CrossAttention holds ``last_attention_weights`` from the traced
    # translate(); TF's SavedModel does not track such plain tensors.
    export = _Export(_CrossAttention(4))
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    expect = export.translate(tf.constant(x)).numpy()
    path = str(tmp_path / "translator")
    tf.saved_model.save(export, path, signatures={"serving_default": export.translate})
    reloaded = tf.saved_model.load(path)
    np.testing.assert_allclose(reloaded.translate(tf.constant(x)).numpy(), expect,
                               rtol=1e-6)
    served = reloaded.signatures["serving_default"](tf.constant(x))
    assert list(served) == ["output_0"]
    np.testing.assert_allclose(served["output_0"].numpy(), expect, rtol=1e-6)


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count", "tf_idf"])
def test_lookup_mask_token_is_dropped_outside_int_mode(mode):
    # Keras 2 and 3: "When output_mode is 'int', the token is included in vocabulary
    # and mapped to index 0. In other output modes, the token will not appear in the
    # vocabulary and instances of the mask token in the input will be dropped."
    # (the NMT tutorial builds its StringLookup with mask_token='').
    kwargs = {"idf_weights": [0.5, 0.25]} if mode == "tf_idf" else {}
    lookup = layers.StringLookup(mask_token="", vocabulary=["a", "b"],
                                 output_mode=mode, **kwargs)
    assert lookup.get_vocabulary() == ["[UNK]", "a", "b"]
    assert lookup.vocabulary_size() == 3
    shape = () if mode == "one_hot" else (3,)
    symbolic = lookup(keras.Input(shape=shape, dtype="string"))
    assert tuple(symbolic.shape) == (None, 3)
    if mode == "one_hot":
        got = lookup(tf.constant(["a", "", "z"])).numpy()
        np.testing.assert_array_equal(got, [[0, 1, 0], [0, 0, 0], [1, 0, 0]])
        return
    got = lookup(tf.constant([["a", "", "z"], ["", "", "b"]])).numpy()
    # expected values from TF 2.21 (Keras 3)
    expect = {"multi_hot": [[1, 1, 0], [0, 0, 1]],
              "count": [[1, 1, 0], [0, 0, 1]],
              "tf_idf": [[0.375, 0.5, 0.0], [0.0, 0.0, 0.25]]}[mode]
    np.testing.assert_allclose(got, expect, rtol=1e-6)


def test_integer_lookup_adapt_skips_the_mask_outside_int_mode():
    lookup = layers.IntegerLookup(mask_token=0, output_mode="count")
    lookup.adapt(np.array([[5, 6, 0], [6, 7, 0]]))
    assert [int(v) for v in lookup.get_vocabulary()] == [-1, 6, 7, 5]
    got = lookup(tf.constant([[5, 0, 9, 6]])).numpy()
    np.testing.assert_array_equal(got, [[1, 1, 0, 1]])
    # compiled == eager, ragged rows too
    compiled = tf.function(lambda x: lookup(x))
    np.testing.assert_array_equal(compiled(tf.constant([[5, 0, 9, 6]])).numpy(), got)
    ragged = lookup(tf.ragged.constant([[5, 0], [0, 0, 7, 7]])).numpy()
    np.testing.assert_array_equal(ragged, [[0, 0, 0, 1], [0, 0, 2, 0]])
    # in 'int' mode the mask keeps index 0
    as_int = layers.IntegerLookup(mask_token=0)
    as_int.adapt(np.array([[5, 6, 0], [6, 7, 0]]))
    assert [int(v) for v in as_int.get_vocabulary()] == [0, -1, 6, 7, 5]
    np.testing.assert_array_equal(as_int(tf.constant([5, 0, 9])).numpy(), [4, 0, 1])


class _NonPaddingTokenLoss(keras.losses.Loss):
    """keras.io "Named entity recognition" (Keras 3): per-token losses from
    ``reduction=None``, averaged over the non-padding tokens."""

    def call(self, y_true, y_pred):
        loss_fn = keras.losses.SparseCategoricalCrossentropy(reduction=None)
        loss = loss_fn(y_true, y_pred)
        mask = keras.ops.cast(y_true > 0, "float32")
        return keras.ops.sum(loss * mask) / keras.ops.sum(mask)


def test_ner_masked_token_loss_ignores_padding():
    y_true = np.array([[2, 1, 0, 0], [3, 0, 0, 0]])
    probs = np.random.default_rng(0).dirichlet(np.ones(4), size=(2, 4)).astype("float32")
    per_token = -np.log(np.take_along_axis(probs, y_true[..., None], -1)[..., 0])
    mask = y_true > 0
    expect = per_token[mask].mean()
    loss = _NonPaddingTokenLoss(name="custom_ner_loss")
    np.testing.assert_allclose(float(loss(y_true, probs)), expect, rtol=1e-5)
    inputs = keras.Input((4,), dtype="int32")
    x = layers.Embedding(6, 4)(inputs)
    model = keras.Model(inputs, layers.Dense(4, activation="softmax")(x))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=loss)
    ids = np.random.default_rng(1).integers(1, 6, (16, 4))
    tags = np.where(np.arange(4) < 2, ids % 4, 0)
    history = model.fit(ids, tags, epochs=8, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    pred = model.predict(ids, verbose=0)
    ref = -np.log(np.take_along_axis(pred, tags[..., None], -1)[..., 0])[tags > 0].mean()
    np.testing.assert_allclose(model.evaluate(ids, tags, batch_size=16, verbose=0), ref,
                               rtol=1e-4)


@pytest.mark.parametrize("standardize", ["lower", "lower_and_strip_punctuation"])
def test_text_vectorization_lowercases_ascii_only(standardize):
    # Keras (2 and 3) standardizes with tf.strings.lower(inputs), which has no
    # encoding and so leaves non-ASCII letters alone (vocabulary from TF 2.21).
    layer = layers.TextVectorization(standardize=standardize)
    layer.adapt(["ÀB École b"])
    assert layer.get_vocabulary() == ["", "[UNK]", "École", "Àb", "b"]
    # 'ÉCOLE' lowers to 'École'; 'àb' is not 'Àb'
    np.testing.assert_array_equal(layer(["àb ÉCOLE École"]).numpy(), [[1, 2, 2]])
