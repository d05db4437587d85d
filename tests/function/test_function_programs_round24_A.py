"""tf.function programs as users write them (round 24, area A): dataset and iterator
arguments traced once per element spec, recursive functions, TensorArrays, and the
split of ``function`` / ``static_dims``. Expected figures were observed on TF 2.21."""

import copy
import importlib

import numpy as np
import pytest

import dlframe as tf
from dlframe.core.function_scope import InaccessibleTensorError


# -- dataset arguments: one trace per element spec, each call reads its dataset -------

def test_dataset_argument_traces_once_per_element_spec():
    @tf.function
    def total(ds):
        s = tf.constant(0, tf.int64)
        for x in ds:
            s += x
        return s
    got = [(int(total(tf.data.Dataset.range(n))), total.experimental_get_tracing_count())
           for n in (3, 5, 7)]
    assert got == [(3, 1), (10, 1), (21, 1)]
    # another pipeline of the same element spec replays the trace too (TF: 12, 1)
    assert int(total(tf.data.Dataset.range(4).map(lambda v: v * 2))) == 12
    assert total.experimental_get_tracing_count() == 1

    @tf.function
    def rows(ds):
        s = tf.constant(0.0)
        for x in ds:
            s += tf.reduce_sum(x)
        return s
    two = tf.data.Dataset.from_tensor_slices([[1.0, 2.0], [3.0, 4.0]])
    three = tf.data.Dataset.from_tensor_slices([[1.0, 2.0, 3.0]])
    assert float(rows(two)) == 10.0
    assert float(rows(three)) == 6.0   # another element spec: a second trace
    assert rows.experimental_get_tracing_count() == 2
    assert float(rows(tf.data.Dataset.from_tensor_slices([[5.0, 5.0]]))) == 10.0
    assert rows.experimental_get_tracing_count() == 2


def test_dataset_argument_pipelines_built_inside_read_each_call():
    @tf.function
    def mapped(ds, k):
        s = tf.constant(0.0)
        for x in ds.map(lambda v: v * k).batch(2):
            s += tf.reduce_sum(x)
        return s

    @tf.function
    def reduced(ds):
        return ds.reduce(tf.constant(0, tf.int64), lambda a, b: a + b)

    @tf.function
    def weighted(ds):
        s = tf.constant(0, tf.int64)
        for i, x in ds.enumerate():
            s += i * x
        return s
    for n, want in ((3, 6.0), (5, 20.0)):
        ds = tf.data.Dataset.from_tensor_slices(tf.range(n, dtype=tf.float32))
        assert float(mapped(ds, tf.constant(2.0))) == want
    assert [int(reduced(tf.data.Dataset.range(n))) for n in (4, 6)] == [6, 15]
    assert [int(weighted(tf.data.Dataset.range(n))) for n in (4, 5)] == [14, 30]
    for f in (mapped, reduced, weighted):
        assert f.experimental_get_tracing_count() == 1


def test_dataset_argument_break_continue_and_nested_structures():
    @tf.function
    def odd_sum(ds, limit):
        s, c = tf.constant(0, tf.int64), tf.constant(0)
        for x in ds:
            if x % 2 == 0:
                continue
            if x > limit:
                break
            s += x
            c += 1
        return s, c

    @tf.function
    def two(d):
        s = tf.constant(0, tf.int64)
        for x in d["a"]:
            s += x
        for y in d["b"]:
            s += 10 * y
        return s
    for n in (10, 20):
        s, c = odd_sum(tf.data.Dataset.range(n), tf.constant(7, tf.int64))
        assert (int(s), int(c)) == (16, 4)
    assert odd_sum.experimental_get_tracing_count() == 1
    assert int(two({"a": tf.data.Dataset.range(3), "b": tf.data.Dataset.range(2)})) == 13
    assert int(two({"a": tf.data.Dataset.range(4), "b": tf.data.Dataset.range(1)})) == 6
    assert two.experimental_get_tracing_count() == 1


