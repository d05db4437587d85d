"""tf.function fidelity found by probe programs against TF 2.21: the static dims
user code sees for tensors sized from ``tf.shape`` values, RaggedTensorSpec checks
in input_signature, and eager numpy_function's result structure."""

import numpy as np
import pytest

import dlframe as tf


def _shape_sized(x, seen):
    """Tensors sized from ``tf.shape(x)``; records the shapes user code sees."""
    s = tf.shape(x)
    n = s[0]
    outs = {
        "reshape_n_m1": tf.reshape(x, [n, -1]),
        "reshape_m1_n": tf.reshape(x, [-1, n]),
        "reshape_shape": tf.reshape(x, s),
        "reshape_n_2_2": tf.reshape(x, [n, 2, 2]),
        "reshape_m1_s1": tf.reshape(x, [-1, s[1]]),
        "zeros": tf.zeros([n, 3]),
        "ones_stack": tf.ones(tf.stack([s[1], 3])),
        "zeros_known_times_2": tf.zeros([s[1] * 2]),
        "zeros_n_times_2": tf.zeros([n * 2]),
        "zeros_slice": tf.zeros(s[1:]),
        "zeros_concat": tf.zeros(tf.concat([s[:1], [7]], 0)),
        "zeros_size": tf.zeros([tf.size(x)]),
        "range_n": tf.range(n),
        "range_known": tf.range(s[1]),
        "fill": tf.fill(s, 1.0),
        "fill_tensor_value": tf.fill([n, 5], tf.constant(2.0)),
        "broadcast_to": tf.broadcast_to(tf.constant(1.0), [n, 4]),
        "tile": tf.tile(x, [2, n]),
        "normal": tf.random.normal([n, 2]),
        "uniform": tf.random.uniform([n, 2]) * 2.0,
        "eye": tf.eye(n),
        "eye_known": tf.eye(s[1]),
    }
    seen.update({k: tuple(v.shape) for k, v in outs.items()})
    return outs


# from TF 2.21 with input_signature=[tf.TensorSpec([None, 4])]
_TF_UNKNOWN_BATCH = {
    "reshape_n_m1": (None, None), "reshape_m1_n": (None, None),
    "reshape_shape": (None, 4), "reshape_n_2_2": (None, 2, 2),
    "reshape_m1_s1": (None, 4), "zeros": (None, 3), "ones_stack": (4, 3),
    "zeros_known_times_2": (8,), "zeros_n_times_2": (None,), "zeros_slice": (4,),
    "zeros_concat": (None, 7), "zeros_size": (None,), "range_n": (None,),
    "range_known": (4,), "fill": (None, 4), "fill_tensor_value": (None, 5),
    "broadcast_to": (None, 4), "tile": (None, None), "normal": (None, 2),
    "uniform": (None, 2), "eye": (None, None), "eye_known": (4, 4)}


def _check_values(outs, x):
    x = np.asarray(x)
    n = x.shape[0]
    np.testing.assert_array_equal(outs["reshape_n_m1"].numpy(), x.reshape(n, -1))
    np.testing.assert_array_equal(outs["reshape_m1_n"].numpy(), x.reshape(-1, n))
    np.testing.assert_array_equal(outs["reshape_n_2_2"].numpy(), x.reshape(n, 2, 2))
    np.testing.assert_array_equal(outs["zeros"].numpy(), np.zeros((n, 3)))
    np.testing.assert_array_equal(outs["zeros_size"].numpy(), np.zeros(x.size))
    np.testing.assert_array_equal(outs["range_n"].numpy(), np.arange(n))
    np.testing.assert_array_equal(outs["tile"].numpy(), np.tile(x, (2, n)))
    np.testing.assert_array_equal(outs["eye"].numpy(), np.eye(n))
    assert outs["normal"].shape == (n, 2)


def test_sizes_from_an_unknown_dim_are_unknown_as_in_tf():
    seen = {}
    f = tf.function(lambda x: _shape_sized(x, seen),
                    input_signature=[tf.TensorSpec([None, 4])])
    for n in (3, 5):
        x = np.arange(4 * n, dtype="float32").reshape(n, 4)
        _check_values(f(tf.constant(x)), x)
        assert seen == _TF_UNKNOWN_BATCH


