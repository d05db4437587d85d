"""Graph-mode programs compared with TF 2.21 (third probe round): tracing keys and
counts, the retracing warning, tensors leaking out of loop bodies, nested
input signatures, value-dependent static dims and run-time check messages.
Expected texts and counts come from TF 2.21 runs of the same programs."""

import collections
import dataclasses
import warnings

import numpy as np
import pytest

import dlframe as tf


def _count(calls):
    f = tf.function(lambda *a: tf.constant(1))
    for a in calls:
        f(*a)
    return f.experimental_get_tracing_count()


def test_variable_created_on_every_call_is_tfs_singleton_error():
    class Bad(tf.Module):
        @tf.function
        def __call__(self, x):
            return x + tf.Variable(1.0)

    with pytest.raises(ValueError, match="tf.function only supports singleton "
                       "tf.Variables created on the first call"):
        Bad()(tf.constant(1.0))


def test_python_numbers_key_traces_by_value_as_tf():
    # TF 2.21: 1, True and 1.0 are one trace; 2 another
    assert _count([(1,), (1,), (2,), (True,), (1.0,)]) == 2
    assert _count([(1,), (True,), (0,), (False,)]) == 2
    ret = tf.function(lambda x: x)
    assert ret(1).dtype == tf.int32
    assert ret(True).dtype == tf.int32   # TF reuses the trace of 1


def test_numpy_scalars_trace_like_tensors():
    assert _count([(np.float32(1.0),), (np.float32(2.0),), (np.int64(2),)]) == 2
    f = tf.function(lambda x: x * 2)
    assert float(f(np.float32(1.5))) == 3.0
    assert float(f(np.float32(2.5))) == 5.0   # not the baked value of the first call
    assert f.experimental_get_tracing_count() == 1


def test_structures_keep_their_counts():
    point = collections.namedtuple("P", "x y")
    assert _count([(point(tf.constant(1.0), tf.constant(2.0)),),
                   (point(tf.constant(3.0), tf.constant(4.0)),)]) == 1
    assert _count([({"a": tf.constant(1.0)},), ({"a": tf.constant(2.0)},),
                   ({"b": tf.constant(2.0)},), ({"a": tf.constant(2)},)]) == 3


def test_unhashable_python_argument_is_tfs_type_error():
    @dataclasses.dataclass
    class Config:
        a: int

    f = tf.function(lambda c: tf.constant(c.a))
    with pytest.raises(TypeError, match="Could not generate a generic TraceType"):
        f(Config(1))


def test_frequent_retracing_warns_with_tfs_text_twice_at_most():
    ret = tf.function(lambda x: x)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(8):
            ret(i)
    texts = [str(w.message) for w in caught if "retracing" in str(w.message)]
    assert [t.split(" calls")[0] for t in texts] == ["5 out of the last 5",
                                                      "6 out of the last 6"]
    assert "triggered tf.function retracing" in texts[0]
    assert "reduce_retracing=True" in texts[0]


