"""Regressions found by running TF-guide style ``tf.function`` / AutoGraph programs
under dlframe and TensorFlow 2.21 side by side (expected values below were checked
against TF 2.21 or computed in plain Python/NumPy)."""

import sys

import numpy as np
import pytest

import dlframe as tf


# -- outputs and call binding --------------------------------------------------------
def test_python_values_returned_become_tensors_none_stays():
    @tf.function
    def f(x):
        return x, 3, None, "s", [2.0, x], {"b": 5}

    out = f(tf.constant(1))
    assert isinstance(out[1], tf.Tensor) and out[1].dtype == tf.int32
    assert int(out[1]) == 3 and out[2] is None
    assert out[3].dtype == tf.string and out[3].numpy() == b"s"
    assert out[4][0].dtype == tf.float32 and float(out[4][0]) == 2.0
    assert int(out[5]["b"]) == 5
    again = f(tf.constant(1))   # replayed graph: same conversion
    assert isinstance(again[1], tf.Tensor) and int(again[1]) == 3
    spec = f.get_concrete_function(tf.TensorSpec([], tf.int32)).structured_outputs
    assert spec[1].shape == [] and spec[1].dtype == tf.int32   # a symbolic tensor


def test_returning_a_generator_is_a_type_error():
    @tf.function
    def gen(n):
        yield from range(3)

    with pytest.raises(TypeError, match="generator"):
        gen(tf.constant(3))


def test_keyword_and_default_arguments_share_one_trace():
    @tf.function
    def f(x, y=2, training=False):
        return x * y

    a = tf.constant(1.0)
    for call in (lambda: f(a), lambda: f(x=a), lambda: f(a, 2), lambda: f(a, y=2),
                 lambda: f(a, training=False), lambda: f(a, 2, False)):
        assert float(call()) == 2.0
    assert f.experimental_get_tracing_count() == 1
    f(a, training=True)
    f(a, 2, training=True)
    assert f.experimental_get_tracing_count() == 2
    with pytest.raises(TypeError):
        f(a, bogus=1)
    with pytest.raises(TypeError):
        f()


def test_input_signature_structure_mismatch_is_type_error():
    sig = [{"a": tf.TensorSpec([None, 3], tf.float32),
            "b": (tf.TensorSpec([], tf.int32), tf.TensorSpec([None], tf.float32))}]

    @tf.function(input_signature=sig)
    def h(d):
        return tf.reduce_sum(d["a"]) + tf.cast(d["b"][0], tf.float32) + tf.reduce_sum(
            d["b"][1])

    assert float(h({"a": tf.ones([2, 3]), "b": (tf.constant(3), tf.ones([4]))})) == 13.0
    with pytest.raises(TypeError):
        h({"a": tf.ones([2, 3])})
    with pytest.raises(TypeError):
        h({"a": tf.ones([2, 3]), "b": (tf.constant(3),)})
    with pytest.raises(TypeError):
        h({"a": tf.ones([2, 4]), "b": (tf.constant(3), tf.ones([4]))})


