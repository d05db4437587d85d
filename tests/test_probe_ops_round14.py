"""TF 2.21 behaviours of small tensor manipulations found by probing Stack-Overflow
style snippets against the oracle (round 14): integer range of inferred constants,
Pow dtypes, reshape of empty tensors, expand_dims/concat/stack/pad argument forms,
string zeros, TensorShape/Dimension details, ``bool`` of an empty tensor and
``as_dtype`` of enum numbers. Expected values come from TF 2.21 runs and are
hard-coded here."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError
from tests.helpers import check_function_matches_eager, check_op

OUT_OF_RANGE = "out-of-range integer"


# ------------------------------------------------------------ constants
@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, [2**63], [1, 2**64],
                                   [-(2**63) - 1, 1], [[1], [2**70]]])
def test_inferred_int_beyond_int64_is_value_error(value):
    with pytest.raises(ValueError, match=OUT_OF_RANGE):
        tf.constant(value)
    with pytest.raises(ValueError, match=OUT_OF_RANGE):
        tf.convert_to_tensor(value)


def test_int64_edges_and_requested_dtypes_still_convert():
    assert tf.constant(2**63 - 1).dtype == tf.int64
    assert tf.constant(-(2**63)).numpy() == -(2**63)
    big = tf.constant([2**63], tf.uint64)
    assert big.dtype == tf.uint64 and big.numpy()[0] == 2**63
    assert tf.constant(2**63, tf.uint64).numpy() == 2**63
    # TF 2.21: a requested float dtype takes huge ints
    np.testing.assert_allclose(tf.constant([2**70], tf.float32).numpy(), [2.0**70])
    np.testing.assert_allclose(tf.constant(-(2**63) - 1, tf.float32).numpy(), -(2.0**63))
    with pytest.raises(TypeError):
        tf.constant(2**64, tf.uint64)
    with pytest.raises(ValueError, match="out-of-range integer"):   # TF 2.21
        tf.constant([2**70], tf.int64)


# ------------------------------------------------------------ pow
@pytest.mark.parametrize("dtype", ["uint8", "uint16", "uint32", "uint64"])
def test_pow_has_no_unsigned_kernel(dtype):
    x = tf.constant([2, 3], getattr(tf, dtype))
    with pytest.raises(InvalidArgumentError, match="allowed values"):
        tf.pow(x, x)
    with pytest.raises(InvalidArgumentError):
        x ** 2


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64"])
def test_pow_signed_ints(dtype):
    x = tf.constant([2, 3], getattr(tf, dtype))
    out = x ** 2
    assert out.dtype == x.dtype
    np.testing.assert_array_equal(out.numpy(), [4, 9])


# ------------------------------------------------------------ reshape of empty tensors
@pytest.mark.parametrize("shape, target, expect", [
    # TF 2.21: the -1 of an empty result takes the input's non-zero sizes divided by
    # the target's
    ([0, 3], [-1, 0], (3, 0)),
    ([2, 0, 3], [-1, 0], (6, 0)),
    ([0, 3], [-1, 0, 5], (0, 0, 5)),
    ([0, 3], [0, -1], (0, 3)),
    ([0, 3], [-1, 3], (0, 3)),
    ([0], [-1], (0,)),
])
@pytest.mark.filterwarnings("ignore:.*retracing")
def test_reshape_empty_with_unknown_dim(shape, target, expect):
    x = tf.zeros(shape)
    assert tf.reshape(x, target).shape == expect
    traced = tf.function(lambda v: tf.reshape(v, target))
    assert traced(x).shape == expect


def test_reshape_empty_gradient_flows():
    x = tf.zeros([0, 3])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.reshape(x, [-1, 0]))
    assert tape.gradient(y, x).shape == (0, 3)


# ------------------------------------------------------------ expand_dims
@pytest.mark.parametrize("axis, expect", [
    ([0], (1, 2, 3)), ((1,), (2, 1, 3)), (np.array([-1]), (2, 3, 1)),
    (tf.constant([1]), (2, 1, 3)), (tf.constant(-1), (2, 3, 1)), ([[2]], (2, 3, 1)),
])
def test_expand_dims_takes_one_element_axis(axis, expect):
    x = tf.reshape(tf.range(6.0), [2, 3])
    out = tf.expand_dims(x, axis)
    assert out.shape == expect
    np.testing.assert_array_equal(out.numpy(), np.reshape(x.numpy(), expect))


def test_expand_dims_list_axis_gradient_and_function():
    check_op(lambda v: tf.expand_dims(v, [1]) * 2.0, [np.arange(6.0).reshape(2, 3)],
             lambda a: a.reshape(2, 1, 3) * 2.0)


def test_expand_dims_many_axes_is_error():
    with pytest.raises(InvalidArgumentError, match="single value"):
        tf.expand_dims(tf.zeros([2]), [0, 1])


# ------------------------------------------------------------ concat / stack
def test_concat_of_a_single_tensor_is_that_tensor():
    x = tf.reshape(tf.range(6), [2, 3])
    for axis in (0, 1, -1):
        out = tf.concat(x, axis)
        assert out.shape == (2, 3)
        np.testing.assert_array_equal(out.numpy(), x.numpy())
    assert tf.concat(tf.zeros([2, 2, 2]), 1).shape == (2, 2, 2)


def test_stack_of_empty_list_is_float32_empty():
    out = tf.stack([])
    assert out.dtype == tf.float32 and out.shape == (0,)


# ------------------------------------------------------------ pad
@pytest.mark.parametrize("value", [1.5, 2.0])
def test_pad_float_constant_on_int_tensor_is_type_error(value):
    x = tf.reshape(tf.range(6), [2, 3])
    with pytest.raises(TypeError):
        tf.pad(x, [[1, 1], [0, 0]], constant_values=value)


def test_pad_constants_convert_to_the_tensor_dtype():
    out = tf.pad(tf.zeros([2]), [[1, 1]], constant_values=2)
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), [2, 0, 0, 2])
    out = tf.pad(tf.constant([1]), [[1, 1]], constant_values=0.0)   # a zero is fine
    np.testing.assert_array_equal(out.numpy(), [0, 1, 0])


def test_pad_strings_with_bytes():
    out = tf.pad(tf.constant(["a"]), [[1, 1]], constant_values="x")
    assert out.numpy().tolist() == [b"x", b"a", b"x"]
    out = tf.pad(tf.constant([["a"]]), [[1, 0], [0, 1]])
    assert out.numpy().tolist() == [[b"", b""], [b"a", b""]]
    assert all(type(v) is bytes for v in out.numpy().ravel())


def test_pad_constant_still_matches_numpy_with_gradient():
    check_op(lambda v: tf.pad(v, [[1, 0], [0, 2]], constant_values=3.0),
             [np.arange(6.0).reshape(2, 3)],
             lambda a: np.pad(a, [[1, 0], [0, 2]], constant_values=3.0))


# ------------------------------------------------------------ string zeros
def test_string_zeros_are_empty_bytes():
    assert tf.zeros([2], tf.string).numpy().tolist() == [b"", b""]
    assert tf.zeros_like(tf.constant(["a", "b"])).numpy().tolist() == [b"", b""]
    zeros = tf.function(lambda s: tf.zeros_like(s))(tf.constant(["a"]))
    assert zeros.numpy().tolist() == [b""]


# ------------------------------------------------------------ Tensor conversions
def test_bool_of_empty_tensor_is_false():
    assert bool(tf.zeros([0])) is False
    assert bool(tf.zeros([2, 0], tf.int32)) is False
    assert bool(tf.constant([1])) is True
    with pytest.raises(ValueError):
        bool(tf.constant([1, 2]))


@pytest.mark.parametrize("number, name", [(1, "float32"), (2, "float64"), (3, "int32"),
                                          (7, "string"), (9, "int64"), (10, "bool"),
                                          (14, "bfloat16"), (18, "complex128"),
                                          (19, "float16")])
def test_as_dtype_of_enum_number(number, name):
    assert tf.as_dtype(number) == getattr(tf, name)
    assert tf.as_dtype(number).as_datatype_enum == number


def test_as_dtype_unknown_number_is_type_error():
    with pytest.raises(TypeError, match="100"):
        tf.as_dtype(100)


# ------------------------------------------------------------ TensorShape / Dimension
@pytest.mark.parametrize("dim", [2.0, 1.5, "3", np.float32(2)])
def test_tensor_shape_rejects_non_integer_dims(dim):
    with pytest.raises(TypeError, match="integer"):
        tf.TensorShape([dim])


def test_tensor_shape_takes_index_like_dims():
    assert tf.TensorShape([np.int64(3), tf.constant(2), None]).as_list() == [3, 2, None]


def test_tensor_shape_rank_assertions():
    shape = tf.TensorShape([1, 2])
    shape.assert_same_rank([3, 4])
    shape.assert_same_rank(tf.TensorShape(None))
    shape.assert_has_rank(2)
    with pytest.raises(ValueError, match="same rank"):
        tf.TensorShape([1]).assert_same_rank([1, 2])
    with pytest.raises(ValueError, match="rank 3"):
        shape.assert_has_rank(3)
    assert shape.with_rank_at_most(2) is shape
    with pytest.raises(ValueError, match="at most 1"):
        shape.with_rank_at_most(1)


def test_dimension_arithmetic():
    dim = tf.compat.v1.Dimension
    assert dim(3) + 1 == dim(4) and repr(dim(3) + 1) == "Dimension(4)"
    assert dim(3) * dim(2) == 6 and dim(3) // 2 == 1 and dim(7) % 4 == 3
    assert 3 - dim(2) == 1 and 1 + dim(2) == 3
    assert (dim(None) + 1).value is None and str(dim(None) + 1) == "?"
    assert dim(3) < 4 and dim(3) >= 3 and (dim(None) < 3) is None


def test_round14_fixes_agree_under_function():
    check_function_matches_eager(
        lambda v: tf.concat(tf.expand_dims(v, [0]), 0) + tf.reshape(v, [1, -1]),
        [np.arange(4.0)])


# ------------------------------------------------------------ the Python float type
def test_python_float_type_is_float32_in_tf_apis():
    # TF 2.21: tf.as_dtype(float) is float32 (tf.cast(mask, float) is a common idiom)
    assert tf.as_dtype(float) == tf.float32
    out = tf.cast(tf.constant([1, 0]), float)
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), [1.0, 0.0])
    assert tf.zeros([1], dtype=float).dtype == tf.float32
    assert tf.constant([1], dtype=float).dtype == tf.float32
    assert tf.Variable(1, dtype=float).dtype == tf.float32
    assert tf.TensorSpec([1], float).dtype == tf.float32
    assert tf.keras.ops.zeros(2, dtype=float).dtype == tf.float32


def test_python_float_type_is_float64_in_numpy_api():
    tnp = tf.experimental.numpy
    for out in (tnp.zeros(2, dtype=float), tnp.ones(2, float), tnp.full(2, 1, dtype=float),
                tnp.eye(2, dtype=float), tnp.asarray([1], dtype=float),
                tnp.arange(3, dtype=float), tnp.zeros_like(tnp.ones(2), dtype=float)):
        assert out.dtype == tf.float64


# ------------------------------------------------------------ float floor division
def test_float_floordiv_floors_the_quotient():
    # TF 2.21 values: floor(x / y), unlike NumPy's floor_divide (1.0 // 0.1 == 9)
    x = tf.constant([1.0, -1.0, 7.0, 0.3, 1e30, -5.0, np.inf, 1.0], tf.float64)
    y = tf.constant([0.1, 0.1, 0.7, 0.1, 3.0, 0.0, 2.0, np.inf], tf.float64)
    expect = [10.0, -10.0, 10.0, 2.0, 1e30 / 3.0, -np.inf, np.inf, 0.0]
    np.testing.assert_array_equal(tf.math.floordiv(x, y).numpy(), expect)
    np.testing.assert_array_equal(tf.function(tf.math.floordiv)(x, y).numpy(), expect)
    out = tf.constant([1.0, -1.0, 0.3]) // tf.constant([0.1, 0.1, 0.1])
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), [10.0, -10.0, 3.0])
    assert (tf.constant([3.0], tf.float16) // 2).dtype == tf.float16


def test_int_floordiv_unchanged():
    out = tf.constant([-7, 7, -8]) // tf.constant([2, -2, 3])
    np.testing.assert_array_equal(out.numpy(), np.floor_divide([-7, 7, -8], [2, -2, 3]))
    with pytest.raises(InvalidArgumentError, match="division by zero"):
        tf.constant([1]) // tf.constant([0])


def test_tensor_shape_rejects_negative_dims():
    # TF 2.21: "Dimension -1 must be >= 0"; None is the unknown size
    for dims in ([-1], [None, -1], [-3]):
        with pytest.raises(ValueError, match="must be >= 0"):
            tf.TensorShape(dims)
    with pytest.raises(ValueError, match="must be >= 0"):
        tf.TensorSpec([-1, 3])
    assert tf.TensorShape([None, 0]).as_list() == [None, 0]



def test_keras_backend_cast_to_floatx_returns_numpy_for_python_values():
    # Keras: np.asarray(x, floatx()) for non-tensors, a cast for tensors
    out = tf.keras.backend.cast_to_floatx([1, 2])
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_array_equal(out, [1.0, 2.0])
    cast = tf.keras.backend.cast_to_floatx(tf.constant([1]))
    assert isinstance(cast, tf.Tensor) and cast.dtype == tf.float32


# ------------------------------------------------------------ slice bounds
@pytest.mark.parametrize("key", [slice(0.5, None), slice(None, 2.0), slice(None, None, 1.0),
                                 slice("a", None)])
def test_non_integer_slice_bounds_are_type_errors(key):
    with pytest.raises(TypeError, match="valid indices"):
        tf.range(4)[key]


def test_integer_like_slice_bounds_still_work():
    x = tf.range(4)
    np.testing.assert_array_equal(x[np.int64(1):].numpy(), [1, 2, 3])
    np.testing.assert_array_equal(x[:tf.constant(2, tf.int64)].numpy(), [0, 1])
    np.testing.assert_array_equal(
        tf.function(lambda v, i: v[i:])(x, tf.constant(2)).numpy(), [2, 3])


# ------------------------------------------------------------ segment static shapes
@pytest.mark.parametrize("op", ["unsorted_segment_sum", "unsorted_segment_max",
                                "unsorted_segment_prod", "unsorted_segment_mean"])
def test_unsorted_segment_static_shape_with_int_count(op):
    # TF 2.21: a Python num_segments fixes the leading size of the traced result
    def fn(x):
        ids = tf.zeros([tf.shape(x)[0]], tf.int32)
        return getattr(tf.math, op)(x, ids, 4)
    traced = tf.function(fn, input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    assert traced.get_concrete_function().structured_outputs.shape.as_list() == [4, 3]
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(traced(tf.constant(x)).numpy(), fn(tf.constant(x)).numpy())


@pytest.mark.parametrize("axis", [0.0, [0.0], 1.5])
def test_expand_dims_float_axis_is_type_error(axis):
    with pytest.raises(TypeError, match="axis"):
        tf.expand_dims(tf.constant([1]), axis)


# ------------------------------------------------------------ Variable scatter_nd max/min
def test_variable_scatter_nd_max_min():
    with tf.device("/CPU:0"):   # a GPU ignores out-of-range rows (TF's GPU kernel too)
        v = tf.Variable([1.0, 2.0, 3.0])
    out = v.scatter_nd_max([[0], [0], [2]], [5.0, 7.0, 1.0])   # duplicates: the largest
    np.testing.assert_array_equal(out.numpy(), [7.0, 2.0, 3.0])
    v.scatter_nd_min([[1]], [-1.0])
    np.testing.assert_array_equal(v.numpy(), [7.0, -1.0, 3.0])

    @tf.function
    def raise_middle():
        v.scatter_nd_max([[1]], [10.0])
        return v.read_value()
    np.testing.assert_array_equal(raise_middle().numpy(), [7.0, 10.0, 3.0])
    with pytest.raises(InvalidArgumentError, match="does not index"):
        v.scatter_nd_min([[5]], [0.0])


# ------------------------------------------------------------ reduction axes / add_n
def test_reduction_axis_as_numpy_array():
    x = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    out = tf.reduce_mean(tf.constant(x), axis=np.arange(1, 3))
    np.testing.assert_allclose(out.numpy(), x.mean(axis=(1, 2)))
    out = tf.reduce_sum(tf.constant(x), axis=np.array([0, -1]), keepdims=True)
    np.testing.assert_allclose(out.numpy(), x.sum(axis=(0, 2), keepdims=True))


def test_add_n_requires_same_shapes():
    with pytest.raises(InvalidArgumentError, match="same size and shape"):
        tf.math.add_n([tf.constant([1]), tf.constant([1, 2])])
    with pytest.raises(InvalidArgumentError, match="same size and shape"):
        tf.add_n([tf.constant([[1.0]]), tf.constant([1.0])])
    np.testing.assert_array_equal(tf.add_n([[1, 2], [3, 4]]).numpy(), [4, 6])
    check_op(lambda a, b: tf.add_n([a, b, a]), [np.ones(3), np.arange(3.0)],
             lambda a, b: 2 * a + b)
    traced = tf.function(lambda a, b: tf.add_n([a, b]),
                         input_signature=[tf.TensorSpec([None])] * 2)
    np.testing.assert_array_equal(traced(tf.ones([2]), tf.ones([2])).numpy(), [2.0, 2.0])
