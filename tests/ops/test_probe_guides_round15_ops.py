"""Round-15 probes of the "Ragged tensors", "Sparse tensors" and "Tensor slicing"
guides: differences from TF 2.21, fixed."""

import numpy as np
import pytest

import dlframe as tf


def _rows(rt):
    return rt.to_list()


@pytest.mark.parametrize("axis,expect", [
    ([1], [[2, 1], [3], [6, 5, 4]]),
    ([0], [[4, 5, 6], [3], [1, 2]]),
    ([0, -1], [[6, 5, 4], [3], [2, 1]]),
    (1, [[2, 1], [3], [6, 5, 4]]),
])
def test_reverse_of_a_ragged_tensor(axis, expect):
    rt = tf.ragged.constant([[1, 2], [3], [4, 5, 6]])
    assert _rows(tf.reverse(rt, axis)) == expect


def test_reverse_of_deeper_and_uniform_inner_dimensions():
    # expected values from TF 2.21
    r3 = tf.ragged.constant([[[1, 2], [3]], [[4, 5, 6]]])
    assert _rows(tf.reverse(r3, [2])) == [[[2, 1], [3]], [[6, 5, 4]]]
    assert _rows(tf.reverse(r3, [1])) == [[[3], [1, 2]], [[4, 5, 6]]]
    r4 = tf.ragged.constant([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1)
    assert _rows(tf.reverse(r4, [2])) == [[[2, 1], [4, 3]], [[6, 5]]]
    assert _rows(tf.reverse(r4, [1])) == [[[3, 4], [1, 2]], [[5, 6]]]


def test_ragged_palindrome_in_a_function_matches_eager():
    # the guide's make_palindrome, on dense and ragged input
    def make_palindrome(x, axis):
        return tf.concat([x, tf.reverse(x, [axis])], axis)

    compiled = tf.function(make_palindrome)
    dense = tf.constant([[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(compiled(dense, axis=1).numpy(),
                                  [[1, 2, 2, 1], [3, 4, 4, 3], [5, 6, 6, 5]])
    rt = tf.ragged.constant([[1, 2], [3], [4, 5, 6]])
    expect = [[1, 2, 2, 1], [3, 3], [4, 5, 6, 6, 5, 4]]
    assert _rows(make_palindrome(rt, axis=1)) == expect
    assert _rows(compiled(rt, axis=1)) == expect


def test_ragged_reverse_gradient_flows_to_the_values():
    x = tf.constant([1.0, 2.0, 3.0])
    w = np.array([1.0, 10.0, 100.0], np.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        rt = tf.RaggedTensor.from_row_splits(x, [0, 2, 3])
        y = tf.reduce_sum(tf.reverse(rt, [1]).flat_values * w)
    # reversed values are [x1, x0, x2]: dy/dx = [w1, w0, w2]
    np.testing.assert_allclose(tf.convert_to_tensor(tape.gradient(y, x)).numpy(),
                               [10.0, 1.0, 100.0])


def test_ragged_reverse_bad_axis():
    rt = tf.ragged.constant([[1, 2], [3]])
    with pytest.raises(ValueError, match="axis"):
        tf.reverse(rt, [2])
    with pytest.raises(ValueError, match="axis"):
        tf.reverse(rt, [1, -1])


def test_cast_of_a_sparse_tensor_casts_its_values():
    st = tf.sparse.SparseTensor([[0, 1], [1, 0]], [1, 2], [2, 2])
    out = tf.cast(st, tf.float32)
    assert isinstance(out, tf.SparseTensor)
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(tf.sparse.to_dense(out).numpy(), [[0, 1], [2, 0]])
    np.testing.assert_array_equal(out.indices.numpy(), st.indices.numpy())


def test_dense_layer_takes_an_int_sparse_input_like_the_guide():
    # "Sparse tensors" guide: Input(sparse=True) -> Dense, called on int values
    x = tf.keras.Input(shape=(4,), sparse=True)
    y = tf.keras.layers.Dense(4)(x)
    model = tf.keras.Model(x, y)
    sparse_data = tf.sparse.SparseTensor(
        indices=[(0, 0), (0, 1), (0, 2), (4, 3), (5, 0), (5, 1)],
        values=[1, 1, 1, 1, 1, 1], dense_shape=(6, 4))
    dense_data = tf.sparse.to_dense(sparse_data).numpy().astype(np.float32)
    kernel, bias = (w.numpy() for w in model.layers[-1].weights)
    np.testing.assert_allclose(model(sparse_data).numpy(), dense_data @ kernel + bias,
                               rtol=1e-6, atol=1e-6)
    assert model.predict(sparse_data, verbose=0).shape == (6, 4)


def test_sparse_tensor_keeps_int64_indices_given_int32_tensors():
    st = tf.sparse.SparseTensor(tf.constant([[0, 2], [2, 1]]), [1.0, 2.0],
                                tf.constant([3, 3]))
    assert st.indices.dtype == tf.int64
    assert st.dense_shape.dtype == tf.int64
    np.testing.assert_array_equal(tf.sparse.to_dense(st).numpy(),
                                  [[0, 0, 1], [0, 0, 0], [0, 2, 0]])
