"""Round 17 Keras API parity: LoRA (Dense/EinsumDense/Embedding), batch renorm,
mixed-precision Embedding, lookup/pooling/Normalization attributes, KerasTensor
methods and load_weights errors. Expected numbers marked "TF 2.21" were printed by
TensorFlow 2.21 (Keras 3) running the same code."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras


@pytest.fixture
def mixed_float16():
    keras.mixed_precision.set_global_policy("mixed_float16")
    yield
    keras.mixed_precision.set_global_policy("float32")


def _names(variables):
    return [v.name.split("/")[-1].split(":")[0] for v in variables]


# ---------------------------------------------------------------- LoRA
def test_dense_lora_rank_builds_frozen_kernel_and_factors():
    layer = keras.layers.Dense(8, lora_rank=4)
    x = np.random.RandomState(0).rand(3, 5).astype("float32")
    y0 = layer(x).numpy()
    assert _names(layer.weights) == ["kernel", "bias", "lora_kernel_a", "lora_kernel_b"]
    assert _names(layer.trainable_weights) == ["bias", "lora_kernel_a",
                                               "lora_kernel_b"]
    assert _names(layer.non_trainable_weights) == ["kernel"]
    assert layer.lora_enabled and layer.lora_rank == 4 and layer.lora_alpha == 4
    assert layer.lora_kernel_a.shape == (5, 4) and layer.lora_kernel_b.shape == (4, 8)
    np.testing.assert_array_equal(layer.lora_kernel_b.numpy(), 0.0)  # zero-init b
    raw = layer._kernel.numpy()
    np.testing.assert_allclose(y0, x @ raw + layer.bias.numpy(), rtol=1e-5, atol=1e-6)
    b = np.random.RandomState(1).rand(4, 8).astype("float32")
    layer.lora_kernel_b.assign(b)
    effective = raw + layer.lora_kernel_a.numpy() @ b
    np.testing.assert_allclose(layer.kernel.numpy(), effective, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer(x).numpy(), x @ effective + layer.bias.numpy(),
                               rtol=1e-5, atol=1e-5)
    assert layer.get_config()["lora_rank"] == 4
    assert "lora_rank" not in keras.layers.Dense(2).get_config()


def test_enable_lora_scales_by_alpha_over_rank_and_is_checked():
    layer = keras.layers.Dense(3)
    with pytest.raises(ValueError, match="isn't yet built"):
        layer.enable_lora(2)
    layer.build((None, 4))
    with pytest.raises(ValueError, match="rank"):
        layer.enable_lora(-1)
    layer.enable_lora(2, lora_alpha=8)
    with pytest.raises(ValueError, match="already enabled"):
        layer.enable_lora(2)
    b = np.random.RandomState(2).rand(2, 3).astype("float32")
    layer.lora_kernel_b.assign(b)
    x = np.random.RandomState(3).rand(2, 4).astype("float32")
    ref = x @ (layer._kernel.numpy() + layer.lora_kernel_a.numpy() @ b * 4.0)
    np.testing.assert_allclose(layer(x).numpy(), ref + layer.bias.numpy(), rtol=1e-5,
                               atol=1e-5)
    assert (layer.get_config()["lora_rank"], layer.get_config()["lora_alpha"]) == (2, 8)
    with pytest.raises(ValueError, match="lora_rank"):
        keras.layers.Dense(2, lora_rank=1.5)


def test_embedding_and_einsum_dense_lora():
    emb = keras.layers.Embedding(10, 6)
    emb.build((None,))
    emb.enable_lora(3)
    assert _names(emb.weights) == ["embeddings", "lora_embeddings_a",
                                   "lora_embeddings_b"]
    assert _names(emb.trainable_weights) == ["lora_embeddings_a", "lora_embeddings_b"]
    emb.lora_embeddings_b.assign(np.random.RandomState(4).rand(3, 6).astype("float32"))
    table = emb._embeddings.numpy() + (emb.lora_embeddings_a.numpy()
                                       @ emb.lora_embeddings_b.numpy())
    ids = np.array([[1, 2, 9]])
    np.testing.assert_allclose(emb(ids).numpy(), table[ids], rtol=1e-5, atol=1e-6)

    dense = keras.layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3),
                                     bias_axes="de")
    dense.build((None, 4, 5))
    dense.enable_lora(2)
    assert dense.lora_kernel_a.shape == (5, 2, 2)
    assert dense.lora_kernel_b.shape == (2, 3)
    dense.lora_kernel_b.assign(np.random.RandomState(5).rand(2, 3).astype("float32"))
    kernel = dense._kernel.numpy() + np.tensordot(
        dense.lora_kernel_a.numpy(), dense.lora_kernel_b.numpy(), axes=1)
    x = np.random.RandomState(6).rand(2, 4, 5).astype("float32")
    ref = np.einsum("abc,cde->abde", x, kernel) + dense.bias.numpy()
    np.testing.assert_allclose(dense(x).numpy(), ref, rtol=1e-5, atol=1e-5)


def test_lora_training_changes_only_the_adapter_and_saves(tmp_path):
    keras.utils.set_random_seed(0)
    inp = keras.Input((5,))
    hidden = keras.layers.Dense(4, name="plain")(inp)
    out = keras.layers.Dense(1, lora_rank=2, name="adapted")(hidden)
    model = keras.Model(inp, out)
    model.compile("adam", "mse")
    adapted = model.get_layer("adapted")
    assert len(model.trainable_weights) == 5 and len(model.weights) == 6
    before = [w.numpy().copy() for w in adapted.weights]
    x = np.random.RandomState(7).rand(16, 5).astype("float32")
    y = np.ones((16, 1), "float32")
    model.fit(x, y, epochs=3, verbose=0)
    changed = [not np.allclose(b, w.numpy()) for b, w in zip(before, adapted.weights)]
    assert changed == [False, True, True, True]   # kernel frozen, adapter learns
    path = str(tmp_path / "lora.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.get_layer("adapted").lora_enabled
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)
    assert len(loaded.trainable_weights) == 5


# ---------------------------------------------------------------- BatchNormalization
def test_batch_renorm_matches_numpy_reference_and_tf():
    x = (np.random.RandomState(0).rand(6, 3) * 4 + 1).astype("float32")
    bn = keras.layers.BatchNormalization(
        renorm=True, renorm_clipping={"rmax": 1.5, "rmin": 0.5, "dmax": 0.3},
        renorm_momentum=0.9, momentum=0.8)
    bn.build((None, 3))
    assert _names(bn.weights) == ["gamma", "beta", "moving_mean", "moving_variance",
                                  "moving_stddev", "renorm_mean", "renorm_stddev"]
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.1, -0.2, 0.3])
    bn.gamma.assign(gamma)
    bn.beta.assign(beta)
    # NumPy reference of one training step from the initial state
    mean, std = x.mean(0), np.sqrt(x.var(0) + 1e-3)
    r = np.clip(std / 1.0, 0.5, 1.5)
    d = np.clip((mean - 0.0) / 1.0, -0.3, 0.3)
    ref = ((x - mean) / std * r + d) * gamma + beta
    out = bn(x, training=True).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
    # TF 2.21 printed this output and these statistics for the same step
    np.testing.assert_allclose(out[0], [0.882, 1.0973, 0.4406], atol=2e-4)
    np.testing.assert_allclose(bn.moving_stddev.numpy(), [0.9333, 1.0538, 1.0247],
                               atol=2e-4)
    np.testing.assert_allclose(bn.renorm_mean.numpy(), [0.2713, 0.3512, 0.343],
                               atol=2e-4)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.2 * mean, atol=1e-5)
    np.testing.assert_allclose(bn.moving_stddev.numpy(), 0.8 + 0.2 * std, atol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(),
                               bn.moving_stddev.numpy() ** 2 - 1e-3, atol=1e-5)
    np.testing.assert_allclose(bn.renorm_mean.numpy(), 0.1 * mean, atol=1e-5)
    np.testing.assert_allclose(bn.renorm_stddev.numpy(), 0.9 + 0.1 * std, atol=1e-5)
    # inference: the moving statistics, no r/d correction
    inference = (x - bn.moving_mean.numpy()) / np.sqrt(
        bn.moving_variance.numpy() + 1e-3) * gamma + beta
    np.testing.assert_allclose(bn(x, training=False).numpy(), inference, rtol=1e-4,
                               atol=1e-4)
    config = bn.get_config()
    assert config["renorm"] is True and config["renorm_momentum"] == 0.9
    assert keras.layers.BatchNormalization.from_config(config).renorm


def test_batch_renorm_gradient_treats_r_and_d_as_constants():
    x = np.random.RandomState(1).rand(5, 2).astype("float64") * 3
    bn = keras.layers.BatchNormalization(renorm=True, dtype="float64")
    bn.build((None, 2))
    w = np.random.RandomState(2).rand(5, 2)
    r_d = {}

    def loss_np(xv):
        mean, std = xv.mean(0), np.sqrt(xv.var(0) + 1e-3)
        r, d = r_d.setdefault("r", std), r_d.setdefault("d", mean)
        return np.sum(((xv - mean) / std * r + d) * w)

    loss_np(x)   # fixes r, d at the step's values (stop_gradient)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(bn(xt, training=True) * w)
    grad = tape.gradient(loss, xt).numpy()
    eps, numeric = 1e-6, np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        hi, lo = x.copy(), x.copy()
        hi[i] += eps
        lo[i] -= eps
        numeric[i] = (loss_np(hi) - loss_np(lo)) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


def test_batch_renorm_clipping_is_validated():
    with pytest.raises(ValueError, match="renorm_clipping"):
        keras.layers.BatchNormalization(renorm=True, renorm_clipping={"rmx": 2.0})


# ---------------------------------------------------------------- mixed precision
def test_embedding_under_mixed_float16(mixed_float16):
    emb = keras.layers.Embedding(10, 4)
    out = emb(np.array([[1, 2]]))
    assert out.dtype == tf.float16 and emb.embeddings.dtype == tf.float32
    assert emb.autocast is False   # TF 2.21: Embedding does not autocast
    norm = keras.layers.LayerNormalization()
    x = np.arange(8, dtype="float32").reshape(2, 4) * 100 + 250
    y = norm(x)
    assert y.dtype == tf.float16 and norm.gamma.dtype == tf.float32
    # computed in float32: x**2 would overflow float16 (TF 2.21 gives the same)
    ref = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(y.numpy().astype("float32"), ref, atol=2e-3)


# ---------------------------------------------------------------- attributes
def test_lookup_pooling_and_normalization_attributes():
    s = keras.layers.StringLookup(vocabulary=["a", "b"])
    assert s.input_vocabulary == ["a", "b"] and s.vocabulary_dtype == "string"
    i = keras.layers.IntegerLookup(vocabulary=[3, 4])
    assert i.input_vocabulary == [3, 4] and i.vocabulary_dtype == "int64"
    assert keras.layers.IntegerLookup().input_vocabulary is None
    assert keras.layers.Normalization().supports_masking
    assert keras.layers.MaxPooling2D().pool_mode == "max"
    assert keras.layers.AveragePooling1D(2).pool_mode == "average"


def test_keras_tensor_methods_and_names():
    inp = keras.Input((3, 4))
    assert inp.record_history
    assert tuple(inp.reshape((-1, 12)).shape) == (None, 12)
    assert tuple(keras.Input((1, 3)).squeeze(1).shape) == (None, 3)
    assert tuple(inp.squeeze().shape) == (None, 3, 4)
    flags = keras.Input((2,), dtype="bool")
    other = keras.Input((2,), dtype="bool")
    out = keras.layers.Dense(2)(inp)
    assert out.name.startswith("keras_tensor")
    model = keras.Model([flags, other], [~flags, flags & other, flags | other,
                                         flags ^ other])
    a = np.array([[True, False]])
    b = np.array([[True, True]])
    results = [r.tolist() for r in model.predict([a, b], verbose=0)]
    assert results == [[[False, True]], [[True, False]], [[True, True]],
                       [[False, True]]]
    ints = keras.Input((2,), dtype="int32")
    bit = keras.Model(ints, ints & 6)
    assert bit.predict(np.array([[3, 12]]), verbose=0).tolist() == [[2, 4]]


# ---------------------------------------------------------------- load_weights
def test_load_weights_errors_and_keras_archive(tmp_path):
    inp = keras.Input((5,))
    model = keras.Model(inp, keras.layers.Dense(1)(inp))
    with pytest.raises(FileNotFoundError):
        model.load_weights(str(tmp_path / "missing.weights.h5"))
    other = tmp_path / "notes.txt"
    other.write_text("not weights")
    with pytest.raises(ValueError, match="File format not supported"):
        model.load_weights(str(other))
    path = str(tmp_path / "m.keras")
    model.save(path)
    clone = keras.Model.from_config(model.get_config())
    clone.load_weights(path)   # TF 2.21 reads a .keras archive's weights
    for a, b in zip(clone.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- signatures
def test_recurrent_layers_take_keras_positional_order():
    lstm = keras.layers.LSTM(4, "relu", "hard_sigmoid", False)
    assert lstm.activation.__name__ == "relu" and not lstm.use_bias
    assert lstm.recurrent_activation.__name__ == "hard_sigmoid"
    assert lstm.return_sequences is False
    assert keras.layers.GRU(3, "relu", "sigmoid", False).use_bias is False
    assert keras.layers.SimpleRNN(3, "relu", False).use_bias is False
    x = np.random.RandomState(0).rand(2, 5, 3).astype("float32")
    assert tuple(keras.layers.LSTM(4, "relu")(x).shape) == (2, 4)
    with pytest.raises(TypeError, match="multiple values"):
        keras.layers.LSTM(4, "relu", activation="tanh")
    with pytest.raises(TypeError, match="positional"):
        keras.layers.SimpleRNN(4, *([None] * 20))
