"""CUDA-graph capture of traced steps with matrix products (issue #5).

CuPy 14 refuses cuBLAS calls while a stream captures; dlframe's own ctypes cuBLAS
binding (dlframe/backends/cublas_api.py) runs the products instead. Checks: the
binding against ``cupy.matmul`` (dtypes, transposes, batches), a raw capture of it,
and captured steps (custom MLP + Adam loop, Keras ``fit``, ``LSTMCell``) equal to
the same compiled steps run without graphs bit for bit, and to eager runs.
"""

import warnings

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from tests.helpers import cuda_graphs, keras_train_step
from dlframe.backends import cublas_api

pytestmark = pytest.mark.gpu
cp = pytest.importorskip("cupy")
if not cp.cuda.is_available():
    pytest.skip("no CUDA device", allow_module_level=True)
try:
    cublas_api.load_library()
except cublas_api.CublasUnavailableError as _exc:   # the fake CuPy, no libcublas
    pytest.skip(f"dlframe's cuBLAS binding is unusable ({_exc})",
                allow_module_level=True)


def _dtypes():
    out = ["float16", "float32", "float64"]
    try:
        import ml_dtypes
        out.append(ml_dtypes.bfloat16)
    except ImportError:
        pass
    return out


def test_environment_report():
    h = cublas_api.handle(cp)
    print("cuBLAS", h.version, "from", cublas_api.load_library()["where"])
    assert h.version >= 120000


LAYOUTS = [  # (a (M,K) or batched, b, how to view them)
    ((5, 7), (7, 3), "nn"), ((5, 7), (7, 3), "tn"), ((5, 7), (7, 3), "nt"),
    ((5, 7), (7, 3), "tt"), ((64, 128), (128, 32), "nn"), ((1, 9), (9, 1), "nn"),
    ((4, 5, 7), (4, 7, 3), "nn"), ((4, 5, 7), (4, 7, 3), "tt"),
    ((4, 5, 7), (7, 3), "nn"), ((5, 7), (4, 7, 3), "nn"), ((2, 3, 5, 7), (3, 7, 6), "nt"),
    ((33, 65), (65, 17), "pad"),
]


def _view(x, trans, pad):
    if pad:
        wide = cp.zeros(x.shape[:-1] + (x.shape[-1] + 5,), dtype=x.dtype)
        wide[..., :x.shape[-1]] = x
        return wide[..., :x.shape[-1]]
    if trans:
        return cp.ascontiguousarray(cp.swapaxes(x, -1, -2)).swapaxes(-1, -2)
    return x


@pytest.mark.parametrize("dtype", _dtypes(), ids=str)
@pytest.mark.parametrize("a_shape,b_shape,how", LAYOUTS)
def test_gemm_matches_cupy_matmul(a_shape, b_shape, how, dtype):
    rng = np.random.default_rng(0)
    a = cp.asarray(rng.standard_normal(a_shape).astype("float32")).astype(dtype)
    b = cp.asarray(rng.standard_normal(b_shape).astype("float32")).astype(dtype)
    pad = how == "pad"
    av = _view(a, how[0] == "t", pad)
    bv = _view(b, how[-1] == "t", pad)
    got = cublas_api.gemm(cp, av, bv, allow_tf32=False)
    assert got is not None and got.dtype == a.dtype
    half = np.dtype(dtype).itemsize == 2   # CuPy's batched bf16 matmul fails: f64
    want = cp.asnumpy(cp.matmul(av.astype("float64"), bv.astype("float64")) if half
                      else cp.matmul(av, bv))   # else CuPy's own cuBLAS call
    rtol = 1e-2 if half else 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(cp.asnumpy(got.astype("float64")), want, rtol=rtol,
                               atol=rtol * np.abs(want).max())


def test_gemm_tf32_switch_changes_float32_results():
    rng = np.random.default_rng(1)
    a = cp.asarray(rng.standard_normal((256, 256)).astype("float32"))
    strict = cublas_api.gemm(cp, a, a, allow_tf32=False)
    fast = cublas_api.gemm(cp, a, a, allow_tf32=True)
    exact = cp.asnumpy(a.astype("float64") @ a.astype("float64"))
    err_strict = np.abs(cp.asnumpy(strict) - exact).max()
    err_fast = np.abs(cp.asnumpy(fast) - exact).max()
    assert err_strict < 1e-3 < err_fast, (err_strict, err_fast)


def test_device_matmul_vectors_and_fallbacks():
    with tf.device("/GPU:0"):
        x = tf.constant(np.arange(12.0, dtype="float32").reshape(3, 4))
        v = tf.constant(np.ones(4, "float32"))
        np.testing.assert_array_equal(tf.linalg.matvec(x, v).numpy(), [6, 22, 38])
        xi = tf.constant(np.arange(6, dtype="int32").reshape(2, 3))
        np.testing.assert_array_equal(tf.matmul(xi, tf.transpose(xi)).numpy(),
                                      [[5, 14], [14, 50]])   # int: cupy.matmul


