"""Lists in a map function's result as TF 2.21 normalizes them: a top-level list is
a tuple of components, a list nested inside is one Tensor (items packed)."""

import numpy as np

import dlframe as tf


def _specs(ds):
    return tf.nest.map_structure(lambda s: (s.shape.as_list(), s.dtype.name),
                                 ds.element_spec)


def test_top_level_list_is_a_tuple():
    ds = tf.data.Dataset.range(3).map(lambda x: [x, x * 2])
    assert _specs(ds) == (([], "int64"), ([], "int64"))
    assert [tuple(int(v) for v in e) for e in ds] == [(0, 0), (1, 2), (2, 4)]


def test_nested_lists_are_tensors():
    ds = tf.data.Dataset.range(2)
    assert _specs(ds.map(lambda x: (x, [x, x]))) == (([], "int64"), ([2], "int64"))
    assert _specs(ds.map(lambda x: {"a": [x, x]})) == {"a": ([2], "int64")}
    assert _specs(ds.map(lambda x: [[x, x], [x, x]])) == (([2], "int64"),
                                                          ([2], "int64"))
    assert _specs(ds.map(lambda x: {"a": ([x, x], x)})) == {
        "a": (([2], "int64"), ([], "int64"))}
    got = list(ds.map(lambda x: {"a": [x, 1]}).as_numpy_iterator())
    np.testing.assert_array_equal(got[1]["a"], [1, 1])
    assert got[1]["a"].dtype == np.int64   # Python numbers take the tensor's dtype
    got = list(ds.map(lambda x: (x, [1.5, 2])).as_numpy_iterator())
    assert got[0][1].dtype == np.float32
    np.testing.assert_array_equal(got[0][1], [1.5, 2.0])
    got = list(ds.map(lambda x: {"a": ["u", "v"]}).as_numpy_iterator())
    assert got[0]["a"].tolist() == [b"u", b"v"]


def test_nested_lists_batch_as_tensors():
    ds = tf.data.Dataset.range(4).map(lambda x: {"pair": [x, x + 10]}).batch(2)
    assert _specs(ds) == {"pair": ([None, 2], "int64")}
    first = next(iter(ds))["pair"].numpy()
    np.testing.assert_array_equal(first, [[0, 10], [1, 11]])
