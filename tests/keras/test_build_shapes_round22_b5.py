"""Keras 3's ``build(query_shape, value_shape)``: one shape per tensor argument of
``call`` (observed with TF 2.21 / Keras 3.15), with Keras 2's one-shape ``build``
kept."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras


class TwoInputProjection(keras.layers.Layer):
    def build(self, query_shape, value_shape):
        self.seen = (tuple(query_shape), tuple(value_shape))
        self.wq = self.add_weight(shape=(query_shape[-1], 4), initializer="ones")
        self.wv = self.add_weight(shape=(value_shape[-1], 4), initializer="ones")

    def call(self, query, value):
        pooled = tf.reduce_mean(tf.matmul(value, self.wv), axis=0, keepdims=True)
        return tf.matmul(query, self.wq) + pooled


def test_eager_call_builds_with_each_arguments_shape():
    layer = TwoInputProjection()
    q = np.arange(6, dtype="float32").reshape(2, 3)
    v = np.ones((5, 6), "float32")
    out = layer(tf.constant(q), tf.constant(v))
    assert layer.seen == ((2, 3), (5, 6))
    # ones kernels: each output is the query row sum (3, 12) plus the value row sum (6)
    expected = q.sum(1, keepdims=True) + 6.0 + np.zeros((2, 4))
    np.testing.assert_allclose(out.numpy(), expected)


def test_functional_call_builds_and_trains():
    q_in, v_in = keras.Input((3,)), keras.Input((6,))
    layer = TwoInputProjection()
    out = keras.layers.Dense(1)(layer(q_in, v_in))
    assert layer.seen == ((None, 3), (None, 6))
    model = keras.Model([q_in, v_in], out)
    model.compile(keras.optimizers.SGD(0.01), "mse")
    rng = np.random.RandomState(0)
    q, v = rng.rand(32, 3).astype("float32"), rng.rand(32, 6).astype("float32")
    y = q.sum(1, keepdims=True)
    before = model.evaluate([q, v], y, verbose=0)
    model.fit([q, v], y, epochs=5, batch_size=8, verbose=0)
    assert model.evaluate([q, v], y, verbose=0) < before


def test_keyword_argument_and_optional_shape():
    class Optional(keras.layers.Layer):
        def build(self, query_shape, value_shape=None):
            self.seen = (tuple(query_shape),
                         None if value_shape is None else tuple(value_shape))

        def call(self, query, value=None):
            return query

    with_value = Optional()
    with_value(tf.ones((2, 3)), value=tf.ones((5, 6)))
    assert with_value.seen == ((2, 3), (5, 6))
    alone = Optional()
    alone(tf.ones((2, 3)))
    assert alone.seen == ((2, 3), None)


def test_single_parameter_build_gets_first_input_only():
    class Keras2Style(keras.layers.Layer):
        def build(self, input_shape):
            self.seen = tuple(input_shape)

        def call(self, query, value=None):
            return query

    layer = Keras2Style()
    layer(tf.ones((2, 3)), tf.ones((5, 6)))
    assert layer.seen == (2, 3)


def test_first_parameter_named_input_shape_keeps_keras2_form():
    class Mixed(keras.layers.Layer):
        def build(self, input_shape, value_shape=None):
            self.seen = (tuple(input_shape), value_shape)

        def call(self, inputs, value):
            return inputs

    layer = Mixed()
    layer(tf.ones((2, 3)), tf.ones((4, 1)))
    assert layer.seen == ((2, 3), None)   # Keras 2 (Keras 3 refuses this build)


def test_unmatched_required_build_parameter_is_a_clear_error():
    class Bad(keras.layers.Layer):
        def build(self, query_shape, other_shape):
            pass

        def call(self, query, value):
            return query

    with pytest.raises(ValueError, match="other_shape"):
        Bad()(tf.ones((2, 3)), tf.ones((2, 3)))


def test_multi_head_attention_creates_weights_at_build():
    mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    out = mha(tf.ones((1, 3, 5)), tf.ones((1, 7, 6)))
    assert tuple(out.shape) == (1, 3, 5)
    shapes = sorted(tuple(w.shape) for w in mha.weights)
    # query/key/value kernels see 5, 6, 6 features; the output projects back to 5
    assert (5, 2, 4) in shapes and (6, 2, 4) in shapes and (2, 4, 5) in shapes
    assert len(mha.weights) == 8


def test_build_config_round_trip_keeps_each_arguments_shape(tmp_path):
    layer = TwoInputProjection()
    layer(tf.ones((2, 3)), tf.ones((2, 6)))
    config = layer.get_build_config()
    assert config == {"shapes_dict": {"query_shape": (2, 3), "value_shape": (2, 6)}}
    fresh = TwoInputProjection.from_config(layer.get_config())
    fresh.build_from_config(config)
    assert fresh.built and fresh.seen == ((2, 3), (2, 6))
    assert [tuple(w.shape) for w in fresh.weights] == [(3, 4), (6, 4)]


def test_functional_model_with_two_shape_build_reloads(tmp_path):
    @keras.utils.register_keras_serializable(package="round22_b5")
    class SavedProjection(TwoInputProjection):
        pass

    q_in, v_in = keras.Input((3,)), keras.Input((6,))
    model = keras.Model([q_in, v_in], SavedProjection()(q_in, v_in))
    for w in model.weights:
        w.assign(np.random.RandomState(1).rand(*w.shape).astype("float32"))
    path = str(tmp_path / "two.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    x = [np.ones((2, 3), "float32"), np.full((2, 6), 2.0, "float32")]
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-6)