def test_gemm_captures_and_replays():
    rng = np.random.default_rng(2)
    a = cp.asarray(rng.standard_normal((32, 64)).astype("float32"))
    b = cp.asarray(rng.standard_normal((64, 16)).astype("float32"))
    eager = cublas_api.gemm(cp, a, b)
    cublas_api.handle(cp)
    stream = cp.cuda.Stream(non_blocking=True)
    with stream:
        stream.begin_capture()
        try:
            out = cublas_api.gemm(cp, a, b.T.copy().T)
        finally:
            graph = stream.end_capture()
        graph.launch(stream)
        stream.synchronize()
        np.testing.assert_array_equal(cp.asnumpy(out), cp.asnumpy(eager))
        a[...] = cp.asarray(rng.standard_normal((32, 64)).astype("float32"))
        graph.launch(stream)
        stream.synchronize()
    np.testing.assert_array_equal(cp.asnumpy(out), cp.asnumpy(cublas_api.gemm(cp, a, b)))


# ---------------------------------------------------------------- traced steps
def _mlp():
    model = keras.Sequential([keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(10)])
    model.build((None, 32))
    return model


def _batches(n, batch=32):
    rng = np.random.default_rng(3)
    return [(rng.standard_normal((batch, 32)).astype("float32"),
             rng.integers(0, 10, batch).astype("int64")) for _ in range(n)]


def _mlp_loop(weights, compiled, graphs, batches):
    with tf.device("/GPU:0"):
        model = _mlp()
        model.set_weights(weights)
        opt = keras.optimizers.Adam(1e-3)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        step = keras_train_step(model, opt, loss_fn)
        fn = tf.function(step) if compiled else step
        losses = []
        with cuda_graphs(graphs):
            for x, y in batches:
                losses.append(fn(tf.constant(x), tf.constant(y)).numpy())
        return fn, losses, [w.numpy() for w in model.weights]


def test_mlp_adam_step_captured_equals_plain_and_eager():
    with tf.device("/GPU:0"):
        weights = [w.numpy() for w in _mlp().weights]
    batches = _batches(8)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="CUDA graph capture failed")
        fn, cap_losses, cap_w = _mlp_loop(weights, True, True, batches)
    with tf.device("/GPU:0"):
        concrete = fn.get_concrete_function(tf.constant(batches[0][0]),
                                            tf.constant(batches[0][1]))
    assert concrete.graph._captured is not None, "the MLP step was not captured"
    _, plain_losses, plain_w = _mlp_loop(weights, True, False, batches)
    np.testing.assert_array_equal(np.array(cap_losses), np.array(plain_losses))
    for c, p in zip(cap_w, plain_w):
        np.testing.assert_array_equal(c, p)
    _, eager_losses, eager_w = _mlp_loop(weights, False, False, batches)
    np.testing.assert_allclose(cap_losses, eager_losses, rtol=1e-5, atol=1e-6)
    for c, e in zip(cap_w, eager_w):
        np.testing.assert_allclose(c, e, rtol=1e-4, atol=1e-5)


def _fit(weights, graphs, metrics):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((256, 32)).astype("float32")
    y = rng.integers(0, 10, 256).astype("int64")
    with tf.device("/GPU:0"), cuda_graphs(graphs):
        model = _mlp()
        model.set_weights(weights)
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=metrics)
        hist = model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
        return model, hist.history, [w.numpy() for w in model.weights]


@pytest.mark.parametrize("metrics", [None, ["accuracy"]])
def test_keras_fit_step_is_captured(metrics):
    with tf.device("/GPU:0"):
        weights = [w.numpy() for w in _mlp().weights]
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="CUDA graph capture failed")
        model, cap_hist, cap_w = _fit(weights, True, metrics)
    graphs = [c._graph for c in model.train_function._cache.values()
              if getattr(c, "_graph", None) is not None]
    assert any(g._captured is not None for g in graphs), \
        f"fit's train step was not captured ({[g._capturable for g in graphs]})"
    _, plain_hist, plain_w = _fit(weights, False, metrics)
    assert cap_hist == plain_hist
    for c, p in zip(cap_w, plain_w):
        np.testing.assert_array_equal(c, p)


def test_lstm_cell_calls_captured():
    rng = np.random.default_rng(5)
    xs = [rng.standard_normal((32, 50)).astype("float32") for _ in range(6)]
    results = {}
    with tf.device("/GPU:0"):
        cell = keras.layers.LSTMCell(100)
        zeros = tf.zeros((32, 100))
        cell(tf.constant(xs[0]), [zeros, zeros])   # build once: both runs share it
        for graphs in (True, False):
            fn = tf.function(lambda x, h, c: cell(x, [h, c]))
            h = c = zeros
            outs = []
            with cuda_graphs(graphs), warnings.catch_warnings():
                warnings.filterwarnings("error", message="CUDA graph capture failed")
                for x in xs:
                    y, (h, c) = fn(tf.constant(x), h, c)
                    outs.append(y.numpy())
            if graphs:
                concrete = fn.get_concrete_function(tf.constant(xs[0]), h, c)
                assert concrete.graph._captured is not None, "LSTMCell not captured"
            results[graphs] = outs
        eager = []
        h = c = zeros
        for x in xs:
            y, (h, c) = cell(tf.constant(x), [h, c])
            eager.append(y.numpy())
    for a, b, e in zip(results[True], results[False], eager):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)


def test_random_step_is_not_captured_and_does_not_warn():
    # (Dropout draws from device-held Philox counters and is captured since round
    # 22: tests/gpu/test_capturable_random_round22_A.py; truncated normals are not)
    with tf.device("/GPU:0"):
        dense = keras.layers.Dense(8)
        fn = tf.function(lambda x: dense(x + tf.random.truncated_normal([4, 8])))
        x = tf.ones((4, 8))
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message="CUDA graph capture failed")
            for _ in range(5):
                fn(x)
        assert fn.get_concrete_function(x).graph._captured is None
