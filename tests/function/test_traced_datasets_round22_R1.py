"""Datasets built inside a ``tf.function`` from its traced tensors follow each call's
values (TF builds them with graph ops); the expected numbers are TF 2.21's, observed
by running the same programs (two different inputs each, one trace)."""

import numpy as np
import pytest

import dlframe as tf

D = tf.data.Dataset
c = tf.constant


def _calls(fn, *argsets):
    """(results of calling the function on each argument set, its trace count)."""
    f = tf.function(fn)
    out = [tf.nest.map_structure(lambda t: t.numpy().tolist(), f(*args))
           for args in argsets]
    return out, f.experimental_get_tracing_count()


def _loop_sum(ds):
    s = tf.constant(0.0)
    for v in ds:
        s += v
    return s


def _batch_sum(ds):
    s = tf.constant(0.0)
    for b in ds:
        s += tf.reduce_sum(b) * tf.cast(tf.shape(b)[0], tf.float32)
    return s


@pytest.mark.parametrize("name, fn, argsets, expected, traces", [
    ("slices", lambda x: _loop_sum(D.from_tensor_slices(x)),
     [(c([1., 2.]),), (c([5., 6.]),)], [3.0, 11.0], 1),
    ("tensors", lambda x: _loop_sum(D.from_tensors(x)),
     [(c(1.),), (c(5.),)], [1.0, 5.0], 1),
    ("map", lambda x: _loop_sum(D.from_tensor_slices(x).map(lambda v: v * 2)),
     [(c([1., 2.]),), (c([5., 6.]),)], [6.0, 22.0], 1),
    ("map_capture",
     lambda x, k: _loop_sum(D.from_tensor_slices(x).map(lambda v: v * k)),
     [(c([1., 2.]), c(2.)), (c([5., 6.]), c(3.))], [6.0, 33.0], 1),
    ("filter", lambda x: _loop_sum(D.from_tensor_slices(x).filter(lambda v: v > 2)),
     [(c([1., 3.]),), (c([5., 6.]),)], [3.0, 11.0], 1),
    ("filter_capture",
     lambda x, t: _loop_sum(D.from_tensor_slices(x).filter(lambda v: v > t)),
     [(c([1., 3.]), c(2.)), (c([5., 6.]), c(5.5))], [3.0, 6.0], 1),
    ("batch", lambda x: _batch_sum(D.from_tensor_slices(x).batch(2)),
     [(c([1., 2., 3.]),), (c([5., 6., 7., 8.]),)], [9.0, 52.0], 2),
    ("batch_traced_size", lambda x, b: _batch_sum(D.from_tensor_slices(x).batch(b)),
     [(c([1., 2., 3.]), c(2, tf.int64)), (c([5., 6., 7., 8.]), c(3, tf.int64))],
     [9.0, 62.0], 2),
    ("take", lambda x, k: _loop_sum(D.from_tensor_slices(x).take(k)),
     [(c([1., 2., 3.]), c(1, tf.int64)), (c([5., 6., 7.]), c(2, tf.int64))],
     [1.0, 11.0], 1),
    ("skip", lambda x, k: _loop_sum(D.from_tensor_slices(x).skip(k)),
     [(c([1., 2., 3.]), c(1, tf.int64)), (c([5., 6., 7.]), c(2, tf.int64))],
     [5.0, 7.0], 1),
    ("repeat", lambda x, k: _loop_sum(D.from_tensor_slices(x).repeat(k)),
     [(c([1., 2.]), c(2, tf.int64)), (c([5., 6.]), c(3, tf.int64))], [6.0, 33.0], 1),
    ("range_reduce",
     lambda n: D.range(n).reduce(tf.constant(0, tf.int64), lambda s, v: s + v),
     [(c(3, tf.int64),), (c(5, tf.int64),)], [3, 10], 1),
    ("range_loop",
     lambda n: _loop_sum(D.range(n).map(lambda v: tf.cast(v, tf.float32))),
     [(c(3, tf.int64),), (c(5, tf.int64),)], [3.0, 10.0], 1),
    ("reduce", lambda x: D.from_tensor_slices(x).reduce(0., lambda s, v: s + v),
     [(c([1., 2.]),), (c([5., 6.]),)], [3.0, 11.0], 1),
    ("reduce_init",
     lambda x, i: D.from_tensor_slices(x).reduce(i, lambda s, v: s + v),
     [(c([1., 2.]), c(10.)), (c([5., 6.]), c(20.))], [13.0, 31.0], 1),
    ("computed", lambda x: _loop_sum(D.from_tensor_slices(x * 2 + 1)),
     [(c([1., 2.]),), (c([5., 6.]),)], [8.0, 24.0], 1),
    ("shuffle",
     lambda x: D.from_tensor_slices(x).shuffle(10).reduce(0., lambda s, v: s + v),
     [(c([1., 2.]),), (c([5., 6.]),)], [3.0, 11.0], 1),
    ("cardinality", lambda x, k: D.from_tensor_slices(x).take(k).cardinality(),
     [(c([1., 2., 3.]), c(1, tf.int64)), (c([1., 2., 3.]), c(2, tf.int64))], [1, 2], 1),
    ("range_cardinality", lambda n: D.range(n).cardinality(),
     [(c(3, tf.int64),), (c(7, tf.int64),)], [3, 7], 1),
    ("single_element",
     lambda x: D.from_tensors(x).map(lambda v: v * 2).get_single_element(),
     [(c([1., 2.]),), (c([5., 6.]),)], [[2.0, 4.0], [10.0, 12.0]], 1),
    ("flat_map",
     lambda x, n: D.from_tensor_slices(x).flat_map(
         lambda v: D.from_tensors(v).repeat(n)).reduce(0., lambda s, v: s + v),
     [(c([1., 2.]), c(2, tf.int64)), (c([3., 4.]), c(3, tf.int64))], [6.0, 21.0], 1),
    ("scan",
     lambda x, i: D.from_tensor_slices(x).scan(i, lambda s, v: (s + v, s + v))
     .reduce(0., lambda s, v: s + v),
     [(c([1., 2.]), c(0.)), (c([3., 4.]), c(10.))], [4.0, 30.0], 1),
    ("ragged_map",
     lambda x: D.from_tensor_slices(tf.RaggedTensor.from_row_lengths(x, [1, 2]))
     .map(tf.reduce_sum).reduce(0., lambda s, v: s + v * v),
     [(c([1., 2., 3.]),), (c([5., 6., 7.]),)], [26.0, 194.0], 1),
    ("sparse_map",
     lambda x: D.from_tensor_slices(tf.sparse.from_dense(x))
     .map(tf.sparse.reduce_sum).reduce(0., lambda s, v: s + v),
     [(c([[1., 0.], [0., 2.]]),), (c([[5., 0.], [3., 2.]]),)], [3.0, 10.0], 1),
])
def test_pipeline_follows_each_call(name, fn, argsets, expected, traces):
    out, count = _calls(fn, *argsets)
    np.testing.assert_allclose(out, expected, err_msg=name)
    assert count == traces, name