def test_dataset_argument_length_is_read_at_each_run():
    @tf.function
    def length(ds):
        return len(ds)

    @tf.function
    def card(ds):
        return ds.cardinality()
    assert [int(length(tf.data.Dataset.range(n))) for n in (4, 7)] == [4, 7]
    assert [int(card(tf.data.Dataset.range(n))) for n in (4, 7)] == [4, 7]
    assert length.experimental_get_tracing_count() == 1
    assert card.experimental_get_tracing_count() == 1
    # TF: InvalidArgumentError "len requires dataset with definitive cardinality"
    with pytest.raises(tf.errors.InvalidArgumentError, match="definitive cardinality"):
        length(tf.data.Dataset.range(4).repeat())
    with pytest.raises(tf.errors.InvalidArgumentError, match="-2"):
        length(tf.data.Dataset.range(4).filter(lambda x: x > 1))
    assert length.experimental_get_tracing_count() == 1


def test_training_loop_over_a_new_dataset_each_epoch_traces_once_and_learns():
    xs = np.linspace(-1, 1, 32).astype("float32")[:, None]
    ys = 3.0 * xs + 0.5
    w, b = tf.Variable([[0.0]]), tf.Variable([0.0])
    opt = tf.keras.optimizers.SGD(0.5)

    @tf.function
    def train_epoch(ds):
        total, n = tf.constant(0.0), tf.constant(0)
        for x, y in ds:
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean((tf.matmul(x, w) + b - y) ** 2)
            opt.apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b]))
            total += loss
            n += 1
        return total / tf.cast(n, tf.float32)
    losses = []
    for epoch in range(4):   # batch 8 then 16: both [None, 1] elements, as in TF
        ds = tf.data.Dataset.from_tensor_slices((xs, ys)).shuffle(32, seed=epoch)
        losses.append(float(train_epoch(ds.batch(8 if epoch < 2 else 16))))
    assert train_epoch.experimental_get_tracing_count() == 1
    assert losses[-1] < 0.05 < losses[0]
    np.testing.assert_allclose(w.numpy(), [[3.0]], atol=0.1)
    np.testing.assert_allclose(b.numpy(), [0.5], atol=0.05)


def test_generator_datasets_and_concrete_function_of_a_dataset():
    def gen(n):
        def g():
            for i in range(n):
                yield {"x": np.arange(i + 1, dtype="float32"), "id": i}
        return g
    sig = {"x": tf.TensorSpec([None], tf.float32), "id": tf.TensorSpec([], tf.int32)}

    @tf.function
    def summarize(ds):
        tot, ids = tf.constant(0.0), tf.constant(0)
        for el in ds:
            tot += tf.reduce_sum(el["x"])
            ids += tf.reduce_sum(el["id"])
        return tot, ids

    def run(ds):
        return tuple(float(v) for v in summarize(ds))
    assert run(tf.data.Dataset.from_generator(gen(3), output_signature=sig)) == (4.0, 3.0)
    assert run(tf.data.Dataset.from_generator(gen(4), output_signature=sig)) == (10.0, 6.0)
    assert summarize.experimental_get_tracing_count() == 1
    padded = tf.data.Dataset.from_generator(gen(5), output_signature=sig).padded_batch(2)
    assert run(padded) == (20.0, 10.0)
    summarize.get_concrete_function(
        tf.data.Dataset.from_generator(gen(2), output_signature=sig))
    assert summarize.experimental_get_tracing_count() == 2   # TF: 2, 2, 2
    assert run(tf.data.Dataset.from_generator(gen(6), output_signature=sig)) == (35.0, 15.0)
    assert summarize.experimental_get_tracing_count() == 2
    # a copy keeps the function, not its traces (nor the datasets bound to them)
    clone = copy.deepcopy(summarize)
    assert clone.experimental_get_tracing_count() == 0
    assert not clone._dataset_slots


