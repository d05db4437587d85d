"""Regression tests (helper B2's probes): ``None`` components, build-time errors of
traced pipeline functions, random draws that finding a spec must not consume,
``timeseries_dataset_from_array`` specs, CSV errors and a few pipeline sources."""

import numpy as np
import pytest

import dlframe as tf

D = tf.data.Dataset


# ---------------------------------------------------------------- None components
def test_map_to_none_component_gives_none_tensor_spec_and_none_values():
    ds = D.range(3).map(lambda x: (x, None))
    assert ds.element_spec == (tf.TensorSpec([], tf.int64), tf.NoneTensorSpec())
    assert [(int(a), b) for a, b in ds] == [(0, None), (1, None), (2, None)]


def test_none_component_survives_batch_unbatch_and_numpy_iterator():
    ds = D.range(3).map(lambda x: {"a": x, "b": None}).batch(2)
    assert ds.element_spec == {"a": tf.TensorSpec([None], tf.int64),
                               "b": tf.NoneTensorSpec()}
    assert [(d["a"].numpy().tolist(), d["b"]) for d in ds] == [([0, 1], None),
                                                             ([2], None)]
    assert [d["b"] for d in ds.unbatch().as_numpy_iterator()] == [None] * 3


# ---------------------------------------------------------------- build-time errors
def test_group_by_window_rejects_an_int32_key_when_built():
    # TF 2.21: ValueError "Tensor conversion requested dtype int64 for Tensor with
    # dtype int32" from group_by_window itself, before iterating
    with pytest.raises(ValueError, match="int64"):
        D.range(10).group_by_window(lambda x: tf.cast(x % 2, tf.int32),
                                    lambda k, w: w.batch(2), window_size=2)
    ds = D.range(10).group_by_window(lambda x: x % 2, lambda k, w: w.batch(2),
                                     window_size=2)
    assert [b.numpy().tolist() for b in ds] == [[0, 2], [1, 3], [4, 6], [5, 7],
                                                [8], [9]]


@pytest.mark.parametrize("build", [
    lambda: D.range(5).map(lambda x: x + tf.constant(1.0)),
    lambda: D.range(5).filter(lambda x: x + 1.5 > 2),
    lambda: D.range(5).scan(tf.constant(0.0), lambda s, x: (s + x, s)),
])
def test_dtype_errors_in_pipeline_functions_raise_when_built(build):
    with pytest.raises(TypeError):
        build()


def test_scan_new_state_of_another_dtype_fails_when_built():
    with pytest.raises(TypeError, match="new state must match the initial state"):
        D.range(5).scan(tf.constant(0, tf.int64),
                        lambda s, x: (tf.cast(s, tf.int32), s))
    ds = D.range(5).scan(tf.constant(0, tf.int64), lambda s, x: (s + x, s * 2))
    assert ds.element_spec == tf.TensorSpec([], tf.int64)
    assert [int(v) for v in ds] == [0, 0, 2, 6, 12]


# ---------------------------------------------------------------- random state
def test_generator_in_map_is_not_advanced_by_finding_the_spec():
    g = tf.random.Generator.from_seed(7)
    start = g.state.numpy().tolist()
    ds = D.range(3).map(lambda x: tf.cast(x, tf.float32) + g.uniform([]))
    assert ds.element_spec == tf.TensorSpec([], tf.float32)
    assert g.state.numpy().tolist() == start
    values = [float(v) for v in ds]
    # one draw of one output per element: the counter moves 256 per output
    assert g.state.numpy()[0] - start[0] == 3 * 256
    ref = tf.random.Generator.from_seed(7)
    np.testing.assert_allclose(values, [float(ref.uniform([])) + i for i in range(3)])


def test_generator_draws_in_a_cond_branch_advance_once_per_call():
    g = tf.random.Generator.from_seed(1)

    @tf.function
    def step(flag):
        if flag:
            return g.normal([2])
        return tf.zeros([2])

    start = int(g.state.numpy()[0])
    step(tf.constant(True))
    step(tf.constant(True))
    step(tf.constant(False))
    assert int(g.state.numpy()[0]) - start == 2 * 2 * 256


