"""tf.linalg.diag / diag_part / set_diag with k, num_rows, num_cols, padding_value
and align; TF1 aliases (tensor_diag itself lives in ops/matrix_functions.py)."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_op

ALIGNS = ["RIGHT_LEFT", "LEFT_RIGHT", "LEFT_LEFT", "RIGHT_RIGHT"]


# -- a loop-by-loop NumPy reference of TF's documented semantics (checked against
# -- TF 2.21 on 2080 diag/diag_part/set_diag cases, errors included)
def _length(rows, cols, d):
    return min(rows + min(d, 0), cols - max(d, 0))


def _offset(d, length, width, align):
    sup, sub = align.split("_")
    left = (d >= 0 and sup == "LEFT") or (d <= 0 and sub == "LEFT")
    return 0 if left else width - length


def _cells(rows, cols, lo, hi, width, align):
    """Yields (row, col, band row, position) for every cell of the band."""
    for d in range(hi, lo - 1, -1):
        n = _length(rows, cols, d)
        for i in range(max(n, 0)):
            yield (i - min(d, 0), i + max(d, 0), hi - d,
                   i + _offset(d, n, width, align))


def ref_diag_part(x, lo, hi, align="RIGHT_LEFT", padding=0):
    rows, cols = x.shape[-2:]
    width = max(_length(rows, cols, d) for d in range(lo, hi + 1))
    out = np.full(x.shape[:-2] + (hi - lo + 1, width), padding, x.dtype)
    for r, c, j, p in _cells(rows, cols, lo, hi, width, align):
        out[..., j, p] = x[..., r, c]
    return out[..., 0, :] if lo == hi else out


def ref_set_diag(x, v, lo, hi, align="RIGHT_LEFT"):
    v = v[..., None, :] if lo == hi else v
    out = x.copy()
    for r, c, j, p in _cells(*x.shape[-2:], lo, hi, v.shape[-1], align):
        out[..., r, c] = v[..., j, p]
    return out


def ref_diag(v, lo, hi, rows, cols, align="RIGHT_LEFT", padding=0):
    batch = v.shape[:-1] if lo == hi else v.shape[:-2]
    return ref_set_diag(np.full(batch + (rows, cols), padding, v.dtype), v, lo, hi,
                        align)


# -- values from TF 2.21 ----------------------------------------------------------
def test_k_offsets_match_tf():
    v = np.array([1, 2, 3], np.int32)
    assert tf.linalg.diag(v, k=1).numpy().tolist() == [
        [0, 1, 0, 0], [0, 0, 2, 0], [0, 0, 0, 3], [0, 0, 0, 0]]
    assert tf.linalg.diag(v, k=-1, num_cols=3).numpy().tolist() == [
        [0, 0, 0], [1, 0, 0], [0, 2, 0], [0, 0, 3]]
    assert tf.linalg.diag(v, k=1, num_rows=5).shape == (5, 4)
    assert tf.linalg.diag(v, k=1, num_cols=5).numpy().tolist() == [
        [0, 1, 0, 0, 0], [0, 0, 2, 0, 0], [0, 0, 0, 3, 0]]
    assert tf.linalg.diag(v, k=1, padding_value=9).numpy().tolist() == [
        [9, 1, 9, 9], [9, 9, 2, 9], [9, 9, 9, 3], [9, 9, 9, 9]]
    assert tf.linalg.diag(np.zeros(0, np.float32), k=1).numpy().tolist() == [[0.0]]


def test_bands_and_alignment_match_tf():
    d2 = np.arange(6).reshape(2, 3)
    want = {"RIGHT_LEFT": [[0, 3, 1, 0], [0, 0, 4, 2], [0, 0, 0, 5], [0, 0, 0, 0]],
            "LEFT_RIGHT": [[0, 3, 0, 0], [0, 0, 4, 1], [0, 0, 0, 5], [0, 0, 0, 0]]}
    for align, w in want.items():
        assert tf.linalg.diag(d2, k=(1, 2), align=align).numpy().tolist() == w
    x = np.arange(1, 13).reshape(3, 4)
    assert tf.linalg.diag_part(x, k=(-1, 1), padding_value=-7).numpy().tolist() == [
        [2, 7, 12], [1, 6, 11], [5, 10, -7]]
    assert tf.linalg.diag_part(x, k=(-2, 2), align="LEFT_RIGHT").numpy().tolist() == [
        [3, 8, 0], [2, 7, 12], [1, 6, 11], [0, 5, 10], [0, 0, 9]]
    new = np.array([[10, 11, 12], [20, 21, 22], [30, 31, 32]])
    assert tf.linalg.set_diag(x, new, k=(-1, 1)).numpy().tolist() == [
        [20, 10, 3, 4], [30, 21, 11, 8], [9, 31, 22, 12]]
    assert tf.linalg.set_diag(x, new, k=(-1, 1), align="LEFT_RIGHT").numpy().tolist() \
        == [[20, 10, 3, 4], [31, 21, 11, 8], [9, 32, 22, 12]]
    batched = tf.linalg.diag(np.arange(12).reshape(2, 2, 3), k=(-1, 0))
    assert batched.numpy().tolist() == [[[0, 0, 0], [3, 1, 0], [0, 4, 2]],
                                        [[6, 0, 0], [9, 7, 0], [0, 10, 8]]]


# -- grids against the reference ---------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 4), (4, 3), (2, 5), (3, 3), (1, 4)])
@pytest.mark.parametrize("align", ALIGNS)
def test_diag_part_and_set_diag_grid(shape, align):
    rows, cols = shape
    x = np.arange(2 * rows * cols, dtype=np.float32).reshape((2,) + shape) + 1
    for lo in range(-rows + 1, cols):
        for hi in range(lo, min(lo + 3, cols)):
            part = tf.linalg.diag_part(x, k=(lo, hi), align=align, padding_value=-1)
            want = ref_diag_part(x, lo, hi, align, -1)
            np.testing.assert_array_equal(part.numpy(), want)
            got = tf.linalg.set_diag(x, want * 10, k=(lo, hi), align=align)
            np.testing.assert_array_equal(got.numpy(),
                                          ref_set_diag(x, want * 10, lo, hi, align))


@pytest.mark.parametrize("align", ALIGNS[:2])
def test_diag_grid(align):
    for width in (1, 2, 3):
        for lo in range(-3, 4):
            for hi in range(lo, lo + 3):
                nd = hi - lo + 1
                v = np.arange(2 * nd * width, dtype=np.float64).reshape(
                    (2, nd, width) if nd > 1 else (2, width)) + 1
                out = tf.linalg.diag(v, k=(lo, hi), padding_value=7.0, align=align)
                rows, cols = out.shape[-2:]
                want = ref_diag(v, lo, hi, rows, cols, align, 7.0)
                np.testing.assert_array_equal(out.numpy(), want)
                # TF's size: the smallest holding the band, square when not given
                min_rows, min_cols = width - min(hi, 0), width + max(lo, 0)
                assert rows == cols == max(min_rows, min_cols)
                wide = tf.linalg.diag(v, k=(lo, hi), num_rows=min_rows,
                                      num_cols=min_cols + 2, align=align)
                np.testing.assert_array_equal(
                    wide.numpy(), ref_diag(v, lo, hi, min_rows, min_cols + 2, align))


# -- gradients, function, dtypes -------------------------------------------------------
@pytest.mark.parametrize("k, align", [(1, "RIGHT_LEFT"), ((-1, 1), "LEFT_RIGHT"),
                                      ((0, 2), "RIGHT_RIGHT")])
def test_gradients(k, align):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4))
    lo, hi = (k, k) if isinstance(k, int) else k
    part = ref_diag_part(x, lo, hi, align)
    check_op(lambda a: tf.linalg.diag_part(a, k=k, align=align), [x],
             lambda a: ref_diag_part(a, lo, hi, align))
    check_op(lambda a, b: tf.linalg.set_diag(a, b, k=k, align=align), [x, part],
             lambda a, b: ref_set_diag(a, b, lo, hi, align))
    check_op(lambda b: tf.linalg.diag(b, k=k, num_rows=3, num_cols=4, align=align,
                                      padding_value=0.5),
             [part], lambda b: ref_diag(b, lo, hi, 3, 4, align, 0.5))


def test_second_order_flows():
    x = tf.constant(np.arange(9.0).reshape(3, 3))
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(tf.linalg.diag_part(x, k=(0, 1)) ** 2)
        g = inner.gradient(y, x)
        s = tf.reduce_sum(g * g)
    gg = outer.gradient(s, x).numpy()
    band = np.triu(np.tril(np.ones((3, 3)), 1))
    np.testing.assert_allclose(gg, 8 * np.arange(9.0).reshape(3, 3) * band)


def test_k_as_traced_tensor_in_function():
    @tf.function
    def f(v, k):
        return tf.linalg.diag(v, k=k)

    v = tf.constant([1.0, 2.0])
    for k in (-1, 0, 1):
        np.testing.assert_array_equal(f(v, tf.constant(k)).numpy(),
                                      ref_diag(v.numpy(), k, k, 2 + abs(k), 2 + abs(k)))


def test_int_complex_and_bool_dtypes():
    assert tf.linalg.diag([1, 2], k=1).dtype == tf.int32
    c = tf.linalg.diag(np.array([1 + 2j, 3j]), k=-1)
    assert c.dtype == tf.complex128 and c.numpy()[1, 0] == 1 + 2j
    assert tf.linalg.diag([True, True]).numpy().tolist() == [[True, False],
                                                              [False, True]]
    pad = tf.linalg.diag([1.0, 2.0], k=1, padding_value=tf.constant(3.0))
    assert pad.numpy()[0].tolist() == [3.0, 1.0, 3.0]


# -- tensor_diag and aliases -----------------------------------------------------------
def test_tensor_diag_and_part():
    d = np.arange(4).reshape(2, 2)
    full = tf.linalg.tensor_diag(d)
    assert full.shape == (2, 2, 2, 2)
    want = np.zeros((2, 2, 2, 2), np.int64)
    for i in range(2):
        for j in range(2):
            want[i, j, i, j] = d[i, j]
    np.testing.assert_array_equal(full.numpy(), want)
    np.testing.assert_array_equal(tf.linalg.tensor_diag_part(full).numpy(), d)
    x = np.arange(16).reshape(2, 2, 2, 2)
    assert tf.linalg.tensor_diag_part(x).numpy().tolist() == [[0, 5], [10, 15]]  # TF
    check_op(tf.linalg.tensor_diag, [np.array([1.0, 2.0, 3.0])], np.diag)
    with pytest.raises(tf.errors.InvalidArgumentError, match="at least rank 1"):
        tf.linalg.tensor_diag(tf.constant(3.0))   # as TF 2.21


def test_tf1_aliases():
    v1 = tf.compat.v1
    assert v1.matrix_diag is tf.linalg.diag
    assert v1.matrix_diag_part is tf.linalg.diag_part
    assert v1.matrix_set_diag is tf.linalg.set_diag
    assert v1.matrix_band_part is tf.linalg.band_part
    assert v1.diag is tf.linalg.tensor_diag
    assert v1.diag_part is tf.linalg.tensor_diag_part
    assert v1.linalg.diag is tf.linalg.diag
    assert v1.matrix_diag([1, 2], k=1).numpy().tolist() == [[0, 1, 0], [0, 0, 2],
                                                            [0, 0, 0]]


# -- errors (types from TF 2.21) --------------------------------------------------------
@pytest.mark.parametrize("call, match", [
    (lambda: tf.linalg.diag([1, 2, 3], k=1, num_cols=3), "columns is too small"),
    (lambda: tf.linalg.diag([1, 2, 3], k=1, num_rows=2), "rows is too small"),
    (lambda: tf.linalg.diag([1, 2, 3], num_rows=4, num_cols=5), "not consistent"),
    (lambda: tf.linalg.diag([[1, 2, 3]] * 2, k=(-1, 1)), "number of diagonals"),
    (lambda: tf.linalg.diag([1, 2], k=(0, 1)), "number of diagonals"),
    (lambda: tf.linalg.diag([1, 2], k=(1, -1)), "must not be larger"),
    (lambda: tf.linalg.diag([1, 2], k=[0, 1, 2]), "one or two elements"),
    (lambda: tf.linalg.diag(3.0), "at least 1-dim"),
    (lambda: tf.linalg.diag([1, 2], align="FOO"), "'FOO'"),
    (lambda: tf.linalg.diag_part(np.zeros((3, 4)), k=4), "out of bound: 4"),
    (lambda: tf.linalg.diag_part(np.zeros((3, 4)), k=(-3, 0)), "out of bound: -3"),
    (lambda: tf.linalg.diag_part(np.zeros(3)), "at least 2-dim"),
    (lambda: tf.linalg.set_diag(np.zeros((3, 4)), [7.0, 8.0], k=1),
     "Expected diagonal shape: \\[3\\]"),
    (lambda: tf.linalg.set_diag(np.zeros((2, 3, 4)), np.ones(3), k=0),
     "Expected diagonal shape: \\[2, 3\\]"),
])
def test_errors(call, match):
    with pytest.raises(tf.errors.InvalidArgumentError, match=match):
        call()


def test_bad_k_and_padding_types():
    with pytest.raises(TypeError, match="k=1.0"):
        tf.linalg.diag([1, 2], k=1.0)
    with pytest.raises(TypeError, match="padding_value=3.5"):
        tf.linalg.diag([1, 2], k=1, padding_value=3.5)