def test_for_with_break_over_traced_dataset():
    def first_run(x):
        s = tf.constant(0.0)
        for v in D.from_tensor_slices(x):
            if v > 4:
                break
            s += v
        return s
    out, count = _calls(first_run, (c([1., 2., 5., 1.]),), (c([3., 4., 1., 9.]),))
    assert out == [3.0, 8.0] and count == 1


def test_iter_next_inside_function_opens_a_fresh_iterator_per_call():
    def two(x):
        it = iter(D.from_tensor_slices(x))
        return next(it) + 10 * next(it)
    out, count = _calls(two, (c([1., 2., 3.]),), (c([5., 6., 7.]),))
    assert out == [21.0, 65.0] and count == 1

    def first(x):
        it = iter(D.from_tensor_slices(x))
        return it.get_next(), it.get_next_as_optional().get_value()
    out, count = _calls(first, (c([1., 2., 3.]),), (c([5., 6., 7.]),))
    assert out == [(1.0, 2.0), (5.0, 6.0)] and count == 1

    ds = D.from_tensor_slices([1., 2., 3.])   # made outside: iter() still restarts

    def outside():
        it = iter(ds)
        return next(it) + 10 * next(it)
    out, _ = _calls(outside, (), ())
    assert out == [21.0, 21.0]


