"""How often, and on what, Keras runs a user's ``call()``: as TF 2.21 does, functional
construction runs it once on symbolic inputs (``None`` dims, not eager), and
``fit``/``evaluate`` run it only in their steps (no extra check batches)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError

keras = tf.keras


class Recorder(keras.layers.Layer):
    """Dense-like layer logging each call's input shape and eagerness."""

    def __init__(self, log, units=2, **kwargs):
        super().__init__(**kwargs)
        self.log, self.units = log, units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="ones")

    def call(self, x):
        self.log.append((tuple(x.shape), tf.executing_eagerly()))
        return tf.nn.relu(tf.matmul(x, self.w))


def test_functional_construction_runs_call_once_on_none_dims(capsys):
    log = []

    class Printing(Recorder):
        def call(self, x):
            print("call", x.shape)
            return super().call(x)

    inp = keras.Input((3,))
    out = Printing(log)(inp)
    assert log == [((None, 3), False)]     # TF 2.21: one symbolic call
    assert capsys.readouterr().out == "call (None, 3)\n"
    assert out.shape.as_list() == [None, 2]
    seq_log = []
    keras.Sequential([keras.Input((None, 5)), Recorder(seq_log, 4)])
    assert seq_log == [((None, None, 5), False)]


def test_fit_evaluate_predict_add_no_check_calls():
    log = []
    inp = keras.Input((3,))
    model = keras.Model(inp, Recorder(log)(inp))
    model.compile("sgd", "mse")
    x, y = np.ones((8, 3), "float32"), np.ones((8, 2), "float32")
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert len(log) == 2                    # construction + the one traced step
    model.evaluate(x, y, batch_size=4, verbose=0)
    assert len(log) == 3                    # + the traced test step
    model.predict(np.ones((5, 3), "float32"), verbose=0)
    assert len(log) == 4
    model(np.ones((5, 3), "float32"))
    assert log[-1] == ((5, 3), True)


def test_subclassed_model_builds_on_a_whole_first_batch():
    log = []

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.inner = Recorder(log)

        def call(self, x):
            return self.inner(x)

    net = Net()
    net.compile("sgd", "mse")
    net.fit(np.ones((8, 3), "float32"), np.ones((8, 2), "float32"), batch_size=4,
            verbose=0)
    assert [shape for shape, _ in log] == [(4, 3), (4, 3)]   # build, traced step
    assert log[0][1] is True and log[1][1] is False


def test_value_dependent_shapes_fall_back_to_a_quiet_second_run(capsys):
    class Flatten(keras.layers.Layer):
        def call(self, x):
            print("seen", x.shape)
            return tf.reshape(x, [tf.shape(x)[0], -1])

    class Conv(keras.layers.Layer):
        def build(self, input_shape):
            self.k = self.add_weight(shape=(3, 3, input_shape[-1], 4))

        def call(self, x):
            print("conv", x.shape)
            return tf.nn.conv2d(x, self.k, 2, "VALID")

    inp = keras.Input((None, 3))
    flat = Flatten()(inp)
    assert flat.shape.as_list() == [None, None]
    image = keras.Input((9, 9, 2))
    conv = Conv()(image)
    assert conv.shape.as_list() == [None, 4, 4, 4]
    assert capsys.readouterr().out == "seen (None, None, 3)\nconv (None, 9, 9, 2)\n"
    model = keras.Model(image, conv)
    data = np.random.default_rng(0).normal(size=(3, 9, 9, 2)).astype("float32")
    np.testing.assert_allclose(model(data).numpy(), tf.nn.conv2d(
        data, model.layers[1].k, 2, "VALID").numpy(), rtol=1e-6)


