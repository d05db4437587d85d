"""AutoGraph forms from the round-14 probes: ``del`` inside and after converted
loops, ``for ... else`` over a symbolic range, loops over dict items / nested
break-continue / loop options, compared with Python and with TF 2.21's results."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import numeric_grad


def _sum_then_del_target(n):
    s = tf.constant(0)
    for i in tf.range(n):
        s += i
    del i   # the loop target is bound after the loop, so it can be deleted
    return s


def _del_temporary_in_body(x, n):
    s = tf.zeros_like(x)
    for i in tf.range(n):
        t = x * tf.cast(i + 1, x.dtype)
        s += t * t
        del t
    return s


def _del_after_if(x):
    y = x + 1.0
    if tf.reduce_sum(x) > 0:
        z = y * 2.0
    else:
        z = -y
    del y
    return z


def _del_in_branch(x):
    tmp = x * 3.0
    if tf.reduce_sum(x) > 0:
        out = tmp + 1.0
        del tmp
    else:
        out = x - 1.0
    return out


@pytest.mark.parametrize("n", [0, 1, 4])
def test_del_of_loop_target_after_graph_loop(n):
    f = tf.function(_sum_then_del_target)
    assert f(tf.constant(n)).numpy() == sum(range(n))
    assert f(tf.constant(n + 2)).numpy() == sum(range(n + 2))
    assert f.experimental_get_tracing_count() == 1


def test_del_of_temporary_inside_loop_body_matches_eager_and_grad():
    f = tf.function(_del_temporary_in_body)
    x = np.array([0.5, -1.5], np.float32)
    want = sum((x * k) ** 2 for k in range(1, 4))   # TF 2.21 gives the same
    np.testing.assert_allclose(f(tf.constant(x), tf.constant(3)).numpy(), want,
                               rtol=1e-6)
    np.testing.assert_allclose(
        _del_temporary_in_body(tf.constant(x), tf.constant(3)).numpy(), want,
        rtol=1e-6)
    x64 = tf.constant(x.astype(np.float64))
    with tf.GradientTape() as tape:
        tape.watch(x64)
        y = tf.reduce_sum(f(x64, tf.constant(3)))
    num = numeric_grad(lambda a: tf.reduce_sum(_del_temporary_in_body(
        a, tf.constant(3))), [x.astype(np.float64)], 0)
    np.testing.assert_allclose(tape.gradient(y, x64).numpy(), num, rtol=1e-6)


@pytest.mark.parametrize("x", [[1.0, 2.0], [-3.0, 1.0]])
def test_del_after_and_inside_converted_if(x):
    t = tf.constant(x)
    xs = np.array(x, np.float32)
    expect = (xs + 1) * 2 if xs.sum() > 0 else -(xs + 1)
    np.testing.assert_allclose(tf.function(_del_after_if)(t).numpy(), expect)
    expect = xs * 3 + 1 if xs.sum() > 0 else xs - 1
    np.testing.assert_allclose(tf.function(_del_in_branch)(t).numpy(), expect)


def test_del_in_python_loop_keeps_python_semantics():
    @tf.function
    def f(x):
        for k in range(3):
            t = x * k
            x = x + t
            del t
        return x
    # x -> x, 2x, 6x
    np.testing.assert_allclose(f(tf.constant(2.0)).numpy(), 12.0)


def test_for_else_over_symbolic_range_is_operator_not_allowed():
    # TF 2.21 does not convert for/else and raises OperatorNotAllowedInGraphError
    @tf.function
    def f(n):
        s = tf.constant(0)
        for i in tf.range(n):
            s += i
        else:  # noqa: PLW0120 - the form under test
            s += 100
        return s
    with pytest.raises(tf.errors.OperatorNotAllowedInGraphError, match="else"):
        f(tf.constant(3))


def test_for_else_over_python_range_runs_in_python():
    @tf.function
    def f(x):
        for i in range(3):
            if i == 5:
                break
            x += 1.0
        else:
            x += 10.0
        return x
    assert f(tf.constant(0.0)).numpy() == 13.0


def test_dict_items_loop_is_unrolled():
    @tf.function
    def f(d):
        s = tf.constant(0.0)
        for k, v in d.items():
            s += v * (2.0 if k == "a" else 1.0)
        return s
    assert f({"a": tf.constant(1.0), "b": tf.constant(3.0)}).numpy() == 5.0


@pytest.mark.parametrize("form", ["enumerate", "zip", "listcomp"])
def test_python_iteration_of_symbolic_tensor_is_operator_not_allowed(form):
    def body(a, b):
        if form == "enumerate":
            return [i * x for i, x in enumerate(a)]
        if form == "zip":
            return [x * y for x, y in zip(a, b)]
        return [v * 2 for v in a]
    f = tf.function(body)
    with pytest.raises(tf.errors.OperatorNotAllowedInGraphError):
        f(tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0]))


def _nested(n):
    tot = 0
    for i in range(n):
        if i % 2 == 0:
            continue
        for j in range(n):
            if j > i:
                break
            tot += j
    return tot


@pytest.mark.parametrize("n", [0, 1, 4, 6])
def test_nested_inner_break_outer_continue(n):
    @tf.function
    def f(n):
        tot = tf.constant(0)
        for i in tf.range(n):
            if i % 2 == 0:
                continue
            for j in tf.range(n):
                if j > i:
                    break
                tot += j
        return tot
    assert f(tf.constant(n)).numpy() == _nested(n)   # 22 for n=6 in TF 2.21


def test_set_loop_options_shape_invariants_and_maximum_iterations():
    @tf.function
    def grow(x):
        for _ in tf.range(3):
            tf.autograph.experimental.set_loop_options(
                shape_invariants=[(x, tf.TensorShape([None]))])
            x = tf.concat([x, x], 0)
        return x

    @tf.function
    def capped(n):
        i = tf.constant(0)
        while i < n:
            tf.autograph.experimental.set_loop_options(maximum_iterations=5)
            i += 1
        return i
    np.testing.assert_array_equal(grow(tf.constant([1.0])).numpy(), np.ones(8))
    assert capped(tf.constant(10)).numpy() == 5
    assert capped(tf.constant(3)).numpy() == 3


def test_ternary_on_tensor_condition_is_a_cond():
    f = tf.function(lambda x: x * 2 if x > 0 else x * -3)
    assert f(tf.constant(2.0)).numpy() == 4.0
    assert f(tf.constant(-2.0)).numpy() == 6.0
    assert f.experimental_get_tracing_count() == 1
