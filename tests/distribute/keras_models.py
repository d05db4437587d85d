"""The small Keras classifier and data the strategy tests train under each strategy
and compare with single-device training."""

import numpy as np

from dlframe import keras


def classifier_data(n):
    """``n`` rows of 4 features and a linearly separable 0/1 label."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0]) > 0).astype("int32")
    return x, y


def compiled_classifier(strategy, units, run_eagerly=False, batch_norm=False):
    """Dense(units, relu) [-> BatchNormalization] -> Dense(2), compiled with Adam in
    ``strategy``'s scope from a fixed seed."""
    with strategy.scope():
        keras.utils.set_random_seed(3)
        layers = [keras.Input((4,)), keras.layers.Dense(units, activation="relu")]
        if batch_norm:
            layers.append(keras.layers.BatchNormalization())
        model = keras.Sequential(layers + [keras.layers.Dense(2)])
        model.compile(keras.optimizers.Adam(0.01),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"], run_eagerly=run_eagerly)
    return model
