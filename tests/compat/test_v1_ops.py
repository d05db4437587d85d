"""tf.compat.v1's renamed ops and TF1 signatures (expected values from TF 2.21)."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_function_matches_eager, check_op

v1 = tf.compat.v1


def test_random_renames_follow_the_seed():
    v1.set_random_seed(5)
    a = [v1.random_normal([3]), v1.random_uniform([3], maxval=5, dtype=tf.int32),
         v1.truncated_normal([3], stddev=0.5)]
    tf.random.set_seed(5)
    b = [tf.random.normal([3]), tf.random.uniform([3], maxval=5, dtype=tf.int32),
         tf.random.truncated_normal([3], stddev=0.5)]
    for x, y in zip(a, b):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    assert np.all(np.abs(a[2].numpy()) <= 1.0)
    crop = v1.random_crop(tf.reshape(tf.range(16), [4, 4]), [2, 2]).numpy()
    assert crop.shape == (2, 2) and crop[0, 1] == crop[0, 0] + 1
    samples = v1.multinomial([[-1e9, 0.0]], 5)
    assert samples.dtype == tf.int64
    np.testing.assert_array_equal(samples.numpy(), [[1] * 5])
    assert v1.multinomial([[0.0, 0.0]], 2, output_dtype=tf.int32).dtype == tf.int32


@pytest.mark.parametrize("fn,dtype", [("to_float", tf.float32), ("to_double", tf.float64),
                                      ("to_int32", tf.int32), ("to_int64", tf.int64),
                                      ("to_bfloat16", tf.bfloat16)])
def test_to_casts(fn, dtype):
    out = getattr(v1, fn)(tf.constant([1.7, -2.5]))
    assert out.dtype == dtype
    expect = [1, -2] if dtype.is_integer else [1.7, -2.5]   # TF truncates to int
    np.testing.assert_allclose(out.numpy().astype(np.float64), expect, rtol=1e-2)


def test_div_is_python2_division_and_log():
    np.testing.assert_array_equal(v1.div(tf.constant([7, -7]), 2).numpy(), [3, -4])
    np.testing.assert_allclose(v1.div(tf.constant([7.0, -7.0]), 2.0).numpy(),
                               [3.5, -3.5])
    x = np.array([0.5, 2.0, 3.0])
    check_op(lambda a: v1.div(a, 2.0), [x], lambda a: a / 2)
    check_op(v1.log, [x], np.log)


def test_tf1_argument_names():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    out = v1.reduce_sum(x, reduction_indices=[1], keep_dims=True)
    np.testing.assert_array_equal(out.numpy(), [[3.0], [7.0]])
    check_op(lambda a: v1.reduce_mean(a, 0, keep_dims=True), [x],
             lambda a: a.mean(0, keepdims=True))
    np.testing.assert_array_equal(v1.reduce_max(x, reduction_indices=0).numpy(), [3, 4])
    with pytest.raises(ValueError, match="Cannot specify both 'reduction_indices' and "
                                         "'axis'"):
        v1.reduce_sum(x, axis=0, reduction_indices=0)
    m = tf.constant([[1, 3, 2]])
    for f, want in [(v1.arg_max, 1), (v1.arg_min, 0)]:
        out = f(m, 1)
        assert out.dtype == tf.int64 and out.numpy().tolist() == [want]
    assert v1.argmax(m, dimension=1).numpy().tolist() == [1]
    assert v1.argmin(m, axis=1, output_type=tf.int32).dtype == tf.int32
    with pytest.raises(ValueError, match="Cannot specify both 'dimension' and 'axis'"):
        v1.argmax(m, axis=1, dimension=1)
    assert v1.expand_dims(tf.zeros([2]), dim=0).shape == (1, 2)
    assert v1.squeeze(tf.zeros([1, 2, 1]), squeeze_dims=[0]).shape == (2, 1)
    counts = v1.count_nonzero(tf.constant([[1, 0], [2, 3]]), axis=1, keep_dims=True)
    assert counts.dtype == tf.int64
    np.testing.assert_array_equal(counts.numpy(), [[1], [2]])
    np.testing.assert_array_equal(
        v1.count_nonzero(input=tf.constant([[1, 0], [2, 3]]),
                         reduction_indices=0).numpy(), [2, 1])
    check_function_matches_eager(
        lambda a: v1.reduce_sum(a, reduction_indices=1, keep_dims=True), [x])


def test_sparse_to_dense():
    out = v1.sparse_to_dense([[0, 1], [1, 0]], [2, 3], [5, 6], default_value=-1)
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), [[-1, 5, -1], [6, -1, -1]])
    np.testing.assert_array_equal(v1.sparse_to_dense([0, 2], [4], 1).numpy(),
                                  [1, 0, 1, 0])
    np.testing.assert_allclose(v1.sparse_to_dense(2, [3], 1.5).numpy(), [0, 0, 1.5])


def _sparse(st):
    return (st.indices.numpy().tolist(), st.values.numpy().tolist(),
            st.dense_shape.numpy().tolist())


def test_string_split():
    st = v1.string_split(["a b", "c  d e"])
    assert st.indices.dtype == tf.int64 and st.dense_shape.dtype == tf.int64
    assert _sparse(st) == ([[0, 0], [0, 1], [1, 0], [1, 1], [1, 2]],
                           [b"a", b"b", b"c", b"d", b"e"], [2, 3])
    assert _sparse(v1.string_split(["a,,b"], delimiter=",", skip_empty=False)) == (
        [[0, 0], [0, 1], [0, 2]], [b"a", b"", b"b"], [1, 3])
    assert _sparse(v1.string_split(["ab"], delimiter=""))[1] == [b"a", b"b"]
    # every character of the delimiter splits (TF1), not the whole string
    assert _sparse(v1.string_split(["a;b,c"], delimiter=";,"))[1] == [b"a", b"b", b"c"]
    assert _sparse(v1.string_split(["a bc"], sep="bc"))[1] == [b"a "]
    ragged = v1.string_split(["a b", "c"], result_type="RaggedTensor")
    assert ragged.to_list() == [[b"a", b"b"], [b"c"]]
    with pytest.raises(ValueError, match="Cannot specify both 'delimiter' and 'sep'"):
        v1.string_split(["a"], sep=";", delimiter=",")


def test_decode_raw_and_parse_signatures():
    out = v1.decode_raw(tf.constant([b"\x01\x00\x02\x00"]), tf.int16)
    assert out.dtype == tf.int16 and out.numpy().tolist() == [[1, 2]]
    out = v1.decode_raw(bytes=tf.constant([b"\x01\x00"]), out_type=tf.uint8)
    assert out.numpy().tolist() == [[1, 0]]
    assert v1.FixedLenFeature is tf.io.FixedLenFeature
    example = tf.train.Example(features=tf.train.Features(feature={
        "x": tf.train.Feature(int64_list=tf.train.Int64List(value=[4, 5]))}))
    blob = example.SerializeToString()
    features = {"x": v1.FixedLenFeature([2], tf.int64)}
    parsed = v1.parse_single_example(blob, features, "name")
    np.testing.assert_array_equal(parsed["x"].numpy(), [4, 5])
    parsed = v1.parse_example([blob, blob], {"x": v1.VarLenFeature(tf.int64)})
    np.testing.assert_array_equal(parsed["x"].values.numpy(), [4, 5, 4, 5])


def test_print_passes_input_through_and_prints(capsys):
    x = tf.constant([1, 2])
    out = v1.Print(x, [tf.constant([[1, 2], [3, 4]]), tf.constant("s"), tf.range(10)],
                   message="m: ")
    np.testing.assert_array_equal(out.numpy(), [1, 2])
    v1.Print(x, [tf.range(10)], summarize=2)
    for _ in range(2):
        v1.Print(x, [tf.constant([True])], first_n=1, message="once")
    # the layout TF 2.21 prints
    assert capsys.readouterr().err == "m: [[1 2][3...]...][s][0 1 2...]\n[0 1...]\n" \
                                      "once[True]\n"


def test_variable_functions():
    v = tf.Variable([1.0, 2.0, 3.0])
    assert v1.assign(v, [3.0, 4.0, 5.0]) is not None
    v1.assign_add(v, [1.0, 1.0, 1.0])
    v1.assign_sub(v, [2.0, 0.0, 0.0])
    np.testing.assert_array_equal(v.numpy(), [2.0, 5.0, 6.0])
    for fn, want in [(v1.scatter_update, [9.0, 2.0, 8.0]),
                     (v1.scatter_add, [10.0, 2.0, 11.0]),
                     (v1.scatter_sub, [-8.0, 2.0, -5.0]),
                     (v1.scatter_mul, [9.0, 2.0, 24.0]),
                     (v1.scatter_max, [9.0, 2.0, 8.0]),
                     (v1.scatter_min, [1.0, 2.0, 3.0])]:
        w = tf.Variable([1.0, 2.0, 3.0])
        fn(w, [0, 2], [9.0, 8.0])
        np.testing.assert_array_equal(w.numpy(), want, err_msg=str(fn))
    w = tf.Variable([1.0, 2.0, 3.0])
    v1.scatter_add(w, [0, 0], [9.0, 8.0])        # duplicates accumulate
    np.testing.assert_array_equal(w.numpy(), [18.0, 2.0, 3.0])
    v1.scatter_nd_update(w, [[1]], [7.0])
    v1.scatter_nd_add(w, [[1]], [7.0])
    np.testing.assert_array_equal(w.numpy(), [18.0, 14.0, 3.0])
    with pytest.raises(AttributeError):
        v1.assign(tf.constant([1.0]), [2.0])
    np.testing.assert_array_equal(
        v1.placeholder_with_default(tf.constant([1.0]), [None]).numpy(), [1.0])
