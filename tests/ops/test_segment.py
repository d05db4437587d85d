"""Segment reductions (tf.math.unsorted_segment_* and segment_*)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.ops import segment as seg
from tests.helpers import check_op, check_second_order

rng = np.random.default_rng(2)


def r(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def np_segment(kind, data, ids, num):
    rest = data.shape[ids.ndim:]
    flat = data.reshape((ids.size,) + rest)
    ids = ids.reshape(-1)
    out = []
    for s in range(num):
        rows = flat[ids == s]
        if kind == "sum":
            out.append(rows.sum(0))
        elif kind == "mean":
            out.append(rows.mean(0) if len(rows) else np.zeros(rest, data.dtype))
        elif kind == "sqrt_n":
            out.append(rows.sum(0) / np.sqrt(max(len(rows), 1)))
        elif kind == "prod":
            out.append(rows.prod(0))
        elif kind == "max":
            out.append(rows.max(0) if len(rows) else
                       np.full(rest, np.finfo(data.dtype).min, data.dtype))
        else:
            out.append(rows.min(0) if len(rows) else
                       np.full(rest, np.finfo(data.dtype).max, data.dtype))
    return np.stack(out).astype(data.dtype) if out else np.zeros((0,) + rest, data.dtype)


CASES = [
    ((6,), [0, 2, 0, 1, 2, 2], 4),
    ((5, 3), [1, -1, 1, 0, 3], 4),
    ((2, 3, 2), [[0, 1, 0], [2, -1, 2]], 3),
    ((0, 2), [], 2),
    ((3,), [0, 0, 0], 1),
]


@pytest.mark.parametrize("kind", ["sum", "mean", "max", "min", "prod", "sqrt_n"])
@pytest.mark.parametrize("shape,ids,num", CASES)
def test_unsorted_segment(kind, shape, ids, num):
    ids = np.asarray(ids, np.int32).reshape(shape[:np.asarray(ids).ndim])
    fn = getattr(tf.math, f"unsorted_segment_{kind}")
    data = r(*shape)
    # empty max/min segments hold the dtype's extreme value: clamp it so that the
    # finite-difference check (random output weights) does not overflow
    clamp = {"max": (tf.maximum, np.maximum, -1e3), "min": (tf.minimum, np.minimum, 1e3)}
    tf_c, np_c, v = clamp.get(kind, (lambda a, b: a, lambda a, b: a, 0))
    check_op(lambda x, i: tf_c(fn(x, i, num), v), [data, ids],
             lambda x, i: np_c(np_segment(kind, x, i, num), v), wrt=[0])


def test_segment_max_ties_split_gradient():
    x = tf.constant([1., 3., 3., 2.])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(seg.unsorted_segment_max(x, [0, 0, 0, 1], 2))
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0, .5, .5, 1])


def test_segment_prod_gradient_with_zeros():
    x = np.array([0., 2., 3., 0., 0., 5., 4.])
    ids = np.array([0, 0, 0, 1, 1, 2, 2], np.int32)
    check_op(lambda a, i: seg.unsorted_segment_prod(a, i, 3), [x, ids],
             lambda a, i: np_segment("prod", a, i, 3), wrt=[0])
    check_second_order(lambda a: seg.unsorted_segment_sum(a * a, ids, 3), [x])


def test_segment_prod_integers_exact():
    data = np.array([3, -2, 7, 5, 1, 2 ** 20], np.int64)
    ids = np.array([1, 0, 1, 1, -1, 0], np.int32)
    out = seg.unsorted_segment_prod(data, ids, 3)
    np.testing.assert_array_equal(out.numpy(), [-2 * 2 ** 20, 105, 1])


@pytest.mark.parametrize("kind", ["sum", "mean", "max", "min", "prod"])
def test_sorted_segment(kind):
    data = r(6, 2)
    ids = np.array([0, 0, 2, 2, 2, 4], np.int32)
    fn = getattr(tf.math, f"segment_{kind}")

    def ref(x, i):
        out = np_segment(kind, x, i, 5)
        if kind in ("max", "min"):  # empty sorted segments give 0
            out[[1, 3]] = 0
        return out
    check_op(lambda x, i: fn(x, i), [data, ids], ref, wrt=[0])


def test_segment_int_dtype_and_errors():
    out = seg.segment_max(tf.constant([1, 2, 3]), [0, 0, 2])
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), [2, 0, 3])
    np.testing.assert_array_equal(
        seg.unsorted_segment_max(tf.constant([1, 2]), [0, 0], 2).numpy(),
        [2, np.iinfo(np.int32).min])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"segment_ids\[1\] = 5 is out of range \[0, 3\)"):
        seg.unsorted_segment_sum([1., 2., 3.], [0, 5, 2], 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="not increasing"):
        seg.segment_sum([1., 2., 3.], [0, 2, 1])
    with pytest.raises(tf.errors.InvalidArgumentError, match="does not start with"):
        seg.unsorted_segment_sum(tf.zeros((3, 2)), [0, 1], 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="int32 or int64"):
        seg.unsorted_segment_sum([1., 2.], [0., 1.], 2)


def test_compiled_sorted_segments_follow_new_ids():
    @tf.function
    def f(x, ids):
        return tf.math.segment_sum(x, ids)

    x = tf.constant([1., 2., 3.])
    np.testing.assert_array_equal(f(x, tf.constant([0, 0, 1])).numpy(), [3, 3])
    np.testing.assert_array_equal(f(x, tf.constant([0, 1, 3])).numpy(), [1, 2, 0, 3])
    with pytest.raises(tf.errors.InvalidArgumentError, match="not increasing"):
        f(x, tf.constant([1, 0, 0]))