def test_iterator_argument_traces_once_and_pulls_from_the_given_iterator():
    @tf.function
    def drain(it, k):
        s = tf.constant(0, tf.int64)
        for x in it:
            s += x
            if x >= k:
                break
        return s
    ds = tf.data.Dataset.range(10)
    a, b = iter(ds), iter(ds.map(lambda v: v * 10))
    def run(it, k):
        return int(drain(it, tf.constant(k, tf.int64)))
    got = [run(a, 3), run(b, 30), run(a, 6), int(next(a)), int(next(b))]
    assert got == [6, 60, 15, 7, 40]   # TF's figures
    assert drain.experimental_get_tracing_count() == 1

    @tf.function
    def first(it):
        o = it.get_next_as_optional()
        return tf.cond(o.has_value(), o.get_value, lambda: tf.constant(-1, tf.int64))
    c, d = iter(tf.data.Dataset.range(2)), iter(tf.data.Dataset.range(5, 6))
    assert [int(first(i)) for i in (c, d, d, c, c)] == [0, 5, -1, 1, -1]
    assert first.experimental_get_tracing_count() == 1

    @tf.function
    def get(it):
        return it.get_next()
    e = iter(tf.data.Dataset.range(1))
    assert int(get(e)) == 0
    with pytest.raises(tf.errors.OutOfRangeError):
        get(e)


# -- recursion ----------------------------------------------------------------------

def test_recursive_function_on_a_tensor_gives_a_clear_recursion_error():
    @tf.function
    def fact(n):
        if n <= 1:
            return tf.constant(1)
        return n * fact(n - 1)
    assert int(fact(5)) == 120   # Python values: one trace per value, as TF
    # TF: StagingError "... RecursionError: maximum recursion depth exceeded"
    with pytest.raises(RecursionError, match="while tracing tf.function 'fact'"):
        fact(tf.constant(5))
    with pytest.raises(RecursionError, match="tf.while_loop"):
        fact(tf.constant(5))

    @tf.function
    def ping(x):
        return pong(x) + 1.0

    @tf.function
    def pong(x):
        return ping(x) * 2.0
    with pytest.raises(RecursionError, match="'ping'"):
        ping(tf.constant(1.0))

    @tf.function
    def doubling(x, n):
        return x if n == 0 else doubling(x * 2.0, n - 1)
    assert float(doubling(tf.constant(1.0), 5)) == 32.0
    assert doubling.experimental_get_tracing_count() == 6   # TF: 32.0, 6

    @tf.function   # the tracer is left in order: later functions trace and run
    def plain(x):
        return x + 1
    assert float(plain(tf.constant(1.0))) == 2.0


def test_a_python_recursion_error_of_user_code_is_left_alone():
    def deep(k):
        return deep(k + 1)

    @tf.function
    def f(x):
        deep(0)
        return x
    with pytest.raises(RecursionError) as info:
        f(tf.constant(1.0))
    assert "while tracing" not in str(info.value)


# -- programs -----------------------------------------------------------------------

def test_tensor_loop_appending_to_a_python_list_is_an_inaccessible_tensor_error():
    @tf.function
    def bad(n):
        out = []
        for i in tf.range(n):
            out.append(i)
        return tf.stack(out)
    with pytest.raises(InaccessibleTensorError):   # TF's class too
        bad(tf.constant(3))

    @tf.function
    def good(x):
        return tf.stack([x * i for i in range(3)])
    np.testing.assert_allclose(good(tf.constant(2.0)).numpy(), [0.0, 2.0, 4.0])


def test_while_loop_shape_invariants_and_loop_options():
    @tf.function
    def grow(n):
        x, i = tf.zeros([1, 2]), tf.constant(0)
        i, x = tf.while_loop(lambda i, x: i < n, lambda i, x: (i + 1, tf.concat([x, x], 0)),
                             [i, x], shape_invariants=[i.get_shape(),
                                                       tf.TensorShape([None, 2])])
        return x

    @tf.function
    def grow_bad(n):
        x, i = tf.zeros([1, 2]), tf.constant(0)
        return tf.while_loop(lambda i, x: i < n, lambda i, x: (i + 1, tf.concat([x, x], 0)),
                             [i, x])

    @tf.function
    def grow2(n):
        x = tf.zeros([1])
        for i in tf.range(n):
            tf.autograph.experimental.set_loop_options(
                shape_invariants=[(x, tf.TensorShape([None]))])
            x = tf.concat([x, [tf.cast(i, tf.float32)]], 0)
        return x
    assert grow(tf.constant(3)).shape == (8, 2)
    with pytest.raises(ValueError, match=r"shape \[1, 2\].*\[2, 2\]"):
        grow_bad(tf.constant(2))
    np.testing.assert_allclose(grow2(tf.constant(4)).numpy(), [0.0, 0.0, 1.0, 2.0, 3.0])


