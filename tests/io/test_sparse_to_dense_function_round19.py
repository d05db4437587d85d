"""``tf.sparse.to_dense`` of a SparseTensor whose dense shape is only known when the
graph runs (a parsed ``VarLenFeature`` inside ``tf.function``), round 19. Static
shapes and values as TF 2.21 gives them (hard-coded from its runs)."""

import numpy as np

import dlframe as tf

SPEC = {"v": tf.io.VarLenFeature(tf.int64)}


def _example(values):
    feature = tf.train.Feature(int64_list=tf.train.Int64List(value=values))
    return tf.train.Example(features=tf.train.Features(
        feature={"v": feature})).SerializeToString()


def test_parsed_var_len_feature_to_dense_in_a_function():
    seen = []

    @tf.function
    def one(record):
        dense = tf.sparse.to_dense(tf.io.parse_single_example(record, SPEC)["v"])
        seen.append(dense.shape.as_list())
        return dense

    assert one(tf.constant(_example([1, 2, 3]))).numpy().tolist() == [1, 2, 3]
    assert one(tf.constant(_example([4]))).numpy().tolist() == [4]
    assert one.experimental_get_tracing_count() == 1
    assert seen == [[None]]   # TF 2.21: (None,)


def test_batched_parse_to_dense_with_default_value():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def batch(records):
        parsed = tf.io.parse_example(records, SPEC)["v"]
        return tf.sparse.to_dense(parsed, default_value=-1)

    out = batch(tf.constant([_example([1, 2]), _example([5, 6, 7])]))
    np.testing.assert_array_equal(out.numpy(), [[1, 2, -1], [5, 6, 7]])
    assert batch(tf.constant([_example([9])])).numpy().tolist() == [[9]]
    shape = batch.get_concrete_function().structured_outputs.shape.as_list()
    assert shape == [None, None]   # TF 2.21


def test_gradient_through_a_traced_dense_shape_matches_eager():
    values = tf.Variable([1.0, 2.0])
    indices = tf.constant([[0, 0], [1, 2]], tf.int64)

    def loss(offset):
        sp = tf.SparseTensor(indices, values * 3.0,
                             tf.constant([2, 4], tf.int64) + offset)
        return tf.reduce_sum(tf.sparse.to_dense(sp, default_value=0.5) * 2.0)

    for run in (loss, tf.function(loss)):
        with tf.GradientTape() as tape:
            y = run(tf.constant(0, tf.int64))
        assert y.numpy() == 18.0 + 0.5 * 2.0 * 6
        np.testing.assert_allclose(tape.gradient(y, values).numpy(), [6.0, 6.0])
