"""The compiled graph executor (straight-line Python) against the step interpreter."""

import tracemalloc

import numpy as np
import pytest

import dlframe as tf
from dlframe.core import graph_exec


@pytest.fixture(autouse=True)
def _on_cpu():
    # the host executor's buffer reuse, NumPy bit-equality and tracemalloc peaks are
    # CPU facts (a GPU fuses these chains); test_gpu_fixes_round21_F runs both devices
    with tf.device("cpu:0"):
        yield


def _program(x, y):
    a, b = tf.split(x, 2, axis=1)             # a multi-output node
    z = tf.tanh(a) * b + tf.matmul(x, y)[:, :2]
    tf.print("side effect", output_stream="file:///dev/null")  # an effect: no outputs used
    return z, tf.reduce_sum(z), x             # an input returned as an output


def test_compiled_executor_matches_the_interpreter():
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((3, 4)).astype("float32"))
    y = tf.constant(rng.standard_normal((4, 4)).astype("float32"))
    f = tf.function(_program)
    f(x, y)                        # the first call traces (and returns traced values)
    got = f(x, y)
    graph = f.get_concrete_function(x, y).graph
    assert graph._run_compiled is not None
    slots = list(graph.template)
    slots[:2] = [x._value, y._value]
    graph._execute(slots)
    interpreted = [slots[s] for s in graph._graph.outputs]   # the output slots
    for g, want, eager in zip(got, interpreted, _program(x, y)):
        np.testing.assert_array_equal(g.numpy(), want)
        np.testing.assert_allclose(g.numpy(), eager.numpy(), rtol=1e-6)


def _chain(x):
    for _ in range(10):
        x = tf.sin(x) * 1.5
    return tf.reduce_sum(x)


def test_compiled_executor_frees_intermediates_after_last_use():
    x = tf.constant(np.ones((512, 512), "float32"))   # 1 MiB per intermediate
    f = tf.function(_chain)
    f(x)
    graph = f.get_concrete_function(x).graph
    assert "del " in graph._run_compiled.source
    tracemalloc.start()
    try:
        graph.run([x._value])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2 ** 20    # 20 intermediates of 1 MiB, at most ~2 alive at once


def test_compiled_executor_is_skipped_for_huge_programs(monkeypatch):
    monkeypatch.setattr(graph_exec, "MAX_COMPILED_NODES", 3)
    f = tf.function(lambda x: tf.exp(tf.sin(tf.cos(tf.tanh(x)))))
    x = tf.constant([0.5, -1.0])
    np.testing.assert_allclose(f(x).numpy(), np.exp(np.sin(np.cos(np.tanh([0.5, -1.0])))),
                               rtol=1e-6)
    assert f.get_concrete_function(x).graph._run_compiled is None


def _reused(f, *args):
    program = f.get_concrete_function(*args).graph._run_compiled.program
    return sum(isinstance(step[0], graph_exec._IntoDeadInput) for step in program)


def _peak_bytes(f, *args):
    graph = f.get_concrete_function(*args).graph
    tracemalloc.start()
    try:
        graph.run([a._value for a in args])
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_buffer_reuse_writes_into_dead_intermediates_same_results():
    x = tf.constant(np.random.default_rng(1).standard_normal((512, 512)).astype("float32"))
    f = tf.function(_chain)
    f(x)
    got = f(x).numpy()
    assert _reused(f, x) == 19          # all but the first sin (its input is the caller's)
    assert got == _chain(x).numpy()
    assert _peak_bytes(f, x) < 1.5 * 2 ** 20         # one 1 MiB buffer, reused
    tf.config.optimizer.set_experimental_options({"buffer_reuse": False})
    try:
        off = tf.function(_chain)
        off(x)
        assert off(x).numpy() == got
        assert _reused(off, x) == 0
        assert _peak_bytes(off, x) > 1.9 * 2 ** 20
    finally:
        tf.config.optimizer.set_experimental_options({"buffer_reuse": True})


def test_buffer_reuse_skips_small_arrays():
    x = tf.constant(np.ones((8, 8), "float32"))
    f = tf.function(_chain)
    f(x)
    assert _reused(f, x) == 0


def _aliasing(x):
    y = tf.exp(x)
    view = tf.reshape(y, [-1])        # a view of y's buffer, alive after y dies
    same = tf.identity(y)             # may hand back y's very array
    z = tf.sin(y) * 2.0               # y dies here: its buffer must not be written
    return view, same, z


def test_buffer_reuse_never_writes_a_buffer_someone_else_holds():
    x = tf.constant(np.random.default_rng(2).standard_normal((300, 300)).astype("float32"))
    f = tf.function(_aliasing)
    f(x)
    got = [t.numpy() for t in f(x)]
    want = [t.numpy() for t in _aliasing(x)]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(got[0].reshape(300, 300), np.exp(x.numpy()))
    assert _reused(f, x) == 2   # sin(y) is a candidate; only the runtime check refuses it


def test_buffer_reuse_falls_back_when_runtime_shapes_broadcast_differently():
    spec = tf.TensorSpec([None, 300], tf.float32)
    f = tf.function(lambda x, y: tf.exp(x) + y, input_signature=[spec, spec])
    rng = np.random.default_rng(3)
    a, b = (rng.standard_normal((300, 300)).astype("float32") for _ in range(2))
    f(a, b)
    np.testing.assert_allclose(f(a, b).numpy(), np.exp(a) + b, rtol=1e-6)
    assert _reused(f, tf.constant(a), tf.constant(b)) == 1
    a1 = a[:1]                       # exp(x) is (1, 300) but the sum is (300, 300)
    np.testing.assert_allclose(f(a1, b).numpy(), np.exp(a1) + b, rtol=1e-6)


def test_ownership_calibration_refuses_aliased_buffers():
    refs = graph_exec._calibrate()
    assert refs is not None
    assert graph_exec._reuses(refs, alias=False)
    assert not graph_exec._reuses(refs, alias=True)


def test_every_into_kernel_matches_its_forward_bit_for_bit():
    from dlframe.backends import get_device
    from dlframe.core.primitive import REGISTRY
    dev = get_device("cpu:0")
    rng = np.random.default_rng(4)
    prims = [p for p in REGISTRY.values() if p.into is not None]
    assert {"AddV2", "Mul", "Sigmoid", "Tanh", "Relu", "ReluGrad"} <= {p.name for p in prims}
    for dtype in ("float16", "float32", "float64"):
        for p in prims:
            n_in = 1 if p.name in {"Neg", "Square", "Exp", "Tanh", "Sqrt", "Log", "Sin",
                                   "Cos", "Sigmoid", "Relu"} else 2
            arrays = [(rng.standard_normal((7, 5)) * 30).astype(dtype) for _ in range(n_in)]
            if p.name in {"Sqrt", "Log"}:
                arrays = [np.abs(a) + np.asarray(0.5, dtype) for a in arrays]
            with np.errstate(all="ignore"):
                want = p.forward(dev, *arrays)
                out = np.empty_like(arrays[0])
                got = p.into(*arrays, out=out)
            assert got is out, p.name
            np.testing.assert_array_equal(got, want, err_msg=f"{p.name} {dtype}")
