"""Round-15 persistence probe regressions: differences found by running the same
TF2 programs under TensorFlow 2.21 and dlframe (checkpoints, exports, callbacks)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras

L = keras.layers
X = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")


# -- tf.train.Checkpoint refuses values that are not trackable, as TF does ---------
@pytest.mark.parametrize("value", [3, 2.5, "a", None, np.ones(2), object(),
                                   lambda: 1])
def test_checkpoint_refuses_non_trackable(value):
    with pytest.raises(ValueError, match="was expecting model to be a trackable"):
        tf.train.Checkpoint(model=value)


def test_checkpoint_refuses_constant_tensor():
    with pytest.raises(ValueError, match="trackable"):
        tf.train.Checkpoint(x=tf.constant(1.0))


def test_checkpoint_accepts_containers_and_trackables(tmp_path):
    v = tf.Variable(2.0)
    w = tf.Variable([1.0, 2.0])
    ckpt = tf.train.Checkpoint(vs=[v], d={"w": w}, t=(v,), layer=L.Dense(2),
                               opt=keras.optimizers.Adam(), mod=tf.Module())
    path = ckpt.save(str(tmp_path / "c"))
    v.assign(5.0)
    w.assign([0.0, 0.0])
    ckpt.restore(path)
    assert float(v.numpy()) == 2.0
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0])


# -- TFSMLayer(call_endpoint='serving_default') is a dict of outputs symbolically --
def _exported(tmp_path, model):
    path = str(tmp_path / "artifact")
    model.export(path, verbose=False)
    return path


def test_tfsm_serving_default_symbolic_output_is_dict(tmp_path):
    inp = keras.Input((3,))
    model = keras.Model(inp, L.Dense(2)(inp))
    layer = L.TFSMLayer(_exported(tmp_path, model), call_endpoint="serving_default")
    new_in = keras.Input((3,))
    out = layer(new_in)
    # Keras 3 gives {'output_0': KerasTensor}; the model is built from the entry
    assert isinstance(out, dict) and sorted(out) == ["output_0"]
    assert tuple(out["output_0"].shape) == (None, 2)
    wrapped = keras.Model(new_in, out["output_0"])
    np.testing.assert_allclose(wrapped.predict(X, verbose=0), model(X).numpy(),
                               rtol=1e-6)
    assert layer.compute_output_shape((None, 3))["output_0"] == (None, 2)


def test_tfsm_serving_default_multi_output_and_serve_endpoint(tmp_path):
    inp = keras.Input((3,))
    model = keras.Model(inp, [L.Dense(2)(inp), L.Dense(4)(inp)])
    path = _exported(tmp_path, model)
    outs = L.TFSMLayer(path, call_endpoint="serving_default")(keras.Input((3,)))
    assert {k: tuple(v.shape) for k, v in outs.items()} == {
        "output_0": (None, 2), "output_1": (None, 4)}
    served = L.TFSMLayer(path)(keras.Input((3,)))
    assert [tuple(o.shape) for o in served] == [(None, 2), (None, 4)]


# -- legacy HDF5 load_weights(skip_mismatch=True) warns about what it skipped -----
def _two_dense(units, last="b"):
    inp = keras.Input((4,))
    hidden = L.Dense(5, name="a")(inp)
    return keras.Model(inp, L.Dense(units, name=last)(hidden))


@pytest.mark.parametrize("by_name", [False, True])
def test_legacy_h5_skip_mismatch_warns_and_loads_the_rest(tmp_path, by_name):
    source = _two_dense(3)
    path = str(tmp_path / "full.h5")
    source.save(path)
    target = _two_dense(2)
    before = target.get_layer("b").kernel.numpy().copy()
    with pytest.raises(ValueError, match=r"Shape mismatch in layer 'b'.*\(5, 2\)"):
        target.load_weights(path, by_name=by_name)
    with pytest.warns(UserWarning, match="Skipping loading weights.*layer 'b'"):
        target.load_weights(path, by_name=by_name, skip_mismatch=True)
    np.testing.assert_array_equal(target.get_layer("a").kernel.numpy(),
                                  source.get_layer("a").kernel.numpy())
    np.testing.assert_array_equal(target.get_layer("b").kernel.numpy(), before)


# -- monitoring callbacks expose Keras' ``monitor_op``; max-mode starts from -inf ---
def _binary_model():
    model = keras.Sequential([keras.Input((3,)), L.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.SGD(0.1), "binary_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.mark.parametrize("make", [
    lambda mode, mon: keras.callbacks.ModelCheckpoint("m.keras", monitor=mon,
                                                      mode=mode),
    lambda mode, mon: keras.callbacks.EarlyStopping(monitor=mon, mode=mode),
    lambda mode, mon: keras.callbacks.ReduceLROnPlateau(monitor=mon, mode=mode),
])
def test_monitor_op_direction(make):
    assert make("auto", "val_accuracy").monitor_op(0.9, 0.5)
    assert not make("auto", "val_accuracy").monitor_op(0.5, 0.9)
    assert make("auto", "val_loss").monitor_op(0.5, 0.9)
    assert make("max", "val_loss").monitor_op(0.9, 0.5)
    assert make("min", "acc").monitor_op(0.5, 0.9)


def test_model_checkpoint_max_mode_first_message_and_saves(tmp_path, capsys):
    y = (X.sum(axis=1) > 0).astype("float32")
    pattern = str(tmp_path / "m-{epoch:02d}-{val_accuracy:.3f}.weights.h5")
    cb = keras.callbacks.ModelCheckpoint(pattern, monitor="val_accuracy",
                                         save_best_only=True, save_weights_only=True,
                                         verbose=1)
    history = _binary_model().fit(X, y, validation_data=(X, y), epochs=3, verbose=0,
                                  callbacks=[cb])
    out = capsys.readouterr().out
    assert "val_accuracy improved from None to" in out   # TF 2.21 (Keras 2: -inf)
    assert f"Epoch 1: finished saving model to {tmp_path}" in out
    accs = history.history["val_accuracy"]
    assert cb.best == pytest.approx(max(accs))
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert saved[0] == f"m-01-{accs[0]:.3f}.weights.h5"


# -- BackupAndRestore: Keras 3's double_checkpoint and save_freq validation -------
class _StopAt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("interrupted")


def _resumed_epochs(backup_dir, corrupt):
    y = (X.sum(axis=1) > 0).astype("float32")
    with pytest.raises(RuntimeError, match="interrupted"):
        _binary_model().fit(X, y, epochs=4, verbose=0, callbacks=[
            keras.callbacks.BackupAndRestore(backup_dir, double_checkpoint=True),
            _StopAt(1)])
    if corrupt:
        with open(f"{backup_dir}/latest.weights.h5", "wb") as f:
            f.write(b"not an hdf5 file")
    history = _binary_model().fit(X, y, epochs=4, verbose=0, callbacks=[
        keras.callbacks.BackupAndRestore(backup_dir, double_checkpoint=True)])
    return history.epoch


def test_backup_double_checkpoint_falls_back_to_previous(tmp_path):
    assert _resumed_epochs(str(tmp_path / "a"), corrupt=False) == [2, 3]
    # the latest backup is unreadable: the previous one (after epoch 0) is used
    assert _resumed_epochs(str(tmp_path / "b"), corrupt=True) == [1, 2, 3]


@pytest.mark.parametrize("bad", ["bogus", 0, -2, 1.5])
def test_backup_and_restore_rejects_bad_save_freq(bad):
    with pytest.raises(ValueError, match=f"save_freq={bad}"):
        keras.callbacks.BackupAndRestore("dir", save_freq=bad)


# -- Checkpoint.restore: TF's error types for a directory and a dtype mismatch ----
def test_checkpoint_restore_directory_is_data_loss(tmp_path):
    path = tf.train.Checkpoint(v=tf.Variable(1.0)).save(str(tmp_path / "ck"))
    with pytest.raises(tf.errors.DataLossError, match="Unable to open table file"):
        tf.train.Checkpoint(v=tf.Variable(0.0)).restore(str(tmp_path))
    restored = tf.Variable(0.0)
    tf.train.Checkpoint(v=restored).restore(path)
    assert float(restored.numpy()) == 1.0


def test_checkpoint_restore_dtype_mismatch_is_invalid_argument(tmp_path):
    path = tf.train.Checkpoint(v=tf.Variable(3.0)).save(str(tmp_path / "ck"))
    target = tf.Variable(7, dtype=tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="expected dtype int32 does not equal original dtype "
                             "float"):   # TF's DataType name of float32
        tf.train.Checkpoint(v=target).restore(path)
    assert int(target.numpy()) == 7


# -- Lambda: library ops and named functions are stored by name (Keras 3) ---------
def _plus_one(t):
    return t + 1.0


def _times_ten(t):
    return t * 10.0


def _lambda_model(fn):
    inp = keras.Input((3,))
    return keras.Model(inp, L.Lambda(fn)(inp))


@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_lambda_of_library_op_saves_and_loads(tmp_path, ext):
    model = _lambda_model(tf.nn.relu)   # its closure used to break the JSON writer
    path = str(tmp_path / f"relu.{ext}")
    model.save(path)
    restored = keras.models.load_model(path)
    np.testing.assert_array_equal(restored(X).numpy(), np.maximum(X, 0))


def test_lambda_named_function_by_name_in_keras_archive(tmp_path):
    import json
    import zipfile
    path = str(tmp_path / "named.keras")
    _lambda_model(_plus_one).save(path)
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    entry = [la for la in config["config"]["layers"] if la["class_name"] == "Lambda"]
    assert entry[0]["config"]["function"]["class_name"] == "function"
    assert entry[0]["config"]["function"]["config"] == "_plus_one"
    # safe mode is fine: nothing is unmarshalled; found again in its module ...
    np.testing.assert_allclose(keras.models.load_model(path)(X).numpy(), X + 1.0)
    # ... unless custom_objects names another function, which wins as in Keras 3
    other = keras.models.load_model(path, custom_objects={"_plus_one": _times_ten})
    np.testing.assert_allclose(other(X).numpy(), X * 10.0, rtol=1e-6)


def test_lambda_expression_still_refused_in_safe_mode(tmp_path):
    path = str(tmp_path / "lam.keras")
    _lambda_model(lambda t: t * 3.0).save(path)
    with pytest.raises(ValueError, match="safe mode"):
        keras.models.load_model(path)
    restored = keras.models.load_model(path, safe_mode=False)
    np.testing.assert_allclose(restored(X).numpy(), X * 3.0, rtol=1e-6)


def test_lambda_named_function_keeps_bytecode_in_keras2_h5(tmp_path):
    import h5py
    path = str(tmp_path / "named.h5")
    _lambda_model(_plus_one).save(path)
    with h5py.File(path, "r") as f:
        assert '"function_type": "lambda"' in f.attrs["model_config"]
    np.testing.assert_allclose(keras.models.load_model(path)(X).numpy(), X + 1.0)


# -- load_model of a weights-only or damaged file: clear ValueError ---------------
def test_load_model_of_weights_file_says_no_model_config(tmp_path):
    path = str(tmp_path / "w.weights.h5")
    _two_dense(3).save_weights(path)
    with pytest.raises(ValueError, match="No model config found in the file at"):
        keras.models.load_model(path)


@pytest.mark.parametrize("name", ["bad.keras", "bad.h5"])
def test_load_model_of_damaged_file(tmp_path, name):
    path = tmp_path / name
    path.write_text("not a model")
    # Keras 3 raises ValueError, Keras 2 OSError: the error is both
    with pytest.raises(ValueError, match="File format not supported"):
        keras.models.load_model(str(path))
    with pytest.raises(OSError):
        keras.models.load_model(str(path))


# -- Keras 2 model.save(dir, signatures=...) serves the given functions -----------
def test_model_save_directory_with_signatures(tmp_path):
    inp = keras.Input((3,), name="features")
    model = keras.Model(inp, L.Dense(2, name="logits")(inp))
    model.compile("adam", "mse")

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32,
                                                 name="features")])
    def serve(x):
        logits = model(x)
        return {"probs": tf.nn.softmax(logits), "cls": tf.argmax(logits, axis=-1)}

    path = str(tmp_path / "sm")
    model.save(path, save_format="tf", signatures={"serving_default": serve})
    outs = tf.saved_model.load(path).signatures["serving_default"](
        features=tf.constant(X))
    logits = X @ model.layers[1].kernel.numpy() + model.layers[1].bias.numpy()
    assert sorted(outs) == ["cls", "probs"]
    assert outs["cls"].dtype == tf.int64
    np.testing.assert_array_equal(outs["cls"].numpy(), logits.argmax(-1))
    e = np.exp(logits - logits.max(-1, keepdims=True))
    np.testing.assert_allclose(outs["probs"].numpy(), e / e.sum(-1, keepdims=True),
                               rtol=1e-5)
    restored = keras.models.load_model(path)
    np.testing.assert_allclose(restored.predict(X, verbose=0), logits, rtol=1e-5)
    with pytest.raises(FileExistsError):
        model.save(path, overwrite=False, signatures=serve)


# -- small Checkpoint API gaps: restore(None).run_restore_ops, v1 helpers ---------
def test_restore_none_run_restore_ops_raises():
    status = tf.train.Checkpoint(v=tf.Variable(1.0)).restore(None)
    with pytest.raises(AssertionError, match="No checkpoint specified"):
        status.run_restore_ops()
    assert status.initialize_or_restore() is None


def test_compat_v1_checkpoint_exists_and_mtimes(tmp_path):
    path = tf.train.Checkpoint(v=tf.Variable(1.0)).save(str(tmp_path / "ck"))
    assert tf.compat.v1.train.checkpoint_exists(path)
    assert not tf.compat.v1.train.checkpoint_exists(str(tmp_path / "ck-9"))
    times = tf.compat.v1.train.get_checkpoint_mtimes([path, str(tmp_path / "ck-9")])
    assert len(times) == 1 and times[0] > 0


def test_callbacks_experimental_backup_and_restore_alias():
    assert keras.callbacks.experimental.BackupAndRestore is \
        keras.callbacks.BackupAndRestore
