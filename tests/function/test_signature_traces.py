"""One user-visible trace per signature: None dimensions of an input_signature (or of
specs given to get_concrete_function, or shapes relaxed by reduce_retracing) accept
every size, as in TF — the tracing count and trace-time prints happen once."""

import numpy as np
import pytest

import dlframe as tf


def test_input_signature_with_none_dims_traces_once_for_many_sizes(capsys):
    @tf.function(input_signature=(tf.TensorSpec(shape=[None], dtype=tf.int32),))
    def next_collatz(x):
        print("Tracing with", 0)
        doubled = tf.zeros([tf.shape(x)[0], 2], tf.int32) + tf.reshape(x, [-1, 1])
        return tf.where(x % 2 == 0, x // 2, 3 * x + 1), doubled

    for n in (2, 3, 7, 2):
        x = np.arange(1, n + 1, dtype=np.int32)
        step, doubled = next_collatz(tf.constant(x))
        np.testing.assert_array_equal(step.numpy(), np.where(x % 2 == 0, x // 2, 3 * x + 1))
        np.testing.assert_array_equal(doubled.numpy(), np.stack([x, x], axis=1))
    assert next_collatz.experimental_get_tracing_count() == 1
    assert capsys.readouterr().out.count("Tracing with") == 1


def test_input_signature_rank_mismatch_is_a_type_error_naming_the_input():
    @tf.function(input_signature=(tf.TensorSpec(shape=[None], dtype=tf.int32),))
    def f(x):
        return x + 1

    f(tf.constant([1, 2]))
    with pytest.raises(TypeError, match="input 0 has shape"):
        f(tf.constant([[1, 2], [3, 4]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"expected \(None,\)"):
        f(tf.constant([[1, 2], [3, 4]]))


def test_reduce_retracing_relaxes_shapes_like_tf():
    traces = []

    @tf.function(reduce_retracing=True)
    def g(x):
        traces.append(x.shape.rank)
        return x * 2

    for shape in [(2,), (3,), (4,), (2, 2), (3, 3), (5,)]:
        x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
        np.testing.assert_array_equal(g(tf.constant(x)).numpy(), 2 * x)
    # TF 2.21: (2,) traces, (3,) retraces as (None,), (4,) reuses it, (2, 2)
    # retraces with unknown rank, (3, 3) and (5,) reuse
    assert g.experimental_get_tracing_count() == 3


def test_without_signature_each_new_shape_is_a_trace():
    f = tf.function(lambda x: x + 1)
    for n in (2, 3, 2):
        f(tf.ones([n]))
    assert f.experimental_get_tracing_count() == 2


def test_concrete_function_of_a_none_spec_serves_other_sizes():
    f = tf.function(lambda x: tf.reduce_sum(x * x, axis=1))
    conc = f.get_concrete_function(tf.TensorSpec([None, 3], tf.float32))
    (spec,), _kwargs = conc.structured_input_signature   # TF: (args, kwargs)
    assert spec.shape.as_list() == [None, 3]
    for n in (1, 4, 6):
        x = np.random.RandomState(n).rand(n, 3).astype(np.float32)
        np.testing.assert_allclose(conc(tf.constant(x)).numpy(), (x * x).sum(1), rtol=1e-6)
    assert f.experimental_get_tracing_count() == 1
    with pytest.raises(tf.errors.InvalidArgumentError):
        conc(tf.ones([2, 4]))


def test_get_concrete_function_does_not_run_side_effects(capsys):
    v = tf.Variable(1.0)

    @tf.function
    def step(x):
        v.assign_add(x + 1.0)
        tf.print("ran")
        return v.read_value()

    conc = step.get_concrete_function(tf.TensorSpec([], tf.float32))
    assert v.numpy() == 1.0 and "ran" not in capsys.readouterr().err
    assert conc(tf.constant(2.0)).numpy() == 4.0 and v.numpy() == 4.0
    assert step(tf.constant(2.0)).numpy() == 7.0


def test_gradients_in_a_signature_trace_are_right_for_every_size():
    w = tf.Variable([[1.0], [2.0]])

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    def grad(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.matmul(x, w) ** 2)
        return tape.gradient(loss, w)

    for n in (1, 3, 5):
        x = np.random.RandomState(n).rand(n, 2).astype(np.float32)
        expected = 2 * x.T @ (x @ w.numpy()) / n
        np.testing.assert_allclose(grad(tf.constant(x)).numpy(), expected, rtol=1e-5)
    assert grad.experimental_get_tracing_count() == 1


def test_concrete_function_of_string_spec_concatenates_and_rejects_ints():
    @tf.function
    def double(a):
        return a + a
    cf = double.get_concrete_function(tf.TensorSpec(shape=None, dtype=tf.string))
    assert cf(tf.constant("ab")).numpy() == b"abab"
    assert cf(tf.constant(["x", "y"])).numpy().tolist() == [b"xx", b"yy"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="dtype int32, expected string"):
        cf(tf.constant(1))
