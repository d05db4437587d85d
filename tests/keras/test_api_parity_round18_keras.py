"""Round 18 Keras API parity: positional arguments of the RNN cells and transposed
convolutions, channels_first augmentation, optional model inputs, EinsumDense's
GPTQ argument, LoRA weights under mixed precision and frozen lookup vocabularies.
Expected values marked "TF 2.21" were printed by TensorFlow 2.21 (Keras 3)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras


@pytest.fixture
def mixed_float16():
    keras.mixed_precision.set_global_policy("mixed_float16")
    yield
    keras.mixed_precision.set_global_policy("float32")


# ------------------------------------------------ positional constructor arguments
def test_lstm_and_gru_cells_take_all_arguments_positionally():
    reg = keras.regularizers.L2(0.1)
    lstm = keras.layers.LSTMCell(4, "tanh", "sigmoid", True, "glorot_uniform",
                                 "orthogonal", "zeros", False, reg, None, None, None,
                                 None, None, 0.1, 0.2, 7)
    assert (lstm.unit_forget_bias, lstm.dropout, lstm.recurrent_dropout,
            lstm.seed) == (False, 0.1, 0.2, 7)
    assert lstm.kernel_regularizer is reg
    gru = keras.layers.GRUCell(4, "relu", "hard_sigmoid", True, "glorot_uniform",
                               "orthogonal", "zeros", None, reg, None, None, None, None,
                               0.1, 0.2, False, 3)
    assert (gru.dropout, gru.recurrent_dropout, gru.reset_after, gru.seed) == (
        0.1, 0.2, False, 3)
    assert gru.recurrent_regularizer is reg
    assert gru.get_config()["activation"] == "relu"
    # the cells still run and train inside an RNN
    x = np.random.RandomState(0).rand(2, 3, 5).astype("float32")
    for cell in (lstm, gru):
        out = keras.layers.RNN(cell)(x)
        assert tuple(out.shape) == (2, 4)
        assert len(cell.losses) == 1   # the regularizer given positionally


@pytest.mark.parametrize("cls,rank", [(keras.layers.Conv1DTranspose, 1),
                                      (keras.layers.Conv2DTranspose, 2),
                                      (keras.layers.Conv3DTranspose, 3)])
def test_conv_transpose_activation_positional(cls, rank):
    layer = cls(3, 2, 1, "valid", None, None, 1, "relu", False)
    assert layer.get_config()["activation"] == "relu"
    assert layer.use_bias is False
    x = np.random.RandomState(1).randn(2, *([4] * rank), 2).astype("float32")
    y = layer(x).numpy()
    assert y.shape == (2,) + (5,) * rank + (3,)
    assert y.min() >= 0.0   # relu applied
    plain = cls(3, 2, use_bias=False)
    plain.build(x.shape)
    plain.kernel.assign(layer.kernel)
    np.testing.assert_allclose(y, np.maximum(plain(x).numpy(), 0.0), rtol=1e-6)


def test_conv3d_transpose_accepts_keras3_order_of_data_format():
    # Keras 3 puts data_format before output_padding in Conv3DTranspose
    layer = keras.layers.Conv3DTranspose(2, 2, 2, "valid", "channels_last", 1)
    assert layer.data_format == "channels_last"
    assert layer.output_padding == (1, 1, 1)


def test_einsum_dense_accepts_gptq_unpacked_column_size():
    layer = keras.layers.EinsumDense("ab,bc->ac", 4, gptq_unpacked_column_size=None)
    assert layer.gptq_unpacked_column_size is None
    assert "gptq_unpacked_column_size" not in layer.get_config()   # TF 2.21


# ----------------------------------------------------- channels_first augmentation
def _nchw(x):
    return np.transpose(x, (0, 3, 1, 2))


@pytest.mark.parametrize("make", [
    lambda fmt: keras.layers.RandomFlip("horizontal", seed=3, data_format=fmt),
    lambda fmt: keras.layers.RandomRotation(0.2, seed=3, data_format=fmt),
    lambda fmt: keras.layers.RandomZoom(0.3, seed=3, data_format=fmt),
    lambda fmt: keras.layers.RandomTranslation(0.2, 0.3, seed=3, data_format=fmt),
    lambda fmt: keras.layers.RandomCrop(4, 6, seed=3, data_format=fmt),
])
def test_augmentation_channels_first_matches_channels_last(make):
    x = np.random.RandomState(2).rand(2, 8, 10, 3).astype("float32")
    last, first = make("channels_last"), make("channels_first")
    assert first.get_config()["data_format"] == "channels_first"
    y_last = last(x, training=True).numpy()
    y_first = first(_nchw(x), training=True).numpy()
    np.testing.assert_allclose(y_first, _nchw(y_last), rtol=1e-5, atol=1e-5)
    assert tuple(first.compute_output_shape((2, 3, 8, 10))) == y_first.shape
    # one unbatched image, in inference
    single = first(_nchw(x)[0], training=False).numpy()
    ref = last(x[0], training=False).numpy()
    np.testing.assert_allclose(single, np.transpose(ref, (2, 0, 1)), rtol=1e-5,
                               atol=1e-5)


def test_augmentation_channels_first_in_a_model_and_errors():
    model = keras.Sequential([keras.Input((3, 8, 10)),
                              keras.layers.RandomFlip(data_format="channels_first"),
                              keras.layers.RandomCrop(4, 6, data_format="channels_first")])
    assert model.output_shape == (None, 3, 4, 6)
    with pytest.raises(ValueError, match="data_format"):
        keras.layers.RandomFlip(data_format="channels_middle")
    # layers that do not move channels keep refusing it
    with pytest.raises(ValueError, match="channels_first"):
        keras.layers.RandomErasing(data_format="channels_first")


# ------------------------------------------------------------ optional inputs
class _AddIfGiven(keras.layers.Layer):
    def call(self, a, b=None):
        return a if b is None else a + b


def _optional_model():
    a = keras.Input((3,), name="a")
    b = keras.Input((3,), name="b", optional=True)
    out = keras.layers.Dense(1, kernel_initializer="ones")(_AddIfGiven()(a, b))
    return keras.Model([a, b], out)


def test_optional_input_accepts_none_everywhere():
    model = _optional_model()
    assert [s.optional for s in model.input_spec] == [False, True]
    x = np.arange(12, dtype="float32").reshape(4, 3)
    np.testing.assert_allclose(model([x, None]).numpy(), x.sum(1, keepdims=True))
    np.testing.assert_allclose(model({"a": x, "b": None}).numpy(),
                               x.sum(1, keepdims=True))
    np.testing.assert_allclose(model([x, x]).numpy(), 2 * x.sum(1, keepdims=True))
    np.testing.assert_allclose(model.predict([x, None], verbose=0),
                               x.sum(1, keepdims=True))
    model.compile("sgd", "mse")
    y = 0.5 * x.sum(1, keepdims=True)
    hist = model.fit([x / 10, None], y / 10, epochs=4, batch_size=2, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert np.isfinite(model.evaluate([x, None], y, verbose=0))


def test_optional_input_first_and_shuffled_and_config(tmp_path):
    b = keras.Input((2,), name="b", optional=True)
    a = keras.Input((2,), name="a")
    out = keras.layers.Lambda(lambda t: t[1] if t[0] is None else t[0] + t[1])([b, a])
    model = keras.Model([b, a], out)
    model.compile("sgd", "mse")
    x = np.random.RandomState(0).rand(8, 2).astype("float32")
    model.fit([None, x], x, epochs=1, batch_size=3, shuffle=True, verbose=0)
    layer = keras.layers.InputLayer(shape=(3,), optional=True)
    assert layer.optional and layer.get_config()["optional"] is True
    assert keras.layers.InputLayer(shape=(3,)).get_config()["optional"] is False
    model = _optional_model()
    path = str(tmp_path / "opt.keras")
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects={"_AddIfGiven": _AddIfGiven})
    xs = np.ones((2, 3), "float32")
    np.testing.assert_allclose(loaded([xs, None]).numpy(), model([xs, None]).numpy())


def test_none_for_a_required_input_is_a_value_error():
    a = keras.Input((3,), name="a")
    c = keras.Input((3,), name="c")
    model = keras.Model([a, c], keras.layers.Add()([a, c]))
    with pytest.raises(ValueError, match="The input 'c' is not optional"):   # TF 2.21
        model([np.ones((1, 3)), None])


# ---------------------------------------------------- LoRA under mixed precision
@pytest.mark.parametrize("make,target,x", [
    (lambda: keras.layers.Dense(4, lora_rank=2), "kernel",
     np.random.RandomState(0).rand(3, 5).astype("float32")),
    (lambda: keras.layers.EinsumDense("ab,bc->ac", 4, lora_rank=2), "kernel",
     np.random.RandomState(0).rand(3, 5).astype("float32")),
    (lambda: keras.layers.Embedding(6, 4, lora_rank=2), "embeddings",
     np.array([[1, 2]])),
])
def test_lora_weight_reads_in_compute_dtype(mixed_float16, make, target, x):
    layer = make()
    layer(x)
    b = getattr(layer, f"lora_{target}_b")
    b.assign(np.full(b.shape, 0.5, "float32"))
    effective = getattr(layer, target)
    assert effective.dtype == tf.float16   # TF 2.21, also outside call
    assert getattr(layer, "_" + target).dtype == tf.float32
    ref = getattr(layer, "_" + target).numpy() + (
        getattr(layer, f"lora_{target}_a").numpy() @ b.numpy())
    np.testing.assert_allclose(effective.numpy(), ref, rtol=2e-3, atol=2e-3)
    assert layer(x).dtype == tf.float16
    # the saved merged weight keeps the variable's float32
    store = {}
    layer.save_own_variables(store)
    assert store["0"].dtype == np.float32


# ------------------------------------------------------- frozen lookup vocabulary
@pytest.mark.parametrize("mode", ["multi_hot", "one_hot", "count"])
def test_lookup_vocabulary_size_frozen_after_call(mode):
    layer = keras.layers.StringLookup(vocabulary=["a", "b"], output_mode=mode)
    first = layer(np.array([["a", "b"]])).numpy()
    msg = "vocabulary size cannot be changed after the layer is called. Old vocab " \
          "size is 3, new vocab size is 4"   # TF 2.21
    with pytest.raises(RuntimeError, match=msg):
        layer.set_vocabulary(["a", "b", "c"])
    assert layer.get_vocabulary() == ["[UNK]", "a", "b"]   # unchanged
    np.testing.assert_array_equal(layer(np.array([["a", "b"]])).numpy(), first)
    layer.set_vocabulary(["c", "d"])   # the same size is fine
    assert layer.get_vocabulary() == ["[UNK]", "c", "d"]


def test_lookup_vocabulary_frozen_by_symbolic_call_adapt_and_tf_idf():
    layer = keras.layers.StringLookup(vocabulary=["a", "b"], output_mode="multi_hot")
    inp = keras.Input((2,), dtype="string")
    keras.Model(inp, layer(inp))
    with pytest.raises(RuntimeError, match="cannot be changed"):
        layer.set_vocabulary(["a", "b", "c"])
    adapted = keras.layers.StringLookup(output_mode="multi_hot")
    adapted.adapt(np.array([["a", "b"]]))
    adapted(np.array([["a"]]))
    with pytest.raises(RuntimeError, match="cannot be changed"):
        adapted.adapt(np.array([["a", "b", "c"]]))
    tfidf = keras.layers.StringLookup(vocabulary=["a", "b"], output_mode="tf_idf",
                                      idf_weights=[1.0, 2.0])
    tfidf(np.array([["a"]]))
    with pytest.raises(RuntimeError, match="output_mode=tf_idf"):
        tfidf.set_vocabulary(["a", "b", "c"], idf_weights=[1.0, 2.0, 3.0])
    ints = keras.layers.IntegerLookup(vocabulary=[1, 2], output_mode="one_hot")
    ints(np.array([[1]]))
    with pytest.raises(RuntimeError, match="output_mode=one_hot"):
        ints.set_vocabulary([1, 2, 3])


def test_lookup_vocabulary_may_change_in_int_or_padded_mode():
    layer = keras.layers.StringLookup(vocabulary=["a", "b"])
    layer(np.array([["a"]]))
    layer.set_vocabulary(["a", "b", "c"])
    np.testing.assert_array_equal(layer(np.array([["c"]])).numpy(), [[3]])
    padded = keras.layers.StringLookup(vocabulary=["a", "b"], output_mode="multi_hot",
                                       max_tokens=6, pad_to_max_tokens=True)
    padded(np.array([["a"]]))
    padded.set_vocabulary(["a", "b", "c"])
    np.testing.assert_array_equal(padded(np.array([["c", "a"]])).numpy(),
                                  [[0, 1, 0, 1, 0, 0]])   # TF 2.21
    with pytest.raises(ValueError, match="must set `max_tokens`"):
        keras.layers.StringLookup(output_mode="count", pad_to_max_tokens=True)