def test_global_seed_draws_in_map_follow_the_traced_op_seed_sequence():
    def fn(x):
        return tf.random.uniform([2]) + tf.random.normal([])

    tf.random.set_seed(5)
    ds = D.range(4).map(fn).filter(lambda v: v[0] < 2.0)
    assert ds.element_spec == tf.TensorSpec([2], tf.float32)
    # TF 2.21's values: the map function is traced, so its ops take the op seeds
    # of a function graph (0, 1, ...), not the eager sequence
    ref = [[-1.194, -0.6869], [0.8302, 0.5451], [0.3323, 0.7508], [1.1594, 0.8743]]
    np.testing.assert_allclose([v.numpy() for v in ds], ref, atol=1e-4)


# ---------------------------------------------------------------- timeseries
@pytest.mark.parametrize("data", [np.arange(20, dtype="float32"),
                                  np.arange(40, dtype="float32").reshape(20, 2)])
@pytest.mark.parametrize("with_targets", [False, True])
def test_timeseries_dataset_spec_has_an_unknown_sequence_axis(data, with_targets):
    targets = np.arange(20) if with_targets else None
    ds = tf.keras.utils.timeseries_dataset_from_array(
        data, targets, sequence_length=4, sampling_rate=2, batch_size=3)
    x_spec = tf.TensorSpec([None, None] + list(data.shape[1:]), tf.float32)
    if with_targets:   # TF 2.21 specs
        assert ds.element_spec == (x_spec, tf.TensorSpec([None], tf.int64))
    else:
        assert ds.element_spec == x_spec
    first = next(iter(ds))
    x = first[0] if with_targets else first
    np.testing.assert_array_equal(x.numpy()[1], data[[1, 3, 5, 7]])
    if with_targets:
        assert first[1].numpy().tolist() == [0, 1, 2]


def test_timeseries_dataset_unbatched_spec():
    data = np.arange(40, dtype="float32").reshape(20, 2)
    ds = tf.keras.utils.timeseries_dataset_from_array(data, None, 4, batch_size=None)
    assert ds.element_spec == tf.TensorSpec([None, 2], tf.float32)
    assert next(iter(ds)).shape == (4, 2)


# ---------------------------------------------------------------- CSV
def test_csv_missing_required_field_is_numbered_as_tf(tmp_path):
    with pytest.raises(tf.errors.InvalidArgumentError, match="Field 1 is required"):
        tf.io.decode_csv(["1,,3"], [[0], tf.constant([], tf.int32), [0]])
    path = tmp_path / "x.csv"
    path.write_text("1,2,3\n4,,6\n")
    ds = tf.data.experimental.CsvDataset(str(path), [tf.int32] * 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Field 1 is required"):
        list(ds)


def test_csv_select_cols_of_another_length_is_an_invalid_argument(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(tf.errors.InvalidArgumentError, match="select_cols"):
        tf.data.experimental.CsvDataset(str(path), [tf.int32] * 3, header=True,
                                        select_cols=[1, 2])


# ---------------------------------------------------------------- sources
def test_dataset_random_gives_32_bit_values_repeatable_by_seed():
    values = [int(v) for v in D.random(seed=4).take(500)]
    assert min(values) >= 0 and max(values) < 2 ** 32 and max(values) >= 2 ** 31
    assert values == [int(v) for v in D.random(seed=4).take(500)]
    again = D.random(seed=4, rerandomize_each_iteration=True).take(5)
    assert [int(v) for v in again] != [int(v) for v in again]


def test_assert_cardinality_error_counts_the_elements():
    ds = D.range(10).filter(lambda x: x < 5)
    with pytest.raises(tf.errors.FailedPreconditionError, match="at least 5 elements"):
        list(ds.apply(tf.data.experimental.assert_cardinality(4)))
    with pytest.raises(tf.errors.FailedPreconditionError, match="only 3 elements"):
        list(D.range(3).apply(tf.data.experimental.assert_cardinality(5)))
