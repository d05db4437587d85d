"""Round-13 probes of the keras.io guides "Working with RNNs", "Writing a training loop
from scratch", "Transfer learning & fine-tuning" and "Serialization and saving"."""

import os

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
layers = keras.layers


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def _np_lstm(x, kernel, recurrent, bias, go_backwards=False):
    """NumPy LSTM (Keras gate order i, f, c, o); returns the sequence and last h, c."""
    units = recurrent.shape[0]
    h = np.zeros((x.shape[0], units))
    c = np.zeros((x.shape[0], units))
    steps = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    seq = []
    for t in steps:
        z = x[:, t] @ kernel + h @ recurrent + bias
        i, f, g, o = (z[:, k * units:(k + 1) * units] for k in range(4))
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        seq.append(h)
    return np.stack(seq, 1), h, c


def _set_uniform(layer, seed=0):
    rng = np.random.RandomState(seed)
    layer.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype("float32")
                       for w in layer.get_weights()])


# -- a loss added while a functional graph is built is not a real loss -------------
class _ActivityLoss(layers.Layer):
    def call(self, inputs):
        self.add_loss(1e-2 * tf.reduce_sum(inputs))
        return inputs


def test_functional_construction_adds_no_losses():
    # TF 2.21: model.losses is [] right after the functional model is built; the
    # losses appear with the first real call (the guide's low-level loss loop).
    inputs = keras.Input(shape=(4,))
    x = _ActivityLoss()(inputs)
    x = layers.Dense(3, activity_regularizer=keras.regularizers.l2(1e-3))(x)
    model = keras.Model(inputs, x)
    assert model.losses == []
    data = np.ones((2, 4), "float32")
    out = model(data)
    assert len(model.losses) == 2
    np.testing.assert_allclose(float(model.losses[0]), 1e-2 * 8, rtol=1e-6)
    expect_act = 1e-3 * np.sum(np.asarray(out) ** 2) / 2
    np.testing.assert_allclose(float(model.losses[1]), expect_act, rtol=1e-5)


def test_train_step_adds_model_losses_eager_equals_function():
    inputs = keras.Input(shape=(4,))
    x = _ActivityLoss()(inputs)
    model = keras.Model(inputs, layers.Dense(1)(x))
    loss_fn = keras.losses.MeanSquaredError()
    xb, yb = np.ones((3, 4), "float32"), np.zeros((3, 1), "float32")

    def total(x_, y_):
        logits = model(x_, training=True)
        return loss_fn(y_, logits) + sum(model.losses), len(model.losses)

    eager, n_eager = total(xb, yb)
    compiled = tf.function(lambda a, b: total(a, b)[0])(xb, yb)
    assert n_eager == 1
    np.testing.assert_allclose(float(eager), float(compiled), rtol=1e-6)


# -- Working with RNNs -------------------------------------------------------------
class _NestedCell(layers.Layer):
    def __init__(self, unit_1, unit_2, unit_3, **kwargs):
        self.unit_1, self.unit_2, self.unit_3 = unit_1, unit_2, unit_3
        self.state_size = [tf.TensorShape([unit_1]), tf.TensorShape([unit_2, unit_3])]
        self.output_size = [tf.TensorShape([unit_1]), tf.TensorShape([unit_2, unit_3])]
        super().__init__(**kwargs)

    def build(self, input_shapes):
        i1, (i2, i3) = input_shapes[0][1], input_shapes[1][1:]
        self.kernel_1 = self.add_weight(shape=(i1, self.unit_1), name="kernel_1")
        self.kernel_2_3 = self.add_weight(
            shape=(i2, i3, self.unit_2, self.unit_3), name="kernel_2_3")

    def call(self, inputs, states):
        input_1, input_2 = tf.nest.flatten(inputs)
        s1, s2 = states
        out_1 = tf.matmul(input_1, self.kernel_1)
        out_2_3 = tf.einsum("bij,ijkl->bkl", input_2, self.kernel_2_3)
        return (out_1, out_2_3), (s1 + out_1, s2 + out_2_3)


