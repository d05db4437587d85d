"""Shape-like integer arguments given as TensorSpecs in ``get_concrete_function``.

The trace runs on placeholder values (integer specs hold zeros), which a
``reshape`` shape or a ``transpose`` perm cannot be: the trace must give TF's
static shapes (None where the argument's values set the size; TF 2.21 figures)
and the concrete function must compute the right results at call time.
"""

import numpy as np
import pytest

import dlframe as tf

S = tf.TensorSpec
F32, I32 = tf.float32, tf.int32
X6 = np.arange(6, dtype=np.float32)
X34 = np.arange(12, dtype=np.float32).reshape(3, 4)
IDS = np.array([0, 1, 0, 2, 1, 0], np.int32)


def _i(*v):
    return np.array(v, np.int32)


def _seg_max():
    out = np.full((3, 2), np.finfo(np.float32).min, np.float32)
    out[0], out[1] = [4, 5], [2, 3]
    return out


def _scatter():
    out = np.zeros(5, np.float32)
    out[[0, 2]] = [1, 2]
    return out


def _frames():
    x = np.arange(10, dtype=np.float32)
    return np.stack([x[i:i + 4] for i in range(0, 7, 2)])


# name: (function, specs, call arguments, TF's static shapes, expected results)
CASES = {
    "reshape": (lambda x, s: tf.reshape(x, s), [S([None], F32), S([2], I32)],
                [X6, _i(2, 3)], [(None, None)], [X6.reshape(2, 3)]),
    "reshape_unknown_rank": (lambda x, s: tf.reshape(x, s),
                             [S([None], F32), S([None], I32)],
                             [X6, _i(3, 2)], [None], [X6.reshape(3, 2)]),
    "reshape_list": (lambda x, n: tf.reshape(x, [n, -1]), [S([6], F32), S([], I32)],
                     [X6, np.int32(3)], [(None, None)], [X6.reshape(3, 2)]),
    "broadcast_to": (lambda x, s: tf.broadcast_to(x, s), [S([3], F32), S([2], I32)],
                     [X6[:3], _i(2, 3)], [(None, 3)], [np.tile(X6[:3], (2, 1))]),
    "resize": (lambda x, s: tf.image.resize(x, s, method="nearest"),
               [S([1, 4, 4, 1], F32), S([2], I32)],
               [np.ones((1, 4, 4, 1), np.float32), _i(2, 3)], [(1, None, None, 1)],
               [np.ones((1, 2, 3, 1), np.float32)]),
    "split": (lambda x, s: tf.split(x, s), [S([None], F32), S([2], I32)],
              [X6, _i(2, 4)], [(None,), (None,)], [X6[:2], X6[2:]]),
    "split_axis1": (lambda x, s: tf.split(x, s, axis=1), [S([2, None], F32),
                                                          S([2], I32)],
                    [X6.reshape(2, 3), _i(1, 2)], [(2, None), (2, None)],
                    [X6.reshape(2, 3)[:, :1], X6.reshape(2, 3)[:, 1:]]),
    "transpose": (lambda x, p: tf.transpose(x, p), [S([2, 3], F32), S([2], I32)],
                  [X6.reshape(2, 3), _i(1, 0)], [(None, None)], [X6.reshape(2, 3).T]),
    "unsorted_segment_sum": (lambda x, i, n: tf.math.unsorted_segment_sum(x, i, n),
                             [S([None], F32), S([None], I32), S([], I32)],
                             [X6, IDS, np.int32(4)], [(None,)],
                             [np.array([7, 5, 3, 0], np.float32)]),
    "unsorted_segment_max": (lambda x, i, n: tf.math.unsorted_segment_max(x, i, n),
                             [S([None, 2], F32), S([None], I32), S([], I32)],
                             [X6.reshape(3, 2), _i(0, 1, 0), np.int32(3)], [(None, 2)],
                             [_seg_max()]),
    "scatter_nd": (lambda i, u, s: tf.scatter_nd(i, u, s),
                   [S([None, 1], I32), S([None], F32), S([1], I32)],
                   [_i(0, 2).reshape(2, 1), np.array([1, 2], np.float32), _i(5)],
                   [(None,)], [_scatter()]),
    "frame": (lambda x, n: tf.signal.frame(x, n, 2), [S([10], F32), S([], I32)],
              [np.arange(10, dtype=np.float32), np.int32(4)], [(None, None)],
              [_frames()]),
    "top_k": (lambda x, k: tf.math.top_k(x, k), [S([4, 6], F32), S([], I32)],
              [np.tile(X6, (4, 1)), np.int32(3)], [(4, None), (4, None)],
              [np.tile([5, 4, 3], (4, 1)).astype(np.float32),
               np.tile([5, 4, 3], (4, 1)).astype(np.int32)]),
    "zeros": (lambda s: tf.zeros(s), [S([2], I32)], [_i(2, 3)], [(None, None)],
              [np.zeros((2, 3), np.float32)]),
    "fill_list": (lambda n: tf.fill([n, 3], 2.5), [S([], I32)], [np.int32(2)],
                  [(None, 3)], [np.full((2, 3), 2.5, np.float32)]),
    "range": (lambda n: tf.range(n), [S([], I32)], [np.int32(5)], [(None,)],
              [np.arange(5, dtype=np.int32)]),
    "slice_size": (lambda x, b, s: tf.slice(x, b, s),
                   [S([None, 4], F32), S([2], I32), S([2], I32)],
                   [X34, _i(1, 1), _i(2, -1)], [(None, None)], [X34[1:3, 1:]]),
    "slice_begin": (lambda x, b: tf.slice(x, b, [2, 2]), [S([None, 4], F32),
                                                          S([2], I32)],
                    [X34, _i(1, 1)], [(2, 2)], [X34[1:3, 1:3]]),
    "tile": (lambda x, m: tf.tile(x, m), [S([2, 3], F32), S([2], I32)],
             [X6.reshape(2, 3), _i(2, 1)], [(None, None)],
             [np.tile(X6.reshape(2, 3), (2, 1))]),
    "one_hot": (lambda i, d: tf.one_hot(i, d), [S([None], I32), S([], I32)],
                [_i(0, 2, 1), np.int32(4)], [(None, None)],
                [np.eye(4, dtype=np.float32)[[0, 2, 1]]]),
    "linspace": (lambda n: tf.linspace(0., 1., n), [S([], I32)], [np.int32(5)],
                 [(None,)], [np.linspace(0, 1, 5).astype(np.float32)]),
    "roll": (lambda x, s: tf.roll(x, s, 0), [S([6], F32), S([], I32)],
             [X6, np.int32(2)], [(6,)], [np.roll(X6, 2)]),
    "reverse": (lambda x, a: tf.reverse(x, a), [S([2, 3], F32), S([1], I32)],
                [X6.reshape(2, 3), _i(1)], [(2, 3)], [X6.reshape(2, 3)[:, ::-1]]),
    "sequence_mask": (lambda n, m: tf.sequence_mask(n, m), [S([None], I32),
                                                            S([], I32)],
                      [_i(1, 3), np.int32(4)], [(None, None)],
                      [np.arange(4)[None, :] < np.array([[1], [3]])]),
    # an axis TF's graph does not know: a reduction's rank is unknown too
    "reduce_sum_axis": (lambda x, a: tf.reduce_sum(x, a), [S([2, 3], F32), S([], I32)],
                        [X6.reshape(2, 3), np.int32(1)], [None],
                        [np.array([3, 12], np.float32)]),
    "reduce_max_keepdims": (lambda x, a: tf.reduce_max(x, a, keepdims=True),
                            [S([2, 3], F32), S([], I32)],
                            [X6.reshape(2, 3), np.int32(1)], [(None, None)],
                            [np.array([[2], [5]], np.float32)]),
    "expand_dims": (lambda x, a: tf.expand_dims(x, a), [S([2, 3], F32), S([], I32)],
                    [X6.reshape(2, 3), np.int32(1)], [None], [X6.reshape(2, 1, 3)]),
    "argmax": (lambda x, a: tf.argmax(x, a), [S([2, 3], F32), S([], I32)],
               [X6.reshape(2, 3), np.int32(1)], [(None,)],
               [np.array([2, 2], np.int64)]),
    "cumsum": (lambda x, a: tf.cumsum(x, a), [S([2, 3], F32), S([], I32)],
               [X6.reshape(2, 3), np.int32(1)], [(2, 3)],
               [np.cumsum(X6.reshape(2, 3), 1)]),
    "gather_axis": (lambda x, a: tf.gather(x, [0, 1], axis=a), [S([2, 3], F32),
                                                                 S([], I32)],
                    [X6.reshape(2, 3), np.int32(1)], [(None, None)],
                    [X6.reshape(2, 3)[:, :2]]),
    "repeat": (lambda x, r: tf.repeat(x, r, axis=0), [S([2, 3], F32), S([], I32)],
               [X6.reshape(2, 3), np.int32(2)], [(None, 3)],
               [np.repeat(X6.reshape(2, 3), 2, axis=0)]),
    "concat_axis": (lambda x, a: tf.concat([x, x], a), [S([2, 3], F32), S([], I32)],
                    [X6.reshape(2, 3), np.int32(1)], [(None, None)],
                    [np.concatenate([X6.reshape(2, 3)] * 2, 1)]),
}


