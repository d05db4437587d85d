"""Guide programs: "Ragged tensors" (tile, map_fn, squeeze, embedding lookups,
to_tensor with a shape, sparse conversion, printing)."""

import numpy as np
import pytest

import dlframe as tf

DIGITS = [[3, 1, 4, 1], [], [5, 9, 2], [6], []]


def test_tile_repeats_rows_and_the_whole_tensor():
    rt = tf.ragged.constant(DIGITS)
    assert tf.tile(rt, [1, 2]).to_list() == [r * 2 for r in DIGITS]
    assert tf.tile(rt, [2, 1]).to_list() == DIGITS + DIGITS
    assert tf.tile(rt, [1, 2]).row_splits.dtype == tf.int64
    with pytest.raises(ValueError, match="multiples"):
        tf.tile(rt, [1, 2, 3])


def test_tile_gradient_sums_the_copies():
    values = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(values)
        rt = tf.RaggedTensor.from_row_lengths(values, [2, 1])
        y = tf.reduce_sum(tf.tile(rt, [1, 3]).flat_values * tf.range(9.0))
    # value k appears at positions of each copy: rows [1,2|1,2|1,2], [3|3|3]
    np.testing.assert_allclose(tf.convert_to_tensor(tape.gradient(y, values)).numpy(),
                               [0 + 2 + 4, 1 + 3 + 5, 6 + 7 + 8])


def test_map_fn_over_rows():
    rt = tf.ragged.constant(DIGITS)
    assert tf.map_fn(tf.math.square, rt).to_list() == [[v * v for v in r] for r in DIGITS]
    sums = tf.map_fn(tf.reduce_sum, rt, fn_output_signature=tf.int32)
    assert sums.numpy().tolist() == [sum(r) for r in DIGITS]
    spec = tf.RaggedTensorSpec(shape=[None], dtype=tf.int32, ragged_rank=0)
    assert tf.map_fn(lambda r: r[:1], rt, fn_output_signature=spec).to_list() == \
        [r[:1] for r in DIGITS]


def test_embedding_lookup_with_ragged_ids():
    table = tf.constant(np.arange(12, dtype=np.float32).reshape(6, 2))
    ids = tf.ragged.constant([[0, 5], [], [2]])
    out = tf.nn.embedding_lookup(table, ids)
    assert isinstance(out, tf.RaggedTensor)
    assert out.to_list() == [[[0.0, 1.0], [10.0, 11.0]], [], [[4.0, 5.0]]]
    assert tf.reduce_mean(out, axis=1).shape == (3, 2)


def test_squeeze_uniform_dims_only():
    rt = tf.ragged.constant([[1, 2], [3], [4, 5, 6]])
    assert tf.squeeze(tf.expand_dims(rt, 0), 0).to_list() == rt.to_list()
    inner = tf.RaggedTensor.from_row_lengths(tf.constant([[1], [2], [3]]), [2, 1])
    assert tf.squeeze(inner, -1).to_list() == [[1, 2], [3]]
    with pytest.raises(ValueError, match="ragged"):
        tf.squeeze(rt, 1)


def test_to_tensor_shape_pads_and_truncates_rows():
    rt = tf.ragged.constant([[1, 2], [3], [4, 5, 6]])
    np.testing.assert_array_equal(rt.to_tensor(shape=[4, 2]).numpy(),
                                  [[1, 2], [3, 0], [4, 5], [0, 0]])
    np.testing.assert_array_equal(rt.to_tensor(default_value=9, shape=[2, None]).numpy(),
                                  [[1, 2, 9], [3, 9, 9]])
    nested = tf.ragged.constant([[[1, 2], [3]], [[4]]])
    dense = nested.to_tensor(shape=[3, 3, 3])
    assert dense.shape == (3, 3, 3) and int(tf.reduce_sum(dense)) == 10
    assert dense.numpy()[2].sum() == 0


def test_to_sparse_and_from_sparse_round_trip():
    rt = tf.ragged.constant([[1, 2], [3], [4, 5, 6]])
    st = rt.to_sparse()
    assert isinstance(st, tf.SparseTensor)
    assert st.indices.numpy().tolist() == [[0, 0], [0, 1], [1, 0], [2, 0], [2, 1], [2, 2]]
    assert st.dense_shape.numpy().tolist() == [3, 3]
    np.testing.assert_array_equal(tf.sparse.to_dense(st).numpy(), rt.to_tensor().numpy())
    assert tf.RaggedTensor.from_sparse(st).to_list() == rt.to_list()
    nested = tf.ragged.constant([[[1], [2, 3]], [[4]]])
    assert nested.to_sparse().indices.numpy().tolist() == \
        [[0, 0, 0], [0, 1, 0], [0, 1, 1], [1, 0, 0]]


def test_uniform_row_length_is_a_static_dimension():
    rt = tf.RaggedTensor.from_uniform_row_length(tf.reshape(tf.range(12), [6, 2]), 3)
    assert rt.shape.as_list() == [2, 3, 2]
    assert tf.ragged.constant([[1], [2, 3]]).shape.as_list() == [2, None]


def test_numpy_and_printing_follow_tf():
    same = tf.ragged.constant([[1, 1], [2, 2]])
    assert same.numpy().dtype == np.int32 and same.numpy().shape == (2, 2)
    rows = tf.ragged.constant([[1, 2], [3]]).numpy()
    assert rows.dtype == object and [r.tolist() for r in rows] == [[1, 2], [3]]
    sentences = tf.ragged.constant([["Let's", "build", "some", "ragged", "tensors", "!"],
                                    ["We", "can", "use", "tf.ragged.constant", "."]])
    # the line breaks TF 2.21 prints for this guide example
    assert repr(sentences) == (
        "<tf.RaggedTensor [[b\"Let's\", b'build', b'some', b'ragged', b'tensors', b'!'],"
        "\n [b'We', b'can', b'use', b'tf.ragged.constant', b'.']]>")
    assert repr(tf.ragged.constant(DIGITS)) == \
        "<tf.RaggedTensor [[3, 1, 4, 1], [], [5, 9, 2], [6], []]>"


def test_mixed_types_are_refused():
    with pytest.raises(ValueError, match="mixed types"):
        tf.ragged.constant([["one", "two"], [3, 4]])
    with pytest.raises(ValueError, match="mixed types"):
        tf.constant(["a", 1])
