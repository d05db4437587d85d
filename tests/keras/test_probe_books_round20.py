"""Regressions from shrunk textbook programs (Géron's Hands-On ML ch. 10-17, Chollet's
Deep Learning with Python 2nd ed.), round 20."""

import os

import numpy as np

import dlframe as tf
from dlframe import keras


def my_glorot_initializer(shape, dtype=tf.float32):
    stddev = tf.sqrt(2.0 / (shape[0] + shape[1]))
    return tf.random.normal(shape, stddev=stddev, dtype=dtype)


def my_positive_weights(weights):
    return tf.where(weights < 0.0, tf.zeros_like(weights), weights)


def my_l1_regularizer(weights):
    return tf.reduce_sum(tf.abs(0.01 * weights))


def my_softplus(z):
    return tf.math.log(tf.exp(z) + 1.0)


class HuberLoss(keras.losses.Loss):
    def __init__(self, threshold=1.0, **kwargs):
        self.threshold = threshold
        super().__init__(**kwargs)

    def call(self, y_true, y_pred):
        error = y_true - y_pred
        small = tf.abs(error) < self.threshold
        return tf.where(small, tf.square(error) / 2,
                        self.threshold * tf.abs(error) - self.threshold ** 2 / 2)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


_CUSTOM = {"my_glorot_initializer": my_glorot_initializer,
           "my_positive_weights": my_positive_weights,
           "my_l1_regularizer": my_l1_regularizer, "my_softplus": my_softplus,
           "HuberLoss": HuberLoss}


def test_function_initializer_named_by_string_is_not_called():
    # A custom function found by name is the initializer itself (it needs `shape`).
    with keras.utils.custom_object_scope(_CUSTOM):
        assert keras.initializers.get("my_glorot_initializer") is my_glorot_initializer
        assert keras.constraints.get("my_positive_weights") is my_positive_weights
        assert keras.regularizers.get("my_l1_regularizer") is my_l1_regularizer
    # built-in names still give instances
    assert isinstance(keras.initializers.get("glorot_uniform"),
                      keras.initializers.GlorotUniform)
    assert isinstance(keras.regularizers.get("l2"), keras.regularizers.L2)


def _geron_model():
    return keras.models.Sequential([
        keras.layers.Dense(8, activation="selu", kernel_initializer="lecun_normal",
                           input_shape=[4]),
        keras.layers.Dense(1, activation=my_softplus,
                           kernel_regularizer=my_l1_regularizer,
                           kernel_constraint=my_positive_weights,
                           kernel_initializer=my_glorot_initializer)])


def test_geron_custom_functions_model_reloads(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((32, 4)).astype("float32")
    y = x.sum(1, keepdims=True)
    model = _geron_model()
    model.compile(loss=HuberLoss(2.0), optimizer="nadam")
    model.fit(x, y, epochs=2, verbose=0)
    assert float(np.min(model.layers[1].kernel.numpy())) >= 0.0   # the constraint ran
    for name in ("m.h5", "m.keras"):
        path = os.path.join(tmp_path, name)
        model.save(path)
        loaded = keras.models.load_model(path, custom_objects=_CUSTOM)
        np.testing.assert_allclose(loaded.predict(x[:4], verbose=0),
                                   model.predict(x[:4], verbose=0), atol=1e-5)
        assert loaded.loss.threshold == 2.0
        assert loaded.layers[1].kernel_initializer is my_glorot_initializer
        # the reloaded model keeps training (loss, regularizer, constraint all live)
        loaded.fit(x, y, epochs=1, verbose=0)
        assert float(np.min(loaded.layers[1].kernel.numpy())) >= 0.0


def _one_output_in_a_list():
    inp = keras.layers.Input(shape=[3])
    out = keras.layers.Dense(2)(inp)
    return keras.models.Model(inputs=[inp], outputs=[out]), inp


def test_functional_model_with_one_listed_output_returns_a_tensor():
    # Géron's VAE: images = variational_decoder(codings).numpy(), with
    # Model(inputs=[decoder_inputs], outputs=[outputs]) (TF 2.21 returns a tensor).
    model, _ = _one_output_in_a_list()
    x = np.arange(6, dtype="float32").reshape(2, 3)
    out = model(x)
    assert isinstance(out, tf.Tensor)
    kernel, bias = model.layers[-1].get_weights()
    np.testing.assert_allclose(out.numpy(), x @ kernel + bias, rtol=1e-6)
    assert isinstance(model.predict(x, verbose=0), np.ndarray)
    # compiled (tf.function) call agrees with eager
    np.testing.assert_allclose(tf.function(model)(x).numpy(), out.numpy(), rtol=1e-6)
    # the flat lists stay lists; the symbolic call keeps Keras 3's list
    assert isinstance(model.outputs, list) and isinstance(model.output, list)
    sym = model(keras.layers.Input(shape=[3]))
    assert isinstance(sym, list) and len(sym) == 1


def test_functional_model_with_one_listed_output_trains():
    model, _ = _one_output_in_a_list()
    rng = np.random.default_rng(1)
    x = rng.random((64, 3)).astype("float32")
    y = np.stack([x.sum(1), x[:, 0] - x[:, 1]], 1)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=["mse"])
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=20, verbose=0)
    assert model.evaluate(x, y, verbose=0) < first * 0.5


