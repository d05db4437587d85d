"""tf.data programs written the way users write them, checked against the values and
error classes TensorFlow 2.21 gave for the same programs (round 24, area F)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError


def _values(ds):
    return list(ds.as_numpy_iterator())


# ---------------------------------------------------------------- CSV quoting rules
def _decode(line, use_quote_delim=True):
    out = tf.io.decode_csv([line], [[""], [0]], use_quote_delim=use_quote_delim)
    return [t.numpy().tolist() for t in out]


@pytest.mark.parametrize("line, fields", [
    ('"q ""x"" z",3', [[b'q "x" z'], [3]]),
    ('"a,b",3', [[b"a,b"], [3]]),
    ('"",3', [[b""], [3]]),
    ('x,"3"', [[b"x"], [3]]),
])
def test_decode_csv_quoted_fields(line, fields):
    assert _decode(line) == fields


@pytest.mark.parametrize("line, message", [
    ('ab"c,3', "Unquoted fields cannot have quotes/CRLFs inside"),
    (' "a",3', "Unquoted fields cannot have quotes/CRLFs inside"),
    ('a\rb,3', "Unquoted fields cannot have quotes/CRLFs inside"),
    ('"a"b,3', "Quote inside a string has to be escaped by another quote"),
    ('"ab,3', "Quoted field has to end with quote followed by delim or end"),
])
def test_decode_csv_malformed_quoting_is_invalid_argument(line, message):
    with pytest.raises(InvalidArgumentError, match=message):
        _decode(line)


def test_decode_csv_without_quote_delim_keeps_quotes_literally():
    assert _decode('ab"c,3', use_quote_delim=False) == [[b'ab"c'], [3]]
    assert _decode('"a"b,3', use_quote_delim=False) == [[b'"a"b'], [3]]
    with pytest.raises(InvalidArgumentError, match="Expect 2 fields but have 3"):
        _decode('"a,b",3', use_quote_delim=False)
    with pytest.raises(InvalidArgumentError, match="CRLFs"):
        _decode("a\rb,3", use_quote_delim=False)


@pytest.mark.parametrize("line, defaults, bad", [
    ("3000000000,1", [[0], [0]], "not a valid int32: 3000000000"),
    ("-2147483649,1", [[0], [0]], "not a valid int32: -2147483649"),
    ("9223372036854775808,1", [[tf.constant(0, tf.int64)], [0]], "not a valid int64"),
])
def test_decode_csv_integer_out_of_range_is_invalid_argument(line, defaults, bad):
    with pytest.raises(InvalidArgumentError, match=bad):
        tf.io.decode_csv([line], defaults)


def test_decode_csv_argument_checks():
    with pytest.raises(ValueError, match="select_cols is not strictly increasing"):
        tf.io.decode_csv(["a,b,c"], [[""], [""]], select_cols=[2, 0])
    with pytest.raises(ValueError, match="select_cols contains negative values"):
        tf.io.decode_csv(["a,b,c"], [[""], [""]], select_cols=[-1, 0])
    for delim in ("ab", ""):
        with pytest.raises(InvalidArgumentError, match="field_delim should be only 1 char"):
            tf.io.decode_csv(["1,2"], [[0], [0]], field_delim=delim)
    kept = tf.io.decode_csv(["a;b;c"], [[""], [""]], field_delim=";", select_cols=[0, 2])
    assert [t.numpy().tolist() for t in kept] == [[b"a"], [b"c"]]


def test_csv_dataset_argument_checks(tmp_path):
    path = str(tmp_path / "big.csv")
    (tmp_path / "big.csv").write_text("3000000000,1\n")
    with pytest.raises(InvalidArgumentError, match="field_delim should be only 1 char"):
        tf.data.experimental.CsvDataset(path, [tf.int64, tf.int32], field_delim="ab")
    with pytest.raises(InvalidArgumentError, match="strictly increasing"):
        tf.data.experimental.CsvDataset(path, [tf.int64, tf.int32], select_cols=[1, 0])
    with pytest.raises(InvalidArgumentError, match="not a valid int32: 3000000000"):
        _values(tf.data.experimental.CsvDataset(path, [tf.int32, tf.int32]))
    assert _values(tf.data.experimental.CsvDataset(path, [tf.int64, tf.int32])) == [
        (3000000000, 1)]


def test_text_lines_decoded_in_a_map(tmp_path):
    (tmp_path / "a.csv").write_text('id,name,score\n1,alice,3.5\n2,"bob, jr",\n')
    (tmp_path / "b.csv").write_text("id,name,score\n3,dan,1.0\n")
    files = tf.data.Dataset.from_tensor_slices([str(tmp_path / "a.csv"),
                                                str(tmp_path / "b.csv")])
    lines = files.interleave(lambda f: tf.data.TextLineDataset(f).skip(1),
                             cycle_length=2)
    rows = lines.map(lambda l: tf.io.decode_csv(l, [[0], ["?"], [-1.0]]))
    assert [(int(a), b, float(c)) for a, b, c in _values(rows)] == [
        (1, b"alice", 3.5), (3, b"dan", 1.0), (2, b"bob, jr", -1.0)]


def test_csv_dataset_quote_error_and_ignore_errors(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('a,1\nab"c,3\nz,4\n')
    ds = tf.data.experimental.CsvDataset(str(path), [tf.string, tf.int32])
    with pytest.raises(InvalidArgumentError,
                       match="Unquoted fields cannot have quotes inside"):
        _values(ds)
    assert _values(ds.ignore_errors()) == [(b"a", 1), (b"z", 4)]


def test_csv_dataset_quoted_field_spans_lines(tmp_path):
    path = tmp_path / "ml.csv"
    path.write_bytes(b'n,t\r\n1,"two\nlines"\r\n2,"a ""q"" b"\r\n3,plain\n')
    ds = tf.data.experimental.CsvDataset(str(path), [tf.int32, tf.string], header=True)
    assert _values(ds) == [(1, b"two\nlines"), (2, b'a "q" b'), (3, b"plain")]
    made = tf.data.experimental.make_csv_dataset(str(path), batch_size=5,
                                                 shuffle=False, num_epochs=1)
    batch = next(iter(made))
    assert batch["n"].numpy().tolist() == [1, 2, 3]
    assert batch["t"].numpy().tolist() == [b"two\nlines", b'a "q" b', b"plain"]


def test_csv_blank_line_is_a_record_of_one_empty_field(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("1,a\n\n2,b\n")
    two = tf.data.experimental.CsvDataset(str(path), [0, "z"])
    with pytest.raises(InvalidArgumentError, match="Expect 2 fields but have 1"):
        _values(two)
    assert _values(two.ignore_errors()) == [(1, b"a"), (2, b"b")]
    one = tf.data.experimental.CsvDataset(str(path), [0], select_cols=[0])
    assert _values(one) == [(1,), (0,), (2,)]   # the blank line takes the default
    (tmp_path / "h.csv").write_text("a,b\n1,x\n2,y\n\n")
    with pytest.raises(ValueError, match="CSV row 4 has 0 number of fields"):
        tf.data.experimental.make_csv_dataset(str(tmp_path / "h.csv"), 4)


# ---------------------------------------------------------------- sampling
def _sampled(rerandomize):
    parts = [tf.data.Dataset.range(5), tf.data.Dataset.range(100, 105)]
    ds = tf.data.Dataset.sample_from_datasets(parts, seed=42,
                                              rerandomize_each_iteration=rerandomize)
    return [tuple(_values(ds)) for _ in range(4)]


def test_sample_from_datasets_repeats_its_draws_each_iteration_by_default():
    passes = _sampled(None)
    assert len(set(passes)) == 1
    assert sorted(passes[0]) == [0, 1, 2, 3, 4, 100, 101, 102, 103, 104]
    assert _sampled(False) == passes


def test_sample_from_datasets_rerandomizes_when_asked():
    passes = _sampled(True)
    assert len(set(passes)) > 1
    assert all(sorted(p) == [0, 1, 2, 3, 4, 100, 101, 102, 103, 104] for p in passes)
    assert _sampled(True) == passes   # still reproducible from the seed


def test_sample_from_datasets_global_seed_repeats_draws():
    tf.random.set_seed(7)
    try:
        ds = tf.data.Dataset.sample_from_datasets(
            [tf.data.Dataset.range(5), tf.data.Dataset.range(100, 105)],
            stop_on_empty_dataset=True)
    finally:
        tf.random.set_seed(None)
    assert _values(ds) == _values(ds)


def test_rejection_resample_non_integer_class_is_type_error():
    labels = np.array([0] * 9 + [1], np.int32)
    ds = tf.data.Dataset.from_tensor_slices((np.arange(10.0), labels)).repeat()
    bad = ds.rejection_resample(lambda x, y: tf.cast(y, tf.float32), [0.5, 0.5])
    with pytest.raises(TypeError, match="integer class"):
        _values(bad.take(3))
    good = ds.rejection_resample(lambda x, y: y, [0.5, 0.5], [0.9, 0.1], seed=3)
    classes = [int(c) for c, (x, y) in good.take(1000).as_numpy_iterator()]
    assert 0.4 < sum(classes) / len(classes) < 0.6


# ---------------------------------------------------------------- predicates, arguments
@pytest.mark.parametrize("method", ["filter", "take_while"])
def test_predicate_must_be_rank_0(method):
    ds = tf.data.Dataset.range(10)
    with pytest.raises(ValueError, match=r"scalar tensor.*TensorSpec\(shape=\(1,\), dtype=tf.bool"):
        getattr(ds, method)(lambda x: tf.reshape(x > 2, [1]))
    kept = getattr(ds, method)(lambda x: tf.reshape(x < 3, []))
    assert _values(kept) == [0, 1, 2]


@pytest.mark.parametrize("calls", [0, -5])
def test_num_parallel_calls_below_one_is_invalid_argument(calls):
    ds = tf.data.Dataset.range(3)
    with pytest.raises(InvalidArgumentError, match="num_parallel_calls must be greater"):
        ds.map(lambda x: x, num_parallel_calls=calls)
    with pytest.raises(InvalidArgumentError, match="num_parallel_calls must be greater"):
        ds.interleave(lambda x: tf.data.Dataset.range(x), num_parallel_calls=calls)
    auto = ds.map(lambda x: x * 2, num_parallel_calls=tf.data.AUTOTUNE,
                  deterministic=False)
    assert sorted(_values(auto)) == [0, 2, 4]


def test_external_state_policy_is_a_plain_enum():
    policy = tf.data.experimental.ExternalStatePolicy.WARN
    assert str(policy) == "ExternalStatePolicy.WARN"
    assert policy != 0
    options = tf.data.Options()
    options.experimental_external_state_policy = policy
    ds = tf.data.Dataset.range(2).with_options(options)
    assert ds.options().experimental_external_state_policy is policy


# ---------------------------------------------------------------- the dataset.py split
def test_dataset_module_still_exports_its_helpers():
    from dlframe.data import dataset, user_fns
    for name in ("apply_fn", "call_fn_raw", "predicate_value", "_int_arg",
                 "_spec_is_cheap", "_check_arity", "_parallel_calls_arg"):
        assert getattr(dataset, name) is getattr(user_fns, name)
    assert dataset.predicate_value(np.bool_(True)) is True
    with pytest.raises(TypeError, match="`count` must be an integer"):
        tf.data.Dataset.range(3).take("x")


# ---------------------------------------------------------------- grouping functions
def test_window_size_func_must_return_a_rank_0_int():
    ds = tf.data.Dataset.range(5)
    with pytest.raises(ValueError, match=r"window_size_func.*shape \(1,\)"):
        _values(ds.group_by_window(lambda x: x % 2, lambda k, w: w.batch(2),
                                   window_size_func=lambda k: tf.constant([2], tf.int64)))
    with pytest.raises(ValueError, match="window_size_func"):
        _values(ds.group_by_window(lambda x: x % 2, lambda k, w: w.batch(2),
                                   window_size_func=lambda k: tf.constant(2.0)))
    ok = ds.group_by_window(lambda x: x % 2, lambda k, w: w.batch(2),
                            window_size_func=lambda k: k + 2)
    # TF 2.21: key 0's full window first, then the partial windows key by key
    assert [b.tolist() for b in _values(ok)] == [[0, 2], [4], [1, 3]]


def test_bucket_length_func_with_float_length_is_type_error():
    seqs = tf.data.Dataset.from_tensor_slices(
        tf.ragged.constant([[1], [1, 2, 3], [4, 5]])).map(lambda x: x)   # dense rows
    bad = seqs.bucket_by_sequence_length(
        lambda x: tf.cast(tf.shape(x)[0], tf.float32), [2], [1, 1])
    with pytest.raises(TypeError, match="element_length_func"):
        _values(bad)
    good = seqs.bucket_by_sequence_length(lambda x: tf.shape(x)[0], [2], [2, 2],
                                          padding_values=-1)
    assert [b.tolist() for b in _values(good)] == [[[1, 2, 3], [4, 5, -1]], [[1]]]


def test_dataset_spec_from_value():
    ds = tf.data.Dataset.from_tensor_slices(({"a": [[1, 2]]}, [1.0])).batch(1)
    spec = tf.data.DatasetSpec.from_value(ds)
    assert spec == tf.data.DatasetSpec(ds.element_spec)
    assert spec.element_spec[0]["a"].shape.as_list() == [None, 2]
    assert spec.is_compatible_with(ds)
    with pytest.raises(TypeError, match="must be a `tf.data.Dataset`"):
        tf.data.DatasetSpec.from_value([1, 2])


def test_sparse_batch_element_larger_than_row_shape_is_data_loss():
    rows = tf.data.Dataset.range(1, 5).map(lambda n: tf.fill([n], n))
    with pytest.raises(tf.errors.DataLossError, match="larger than the row shape"):
        _values(rows.sparse_batch(2, [2]))
    batch = next(iter(rows.apply(tf.data.experimental.dense_to_sparse_batch(2, [5]))))
    assert batch.indices.numpy().tolist() == [[0, 0], [1, 0], [1, 1]]
    assert batch.values.numpy().tolist() == [1, 2, 2]
    assert batch.dense_shape.numpy().tolist() == [2, 5]


def test_options_refuse_none_and_non_options():
    options = tf.data.Options()
    for group, name in [(options, "deterministic"), (options, "experimental_slack"),
                        (options.autotune, "cpu_budget")]:
        with pytest.raises(TypeError, match=f'Property "{name}" must be of type'):
            setattr(group, name, None)
    options.experimental_deterministic = False
    assert options.deterministic is False
    with pytest.raises(TypeError, match='Property "deterministic"'):
        options.experimental_deterministic = None
    with pytest.raises(TypeError, match="must be a `tf.data.Options`"):
        tf.data.Dataset.range(2).with_options({"deterministic": False})
    ds = tf.data.Dataset.range(4).with_options(options).map(lambda x: x + 1,
                                                             num_parallel_calls=2)
    assert ds.options().deterministic is False
    assert sorted(_values(ds)) == [1, 2, 3, 4]


# ---------------------------------------------------------------- TF's random streams
def test_dataset_random_gives_tfs_values():
    # TF 2.21, no global seed: Dataset.random(seed=4) reads Philox (87654321, 4)
    fixed = tf.data.Dataset.random(seed=4).take(4)
    assert _values(fixed) == [3128586565, 2023892699, 452966358, 4293674553]
    assert _values(fixed) == _values(fixed)
    fresh = tf.data.Dataset.random(seed=4, rerandomize_each_iteration=True).take(3)
    first, second = _values(fresh), _values(fresh)
    assert first == [1905554911, 4215726141, 1283758208]
    assert second != first


def test_sample_from_datasets_draws_tfs_order():
    a, b, c = (tf.data.Dataset.range(s, s + n) for s, n in ((0, 3), (100, 3), (200, 3)))
    assert _values(tf.data.Dataset.sample_from_datasets([a, b], seed=1)) == [
        100, 0, 1, 2, 101, 102]
    five = [tf.data.Dataset.range(s, s + 5) for s in (0, 100, 200)]
    picked = tf.data.Dataset.sample_from_datasets(five, weights=[0.2, 0.3, 0.5], seed=1,
                                                  stop_on_empty_dataset=True)
    assert _values(picked) == [200, 100, 0, 1, 2, 3, 201, 202, 203, 4, 204]
    varying = tf.data.Dataset.from_tensor_slices([[0.9, 0.1], [0.1, 0.9]]).repeat()
    assert _values(tf.data.Dataset.sample_from_datasets([a, b], weights=varying,
                                                        seed=3)) == [
        0, 100, 1, 101, 2, 102]
    assert _values(tf.data.Dataset.sample_from_datasets(
        [a, b], weights=tf.constant([0.3, 0.7]), seed=3)) == [100, 101, 102, 0, 1, 2]


def test_sample_from_datasets_drops_zero_weight_inputs():
    a, b, c = (tf.data.Dataset.range(s, s + 3) for s in (0, 100, 200))
    only = tf.data.Dataset.sample_from_datasets([a, b], weights=[1.0, 0.0], seed=1)
    assert int(only.cardinality()) == 3 and _values(only) == [0, 1, 2]
    two = tf.data.Dataset.sample_from_datasets([a, b, c], weights=[0.5, 0.0, 0.5], seed=2)
    assert _values(two) == [200, 0, 201, 1, 202, 2]


def test_choose_from_datasets_ends_when_every_input_is_exhausted():
    # TF 2.21: [0, 10, 1, 11, 2] from an endless choice dataset (dlframe kept
    # consuming choices forever); sample_from_datasets shares the same drawing loop
    a, b = tf.data.Dataset.range(3), tf.data.Dataset.range(10, 12)
    choice = tf.data.Dataset.from_tensor_slices(tf.constant([0, 1], tf.int64)).repeat()
    got = tf.data.Dataset.choose_from_datasets([a, b], choice, stop_on_empty_dataset=False)
    assert [int(v) for v in got] == [0, 10, 1, 11, 2]
