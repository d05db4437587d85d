"""Functional models with several inputs and outputs, as in the Keras functional API
guide: loss dicts and lists, loss_weights, per-output metrics, Keras's history keys."""

import contextlib
import io

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
layers = keras.layers
RNG = np.random.default_rng(1)
N = 320
TITLE = RNG.integers(1, 100, size=(N, 10))
FEATS = RNG.normal(size=(N, 6)).astype("float32")
PRIORITY = (FEATS[:, :1] > 0).astype("float32")
DEPT = (np.abs(FEATS[:, 1]) * 2).astype(int).clip(0, 3)


def ticket_model():
    t_in = keras.Input(shape=(10,), name="title")
    f_in = keras.Input(shape=(6,), name="features")
    e = layers.GlobalAveragePooling1D()(layers.Embedding(100, 8)(t_in))
    h = layers.Dense(32, activation="relu")(layers.concatenate([e, f_in]))
    p_out = layers.Dense(1, activation="sigmoid", name="priority")(h)
    d_out = layers.Dense(4, activation="softmax", name="department")(h)
    return keras.Model(inputs=[t_in, f_in], outputs=[p_out, d_out])


def test_loss_dict_weights_and_metrics_per_output():
    keras.utils.set_random_seed(3)
    model = ticket_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-2),
        loss={"priority": keras.losses.BinaryCrossentropy(),
              "department": "sparse_categorical_crossentropy"},
        loss_weights={"priority": 1.0, "department": 0.5},
        metrics={"priority": [keras.metrics.AUC(name="auc"), "accuracy"],
                 "department": ["accuracy",
                                keras.metrics.SparseTopKCategoricalAccuracy(k=2,
                                                                            name="top2")]})
    hist = model.fit({"title": TITLE, "features": FEATS},
                     {"priority": PRIORITY, "department": DEPT},
                     epochs=6, batch_size=32, validation_split=0.2, verbose=0)
    keys = ["department_accuracy", "department_loss", "department_top2", "loss",
            "priority_accuracy", "priority_auc", "priority_loss"]
    assert sorted(hist.history) == sorted(keys + ["val_" + k for k in keys])
    h = hist.history
    assert h["loss"][-1] < 0.7 * h["loss"][0]
    assert h["priority_accuracy"][-1] > 0.9
    # the total is the weighted sum of the per-output losses
    np.testing.assert_allclose(h["val_loss"][-1], h["val_priority_loss"][-1]
                               + 0.5 * h["val_department_loss"][-1], rtol=1e-4)
    result = model.evaluate([TITLE, FEATS], [PRIORITY, DEPT], verbose=0, return_dict=True)
    assert sorted(result) == keys
    assert len(model.evaluate([TITLE, FEATS], [PRIORITY, DEPT], verbose=0)) == 7
    pred = model.predict({"title": TITLE[:5], "features": FEATS[:5]}, verbose=0)
    assert [p.shape for p in pred] == [(5, 1), (5, 4)]
    assert model.output_names == ["priority", "department"]


def test_loss_lists_and_dict_outputs():
    model = ticket_model()
    model.compile(optimizer="adam",
                  loss=["binary_crossentropy", "sparse_categorical_crossentropy"],
                  loss_weights=[1.0, 0.2], metrics=[["accuracy"], ["accuracy"]])
    hist = model.fit([TITLE, FEATS], [PRIORITY, DEPT], epochs=1, verbose=0)
    assert sorted(hist.history) == ["department_accuracy", "department_loss", "loss",
                                    "priority_accuracy", "priority_loss"]
    named = keras.Model(model.inputs, {"p": model.outputs[0], "d": model.outputs[1]})
    named.compile("adam", loss={"p": "binary_crossentropy",
                                "d": "sparse_categorical_crossentropy"},
                  metrics={"p": "accuracy"})
    hist = named.fit([TITLE, FEATS], {"p": PRIORITY, "d": DEPT}, epochs=1, verbose=0)
    assert sorted(hist.history) == ["d_loss", "loss", "p_accuracy", "p_loss"]
    out = named.predict([TITLE[:3], FEATS[:3]], verbose=0)
    assert sorted(out) == ["d", "p"] and out["d"].shape == (3, 4)


