"""Lead's review fixes, round 18: the 'bce' / 'BCE' loss and metric strings."""

import numpy as np
import pytest

import dlframe as tf


@pytest.mark.parametrize("name", ["bce", "BCE"])
def test_bce_string_is_binary_crossentropy(name):
    y = np.array([[1.0], [0.0], [1.0]], np.float32)
    p = np.array([[0.9], [0.2], [0.6]], np.float32)
    ref = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert float(np.mean(tf.keras.losses.get(name)(y, p))) == pytest.approx(ref, rel=1e-5)
    metric = tf.keras.metrics.get(name)
    metric.update_state(y, p)
    assert float(metric.result()) == pytest.approx(ref, rel=1e-5)


def test_compile_with_bce_strings_trains_and_reports_the_key():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = tf.keras.Sequential([tf.keras.Input((3,)),
                                 tf.keras.layers.Dense(1, activation="sigmoid")])
    model.compile(tf.keras.optimizers.SGD(0.5), "bce", metrics=["bce"])
    before = model.evaluate(x, y, verbose=0, return_dict=True)
    model.fit(x, y, epochs=20, verbose=0)
    after = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(after) == {"loss", "bce"}
    assert after["loss"] < 0.5 * before["loss"]
    assert after["bce"] == pytest.approx(after["loss"], rel=1e-5)


def test_deepcopy_of_layers_and_models_gives_independent_weights():
    import copy

    x = np.ones((2, 3), np.float32)
    seq = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    dense = tf.keras.layers.Dense(2)
    dense(x)

    class Sub(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.d = tf.keras.layers.Dense(2)

        def call(self, inputs):
            return self.d(inputs)

    sub = Sub()
    sub(x)
    for original in (seq, dense, sub):
        twin = copy.deepcopy(original)
        np.testing.assert_allclose(twin(x), original(x))
        twin.trainable_weights[0].assign(tf.zeros_like(twin.trainable_weights[0]))
        assert not np.allclose(twin(x), original(x))


def test_nested_sequential_feature_extractor_in_keras_2_and_keras_3_spelling():
    keras = tf.keras
    base = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="h"),
                             keras.layers.Dense(2, name="o")])
    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Dense(1)(base(inp)))
    x = np.random.default_rng(1).normal(size=(2, 4)).astype("float32")
    # Keras 2: the nested model's own graph
    feat = keras.Model(base.input, base.get_layer("h").output)
    np.testing.assert_allclose(feat(x), base.layers[0](x), rtol=1e-6)
    # Keras 3: the nested model's call in the outer graph
    both = keras.Model(model.input, [model.layers[1].output, model.output])
    mid, last = both(x)
    np.testing.assert_allclose(mid, base(x), rtol=1e-6)
    np.testing.assert_allclose(last, model(x), rtol=1e-6)
    with pytest.raises(ValueError, match="Graph disconnected"):
        keras.Model(keras.Input((4,)), base.get_layer("h").output)
