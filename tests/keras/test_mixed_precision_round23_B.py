"""Mixed precision reads inside a layer's call, checked against TF 2.21 / Keras 3.15:
an autocast weight's host value (``numpy()``, ``get_value``, ``np.asarray``) is in
the compute dtype; ``autocast=False`` weights and plain ``tf.Variable`` attributes
are never cast, so mixing them with float16 tensors is refused as in TF."""

import numpy as np
import pytest

import dlframe as tf


@pytest.fixture
def mixed():
    tf.keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        tf.keras.mixed_precision.set_global_policy("float32")


def _outcome(fn):
    try:
        return fn()
    except Exception as err:   # recorded, asserted by the test
        return err


class _Probe(tf.keras.layers.Layer):
    """Records, inside call, the result of each read form."""

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(2, 2), initializer="ones")
        self.noac = self.add_weight(name="noac", shape=(2, 2), initializer="ones",
                                    autocast=False)
        self.plain = tf.Variable(np.full((2, 2), 2.0, np.float32))

    def call(self, x):
        self.seen = {
            "numpy": self.kernel.numpy(),
            "get_value": tf.keras.backend.get_value(self.kernel),
            "asarray": np.asarray(self.kernel),
            "asarray64": np.asarray(self.kernel, dtype=np.float64),
            "noac.numpy": self.noac.numpy(),
            "plain.numpy": self.plain.numpy(),
            "x@kernel": _outcome(lambda: tf.matmul(x, self.kernel)),
            "x*noac": _outcome(lambda: x * self.noac),
            "x@noac": _outcome(lambda: tf.matmul(x, self.noac)),
            "x*plain": _outcome(lambda: x * self.plain),
            "plain*x": _outcome(lambda: self.plain * x),
            "add(plain,x)": _outcome(lambda: tf.add(self.plain, x)),
            "x@plain": _outcome(lambda: tf.matmul(x, self.plain)),
            "plain+1": _outcome(lambda: self.plain + 1.0),
            "kernel+1": _outcome(lambda: self.kernel + 1.0),
        }
        return x


def _called(probe):
    probe(np.array([[1.0, 2.0], [3.0, 4.0]], np.float32))
    return probe.seen


def test_autocast_weight_host_value_is_the_compute_dtype(mixed):
    probe = _Probe()
    seen = _called(probe)
    for key in ("numpy", "get_value", "asarray"):
        assert seen[key].dtype == np.float16, key      # TF 2.21: float16
        np.testing.assert_array_equal(seen[key], np.ones((2, 2), np.float16))
    assert seen["asarray64"].dtype == np.float64
    assert seen["noac.numpy"].dtype == np.float32        # autocast=False: stored
    assert seen["plain.numpy"].dtype == np.float32
    # outside the call: the stored float32
    assert probe.kernel.numpy().dtype == np.float32
    assert np.asarray(probe.kernel).dtype == np.float32
    assert tf.keras.backend.get_value(probe.kernel).dtype == np.float32


def test_autocast_weight_still_casts_in_ops(mixed):
    seen = _called(_Probe())
    out = seen["x@kernel"]
    assert out.dtype == tf.float16
    np.testing.assert_array_equal(out.numpy(), [[3.0, 3.0], [7.0, 7.0]])
    assert seen["kernel+1"].dtype == tf.float16


def test_autocast_false_weight_is_not_cast(mixed):
    seen = _called(_Probe())
    # TF 2.21 refuses MatMul of half and float (Keras 2 also ``*``; Keras 3's
    # variable operator promotes to float32): never a silent float16
    assert isinstance(seen["x@noac"], tf.errors.InvalidArgumentError)
    assert "MatMul" in str(seen["x@noac"])
    prod = seen["x*noac"]
    assert isinstance(prod, tf.errors.InvalidArgumentError) or prod.dtype == tf.float32


def test_plain_variable_attribute_is_not_cast(mixed):
    seen = _called(_Probe())
    for key, op in (("x*plain", "Mul"), ("plain*x", "Mul"), ("add(plain,x)", "AddV2"),
                    ("x@plain", "MatMul")):
        err = seen[key]
        assert isinstance(err, tf.errors.InvalidArgumentError), key   # as TF 2.21
        assert op in str(err) and "float16" in str(err) and "float32" in str(err)
    assert seen["plain+1"].dtype == tf.float32
    np.testing.assert_array_equal(seen["plain+1"].numpy(), np.full((2, 2), 3.0))


def test_mixed_dense_still_trains_with_float32_gradients(mixed):
    layer = tf.keras.layers.Dense(1, kernel_initializer="zeros")
    x = np.array([[1.0], [2.0], [3.0]], np.float32)
    y = 2.0 * x
    opt = tf.keras.optimizers.SGD(0.05)
    losses = []
    for _ in range(30):
        with tf.GradientTape() as tape:
            out = layer(x)
            loss = tf.reduce_mean(tf.square(tf.cast(out, tf.float32) - y))
        grads = tape.gradient(loss, layer.trainable_variables)
        assert all(g.dtype == tf.float32 for g in grads)
        opt.apply_gradients(zip(grads, layer.trainable_variables))
        losses.append(float(loss))
    assert out.dtype == tf.float16
    assert losses[-1] < 0.05 * losses[0]
