"""Capturable random draws (issue #5) on the strict fake CuPy (round 22, A).

On a GPU, Dropout masks and ``tf.random.uniform``/``normal`` draw from Philox
counters held in device memory (``GPUDevice.philox_stream``, seeded streams'
``_Stream.device_bits``), read and advanced on the device, so a CUDA graph can
replay them. The fake CuPy compiles no kernels, so the xp-array twin of the CUDA
kernel runs there: these scripts check its numbers against the host Philox, the
counter's movement, reseeding, that draws and a compiled MLP + Dropout train step
read nothing on the host while the stream "captures" (``cupy.cuda.fake_capture``),
and which programs ``graph_capture.replayable`` accepts. Each runs in a subprocess
(the fake never enters this interpreter). The CUDA kernel itself:
tests/gpu/test_capturable_random_round22_A.py.
"""

from test_fake_gpu_round19 import run_script

_PRELUDE = r"""
import fake_gpu_plugin  # noqa: F401
import numpy as np, cupy as cp, dlframe as tf
from dlframe import backends
from dlframe.backends import philox_cuda
from dlframe.ops import philox
d = backends.current_device()
assert d.is_gpu and not philox_cuda.kernels_usable(cp)
KEY, CTR = (0x12345678, 0x9ABCDEF0), (1 << 64) - 3   # the carry into word 2 is hit
def state():
    return d.asarray(philox_cuda.state_words(KEY, CTR))
def counter(st):
    w = [int(v) for v in cp.asnumpy(st)]
    return w[0] | w[1] << 32 | w[2] << 64 | w[3] << 96
class NoGenerator:   # any use of the device's cuRAND-style generator fails
    def __getattr__(self, name):
        raise AssertionError(f"the device generator was used ({name})")
"""

_TWIN = _PRELUDE + r"""
for dtype, shape, blocks in ((np.float32, (5, 3), 4), (np.float64, (7,), 4),
                             (np.float16, (9,), 3)):
    st = state()
    bits = philox.DeviceBits(cp, st)
    got = philox.uniform(bits, shape, dtype)
    want = philox.uniform(philox.Bits(np, KEY, CTR), shape, dtype)
    assert got.dtype == dtype and np.array_equal(cp.asnumpy(got), want), dtype
    assert bits.used == blocks, (dtype, bits.used)
    bits.commit()
    assert counter(st) == CTR + blocks, (dtype, counter(st) - CTR)
    assert int(cp.asnumpy(st)[4]) == KEY[0] and int(cp.asnumpy(st)[5]) == KEY[1]
for dtype in (np.float32, np.float64):
    got = philox.normal(philox.DeviceBits(cp, state()), (6,), dtype)
    want = philox.normal(philox.Bits(np, KEY, CTR), (6,), dtype)
    assert np.array_equal(cp.asnumpy(got), want), dtype
    for rate in (0.2, 0.5):
        got = philox.dropout_mask(philox.DeviceBits(cp, state()), (64, 64), dtype, rate)
        u = philox.uniform(philox.Bits(np, KEY, CTR), (64, 64), dtype)
        scale = dtype(1) / (dtype(1) - dtype(rate))
        want = np.where(u >= dtype(rate), scale, dtype(0)).astype(dtype)
        assert np.array_equal(cp.asnumpy(got), want), (dtype, rate)
        assert abs(float((want == 0).mean()) - rate) < 0.03
# a seeded stream's room: 256 blocks per output, as TF's kernels skip
st = state()
bits = philox.DeviceBits(cp, st, advance=5 * 256)
philox.uniform(bits, (5,), np.float32)
bits.commit()
assert counter(st) == CTR + 5 * 256
print("TWIN-OK")
"""

