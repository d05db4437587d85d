"""tf.experimental.numpy extras (expected values and dtypes from TF 2.21)."""

import numpy as np
import pytest

import dlframe as tf
import dlframe.experimental.numpy as tnp
from tests.helpers import check_grad


def _eq(t, values, dtype):
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), values)


def test_type_aliases():
    assert (tnp.inexact, tnp.object_, tnp.string_, tnp.unicode_) == \
        (np.inexact, np.object_, np.bytes_, np.str_)


def test_broadcast_arrays_compress_diag_indices():
    a, b = tnp.broadcast_arrays(tnp.asarray([[1, 2, 3]]), tnp.asarray([[1], [2]]))
    _eq(a, [[1, 2, 3], [1, 2, 3]], tf.int64)
    _eq(b, [[1, 1, 1], [2, 2, 2]], tf.int64)
    m = tnp.asarray([[1., 2, 3], [4, 5, 6]])
    _eq(tnp.compress([True, False, True], m, axis=1), [[1., 3.], [4., 6.]], tf.float64)
    _eq(tnp.compress([0, 1], m), [2.], tf.float64)
    _eq(tnp.compress([False, True], m, axis=0), [[4., 5., 6.]], tf.float64)
    with pytest.raises(ValueError, match="condition"):
        tnp.compress([1, 1, 1], m, axis=0)
    idx = tnp.diag_indices(3)
    assert len(idx) == 2
    _eq(idx[0], [0, 1, 2], tf.int32)
    assert len(tnp.diag_indices(2, 3)) == 3


def test_divmod_flatten_float_power():
    q, r = tnp.divmod(tnp.asarray([7, -7]), 3)
    _eq(q, [2, -3], tf.int64)
    _eq(r, [1, 2], tf.int64)
    q, r = tnp.divmod(tnp.asarray([7.5, -7.5]), 2.)
    _eq(q, [3., -4.], tf.float64)
    _eq(r, [1.5, 0.5], tf.float64)
    _eq(tnp.flatten(tnp.asarray([[1, 2], [3, 4]])), [1, 2, 3, 4], tf.int64)
    _eq(tnp.flatten(tnp.asarray([[1, 2], [3, 4]]), order="F"), [1, 3, 2, 4], tf.int64)
    _eq(tnp.float_power(tnp.asarray([2, 3]), 2), [4, 9], tf.int64)
    out = tnp.float_power(2., tnp.asarray([0.5], tnp.float32))
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), [1.4142135])


def test_integer_and_complex_predicates():
    _eq(tnp.gcd(tnp.asarray([12, 18]), 8), [4, 2], tf.int64)
    _eq(tnp.lcm(tnp.asarray([4, 6]), 10), [20, 30], tf.int64)
    z = tnp.asarray([1 + 1j, 2 + 0j])
    _eq(tnp.iscomplex(z), [True, False], tf.bool)
    _eq(tnp.isreal(z), [False, True], tf.bool)
    _eq(tnp.iscomplex(tnp.asarray([1., 2.])), [False, False], tf.bool)


def test_ix_nextafter_polyval_vander():
    rows, cols = tnp.ix_([0, 1], [2, 4])
    _eq(rows, [[0], [1]], tf.int64)
    _eq(cols, [[2, 4]], tf.int64)
    rows, = tnp.ix_(tnp.asarray([True, False, True]))
    _eq(rows, [0, 2], tf.int64)
    out = tnp.nextafter(tnp.asarray([1.], tnp.float32), 2.)
    assert out.dtype == tf.float32 and out.numpy()[0] == np.nextafter(np.float32(1), 2)
    _eq(tnp.polyval([1., 2, 3], tnp.asarray([0., 1, 2])), [3., 6., 11.], tf.float64)
    _eq(tnp.polyval([3, 0, 1], 2), 13, tf.int64)
    _eq(tnp.vander(tnp.asarray([1, 2, 3])), [[1, 1, 1], [4, 2, 1], [9, 3, 1]], tf.int64)
    _eq(tnp.vander(tnp.asarray([1., 2]), N=3, increasing=True),
        [[1., 1., 1.], [1., 2., 4.]], tf.float64)


def test_polyval_gradient():
    check_grad(lambda p, x: tnp.polyval(p, x),
               [np.array([1.5, -2., 0.5]), np.array([0.3, -1.2, 2.0])])
