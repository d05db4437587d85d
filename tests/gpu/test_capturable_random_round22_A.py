"""Capturable random draws on a real GPU (issue #5, round 22 A).

Dropout masks and ``tf.random.uniform``/``normal`` draw on a GPU from Philox
counters held in device memory, through dlframe's own CUDA kernel
(``dlframe/backends/philox_cuda.py``), so a CUDA graph captures a train step with
Dropout and each replay draws fresh masks. Checks: the kernel equals the array
Philox (``dlframe/ops/philox.py``) bit for bit; the counter kernel carries; a
compiled MLP + Dropout train step is captured and its replays draw different masks;
seeded steps replayed give the weights of the same steps run without graphs.
The fake-CuPy side: tests/test_fake_gpu_round22_A.py.
"""

import warnings

import numpy as np
import pytest

import dlframe as tf
from dlframe import backends, keras
from tests.helpers import cuda_graphs, keras_train_step

pytestmark = pytest.mark.gpu
cp = pytest.importorskip("cupy")
if hasattr(cp.cuda, "fake_capture") or not cp.cuda.is_available():
    pytest.skip("needs a CUDA device (not the fake CuPy)", allow_module_level=True)

from dlframe.backends import cublas_api, philox_cuda  # noqa: E402
from dlframe.ops import philox  # noqa: E402

KEY = (0x12345678, 0x9ABCDEF0)
CTR = (1 << 64) - 7     # blocks of one draw cross the carry into word 2


def _state(counter=CTR):
    return cp.asarray(philox_cuda.state_words(KEY, counter))


def _counter(state):
    w = [int(v) for v in cp.asnumpy(state)]
    return w[0] | w[1] << 32 | w[2] << 64 | w[3] << 96


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("n", [1, 5, 4099])
def test_kernel_uniforms_equal_the_array_philox_bit_for_bit(dtype, n):
    assert philox_cuda.kernels_usable(cp)
    got, blocks = philox_cuda.draw(cp, _state(), n, dtype)
    host = philox.uniform(philox.Bits(np, KEY, CTR), (n,), dtype)
    twin = philox.uniform(philox.Bits(cp, KEY, CTR), (n,), dtype)
    assert got.dtype == dtype
    np.testing.assert_array_equal(cp.asnumpy(got), host)
    np.testing.assert_array_equal(cp.asnumpy(twin), host)
    assert blocks == -(-n // (2 if dtype == np.float64 else 4))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_kernel_dropout_mask_equals_the_rule_on_uniforms(dtype):
    gen = np.float64 if dtype == np.float64 else np.float32
    scale = dtype(1) / (dtype(1) - dtype(0.3))
    got, _ = philox_cuda.draw(cp, _state(), 1000, dtype, gen, 0.3, scale)
    u = philox.uniform(philox.Bits(np, KEY, CTR), (1000,), gen)
    want = np.where(u >= gen(0.3), scale, dtype(0)).astype(dtype)
    np.testing.assert_array_equal(cp.asnumpy(got), want)


def test_device_bits_and_advance_kernel_on_the_gpu():
    state = _state()
    bits = philox.DeviceBits(cp, state)
    words = bits.words(30)   # the words kernel reading the device counter
    np.testing.assert_array_equal(cp.asnumpy(words),
                                  philox.Bits(np, KEY, CTR).words(30))
    bits.commit()
    assert _counter(state) == CTR + 8
    for dtype in (np.float32, np.float64):   # normals on kernel words = on array ones
        got = philox.normal(philox.DeviceBits(cp, _state()), (9,), dtype)
        want = philox.normal(philox.Bits(cp, KEY, CTR), (9,), dtype)
        np.testing.assert_array_equal(cp.asnumpy(got), cp.asnumpy(want))
    philox_cuda.advance(cp, state, 3 << 40)
    assert _counter(state) == CTR + 8 + (3 << 40)


def test_stream_draws_inside_a_raw_capture_advance_on_each_replay():
    state = _state()
    out = cp.empty(64, dtype=cp.float32)
    philox_cuda.draw(cp, state, 64, np.float32)   # compile before capturing
    philox_cuda.advance(cp, state, 16)
    start = _counter(state)
    stream = cp.cuda.Stream(non_blocking=True)
    with stream:
        stream.begin_capture()
        try:
            u, blocks = philox_cuda.draw(cp, state, 64, np.float32)
            out[...] = u
            philox_cuda.advance(cp, state, blocks)
        finally:
            graph = stream.end_capture()
        draws = []
        for _ in range(3):
            graph.launch(stream)
            stream.synchronize()
            draws.append(cp.asnumpy(out))
    for k, d in enumerate(draws):
        want = philox.uniform(philox.Bits(np, KEY, start + 16 * k), (64,), np.float32)
        np.testing.assert_array_equal(d, want)
    assert _counter(state) == start + 48


def _mlp(weights=None):
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dropout(0.2), keras.layers.Dense(10)])
    if weights is not None:
        model.set_weights(weights)
    return model


