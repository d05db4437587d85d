"""Per-column outputs of tf.feature_column through DenseFeatures, against NumPy
references and ids taken from TensorFlow 2.21 (hashes must match TF bit for bit)."""

import numpy as np
import pytest

import dlframe as tf

fc = tf.feature_column


def dense(columns, features):
    layer = tf.keras.layers.DenseFeatures(columns)
    return layer(features).numpy()


def one_hot_rows(ids, depth):
    """Multi-hot counts; None entries are missing."""
    out = np.zeros((len(ids), depth), np.float32)
    for r, row in enumerate(ids):
        for i in row if isinstance(row, (list, tuple)) else [row]:
            if i is not None:
                out[r, i] += 1
    return out


# ---------------------------------------------------------------- numeric
def test_numeric_column_shapes_and_normalizer():
    x = np.array([[0.5, -1], [1, 2], [3, 0.99]], np.float32)
    col = fc.numeric_column("x", shape=(2,), normalizer_fn=lambda t: t * 2 + 1)
    np.testing.assert_allclose(dense([col], {"x": x}), x * 2 + 1, rtol=1e-6)
    # a [batch] feature is a [batch, 1] column; integers become float32
    out = dense([fc.numeric_column("n", dtype=tf.int32)], {"n": np.array([1, 2, 3])})
    np.testing.assert_array_equal(out, [[1.0], [2.0], [3.0]])
    assert out.dtype == np.float32
    col = fc.numeric_column("m", shape=(2, 2))
    np.testing.assert_array_equal(
        dense([col], {"m": np.arange(8.0).reshape(2, 2, 2)}),
        np.arange(8.0).reshape(2, 4),
    )


