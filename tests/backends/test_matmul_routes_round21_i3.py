"""Every matrix product of a training step goes through ``Device.matmul`` (round 21, I3).

CuPy 14 refuses its own cuBLAS calls while a stream captures a CUDA graph, so a step
is capturable only when its products use dlframe's cuBLAS handle (``Device.matmul``,
einsum through ``backends/einsum_plan.py``). On the fake CuPy, ``cupy.cuda.
fake_capture()`` makes every direct cuBLAS-backed call raise; a stand-in for the
cuBLAS binding and for ``capture_step`` then runs CNN, LSTM, attention and
EinsumDense train steps "under capture" and compares them with the CPU.
"""

import warnings

import numpy as np
import pytest

import dlframe as tf
from dlframe import backends
from dlframe.backends import cublas_api, cupy_backend
from dlframe.backends.einsum_plan import einsum_via_matmul, plan_einsum

_EQUATIONS = [
    ("ab,bc->ac", (2, 3), (3, 4)),
    ("abc,cd->abd", (2, 3, 4), (4, 5)),                 # Dense / EinsumDense
    ("abc,cde->abde", (2, 3, 4), (4, 5, 6)),            # MHA projection
    ("abcd,cde->abe", (2, 3, 4, 5), (4, 5, 6)),         # MHA output
    ("btnh,bsnh->bnts", (2, 3, 4, 5), (2, 6, 4, 5)),    # attention scores
    ("bnts,bsnh->btnh", (2, 4, 3, 6), (2, 6, 4, 5)),    # attention context
    ("ab,cd->abcd", (2, 3), (4, 5)),
    ("ab,ab->", (2, 3), (2, 3)),
    ("pc,pcm->cm", (7, 3), (7, 3, 2)),                  # depthwise filter grad
    ("abc,ab->c", (2, 3, 4), (2, 3)),
    ("xab,xbc->xac", (1, 3, 4), (5, 4, 2)),             # broadcast batch
    ("abe,cd->dc", (2, 3, 4), (5, 6)),                  # summed letters
    ("ij,jk->ki", (3, 4), (4, 5)),
]


def test_einsum_plans_equal_numpy_einsum():
    rng = np.random.default_rng(0)
    for eq, sa, sb in _EQUATIONS:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        plan = plan_einsum(eq, sa, sb)
        got = einsum_via_matmul(np, np.matmul, plan, a, b)
        np.testing.assert_allclose(got, np.einsum(eq, a, b), rtol=1e-12, atol=1e-12,
                                   err_msg=eq)
        assert got.flags.c_contiguous


@pytest.mark.parametrize("eq,sa,sb", [
    ("ii,ij->j", (3, 3), (3, 4)), ("ab,bc,cd->ad", (2, 3), (3, 4)),
    ("ab,bc->ac", (2, 3), (4, 4)), ("ab,bc->ac", (0, 3), (3, 4))])
def test_einsum_without_a_plan(eq, sa, sb):
    assert plan_einsum(eq, sa, sb) is None


def test_device_einsum_and_matmul_out(device):
    dev = backends.get_device(device)
    rng = np.random.default_rng(1)
    for eq, sa, sb in _EQUATIONS + [("ii,ij->j", (3, 3), (3, 4))]:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        got = dev.to_numpy(dev.einsum(eq, dev.asarray(a), dev.asarray(b)))
        np.testing.assert_allclose(got, np.einsum(eq, a, b), rtol=1e-12, atol=1e-12)
    a = rng.standard_normal((3, 5, 4)).astype("float32")
    b = rng.standard_normal((4, 6)).astype("float32")
    out = dev.asarray(np.zeros((3, 5, 6), "float32"))
    res = dev.matmul(dev.asarray(a), dev.asarray(b), out=out)
    assert res is out
    np.testing.assert_allclose(dev.to_numpy(out), a @ b, rtol=1e-5, atol=1e-6)
    strided = dev.asarray(np.zeros((5, 6), "float32")).T   # not C-contiguous
    dev.matmul(dev.asarray(b.T), dev.asarray(a[0].T), out=strided)
    np.testing.assert_allclose(dev.to_numpy(strided), b.T @ a[0].T, rtol=1e-5,
                               atol=1e-6)


