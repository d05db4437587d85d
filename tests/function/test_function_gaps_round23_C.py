"""tf.function / TensorArray gaps (round 23, C): uneven TensorArrays with
infer_shape=True in traced loops, gradients through a second loop reading a ragged
TensorArray, FunctionType / FunctionSpec, static shapes of diag_part and bincount,
a traced drop_remainder and cond structure errors. Expected figures and texts are
TF 2.21's, observed by running the same programs."""

import numpy as np
import pytest

import dlframe as tf


def _uneven_loop(finish, infer_shape=True):
    @tf.function
    def f(n):
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True,
                            infer_shape=infer_shape)
        for i in tf.range(n):
            ta = ta.write(i, tf.ones([i + 1]))
        return finish(ta)
    return f


# ------------------------------------------------------------ uneven TensorArrays
def test_uneven_infer_shape_concat_in_loop():
    f = _uneven_loop(lambda ta: ta.concat())
    assert f(tf.constant(3)).numpy().tolist() == [1.0] * 6
    assert f(tf.constant(2)).numpy().tolist() == [1.0] * 3
    out = f(tf.constant(0))
    assert out.shape == (0,) and out.dtype == tf.float32


def test_uneven_infer_shape_stack_errors_as_tf():
    f = _uneven_loop(lambda ta: ta.stack())
    assert f(tf.constant(1)).numpy().tolist() == [[1.0]]
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Incompatible shapes during merge: \[1\] vs. \[2\]"):
        f(tf.constant(3))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"empty list with non-fully-defined element_shape: \[\?\]"):
        f(tf.constant(0))
    g = _uneven_loop(lambda ta: ta.stack(), infer_shape=False)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="empty list with non-fully-defined element_shape"):
        g(tf.constant(0))


def test_uneven_static_shapes_and_concrete_function():
    seen = {}

    def finish(ta):
        seen["element"] = ta.element_shape.as_list()
        seen["concat"] = ta.concat().shape.as_list()
        return ta.stack()
    f = _uneven_loop(finish)
    cf = f.get_concrete_function(tf.TensorSpec([], tf.int32))   # (no error: n unknown)
    assert seen == {"element": [None], "concat": [None]}
    assert cf.output_shapes.as_list() == [None, None]


def test_static_uneven_writes_still_fail_while_tracing():
    @tf.function
    def f():
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        ta = ta.write(0, tf.ones([1]))
        ta = ta.write(1, tf.ones([2]))
        return ta.concat()
    with pytest.raises(ValueError):
        f()


def test_dense_elements_with_unknown_batch_stay_dense_and_stack():
    @tf.function
    def f(x):
        n = tf.shape(x)[0]
        ta = tf.TensorArray(tf.float32, size=n)
        for i in tf.range(n):
            ta = ta.write(i, x[i] * 2.0)
        return ta.stack()
    assert f.get_concrete_function(
        tf.TensorSpec([None, None], tf.float32)).output_shapes.as_list() == [None, None]
    np.testing.assert_allclose(f(tf.ones([2, 3])).numpy(), np.full([2, 3], 2.0))
    with pytest.raises(tf.errors.InvalidArgumentError, match="empty list"):
        f(tf.zeros([0, 3]))   # TF 2.21: the element shape [?] is not known


# ------------------------------------------------- gradients through a second loop
@pytest.mark.parametrize("infer_shape", [True, False])
@pytest.mark.parametrize("uneven,expected", [
    (True, (80.0, [24.0, 32.0, 24.0])), (False, (168.0, [24.0, 48.0, 72.0]))])
def test_second_loop_reading_tensor_array_has_gradient(infer_shape, uneven, expected):
    x = tf.Variable([1.0, 2.0, 3.0])

    @tf.function
    def f(n):
        with tf.GradientTape() as tape:
            ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True,
                                infer_shape=infer_shape)
            for i in tf.range(n):
                ta = ta.write(i, (x[:i + 1] if uneven else x) * 2.0)
            s = tf.constant(0.0)
            for i in tf.range(n):
                s += tf.reduce_sum(ta.read(i) ** 2)
        return s, tape.gradient(s, x)
    s, g = f(tf.constant(3))
    assert float(s) == expected[0]
    assert g is not None
    np.testing.assert_allclose(g.numpy(), expected[1])


def test_unrolled_ragged_writes_read_in_loop_gradient():
    x = tf.Variable([1.0, 2.0, 3.0])

    @tf.function
    def f(n):
        with tf.GradientTape() as tape:
            ta = tf.TensorArray(tf.float32, size=3, infer_shape=False)
            ta = ta.write(0, x * 2.0).write(1, x[:2]).write(2, x * 3.0)
            s = tf.constant(0.0)
            for i in tf.range(n):
                s += tf.reduce_sum(ta.read(i) ** 2)
        return s, tape.gradient(s, x)
    s, g = f(tf.constant(3))
    assert float(s) == 187.0
    np.testing.assert_allclose(g.numpy(), [28.0, 56.0, 78.0])
    # finite differences of the same program
    base = x.numpy().copy()
    eps = 1e-2
    for k in range(3):
        bumped = []
        for sign in (1, -1):
            v = base.copy()
            v[k] += sign * eps
            x.assign(v)
            bumped.append(float(f(tf.constant(3))[0]))
        x.assign(base)
        assert abs((bumped[0] - bumped[1]) / (2 * eps) - g.numpy()[k]) < 1e-2


