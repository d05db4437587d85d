"""Ops that need Python values (axis, depth, k, multiples, sizes, shapes) given
tensors computed inside a ``dlframe.function``: the value is read when the graph runs,
so one trace answers every value, gradients flow, and values that TF requires to be
static raise TF's error."""

import numpy as np
import pytest

import dlframe as tf

X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32)


def _check(fn, ref, arg_sets):
    """Calls a compiled ``fn`` on each argument set (in order) against NumPy ``ref``;
    the first value must not be baked into the graph: one trace per input signature
    (shapes and dtypes) serves every value."""
    compiled = tf.function(fn)
    for args in arg_sets:
        got = tf.nest.flatten(compiled(*[tf.constant(a) for a in args]))
        want = ref(*args)
        want = want if isinstance(want, (list, tuple)) else [want]
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.numpy(), np.asarray(w), rtol=1e-6)
    signatures = {tuple((np.shape(a), np.asarray(a).dtype) for a in args)
                  for args in arg_sets}
    assert compiled.experimental_get_tracing_count() == len(signatures)


def _one_hot(i, d):
    return np.eye(d, dtype=np.float32)[i]


CASES = {
    "reduce_sum_axis": (lambda x, a: tf.reduce_sum(x, axis=a),
                        lambda x, a: x.sum(axis=int(a)), [(X, 0), (X, 1), (X, -1)]),
    "reduce_mean_keepdims": (lambda x, a: tf.reduce_mean(x, axis=a, keepdims=True),
                             lambda x, a: x.mean(axis=tuple(a), keepdims=True),
                             [(X, [0]), (X, [1]), (X, [-1])]),
    "reduce_max_axis": (lambda x, a: tf.reduce_max(x, a), lambda x, a: x.max(int(a)),
                        [(X, 1), (X, 0)]),
    "logsumexp_axis": (lambda x, a: tf.reduce_logsumexp(x, axis=a),
                       lambda x, a: np.log(np.exp(x).sum(int(a))), [(X, 0), (X, 1)]),
    "argmax_axis": (lambda x, a: tf.argmax(x, axis=a), lambda x, a: x.argmax(int(a)),
                    [(X, 0), (X, 1)]),
    "cumsum_axis": (lambda x, a: tf.cumsum(x, axis=a), lambda x, a: x.cumsum(int(a)),
                    [(X, 0), (X, 1)]),
    "one_hot_depth": (lambda i, d: tf.one_hot(i, d), _one_hot,
                      [(np.array([0, 2]), 3), (np.array([0, 2]), 5)]),
    "top_k_k": (lambda x, k: tf.math.top_k(x, k=k),
                lambda x, k: (np.sort(x)[::-1][:k], np.argsort(-x, kind="stable")[:k]),
                [(np.array([3.0, 1, 2, 5], np.float32), 2),
                 (np.array([3.0, 1, 2, 5], np.float32), 3)]),
    "tile_multiples": (lambda x, m: tf.tile(x, m), lambda x, m: np.tile(x, m),
                       [(X, np.array([1, 2])), (X, np.array([2, 1]))]),
    "split_sizes": (lambda x, s: tf.split(x, s, axis=1),
                    lambda x, s: np.split(x, np.cumsum(s)[:-1], axis=1),
                    [(X, np.array([1, 2])), (X, np.array([2, 1]))]),
    "split_size_list": (lambda x, a: tf.split(x, [a, 3 - a], axis=1),
                        lambda x, a: np.split(x, [int(a)], axis=1), [(X, 1), (X, 2)]),
    "concat_axis": (lambda x, a: tf.concat([x, x], axis=a),
                    lambda x, a: np.concatenate([x, x], int(a)), [(X, 0), (X, 1)]),
    "expand_dims_axis": (lambda x, a: tf.expand_dims(x, a),
                         lambda x, a: np.expand_dims(x, int(a)), [(X, 0), (X, 2)]),
    "gather_axis": (lambda x, a: tf.gather(x, [0], axis=a),
                    lambda x, a: np.take(x, [0], axis=int(a)), [(X, 0), (X, 1)]),
    "transpose_perm": (lambda x, p: tf.transpose(x, p), lambda x, p: x.transpose(p),
                       [(X, np.array([1, 0])), (X, np.array([0, 1]))]),
    "pad_paddings": (lambda x, p: tf.pad(x, p), lambda x, p: np.pad(x, p),
                     [(X, np.array([[0, 1], [1, 0]])), (X, np.array([[2, 0], [0, 0]]))]),
    "broadcast_to_shape": (lambda x, s: tf.broadcast_to(x, s),
                           lambda x, s: np.broadcast_to(x, s),
                           [(X[0], np.array([2, 3])), (X[0], np.array([4, 3]))]),
    "roll_shift": (lambda x, s: tf.roll(x, s, axis=1), lambda x, s: np.roll(x, s, 1),
                   [(X, 1), (X, 2)]),
    "repeat_repeats": (lambda x, r: tf.repeat(x, r, axis=0),
                       lambda x, r: np.repeat(x, r, axis=0),
                       [(X, np.array([1, 2])), (X, np.array([2, 0]))]),
    "eye_rows": (lambda n: tf.eye(n), lambda n: np.eye(n), [(2,), (4,)]),
    "linspace_num": (lambda n: tf.linspace(0.0, 1.0, n), lambda n: np.linspace(0, 1, n),
                     [(3,), (5,)]),
    "sequence_mask_maxlen": (lambda n, m: tf.sequence_mask(n, m),
                             lambda n, m: np.arange(m) < n[:, None],
                             [(np.array([1, 2]), 3), (np.array([1, 2]), 4)]),
    "band_part_lower": (lambda x, k: tf.linalg.band_part(x, k, 0),
                        lambda x, k: np.tril(x) - np.tril(x, -int(k) - 1),
                        [(np.ones((3, 3), np.float32), 0),
                         (np.ones((3, 3), np.float32), 1)]),
    "bincount_minlength": (lambda a, m: tf.math.bincount(a, minlength=m),
                           lambda a, m: np.bincount(a, minlength=m),
                           [(np.array([1, 1, 2]), 3), (np.array([1, 1, 2]), 5)]),
    # values that were already run-time sizes keep working
    "zeros_of_shape": (lambda x: tf.zeros([tf.shape(x)[0], 3]),
                       lambda x: np.zeros((len(x), 3)),
                       [(X,), (np.ones((4, 1), np.float32),)]),
    "slice_size": (lambda x, n: x[:n], lambda x, n: x[:n], [(X, 1), (X, 2)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_reads_traced_value_at_run_time(name):
    fn, ref, arg_sets = CASES[name]
    _check(fn, ref, arg_sets)


def test_gradients_through_run_time_values_match_finite_differences():
    w = np.random.RandomState(0).standard_normal((4, 3)).astype(np.float64)

    @tf.function
    def grads(x, m, a):
        with tf.GradientTape() as tape:
            tape.watch(x)
            tiled = tf.tile(x, m)                       # (4, 3) for m = [2, 1]
            y = tf.reduce_sum(tiled * w) + tf.reduce_sum(tf.reduce_max(x, axis=a) ** 2)
        return tape.gradient(y, x)

    x = np.array([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])

    def loss(xv, axis):
        tiled = np.tile(xv, (2, 1))
        return (tiled * w).sum() + (xv.max(axis=axis) ** 2).sum()

    for axis in (0, 1):
        got = grads(tf.constant(x), tf.constant([2, 1]), tf.constant(axis)).numpy()
        eps = 1e-6
        num = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            d = np.zeros_like(x)
            d[idx] = eps
            num[idx] = (loss(x + d, axis) - loss(x - d, axis)) / (2 * eps)
        np.testing.assert_allclose(got, num, rtol=1e-5, atol=1e-6)
    assert grads.experimental_get_tracing_count() == 1


def test_values_change_between_loop_iterations():
    @tf.function
    def f(n):
        total = tf.constant(0.0)
        for i in tf.range(1, n):
            total += tf.reduce_sum(tf.one_hot(i - 1, i) * tf.cast(i, tf.float32))
            total += tf.reduce_sum(tf.tile(tf.ones([1]), tf.reshape(i, [1])))
        return total
    assert f(tf.constant(4)).numpy() == (1 + 2 + 3) * 2
    assert f(tf.constant(6)).numpy() == (1 + 2 + 3 + 4 + 5) * 2
    assert f.experimental_get_tracing_count() == 1


def test_random_shapes_from_traced_sizes_draw_fresh_values():
    @tf.function
    def f(n):
        return tf.random.normal([n, 2]), tf.random.uniform(tf.stack([n])), \
            tf.random.categorical(tf.zeros([2, 3]), n)
    a, b, c = f(tf.constant(3))
    assert a.shape == (3, 2) and b.shape == (3,) and c.shape == (2, 3)
    a2, _, _ = f(tf.constant(3))
    assert not np.allclose(a.numpy(), a2.numpy())      # not folded into a constant
    a5, b5, c5 = f(tf.constant(5))
    assert a5.shape == (5, 2) and b5.shape == (5,) and c5.shape == (2, 5)
    assert f.experimental_get_tracing_count() == 1


def test_shape_of_a_run_time_sized_result_follows_each_call():
    @tf.function
    def f(i, d):
        return tf.shape(tf.one_hot(i, d))[-1] * 10
    assert f(tf.constant([1]), tf.constant(3)).numpy() == 30
    assert f(tf.constant([1]), tf.constant(7)).numpy() == 70


def test_values_that_must_be_static_raise_tf_errors():
    with pytest.raises(ValueError, match="Rank-0 tensors are not supported"):
        tf.function(lambda x, s: tf.split(x, s))(tf.constant(X), tf.constant(2))
    with pytest.raises(ValueError, match="`axis` must be a constant scalar"):
        tf.function(lambda x, a: tf.sort(x, axis=a))(tf.constant(X), tf.constant(0))
    # eagerly the same tensors are plain values
    assert len(tf.split(tf.constant(X), tf.constant(2))) == 2
    np.testing.assert_array_equal(tf.sort(tf.constant(X), axis=tf.constant(0)).numpy(), X)
