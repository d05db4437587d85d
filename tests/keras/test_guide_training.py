"""Keras guides "Training & evaluation with built-in methods", "Writing your own
callbacks" and "The Functional API": target-rank alignment in fit, Python-float
batch logs, no spurious retracing warnings, unique output names, summary layout."""

import warnings

import numpy as np

import dlframe as tf
from dlframe import keras
from dlframe.keras import layers


def _dense_model(units=10, inputs=20):
    model = keras.Sequential([keras.Input((inputs,)), layers.Dense(units)])
    model.compile(keras.optimizers.SGD(0.0), loss="mse", metrics=["mae"])
    return model


def test_rank1_targets_broadcast_against_kwide_predictions_like_fit_in_tf():
    """The BackupAndRestore docstring fits Dense(10) on np.zeros(5) targets: the
    compiled loss reads (N,) labels as (N, 1) against (N, k) predictions (compiled
    metrics do not, as in TF 2.21)."""
    model = keras.Sequential([keras.Input((20,)), layers.Dense(10)])
    model.compile(keras.optimizers.SGD(0.0), loss="mse")
    x = np.arange(100, dtype="float32").reshape(5, 20) / 100
    y = np.linspace(0, 1, 5).astype("float32")
    loss = model.evaluate(x, y, batch_size=5, verbose=0)
    pred = model.predict(x, verbose=0)
    np.testing.assert_allclose(loss, ((pred - y[:, None]) ** 2).mean(), rtol=1e-5)
    history = model.fit(x, y, batch_size=1, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_sparse_labels_still_read_as_class_ids():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.RandomState(0).rand(6, 4).astype("float32")
    y = np.array([0, 1, 2, 2, 1, 0])
    logits = model.predict(x, verbose=0)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expect = -logp[np.arange(6), y].mean()
    got = model.evaluate(x, y, batch_size=6, verbose=0)
    np.testing.assert_allclose(got, expect, rtol=1e-5)


def test_batch_logs_reach_callbacks_as_python_floats():
    seen = []

    class LossHistory(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(logs)

        def on_test_batch_end(self, batch, logs=None):
            seen.append(logs)

    model = _dense_model(units=2, inputs=3)
    x, y = np.ones((8, 3), "float32"), np.zeros((8, 2), "float32")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[LossHistory()])
    model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[LossHistory()])
    assert len(seen) == 4
    for logs in seen:
        assert sorted(logs) == ["loss", "mae"]
        assert all(type(v) is float for v in logs.values()), logs
    print("{:.4f}".format(seen[0]["loss"]))   # what guide callbacks do with them


def test_no_retracing_warning_when_one_model_is_fit_many_ways():
    """The training guide fits one model on arrays, datasets, class and sample
    weights: each is a new trace, none is a frequent retrace, so TF stays quiet."""
    rng = np.random.RandomState(0)
    x, y = rng.rand(100, 6).astype("float32"), rng.randint(0, 3, 100)
    model = keras.Sequential([keras.Input((6,)), layers.Dense(3, activation="softmax")])
    model.compile("rmsprop", "sparse_categorical_crossentropy", metrics=["accuracy"])
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    weights = np.where(y == 1, 2.0, 1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y, batch_size=32, epochs=2, verbose=0, validation_split=0.2)
        model.fit(ds, epochs=2, verbose=0)
        model.fit(ds.repeat(), steps_per_epoch=2, epochs=2, verbose=0)
        model.fit(x, y, class_weight={0: 1.0, 1: 2.0, 2: 1.0}, epochs=1, verbose=0)
        model.fit(x, y, sample_weight=weights, epochs=1, verbose=0)
        model.fit(tf.data.Dataset.from_tensor_slices((x, y, weights)).batch(16),
                  epochs=1, verbose=0)
    assert not [w for w in caught if "retracing" in str(w.message)]


def test_frequent_retracing_still_warns():
    f = tf.function(lambda v: v * 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(1, 9):
            f(tf.ones((n,)))
    assert [w for w in caught if "retracing" in str(w.message)]


def test_outputs_of_one_layer_get_unique_names_in_logs():
    class Two(layers.Layer):
        def call(self, x):
            return x * 2.0, x + 1.0

    inputs = keras.Input((3,))
    first, second = Two(name="two")(inputs)
    model = keras.Model(inputs, [first, second])
    assert model.output_names == ["two", "two_1"]
    model.compile("sgd", "mse", metrics=["mae"])
    x = np.ones((4, 3), "float32")
    logs = model.evaluate(x, [2 * x, x], verbose=0, return_dict=True)
    assert sorted(logs) == ["loss", "two_1_loss", "two_1_mae", "two_loss", "two_mae"]
    np.testing.assert_allclose(logs["two_loss"], 0.0)
    np.testing.assert_allclose(logs["two_1_loss"], 1.0)


# ---------------------------------------------------------------- summary()
def _summary(model, **kw):
    lines = []
    model.summary(print_fn=lines.append, **kw)
    return lines


def _two_input_model():
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    x = layers.concatenate([layers.Dense(3, name="da")(a), layers.Dense(3, name="db")(b)],
                           name="cat")
    inner = keras.Sequential([keras.Input((6,)), layers.Dense(2, name="inner_d")],
                             name="inner")
    return keras.Model([a, b], inner(x), name="outer")


def test_functional_summary_has_keras2_columns_and_connection_lists():
    lines = _summary(_two_input_model())
    # tf.keras 2.15 layout: columns at 29/58/68 of 98, connections as Python lists
    # wrapped after "',"
    assert lines[2].rstrip() == (" Layer (type)                Output Shape"
                                 "                 Param #   Connected to")
    cat = next(i for i, line in enumerate(lines) if line.startswith(" cat "))
    assert lines[cat].rstrip() == (" cat (Concatenate)           (None, 6)"
                                   "                    0         ['da[0][0]',")
    assert lines[cat + 1].strip() == "'db[0][0]']"
    assert lines[cat + 1].index("'db") == 69
    assert all(len(line) == 98 for line in lines[1:-5])
    assert lines[-6].strip() == "" and lines[-5] == "=" * 98
    assert lines[-4] == "Total params: 44 (176.00 B)"


def test_summary_expand_nested_boxes_inner_layers():
    lines = _summary(_two_input_model(), expand_nested=True)
    inner = next(i for i, line in enumerate(lines) if line.startswith(" inner "))
    assert lines[inner + 1] == "|" + "\u00af" * 96 + "|"
    assert lines[inner + 2].startswith("| inner_d (Dense)")
    assert lines[inner + 2].endswith("|") and len(lines[inner + 2]) == 98
    assert lines[inner + 3] == "\u00af" * 98


def test_summary_layer_range_and_sequential_layout():
    model = keras.Sequential([keras.Input((8,)), layers.Dense(4, name="d1"),
                              layers.Dense(2, name="d2"), layers.Dense(1, name="d3")])
    lines = _summary(model, layer_range=["d2", "d3"])
    rows = [line.split()[0] for line in lines[4:] if line.startswith(" d")]
    assert rows == ["d2", "d3"]
    assert lines[4].rstrip() == " d2 (Dense)                  (None, 2)                 10"
    assert all(len(line) == 65 for line in lines[1:-5])