def test_lambda_without_output_shape_sees_the_inputs_dtype():
    # Géron ch. 13: a string Input looked up in a table inside a Lambda layer.
    vocab = ["<1H OCEAN", "INLAND", "NEAR OCEAN", "NEAR BAY", "ISLAND"]
    table = tf.lookup.StaticVocabularyTable(
        tf.lookup.KeyValueTensorInitializer(vocab, tf.range(len(vocab), dtype=tf.int64)),
        2)
    regular_inputs = keras.layers.Input(shape=[3])
    categories = keras.layers.Input(shape=[], dtype=tf.string)
    cat_indices = keras.layers.Lambda(lambda cats: table.lookup(cats))(categories)
    assert cat_indices.dtype == tf.int64 and cat_indices.shape.as_list() == [None]
    cat_embed = keras.layers.Embedding(input_dim=7, output_dim=2)(cat_indices)
    encoded = keras.layers.concatenate([regular_inputs, cat_embed])
    model = keras.models.Model(inputs=[regular_inputs, categories],
                               outputs=[keras.layers.Dense(1)(encoded)])
    assert model.output_shape == (None, 1)
    cats = np.array(["INLAND", "ISLAND", "DESERT", "NEAR BAY"])
    x = np.random.default_rng(0).random((4, 3)).astype("float32")
    embed = next(la for la in model.layers if isinstance(la, keras.layers.Embedding))
    kernel, bias = model.layers[-1].get_weights()
    ids = np.array([1, 4, 5, 3])   # "DESERT" falls in an OOV bucket (5 or 6)
    ids[2] = int(table.lookup(tf.constant(["DESERT"]))[0])
    expect = np.concatenate([x, embed.get_weights()[0][ids]], 1) @ kernel + bias
    np.testing.assert_allclose(model.predict([x, cats], verbose=0), expect, rtol=1e-5)
    model.compile(loss="mse", optimizer="sgd")
    model.fit([x, cats], np.ones((4, 1), "float32"), epochs=1, verbose=0)


def test_lambda_with_output_shape_keeps_it():
    inp = keras.layers.Input(shape=[4])
    out = keras.layers.Lambda(lambda t: t[:, :2] * 2.0, output_shape=(2,))(inp)
    assert out.shape.as_list() == [None, 2] and out.dtype == tf.float32


