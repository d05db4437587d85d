"""Recurrent models end to end: the issue's seed programs run, and a sequence task
trained with fit reaches a stated accuracy."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras

L = keras.layers


def _ids(n=128, steps=20, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 1000, size=(n, steps))
    x[:, 12:] *= rng.random((n, steps - 12)) < 0.5  # ragged tails (mask_zero)
    return x, rng.integers(0, 2, (n, 1))


@pytest.mark.parametrize("body", [
    lambda: [L.LSTM(32)],
    lambda: [L.GRU(32)],
    lambda: [L.LSTM(32, return_sequences=True), L.LSTM(32, return_sequences=True),
             L.LSTM(16)],
    lambda: [L.Bidirectional(L.LSTM(16))],
], ids=["lstm", "gru", "stacked", "bidirectional"])
def test_seed_programs_train(body):
    x, y = _ids()
    model = keras.Sequential([L.Embedding(1000, 64, mask_zero=True)] + body()
                             + [L.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    before = [w.numpy().copy() for w in model.trainable_weights]
    hist = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()
    changed = [not np.allclose(a, w.numpy()) for a, w in zip(before, model.trainable_weights)]
    assert all(changed)
    assert model.predict(x[:5], verbose=0).shape == (5, 1)


def test_eager_and_compiled_steps_agree():
    x, y = _ids(64)
    outs = []
    for eager in (True, False):
        tf.random.set_seed(0)
        model = keras.Sequential([L.Embedding(1000, 8, mask_zero=True),
                                  L.GRU(8, return_sequences=True), L.LSTM(4),
                                  L.Dense(1, activation="sigmoid")])
        model.compile(keras.optimizers.SGD(0.1), "binary_crossentropy",
                      run_eagerly=eager)
        model.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
        outs.append(model.predict(x[:8], verbose=0))
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-4, atol=1e-5)


def test_sum_sign_task_reaches_accuracy():
    """Classify whether a sequence's sum is positive: > 90% held-out accuracy."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1200, 20, 1)).astype("float32")
    y = (x.sum(axis=(1, 2)) > 0).astype("float32")[:, None]  # (N, 1) like the output
    keras.utils.set_random_seed(1)  # all seeds, so the result does not depend on test order
    model = keras.Sequential([keras.Input((20, 1)), L.LSTM(16), L.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    # 15 epochs: seeds 0-4 all reach 0.915-0.945 (8 epochs ranged 0.88-0.95)
    model.fit(x[:1000], y[:1000], epochs=15, batch_size=32, verbose=0)
    _, acc = model.evaluate(x[1000:], y[1000:], verbose=0)
    assert acc > 0.9, acc


def test_gradient_tape_loop_with_gru():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((256, 12, 2)).astype("float32")
    y = (x[:, :, 0].sum(1) > x[:, :, 1].sum(1)).astype("int32")
    model = keras.Sequential([L.GRU(16), L.Dense(2)])
    opt = keras.optimizers.Adam(0.02)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    for epoch in range(6):
        for i in range(0, 256, 32):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[i:i + 32], model(x[i:i + 32], training=True))
            grads = tape.gradient(loss, model.trainable_weights)
            opt.apply_gradients(zip(grads, model.trainable_weights))
    pred = np.argmax(model(x).numpy(), axis=1)
    assert (pred == y).mean() > 0.9


def test_issue7_example_runs():
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[2] / "examples" / "text_rnn_classifiers.py"
    spec = importlib.util.spec_from_file_location("text_rnn_classifiers", path)
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    ids = np.random.default_rng(0).integers(0, 1000, size=(8, 12))
    for build, width in ((ex.lstm_classifier, 1), (ex.gru_classifier, 1),
                         (ex.stacked_lstm, 10), (ex.bidirectional, 1)):
        assert tuple(build()(ids).shape) == (8, width)
