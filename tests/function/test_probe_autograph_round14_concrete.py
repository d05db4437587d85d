"""Round-14 probes of ``tf.function`` objects: concrete functions called with
keyword arguments, their introspection, per-instance tracing of decorated methods,
``reduce_retracing``, ``run_functions_eagerly`` switching and odd return values."""

import collections

import numpy as np
import pytest

import dlframe as tf


@tf.function
def _mix(x, scale=2.0, bias=None):
    out = {"y": x * scale, "n": tf.shape(x)[0]}
    if bias is not None:
        out["y"] = out["y"] + bias
    return out


@pytest.fixture(scope="module")
def keyword_concrete():
    return _mix.get_concrete_function(x=tf.TensorSpec([None], tf.float32), scale=3.0,
                                      bias=tf.TensorSpec([], tf.float32))


@pytest.mark.parametrize("call", [
    lambda cf, x, b: cf(x=x, bias=b),      # keywords sort as bias, x
    lambda cf, x, b: cf(bias=b, x=x),
    lambda cf, x, b: cf(x, bias=b),
    lambda cf, x, b: cf(x, 3.0, b),
])
def test_concrete_function_binds_keywords_in_parameter_order(keyword_concrete, call):
    x = tf.constant([1.0, 2.0])
    out = call(keyword_concrete, x, tf.constant(0.5))
    np.testing.assert_allclose(out["y"].numpy(), [3.5, 6.5])   # x * 3 + 0.5
    assert out["n"].numpy() == 2


def test_concrete_function_introspection(keyword_concrete):
    args, kwargs = keyword_concrete.structured_input_signature
    assert kwargs == {}
    assert [getattr(a, "name", a) for a in args] == ["x", 3.0, "bias"]
    assert [(t.shape.as_list(), t.dtype) for t in keyword_concrete.inputs] == [
        ([None], tf.float32), ([], tf.float32)]
    assert sorted(keyword_concrete.structured_outputs) == ["n", "y"]
    assert sorted((t.shape.as_list(), t.dtype.name)
                  for t in keyword_concrete.outputs) == [([], "int32"),
                                                         ([None], "float32")]
    assert len(keyword_concrete.graph.get_operations()) > 0


def test_concrete_call_by_keyword_without_python_defaults():
    cf = _mix.get_concrete_function(tf.TensorSpec([None], tf.float32))
    for out in (cf(tf.constant([1.0, 2.0])), cf(x=tf.constant([1.0, 2.0]))):
        np.testing.assert_allclose(out["y"].numpy(), [2.0, 4.0])


def test_namedtuple_and_none_returns():
    point = collections.namedtuple("Point", ["a", "b"])
    nt = tf.function(lambda x: point(a=x, b=x * 2))
    got = nt(tf.constant(1.5))
    assert type(got) is point and got.b.numpy() == 3.0
    assert type(nt.get_concrete_function(
        tf.TensorSpec([2], tf.float32)).structured_outputs) is point

    @tf.function
    def nothing(x):
        tf.print(x)
    assert nothing(tf.constant(1.0)) is None
    cf = nothing.get_concrete_function(tf.TensorSpec([], tf.float32))
    assert cf.structured_outputs is None and list(cf.outputs) == []


def test_decorated_methods_trace_once_per_instance():
    class Scale(tf.Module):
        def __init__(self, w):
            super().__init__()
            self.w = tf.Variable(w)

        @tf.function
        def __call__(self, x):
            return x * self.w

    class Project(tf.keras.layers.Layer):
        def build(self, shape):
            self.k = self.add_weight(shape=(shape[-1], 2), initializer="ones")

        @tf.function
        def call(self, x):
            return tf.matmul(x, self.k)

    m1, m2 = Scale(2.0), Scale(5.0)
    assert m1(tf.constant(1.0)).numpy() == 2.0
    assert m2(tf.constant(3.0)).numpy() == 15.0
    assert m1(tf.constant(4.0)).numpy() == 8.0
    assert m1.__call__.experimental_get_tracing_count() == 1
    assert m2.__call__.experimental_get_tracing_count() == 1
    l1, l2 = Project(), Project()
    np.testing.assert_allclose(l1(tf.ones([1, 3])).numpy(), [[3.0, 3.0]])
    np.testing.assert_allclose(l2(tf.ones([2, 4])).numpy(), np.full((2, 2), 4.0))
    assert l1.call.experimental_get_tracing_count() == 1
    assert l2.call.experimental_get_tracing_count() == 1


def test_reduce_retracing_and_jit_compile_results():
    rr = tf.function(lambda x: tf.reduce_sum(x), reduce_retracing=True)
    for n in range(1, 5):
        assert rr(tf.ones([n])).numpy() == n
    assert rr.experimental_get_tracing_count() == 2   # as TF 2.21

    jc = tf.function(lambda x, y: tf.nn.relu(tf.matmul(x, y)) + 1.0, jit_compile=True)
    a = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.0
    b = np.ones((3, 2), np.float32)
    np.testing.assert_allclose(jc(tf.constant(a), tf.constant(b)).numpy(),
                               np.maximum(a @ b, 0) + 1.0)


def test_run_functions_eagerly_switch_mid_program_and_python_function():
    calls = []

    @tf.function
    def f(x):
        calls.append(1)
        return x + 1

    f(tf.constant(1))
    f(tf.constant(2))
    tf.config.run_functions_eagerly(True)
    try:
        assert tf.config.functions_run_eagerly()
        assert f(tf.constant(3)).numpy() == 4
        f(tf.constant(4))
    finally:
        tf.config.run_functions_eagerly(False)
    assert f(tf.constant(5)).numpy() == 6
    assert len(calls) == 3   # one trace, two eager runs, then the cached trace
    assert f.python_function.__name__ == "f"
    assert f.python_function(tf.constant(1)).numpy() == 2
    assert len(calls) == 4
