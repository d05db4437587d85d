"""The issue-3 seed examples in examples/ run as written with dlframe as tf."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from tests.helpers import load_example as load


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()
    yield


def test_flip_layer_after_dense():
    ex = load("custom_layer_flip")
    model = ex.build_model()
    x = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")
    dense = model.layers[1]
    expect = 10 - (x @ dense.kernel.numpy() + dense.bias.numpy())
    np.testing.assert_allclose(model(x).numpy(), expect, rtol=1e-5)
    flip = ex.Flip.from_config(model.layers[2].get_config())
    assert flip.pivot == 10
    with keras.utils.custom_object_scope({"Flip": ex.Flip}):
        clone = keras.Model.from_config(model.get_config())
    assert type(clone.layers[2]).__name__ == "Flip"


def test_resnet_identity_block_variables_match_tf():
    ex = load("resnet_identity_block")
    block = ex.ResnetIdentityBlock(1, [1, 2, 3])
    out = block(tf.zeros([1, 2, 3, 3]))
    assert out.shape == (1, 2, 3, 3)
    assert len(block.layers) == 6 and len(block.variables) == 18
    # What TensorFlow 2 (tf.keras, Keras 2) prints for the same code.
    assert [x.name for x in block.trainable_variables] == [
        "resnet_identity_block/conv2d/kernel:0", "resnet_identity_block/conv2d/bias:0",
        "resnet_identity_block/batch_normalization/gamma:0",
        "resnet_identity_block/batch_normalization/beta:0",
        "resnet_identity_block/conv2d_1/kernel:0", "resnet_identity_block/conv2d_1/bias:0",
        "resnet_identity_block/batch_normalization_1/gamma:0",
        "resnet_identity_block/batch_normalization_1/beta:0",
        "resnet_identity_block/conv2d_2/kernel:0", "resnet_identity_block/conv2d_2/bias:0",
        "resnet_identity_block/batch_normalization_2/gamma:0",
        "resnet_identity_block/batch_normalization_2/beta:0"]
    lines = []
    block.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Total params: 41" in text and "Trainable params: 29" in text
    assert "Non-trainable params: 12" in text
    x = tf.constant(np.random.default_rng(0).standard_normal((2, 2, 3, 3)), tf.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(block(x, training=True))
    grads = tape.gradient(loss, block.trainable_variables)
    assert all(g is not None for g in grads)


def test_two_input_two_output_shared_embedding():
    ex = load("functional_shared_embedding")
    model = ex.build_model(vocab=100, dim=8)
    emb = model.get_layer("embedding")
    assert len(emb._inbound_nodes) == 2
    a = np.array([[1, 2, 3, 0]])
    b = np.array([[4, 5, 0, 0]])
    sim, topic = model([a, b])
    table = emb.embeddings.numpy()
    merged = np.concatenate([table[a[0]].mean(0), table[b[0]].mean(0)])
    sl = model.get_layer("similarity")
    expect = 1 / (1 + np.exp(-(merged @ sl.kernel.numpy() + sl.bias.numpy())))
    np.testing.assert_allclose(sim.numpy()[0], expect, rtol=1e-5)
    np.testing.assert_allclose(topic.numpy().sum(), 1.0, rtol=1e-5)
    assert model.count_params() == 100 * 8 + 17 + 68


def test_mnist_mlp_three_ways():
    ex = load("mnist_mlp")
    x = np.random.default_rng(0).random((5, 28, 28)).astype("float32")
    outputs = []
    for make in (ex.sequential, ex.functional, ex.subclassed):
        model = make()
        lines = []
        model.summary(print_fn=lines.append)
        text = "\n".join(lines)
        assert "Total params: 101,770" in text, text
        assert "Trainable params: 101,770" in text
        assert model.count_params() == 101770
        outputs.append(model)
    seq, fun, sub = outputs
    fun.set_weights(seq.get_weights())
    sub.set_weights(seq.get_weights())
    ref = seq(x)
    np.testing.assert_allclose(fun(x).numpy(), ref.numpy(), rtol=1e-5)
    np.testing.assert_allclose(sub(x).numpy(), ref.numpy(), rtol=1e-5)
    assert ref.shape == (5, 10)
    # dropout is active only in training
    assert not np.allclose(seq(x, training=True).numpy(), ref.numpy())
