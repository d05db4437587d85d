"""dlframe.function: tracing, retracing, signatures, variables, gradients, passes."""

import numpy as np
import pytest

import dlframe as tf


def test_traces_once_per_signature():
    calls = []

    @tf.function
    def f(x, scale):
        calls.append(1)  # Python side effect: trace time only
        return x * scale

    a = tf.constant([1., 2.])
    assert f(a, 2.0).numpy().tolist() == [2., 4.]
    assert f(tf.constant([3., 4.]), 2.0).numpy().tolist() == [6., 8.]
    assert f.experimental_get_tracing_count() == 1 and len(calls) == 1
    f(tf.constant([1., 2., 3.]), 2.0)          # new shape
    f(a, 3.0)                                  # new Python value
    f(tf.constant([1, 2]), 2)                  # new dtype
    assert f.experimental_get_tracing_count() == 4


def test_numpy_inputs_and_nested_structures():
    @tf.function
    def f(d):
        return {"s": d["a"] + d["b"][0], "p": d["b"][1] * 2.0}

    out = f({"a": np.ones(2, np.float32), "b": (tf.constant([1., 2.]), tf.constant(3.))})
    assert out["s"].numpy().tolist() == [2., 3.] and out["p"].numpy() == 6.0


def test_input_signature_accepts_none_dims_and_rejects_mismatch():
    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    def f(x):
        return tf.reduce_sum(x, axis=1)

    assert f(tf.ones((3, 2))).numpy().tolist() == [2., 2., 2.]
    assert f(np.ones((5, 2), np.float32)).shape == (5,)
    with pytest.raises(tf.errors.InvalidArgumentError, match="input_signature"):
        f(tf.ones((3, 3)))
    with pytest.raises(TypeError, match="dtype"):
        f(tf.ones((3, 2), tf.float64))
    conc = f.get_concrete_function()
    assert conc(tf.ones((1, 2))).numpy().tolist() == [2.]
    with pytest.raises(tf.errors.InvalidArgumentError):
        conc(tf.ones((1, 3)))


def test_methods_are_bound_per_instance():
    class Scaler:
        def __init__(self, k):
            self.k = tf.Variable(k)

        @tf.function
        def __call__(self, x):
            return x * self.k

    a, b = Scaler(2.0), Scaler(3.0)
    x = tf.constant(1.0)
    assert a(x).numpy() == 2.0 and b(x).numpy() == 3.0
    a.k.assign(5.0)
    assert a(x).numpy() == 5.0  # variables are read when the graph runs


def test_variables_only_on_first_trace():
    holder = []

    @tf.function
    def f(x):
        if not holder:
            holder.append(tf.Variable(1.0))
        return x * holder[0]

    assert f(tf.constant(2.0)).numpy() == 2.0

    @tf.function
    def g(x):
        v = tf.Variable(1.0)
        return x * v

    # as TF: the first call traces twice when variables are created, and the
    # second trace may not create any, so g fails on its first call
    with pytest.raises(ValueError, match="first call"):
        g(tf.constant(1.0))
    assert f.experimental_get_tracing_count() == 2   # TF counts both traces


def test_second_trace_after_variable_creation_runs_nothing():
    v = tf.Variable(0.0)
    holder = []
    traced = []

    @tf.function
    def step(x):
        traced.append(1)
        if not holder:
            holder.append(tf.Variable(10.0))
        v.assign_add(x)
        return v + holder[0]

    assert step(tf.constant(1.0)).numpy() == 11.0   # assign ran once, not twice
    assert v.numpy() == 1.0 and len(traced) == 2
    assert step(tf.constant(1.0)).numpy() == 12.0 and len(traced) == 2


def test_print_at_trace_time_and_tf_print_at_run_time(capsys):
    @tf.function
    def f(x):
        print("traced")
        tf.print("value:", x, output_stream=__import__("sys").stdout)
        return x

    f(tf.constant(1))
    f(tf.constant(2))
    out = capsys.readouterr().out
    assert out.count("traced") == 1
    assert "value: 1" in out and "value: 2" in out


def test_bool_of_traced_tensor_without_autograph_names_the_line():
    @tf.function(autograph=False)
    def f(x):
        if x > 0:  # this line
            return x
        return -x

    with pytest.raises(TypeError, match=r"test_function.py:\d+"):
        f(tf.constant(1.0))


def test_numpy_of_traced_tensor_is_an_error():
    @tf.function
    def f(x):
        return tf.constant((x * 2).numpy())

    with pytest.raises(tf.OperatorNotAllowedInGraphError):
        f(tf.constant(1.0))


