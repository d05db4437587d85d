"""A layer whose call() branches on a tensor value, trained compiled and eagerly.

The `if tf.reduce_max(inputs) < 10:` is converted by AutoGraph into a graph cond
when `fit` compiles the train step, and runs as plain Python with run_eagerly=True.
"""

import numpy as np

import dlframe as tf


class Dynamic(tf.keras.layers.Layer):
    def call(self, inputs):
        if tf.reduce_max(inputs) < 10:
            return inputs * 2.0
        return inputs - 1.0


def build_model():
    return tf.keras.Sequential([
        tf.keras.Input(shape=(4,)),
        Dynamic(),
        tf.keras.layers.Dense(1),
    ])


def main(epochs=3, verbose=2):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 5, size=(256, 4)).astype("float32")
    x[128:] *= 5.0  # half the batches take the other branch
    y = (x.sum(axis=1, keepdims=True) > 20).astype("float32")
    results = {}
    for eager in (False, True):
        tf.keras.utils.set_random_seed(1)
        model = build_model()
        model.compile(optimizer="adam", loss="mse", run_eagerly=eager)
        history = model.fit(x, y, batch_size=32, epochs=epochs, shuffle=False,
                            verbose=verbose)
        results[eager] = (history.history["loss"], model.predict(x[:4], verbose=0))
        print(f"run_eagerly={eager}: final loss {history.history['loss'][-1]:.4f}")
    return results


if __name__ == "__main__":
    main()
