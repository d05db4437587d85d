"""tf.compat.v1's graph names and variable scopes in eager mode (as TF 2.21)."""

import numpy as np
import pytest

import dlframe as tf

v1 = tf.compat.v1


@pytest.fixture(autouse=True)
def fresh_graph():
    v1.reset_default_graph()
    yield
    v1.reset_default_graph()


def test_placeholders_raise_tf_eager_error():
    with pytest.raises(RuntimeError, match=r"tf.placeholder\(\) is not compatible "
                                           "with eager execution"):
        v1.placeholder(tf.float32, [None, 3])
    with pytest.raises(RuntimeError, match="`sparse_placeholder` is not compatible"):
        v1.sparse_placeholder(tf.float32)


def test_collections_and_default_graph():
    assert v1.get_collection("foo") == []
    assert v1.add_to_collection("foo", 3) is None
    v1.add_to_collections(["foo", "bar"], 4)
    assert v1.get_collection("foo") == [3, 4] and v1.get_collection("bar") == [4]
    v1.get_collection_ref("foo").append(5)
    assert v1.get_collection("foo") == [3, 4, 5]
    v = tf.Variable(1.0, name="scope_a/v")
    v1.add_to_collection("vars", v)
    v1.add_to_collection("vars", "no name")
    assert v1.get_collection("vars", scope="scope_a") == [v]
    graph = v1.get_default_graph()
    assert graph is v1.get_default_graph() and graph.get_operations() == []
    assert graph.unique_name("a") == "a" and graph.unique_name("a") == "a_1"
    assert not graph.finalized
    with v1.Graph().as_default() as other:
        assert v1.get_default_graph() is other and v1.get_collection("foo") == []
    v1.reset_default_graph()
    assert v1.get_default_graph() is not graph and v1.get_collection("foo") == []
    assert v1.GraphKeys.GLOBAL_VARIABLES == "variables"
    assert v1.GraphKeys.TRAINABLE_VARIABLES == "trainable_variables"
    assert v1.GraphKeys.UPDATE_OPS == "update_ops"
    assert v1.GraphKeys.TABLE_INITIALIZERS == "table_initializer"


def test_initializers_and_run_options():
    for name in ["global_variables_initializer", "local_variables_initializer",
                 "tables_initializer", "initialize_all_variables"]:
        assert getattr(v1, name)() is None          # TF 2.21 eager returns None
    assert v1.variables_initializer([]) is None
    opts = v1.RunOptions(trace_level=v1.RunOptions.FULL_TRACE)
    assert opts.trace_level == 3 and opts.timeout_in_ms == 0
    with pytest.raises(ValueError, match='RunOptions has no "bogus" field'):
        v1.RunOptions(bogus=1)
    assert v1.RunMetadata() is not None


def test_get_variable_eager_semantics():
    w = v1.get_variable("w", shape=[2, 3])
    assert w.name == "w:0" and w.shape == (2, 3) and w.dtype == tf.float32
    assert np.all(np.abs(w.numpy()) <= np.sqrt(6 / 5))       # glorot-uniform bound
    b = v1.get_variable("b", initializer=tf.constant([1.0, 2.0]))
    np.testing.assert_array_equal(b.numpy(), [1.0, 2.0])
    assert v1.get_variable("i", [2], dtype=tf.int32).numpy().tolist() == [0, 0]
    assert not v1.get_variable("nt", [1], trainable=False).trainable
    z = v1.get_variable("z", [2], initializer=v1.zeros_initializer())
    assert z.numpy().tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="If initializer is a constant, do not "
                                         "specify shape"):
        v1.get_variable("c", shape=[2], initializer=tf.constant([1.0, 2.0]))
    with pytest.raises(ValueError, match="Variable ns did not get an initializer"):
        v1.get_variable("ns")
    # eagerly nothing is shared, whatever reuse says (TF 2.21)
    with v1.variable_scope("foo"):
        a = v1.get_variable("v", [1])
    with v1.variable_scope("foo", reuse=True):
        b = v1.get_variable("v", [1])
    with v1.variable_scope("bar", reuse=v1.AUTO_REUSE) as scope:
        c = v1.get_variable("v", [1])
        d = v1.get_variable("v", [2])
    assert (a.name, b.name, c.name) == ("foo/v:0", "foo/v:0", "bar/v:0")
    assert a is not b and c is not d and scope.reuse == v1.AUTO_REUSE


def test_variable_scope_names_and_defaults():
    with tf.name_scope("ns"), v1.variable_scope("outer") as scope:
        with v1.variable_scope("inner"):
            x = v1.get_variable("x", [1])
            assert v1.get_variable_scope().name == "outer/inner"
        assert (scope.name, scope.original_name_scope) == ("outer", "outer/")
    assert x.name == "outer/inner/x:0"           # the name scope is not prefixed
    with v1.variable_scope(None, default_name="dflt"):
        first = v1.get_variable("x", [1]).name
    with v1.variable_scope(None, default_name="dflt"):
        second = v1.get_variable("x", [1]).name
    assert (first, second) == ("dflt/x:0", "dflt_1/x:0")
    with v1.variable_scope("r", initializer=v1.constant_initializer(3.0)) as r:
        np.testing.assert_array_equal(v1.get_variable("x", [2]).numpy(), [3.0, 3.0])
    with v1.variable_scope(r):                   # re-entering keeps name and defaults
        again = v1.get_variable("y", [1])
    assert again.name == "r/y:0" and again.numpy().tolist() == [3.0]
    with v1.variable_scope("reg", regularizer=lambda w: tf.reduce_sum(w)):
        v1.get_variable("x", [2], initializer=v1.ones_initializer())
    losses = v1.get_collection(v1.GraphKeys.REGULARIZATION_LOSSES)
    assert [float(x) for x in losses] == [2.0]
    assert float(v1.losses.get_regularization_loss()) == 2.0
    with pytest.raises(TypeError, match="default_name is None"):
        v1.variable_scope(None)
    with pytest.raises(ValueError, match="reuse parameter"):
        v1.variable_scope("s", reuse="yes")
    with v1.name_scope(None, "dflt", [1]) as name:
        assert name == "dflt/"


def test_make_template_shares_variables_and_trains():
    def affine(x):
        w = v1.get_variable("w", [1], initializer=v1.ones_initializer())
        b = v1.get_variable("b", [1], initializer=v1.zeros_initializer())
        return x * w + b

    model = v1.make_template("my", affine)
    np.testing.assert_array_equal(model(tf.constant([2.0])).numpy(), [2.0])
    assert [v.name for v in model.trainable_variables] == ["my/w:0", "my/b:0"]
    assert model.variable_scope.name == "my" and model.name == "my"
    other = v1.make_template("my", affine)
    other(tf.constant([1.0]))
    assert other.variable_scope.name == "my_1"
    opt = tf.keras.optimizers.SGD(0.1)
    x, y = tf.constant([1.0, 2.0, 3.0]), tf.constant([3.0, 5.0, 7.0])
    for _ in range(300):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((model(x) - y) ** 2)
        variables = model.trainable_variables
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
    assert len(model.variables) == 2               # still the first call's variables
    np.testing.assert_allclose([v.numpy()[0] for v in variables], [2.0, 1.0],
                               atol=1e-2)


def test_variable_v1_arguments():
    v = v1.Variable(1.0, use_resource=True, validate_shape=False, name="vv",
                    collections=None, expected_shape=None, caching_device=None)
    assert type(v) is tf.Variable and isinstance(v, v1.Variable)
    assert v.name == "vv:0" and float(v) == 1.0
