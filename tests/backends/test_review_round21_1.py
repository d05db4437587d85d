"""Review of the cuBLAS binding and CUDA-graph capture (round 21, reviewer 1).

The plan of a product whose folded rows pass int32, the reuse of a finished
thread's cuBLAS handle (eager ``MirroredStrategy.run`` starts replica threads per
call), and the capture of a matmul-free step when libcublas cannot be loaded.
"""

import threading
import types
import warnings

import numpy as np
import pytest

import dlframe as tf
from dlframe.backends import cublas_api as cb
from tests.backends.test_cublas_plan import _emulate, _view_info


def test_no_fold_past_int32_rows_and_the_plan_stays_exact(monkeypatch):
    # a shared right operand folds (batch, M, K) @ (K, N) into one (batch*M, K)
    # product; past int32 rows the fold gave no plan at all, and gemm()'s copy
    # fallback then re-planned the same None and failed (AttributeError)
    monkeypatch.setattr(cb, "INT_MAX", 20)
    rng = np.random.default_rng(0)
    a = rng.integers(-4, 5, size=(4, 6, 3)).astype("float64")   # 24 rows > 20
    b = rng.integers(-4, 5, size=(3, 5)).astype("float64")
    (a_off, a_str), (b_off, b_str) = _view_info(a, a), _view_info(b, b)
    plan = cb.plan_gemm(a.shape, a_str, b.shape, b_str)
    assert plan is not None and plan.batch == 4 and plan.stride_a == 0
    got = _emulate(plan, a.reshape(-1), a_off, b.reshape(-1), b_off, "float64")
    np.testing.assert_array_equal(got, a @ b)
    small = cb.plan_gemm((3, 6, 3), (18, 3, 1), (3, 5), (5, 1))   # 18 rows: folds
    assert small.batch == 1 and small.n == 18


class _Stream:
    def __init__(self, lib):
        self.lib = lib

    def is_capturing(self):
        return False

    @property
    def ptr(self):
        return self.lib.stream_ptr


class _FakeLibrary:
    """cuBLAS stand-in counting handle creations and workspace (de)allocations."""

    def __init__(self):
        self.log = {"create": 0, "malloc": 0, "free": 0}
        self.fns = {name: self._fn(name) for name in cb.SIGNATURES}
        self.stream_ptr = 0
        log = self.log

        class Memory:
            def __init__(self, size):
                log["malloc"] += 1
                self.ptr = 4096 * log["malloc"]

            def __del__(self):
                log["free"] += 1

        stream = _Stream(self)
        self.cp = types.SimpleNamespace(cuda=types.SimpleNamespace(
            runtime=types.SimpleNamespace(getDevice=lambda: 0,
                                          runtimeGetVersion=lambda: 13000),
            get_current_stream=lambda: stream,
            memory=types.SimpleNamespace(Memory=Memory)))

    def _fn(self, name):
        def call(*args):
            if name == "cublasCreate_v2":
                self.log["create"] += 1
            return cb.CUBLAS_STATUS_SUCCESS
        return call

    def in_thread(self, body):
        out = []
        t = threading.Thread(target=lambda: out.append(body()))
        t.start()
        t.join()
        return out[0]


@pytest.fixture
def fake_library(monkeypatch):
    lib = _FakeLibrary()
    monkeypatch.setattr(cb, "load_library", lambda major=13: lib.fns)
    monkeypatch.setattr(cb, "_local", threading.local())
    monkeypatch.setattr(cb, "_idle", {})
    return lib


def _bound(lib):
    h = cb.handle(lib.cp)
    h.bind(lib.cp.cuda.get_current_stream().ptr)
    return h


def test_a_finished_threads_handle_is_reused(fake_library):
    lib = fake_library
    first = lib.in_thread(lambda: _bound(lib).ptr)
    for _ in range(5):   # one replica thread per eager strategy.run call
        assert lib.in_thread(lambda: _bound(lib).ptr) == first
    assert lib.log == {"create": 1, "malloc": 1, "free": 0}


def test_a_pinned_handle_stays_with_its_graph(fake_library):
    lib = fake_library

    def capture():   # what CudaGraphStep does in the capturing thread
        h = _bound(lib)
        h.pinned = True
        return h
    graph_handle = lib.in_thread(capture)
    other = lib.in_thread(lambda: _bound(lib))
    assert other is not graph_handle   # not shared: the graph replays with it
    assert lib.log["create"] == 2 and lib.log["free"] == 0
    # a handle last bound to another stream than the legacy default one is not
    # shared either (its last kernels may still run unordered with the next user's)
    lib.stream_ptr = 0x77
    assert lib.in_thread(lambda: _bound(lib)) is other   # idle: taken over
    lib.stream_ptr = 0
    assert lib.in_thread(lambda: _bound(lib)) is not other
    assert lib.log["create"] == 3


def test_matmul_free_step_does_not_need_cublas(device, monkeypatch):
    # without a loadable libcublas, a step with no product must not fail its
    # capture on the cuBLAS handle (on the fake CuPy capture itself is refused)
    from dlframe.backends import cupy_backend

    def unavailable(major=13):
        raise cb.CublasUnavailableError("no libcublas (test)")
    monkeypatch.setattr(cb, "load_library", unavailable)
    monkeypatch.setattr(cb, "_local", threading.local())
    monkeypatch.setattr(cb, "_idle", {})
    monkeypatch.setattr(cupy_backend, "_gemm_failed", [])
    f = tf.function(lambda x: tf.exp(x) * 2.0 + 1.0)
    value = np.linspace(-1, 1, 6).astype("float32")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(5):
            got = f(tf.constant(value)).numpy()
    np.testing.assert_allclose(got, np.exp(value) * 2 + 1, rtol=1e-6)
    assert not [w for w in caught if "no libcublas" in str(w.message)]