def test_masks_and_lambdas_keep_their_symbolic_dims():
    seen = []

    class Doubler(keras.layers.Layer):
        supports_masking = True

        def call(self, x, mask=None):
            seen.append((tuple(x.shape), tuple(mask.shape)))
            return x * 2

    inp = keras.Input((None,), dtype="int32")
    emb = keras.layers.Embedding(10, 4, mask_zero=True)(inp)
    out = Doubler()(emb)
    assert seen == [((None, None, 4), (None, None))]
    assert out.shape.as_list() == [None, None, 4]
    assert out._keras_mask.shape.as_list() == [None, None]
    calls = []
    lam = keras.layers.Lambda(lambda t: (calls.append(tuple(t.shape)), t + 1)[1])(inp)
    assert calls == [(None, None)] and lam.shape.as_list() == [None, None]
    model = keras.Model(inp, keras.layers.GlobalAveragePooling1D()(out))
    got = model(np.array([[1, 2, 0]])).numpy()
    table = model.layers[1].embeddings.numpy()
    np.testing.assert_allclose(got, 2 * table[[1, 2]].mean(axis=0, keepdims=True),
                               rtol=1e-6)


def test_branching_user_layer_is_converted_in_the_symbolic_run():
    class Dynamic(keras.layers.Layer):
        def call(self, inputs):
            if tf.reduce_max(inputs) < 10:
                return inputs * 2
            return inputs

    inp = keras.Input((3,))
    model = keras.Model(inp, Dynamic()(inp))
    np.testing.assert_array_equal(model(np.ones((2, 3), "float32")).numpy(), 2.0)
    np.testing.assert_array_equal(model(np.full((2, 3), 20, "float32")).numpy(), 20.0)


@pytest.fixture
def on_host():
    """TF raises for an out-of-range label on the CPU only (a GPU gives NaN)."""
    with tf.device("/CPU:0"):
        yield


@pytest.mark.usefixtures("on_host")
def test_out_of_range_sparse_labels_raise_for_probability_outputs():
    with pytest.raises(InvalidArgumentError, match="label value of 5"):
        keras.losses.sparse_categorical_crossentropy([5, 1], [[0.1, 0.9], [0.3, 0.7]])
    got = keras.losses.sparse_categorical_crossentropy([1, 0], [[0.1, 0.9], [0.3, 0.7]])
    np.testing.assert_allclose(got.numpy(), -np.log([0.9, 0.3]), rtol=1e-6)
    # a subclassed model declares no outputs: the step's op reports the bad label
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(3, activation="softmax")

        def call(self, x):
            return self.dense(x)

    net = Net()
    net.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(InvalidArgumentError, match="label value of 7"):
        net.fit(np.ones((4, 2), "float32"), np.array([0, 1, 7, 2]), verbose=0)


def test_sizes_read_by_builtin_code_never_become_known_dims():
    class Attend(keras.layers.Layer):
        def build(self, input_shape):
            self.query = keras.layers.Dense(8)   # on 3-D input: reshapes internally

        def call(self, x):
            q = self.query(x)
            weights = tf.nn.softmax(tf.matmul(q, q, transpose_b=True), axis=-1)
            return tf.matmul(weights, q)

    class Zeros(keras.layers.Layer):
        def call(self, x):
            return tf.zeros(tf.stack([tf.shape(x)[0], 4]))

    class Steps(keras.layers.Layer):
        def call(self, x):   # an RNN-like walk over the (unknown) time axis
            return tf.stack(tf.unstack(x, axis=1), axis=1) * 2.0

    seq = keras.Input((None, 4))
    assert Attend()(seq).shape.as_list() == [None, None, 8]
    assert Zeros()(seq).shape.as_list() == [None, 4]
    assert Steps()(seq).shape.as_list() == [None, None, 4]
    assert keras.layers.LSTM(3, return_sequences=True)(seq).shape.as_list() == \
        [None, None, 3]


def test_code_made_for_one_batch_size_still_builds():
    class Halves(keras.layers.Layer):
        def call(self, x):
            first, second = tf.split(x, 2, axis=0)   # TF builds this symbolically
            return tf.concat([second, first], axis=0)

    inp = keras.Input((3,))
    model = keras.Model(inp, Halves()(inp))
    assert model.output_shape[-1] == 3
    data = np.arange(12, dtype="float32").reshape(4, 3)
    np.testing.assert_array_equal(model(data).numpy(), np.concatenate([data[2:],
                                                                        data[:2]]))
