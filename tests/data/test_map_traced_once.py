"""Dataset functions run as TF runs them: traced once when the pipeline is built
(prints then, showing symbolic ``args_i`` tensors), replayed per element, with random
ops whose kernels restart with each new iterator."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.data import traced_fn


def _values(ds):
    return [tf.nest.map_structure(lambda a: np.asarray(a).tolist(), v)
            for v in ds.as_numpy_iterator()]


# ------------------------------------------------------------------ traced once
def test_map_prints_once_at_build_with_symbolic_tensor(capsys):
    def f(x):
        print("traced", x)
        return x * 2
    ds = tf.data.Dataset.range(3).map(f)
    assert capsys.readouterr().out == \
        'traced Tensor("args_0:0", shape=(), dtype=int64)\n'
    assert _values(ds) == [0, 2, 4]
    assert _values(ds) == [0, 2, 4]
    assert capsys.readouterr().out == ""


def test_map_tuple_and_dict_inputs_are_named_args_i(capsys):
    ds = tf.data.Dataset.from_tensor_slices(([1.0, 2.0], [3.0, 4.0]))
    ds = ds.map(lambda x, y: (print("g", x, y), (x + y, y))[1])
    assert capsys.readouterr().out == ('g Tensor("args_0:0", shape=(), dtype=float32) '
                                       'Tensor("args_1:0", shape=(), dtype=float32)\n')
    assert _values(ds) == [(4.0, 3.0), (6.0, 4.0)]
    ds = tf.data.Dataset.from_tensor_slices({"a": [[1.0, 2.0]], "b": [[3]]})
    ds.map(lambda d: (print(sorted(d)), d)[1])
    assert capsys.readouterr().out == "['a', 'b']\n"


def test_unknown_dims_print_as_none_and_varying_shapes_replay(capsys):
    def gen():
        for n in range(1, 5):
            yield np.arange(n, dtype=np.float32)
    ds = tf.data.Dataset.from_generator(
        gen, output_signature=tf.TensorSpec([None], tf.float32))

    def f(x):
        print(x)
        return x * 2.0 + tf.cast(tf.size(x), tf.float32)
    ds = ds.map(f)
    assert capsys.readouterr().out == \
        'Tensor("args_0:0", shape=(None,), dtype=float32)\n'
    assert ds.element_spec == tf.TensorSpec([None], tf.float32)
    expected = [(np.arange(n) * 2.0 + n).tolist() for n in range(1, 5)]
    assert _values(ds) == expected
    assert _values(ds) == expected
    assert capsys.readouterr().out == ""


def test_python_side_effect_runs_once_per_trace_not_per_element():
    calls = []

    def f(x):
        calls.append(1)
        return x + 1
    ds = tf.data.Dataset.range(50).map(f).batch(10)
    built = len(calls)
    assert [b.tolist() for b in ds.as_numpy_iterator()][-1] == list(range(41, 51))
    # one trace for the one element shape: Python ran a fixed number of times
    assert len(calls) - built <= 1
    list(ds.as_numpy_iterator())
    assert len(calls) - built <= 1


@pytest.mark.parametrize("fn", [
    lambda x, y: (tf.cast(x, tf.float32) / 255.0, y),
    lambda x, y: {"image": tf.reshape(x, [-1]), "label": tf.one_hot(y, 3)},
    lambda x, y: (tf.reduce_sum(tf.cast(x, tf.int32)), tf.strings.as_string(y)),
])
def test_results_equal_eager_application(fn):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (20, 4, 4), dtype=np.uint8)
    labels = rng.integers(0, 3, (20,), dtype=np.int64)
    ds = tf.data.Dataset.from_tensor_slices((images, labels)).map(fn)
    got = list(ds.as_numpy_iterator())
    for i, out in enumerate(got):
        want = fn(tf.constant(images[i]), tf.constant(labels[i]))
        flat_got = tf.nest.flatten(out)
        flat_want = [np.asarray(w) for w in tf.nest.flatten(want)]
        assert len(flat_got) == len(flat_want)
        for g, w in zip(flat_got, flat_want):
            np.testing.assert_array_equal(np.asarray(g), w)


def test_tensor_dependent_if_is_autographed():
    def f(x):
        if x > 1:
            return x * 10
        return x
    assert _values(tf.data.Dataset.range(4).map(f)) == [0, 1, 20, 30]


def test_eager_only_code_still_runs(capsys):
    def f(x):
        print("once")
        return x.numpy() * 3     # TF refuses this in a map; dlframe runs it eagerly
    ds = tf.data.Dataset.range(3).map(f)
    assert _values(ds) == [0, 3, 6]
    assert capsys.readouterr().out == "once\n"


def test_filter_scan_reduce_flat_map_print_once(capsys):
    def pred(x):
        print("pred", x)
        return x % 2 == 0
    assert _values(tf.data.Dataset.range(5).filter(pred)) == [0, 2, 4]
    assert capsys.readouterr().out == \
        'pred Tensor("args_0:0", shape=(), dtype=int64)\n'

    def step(s, x):
        print("scan")
        return s + x, s
    ds = tf.data.Dataset.range(4).scan(tf.constant(0, tf.int64), step)
    assert _values(ds) == [0, 0, 1, 3]
    assert capsys.readouterr().out == "scan\n"

    def add(s, x):
        print("reduce")
        return s + x
    assert tf.data.Dataset.range(5).reduce(tf.constant(0, tf.int64), add).numpy() == 10
    assert capsys.readouterr().out == "reduce\n"

    def fm(x):
        print("fm")
        return tf.data.Dataset.from_tensors(x).repeat(2)
    assert _values(tf.data.Dataset.range(3).flat_map(fm)) == [0, 0, 1, 1, 2, 2]
    assert _values(tf.data.Dataset.range(3).interleave(fm, cycle_length=2)) == \
        [0, 1, 0, 1, 2, 2]
    assert capsys.readouterr().out == "fm\nfm\n"


# ------------------------------------------------------------------ random ops
# Expected values from TensorFlow 2.21 (tf.random.set_seed(1), then the pipeline).
TF_GLOBAL_SEED_UNIFORM = [0.8127, 0.5273, 0.8489]
TF_OP_SEED_7_UNIFORM = [0.7878, 0.8899, 0.338]


def test_global_seed_random_map_repeats_per_iterator_with_tf_values():
    tf.random.set_seed(1)
    ds = tf.data.Dataset.range(3).map(lambda x: tf.random.uniform([]))
    first = np.round(_values(ds), 4).tolist()
    assert first == TF_GLOBAL_SEED_UNIFORM
    assert np.round(_values(ds), 4).tolist() == first
    assert np.round([float(v) for v in iter(ds)], 4).tolist() == first
    # op seeds are numbered per traced function: another dataset draws the same
    other = tf.data.Dataset.range(3).map(lambda x: tf.random.uniform([]))
    assert np.round(_values(other), 4).tolist() == first


def test_op_seed_random_map_repeats_per_iterator():
    tf.random.set_seed(1)
    ds = tf.data.Dataset.range(3).map(lambda x: tf.random.uniform([], seed=7))
    assert np.round(_values(ds), 4).tolist() == TF_OP_SEED_7_UNIFORM
    assert np.round(_values(ds), 4).tolist() == TF_OP_SEED_7_UNIFORM


def test_random_map_continues_within_one_iterator():
    tf.random.set_seed(1)
    ds = tf.data.Dataset.range(2).map(lambda x: tf.random.uniform([])).repeat(2)
    values = _values(ds)
    assert values[:2] != values[2:]          # TF: repeat does not restart the kernel
    assert _values(ds) == values             # a new iterator does


def test_random_sequence_spans_element_shapes():
    def gen():
        for n in (1, 2, 1):
            yield np.zeros(n, np.float32)
    tf.random.set_seed(1)
    ds = tf.data.Dataset.from_generator(
        gen, output_signature=tf.TensorSpec([None], tf.float32))
    ds = ds.map(lambda x: x + tf.random.uniform(tf.shape(x)))
    values = _values(ds)
    # one kernel for every shape: the draws continue (TF 2.21: 0.813, 0.527 ...)
    assert np.round(values[0], 3).tolist() == [0.813]
    assert np.round(values[1], 3).tolist() == [0.527, 0.645]
    assert values[2] != values[0]
    assert _values(ds) == values


def test_generator_state_is_shared_across_iterators():
    g = tf.random.Generator.from_seed(3)
    ds = tf.data.Dataset.range(3).map(lambda x: g.uniform([]))
    a, b = _values(ds), _values(ds)
    assert len(set(a + b)) == 6


def test_stateless_random_depends_only_on_seed():
    ds = tf.data.Dataset.range(3).map(
        lambda x: tf.random.stateless_uniform([], seed=tf.stack([1, x])))
    want = [float(tf.random.stateless_uniform(
        [], seed=tf.constant([1, i], tf.int64))) for i in range(3)]
    np.testing.assert_allclose(_values(ds), want)


# ------------------------------------------------------------------ parallel, state
@pytest.mark.parametrize("deterministic", [True, False])
def test_parallel_map_matches_sequential(deterministic):
    ds = tf.data.Dataset.range(200)

    def fn(x):
        return x * x, tf.cast(x, tf.float32) / 2.0
    seq = _values(ds.map(fn))
    par = _values(ds.map(fn, num_parallel_calls=4, deterministic=deterministic))
    assert (par if deterministic else sorted(par)) == seq


def test_parallel_random_map_repeats_per_iterator():
    tf.random.set_seed(1)
    ds = tf.data.Dataset.range(20).map(lambda x: tf.random.uniform([]),
                                       num_parallel_calls=tf.data.AUTOTUNE)
    assert sorted(_values(ds)) == sorted(_values(ds))


def test_iterator_checkpoint_restores_random_map(tmp_path):
    tf.random.set_seed(1)
    ds = tf.data.Dataset.range(6).map(lambda x: tf.random.uniform([]) + 0.0 * tf.cast(
        x, tf.float32))
    it = iter(ds)
    ckpt = tf.train.Checkpoint(iterator=it)
    first = [float(next(it)) for _ in range(2)]
    path = ckpt.save(str(tmp_path / "it"))
    rest = [float(v) for v in it]
    ckpt.restore(path)
    assert [float(v) for v in it] == rest
    assert first + rest == np.asarray(_values(ds)).tolist()


# ------------------------------------------------------------------ errors
def test_errors_still_raised_when_building():
    with pytest.raises(tf.errors.InvalidArgumentError, match="must return"):
        tf.data.Dataset.range(3).map(lambda x: None)
    with pytest.raises(TypeError):
        tf.data.Dataset.range(3).map(lambda x: x + tf.constant(1.0))
    with pytest.raises(ValueError, match="predicate"):
        tf.data.Dataset.range(3).filter(lambda x: x)


def test_element_error_raised_while_iterating():
    ds = tf.data.Dataset.from_tensor_slices([1.0, -1.0]).map(
        lambda x: tf.debugging.assert_non_negative(x) or x)
    it = iter(ds)
    assert float(next(it)) == 1.0
    with pytest.raises(tf.errors.InvalidArgumentError):
        next(it)


def test_graph_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(traced_fn, "MAX_GRAPHS", 2)

    def gen():
        for n in range(1, 6):
            yield np.ones(n, np.float32)
    ds = tf.data.Dataset.from_generator(
        gen, output_signature=tf.TensorSpec([None], tf.float32)).map(lambda x: x * 2)
    assert [v.tolist() for v in ds.as_numpy_iterator()] == \
        [[2.0] * n for n in range(1, 6)]
    assert len(ds._fn._graphs) == 2


def test_random_ops_with_equal_seeds_are_separate_kernels():
    # two ops with the same seeds draw the same sequence each, as in a tf.function
    # (values from TF 2.21); they used to share one kernel and split its draws
    tf.random.set_seed(1)
    ds = tf.data.Dataset.range(2).map(
        lambda x: (tf.random.uniform([], seed=5), tf.random.uniform([], seed=5)))
    got = [tuple(round(float(v), 4) for v in e) for e in ds]
    assert got == [(0.1956, 0.1956), (0.9395, 0.9395)]
