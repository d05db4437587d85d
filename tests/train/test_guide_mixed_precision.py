"""TF's "Mixed precision" guide: one policy class for ``keras.mixed_precision.Policy``
and ``layer.dtype_policy``, float32 variables read in the compute dtype inside a
layer's call (Keras's AutoCastVariable) for every layer, and mixed_bfloat16 on CPU."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras

mp = keras.mixed_precision
L = keras.layers


@pytest.fixture
def policy():
    """Sets a global policy for one test; float32 again afterwards."""
    yield mp.set_global_policy
    mp.set_global_policy("float32")


def test_one_policy_class():
    layer = L.Dense(2, dtype="mixed_float16")
    assert isinstance(layer.dtype_policy, mp.Policy)
    assert layer.dtype_policy == mp.Policy("mixed_float16")
    assert hash(layer.dtype_policy) == hash(mp.Policy("mixed_float16"))
    assert repr(mp.Policy("mixed_bfloat16")) == '<DTypePolicy "mixed_bfloat16">'
    assert mp.Policy("bool").compute_dtype == "bool"
    assert L.Dense(2, dtype=tf.float64).dtype_policy.name == "float64"
    assert L.Dense(2, dtype=mp.Policy("mixed_bfloat16")).compute_dtype == "bfloat16"
    with pytest.raises(TypeError, match="must be a string"):
        mp.Policy(tf.float32)
    with pytest.raises(ValueError, match="mixed_float32"):
        mp.Policy("mixed_float32")


# (name, layer factory, input shape) of layers whose call meets a float32 variable
CASES = [
    ("Conv1D", lambda: L.Conv1D(2, 3), (2, 6, 2)),
    ("Conv2D", lambda: L.Conv2D(2, 3), (2, 5, 5, 1)),
    ("Conv3D", lambda: L.Conv3D(2, 2), (1, 3, 3, 3, 1)),
    ("Conv2DTranspose", lambda: L.Conv2DTranspose(2, 3), (2, 5, 5, 1)),
    ("DepthwiseConv2D", lambda: L.DepthwiseConv2D(3), (2, 5, 5, 2)),
    ("SeparableConv2D", lambda: L.SeparableConv2D(2, 3), (2, 5, 5, 2)),
    ("PReLU", lambda: L.PReLU(alpha_initializer="constant"), (2, 3)),
]


@pytest.mark.parametrize("name,make,shape", CASES, ids=[c[0] for c in CASES])
def test_variables_autocast_in_mixed_float16(policy, name, make, shape):
    policy("mixed_float16")
    layer = make()
    x = tf.constant(np.random.RandomState(1).randn(*shape).astype("float32"))
    with tf.GradientTape() as tape:
        y = layer(x)
        loss = tf.reduce_sum(tf.cast(y, tf.float32))
    assert y.dtype == tf.float16
    assert all(w.dtype == tf.float32 for w in layer.weights)
    grads = tape.gradient(loss, layer.trainable_weights)
    assert all(g is not None and g.dtype == tf.float32 for g in grads)
    # the same weights in a float32 layer give the float32 result (float16 rounding)
    policy("float32")
    twin = make()
    twin.build(x.shape)
    twin.set_weights(layer.get_weights())
    np.testing.assert_allclose(y.numpy().astype("float32"), twin(x).numpy(),
                               rtol=2e-2, atol=2e-2)


def test_float32_layers_keep_float32(policy):
    policy("mixed_float16")
    out = L.Activation("softmax", dtype="float32")
    y = out(L.Dense(3)(tf.ones((2, 4))))
    assert y.dtype == tf.float32
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.constant([1.0], tf.float16) + tf.Variable([1.0])   # no autocast outside layers


def test_mixed_bfloat16_on_cpu(policy):
    a = np.random.RandomState(0).randn(3, 4).astype("float32")
    b = np.random.RandomState(1).randn(4, 2).astype("float32")
    prod = tf.matmul(tf.cast(a, tf.bfloat16), tf.cast(b, tf.bfloat16))
    assert prod.dtype == tf.bfloat16
    np.testing.assert_allclose(tf.cast(prod, tf.float32).numpy(), a @ b, rtol=3e-2,
                               atol=3e-2)
    img = tf.cast(np.ones((1, 4, 4, 1), "float32"), tf.bfloat16)
    conv = tf.nn.conv2d(img, tf.cast(np.ones((2, 2, 1, 1), "float32"), tf.bfloat16), 1,
                        "VALID")
    assert conv.dtype == tf.bfloat16
    np.testing.assert_array_equal(tf.cast(conv, tf.float32).numpy(), 4.0)
    policy("mixed_bfloat16")
    dense = L.Dense(4)
    y = dense(tf.ones((2, 3)))
    assert (y.dtype, dense.kernel.dtype) == (tf.bfloat16, tf.float32)


def test_mixed_bfloat16_model_learns(policy):
    policy("mixed_bfloat16")
    rng = np.random.RandomState(0)
    x = rng.rand(128, 6, 6, 1).astype("float32")
    y = (x.mean((1, 2, 3)) > 0.5).astype("int64")
    model = keras.Sequential([
        keras.Input((6, 6, 1)), L.Conv2D(4, 3, activation="relu"), L.Flatten(),
        L.Dense(16, activation="relu"), L.Dense(2),
        L.Activation("softmax", dtype="float32")])
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=4, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(x[:2], verbose=0).dtype == np.float32


def test_mixed_float16_cnn_with_loss_scale_optimizer(policy):
    policy("mixed_float16")
    rng = np.random.RandomState(0)
    x = rng.rand(64, 6, 6, 1).astype("float32")
    y = (x.mean((1, 2, 3)) > 0.5).astype("int64")
    model = keras.Sequential([
        keras.Input((6, 6, 1)), L.Conv2D(4, 3, activation="relu"),
        L.GlobalAveragePooling2D(), L.Dense(2), L.Activation("softmax", dtype="float32")])
    optimizer = mp.LossScaleOptimizer(keras.optimizers.SGD(0.5))
    loss_fn = keras.losses.SparseCategoricalCrossentropy()

    @tf.function
    def train_step(xb, yb):
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb))
            scaled = optimizer.get_scaled_loss(loss)
        grads = optimizer.get_unscaled_gradients(
            tape.gradient(scaled, model.trainable_variables))
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss
    first = float(train_step(x, y))
    for _ in range(30):
        last = float(train_step(x, y))
    assert last < first
    assert model.layers[0].kernel.dtype == tf.float32
