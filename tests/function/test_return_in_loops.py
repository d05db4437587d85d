"""AutoGraph: ``return`` inside converted (graph) loops, lowered onto break flags."""

import contextlib

import numpy as np
import pytest

import dlframe as tf
from dlframe.autograph import convert


def _first_over_while(x, limit):
    i = tf.constant(0)
    while i < tf.size(x):
        v = x[i]
        if v > limit:
            return v * 10.0
        i += 1
    return tf.constant(-1.0)


def _py_first_over(xs, limit):
    for v in xs:
        if v > limit:
            return v * 10.0
    return -1.0


@pytest.mark.parametrize("xs", [[5., 1., 1., 1.],      # returns on the 1st iteration
                                [1., 2., 7., 9.],      # on the 3rd
                                [1., 2., 3., 9.],      # on the last
                                [1., 2., 3., 4.]])     # never
def test_return_in_while_every_path(xs):
    compiled = tf.function(_first_over_while)
    for ys in (xs, xs[::-1], [0., 0., 0., 0.]):
        got = compiled(tf.constant(ys), tf.constant(4.5)).numpy()
        assert got == _py_first_over(ys, 4.5)
        assert got == _first_over_while(tf.constant(ys), tf.constant(4.5)).numpy()
    assert compiled.experimental_get_tracing_count() == 1


def test_return_in_for_over_tf_range_and_range_of_tensor():
    def find(x, n, target):
        for k in tf.range(n):
            if x[k] == target:
                return k
        return -1

    def find_range(x, n, target):
        for k in range(n):
            if x[k] == target:
                return k * 100
        return tf.constant(-1)

    data = tf.constant([4, 8, 15, 16, 23, 42])
    for fn, scale in ((find, 1), (find_range, 100)):
        compiled = tf.function(fn)
        for target, n in ((4, 6), (16, 6), (42, 6), (42, 5), (99, 6)):
            expect = [4, 8, 15, 16, 23, 42][:n].index(target) * scale \
                if target in [4, 8, 15, 16, 23, 42][:n] else -1
            assert compiled(data, tf.constant(n), tf.constant(target)).numpy() == expect
            assert int(fn(data, tf.constant(n), tf.constant(target))) == expect
        assert compiled.experimental_get_tracing_count() == 1


def test_return_in_for_over_tensor_rows_and_structures():
    @tf.function
    def first_heavy_row(m):
        for row in m:
            if tf.reduce_sum(row) > 5.0:
                return row, tf.reduce_max(row)
        return tf.zeros([2]), tf.constant(0.0)

    row, top = first_heavy_row(tf.constant([[1., 2.], [3., 4.], [9., 9.]]))
    assert row.numpy().tolist() == [3., 4.] and top.numpy() == 4.0
    row, top = first_heavy_row(tf.constant([[1., 2.], [1., 1.], [0., 0.]]))
    assert row.numpy().tolist() == [0., 0.] and top.numpy() == 0.0
    assert first_heavy_row.experimental_get_tracing_count() == 1


def _py_nested(m):
    s = 0.0
    for row in m:
        for v in row:
            if v < 0:
                return s
            s += v
    return s * 100.0


def test_return_in_nested_loops_exits_both():
    @tf.function
    def nested(m):
        s = tf.constant(0.0)
        for i in tf.range(tf.shape(m)[0]):
            j = tf.constant(0)
            while j < tf.shape(m)[1]:
                if m[i, j] < 0:
                    return s
                s += m[i, j]
                j += 1
            s += 0.0
        return s * 100.0

    for m in ([[1., 2.], [3., -4.]], [[-1., 2.], [3., 4.]], [[1., 2.], [3., 4.]],
              [[1., -2.], [3., 4.]]):
        assert nested(tf.constant(m)).numpy() == _py_nested(m)
    assert nested.experimental_get_tracing_count() == 1


def test_nested_tensor_ifs_returning_in_nested_loops():
    def deep(x, n):
        for i in tf.range(n):
            for j in tf.range(n):
                if x[i] > 0:  # noqa: SIM102 (nested tensor ifs on purpose)
                    if x[j] > 1:
                        if x[i] + x[j] > 5:
                            return x[i] * x[j]
                        return x[i] - x[j]
        return tf.constant(-1.0)

    compiled = tf.function(deep)
    for xs, expect in (([0., 0., 0.], -1.), ([1., 3., 5.], -2.), ([4., 3., 5.], 16.),
                       ([1., .5, .2], -1.)):
        assert compiled(tf.constant(xs), tf.constant(3)).numpy() == expect
        assert deep(tf.constant(xs), tf.constant(3)).numpy() == expect
    assert compiled.experimental_get_tracing_count() == 1


def test_while_true_left_only_by_return_becomes_graph_loop():
    @tf.function
    def grow(x):
        while True:
            x = x * 2.0
            if x > 10.0:
                return x

    assert grow(tf.constant(1.0)).numpy() == 16.0
    assert grow(tf.constant(20.0)).numpy() == 40.0
    assert grow(tf.constant(3.0)).numpy() == 12.0
    assert grow.experimental_get_tracing_count() == 1


