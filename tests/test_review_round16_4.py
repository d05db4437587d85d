"""Review round 16 (R4) regressions: tf.quantization ties and degenerate ranges,
quantize_and_dequantize inside tf.function, uniform_row_length through rebuilt
ragged tensors, TF1 output_shapes of nested datasets, tf.types.experimental's
namespace. Expected numbers come from TF 2.21."""

import numpy as np
import pytest

import dlframe as tf

Q = tf.quantization
# inputs with exact half-level ties and values outside the ranges used below
_X = np.array([-7, -6.01, -3.3, -0.02, 0, 0.011, 0.0235, 0.5, 1.27, 2.5, 5.99, 6.3,
               10], np.float32)


def test_fake_quant_ties_follow_each_tf_kernel():
    # 0.5 lies exactly half-way between levels 3 and 4 of [0, 1] with 3 bits:
    # TF 2.21's _args and _per_channel kernels give level 4, _vars gives level 3
    x = np.array([0.5, 0.25], np.float32)
    args = Q.fake_quant_with_min_max_args(x, 0.0, 1.0, num_bits=3).numpy()
    np.testing.assert_allclose(args, [0.571429, 0.285714], atol=1e-6)
    per_channel = Q.fake_quant_with_min_max_vars_per_channel(
        x[:, None], tf.constant([0.0]), tf.constant([1.0]), num_bits=3).numpy()
    np.testing.assert_allclose(per_channel[:, 0], [0.571429, 0.285714], atol=1e-6)
    var = Q.fake_quant_with_min_max_vars(x, tf.constant(0.0), tf.constant(1.0),
                                         num_bits=3).numpy()
    np.testing.assert_allclose(var, [0.428571, 0.285714], atol=1e-6)
    # 8 bits, [0, 1]: x = 0.5 is level 127.5 (TF: _args 128, _vars 127)
    half = np.array([0.5], np.float32)
    assert round(float(Q.fake_quant_with_min_max_args(half, 0.0, 1.0)[0]) * 255) == 128
    assert round(float(Q.fake_quant_with_min_max_vars(
        half, tf.constant(0.0), tf.constant(1.0))[0]) * 255) == 127


@pytest.mark.parametrize("x, lo, hi, signed, range_given", [
    (_X, 0.0, 0.0, True, True),            # a zero range
    (_X, -2.7, -0.3, False, True),         # unsigned levels, a range all below 0
    (np.zeros(4, np.float32), 0.0, 0.0, True, False),   # all-zero data (a bias)
])
def test_quantize_and_dequantize_degenerate_range_gives_zeros(x, lo, hi, signed,
                                                              range_given):
    # TF 2.21 outputs zeros where no end of the range can set a scale (was NaN)
    got = Q.quantize_and_dequantize_v2(x, lo, hi, signed_input=signed,
                                       range_given=range_given, num_bits=4).numpy()
    np.testing.assert_array_equal(got, np.zeros_like(x))


def test_quantize_and_dequantize_per_channel_zero_channel():
    x = np.stack([_X, _X * 0.5, np.zeros_like(_X)], axis=1)
    got = Q.quantize_and_dequantize_v2(x, tf.zeros(3), tf.zeros(3), num_bits=4,
                                       axis=1).numpy()
    np.testing.assert_array_equal(got[:, 2], np.zeros(13))
    # the other channels: the data range, 7 signed levels up to the largest |x|
    np.testing.assert_allclose(got[[0, 8, 12], 0], [-7.142857, 1.428571, 10.0],
                               atol=1e-5)


def test_quantize_and_dequantize_unsigned_data_range_keeps_negative_values():
    # TF 2.21 clamps only to a given range; from the data, unsigned levels are
    # scaled by the maximum and negative inputs keep their (negative) level
    got = Q.quantize_and_dequantize_v2(_X, 0.0, 0.0, signed_input=False,
                                       num_bits=8).numpy()
    np.testing.assert_allclose(
        got, [-6.980392, -6.0, -3.294118, -0.039216, 0.0, 0.0, 0.039216, 0.509804,
              1.254902, 2.509804, 6.0, 6.313725, 10.0], atol=1e-5)
    given = Q.quantize_and_dequantize_v2(_X, 0.0, 10.0, signed_input=False,
                                         num_bits=8, range_given=True).numpy()
    assert given[:5].tolist() == [0.0] * 5


def test_quantize_and_dequantize_given_variable_range_in_function():
    lo, hi = tf.Variable(-1.0), tf.Variable(2.0)
    x = np.linspace(-3, 3, 7).astype("float32")

    def qdq(t):
        return Q.quantize_and_dequantize_v2(t, lo, hi, range_given=True, num_bits=3)

    want = [-2.666667, -2.0, -1.333333, 0.0, 1.333333, 2.0, 2.0]   # TF 2.21
    np.testing.assert_allclose(qdq(x).numpy(), want, atol=1e-5)
    np.testing.assert_allclose(tf.function(qdq)(x).numpy(), want, atol=1e-5)


def test_quantize_and_dequantize_axis_out_of_range():
    with pytest.raises(tf.errors.InvalidArgumentError, match="axis 2"):
        Q.quantize_and_dequantize_v2(np.zeros((2, 3), np.float32), tf.zeros(3),
                                     tf.zeros(3), axis=2)


def test_uniform_row_length_survives_rebuilt_partitions():
    rt = tf.RaggedTensor.from_uniform_row_length(tf.range(6), 3)
    mapped = tf.ragged.map_flat_values(tf.negative, rt)
    assert int(mapped.uniform_row_length) == 3
    assert mapped.shape.as_list() == [2, 3]
    assert int(rt.with_flat_values(rt.flat_values * 2).uniform_row_length) == 3
    narrow = rt.with_row_splits_dtype(tf.int32)
    assert narrow.uniform_row_length.dtype == tf.int32
    assert int(narrow.uniform_row_length) == 3
    assert tf.RaggedTensor.from_row_lengths(tf.range(6), [3, 3]).uniform_row_length \
        is None


def test_output_shapes_of_a_nested_dataset_is_its_spec():
    windows = tf.data.Dataset.range(3).window(2)
    spec = windows.element_spec
    v1 = tf.compat.v1.data
    assert v1.get_output_shapes(windows) == spec   # TF 2.21: the DatasetSpec
    assert v1.get_output_types(windows) == spec
    assert v1.get_output_classes(windows) == spec


def test_types_experimental_namespace_holds_only_its_names():
    public = {n for n in dir(tf.types.experimental) if not n.startswith("_")}
    assert public == {"AtomicFunction", "Callable", "ConcreteFunction",
                      "GenericFunction", "PolymorphicFunction",
                      "SupportsTracingProtocol", "TensorLike", "TraceType"}
