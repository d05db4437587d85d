"""ConcreteFunction introspection in TF's terms (structured signatures, output
specs, pretty-printed signatures, variables, graph inspection) and
``reduce_retracing`` / ``experimental_relax_shapes`` trace counts."""

import collections

import pytest

import dlframe as tf

P = collections.namedtuple("P", ["u", "w"])


def test_structured_signatures_and_outputs_follow_tf_layout():
    @tf.function
    def f(x, y=2, z=None):
        return {"a": x * 2, "b": (x + 1, tf.reduce_sum(x, axis=1))}

    cf = f.get_concrete_function(tf.TensorSpec([None, 3], tf.float32, name="x"))
    args, kwargs = cf.structured_input_signature
    assert args == (tf.TensorSpec([None, 3], tf.float32, name="x"), 2, None)
    assert kwargs == {}
    # the None input dimension stays None in the outputs; the static one stays 3
    out = cf.structured_outputs
    assert out["a"].shape.as_list() == [None, 3]
    assert out["b"][1].shape.as_list() == [None]
    assert cf.output_shapes == {"a": tf.TensorShape([None, 3]),
                                "b": (tf.TensorShape([None, 3]), tf.TensorShape([None]))}
    assert cf.output_dtypes == {"a": tf.float32, "b": (tf.float32, tf.float32)}
    assert [s.name for s in cf.inputs] == ["x"]
    assert [s.shape.as_list() for s in cf.outputs] == [[None, 3], [None, 3], [None]]
    assert f.experimental_get_tracing_count() == 1   # describing it traced nothing new
    # TF 2.21 prints exactly this
    expected = (
        "Input Parameters:\n"
        "  x (POSITIONAL_OR_KEYWORD): TensorSpec(shape=(None, 3), dtype=tf.float32, "
        "name='x')\n"
        "  y (POSITIONAL_OR_KEYWORD): Literal[2]\n"
        "  z (POSITIONAL_OR_KEYWORD): Literal[None]\n"
        "Output Type:\n"
        "  Dict[['a', TensorSpec(shape=(None, 3), dtype=tf.float32, name=None)], "
        "['b', Tuple[TensorSpec(shape=(None, 3), dtype=tf.float32, name=None), "
        "TensorSpec(shape=(None,), dtype=tf.float32, name=None)]]]\n"
        "Captures:\n"
        "  None")
    assert cf.pretty_printed_signature() == expected
    assert f.pretty_printed_concrete_signatures() == expected


def test_parameter_kinds_names_and_short_signature():
    @tf.function
    def f(x, lst, flag=True, *, k="s"):
        return [x, P(x, x)], None

    cf = f.get_concrete_function(tf.constant([1.0, 2.0]), [tf.constant(1), 3])
    args, kwargs = cf.structured_input_signature
    assert args[0].name == "x" and args[1][0].name == "lst_0" and args[1][1] == 3
    assert args[2] is True and kwargs == {"k": "s"}
    spec2 = "TensorSpec(shape=(2,), dtype=tf.float32, name=None)"
    assert cf.pretty_printed_signature(verbose=False) == (
        f"(x: {spec2}, lst: List[TensorSpec(shape=(), dtype=tf.int32, name=None), "
        f"Literal[3]], flag: Literal[True], *, k: Literal['s']) -> "
        f"Tuple[List[{spec2}, P[['u', {spec2}], ['w', {spec2}]]], Literal[None]]")
    assert repr(cf).startswith("<ConcreteFunction (x: ")

    @tf.function
    def g(*args, **kw):
        return args[0]
    cg = g.get_concrete_function(tf.constant(1.0), 2, a=tf.constant(3))
    assert cg.structured_input_signature == (
        (tf.TensorSpec([], tf.float32, "args_0"), 2), {"a": tf.TensorSpec([], tf.int32, "a")})
    assert "  args_0 (POSITIONAL_ONLY): " in cg.pretty_printed_signature()
    assert "  a (KEYWORD_ONLY): " in cg.pretty_printed_signature()


def test_keyword_arguments_of_positional_parameters_bind_positionally():
    @tf.function
    def h(a, b):
        return a + b
    h(tf.constant(1), tf.constant(2))
    h(tf.constant([1.0]), b=tf.constant([2.0]))
    texts = h.pretty_printed_concrete_signatures().split("\n\n")
    assert len(texts) == 2
    assert "  b (POSITIONAL_OR_KEYWORD): TensorSpec(shape=(1,), dtype=tf.float32" in texts[1]


def test_variables_captures_and_graph_inspection():
    v = tf.Variable(1.0)
    frozen = tf.Variable(2.0, trainable=False)

    @tf.function(input_signature=[tf.TensorSpec([], tf.float32)])
    def g(x):
        return x * v + frozen

    cg = g.get_concrete_function()
    assert cg.variables == (v, frozen)
    assert cg.trainable_variables == (v,)
    assert cg.inputs[-2:] == [v, frozen]
    text = cg.pretty_printed_signature()
    assert f"  {id(v)}: TensorSpec(shape=(), dtype=tf.resource, name=None)" in text
    assert cg(tf.constant(3.0)).numpy() == 5.0
    ops = cg.graph.get_operations()
    assert [op.type for op in ops] == ["Mul", "AddV2"] and ops[0].name == "Mul"
    nodes = [(n.name, n.op, n.input) for n in cg.graph.as_graph_def().node]
    assert nodes == [("x", "Placeholder", []), ("ReadVariableOp", "ReadVariableOp", []),
                     ("mul", "Mul", ["x", "ReadVariableOp"]),
                     ("ReadVariableOp_1", "ReadVariableOp", []),
                     ("add", "AddV2", ["mul", "ReadVariableOp_1"]),
                     ("Identity", "Identity", ["add"])]


SHAPES = [(2,), (3,), (4,), (2, 3), (2, 4), (5, 4), (3,), (), ()]


@pytest.mark.parametrize("option", ["reduce_retracing", "experimental_relax_shapes"])
def test_relaxed_retracing_generalizes_like_tf(option):
    f = tf.function(lambda x: tf.reduce_sum(x), **{option: True})
    counts = []
    for shape in SHAPES:
        assert f(tf.ones(shape)).numpy() == float(tf.ones(shape).numpy().sum())
        counts.append(f.experimental_get_tracing_count())
    f(tf.ones([2], tf.int32))
    counts.append(f.experimental_get_tracing_count())
    assert counts == [1, 2, 2, 3, 3, 3, 3, 3, 3, 4]          # TF 2.21's counts
    shapes = [line.split("shape=")[1].split(", dtype")[0]
              for line in f.pretty_printed_concrete_signatures().splitlines()
              if line.startswith("  x ")]
    assert shapes == ["(2,)", "(None,)", "<unknown>", "(2,)"]


def test_without_relaxing_every_shape_is_a_trace():
    f = tf.function(lambda x: tf.reduce_sum(x))
    for shape in SHAPES:
        f(tf.ones(shape))
    assert f.experimental_get_tracing_count() == 7
