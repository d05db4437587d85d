"""Issue-7 seed example: recurrent text classifiers (LSTM, GRU, stacked LSTM,
Bidirectional) over integer token ids, and a sequence task trained with fit.

Run: python examples/text_rnn_classifiers.py
"""

import numpy as np

import dlframe as tf


def lstm_classifier():
    return tf.keras.Sequential([
        tf.keras.layers.Embedding(1000, 64),
        tf.keras.layers.LSTM(32),
        tf.keras.layers.Dense(1, activation='sigmoid'),
    ])


def gru_classifier():
    return tf.keras.Sequential([
        tf.keras.layers.Embedding(1000, 64, mask_zero=True),
        tf.keras.layers.GRU(32),
        tf.keras.layers.Dense(1, activation='sigmoid'),
    ])


def stacked_lstm():
    return tf.keras.Sequential([
        tf.keras.layers.Embedding(1000, 64),
        tf.keras.layers.LSTM(32, return_sequences=True),
        tf.keras.layers.LSTM(32, return_sequences=True),
        tf.keras.layers.LSTM(16),
        tf.keras.layers.Dense(10, activation='softmax'),
    ])


def bidirectional():
    return tf.keras.Sequential([
        tf.keras.layers.Embedding(1000, 64, mask_zero=True),
        tf.keras.layers.Bidirectional(tf.keras.layers.LSTM(32, return_sequences=True)),
        tf.keras.layers.Bidirectional(tf.keras.layers.LSTM(16)),
        tf.keras.layers.Dense(1, activation='sigmoid'),
    ])


def sum_sign_task(epochs=8, seed=0):
    """Learns whether a sequence's sum is positive; returns held-out accuracy."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1200, 20, 1)).astype('float32')
    y = (x.sum(axis=(1, 2)) > 0).astype('float32')[:, None]
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(20, 1)),
        tf.keras.layers.LSTM(16),
        tf.keras.layers.Dense(1, activation='sigmoid'),
    ])
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01),
                  loss='binary_crossentropy', metrics=['accuracy'])
    model.fit(x[:1000], y[:1000], epochs=epochs, batch_size=32, verbose=0)
    return model.evaluate(x[1000:], y[1000:], verbose=0)[1]


if __name__ == '__main__':
    ids = np.random.default_rng(0).integers(1, 1000, size=(64, 30))
    labels = np.random.default_rng(1).integers(0, 2, size=(64, 1))
    for build in (lstm_classifier, gru_classifier, bidirectional):
        model = build()
        model.compile('adam', 'binary_crossentropy', metrics=['accuracy'])
        model.fit(ids, labels, epochs=1, verbose=0)
        print(build.__name__, model.predict(ids[:2], verbose=0).ravel())
    model = stacked_lstm()
    model.compile('adam', 'sparse_categorical_crossentropy')
    model.fit(ids, labels, epochs=1, verbose=0)
    model.summary()
    print('sum-sign task held-out accuracy:', sum_sign_task())