_STREAM = _PRELUDE + r"""
tf.random.set_seed(None)
d._rng = NoGenerator()
st = d.philox_stream()
assert st is d.philox_stream() and st.dtype == np.uint32 and st.shape == (6,)
c0 = counter(st)
a, b = tf.random.uniform([10]), tf.random.uniform([10])
assert counter(st) == c0 + 6   # ceil(10 / 4) blocks per draw
assert not np.array_equal(a.numpy(), b.numpy())
m1 = tf.nn.dropout(tf.ones([16, 16]), 0.5).numpy()
m2 = tf.nn.dropout(tf.ones([16, 16]), 0.5).numpy()
assert set(np.unique(m1)) <= {0.0, 2.0} and not np.array_equal(m1, m2)
assert counter(st) == c0 + 6 + 128
# reseeding writes the same array in place and replays the same numbers
d.seed_rng(1234)
assert d.philox_stream() is st and counter(st) == 0
n1 = tf.random.normal([7]).numpy()
d.seed_rng(1234)
n2 = tf.random.normal([7]).numpy()
assert np.array_equal(n1, n2)
key = (1234 & 0xFFFFFFFF, 1234 >> 32)
want = philox.normal(philox.Bits(np, key, 0), (7,), np.float32)
assert np.array_equal(n1, want)
# seeded ops keep TF's numbers: the GPU's device counters give the CPU's values
for op in (lambda: tf.random.uniform([5], seed=7),
           lambda: tf.random.normal([5], seed=7),
           lambda: tf.random.uniform([3, 2], dtype=tf.float64)):
    tf.random.set_seed(11)
    gpu = [op().numpy() for _ in range(3)]
    tf.random.set_seed(11)
    with tf.device("/CPU:0"):
        cpu = [op().numpy() for _ in range(3)]
    for g, c in zip(gpu, cpu):
        assert np.array_equal(g, c), (g, c)
    assert not np.array_equal(gpu[0], gpu[1])
# a traced seeded op's counter on the device gives the CPU's numbers, and set_seed
# rewinds it in place (as TF restarts the kernels of traced functions)
tf.random.set_seed(11)
g = tf.function(lambda: tf.random.normal([5], seed=2) + tf.random.uniform([3, 3])[0, 0])
gv = [g().numpy() for _ in range(3)]
tf.random.set_seed(11)
with tf.device("/CPU:0"):
    c = tf.function(lambda: tf.random.normal([5], seed=2) +
                    tf.random.uniform([3, 3])[0, 0])
    cv = [c().numpy() for _ in range(3)]
assert all(np.array_equal(a, b) for a, b in zip(gv, cv)) and \
    not np.array_equal(gv[1], gv[2])
tf.random.set_seed(11)
again = g().numpy()
tf.random.set_seed(11)
with tf.device("/CPU:0"):
    assert np.array_equal(again, c().numpy())
# Keras Dropout with a seed: reproducible after set_seed, different call to call
layer = tf.keras.layers.Dropout(0.3, seed=5)
tf.random.set_seed(2)
r1 = [layer(tf.ones([8, 8]), training=True).numpy() for _ in range(2)]
tf.random.set_seed(2)
r2 = [layer(tf.ones([8, 8]), training=True).numpy() for _ in range(2)]
assert all(np.array_equal(x, y) for x, y in zip(r1, r2)) and \
    not np.array_equal(r1[0], r1[1])
# a draw reads nothing on the host while the stream captures (unseeded eager ops;
# a traced op's seeded counter lives on the device too)
tf.random.set_seed(None)
seeded = tf.function(lambda x: x + tf.random.uniform([2], seed=3))
seeded(tf.zeros([2]))
with cp.cuda.fake_capture():
    x = tf.nn.dropout(tf.ones([4, 4]), 0.5)
    tf.random.uniform([3]), tf.random.normal([3]), seeded(tf.zeros([2]))
print("STREAM-OK")
"""

