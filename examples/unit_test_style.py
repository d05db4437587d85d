"""A TF2-style unit test module: ``tf.test.TestCase`` classes run by ``tf.test.main()``.

Run it directly (``python examples/unit_test_style.py``); the exit status is
unittest's (0 when every test passes). It uses the same code a TensorFlow project's
tests would, with ``import dlframe as tf`` in place of ``import tensorflow as tf``.
"""

import os

import numpy as np

import dlframe as tf


class ScaledDense(tf.keras.layers.Layer):
    """Dense layer whose output is multiplied by a constant ``scale``."""

    def __init__(self, units, scale=2.0, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.scale = scale

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units),
                                      initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self.units,),
                                    initializer="zeros")

    def call(self, inputs):
        return self.scale * (tf.matmul(inputs, self.kernel) + self.bias)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, scale=self.scale)
        return config


def softplus(x):
    return tf.math.log1p(tf.exp(x))


class MathOpsTest(tf.test.TestCase):

    def test_square_matches_numpy(self):
        x = np.array([[1.0, -2.0], [3.5, 0.0]], np.float32)
        self.assertAllClose(tf.square(x), x ** 2)
        self.assertDTypeEqual(tf.square(x), np.float32)
        self.assertShapeEqual(x, tf.square(x))

    def test_reductions_and_nested_results(self):
        x = tf.constant([[1, 2, 3], [4, 5, 6]])
        result = {"sum": tf.reduce_sum(x, axis=0), "max": tf.reduce_max(x)}
        self.assertAllClose(result, {"sum": [5, 7, 9], "max": 6})   # nested: a dict
        self.assertAllEqual(result["sum"], [5, 7, 9])
        self.assertAllInRange(x, 1, 6)
        self.assertAllInSet(x % 2, [0, 1])
        self.assertAllGreater(x, 0)

    def test_strings(self):
        words = tf.strings.split(tf.constant("dlframe runs tf code"))
        self.assertAllEqual(words, [b"dlframe", b"runs", b"tf", b"code"])

    def test_shape_errors_are_op_errors(self):
        with self.assertRaisesOpError("Incompatible shapes"):
            tf.constant([1.0, 2.0]) + tf.constant([1.0, 2.0, 3.0])

    def test_softplus_gradient(self):
        x = np.linspace(-2.0, 2.0, 5)
        theoretical, numerical = tf.test.compute_gradient(softplus, [x])
        self.assertAllClose(theoretical, numerical, rtol=1e-5, atol=1e-5)
        sigmoid = 1.0 / (1.0 + np.exp(-x))
        self.assertAllClose(theoretical[0], np.diag(sigmoid))

    def test_random_ops_are_reproducible_per_test(self):
        # setUp seeds every test alike, so the two draws below differ but a rerun
        # of this test gives the same pair.
        first = self.evaluate(tf.random.uniform([3]))
        second = self.evaluate(tf.random.uniform([3]))
        self.assertNotAllClose(first, second)
        self.assertAllInRange(first, 0.0, 1.0, open_upper_bound=True)


class LayerTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.layer = ScaledDense(3, scale=0.5)

    def test_output_and_config(self):
        x = tf.ones((2, 4))
        y = self.layer(x)
        self.assertEqual(y.shape, (2, 3))
        expected = 0.5 * (np.ones((2, 4)) @ self.evaluate(self.layer.kernel))
        self.assertAllClose(y, expected)
        clone = ScaledDense.from_config(self.layer.get_config())
        self.assertEqual(clone.scale, 0.5)

    def test_variables_evaluate_to_numpy(self):
        self.layer(tf.ones((1, 4)))
        kernel, bias = self.evaluate(self.layer.weights)
        self.assertEqual(kernel.shape, (4, 3))
        self.assertAllEqual(bias, np.zeros(3))

    def test_training_reduces_the_loss(self):
        rng = np.random.default_rng(0)
        x = rng.normal(size=(64, 4)).astype(np.float32)
        y = x @ np.array([[1.0], [-2.0], [0.5], [3.0]], np.float32)
        model = tf.keras.Sequential([tf.keras.Input((4,)), ScaledDense(1, scale=1.0)])
        model.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss="mse")
        history = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
        self.assertLess(history.history["loss"][-1], 0.1 * history.history["loss"][0])

    def test_save_and_reload(self):
        x = tf.ones((2, 4))
        model = tf.keras.Sequential([tf.keras.Input((4,)), ScaledDense(2)])
        path = os.path.join(self.get_temp_dir(), "model.keras")
        model.save(path)
        restored = tf.keras.models.load_model(
            path, custom_objects={"ScaledDense": ScaledDense})
        self.assertAllClose(restored(x), model(x))

    def test_session_style_code_still_runs(self):
        with self.cached_session() as sess:
            self.assertAllClose(sess.run(tf.constant(2.0) * 3.0), 6.0)


if __name__ == "__main__":
    tf.test.main()
