"""Indexing: __getitem__, slice/strided_slice, gather family, scatters, masks."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_grad, check_op, check_second_order

rng = np.random.default_rng(1)


def r(*shape):
    return rng.standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------- __getitem__
KEYS = [
    (slice(None, None, -1),), (slice(3, 0, -2),), (slice(-1, None, -3), 1),
    (Ellipsis, slice(None, None, 2)), (None, Ellipsis, None), (1, None, slice(None), -1),
    (Ellipsis, 0), (slice(1, 100),), (slice(-100, 2),), (slice(2, 1),),
    (np.array([0, 0, 3]),), (slice(None), [2, 0, 2]), ([1, 0], Ellipsis, [3, 3]),
    (np.int64(2), slice(None, None, -1)),
]


@pytest.mark.parametrize("key", KEYS)
def test_getitem_like_numpy_with_gradients(key):
    check_op(lambda x: x[key], [r(4, 3, 5)], lambda a: a[key])


def test_getitem_bool_masks_and_gradients():
    a = r(3, 4)
    mask = a > 0
    check_op(lambda x: x[tf.constant(mask)], [a], lambda x: x[mask])
    rows = np.array([True, False, True])
    check_op(lambda x: x[rows], [a], lambda x: x[rows])
    check_op(lambda x: x[:, [True, False, True, True]], [a],
             lambda x: x[:, [True, False, True, True]])


def test_getitem_second_order_and_tensor_index():
    check_second_order(lambda x: x[::-1, [0, 0, 2]] ** 3, [r(3, 3)])
    x = tf.constant(np.arange(6.))
    assert float(x[tf.constant(4)]) == 4.0
    np.testing.assert_array_equal(x[tf.constant([5, 0])].numpy(), [5, 0])


def test_getitem_errors():
    x = tf.zeros((2, 3))
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of bounds"):
        x[:, 3]
    with pytest.raises(tf.errors.InvalidArgumentError, match="step cannot be zero"):
        x[::0]
    with pytest.raises(tf.errors.InvalidArgumentError):
        x[1, 2, 0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="not in"):
        x[:, [0, 3]]
    with pytest.raises(tf.errors.InvalidArgumentError, match="does not match"):
        x[tf.constant([True, False, True])]
    with pytest.raises(TypeError):
        x["a"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="ellipses"):
        x[..., ...]


def test_slice_and_strided_slice():
    a = r(3, 4, 5)
    check_op(lambda x: tf.slice(x, [1, 0, 2], [2, -1, 3]), [a], lambda x: x[1:3, :, 2:5])
    with pytest.raises(tf.errors.InvalidArgumentError, match="begin"):
        tf.slice(tf.constant(a), [2, 0, 0], [2, 1, 1])
    check_op(lambda x: tf.strided_slice(x, [0, 3, 0], [2, 0, 5], [1, -1, 2]), [a],
             lambda x: x[0:2, 3:0:-1, 0:5:2])
    # begin/end masks, shrink, new axis and ellipsis bits
    check_op(lambda x: tf.strided_slice(x, [0, 1, 0], [0, 0, 3], begin_mask=1, end_mask=3,
                                        shrink_axis_mask=0), [a], lambda x: x[:, 1:, 0:3])
    check_op(lambda x: tf.strided_slice(x, [1, 0], [2, 0], shrink_axis_mask=1,
                                        new_axis_mask=2), [a], lambda x: x[1, None])
    check_op(lambda x: tf.strided_slice(x, [0, 2], [0, 4], ellipsis_mask=1), [a],
             lambda x: x[..., 2:4])


# ---------------------------------------------------------------- gather
@pytest.mark.parametrize("shape,indices,axis,batch_dims", [
    ((5,), [4, 0, 0, 2], 0, 0),
    ((4, 3), [[0, 2], [1, 1]], 1, 0),
    ((4, 3, 2), [2, 0], -2, 0),
    ((2, 3, 4), [[0, 1], [2, 0]], 1, 1),
    ((2, 3, 4), [[0, 3], [2, 2]], 2, 1),
    ((2, 3, 4), [[[0], [1], [2]], [[3], [3], [0]]], 2, 2),
    ((2, 3, 4, 2), [[1, 0, 3], [0, 0, 2]], 2, 1),
    ((3, 0), [2, 1], 0, 0),
    ((3, 2), np.zeros((0,), np.int64), 0, 0),
    ((4,), 2, 0, 0),
])
def test_gather(shape, indices, axis, batch_dims):
    idx = np.asarray(indices, dtype=np.int32)

    def ref(a, i):
        if batch_dims == 0:
            return np.take(a, i, axis=axis)
        out = np.stack([ref_b(a[b], i[b], axis - 1, batch_dims - 1)
                        for b in range(a.shape[0])])
        return out

    def ref_b(a, i, ax, bd):
        if bd == 0:
            return np.take(a, i, axis=ax)
        return np.stack([ref_b(a[b], i[b], ax - 1, bd - 1) for b in range(a.shape[0])])

    check_op(lambda x, i: tf.gather(x, i, axis=axis, batch_dims=batch_dims),
             [r(*shape), idx], ref, wrt=[0])


def test_gather_default_axis_int64_and_second_order():
    a = r(3, 2)
    out = tf.gather(a, tf.constant([[2, 0]], tf.int64))
    np.testing.assert_array_equal(out.numpy(), a[[[2, 0]]])
    check_second_order(lambda x: tf.gather(x, [1, 1, 0], axis=1) ** 3, [r(2, 3)])
    # batch_dims defaults the axis
    b = r(2, 3)
    np.testing.assert_array_equal(tf.gather(b, [[1], [2]], batch_dims=1).numpy(),
                                  [[b[0, 1]], [b[1, 2]]])


def test_gather_errors():
    # TF raises on the CPU; a GPU masks out-of-range indices instead (TF's GPU
    # kernels: tests/ops/test_gpu_gather_scatter_round21_i2.py)
    with tf.device("cpu:0"), pytest.raises(tf.errors.InvalidArgumentError,
                                           match=r"indices\[0\] = 5 is not in \[0, 3\)"):
        tf.gather([1, 2, 3], [5])
    with tf.device("cpu:0"), pytest.raises(tf.errors.InvalidArgumentError,
                                           match=r"indices\[1\] = -1"):
        tf.gather([[1, 2, 3]], [0, -1], axis=1)
    with tf.device("cpu:0"), pytest.raises(tf.errors.InvalidArgumentError,
                                           match=r"indices\[1,0\] = 7"):
        tf.gather([1, 2, 3], [[0], [7]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="axis"):
        tf.gather([1, 2, 3], [0], axis=1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="int32 or int64"):
        tf.gather([1, 2, 3], [0.])
    with pytest.raises(tf.errors.InvalidArgumentError, match="batch_dims"):
        tf.gather(tf.zeros((2, 3)), [[0]], axis=0, batch_dims=1)


# ---------------------------------------------------------------- gather_nd / scatter
@pytest.mark.parametrize("shape,indices,batch_dims", [
    ((2, 3), [[1, 2], [0, 0], [1, 2]], 0),
    ((2, 3, 4), [[1], [0]], 0),
    ((2, 3, 4), [[[1, 2]], [[0, 1]]], 0),
    ((2, 3, 4), [[[1]], [[2]]], 1),
    ((2, 3, 4), [[2, 3], [0, 1]], 1),
    ((2, 3), np.zeros((2, 0), np.int32), 0),
])
def test_gather_nd(shape, indices, batch_dims):
    idx = np.asarray(indices, dtype=np.int32)

    def ref(a, i):
        if batch_dims:
            return np.stack([a[b][tuple(np.moveaxis(i[b], -1, 0))]
                             for b in range(a.shape[0])])
        if i.shape[-1] == 0:
            return np.broadcast_to(a, i.shape[:-1] + a.shape)
        return a[tuple(np.moveaxis(i, -1, 0))]

    check_op(lambda x, i: tf.gather_nd(x, i, batch_dims=batch_dims), [r(*shape), idx], ref,
             wrt=[0])


def test_gather_nd_errors():
    # TF raises on the CPU; a GPU masks out-of-range indices instead (TF's GPU
    # kernels: tests/ops/test_gpu_gather_scatter_round21_i2.py)
    with tf.device("cpu:0"), pytest.raises(
            tf.errors.InvalidArgumentError,
            match=r"indices\[0\] = \[1, 5\] does not index into param shape"):
        tf.gather_nd([[1, 2], [3, 4]], [[1, 5]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="innermost"):
        tf.gather_nd([[1, 2], [3, 4]], [[1, 1, 1]])


def test_scatter_nd_adds_duplicates_and_grads():
    idx = np.array([[1], [3], [1]], np.int32)
    out = tf.scatter_nd(idx, tf.constant([1., 2., 3.]), [5])
    np.testing.assert_array_equal(out.numpy(), [0, 4, 0, 2, 0])

    def ref(u):
        g = np.zeros((4, 2), u.dtype)
        np.add.at(g, np.array([0, 2, 0]), u)
        return g
    check_op(lambda u: tf.scatter_nd([[0], [2], [0]], u, tf.constant([4, 2])), [r(3, 2)],
             ref)
    with tf.device("cpu:0"), pytest.raises(tf.errors.InvalidArgumentError,
                                           match="does not index into shape"):
        tf.scatter_nd([[1], [7]], [1., 2.], [5])   # (ignored on a GPU, as TF)
    with pytest.raises(tf.errors.InvalidArgumentError, match="updates shape"):
        tf.scatter_nd([[1], [2]], [1., 2., 3.], [5])


def _np_scatter(kind):
    def ref(x, u):
        out = x.copy()
        key = (np.array([0, 2, 3]),)
        if kind == "update":
            out[key] = u
        elif kind == "add":
            np.add.at(out, key, u)
        elif kind == "sub":
            np.subtract.at(out, key, u)
        elif kind == "max":
            np.maximum.at(out, key, u)
        else:
            np.minimum.at(out, key, u)
        return out
    return ref


@pytest.mark.parametrize("kind", ["update", "add", "sub", "max", "min"])
def test_tensor_scatter_nd(kind):
    fn = getattr(tf, f"tensor_scatter_nd_{kind}")
    idx = tf.constant([[0], [2], [3]])
    check_op(lambda x, u: fn(x, idx, u), [r(4, 2), r(3, 2)], _np_scatter(kind))


def test_tensor_scatter_nd_ints_ties_and_errors():
    out = tf.tensor_scatter_nd_update([1, 2, 3, 4], [[1], [3]], [9, 9])
    np.testing.assert_array_equal(out.numpy(), [1, 9, 3, 9])
    out = tf.tensor_scatter_nd_max([1, 2, 3, 4], [[1], [3]], [0, 9])
    np.testing.assert_array_equal(out.numpy(), [1, 2, 3, 9])
    out = tf.tensor_scatter_nd_update([[1, 2], [3, 4]], [[1]], [[9, 9]])
    np.testing.assert_array_equal(out.numpy(), [[1, 2], [9, 9]])
    # a tie between tensor and update splits the gradient
    x, u = tf.constant([1., 5.]), tf.constant([5.])
    with tf.GradientTape() as tape:
        tape.watch([x, u])
        y = tf.reduce_sum(tf.tensor_scatter_nd_max(x, [[1]], u))
    gx, gu = tape.gradient(y, [x, u])
    np.testing.assert_array_equal(gx.numpy(), [1., .5])
    np.testing.assert_array_equal(gu.numpy(), [.5])
    with tf.device("cpu:0"), pytest.raises(tf.errors.InvalidArgumentError,
                                           match=r"indices\[1\] = \[7\]"):
        tf.tensor_scatter_nd_update([1, 2, 3, 4], [[1], [7]], [9, 9])   # GPU: ignored
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.tensor_scatter_nd_add(tf.zeros(3), [[1]], tf.zeros(1, tf.int32))


# ---------------------------------------------------------------- masks, repeat, where
def test_boolean_mask():
    a = r(3, 4, 2)
    m = np.array([True, False, True])
    check_op(lambda x: tf.boolean_mask(x, m), [a], lambda x: x[m])
    m2 = rng.random((4, 2)) > 0.5
    check_op(lambda x: tf.boolean_mask(x, m2, axis=1), [a], lambda x: x[:, m2])
    check_op(lambda x: tf.boolean_mask(x, np.zeros(3, bool)), [a], lambda x: x[:0])
    with pytest.raises(ValueError, match="incompatible"):
        tf.boolean_mask(a, [True, False])
    with pytest.raises(tf.errors.InvalidArgumentError, match="incompatible"):
        tf.boolean_mask(a, [True, False])


@pytest.mark.parametrize("repeats,axis", [(2, None), ([1, 2], 0), ([0, 3, 1, 1], 1),
                                          (3, -1), ([2], 0)])
def test_repeat(repeats, axis):
    check_op(lambda x: tf.repeat(x, repeats, axis=axis), [r(2, 4)],
             lambda a: np.repeat(a, repeats, axis=axis))


def test_repeat_bad_length():
    with pytest.raises(ValueError, match="not compatible"):
        tf.repeat([[1, 2], [3, 4]], [1, 2, 3], axis=0)


def test_reverse_sequence():
    x = r(2, 4, 3)
    lens = np.array([2, 4], np.int32)

    def ref(a, n):
        out = a.copy()
        for b in range(a.shape[0]):
            out[b, :n[b]] = a[b, :n[b]][::-1]
        return out
    check_op(lambda a, n: tf.reverse_sequence(a, n, seq_axis=1, batch_axis=0), [x, lens],
             ref, wrt=[0])

    def ref_t(a, n):  # batch on axis 1, sequence on axis 0
        return ref(a.transpose(1, 0, 2), n).transpose(1, 0, 2)
    check_op(lambda a, n: tf.reverse_sequence(a, n, seq_axis=0, batch_axis=1),
             [r(3, 2, 2), np.array([3, 0], np.int64)], ref_t, wrt=[0])


def test_where_one_argument():
    c = np.array([[True, False], [True, True]])
    out = tf.where(c)
    assert out.dtype == tf.int64
    np.testing.assert_array_equal(out.numpy(), np.argwhere(c))
    assert tf.where(tf.zeros((0, 3), tf.bool)).shape == (0, 2)


def test_embedding_style_gradient():
    table = tf.Variable(r(5, 3))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.gather(table, [[1, 1], [4, 0]]) * 2.0)
    g = tf.convert_to_tensor(tape.gradient(y, table)).numpy()   # IndexedSlices, as TF
    np.testing.assert_allclose(g[:, 0], [2, 4, 0, 0, 2])
    check_grad(lambda x: tf.gather(x, [[1, 1], [4, 0]], axis=0), [r(5, 3)])


def test_compiled_indexing_reads_index_values_at_run_time():
    @tf.function
    def f(x, i, j):
        return x[i, 1:] + tf.gather(x[:, 0], j)

    x = tf.constant([[1., 2., 3.], [4., 5., 6.]])
    np.testing.assert_array_equal(f(x, tf.constant(1), tf.constant([0, 1])).numpy(), [6, 10])
    np.testing.assert_array_equal(f(x, tf.constant(0), tf.constant([1, 1])).numpy(), [6, 7])
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of bounds"):
        f(x, tf.constant(2), tf.constant([0, 0]))
    if x._device.is_gpu:   # TF's GPU gather: a 0 for an out-of-range index
        np.testing.assert_array_equal(f(x, tf.constant(0), tf.constant([0, 2])).numpy(),
                                      [3, 3])
        return
    with pytest.raises(tf.errors.InvalidArgumentError, match="is not in"):
        f(x, tf.constant(0), tf.constant([0, 2]))
