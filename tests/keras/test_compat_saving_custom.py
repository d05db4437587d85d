"""Saving and reloading models with custom layers and losses (custom_objects, a
custom_object_scope, registered classes), clone_model, and SavedModel directories."""

import os
import shutil

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
layers = keras.layers
RNG = np.random.default_rng(3)
X = RNG.normal(size=(128, 4)).astype("float32")
Y = X.sum(1, keepdims=True)


@keras.utils.register_keras_serializable(package="compat")
class Scale(layers.Layer):
    def __init__(self, init=1.0, **kwargs):
        super().__init__(**kwargs)
        self.init = init

    def build(self, input_shape):
        self.s = self.add_weight(name="s", shape=(input_shape[-1],),
                                 initializer=keras.initializers.Constant(self.init))

    def call(self, x):
        return x * self.s

    def get_config(self):
        return {**super().get_config(), "init": self.init}


class Residual(layers.Layer):          # not registered: loading needs custom_objects
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = layers.Dense(units)

    def call(self, x):
        return x + self.dense(x)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def my_loss(y_true, y_pred):
    return tf.reduce_mean(tf.square(y_true - y_pred), axis=-1)


CUSTOM = {"Residual": Residual, "my_loss": my_loss}


def custom_model():
    inp = keras.Input((4,))
    out = layers.Dense(1)(Residual(4)(Scale(2.0)(inp)))
    model = keras.Model(inp, out)
    model.compile(optimizer="adam", loss=my_loss, metrics=["mae"])
    model.fit(X, Y, epochs=2, verbose=0)
    return model


@pytest.mark.parametrize("fname", ["m.keras", "m.h5", "saved_model_dir"])
def test_reload_with_custom_objects_scope_and_compile_false(tmp_path, fname):
    model = custom_model()
    ref = model.predict(X, verbose=0)
    path = str(tmp_path / fname)
    model.save(path)
    if fname == "saved_model_dir":
        # as TF, a SavedModel directory loads without the classes (by-value copy)
        revived = keras.models.load_model(path)
        np.testing.assert_array_equal(revived.predict(X, verbose=0), ref)
    else:
        with pytest.raises(ValueError, match="Unknown layer: 'Residual'"):
            keras.models.load_model(path)
    loaded = keras.models.load_model(path, custom_objects=CUSTOM)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), ref)
    assert loaded.loss is my_loss
    # the compiled metric keeps the name it was given: history says 'mae'
    assert sorted(loaded.fit(X, Y, epochs=1, verbose=0).history) == ["loss", "mae"]
    with keras.utils.custom_object_scope(CUSTOM):
        scoped = keras.models.load_model(path)   # the loss is found in the scope too
    np.testing.assert_array_equal(scoped.predict(X, verbose=0), ref)
    bare = keras.models.load_model(path, custom_objects={"Residual": Residual},
                                   compile=False)
    assert not getattr(bare, "_is_compiled", False)


def test_config_json_and_registered_names():
    model = custom_model()
    assert keras.utils.get_registered_name(Scale) == "compat>Scale"
    rebuilt = keras.Model.from_config(model.get_config(), custom_objects=CUSTOM)
    assert len(rebuilt.weights) == len(model.weights) == 5
    again = keras.models.model_from_json(model.to_json(), custom_objects=CUSTOM)
    assert [type(lay).__name__ for lay in again.layers] == [
        "InputLayer", "Scale", "Residual", "Dense"]


def test_clone_model_with_unregistered_layer():
    model = custom_model()
    clone = keras.models.clone_model(model)            # no custom_objects needed
    assert [lay.name for lay in clone.layers] == [lay.name for lay in model.layers]
    assert not any(np.array_equal(a, b) for a, b in
                   zip(clone.get_weights()[1:], model.get_weights()[1:]))
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(X, verbose=0), model.predict(X, verbose=0))
    renamed = keras.models.clone_model(model, clone_function=lambda lay: type(
        lay).from_config({**lay.get_config(), "name": lay.name + "_c"}))
    assert [lay.name for lay in renamed.layers[1:]] == [
        lay.name + "_c" for lay in model.layers[1:]]
    new_input = keras.Input((4,), name="fresh")
    on_input = keras.models.clone_model(model, input_tensors=new_input)
    assert on_input.inputs[0] is new_input


