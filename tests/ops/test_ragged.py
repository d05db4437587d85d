"""tf.RaggedTensor: construction, properties, conversion, printing and indexing.
Expected printed forms and error types were recorded from TensorFlow 2.21."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import numeric_grad


def _l(t):
    return t.numpy().tolist()


def test_constant_properties_and_repr():
    rt = tf.ragged.constant([[1, 2], [3], []])
    assert isinstance(rt, tf.RaggedTensor)
    assert repr(rt) == str(rt) == "<tf.RaggedTensor [[1, 2], [3], []]>"
    assert rt.shape.as_list() == [3, None] and rt.dtype == tf.int32
    assert rt.row_splits.dtype == tf.int64 and rt.ragged_rank == 1
    assert _l(rt.row_splits) == [0, 2, 3, 3] and _l(rt.values) == [1, 2, 3]
    assert _l(rt.row_lengths()) == [2, 1, 0] and _l(rt.value_rowids()) == [0, 0, 1]
    assert int(rt.nrows()) == 3 and _l(rt.bounding_shape()) == [3, 2]
    assert _l(rt.row_starts()) == [0, 2, 3] and _l(rt.row_limits()) == [2, 3, 3]
    assert rt.to_list() == [[1, 2], [3], []]
    rows = rt.numpy()
    assert rows.dtype == object and [r.tolist() for r in rows] == [[1, 2], [3], []]
    assert [_l(r) for r in rt] == [[1, 2], [3], []]
    with pytest.raises(TypeError):
        len(rt)
    strings = tf.ragged.constant([["a", "b"], ["c"]])
    assert repr(strings) == "<tf.RaggedTensor [[b'a', b'b'], [b'c']]>"
    floats = tf.ragged.constant([[1, 2], [3]], dtype=tf.float32)
    assert repr(floats) == "<tf.RaggedTensor [[1.0, 2.0], [3.0]]>"
    assert tf.ragged.constant([[1.5]]).dtype == tf.float32
    assert tf.ragged.constant([[], []]).dtype == tf.float32


def test_nested_and_inner_shape():
    r2 = tf.ragged.constant([[[1], [2, 3]], [], [[4]]])
    assert r2.shape.as_list() == [3, None, None] and r2.ragged_rank == 2
    assert [_l(s) for s in r2.nested_row_splits] == [[0, 2, 2, 3], [0, 1, 3, 4]]
    assert _l(r2.flat_values) == [1, 2, 3, 4]
    assert _l(r2.bounding_shape()) == [3, 2, 2]
    assert _l(r2.to_tensor()) == [[[1, 0], [2, 3]], [[0, 0], [0, 0]],
                                  [[4, 0], [0, 0]]]
    uniform = tf.ragged.constant([[[1, 2]], [[3, 4], [5, 6]]], ragged_rank=1)
    assert uniform.shape.as_list() == [2, None, 2]
    inner = tf.ragged.constant([[1, 2], [3]], inner_shape=(), ragged_rank=1)
    assert inner.to_list() == [[1, 2], [3]]
    assert r2.merge_dims(0, 1).to_list() == [[1], [2, 3], [4]]
    assert r2.merge_dims(1, 2).to_list() == [[1, 2, 3], [], [4]]
    assert _l(tf.ragged.constant([[1, 2], [3]]).merge_dims(0, 1)) == [1, 2, 3]
    assert repr(tf.stack([tf.ragged.constant([[1], []])] * 2)) == (
        "<tf.RaggedTensor [[[1], []],\n [[1], []]]>")
    with pytest.raises(ValueError, match="same nesting depth"):
        tf.ragged.constant([[1, [2]], [3]])


def test_factories_agree():
    values = [3, 1, 4, 1, 5, 9, 2]
    want = [[3, 1, 4, 1], [], [5, 9], [2]]
    R = tf.RaggedTensor
    assert R.from_row_splits(values, [0, 4, 4, 6, 7]).to_list() == want
    assert R.from_row_lengths(values, [4, 0, 2, 1]).to_list() == want
    assert R.from_value_rowids(values, [0, 0, 0, 0, 2, 2, 3]).to_list() == want
    assert R.from_value_rowids(values, [0, 0, 0, 0, 2, 2, 3], nrows=5).to_list() == \
        want + [[]]
    assert R.from_row_starts(values, [0, 4, 4, 6]).to_list() == want
    assert R.from_row_limits(values, [4, 4, 6, 7]).to_list() == want
    nested = R.from_nested_row_splits([1, 2, 3], [[0, 2, 3], [0, 1, 1, 3]])
    assert nested.to_list() == [[[1], []], [[2, 3]]]
    assert R.from_nested_row_lengths([1, 2, 3], [[2, 1], [1, 0, 2]]).to_list() == \
        nested.to_list()
    assert R.from_uniform_row_length([1, 2, 3, 4], 2).to_list() == [[1, 2], [3, 4]]
    with pytest.raises(ValueError, match="private"):
        R(tf.constant([1]), tf.constant([0, 1], tf.int64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be zero"):
        R.from_row_splits(values, [1, 7])
    with pytest.raises(tf.errors.InvalidArgumentError, match="number of values"):
        R.from_row_splits(values, [0, 3])
    with pytest.raises(tf.errors.InvalidArgumentError, match="ascending"):
        R.from_row_splits(values, [0, 5, 3, 7])


def test_from_tensor_and_to_tensor():
    dense = tf.constant([[1, 0, 0], [2, 3, 0]])
    R = tf.RaggedTensor
    assert R.from_tensor(dense).to_list() == [[1, 0, 0], [2, 3, 0]]
    assert R.from_tensor(dense, padding=0).to_list() == [[1], [2, 3]]   # TF 2.21
    assert R.from_tensor(dense, lengths=[1, 3]).to_list() == [[1], [2, 3, 0]]
    # whole rows are uniform: TF 2.21 keeps the static dims
    assert R.from_tensor(tf.zeros([2, 2, 3]), ragged_rank=2).shape.as_list() == \
        [2, 2, 3]
    rt = tf.ragged.constant([[1, 2], [3], []])
    assert _l(rt.to_tensor(default_value=9)) == [[1, 2], [3, 9], [9, 9]]
    assert _l(rt.to_tensor(shape=[3, 1])) == [[1], [3], [0]]
    assert _l(rt.to_tensor(default_value=9, shape=[3, 4])) == [[1, 2, 9, 9],
                                                                 [3, 9, 9, 9],
                                                                 [9, 9, 9, 9]]
    words = tf.ragged.constant([["a", "b"], ["c"]])
    assert _l(words.to_tensor()) == [[b"a", b"b"], [b"c", b""]]
    with pytest.raises(ValueError, match="not both"):
        R.from_tensor(dense, lengths=[1, 1], padding=0)


def test_getitem():
    rt = tf.ragged.constant([[1, 2, 3], [4], [], [5, 6]])
    assert _l(rt[0]) == [1, 2, 3] and _l(rt[-1]) == [5, 6]
    assert rt[1:3].to_list() == [[4], []]
    assert rt[::-2].to_list() == [[5, 6], [4]]
    assert rt[:, :2].to_list() == [[1, 2], [4], [], [5, 6]]
    assert rt[:, 1:].to_list() == [[2, 3], [], [], [6]]
    assert rt[:, -1:].to_list() == [[3], [4], [], [6]]
    assert rt[:, ::-1].to_list() == [[3, 2, 1], [4], [], [6, 5]]
    assert rt[1:, ::2].to_list() == [[4], [], [5]]
    assert int(rt[0, 1]) == 2 and int(rt[3, -1]) == 6
    with pytest.raises(ValueError, match="inner ragged dimension"):
        rt[:, 1]
    with pytest.raises(ValueError, match="out of range"):
        rt[4]
    r2 = tf.ragged.constant([[[1], [2, 3]], [], [[4]]])
    assert r2[0].to_list() == [[1], [2, 3]]
    assert r2[:, :, :1].to_list() == [[[1], [2]], [], [[4]]]
    assert r2[..., :1].to_list() == [[[1], [2]], [], [[4]]]
    uniform = tf.ragged.constant([[[1, 2]], [[3, 4], [5, 6]]], ragged_rank=1)
    assert uniform[:, :, 1].to_list() == [[2], [4, 6]]


def test_elementwise_operators_and_ops():
    rt = tf.ragged.constant([[1.0, 2.0], [3.0], []])
    assert (rt + 1).to_list() == [[2, 3], [4], []]
    assert (2 - rt).to_list() == [[1, 0], [-1], []]
    assert (rt * rt).to_list() == [[1, 4], [9], []]
    assert (tf.constant(1.0) + rt).to_list() == [[2, 3], [4], []]
    assert (tf.constant([[10.0], [20.0], [30.0]]) + rt).to_list() == [[11, 12], [23],
                                                                       []]
    assert (rt == 1.0).to_list() == [[True, False], [False], []]
    assert (-rt).to_list() == [[-1, -2], [-3], []]
    assert (rt > 1.5).to_list() == [[False, True], [True], []]
    np.testing.assert_allclose(tf.math.exp(rt).flat_values.numpy(),
                               np.exp([1.0, 2.0, 3.0]), rtol=1e-6)
    assert tf.cast(rt, tf.int32).to_list() == [[1, 2], [3], []]
    assert tf.maximum(rt, 2.0).to_list() == [[2, 2], [3], []]
    assert tf.ragged.map_flat_values(tf.ones_like, rt).to_list() == [[1, 1], [1], []]
    assert tf.ragged.map_flat_values(tf.add, rt, rt).to_list() == [[2, 4], [6], []]
    assert tf.strings.upper(tf.ragged.constant([["a"], ["b", "c"]])).to_list() == [
        [b"A"], [b"B", b"C"]]
    with pytest.raises(tf.errors.InvalidArgumentError, match="identical"):
        rt + tf.ragged.constant([[1.0], [2.0, 3.0], []])
    with pytest.raises(TypeError, match="does not support RaggedTensor"):
        tf.linalg.matmul(rt, rt)


def test_shape_spec_and_isinstance():
    rt = tf.ragged.constant([[1, 2], [3], []])
    shape = tf.shape(rt)
    assert repr(shape) == "<DynamicRaggedShape lengths=[3, (2, 1, 0)] " \
        "num_row_partitions=1>"
    assert int(shape[0]) == 3 and shape.rank == 2
    with pytest.raises(ValueError, match="not uniform"):
        shape[1]
    spec = tf.RaggedTensorSpec([None, None], tf.int32)
    assert repr(spec) == "RaggedTensorSpec(TensorShape([None, None]), tf.int32, 1, " \
        "tf.int64)"
    assert spec.is_compatible_with(rt) and spec.ragged_rank == 1
    assert not spec.is_compatible_with(tf.RaggedTensorSpec([None, None], tf.float32))
    assert tf.RaggedTensorSpec.from_value(rt).shape.as_list() == [3, None]
    assert isinstance(rt, tf.RaggedTensor) and not isinstance(rt, tf.Tensor)


def _sum_sq_rows(values, lengths, weights):
    rt = tf.RaggedTensor.from_row_lengths(values, lengths)
    return tf.reduce_sum(tf.reduce_sum(rt * rt, axis=1) * weights)


def test_gradient_through_flat_values_matches_finite_differences():
    x = np.random.default_rng(0).standard_normal(6)
    lengths = [2, 0, 3, 1]
    weights = tf.constant([1.0, 2.0, -1.0, 0.5], tf.float64)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = _sum_sq_rows(xt, lengths, weights)
    got = tape.gradient(loss, xt).numpy()
    want = numeric_grad(lambda a: float(_sum_sq_rows(tf.constant(a), lengths,
                                                     weights)), [x.copy()], 0)
    np.testing.assert_allclose(got, want, rtol=1e-6)

    def padded(a):
        rt = tf.RaggedTensor.from_row_lengths(a, lengths)
        dense = rt[:, 1:].to_tensor(default_value=0.0)
        return tf.reduce_sum(dense * tf.reshape(tf.range(8, dtype=tf.float64), [4, 2])
                             ) + tf.reduce_sum(tf.reduce_max(rt, axis=1)[:1])
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = padded(xt)
    got = tape.gradient(loss, xt).numpy()
    want = numeric_grad(lambda a: float(padded(tf.constant(a))), [x.copy()], 0)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_function_replays_new_row_partitions():
    @tf.function
    def f(rt):
        return tf.reduce_sum(rt * rt, axis=1), rt[:, :1] + 1.0, rt.to_tensor()

    first = tf.ragged.constant([[1.0], [2.0, 3.0], [4.0]])
    second = tf.ragged.constant([[1.0, 2.0], [], [3.0, 4.0]])   # same component shapes
    for rt in (first, second):
        sums, heads, dense = f(rt)
        eager = [tf.reduce_sum(rt * rt, axis=1), rt[:, :1] + 1.0, rt.to_tensor()]
        np.testing.assert_allclose(sums.numpy(), eager[0].numpy())
        assert isinstance(heads, tf.RaggedTensor)
        assert heads.to_list() == eager[1].to_list()
        np.testing.assert_allclose(dense.numpy(), eager[2].numpy())
    assert f.experimental_get_tracing_count() == 1

    @tf.function
    def build(values, splits):
        return tf.RaggedTensor.from_row_splits(values, splits, validate=False)
    out = build(tf.constant([1, 2, 3]), tf.constant([0, 1, 3], tf.int64))
    assert out.to_list() == [[1], [2, 3]]
    out = build(tf.constant([1, 2, 3]), tf.constant([0, 3, 3], tf.int64))
    assert out.to_list() == [[1, 2, 3], []]
