"""Seed example: a custom layer (Flip) after a Dense layer, run with dlframe as tf."""

import dlframe as tf


class Flip(tf.keras.layers.Layer):
    """Returns ``pivot - inputs``."""

    def __init__(self, pivot=0, **kwargs):
        super().__init__(**kwargs)
        self.pivot = pivot

    def call(self, inputs):
        return self.pivot - inputs

    def get_config(self):
        config = super().get_config()
        config["pivot"] = self.pivot
        return config


def build_model():
    inputs = tf.keras.Input(shape=(3,))
    x = tf.keras.layers.Dense(1)(inputs)
    outputs = Flip(pivot=10)(x)
    return tf.keras.Model(inputs, outputs)


if __name__ == "__main__":
    model = build_model()
    model.summary()
    print(model(tf.ones([2, 3])))
