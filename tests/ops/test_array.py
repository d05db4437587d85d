"""Array ops: shapes, joins, tile/pad/reverse/roll, creation, sorting, clipping."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_grad, check_op, check_second_order

rng = np.random.default_rng(0)


def r(*shape):
    return rng.standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------- shapes and joins
@pytest.mark.parametrize("shape,target", [((2, 3), (3, 2)), ((2, 3), (-1,)),
                                          ((4,), (2, 1, 2)), ((), (1, 1)), ((0, 3), (3, 0))])
def test_reshape(shape, target):
    check_op(lambda x: tf.reshape(x, target), [r(*shape)], lambda a: a.reshape(target))


def test_reshape_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="6 values"):
        tf.reshape(tf.zeros((2, 3)), (4,))
    with pytest.raises(tf.errors.InvalidArgumentError, match="only one"):
        tf.reshape(tf.zeros((2, 3)), (-1, -1))


def test_transpose_expand_squeeze():
    check_op(lambda x: tf.transpose(x, [2, 0, 1]), [r(2, 3, 4)],
             lambda a: a.transpose(2, 0, 1))
    check_op(lambda x: tf.transpose(x), [r(2, 3)], lambda a: a.T)
    check_op(lambda x: tf.expand_dims(x, -1), [r(2, 3)], lambda a: a[..., None])
    check_op(lambda x: tf.squeeze(x, [0, 2]), [r(1, 3, 1)], lambda a: a.reshape(3))
    with pytest.raises(tf.errors.InvalidArgumentError, match="squeeze dim"):
        tf.squeeze(tf.zeros((2, 3)), 1)


def test_concat_stack_unstack_split():
    a, b = r(2, 3), r(2, 1)
    check_op(lambda x, y: tf.concat([x, y], -1), [a, b],
             lambda x, y: np.concatenate([x, y], -1))
    check_op(lambda x, y: tf.stack([x, y], 1), [a, a * 2],
             lambda x, y: np.stack([x, y], 1))
    check_op(lambda x: tf.unstack(x, axis=1), [a], lambda x: [x[:, i] for i in range(3)])
    check_op(lambda x: tf.split(x, [1, -1], axis=1), [a], lambda x: [x[:, :1], x[:, 1:]])
    check_op(lambda x: tf.split(x, 3, axis=1), [a], lambda x: np.split(x, 3, 1))
    with pytest.raises(tf.errors.InvalidArgumentError, match="shapes must match"):
        tf.concat([tf.zeros((2, 3)), tf.zeros((3, 3))], 1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="evenly divide"):
        tf.split(tf.zeros((2, 3)), 2, axis=1)


# ---------------------------------------------------------------- tile / pad / reverse / roll
@pytest.mark.parametrize("shape,mult", [((2, 3), (2, 3)), ((3,), (4,)), ((2, 1, 2), (1, 3, 2)),
                                        ((0, 2), (2, 2)), ((2, 2), (0, 1))])
def test_tile(shape, mult):
    check_op(lambda x: tf.tile(x, mult), [r(*shape)], lambda a: np.tile(a, mult))


def test_tile_errors_and_second_order():
    with pytest.raises(tf.errors.InvalidArgumentError, match="length 2 but got length 1"):
        tf.tile(tf.zeros((1, 2)), [2])
    check_second_order(lambda x: tf.tile(x, [2, 3]) ** 3, [r(2, 2)])
    assert tf.tile(tf.constant([[1, 2]]), [2, 1]).dtype == tf.int32


@pytest.mark.parametrize("mode", ["CONSTANT", "REFLECT", "SYMMETRIC", "reflect"])
@pytest.mark.parametrize("pads", [[[1, 1], [2, 2]], [[0, 2], [1, 0]], [[2, 0], [0, 0]]])
def test_pad_modes(mode, pads):
    x = r(3, 4)
    npmode = {"CONSTANT": "constant", "REFLECT": "reflect", "SYMMETRIC": "symmetric"}
    check_op(lambda a: tf.pad(a, pads, mode), [x],
             lambda a: np.pad(a, pads, mode=npmode[mode.upper()]))


def test_pad_constant_values_and_dtypes():
    out = tf.pad(tf.constant([[1., 2], [3, 4]]), [[1, 1], [0, 0]], constant_values=7)
    np.testing.assert_array_equal(out.numpy(), [[7, 7], [1, 2], [3, 4], [7, 7]])
    assert out.dtype == tf.float32
    out = tf.pad(tf.constant([1, 2]), tf.constant([[2, 1]]), constant_values=-1)
    np.testing.assert_array_equal(out.numpy(), [-1, -1, 1, 2, -1])
    assert out.dtype == tf.int32


def test_pad_mirror_second_order():
    check_second_order(lambda x: tf.pad(x, [[1, 2], [2, 1]], "REFLECT") ** 2, [r(3, 4)])
    check_second_order(lambda x: tf.pad(x, [[2, 2], [0, 1]], "SYMMETRIC") ** 3, [r(2, 3)])


def test_pad_errors():
    x = tf.zeros((2, 2))
    with pytest.raises(tf.errors.InvalidArgumentError, match="less than"):
        tf.pad(x, [[2, 0], [0, 0]], "REFLECT")
    with pytest.raises(tf.errors.InvalidArgumentError, match="less than"):
        tf.pad(x, [[3, 0], [0, 0]], "SYMMETRIC")
    with pytest.raises(ValueError, match="CONSTANT"):
        tf.pad(x, [[1, 1], [1, 1]], "FOO")
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank"):
        tf.pad(x, [[1, 1]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-negative"):
        tf.pad(x, [[1, 1], [-1, 0]])


@pytest.mark.parametrize("axis", [0, [1], [0, 1], -1, []])
def test_reverse(axis):
    ax = tuple(np.atleast_1d(axis).tolist())
    check_op(lambda x: tf.reverse(x, axis), [r(2, 3)], lambda a: np.flip(a, ax) if ax else a)


def test_reverse_repeated_axis_raises():
    with pytest.raises(tf.errors.InvalidArgumentError, match="more than once"):
        tf.reverse(tf.zeros((2, 3)), [1, -1])


@pytest.mark.parametrize("shift,axis", [(1, 0), ([1, -1], [0, 1]), ([1, 1], [1, 1]),
                                        (5, 1), (-7, 0)])
def test_roll(shift, axis):
    check_op(lambda x: tf.roll(x, shift, axis), [r(3, 4)],
             lambda a: np.roll(a, shift, axis if isinstance(axis, int) else tuple(axis)))


def test_meshgrid_and_ensure_shape():
    x, y = np.arange(3.), np.arange(4.)
    for indexing in ("xy", "ij"):
        check_op(lambda a, b, ix=indexing: tf.meshgrid(a, b, indexing=ix), [x, y],
                 lambda a, b, ix=indexing: np.meshgrid(a, b, indexing=ix))
    z = np.arange(2.)
    check_op(lambda a, b, c: tf.meshgrid(a, b, c), [x, y, z],
             lambda a, b, c: np.meshgrid(a, b, c))
    t = tf.zeros((2, 3))
    # as TF's EnsureShape op: a new tensor holding the same values
    assert tf.ensure_shape(t, (None, 3)) is not t
    np.testing.assert_array_equal(tf.ensure_shape(t, tf.TensorShape([2, None])), t)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[2,3\].*\[\?,4\]"):
        tf.ensure_shape(t, (None, 4))


def test_identity_stop_gradient_metadata():
    x = tf.constant([1., 2.])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.identity(x) * 2 + tf.stop_gradient(x) * 5)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [2, 2])
    t = tf.zeros((2, 3, 0))
    np.testing.assert_array_equal(tf.shape(t).numpy(), [2, 3, 0])
    assert tf.shape(t).dtype == tf.int32 and tf.shape(t, tf.int64).dtype == tf.int64
    assert int(tf.size(tf.zeros((2, 3)))) == 6 and int(tf.rank(t)) == 3
    assert tf.newaxis is None
    np.testing.assert_array_equal(tf.broadcast_to([1, 2], (3, 2)).numpy(), [[1, 2]] * 3)


# ---------------------------------------------------------------- creation
@pytest.mark.parametrize("args,kwargs,dtype,expect", [
    ((5,), {}, tf.int32, np.arange(5)),
    ((0., 1., .25), {}, tf.float32, np.arange(0, 1, .25)),
    ((0, 1., .25), {}, tf.float32, np.arange(0, 1, .25)),
    ((5, 0, -2), {}, tf.int32, [5, 3, 1]),
    ((1, 5), {"delta": 2, "dtype": tf.int64}, tf.int64, [1, 3]),
    ((3,), {"dtype": tf.float64}, tf.float64, [0., 1., 2.]),
    ((1., 2., .1), {}, tf.float32, 1 + .1 * np.arange(10)),
    ((2, 2), {}, tf.int32, []),
    ((2**40, 2**40 + 2), {}, tf.int64, [2**40, 2**40 + 1]),
])
def test_range(args, kwargs, dtype, expect):
    out = tf.range(*args, **kwargs)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.numpy(), np.asarray(expect, dtype=out.numpy().dtype),
                               rtol=1e-6)


def test_range_tensor_args_and_errors():
    assert tf.range(tf.constant(3, tf.int64)).dtype == tf.int64
    with pytest.raises(tf.errors.InvalidArgumentError, match="delta != 0"):
        tf.range(0, 5, 0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="start <= limit"):
        tf.range(2, 1)


def test_linspace():
    out = tf.linspace(0, 1, 3)
    assert out.dtype == tf.float64
    np.testing.assert_allclose(out.numpy(), [0, .5, 1])
    assert tf.linspace(0., 1., 3).dtype == tf.float32
    np.testing.assert_allclose(tf.linspace(0., 1., 1).numpy(), [0.])
    check_op(lambda a, b: tf.linspace(a, b, 4, axis=1), [r(2), r(2)],
             lambda a, b: np.linspace(a, b, 4, axis=1))
    check_op(lambda a, b: tf.linspace(a, b, 5), [r(3), np.float32(2.0)],
             lambda a, b: np.linspace(a, b, 5))


def test_eye_one_hot_sequence_mask():
    np.testing.assert_array_equal(tf.eye(2, 3).numpy(), np.eye(2, 3))
    e = tf.eye(2, batch_shape=[3], dtype=tf.int32)
    assert e.shape == (3, 2, 2) and e.dtype == tf.int32
    np.testing.assert_array_equal(e.numpy(), np.broadcast_to(np.eye(2), (3, 2, 2)))
    oh = tf.one_hot([0, 2, -1, 3], 3)
    assert oh.dtype == tf.float32
    np.testing.assert_array_equal(oh.numpy(), [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])
    oh = tf.one_hot([0, 2], 3, on_value=5, off_value=-1)
    assert oh.dtype == tf.int32
    np.testing.assert_array_equal(oh.numpy(), [[5, -1, -1], [-1, -1, 5]])
    oh = tf.one_hot(tf.constant([[0, 2]], tf.int64), 3, axis=0, dtype=tf.int64)
    assert oh.shape == (3, 1, 2) and oh.dtype == tf.int64
    np.testing.assert_array_equal(oh.numpy()[:, 0], [[1, 0], [0, 0], [0, 1]])
    with pytest.raises(TypeError, match="on_value"):
        tf.one_hot([0], 2, on_value=5., off_value=1)
    m = tf.sequence_mask([1, 3, 2], 5)
    assert m.dtype == tf.bool
    np.testing.assert_array_equal(m.numpy(), np.arange(5) < np.array([1, 3, 2])[:, None])
    m = tf.sequence_mask(tf.constant([[1, 3], [2, 0]]), dtype=tf.float32)
    assert m.shape == (2, 2, 3) and m.dtype == tf.float32
    np.testing.assert_array_equal(m.numpy()[1, 1], [0, 0, 0])


def test_zeros_ones_fill():
    z = tf.zeros([2, 3], tf.int64)
    assert z.dtype == tf.int64 and z.numpy().sum() == 0
    assert tf.ones((2,), tf.bool).numpy().all()
    assert tf.zeros(tf.constant([0, 2])).shape == (0, 2)
    f = tf.fill([2, 2], 3.)
    assert f.dtype == tf.float32 and (f.numpy() == 3).all()
    assert tf.zeros_like(tf.constant([1., 2.]), dtype=tf.int32).dtype == tf.int32
    v = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(v)
        y = tf.reduce_sum(tf.fill([2, 3], v) * 2.)
    assert float(tape.gradient(y, v)) == 12.0
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.zeros([-1, 2])


# ---------------------------------------------------------------- sorting
@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("direction", ["ASCENDING", "DESCENDING"])
def test_sort_and_grad(axis, direction):
    x = r(3, 4, 5)

    def ref(a):
        s = np.sort(a, axis=axis)
        return np.flip(s, axis) if direction == "DESCENDING" else s
    check_op(lambda a: tf.sort(a, axis=axis, direction=direction), [x], ref)


def test_argsort_stable_both_directions():
    x = tf.constant([3, 1, 1, 2, 3])
    np.testing.assert_array_equal(tf.argsort(x).numpy(), [1, 2, 3, 0, 4])
    np.testing.assert_array_equal(tf.argsort(x, direction="DESCENDING").numpy(),
                                  [0, 4, 3, 1, 2])
    assert tf.argsort(x).dtype == tf.int32
    np.testing.assert_array_equal(tf.sort(tf.constant([3, 1, 2]), direction="DESCENDING")
                                  .numpy(), [3, 2, 1])
    with pytest.raises(ValueError, match="ASCENDING"):
        tf.sort([1, 2], direction="down")


def test_unique():
    y, idx = tf.unique([1, 1, 3, 2, 3])
    np.testing.assert_array_equal(y.numpy(), [1, 3, 2])
    np.testing.assert_array_equal(idx.numpy(), [0, 0, 1, 2, 1])
    assert idx.dtype == tf.int32
    out = tf.unique_with_counts(tf.constant([5., 4., 5.]), out_idx=tf.int64)
    np.testing.assert_array_equal(out.y.numpy(), [5, 4])
    np.testing.assert_array_equal(out.count.numpy(), [2, 1])
    assert out.idx.dtype == tf.int64
    empty = tf.unique(tf.zeros((0,), tf.int32))
    assert empty.y.shape == (0,) and empty.idx.shape == (0,)
    with pytest.raises(tf.errors.InvalidArgumentError, match="1D"):
        tf.unique([[1]])


def test_searchsorted():
    seq = np.array([[1, 3, 5, 7], [0, 2, 2, 9]], np.float32)
    vals = np.array([[2, 7, 0], [2, 10, -1]], np.float32)
    for side in ("left", "right"):
        out = tf.searchsorted(seq, vals, side=side)
        expect = [np.searchsorted(s, v, side=side) for s, v in zip(seq, vals)]
        np.testing.assert_array_equal(out.numpy(), expect)
    np.testing.assert_array_equal(tf.searchsorted([1, 3, 5], [3], side="right").numpy(), [2])
    with pytest.raises(ValueError, match="side"):
        tf.searchsorted([1, 2], [1], side="middle")


# ---------------------------------------------------------------- clipping (tf.X names)
def test_clip_ops():
    check_op(lambda x: tf.clip_by_value(x, -0.5, 0.5), [r(3, 4)],
             lambda a: np.clip(a, -0.5, 0.5))
    x = np.array([[3., 4.], [0.3, 0.4]], np.float32)
    np.testing.assert_allclose(tf.clip_by_norm(x, 1.).numpy(), x / np.linalg.norm(x),
                               rtol=1e-6)
    np.testing.assert_allclose(tf.clip_by_norm(x, 1., axes=[1]).numpy(),
                               [[.6, .8], [.3, .4]], rtol=1e-6)
    check_grad(lambda a: tf.clip_by_norm(a, 1.), [x])
    clipped, norm = tf.clip_by_global_norm([tf.constant([3., 4.]), None], 1.)
    assert clipped[1] is None and float(norm) == pytest.approx(5.0)
    np.testing.assert_allclose(clipped[0].numpy(), [.6, .8], rtol=1e-6)
    same, _ = tf.clip_by_global_norm([tf.constant([.3, .4])], 1.)
    np.testing.assert_allclose(same[0].numpy(), [.3, .4], rtol=1e-6)


def test_compiled_sequence_mask_reads_lengths_at_run_time():
    f = tf.function(lambda lengths: tf.sequence_mask(lengths))
    assert f(tf.constant([1, 2])).shape == (2, 2)
    np.testing.assert_array_equal(f(tf.constant([1, 3])).numpy(),
                                  [[True, False, False], [True, True, True]])