def test_numeric_column_fields_and_errors():
    col = fc.numeric_column("a", shape=(2, 3), default_value=1)
    assert col.default_value == ((1.0, 1.0, 1.0), (1.0, 1.0, 1.0))
    assert col.variable_shape == tf.TensorShape([2, 3]) and col.name == "a"
    assert fc.numeric_column("a", shape=2).shape == (2,)
    with pytest.raises(ValueError, match="dtype must be convertible to float"):
        fc.numeric_column("a", dtype=tf.string)
    with pytest.raises(ValueError, match="shape dimensions must be greater than 0"):
        fc.numeric_column("a", shape=0)
    with pytest.raises(ValueError, match="shape of default_value must be equal"):
        fc.numeric_column("a", shape=(2,), default_value=[1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="normalizer_fn must be a callable"):
        fc.numeric_column("a", normalizer_fn=3)
    with pytest.raises(ValueError, match="key must be a string"):
        fc.numeric_column(3)
    with pytest.raises(TypeError, match="default_value must be compatible with dtype"):
        fc.numeric_column("a", dtype=tf.int32, default_value=1.5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="variable_shape"):
        dense([fc.numeric_column("x", shape=(2,))], {"x": np.ones(4, np.float32)})
    with pytest.raises(ValueError, match="Feature x is not in features dictionary"):
        dense([fc.numeric_column("x")], {"y": np.ones(2, np.float32)})
    with pytest.raises(ValueError, match="cannot have rank 0"):
        dense([fc.numeric_column("x")], {"x": np.float32(1)})


# ---------------------------------------------------------------- bucketized
def test_bucketized_column_matches_numpy_digitize():
    bounds = [0.0, 1.0, 2.0]
    x = np.array(
        [[0.5, -1], [1, 2], [3, 0.99], [-5, 7], [1, 1], [0, 1.999]], np.float32
    )
    col = fc.bucketized_column(fc.numeric_column("x", shape=(2,)), bounds)
    assert (col.name, col.num_buckets) == ("x_bucketized", 8)
    assert col.variable_shape == tf.TensorShape([2, 4])
    # bucket i holds bounds[i-1] <= x < bounds[i]: a value on a boundary goes up
    buckets = np.digitize(x, bounds, right=False)
    expect = np.eye(4, dtype=np.float32)[buckets].reshape(len(x), 8)
    np.testing.assert_array_equal(dense([col], {"x": x}), expect)


def test_bucketized_column_errors():
    n = fc.numeric_column("a", shape=2)
    for bad in ([1, 0], [1, 1], 3):
        with pytest.raises(ValueError, match="boundaries must be a sorted list"):
            fc.bucketized_column(n, bad)
    with pytest.raises(ValueError, match="generated with numeric_column"):
        fc.bucketized_column("a", [1.0])
    with pytest.raises(ValueError, match="one-dimensional"):
        fc.bucketized_column(fc.numeric_column("a", shape=(2, 2)), [1.0])


# ---------------------------------------------------------------- vocabulary
STRINGS = [["a"], ["z"], ["q"], ["b"], [""], ["yy"]]
INTS = np.array([[10], [5], [7], [100], [-1], [123456]], np.int64)


def test_vocabulary_list_oov_handling():
    col = fc.categorical_column_with_vocabulary_list("s", ["a", "b", "c"])
    # out-of-vocabulary and '' are dropped (all-zero rows) with the default -1
    np.testing.assert_array_equal(
        dense([fc.indicator_column(col)], {"s": STRINGS}),
        one_hot_rows([0, None, None, 1, None, None], 3),
    )
    col = fc.categorical_column_with_vocabulary_list(
        "s", ["a", "b", "c"], default_value=2
    )
    np.testing.assert_array_equal(
        dense([fc.indicator_column(col)], {"s": STRINGS}),
        one_hot_rows([0, 2, 2, 1, None, 2], 3),
    )
    # hashed OOV buckets: ids from TF 2.21
    col = fc.categorical_column_with_vocabulary_list(
        "s", ["a", "b", "c"], num_oov_buckets=3
    )
    assert col.num_buckets == 6
    np.testing.assert_array_equal(
        dense([fc.indicator_column(col)], {"s": STRINGS}),
        one_hot_rows([0, 4, 5, 1, None, 4], 6),
    )
    col = fc.categorical_column_with_vocabulary_list(
        "i", [10, 20, 30], num_oov_buckets=4
    )
    assert col.dtype == tf.int64
    np.testing.assert_array_equal(
        dense([fc.indicator_column(col)], {"i": INTS}),
        one_hot_rows([0, 6, 3, 6, None, 5], 7),
    )


def test_vocabulary_list_errors():
    with pytest.raises(ValueError, match="must be non-empty"):
        fc.categorical_column_with_vocabulary_list("s", [])
    with pytest.raises(ValueError, match="Duplicate keys"):
        fc.categorical_column_with_vocabulary_list("s", ["a", "a"])
    with pytest.raises(ValueError, match="Invalid num_oov_buckets -1"):
        fc.categorical_column_with_vocabulary_list("s", ["a"], num_oov_buckets=-1)
    with pytest.raises(ValueError, match="Can't specify both"):
        fc.categorical_column_with_vocabulary_list(
            "s", ["a"], num_oov_buckets=1, default_value=0
        )
    with pytest.raises(ValueError, match="do not match"):
        fc.categorical_column_with_vocabulary_list("s", ["a"], dtype=tf.int64)
    col = fc.categorical_column_with_vocabulary_list("s", ["a"])
    with pytest.raises(ValueError, match="dtype must be compatible"):
        dense([fc.indicator_column(col)], {"s": np.array([1, 3])})


def test_vocabulary_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("a\nb\nc\n")
    col = fc.categorical_column_with_vocabulary_file("s", str(path))
    assert (col.vocabulary_size, col.num_buckets) == (3, 3)
    np.testing.assert_array_equal(
        dense([fc.indicator_column(col)], {"s": STRINGS}),
        one_hot_rows([0, None, None, 1, None, None], 3),
    )
    col = fc.categorical_column_with_vocabulary_file(
        "s", str(path), vocabulary_size=2, num_oov_buckets=3
    )
    np.testing.assert_array_equal(  # 'c' is beyond the first 2 lines: an OOV bucket
        dense([fc.indicator_column(col)], {"s": [["a"], ["b"], ["c"], ["z"]]}),
        one_hot_rows([0, 1, 2 + _oov("c", 3), 2 + _oov("z", 3)], 5),
    )
    ints = tmp_path / "ints.txt"
    ints.write_text("7\n3\n")
    col = fc.categorical_column_with_vocabulary_file("k", str(ints), dtype=tf.int64)
    np.testing.assert_array_equal(
        dense([fc.indicator_column(col)], {"k": np.array([3, 7, 9])}),
        one_hot_rows([1, 0, None], 2),
    )
    with pytest.raises(ValueError, match="does not exist"):
        fc.categorical_column_with_vocabulary_file("s", str(tmp_path / "none.txt"))
    with pytest.raises(ValueError, match="Missing vocabulary_file"):
        fc.categorical_column_with_vocabulary_file("s", None)


def _oov(token, buckets):
    return tf.strings.to_hash_bucket_fast([token], buckets).numpy()[0]


# ---------------------------------------------------------------- identity / hash
def test_identity_column():
    ids = np.array([[1], [3], [7], [-1], [2]], np.int64)
    col = fc.categorical_column_with_identity("k", 4, default_value=0)
    np.testing.assert_array_equal(
        dense([fc.indicator_column(col)], {"k": ids}),
        one_hot_rows([1, 3, 0, None, 2], 4),
    )
    col = fc.categorical_column_with_identity("k", 4)
    np.testing.assert_array_equal(
        dense([fc.indicator_column(col)], {"k": np.array([1, 3, -1, 2])}),
        one_hot_rows([1, 3, None, 2], 4),
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="outside"):
        dense([fc.indicator_column(col)], {"k": ids})
    with pytest.raises(ValueError, match="not integer"):
        dense([fc.indicator_column(col)], {"k": np.array([1.0, 2.0])})
    with pytest.raises(ValueError, match="num_buckets 0 < 1"):
        fc.categorical_column_with_identity("s", 0)
    with pytest.raises(ValueError, match=r"default_value 5 not in range \[0, 3\)"):
        fc.categorical_column_with_identity("s", 3, default_value=5)


def test_hash_bucket_ids_match_tensorflow():
    col = fc.categorical_column_with_hash_bucket("s", 7)
    np.testing.assert_array_equal(  # ids from TF 2.21
        dense([fc.indicator_column(col)], {"s": STRINGS}),
        one_hot_rows([5, 4, 1, 2, None, 4], 7),
    )
    col = fc.categorical_column_with_hash_bucket("i", 7, dtype=tf.int64)
    np.testing.assert_array_equal(
        dense([fc.indicator_column(col)], {"i": INTS}),
        one_hot_rows([3, 1, 2, 4, None, 5], 7),
    )
    with pytest.raises(ValueError, match="hash_bucket_size must be at least 1"):
        fc.categorical_column_with_hash_bucket("s", 0)
    with pytest.raises(ValueError, match="dtype must be string or integer"):
        fc.categorical_column_with_hash_bucket("s", 3, dtype=tf.float32)


def test_multivalent_and_sparse_inputs():
    col = fc.categorical_column_with_vocabulary_list("s", ["a", "b", "c", "d", "e"])
    rows = [
        ["a", "b", ""],
        ["c", "", ""],
        ["", "", ""],
        ["a", "a", "z"],
        ["e", "d", "c"],
    ]
    np.testing.assert_array_equal(
        dense([fc.indicator_column(col)], {"s": rows}),
        one_hot_rows([[0, 1], [2], [], [0, 0], [4, 3, 2]], 5),
    )
    sparse = tf.SparseTensor([[0, 0], [1, 1]], ["a", "e"], [3, 2])
    np.testing.assert_array_equal(
        dense([fc.indicator_column(col)], {"s": sparse}), one_hot_rows([0, 4, None], 5)
    )


# ---------------------------------------------------------------- crossed
def test_crossed_column_ids_match_tensorflow():
    col = fc.crossed_column(["s", "i"], 11)
    assert col.name == "i_X_s"
    strings = [["a"], ["z"], ["q"], ["b"], ["x"], ["yy"]]
    ints = np.array([[10], [5], [7], [100], [3], [123456]], np.int64)
    np.testing.assert_array_equal(  # ids from TF 2.21
        dense([fc.indicator_column(col)], {"s": strings, "i": ints}),
        one_hot_rows([2, 9, 5, 6, 1, 2], 11),
    )
    col = fc.crossed_column(["s", "i"], 1000003)
    got = col.get_sparse_tensors(
        tf.keras.layers.dense_features.FeatureTransformationCache(
            {"s": [["a"], ["z"], ["b"]], "i": np.array([[10], [5], [7]])}
        ),
        None,
    )
    np.testing.assert_array_equal(
        got.id_tensor.numpy().ravel(), [836890, 314288, 342814]
    )


def test_crossed_column_multivalent_and_bucketized_keys():
    x = np.array([[0.5, -1], [1, 2], [3, 0.99], [-5, 7], [1, 1]], np.float32)
    k = np.array([[1], [3], [7], [-1], [2]], np.int64)
    b = fc.bucketized_column(fc.numeric_column("x", shape=(2,)), [0.0, 1.0, 2.0])
    col = fc.crossed_column([b, "k"], 13)
    np.testing.assert_array_equal(  # ids from TF 2.21
        dense([fc.indicator_column(col)], {"x": x, "k": k}),
        one_hot_rows([[5, 11], [1, 8], [2, 7], [2, 4], [3, 9]], 13),
    )
    # raw keys cross every value, '' and -1 included; rows give prod(n_i) ids
    col = fc.crossed_column(["k", "x2"], 13)
    feats = {
        "x2": [["a", "b"], ["c", ""], ["d", "d"], ["e", "e"], ["f", "g"]],
        "k": np.array([[1, 2], [3, 4], [7, -1], [-1, -1], [2, 2]], np.int64),
    }
    np.testing.assert_array_equal(
        dense([fc.indicator_column(col)], feats),
        one_hot_rows(
            [[1, 4, 6, 9], [0, 5, 6, 9], [5, 5, 12, 12], [10] * 4, [8] * 4], 13
        ),
    )


def test_crossed_column_errors():
    h = fc.categorical_column_with_hash_bucket("s", 3)
    with pytest.raises(ValueError, match="length > 1"):
        fc.crossed_column(["a"], 3)
    with pytest.raises(ValueError, match="hash_bucket_size must be > 1"):
        fc.crossed_column(["a", "b"], 0)
    with pytest.raises(ValueError, match="not supported for crossing"):
        fc.crossed_column(["a", h], 3)
    with pytest.raises(ValueError, match="Unsupported key type"):
        fc.crossed_column(["a", fc.numeric_column("n")], 3)


# ---------------------------------------------------------------- embeddings
EMB = np.arange(15, dtype=np.float32).reshape(5, 3) / 10 - 0.5
ROWS = [["a", "b", ""], ["c", "", ""], ["", "", ""], ["a", "a", "z"], ["e", "d", "c"]]
IDS = [[0, 1], [2], [], [0, 0], [4, 3, 2]]
WEIGHTS = np.array(
    [[1, 2, 0], [3, 0, 0], [0, 0, 0], [0.5, 1.5, 2], [1, -1, 2]], np.float32
)


def _combine(ids, weights, combiner):
    out = np.zeros((len(ids), 3), np.float32)
    for r, (row, w) in enumerate(zip(ids, weights)):
        pairs = [(i, wi) for i, wi in zip(row, w) if combiner == "sum" or wi > 0]
        if not pairs:
            continue
        total = sum(wi * EMB[i] for i, wi in pairs)
        if combiner == "mean":
            total = total / sum(wi for _, wi in pairs)
        elif combiner == "sqrtn":
            total = total / np.sqrt(sum(wi * wi for _, wi in pairs))
        out[r] = total
    return out


def _vocab():
    return fc.categorical_column_with_vocabulary_list("s", ["a", "b", "c", "d", "e"])


@pytest.mark.parametrize("combiner", ["sum", "mean", "sqrtn"])
def test_embedding_combiners(combiner):
    col = fc.embedding_column(
        _vocab(), 3, combiner=combiner, initializer=tf.constant_initializer(EMB)
    )
    ones = [[1.0] * len(r) for r in IDS]
    np.testing.assert_allclose(
        dense([col], {"s": ROWS}), _combine(IDS, ones, combiner), rtol=1e-6, atol=1e-7
    )


@pytest.mark.parametrize("combiner", ["sum", "mean", "sqrtn"])
def test_weighted_embedding_combiners(combiner):
    """Non-positive weights are pruned except for 'sum' (TF 2.21 gives the same)."""
    weighted = fc.weighted_categorical_column(_vocab(), "w")
    col = fc.embedding_column(
        weighted, 3, combiner=combiner, initializer=tf.constant_initializer(EMB)
    )
    ids_w = [[0, 1], [2], [], [0, 0], [4, 3, 2]]
    w = [[1, 2], [3], [], [0.5, 1.5], [1, -1, 2]]
    np.testing.assert_allclose(
        dense([col], {"s": ROWS, "w": WEIGHTS}),
        _combine(ids_w, w, combiner),
        rtol=1e-6,
        atol=1e-7,
    )
    assert weighted.name == "s_weighted_by_w"
    np.testing.assert_array_equal(
        dense([fc.indicator_column(weighted)], {"s": ROWS, "w": WEIGHTS}),
        [[1, 2, 0, 0, 0], [0, 0, 3, 0, 0], [0] * 5, [2, 0, 0, 0, 0], [0, 0, 2, -1, 1]],
    )


def test_embedding_max_norm_and_defaults():
    col = fc.embedding_column(
        _vocab(), 3, initializer=tf.constant_initializer(EMB), max_norm=0.5
    )
    norms = np.linalg.norm(EMB, axis=1, keepdims=True)
    clipped = EMB * np.minimum(1.0, 0.5 / norms)
    expect = np.stack([clipped[r].mean(0) if r else np.zeros(3) for r in IDS])
    np.testing.assert_allclose(dense([col], {"s": ROWS}), expect, rtol=1e-5, atol=1e-7)
    col = fc.embedding_column(_vocab(), 4)
    assert col.initializer.stddev == pytest.approx(0.5) and col.combiner == "mean"
    assert (col.name, col.variable_shape) == ("s_embedding", tf.TensorShape([4]))
    layer = tf.keras.layers.DenseFeatures([col])
    layer({"s": ROWS})
    table = layer.weights[0].numpy()
    assert table.shape == (5, 4) and np.abs(table).max() <= 1.0  # 2 stddev truncation
    with pytest.raises(ValueError, match="Invalid dimension 0"):
        fc.embedding_column(_vocab(), 0)
    with pytest.raises(ValueError, match="combiner"):
        fc.embedding_column(_vocab(), 2, combiner="max")
    with pytest.raises(
        ValueError, match="Must be a CategoricalColumn|CategoricalColumn"
    ):
        fc.embedding_column(fc.numeric_column("n"), 2)
    with pytest.raises(ValueError, match="Input must be a CategoricalColumn"):
        fc.indicator_column(fc.numeric_column("n"))


def test_embedding_gradient_reaches_looked_up_rows_only():
    col = fc.embedding_column(
        _vocab(), 3, combiner="sum", initializer=tf.constant_initializer(EMB)
    )
    layer = tf.keras.layers.DenseFeatures([col])
    feats = {"s": [["a", "c"], ["c", ""]]}
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(feats))
    grad = tf.convert_to_tensor(tape.gradient(loss, layer.trainable_weights[0])).numpy()
    np.testing.assert_array_equal(grad[:, 0], [1, 0, 2, 0, 0])


