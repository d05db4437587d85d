"""Dtype rules and error classes checked against TF 2.21 / Keras 3.15 (eager, CPU):
``tf.add`` with a Python scalar first, ``tf.Variable`` of a Tensor of another dtype,
``keras.ops`` split/nonzero/clip/mod/logsumexp, ops TF has no kernel for, segment
dtypes, and the static shapes of ragged row reductions inside ``tf.function``."""

import warnings

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from tests.helpers import check_grad

F32 = [1.0, 2.0]


# ------------------------------------------------------------ tf.add(scalar, tensor)
@pytest.mark.parametrize("first, second, got, want", [
    (2, lambda: tf.constant(F32), "int32", "float32"),
    (2.5, lambda: tf.constant([1, 2]), "float32", "int32"),
    (2, lambda: tf.constant([1, 2], tf.int64), "int32", "int64"),
    (2.0, lambda: tf.constant(F32, tf.float16), "float32", "float16"),
    (1j, lambda: tf.constant([1, 2], tf.complex64), "complex128", "complex64"),
    (2, lambda: tf.Variable(F32), "int32", "float32"),
])
def test_add_converts_a_python_scalar_first_operand_on_its_own(first, second, got, want):
    for add in (tf.add, tf.math.add):
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            add(first, second())
        assert f"expected to be a {got} tensor but is a {want} tensor" in str(info.value)
        assert isinstance(info.value, TypeError)


def test_add_scalar_first_of_the_default_dtype_and_other_forms_still_work():
    c = tf.constant(F32)
    for out, want in [(tf.add(1.5, c), [2.5, 3.5]), (2 + c, [3.0, 4.0]),
                      (tf.multiply(2, c), [2.0, 4.0]), (tf.subtract(3, c), [2.0, 1.0]),
                      (tf.add(c, 2), [3.0, 4.0])]:
        assert out.dtype == tf.float32
        np.testing.assert_array_equal(out.numpy(), want)
    assert tf.add(2, tf.constant([1, 2])).dtype == tf.int32
    assert tf.add(2 ** 40, tf.constant([1], tf.int64)).numpy()[0] == 2 ** 40 + 1
    assert tf.add(np.float64(1.0), tf.constant([1.0], tf.float64)).dtype == tf.float64


def test_internal_scalar_first_sums_keep_half_and_double_inputs():
    # gelu / atan / softsign gradients and weighted cross-entropy add 1.0 to a tensor
    x = np.array([-1.5, 0.3, 2.0])
    g = tf.nn.gelu(tf.constant(x), approximate=True)
    want = 0.5 * x * (1 + np.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3)))
    np.testing.assert_allclose(g.numpy(), want, rtol=1e-12)
    assert tf.nn.gelu(tf.constant(x, tf.float16), approximate=True).dtype == tf.float16
    check_grad(tf.math.atan, [x])
    check_grad(tf.math.softsign, [x])
    check_grad(tf.math.asinh, [x])
    labels, logits = np.array([0.0, 1.0, 1.0]), np.array([0.5, -1.0, 2.0])
    got = tf.nn.weighted_cross_entropy_with_logits(
        tf.constant(labels), tf.constant(logits), pos_weight=3.0)
    log_w = 1 + 2.0 * labels
    want = (1 - labels) * logits + log_w * (np.log1p(np.exp(-np.abs(logits)))
                                            + np.maximum(-logits, 0))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    tf.debugging.assert_near(tf.constant(x), tf.constant(x + 1e-17))
    sched = keras.optimizers.schedules.CosineDecay(0.1, 10)
    np.testing.assert_allclose(float(sched(5)), 0.05, rtol=1e-6)


# ------------------------------------------------------------ tf.Variable dtype
def test_variable_refuses_a_tensor_initial_value_of_another_dtype():
    with pytest.raises(ValueError, match="requested dtype float64 for Tensor with "
                                         "dtype float32"):
        tf.Variable(tf.constant(1.0), dtype=tf.float64)
    with pytest.raises(ValueError, match="requested dtype float32 for Tensor with "
                                         "dtype int32"):
        tf.Variable(lambda: tf.constant(1), dtype=tf.float32)
    with pytest.raises(ValueError, match="Incompatible type conversion requested to "
                                         "type float64"):
        tf.Variable(tf.Variable(1.0), dtype=tf.float64)


