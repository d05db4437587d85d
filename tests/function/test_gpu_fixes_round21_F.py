"""Graph execution on each device: what the first real-GPU run found (round 21, F).

CUDA-graph replay of loop bodies with changing shapes or variable writes, names of
fused program steps (profiler, numerics), host strings indexed by traced GPU numbers,
and the executor/fusion checks of the CPU-pinned modules run on every device.
"""

import contextlib
import sys
import types

import numpy as np
import pytest

import dlframe as tf
from dlframe import backends
from dlframe.keras.saving import object_io

prof = tf.profiler.experimental
_primitive = sys.modules["dlframe.core.primitive"]


def _host(device, array):
    return backends.get_device(device).to_numpy(array)


# -- the compiled executor and elementwise fusion on each device ---------------------
def _program(x, y):
    a, b = tf.split(x, 2, axis=1)
    z = tf.tanh(a) * b + tf.matmul(x, y)[:, :2]
    return z, tf.reduce_sum(z), x


def test_compiled_executor_matches_the_interpreter(device):
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal(s).astype("float32") for s in ((3, 4), (4, 4))]
    x, y = (tf.constant(v) for v in xs)
    f = tf.function(_program)
    f(x, y)
    got = f(x, y)
    graph = f.get_concrete_function(x, y).graph
    assert graph._run_compiled is not None
    slots = list(graph.template)
    slots[:2] = [x._value, y._value]
    dev = backends.get_device(device)
    with dev.context() if dev.is_gpu else contextlib.nullcontext():
        graph._execute(slots)
    a, b = np.split(xs[0], 2, axis=1)
    want_z = np.tanh(a) * b + (xs[0] @ xs[1])[:, :2]
    for g, s, want in zip(got, graph._graph.outputs, (want_z, want_z.sum(), xs[0])):
        np.testing.assert_array_equal(g.numpy(), _host(device, slots[s]))
        np.testing.assert_allclose(g.numpy(), want, rtol=1e-5, atol=1e-6)


def _chain(x, y):
    return tf.tanh(tf.exp(x) * y + 1.0), tf.reduce_sum(x)


