"""Synthetic iris-like data shared by the estimator tests."""

import numpy as np
import pytest

import dlframe as tf

NAMES = ("SepalLength", "SepalWidth", "PetalLength", "PetalWidth")


def iris_like(n=300, seed=0):
    """Three Gaussian classes in 4-d, separable enough for >0.9 accuracy."""
    rng = np.random.RandomState(seed)
    centers = np.array([[0, 0, 0, 0], [2, 2, 0, 0], [0, 2, 2, 2]], np.float32)
    y = rng.randint(0, 3, n).astype(np.int64)
    x = centers[y] + 0.6 * rng.randn(n, 4).astype(np.float32)
    return x, y


def make_input_fn(x, y, training=True, batch=32):
    def input_fn():
        features = {name: x[:, i] for i, name in enumerate(NAMES)}
        ds = tf.data.Dataset.from_tensor_slices((features, y))
        if training:
            ds = ds.shuffle(len(y), seed=1).repeat()
        return ds.batch(batch)
    return input_fn


@pytest.fixture
def iris():
    return iris_like()


@pytest.fixture
def columns():
    return [tf.feature_column.numeric_column(k) for k in NAMES]
