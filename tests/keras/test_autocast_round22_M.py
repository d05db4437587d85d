"""Mixed precision autocast of layer variables (TF's AutoCastVariable), checked
against TF 2.21 / Keras 3.15: inside a mixed-precision layer's call its float
weights read as the compute dtype for every op (slices, concat, stack, gather,
embedding_lookup, transpose, reshape, identity, tanh, convert_to_tensor, value()),
outside the call, as float32; gradients and optimizer updates stay float32."""

import sys

import numpy as np
import pytest

import dlframe as tf

# the module (the package attribute ``dlframe.core.primitive`` is the decorator)
_primitive = sys.modules["dlframe.core.primitive"]


@pytest.fixture
def policy(request):
    name = getattr(request, "param", "mixed_float16")
    tf.keras.mixed_precision.set_global_policy(name)
    try:
        yield name.split("_")[1]
    finally:
        tf.keras.mixed_precision.set_global_policy("float32")


def _np_dtype(name):
    return np.dtype(tf.as_dtype(name).as_numpy_dtype)


class _Probe(tf.keras.layers.Layer):
    """Records, inside call, the dtype and value of each op form reading weights."""

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], 8),
                                      initializer="glorot_uniform")
        self.table = self.add_weight(name="table", shape=(10, 4), initializer="uniform")
        self.plain = self.add_weight(name="plain", shape=(4,), initializer="ones",
                                     autocast=False)
        self.legacy = self.add_weight(name="legacy", shape=(4,), initializer="ones",
                                      experimental_autocast=False)
        self.count = self.add_weight(name="count", shape=(4,), dtype="int32",
                                     initializer="zeros")

    def call(self, x):
        k = self.kernel
        self.seen = {
            "kernel.dtype": k.dtype,
            "slice": k[:, :4],
            "matmul of slice": tf.matmul(x, k[:, :4]),
            "concat": tf.concat([x, tf.transpose(k[:, :4])], 0),
            "concat with input": tf.concat([tf.transpose(x), k[:, :2]], 1),
            "stack": tf.stack([k, k]),
            "gather": tf.gather(self.table, [1, 2]),
            "embedding_lookup": tf.nn.embedding_lookup(self.table, [3, 0]),
            "transpose": tf.transpose(k),
            "reshape": tf.reshape(k, [-1]),
            "identity": tf.identity(k),
            "tanh": tf.tanh(k),
            "convert_to_tensor": tf.convert_to_tensor(k),
            "value()": k.value(),
            "k * 2": k * 2,
            "2 * k": 2 * k,
            "k + k": k + k,
            "reduce_sum": tf.reduce_sum(k),
            "autocast=False": tf.identity(self.plain),
            "experimental_autocast=False": tf.identity(self.legacy),
            "int weight": tf.identity(self.count),
        }
        return tf.matmul(x, k)


_CAST_FORMS = ["slice", "matmul of slice", "concat", "concat with input", "stack",
               "gather", "embedding_lookup", "transpose", "reshape", "identity", "tanh",
               "convert_to_tensor", "value()", "k * 2", "2 * k", "k + k", "reduce_sum"]


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"], indirect=True)
def test_every_op_form_reads_the_compute_dtype_inside_call(policy):
    layer = _Probe()
    x = tf.ones((2, 4))
    y = layer(x)
    seen = layer.seen
    assert y.dtype == policy
    assert seen["kernel.dtype"] == policy   # TF 2.21: 'float16'; Keras 2: tf.float16
    for form in _CAST_FORMS:
        assert seen[form].dtype == policy, form
    # TF: untouched weights
    assert seen["autocast=False"].dtype == tf.float32
    assert seen["experimental_autocast=False"].dtype == tf.float32
    assert seen["int weight"].dtype == tf.int32
    # values: the stored float32 weights rounded once to the compute dtype
    k32 = layer.kernel.numpy()
    lo = k32.astype(_np_dtype(policy))
    np.testing.assert_array_equal(seen["transpose"].numpy(), lo.T)
    np.testing.assert_array_equal(seen["slice"].numpy(), lo[:, :4])
    np.testing.assert_array_equal(seen["gather"].numpy(),
                                  layer.table.numpy().astype(lo.dtype)[[1, 2]])
    np.testing.assert_array_equal(seen["concat with input"].numpy()[:, 2:], lo[:, :2])
    # outside the call: float32 again, and no reader left installed
    assert layer.kernel.dtype == tf.float32
    assert tf.identity(layer.kernel).dtype == tf.float32
    assert tf.transpose(layer.kernel).dtype == tf.float32
    assert layer.kernel.numpy().dtype == np.float32
    assert [w.dtype for w in layer.weights] == [tf.float32] * 4 + [tf.int32]
    assert _primitive.AUTOCAST_READ is None


