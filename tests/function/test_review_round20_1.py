"""Review of round 20's tf.function work: ``set_shape`` in a cond branch never resizes
the function's own (real) tensors it captures, custom_gradient outputs stay
separate tensors on the eager fast path, and a dataset loop's stand-in for string
elements is readable by string ops. Expected values probed against TF 2.21."""

import numpy as np
import pytest

import dlframe as tf


@pytest.mark.parametrize("taken", [True, False])
def test_set_shape_in_branch_leaves_captured_real_values(taken):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32),
                                  tf.TensorSpec([], tf.bool)])
    def f(x, p):
        y = tf.reshape(x, [-1, 4])

        def wrong_size():
            y.set_shape([3, 4])   # not the run's size: TF's values stay real
            return tf.reduce_sum(y, 0)
        s = tf.cond(p, wrong_size, lambda: tf.reduce_sum(y, 0) * 2.0)
        return s, tf.reduce_sum(y, 0)

    # the first call is the trace's own run: its values must be the real ones
    s, cols = f(tf.range(8, dtype=tf.float32), tf.constant(taken))
    want = np.arange(8, dtype="float32").reshape(2, 4).sum(0)
    np.testing.assert_allclose(cols.numpy(), want)
    np.testing.assert_allclose(s.numpy(), want * (1.0 if taken else 2.0))


def test_custom_gradient_outputs_are_separate_tensors_eagerly():
    v = tf.Variable([1.0, 2.0])

    @tf.custom_gradient
    def identity_of(x):
        return (x, v), lambda dx, dv, variables=None: (dx * 3.0, [dv * 0.0])

    x = tf.constant([1.0, -1.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y, w = identity_of(x)
        loss = tf.reduce_sum(y * y)
    assert y is not x and w is not v
    # only grad_fn's path: 3 * dloss/dy = 3 * 2y
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), [6.0, -6.0])
    v.assign([5.0, 6.0])   # the output read the variable: later writes do not show
    np.testing.assert_allclose(w.numpy(), [1.0, 2.0])


def test_custom_gradient_eager_matches_compiled_with_tuple_outputs():
    @tf.custom_gradient
    def scaled(a, b):
        p, q = a * b, a + b

        def grad(dp, dq):
            return dp * b * 2.0 + dq, None
        return (p, q), grad

    def run(a, b):
        with tf.GradientTape() as tape:
            tape.watch([a, b])
            p, q = scaled(a, b)
            total = tf.reduce_sum(p + q)
        return tape.gradient(total, [a, b])

    a, b = tf.constant([2.0, 1.0]), tf.constant([3.0, -1.0])
    for got in (run(a, b), tf.function(run)(a, b)):
        np.testing.assert_allclose(got[0].numpy(), [7.0, -1.0])
        assert got[1] is None


def test_dataset_loop_of_strings_in_function():
    words = tf.data.Dataset.from_tensor_slices(["a", "bb", "ccc"])

    @tf.function
    def lengths(ds):
        ta = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
        for i, w in ds.enumerate():
            n = tf.strings.length(w)
            ta = ta.write(tf.cast(i, tf.int32), n + tf.strings.to_number(
                tf.strings.as_string(n), tf.int32))
        return ta.stack()

    # TF 2.21: [2, 4, 6]
    assert lengths(words).numpy().tolist() == [2, 4, 6]
