"""dlframe.function on a GPU: CUDA-graph replay and elementwise fusion vs eager/CPU."""

import numpy as np
import pytest

import dlframe as tf

pytestmark = pytest.mark.gpu


def _train_step_pieces():
    rng = np.random.default_rng(0)
    w = tf.Variable(rng.standard_normal((8, 4)).astype("float32"))
    x = tf.constant(rng.standard_normal((16, 8)).astype("float32"))
    y = tf.constant(rng.standard_normal((16, 4)).astype("float32"))

    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.tanh(x @ w) - y) ** 2
        g = tape.gradient(loss, w)
        w.assign_sub(0.1 * g)
        return loss
    return w, x, y, step


def test_cuda_graph_replay_matches_eager():
    with tf.device("/GPU:0"):
        w_e, x, y, eager_step = _train_step_pieces()
        w_c, _, _, step = _train_step_pieces()
        compiled = tf.function(step)
        for _ in range(6):  # warm-up runs, capture, then replays
            le = eager_step(x, y)
            lc = compiled(x, y)
            np.testing.assert_array_equal(lc.numpy(), le.numpy())
        graph = compiled.get_concrete_function(x, y).graph
        assert graph._captured is not None, "the step was not captured as a CUDA graph"
        np.testing.assert_array_equal(w_c.numpy(), w_e.numpy())


def test_fused_chain_matches_cpu():
    def chain(a, b):
        return tf.tanh(tf.exp(a) * b + 1.0)
    a = np.linspace(-1, 1, 1000).astype("float32")
    b = np.linspace(2, 3, 1000).astype("float32")
    cpu = chain(tf.constant(a), tf.constant(b)).numpy()
    with tf.device("/GPU:0"):
        f = tf.function(chain)
        ga, gb = tf.constant(a), tf.constant(b)
        f(ga, gb)
        out = f(ga, gb).numpy()
        assert "after_fusion" in f.get_concrete_function(ga, gb).graph.stats
    np.testing.assert_allclose(out, cpu, rtol=1e-6)