def test_rnn_over_nested_cell_matches_numpy_and_trains():
    rnn = layers.RNN(_NestedCell(3, 2, 4))
    in_1, in_2 = keras.Input((None, 5)), keras.Input((None, 6, 7))
    outputs = rnn((in_1, in_2))
    assert [tuple(o.shape) for o in outputs] == [(None, 3), (None, 2, 4)]
    model = keras.Model([in_1, in_2], outputs)
    rng = np.random.RandomState(0)
    d1, d2 = rng.rand(4, 3, 5).astype("float32"), rng.rand(4, 3, 6, 7).astype("float32")
    o1, o2 = model([d1, d2])
    k1, k23 = (np.asarray(w) for w in rnn.cell.weights)
    # the outputs of the last step (not the accumulated states)
    np.testing.assert_allclose(np.asarray(o1), d1[:, -1] @ k1, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.asarray(o2), np.einsum("bij,ijkl->bkl", d2[:, -1], k23),
                               rtol=1e-4)
    model.compile(optimizer="adam", loss="mse")
    hist = model.fit([d1, d2], [np.zeros((4, 3)), np.zeros((4, 2, 4))], epochs=3,
                     verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]


@pytest.mark.parametrize("go_backwards", [False, True])
def test_lstm_equals_rnn_of_lstm_cell_and_numpy(go_backwards):
    x = np.random.RandomState(1).randn(2, 5, 3).astype("float32")
    lstm = layers.LSTM(4, return_sequences=True, return_state=True,
                       go_backwards=go_backwards)
    lstm(x)
    _set_uniform(lstm)
    seq, h, c = lstm(x)
    ref_seq, ref_h, ref_c = _np_lstm(x.astype(np.float64), *lstm.get_weights(),
                                     go_backwards=go_backwards)
    np.testing.assert_allclose(np.asarray(seq), ref_seq, atol=1e-5)
    np.testing.assert_allclose(np.asarray(h), ref_h, atol=1e-5)
    np.testing.assert_allclose(np.asarray(c), ref_c, atol=1e-5)
    for kwargs in ({"unroll": True}, {}):
        rnn = layers.RNN(layers.LSTMCell(4), return_sequences=True,
                         go_backwards=go_backwards, **kwargs)
        rnn(x)
        rnn.set_weights(lstm.get_weights())
        np.testing.assert_allclose(np.asarray(rnn(x)), ref_seq, atol=1e-5)


def test_cudnn_incompatible_options_same_inference_results():
    x = np.random.RandomState(2).randn(2, 4, 3).astype("float32")
    plain = layers.LSTM(3)
    plain(x)
    _set_uniform(plain)
    rdrop = layers.LSTM(3, recurrent_dropout=0.3)
    rdrop(x)
    rdrop.set_weights(plain.get_weights())
    np.testing.assert_allclose(np.asarray(plain(x)), np.asarray(rdrop(x)), atol=1e-6)
    relu = layers.LSTM(3, activation="relu")
    relu(x)
    relu.set_weights(plain.get_weights())
    kernel, rec, bias = plain.get_weights()
    h = c = np.zeros((2, 3))
    for t in range(4):
        z = x[:, t] @ kernel + h @ rec + bias
        c = _sigmoid(z[:, 3:6]) * c + _sigmoid(z[:, :3]) * np.maximum(z[:, 6:9], 0)
        h = _sigmoid(z[:, 9:]) * np.maximum(c, 0)
    np.testing.assert_allclose(np.asarray(relu(x)), h, atol=1e-5)


def test_stateful_lstm_reset_and_transfer_states():
    rng = np.random.RandomState(3)
    paragraphs = [rng.rand(2, 3, 4).astype("float32") for _ in range(3)]
    layer = layers.LSTM(5, stateful=True)
    for p in paragraphs:
        out = layer(p)
    assert [tuple(s.shape) for s in layer.states] == [(2, 5), (2, 5)]
    # the state carried over = running one long sequence
    whole = layers.LSTM(5)
    whole(paragraphs[0])
    whole.set_weights(layer.get_weights())
    np.testing.assert_allclose(np.asarray(out),
                               np.asarray(whole(np.concatenate(paragraphs, 1))),
                               atol=1e-5)
    fresh = layers.LSTM(5)
    fresh(paragraphs[2], initial_state=layer.states)
    layer.reset_states()
    assert all(np.all(np.asarray(s) == 0) for s in layer.states)
    layer.reset_state()
    np.testing.assert_allclose(np.asarray(layer(paragraphs[0])),
                               np.asarray(whole(paragraphs[0])), atol=1e-6)


