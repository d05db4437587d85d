"""Compiled graphs whose tensor sizes depend on values (tf.range(n), boolean masks,
loops that stack a TensorArray, a `break` inside `for ... in tf.range`): one trace
serves every size, with results and gradients equal to eager ones; lambdas are
AutoGraph-converted; iterating a traced tensor in unconverted code is refused."""

import numpy as np
import pytest

import dlframe as tf


def _both(fn, *arg_sets):
    compiled = tf.function(fn)
    for args in arg_sets:
        eager = tf.nest.flatten(fn(*args))
        graph = tf.nest.flatten(compiled(*args))
        for e, g in zip(eager, graph):
            np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-6, atol=1e-6)
    return compiled


SIZES = [(tf.constant(3),), (tf.constant(5),), (tf.constant(1),)]


@pytest.mark.parametrize("fn", [
    lambda n: tf.expand_dims(tf.range(n), 0),
    lambda n: tf.squeeze(tf.reshape(tf.range(n), [1, -1])),
    lambda n: tf.tile(tf.expand_dims(tf.range(n), 0), [2, 1]),
    lambda n: tf.reshape(tf.range(2 * n), [-1, 2]),
    lambda n: tf.zeros(tf.shape(tf.range(n)), tf.int32) + tf.ones_like(tf.range(n)),
    lambda n: tf.size(tf.range(n)) * 2,
    lambda n: tf.range(n)[::-1],
])
def test_shape_ops_follow_value_dependent_sizes(fn):
    compiled = _both(fn, *SIZES)
    assert compiled.experimental_get_tracing_count() == 1


def test_gradients_of_reductions_over_value_dependent_sizes():
    def f(n):
        x = tf.cast(tf.range(n), tf.float32) + 1.0
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_mean(x * x) + tf.reduce_sum(tf.expand_dims(x, 1) * 2.0) + \
                tf.reduce_sum(tf.squeeze(tf.reshape(x, [1, -1, 1])) ** 3)
        return tape.gradient(y, x)
    _both(f, *SIZES)
    grad = tf.function(f)(tf.constant(4)).numpy()
    x = np.arange(4) + 1.0
    np.testing.assert_allclose(grad, 2 * x / 4 + 2 + 3 * x ** 2, rtol=1e-6)


def test_boolean_mask_and_where_results_follow_each_call():
    def f(x):
        kept = tf.boolean_mask(x, x > 0)
        idx = tf.reshape(tf.where(x > 0), [-1])
        return tf.reduce_mean(tf.expand_dims(kept, -1), axis=0), idx, tf.shape(kept)
    _both(f, (tf.constant([1., -1, 2]),), (tf.constant([1., 3, 2]),),
          (tf.constant([-1., 3, -2]),))


def _episode(state, weights, max_steps):
    """A loop over tf.range with a tensor-dependent break, stacking TensorArrays
    (the shape of TF's actor-critic tutorial)."""
    values = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    rewards = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
    for t in tf.range(max_steps):
        value = tf.reduce_sum(state * weights)
        values = values.write(t, value)
        rewards = rewards.write(t, tf.cast(t, tf.int32) + 1)
        state = state * 0.5 + 1.0
        if tf.reduce_max(state) > 1.9:
            break
    values = values.stack()
    returns = tf.cast(rewards.stack()[::-1], tf.float32)
    returns = (returns - tf.reduce_mean(returns)) / (tf.math.reduce_std(returns) + 1e-6)
    return tf.expand_dims(values, 1), tf.expand_dims(returns, 1)


def test_actor_critic_shaped_step_matches_eager_for_every_episode_length():
    weights = tf.Variable([0.5, -0.25, 1.0])

    def step(state):
        with tf.GradientTape() as tape:
            values, returns = _episode(state, weights, 20)
            loss = tf.reduce_sum(tf.square(returns - values))
        return loss, tape.gradient(loss, weights), tf.shape(values)[0]
    compiled = tf.function(step)
    lengths = set()
    for start in ([0.0, 0.0, 0.0], [1.5, 0.0, 1.0], [1.8, 1.8, 1.8], [-8.0, 0, 0]):
        state = tf.constant(start)
        eager = step(state)
        graph = compiled(state)
        for e, g in zip(eager, graph):
            np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-5, atol=1e-6)
        lengths.add(int(graph[2]))
    assert len(lengths) > 2                     # the episodes really differ in length
    assert compiled.experimental_get_tracing_count() == 1


def _loop_sum(n):
    arr = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    s = tf.constant(0.0)
    for i in tf.range(n):
        s = s + tf.cast(i, tf.float32)
        arr = arr.write(i, s)
    return arr.stack()


def test_lambdas_are_converted_with_the_functions_they_call():
    compiled = tf.function(lambda n: _loop_sum(n) * 2.0)
    np.testing.assert_allclose(compiled(tf.constant(3)).numpy(), [0, 2, 6])
    np.testing.assert_allclose(compiled(tf.constant(5)).numpy(), [0, 2, 6, 12, 20])
    twice = tf.function(lambda x: x * 2.0 if x > 0 else -x)   # one lambda per line
    assert twice(tf.constant(2.0)).numpy() == 4.0
    assert twice(tf.constant(-3.0)).numpy() == 3.0


def test_iterating_a_traced_tensor_without_autograph_is_refused():
    @tf.function(autograph=False)
    def f(n):
        total = tf.constant(0)
        for i in tf.range(n):
            total += i
        return total
    with pytest.raises(TypeError, match="Iterating over elements"):
        f(tf.constant(3))

    @tf.function
    def g(x):      # a static-length Python loop over a non-traced tensor is fine
        out = x
        for c in tf.constant([1.0, 2.0]):
            out = out + c
        return out
    assert g(tf.constant(1.0)).numpy() == 4.0
