"""Subclassing keras.losses.Loss and keras.metrics.Metric (a ``Lottery`` metric that
counts exact hits with a state variable from ``add_weight``) and training with them."""

import numpy as np

import dlframe as tf


class FocalishLoss(tf.keras.losses.Loss):
    """Mean squared error that weighs large errors more (``|e|^power``)."""

    def __init__(self, power=3.0, name="focalish_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.power = power

    def call(self, y_true, y_pred):
        err = tf.abs(tf.cast(y_true, y_pred.dtype) - y_pred)
        return tf.reduce_mean(err * err + 0.1 * err ** self.power, axis=-1)

    def get_config(self):
        return {**super().get_config(), "power": self.power}


class Lottery(tf.keras.metrics.Metric):
    """Fraction of predictions that round to the exact label (a lottery "win")."""

    def __init__(self, name="lottery", **kwargs):
        super().__init__(name=name, **kwargs)
        self.wins = self.add_weight(name="wins", initializer="zeros")
        self.tickets = self.add_weight(name="tickets", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        hit = tf.cast(tf.equal(tf.round(y_pred), tf.cast(y_true, y_pred.dtype)),
                      tf.float32)
        self.wins.assign_add(tf.reduce_sum(hit))
        self.tickets.assign_add(tf.cast(tf.size(hit), tf.float32))

    def result(self):
        return tf.math.divide_no_nan(self.wins, self.tickets)


def main(epochs=30):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 4, size=(2000, 2)).astype("float32")
    y = np.floor(x.sum(-1, keepdims=True)).astype("float32")  # integers 0..7
    model = tf.keras.Sequential([tf.keras.layers.Dense(32, activation="relu",
                                                       input_shape=(2,)),
                                 tf.keras.layers.Dense(1)])
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss=FocalishLoss(),
                  metrics=[Lottery(), "mae"])
    history = model.fit(x, y, epochs=epochs, batch_size=64, validation_split=0.2,
                        verbose=2)
    print("final lottery win rate:", history.history["val_lottery"][-1])
    return history


if __name__ == "__main__":
    main()
