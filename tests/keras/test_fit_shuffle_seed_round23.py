"""fit(shuffle=True) on in-memory arrays is reproducible under tf.random.set_seed alone
(Keras 2 programs) and under keras.utils.set_random_seed (Keras 3 programs)."""

import numpy as np
import pytest

import dlframe as tf


def _history(seed_call):
    seed_call()
    rng = np.random.default_rng(0)
    x = rng.random((64, 4)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5], [3.0]], np.float32)
    model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(3),
                                 tf.keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    return model.fit(x, y, batch_size=8, epochs=3, verbose=0,
                     shuffle=True).history["loss"]


@pytest.mark.parametrize("seed_call", [lambda: tf.random.set_seed(3),
                                       lambda: tf.keras.utils.set_random_seed(3)])
def test_two_runs_give_the_same_history(seed_call):
    first, second = _history(seed_call), _history(seed_call)
    assert first == second
    assert first[-1] < first[0]


def test_the_order_follows_the_global_seed():
    first = _history(lambda: tf.random.set_seed(3))
    other = _history(lambda: tf.random.set_seed(4))
    assert first != other


def test_shuffled_batches_cover_every_sample_once_per_epoch():
    tf.random.set_seed(5)
    x = np.arange(20, dtype="float32").reshape(20, 1)
    seen = []

    class Record(tf.keras.layers.Layer):
        def call(self, inputs):
            seen.append(inputs.numpy().ravel().tolist())
            return inputs

    model = tf.keras.Sequential([tf.keras.Input((1,)), Record(), tf.keras.layers.Dense(1)])
    model.compile("sgd", "mse", run_eagerly=True)
    model.build((None, 1))
    model(x[:1])
    clear = tf.keras.callbacks.LambdaCallback(on_train_begin=lambda logs: seen.clear())
    model.fit(x, x, batch_size=6, epochs=1, verbose=0, shuffle=True, callbacks=[clear])
    flat = sorted(v for batch in seen for v in batch)
    assert flat == list(range(20)) and [len(b) for b in seen] == [6, 6, 6, 2]
    assert sum(seen, []) != list(range(20))
