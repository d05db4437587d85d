"""What user code sees of traced tensors, as in TF graphs: graph names ("x:0",
"add_1:0"), the input signature's unknown dimensions as None (carried through
elementwise ops, matmul and reductions), and ``as_graph_def()`` listing the nodes."""

import numpy as np

import dlframe as tf


def test_str_and_repr_name_inputs_after_parameters_and_ops_after_tf_nodes():
    seen = []

    @tf.function
    def f(a, xs, k=None):
        b = a + a
        c = a * 2
        d = a + 1
        seen.extend([str(a), repr(xs[0]), repr(xs[1]), str(k), str(b), str(c), str(d),
                     str(tf.reduce_sum(xs[1])), str(tf.concat(xs, 0))])
        return b

    f(tf.constant(1.0), [tf.ones([2]), tf.ones([3])], k=tf.constant(3))
    # expected strings as TF 2.21 prints them
    assert seen == [
        'Tensor("a:0", shape=(), dtype=float32)',
        "<tf.Tensor 'xs:0' shape=(2,) dtype=float32>",
        "<tf.Tensor 'xs_1:0' shape=(3,) dtype=float32>",
        'Tensor("k:0", shape=(), dtype=int32)',
        'Tensor("add:0", shape=(), dtype=float32)',
        'Tensor("mul:0", shape=(), dtype=float32)',
        'Tensor("add_1:0", shape=(), dtype=float32)',
        'Tensor("Sum:0", shape=(), dtype=float32)',
        'Tensor("concat:0", shape=(5,), dtype=float32)',
    ]


def test_input_signature_names_and_unknown_dims_are_visible_to_user_code(capsys):
    @tf.function(input_signature=[tf.TensorSpec([None, 2], name="inp"),
                                  tf.TensorSpec([], tf.int32)])
    def g(x, y):
        z = x * 2
        print((str(x), str(y), x.shape.as_list(), x.get_shape().as_list(),
                     z.shape.as_list(), tf.reduce_sum(x, 1).shape.as_list(),
                     tf.matmul(x, tf.ones([2, 3])).shape.as_list(),
                     tf.reduce_mean(x, 0, keepdims=True).shape.as_list()))
        # dlframe's own ops still see the concrete trace shape
        return tf.reshape(z, [-1]), tf.shape(x)

    flat, shape = g(tf.ones([3, 2]), tf.constant(1))
    np.testing.assert_array_equal(flat.numpy(), np.full(6, 2.0, "float32"))
    np.testing.assert_array_equal(shape.numpy(), [3, 2])
    want = ('Tensor("inp:0", shape=(None, 2), dtype=float32)',
            'Tensor("y:0", shape=(), dtype=int32)',
            [None, 2], [None, 2], [None, 2], [None], [None, 3], [1, 2])
    assert capsys.readouterr().out == f"{want}\n"
    flat, _ = g(tf.ones([5, 2]), tf.constant(1))   # one trace serves every batch size
    assert flat.shape == (10,) and capsys.readouterr().out == ""


def test_reduce_retracing_generalized_trace_shows_none(capsys):
    @tf.function(reduce_retracing=True)
    def h(x):
        print(x.shape)
        return tf.reduce_sum(x)

    for n in (2, 4, 5):
        assert float(h(tf.ones([n, 3]))) == 3.0 * n
    assert capsys.readouterr().out == "(2, 3)\n(None, 3)\n"   # as TF 2.21


def test_none_dims_visible_in_converted_control_flow_and_batch_size_idiom():
    @tf.function(input_signature=[tf.TensorSpec([None, 4])])
    def f(x):
        batch = x.shape[0] or tf.shape(x)[0]   # the usual TF idiom for unknown batch
        if tf.reduce_sum(x) > 0:
            out = tf.zeros([batch, 1]) + 1.0
        else:
            out = tf.zeros([batch, 1])
        return out

    np.testing.assert_array_equal(f(tf.ones([3, 4])).numpy(), np.ones([3, 1]))
    np.testing.assert_array_equal(f(-tf.ones([2, 4])).numpy(), np.zeros([2, 1]))


def test_as_graph_def_lists_tf_named_nodes():
    @tf.function
    def double(a):
        return a + a

    graph = double.get_concrete_function(tf.constant(1)).graph
    nodes = [(n.name, n.op, list(n.input)) for n in graph.as_graph_def().node]
    # TF 2.21: [] -> a, ['a', 'a'] -> add, ['add'] -> Identity
    assert nodes == [("a", "Placeholder", []), ("add", "AddV2", ["a", "a"]),
                     ("Identity", "Identity", ["add"])]
    assert 'name: "add"' in str(graph.as_graph_def())


def test_print_of_a_concrete_function_is_tf_layout():
    @tf.function
    def double(a):
        return a + a

    concrete = double.get_concrete_function(tf.constant(1))
    # TF 2.21's print(concrete)
    assert str(concrete) == (
        "ConcreteFunction Input Parameters:\n"
        "  a (POSITIONAL_OR_KEYWORD): TensorSpec(shape=(), dtype=tf.int32, name=None)\n"
        "Output Type:\n"
        "  TensorSpec(shape=(), dtype=tf.int32, name=None)\n"
        "Captures:\n"
        "  None")
    assert repr(concrete).startswith("<ConcreteFunction (a: TensorSpec(")