def test_concrete_signature_keeps_every_size_known():
    seen = {}
    f = tf.function(lambda x: _shape_sized(x, seen))
    x = np.arange(12, dtype="float32").reshape(3, 4)
    _check_values(f(tf.constant(x)), x)   # TF: all known at a concrete signature
    assert seen["reshape_n_m1"] == (3, 4) and seen["range_n"] == (3,)
    assert seen["tile"] == (6, 12) and seen["eye"] == (3, 3)
    eager = {}
    _shape_sized(tf.constant(x), eager)
    assert eager == seen


def test_relaxed_shapes_show_the_unknown_sizes_on_the_retrace():
    seen = {}
    f = tf.function(lambda x: _shape_sized(x, seen), reduce_retracing=True)
    f(tf.ones([3, 4]))
    assert seen["zeros"] == (3, 3)
    x = np.arange(20, dtype="float32").reshape(5, 4)
    _check_values(f(tf.constant(x)), x)
    assert seen == _TF_UNKNOWN_BATCH


def test_output_shapes_of_a_concrete_function_follow_hidden_sizes():
    @tf.function(input_signature=[tf.TensorSpec([None, 4, None])])
    def f(x):
        s = tf.shape(x)
        return tf.zeros([s[0], s[1]]), tf.reshape(x, [s[0], -1, s[2]]), tf.range(s[1])

    shapes = [tuple(o.shape) for o in f.get_concrete_function().structured_outputs]
    assert shapes == [(None, 4), (None, None, None), (4,)]   # as TF 2.21


def test_ragged_rank_argument_is_checked():
    with pytest.raises(TypeError, match="ragged_rank"):
        tf.RaggedTensorSpec([None, None], ragged_rank="1")
    with pytest.raises(ValueError, match=r"`ragged_rank` \(2\) must be less than rank"):
        tf.RaggedTensorSpec([None, None], ragged_rank=2)
    with pytest.raises(ValueError, match="ragged_rank"):
        tf.RaggedTensorSpec(None)
    with pytest.raises(TypeError, match="notadtype"):
        tf.RaggedTensorSpec([None, None], dtype="notadtype")
    assert tf.RaggedTensorSpec(None, ragged_rank=1).ragged_rank == 1
    assert tf.RaggedTensorSpec([None, None, 3], tf.float32, 1).ragged_rank == 1


def test_ragged_input_signature_refuses_other_values():
    @tf.function(input_signature=[tf.RaggedTensorSpec([None, None], tf.float32)])
    def f(r):
        return r.row_lengths()

    np.testing.assert_array_equal(f(tf.ragged.constant([[1.0, 2.0], [3.0]])), [2, 1])
    np.testing.assert_array_equal(f(tf.ragged.constant([[1.0]])), [1])
    bad = {
        "dtype": tf.ragged.constant([[1, 2], [3]]),
        "ragged_rank": tf.ragged.constant([[[1.0]], [[3.0]]]),
        "row_splits_dtype": tf.RaggedTensor.from_row_splits(
            [1.0, 2.0, 3.0], tf.constant([0, 2, 3], tf.int32)),
        "structure": tf.constant([[1.0, 2.0]]),
    }
    for what, value in bad.items():
        match = "structure" if what == "structure" else f"its {what} is"
        with pytest.raises(TypeError, match=match):
            f(value)


def test_eager_numpy_function_returns_its_leaves_as_tf():
    a = tf.constant(1.0)
    one = tf.numpy_function(lambda x: [x + 1], [a], Tout=[tf.float32])
    assert isinstance(one, tf.Tensor) and float(one) == 2.0   # single leaf: alone
    many = tf.numpy_function(lambda: (1.0, [2, 3]), [], Tout=tf.float64)
    assert [m.dtype for m in many] == [tf.float32, tf.int32, tf.int32]   # as TF 2.21
    assert tf.numpy_function(lambda: None, [], Tout=tf.float32) is None
    traced = tf.function(lambda: tf.numpy_function(lambda x: [x + 1], [a],
                                                   Tout=[tf.float32]))()
    assert isinstance(traced, list) and float(traced[0]) == 2.0   # graph: a list
    py = tf.py_function(lambda x: x + 1, [a], Tout=[tf.float32])
    assert isinstance(py, list) and float(py[0]) == 2.0
