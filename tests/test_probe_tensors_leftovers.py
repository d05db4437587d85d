"""TF 2.21 behaviours found by probing tensor conversion, Variables, random and
functional-model structure against the oracle (expected values come from TF 2.21 /
Keras 3 runs and are hard-coded here)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError, OutOfRangeError

MIXED = "mixed types"


# ------------------------------------------------------------ mixed Python lists
@pytest.mark.parametrize("value", [
    [True, 1], [True, 1.5], [np.bool_(True), 1], [1, np.bool_(True)], [1, 2j],
    [1.5, 1j], [np.float32(1), 1j], [np.float64(1), 1j], [[True], [1]], [[1], [1j]],
    (True, 1), [np.array([True]), [1]], [[1], np.array([True])], ["a", None],
    [1, None], ["a", 1], [1, "a"], [b"a", 1],
])
def test_mixed_list_is_value_error(value):
    with pytest.raises(ValueError, match=MIXED):
        tf.constant(value)
    with pytest.raises(ValueError, match=MIXED):
        tf.convert_to_tensor(value)


@pytest.mark.parametrize("value, dtype, expect", [
    # the first leaf decides what may follow (TF 2.21)
    ([1, True], "int32", [1, 1]),
    ([1.5, True], "float32", [1.5, 1.0]),
    ([np.float32(1), 1], "float32", [1.0, 1.0]),
    ([np.int32(1), 1.5], "float32", [1.0, 1.5]),
    ([1j, np.float32(1)], "complex128", [1j, 1]),
    ([1j, True, 2], "complex128", [1j, 1, 2]),
    ([np.complex64(1)], "complex128", [1]),           # a list led by a complex
    ([np.complex64(1), 2], "complex128", [1, 2]),
    ([[1], [True]], "int32", [[1], [1]]),
    ([True, np.bool_(False)], "bool", [True, False]),
    ([[], []], "float32", np.zeros((2, 0))),
])
def test_accepted_lists_infer_tf_dtypes(value, dtype, expect):
    out = tf.constant(value)
    assert out.dtype.name == dtype
    np.testing.assert_array_equal(out.numpy(), np.asarray(expect, dtype=dtype))


def test_requested_dtype_allows_python_bools_among_numbers():
    np.testing.assert_array_equal(tf.constant([True, 1], dtype=tf.float32), [1.0, 1.0])
    assert tf.Variable([1, True]).dtype == tf.int32
    out = tf.convert_to_tensor([True, 1.5], dtype_hint=tf.float32)
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(tf.convert_to_tensor([1.5, 1j], tf.complex128),
                                  [1.5, 1j])
    with pytest.raises(ValueError, match=MIXED):   # NumPy bools never mix
        tf.constant([np.bool_(True), 1], dtype=tf.int32)
    with pytest.raises(ValueError, match=MIXED):
        tf.Variable([True, 1])


def test_none_leading_a_list_is_an_unsupported_value():
    for value in ([None], [None, "a"], [None, 1]):
        with pytest.raises(ValueError, match="unsupported type"):
            tf.constant(value)


def test_operator_with_list_holding_bool_follows_tensor_dtype():
    np.testing.assert_array_equal(tf.constant([1, 2]) + [True, 1], [2, 3])


# ------------------------------------------------ NumPy string operands of numbers
@pytest.mark.parametrize("op", [
    lambda t, s: t == s, lambda t, s: t != s, lambda t, s: t < s,
    lambda t, s: tf.less(t, s), lambda t, s: t * s, lambda t, s: tf.maximum(t, s),
    lambda t, s: s == t, lambda t, s: tf.equal(t, s),
])
def test_unparsable_numpy_string_operand_is_value_error(op):
    with pytest.raises(ValueError, match="invalid literal"):
        op(tf.constant([1, 2]), np.array(["a", "b"]))
    with pytest.raises(ValueError):
        op(tf.constant([1.0, 2.0]), np.array([b"a", b"b"]))


def test_add_of_numpy_strings_is_also_invalid_argument():
    # TF: AddV2 takes strings, so its error is InvalidArgumentError
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.constant([1, 2]) + np.array(["a", "b"])


def test_numpy_string_operand_is_parsed_as_numbers():
    t = tf.constant([1, 2])
    np.testing.assert_array_equal(t == np.array(["1", "3"]), [True, False])
    out = t + np.array(["1", "3"])
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out, [2, 5])
    with pytest.raises(TypeError):   # a Python list of strings stays a TypeError
        t == ["a", "b"]   # noqa: B015


# ------------------------------------------------------------------- random
def test_compat_v1_get_seed_follows_global_seed():
    tf.random.set_seed(5)
    try:
        assert tf.compat.v1.random.get_seed(3) == (5, 3)
        assert tf.compat.v1.get_seed(3) == (5, 3)
        graph, op = tf.compat.v1.random.get_seed(None)
        assert graph == 5 and isinstance(op, int)
    finally:
        tf.random.set_seed(None)
    assert tf.compat.v1.random.get_seed(None) == (None, None)
    assert tf.compat.v1.random.get_seed(7)[1] == 7


@pytest.mark.parametrize("max_index", [0, 1, 2, 5, 100, 1000])
def test_index_shuffle_is_a_bijection(max_index):
    shuffle = tf.random.experimental.index_shuffle
    idx = tf.range(max_index + 1, dtype=tf.int64)
    out = shuffle(idx, [7, 8], max_index).numpy()
    np.testing.assert_array_equal(np.sort(out), np.arange(max_index + 1))
    again = np.array([int(shuffle(i, [7, 8], max_index)) for i in range(max_index + 1)])
    np.testing.assert_array_equal(out, again.astype(out.dtype))
    if max_index >= 100:   # a different seed gives a different permutation
        other = shuffle(idx, [8, 7], max_index).numpy()
        assert (other != out).any() and (out != np.arange(max_index + 1)).any()


def test_index_shuffle_dtypes_and_vectors():
    shuffle = tf.random.experimental.index_shuffle
    for dtype in (tf.int32, tf.uint32, tf.int64, tf.uint64):
        out = shuffle(tf.constant(3, dtype), tf.constant([1, 2], tf.uint64), 9)
        assert out.dtype == dtype and out.shape == ()
        assert 0 <= int(out) <= 9
    assert shuffle(3, [1, 2], tf.constant(9, tf.int64)).dtype == tf.int64
    vec = shuffle(tf.constant([0, 1, 2]), [1, 2], [9, 4, 5])
    assert vec.shape == (3,)
    assert (vec.numpy() <= [9, 4, 5]).all()
    big = shuffle(tf.constant(5, tf.int64), [1, 2], tf.constant(2**40, tf.int64))
    assert 0 <= int(big) <= 2**40
    compiled = tf.function(lambda i: shuffle(i, [1, 2], 9))
    assert int(compiled(tf.constant(3))) == int(shuffle(3, [1, 2], 9))


@pytest.mark.parametrize("args, kwargs, error, match", [
    ((12, [1, 2], 9), {}, InvalidArgumentError, "max_index must be >= index"),
    ((-1, [1, 2], 9), {}, InvalidArgumentError, "index must be >= 0"),
    ((0, [1, 2], -1), {}, InvalidArgumentError, "max_index must be >= 0"),
    ((3.0, [1, 2], 9), {}, InvalidArgumentError, "dtype"),
    ((3, [1.0, 2.0], 9), {}, InvalidArgumentError, "dtype"),
    ((3, [1, 2, 3], 9), {}, InvalidArgumentError, "shape"),
    (([[0, 1]], [1, 2], 9), {}, InvalidArgumentError, "scalar or vector"),
    ((3, [1, 2], 9), {"rounds": 8}, TypeError, "rounds"),
])
def test_index_shuffle_errors(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        tf.random.experimental.index_shuffle(*args, **kwargs)


def test_index_shuffle_dtype_mismatch():
    with pytest.raises(tf.errors.InvalidArgumentError, match="int64"):
        tf.random.experimental.index_shuffle(tf.constant(3, tf.int64), [1, 2],
                                             tf.constant(9, tf.int32))


# ------------------------------------------------------------------- ragged
@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_arg_reductions_refuse_ragged_with_value_error(op):
    rt = tf.ragged.constant([[1, 2], [3]])
    with pytest.raises(ValueError, match="RaggedTensor"):
        getattr(tf, op)(rt)
    with pytest.raises(ValueError, match="RaggedTensor"):
        getattr(tf.math, op)(rt, axis=1)


# ---------------------------------------------------------------- Variable
def test_assign_of_a_callable_is_value_error():
    v = tf.Variable(1.0)
    with pytest.raises(ValueError, match="unsupported type"):
        v.assign(lambda: 2.0)
    with pytest.raises(ValueError, match="unsupported type"):
        v.assign_add(lambda: 2.0)
    assert float(v) == 1.0


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64])
def test_count_up_to(dtype):
    counter = tf.Variable(tf.constant(0, dtype))
    seen = [counter.count_up_to(2) for _ in range(2)]
    assert [int(s) for s in seen] == [0, 1] and seen[0].dtype == dtype
    with pytest.raises(OutOfRangeError, match="Reached limit of 2"):
        counter.count_up_to(2)
    assert int(counter) == 2


def test_count_up_to_compiled_and_refusals():
    counter = tf.Variable(0)
    step = tf.function(lambda: counter.count_up_to(3))
    assert [int(step()) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(OutOfRangeError):
        step()
    assert int(counter) == 3
    with pytest.raises(InvalidArgumentError, match="int32, int64"):
        tf.Variable(0.0).count_up_to(2)


# ---------------------------------------------------- functional model structure
def _desc(x):
    if isinstance(x, dict):
        return {k: _desc(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_desc(v) for v in x)
    return tuple(x.shape) if hasattr(x, "shape") else x


def test_model_input_and_output_keep_the_given_structure():
    keras = tf.keras
    inp, inp2 = keras.Input((3,)), keras.Input((4,))
    out = keras.layers.Dense(2)(inp)
    second = keras.layers.Dense(1)(keras.layers.Concatenate()([inp, inp2]))
    # (input, inputs, input_shape, output, output_shape) as Keras 3 reports them
    cases = [
        (keras.Model(inp, out), (None, 3), [(None, 3)], (None, 3), (None, 2), (None, 2)),
        (keras.Model([inp], out), [(None, 3)], [(None, 3)], (None, 3), (None, 2),
         (None, 2)),
        (keras.Model((inp,), out), ((None, 3),), [(None, 3)], (None, 3), (None, 2),
         (None, 2)),
        (keras.Model(inp, [out]), (None, 3), [(None, 3)], (None, 3), [(None, 2)],
         (None, 2)),
        (keras.Model({"a": inp}, out), {"a": (None, 3)}, [(None, 3)], (None, 3),
         (None, 2), (None, 2)),
        (keras.Model({"a": inp, "b": inp2}, {"x": out, "y": second}),
         {"a": (None, 3), "b": (None, 4)}, [(None, 3), (None, 4)],
         [(None, 3), (None, 4)], {"x": (None, 2), "y": (None, 1)},
         [(None, 2), (None, 1)]),
    ]
    for model, inp_s, inps, inp_shape, out_s, out_shape in cases:
        assert _desc(model.input) == inp_s
        assert _desc(model.inputs) == inps
        assert model.input_shape == inp_shape
        assert _desc(model.output) == out_s
        assert model.output_shape == out_shape


def test_single_list_input_model_runs_and_round_trips():
    keras = tf.keras
    inp = keras.Input((3,), name="x")
    model = keras.Model([inp], keras.layers.Dense(2)(inp))
    data = np.ones((2, 3), "float32")
    expect = model(data).numpy()
    np.testing.assert_allclose(model([data]).numpy(), expect)
    np.testing.assert_allclose(model({"x": data}).numpy(), expect)
    assert model.predict(data, verbose=0).shape == (2, 2)
    config = model.get_config()
    assert config["input_layers"] == [["x", 0, 0]]
    clone = keras.Model.from_config(config)
    assert isinstance(clone.input, list) and clone.input_shape == (None, 3)
