"""Keras 3-style programs run under ``import dlframe as tf`` (probe M, TF 2.21 oracle).

Export endpoints and ``keras.export.ExportArchive``, ``Layer.stateless_call``, and a
custom layer written only with ``keras.ops``/``keras.random`` that trains, saves to
``.keras`` and reloads without ``custom_objects``.
"""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
ops = keras.ops
RNG = np.random.default_rng(0)
X = RNG.normal(size=(6, 4)).astype("float32")


def _two_output_model():
    a = keras.Input((4,), name="a")
    b = keras.Input((2,), name="b")
    h = keras.layers.Concatenate()([a, b])
    return a, b, keras.layers.Dense(1, name="reg")(h), keras.layers.Dense(3, name="cls")(h)


# ---------------------------------------------------------------- model.export
def test_export_signature_names_outputs_output_i(tmp_path):
    # TF 2.21: model.export's serving_default names a list of outputs output_0, ...
    a, b, reg, cls = _two_output_model()
    model = keras.Model([a, b], [reg, cls])
    model.export(str(tmp_path / "e"), verbose=False)
    loaded = tf.saved_model.load(str(tmp_path / "e"))
    sig = loaded.signatures["serving_default"]
    xa, xb = X, X[:, :2]
    out = sig(a=tf.constant(xa), b=tf.constant(xb))
    assert sorted(out) == ["output_0", "output_1"]
    assert sorted(sig.structured_outputs) == ["output_0", "output_1"]
    want = model.predict([xa, xb], verbose=0)
    np.testing.assert_allclose(out["output_1"].numpy(), want[1], rtol=1e-6)
    served = loaded.serve([xa, xb])
    assert isinstance(served, list) and len(served) == 2


def test_export_keeps_dict_output_keys(tmp_path):
    a, b, reg, cls = _two_output_model()
    model = keras.Model({"a": a, "b": b}, {"reg": reg, "cls": cls})
    model.export(str(tmp_path / "e"), verbose=False)
    loaded = tf.saved_model.load(str(tmp_path / "e"))
    out = loaded.signatures["serving_default"](a=tf.constant(X), b=tf.constant(X[:, :2]))
    assert sorted(out) == ["cls", "reg"]
    assert isinstance(loaded.serve({"a": X, "b": X[:, :2]}), dict)


def test_saved_model_save_keeps_keras2_layer_output_names(tmp_path):
    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Dense(2, name="scores")(inp))
    tf.saved_model.save(model, str(tmp_path / "sm"))
    out = tf.saved_model.load(str(tmp_path / "sm")).signatures["serving_default"](
        tf.constant(X))
    assert list(out) == ["scores"]


# ---------------------------------------------------------------- ExportArchive
def _dense_model():
    keras.utils.set_random_seed(1)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])


def test_export_archive_endpoints_and_variable_collections(tmp_path):
    model = _dense_model()
    archive = keras.export.ExportArchive()
    archive.track(model)
    spec = [tf.TensorSpec((None, 4), tf.float32)]
    archive.add_endpoint("predict_fn", model.call, input_signature=spec)

    @tf.function(input_signature=spec)
    def doubled(x):
        return model(x) * 2.0

    archive.add_endpoint("doubled", doubled)
    archive.add_variable_collection("my_vars", model.trainable_variables)
    path = str(tmp_path / "archive")
    archive.write_out(path, verbose=False)
    ref = model.predict(X, verbose=0)
    loaded = tf.saved_model.load(path)
    np.testing.assert_allclose(loaded.predict_fn(X).numpy(), ref, rtol=1e-6)
    np.testing.assert_allclose(loaded.doubled(X).numpy(), 2 * ref, rtol=1e-6)
    assert len(loaded.my_vars) == 2
    np.testing.assert_array_equal(loaded.my_vars[0].numpy(),
                                  model.trainable_variables[0].numpy())
    # TF 2.21: the endpoints, then serving_default (the first endpoint)
    assert list(loaded.signatures) == ["predict_fn", "doubled", "serving_default"]
    out = loaded.signatures["serving_default"](tf.constant(X))
    np.testing.assert_allclose(out["output_0"].numpy(), ref, rtol=1e-6)