def _shape(t):
    return None if t.shape.rank is None else tuple(t.shape.as_list())


@pytest.mark.parametrize("name", sorted(CASES))
def test_spec_shape_argument(name):
    fn, specs, args, shapes, expected = CASES[name]
    cf = tf.function(fn).get_concrete_function(*specs)
    assert [_shape(o) for o in cf.outputs] == shapes
    assert [_shape(o) for o in tf.nest.flatten(cf.structured_outputs)] == shapes
    got = tf.nest.flatten(cf(*[tf.constant(a) for a in args]))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(np.asarray(g), e, rtol=1e-6)
        assert np.asarray(g).dtype == np.asarray(e).dtype


def test_random_uniform_spec_shape():
    cf = tf.function(lambda s: tf.random.uniform(s)).get_concrete_function(
        S([2], I32))
    assert _shape(cf.outputs[0]) == (None, None)
    out = np.asarray(cf(tf.constant(_i(2, 3))))
    assert out.shape == (2, 3) and (out >= 0).all() and (out < 1).all()


def test_gradient_through_spec_reshape():
    @tf.function
    def grad(x, s):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(tf.reshape(x, s) ** 2)
        return tape.gradient(y, x)

    cf = grad.get_concrete_function(S([None], F32), S([2], I32))
    np.testing.assert_allclose(np.asarray(cf(tf.constant(X6), tf.constant(_i(3, 2)))),
                               2 * X6)


