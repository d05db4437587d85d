"""A custom training loop with tf.GradientTape on a binary classifier (two moons-like
data), as in TensorFlow's "writing a training loop from scratch" guide."""

import numpy as np

import dlframe as tf


def make_data(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, np.pi, n)
    label = rng.integers(0, 2, n)
    x = np.stack([np.cos(t) + label, np.sin(t) * (1 - 2 * label) + 0.5 * label], 1)
    return (x + rng.normal(scale=0.1, size=x.shape)).astype("float32"), \
        label.astype("float32")[:, None]


def main(epochs=20):
    x, y = make_data()
    model = tf.keras.Sequential([tf.keras.layers.Dense(16, activation="relu",
                                                       input_shape=(2,)),
                                 tf.keras.layers.Dense(16, activation="relu"),
                                 tf.keras.layers.Dense(1)])
    loss_fn = tf.keras.losses.BinaryCrossentropy(from_logits=True)
    optimizer = tf.keras.optimizers.Adam(learning_rate=0.01)
    acc = tf.keras.metrics.BinaryAccuracy(threshold=0.0)

    @tf.function
    def train_step(xb, yb):
        with tf.GradientTape() as tape:
            logits = model(xb, training=True)
            loss = loss_fn(yb, logits)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        acc.update_state(yb, logits)
        return loss

    for epoch in range(epochs):
        acc.reset_state()
        for i in range(0, len(x), 32):
            loss = train_step(tf.constant(x[i:i + 32]), tf.constant(y[i:i + 32]))
        print(f"epoch {epoch + 1}: loss {float(loss):.4f} accuracy "
              f"{float(acc.result()):.4f}")
    return float(acc.result())


if __name__ == "__main__":
    main()
