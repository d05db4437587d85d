"""Tensor.name / Tensor.op of traced tensors and tf.name_scope inside functions.

Expected names came from TF 2.21 running the same functions.
"""

import numpy as np
import pytest

import dlframe as tf

pytestmark = pytest.mark.filterwarnings("ignore:.*triggered tf.function retracing")


def _names(fn, *args):
    found = {}

    @tf.function
    def traced(*xs):
        found.update(fn(*xs))
        return xs[0]

    traced(*args)
    return found


X = tf.constant([1.0, 2.0])
Y = tf.constant([3.0, 4.0])


def test_eager_tensor_has_no_name_as_tf():
    with pytest.raises(AttributeError, match="Tensor.name is undefined when eager"):
        _ = X.name
    assert not hasattr(X, "name") and not hasattr(X, "op")
    assert tf.Variable(1.0, name="v").name == "v:0"


def test_inputs_named_after_arguments_and_specs():
    seen = []

    @tf.function
    def f(x, y):
        seen.extend([x.name, y.name])
        return x

    f(X, Y)
    # *args are named as TF names them
    assert _names(lambda *xs: {"a": xs[1].name}, X, Y) == {"a": "args_1:0"}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="inp")])
    def g(z):
        seen.append(z.name)
        return z

    g(X)
    assert seen == ["x:0", "y:0", "inp:0"]


def test_op_names_defaults_name_argument_and_uniquifying():
    def body(x, y):
        out = {"add": tf.add(x, y).name, "add2": tf.add(x, y).name,
               "plus": (x + y).name, "addme": tf.add(x, y, name="addme").name,
               "addme2": tf.add(x, y, name="addme").name,
               "mul": tf.multiply(x, y).name, "times": (x * y).name,
               "relu": tf.nn.relu(x).name, "sum": tf.reduce_sum(x).name,
               "mean": tf.reduce_mean(x).name, "id": tf.identity(x, name="out").name,
               "id2": tf.identity(x).name, "split": [t.name for t in tf.split(x, 2)],
               "stack": tf.stack([x, y]).name, "zeros": tf.zeros([2]).name,
               "mm": tf.matmul(tf.ones([2, 2]), tf.ones([2, 2])).name,
               "at": (tf.ones([2, 2]) @ tf.ones([2, 2])).name,
               "const": tf.constant(1.0).name, "where": tf.where(x > y, x, y).name}
        return out

    # from TF 2.21 (Const is 'Const_2' there: two axis constants came first)
    assert _names(body, X, Y) == {
        "add": "Add:0", "add2": "Add_1:0", "plus": "add_2:0", "addme": "addme:0",
        "addme2": "addme_1:0", "mul": "Mul:0", "times": "mul_1:0", "relu": "Relu:0",
        "sum": "Sum:0", "mean": "Mean:0", "id": "out:0", "id2": "Identity:0",
        "split": ["split:0", "split:1"], "stack": "stack:0", "zeros": "zeros:0",
        "mm": "MatMul:0", "at": "matmul_1:0", "const": "Const:0",
        "where": "SelectV2:0"}


def test_name_scopes_prefix_and_uniquify_per_graph():
    def body(x, y):
        out = {}
        with tf.name_scope("block") as scope:
            out["scope"] = scope
            out["addme"] = tf.add(x, y, name="addme").name
            out["mul"] = (x * y).name
            with tf.name_scope("inner") as inner:
                out["inner"] = inner
                out["relu"] = tf.nn.relu(x).name
                out["out"] = tf.identity(x, name="out").name
        with tf.name_scope("block") as again:
            out["again"] = again
            out["add"] = tf.add(x, y).name
        with tf.name_scope("top/") as top:
            out["top"] = top
            out["top_add"] = tf.add(x, y).name
        out["slash"] = tf.identity(x, name="zz/").name
        return out

    assert _names(body, X, Y) == {
        "scope": "block/", "addme": "block/addme:0", "mul": "block/mul:0",
        "inner": "block/inner/", "relu": "block/inner/Relu:0",
        "out": "block/inner/out:0", "again": "block_1/", "add": "block_1/Add:0",
        "top": "top/", "top_add": "top/Add:0", "slash": "zz:0"}
    # a new graph starts its names again; eager scopes are not uniquified
    assert _names(lambda x: {"a": tf.add(x, x).name}, X) == {"a": "Add:0"}
    with tf.name_scope("eager") as s1, tf.name_scope("eager") as s2:
        assert (s1, s2) == ("eager/", "eager/eager/")


def test_op_name_and_type():
    def body(x, y):
        s = tf.add(x, y)
        return {"name": s.op.name, "type": s.op.type, "relu": tf.nn.relu(x).op.type,
                "input": x.op.type}

    assert _names(body, X, Y) == {"name": "Add", "type": "AddV2", "relu": "Relu",
                                  "input": "Placeholder"}
    with pytest.raises(AttributeError, match="Tensor.op is undefined"):
        _ = X.op


def test_named_ops_compute_the_same_values():
    v = tf.Variable([0.5, -1.0], name="w")

    def fn(x):
        with tf.name_scope("layer"):
            h = tf.nn.relu(tf.multiply(x, v, name="scaled"))
            return tf.identity(tf.reduce_sum(h, name="total"), name="out")

    compiled = tf.function(fn)
    np.testing.assert_allclose(compiled(Y).numpy(), fn(Y).numpy())
    np.testing.assert_allclose(compiled(Y).numpy(), 1.5)
    names = []

    @tf.function
    def named(x):
        out = fn(x)
        names.append(out.name)
        return out

    named(Y)
    assert names == ["layer/out:0"]


def test_names_inside_gradient_tape_and_cond_are_strings():
    def body(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(x * x)
        g = tape.gradient(y, x)
        r = tf.cond(x[0] > 0, lambda: x + 1, lambda: x - 1)
        return {"g": isinstance(g.name, str), "r": isinstance(r.name, str),
                "y": y.name}

    assert _names(body, X) == {"g": True, "r": True, "y": "Sum:0"}