def test_variable_converts_python_and_numpy_initial_values():
    for value, dtype, want in [(1.0, tf.float64, 1.0), (1, tf.float32, 1.0),
                               (np.ones(2), tf.float32, [1.0, 1.0]),
                               (np.ones(2, np.int64), tf.float32, [1.0, 1.0]),
                               ([1.0, 2.0], tf.float64, [1.0, 2.0]),
                               (tf.constant(3.0), tf.float32, 3.0)]:
        v = tf.Variable(value, dtype=dtype)
        assert v.dtype == dtype
        np.testing.assert_array_equal(v.numpy(), want)
    with pytest.raises(TypeError, match="Cannot convert 2.5"):
        tf.Variable(2.5, dtype=tf.int32)


# ------------------------------------------------------------ keras.ops / tnp
@pytest.mark.parametrize("split", [keras.ops.split, tf.experimental.numpy.split])
def test_split_errors_are_tf_kernel_errors(split):
    with pytest.raises(tf.errors.InvalidArgumentError, match="evenly divide"):
        split(tf.range(3), 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="but got 3"):
        split(tf.range(6), 2, axis=3)
    parts = split(tf.range(6), [1, 4])
    assert [p.numpy().tolist() for p in parts] == [[0], [1, 2, 3], [4, 5]]


def test_nonzero_and_single_argument_where_return_lists():
    x = tf.constant([[1, 0, 3], [0, 5, 0]])
    out = keras.ops.nonzero(x)
    assert isinstance(out, list)
    assert [o.numpy().tolist() for o in out] == [[0, 0, 1], [0, 2, 1]]
    out = tf.experimental.numpy.where(tf.constant([0, 2, 0, 3]))
    assert isinstance(out, list) and out[0].numpy().tolist() == [1, 3]


def test_keras_clip_keeps_the_input_dtype_where_tnp_promotes():
    ints = tf.constant([1, 5, 9])
    with pytest.raises(TypeError, match="Cannot convert 7.5"):
        keras.ops.clip(ints, 2.5, 7.5)
    out = keras.ops.clip(ints, 2, 7)
    assert out.dtype == tf.int32 and out.numpy().tolist() == [2, 5, 7]
    out = keras.ops.clip(tf.constant([True, False]), 0, 1)
    assert out.dtype == tf.int32 and out.numpy().tolist() == [1, 0]
    out = tf.experimental.numpy.clip(ints, 2.5, 7.5)
    assert out.dtype == tf.float64 and out.numpy().tolist() == [2.5, 5.0, 7.5]   # (TF)


@pytest.mark.parametrize("x, y, dtype, want", [
    (tf.constant([5, -7], tf.int8), 2, "int32", [1, 1]),
    (2, tf.constant([5, -7], tf.int8), "int32", [2, -5]),
    (tf.constant([5, -7], tf.int8), 2.5, "float32", [0.0, 0.5]),
    (tf.constant([5.5, -7.0], tf.float16), 2, "float16", [1.5, 1.0]),
    (tf.constant([5.5, -7.0], tf.float16), 2.5, "float32", [0.5, 0.5]),
    (tf.constant([5, -7], tf.int8), tf.constant([3, 3], tf.int8), "int8", [2, 2]),
])
def test_keras_mod_counts_python_numbers_as_int32_or_float32(x, y, dtype, want):
    out = keras.ops.mod(x, y)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.numpy(), want)
    assert tf.experimental.numpy.mod(tf.constant([5], tf.int8), 2).dtype == tf.int8


def test_keras_logsumexp_of_ints_raises_and_floats_match_numpy():
    with pytest.raises(tf.errors.InvalidArgumentError):
        keras.ops.logsumexp(tf.constant([1, 2]))
    x = np.array([[1.0, 2.0, 3.0]])
    out = keras.ops.logsumexp(tf.constant(x), axis=1, keepdims=True)
    assert out.dtype == tf.float64 and out.shape == (1, 1)
    np.testing.assert_allclose(out.numpy(), np.log(np.exp(x).sum(1, keepdims=True)))


def test_tnp_add_of_bools_is_logical_or_and_keras_add_refuses():
    a, b = tf.constant([True, False, False]), tf.constant([False, False, True])
    out = tf.experimental.numpy.add(a, b)
    assert out.dtype == tf.bool and out.numpy().tolist() == [True, False, True]
    with pytest.raises(tf.errors.InvalidArgumentError):
        keras.ops.add(a, b)


def test_keras_tensor_dtype_compares_with_strings_and_dtypes():
    x = keras.Input((3,), dtype="int32")
    assert x.dtype == "int32" and x.dtype == tf.int32 and x.dtype != tf.float32
    assert {x.dtype: 1}["int32"] == 1 and x.dtype.name == "int32"


# ------------------------------------------------------------ kernels TF lacks
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "uint16"])
def test_squared_difference_has_no_small_integer_kernel(dtype):
    x = tf.constant([1, 2], dtype)
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"of {dtype} is not"):
        tf.math.squared_difference(x, x)