def test_export_archive_accepts_input_spec_and_track_and_add(tmp_path):
    model = _dense_model()
    archive = keras.export.ExportArchive()
    archive.track_and_add_endpoint("serve", model,
                                   input_signature=[keras.InputSpec(shape=(None, 4))])
    archive.write_out(str(tmp_path / "a"), verbose=False)
    np.testing.assert_allclose(tf.saved_model.load(str(tmp_path / "a")).serve(X).numpy(),
                               model.predict(X, verbose=0), rtol=1e-6)


def test_export_archive_errors(tmp_path):
    model = _dense_model()
    archive = keras.export.ExportArchive()
    with pytest.raises(ValueError, match="No endpoints"):
        archive.write_out(str(tmp_path / "x"))
    with pytest.raises(ValueError, match="Invalid resource type"):
        archive.track(3)
    with pytest.raises(ValueError, match="has not yet been built"):
        archive.track(keras.layers.Dense(2))
    with pytest.raises(ValueError, match="input_signature"):
        archive.add_endpoint("f", model.call)
    spec = [tf.TensorSpec((None, 4), tf.float32)]
    archive.add_endpoint("f", model.call, input_signature=spec)
    with pytest.raises(ValueError, match="'f' is already taken"):
        archive.add_endpoint("f", model.call, input_signature=spec)
    with pytest.raises(ValueError, match="tf.Variable"):
        archive.add_variable_collection("v", [np.ones(2)])


# ---------------------------------------------------------------- stateless_call
def _bn_model():
    keras.utils.set_random_seed(2)
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2),
                             keras.layers.BatchNormalization()])


def test_stateless_call_uses_given_values_and_keeps_variables():
    model = _bn_model()
    x = np.arange(12, dtype="float32").reshape(4, 3)
    before = [v.numpy().copy() for v in model.variables]
    ones = [np.ones(tuple(v.shape), "float32") for v in model.trainable_variables]
    stats = [v.numpy() for v in model.non_trainable_variables]
    out, new_stats = model.stateless_call(ones, stats, x, training=True)
    # all-ones Dense: each row gives x.sum() + 1 in both units; BN (gamma=beta=1)
    h = x.sum(1, keepdims=True) + 1.0
    normed = (h - h.mean()) / np.sqrt(h.var() + 1e-3) + 1.0
    np.testing.assert_allclose(out.numpy(), np.repeat(normed, 2, 1), rtol=1e-4)
    # moving stats after one step, momentum 0.99 (TF 2.21: 0.175, 2.002)
    np.testing.assert_allclose(new_stats[0].numpy(), 0.01 * h.mean() * np.ones(2),
                               rtol=1e-5)
    np.testing.assert_allclose(new_stats[1].numpy(), 0.99 + 0.01 * h.var() * np.ones(2),
                               rtol=1e-5)
    for v, old in zip(model.variables, before):
        np.testing.assert_array_equal(v.numpy(), old)


def test_stateless_call_returns_add_loss_losses():
    class Penalized(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(3,), initializer="ones")

        def call(self, x):
            self.add_loss(ops.sum(self.w))
            return x * self.w

    layer = Penalized()
    layer(X[:, :3])
    out, _, losses = layer.stateless_call([np.full(3, 2.0, "float32")], [], X[:, :3],
                                          return_losses=True)
    np.testing.assert_allclose(out.numpy(), 2 * X[:, :3], rtol=1e-6)
    assert [float(v) for v in losses] == [6.0]
    np.testing.assert_array_equal(layer.w.numpy(), np.ones(3))


def test_stateless_call_losses_include_regularizers_of_the_given_values():
    # Keras 3 returns layer.losses: weight penalties computed from the given values
    layer = keras.layers.Dense(2, use_bias=False, kernel_regularizer="l2")
    layer(X[:, :3])
    kernel = np.full((3, 2), 2.0, "float32")
    _, _, losses = layer.stateless_call([kernel], [], X[:, :3], return_losses=True)
    np.testing.assert_allclose([float(v) for v in losses], [0.01 * 4.0 * 6], rtol=1e-6)


