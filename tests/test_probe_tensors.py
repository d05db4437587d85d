"""Tensor conversion, dtype refusal, Variable and Module behaviour found by probes.

Every case came from a probe program run under TF 2.21 (Keras 3) and dlframe; the
expected values and error types are TF's (hard-coded here, TF is not imported).
"""

import numpy as np
import pytest

import dlframe as tf


# ------------------------------------------------------------ conversion dtypes
@pytest.mark.parametrize("make", [tf.constant, tf.convert_to_tensor])
@pytest.mark.parametrize("value", [1.0, [1.0, 2.0], [1, 2.0]])
def test_python_float_never_becomes_integer(make, value):
    # TF 2.21: TypeError even for whole numbers
    with pytest.raises(TypeError, match="int32"):
        make(value, dtype=tf.int32)


@pytest.mark.parametrize("make", [tf.constant, tf.convert_to_tensor])
def test_numpy_float_is_cast_to_integer_dtype(make):
    out = make(np.array([1.5, 2.0, -1.7]), dtype=tf.int32)
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), [1, 2, -1])   # truncation, as TF
    assert make(np.float64(3.9), dtype=tf.int64).numpy() == 3


@pytest.mark.parametrize("value, dtype, expect", [
    ([np.int64(1), 2], tf.int32, [1, 2]),
    ([np.float16(1), 2.0], tf.float16, [1.0, 2.0]),
    ([np.float32(1), np.float64(2)], tf.float32, [1.0, 2.0]),   # the first leaf wins
    ([np.float64(1.5)], tf.float64, [1.5]),
    ([np.int8(1), np.int8(2)], tf.int32, [1, 2]),
    ([np.int32(1), 2 ** 40], tf.int64, [1, 2 ** 40]),
    ([np.array(1.5), 2.0], tf.float64, [1.5, 2.0]),
])
def test_list_of_numpy_scalars_infers_like_tf(value, dtype, expect):
    out = tf.constant(value)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.numpy(), expect)
    assert tf.convert_to_tensor(value).dtype == dtype


def test_list_of_numpy_arrays_infers_like_tf():
    out = tf.convert_to_tensor([np.array([1., 2.], np.float32), [3., 4.]])
    assert out.dtype == tf.float32 and out.shape == (2, 2)
    assert tf.convert_to_tensor([np.array([1, 2]), np.array([3, 4])]).dtype == tf.int32


@pytest.mark.parametrize("value, hint, dtype, expect", [
    (np.array(1), tf.float32, tf.float32, 1.0),
    (np.array(1.5), tf.int32, tf.int32, 1),
    (np.float32(1.5), tf.float64, tf.float64, 1.5),
])
def test_dtype_hint_applies_to_numpy_values(value, hint, dtype, expect):
    out = tf.convert_to_tensor(value, dtype_hint=hint)
    assert out.dtype == dtype and out.numpy() == expect


def test_dtype_hint_falls_back_for_strings():
    assert tf.convert_to_tensor(np.array(["a"]), dtype_hint=tf.float32).dtype == tf.string


# ------------------------------------------------------------- binary operands
def test_numpy_scalar_operand_is_cast_like_a_numpy_array():
    out = tf.constant([1]) + np.float64(1.5)   # TF casts NumPy input to int32
    assert out.dtype == tf.int32 and out.numpy().tolist() == [2]
    assert (tf.constant(1) == np.float64(1.5)).numpy()


@pytest.mark.parametrize("other", [[1.5], np.array(["a"])])
def test_operand_of_wrong_dtype_is_invalid_argument(other):
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.constant([1]) + other


@pytest.mark.parametrize("other", ["a", 1.5, [1.5]])
def test_equality_with_unconvertible_value_raises_type_error(other):
    with pytest.raises(TypeError):
        tf.constant([1, 2]) == other   # noqa: B015
    with pytest.raises(TypeError):
        tf.constant([1, 2]) != other   # noqa: B015