def test_branch_ops_in_one_trace():
    @tf.function
    def pick(i, x):
        a = tf.switch_case(i, branch_fns=[lambda: x * 1.0, lambda: x * 2.0,
                                          lambda: x * 3.0])
        b = tf.case([(tf.less(x, 0.0), lambda: -x), (tf.greater(x, 5.0), lambda: x - 5.0)],
                    default=lambda: x)
        c = tf.cond(x > 1.0, lambda: tf.constant(1.0), lambda: tf.constant(0.0))
        return a, b, c
    got = [[float(v) for v in pick(tf.constant(i), tf.constant(x))]
           for i, x in ((0, 3.0), (2, -2.0), (1, 7.0), (5, 1.0))]
    # TF's figures (an out-of-range switch_case index runs the last branch)
    assert got == [[3.0, 3.0, 1.0], [-6.0, 2.0, 0.0], [14.0, 2.0, 1.0], [3.0, 1.0, 0.0]]
    assert pick.experimental_get_tracing_count() == 1


def test_reduce_retracing_and_module_methods_signatures():
    @tf.function(reduce_retracing=True)
    def sq(x):
        return tf.reduce_sum(x * x)
    for n in (2, 3, 4, 5):
        sq(tf.ones([n]))
    assert sq.experimental_get_tracing_count() == 2
    sq(tf.ones([2, 2]))
    assert sq.experimental_get_tracing_count() == 3
    text = sq.pretty_printed_concrete_signatures()
    assert "shape=(2,)" in text and "shape=(None,)" in text and "shape=<unknown>" in text

    class Scaler(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable(2.0)

        @tf.function
        def add(self, x, y=1.0):
            return x + y * self.w
    m = Scaler()
    assert float(m.add(tf.constant(1.0))) == 3.0
    assert float(m.add(tf.constant(1.0), y=3.0)) == 7.0
    assert m.add.experimental_get_tracing_count() == 2
    cf = m.add.get_concrete_function(tf.TensorSpec([2], tf.float32))
    m.w.assign(10.0)
    np.testing.assert_allclose(cf(tf.constant([1.0, 2.0])).numpy(), [11.0, 12.0])
    text = m.add.pretty_printed_concrete_signatures()   # as TF prints it
    assert "y (POSITIONAL_OR_KEYWORD): Literal[1.0]" in text and "Literal[3.0]" in text


def test_tensor_arrays_with_empty_elements_and_as_results():
    ta = tf.TensorArray(tf.float32, size=2, infer_shape=True)
    ta = ta.write(0, tf.zeros([0, 3])).write(1, tf.zeros([0, 3]))
    assert ta.stack().shape == (2, 0, 3)

    @tf.function
    def fill(n, x):
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True, infer_shape=True)
        for i in tf.range(n):
            ta = ta.write(i, x)
        return ta.stack(), ta.concat()
    s, c = fill(tf.constant(3), tf.zeros([0, 3]))
    assert s.shape == (3, 0, 3) and c.shape == (0, 3)
    assert fill(tf.constant(0), tf.zeros([0]))[0].shape == (0, 0)   # TF: (0, 0)
    s, _ = fill(tf.constant(3), tf.zeros([2, 0]))
    assert s.shape == (3, 2, 0)

    @tf.function
    def make(n):
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        for i in tf.range(n):
            ta = ta.write(i, tf.cast(i, tf.float32) * 2.0)
        return ta
    out = make(tf.constant(4))   # (TF 2.21 gives its variant handle instead)
    np.testing.assert_allclose(out.stack().numpy(), [0.0, 2.0, 4.0, 6.0])
    assert int(out.size()) == 4