def test_training_step_updates_once_per_call_and_matches_eager():
    def make():
        w = tf.Variable([[0.5], [-0.3]])
        b = tf.Variable([0.1])
        return w, b

    x = tf.constant([[1., 2.], [3., 4.], [0.5, -1.]])
    y = tf.constant([[1.], [2.], [0.]])

    def step(w, b):
        with tf.GradientTape() as tape:
            pred = x @ w + b
            loss = tf.reduce_mean((pred - y) ** 2)
        gw, gb = tape.gradient(loss, [w, b])
        w.assign_sub(0.1 * gw)
        b.assign_sub(0.1 * gb)
        return loss

    we, be = make()
    wg, bg = make()
    compiled = tf.function(lambda: step(wg, bg))
    for _ in range(4):
        le = step(we, be)
        lg = compiled()
        np.testing.assert_allclose(lg.numpy(), le.numpy(), rtol=1e-6)
    np.testing.assert_allclose(wg.numpy(), we.numpy(), rtol=1e-6)
    np.testing.assert_allclose(bg.numpy(), be.numpy(), rtol=1e-6)


def test_gradient_of_function_call_under_outer_tape():
    f = tf.function(lambda x: tf.sin(x) * x)
    x = tf.constant(0.7)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(),
                               np.cos(0.7) * 0.7 + np.sin(0.7), rtol=1e-6)


def test_run_functions_eagerly():
    seen = []

    @tf.function
    def f(x):
        seen.append(1)
        return x + 1

    tf.config.run_functions_eagerly(True)
    try:
        f(tf.constant(1))
        f(tf.constant(1))
    finally:
        tf.config.run_functions_eagerly(False)
    assert len(seen) == 2


def test_retracing_warning():
    f = tf.function(lambda x: x)
    with pytest.warns(UserWarning, match="retracing"):
        for i in range(8):
            f(i)


PASSES = ["constant_folding", "common_subgraph_elimination", "dependency_optimization",
          "memory_optimization"]


def _program(x):
    c = tf.constant([1., 2.]) * 3.0 + 1.0     # foldable
    a = tf.exp(x) * c
    b = tf.exp(x) * c                          # common subexpression
    _unused = tf.sin(x) * 100.0                # dead code
    return a + b


@pytest.mark.parametrize("off", PASSES)
def test_each_graph_pass_preserves_results(off):
    x = tf.constant([0.1, -0.2])
    expect = _program(x).numpy()
    tf.config.optimizer.set_experimental_options({off: False})
    try:
        f = tf.function(_program)
        f(x)
        got = f(tf.constant([0.1, -0.2])).numpy()
        conc = f.get_concrete_function(x)
    finally:
        tf.config.optimizer.set_experimental_options({off: True})
    np.testing.assert_allclose(got, expect, rtol=1e-6)
    on = tf.function(_program).get_concrete_function(x)
    if off == "memory_optimization":
        assert any(step[-1] for step in on.graph.program)
        assert not any(step[-1] for step in conc.graph.program)
    else:
        assert len(on.graph.node_names) < len(conc.graph.node_names)


def test_passes_shrink_the_graph():
    g = tf.function(_program).get_concrete_function(tf.constant([0.1, -0.2])).graph
    assert g.stats["traced"] > g.stats["final"]
    assert g.node_names.count("Exp") == 1 and "Sin" not in g.node_names


def test_elementwise_fusion_groups_chains_and_preserves_results(monkeypatch):
    """The GPU fusion pass, exercised on CPU with a device that 'fuses' by composition."""
    from dlframe import backends
    dev = backends.get_device("cpu:0")
    fused_calls = []

    def fake_fuse(fn):
        def kernel(*arrays):
            fused_calls.append(len(arrays))
            return fn(*arrays)
        return kernel
    monkeypatch.setattr(type(dev), "fuses", True)
    monkeypatch.setattr(dev, "fuse", fake_fuse, raising=False)

    def chain(x, y):
        a = tf.exp(x) * y            # Exp -> Mul -> Add -> Tanh: one fused kernel
        return tf.tanh(a + 1.0), tf.reduce_sum(x)

    with tf.device("cpu:0"):   # the patched device (GPU: test_gpu_fixes_round21_F)
        x, y = tf.constant([0.1, 0.2, -0.3]), tf.constant([1.0, 2.0, 3.0])
        expect = [o.numpy() for o in chain(x, y)]
        f = tf.function(chain)
        f(x, y)
        got = f(x, y)
    for g, e in zip(got, expect):
        np.testing.assert_allclose(g.numpy(), e, rtol=1e-6)
    graph = f.get_concrete_function(x, y).graph
    assert graph.stats["after_fusion"] < graph.stats["final"]
    assert fused_calls and fused_calls[-1] == 3  # x, y and the constant 1.0