# -- steps "under capture" on the fake CuPy ------------------------------------------
def _fake_cupy():
    if not backends.gpu_available():
        return None
    import cupy
    return cupy if hasattr(cupy.cuda, "fake_capture") else None


class _StandInGraph:
    """Stands for a captured CUDA graph: static input buffers; every replay runs the
    program with the stream capturing (direct cuBLAS calls raise)."""

    def __init__(self, cp, counts, execute, template, n_inputs, outputs):
        self.cp, self.counts, self.execute = cp, counts, execute
        self.slots = [cp.array(a, copy=True) if i < n_inputs else a
                      for i, a in enumerate(template)]
        self.n_inputs, self.outputs = n_inputs, outputs
        counts["captures"] += 1

    def __call__(self, arrays):
        for buf, a in zip(self.slots[:self.n_inputs], arrays):
            buf[...] = a
        slots = list(self.slots)
        with self.cp.cuda.fake_capture():
            self.execute(slots, free=False)
        self.counts["replays"] += 1
        return [slots[s].copy() for s in self.outputs]


@pytest.fixture
def capture(monkeypatch):
    """Counts of stand-in captures, replays and cuBLAS-binding products."""
    cp = _fake_cupy()
    if cp is None:
        pytest.skip("needs the fake CuPy (PYTHONPATH=tests/fake_cupy)")
    from cupy import _core
    counts = {"captures": 0, "replays": 0, "gemm": 0}

    def gemm(cp_, a, b, allow_tf32=False, out=None):
        if cublas_api._plan_for(a, b)[1] is None:
            return None
        counts["gemm"] += 1
        res = _core.wrap(np.matmul(_core.unwrap(a), _core.unwrap(b)))
        if out is None:
            return res
        out[...] = res
        return out

    def capture_step(self, execute, template, n_inputs, outputs):
        return _StandInGraph(cp, counts, execute, template, n_inputs, outputs)
    monkeypatch.setattr(cupy_backend, "_gemm_failed", [])
    monkeypatch.setattr(cublas_api, "gemm", gemm)
    monkeypatch.setattr(cupy_backend.GPUDevice, "capture_step", capture_step)
    return counts


def _train(device, build, x, y, steps=5):
    """Losses and final weights of ``steps`` compiled SGD steps on ``device`` (a GPU
    step is traced, warmed up twice, captured and replayed on the last two)."""
    with tf.device(device):
        tf.keras.utils.set_random_seed(3)
        model = build()
        model(tf.constant(x[:1]))
        opt = tf.keras.optimizers.SGD(0.05)
        loss_fn = tf.keras.losses.MeanSquaredError()

        @tf.function
        def step(xb, yb):
            with tf.GradientTape() as tape:
                loss = loss_fn(yb, model(xb, training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables))
            return loss
        xt, yt = tf.constant(x), tf.constant(y)
        losses = [float(step(xt, yt)) for _ in range(steps)]
        return losses, [w.numpy() for w in model.trainable_variables]


def _cnn():
    return tf.keras.Sequential([
        tf.keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        tf.keras.layers.MaxPooling2D(),
        tf.keras.layers.Conv2D(20, 3, activation="relu"),  # tap-major input grad
        tf.keras.layers.DepthwiseConv2D(3, padding="same"),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(3)])


def _lstm():
    return tf.keras.Sequential([tf.keras.layers.LSTM(6, use_cudnn=False,
                                                     return_sequences=True),
                                tf.keras.layers.GRU(5, use_cudnn=False),
                                tf.keras.layers.Dense(3)])


