"""tf.map_fn with ragged results (RaggedTensorSpec fn_output_signature, also over dense
elems) and the static shapes of ragged expand_dims (expected values from TF 2.21)."""

import numpy as np
import pytest

import dlframe as tf


def test_map_fn_dense_elems_to_ragged_rows():
    out = tf.map_fn(lambda n: tf.range(n), tf.constant([1, 3, 2]),
                    fn_output_signature=tf.RaggedTensorSpec(shape=[None],
                                                            dtype=tf.int32,
                                                            ragged_rank=0))
    assert isinstance(out, tf.RaggedTensor)
    assert out.to_list() == [[0], [0, 1, 2], [0, 1]]


def test_map_fn_ragged_elems_with_ragged_and_dense_outputs():
    rt = tf.ragged.constant([[1, 2], [3], [4, 5, 6]])
    doubled = tf.map_fn(lambda row: row * 2, rt,
                        fn_output_signature=tf.RaggedTensorSpec(shape=[None],
                                                                dtype=tf.int32))
    assert doubled.to_list() == [[2, 4], [6], [8, 10, 12]]
    sums = tf.map_fn(tf.reduce_sum, rt, fn_output_signature=tf.int32)
    assert sums.numpy().tolist() == [3, 3, 15]
    both = tf.map_fn(lambda row: (row + 1, tf.size(row)), rt,
                     fn_output_signature=(tf.RaggedTensorSpec(shape=[None],
                                                              dtype=tf.int32),
                                          tf.int32))
    assert both[0].to_list() == [[2, 3], [4], [5, 6, 7]]
    assert both[1].numpy().tolist() == [2, 1, 3]


def test_map_fn_ragged_result_gradient_reaches_dense_elems():
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = tf.map_fn(lambda v: tf.fill([2], v) * v, x,
                        fn_output_signature=tf.RaggedTensorSpec(shape=[None],
                                                                dtype=tf.float32))
        loss = tf.reduce_sum(out.flat_values)
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), 4 * x.numpy())


def test_map_fn_ragged_signature_checks_dtype():
    with pytest.raises(TypeError, match="fn_output_signature"):
        tf.map_fn(lambda n: tf.range(n), tf.constant([1, 2]),
                  fn_output_signature=tf.RaggedTensorSpec(shape=[None],
                                                          dtype=tf.float32))


def test_expand_dims_of_ragged_keeps_uniform_static_dims():
    x = tf.ragged.constant([[1, 2], [3], [4, 5, 6]])
    assert tf.expand_dims(x, axis=0).shape.as_list() == [1, 3, None]
    assert tf.expand_dims(x, axis=1).shape.as_list() == [3, 1, None]
    assert tf.expand_dims(x, axis=2).shape.as_list() == [3, None, 1]
    assert tf.expand_dims(x, axis=1).to_list() == [[[1, 2]], [[3]], [[4, 5, 6]]]
