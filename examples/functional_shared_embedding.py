"""Seed example: a two-input, two-output functional model sharing one Embedding."""

import dlframe as tf
from dlframe import keras
from dlframe.keras import layers


def build_model(vocab=1000, dim=16):
    text_a = keras.Input(shape=(None,), dtype="int32", name="text_a")
    text_b = keras.Input(shape=(None,), dtype="int32", name="text_b")
    shared_embedding = layers.Embedding(vocab, dim)
    encoded_a = layers.GlobalAveragePooling1D()(shared_embedding(text_a))
    encoded_b = layers.GlobalAveragePooling1D()(shared_embedding(text_b))
    merged = layers.concatenate([encoded_a, encoded_b])
    similarity = layers.Dense(1, activation="sigmoid", name="similarity")(merged)
    topic = layers.Dense(4, activation="softmax", name="topic")(merged)
    return keras.Model(inputs=[text_a, text_b], outputs=[similarity, topic])


if __name__ == "__main__":
    model = build_model()
    model.summary()
    a = tf.constant([[1, 2, 3, 0]])
    b = tf.constant([[4, 5, 0, 0]])
    sim, topic = model([a, b])
    print(sim.shape, topic.shape)
