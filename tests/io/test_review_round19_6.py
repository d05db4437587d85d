"""Review of the graph-op parsers (round 19): two parses of the same records with
feature configs that differ only inside a large default array are not merged by the
graph's CSE, and sparse parse results leave the batch dim unknown as TF does."""

import numpy as np

import dlframe as tf


def _example(i):
    feature = {"ix": tf.train.Feature(int64_list=tf.train.Int64List(value=[i % 3])),
               "val": tf.train.Feature(float_list=tf.train.FloatList(value=[1.0])),
               "v": tf.train.Feature(float_list=tf.train.FloatList(value=[1.0] * i))}
    return tf.train.Example(
        features=tf.train.Features(feature=feature)).SerializeToString()


def test_large_defaults_that_repr_alike_are_not_merged():
    zeros = np.zeros(2000, np.float32)
    seven = zeros.copy()
    seven[1000] = 7.0   # numpy's repr elides the middle: both print alike
    same = {"d": tf.io.FixedLenFeature([2000], tf.float32, default_value=zeros)}
    other = {"d": tf.io.FixedLenFeature([2000], tf.float32, default_value=seven)}

    @tf.function
    def sums(x):
        return (tf.reduce_sum(tf.io.parse_example(x, same)["d"]),
                tf.reduce_sum(tf.io.parse_example(x, other)["d"]),
                tf.reduce_sum(tf.io.parse_example(x, dict(same))["d"]))

    for i in (1, 2):   # the trace, then the optimized graph's replay
        got = [float(t.numpy()) for t in sums(tf.constant([_example(i)]))]
        assert got == [0.0, 7.0, 0.0]
    stats = sums.get_concrete_function(tf.constant([_example(1)])).graph.stats
    assert stats["after_cse"] == stats["after_folding"] - 2   # equal configs merge


def test_sparse_results_leave_the_batch_dim_unknown():
    features = {"sp": tf.io.SparseFeature("ix", "val", tf.float32, 5),
                "v": tf.io.VarLenFeature(tf.float32),
                "n": tf.io.FixedLenFeature([], tf.int64, default_value=3)}
    records = [_example(i) for i in range(4)]
    ds = tf.data.Dataset.from_tensor_slices(records).batch(
        2, drop_remainder=True).map(lambda x: tf.io.parse_example(x, features))
    spec = {k: v.shape.as_list() for k, v in ds.element_spec.items()}
    assert spec == {"sp": [None, 5], "v": [None, None], "n": [2]}   # TF 2.21
    seen = []

    @tf.function
    def parse(x):
        out = tf.io.parse_example(x, features)
        seen.append({k: v.shape.as_list() for k, v in out.items()})
        return out["n"]

    assert parse(tf.constant(records[:2])).numpy().tolist() == [3, 3]
    assert seen == [{"sp": [None, 5], "v": [None, None], "n": [2]}]   # TF 2.21