def test_cond_reading_ragged_tensor_array_has_gradient():
    x = tf.Variable([1.0, 2.0, 3.0])

    @tf.function
    def f(n, flag):
        with tf.GradientTape() as tape:
            ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True,
                                infer_shape=False)
            for i in tf.range(n):
                ta = ta.write(i, x[:i + 1] * 2.0)
            s = tf.cond(flag, lambda: tf.reduce_sum(ta.read(1) ** 2),
                        lambda: tf.reduce_sum(ta.read(2)))
        return s, tape.gradient(s, x)
    s, g = f(tf.constant(3), tf.constant(True))
    assert float(s) == 20.0 and g.numpy().tolist() == [8.0, 16.0, 0.0]
    s, g = f(tf.constant(3), tf.constant(False))
    assert float(s) == 12.0 and g.numpy().tolist() == [2.0, 2.0, 2.0]


# -------------------------------------------------------- FunctionType / FunctionSpec
def test_function_type_and_spec_texts():
    @tf.function
    def g(x, y=2, *, z=3):
        return x * y

    assert str(g.function_type) == (
        "(x, y=<captured_default_value>, *, z=<captured_default_value>)")
    assert list(g.function_type.parameters) == ["x", "y", "z"]
    p = g.function_type.parameters["x"]
    assert repr(p) == ("Parameter(name=x, kind=POSITIONAL_OR_KEYWORD, optional=False, "
                       "type_constraint=None)")
    assert g.function_type.parameters["y"].optional
    spec = g.function_spec
    assert spec.fullargspec.args == ["x", "y"] and spec.fullargspec.kwonlyargs == ["z"]
    assert spec.arg_names == ["x", "y"]
    assert spec.default_values == {"y": 2, "z": 3}
    assert spec.input_signature is None and spec.flat_input_signature == (None,)

    cf = g.get_concrete_function(tf.TensorSpec([None], tf.float32))
    spec_text = "TensorSpec(shape=(None,), dtype=tf.float32, name=None)"
    assert str(cf.function_type) == (
        f"(x: {spec_text}, y: Literal[2], *, z: Literal[3]) -> {spec_text}")
    assert repr(cf.function_type) == "\n".join([
        "Input Parameters:", f"  x (POSITIONAL_OR_KEYWORD): {spec_text}",
        "  y (POSITIONAL_OR_KEYWORD): Literal[2]", "  z (KEYWORD_ONLY): Literal[3]",
        "Output Type:", f"  {spec_text}", "Captures:", "  None"])
    assert repr(cf.function_type) == cf.pretty_printed_signature()
    assert cf.function_type.output.shape.as_list() == [None]
    assert repr(cf.function_type.parameters["y"]) == (
        "Parameter(name=y, kind=POSITIONAL_OR_KEYWORD, optional=False, "
        "type_constraint=Literal[2])")


def test_function_type_with_input_signature_and_method():
    @tf.function(input_signature=[tf.TensorSpec([3], tf.float32)])
    def h(a):
        return a
    assert str(h.function_type) == (
        "(a: TensorSpec(shape=(3,), dtype=tf.float32, name=None))")
    assert h.function_spec.flat_input_signature == (tf.TensorSpec([3], tf.float32),)

    class M(tf.Module):
        @tf.function
        def f(self, a):
            return a
    assert str(M().f.function_type) == "(a)"
    assert M().f.function_spec.arg_names == ["a"]


# ------------------------------------------------------------------- static shapes
def test_diag_part_traced_k_has_unknown_shape():
    seen = {}

    @tf.function
    def f(x, k):
        out = tf.linalg.diag_part(x, k=k)
        band = tf.linalg.diag_part(x, k=(k, k + 1))
        seen["k"], seen["band"] = out.shape.rank, band.shape.rank
        return out, band
    cf = f.get_concrete_function(tf.TensorSpec([4, 5], tf.float32),
                                 tf.TensorSpec([], tf.int32))
    assert seen == {"k": None, "band": None}
    assert cf.output_shapes[0].rank is None
    x = tf.reshape(tf.range(20.0), [4, 5])
    out, band = f(x, tf.constant(1))
    assert out.numpy().tolist() == [1.0, 7.0, 13.0, 19.0]
    np.testing.assert_allclose(band.numpy(), [[0.0, 2.0, 8.0, 14.0],   # TF 2.21
                                              [1.0, 7.0, 13.0, 19.0]])
    assert f(x, tf.constant(-2))[0].numpy().tolist() == [10.0, 16.0]


