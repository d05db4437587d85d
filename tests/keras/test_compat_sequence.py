"""keras.utils.Sequence / PyDataset feeding fit/evaluate/predict (TF2 programs)."""

import threading
import warnings

import numpy as np
import pytest

import dlframe as tf


class CountingSequence(tf.keras.utils.Sequence):
    """Keras 2 style: no super().__init__(), counts epochs and batch visits."""

    def __init__(self, x, y, batch_size, sample_weight=None):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.sample_weight = sample_weight
        self.epochs_ended = 0
        self.epochs_begun = 0
        self.visits = []

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, idx):
        self.visits.append(idx)
        sl = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
        if self.sample_weight is not None:
            return self.x[sl], self.y[sl], self.sample_weight[sl]
        return self.x[sl], self.y[sl]

    def on_epoch_begin(self):
        self.epochs_begun += 1

    def on_epoch_end(self):
        self.epochs_ended += 1


def _blobs(n=240, seed=0):
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 3, size=n)
    centres = np.array([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.5]])
    x = (centres[y] + rng.normal(scale=0.6, size=(n, 2))).astype("float32")
    return x, y


def _classifier():
    model = tf.keras.Sequential([tf.keras.Input((2,)),
                                 tf.keras.layers.Dense(16, activation="relu"),
                                 tf.keras.layers.Dense(3, activation="softmax")])
    model.compile(tf.keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def test_sequence_fit_learns_and_counts_epochs():
    """End to end: a TF2 program training on a Sequence subclass."""
    tf.keras.utils.set_random_seed(1)
    x, y = _blobs()
    train = CountingSequence(x[:200], y[:200], batch_size=20)
    val = CountingSequence(x[200:], y[200:], batch_size=20)
    model = _classifier()
    history = model.fit(train, validation_data=val, epochs=6, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert history.history["val_accuracy"][-1] >= 0.9
    assert train.epochs_ended == 6 and train.epochs_begun == 6
    assert val.epochs_ended == 6
    # shuffle=True (default) visits every batch once per epoch in some order
    assert len(train.visits) >= 60 and sorted(train.visits[-10:]) == list(range(10))
    _, acc = model.evaluate(val, verbose=0)
    assert acc >= 0.9 and val.epochs_ended == 7
    probs = model.predict(val, verbose=0)
    assert probs.shape == (40, 3)
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)


def test_shuffle_false_keeps_order_and_steps_per_epoch_cuts_epoch():
    x, y = _blobs(60)
    seq = CountingSequence(x, y, batch_size=10)
    model = _classifier()
    model.fit(seq, epochs=1, shuffle=False, verbose=0)
    assert seq.visits[-6:] == [0, 1, 2, 3, 4, 5]
    seq.visits.clear()
    model.fit(seq, epochs=2, steps_per_epoch=3, shuffle=False, verbose=0)
    # each epoch restarts the pass (Keras 2 semantics) and ends it
    assert seq.visits[-6:] == [0, 1, 2, 0, 1, 2]
    assert seq.epochs_ended == 3


def test_sample_weight_dict_inputs_and_x_only_batches():
    class Weighted(tf.keras.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return (np.ones((4, 3), "float32"), np.ones((4, 1), "float32"),
                    np.zeros(4, "float32"))

    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    assert model.evaluate(Weighted(), verbose=0) == 0.0   # all weights zero (as TF)

    class XOnly(tf.keras.utils.PyDataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return np.full((2, 3), i, "float32")

    out = model.predict(XOnly(), verbose=0)
    expected = model.predict(np.repeat(np.arange(3.0), 2)[:, None] * np.ones((1, 3)),
                             verbose=0)
    np.testing.assert_allclose(out, expected, rtol=1e-6)

    a = tf.keras.Input((2,), name="a")
    b = tf.keras.Input((1,), name="b")
    merged = tf.keras.layers.Concatenate()([a, b])
    dict_model = tf.keras.Model({"a": a, "b": b}, tf.keras.layers.Dense(1)(merged))
    dict_model.compile("sgd", "mse")

    class DictSeq(tf.keras.utils.PyDataset):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)

        def __len__(self):
            return 2

        def __getitem__(self, i):
            return ({"a": np.ones((5, 2), "float32"), "b": np.ones((5, 1), "float32")},
                    np.zeros((5, 1), "float32"))

    hist = dict_model.fit(DictSeq(), epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2


def test_workers_prefetch_with_threads_in_order():
    seen_threads = set()

    class Slow(tf.keras.utils.PyDataset):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)

        def __len__(self):
            return 8

        def __getitem__(self, i):
            seen_threads.add(threading.current_thread().name)
            return np.full((2, 1), i, "float32"), np.full((2, 1), i, "float32")

    seq = Slow(workers=3, max_queue_size=4)
    assert (seq.workers, seq.max_queue_size, seq.use_multiprocessing) == (3, 4, False)
    model = tf.keras.Sequential([tf.keras.Input((1,)),
                                 tf.keras.layers.Lambda(lambda t: t * 1.0)])
    model.compile("sgd", "mse")
    out = model.predict(seq, verbose=0)
    np.testing.assert_array_equal(out[:, 0], np.repeat(np.arange(8.0), 2))
    assert any(name.startswith("PyDataset") for name in seen_threads)
    # Keras 2 spelling: workers passed to fit for a Sequence are honoured as well
    x, y = _blobs(40)
    seq2 = CountingSequence(x, y, 10)
    _classifier().fit(seq2, epochs=1, workers=2, use_multiprocessing=True, verbose=0)
    assert seq2.epochs_ended == 1 and sorted(seq2.visits[-4:]) == [0, 1, 2, 3]


def test_missing_super_init_warns_for_pydataset_not_for_sequence():
    class NoSuper(tf.keras.utils.PyDataset):
        def __init__(self):   # forgets super().__init__()
            self.n = 1

        def __len__(self):
            return self.n

        def __getitem__(self, i):
            return np.ones((2, 1), "float32"), np.ones((2, 1), "float32")

    model = tf.keras.Sequential([tf.keras.Input((1,)), tf.keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.warns(UserWarning, match=r"super\(\)\.__init__"):
        model.fit(NoSuper(), epochs=1, verbose=0)
    x, y = _blobs(20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _classifier().fit(CountingSequence(x, y, 10), epochs=1, verbose=0)


def test_endless_pydataset_needs_steps_and_bad_arguments():
    class Endless(tf.keras.utils.PyDataset):
        def __init__(self):
            super().__init__()

        @property
        def num_batches(self):
            return None

        def __getitem__(self, i):
            return np.ones((2, 1), "float32"), np.full((2, 1), 3.0, "float32")

    model = tf.keras.Sequential([tf.keras.Input((1,)), tf.keras.layers.Dense(1)])
    model.compile(tf.keras.optimizers.SGD(0.1), "mse")
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(Endless(), epochs=1, verbose=0)
    hist = model.fit(Endless(), steps_per_epoch=5, epochs=3, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    x, y = _blobs(20)
    with pytest.raises(ValueError, match="`y` argument is not supported"):
        model.fit(CountingSequence(x, y, 10), y, verbose=0)
    with pytest.raises(ValueError, match="workers"):
        tf.keras.utils.PyDataset(workers=-1)
    assert list(iter(CountingSequence(x, y, 10)))[1][0].shape == (10, 2)


def test_fit_generator_aliases():
    x, y = _blobs(80)
    seq = CountingSequence(x, y, 20)
    model = _classifier()
    with pytest.warns(DeprecationWarning, match="fit_generator"):
        hist = model.fit_generator(seq, epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2 and seq.epochs_ended == 2

    def gen():
        while True:
            yield x[:20], y[:20]

    with pytest.warns(DeprecationWarning, match="evaluate_generator"):
        _, acc = model.evaluate_generator(gen(), steps=2)
    assert 0.0 <= acc <= 1.0
    with pytest.warns(DeprecationWarning, match="predict_generator"):
        out = model.predict_generator(seq)
    assert out.shape == (80, 3)
