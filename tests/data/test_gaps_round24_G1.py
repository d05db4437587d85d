"""Round 24 G1: concurrent runs of a graph loop over a dataset, errors raised by a
``from_generator`` generator, and the dtypes of py_function/numpy_function results.
Expected figures are TF 2.21's (run side by side)."""

import threading

import numpy as np
import pytest

import dlframe as tf


def _in_threads(work, n_threads=4):
    """Runs ``work(k)`` on ``n_threads`` threads at once; returns the exceptions."""
    errors = []
    barrier = threading.Barrier(n_threads)

    def target(k):
        barrier.wait()
        try:
            work(k)
        except Exception as exc:   # reported by the test, not lost in the thread
            errors.append(exc)
    threads = [threading.Thread(target=target, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


# --- (1) a graph loop's iterator state belongs to one run -------------------------

def test_dataset_loop_runs_concurrently_from_threads():
    ds = tf.data.Dataset.range(50)

    @tf.function
    def total():
        s = tf.constant(0, tf.int64)
        for v in ds:
            s += v
        return s

    @tf.function
    def total_of(n):   # a pipeline built from a traced tensor (graph_inputs)
        s = tf.constant(0, tf.int64)
        for v in tf.data.Dataset.range(n).map(lambda x: x * 2):
            s += v
        return s

    assert int(total()) == 1225
    assert int(total_of(tf.constant(5, tf.int64))) == 20
    wrong = []

    def work(k):
        for j in range(20):
            got = int(total())
            if got != 1225:
                wrong.append(("closure", got))
            n = 10 + k + j
            got = int(total_of(tf.constant(n, tf.int64)))
            if got != n * (n - 1):
                wrong.append((n, got))
    assert _in_threads(work) == []
    assert wrong == []


def test_iterator_loop_from_threads_takes_each_element_once():
    it = iter(tf.data.Dataset.range(400))

    @tf.function
    def take_ten(it):
        s = tf.constant(0, tf.int64)
        c = tf.constant(0, tf.int64)
        for v in it:
            s += v
            c += 1
            if c >= 10:
                break
        return s, c

    assert [int(t) for t in take_ten(it)] == [45, 10]
    results = []

    def work(k):
        for _ in range(4):
            s, c = take_ten(it)
            results.append((int(s), int(c)))
    assert _in_threads(work) == []
    # TF: elements 10..169 each went to exactly one run
    assert sum(c for _, c in results) == 160
    assert sum(s for s, _ in results) == sum(range(10, 170))
    assert int(next(it)) == 170


def test_dataset_loop_with_break_then_full_runs():
    ds = tf.data.Dataset.range(6)

    @tf.function
    def partial(limit):
        s = tf.constant(0, tf.int64)
        for v in ds:
            if v >= limit:
                break
            s += v
        return s
    assert [int(partial(tf.constant(k, tf.int64))) for k in (2, 10, 3, 0)] == \
        [1, 15, 3, 0]


# --- (2) exceptions from a from_generator generator -------------------------------

def _gen_key_error():
    yield 1
    yield 2
    raise KeyError("boom")


def _gen_value_error():
    yield 1
    raise ValueError("bad value")


def _gen_fails_at_start():
    raise RuntimeError("at start")
    yield 1   # noqa: unreachable (makes this a generator)


def _gen_returns():
    yield 1
    return


_SIG = tf.TensorSpec([], tf.int32)


@pytest.mark.parametrize("gen, error, message, before", [
    (_gen_key_error, tf.errors.UnknownError, "KeyError: 'boom'", [1, 2]),
    (_gen_value_error, tf.errors.InvalidArgumentError, "ValueError: bad value", [1]),
    (_gen_fails_at_start, tf.errors.UnknownError, "RuntimeError: at start", []),
])
def test_generator_exception_is_an_op_error(gen, error, message, before):
    ds = tf.data.Dataset.from_generator(gen, output_signature=_SIG)
    got = []
    with pytest.raises(error, match=message) as info:
        for v in ds:
            got.append(int(v))
    assert got == before
    assert isinstance(info.value.__cause__, Exception)   # the original exception

    mapped = ds.map(lambda v: v * 2)
    with pytest.raises(error, match=message):
        list(mapped.as_numpy_iterator())

    @tf.function
    def total():
        s = tf.constant(0)
        for v in ds:
            s += v
        return s
    with pytest.raises(error, match=message):
        total()


def test_generator_end_is_not_an_error():
    ds = tf.data.Dataset.from_generator(_gen_returns, output_signature=_SIG)
    assert [int(v) for v in ds] == [1]
    assert [int(v) for v in ds.repeat(3)] == [1, 1, 1]


# --- (3) result dtypes of numpy_function / py_function ----------------------------

X = tf.constant([1.0, 2.0])


@pytest.mark.parametrize("result, tout, got, want", [
    (lambda a: a.astype(np.float64), tf.int32, "double", "int32"),
    (lambda a: a, tf.float64, "float", "double"),
    (lambda a: 3, tf.float32, "int64", "float"),          # Python int: int64
    (lambda a: 2.0, tf.int32, "double", "int32"),         # Python float: double
    (lambda a: np.int64(3), tf.int32, "int64", "int32"),  # NumPy scalars too
    (lambda a: True, tf.int32, "bool", "int32"),
    (lambda a: [[1.5, 2.0]], tf.int32, "double", "int32"),  # one list result
])
def test_numpy_function_result_dtype_must_match_tout(result, tout, got, want):
    @tf.function
    def f(x):
        return tf.numpy_function(result, [x], Tout=tout)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=f"0-th value returned by .* is {got}, but expects {want}"):
        f(X)


def test_numpy_function_in_dataset_map_checks_scalar_results():
    ds = tf.data.Dataset.from_tensor_slices(X).map(
        lambda v: tf.numpy_function(lambda a: a.astype(np.float64), [v], Tout=tf.int32))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="is double, but expects int32"):
        list(ds)
    ok = tf.data.Dataset.from_tensor_slices(X).map(
        lambda v: tf.numpy_function(lambda a: a.astype(np.int32), [v], Tout=tf.int32))
    assert [int(v) for v in ok] == [1, 2]


def test_numpy_function_matching_results_pass():
    @tf.function
    def f(x):
        return tf.numpy_function(lambda a: (np.int64(3), b"x", a * 2), [x],
                                 Tout=[tf.int64, tf.string, tf.float32])
    n, s, y = f(X)
    assert int(n) == 3 and s.numpy() == b"x"
    np.testing.assert_allclose(y.numpy(), [2.0, 4.0])


@pytest.mark.parametrize("graph", [False, True])
def test_py_function_converts_as_convert_to_tensor(graph):
    def run(result, tout):
        def call(x):
            return tf.py_function(result, [x], Tout=tout)
        return (tf.function(call) if graph else call)(X)

    # NumPy values are cast to Tout, Python values converted losslessly (TF)
    np.testing.assert_array_equal(run(lambda a: np.array([1.5, 2.0]), tf.int32)
                                  .numpy(), [1, 2])
    assert int(run(lambda a: np.float64(2.5), tf.int32)) == 2
    assert float(run(lambda a: 3, tf.float32)) == 3.0
    assert int(run(lambda a: True, tf.int32)) == 1
    for value, tout, shown in ((2.5, tf.int32, "2.5"), (2.0, tf.int32, "2.0"),
                               (3, tf.bool, "3"), ([[1.5, 2.0]], tf.int32,
                                                   r"\[1.5, 2.0\]")):
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=f"TypeError: Cannot convert {shown} to EagerTensor "
                                 f"of dtype {tout.name}"):
            run(lambda a, v=value: v, tout)
