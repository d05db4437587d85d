"""Control-flow programs found by probing against TF 2.21: tf.case / tf.switch_case
argument handling, while_loop in eager and traced code, gradients through loops over
tensors created inside a function, the loop variable after ``for i in tf.range(n)``,
AutoGraph's public helpers and its messages naming variables."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import numeric_grad


def _both(fn, *args):
    """``fn(*args)`` eagerly and as a tf.function, as NumPy (nested)."""
    return [tf.nest.map_structure(lambda t: t.numpy(), f(*args))
            for f in (fn, tf.function(fn))]


# -- tf.case -------------------------------------------------------------------------
def _first_positive(x):
    return tf.case([(x < 0, lambda: tf.constant(-1)), (x > 10, lambda: tf.constant(100))])


@pytest.mark.parametrize("compiled", [False, True])
def test_case_without_default_needs_a_true_predicate(compiled):
    f = tf.function(_first_positive) if compiled else _first_positive
    assert f(tf.constant(-3)).numpy() == -1
    assert f(tf.constant(30)).numpy() == 100
    # TF: the last pair is the default, guarded by a run-time assertion
    with pytest.raises(tf.errors.InvalidArgumentError, match="None of conditions"):
        f(tf.constant(5))


def test_case_default_and_structures():
    def f(x):
        return tf.case([(x < 0, lambda: (x * -1., {"n": tf.constant(1)}))],
                       default=lambda: (x, {"n": tf.constant(2)}))
    for out in _both(f, tf.constant(-2.)):
        assert out[0] == 2. and out[1]["n"] == 1
    for out in _both(f, tf.constant(3.)):
        assert out[0] == 3. and out[1]["n"] == 2


def test_case_bad_arguments():
    one = lambda: tf.constant(1)
    with pytest.raises(ValueError, match="pred_fn_pairs"):
        tf.case([], default=one)
    with pytest.raises(TypeError, match="pred must be a Tensor"):
        tf.case([(False, one)], default=one)
    with pytest.raises(TypeError, match="2-tuple"):
        tf.case((tf.constant(True), one), default=one)
    with pytest.raises(TypeError, match="callable"):
        tf.case([(tf.constant(True), tf.constant(1))], default=one)


# -- tf.switch_case ------------------------------------------------------------------
_BRANCHES = [lambda: tf.constant(10), lambda: tf.constant(20), lambda: tf.constant(30)]


@pytest.mark.parametrize("compiled", [False, True])
def test_switch_case_indices_and_default(compiled):
    def f(i):
        return (tf.switch_case(i, _BRANCHES),
                tf.switch_case(i, _BRANCHES, default=lambda: tf.constant(-1)))
    f = tf.function(f) if compiled else f
    got = [[v.numpy() for v in f(tf.constant(i))] for i in (0, 2, 7, -1)]
    # out of range: the last branch, or the default when given
    assert got == [[10, 10], [30, 30], [30, -1], [30, -1]]


def test_switch_case_pairs_and_dict_keys():
    pairs = [(1, lambda: tf.constant(6)), (0, lambda: tf.constant(5))]
    assert tf.switch_case(tf.constant(1), pairs).numpy() == 6
    assert tf.switch_case(tf.constant(0), dict(pairs)).numpy() == 5
    with pytest.raises(ValueError, match=r"contiguous range of \[0 to 2\) but found "
                                         r"\{1,3\}"):
        tf.switch_case(tf.constant(1), {1: _BRANCHES[0], 3: _BRANCHES[1]})
    with pytest.raises(TypeError, match="2-tuple"):
        tf.switch_case(tf.constant(1), [_BRANCHES[0], (0, _BRANCHES[1])])


def test_switch_case_index_checks():
    with pytest.raises(TypeError, match="'branch_index' must be a Tensor"):
        tf.switch_case(1, _BRANCHES)
    with pytest.raises(TypeError, match="integer Tensor"):
        tf.switch_case(tf.constant(1.), _BRANCHES)
    with pytest.raises(ValueError, match="at least one"):
        tf.switch_case(tf.constant(0), [])
    assert tf.switch_case(tf.constant(1, tf.int64), _BRANCHES).numpy() == 20


# -- tf.while_loop -------------------------------------------------------------------
def test_eager_while_loop_lets_shapes_change():
    # TF's eager while_loop is a Python loop: no shape_invariants needed
    i, x = tf.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, tf.concat([x, x], 0)),
                         (tf.constant(0), tf.ones([1, 2])))
    assert x.shape == (8, 2) and i.numpy() == 3


def test_while_loop_keeps_tuple_loop_vars_in_function():
    @tf.function
    def f(n):
        return tf.while_loop(lambda i, s: i < n,
                             lambda i, s: (i + 1, s + tf.cast(i, tf.float32)),
                             (0, 0.), maximum_iterations=4)
    out = f(tf.constant(10))
    assert isinstance(out, tuple)
    assert (out[0].numpy(), out[1].numpy()) == (4, 6.)
    out = f(tf.constant(2))
    assert (out[0].numpy(), out[1].numpy()) == (2, 1.)


def test_while_loop_needs_callables():
    with pytest.raises(TypeError, match="'cond' must be callable"):
        tf.while_loop(1, lambda i: (i + 1,), [tf.constant(0)])
    with pytest.raises(TypeError, match="'body' must be callable"):
        tf.while_loop(lambda i: i < 3, None, [tf.constant(0)])


def _power_loop(x, maximum_iterations=None):
    _, y = tf.while_loop(lambda i, y: i < 10, lambda i, y: (i + 1, y * x),
                         (tf.constant(0), tf.constant(1., x.dtype)),
                         maximum_iterations=maximum_iterations)
    return y


@pytest.mark.parametrize("maximum_iterations", [None, 3, "tensor"])
def test_while_loop_gradient_with_maximum_iterations(maximum_iterations):
    n = 10 if maximum_iterations is None else 3
    limit = tf.constant(3) if maximum_iterations == "tensor" else maximum_iterations

    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = _power_loop(x, limit)
        return tape.gradient(y, x)
    x = tf.constant(1.5, tf.float64)
    numeric = numeric_grad(lambda a: _power_loop(tf.constant(a[0]), limit).numpy(),
                           [np.array([1.5])], 0)[0]
    for g in _both(grad, x):
        np.testing.assert_allclose(g, n * 1.5 ** (n - 1), rtol=1e-10)
        np.testing.assert_allclose(g, numeric, rtol=1e-6)


def test_loop_gradients_reach_a_tensor_created_inside_the_function():
    # a constant of the trace that a tape watches must be an input of the loop node
    def second_order():
        x = tf.constant(2.)
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                _, y = tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * x),
                                     (0, tf.constant(1.)))
                z = tf.cond(y > 0, lambda: y * x, lambda: y)   # nested: cond of x
            g = inner.gradient(z, x)
        return g, outer.gradient(g, x)
    for g, gg in _both(second_order):
        assert (g, gg) == (4 * 2. ** 3, 12 * 2. ** 2)   # d/dx x^4, d2/dx2 x^4


# -- AutoGraph loops -----------------------------------------------------------------
def test_for_loop_target_keeps_last_item_after_the_loop():
    @tf.function
    def over_range(n):
        s = tf.constant(0)
        i = tf.constant(-1)
        for i in tf.range(n):
            s += i
        return s, i

    @tf.function
    def defined_in_loop(n):
        j = 0
        for i in tf.range(2, n, 3):
            j += 1
        return i, j

    @tf.function
    def over_python_range(x):
        for k in range(3):
            x = x * 2
        return x, k
    assert [v.numpy() for v in over_range(tf.constant(5))] == [10, 4]
    assert [v.numpy() for v in over_range(tf.constant(0))] == [0, -1]   # no iteration
    assert [v.numpy() for v in defined_in_loop(tf.constant(10))] == [8, 3]
    x, k = over_python_range(tf.constant(1.))
    assert (x.numpy(), k) == (8., 2)


def test_autograph_messages_name_the_variable():
    @tf.function
    def branches(x):
        if x > 0:
            y = tf.constant(1)
        else:
            y = tf.constant(1.)
        return y

    @tf.function
    def loop(n):
        s = tf.constant(0)
        for _ in tf.range(n):
            s = tf.cast(s, tf.float32) + 1.
        return s
    with pytest.raises(TypeError, match="'y' has dtype int32 in the main branch, but "
                                        "dtype float32 in the else branch"):
        branches(tf.constant(1.))
    with pytest.raises(TypeError, match="'s' has dtype int32 before the loop, but "
                                        "dtype float32 after one iteration"):
        loop(tf.constant(3))


# -- AutoGraph's public helpers ------------------------------------------------------
def test_autograph_options_and_features():
    feature = tf.autograph.experimental.Feature
    assert [f.name for f in feature][:3] == ["ALL", "AUTO_CONTROL_DEPS",
                                             "ASSERT_STATEMENTS"]

    @tf.function(experimental_autograph_options=(feature.EQUALITY_OPERATORS,
                                                 feature.LISTS))
    def f(x):
        if x > 0:
            x = x * 2
        return x
    assert f(tf.constant(3.)).numpy() == 6. and f(tf.constant(-3.)).numpy() == -3.


def test_to_graph_to_code_and_trace(capsys):
    def f(x):
        if x > 0:
            x = x * 2
        while x < 100:
            x = x + 1
        return x
    code = tf.autograph.to_code(f)
    assert "ag__" in code and "def tf__f(" in code
    converted = tf.autograph.to_graph(f)
    assert converted(tf.constant(3.)).numpy() == 100.          # eagerly
    assert tf.function(converted)(tf.constant(60.)).numpy() == 120.
    tf.autograph.trace("traced", 3)
    assert capsys.readouterr().out == "traced 3\n"


def test_do_not_convert_leaves_python_semantics():
    @tf.autograph.experimental.do_not_convert
    def plain(x):
        if x > 0:
            return x
        return -x

    @tf.function
    def uses_plain(x):
        return plain(x)
    with pytest.raises(tf.errors.OperatorNotAllowedInGraphError):
        uses_plain(tf.constant(1.))
    wrapped = tf.autograph.experimental.do_not_convert(len)   # a builtin
    assert wrapped([1, 2]) == 2
    assert tf.autograph.experimental.do_not_convert()(abs)(-3) == 3


# -- py_function / map_fn / scan -------------------------------------------------------
def test_py_function_list_for_a_single_tout():
    def f(x):
        return tf.py_function(lambda x: [x * 2], [x], Tout=tf.float32)
    for out in _both(f, tf.constant(3.)):
        assert out == 6.


def test_map_fn_signatures_and_scan_structures():
    x = tf.constant([[1., 2.], [3., 4.], [5., 6.]])

    def f(x):
        pair = tf.map_fn(lambda r: (tf.reduce_sum(r), tf.cast(tf.argmax(r), tf.int32)),
                         x, fn_output_signature=(tf.float32, tf.int32))
        acc = tf.scan(lambda a, e: {"s": a["s"] + e, "c": a["c"] + 1}, x[:, 0],
                      initializer={"s": tf.constant(0.), "c": tf.constant(0)},
                      reverse=True)
        return pair, acc
    for (sums, arg), acc in _both(f, x):
        np.testing.assert_allclose(sums, [3., 7., 11.])
        assert arg.dtype == np.int32 and arg.tolist() == [1, 1, 1]
        np.testing.assert_allclose(acc["s"], [9., 8., 5.])
        assert acc["c"].tolist() == [3, 2, 1]