def test_equality_keeps_tf_special_cases():
    assert (tf.constant([1, 2]) == None) is False
    assert (tf.constant([1, 2]) != None) is True
    assert not (tf.constant([1, 2]) == [1, 2, 3]).numpy()   # incompatible shapes
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.constant(1) == tf.constant(1.0)   # noqa: B015
    assert tf.constant(1) in [tf.constant(2), tf.constant(1)]


# ------------------------------------------------------------------- indexing
def test_list_index_is_a_tuple_of_indices():
    t = tf.reshape(tf.range(24), [2, 3, 4])
    np.testing.assert_array_equal(t[[0, 1]].numpy(), [4, 5, 6, 7])   # t[0, 1] in TF
    np.testing.assert_array_equal(t[[1, 2, 3]].numpy(), 23)
    np.testing.assert_array_equal(t[[slice(None), 1]].numpy(), t[:, 1].numpy())


def test_float_shape_entries_are_refused():
    # TF: zeros([n / 2]) does not silently truncate the float
    for make in (lambda: tf.zeros([2.5]), lambda: tf.fill([2.5], 1.0),
                 lambda: tf.reshape(tf.range(4), [2.0, 2])):
        with pytest.raises((TypeError, tf.errors.InvalidArgumentError)):
            make()


# ------------------------------------------------------------------ variables
def test_variable_shape_argument_must_fit_initial_value():
    with pytest.raises(ValueError, match="shape"):
        tf.Variable([1.0, 2.0], shape=[3])
    v = tf.Variable([[1.0]], shape=[None, 1])
    v.assign([[1.0], [2.0]])
    assert v.shape.as_list() == [None, 1]   # TF keeps the declared shape
    assert v.numpy().shape == (2, 1)


# ------------------------------------------------------------------ tape edges
def test_unentered_tape_gradient_is_runtime_error():
    with pytest.raises(RuntimeError, match="non-persistent"):
        tf.GradientTape().gradient(tf.constant(1.0), tf.constant(1.0))


def test_reset_outside_recording_is_value_error():
    x = tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as tape:
        y = x * x
        tape.reset()
        z = x * 3.0
    assert tape.gradient(y, x) is None   # reset forgot y
    assert tape.gradient(z, x).numpy() == 3.0
    with pytest.raises(ValueError, match="recording"):
        tape.reset()