def test_return_in_loop_inside_with_block_and_sequential_loops():
    @tf.function
    def f(x, n):
        with tf.name_scope("scan"):
            for k in tf.range(n):
                if x[k] > 5.0:
                    return x[k]
        for k in tf.range(n):
            if x[k] < 0.0:
                return -x[k]
        return tf.constant(0.0)

    for xs, expect in (([1., 9., -3.], 9.), ([1., 2., -3.], 3.), ([1., 2., 3.], 0.)):
        assert f(tf.constant(xs), tf.constant(3)).numpy() == expect
    assert f.experimental_get_tracing_count() == 1


def test_gradient_through_loop_with_return_matches_eager():
    def value_and_grad(x, n):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = _power_until(x, n)
        return y, tape.gradient(y, x)

    compiled = tf.function(value_and_grad)
    for x0, n in ((3.0, 10), (1.5, 3)):
        got = compiled(tf.constant(x0), tf.constant(n))
        want = value_and_grad(tf.constant(x0), tf.constant(n))
        for a, b in zip(got, want):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    # x=3: 3**5 = 243 > 100 returns 2 * x**5, d/dx = 10 * x**4 = 810
    np.testing.assert_allclose(compiled(tf.constant(3.0), tf.constant(10))[1].numpy(), 810.0)
    assert compiled.experimental_get_tracing_count() == 1


def _power_until(x, n):
    acc = x
    i = tf.constant(0)
    while i < n:
        acc = acc * x
        if acc > 100.0:
            return acc * 2.0
        i += 1
    return acc


def test_return_unreachable_in_trace_keeps_python_flag():
    debug = False

    @tf.function
    def total(x, n):
        s = tf.constant(0.0)
        for k in tf.range(n):
            if debug:
                return s
            s += x[k]
        return s

    assert total(tf.constant([1., 2., 3.]), tf.constant(3)).numpy() == 6.0
    assert total(tf.constant([1., 2., 3.]), tf.constant(2)).numpy() == 3.0
    assert total.experimental_get_tracing_count() == 1


def test_mismatched_return_dtypes_raise():
    @tf.function
    def f(x, n):
        for k in tf.range(n):
            if x[k] > 5.0:
                return x[k]
        return tf.constant(0)

    with pytest.raises(TypeError, match="dtype"):
        f(tf.constant([1., 9.]), tf.constant(2))


def test_tensor_return_in_python_for_raises_clearly():
    @tf.function
    def f(x):
        for k in range(3):
            if x[k] > 0:
                return x[k]
        return tf.constant(0.0)

    with pytest.raises(NotImplementedError, match="`return`.*tf.range"):
        f(tf.constant([-1., 2., 3.]))


def test_python_loops_with_return_keep_python_semantics():
    @tf.function
    def first_square_over(n, limit):
        for k in range(n):
            if k * k > limit:
                return tf.constant(k)
        return tf.constant(-1)

    assert first_square_over(10, 10).numpy() == 4
    assert first_square_over(3, 10).numpy() == -1
    assert first_square_over(10, 50).numpy() == 8


def _nested_python(n):
    for i in range(n):
        for j in range(n):
            for k in range(n):
                if i + j + k == 4:
                    return (i, j, k)
            else:  # noqa: PLW0120 (its return leaves the outer loops)
                if j == 2:
                    return ("else", i, j)
    return None


def _blocks_python(n, flag):
    log = []
    if flag:
        with contextlib.suppress(KeyError):
            for k in range(n):
                log.append(k)
                if k == 2:
                    return ("ret", log)
            log.append("after-loop")
        log.append("after-with")
    else:
        try:
            while n > 0:
                n -= 1
                if n == 1:
                    return ("try-ret", n)
        finally:
            log.append("finally")
        log.append("after-try")
    return ("end", log)


def _while_else(n):
    i = 0
    while i < n:
        i += 1
        if i == 3:
            return "three"
    else:  # noqa: PLW0120 (a loop with else stays a Python loop)
        return "else"


def _generator(n):
    for k in range(n):
        if k == 2:
            return
        yield k


@pytest.mark.parametrize("fn,inputs", [
    (_nested_python, [(1,), (2,), (3,), (5,)]),
    (_blocks_python, [(1, True), (5, True), (1, False), (5, False), (0, False)]),
    (_while_else, [(1,), (3,), (5,)]),
])
def test_converted_python_code_equals_plain_python(fn, inputs):
    converted = convert(fn)
    assert converted is not fn
    for args in inputs:
        assert converted(*args) == fn(*args)
    assert list(convert(_generator)(5)) == list(_generator(5)) == [0, 1]


def test_lowered_break_in_a_loop_left_in_python_still_stops_it():
    """A loop whose break is lowered to a flag but that stays a Python loop (here: a
    ``continue`` in a nested loop's ``else``) must still stop at the break."""
    def f(n):
        out = []
        for i in range(n):
            out.append(i)
            if i == 3:
                break
            for _ in range(2):
                pass
            else:  # noqa: PLW0120 (a jump of the outer loop in a nested loop's else)
                continue
        return out
    assert convert(f)(6) == f(6) == [0, 1, 2, 3]


def test_to_code_shows_the_lowering():
    code = tf.autograph.to_code(_first_over_while)
    assert "_ag_did_return_1 = False" in code
    assert "_ag_retval_1 = v * 10.0" in code
    assert "_ag_did_return_1 = True" in code
    assert "ag__.while_stmt(" in code and "returns=(" in code
    assert "ag__.if_exp(_ag_did_return_1" in code
    assert "return v * 10.0" not in code
