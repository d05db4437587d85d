"""``next(iterator)`` inside a ``tf.function`` takes a new element on every call
(TF's IteratorGetNext), as in the tf.function guide's ``good_consume_next``."""

import numpy as np
import pytest

import dlframe as tf


def test_next_in_function_pulls_each_call_and_raises_out_of_range():
    ds = tf.data.Dataset.from_tensor_slices(({"a": [1.0, 2.0, 3.0]}, [4, 5, 6])).batch(2)
    it = iter(ds)

    @tf.function
    def step(iterator):
        x, y = next(iterator)
        return x["a"] * 2.0, y

    a, b = step(it)
    np.testing.assert_allclose(a.numpy(), [2.0, 4.0])
    assert b.numpy().tolist() == [4, 5]
    a, b = step(it)   # the last, smaller batch: same graph, new element
    np.testing.assert_allclose(a.numpy(), [6.0])
    assert b.numpy().tolist() == [6]
    assert step.experimental_get_tracing_count() == 1
    with pytest.raises(tf.errors.OutOfRangeError):
        step(it)


def test_get_next_in_training_step_uses_every_batch():
    xs = np.arange(12, dtype="float32").reshape(6, 2)
    it = iter(tf.data.Dataset.from_tensor_slices(xs).batch(2))
    total = tf.Variable(0.0)

    @tf.function
    def accumulate(iterator):
        total.assign_add(tf.reduce_sum(iterator.get_next()))

    for _ in range(3):
        accumulate(it)
    assert float(total) == pytest.approx(float(xs.sum()))
