"""tf.function gaps closed in round 17: LinearOperators as function arguments and
results, py_function results of unknown shape at trace time, ``tf.gradients`` in a
function called under an eager tape, trace counts of a Keras ``call`` with an
input signature and ``ConcreteFunction.graph`` outputs. Expected values and counts
came from TF 2.21 unless derived by hand or by finite differences."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import numeric_grad

# -- 1. LinearOperators are composite values --------------------------------------


def test_linear_operator_returned_from_function_works():
    matrix = np.array([[2.0, 1.0], [1.0, 3.0]], np.float32)

    @tf.function
    def make(m):
        return tf.linalg.LinearOperatorFullMatrix(m, is_self_adjoint=True)

    op = make(tf.constant(matrix))
    assert type(op).__name__ == "LinearOperatorFullMatrix"
    assert op.is_self_adjoint and op.shape.as_list() == [2, 2]
    np.testing.assert_allclose(op.to_dense().numpy(), matrix)
    np.testing.assert_allclose(op.matvec(tf.constant([1.0, 2.0])).numpy(),
                               matrix @ [1.0, 2.0])


def test_nested_operator_returned_from_function():
    @tf.function
    def make(a, d):
        return tf.linalg.LinearOperatorComposition(
            [tf.linalg.LinearOperatorFullMatrix(a), tf.linalg.LinearOperatorDiag(d)])

    a = np.array([[2.0, 1.0], [1.0, 3.0]], np.float32)
    d = np.array([1.0, 2.0], np.float32)
    op = make(tf.constant(a), tf.constant(d))
    assert type(op).__name__ == "LinearOperatorComposition"
    np.testing.assert_allclose(op.to_dense().numpy(), a @ np.diag(d))
    ident = tf.function(lambda: tf.linalg.LinearOperatorIdentity(3))()
    np.testing.assert_allclose(ident.to_dense().numpy(), np.eye(3))


def test_operator_argument_traces_by_structure_and_sees_variables():
    v = tf.Variable([1.0, 2.0])
    op = tf.linalg.LinearOperatorDiag(v)

    @tf.function
    def f(op, x):
        return op.matvec(x)

    np.testing.assert_allclose(f(op, tf.constant([1.0, 1.0])).numpy(), [1.0, 2.0])
    v.assign([3.0, 4.0])
    np.testing.assert_allclose(f(op, tf.constant([1.0, 1.0])).numpy(), [3.0, 4.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(f(op, tf.constant([1.0, 2.0])))
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), [1.0, 2.0])
    other = tf.linalg.LinearOperatorDiag(tf.constant([5.0, 6.0]))
    np.testing.assert_allclose(f(other, tf.constant([1.0, 1.0])).numpy(), [5.0, 6.0])
    bigger = tf.linalg.LinearOperatorDiag(tf.constant([5.0, 6.0, 7.0]))
    np.testing.assert_allclose(f(bigger, tf.ones([3])).numpy(), [5.0, 6.0, 7.0])
    # a Variable-backed, a tensor-backed and a bigger operator (TF 2.21: 3 traces)
    assert f.experimental_get_tracing_count() == 3


def test_operator_through_loops_branches_and_nest():
    diag = tf.linalg.LinearOperatorDiag(tf.constant([5.0, 6.0]))

    @tf.function
    def loop(op):
        def body(i, o):
            return i + 1, tf.linalg.LinearOperatorDiag(o.diag * 2.0)
        return tf.while_loop(lambda i, o: i < 3, body, [0, op])[1]

    np.testing.assert_allclose(loop(diag).diag.numpy(), [40.0, 48.0])

    @tf.function
    def branch(p, op):
        return tf.cond(p, lambda: op,
                       lambda: tf.linalg.LinearOperatorDiag(op.diag + 1.0))

    np.testing.assert_allclose(branch(tf.constant(False), diag).diag.numpy(),
                               [6.0, 7.0])
    np.testing.assert_allclose(branch(tf.constant(True), diag).diag.numpy(),
                               [5.0, 6.0])
    composed = tf.linalg.LinearOperatorComposition(
        [diag, tf.linalg.LinearOperatorFullMatrix(tf.ones([2, 2]))])
    assert len(tf.nest.flatten(diag, expand_composites=True)) == 1
    assert len(tf.nest.flatten(composed, expand_composites=True)) == 2


# -- 3. tf.gradients in a function called under an eager tape ----------------------


@tf.function
def _value_and_gradients(v):
    y = v * v * v
    return y, tf.gradients(y, v)[0]


def test_gradients_inside_function_called_under_eager_tape():
    x = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y, g = _value_and_gradients(x)
    assert float(y) == 27.0 and float(g) == 27.0   # d(v^3)/dv = 3 v^2
    assert float(tape.gradient(y, x)) == 27.0


def test_outer_tape_differentiates_the_inner_gradients():
    c = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(c)
        _y, g = _value_and_gradients(c)
    # d/dc of the inner gradient (3 c^2) = 6 c, against finite differences of it
    numeric = numeric_grad(
        lambda a: float(tf.reduce_sum(_value_and_gradients(tf.constant(a))[1])),
        [np.array([2.0])], 0)
    second = float(tape.gradient(g, c))
    np.testing.assert_allclose(second, numeric[0], rtol=1e-5)
    assert second == 12.0


def test_gradients_outside_any_function_still_refused():
    with pytest.raises(RuntimeError, match="GradientTape instead"):
        tf.gradients(tf.constant(1.0), tf.constant(2.0))


# -- 5. ConcreteFunction.graph inputs and outputs ----------------------------------


def test_concrete_graph_outputs_are_symbolic_tensors():
    @tf.function
    def f(x, y):
        return {"s": x + y, "p": tf.reduce_sum(x * y)}, tf.cast(x, tf.int32)

    spec = tf.TensorSpec([None, 3], tf.float32)
    cf = f.get_concrete_function(spec, spec)
    outs = cf.graph.outputs
    # flattened with dict keys sorted: p, s, then the cast (as TF 2.21)
    assert [o.shape.as_list() for o in outs] == [[], [None, 3], [None, 3]]
    assert [o.dtype for o in outs] == [tf.float32, tf.float32, tf.int32]
    assert all(isinstance(o.name, str) and o.name.endswith(":0") for o in outs)
    assert [i.shape.as_list() for i in cf.graph.inputs] == [[None, 3], [None, 3]]
    assert cf.output_shapes[0]["p"].as_list() == []
    assert cf.output_dtypes[1] == tf.int32
    assert cf.structured_outputs[0]["s"].shape.as_list() == [None, 3]
    x = np.ones((2, 3), np.float32)
    out, cast = cf(tf.constant(x), tf.constant(x))
    assert float(out["p"]) == 6.0 and cast.dtype == tf.int32


# -- 4. trace counts of a Keras call wrapped in tf.function -------------------------


class _SignedModel(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = tf.keras.layers.Dense(3)
        self.traces = 0

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    def call(self, x):
        self.traces += 1
        return self.dense(x)


def test_keras_call_with_input_signature_traces_once():
    model = _SignedModel()
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    out = model(tf.constant(x))
    assert out.shape == (2, 3) and model.traces == 1
    assert model(tf.ones([5, 4])).shape == (5, 3)
    # TF 2.21: Keras builds the model in a symbolic pass, so one trace in all
    assert model.call.experimental_get_tracing_count() == 1
    kernel, bias = model.dense.kernel.numpy(), model.dense.bias.numpy()
    np.testing.assert_allclose(out.numpy(), x @ kernel + bias, rtol=1e-5)


def test_keras_call_wrapped_on_the_instance_traces_once():
    class Plain(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = tf.keras.layers.Dense(3)

        def call(self, x):
            return self.dense(x)

    model = Plain()
    model.call = tf.function(model.call,
                             input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    assert model(tf.ones([2, 4])).shape == (2, 3)
    assert model(tf.ones([6, 4])).shape == (6, 3)
    assert model.call.experimental_get_tracing_count() == 1


def test_plain_function_creating_variables_still_traces_twice():
    dense = tf.keras.layers.Dense(3)

    @tf.function
    def f(x):
        return dense(x)

    f(tf.ones([2, 4]))
    assert f.experimental_get_tracing_count() == 2   # TF 2.21: the lifting retrace


# -- 2. py_function results of unknown shape at trace time --------------------------


def _counting_py_function():
    calls = []

    def double(x):
        calls.append(1)
        return x * 2

    @tf.function
    def tail(x):
        r = tf.py_function(double, [x], tf.float32)
        return r[1:]

    return tail, calls


def test_concrete_function_of_sliced_py_function_result_runs_no_body():
    tail, calls = _counting_py_function()
    cf = tail.get_concrete_function(tf.TensorSpec([None], tf.float32))
    assert calls == []   # TF 2.21: tracing does not call the body
    assert cf.output_shapes.rank is None
    np.testing.assert_allclose(cf(tf.constant([1.0, 2.0, 3.0])).numpy(), [4.0, 6.0])
    assert len(calls) == 1
    np.testing.assert_allclose(tail(tf.constant([1.0, 2.0, 3.0])).numpy(), [4.0, 6.0])


def test_shape_of_unknown_rank_py_function_result_has_unknown_length():
    seen = []

    @tf.function
    def shape_of(x):
        r = tf.py_function(lambda v: v * 2, [x], tf.float32)
        s = tf.shape(r)
        seen.append(s.shape.as_list())
        return s

    np.testing.assert_array_equal(shape_of(tf.constant([1.0, 2.0])).numpy(), [2])
    np.testing.assert_array_equal(shape_of(tf.ones([2, 3])).numpy(), [2, 3])
    assert seen[0] == [None]   # TF 2.21: the rank of r is unknown


# -- 7. out-of-scope descriptions are formatted only when used ----------------------


def test_leaked_tensor_error_still_describes_the_tensor():
    leak = []

    @tf.function
    def f(x):
        y = x * 2.0
        leak.append(y)
        return y + 1.0

    f(tf.ones([2, 3]))
    device = leak[0]._device
    assert "description" not in type(device).__slots__   # formatted when used
    assert device.description == "<tf.Tensor 'mul:0' shape=(2, 3) dtype=float32>"
    with pytest.raises(TypeError, match=r"shape=\(2, 3\) dtype=float32> is out of"):
        leak[0] + 1.0
