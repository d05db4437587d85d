"""Logging training to TensorBoard with the keras.callbacks.TensorBoard callback.

    pip install ".[tensorboard]" && python examples/tensorboard_callback.py
    tensorboard --logdir logs/fit
"""

import os
import time

import numpy as np

import dlframe as tf


def main(log_root="logs/fit", epochs=5):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 10)).astype("float32")
    y = (x @ rng.normal(size=(10, 4))).argmax(-1)
    model = tf.keras.Sequential([tf.keras.layers.Dense(32, activation="relu",
                                                       input_shape=(10,)),
                                 tf.keras.layers.Dense(4)])
    model.compile(optimizer="adam",
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    log_dir = os.path.join(log_root, time.strftime("%Y%m%d-%H%M%S"))
    tensorboard = tf.keras.callbacks.TensorBoard(log_dir=log_dir, histogram_freq=1)
    model.fit(x, y, epochs=epochs, validation_split=0.2, callbacks=[tensorboard],
              verbose=2)
    print(f"event files written under {log_dir}; run: tensorboard --logdir {log_root}")
    return log_dir


if __name__ == "__main__":
    main()
