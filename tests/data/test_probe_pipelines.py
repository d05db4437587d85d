"""Regression tests for differences found by running tf.data guide / Stack Overflow
style pipelines under TensorFlow 2.21 and dlframe (helper T's probes)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError


# ------------------------------------------------ functions that return nothing
def _forgot_return(x):
    x * 2   # the bug under test: no `return`


@pytest.mark.parametrize("fn", [_forgot_return, lambda x: (), lambda x: {}])
def test_map_returning_nothing_fails_at_map(fn):
    # TF 2.21 raises InvalidArgumentError ("Length for attr 'output_types' of 0 must
    # be at least minimum 1") from `map` itself, before any iteration.
    with pytest.raises(InvalidArgumentError, match="output_types"):
        tf.data.Dataset.range(3).map(fn)


def test_map_returning_none_names_the_missing_return():
    with pytest.raises(InvalidArgumentError, match="forget a `return`"):
        tf.data.Dataset.range(3).map(_forgot_return, num_parallel_calls=2)


def test_map_returning_none_after_an_untraceable_map_fails_when_run():
    # The first function needs real data (py_function result feeds Python code), so
    # the spec comes from elements; the error is still TF's type, not a conversion
    # error from deep inside the pipeline.
    ds = tf.data.Dataset.range(3).map(lambda x: int(x.numpy()) + 1)
    ds = ds.map(lambda x: None)
    with pytest.raises(InvalidArgumentError, match="forget a `return`"):
        list(ds)


def test_multi_component_map_returning_none_fails_at_map():
    ds = tf.data.Dataset.from_tensor_slices(([1, 2], [3, 4]))
    with pytest.raises(InvalidArgumentError):
        ds.map(lambda a, b: None)


def test_map_spec_found_at_map_time_matches_values():
    ds = tf.data.Dataset.from_tensor_slices(np.arange(6.0).reshape(3, 2))
    mapped = ds.map(lambda x: (tf.reduce_sum(x), tf.cast(x, tf.int32)))
    assert mapped.element_spec == (tf.TensorSpec([], tf.float64),
                                   tf.TensorSpec([2], tf.int32))
    values = list(mapped.as_numpy_iterator())
    assert [v[0] for v in values] == [1.0, 5.0, 9.0]
    np.testing.assert_array_equal(values[2][1], [4, 5])


@pytest.mark.parametrize("method", ["filter", "take_while"])
def test_predicate_returning_none_fails_when_built(method):
    ds = tf.data.Dataset.range(3)
    with pytest.raises(ValueError, match="Invalid `predicate`"):
        getattr(ds, method)(lambda x: None)


def test_non_bool_predicate_fails_when_built():
    with pytest.raises(ValueError, match="tf.bool"):
        tf.data.Dataset.range(3).filter(lambda x: x)


def test_good_predicates_still_filter():
    ds = tf.data.Dataset.range(10)
    assert list(ds.filter(lambda x: x % 3 == 0).as_numpy_iterator()) == [0, 3, 6, 9]
    assert list(ds.take_while(lambda x: x < 4).as_numpy_iterator()) == [0, 1, 2, 3]


# ------------------------------------------------------------- bucketing specs
def _ragged_lengths_dataset(lengths):
    return tf.data.Dataset.from_generator(
        lambda: (np.arange(n, dtype=np.int32) for n in lengths),
        output_signature=tf.TensorSpec(shape=[None], dtype=tf.int32))


@pytest.mark.parametrize("kwargs, spec", [
    # element_spec values printed by TF 2.21 for the same calls
    ({"drop_remainder": True}, [None, None]),
    ({"pad_to_bucket_boundary": True}, [None, None]),
    ({"padded_shapes": [20]}, [None, 20]),
    ({"no_padding": True}, [None, None]),
])
def test_bucket_by_sequence_length_spec_has_unknown_batch(kwargs, spec):
    ds = _ragged_lengths_dataset([3, 1, 5, 2, 7]).bucket_by_sequence_length(
        lambda e: tf.shape(e)[0], [4, 8], [2, 2, 2], **kwargs)
    assert ds.element_spec.shape.as_list() == spec
    if not kwargs.get("no_padding"):   # unpadded rows of one bucket differ in length
        for batch in ds.as_numpy_iterator():
            assert batch.dtype == np.int32 and batch.ndim == 2


def test_bucket_pad_to_boundary_values():
    ds = _ragged_lengths_dataset([3, 1, 5, 2, 7]).bucket_by_sequence_length(
        lambda e: tf.shape(e)[0], [4, 8], [3, 2, 1], pad_to_bucket_boundary=True)
    got = [b.tolist() for b in ds.as_numpy_iterator()]
    # TF 2.21: a full bucket of three padded to 3, then the rest padded to 7
    assert got == [[[0, 1, 2], [0, 0, 0], [0, 1, 0]],
                   [[0, 1, 2, 3, 4, 0, 0], [0, 1, 2, 3, 4, 5, 6]]]


def test_bucket_keeps_known_inner_dims():
    ds = tf.data.Dataset.from_tensor_slices(np.zeros([6, 3]))
    out = ds.bucket_by_sequence_length(lambda e: 3, [4, 8], [2, 2, 2])
    assert out.element_spec.shape.as_list() == [None, 3]


def test_padded_batch_too_small_is_data_loss():
    ds = tf.data.Dataset.range(1, 6).map(lambda x: tf.fill([x], x))
    with pytest.raises(tf.errors.DataLossError, match="smaller size"):
        list(ds.padded_batch(2, padded_shapes=[3]))


# ------------------------------------------------ cardinality and drawing specs
D = tf.data.Dataset


@pytest.mark.parametrize("make, expected", [
    # values printed by TF 2.21's cardinality() for the same pipelines
    (lambda: D.range(10).batch(3).unbatch(), tf.data.UNKNOWN_CARDINALITY),
    (lambda: D.range(9).batch(3, drop_remainder=True).unbatch(), 9),
    (lambda: D.from_tensor_slices((np.zeros([4, 2, 3]), np.zeros([4, 2]))).unbatch(),
     8),
    (lambda: D.from_tensor_slices((np.zeros([4, 2]), np.zeros([4, 3]))).unbatch(),
     tf.data.UNKNOWN_CARDINALITY),
    (lambda: D.range(3).batch(3).repeat().unbatch(), tf.data.INFINITE_CARDINALITY),
    (lambda: D.choose_from_datasets([D.range(3).repeat(), D.range(2)],
                                    D.range(2).repeat(3)),
     tf.data.INFINITE_CARDINALITY),
    (lambda: D.choose_from_datasets([D.range(3), D.range(2)], D.range(2).repeat()),
     tf.data.UNKNOWN_CARDINALITY),
    (lambda: D.sample_from_datasets([D.range(3), D.range(2).repeat()],
                                    stop_on_empty_dataset=True),
     tf.data.INFINITE_CARDINALITY),
    (lambda: D.sample_from_datasets([D.range(3), D.range(2)]),
     tf.data.UNKNOWN_CARDINALITY),
])
def test_cardinality_matches_tf(make, expected):
    assert int(make().cardinality()) == expected


def test_unbatch_known_cardinality_counts_the_rows():
    ds = D.from_tensor_slices({"a": np.arange(12).reshape(6, 2)}).unbatch()
    assert len(ds) == 12 == len(list(ds))


def test_drawing_datasets_relax_their_specs():
    parts = [D.from_tensors([1, 2]), D.from_tensors([1, 2, 3])]
    assert D.sample_from_datasets(parts, seed=1).element_spec.shape.as_list() == [None]
    chosen = D.choose_from_datasets(parts, D.range(2))
    assert chosen.element_spec.shape.as_list() == [None]
    assert [v.tolist() for v in chosen.as_numpy_iterator()] == [[1, 2], [1, 2, 3]]


@pytest.mark.parametrize("other", [D.from_tensors([1.0, 2.0]),
                                   D.from_tensors(([1, 2],))])
def test_drawing_incompatible_datasets_is_a_type_error(other):
    with pytest.raises(TypeError, match="compatible element specs"):
        D.sample_from_datasets([D.from_tensors([1, 2]), other])
    with pytest.raises(TypeError, match="compatible element specs"):
        D.choose_from_datasets([D.from_tensors([1, 2]), other], D.range(2))


def test_finding_the_map_spec_runs_no_variable_updates():
    # TF traces map_func without running it: only the elements update the Variable
    counter = tf.Variable(0, dtype=tf.int64)

    def count(x):
        counter.assign_add(1)
        return x * 2

    ds = tf.data.Dataset.range(5).map(count)
    assert int(counter.numpy()) == 0
    assert ds.element_spec == tf.TensorSpec([], tf.int64)
    assert list(ds.as_numpy_iterator()) == [0, 2, 4, 6, 8]
    assert int(counter.numpy()) == 5
