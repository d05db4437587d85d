"""Time-series forecasting with windowed tf.data pipelines, after TensorFlow's
"Time series forecasting" tutorial and the classic `window` / `flat_map` recipe: a
generated noisy sine series is cut into windows, an LSTM forecaster learns the next
value with fit, a ModelCheckpoint keeps the best epoch as a `.keras` file, and the
reloaded best model is evaluated.

Run: python examples/timeseries_window.py
"""

import os
import tempfile

import numpy as np

import dlframe as tf

WINDOW_SIZE = 16


def make_series(n=1200, seed=0):
    """A noisy sum of two sines, float32 of shape (n, 1)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype="float64")
    series = np.sin(2 * np.pi * t / 50) + 0.5 * np.sin(2 * np.pi * t / 17)
    series += rng.normal(scale=0.05, size=n)
    return series.astype("float32")[:, None]


def windowed_dataset(series, window_size=WINDOW_SIZE, batch_size=32,
                     shuffle_buffer=None, seed=0):
    """(inputs, target) pairs: `window_size` steps in, the following step out."""
    dataset = tf.data.Dataset.from_tensor_slices(series)
    dataset = dataset.window(window_size + 1, shift=1, drop_remainder=True)
    dataset = dataset.flat_map(lambda window: window.batch(window_size + 1))
    dataset = dataset.map(lambda window: (window[:-1], window[-1]))
    if shuffle_buffer:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def build_model():
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(WINDOW_SIZE, 1)),
        tf.keras.layers.LSTM(24),
        tf.keras.layers.Dense(1),
    ])
    model.compile(loss="mse", optimizer=tf.keras.optimizers.Adam(0.01),
                  metrics=["mae"])
    return model


def main(epochs=6, seed=0, verbose=2, workdir=None):
    tf.keras.utils.set_random_seed(seed)
    series = make_series(seed=seed)
    train, valid, test = series[:800], series[800:1000], series[1000:]
    train_ds = windowed_dataset(train, shuffle_buffer=1000, seed=seed)
    valid_ds = windowed_dataset(valid)
    test_ds = windowed_dataset(test)

    for inputs, target in train_ds.take(1):
        print("batch of windows:", inputs.shape, "targets:", target.shape)

    workdir = workdir or tempfile.mkdtemp()
    best_path = os.path.join(workdir, "best_forecaster.keras")
    checkpoint = tf.keras.callbacks.ModelCheckpoint(
        best_path, monitor="val_loss", save_best_only=True, verbose=0)

    model = build_model()
    untrained_mse = model.evaluate(test_ds, verbose=0)[0]
    history = model.fit(train_ds, validation_data=valid_ds, epochs=epochs,
                        callbacks=[checkpoint], verbose=verbose)

    best = tf.keras.models.load_model(best_path)
    test_mse, test_mae = best.evaluate(test_ds, verbose=0)
    best_epoch = int(np.argmin(history.history["val_loss"])) + 1
    print(f"best epoch {best_epoch}: val_loss {min(history.history['val_loss']):.4f}")
    print(f"test MSE {untrained_mse:.4f} untrained, {test_mse:.4f} with the best "
          f"checkpoint (MAE {test_mae:.4f})")

    naive_mse = float(np.mean((test[WINDOW_SIZE:] - test[WINDOW_SIZE - 1:-1]) ** 2))
    print(f"repeat-last-value baseline MSE {naive_mse:.4f}")
    return history.history, untrained_mse, test_mse, naive_mse, best, best_path


if __name__ == "__main__":
    main()
