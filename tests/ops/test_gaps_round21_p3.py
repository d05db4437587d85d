"""Differential gaps vs TF 2.21 (round 21, P3): integer wrap on conversion, the NaN
rule of max/min scatters and segments, index depth 0, tnp.asarray of a Variable,
error classes. Expected values were read from TF 2.21 on CPU."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError, NotFoundError

NAN = float("nan")


# ---------------------------------------------------------------- int conversion
@pytest.mark.parametrize("value,dtype,want", [
    (300, "uint8", 44), (-1, "uint8", 255), (300, "int8", 44), (2**40, "int16", 0),
    (-1, "uint16", 65535), (-1, "uint32", 2**32 - 1), (2**40, "int32", 0),
    ([1, 300], "uint8", [1, 44]), ((300, -5), "uint8", [44, 251]),
    ([[1], [300]], "int8", [[1], [44]]), ([1, 2**63], "uint64", [1, 2**63]),
])
def test_python_ints_wrap_like_a_c_cast(device, value, dtype, want):
    got = tf.constant(value, getattr(tf, dtype))
    np.testing.assert_array_equal(got.numpy(), np.array(want, dtype=dtype))
    assert got.dtype == getattr(tf, dtype)
    assert tf.convert_to_tensor(value, getattr(tf, dtype)).numpy().tolist() == \
        np.array(want, dtype=dtype).tolist()


def test_wrap_in_variables_fill_and_binary_operands(device):
    v = tf.Variable(tf.zeros([2], tf.uint8))
    assert v.assign([300, -1]).numpy().tolist() == [44, 255]
    assert tf.Variable(300, dtype=tf.uint8).numpy() == 44
    ones = tf.ones([2], tf.uint8)
    assert (ones * 300).numpy().tolist() == [44, 44]
    assert (ones + (-1)).numpy().tolist() == [0, 0]
    assert (tf.ones([2], tf.int32) + 2**40).numpy().tolist() == [1, 1]
    assert tf.maximum(ones, 300).numpy().tolist() == [44, 44]


@pytest.mark.parametrize("value,dtype", [
    (2**63, "uint8"), (2**70, "int32"), (-(2**63) - 1, "int8"),
])
def test_ints_beyond_64_bits_are_out_of_range(value, dtype):
    with pytest.raises(ValueError, match="out-of-range integer"):
        tf.constant(value, getattr(tf, dtype))
    with pytest.raises(ValueError, match="out-of-range integer"):
        tf.ones([1], getattr(tf, dtype)) + value


def test_uint64_beyond_its_range_is_a_type_error():
    # TF 2.21 raises SystemError for both; dlframe a TypeError naming the cause
    with pytest.raises(TypeError, match="2\\*\\*64"):
        tf.constant(2**64, tf.uint64)
    with pytest.raises(TypeError, match="negative"):
        tf.constant(-1 - 2**63, tf.uint64)


def test_bools_and_floats_into_ints():
    for dtype in (tf.int8, tf.uint8, tf.int16, tf.uint16, tf.uint32):
        with pytest.raises(TypeError):
            tf.constant(True, dtype)
    for dtype in (tf.int32, tf.int64, tf.uint64):
        assert tf.constant([True], dtype).numpy().tolist() == [1]
    with pytest.raises(TypeError):
        tf.constant(300.7, tf.uint8)


# ---------------------------------------------------------------- NaN rules
def _scatter_ref(base, idx, upd, mode):
    """TF's scatter loop: acc = u if u > acc else acc (max)."""
    out = np.array(base)
    for i, u in zip(idx, upd):
        better = u > out[i] if mode == "max" else u < out[i]
        out[i] = u if better else out[i]
    return out


def _segment_ref(data, seg, num, mode):
    """TF's segment loop: acc = acc if x < acc else x (max), from the identity."""
    init = np.finfo(data.dtype).min if mode == "max" else np.finfo(data.dtype).max
    out = np.full((num,) + data.shape[1:], init, data.dtype)
    for x, s in zip(data, seg):
        keep = x < out[s] if mode == "max" else x > out[s]
        out[s] = np.where(keep, out[s], x)
    return out


BASE = np.array([1., NAN, 3., 4., -np.inf], np.float32)
IDX = [0, 1, 2, 2, 3, 3, 4]
UPD = np.array([NAN, 5., NAN, 2., 7., NAN, NAN], np.float32)


@pytest.mark.parametrize("mode", ["max", "min"])
def test_tensor_scatter_nd_extreme_nan_rule(device, mode):
    fn = getattr(tf, f"tensor_scatter_nd_{mode}")
    got = fn(tf.constant(BASE), tf.constant([[i] for i in IDX]), tf.constant(UPD))
    np.testing.assert_array_equal(got.numpy(), _scatter_ref(BASE, IDX, UPD, mode))
    traced = tf.function(fn)(tf.constant(BASE), tf.constant([[i] for i in IDX]),
                             tf.constant(UPD))
    np.testing.assert_array_equal(traced.numpy(), got.numpy())


