"""Probe-driven checks against TF 2.21 / Keras 3: fit's batch_size checks,
compile(steps_per_execution=N), Keras 3 Variable paths, and the TensorBoard callback's
event files (tags, runs, steps) read back with TensorBoard's own reader."""

import glob
import os

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras

RNG = np.random.RandomState(0)
X = RNG.rand(40, 3).astype("float32")
Y = X @ np.array([[1.0], [2.0], [-1.0]], "float32")


def _linear(steps_per_execution=1, metrics=("mae",)):
    model = keras.Sequential([keras.Input((3,)),
                              keras.layers.Dense(1, kernel_initializer="ones")])
    model.compile(keras.optimizers.SGD(0.1), "mse", metrics=list(metrics),
                  steps_per_execution=steps_per_execution)
    return model


# -- batch_size -------------------------------------------------------------------
@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
@pytest.mark.parametrize("bad, error", [(-3, ValueError), (2.5, TypeError),
                                        ("4", TypeError)])
def test_bad_batch_size_is_refused(method, bad, error):
    # TF 2.21: -3 -> ValueError, 2.5 and "4" -> TypeError (fit, evaluate, predict)
    model = _linear()
    args = (X,) if method == "predict" else (X, Y)
    with pytest.raises(error, match="batch_size"):
        getattr(model, method)(*args, batch_size=bad, verbose=0)


def test_batch_size_zero_and_numpy_ints_mean_what_keras_does():
    model = _linear()
    # Keras 3 treats 0 like None (32 per batch): one epoch of 40 samples = 2 steps
    model.fit(X, Y, batch_size=0, epochs=1, verbose=0)
    assert int(model.optimizer.iterations.numpy()) == 2
    model.fit(X, Y, batch_size=np.int64(8), epochs=1, verbose=0)
    assert int(model.optimizer.iterations.numpy()) == 2 + 5
    with pytest.raises(ValueError, match="validation_batch_size|batch_size"):
        model.fit(X, Y, validation_data=(X, Y), validation_batch_size=-1, verbose=0)


# -- steps_per_execution ----------------------------------------------------------
class _Seen(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_begin(self, batch, logs=None):
        self.seen.append(("begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(("end", batch, sorted(logs)))

    def on_test_batch_end(self, batch, logs=None):
        self.seen.append(("test", batch))

    def on_predict_batch_end(self, batch, logs=None):
        self.seen.append(("predict", batch, logs["outputs"].shape[0]))


def test_steps_per_execution_trains_identically_and_batches_callbacks():
    results = {}
    for spe in (1, 3, "auto"):
        keras.utils.set_random_seed(1)
        model = _linear(spe)
        seen = _Seen()
        history = model.fit(X, Y, batch_size=4, epochs=2, verbose=0, shuffle=False,
                            validation_data=(X[:12], Y[:12]), callbacks=[seen])
        results[spe] = (history.history["loss"], model.get_weights()[0])
        if spe == 3:
            train = [s for s in seen.seen if s[0] != "test"]
            # TF 2.21: one begin/end pair per execution, at its first/last batch
            # (10 batches: 0-2, 3-5, 6-8, 9; Keras 3 reports the last end as 11,
            # Keras 2 as 9 -- the real last batch)
            assert train[:8] == [("begin", 0), ("end", 2, ["loss", "mae"]),
                                 ("begin", 3), ("end", 5, ["loss", "mae"]),
                                 ("begin", 6), ("end", 8, ["loss", "mae"]),
                                 ("begin", 9), ("end", 9, ["loss", "mae"])]
            assert len(train) == 16
            assert [s for s in seen.seen if s[0] == "test"][:2] == [("test", 2)] * 2
            seen.seen = []
            model.predict(X, batch_size=4, verbose=0, callbacks=[seen])
            assert seen.seen == [("predict", 2, 12), ("predict", 5, 12),
                                 ("predict", 8, 12), ("predict", 9, 4)]
    assert model.steps_per_execution == 1   # 'auto' (Keras 2) runs one batch
    # TF 2.21 gives [0.4447, 0.2574] for every steps_per_execution
    np.testing.assert_allclose(results[1][0], [0.4447, 0.2574], atol=2e-4)
    for spe in (3, "auto"):
        np.testing.assert_allclose(results[spe][0], results[1][0], rtol=1e-6)
        np.testing.assert_allclose(results[spe][1], results[1][1], rtol=1e-6)


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-1, ValueError),
                                        (1.5, TypeError), ("x", TypeError)])