def test_stateless_call_errors():
    model = _bn_model()
    tv = [v.numpy() for v in model.trainable_variables]
    ntv = [v.numpy() for v in model.non_trainable_variables]
    with pytest.raises(ValueError, match=r"`trainable_variables`.*length 1.*expected 4"):
        model.stateless_call(tv[:1], ntv, X[:, :3])
    with pytest.raises(ValueError, match=r"`non_trainable_variables`.*expected 2"):
        model.stateless_call(tv, ntv[:1], X[:, :3])
    with pytest.raises(ValueError, match="Dense must be built"):
        keras.layers.Dense(2).stateless_call([], [], X)


# ---------------------------------------------------------------- keras.ops layer
@keras.saving.register_keras_serializable(package="probe_m")
class TopKMixture(keras.layers.Layer):
    """A mixture-of-experts layer written only with keras.ops and keras.random."""

    def __init__(self, units, experts=3, k=2, **kwargs):
        super().__init__(**kwargs)
        self.units, self.experts, self.k = units, experts, k
        self.seed_generator = keras.random.SeedGenerator(42)

    def build(self, input_shape):
        d = input_shape[-1]
        self.gate = self.add_weight(shape=(d, self.experts),
                                    initializer="glorot_uniform", name="gate")
        self.w = self.add_weight(shape=(self.experts, d, self.units),
                                 initializer="he_normal", name="w")
        self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                     dtype="int32", name="calls")

    def call(self, x, training=False):
        logits = ops.matmul(x, self.gate)
        if training:
            logits = logits + keras.random.normal(ops.shape(logits), stddev=0.01,
                                                  seed=self.seed_generator)
        vals, idx = ops.top_k(logits, k=self.k)
        mix = ops.sum(ops.one_hot(idx, self.experts)
                      * ops.expand_dims(ops.softmax(vals, axis=-1), -1), axis=1)
        y = ops.einsum("be,beu->bu", mix, ops.einsum("bd,edu->beu", x, self.w))
        self.calls.assign_add(1)
        return ops.where(y > 0, y, 0.1 * y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "experts": self.experts,
                "k": self.k}


def _mixture_reference(layer, x):
    gate, w = layer.gate.numpy(), layer.w.numpy()
    logits = x @ gate
    idx = np.argsort(-logits, axis=1)[:, :layer.k]
    vals = np.take_along_axis(logits, idx, 1)
    probs = np.exp(vals - vals.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    mix = np.zeros_like(logits)
    np.put_along_axis(mix, idx, probs, 1)
    y = np.einsum("be,bd,edu->bu", mix, x, w)
    return np.where(y > 0, y, 0.1 * y)


def test_keras_ops_layer_trains_saves_and_reloads(tmp_path):
    keras.utils.set_random_seed(1)
    layer = TopKMixture(4)
    out = layer(X)
    np.testing.assert_allclose(out.numpy(), _mixture_reference(layer, X), rtol=1e-5,
                               atol=1e-6)
    assert layer.compute_output_shape((None, 4)) == (None, 4)
    assert keras.saving.get_registered_name(TopKMixture) == "probe_m>TopKMixture"
    train = layer(X, training=True)
    assert not np.allclose(train.numpy(), out.numpy())      # seeded noise in training
    assert int(layer.calls.numpy()) == 2

    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Dense(1)(TopKMixture(8, name="moe")(inp)))
    model.compile("adam", "mse")
    xs = RNG.normal(size=(64, 4)).astype("float32")
    ys = (xs.sum(1, keepdims=True) > 0).astype("float32")
    hist = model.fit(xs, ys, epochs=4, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    path = str(tmp_path / "moe.keras")
    model.save(path)
    again = keras.models.load_model(path)                   # no custom_objects
    assert type(again.get_layer("moe")) is TopKMixture
    np.testing.assert_allclose(again.predict(xs[:5], verbose=0),
                               model.predict(xs[:5], verbose=0), rtol=1e-5, atol=1e-6)