# ---------------------------------------------------------------- misc
def test_make_parse_example_spec_and_shared_embeddings():
    n = fc.numeric_column("a", shape=2)
    h = fc.categorical_column_with_hash_bucket("s", 3)
    w = fc.weighted_categorical_column(h, "w")
    cr = fc.crossed_column([fc.bucketized_column(n, [0.0]), "zz"], 5)
    spec = fc.make_parse_example_spec([n, h, fc.embedding_column(w, 2), cr])
    assert spec == {
        "a": tf.io.FixedLenFeature((2,), tf.float32),
        "s": tf.io.VarLenFeature(tf.string),
        "w": tf.io.VarLenFeature(tf.float32),
        "zz": tf.io.VarLenFeature(tf.string),
    }
    with pytest.raises(ValueError, match="must be FeatureColumn instances"):
        fc.make_parse_example_spec([n, "x"])
    # TF 2 raises this under eager execution, which dlframe always uses
    with pytest.raises(RuntimeError, match="not supported when eager execution"):
        fc.shared_embeddings([h, fc.categorical_column_with_hash_bucket("t", 3)], 4)


def test_column_config_round_trip():
    from dlframe.keras.layers.dense_features import (
        deserialize_feature_column,
        serialize_feature_column,
    )

    n = fc.numeric_column("a", shape=2, default_value=1.0)
    v = _vocab()
    columns = [
        n,
        fc.bucketized_column(n, [0.0, 1.0]),
        fc.indicator_column(v),
        fc.crossed_column([v, "k"], 7, hash_key=3),
        fc.weighted_categorical_column(
            fc.categorical_column_with_identity("i", 4, default_value=0), "w"
        ),
        fc.indicator_column(
            fc.categorical_column_with_hash_bucket("h", 5, dtype=tf.int32)
        ),
    ]
    for column in columns:
        assert deserialize_feature_column(serialize_feature_column(column)) == column
    emb = fc.embedding_column(v, 3, combiner="sqrtn", max_norm=2.0)
    back = deserialize_feature_column(serialize_feature_column(emb))
    assert back._replace(initializer=None) == emb._replace(initializer=None)
    assert back.initializer.get_config() == emb.initializer.get_config()


def test_outputs_concatenate_in_sorted_name_order():
    cols = [
        fc.numeric_column("b"),
        fc.numeric_column("a"),
        fc.indicator_column(fc.categorical_column_with_identity("aa", 2)),
    ]
    out = dense(
        cols, {"a": [[1.0], [2.0]], "b": [[10.0], [20.0]], "aa": np.array([[0], [1]])}
    )
    np.testing.assert_array_equal(out, [[1, 1, 0, 10], [2, 0, 1, 20]])  # TF 2.21
