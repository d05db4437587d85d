"""A variable written in place after a tape read it: the backward pass uses the value
the forward pass read, as TF's does (values below checked against TF 2.21)."""

import numpy as np
import pytest

import dlframe as tf


def _assign_between(w, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(w * x * w)
    w.assign([[5.0, 5.0]])
    return tape.gradient(y, [x, w])


@pytest.mark.parametrize("compiled", [False, True])
def test_assign_after_forward_keeps_the_read_value(compiled):
    w = tf.Variable([[1.0, 2.0]])
    x = tf.constant(3.0)
    step = tf.function(_assign_between) if compiled else _assign_between
    for _ in range(2):   # the second compiled call replays the graph
        w.assign([[1.0, 2.0]])
        gx, gw = step(w, x)
        np.testing.assert_allclose(gx.numpy(), 5.0)            # sum(w_read ** 2)
        np.testing.assert_allclose(gw.numpy(), [[6.0, 12.0]])  # 2 * x * w_read


@pytest.mark.parametrize("compiled", [False, True])
def test_persistent_tape_gradient_after_an_optimizer_step(compiled):
    w = tf.Variable([6.0, 6.0])
    opt = tf.keras.optimizers.SGD(0.1)

    def step():
        with tf.GradientTape(persistent=True) as tape:
            y = tf.reduce_sum(w * w)
        g1 = tape.gradient(y, w)
        opt.apply_gradients([(g1, w)])
        return g1, tape.gradient(y, w), tf.identity(w)

    g1, g2, after = (tf.function(step) if compiled else step)()
    np.testing.assert_allclose(g1.numpy(), [12.0, 12.0])
    np.testing.assert_allclose(g2.numpy(), [12.0, 12.0])   # was 2 * w_new = 9.6
    np.testing.assert_allclose(after.numpy(), [4.8, 4.8], rtol=1e-6)


def test_assign_add_and_reshaping_assign_and_two_writes():
    w = tf.Variable(np.arange(3.0, dtype="float32"), shape=tf.TensorShape(None))
    with tf.GradientTape(persistent=True) as tape:
        y1 = tf.reduce_sum(tf.exp(w))
    w.assign_add([1.0, 1.0, 1.0])
    with tape:
        y2 = tf.reduce_sum(w * w)
    w.assign([7.0, 7.0, 7.0, 7.0])   # a new shape replaces the buffer
    np.testing.assert_allclose(tape.gradient(y1, w).numpy(), np.exp([0.0, 1.0, 2.0]),
                               rtol=1e-6)
    np.testing.assert_allclose(tape.gradient(y2, w).numpy(), [2.0, 4.0, 6.0])
    np.testing.assert_allclose(tape.gradient([y1, y2], w).numpy(),
                               np.exp([0.0, 1.0, 2.0]) + [2.0, 4.0, 6.0], rtol=1e-6)


def test_non_persistent_tape_frees_its_entries_so_writes_copy_nothing():
    w = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(w * w)
    tape.gradient(y, w)
    assert tape._entries == [] and tape._snapshots == []
    w.assign([3.0, 4.0])
    assert w._taped is None
