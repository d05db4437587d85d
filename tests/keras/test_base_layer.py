"""Layer base class: names, weights, tracking, losses, input specs, masks, errors."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.keras import layers


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()
    yield


def test_auto_names_and_clear_session():
    assert [layers.Dense(1).name for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    assert layers.BatchNormalization().name == "batch_normalization"
    assert layers.Conv2D(1, 1).name == "conv2d"
    keras.backend.clear_session()
    assert layers.Dense(1).name == "dense"
    assert layers.Dense(1, name="head").name == "head"


def test_weight_names_and_paths():
    d = layers.Dense(2)
    d(tf.ones([1, 3]))
    assert [w.name for w in d.weights] == ["dense/kernel:0", "dense/bias:0"]
    assert d.kernel.path == "dense/kernel"
    with tf.name_scope("outer"):
        e = layers.Dense(2)
        e(tf.ones([1, 3]))
    assert e.kernel.name == "outer/dense_1/kernel:0"


def test_unknown_kwargs_and_bad_arguments():
    with pytest.raises(TypeError, match="foo"):
        layers.Dense(3, foo=1)
    layers.Dense(3, input_shape=(4,), dynamic=False, autocast=True)
    with pytest.raises(ValueError, match="units=0"):
        layers.Dense(units=0)
    with pytest.raises(ValueError, match="Unknown activation function: 'relux'"):
        layers.Dense(3, activation="relux")
    with pytest.raises(ValueError, match="Unknown initializer: 'glorot_unifrom'"):
        layers.Dense(3, kernel_initializer="glorot_unifrom")
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(1.5)


def test_input_spec_errors_name_layer():
    d = layers.Dense(2)
    d(tf.ones([2, 3]))
    with pytest.raises(ValueError) as e:
        d(tf.ones([2, 4]))
    assert str(e.value) == (
        'Input 0 of layer "dense" is incompatible with the layer: expected axis -1 of '
        "input shape to have value 3, but received input with shape (2, 4)")
    with pytest.raises(ValueError, match='layer "conv2d".*expected min_ndim=4, found ndim=3'):
        layers.Conv2D(2, 3)(tf.ones([2, 5, 5]))
    with pytest.raises(ValueError, match='layer "dense_1".*min_ndim=2'):
        layers.Dense(2)(tf.ones([3]))


class Linear(layers.Layer):
    def __init__(self, units=2, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(name="w", shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True,
                                 regularizer=keras.regularizers.l2(0.1))
        self.b = self.add_weight(name="b", shape=(self.units,), initializer="zeros",
                                 trainable=False)

    def call(self, inputs):
        self.add_loss(tf.reduce_sum(inputs) * 0.0 + 1.0)
        return tf.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class Block(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.stack = [Linear(3), Linear(2)]
        self.heads = {"a": layers.Dense(1)}
        self.scale = tf.Variable(2.0, name="scale")

    def call(self, inputs, training=None):
        x = inputs
        for layer in self.stack:
            x = layer(x)
        self.seen_training = training
        return self.heads["a"](x) * self.scale


def test_lazy_build_tracking_and_losses():
    block = Block()
    assert not block.built and [w.name for w in block.weights] == ["scale:0"]
    y = block(tf.ones([4, 5]))
    assert y.shape == (4, 1) and block.built
    names = [w.name for w in block.trainable_weights]
    assert names == ["scale:0", "block/linear/w:0", "block/linear_1/w:0",
                     "block/dense/kernel:0", "block/dense/bias:0"]
    assert [w.name for w in block.non_trainable_weights] == ["block/linear/b:0",
                                                             "block/linear_1/b:0"]
    assert len(block.losses) == 4  # two add_loss + two l2 regularizers
    block(tf.ones([4, 5]))
    assert len(block.losses) == 4  # call losses are reset on each outer call
    expected = 0.1 * sum(float(np.sum(lay.w.numpy() ** 2)) for lay in block.stack) + 2
    assert abs(float(tf.add_n(block.losses)) - expected) < 1e-4
    block.trainable = False
    assert block.trainable_weights == [] and len(block.non_trainable_weights) == 7
    assert all(not lay.trainable for lay in block.stack)


def test_training_flag_propagates_to_nested_layers():
    class Outer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = Block()

        def call(self, x):
            return self.inner(x)
    outer = Outer()
    outer(tf.ones([1, 5]), training=True)
    assert outer.inner.seen_training is True
    outer(tf.ones([1, 5]))
    assert outer.inner.seen_training is None


def test_activity_regularizer_and_weights_roundtrip():
    d = layers.Dense(2, activity_regularizer="l2", kernel_initializer="ones")
    y = d(tf.ones([2, 3]))
    (loss,) = d.losses
    np.testing.assert_allclose(float(loss), 0.01 * float(np.sum(y.numpy() ** 2)) / 2,
                               rtol=1e-5)
    with pytest.raises(ValueError, match="weight shape"):
        d.set_weights([np.ones((4, 2)), np.ones(2)])
    with pytest.raises(ValueError, match="expecting 2 weights"):
        d.set_weights([np.ones((3, 2))])
    assert d.count_params() == 8


def test_gradient_through_custom_layer():
    lin = Linear(2)
    x = tf.constant(np.ones((3, 4), "float32"))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(lin(x))
    (g,) = tape.gradient(loss, lin.trainable_weights)
    np.testing.assert_allclose(g.numpy(), np.full((4, 2), 3.0))


def test_masks_propagate_and_compute_mask():
    emb = layers.Embedding(5, 2, mask_zero=True)
    out = layers.Dense(3)(emb(tf.constant([[1, 0]])))
    np.testing.assert_array_equal(out._keras_mask.numpy(), [[True, False]])
    assert emb.compute_mask(tf.constant([[0, 3]])).numpy().tolist() == [[False, True]]


def test_config_of_subclass_without_get_config():
    """Keras 3 records plain-valued __init__ arguments by itself; an argument that is
    not a plain value (a layer, an array) still needs get_config."""
    class NoConfig(layers.Layer):
        def __init__(self, pivot, scale=2.0, **kwargs):
            super().__init__(**kwargs)
            self.pivot, self.scale = pivot, scale

        def call(self, x):
            return (x - self.pivot) * self.scale
    layer = NoConfig(1, name="nc")
    config = layer.get_config()
    assert config["pivot"] == 1 and config["scale"] == 2.0 and config["name"] == "nc"
    clone = NoConfig.from_config(config)
    assert (clone.pivot, clone.scale, clone.name) == (1, 2.0, "nc")
    with pytest.raises(NotImplementedError, match="get_config"):
        NoConfig(layers.Dense(2)).get_config()

    class NoConfigModel(tf.keras.Model):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.dense = layers.Dense(units)

        def call(self, x):
            return self.dense(x)
    model = NoConfigModel(units=4)
    model(np.ones((1, 3), "float32"))
    assert NoConfigModel.from_config(model.get_config()).units == 4


def test_dtype_policy_and_autocast():
    d = layers.Dense(2, dtype="float64")
    y = d(np.ones((1, 3), "float32"))
    assert y.dtype == tf.float64 and d.kernel.dtype == tf.float64
    assert layers.Dense(2)(np.ones((1, 3))).dtype == tf.float32


def test_input_spec_object():
    spec = layers.InputSpec(ndim=3, axes={-1: 4})
    assert spec.ndim == 3 and spec.axes == {-1: 4}
    assert "ndim=3" in repr(spec)


def test_losses_of_a_layer_called_alone_are_cleared_by_its_new_parent():
    lone = Linear(2)
    lone(tf.ones([1, 5]))                     # a standalone call leaves its add_loss
    per_call = len(lone.losses)               # (+ the kernel regularizer)

    class Holder(layers.Layer):
        def __init__(self):
            super().__init__()
            self.parts = []

        def call(self, x):
            return self.parts[0](x) if self.parts else x
    holder = Holder()
    holder(tf.ones([1, 5]))                   # no losses anywhere in its tree yet
    holder.parts.append(lone)                 # attached by mutating a tracked list
    holder(tf.ones([1, 5]))
    assert len(holder.losses) == per_call     # this call's loss, not the stale one too
    assert len(lone.losses) == per_call