def test_squared_difference_of_int32_and_floats():
    out = tf.math.squared_difference(tf.constant([1, 5]), tf.constant([4, 2]))
    assert out.dtype == tf.int32 and out.numpy().tolist() == [9, 9]
    check_grad(tf.math.squared_difference, [np.array([1.0, -2.0]), np.array([0.5, 3.0])])


def test_rint_takes_floats_only_round_passes_integers():
    with pytest.raises(tf.errors.InvalidArgumentError, match="Rint"):
        tf.math.rint(tf.constant([1, 2]))
    out = tf.math.rint(tf.constant([0.5, 1.5, 2.5, -0.5]))
    np.testing.assert_array_equal(out.numpy(), [0.0, 2.0, 2.0, -0.0])
    assert tf.math.round(tf.constant([1, 2])).numpy().tolist() == [1, 2]


def test_pow_shape_mismatch_is_invalid_argument():
    with pytest.raises(tf.errors.InvalidArgumentError, match="Incompatible shapes"):
        tf.pow(tf.ones([2, 3]), tf.ones([4]))


def test_bool_division_real_and_conj_raise_type_errors():
    b = tf.constant([True, False])
    for fn in (tf.divide, tf.math.truediv, tf.math.divide_no_nan, lambda x, y: x / y):
        with pytest.raises(TypeError, match="Invalid dtype tf.bool"):
            fn(b, b)
    with pytest.raises(TypeError, match="numeric tensor"):
        tf.math.real(b)
    with pytest.raises(TypeError, match="numeric or variant"):
        tf.math.conj(b)
    assert tf.math.real(tf.constant([1, 2])).numpy().tolist() == [1, 2]


def test_segment_reductions_refuse_bool_and_complex_extremes():
    b = tf.constant([True, False])
    for fn in (tf.math.unsorted_segment_sum, tf.math.unsorted_segment_max):
        with pytest.raises(tf.errors.InvalidArgumentError, match="of bool is not"):
            fn(b, [0, 0], 1)
    c = tf.constant([1 + 1j, 2], tf.complex64)
    with pytest.raises(tf.errors.InvalidArgumentError, match="of complex64 is not"):
        tf.math.unsorted_segment_max(c, [0, 0], 1)
    np.testing.assert_array_equal(tf.math.unsorted_segment_sum(c, [0, 0], 1).numpy(),
                                  [3 + 1j])


def test_sorted_segment_negative_first_id_is_out_of_range_as_tf():
    data = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    for fn in (tf.math.segment_sum, tf.math.segment_max, tf.math.segment_mean):
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"Segment id -1 out of range \[0, 2\), possibly because "
                                 "'segment_ids' input is not sorted"):
            fn(data, tf.constant([-1, 0, 0, 1]))
        with pytest.raises(tf.errors.InvalidArgumentError, match="not increasing"):
            fn(data, tf.constant([0, 1, 0, 1]))