def test_retracing_window_counts_calls_as_tf():
    f = tf.function(lambda x: x + 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(1, 6):
            for _ in range(3):
                f(tf.ones((n,)))
    texts = [str(w.message) for w in caught if "retracing" in str(w.message)]
    assert [t.split(" calls")[0] for t in texts] == ["5 out of the last 13"]   # TF 2.21

    g = tf.function(lambda x: x * 2)   # one trace per 11 calls: never frequent
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(1, 8):
            for _ in range(11):
                g(tf.ones((n,)))
    assert not [w for w in caught if "retracing" in str(w.message)]


def test_loop_tensor_leaked_through_python_list_is_refused():
    @tf.function
    def collect(n):
        out = []
        for i in tf.range(n):
            out.append(i)   # noqa: PERF402 - the mistake under test
        return tf.stack(out)

    with pytest.raises(ValueError, match="out of scope and cannot be used here"):
        collect(tf.constant(3))

    @tf.function
    def with_array(n):
        ta = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
        for i in tf.range(n):
            ta = ta.write(i, i * i)
        return ta.stack()

    np.testing.assert_array_equal(with_array(tf.constant(4)).numpy(), [0, 1, 4, 9])


def test_nested_function_binds_its_input_signature():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def inner(x):
        return x * 2

    @tf.function
    def outer(x):
        return inner(x)

    np.testing.assert_allclose(outer(tf.ones([3])).numpy(), [2.0, 2.0, 2.0])
    with pytest.raises(TypeError):
        outer(tf.ones([2, 2]))


def test_value_dependent_sizes_are_unknown_in_the_graph():
    seen = {}

    @tf.function(input_signature=[tf.TensorSpec([4], tf.float32)])
    def f(x):
        m = x > 0
        found = {
            "boolean_mask": tf.boolean_mask(x, m),
            "mask2d": tf.boolean_mask(tf.reshape(x, [-1, 1]) * tf.ones([1, 3]), m),
            "getitem": x[m],
            "where": tf.where(m),
            "gather_where": tf.gather(x, tf.where(m)),
            "unique": tf.unique(x)[0],
            "unique_idx": tf.unique(x)[1],
            "partition": tf.dynamic_partition(x, tf.cast(m, tf.int32), 2)[0],
            "range": tf.range(tf.cast(tf.reduce_max(x), tf.int32)),
            "nms": tf.image.non_max_suppression(tf.stack([x, x, x + 1, x + 1], 1),
                                                x, 3),
            "where3": tf.where(m, x, 0.0),
        }
        seen.update({k: v.shape.as_list() for k, v in found.items()})
        return found["boolean_mask"]

    out = f(tf.constant([1.0, -2.0, 3.0, 3.0]))
    np.testing.assert_allclose(out.numpy(), [1.0, 3.0, 3.0])
    # static shapes printed by TF 2.21 for the same program
    assert seen == {"boolean_mask": [None], "mask2d": [None, 3], "getitem": [None],
                    "where": [None, 1], "gather_where": [None, 1], "unique": [None],
                    "unique_idx": [4], "partition": [None], "range": [None],
                    "nms": [None], "where3": [4]}
    assert f.get_concrete_function().output_shapes.as_list() == [None]


def test_set_shape_and_ensure_shape_refine_the_static_view():
    seen = []

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    def f(x):
        seen.append(x.shape.as_list())
        x.set_shape([3, 2])
        seen.append(x.shape.as_list())
        y = tf.boolean_mask(x[:, 0], x[:, 1] > 0)
        seen.append(y.shape.as_list())
        z = tf.ensure_shape(y, [3])
        seen.append(z.shape.as_list())
        return z

    np.testing.assert_allclose(f(tf.ones([3, 2])).numpy(), [1.0, 1.0, 1.0])
    assert seen == [[None, 2], [3, 2], [None], [3]]


def _message(fn, *args):
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        fn(*args)
    return str(info.value)


def test_run_time_assert_messages_have_tfs_graph_form():
    @tf.function
    def g(x, y):
        tf.debugging.assert_equal(x, y)
        return x

    assert _message(g, tf.constant([1, 2]), tf.constant([1, 3])) == (
        "assertion failed: [Condition x == y did not hold element-wise:] "
        "[x (x:0) = ] [1 2] [y (y:0) = ] [1 3]")

    @tf.function
    def h(x):
        tf.debugging.Assert(tf.reduce_all(x > 0), [x, "values", tf.constant(3.5)])
        tf.debugging.assert_positive(x)
        return x * 2

    np.testing.assert_allclose(h(tf.constant([1.0, 2.0])).numpy(), [2.0, 4.0])
    assert _message(h, tf.constant([1.0, -2.0])) == "assertion failed: [1 -2] [values] [3.5]"

    @tf.function
    def p(x):
        tf.debugging.assert_positive(x)
        return x

    assert _message(p, tf.constant([1.0, -1.0])) == (
        "assertion failed: [] [Condition x > 0 did not hold element-wise:] "
        "[x (x:0) = ] [1 -1]")


def test_eager_assert_messages_have_tfs_python_form():
    text = _message(tf.debugging.assert_equal, tf.constant([1, 2]), tf.constant([1, 3]))
    assert text == ("Condition x == y did not hold.\nIndices of first 1 different values:"
                    "\n[[1]]\nCorresponding x values:\n[2]\nCorresponding y values:\n[3]"
                    "\nFirst 2 elements of x:\n[1 2]\nFirst 2 elements of y:\n[1 3]")
    text = _message(tf.debugging.assert_positive, tf.constant([1.0, -1.0]))
    assert text == ("\nCondition x > 0 did not hold element-wise:\n"
                    "x (shape=(2,) dtype=float32) = \n['1.0', '-1.0']")
    text = _message(tf.debugging.Assert, False, ["bad", tf.constant([1, 2])])
    assert text == "Expected 'False' to be true. Summarized data: b'bad'\n1, 2"


@pytest.mark.parametrize("values, found", [([1.0, float("inf")], "Inf"),
                                           ([float("nan"), 1.0], "NaN"),
                                           ([float("nan"), float("inf")], "Inf and NaN")])
def test_check_numerics_names_what_it_found(values, found):
    f = tf.function(lambda x: tf.debugging.check_numerics(x, "m"))
    for run in (f, lambda x: tf.debugging.check_numerics(x, "m")):
        assert _message(run, tf.constant(values)) == f"m : Tensor had {found} values"
