"""Bad input raises TF's error types eagerly and inside ``tf.function`` (round 16).

Eager TF kernels raise ``InvalidArgumentError``; while tracing a ``tf.function``
TF's shape inference raises ``ValueError`` (bad shapes, axes, sizes) or ``TypeError``
(a dtype the op has no kernel for), and value-dependent checks (an index out of
range) stay ``InvalidArgumentError``. dlframe checks real values while tracing, so
inside a function it raises classes deriving from both. Types came from TF 2.21.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe import errors

InvalidArgumentError = errors.InvalidArgumentError

# static mistakes: eager InvalidArgumentError, traced ValueError (TF 2.21)
_SHAPE_CASES = {
    "matmul": (lambda: tf.matmul(tf.ones([2, 3]), tf.ones([4, 5])), r"\[2, 3\]"),
    "reshape": (lambda: tf.reshape(tf.ones([2, 3]), [4, 2]), "6 values"),
    "transpose": (lambda: tf.transpose(tf.ones([2, 3]), perm=[0, 2]), None),
    "split": (lambda: tf.split(tf.ones([5, 3]), 2), "evenly divide"),
    "gather_axis": (lambda: tf.gather(tf.ones([3, 2]), [0], axis=3), None),
    "one_hot_depth": (lambda: tf.one_hot([1, 2], -1), None),
    "tile": (lambda: tf.tile(tf.ones([2, 3]), [2]), None),
    "pad": (lambda: tf.pad(tf.ones([2, 3]), [[1, 1]]), None),
    "expand_dims": (lambda: tf.expand_dims(tf.ones([2, 3]), axis=5), None),
    "top_k": (lambda: tf.math.top_k(tf.ones([3]), k=5), None),
    "einsum": (lambda: tf.einsum("ij,jk->ik", tf.ones([2, 3]), tf.ones([4, 5])),
               None),
    "bias_add": (lambda: tf.nn.bias_add(tf.ones([2, 3]), tf.ones([4])), None),
    "getitem": (lambda: tf.ones([2, 3])[5], "slice index 5 of dimension 0"),
    "zeros": (lambda: tf.zeros([-1, 2]), None),
}


@pytest.mark.parametrize("case", sorted(_SHAPE_CASES))
def test_static_mistake_is_value_error_when_traced(case):
    fn, pattern = _SHAPE_CASES[case]
    with pytest.raises(InvalidArgumentError, match=pattern):
        fn()
    with pytest.raises(ValueError, match=pattern) as info:
        tf.function(fn)()
    assert isinstance(info.value, InvalidArgumentError)   # eager-style code still works


def test_eager_static_mistake_stays_plain_invalid_argument():
    # TF eager raises InvalidArgumentError only; `except ValueError` must not catch it
    with pytest.raises(InvalidArgumentError) as info:
        tf.matmul(tf.ones([2, 3]), tf.ones([4, 5]))
    assert not isinstance(info.value, ValueError)
    with pytest.raises(InvalidArgumentError) as info:
        tf.ones([2, 3])[5]
    assert not isinstance(info.value, ValueError)


_DTYPE_CASES = {
    "log": lambda: tf.math.log(tf.constant([1, 2])),
    "sqrt": lambda: tf.sqrt(tf.constant([1, 2])),
    "softmax": lambda: tf.nn.softmax(tf.constant([1, 2])),
    "det": lambda: tf.linalg.det(tf.constant([[1, 2], [2, 1]])),
    "reduce_sum_string": lambda: tf.reduce_sum(tf.constant(["a"])),
    "gather_float_indices": lambda: tf.gather(tf.ones([3, 2]), [0.0]),
    "one_hot_float_indices": lambda: tf.one_hot([1.0, 2.0], 3),
}


@pytest.mark.parametrize("case", sorted(_DTYPE_CASES))
def test_unsupported_dtype_is_type_error_when_traced(case):
    fn = _DTYPE_CASES[case]
    with pytest.raises(InvalidArgumentError):
        fn()
    with pytest.raises(TypeError) as info:
        tf.function(fn)()
    assert isinstance(info.value, InvalidArgumentError)
    assert "int32" in str(info.value) or "float32" in str(info.value) or \
        "string" in str(info.value)


@pytest.mark.parametrize("fn", [
    lambda: tf.gather(tf.ones([3, 2]), [0, 5]),
    lambda: tf.debugging.assert_positive(tf.constant([1.0, -1.0]), message="mymsg"),
    lambda: tf.debugging.check_numerics(tf.constant([np.inf]), "mymsg"),
])
def test_value_dependent_errors_stay_invalid_argument_in_function(fn):
    # on the CPU: a GPU gathers an out-of-range index as zeros (TF's GPU kernel too)
    with tf.device("/CPU:0"), pytest.raises(InvalidArgumentError):
        tf.function(fn)()


def test_traced_error_keeps_message_and_op():
    with pytest.raises(ValueError) as info:
        tf.function(lambda: tf.reshape(tf.ones([2, 3]), [4, 2]))()
    assert "requested shape has 8" in str(info.value)
    assert "requested shape has 8" in info.value.message


def test_traced_function_still_works_after_a_failed_trace():
    @tf.function
    def f(x, n):
        return tf.reshape(x, [n, -1])

    with pytest.raises(ValueError):
        f(tf.ones([2, 3]), 4)
    np.testing.assert_array_equal(f(tf.ones([2, 3]), 3).numpy(), np.ones((3, 2)))


# ------------------------------------------------------------------ GradientTape
def test_second_jacobian_on_non_persistent_tape_is_runtime_error():
    x = tf.Variable([2.0, 3.0])
    with tf.GradientTape() as tape:
        y = x * x
    np.testing.assert_allclose(tape.jacobian(y, x).numpy(), np.diag([4.0, 6.0]))
    with pytest.raises(RuntimeError, match="non-persistent"):
        tape.jacobian(y, x)
    with pytest.raises(RuntimeError, match="non-persistent"):
        tape.gradient(y, x)


def test_second_batch_jacobian_on_non_persistent_tape_is_runtime_error():
    x = tf.Variable([[2.0], [3.0]])
    with tf.GradientTape() as tape:
        y = x * x
    np.testing.assert_allclose(tape.batch_jacobian(y, x).numpy().ravel(), [4.0, 6.0])
    with pytest.raises(RuntimeError, match="non-persistent"):
        tape.batch_jacobian(y, x)


def test_persistent_tape_jacobian_twice_works():
    x = tf.Variable([2.0])
    with tf.GradientTape(persistent=True) as tape:
        y = x * x
    for _ in range(2):
        np.testing.assert_allclose(tape.jacobian(y, x).numpy(), [[4.0]])


# ------------------------------------------------------------------ strings
def test_string_join_shape_mismatch_is_invalid_argument_naming_shapes():
    # TF 2.21 eager: InvalidArgumentError "Input shapes do not match: [2] vs. [3]"
    with pytest.raises(InvalidArgumentError, match=r"\[2\] vs. \[3\]") as info:
        tf.strings.join([tf.constant(["a", "b"]), tf.constant(["a", "b", "c"])])
    assert isinstance(info.value, ValueError)   # graph-mode TF: ValueError
    out = tf.strings.join([tf.constant(["a", "b"]), tf.constant("x")], separator="-")
    assert out.numpy().tolist() == [b"a-x", b"b-x"]


def test_graph_time_error_keeps_the_original_attributes():
    exc = InvalidArgumentError(None, "Reshape", "bad shape")
    exc.from_py_function = True
    new = errors.graph_time_error(exc)
    assert isinstance(new, ValueError) and isinstance(new, InvalidArgumentError)
    assert new.from_py_function and new.op == "Reshape" and str(new) == "bad shape"
    dtype_error = errors.graph_time_error(InvalidArgumentError(
        "Log: Value for attr 'T' of int32 is not in the list of allowed values"))
    assert isinstance(dtype_error, TypeError)
    other = ValueError("x")
    assert errors.graph_time_error(other) is other