def test_depthwise_max_pool_matches_numpy_and_its_errors():
    # Géron ch. 14: tf.nn.max_pool(X, ksize=(1, 1, 1, 3), strides=(1, 1, 1, 3)).
    x = np.random.default_rng(2).random((2, 5, 4, 6)).astype("float32")
    expect = x.reshape(2, 5, 4, 2, 3).max(-1)
    for padding in ("VALID", "SAME"):
        out = tf.nn.max_pool(x, ksize=(1, 1, 1, 3), strides=(1, 1, 1, 3),
                             padding=padding)
        np.testing.assert_allclose(out.numpy(), expect)
    layer = keras.layers.Lambda(lambda t: tf.nn.max_pool(
        t, ksize=(1, 1, 1, 3), strides=(1, 1, 1, 3), padding="VALID"))
    inp = keras.layers.Input(shape=[None, None, 6])
    assert layer(inp).shape.as_list() == [None, None, None, 2]
    compiled = tf.function(lambda t: tf.nn.max_pool(t, (1, 1, 1, 3), (1, 1, 1, 3),
                                                    "VALID"))
    np.testing.assert_allclose(compiled(tf.constant(x)).numpy(), expect)
    np.testing.assert_allclose(compiled(tf.constant(x[:1])).numpy(), expect[:1])
    # the gradient reaches the max of each channel group
    v = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.nn.max_pool(v, (1, 1, 1, 3), (1, 1, 1, 3), "VALID"))
    grad = tape.gradient(y, v).numpy().reshape(2, 5, 4, 2, 3)
    np.testing.assert_array_equal(
        grad, (x.reshape(2, 5, 4, 2, 3) == expect[..., None]).astype("float32"))
    # TF's limits (UnimplementedError, as TF 2.21's MaxPool kernel)
    for ksize, strides in [((1, 1, 1, 3), (1, 1, 1, 2)), ((1, 1, 1, 4), (1, 1, 1, 4)),
                           ((1, 2, 2, 3), (1, 2, 2, 3))]:
        try:
            tf.nn.max_pool(x, ksize, strides, "VALID")
        except tf.errors.UnimplementedError as exc:
            assert "ksize" in str(exc)
        else:
            raise AssertionError(f"no error for ksize={ksize} strides={strides}")


def test_flat_metrics_list_fits_class_and_box_outputs():
    # Géron ch. 14 localization: one flat metrics list for a (N, 5) softmax output
    # with (N,) labels and a (N, 4) box output (Keras 2 applies each to each).
    inp = keras.layers.Input(shape=[3])
    cls = keras.layers.Dense(5, activation="softmax", name="cls")(inp)
    box = keras.layers.Dense(4, name="box")(inp)
    model = keras.models.Model(inputs=inp, outputs=[cls, box])
    model.compile(loss=["sparse_categorical_crossentropy", "mse"],
                  loss_weights=[0.8, 0.2], optimizer="sgd", metrics=["accuracy", "mse"])
    rng = np.random.default_rng(3)
    x = rng.random((8, 3)).astype("float32")
    labels, boxes = rng.integers(0, 5, 8), rng.random((8, 4)).astype("float32")
    history = model.fit(x, [labels, boxes], epochs=1, verbose=0)
    assert {"cls_accuracy", "cls_mse", "box_mse", "loss"} <= set(history.history)
    logs = model.evaluate(x, [labels, boxes], verbose=0, return_dict=True)
    probs, pred_boxes = model.predict(x, verbose=0)
    np.testing.assert_allclose(logs["cls_mse"],
                               np.mean((labels[:, None] - probs) ** 2), rtol=1e-5)
    np.testing.assert_allclose(logs["box_mse"], np.mean((boxes - pred_boxes) ** 2),
                               rtol=1e-5)
    np.testing.assert_allclose(logs["cls_accuracy"],
                               np.mean(probs.argmax(1) == labels), rtol=1e-6)


def test_one_output_flat_metric_keeps_the_shape_error():
    # TF 2.21: "mse" on (N,) labels against one (N, 3) output is a shape error.
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["mse"])
    x = np.random.default_rng(4).random((32, 4)).astype("float32")
    try:
        model.fit(x, np.zeros(32, "int64"), verbose=0)
    except ValueError as exc:
        assert "Incompatible shapes" in str(exc)
    else:
        raise AssertionError("no shape error")