@pytest.mark.parametrize("fn, specs, args", [
    (lambda x, s: tf.reshape(x, s), [S([None], F32), S([2], I32)],
     [X6, _i(4, 4)]),
    (lambda x, p: tf.transpose(x, p), [S([2, 3], F32), S([2], I32)],
     [X6.reshape(2, 3), _i(0, 0)]),
    (lambda x, i, n: tf.math.unsorted_segment_sum(x, i, n),
     [S([None], F32), S([None], I32), S([], I32)], [X6, IDS, np.int32(2)]),
    (lambda x, s: tf.split(x, s), [S([None], F32), S([2], I32)], [X6, _i(2, 2)]),
])
def test_bad_run_time_values_still_raise(fn, specs, args):
    """The stand-ins are the trace's only: a run with bad values raises TF's error."""
    cf = tf.function(fn).get_concrete_function(*specs)
    with pytest.raises(tf.errors.InvalidArgumentError):
        cf(*[tf.constant(a) for a in args])


def test_traced_call_with_bad_values_raises():
    """A trace on the call's own values (no placeholders) keeps the op's error."""
    f = tf.function(lambda x, p: tf.transpose(x, p))
    with pytest.raises(tf.errors.InvalidArgumentError):
        f(tf.constant(X6.reshape(2, 3)), tf.constant(_i(0, 0)))
    g = tf.function(lambda x, s: tf.reshape(x, s))
    with pytest.raises(tf.errors.InvalidArgumentError):
        g(tf.constant(X6), tf.constant(_i(4, 4)))
