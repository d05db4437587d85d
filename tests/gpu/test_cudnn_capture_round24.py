"""cuDNN LSTM/GRU training steps replay as one CUDA graph (round 24).

Without a mask the compiled step's cuDNN forward and backward read nothing on the
host, so the step is captured; replays must give the losses and weights of the same
steps run plainly. A masked step inside a function takes the portable fused
kernel, with no failed-capture warning. (CPU side: the capture decision in
tests/core/test_capture_safe_round24.py.)
"""

import warnings

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from tests.helpers import cuda_graphs, keras_train_step

pytestmark = pytest.mark.gpu
cp = pytest.importorskip("cupy")
if hasattr(cp.cuda, "fake_capture") or not cp.cuda.is_available():
    pytest.skip("needs a CUDA device (not the fake CuPy)", allow_module_level=True)


def _train(kind, graphs, masked, steps=6):
    rng = np.random.default_rng(0)
    data = rng.standard_normal((16, 12, 8)).astype("float32")
    if masked:
        data[:5, 9:] = 0.0   # five shorter sequences
    with tf.device("/GPU:0"):
        x = tf.constant(data)
        y = tf.constant(rng.integers(0, 5, 16).astype("int64"))
        keras.utils.set_random_seed(1)   # the same initial weights in every run
        rnn = keras.layers.LSTM(32) if kind == "lstm" else keras.layers.GRU(32)
        body = [keras.layers.Masking(0.0)] if masked else []
        model = keras.Sequential([keras.Input((12, 8))] + body +
                                 [rnn, keras.layers.Dense(5)])
        step = tf.function(keras_train_step(
            model, keras.optimizers.Adam(0.01),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True)))
        with cuda_graphs(graphs), warnings.catch_warnings():
            warnings.filterwarnings("error", message="CUDA graph capture failed")
            losses = [float(step(x, y)) for _ in range(steps)]
        graph = step.get_concrete_function(x, y).graph
        return graph, losses, [w.numpy() for w in model.weights], rnn


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_unmasked_cudnn_step_is_captured_and_replays_equal_plain(kind):
    graph, losses, weights, rnn = _train(kind, True, False)
    assert rnn.last_kernel == "cudnn"
    assert graph._replayable and graph._captured is not None, "not captured"
    _, plain_losses, plain_weights, _ = _train(kind, False, False)
    np.testing.assert_allclose(losses, plain_losses, rtol=1e-6)
    for w, p in zip(weights, plain_weights):
        np.testing.assert_allclose(w, p, rtol=1e-5, atol=1e-7)
    assert losses[-1] < losses[0]   # it trains


def test_masked_step_takes_the_portable_kernel_without_a_capture_warning():
    # a mask inside a function is only known at run time: the fused portable kernel
    # runs (its gate blocks need no host copies, so no failed-capture warning)
    graph, losses, weights, rnn = _train("lstm", True, True)
    assert rnn.last_kernel == "fused"
    _, plain_losses, plain_weights, _ = _train("lstm", False, True)
    np.testing.assert_allclose(losses, plain_losses, rtol=1e-6)
    for w, p in zip(weights, plain_weights):
        np.testing.assert_allclose(w, p, rtol=1e-5, atol=1e-7)