def test_embedding_mask_zero_through_lstm_and_gru():
    ids = np.array([[1, 2, 3, 0, 0], [4, 5, 0, 0, 0]])
    emb = layers.Embedding(10, 4, mask_zero=True)
    for cls in (layers.LSTM, layers.GRU):
        layer = cls(3)
        full = np.asarray(layer(emb(ids)))
        trimmed = np.asarray(layer(emb(ids[1:, :2])))
        np.testing.assert_allclose(full[1], trimmed[0], atol=1e-6)


# -- Transfer learning & fine-tuning -----------------------------------------------
def test_frozen_base_called_with_training_false_keeps_bn_statistics():
    base = keras.Sequential([keras.Input((4,)), layers.Dense(4),
                             layers.BatchNormalization()])
    base.trainable = False
    inputs = keras.Input((4,))
    x = layers.Rescaling(scale=1 / 127.5, offset=-1)(inputs)
    x = base(x, training=False)
    outputs = layers.Dense(1)(layers.Dropout(0.2)(x))
    model = keras.Model(inputs, outputs)
    assert len(model.trainable_weights) == 2
    bn = base.layers[-1]
    data = np.random.RandomState(4).uniform(0, 255, (16, 4)).astype("float32")
    model.compile(optimizer="adam", loss="mse")
    model.fit(data, np.ones((16, 1)), verbose=0)
    assert np.all(np.asarray(bn.moving_mean) == 0)
    base.trainable = True
    assert len(model.trainable_weights) == 6
    # fine-tuning recompiled with a low learning rate: training=False still holds
    # (Keras 2 and the guide's stated behaviour)
    model.compile(optimizer=keras.optimizers.Adam(1e-5), loss="mse")
    before = base.layers[0].get_weights()[0].copy()
    model.fit(data, np.ones((16, 1)), verbose=0)
    assert np.all(np.asarray(bn.moving_mean) == 0)
    assert not np.allclose(before, base.layers[0].get_weights()[0])


def test_xception_preprocess_input_equals_rescaling():
    pixels = np.array([[0.0, 63.75, 127.5, 255.0]], "float32")
    pre = keras.applications.xception.preprocess_input(pixels.copy())
    resc = layers.Rescaling(scale=1 / 127.5, offset=-1)(pixels)
    np.testing.assert_allclose(np.asarray(pre), [[-1.0, -0.5, 0.0, 1.0]], atol=1e-6)
    np.testing.assert_allclose(np.asarray(resc), np.asarray(pre), atol=1e-6)


# -- Serialization and saving ------------------------------------------------------
class _Scale(layers.Layer):
    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, x):
        return x * self.w * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_custom_objects_and_scope_reload_model(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, _Scale(2.0)(layers.Dense(3)(inputs)))
    model.layers[-1].set_weights([np.array([1.0, 2.0, 3.0], "float32")])
    path = os.path.join(tmp_path, "m.keras")
    model.save(path)
    data = np.random.RandomState(5).rand(2, 3).astype("float32")
    with pytest.raises((TypeError, ValueError)):
        keras.models.load_model(path)
    again = keras.models.load_model(path, custom_objects={"_Scale": _Scale})
    np.testing.assert_allclose(np.asarray(again(data)), np.asarray(model(data)), rtol=1e-6)
    with keras.saving.custom_object_scope({"_Scale": _Scale}):
        scoped = keras.models.load_model(path)
        cfg = keras.saving.serialize_keras_object(model.layers[-1])
        layer = keras.saving.deserialize_keras_object(cfg)
    assert isinstance(layer, _Scale) and layer.factor == 2.0
    np.testing.assert_allclose(scoped.layers[-1].get_weights()[0], [1.0, 2.0, 3.0])


def test_load_weights_skip_mismatch(tmp_path):
    def make(n_out):
        inputs = keras.Input((4,))
        x = layers.Dense(5, name="hidden")(inputs)
        return keras.Model(inputs, layers.Dense(n_out, name="head")(x))

    src = make(3)
    path = os.path.join(tmp_path, "w.weights.h5")
    src.save_weights(path)
    dst = make(2)
    with pytest.raises(ValueError):
        dst.load_weights(path)
    with pytest.warns(UserWarning):
        dst.load_weights(path, skip_mismatch=True)
    np.testing.assert_array_equal(dst.get_layer("hidden").get_weights()[0],
                                  src.get_layer("hidden").get_weights()[0])
    assert dst.get_layer("head").get_weights()[0].shape == (5, 2)


