"""Keras model/training API details checked against TF 2.21 (Keras 3.15): optimizers
bound to their variables, Sequential configs, Hashing of floats, sparse symbolic
CategoryEncoding, batch-method logs, user ``build()`` and ``jit_compile``."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras


def _dense_model(units=2):
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(units)])


def _ones_like_vars(variables):
    return [tf.ones_like(v) for v in variables]


# -- an optimizer belongs to the variables it was built with ----------------------
@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad", "Nadam", "AdamW",
                                  "Adadelta", "Adamax", "Ftrl", "Lion", "Adafactor"])
def test_optimizer_refuses_variables_it_was_not_built_with(name):
    m1, m2 = _dense_model(), _dense_model()
    opt = getattr(keras.optimizers, name)()
    opt.apply_gradients(zip(_ones_like_vars(m1.trainable_variables),
                            m1.trainable_variables))
    before = [v.numpy().copy() for v in m2.trainable_variables]
    with pytest.raises(ValueError, match=r"Unknown variable: .*dense.*kernel.*"
                                         r"originally built with"):
        opt.apply_gradients(zip(_ones_like_vars(m2.trainable_variables),
                                m2.trainable_variables))
    for v, b in zip(m2.trainable_variables, before):   # nothing was updated
        np.testing.assert_array_equal(v.numpy(), b)
    assert int(opt.iterations) == 1


def test_optimizer_accepts_a_subset_of_its_variables():
    m1 = _dense_model()
    opt = keras.optimizers.SGD(0.5)
    opt.build(m1.trainable_variables)
    kernel, bias = m1.trainable_variables
    k0 = kernel.numpy().copy()
    opt.apply_gradients([(tf.ones_like(bias), bias)])
    np.testing.assert_allclose(bias.numpy(), [-0.5, -0.5])
    np.testing.assert_array_equal(kernel.numpy(), k0)


def test_reusing_a_compiled_optimizer_for_a_second_model_raises_in_fit():
    x = np.ones((8, 3), "float32")
    y = np.zeros((8, 1), "float32")
    opt = keras.optimizers.SGD()
    m1, m2 = _dense_model(1), _dense_model(1)
    m1.compile(opt, "mse")
    m1.fit(x, y, verbose=0)
    m2.compile(opt, "mse")
    with pytest.raises(ValueError, match="Unknown variable"):
        m2.fit(x, y, verbose=0)


def test_legacy_optimizers_still_take_new_variables():
    a = tf.Variable(np.ones(2, np.float32))
    b = tf.Variable(np.ones(2, np.float32))
    opt = keras.optimizers.legacy.SGD(0.5)
    assert isinstance(opt, keras.optimizers.SGD)
    opt.apply_gradients([(tf.ones((2,)), a)])
    opt.apply_gradients([(tf.ones((2,)), b)])
    np.testing.assert_allclose(a.numpy(), [0.5, 0.5])
    np.testing.assert_allclose(b.numpy(), [0.5, 0.5])


def test_unbuilt_subclassed_model_with_custom_train_step_builds_optimizer_on_apply():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(self(x, training=True) - y))
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            return {"mse": loss}   # not "loss": that logs the unused loss tracker

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], "float32")
    model = Net()
    model.compile(keras.optimizers.Adam(0.05))
    hist = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert hist.history["mse"][-1] < 0.1 * hist.history["mse"][0]
    assert len(model.optimizer.variables) == 2 + 2 * 2   # iterations, lr, m and v


# -- Sequential / functional configs ---------------------------------------------
def test_sequential_config_keys_match_keras3():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="d1"),
                              keras.layers.Dense(1, name="d2")], name="seq")
    config = model.get_config()
    assert list(config) == ["name", "trainable", "dtype", "layers", "build_input_shape"]
    assert config["name"] == "seq" and config["trainable"] is True
    assert config["dtype"] == "float32"
    assert tuple(config["build_input_shape"]) == (None, 3)
    assert [layer["class_name"] for layer in config["layers"]] == [
        "InputLayer", "Dense", "Dense"]
    model.trainable = False
    assert model.get_config()["trainable"] is False
    clone = keras.Sequential.from_config(model.get_config())
    assert clone.built and [layer.name for layer in clone.layers] == ["d1", "d2"]
    assert clone.count_params() == 11
    clone.set_weights(model.get_weights())
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(clone(x).numpy(), model(x).numpy(), rtol=1e-6)


def test_sequential_config_build_input_shape_only_once_built():
    model = keras.Sequential([keras.layers.Dense(2)])
    assert sorted(model.get_config()) == ["dtype", "layers", "name", "trainable"]
    model.build((None, 5))
    config = model.get_config()
    assert tuple(config["build_input_shape"]) == (None, 5)
    assert keras.Sequential.from_config(config).count_params() == 12


def test_functional_config_round_trip_keeps_dict_outputs():
    a = keras.Input((3,), name="a")
    b = keras.Input((2,), name="b")
    h = keras.layers.Concatenate(name="cat")([a, b])
    model = keras.Model([a, b], {"x": keras.layers.Dense(1, name="o1")(h),
                                 "y": keras.layers.Dense(2, name="o2")(h)}, name="fn")
    config = model.get_config()
    assert sorted(config) == ["input_layers", "layers", "name", "output_layers",
                              "trainable"]
    assert config["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert config["output_layers"] == {"x": ["o1", 0, 0], "y": ["o2", 0, 0]}
    clone = keras.Model.from_config(config)
    assert [layer.name for layer in clone.layers] == ["a", "b", "cat", "o1", "o2"]
    clone.set_weights(model.get_weights())
    xs = [np.ones((1, 3), "float32"), np.ones((1, 2), "float32")]
    out, ref = clone(xs), model(xs)
    assert sorted(out) == ["x", "y"]
    for key in ("x", "y"):
        np.testing.assert_allclose(out[key].numpy(), ref[key].numpy(), rtol=1e-6)


# -- Hashing of floats, sparse symbolic outputs ----------------------------------
def test_hashing_truncates_floats_to_int64_as_tf():
    # TF 2.21 bins (num_bins=10): floats hash as their int64 truncation
    h = keras.layers.Hashing(num_bins=10)
    f32 = np.array([[1.5], [2.0], [-3.25], [0.0], [-0.7]], np.float32)
    assert h(f32).numpy().ravel().tolist() == [9, 9, 9, 5, 5]
    assert h(f32.astype(np.float64)).numpy().ravel().tolist() == [9, 9, 9, 5, 5]
    assert h(np.array([[1], [2], [-3], [0]])).numpy().ravel().tolist() == [9, 9, 9, 5]
    assert h(np.array([[1e10]], np.float32)).numpy().ravel().tolist() == [9]
    salted = keras.layers.Hashing(num_bins=10, salt=7)
    pair = np.array([[1.5], [2.0]], np.float32)
    assert salted(pair).numpy().ravel().tolist() == [9, 5]
    masked = keras.layers.Hashing(num_bins=10, mask_value=1)   # mask sees the floats
    pair = np.array([[1.5], [1.0]], np.float32)
    assert masked(pair).numpy().ravel().tolist() == [1, 0]


def test_symbolic_category_encoding_output_is_marked_sparse():
    inputs = keras.Input((3,), dtype="int32")
    encoded = keras.layers.CategoryEncoding(5, output_mode="multi_hot",
                                            sparse=True)(inputs)
    assert encoded.sparse is True and encoded.shape.as_list() == [None, 5]
    assert keras.layers.CategoryEncoding(5, output_mode="count")(inputs).sparse is False
    # TF leaves Hashing's and a following Dense's symbolic outputs dense
    assert keras.layers.Hashing(10, output_mode="one_hot", sparse=True)(
        keras.Input((1,), dtype="string")).sparse is False
    assert keras.layers.Dense(2)(encoded).sparse is False
    model = keras.Model(inputs, encoded)
    out = model(np.array([[1, 2, 2]]))
    assert isinstance(out, tf.SparseTensor)
    np.testing.assert_array_equal(tf.sparse.to_dense(out).numpy(), [[0, 1, 1, 0, 0]])


# -- logs of the batch methods ----------------------------------------------------
def _two_output_model():
    a = keras.Input((4,), name="num")
    h = keras.layers.Dense(8, activation="relu", kernel_initializer="ones")(a)
    reg = keras.layers.Dense(1, name="price", kernel_initializer="ones")(h)
    cls = keras.layers.Dense(3, activation="softmax", name="kind",
                             kernel_initializer="ones")(h)
    model = keras.Model(a, {"price": reg, "kind": cls})
    model.compile(keras.optimizers.SGD(0.0),
                  loss={"price": "mse", "kind": "sparse_categorical_crossentropy"},
                  loss_weights={"price": 0.5, "kind": 2.0},
                  metrics={"price": ["mae"], "kind": ["accuracy"]})
    return model


def test_train_on_batch_return_dict_is_sorted_and_list_in_evaluate_order():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 4)).astype("float32")
    y = {"price": rng.normal(size=(8, 1)).astype("float32"),
         "kind": rng.integers(0, 3, size=(8,))}
    model = _two_output_model()
    logs = model.train_on_batch(x, y, return_dict=True)
    # TF 2.21's keys, in its order
    assert list(logs) == ["kind_accuracy", "kind_loss", "loss", "price_loss",
                          "price_mae"]
    assert logs["loss"] == pytest.approx(0.5 * logs["price_loss"]
                                         + 2.0 * logs["kind_loss"], rel=1e-5)
    values = model.test_on_batch(x, y)
    expected = [logs[k] for k in ("loss", "price_loss", "kind_loss", "kind_accuracy",
                                  "price_mae")]   # evaluate()'s list order in TF
    np.testing.assert_allclose(values, expected, rtol=1e-5)
    listed = model.train_on_batch(x, y)
    np.testing.assert_allclose(listed, expected, rtol=1e-5)
    assert model.evaluate(x, y, verbose=0, return_dict=True) == pytest.approx(logs)


def test_custom_step_logs_and_partial_steps_per_execution():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 4)).astype("float32")
    y = (x.sum(1, keepdims=True) > 0).astype("float32")

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = keras.layers.Dense(1, activation="sigmoid")

        def call(self, x):
            return self.d(x)

        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            for m in self.metrics:
                if m.name == "loss":
                    m.update_state(loss)
                else:
                    m.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    model = Net()
    model.compile("sgd", "binary_crossentropy",
                  metrics=["accuracy", keras.metrics.AUC(name="auc")])
    hist = model.fit(x, y, epochs=1, batch_size=16, verbose=0, validation_data=(x, y))
    assert list(hist.history) == ["accuracy", "auc", "loss", "val_accuracy", "val_auc",
                                  "val_loss"]   # TF 2.21's order
    seen = []

    class Batches(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(("begin", batch))

        def on_train_batch_end(self, batch, logs=None):
            seen.append(("end", batch))

    seq = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    seq.compile("sgd", "mse", steps_per_execution=3)
    seq.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[Batches()])
    # 7 batches in executions of 3, 3, 1: Keras 2 reports the last batch run (6);
    # Keras 3 reports 6 + 3 - 1 = 8, past the data
    assert seen == [("begin", 0), ("end", 2), ("begin", 3), ("end", 5), ("begin", 6),
                    ("end", 6)]


# -- a user's build(), jit_compile -------------------------------------------------
def test_direct_build_call_marks_a_user_model_built():
    class MyModel(keras.Model):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 4), initializer="ones")
            self.out = keras.layers.Dense(1, kernel_initializer="ones")
            self.out.build((None, 4))

        def call(self, x):
            return self.out(tf.matmul(x, self.w))

    model = MyModel()
    assert not model.built
    model.build((None, 3))
    assert model.built and model.count_params() == 12 + 5
    np.testing.assert_allclose(model(np.ones((2, 3), "float32")).numpy(), [[12.0]] * 2)

    class Broken(keras.layers.Layer):
        def build(self, input_shape):
            raise ValueError("bad shape")

    layer = Broken()
    with pytest.raises(ValueError, match="bad shape"):
        layer.build((None, 3))
    assert not layer.built


def test_jit_compile_auto_and_run_eagerly():
    model = _dense_model(1)
    model.compile("sgd", "mse", jit_compile="auto")
    # TF turns XLA off on CPU-only machines, on where a GPU is the default device
    from dlframe.backends import default_device
    assert model.jit_compile is (default_device().kind == "gpu")
    with pytest.warns(UserWarning, match="cannot also be True"):
        model.compile("sgd", "mse", jit_compile=True, run_eagerly=True)
    assert model.jit_compile is False
    model.compile("sgd", "mse", jit_compile=True)
    assert model.jit_compile is True
    model.jit_compile = False
    assert model.jit_compile is False
    hist = model.fit(np.ones((4, 3), "float32"), np.ones((4, 1), "float32"), verbose=0)
    assert np.isfinite(hist.history["loss"][0])


def test_subclassed_model_config_error_names_only_real_arguments():
    class Wrapper(keras.Model):
        def __init__(self, layer, **kw):
            super().__init__(**kw)
            self.layer = layer

        def call(self, x):
            return self.layer(x)

    with pytest.raises(NotImplementedError, match=r"arguments \['layer'\] in"):
        Wrapper(keras.layers.Dense(2)).get_config()

    class Plain(keras.Model):
        def __init__(self, units=3, **kw):
            super().__init__(**kw)
            self.units = units
            self.dense = keras.layers.Dense(units)

        def call(self, x):
            return self.dense(x)

    config = Plain(5, name="plain").get_config()
    assert config["units"] == 5 and config["name"] == "plain"
    assert Plain.from_config(config).units == 5