class _Block(tf.keras.Model):
    """A transformer block: MHA, LayerNorm, EinsumDense feed-forward."""

    def __init__(self):
        super().__init__()
        self.mha = tf.keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
        self.norm = tf.keras.layers.LayerNormalization()
        self.ffn = tf.keras.layers.EinsumDense("btd,de->bte", output_shape=(None, 3),
                                               bias_axes="e")

    def call(self, x, training=None):
        return self.ffn(self.norm(x + self.mha(x, x, training=training)))


def _data(kind):
    rng = np.random.default_rng(7)
    if kind == "cnn":
        x = rng.standard_normal((4, 10, 10, 3))
        return x.astype("float32"), rng.standard_normal((4, 3)).astype("float32")
    if kind == "rnn":
        x = rng.standard_normal((4, 5, 3))
        return x.astype("float32"), rng.standard_normal((4, 3)).astype("float32")
    x = rng.standard_normal((2, 5, 6)).astype("float32")
    return x, rng.standard_normal((2, 5, 3)).astype("float32")


@pytest.mark.parametrize("build,kind", [(_cnn, "cnn"), (_lstm, "rnn"),
                                        (_Block, "block")],
                         ids=["cnn", "lstm_gru_portable", "mha_einsum_dense"])
def test_train_steps_capture_without_direct_cublas_calls(capture, build, kind):
    x, y = _data(kind)
    want_losses, want_weights = _train("cpu:0", build, x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)   # "CUDA graph capture failed"
        losses, weights = _train("gpu:0", build, x, y)
    assert capture["captures"] == 1 and capture["replays"] == 2, capture
    assert capture["gemm"] > 0
    np.testing.assert_allclose(losses, want_losses, rtol=2e-5, atol=1e-6)
    for got, want in zip(weights, want_weights):
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5)


def test_fake_capture_refuses_direct_cublas_calls(capture):
    cp = _fake_cupy()
    dev = backends.get_device("gpu:0")
    a = cp.asarray(np.ones((2, 2), "float32"))
    with cp.cuda.fake_capture():
        for call in (lambda: cp.matmul(a, a), lambda: a @ a, lambda: a.dot(a),
                     lambda: cp.tensordot(a, a, 1), lambda: cp.linalg.inv(a),
                     lambda: cp.einsum("ij,jk->ik", a, a)):
            with pytest.raises(NotImplementedError, match="stream capture"):
                call()
        routed = dev.einsum("ij,jk->ik", a, a), dev.matmul(a, a)   # capture-safe
    for got in routed:
        np.testing.assert_allclose(dev.to_numpy(got), np.full((2, 2), 2.0))


class _DeviceArray:
    """The attributes ``cublas_api._writable_into`` reads from a CuPy array."""

    def __init__(self, host, base_ptr=1 << 20):
        self.shape, self.strides, self.itemsize = host.shape, host.strides, host.itemsize
        self.dtype = host.dtype
        self.flags = host.flags
        offset = host.__array_interface__["data"][0] - _BASE.__array_interface__[
            "data"][0]
        self.data = type("Ptr", (), {"ptr": base_ptr + offset})()


_BASE = np.zeros((4, 6, 6), np.float32)


def test_gemm_writes_in_place_only_into_disjoint_contiguous_outputs():
    a, b = _DeviceArray(_BASE[0, :, :3]), _DeviceArray(_BASE[1, :3, :])
    plan = cublas_api.plan_gemm(a.shape, (6, 1), b.shape, (6, 1))
    assert cublas_api._writable_into(_DeviceArray(_BASE[2]), plan, a, b)
    assert not cublas_api._writable_into(_DeviceArray(_BASE[2].T), plan, a, b)
    assert not cublas_api._writable_into(_DeviceArray(_BASE[0]), plan, a, b)  # aliases a
    assert not cublas_api._writable_into(_DeviceArray(_BASE[2, :5]), plan, a, b)
