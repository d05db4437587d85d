"""keras.layers.DenseFeatures end to end: the structured-data tutorial program
(dict dataset -> feature columns -> DenseFeatures -> fit), functional models with
string Inputs, saving and re-loading, config round trips, eager == tf.function."""

import numpy as np
import pytest

import dlframe as tf

fc = tf.feature_column


def _data(n=1000, seed=0):
    """Synthetic 'heart disease' table: the label depends on every column."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(20, 70, n).astype(np.float32)
    thal = rng.choice(["fixed", "normal", "reversible", "weird"], n)
    city = rng.choice(["a", "b", "c", "d", "e", "f"], n)
    score = (age > 45).astype(int) + (thal == "reversible") + np.isin(city, ["a", "c"])
    return {"age": age, "thal": thal, "city": city}, (score >= 2).astype(np.int64)


def _columns():
    age = fc.numeric_column("age")
    thal = fc.categorical_column_with_vocabulary_list(
        "thal", ["fixed", "normal", "reversible"]
    )
    # 21 buckets: 'a'..'f' hash to distinct ids (as in TF: FarmHash fingerprint)
    city = fc.categorical_column_with_hash_bucket("city", 21)
    return [
        fc.numeric_column("age", normalizer_fn=lambda x: (x - 45.0) / 15.0),
        fc.bucketized_column(age, [30.0, 40.0, 45.0, 50.0, 60.0]),
        fc.indicator_column(thal),
        fc.embedding_column(city, 4),
        fc.indicator_column(fc.crossed_column([thal, "city"], 16)),
    ]


@pytest.mark.parametrize("run_eagerly", [False, True])
def test_structured_data_tutorial_learns(run_eagerly):
    tf.random.set_seed(1)
    features, labels = _data()
    ids = tf.strings.to_hash_bucket_fast(["a", "b", "c", "d", "e", "f"], 21).numpy()
    assert len(set(ids.tolist())) == 6
    ds = (
        tf.data.Dataset.from_tensor_slices((features, labels))
        .shuffle(1000, seed=1)
        .batch(32)
    )
    model = tf.keras.Sequential(
        [
            tf.keras.layers.DenseFeatures(_columns()),
            tf.keras.layers.Dense(32, activation="relu"),
            tf.keras.layers.Dense(1),
        ]
    )
    model.compile(
        optimizer=tf.keras.optimizers.Adam(0.01),
        loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=["accuracy"],
        run_eagerly=run_eagerly,
    )
    history = model.fit(ds, epochs=12, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 3
    _, accuracy = model.evaluate(ds, verbose=0)
    assert accuracy >= 0.97, accuracy
    names = [w.name for w in model.weights]
    assert any(
        "dense_features" in n and n.endswith("/city_embedding/embedding_weights:0")
        for n in names
    ), names
    assert model.layers[0].weights[0].shape == (21, 4)


def _functional(columns):
    inputs = {
        "age": tf.keras.Input(shape=(1,), name="age"),
        "thal": tf.keras.Input(shape=(1,), name="thal", dtype=tf.string),
        "city": tf.keras.Input(shape=(1,), name="city", dtype=tf.string),
    }
    x = tf.keras.layers.DenseFeatures(columns)(inputs)
    assert x.shape.as_list() == [None, 1 + 6 + 3 + 4 + 16]
    x = tf.keras.layers.Dense(8, activation="relu")(x)
    return tf.keras.Model(inputs, tf.keras.layers.Dense(1, activation="sigmoid")(x))


def test_functional_model_save_and_reload(tmp_path):
    features, labels = _data(200)
    columns = _columns()
    columns[0] = fc.numeric_column("age")  # a lambda normalizer is not serializable
    model = _functional(columns)
    model.compile("adam", "binary_crossentropy")
    model.fit(features, labels, batch_size=50, epochs=1, verbose=0)
    batch = {k: v[:7] for k, v in features.items()}
    expect = model.predict(batch, verbose=0)

    path = str(tmp_path / "w.weights.h5")
    model.save_weights(path)
    clone = tf.keras.Model.from_config(model.get_config())
    assert not np.allclose(clone.predict(batch, verbose=0), expect)
    clone.load_weights(path)
    np.testing.assert_allclose(clone.predict(batch, verbose=0), expect, rtol=1e-6)

    model.save(str(tmp_path / "m.keras"))
    loaded = tf.keras.models.load_model(str(tmp_path / "m.keras"))
    np.testing.assert_allclose(loaded.predict(batch, verbose=0), expect, rtol=1e-6)


def test_sequential_save_weights_round_trip(tmp_path):
    features, labels = _data(64)
    columns = _columns()

    def build():
        model = tf.keras.Sequential(
            [tf.keras.layers.DenseFeatures(columns), tf.keras.layers.Dense(1)]
        )
        model(features)
        return model

    model = build()
    model.compile("sgd", "mse")
    model.fit(features, labels, epochs=1, verbose=0)
    path = str(tmp_path / "seq.weights.h5")
    model.save_weights(path)
    other = build()
    other.load_weights(path)
    np.testing.assert_allclose(
        other(features).numpy(), model(features).numpy(), rtol=1e-6
    )


def test_layer_config_round_trip_and_function():
    layer = tf.keras.layers.DenseFeatures(_columns()[1:], name="feats")
    features, _ = _data(10)
    out = layer(features)
    config = layer.get_config()
    # sorted by column name, as TF: 'city_X_thal_indicator' < 'city_embedding'
    assert [c.name for c in layer.feature_columns] == [
        "age_bucketized",
        "city_X_thal_indicator",
        "city_embedding",
        "thal_indicator",
    ]
    assert [c["class_name"] for c in config["feature_columns"]] == [
        "BucketizedColumn",
        "IndicatorColumn",
        "EmbeddingColumn",
        "IndicatorColumn",
    ]
    clone = tf.keras.layers.DenseFeatures.from_config(config)
    clone(features)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(features).numpy(), out.numpy())
    again = tf.keras.layers.deserialize(tf.keras.layers.serialize(layer))
    assert [c.name for c in again.feature_columns] == [
        c.name for c in layer.feature_columns
    ]
    compiled = tf.function(lambda f: layer(f))
    np.testing.assert_allclose(compiled(features).numpy(), out.numpy(), rtol=1e-6)
    assert layer.compute_output_shape({"age": (None, 1)}).as_list() == [None, 29]


def test_layer_errors_and_options():
    with pytest.raises(ValueError, match="must not be empty"):
        tf.keras.layers.DenseFeatures([])
    with pytest.raises(ValueError, match="must be a DenseColumn"):
        tf.keras.layers.DenseFeatures([fc.categorical_column_with_identity("k", 3)])
    layer = tf.keras.layers.DenseFeatures(fc.numeric_column("a"))
    with pytest.raises(ValueError, match="expected a dictionary"):
        layer(tf.constant([[1.0]]))
    assert tf.compat.v1.keras.layers.DenseFeatures is tf.keras.layers.DenseFeatures
    frozen = tf.keras.layers.DenseFeatures(
        [fc.embedding_column(fc.categorical_column_with_identity("k", 3), 2)],
        trainable=False,
    )
    frozen({"k": np.array([0, 2])})
    assert not frozen.trainable_weights and len(frozen.non_trainable_weights) == 1
    cols = {}
    both = tf.keras.layers.DenseFeatures(
        [fc.numeric_column("b"), fc.numeric_column("a")]
    )
    both({"a": [1.0, 2.0], "b": [3.0, 4.0]}, cols_to_output_tensors=cols)
    assert sorted(c.name for c in cols) == ["a", "b"]