@keras.saving.register_keras_serializable(package="Round13")
class _CustomBuild(layers.Layer):
    """The saving guide's layer whose build state is more than an input shape."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape, layer_init=None):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), name="w")
        self.layer_init = layer_init
        self.built = True

    def call(self, inputs):
        return tf.matmul(inputs, self.w)

    def get_config(self):
        return {**super().get_config(), "units": self.units}

    def get_build_config(self):
        return {"layer_init": "zeros", "input_shape": (5,)}

    def build_from_config(self, config):
        self.build(config["input_shape"], config["layer_init"])


def test_custom_build_config_round_trips_through_keras_archive(tmp_path):
    layer = _CustomBuild(3)
    layer.build((5,), "zeros")
    model = keras.Sequential([keras.Input((5,)), layer])
    config = keras.saving.serialize_keras_object(layer)
    assert config["build_config"] == {"layer_init": "zeros", "input_shape": (5,)}
    path = os.path.join(tmp_path, "b.keras")
    model.save(path)
    again = keras.models.load_model(path)
    assert again.layers[0].layer_init == "zeros"   # TF 2.21 gives 'zeros' too
    np.testing.assert_array_equal(again.layers[0].get_weights()[0], layer.get_weights()[0])
    rebuilt = keras.layers.deserialize(keras.layers.serialize(layer))
    assert rebuilt.built and rebuilt.layer_init == "zeros"


def test_model_from_config_needs_class_name_and_config():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.Dense(2)(inputs))
    with pytest.raises(ValueError, match="class_name"):
        keras.models.model_from_config(model.get_config())
    wrapped = {"class_name": "Functional", "config": model.get_config()}
    assert len(keras.models.model_from_config(wrapped).weights) == 2


class _GuideCustomModel(keras.Model):
    """The Keras 2 saving guide's subclassed model: ``**kw`` only, no get_config."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.hidden = layers.Dense(2)

    def call(self, x):
        return self.hidden(x) * 2.0


def test_auto_config_flattens_var_keyword_of_any_name():
    model = _GuideCustomModel(name="guide")
    config = model.get_config()
    assert "kw" not in config and config["name"] == "guide"
    assert _GuideCustomModel.from_config(config).name == "guide"


@pytest.mark.parametrize("filename", ["my_model", "m.h5", "m.keras"])
def test_subclassed_model_reloads_built_with_weights(tmp_path, filename):
    model = _GuideCustomModel()
    model.compile(optimizer="adam", loss="mse")
    data = np.random.RandomState(6).rand(4, 3).astype("float32")
    model.fit(data, np.zeros((4, 2)), verbose=0)
    path = os.path.join(tmp_path, filename)
    model.save(path)
    again = keras.models.load_model(
        path, custom_objects={"_GuideCustomModel": _GuideCustomModel})
    assert again.built
    np.testing.assert_allclose(np.asarray(again(data)), np.asarray(model(data)), rtol=1e-6)
    again.fit(data, np.zeros((4, 2)), verbose=0)


def test_tf_checkpoint_weights_restore_into_unbuilt_subclassed_model(tmp_path):
    model = _GuideCustomModel()
    data = np.random.RandomState(7).rand(2, 3).astype("float32")
    expect = np.asarray(model(data))
    prefix = os.path.join(tmp_path, "ckpt")
    model.save_weights(prefix)
    fresh = _GuideCustomModel()
    assert not fresh.built
    fresh.load_weights(prefix).expect_partial()   # TF: deferred restoration
    np.testing.assert_allclose(np.asarray(fresh(data)), expect, rtol=1e-6)


def test_sequential_from_input_has_build_config():
    # TF 2.21: {'input_shape': (None, 5)} for both ways of building
    model = keras.Sequential([keras.Input((5,)), layers.Dense(2)])
    assert model.get_build_config() == {"input_shape": (None, 5)}
    deferred = keras.Sequential([layers.Dense(2)])
    deferred.build((None, 5))
    assert deferred.get_build_config() == {"input_shape": (None, 5)}