def test_concrete_function_converts_python_and_numpy_arguments():
    @tf.function
    def f(x):
        return x * 2

    cf = f.get_concrete_function(tf.TensorSpec([None], tf.float32))
    np.testing.assert_array_equal(cf([1.0, 2.0]).numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(cf(x=[1.0, 2.0, 3.0]).numpy(), [2.0, 4.0, 6.0])
    np.testing.assert_array_equal(cf(np.array([1.0], np.float32)).numpy(), [2.0])
    assert f.experimental_get_tracing_count() == 1
    with pytest.raises(tf.errors.InvalidArgumentError):
        cf(tf.constant([1, 2]))


def test_compiler_ir_getter_lists_the_graph():
    @tf.function(jit_compile=True)
    def f(x):
        return tf.reduce_sum(x * x)

    ir = f.experimental_get_compiler_ir(tf.constant([1.0, 2.0]))
    text = ir(stage="hlo")
    assert isinstance(text, str) and text.startswith("HloModule f")
    with pytest.raises(ValueError, match="stage"):
        ir(stage="bogus")


def test_recursive_function_on_python_values():
    @tf.function
    def fact(n):
        if n <= 1:
            return tf.constant(1)
        return n * fact(n - 1)

    assert int(fact(5)) == 120


# -- AutoGraph: variables defined in one branch or inside a loop ---------------------
def test_temporary_assigned_in_one_branch_is_fine():
    @tf.function
    def g(x):
        if x > 0:
            y = x * 2
            x = y + 1
        return x

    assert int(g(tf.constant(1))) == 3
    assert int(g(tf.constant(-4))) == -4


def test_variable_used_after_one_branch_names_it():
    @tf.function
    def f(x):
        if x > 0:
            y = x
        return y

    with pytest.raises(ValueError, match="'y' must also be initialized in the else"):
        f(tf.constant(1))

    @tf.function
    def k(x):
        if x > 0:
            y = (x, x)
        else:
            y = x
        return y

    with pytest.raises(TypeError, match="'y' must have the same nested structure"):
        k(tf.constant(1))


def _nested_break(n):
    total = 0
    for i in range(n):
        if i % 2 == 0:
            continue
        j = 0
        while j < i:
            if j > 2:
                break
            total += j
            j += 1
        if total > 20:
            break
    return total


def test_continue_then_inner_loop_with_break():
    @tf.function
    def nested_break(n):
        total = tf.constant(0)
        for i in tf.range(n):
            if i % 2 == 0:
                continue
            j = tf.constant(0)
            while j < i:
                if j > 2:
                    break
                total += j
                j += 1
            if total > 20:
                break
        return total

    for n in (0, 3, 10, 100):
        assert int(nested_break(tf.constant(n))) == _nested_break(n)
    assert nested_break.experimental_get_tracing_count() == 1
    assert _nested_break(10) == 12 and _nested_break(100) == 21   # TF 2.21 gives these


def test_variable_first_assigned_in_loop_is_read_after_it():
    @tf.function
    def w(n):
        i = 0
        while i < n:
            z = i * 2
            i += 1
        return z

    assert int(w(tf.constant(3))) == 4       # TF 2.21: 4
    assert int(w(tf.constant(6))) == 10


# -- run-time printing and py_function -------------------------------------------------
def test_print_formats_like_tf(capsys):
    tf.print(tf.constant([1.5, 2.0]), tf.constant([[1, 2], [3, 40]]), tf.constant(3.0),
             tf.constant(True), tf.constant(["a", "b"]), output_stream=sys.stdout)
    tf.print(tf.constant([1.25, -2.5, 1e-5]), tf.constant([3.14159265, 0.1]),
             output_stream=sys.stdout)
    tf.print(tf.reshape(tf.range(8), [2, 2, 2]), tf.range(10), output_stream=sys.stdout)
    tf.print(tf.range(10), summarize=-1, output_stream=sys.stdout)
    # the exact text TF 2.21 prints for these calls
    assert capsys.readouterr().out == (
        '[1.5 2] [[1 2]\n [3 40]] 3 1 ["a" "b"]\n'
        "[1.25 -2.5 1e-05] [3.14159274 0.1]\n"
        "[[[0 1]\n  [2 3]]\n\n [[4 5]\n  [6 7]]] [0 1 2 ... 7 8 9]\n"
        "[0 1 2 3 4 5 6 7 8 9]\n")


def test_print_of_structures_shows_run_time_values(capsys):
    @tf.function
    def g(x):
        tf.print([x, 2, "s"], {"k": x}, (x,), output_stream=sys.stdout, sep="|")
        return x

    g(tf.constant([1.0, 2.5]))
    g(tf.constant([3.0, 4.0]))
    assert capsys.readouterr().out == (
        "[[1 2.5], 2, 's']|{'k': [1 2.5]}|([1 2.5],)\n"
        "[[3 4], 2, 's']|{'k': [3 4]}|([3 4],)\n")


def test_py_function_converts_returned_arrays_to_tout():
    def twice(a):
        return (a.numpy() * 2).astype(np.float64), a.numpy().astype(np.int64)

    def run(x):
        return tf.py_function(twice, [x], Tout=[tf.float32, tf.float32])

    for fn in (run, tf.function(run)):
        a, b = fn(tf.constant([1.0, 2.0]))
        assert a.dtype == b.dtype == tf.float32
        np.testing.assert_array_equal(a.numpy(), [2.0, 4.0])
        np.testing.assert_array_equal(b.numpy(), [1.0, 2.0])
