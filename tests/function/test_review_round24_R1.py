"""Read-back review of dataset arguments of tf.function (round 24, R1): pipelines a
function builds on its dataset argument read each call's dataset, not the first
one's (``cache()``, ``get_single_element()``, ``cardinality()`` of a derived
pipeline), and ragged datasets or iterators passed as arguments are not replayed
with a stale element. Expected figures were observed on TF 2.21."""

import dlframe as tf


def _scaled(k, n=5):
    return tf.data.Dataset.range(n).map(lambda x: x * k)


def _fold(ds):
    return ds.reduce(tf.constant(0, tf.int64), lambda s, x: s + x)


def test_cache_built_in_the_function_reads_each_calls_dataset():
    @tf.function
    def cached_sum(ds):
        return _fold(ds.cache())
    assert [int(cached_sum(_scaled(k))) for k in (1, 2, 3)] == [10, 20, 30]
    assert cached_sum.experimental_get_tracing_count() == 1

    @tf.function
    def first_two(ds):   # an iterator opened on a cache of the argument
        it = iter(ds.cache())
        return next(it) + next(it)
    assert [int(first_two(_scaled(k))) for k in (1, 2, 3)] == [1, 2, 3]


def test_single_element_and_cardinality_of_a_derived_pipeline_follow_the_call():
    @tf.function
    def whole(ds):
        return ds.batch(100).get_single_element()
    assert [whole(_scaled(k)).numpy().tolist() for k in (1, 2)] == [
        [0, 1, 2, 3, 4], [0, 2, 4, 6, 8]]
    assert whole.experimental_get_tracing_count() == 1

    @tf.function
    def counts(ds):
        return ds.batch(2).cardinality(), ds.take(3).cardinality()
    got = [[int(c) for c in counts(_scaled(1, n))] for n in (5, 2, 8)]
    assert got == [[3, 3], [1, 2], [4, 3]]
    assert counts.experimental_get_tracing_count() == 1

    @tf.function
    def both(ds):   # one argument read by a loop and by a single element
        total = _fold(ds)
        return total, ds.map(lambda x: x + 1).batch(10).get_single_element()
    got = [[v.numpy().tolist() for v in both(_scaled(k))] for k in (1, 2)]
    assert got == [[10, [1, 2, 3, 4, 5]], [20, [1, 3, 5, 7, 9]]]


def test_traced_count_and_dataset_argument_together():
    @tf.function
    def head(ds, n):
        return ds.take(n).batch(10).get_single_element()
    got = [head(_scaled(k), tf.constant(k, tf.int64)).numpy().tolist()
           for k in (1, 2, 3)]
    assert got == [[0], [0, 2], [0, 3, 6]]


def test_concrete_function_of_a_dataset_spec_reads_the_given_dataset():
    @tf.function
    def whole(ds):
        return ds.batch(10).get_single_element()
    cf = whole.get_concrete_function(tf.data.DatasetSpec(tf.TensorSpec([], tf.int64)))
    assert cf(_scaled(2, 3)).numpy().tolist() == [0, 2, 4]
    assert cf(_scaled(3, 3)).numpy().tolist() == [0, 3, 6]


def test_ragged_dataset_and_iterator_arguments_read_each_calls_elements():
    def ragged(k):
        return tf.data.Dataset.from_tensor_slices(
            tf.ragged.constant([[1, 2], [3]], dtype=tf.int64) * k)

    @tf.function
    def total(ds):
        s = tf.constant(0, tf.int64)
        for e in ds:
            s += tf.reduce_sum(e)
        return s
    assert [int(total(ragged(k))) for k in (1, 2)] == [6, 12]

    @tf.function
    def first(it):
        return tf.reduce_sum(next(it))
    assert [int(first(iter(ragged(k)))) for k in (1, 2)] == [3, 6]