def test_float32_policy_leaves_weights_and_dispatch_alone():
    assert tf.keras.mixed_precision.global_policy().name == "float32"
    seen = {}

    class L(tf.keras.layers.Layer):
        def build(self, s):
            self.w = self.add_weight(name="w", shape=(s[-1], 3))

        def call(self, x):
            seen["reader"] = _primitive.AUTOCAST_READ
            seen["dtype"] = tf.transpose(self.w).dtype
            return tf.matmul(x, self.w)

    L()(tf.ones((1, 2)))
    assert seen == {"reader": None, "dtype": tf.float32}


def test_gradients_come_back_float32_for_the_float32_variables(policy):
    layer = _Probe()
    x = tf.constant(np.arange(8, dtype=np.float32).reshape(2, 4) / 8)
    layer(x)
    with tf.GradientTape() as tape:
        layer(x)
        loss = tf.reduce_sum(tf.cast(layer.seen["matmul of slice"], tf.float32)) + \
            tf.reduce_sum(tf.cast(layer.seen["gather"], tf.float32))
    g_kernel, g_table = tape.gradient(loss, [layer.kernel, layer.table])
    assert g_kernel.dtype == tf.float32 and g_table.dtype == tf.float32
    want = np.zeros((4, 8), np.float32)
    want[:, :4] = x.numpy().sum(0)[:, None]   # d sum(x @ k[:, :4]) / dk
    np.testing.assert_allclose(g_kernel.numpy(), want, rtol=1e-3)
    want_table = np.zeros((10, 4), np.float32)
    want_table[[1, 2]] = 1.0
    np.testing.assert_array_equal(tf.convert_to_tensor(g_table).numpy(), want_table)