def test_batch_jacobian_needs_rank_two_target():
    x = tf.constant([[1., 2.], [3., 4.]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = tf.reduce_sum(x ** 2, axis=1)
        y2 = x ** 2
    with pytest.raises(ValueError, match="rank at least 2"):
        tape.batch_jacobian(y, x)
    bj = tape.batch_jacobian(y2, x).numpy()
    np.testing.assert_allclose(bj, [np.diag([2., 4.]), np.diag([6., 8.])])


# -------------------------------------------------------------------- modules
def test_module_flatten_with_paths():
    class Holder(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable(1.0)
            self.subs = [tf.Module(name="q")]
            self.d = {"a": tf.Variable(2.0)}

    h = Holder()
    keep = lambda x: isinstance(x, (tf.Variable, tf.Module))
    found = list(h._flatten(with_path=True, predicate=keep))
    assert [p for p, _ in found] == [("d", "a"), ("subs", 0), ("w",)]
    assert found[0][1] is h.d["a"] and found[2][1] is h.w
    variables = list(h._flatten(predicate=lambda x: isinstance(x, tf.Variable)))
    assert len(variables) == 2


def test_unconnected_zero_covers_integer_sources():
    iv = tf.Variable(3)
    with tf.GradientTape() as tape:
        y = tf.cast(iv, tf.float32) * 2
    g = tape.gradient(y, iv, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    assert g.dtype == tf.int32 and g.numpy() == 0   # TF 2.21: an int32 zero
    with tf.GradientTape() as tape:
        y = tf.cast(iv, tf.float32) * 2
    assert tape.gradient(y, iv) is None


@pytest.mark.parametrize("op", [tf.round, tf.floor, tf.math.ceil, tf.math.rint])
def test_rounding_ops_have_no_gradient(op):
    v = tf.Variable(1.3)
    with tf.GradientTape(persistent=True) as tape:
        y = op(v)
        z = op(v) + 2.0 * v
    assert tape.gradient(y, v) is None   # TF registers None, not zeros
    assert tape.gradient(z, v).numpy() == 2.0

    @tf.function
    def compiled(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = op(x) + 3.0 * x
        return tape.gradient(out, x)
    assert compiled(tf.constant(1.3)).numpy() == 3.0


# ------------------------------------------------------------ TensorShape values
def test_tensor_shape_converts_to_an_int32_tensor():
    shape = tf.Variable(tf.zeros([5, 8])).shape
    assert tf.reduce_prod(shape).numpy() == 40
    out = tf.constant(tf.TensorShape([2, 3]))
    assert out.dtype == tf.int32 and out.numpy().tolist() == [2, 3]
    assert tf.convert_to_tensor(tf.TensorShape([2]), dtype=tf.int64).dtype == tf.int64
    with pytest.raises(ValueError, match="partially known"):
        tf.convert_to_tensor(tf.TensorShape([None, 3]))


def test_empty_lists_convert_to_any_numeric_dtype():
    assert tf.constant([], tf.int64).dtype == tf.int64
    assert tf.constant([[], []], dtype=tf.int32).shape == (2, 0)
    assert tf.convert_to_tensor([], dtype=tf.bool).dtype == tf.bool


# --------------------------------------------------------------------- dtypes
def test_datatype_enum_round_trips():
    expected = {tf.float32: 1, tf.float64: 2, tf.int32: 3, tf.uint8: 4, tf.string: 7,
                tf.int64: 9, tf.bool: 10, tf.float16: 19, tf.uint64: 23}
    for dtype, number in expected.items():
        assert dtype.as_datatype_enum == number


def test_is_symbolic_tensor_only_inside_a_trace():
    seen = []

    @tf.function
    def f(x):
        seen.append(tf.is_symbolic_tensor(x))
        return x * 2

    assert f(tf.constant(1.0)).numpy() == 2.0
    assert seen == [True]
    assert not tf.is_symbolic_tensor(tf.constant(1.0))
    assert not tf.is_symbolic_tensor(np.ones(2))


# -------------------------------------------------------------------- devices
def test_missing_device_falls_back_under_soft_placement():
    a = tf.Variable([[1.0, 2.0, 3.0]])
    count = len(tf.config.list_physical_devices("GPU"))
    with tf.device(f"GPU:{count}"):   # TF guide code on a machine lacking that GPU
        k = a * a
        c = tf.constant(1.0)
    np.testing.assert_allclose(k.numpy(), [[1.0, 4.0, 9.0]])
    assert c.numpy() == 1.0
    with pytest.raises(ValueError):
        tf.device("TPUX:0").__enter__()
    tf.config.set_soft_device_placement(False)
    try:
        with pytest.raises(ValueError, match="does not exist"):
            tf.device(f"GPU:{count}").__enter__()
    finally:
        tf.config.set_soft_device_placement(True)


def test_augmented_assignment_on_variable_is_refused():
    v = tf.Variable([1.0, 2.0])
    alias = v
    for update in ("v += 1", "v -= 1", "v *= 2", "v /= 2"):
        with pytest.raises(RuntimeError, match="assign_add"):
            exec(update, {"v": v})
    assert alias is v and v.numpy().tolist() == [1.0, 2.0]
    out = v + 1   # the explicit spelling still makes a new tensor
    assert out.numpy().tolist() == [2.0, 3.0] and v.numpy().tolist() == [1.0, 2.0]