def test_break_leaves_the_next_element_to_the_next_call():
    it = iter(D.range(5))

    @tf.function
    def until_one(iterator):
        s = tf.constant(0, tf.int64)
        for v in iterator:
            s += v
            if v >= 1:
                break
        return s
    # TF: 0 + 1, then 2 (the element after the break is not consumed)
    assert [until_one(it).numpy(), until_one(it).numpy()] == [1, 2]


def test_shared_source_zipped_with_its_map():
    def zipped(x, k):
        ds = D.from_tensor_slices(x)
        s = tf.constant(0.0)
        for a, b in D.zip((ds, ds.map(lambda v: v + k))):
            s += a * b
        return s
    out, count = _calls(zipped, (c([1., 2.]), c(1.)), (c([3., 4.]), c(2.)))
    assert out == [8.0, 39.0] and count == 1


def test_variables_are_read_when_the_graph_runs():
    source = tf.Variable([1., 2.])
    scale = tf.Variable(2.)

    @tf.function
    def total(x):
        a = _loop_sum(D.from_tensor_slices(source))
        b = _loop_sum(D.from_tensor_slices(x).map(lambda e: e * scale))
        return a, b
    first = [t.numpy() for t in total(c([1., 2.]))]
    source.assign([7., 8.])
    scale.assign(3.)
    second = [t.numpy() for t in total(c([1., 2.]))]
    assert first == [3.0, 6.0] and second == [15.0, 9.0]
    assert total.experimental_get_tracing_count() == 1


def test_relaxed_signature_takes_any_length():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def batched(x):
        s = tf.constant(0.0)
        for b in D.from_tensor_slices(x).batch(2):
            s += tf.reduce_sum(b)
        return s
    assert batched(c([1., 2., 3.])).numpy() == 6.0
    assert batched(c([5., 6., 7., 8., 9.])).numpy() == 35.0
    assert batched.experimental_get_tracing_count() == 1


def test_single_element_errors_at_run_time():
    @tf.function
    def single(x):
        return D.from_tensor_slices(x).get_single_element()
    assert single(c([1.])).numpy() == 1.0
    assert single(c([5.])).numpy() == 5.0
    with pytest.raises(tf.errors.InvalidArgumentError, match="more than one"):
        single(c([5., 6.]))


def test_ragged_elements_from_traced_tensors_are_refused_not_stale():
    # TF pulls ragged elements in its graph loop; dlframe's loop takes dense ones
    @tf.function
    def ragged_loop(x):
        s = tf.constant(0.0)
        for e in D.from_tensor_slices(tf.RaggedTensor.from_row_lengths(x, [1, 2])):
            s += tf.reduce_sum(e)
        return s
    with pytest.raises(NotImplementedError, match="traced tensor"):
        ragged_loop(c([1., 2., 3.]))

    @tf.function
    def ragged_next(x):
        it = iter(D.from_tensor_slices(tf.RaggedTensor.from_row_lengths(x, [1, 2])))
        return tf.reduce_sum(next(it))
    with pytest.raises(NotImplementedError, match="not all dense"):
        ragged_next(c([1., 2., 3.]))


def test_pipelines_made_from_constants_are_not_rebuilt():
    made = []

    def fn(v):
        made.append(1)   # the map function's Python runs when a stage is made
        return v * 2

    @tf.function
    def total():
        return _loop_sum(D.from_tensor_slices([1., 2.]).map(fn))
    assert [total().numpy(), total().numpy()] == [6.0, 6.0]
    n = len(made)
    total()
    assert len(made) == n   # replays reuse the trace's pipeline
