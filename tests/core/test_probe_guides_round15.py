"""Round-15 probes of the TensorFlow core guides ("Advanced automatic
differentiation", "Random number generation"): differences from TF 2.21, fixed."""

import numpy as np
import pytest

import dlframe as tf


def test_saved_module_keeps_a_custom_gradient_defined_in_a_function(tmp_path):
    # the guide's clip_gradients, defined locally so the saved tf.function pickles it
    # (and the custom_gradient wrapper around it) by value
    @tf.custom_gradient
    def clip_gradients(y):
        def backward(dy):
            return tf.clip_by_norm(dy, 0.5)
        return y, backward

    class MyModule(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec(None)])
        def call_custom_grad(self, x):
            return clip_gradients(x)

    tf.saved_model.save(
        MyModule(), str(tmp_path / "m"),
        options=tf.saved_model.SaveOptions(experimental_custom_gradients=True))
    loaded = tf.saved_model.load(str(tmp_path / "m"))
    v = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        output = loaded.call_custom_grad(v * v)
    # d(v*v)/dv = 2v = 4, times the clipped upstream 0.5 (TF 2.21 prints 2.0)
    assert float(tape.gradient(output, v)) == pytest.approx(2.0)
    assert float(output) == pytest.approx(4.0)


def test_create_rng_state_is_an_int64_tensor():
    state = tf.random.create_rng_state(1, "philox")
    assert isinstance(state, tf.Tensor)
    assert state.dtype == tf.int64
    assert state.numpy().tolist() == [1, 0, 0]
    # a Generator built from it draws what from_seed draws
    g = tf.random.Generator.from_state(state, alg="philox")
    np.testing.assert_array_equal(g.normal([3]).numpy(),
                                  tf.random.Generator.from_seed(1).normal([3]).numpy())


@pytest.mark.parametrize("bad", ["bogus", 7])
def test_generator_rejects_an_unknown_algorithm(bad):
    with pytest.raises(ValueError, match="alg"):
        tf.random.Generator.from_seed(1, alg=bad)
    with pytest.raises(ValueError, match="alg"):
        tf.random.create_rng_state(1, bad)


def test_generator_algorithm_names_still_accepted():
    for alg in ("philox", "PHILOX", tf.random.Algorithm.PHILOX, 1, None):
        assert tf.random.Generator.from_seed(3, alg=alg).algorithm == 1
    for alg in ("auto_select", "AUTO_SELECT", tf.random.Algorithm.AUTO_SELECT, 3):
        assert tf.random.Generator.from_seed(3, alg=alg).algorithm == 3   # as TF