@pytest.mark.parametrize("mode", ["max", "min"])
def test_variable_scatter_extreme_nan_rule(device, mode):
    v = tf.Variable(BASE)
    getattr(v, f"scatter_{mode}")(tf.IndexedSlices(tf.constant(UPD), tf.constant(IDX)))
    np.testing.assert_array_equal(v.numpy(), _scatter_ref(BASE, IDX, UPD, mode))


@pytest.mark.parametrize("mode", ["max", "min"])
def test_segment_extreme_nan_rule(device, mode):
    data = np.array([[NAN, 1.], [1., NAN], [2., 3.], [NAN, NAN], [3., 2.],
                     [NAN, 5.], [NAN, NAN]], np.float64)
    seg = np.array([0, 0, 1, 1, 2, 3, 3])
    want = _segment_ref(data, seg, 5, mode)
    got = getattr(tf.math, f"unsorted_segment_{mode}")(tf.constant(data),
                                                       tf.constant(seg), 5)
    np.testing.assert_array_equal(got.numpy(), want)
    sorted_got = getattr(tf.math, f"segment_{mode}")(tf.constant(data), tf.constant(seg))
    np.testing.assert_array_equal(sorted_got.numpy(), want[:4])


def test_segment_max_tf_values():
    data = tf.constant([1., NAN, NAN, 2.])
    got = tf.math.unsorted_segment_max(data, tf.constant([0, 0, 1, 1]), 2).numpy()
    assert np.isnan(got[0]) and got[1] == 2.


# ---------------------------------------------------------------- index depth 0
def test_scatter_with_index_depth_zero_is_refused(device):
    x = tf.constant([[1., 2.], [3., 4.]])
    with pytest.raises(InvalidArgumentError, match="Indices and updates specified"):
        tf.tensor_scatter_nd_update(x, tf.zeros([2, 0], tf.int32), tf.ones([2, 2, 2]))
    with pytest.raises(InvalidArgumentError, match="Indices and updates specified"):
        tf.scatter_nd(tf.zeros([0], tf.int32), tf.ones([2, 2]), [2, 2])
    with pytest.raises(InvalidArgumentError, match="between 1 and 5"):
        tf.tensor_scatter_nd_max(x, tf.zeros([0, 0], tf.int32), tf.ones([0, 2, 2]))
    v = tf.Variable(x)
    with pytest.raises(InvalidArgumentError, match="Indices and updates specified"):
        v.scatter_nd_add(tf.zeros([2, 0], tf.int32), tf.ones([2, 2, 2]))
    np.testing.assert_array_equal(v.numpy(), x.numpy())


# ---------------------------------------------------------------- tnp, errors
def test_tnp_asarray_of_a_variable_is_a_tensor(device):
    v = tf.Variable([1., 2.])
    for fn in (tf.experimental.numpy.asarray, tf.experimental.numpy.array):
        out = fn(v)
        assert out is not v and not isinstance(out, tf.Variable)
        np.testing.assert_array_equal(out.numpy(), [1., 2.])
    snapshot = tf.experimental.numpy.asarray(v)
    v.assign([5., 6.])
    np.testing.assert_array_equal(snapshot.numpy(), [1., 2.])


def test_error_classes():
    with pytest.raises(NotFoundError, match="Cholesky"):
        tf.linalg.logdet(tf.eye(2, dtype=tf.float16))
    for x in (tf.constant([1.]), tf.constant([True])):
        with pytest.raises(InvalidArgumentError, match="Invert"):
            tf.bitwise.invert(x)
    assert tf.bitwise.invert(tf.constant([0], tf.uint8)).numpy().tolist() == [255]
    with pytest.raises(TypeError, match="Cannot convert 1e-12"):
        tf.math.l2_normalize(tf.constant([3, 4]))
    with pytest.raises(InvalidArgumentError, match="must not be empty"):
        tf.nn.max_pool_with_argmax(tf.zeros([0, 4, 4, 1]), 2, 2, "VALID")


def test_nan_rules_keep_bfloat16(device):
    # CuPy's where gives float32 for bfloat16: the NaN rules cast back
    x = tf.constant([1.0, float("nan"), 3.0], tf.bfloat16)
    seg = tf.math.unsorted_segment_max(x, [0, 0, 1], 2)
    sc = tf.tensor_scatter_nd_max(x, [[0]], tf.constant([5.0], tf.bfloat16))
    assert seg.dtype == tf.bfloat16 and sc.dtype == tf.bfloat16
    assert np.isnan(seg.numpy().astype("float32")[0]) and seg.numpy()[1] == 3
    np.testing.assert_array_equal(sc.numpy().astype("float32")[[0, 2]], [5.0, 3.0])