def _train(weights, graphs, steps, seed):
    """Losses and weights of ``steps`` compiled MLP + Dropout steps (Adam)."""
    tf.random.set_seed(seed)
    rng = np.random.default_rng(1)
    with tf.device("/GPU:0"):   # (tests default to the CPU: a step whose inputs
        # live on another device than its ops spans two devices and is not captured)
        x = tf.constant(rng.random((32, 28, 28)).astype("float32"))
        y = tf.constant(rng.integers(0, 10, 32).astype("int64"))
        model = _mlp(weights)
        opt = keras.optimizers.Adam()
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

        step = tf.function(keras_train_step(model, opt, loss_fn))
        with cuda_graphs(graphs), warnings.catch_warnings():
            warnings.filterwarnings("error", message="CUDA graph capture failed")
            losses = [step(x, y).numpy() for _ in range(steps)]
        graph = step.get_concrete_function(x, y).graph
        return graph, losses, [w.numpy() for w in model.weights]


@pytest.fixture
def binding():
    try:
        cublas_api.load_library()
    except cublas_api.CublasUnavailableError as exc:
        pytest.skip(f"dlframe's cuBLAS binding is unusable ({exc})")


def test_mlp_dropout_step_is_captured_and_seeded_replays_equal_plain(binding):
    with tf.device("/GPU:0"):
        weights = [w.numpy() for w in _mlp().weights]
    graph, cap_losses, cap_w = _train(weights, True, 8, seed=7)
    assert graph._replayable and graph._captured is not None, "not captured"
    _, plain_losses, plain_w = _train(weights, False, 8, seed=7)
    np.testing.assert_array_equal(np.array(cap_losses), np.array(plain_losses))
    for c, p in zip(cap_w, plain_w):
        np.testing.assert_array_equal(c, p)
    assert len(set(float(v) for v in cap_losses)) == 8


@pytest.mark.parametrize("seed", [None, 3])
def test_replays_draw_different_masks(binding, seed):
    tf.random.set_seed(seed)
    with tf.device("/GPU:0"):
        dense = keras.layers.Dense(64)
        drop = keras.layers.Dropout(0.5)
        fn = tf.function(lambda x: drop(dense(x), training=True))
        x = tf.ones((16, 32))
        with cuda_graphs(True), warnings.catch_warnings():
            warnings.filterwarnings("error", message="CUDA graph capture failed")
            outs = [fn(x).numpy() == 0 for _ in range(6)]
        assert fn.get_concrete_function(x).graph._captured is not None
    for a in outs:
        assert 0.35 < a.mean() < 0.65
    for i in range(len(outs)):
        for j in range(i):
            assert not np.array_equal(outs[i], outs[j]), (i, j)


def test_reseeding_reaches_a_captured_graph(binding):
    with tf.device("/GPU:0"):
        d = backends.current_device()
        fn = tf.function(lambda x: x + tf.random.uniform([8]))
        x = tf.zeros([8])
        tf.random.set_seed(None)
        for _ in range(4):
            fn(x)
        assert fn.get_concrete_function(x).graph._captured is not None
        d.seed_rng(99)
        a = fn(x).numpy()
        d.seed_rng(99)
        b = fn(x).numpy()
    np.testing.assert_array_equal(a, b)
    want = philox.uniform(philox.Bits(np, (99, 0), 0), (8,), np.float32)
    np.testing.assert_array_equal(a, want)