def test_reduce_prod_overflow_to_inf_is_silent():
    x = tf.constant([60000.0, 60000.0], tf.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isinf(tf.reduce_prod(x).numpy())
        assert np.isinf(tf.reduce_sum(x).numpy())


# ------------------------------------------------------------ static shapes in a trace
def test_ragged_row_reductions_have_an_unknown_row_count_in_a_trace():
    seen = {}
    spec = tf.RaggedTensorSpec([None, None, 2], tf.float32, ragged_rank=1)

    @tf.function(input_signature=[spec])
    def f(r):
        outs = {"sum1": tf.reduce_sum(r, 1), "max1": tf.reduce_max(r, 1),
                "mean1": tf.reduce_mean(r, 1), "sum12": tf.reduce_sum(r, [1, 2]),
                "sum1k": tf.reduce_sum(r, 1, keepdims=True), "sum0": tf.reduce_sum(r, 0),
                "nrows": r.nrows()}
        seen.update({k: v.shape for k, v in outs.items()})
        return outs["sum1"]

    values = np.arange(12.0, dtype=np.float32).reshape(6, 2)
    out = f(tf.RaggedTensor.from_row_lengths(values[:3], [2, 1]))
    np.testing.assert_array_equal(out.numpy(), [[2.0, 4.0], [4.0, 5.0]])
    assert seen["sum1"].as_list() == [None, 2] and seen["max1"].as_list() == [None, 2]
    assert seen["mean1"].as_list() == [None, 2] and seen["sum12"].as_list() == [None]
    assert seen["sum1k"].as_list() == [None, 1, 2] and seen["sum0"].as_list() == [None, 2]
    assert seen["nrows"].as_list() == []
    out = f(tf.RaggedTensor.from_row_lengths(values, [1, 2, 0, 3]))
    np.testing.assert_array_equal(out.numpy(), [[0, 1], [6, 8], [0, 0], [24, 27]])
    assert f.get_concrete_function().structured_outputs.shape.as_list() == [None, 2]
    assert tf.ragged.constant([[1, 2], [3]]).nrows().numpy() == 2   # (eager)


def test_reducing_a_ragged_dimension_whose_items_are_ragged():
    # TF 2.21: items of a group reduce position by position, rows as long as the
    # longest item
    rt = tf.ragged.constant([[[1.0, 2.0], [], [3.0]], [], [[4.0], [5.0, 6.0, 7.0]]])
    for fn, axis, want in [
            (tf.reduce_sum, 1, [[4.0, 2.0], [], [9.0, 6.0, 7.0]]),
            (tf.reduce_max, 1, [[3.0, 2.0], [], [5.0, 6.0, 7.0]]),
            (tf.reduce_mean, 1, [[2.0, 2.0], [], [4.5, 6.0, 7.0]]),
            (tf.reduce_prod, -2, [[3.0, 2.0], [], [20.0, 6.0, 7.0]]),
            (tf.reduce_sum, 0, [[5.0, 2.0], [5.0, 6.0, 7.0], [3.0]]),
            (tf.reduce_min, 0, [[1.0, 2.0], [5.0, 6.0, 7.0], [3.0]])]:
        out = fn(rt, axis=axis)
        assert isinstance(out, tf.RaggedTensor) and out.to_list() == want
    np.testing.assert_array_equal(tf.reduce_sum(rt, [0, 1]).numpy(), [13.0, 8.0, 7.0])
    kept = tf.reduce_sum(rt, axis=1, keepdims=True)
    assert kept.to_list() == [[[4.0, 2.0]], [[]], [[9.0, 6.0, 7.0]]]
    assert kept.shape.as_list() == [3, 1, None]
    ints = tf.ragged.constant([[[1, 2], [3]], [[4, 5, 6]]])
    assert tf.reduce_mean(ints, axis=1).to_list() == [[2.0, 2.0], [4.0, 5.0, 6.0]]
    values = tf.constant([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    with tf.GradientTape() as tape:
        tape.watch(values)
        x = tf.RaggedTensor.from_nested_row_lengths(values, [[3, 0, 2], [2, 0, 1, 1, 3]])
        y = tf.reduce_sum(tf.reduce_max(x, 1) * 2.0)
    np.testing.assert_array_equal(tape.gradient(y, values).numpy(),
                                  [0, 2, 2, 0, 2, 2, 2])


def test_ragged_mean_over_several_axes_is_one_sum_over_one_count():
    rt = tf.ragged.constant([[1.0, 2.0], [3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_allclose(tf.reduce_mean(rt, [0, 1]).numpy(), 3.5)
    ints = tf.ragged.constant([[[1, 2], [3]], [[4, 5, 6]]])
    out = tf.reduce_mean(ints, [0, 1])
    assert out.dtype == tf.float64
    np.testing.assert_allclose(out.numpy(), [8 / 3, 3.5, 6.0])
    np.testing.assert_allclose(tf.reduce_mean(ints, [1, 2]).numpy(), [2.0, 5.0])


def test_unsorted_segment_count_from_an_unknown_batch_is_unknown_in_a_trace():
    seen = {}

    @tf.function(input_signature=[tf.TensorSpec([None, 2])])
    def f(x):
        n = tf.shape(x)[0]
        out = tf.math.unsorted_segment_sum(x, tf.range(n) // 2, n)
        seen["shape"] = out.shape
        seen["known"] = tf.math.unsorted_segment_max(x, tf.zeros([n], tf.int32), 3).shape
        return out

    out = f(tf.ones([3, 2]))
    np.testing.assert_array_equal(out.numpy(), [[2, 2], [1, 1], [0, 0]])
    assert seen["shape"].as_list() == [None, 2] and seen["known"].as_list() == [3, 2]


def test_split_modules_keep_their_import_paths():
    from dlframe.ops import ragged_tensor, ragged_tensor_splits, reduction, reduction_scan
    assert reduction.cumsum is reduction_scan.cumsum
    assert reduction.cumulative_logsumexp is reduction_scan.cumulative_logsumexp
    assert ragged_tensor.segment_ids_to_row_splits is \
        ragged_tensor_splits.segment_ids_to_row_splits
    np.testing.assert_array_equal(
        tf.ragged.segment_ids_to_row_splits([0, 0, 2]).numpy(), [0, 2, 2, 3])
    np.testing.assert_array_equal(
        tf.math.cumsum([1, 2, 3], exclusive=True, reverse=True).numpy(), [5, 3, 0])
