"""Guide programs: "Tensor slicing" and "Introduction to Variables" (slices whose
bounds are tensors inside tf.function, sliced variable assignment, reading variables)."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_grad

T1 = np.arange(8, dtype=np.int32)
T2 = np.arange(20, dtype=np.int32).reshape(4, 5)


@pytest.mark.parametrize("b", [0, 2, 5])
def test_slice_with_traced_begin_follows_every_call(b):
    @tf.function
    def f(x, begin):
        return (tf.slice(x, begin=[begin], size=[3]), x[begin:begin + 2],
                tf.strided_slice(x, [begin], [begin + 3], [2]))

    f_once = f(tf.constant(T1), tf.constant(0))   # traced for begin=0
    assert f_once[0].numpy().tolist() == [0, 1, 2]
    got = [r.numpy().tolist() for r in f(tf.constant(T1), tf.constant(b))]
    assert got == [T1[b:b + 3].tolist(), T1[b:b + 2].tolist(), T1[b:b + 3:2].tolist()]
    assert f.experimental_get_tracing_count() == 1


def test_slice_with_tensor_begin_and_size_and_minus_one():
    @tf.function
    def f(x, begin, size):
        return tf.slice(x, begin, size)

    out = f(tf.constant(T2), tf.constant([1, 1]), tf.constant([2, -1]))
    np.testing.assert_array_equal(out.numpy(), T2[1:3, 1:])
    out = f(tf.constant(T2), tf.constant([0, 2]), tf.constant([3, 2]))
    np.testing.assert_array_equal(out.numpy(), T2[0:3, 2:4])
    with pytest.raises(tf.errors.InvalidArgumentError, match="begin"):
        f(tf.constant(T2), tf.constant([3, 0]), tf.constant([2, 1]))


def test_slice_bad_static_input_is_a_clear_error():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"begin \[5\]"):
        tf.slice(tf.constant(T1), [5], [4])
    with pytest.raises(tf.errors.InvalidArgumentError, match="size"):
        tf.slice(tf.constant(T2), [0], [1])


def test_dynamic_slice_gradient_matches_finite_differences():
    x = np.random.default_rng(0).standard_normal((4, 5))

    def fn(v):
        return tf.slice(v, tf.constant([1, 2]), tf.constant([2, 3])) ** 2

    check_grad(fn, [x])
    var = tf.Variable(np.arange(4.0, dtype=np.float32))

    @tf.function
    def second(begin):
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                y = tf.reduce_sum(tf.slice(var, begin, [2]) ** 3)
            g = inner.gradient(y, var)
        return g, outer.gradient(g, var)

    for b in (2, 0):
        g, gg = second(tf.constant([b]))
        want = np.zeros(4)
        want[b:b + 2] = 3 * np.arange(b, b + 2) ** 2
        np.testing.assert_allclose(g.numpy(), want)
        want2 = np.zeros(4)
        want2[b:b + 2] = 6 * np.arange(b, b + 2)
        np.testing.assert_allclose(gg.numpy(), want2)


def test_variable_slice_assign_eager():
    v = tf.Variable(tf.zeros([2, 3]))
    result = v[0, 1].assign(5.0)
    assert result is v
    v[1].assign([1.0, 2.0, 3.0])
    v[:, 0].assign(tf.constant([7.0, 8.0]))
    v[..., 1:].assign(tf.ones([2, 2]))      # broadcasting a scalar also works
    np.testing.assert_array_equal(v.numpy(), [[7, 1, 1], [8, 1, 1]])
    v[1].assign(3.0)
    np.testing.assert_array_equal(v.numpy()[1], [3, 3, 3])
    with pytest.raises(tf.errors.InvalidArgumentError, match="does not fit"):
        v[1].assign([1.0, 2.0])
    ints = tf.Variable([1, 2, 3, 4])
    ints[1:3].assign([9, 9])
    assert ints[::2].assign([0, 0]).numpy().tolist() == [0, 9, 0, 4]
    assert not hasattr(tf.constant(1.0), "assign")


def test_variable_slice_read_is_a_snapshot_and_differentiable():
    v = tf.Variable([1.0, 2.0, 3.0])
    s = v[1:]
    v.assign([0.0, 0.0, 0.0])
    assert s.numpy().tolist() == [2.0, 3.0]
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(v[1:] * 2.0)
    assert tape.gradient(y, v).numpy().tolist() == [0.0, 2.0, 2.0]


def test_variable_slice_assign_in_function_with_tensor_index():
    v = tf.Variable(tf.ones([2, 3]))

    @tf.function
    def f(i):
        v[i, 0].assign(-1.0)
        return v[i]

    assert f(tf.constant(1)).numpy().tolist() == [-1.0, 1.0, 1.0]
    assert f(tf.constant(0)).numpy().tolist() == [-1.0, 1.0, 1.0]
    np.testing.assert_array_equal(v.numpy(), [[-1, 1, 1], [-1, 1, 1]])


def test_convert_to_tensor_of_a_variable_reads_it():
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    t = tf.convert_to_tensor(v)
    assert not isinstance(t, tf.Variable)
    v.assign(tf.zeros([2, 2]))
    assert t.numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.convert_to_tensor(v) * 3.0)
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), np.full((2, 2), 3.0))


def test_variable_repr_puts_a_matrix_on_its_own_line():
    text = repr(tf.Variable(tf.zeros([2, 2])))
    assert "numpy=\narray([[0., 0.]," in text
    assert "numpy=array([1, 2]" in repr(tf.Variable([1, 2], name="q"))
