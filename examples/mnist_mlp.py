"""Seed example: the MNIST MLP built three ways (Sequential, functional, subclassed)."""

import dlframe as tf


def sequential():
    return tf.keras.models.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(128, activation='relu'),
        tf.keras.layers.Dropout(0.2),
        tf.keras.layers.Dense(10)
    ])


def functional():
    inputs = tf.keras.Input(shape=(28, 28))
    x = tf.keras.layers.Flatten()(inputs)
    x = tf.keras.layers.Dense(128, activation='relu')(x)
    x = tf.keras.layers.Dropout(0.2)(x)
    outputs = tf.keras.layers.Dense(10)(x)
    return tf.keras.Model(inputs=inputs, outputs=outputs)


class MLP(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.flatten = tf.keras.layers.Flatten()
        self.d1 = tf.keras.layers.Dense(128, activation='relu')
        self.dropout = tf.keras.layers.Dropout(0.2)
        self.d2 = tf.keras.layers.Dense(10)

    def call(self, x, training=False):
        x = self.flatten(x)
        x = self.d1(x)
        x = self.dropout(x, training=training)
        return self.d2(x)


def subclassed():
    model = MLP()
    model.build((None, 28, 28))
    return model


if __name__ == "__main__":
    for make in (sequential, functional, subclassed):
        make().summary()