def test_nested_layers_read_by_the_innermost_policy(policy):
    # TF 2.21: a float32 sublayer reads float32 inside a mixed layer's call; the
    # outer layer's weights read float16 before and after the sublayer runs
    seen = []

    class Inner(tf.keras.layers.Layer):
        def build(self, s):
            self.v = self.add_weight(name="v", shape=(s[-1],), initializer="ones")

        def call(self, x):
            seen.append((self.dtype_policy.name, tf.identity(self.v).dtype.name))
            return tf.cast(x, self.compute_dtype) * self.v

    class Outer(tf.keras.layers.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.inner32 = Inner(dtype="float32")
            self.inner16 = Inner()

        def build(self, s):
            self.w = self.add_weight(name="w", shape=(s[-1],), initializer="ones")

        def call(self, x):
            seen.append(("outer", tf.identity(self.w).dtype.name))
            a, b = self.inner32(x), self.inner16(x)
            seen.append(("outer", tf.identity(self.w).dtype.name))
            return a, b

    a, b = Outer()(tf.ones((2, 3)))
    assert seen == [("outer", "float16"), ("float32", "float32"),
                    ("mixed_float16", "float16"), ("outer", "float16")]
    assert (a.dtype, b.dtype) == (tf.float32, tf.float16)


class _SlicedCell(tf.keras.layers.Layer):
    """A gated cell that slices one kernel into its gate and candidate parts."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel", shape=(input_shape[-1] + self.units, 2 * self.units),
            initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(2 * self.units,),
                                    initializer="zeros")

    def call(self, inputs, states):
        xh = tf.concat([inputs, states[0]], -1)
        u = self.units
        gate = tf.sigmoid(tf.matmul(xh, self.kernel[:, :u]) + self.bias[:u])
        cand = tf.tanh(tf.matmul(xh, self.kernel[:, u:]) + self.bias[u:])
        out = gate * states[0] + (1 - gate) * cand
        return out, [out]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def _cell_model():
    inp = tf.keras.Input((5, 3))
    hidden = tf.keras.layers.RNN(_SlicedCell(8))(inp)
    out = tf.keras.layers.Dense(1, dtype="float32")(hidden)
    return tf.keras.Model(inp, out)


def test_custom_rnn_cell_slicing_its_kernel_trains_with_loss_scaling(policy):
    # TF 2.21 (same program): loss 1.89 -> 0.0093 in 15 epochs, RNN output float16,
    # cell weights float32, loss scale 32768
    tf.random.set_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((64, 5, 3)).astype("float32")
    y = x.sum(axis=(1, 2))[:, None] / 7.0
    model = _cell_model()
    opt = tf.keras.mixed_precision.LossScaleOptimizer(tf.keras.optimizers.Adam(0.01))
    model.compile(opt, "mse")
    before = [w.numpy() for w in model.layers[1].weights]
    hist = model.fit(x, y, epochs=15, batch_size=16, verbose=0).history["loss"]
    assert hist[-1] < 0.05 and hist[-1] < hist[0] / 5
    rnn = model.layers[1]
    assert rnn(tf.constant(x[:2])).dtype == tf.float16
    assert [w.dtype for w in rnn.weights] == [tf.float32, tf.float32]
    assert all(not np.allclose(b, w.numpy()) for b, w in zip(before, rnn.weights))
    assert float(opt.loss_scale) > 1


def test_traced_train_step_reads_float16_and_updates_float32(policy):
    layer = _Probe()
    x = tf.ones((2, 4))
    layer(x)
    opt = tf.keras.optimizers.SGD(0.5)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            y = layer(x)
            loss = tf.reduce_sum(tf.cast(y, tf.float32))
        grads = tape.gradient(loss, [layer.kernel])
        opt.apply_gradients(zip(grads, [layer.kernel]))
        return y, grads[0]

    k0 = layer.kernel.numpy()
    y, g = step()
    assert y.dtype == tf.float16 and g.dtype == tf.float32
    np.testing.assert_allclose(layer.kernel.numpy(), k0 - 0.5 * 2.0, rtol=1e-6)
    assert layer.kernel.dtype == tf.float32


def test_model_save_load_round_trip_under_the_policy(policy, tmp_path):
    tf.random.set_seed(1)
    model = _cell_model()
    x = np.random.default_rng(1).random((4, 5, 3)).astype("float32")
    want = model.predict(x, verbose=0)
    path = str(tmp_path / "cell.keras")
    model.save(path)
    loaded = tf.keras.models.load_model(
        path, custom_objects={"_SlicedCell": _SlicedCell})
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), want)
    assert [w.dtype for w in loaded.weights] == [tf.float32] * 4
    assert loaded.layers[1].dtype_policy.name == "mixed_float16"
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_assignments_and_keras_variables_in_a_mixed_call(policy):
    # TF 2.21: an autocast weight updated in call keeps float32 storage (reads in
    # call are float16); keras.Variable(autocast=True) reads float16 there too
    seen = []

    class Counter(tf.keras.layers.Layer):
        def build(self, s):
            self.total = self.add_weight(name="total", shape=(), initializer="zeros",
                                         trainable=False)
            self.kv = tf.keras.Variable(np.ones((2, 2), "float32"), name="kv")
            self.kv_no = tf.keras.Variable(np.ones((2, 2), "float32"), name="kv_no",
                                           autocast=False)

        def call(self, x):
            self.total.assign_add(tf.reduce_sum(tf.cast(x, tf.float32)))
            seen.append((tf.identity(self.total).dtype.name,
                         tf.identity(self.kv).dtype.name,
                         tf.identity(self.kv_no).dtype.name))
            return x

    layer = Counter()
    x = tf.ones((2, 3))
    layer(x)
    with tf.GradientTape() as tape:
        tape.watch(layer.total)
        y = layer.total * 2.0   # read before the call's write: the tape keeps it
        layer(x)
    assert seen == [("float16", "float16", "float32")] * 2
    assert layer.total.dtype == tf.float32 and float(layer.total.numpy()) == 12.0
    assert float(y.numpy()) == 12.0
    grad = tape.gradient(y, layer.total)
    assert grad.dtype == tf.float32 and float(grad.numpy()) == 2.0