def test_unknown_loss_key_names_the_outputs():
    model = ticket_model()
    with pytest.raises(ValueError, match=r"(?s)key 'prio'.*\['priority', 'department'\]"):
        model.compile("adam", loss={"prio": "mse"})
        model.fit([TITLE, FEATS], [PRIORITY, DEPT], epochs=1, verbose=0)


def test_same_metric_twice_gets_distinct_history_keys():
    x = RNG.normal(size=(64, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    model = keras.Sequential([keras.Input((6,)), layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy",
                  metrics=[keras.metrics.AUC(name="auc"), keras.metrics.AUC(curve="PR"),
                           "AUC", keras.metrics.Precision(), keras.metrics.Recall()])
    hist = model.fit(x, y, epochs=1, verbose=0)
    # TF 2.21 (the name given as a string is kept: "AUC")
    assert sorted(hist.history) == ["AUC", "auc", "auc_1", "loss", "precision",
                                    "recall"]


def test_binary_accuracy_with_flat_labels_and_sample_weights():
    """(N,) labels against (N, 1) sigmoid outputs stay one value per sample, so
    weighted metrics and partial last batches average over samples."""
    x = RNG.normal(size=(50, 6)).astype("float32")
    y = (x[:, 0] - x[:, 1] > 0).astype("float32")
    sw = np.where(y > 0, 2.0, 1.0).astype("float32")
    model = keras.Sequential([keras.Input((6,)), layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy"])
    res = model.evaluate(x, y, sample_weight=sw, batch_size=16, verbose=0,
                         return_dict=True)
    hit = ((model.predict(x, verbose=0)[:, 0] > 0.5) == (y > 0.5)).astype("float32")
    np.testing.assert_allclose(res["accuracy"], hit.mean(), rtol=1e-6)
    np.testing.assert_allclose(res["weighted_accuracy"], (hit * sw).sum() / sw.sum(),
                               rtol=1e-6)
    values = keras.metrics.binary_accuracy(y[:3], model.predict(x[:3], verbose=0))
    assert tuple(values.shape) == (3,)


def test_two_branch_cnn_rnn_model_and_summary():
    img = keras.Input((16, 16, 3), name="img")
    h = layers.BatchNormalization()(layers.Conv2D(8, 3, padding="same",
                                                  activation="relu")(img))
    h = layers.Add()([h, layers.Conv2D(8, 1, padding="same")(img)])
    h = layers.GlobalAveragePooling2D()(layers.SpatialDropout2D(0.1)(
        layers.MaxPooling2D()(h)))
    seq = keras.Input((10,), name="seq", dtype="int32")
    s = layers.Bidirectional(layers.LSTM(6, return_sequences=True))(
        layers.Embedding(30, 8, mask_zero=True)(seq))
    s = layers.GlobalMaxPooling1D()(layers.Conv1D(4, 3, padding="causal")(
        layers.TimeDistributed(layers.Dense(4))(s)))
    z = layers.AlphaDropout(0.1)(layers.Dropout(0.2)(layers.Concatenate()([h, s])))
    model = keras.Model([img, seq], layers.Dense(3, activation="softmax")(z),
                        name="two_branch")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        model.summary()
    text = buf.getvalue()
    assert 'Model: "two_branch"' in text and "Connected to" in text
    assert "Total params: 1,391" in text and "Non-trainable params: 16" in text
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    xs = RNG.integers(0, 30, size=(48, 10))
    xs[:, 7:] = 0
    hist = model.fit([RNG.normal(size=(48, 16, 16, 3)).astype("float32"), xs],
                     RNG.integers(0, 3, 48), epochs=2, batch_size=16, verbose=0)
    assert sorted(hist.history) == ["accuracy", "loss"]
    assert np.isfinite(hist.history["loss"]).all()