def test_bad_steps_per_execution_is_refused(bad, error):
    with pytest.raises(error, match="steps_per_execution"):
        _linear(bad)


# -- Variable.path ----------------------------------------------------------------
class _Block(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = keras.layers.Dense(2)
        self.named = keras.layers.Dense(2, name="named")

    def build(self, input_shape):
        self.w = self.add_weight(name="w", shape=(2,))

    def call(self, x):
        return self.named(self.inner(x)) + self.w


class _Sub(keras.Model):
    def __init__(self):
        super().__init__(name="sub")
        self.block = _Block(name="block")
        self.head = keras.layers.Dense(1, name="head")

    def call(self, x):
        return self.head(self.block(x))


def _tails(variables, n=1):
    """Paths without the first ``n`` auto-numbered components."""
    return [v.path.split("/", n)[n] for v in variables]


def test_variable_paths_follow_keras3():
    layers = keras.layers
    seq = keras.Sequential([keras.Input((3,)), layers.Dense(4, name="a"),
                            layers.BatchNormalization(name="bn"),
                            layers.Dense(2, name="out")], name="seqm")
    # from TF 2.21 (Keras 3): the Sequential's scope encloses its layers' builds
    assert [v.path for v in seq.weights] == [
        "seqm/a/kernel", "seqm/a/bias", "seqm/bn/gamma", "seqm/bn/beta",
        "seqm/bn/moving_mean", "seqm/bn/moving_variance", "seqm/out/kernel",
        "seqm/out/bias"]
    assert [lay.path for lay in seq.layers] == ["seqm/a", "seqm/bn", "seqm/out"]
    # names keep TF 2's (Keras 2) spelling
    assert seq.weights[0].name in ("kernel", "a/kernel:0")
    inp = keras.Input((5,))
    functional = keras.Model(inp, layers.Dense(1, name="f1")(
        layers.LayerNormalization(name="ln")(inp)))
    assert [v.path for v in functional.weights] == [
        "ln/gamma", "ln/beta", "f1/kernel", "f1/bias"]
    sub = _Sub()
    sub(tf.zeros((2, 3)))
    assert [v.path for v in sub.weights][:1] == ["sub/block/w"]
    assert _tails(sub.weights)[1:] == [
        f"block/{sub.block.inner.name}/kernel", f"block/{sub.block.inner.name}/bias",
        "block/named/kernel", "block/named/bias", "head/kernel", "head/bias"]
    outer = keras.Sequential([seq, layers.Dense(1, name="z")], name="outer")
    outer.build((None, 3))
    assert [v.path for v in outer.weights][-2:] == ["outer/z/kernel", "outer/z/bias"]
    assert outer.weights[0].path == "seqm/a/kernel"   # built before: unchanged
    rnn = keras.Sequential([keras.Input((4, 3)), layers.LSTM(2, name="lstm")],
                           name="r")
    assert [v.path for v in rnn.weights] == [
        "r/lstm/lstm_cell/kernel", "r/lstm/lstm_cell/recurrent_kernel",
        "r/lstm/lstm_cell/bias"]


def test_optimizer_metric_and_keras_variable_paths():
    layers = keras.layers
    inp = keras.Input((5,))
    model = keras.Model(inp, layers.Dense(1, name="d1")(inp))
    adam = keras.optimizers.Adam()
    adam.build(model.trainable_variables)
    assert [v.path for v in adam.variables][:4] == [
        "adam/iteration", "adam/learning_rate", "adam/d1_kernel_momentum",
        "adam/d1_kernel_velocity"]
    mean = keras.metrics.Mean(name="mean")
    assert [v.path for v in mean.variables] == ["mean/total", "mean/count"]
    v = keras.Variable(1.0, name="foo")
    assert (v.path, v.name) == ("foo", "foo")   # Keras 3: the bare name
    with keras.name_scope("blk"):
        w = keras.Variable("zeros", shape=(2,), name="bias")
    assert (w.path, w.name) == ("blk/bias", "bias")


# -- TensorBoard ------------------------------------------------------------------
def _events(run_dir):
    """{tag: [(step, plugin, value-or-shape)]} read with TensorBoard's loader."""
    loader = pytest.importorskip(
        "tensorboard.backend.event_processing.event_file_loader")
    tensor_util = pytest.importorskip("tensorboard.util.tensor_util")
    out = {}
    for path in sorted(glob.glob(os.path.join(run_dir, "*tfevents*"))):
        for event in loader.EventFileLoader(path).Load():
            for value in event.summary.value:
                array = tensor_util.make_ndarray(value.tensor)
                item = float(array) if array.size == 1 and array.dtype != object \
                    else array.shape
                out.setdefault(value.tag, []).append(
                    (event.step, value.metadata.plugin_data.plugin_name, item))
    return out


def _classifier():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)),
                              keras.layers.Dense(3, activation="relu", name="h"),
                              keras.layers.Dense(2, name="o")], name="clf")
    model.compile(keras.optimizers.Adam(0.01),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


@pytest.mark.parametrize("update_freq", ["epoch", "batch", 3])
def test_tensorboard_runs_tags_and_steps_match_keras(tmp_path, update_freq):
    pytest.importorskip("tensorboardX")
    x = RNG.rand(64, 4).astype("float32")
    y = (x.sum(1) > 2).astype("int32")
    model = _classifier()
    board = keras.callbacks.TensorBoard(str(tmp_path), histogram_freq=1,
                                        write_images=True, update_freq=update_freq)
    model.fit(x, y, batch_size=16, epochs=2, validation_data=(x[:16], y[:16]),
              callbacks=[board], verbose=0)
    model.evaluate(x, y, batch_size=16, callbacks=[board], verbose=0)
    train, val = _events(tmp_path / "train"), _events(tmp_path / "validation")
    # the tags and steps TF 2.21 writes for this program (its int update_freq also
    # drops the epoch summaries, a Keras 3 quirk; Keras 2 keeps them, as here)
    weights = [f"clf/{layer}/{w}/{kind}" for layer in "ho" for w in ("bias", "kernel")
               for kind in ("histogram", "image")]
    expected = {"epoch_accuracy", "epoch_learning_rate", "epoch_loss", "keras",
                *weights}
    batches = {"epoch": [], "batch": [1, 2, 3, 4, 5, 6, 7, 8], 3: [3, 6]}[update_freq]
    if batches:
        expected |= {"batch_accuracy", "batch_loss"}
        assert [s for s, _, _ in train["batch_loss"]] == batches
    assert set(train) == expected
    assert [s for s, _, _ in train["epoch_loss"]] == [0, 1]
    assert [(s, p) for s, p, _ in train["epoch_learning_rate"]] == [
        (0, "scalars"), (1, "scalars")]
    assert train["epoch_learning_rate"][0][2] == pytest.approx(0.01)
    assert [(s, p, shape) for s, p, shape in train["clf/h/kernel/histogram"]] == [
        (0, "histograms", (30, 3)), (1, "histograms", (30, 3))]
    assert train["clf/h/kernel/image"][0][1] == "images"
    assert [(s, p) for s, p, _ in train["keras"]] == [(0, "graph_keras_model")] * 2
    assert set(val) == {"epoch_accuracy", "epoch_loss",
                        "evaluation_accuracy_vs_iterations",
                        "evaluation_loss_vs_iterations"}
    assert sorted(s for s, _, _ in val["evaluation_loss_vs_iterations"]) == [4, 8, 8]
    # the logged values are the ones fit returned
    assert [v for _, _, v in train["epoch_loss"]] == pytest.approx(
        model.history.history["loss"], rel=1e-6)


def test_tensorboard_subclassed_model_steps_per_second_and_bad_update_freq(tmp_path):
    pytest.importorskip("tensorboardX")
    model = _Sub()
    model.compile("adam", "mse")
    board = keras.callbacks.TensorBoard(str(tmp_path), histogram_freq=2,
                                        write_steps_per_second=True,
                                        update_freq="batch")
    model.fit(X, Y, batch_size=32, epochs=2, verbose=0, callbacks=[board])
    train = _events(tmp_path / "train")
    assert {"batch_steps_per_second", "epoch_steps_per_second",
            "sub/block/w/histogram", "sub/head/kernel/histogram"} <= set(train)
    assert "keras" not in train   # no config graph for subclassed models
    assert [s for s, _, _ in train["sub/block/w/histogram"]] == [0]
    for bad in ("foo", 0, 2.5):
        with pytest.raises(ValueError, match="update_freq"):
            keras.callbacks.TensorBoard(str(tmp_path), update_freq=bad)


def test_weight_images_follow_keras_layout():
    from dlframe.keras.callbacks.tensorboard import weight_image
    assert weight_image(np.zeros(5)).shape == (1, 5, 1, 1)
    assert weight_image(np.zeros((4, 3))).shape == (1, 3, 4, 1)   # shown wide
    assert weight_image(np.zeros((3, 3, 8))).shape == (8, 3, 3, 1)
    assert weight_image(np.zeros((3, 3, 2, 8))) is None
