"""Round 19: tensorflow.org Keras tutorials, shrunk to tiny synthetic data with their
API use intact: imbalanced data, loading a pandas DataFrame, overfit/underfit and
save-and-load. Values marked "TF 2.21" were printed by TensorFlow 2.21 (Keras 3)."""

import os

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras


# ------------------------------------------------------------ imbalanced data
def _imbalanced(n=600, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 4).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] + 0.3 * rng.randn(n) > 1.6).astype("int64")
    return x, y


_METRICS = [
    keras.metrics.BinaryCrossentropy(name="cross entropy"),
    keras.metrics.MeanSquaredError(name="Brier score"),
    keras.metrics.TruePositives(name="tp"),
    keras.metrics.FalsePositives(name="fp"),
    keras.metrics.TrueNegatives(name="tn"),
    keras.metrics.FalseNegatives(name="fn"),
    keras.metrics.BinaryAccuracy(name="accuracy"),
    keras.metrics.Precision(name="precision"),
    keras.metrics.Recall(name="recall"),
    keras.metrics.AUC(name="auc"),
    keras.metrics.AUC(name="prc", curve="PR"),
]


def _make_model(output_bias=None):
    if output_bias is not None:
        output_bias = keras.initializers.Constant(output_bias)
    model = keras.Sequential([
        keras.layers.Dense(16, activation="relu", input_shape=(4,)),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(1, activation="sigmoid", bias_initializer=output_bias)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2),
                  loss=keras.losses.BinaryCrossentropy(),
                  metrics=[type(m).from_config(m.get_config()) for m in _METRICS])
    return model


def test_imbalanced_data_tutorial(tmp_path):
    keras.utils.set_random_seed(1)
    x, y = _imbalanced()
    neg, pos = np.bincount(y)
    initial_bias = np.log([pos / neg])
    model = _make_model(output_bias=initial_bias)
    np.testing.assert_allclose(model.layers[-1].bias.numpy(), initial_bias, rtol=1e-6)
    # the initial prediction is the class prior
    np.testing.assert_allclose(model.predict(np.zeros((1, 4), "float32"), verbose=0),
                               [[pos / (pos + neg)]], rtol=1e-5)
    weights = str(tmp_path / "initial.weights.h5")
    model.save_weights(weights)

    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_prc", verbose=0, patience=3, mode="max", restore_best_weights=True)
    total = neg + pos
    class_weight = {0: (1 / neg) * (total / 2.0), 1: (1 / pos) * (total / 2.0)}
    weighted = _make_model()
    weighted.load_weights(weights)
    history = weighted.fit(x[:480], y[:480], batch_size=64, epochs=12,
                           callbacks=[early_stopping], validation_data=(x[480:], y[480:]),
                           class_weight=class_weight, verbose=0)
    names = [m.name for m in _METRICS]
    assert sorted(history.history) == sorted(["loss"] + names + ["val_loss"] + [
        f"val_{n}" for n in names])
    res = weighted.evaluate(x[480:], y[480:], batch_size=64, verbose=0, return_dict=True)
    assert res["tp"] + res["fn"] == y[480:].sum()
    assert res["tp"] + res["fp"] + res["tn"] + res["fn"] == 120
    assert res["recall"] > 0.7 and res["auc"] > 0.9

    # oversampling with sample_from_datasets
    bool_labels = y != 0

    def make_ds(features, labels):
        return tf.data.Dataset.from_tensor_slices((features, labels)).shuffle(
            100000).repeat()

    pos_ds = make_ds(x[bool_labels], y[bool_labels])
    neg_ds = make_ds(x[~bool_labels], y[~bool_labels])
    resampled = tf.data.Dataset.sample_from_datasets([pos_ds, neg_ds],
                                                      weights=[0.5, 0.5])
    resampled = resampled.batch(256).prefetch(2)
    for features, label in resampled.take(1):
        assert features.shape == (256, 4) and label.dtype == tf.int64
        assert abs(float(np.mean(label.numpy())) - 0.5) < 0.15
    model = _make_model()
    model.load_weights(weights)
    model.layers[-1].bias.assign([0])
    val_ds = tf.data.Dataset.from_tensor_slices((x[480:], y[480:])).cache().batch(64)
    history = model.fit(resampled, epochs=3, steps_per_epoch=4, validation_data=val_ds,
                        verbose=0)
    assert len(history.history["val_prc"]) == 3
    assert model.evaluate(val_ds, verbose=0, return_dict=True)["recall"] > 0.6