def test_diag_ops_keep_unknown_batch_dims():
    seen = {}

    @tf.function
    def f(x):
        seen["part"] = tf.linalg.diag_part(x).shape.as_list()
        seen["k1"] = tf.linalg.diag_part(x, k=1).shape.as_list()
        seen["band"] = tf.linalg.diag_part(x, k=(0, 1)).shape.as_list()
        seen["diag"] = tf.linalg.diag(tf.reduce_sum(x, -1)).shape.as_list()
        seen["set"] = tf.linalg.set_diag(x, tf.zeros_like(x[:, :, 0])[:, :4]).shape.as_list()
        return x
    f.get_concrete_function(tf.TensorSpec([None, 4, 5], tf.float32))
    assert seen == {"part": [None, 4], "k1": [None, 4], "band": [None, 2, 4],
                    "diag": [None, 4, 4], "set": [None, 4, 5]}


def test_bincount_graph_shape_follows_values():
    seen = {}

    @tf.function
    def f(x):
        r = tf.math.bincount(x)
        r2 = tf.math.bincount(tf.reshape(x, [2, -1]), axis=-1, minlength=3)
        seen["r"], seen["r2"] = r.shape.as_list(), r2.shape.as_list()
        seen["const"] = tf.math.bincount(x, minlength=5, maxlength=5).shape.as_list()
        return tf.shape(r), r, r2
    n, r, r2 = f(tf.constant([1, 1, 3, 0]))
    assert seen == {"r": [None], "r2": [None, None], "const": [None]}
    assert n.numpy().tolist() == [4] and r.numpy().tolist() == [1, 2, 0, 1]
    assert r2.numpy().tolist() == [[0, 2, 0, 0], [1, 0, 0, 1]]
    n, r, _ = f(tf.constant([5, 2, 2, 7]))   # same signature: no retrace
    assert n.numpy().tolist() == [8] and r.numpy().tolist() == [0, 0, 2, 0, 0, 1, 0, 1]
    assert f.experimental_get_tracing_count() == 1


# ---------------------------------------------------------------- data in functions
def test_traced_drop_remainder():
    seen = {}

    @tf.function
    def f(n, flag):
        ds = tf.data.Dataset.range(n).batch(2, drop_remainder=flag)
        seen["spec"] = ds.element_spec.shape.as_list()
        s = tf.constant(0, tf.int64)
        for b in ds:
            s += tf.reduce_sum(b)
        return s
    assert int(f(tf.constant(5, tf.int64), tf.constant(True))) == 6
    assert int(f(tf.constant(5, tf.int64), tf.constant(False))) == 10
    assert int(f(tf.constant(7, tf.int64), tf.constant(True))) == 15
    assert f.experimental_get_tracing_count() == 1
    assert seen["spec"] == [None]


# ------------------------------------------------------------------ control flow
def test_cond_branch_structure_mismatch_is_type_error():
    @tf.function
    def f(x):
        return tf.cond(x > 0, lambda: {"a": x}, lambda: {"b": x})
    with pytest.raises(TypeError, match="same number, type, and overall structure"):
        f(tf.constant(1.0))
    with pytest.raises(ValueError):   # (Keras-2-era TF raised ValueError)
        f(tf.constant(2.0))


def test_while_and_cond_with_nested_dict_state():
    @tf.function
    def f(n):
        state = {"a": tf.constant(0),
                 "b": {"c": tf.constant(1.0), "d": (tf.constant(2), tf.zeros([2]))}}

        def body(i, st):
            d = st["b"]["d"]
            return i + 1, {"a": st["a"] + i,
                           "b": {"c": st["b"]["c"] * 2.0, "d": (d[0] + 1, d[1] + 1.0)}}
        _, out = tf.while_loop(lambda i, st: i < n, body, [0, state])
        return tf.cond(out["a"] > 3,
                       lambda: {"x": out["b"]["c"], "y": out["b"]["d"]},
                       lambda: {"x": -out["b"]["c"], "y": out["b"]["d"]})
    r = f(tf.constant(4))
    assert float(r["x"]) == 16.0 and int(r["y"][0]) == 6
    assert r["y"][1].numpy().tolist() == [4.0, 4.0]
    r = f(tf.constant(2))
    assert float(r["x"]) == -4.0 and int(r["y"][0]) == 4


# ------------------------------------------------------- inlined relaxed functions
def test_inlined_relaxed_trace_sees_unknown_dims(capsys):
    @tf.function(reduce_retracing=True)
    def inner(x):
        print("inner", x.shape)
        return x + 1

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def signed(x):
        print("signed", x.shape)
        return x * 2

    @tf.function
    def outer(a, b, c):
        return (tf.reduce_sum(inner(a)) + tf.reduce_sum(inner(b)) +
                tf.reduce_sum(inner(c)) + tf.reduce_sum(signed(a)))
    out = outer(tf.ones([1]), tf.ones([2]), tf.ones([3]))
    outer(tf.ones([1]), tf.ones([2]), tf.ones([3]))
    assert float(out) == 2.0 + 4.0 + 6.0 + 2.0
    # TF 2.21 prints each trace once; the relaxed one with an unknown size
    assert capsys.readouterr().out.splitlines() == [
        "inner (1,)", "inner (None,)", "signed (None,)"]
    assert inner.experimental_get_tracing_count() == 2