def test_fused_steps_are_named_by_their_ops_and_keep_results(device):
    x, y = tf.constant([0.1, 0.2, -0.3]), tf.constant([1.0, 2.0, 3.0])
    f = tf.function(_chain)
    f(x, y)
    got = f(x, y)
    want = np.tanh(np.exp(x.numpy()) * y.numpy() + 1)
    np.testing.assert_allclose(got[0].numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(got[1].numpy(), x.numpy().sum(), rtol=1e-6)
    graph = f.get_concrete_function(x, y).graph
    assert len(graph.step_names) == len(graph.program)
    if backends.get_device(device).fuses:   # GPU: one kernel for the chain
        assert graph.stats["after_fusion"] < graph.stats["final"]
        assert "Exp+Mul+AddV2+Tanh" in graph.step_names
    else:
        assert graph.step_names == graph.node_names


def test_profiler_names_every_step_of_a_fused_graph(device, tmp_path):
    @tf.function
    def step(x):
        return tf.reduce_sum(tf.tanh(x) * 2.0)
    x = tf.constant(np.ones((4,), np.float32))
    step(x)
    with prof.Profile(str(tmp_path)):
        out = step(x)
    assert _primitive.PROFILER is None
    assert float(out) == pytest.approx(8 * np.tanh(1.0), rel=1e-6)
    names = {e["name"] for e in _trace_events(tmp_path)}
    fused = backends.get_device(device).fuses
    assert "Sum" in names and ({"Tanh+Mul"} if fused else {"Tanh", "Mul"}) <= names


def _trace_events(logdir):
    import glob
    import gzip
    import json
    (path,) = glob.glob(str(logdir / "plugins" / "profile" / "*" / "*.trace.json.gz"))
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [e for e in json.load(f)["traceEvents"]
                if e["ph"] == "X" and e["cat"] == "op"]


# -- CUDA-graph replay: which graphs, which calls -------------------------------------
class _Replay:
    """Stands for a captured CUDA graph: static input buffers, the same program."""

    def __init__(self, counts, execute, template, n_inputs, outputs):
        self.counts, self.execute, self.outputs = counts, execute, outputs
        self.slots = [np.array(a, copy=True) if i < n_inputs else a
                      for i, a in enumerate(template)]
        self.n_inputs = n_inputs
        counts["captures"] += 1

    def __call__(self, arrays):
        for buf, a in zip(self.slots[:self.n_inputs], arrays):
            buf[...] = a            # what a replay does: a shape must match exactly
        slots = list(self.slots)
        self.execute(slots, free=False)
        self.counts["replays"] += 1
        return [slots[s].copy() for s in self.outputs]


class _CapturingDevice:
    def __init__(self):
        self.counts = {"captures": 0, "replays": 0}

    def context(self):
        return contextlib.nullcontext()

    def capture_step(self, execute, template, n_inputs, outputs):
        return _Replay(self.counts, execute, template, n_inputs, outputs)


def test_a_captured_step_replays_only_the_shapes_it_was_captured_with(monkeypatch):
    # a loop body's graph (inputs of unknown size) runs with other shapes each time;
    # a stand-in capturing device drives the GPU logic on the CPU
    with tf.device("cpu:0"):
        f = tf.function(lambda x: tf.exp(x) * 2.0)
        x = tf.constant(np.zeros(3, np.float32))
        f(x)
        graph = f.get_concrete_function(x).graph._graph
        stub = _CapturingDevice()
        monkeypatch.setattr(graph, "gpu_device", stub)
        monkeypatch.setattr(graph, "_capturable", True)
        for n in (3, 3, 3, 3, 5, 1, 3, 2, 2, 2):
            value = np.arange(n, dtype=np.float32) / 4
            (got,) = graph.run([value])
            np.testing.assert_allclose(got, np.exp(value) * 2.0, rtol=1e-6)
    # (3,) warmed up twice, captured on its third call and replayed on its fourth
    # and seventh; (5,), (1,) and (2,) ran plain (a (1,) input must not broadcast)
    assert stub.counts == {"captures": 1, "replays": 3}


def test_loop_bodies_writing_variables_are_not_captured(device):
    v = tf.Variable(0.0)

    @tf.function
    def f(n):
        i = tf.constant(0)
        while i < n:
            v.assign_add(1.0)
            i += 1

    expected = 0.0
    for n in (2, 3, 5, 0, 4, 3, 1):   # more calls than the capture warm-up
        f(tf.constant(n))
        expected += n
        assert v.numpy() == expected
    graph = f.get_concrete_function(tf.constant(1)).graph
    (loop,) = [s for s, name in zip(graph.program, graph.step_names)
               if name == "While"]
    body = loop[4]["body_graph"]
    # the variable is an input of the body graph: a replay would write a copy of it
    assert body._capturable is False


def test_growing_loop_state_on_each_device(device):
    @tf.function
    def grow(n):
        out = tf.zeros([0])
        for i in tf.range(n):
            tf.autograph.experimental.set_loop_options(
                shape_invariants=[(out, tf.TensorShape([None]))])
            out = tf.concat([out, tf.cast(tf.reshape(i * i, [1]), tf.float32)], 0)
        return out

    for n in (4, 6, 3, 5, 2):
        np.testing.assert_array_equal(grow(tf.constant(n)).numpy(),
                                      np.arange(n, dtype=np.float32) ** 2)


# -- host strings and GPU numbers ------------------------------------------------------
def test_strings_indexed_by_a_traced_index(device):
    words = tf.constant([b"a", b"bc", b"d"])

    @tf.function
    def pick(x, i):
        return x[i]

    got = [pick(words, tf.constant(i)).numpy() for i in (1, 2, 0)]
    assert got == [b"bc", b"d", b"a"]

    @tf.function
    def suffixed(x):
        ta = tf.TensorArray(tf.string, size=0, dynamic_size=True)
        for i in tf.range(tf.size(x)):
            ta = ta.write(i, x[i] + b"!")
        return ta.stack()

    assert suffixed(words).numpy().tolist() == [b"a!", b"bc!", b"d!"]


# -- saved_model.load walks objects, never modules ------------------------------------
class _LazyModule(types.ModuleType):
    """As tensorboard's lazy modules: any attribute access may raise ImportError."""

    def __getattr__(self, name):
        raise ImportError("cannot import tensorflow 2.0 API")


def test_loading_does_not_walk_into_modules_or_devices():
    owner = tf.Module()
    owner.lazy = _LazyModule("lazy")
    owner.device_handle = backends.current_device()
    owner.kept = types.SimpleNamespace(inner=tf.Module())
    found = [obj for obj, _ in object_io._method_owners(owner)]
    assert owner in found and owner.kept.inner in found
    assert owner.lazy not in found and owner.device_handle not in found
