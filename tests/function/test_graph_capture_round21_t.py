"""Which traced steps a CUDA graph replays, and replays from several threads (T).

A stand-in for ``Device.capture_step`` keeps static input buffers as a CUDA graph
does (under the fake CuPy every replay runs with the stream "capturing", so host
reads raise); on the CPU a stand-in device drives the same capture logic.
"""

import contextlib
import threading
import time

import numpy as np

import dlframe as tf
from dlframe import backends


class _StandInStep:
    """Stands for a captured graph: inputs are copied into static buffers that every
    replay shares; ``pause`` widens the window in which two replays could mix."""

    def __init__(self, counts, execute, template, n_inputs, outputs, pause):
        self.counts, self.execute, self.outputs = counts, execute, outputs
        self.slots = [a.copy() if i < n_inputs else a for i, a in enumerate(template)]
        self.n_inputs, self.pause = n_inputs, pause
        self.inside = 0
        counts["captures"] += 1

    def __call__(self, arrays):
        self.inside += 1
        self.counts["most_inside"] = max(self.counts["most_inside"], self.inside)
        for buf, a in zip(self.slots[:self.n_inputs], arrays):
            buf[...] = a
        time.sleep(self.pause)
        slots = list(self.slots)
        with _capturing():
            self.execute(slots, free=False)
        self.counts["replays"] += 1
        self.inside -= 1
        return [slots[s].copy() for s in self.outputs]


def _capturing():
    try:
        import cupy
    except ImportError:
        return contextlib.nullcontext()
    fake = getattr(cupy.cuda, "fake_capture", None)
    return fake() if fake is not None else contextlib.nullcontext()


class _StandInDevice:
    def context(self):
        return contextlib.nullcontext()

    def capture_step(self, execute, template, n_inputs, outputs):
        raise NotImplementedError("replaced by _capture_with_stand_in")


def _capture_with_stand_in(monkeypatch, graph, pause=0.0):
    """Makes ``graph`` capture with ``_StandInStep``; returns the counts."""
    counts = {"captures": 0, "replays": 0, "most_inside": 0}

    def capture_step(device, execute, template, n_inputs, outputs):
        return _StandInStep(counts, execute, template, n_inputs, outputs, pause)
    if graph.gpu_device is None:   # on the CPU, as a GPU would
        monkeypatch.setattr(graph, "gpu_device", _StandInDevice())
        monkeypatch.setattr(graph, "_capturable", graph._replayable)
    # patch the class: an instance patch, once undone, leaves the original method
    # stuck on the shared device object and hides later class-level stubs
    monkeypatch.setattr(type(graph.gpu_device), "capture_step", capture_step)
    return counts


def _values(n, seed):
    return np.random.default_rng(seed).standard_normal((n, 3)).astype(np.float32)


def test_assigning_a_plain_input_is_captured_and_replays(device, monkeypatch):
    # the effect reads the input x, which a replay refreshes in its static buffer,
    # and writes the variable v (its own buffer, not an input copy)
    with tf.device(device):
        v = tf.Variable(np.zeros(3, np.float32))

        @tf.function
        def f(x):
            v.assign(x)
            return v * 2.0

        xs = _values(7, 0)
        first = f(tf.constant(xs[0]))
        graph = f.get_concrete_function(tf.constant(xs[0])).graph._graph
        assert graph._replayable
        assert graph._capturable == backends.get_device(device).is_gpu
        counts = _capture_with_stand_in(monkeypatch, graph)
        got = [first.numpy()]
        for x in xs[1:]:
            got.append(f(tf.constant(x)).numpy())
            np.testing.assert_array_equal(v.numpy(), x)
    np.testing.assert_array_equal(np.stack(got), xs * 2.0)
    # two plain runs, then captured on the third and replayed from then on
    assert counts["captures"] == 1 and counts["replays"] == len(xs) - 3, counts


def test_a_branch_writing_its_input_variable_is_not_captured(device, monkeypatch):
    with tf.device(device):
        v = tf.Variable(0.0)

        @tf.function
        def f(x):
            if x > 0.0:
                v.assign_add(x)   # v is an input of the branch graph
            return v * 1.0

        f(tf.constant(1.0))
        graph = f.get_concrete_function(tf.constant(1.0)).graph._graph
        (step,) = [s for s, name in zip(graph.program, graph.step_names)
                   if name == "If"]
        branches = [b.graph for b in step[4]["branches"]]
        writes = [b for b in branches if b.has_effects]
        assert len(writes) == 1 and not writes[0]._replayable
        assert not graph._replayable   # the If decides on the host
        counts = [_capture_with_stand_in(monkeypatch, g) for g in [graph, *branches]]
        expected = 1.0
        for x in (2.0, -1.0, 3.0, 0.5, 4.0, 4.0, -2.0, 1.5):
            got = f(tf.constant(x))
            expected += max(x, 0.0)
            assert got.numpy() == expected and v.numpy() == expected
    # neither the If's graph nor the branch writing v is ever captured
    assert counts[0]["captures"] == counts[branches.index(writes[0]) + 1][
        "captures"] == 0


def test_threads_replaying_one_captured_step_do_not_mix(device, monkeypatch):
    dev = backends.get_device(device)
    with tf.device(device):
        f = tf.function(lambda x: tf.exp(x) * 2.0 + 1.0)
        x0 = tf.constant(_values(1, 1)[0])
        f(x0)
        graph = f.get_concrete_function(x0).graph._graph
    counts = _capture_with_stand_in(monkeypatch, graph, pause=0.002)
    for _ in range(3):   # two warm-up runs, then the capture
        graph.run([x0._value])
    assert counts["captures"] == 1
    n_threads, calls = 4, 6
    start = threading.Barrier(n_threads)
    wrong = []

    def replay(k):
        xs = _values(calls, 10 + k)
        start.wait()
        for x in xs:
            (out,) = graph.run([dev.asarray(x)])
            if not np.allclose(dev.to_numpy(out), np.exp(x) * 2.0 + 1.0, rtol=1e-6):
                wrong.append((k, x))

    threads = [threading.Thread(target=replay, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not wrong
    assert counts["replays"] == 1 + n_threads * calls
    assert counts["most_inside"] == 1   # one replay at a time