def test_clone_sequential_and_weights_file(tmp_path):
    seq = keras.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                            layers.Dense(1)], name="seq")
    seq.compile("sgd", "mse")
    seq.fit(X, Y, epochs=1, verbose=0)
    seq.save(str(tmp_path / "seq.keras"))
    reloaded = keras.models.load_model(str(tmp_path / "seq.keras"))
    assert type(reloaded) is keras.Sequential and reloaded.name == "seq"
    seq.save_weights(str(tmp_path / "seq.weights.h5"))
    clone = keras.models.clone_model(seq)
    clone.load_weights(str(tmp_path / "seq.weights.h5"))
    np.testing.assert_array_equal(clone.predict(X, verbose=0), seq.predict(X, verbose=0))


def test_saved_model_directory_round_trip(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, name="scores")])
    model.compile("adam", "mse")
    model.fit(RNG.normal(size=(8, 3)), RNG.normal(size=(8, 2)), verbose=0)
    path = str(tmp_path / "saved_model" / "my_model")
    model.save(path)                       # Keras 2: no suffix -> a directory
    assert os.path.isdir(path) and "assets" in os.listdir(path)
    assert tf.saved_model.contains_saved_model(path)
    again = keras.models.load_model(path)
    x = RNG.normal(size=(2, 3)).astype("float32")
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    assert type(again.optimizer).__name__ == "Adam"
    shutil.rmtree(path)                    # tutorials clean up with rmtree
    tf.saved_model.save(model, path)
    served = tf.saved_model.load(path)
    out = served.signatures["serving_default"](tf.constant(x))
    assert sorted(out) == ["scores"]
    np.testing.assert_allclose(out["scores"].numpy(), model.predict(x, verbose=0),
                               rtol=1e-6)
    np.testing.assert_allclose(served(tf.constant(x)).numpy(), out["scores"].numpy())
    model.save(str(tmp_path / "as_file"), save_format="h5")
    assert os.path.isfile(tmp_path / "as_file")


def _write_keras3_weights(path, groups):
    """An HDF5 file laid out as Keras 3's ``save_weights`` writes it: one group per
    layer named after the layer's class (``dense``, ``dense_1``...), variables under
    ``vars/<i>``, sub-layers (an RNN's ``cell``) as subgroups, groups listed
    alphabetically."""
    import h5py
    with h5py.File(path, "w") as f:
        root = f.create_group("layers")
        f.create_group("vars")
        for key in sorted(groups):
            group = root.create_group(key)
            for sub, values in groups[key].items():
                target = group if sub == "" else group.create_group(sub)
                variables = target.create_group("vars")
                for i, value in enumerate(values):
                    variables.create_dataset(str(i), data=value)


def test_loads_weights_files_keras3_wrote(tmp_path):
    inp = keras.Input((4,), name="x")
    h = layers.BatchNormalization(name="bn")(layers.Dense(8, name="hidden")(inp))
    model = keras.Model(inp, layers.Dense(2, name="out")(h))  # filed as 'dense_1'
    per_layer = {lay.name: [RNG.normal(size=w.shape).astype("float32")
                            for w in lay.weights] for lay in model.layers}
    path = str(tmp_path / "tf.weights.h5")
    _write_keras3_weights(path, {"input_layer": {"": []},
                                 "dense": {"": per_layer["hidden"]},
                                 "batch_normalization": {"": per_layer["bn"]},
                                 "dense_1": {"": per_layer["out"]}})
    model.load_weights(path)
    for lay in model.layers:
        for w, v in zip(lay.weights, per_layer[lay.name]):
            np.testing.assert_array_equal(w.numpy(), v)

    rnn = keras.Sequential([keras.Input((5, 3)), layers.LSTM(4), layers.Dense(1)])
    values = [RNG.normal(size=w.shape).astype("float32") for w in rnn.weights]
    _write_keras3_weights(path, {"lstm": {"": [], "cell": values[:3]},
                                 "dense": {"": values[3:]}})
    rnn.load_weights(path)
    for w, v in zip(rnn.weights, values):
        np.testing.assert_array_equal(w.numpy(), v)

    bi = keras.Sequential([keras.Input((5, 3)), layers.Bidirectional(layers.GRU(2)),
                           layers.Dense(1)])
    w = [v.numpy() for v in bi.weights]
    _write_keras3_weights(path, {"bidirectional": {"": [], "forward_layer": w[:3],
                                                   "backward_layer": w[3:6]},
                                 "dense": {"": w[6:]}})
    with pytest.raises(ValueError, match="stored per sub-layer"):
        bi.load_weights(path)


def test_keras3_zip_archive_gets_a_clear_error(tmp_path):
    import zipfile
    path = str(tmp_path / "from_tf.keras")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", "{}")
    with pytest.raises(ValueError, match="Keras 3 zip archive"):
        keras.models.load_model(path)