# ------------------------------------------------------- pandas DataFrames
class _StringColumn:
    """A stand-in for a pandas string Series (pandas 3's StringDtype): object kind,
    ``to_numpy()``, no ``.flat``."""

    def __init__(self, values):
        self._values = np.array(values, dtype=object)
        self.dtype = self._values.dtype
        self.shape = self._values.shape

    def __len__(self):
        return len(self._values)

    def to_numpy(self):
        return self._values

    def __array__(self, dtype=None, copy=None):
        return self._values


def _mixed_model():
    """The tutorial's functional dict-input model: stacked numeric columns through
    Normalization, tf.concat'ed (a TF op on KerasTensors, Keras 2 style) with the
    one_hot outputs of IntegerLookup and StringLookup."""
    inputs = {"age": keras.Input(shape=(), name="age", dtype=tf.float32),
              "chol": keras.Input(shape=(), name="chol", dtype=tf.float32),
              "cp": keras.Input(shape=(), name="cp", dtype=tf.int64),
              "thal": keras.Input(shape=(), name="thal", dtype=tf.string)}
    numeric = tf.stack([tf.cast(inputs[k], tf.float32) for k in ("age", "chol")], -1)
    norm = keras.layers.Normalization(axis=-1)
    norm.adapt(np.array([[30.0, 200.0], [60.0, 400.0], [45.0, 300.0]], "float32"))
    cp = keras.layers.IntegerLookup(vocabulary=[0, 1, 2], output_mode="one_hot")
    thal = keras.layers.StringLookup(vocabulary=["fixed", "normal"],
                                     output_mode="one_hot")
    joined = tf.concat([norm(numeric), cp(inputs["cp"][:, tf.newaxis]),
                        thal(inputs["thal"][:, tf.newaxis])], axis=-1)
    assert joined.shape.as_list() == [None, 9] and joined.dtype == tf.float32
    preprocessor = keras.Model(inputs, joined)
    body = keras.Sequential([keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(1)])
    model = keras.Model(inputs, body(preprocessor(inputs)))
    model.compile(optimizer="adam",
                  loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return preprocessor, model


def _frame_columns(n=64, seed=0):
    rng = np.random.RandomState(seed)
    cols = {"age": rng.randint(29, 77, n).astype("int64"),
            "chol": rng.randint(126, 564, n).astype("int64"),
            "cp": rng.randint(0, 4, n).astype("int64"),
            "thal": rng.choice(["fixed", "normal", "reversible"], n)}
    target = ((cols["cp"] > 1) | (cols["thal"] == "fixed")).astype("int64")
    return cols, target


def test_dataframe_tutorial_concat_of_float_and_one_hot_branches():
    keras.utils.set_random_seed(0)
    cols, target = _frame_columns()
    preprocessor, model = _mixed_model()
    row = preprocessor({k: v[:1] for k, v in cols.items()}).numpy()
    assert row.dtype == np.float32 and row.shape == (1, 9)
    # one_hot columns: [OOV, 0, 1, 2] for cp and [OOV, fixed, normal] for thal
    cp0 = int(cols["cp"][0])
    cp_hot = np.eye(4)[cp0 + 1 if cp0 < 3 else 0]
    thal_hot = np.eye(3)[{"fixed": 1, "normal": 2}.get(cols["thal"][0], 0)]
    np.testing.assert_array_equal(row[0, 2:], np.concatenate([cp_hot, thal_hot]))
    # a pandas string column reaches fit as an object array of str
    frame = dict(cols, thal=_StringColumn(cols["thal"]))
    history = model.fit(frame, target, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    ds = tf.data.Dataset.from_tensor_slices((cols, target)).batch(16)
    model.fit(ds, epochs=1, verbose=0)
    assert model.predict({k: v[:4] for k, v in cols.items()}, verbose=0).shape == (4, 1)


def test_dataframe_tutorial_with_pandas():
    pd = pytest.importorskip("pandas")
    keras.utils.set_random_seed(0)
    cols, target = _frame_columns()
    df = pd.DataFrame(cols)
    _, model = _mixed_model()
    history = model.fit(dict(df), pd.Series(target), epochs=2, batch_size=16,
                        verbose=0)
    assert len(history.history["accuracy"]) == 2
    ds = tf.data.Dataset.from_tensor_slices((dict(df), target))
    for features, label in ds.take(1):
        assert features["thal"].dtype == tf.string and label.dtype == tf.int64


def test_concat_of_keras_tensors_still_refuses_mismatch_eagerly():
    # TF's eager tf.concat keeps its strict dtype rule; only Keras 2-style
    # functional joins promote
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.concat([tf.ones([1, 2]), tf.constant([[1]], tf.int64)], axis=-1)


# --------------------------------------------------------- overfit/underfit
def test_overfit_underfit_tutorial():
    keras.utils.set_random_seed(0)
    steps_per_epoch = 5
    schedule = keras.optimizers.schedules.InverseTimeDecay(
        0.001, decay_steps=steps_per_epoch * 10, decay_rate=1, staircase=False)
    steps = np.array([0, 10, 100, 1000])
    np.testing.assert_allclose([float(schedule(s)) for s in steps],
                               0.001 / (1 + steps / 50), rtol=1e-6)
    rng = np.random.RandomState(0)
    x = rng.randn(600, 8).astype("float32")
    y = (x[:, :3].sum(1) > 0).astype("float32")
    packed = tf.data.Dataset.from_tensor_slices((x, y))
    validate_ds = packed.take(100).cache().batch(100)
    train_ds = packed.skip(100).take(500).cache().shuffle(500).repeat().batch(100)
    model = keras.Sequential([
        keras.layers.Dense(32, activation="elu", input_shape=(8,),
                           kernel_regularizer=keras.regularizers.l2(0.001)),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.metrics.BinaryCrossentropy(
                      from_logits=True, name="binary_crossentropy"), "accuracy"])
    history = model.fit(train_ds, steps_per_epoch=steps_per_epoch, epochs=12,
                        validation_data=validate_ds, verbose=0,
                        callbacks=[keras.callbacks.EarlyStopping(
                            monitor="val_binary_crossentropy", patience=200)])
    assert sorted(history.history) == [
        "accuracy", "binary_crossentropy", "loss", "val_accuracy",
        "val_binary_crossentropy", "val_loss"]
    assert int(model.optimizer.iterations.numpy()) == 60
    # the loss carries the l2 penalty the plain cross-entropy metric does not
    penalty = 0.001 * float(np.sum(model.layers[0].kernel.numpy() ** 2))
    assert len(model.losses) == 1
    np.testing.assert_allclose(float(model.losses[0]), penalty, rtol=1e-4)
    # the tutorial's small learning rate learns slowly: TF 2.21 (same seed, same
    # Keras 3 initial weights) goes 0.32 -> 0.56 over these 12 epochs
    val_accuracy = history.history["val_accuracy"]
    assert val_accuracy[-1] > 0.5 and val_accuracy[-1] > val_accuracy[0] + 0.15


# ------------------------------------------------------------- save and load
def _mnist_like(n=96):
    rng = np.random.RandomState(0)
    images = rng.rand(n, 20).astype("float32")
    return images, images[:, :5].argmax(1).astype("int64")


def _create_model():
    model = keras.Sequential([
        keras.layers.Dense(16, activation="relu", input_shape=(20,)),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(5)])
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[keras.metrics.SparseCategoricalAccuracy()])
    return model


def test_save_and_load_tutorial(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    keras.utils.set_random_seed(0)
    images, labels = _mnist_like()
    batch_size = 32
    n_batches = int(np.ceil(len(images) / batch_size))
    checkpoint_path = "training_2/cp-{epoch:04d}.weights.h5"
    cp_callback = keras.callbacks.ModelCheckpoint(
        filepath=checkpoint_path, verbose=0, save_weights_only=True,
        save_freq=5 * n_batches)
    model = _create_model()
    os.makedirs("training_2", exist_ok=True)
    model.save_weights(checkpoint_path.format(epoch=0))
    model.fit(images, labels, epochs=12, batch_size=batch_size, callbacks=[cp_callback],
              validation_data=(images[:32], labels[:32]), verbose=0)
    assert sorted(os.listdir("training_2")) == [
        "cp-0000.weights.h5", "cp-0005.weights.h5", "cp-0010.weights.h5"]
    # TF 2.21: a folder of .weights.h5 files has no TF checkpoint
    assert tf.train.latest_checkpoint("training_2") is None

    # Keras 2's TF-format checkpoints, found by tf.train.latest_checkpoint
    model.save_weights("training_3/cp.ckpt")
    latest = tf.train.latest_checkpoint("training_3")
    assert latest == os.path.join("training_3", "cp.ckpt")
    restored = _create_model()
    restored.load_weights(latest)
    expected = model.predict(images, verbose=0)
    np.testing.assert_allclose(restored.predict(images, verbose=0), expected,
                               rtol=1e-6)

    scores = model.evaluate(images, labels, verbose=2)
    assert isinstance(scores, list) and len(scores) == 2
    assert all(isinstance(v, float) for v in scores)
    for path in ("my_model.keras", "my_model.h5"):
        model.save(path)
        loaded = keras.models.load_model(path)
        np.testing.assert_allclose(loaded.predict(images, verbose=0), expected,
                                   rtol=1e-6)
        np.testing.assert_allclose(loaded.evaluate(images, labels, verbose=2), scores,
                                   rtol=1e-5)
        assert sorted(loaded.evaluate(images, labels, verbose=0, return_dict=True)) \
            == ["loss", "sparse_categorical_accuracy"]
