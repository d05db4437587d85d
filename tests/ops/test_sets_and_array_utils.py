"""tf.sets, tf.edit_distance, tf.unravel_index, tf.parallel_stack, tf.fingerprint,
tf.extract_volume_patches and tf.eig/eigvals: NumPy references and values from TF 2.21."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_op


def _sp_rows(sp):
    """{prefix tuple: list of values in last-index order} of a SparseTensor."""
    rows = {}
    for idx, v in zip(sp.indices.numpy(), sp.values.numpy()):
        rows.setdefault(tuple(idx[:-1]), []).append(v)
    return rows


# ---------------------------------------------------------------- sets
A = np.array([[[1, 2], [3, 4]], [[5, 6], [7, 8]]], np.int64)
B = np.array([[[1, 3], [2, 2]], [[5, 5], [8, 9]]], np.int64)


def test_dense_set_operations_match_tf():
    # expected indices/values/shapes from TF 2.21
    r = tf.sets.intersection(A, B)
    np.testing.assert_array_equal(r.indices.numpy(), [[0, 0, 0], [1, 0, 0], [1, 1, 0]])
    np.testing.assert_array_equal(r.values.numpy(), [1, 5, 8])
    np.testing.assert_array_equal(r.dense_shape.numpy(), [2, 2, 1])
    assert r.values.dtype == tf.int64 and r.indices.dtype == tf.int64
    r = tf.sets.union(A, B)
    np.testing.assert_array_equal(r.values.numpy(), [1, 2, 3, 2, 3, 4, 5, 6, 7, 8, 9])
    np.testing.assert_array_equal(r.dense_shape.numpy(), [2, 2, 3])
    r = tf.sets.difference(A, B)
    np.testing.assert_array_equal(r.indices.numpy(),
                                  [[0, 0, 0], [0, 1, 0], [0, 1, 1], [1, 0, 0], [1, 1, 0]])
    np.testing.assert_array_equal(r.values.numpy(), [2, 3, 4, 6, 7])
    r = tf.sets.difference(A, B, aminusb=False)
    np.testing.assert_array_equal(r.values.numpy(), [3, 2, 9])
    np.testing.assert_array_equal(r.dense_shape.numpy(), [2, 2, 1])


@pytest.mark.parametrize("op", ["intersection", "union", "a-b", "b-a"])
def test_random_sets_against_python_sets(op):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 6, (3, 2, 5)).astype(np.int32)
    b_dense = rng.integers(0, 6, (3, 2, 4)).astype(np.int32)
    b = tf.sparse.from_dense(b_dense)   # zeros are absent from the sparse sets
    fns = {"intersection": lambda x, y: x & y, "union": lambda x, y: x | y,
           "a-b": lambda x, y: x - y, "b-a": lambda x, y: y - x}
    if op == "intersection":
        got = tf.sets.intersection(a, b)
    elif op == "union":
        got = tf.sets.union(b, a)
    else:
        got = tf.sets.difference(a, b, aminusb=op == "a-b")   # dense, sparse: swapped
    rows = _sp_rows(got)
    width = 0
    for i in range(3):
        for j in range(2):
            expect = sorted(fns[op](set(a[i, j]), set(b_dense[i, j]) - {0}))
            assert rows.get((i, j), []) == expect
            width = max(width, len(expect))
    np.testing.assert_array_equal(got.dense_shape.numpy(), [3, 2, width])


def test_sparse_and_string_sets_and_size():
    sa = tf.sparse.from_dense(tf.constant([[1, 0, 2], [0, 0, 0], [3, 3, 0]]))
    np.testing.assert_array_equal(tf.sets.size(sa).numpy(), [2, 0, 1])
    assert tf.sets.size(sa).dtype == tf.int32
    u = tf.sets.union(sa, tf.constant([[4, 4], [5, 1], [3, 1]]))   # from TF 2.21
    np.testing.assert_array_equal(u.values.numpy(), [1, 2, 4, 1, 5, 1, 3])
    np.testing.assert_array_equal(u.dense_shape.numpy(), [3, 3])
    d = tf.sets.difference(tf.constant([[4, 4], [5, 1], [3, 1]]), sa)
    np.testing.assert_array_equal(d.values.numpy(), [4, 1, 5, 1])
    np.testing.assert_array_equal(d.indices.numpy(), [[0, 0], [1, 0], [1, 1], [2, 0]])
    s = tf.sets.intersection(tf.constant([["a", "b"]]), tf.constant([["b", "c"]]))
    assert s.values.numpy().tolist() == [b"b"]
    empty = tf.sets.intersection(tf.constant([[1, 2]]), tf.constant([[3, 4]]))
    assert empty.indices.shape == (0, 2)
    np.testing.assert_array_equal(empty.dense_shape.numpy(), [1, 0])
    none = tf.SparseTensor(np.zeros((0, 3), np.int64), np.zeros(0, np.int32), [2, 3, 4])
    np.testing.assert_array_equal(tf.sets.size(none).numpy(), np.zeros((2, 3)))


def test_set_errors():
    with pytest.raises(TypeError, match="SparseTensor"):
        tf.sets.size(tf.constant([[1, 2]]))
    with pytest.raises(TypeError, match="invalid dtype"):
        tf.sets.union(tf.constant([[1., 2.]]), tf.constant([[1., 2.]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank 1 < 2"):
        tf.sets.union(tf.constant([1, 2]), tf.constant([1, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Mismatched shapes"):
        tf.sets.union(tf.constant([[1, 2]]), tf.constant([[1, 2], [3, 4]]))
    with pytest.raises(TypeError, match="Types don't match"):
        tf.sets.union(tf.constant([[1, 2]]), tf.constant([[1, 2]], tf.int64))
    unsorted = tf.SparseTensor([[0, 1], [0, 0]], [1, 2], [1, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of order"):
        tf.sets.size(unsorted)
    np.testing.assert_array_equal(tf.sets.size(unsorted, validate_indices=False), [2])


# ---------------------------------------------------------------- edit distance
def test_edit_distance_matches_tf():
    hyp = tf.SparseTensor([[0, 0, 0], [1, 0, 0]], ["a", "b"], (2, 1, 1))
    truth = tf.SparseTensor([[0, 1, 0], [1, 0, 0], [1, 0, 1], [1, 1, 0]],
                            ["a", "b", "c", "a"], (2, 2, 2))
    got = tf.edit_distance(hyp, truth)   # values from TF 2.21
    np.testing.assert_array_equal(got.numpy(), [[np.inf, 1.], [0.5, 1.]])
    assert got.dtype == tf.float32
    np.testing.assert_array_equal(tf.edit_distance(hyp, truth, normalize=False).numpy(),
                                  [[1., 1.], [1., 1.]])
    h = tf.SparseTensor([[0, 0], [0, 1], [0, 2]], [1, 2, 3], [1, 3])
    t = tf.SparseTensor([[0, 0], [0, 1]], [2, 3], [1, 4])
    np.testing.assert_allclose(tf.edit_distance(h, t).numpy(), [0.5])
    empty = tf.SparseTensor(np.zeros((0, 2), np.int64), np.zeros(0, np.int32), [2, 3])
    one = tf.SparseTensor([[1, 0]], [2], [2, 4])
    np.testing.assert_array_equal(tf.edit_distance(empty, one).numpy(), [0., 1.])
    # positions within the last dimension only order the sequence
    shifted = tf.edit_distance(tf.SparseTensor([[0, 1]], [1], [1, 3]),
                               tf.SparseTensor([[0, 0]], [1], [1, 3]))
    np.testing.assert_array_equal(shifted.numpy(), [0.])


def test_edit_distance_random_against_reference():
    rng = np.random.default_rng(3)

    def lev(x, y):
        dp = np.arange(len(y) + 1)
        for i, a in enumerate(x, 1):
            prev, dp[0] = dp.copy(), i
            for j, b in enumerate(y, 1):
                dp[j] = min(prev[j] + 1, dp[j - 1] + 1, prev[j - 1] + (a != b))
        return dp[-1]

    hyp = rng.integers(0, 3, (4, 6))
    tru = rng.integers(0, 3, (4, 5))
    got = tf.edit_distance(tf.sparse.from_dense(hyp), tf.sparse.from_dense(tru),
                           normalize=False).numpy()
    expect = [lev([v for v in h if v], [v for v in t if v]) for h, t in zip(hyp, tru)]
    np.testing.assert_array_equal(got, expect)


def test_edit_distance_errors():
    h = tf.SparseTensor([[0, 0]], [1], [1, 3])
    with pytest.raises(TypeError, match="Hypothesis must be a SparseTensor"):
        tf.edit_distance(tf.constant([[1]]), h)
    with pytest.raises(tf.errors.InvalidArgumentError, match="float32"):
        tf.edit_distance(h, tf.SparseTensor([[0, 0]], [2.], [1, 4]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="matching ranks"):
        tf.edit_distance(h, tf.SparseTensor([[0, 0, 0]], [2], [1, 4, 1]))


# ---------------------------------------------------------------- unravel_index
def test_unravel_index():
    got = tf.unravel_index([22, 41, 37], (7, 6))
    np.testing.assert_array_equal(got.numpy(), np.unravel_index([22, 41, 37], (7, 6)))
    assert got.dtype == tf.int32
    np.testing.assert_array_equal(tf.unravel_index(5, [2, 3]).numpy(), [1, 2])
    r = tf.unravel_index(tf.constant([3], tf.int64), (7, 6))
    assert r.dtype == tf.int64 and r.shape == (2, 1)
    f = tf.function(lambda i: tf.unravel_index(i, [3, 4, 5]))
    np.testing.assert_array_equal(f(tf.constant([0, 59, 21])).numpy(),
                                  np.unravel_index([0, 59, 21], (3, 4, 5)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of bound"):
        tf.unravel_index([50], (7, 6))
    with pytest.raises(tf.errors.InvalidArgumentError, match="int32, int64"):
        tf.unravel_index([1.], (7, 6))
    with pytest.raises(tf.errors.InvalidArgumentError, match="scalar or vector"):
        tf.unravel_index([[1, 2]], (7, 6))
    with pytest.raises(tf.errors.InvalidArgumentError, match="dim of zero"):
        tf.unravel_index([1], (7, 0))


# ---------------------------------------------------------------- parallel_stack
def test_parallel_stack_graph_only():
    a, b = tf.constant([1., 2.]), tf.constant([3., 4.])
    with pytest.raises(RuntimeError, match="eager"):
        tf.parallel_stack([a, b])
    out = tf.function(lambda x, y: tf.parallel_stack([x, y, x]))(a, b)
    np.testing.assert_array_equal(out.numpy(), [[1, 2], [3, 4], [1, 2]])


# ---------------------------------------------------------------- fingerprint
def test_fingerprint_matches_tf_bytes():
    # all expected bytes from TF 2.21
    cases = [
        (tf.constant([[1, 2], [3, 4]]), [[76, 18, 253, 133, 168, 204, 240, 10],
                                         [254, 162, 60, 240, 103, 244, 53, 255]]),
        (tf.constant(["abc", "hello world"]), [[105, 243, 231, 116, 160, 179, 165, 36],
                                               [27, 176, 214, 139, 71, 183, 143, 88]]),
        (tf.constant([[["abc", "de"]]]), [[233, 237, 232, 132, 79, 140, 59, 169]]),
        (tf.constant([1.5, 2.0, 3.0]), [[64, 181, 56, 72, 223, 224, 189, 72],
                                        [156, 206, 45, 21, 1, 1, 236, 37],
                                        [134, 46, 23, 248, 151, 120, 0, 83]]),
        (tf.constant([[[1, 2], [3, 4]]], tf.int64), [[20, 22, 69, 105, 139, 191, 144, 16]]),
        (tf.constant([True, False]), [[62, 88, 126, 177, 19, 76, 162, 71],
                                      [84, 75, 233, 245, 237, 86, 96, 190]]),
        (tf.constant([1.5], tf.float16), [[39, 2, 132, 245, 2, 250, 215, 2]]),
        (tf.zeros([1, 0], tf.int32), [[79, 64, 144, 47, 59, 106, 225, 154]]),
    ]
    for data, expect in cases:
        got = tf.fingerprint(data)
        assert got.dtype == tf.uint8
        np.testing.assert_array_equal(got.numpy(), expect)
    with pytest.raises(tf.errors.InvalidArgumentError, match="at least one dimension"):
        tf.fingerprint(tf.constant(3))
    with pytest.raises(tf.errors.InvalidArgumentError, match="md5"):
        tf.fingerprint(tf.constant([3]), method="md5")


# ---------------------------------------------------------------- volume patches
def _volume_patches_ref(x, ks, ss, padding):
    b, *sizes, depth = x.shape
    geo = []
    for n, k, s in zip(sizes, ks, ss):
        if padding == "VALID":
            geo.append(((n - k) // s + 1, 0))
        else:
            out = -(-n // s)
            geo.append((out, int(((out - 1) * s + k - n) / 2)))
    out = np.zeros([b] + [g[0] for g in geo] + [ks[0] * ks[1] * ks[2] * depth])
    for i in np.ndindex(*[g[0] for g in geo]):
        patch = []
        for off in np.ndindex(*ks):
            pos = [i[a] * ss[a] - geo[a][1] + off[a] for a in range(3)]
            inside = all(0 <= p < n for p, n in zip(pos, sizes))
            patch.append(x[:, pos[0], pos[1], pos[2]] if inside else np.zeros((b, depth)))
        out[(slice(None),) + i] = np.concatenate(patch, axis=1)
    return out


@pytest.mark.parametrize("padding", ["VALID", "SAME"])
@pytest.mark.parametrize("ks,ss", [((2, 2, 3), (1, 2, 2)), ((3, 2, 2), (2, 3, 1)),
                                   ((1, 1, 1), (3, 3, 3))])
def test_extract_volume_patches(padding, ks, ss):
    x = np.random.default_rng(4).standard_normal((2, 4, 5, 6, 2))

    def fn(v):
        return tf.extract_volume_patches(v, [1, *ks, 1], [1, *ss, 1], padding)

    check_op(fn, [x], lambda v: _volume_patches_ref(v, ks, ss, padding))


def test_extract_volume_patches_tf_same_offset_and_errors():
    # TF 2.21: SAME, k=1, stride 3 over 6 planes starts at plane 1 (negative padding)
    x = tf.reshape(tf.range(6.), [1, 6, 1, 1, 1])
    got = tf.extract_volume_patches(x, [1, 1, 1, 1, 1], [1, 3, 1, 1, 1], "SAME")
    np.testing.assert_array_equal(tf.reshape(got, [-1]).numpy(), [1., 4.])
    got = tf.extract_volume_patches(x, [1, 2, 1, 1, 1], [1, 3, 1, 1, 1], "SAME")
    np.testing.assert_array_equal(tf.reshape(got, [-1]).numpy(), [0., 1., 3., 4.])
    with pytest.raises(ValueError, match="5-D"):
        tf.extract_volume_patches(tf.zeros([1, 2, 2, 2]), [1] * 5, [1] * 5, "VALID")
    with pytest.raises(ValueError, match="ksizes"):
        tf.extract_volume_patches(x, [2, 1, 1, 1, 1], [1] * 5, "VALID")
    with pytest.raises(ValueError, match="padding"):
        tf.extract_volume_patches(x, [1] * 5, [1] * 5, "FULL")


def test_top_level_eig():
    m = np.array([[2., 1.], [0., 3.]])
    w, _ = tf.eig(tf.constant(m))
    np.testing.assert_allclose(np.sort(w.numpy().real), [2., 3.])
    np.testing.assert_allclose(np.sort(tf.eigvals(tf.constant(m)).numpy().real), [2., 3.])


def test_set_ops_and_edit_distance_in_function_match_eager():
    a = tf.constant([[1, 2, 3], [4, 4, 5]])
    b = tf.constant([[2, 3, 9], [5, 6, 7]])

    def fn(x, y):
        u = tf.sets.union(x, y)
        return (u.indices, u.values, tf.sets.size(tf.sparse.from_dense(x)),
                tf.edit_distance(tf.sparse.from_dense(x), tf.sparse.from_dense(y)))

    for e, g in zip(fn(a, b), tf.function(fn)(a, b)):
        np.testing.assert_array_equal(g.numpy(), e.numpy())