# -- the module splits keep names where they were -----------------------------------

@pytest.mark.parametrize("old, new, names", [
    ("dlframe.core.function", "dlframe.core.function_tracer",
     ["TracingMixin", "_keras_call", "_STALE_LIMIT"]),
    ("dlframe.core.static_dims", "dlframe.core.static_dims_values",
     ["hidden_values", "note_shape_of", "note_shaped", "note_sized", "shape_arg_dims",
      "shape_arg_static", "static_value", "unknown_values", "value_masks", "_broadcast"]),
])
def test_split_names_stay_importable(old, new, names):
    old_mod, new_mod = importlib.import_module(old), importlib.import_module(new)
    for name in names:
        assert getattr(old_mod, name) is getattr(new_mod, name), name


def test_function_is_a_tracing_mixin():
    from dlframe.core.function import Function
    from dlframe.core.function_tracer import TracingMixin
    assert issubclass(Function, TracingMixin)
    assert isinstance(tf.function(lambda x: x), TracingMixin)


def test_dataset_loop_relaxes_a_changing_state_shape_but_an_iterator_loop_does_not():
    ds = tf.data.Dataset.range(5).batch(2)

    @tf.function
    def over_ds(d):
        s = tf.constant(0, tf.int64)
        for x in d:   # () then (2,): TF's reduce relaxes the state to <unknown>
            s += x
        return s

    @tf.function
    def over_ds_break(d):
        s = tf.constant(0, tf.int64)
        for x in d:
            s += x
            if tf.reduce_sum(s) > 100:
                break
        return s

    @tf.function
    def over_it(it):
        s = tf.constant(0, tf.int64)
        for x in it:
            s += x
        return s
    np.testing.assert_array_equal(over_ds(ds).numpy(), [6, 8])   # TF: [6 8]
    assert over_ds.get_concrete_function(ds).output_shapes.rank is None
    np.testing.assert_array_equal(over_ds_break(ds).numpy(), [6, 8])
    # TF: ValueError "'s' has shape () before the loop, but shape (None,) after one
    # iteration"
    with pytest.raises(ValueError, match="after one iteration"):
        over_it(iter(ds))

    @tf.function
    def steady(d):   # shapes that hold keep their static shape
        s = tf.zeros([2], tf.int64)
        for x in d:
            s += x[:1]
        return s
    np.testing.assert_array_equal(steady(ds).numpy(), [6, 6])
    assert steady.get_concrete_function(ds).output_shapes.as_list() == [2]


def test_concrete_function_of_a_dataset_takes_other_datasets_and_prints_its_spec():
    seen = []

    @tf.function
    def total(ds):
        seen.append(repr(ds))
        s = tf.constant(0.0)
        for x in ds.batch(2):
            s += tf.reduce_sum(x)
        return s, ds.cardinality()
    spec = tf.data.DatasetSpec(tf.TensorSpec([2], tf.float32))
    cf = total.get_concrete_function(spec)
    ds = tf.data.Dataset.from_tensor_slices(tf.ones([5, 2]))
    assert [float(v) for v in cf(ds)] == [10.0, 5.0]   # TF's figures
    assert [float(v) for v in total(ds)] == [10.0, 5.0]
    assert total.experimental_get_tracing_count() == 1
    assert seen == ["<_VariantDataset element_spec=TensorSpec(shape=(2,), "
                    "dtype=tf.float32, name=None)>"]   # as TF shows it while tracing
    assert float(cf(tf.data.Dataset.from_tensor_slices(tf.ones([1, 2])))[0]) == 2.0
    assert ("ds (POSITIONAL_OR_KEYWORD): DatasetSpec(TensorSpec(shape=(2,), "
            "dtype=tf.float32, name=None), TensorShape([]))"
            ) in total.pretty_printed_concrete_signatures()
    assert cf.structured_input_signature == ((spec,), {})   # as TF
    with pytest.raises(TypeError):   # another element spec (TF: an error too)
        cf(tf.data.Dataset.range(3))
