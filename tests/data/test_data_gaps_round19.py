"""Round-19 tf.data gaps: uniform row lengths of ragged elements through
``ragged_batch``/``unbatch``, ``RaggedTensor.from_tensor`` keeping its static shape,
``rebatch`` of ragged and ExtensionType elements, and the ``TensorShape`` fields of
batched ExtensionType values (expected values from TF 2.21)."""

import numpy as np
import pytest

import dlframe as tf


def _uniform_3_by_ragged():
    """A ``[3, 3, None]`` RaggedTensor: rows of three ragged rows each."""
    inner = tf.ragged.constant([[1, 2], [3], [4, 5, 6], [7], [8], [9, 9], [1], [2], [3]])
    return tf.RaggedTensor.from_uniform_row_length(inner, 3)


# ------------------------------------------------------------- ragged uniform dims
def test_ragged_batch_unbatch_keeps_a_uniform_inner_dimension():
    rt = _uniform_3_by_ragged()
    ds = tf.data.Dataset.from_tensors(rt).repeat(3)
    batched = ds.ragged_batch(2)
    assert batched.element_spec.shape.as_list() == [None, 3, 3, None]
    rows = batched.unbatch()
    assert rows.element_spec.shape.as_list() == [3, 3, None]
    values = list(rows)
    assert len(values) == 3
    for value in values:
        assert value.shape.as_list() == [3, 3, None]     # TF 2.21: (3, 3, None)
        assert value.to_list() == rt.to_list()


def test_slices_of_a_ragged_tensor_keep_the_uniform_dimension():
    rt = tf.RaggedTensor.from_uniform_row_length(_uniform_3_by_ragged(), 1)
    ds = tf.data.Dataset.from_tensor_slices(rt)
    assert ds.element_spec.shape.as_list() == [1, 3, None]
    first = next(iter(ds.ragged_batch(2).unbatch()))
    assert first.shape.as_list() == [1, 3, None]
    assert first.to_list() == [[[1, 2], [3], [4, 5, 6]]]
    batch = next(iter(ds.batch(3)))
    assert batch.shape.as_list() == [3, 1, 3, None]
    assert batch.to_list() == rt.to_list()


def test_from_tensor_rows_are_uniform():
    rt = tf.RaggedTensor.from_tensor(np.arange(6, dtype=np.float32).reshape(3, 2))
    assert rt.shape.as_list() == [3, 2]                   # TF 2.21: (3, 2)
    assert int(rt.uniform_row_length) == 2
    assert rt.uniform_row_length.dtype == tf.int64
    cut = tf.RaggedTensor.from_tensor(np.zeros((3, 2), np.float32), lengths=[1, 2, 0])
    assert cut.shape.as_list() == [3, None] and cut.uniform_row_length is None
    ds = tf.data.Dataset.from_tensor_slices(
        np.arange(24, dtype=np.float32).reshape(4, 3, 2)).map(tf.RaggedTensor.from_tensor)
    assert ds.element_spec.shape.as_list() == [3, 2]
    assert ds.ragged_batch(2).element_spec.shape.as_list() == [None, 3, 2]
    assert ds.ragged_batch(2).unbatch().element_spec.shape.as_list() == [3, 2]
    got = [x.to_list() for x in ds.ragged_batch(3).unbatch()]
    assert got == np.arange(24).reshape(4, 3, 2).tolist()


# ------------------------------------------------------------- rebatch
def test_rebatch_of_ragged_batches():
    ds = tf.data.Dataset.from_tensor_slices(
        tf.ragged.constant([[1], [2, 3], [], [4, 5, 6]])).batch(3)
    out = ds.rebatch(2)
    assert out.element_spec == tf.RaggedTensorSpec([None, None], tf.int32, 1, tf.int64)
    assert [x.to_list() for x in out] == [[[1], [2, 3]], [[], [4, 5, 6]]]


def test_rebatch_of_dense_batches_unchanged():
    ds = tf.data.Dataset.range(7).batch(3)
    assert [x.numpy().tolist() for x in ds.rebatch(2)] == [[0, 1], [2, 3], [4, 5], [6]]
    out = ds.rebatch(2, drop_remainder=True)
    assert out.element_spec.shape.as_list() == [2]
    assert [x.numpy().tolist() for x in out] == [[0, 1], [2, 3], [4, 5]]
    with pytest.raises(ValueError, match="rebatch needs batched"):
        tf.data.Dataset.range(3).rebatch(2)


class _Masked(tf.experimental.BatchableExtensionType):
    values: tf.Tensor
    shape: tf.TensorShape


def _masked_dataset(n=5):
    return tf.data.Dataset.range(n).map(
        lambda i: _Masked(values=tf.fill([3], tf.cast(i, tf.float32)),
                          shape=tf.TensorShape([3])))


def test_batched_extension_type_shape_field_follows_the_spec():
    ds = _masked_dataset()
    assert next(iter(ds.batch(2))).shape.as_list() == [None, 3]     # TF 2.21
    assert next(iter(ds.batch(2, drop_remainder=True))).shape.as_list() == [2, 3]
    assert ds.batch(2).element_spec.shape.as_list() == [None, 3]
    rows = list(ds.batch(2).unbatch())
    assert [r.shape.as_list() for r in rows] == [[3]] * 5
    assert [float(r.values[0]) for r in rows] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_rebatch_of_extension_type_batches():
    batched = _masked_dataset().batch(2)
    out = batched.rebatch(3, drop_remainder=True)
    assert out.element_spec.shape.as_list() == [3, 3]
    assert out.element_spec.values.shape.as_list() == [3, 3]
    got = list(out)
    assert len(got) == 1 and got[0].shape.as_list() == [3, 3]
    np.testing.assert_array_equal(got[0].values.numpy(), np.repeat(
        np.arange(3, dtype=np.float32)[:, None], 3, axis=1))
    sizes = [(x.shape.as_list(), x.values.numpy()[:, 0].tolist())
             for x in batched.rebatch([1, 3])]
    assert sizes == [([None, 3], [0.0]), ([None, 3], [1.0, 2.0, 3.0]),
                     ([None, 3], [4.0])]