_STEP = _PRELUDE + r"""
from cupy import _core
from dlframe import keras
from dlframe.backends import cublas_api, cupy_backend
tf.random.set_seed(None)
d._rng = NoGenerator()
# stand-ins (as tests/backends/test_matmul_routes_round21_i3.py): the cuBLAS binding
# computes on the host arrays behind the fake ones; a "captured graph" keeps static
# input buffers and runs the program with the stream capturing (host reads raise)
def gemm(cp_, a, b, allow_tf32=False, out=None):
    if cublas_api._plan_for(a, b)[1] is None:
        return None
    res = _core.wrap(np.matmul(_core.unwrap(a), _core.unwrap(b)))
    if out is None:
        return res
    out[...] = res
    return out
REPLAYS = [0]
class StandInGraph:
    def __init__(self, execute, template, n_inputs, outputs):
        self.execute, self.n_inputs, self.outputs = execute, n_inputs, outputs
        self.slots = [cp.array(a, copy=True) if i < n_inputs else a
                      for i, a in enumerate(template)]
    def __call__(self, arrays):
        for buf, a in zip(self.slots[:self.n_inputs], arrays):
            buf[...] = a
        slots = list(self.slots)
        with cp.cuda.fake_capture():
            self.execute(slots, free=False)
        REPLAYS[0] += 1
        return [slots[s].copy() for s in self.outputs]
cupy_backend._gemm_failed.clear()
cublas_api.gemm = gemm
cupy_backend.GPUDevice.capture_step = lambda self, *a: StandInGraph(*a)
def mlp():
    return keras.Sequential([keras.Input((12,)),
                             keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dropout(0.3), keras.layers.Dense(4)])
def train(steps, seed=None, graphs=True):
    if seed is not None:
        tf.random.set_seed(seed)
    model = mlp()
    model.set_weights([np.full(w.shape, 0.05 * (i + 1), "float32")
                       for i, w in enumerate(model.weights)])
    opt = keras.optimizers.Adam(1e-2)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((32, 12)).astype("float32"))
    y = tf.constant(rng.integers(0, 4, 32).astype("int64"))
    tf.config.optimizer.set_experimental_options({"cuda_graphs": graphs})
    try:
        losses = [float(step(x, y)) for _ in range(steps)]
    finally:
        tf.config.optimizer.set_experimental_options({"cuda_graphs": True})
    return step.get_concrete_function(x, y).graph, losses, model
graph, losses, model = train(8)
assert graph._replayable, "the MLP + Dropout step is not replayable on the GPU"
assert graph._captured is not None and REPLAYS[0] >= 4, REPLAYS
assert losses[-1] < losses[0] and len(set(losses)) == 8, losses
assert "DropoutMask" in set(graph.node_names), graph.node_names
# seeded: "replayed" steps give the weights plain steps give
_, l1, m1 = train(5, seed=9)
_, l2, m2 = train(5, seed=9, graphs=False)
assert l1 == l2 and all(np.array_equal(a.numpy(), b.numpy())
                        for a, b in zip(m1.weights, m2.weights))
# random ops outside the device stream stay unreplayable; so does the CPU's dropout
GEN = tf.random.Generator.from_seed(1)
for fn in (lambda x: tf.random.truncated_normal([3]) + x,
           lambda x: tf.random.shuffle(x),
           lambda x: tf.random.categorical(tf.reshape(x, [1, -1]), 2),
           lambda x: GEN.uniform([3]) + x):   # a Generator's state is a host Variable
    f = tf.function(fn)
    f(tf.ones([3]))
    assert not f.get_concrete_function(tf.ones([3])).graph._replayable
with tf.device("/CPU:0"):
    f = tf.function(lambda x: tf.nn.dropout(x, 0.5) + tf.random.uniform([3]))
    xc = tf.ones([3])
    f(xc)
    assert not f.get_concrete_function(xc).graph._replayable
f = tf.function(lambda x: tf.nn.dropout(x, 0.5) + tf.random.normal([3], seed=1))
f(tf.ones([3]))
assert f.get_concrete_function(tf.ones([3])).graph._replayable
print("STEP-OK")
"""


def test_device_stream_equals_the_host_philox_and_advances():
    assert "TWIN-OK" in run_script(_TWIN)


def test_gpu_draws_use_the_device_stream_and_keep_tf_seeds():
    assert "STREAM-OK" in run_script(_STREAM)


def test_dropout_train_step_reads_nothing_on_the_host_and_is_replayable():
    assert "STEP-OK" in run_script(_STEP, timeout=400)
