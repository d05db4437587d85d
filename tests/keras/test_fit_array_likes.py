"""``fit`` takes array-likes (objects with ``__array__``, as pandas frames and series
are) wherever it takes NumPy arrays, ``validation_split`` included (Keras 2 and 3
both split pandas inputs)."""

import numpy as np

import dlframe as tf


class _Frame:
    """A stand-in for a pandas DataFrame: an ``__array__`` and a ``shape``, no
    ``dtype`` (frames have ``dtypes``)."""

    def __init__(self, values):
        self._values = np.asarray(values)
        self.shape = self._values.shape

    def __len__(self):
        return len(self._values)

    def __array__(self, dtype=None, copy=None):
        return self._values if dtype is None else self._values.astype(dtype)


def test_validation_split_accepts_array_likes():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 3))
    y = (x[:, 0] + x[:, 1] > 0).astype("float32")
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy")
    history = model.fit(_Frame(x), _Frame(y), validation_split=0.2, epochs=2,
                        batch_size=16, verbose=0)
    assert sorted(history.history) == ["loss", "val_loss"]
    # the validation set is the last 20 rows, as for NumPy inputs
    val_loss = model.evaluate(x[80:], y[80:], verbose=0)
    np.testing.assert_allclose(history.history["val_loss"][-1], val_loss, rtol=1e-5)
