"""depth_to_space & co, lrn, max_pool_with_argmax, Variable scatter methods,
IndexedSlices, tf.gradients/grad_pass_through and the new debugging/errors names."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_op


def _d2s_ref(x, bs):
    b, h, w, c = x.shape
    y = x.reshape(b, h, w, bs, bs, c // bs ** 2).transpose(0, 1, 3, 2, 4, 5)
    return y.reshape(b, h * bs, w * bs, c // bs ** 2)


def test_depth_to_space_and_back():
    x = np.random.default_rng(0).standard_normal((2, 2, 3, 8))
    # TF's DCR order: out[b, y*bs+i, x*bs+j, c] = in[b, y, x, (i*bs+j)*C' + c]
    ref = np.zeros((2, 4, 6, 2))
    for i in range(2):
        for j in range(2):
            ref[:, i::2, j::2, :] = x[..., (i * 2 + j) * 2:(i * 2 + j) * 2 + 2]
    np.testing.assert_array_equal(_d2s_ref(x, 2), ref)
    check_op(lambda a: tf.nn.depth_to_space(a, 2), [x], lambda a: _d2s_ref(a, 2))
    y = tf.nn.depth_to_space(x, 2)
    np.testing.assert_array_equal(tf.nn.space_to_depth(y, 2).numpy(), x)
    nchw = tf.nn.depth_to_space(x.transpose(0, 3, 1, 2), 2, data_format="NCHW")
    np.testing.assert_array_equal(nchw.numpy(), ref.transpose(0, 3, 1, 2))
    # TF 2.21: InvalidArgumentError eagerly (ValueError only while traced)
    with pytest.raises(tf.errors.InvalidArgumentError, match="block_size"):
        tf.nn.depth_to_space(x, 1)


def test_space_to_batch_nd_round_trip():
    x = np.random.default_rng(1).standard_normal((2, 4, 3, 2))
    y = tf.space_to_batch_nd(x, [2, 3], [[0, 2], [1, 2]])
    assert y.shape == (12, 3, 2, 2)
    # block (i, j) of batch b holds padded[b, i::2, j::3]
    padded = np.pad(x, [[0, 0], [0, 2], [1, 2], [0, 0]])
    np.testing.assert_array_equal(y.numpy()[(1 * 3 + 2) * 2 + 1], padded[1, 1::2, 2::3])
    back = tf.batch_to_space(y, [2, 3], [[0, 2], [1, 2]])
    np.testing.assert_array_equal(back.numpy(), x)
    check_op(lambda a: tf.space_to_batch(a, [2], [[1, 1]]), [x[..., 0]],
             lambda a: np.pad(a, [[0, 0], [1, 1], [0, 0]]).reshape(2, 3, 2, 3)
             .transpose(2, 0, 1, 3).reshape(4, 3, 3))


def _lrn_ref(x, r, bias, alpha, beta):
    sq = np.pad(x ** 2, [[0, 0]] * 3 + [[r, r]])
    c = x.shape[-1]
    window = sum(sq[..., k:k + c] for k in range(2 * r + 1))
    return x / (bias + alpha * window) ** beta


def test_lrn():
    x = np.random.default_rng(2).standard_normal((1, 2, 2, 6))
    check_op(lambda a: tf.nn.lrn(a, 2, 1.5, 0.3, 0.75), [x],
             lambda a: _lrn_ref(a, 2, 1.5, 0.3, 0.75))
    assert tf.nn.local_response_normalization is tf.nn.lrn


def test_max_pool_with_argmax():
    x = np.random.default_rng(3).standard_normal((2, 4, 5, 3)).astype("float32")
    out, idx = tf.nn.max_pool_with_argmax(x, 2, 2, "SAME", include_batch_in_index=True)
    np.testing.assert_array_equal(out.numpy(), tf.nn.max_pool2d(x, 2, 2, "SAME").numpy())
    np.testing.assert_array_equal(x.reshape(-1)[idx.numpy()], out.numpy())
    assert idx.dtype == tf.int64
    _, idx = tf.nn.max_pool_with_argmax(x, 2, 2, "VALID")
    assert idx.numpy().max() < 4 * 5 * 3


def test_variable_scatter_methods():
    v = tf.Variable([1.0, 2.0, 3.0, 4.0])
    v.scatter_add(tf.IndexedSlices(tf.constant([1.0, 5.0]), tf.constant([1, 1])))
    v.scatter_max(tf.IndexedSlices(tf.constant([0.0, 50.0]), tf.constant([0, 3])))
    v.scatter_div(tf.IndexedSlices(tf.constant([2.0]), tf.constant([0])))
    v.scatter_mul(tf.IndexedSlices(tf.constant([3.0]), tf.constant([2])))
    v.scatter_sub(tf.IndexedSlices(tf.constant([1.0]), tf.constant([2])))
    v.scatter_min(tf.IndexedSlices(tf.constant([7.0]), tf.constant([1])))
    np.testing.assert_array_equal(v.numpy(), [0.5, 7.0, 8.0, 50.0])
    v.scatter_update(tf.IndexedSlices(tf.constant([9.0]), tf.constant([0])))
    v.scatter_nd_sub([[2]], [1.0])
    v.scatter_nd_add([[1], [1]], [1.0, 1.0])
    np.testing.assert_array_equal(v.numpy(), [9.0, 9.0, 7.0, 50.0])
    np.testing.assert_array_equal(v.sparse_read([3, 0]).numpy(), [50.0, 9.0])
    np.testing.assert_array_equal(v.gather_nd([[1]]).numpy(), [9.0])
    np.testing.assert_array_equal(v.initialized_value().numpy(), v.numpy())
    w = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    w.scatter_nd_update([[0, 0], [1, 1]], [5.0, 6.0])
    w.batch_scatter_update(tf.IndexedSlices(tf.constant([[9.0], [8.0]]),
                                            tf.constant([[1], [0]])))
    np.testing.assert_array_equal(w.numpy(), [[5.0, 9.0], [8.0, 6.0]])


def test_variable_scatter_errors_and_function():
    v = tf.Variable([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="sparse_delta"):
        v.scatter_add([1.0])
    with tf.device("/CPU:0"):   # (a GPU ignores out-of-range rows, as TF's kernels)
        on_cpu = tf.Variable([1.0, 2.0, 3.0])
        with pytest.raises(tf.errors.InvalidArgumentError, match="indices"):
            on_cpu.scatter_update(tf.IndexedSlices(tf.constant([1.0]), tf.constant([7])))
    with pytest.raises(tf.errors.InvalidArgumentError, match="shape"):
        v.scatter_nd_update([[0]], [1.0, 2.0])

    @tf.function
    def step(values, ids):
        v.scatter_add(tf.IndexedSlices(values, ids))
        return v.read_value()
    step(tf.constant([1.0, 1.0]), tf.constant([0, 0]))
    out = step(tf.constant([1.0, 1.0]), tf.constant([2, 1]))
    np.testing.assert_array_equal(out.numpy(), [3.0, 3.0, 4.0])


def test_indexed_slices():
    s = tf.IndexedSlices(tf.constant([[1.0, 2.0]]), tf.constant([3]), [5, 2])
    assert s.shape.as_list() == [5, 2] and s.dtype == tf.float32
    np.testing.assert_array_equal((-s).values.numpy(), [[-1.0, -2.0]])


def test_graph_helpers():
    with pytest.raises(RuntimeError, match="GradientTape"):
        tf.gradients(tf.constant(1.0), tf.constant(2.0))
    with tf.name_scope("outer"), tf.name_scope("inner"):
        assert tf.get_current_name_scope() == "outer/inner"
    assert tf.get_current_name_scope() == "" and not tf.inside_function()
    assert tf.function(lambda: tf.constant(tf.inside_function()))().numpy()
    x = tf.Variable(1.3)
    with tf.GradientTape() as tape:
        y = tf.grad_pass_through(tf.round)(x) * 2.0
    assert y.numpy() == 2.0 and tape.gradient(y, x).numpy() == 2.0
    a, b = tf.tuple([tf.constant(1), tf.constant(2)])
    assert int(a) + int(b) == 3


def test_debugging_and_errors_names():
    dbg = tf.debugging
    with pytest.raises(ValueError, match="scalar"):
        dbg.assert_scalar(tf.constant([1]))
    with pytest.raises(ValueError, match="at least 2"):
        dbg.assert_rank_at_least(tf.constant([1]), 2)
    with pytest.raises(ValueError, match=r"in \(0, 2\)"):
        dbg.assert_rank_in(tf.constant([1]), [0, 2])
    with pytest.raises(TypeError, match="integer"):
        dbg.assert_integer(tf.constant([1.0]))
    with pytest.raises(ValueError, match="same type"):
        dbg.assert_same_float_dtype([tf.constant([1.0]), tf.constant([1.0], tf.float64)])
    assert dbg.assert_same_float_dtype([tf.constant([1.0])]) == tf.float32
    with pytest.raises(tf.errors.InvalidArgumentError):
        dbg.assert_all_finite(tf.constant([1.0, np.nan]), "bad")
    assert dbg.is_numeric_tensor(tf.constant(1)) and not dbg.is_numeric_tensor(1)
    assert tf.errors.INVALID_ARGUMENT == 3 and tf.errors.UNAUTHENTICATED == 16
    assert tf.errors.InvalidArgumentError(None, None, "m").error_code == 3
    assert issubclass(tf.errors.UnavailableError, tf.errors.OpError)
    np.testing.assert_array_equal(
        tf.dtypes.saturate_cast(tf.constant([300.0, -5.0]), tf.uint8).numpy(), [255, 0])
