"""Round 22 (B4): op results as TF's namedtuples, ragged unsorted segment ops,
jacobians without pfor, and ops traced from TensorSpecs (placeholder values must
not raise or become static shapes; the run checks the real values).

Expected values and error classes were observed with TensorFlow 2.21.
"""

import numpy as np
import pytest

import dlframe as tf


# ---------------------------------------------------------- jacobian without pfor
def test_jacobian_without_pfor_needs_persistent_tape():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as g:
        g.watch(x)
        y = x * x
    with pytest.raises(RuntimeError, match="persistent=True"):
        g.jacobian(y, x, experimental_use_pfor=False)
    xb = tf.constant([[1.0, 2.0]])
    with tf.GradientTape() as g:
        g.watch(xb)
        yb = xb * xb
    with pytest.raises(RuntimeError, match="batch_jacobian"):
        g.batch_jacobian(yb, xb, experimental_use_pfor=False)
    with tf.GradientTape(persistent=True) as g:
        g.watch(x)
        y = tf.reduce_sum(x) * x
    np.testing.assert_allclose(g.jacobian(y, x, experimental_use_pfor=False).numpy(),
                               [[4.0, 1.0], [2.0, 5.0]])


# ------------------------------------------------------------ result namedtuples
def test_max_pool_with_argmax_and_approx_top_k_namedtuples():
    x = tf.reshape(tf.range(16.0), [1, 4, 4, 1])
    res = tf.nn.max_pool_with_argmax(x, 2, 2, "VALID")
    assert type(res).__name__ == "MaxPoolWithArgmax"
    assert res._fields == ("output", "argmax")
    np.testing.assert_array_equal(res.output.numpy().ravel(), [5, 7, 13, 15])
    np.testing.assert_array_equal(res.argmax.numpy().ravel(), [5, 7, 13, 15])
    top = tf.math.approx_max_k([[1.0, 5, 3], [2, 0, 7]], 1)
    assert type(top).__name__ == "ApproxTopK" and top._fields == ("values", "indices")
    np.testing.assert_array_equal(top.values.numpy(), [[5.0], [7.0]])
    np.testing.assert_array_equal(top.indices.numpy(), [[1], [2]])
    low = tf.math.approx_min_k([[1.0, 5, 3]], 2)
    np.testing.assert_array_equal(low.values.numpy(), [[1.0, 3.0]])


# ------------------------------------------------- ragged unsorted segment ops
RAGGED = [[1.0, 2.0], [3.0], [4.0, 5.0, 6.0]]


@pytest.mark.parametrize("op, ids, num, expected", [
    ("unsorted_segment_sum", [0, 0, 1], 2, [[4.0, 2.0], [4.0, 5.0, 6.0]]),
    ("unsorted_segment_max", [1, 0, 1], 3, [[3.0], [4.0, 5.0, 6.0], []]),
    ("unsorted_segment_mean", [0, 0, 0], 1, [[8 / 3, 3.5, 6.0]]),
    ("unsorted_segment_prod", [0, 0, 2], 3, [[3.0, 2.0], [], [4.0, 5.0, 6.0]]),
    ("unsorted_segment_sqrt_n", [0, 0, 1], 2,
     [[4 / np.sqrt(2), 2.0], [4.0, 5.0, 6.0]]),
])
def test_ragged_unsorted_segment_ops(op, ids, num, expected):
    out = getattr(tf.math, op)(tf.ragged.constant(RAGGED), ids, num)
    assert isinstance(out, tf.RaggedTensor)
    got = out.to_list()
    assert len(got) == len(expected)
    for row, want in zip(got, expected):
        np.testing.assert_allclose(row, want, rtol=1e-6)


def test_ragged_segment_min_int_and_nested_rows():
    out = tf.math.unsorted_segment_min(tf.ragged.constant([[1, 2], [3]]), [0, 0], 2)
    assert out.dtype == tf.int32 and out.to_list() == [[1, 2], []]
    nested = tf.ragged.constant([[[1.0, 2.0], [3.0]], [[4.0]],
                                 [[5.0, 6.0, 7.0], [], [8.0]]])
    assert tf.math.unsorted_segment_sum(nested, [0, 0, 0], 1).to_list() == \
        [[[10.0, 8.0, 7.0], [3.0], [8.0]]]
    uniform = tf.ragged.constant([[[1, 2]], [[3, 4], [5, 6]]], ragged_rank=1)
    assert tf.math.unsorted_segment_sum(uniform, [0, 0], 1).to_list() == \
        [[[4, 6], [5, 6]]]


def test_ragged_segment_gradient_and_function():
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        rt = tf.RaggedTensor.from_row_splits(x, [0, 2, 3])
        y = tf.math.unsorted_segment_prod(rt, [0, 0], 1)
        s = tf.reduce_sum(y.flat_values * tf.constant([1.0, 10.0]))
    np.testing.assert_allclose(tape.gradient(s, x).numpy(), [3.0, 10.0, 1.0])

    @tf.function
    def f(v):
        r = tf.RaggedTensor.from_row_splits(v, [0, 2, 3])
        return tf.math.unsorted_segment_sum(r, [0, 0], 1).flat_values
    np.testing.assert_allclose(f(tf.constant([1.0, 2.0, 3.0])).numpy(), [4.0, 2.0])


# ------------------------------------------- singular placeholders while tracing
def test_inverse_and_solve_trace_from_specs():
    inv = tf.function(lambda x: tf.linalg.inv(x))
    out = inv.get_concrete_function(tf.TensorSpec([None, 2, 2])).structured_outputs
    assert out.shape.as_list() == [None, 2, 2]
    np.testing.assert_allclose(inv(tf.constant([[[2.0, 0], [0, 4]]])).numpy(),
                               [[[0.5, 0], [0, 0.25]]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="not invertible"):
        inv(tf.constant([[[1.0, 1], [1, 1]]]))
    solve = tf.function(lambda a, b: tf.linalg.solve(a, b))
    cf = solve.get_concrete_function(tf.TensorSpec([2, 2]), tf.TensorSpec([2, 3]))
    assert cf.structured_outputs.shape.as_list() == [2, 3]
    np.testing.assert_allclose(cf(tf.constant([[2.0, 0], [0, 4]]), tf.ones([2, 3])),
                               [[0.5] * 3, [0.25] * 3])
    with pytest.raises(tf.errors.InvalidArgumentError, match="not invertible"):
        cf(tf.zeros([2, 2]), tf.ones([2, 3]))


def test_integer_division_and_power_trace_from_specs():
    f = tf.function(lambda x, y: (x // y, x % y, x ** y))
    spec = tf.TensorSpec([None], tf.int32)
    cf = f.get_concrete_function(spec, spec)
    assert [o.shape.as_list() for o in cf.structured_outputs] == [[None]] * 3
    got = [o.numpy().tolist() for o in cf(tf.constant([7, -7]), tf.constant([2, 3]))]
    assert got == [[3, -3], [1, 2], [49, -343]]
    with pytest.raises(tf.errors.InvalidArgumentError, match="division by zero"):
        cf(tf.constant([7]), tf.constant([0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="negative integer"):
        cf(tf.constant([2]), tf.constant([-1]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="division by zero"):
        tf.constant([7]) // tf.constant([0])


def test_max_pool_with_argmax_in_function():
    f = tf.function(lambda x: tf.nn.max_pool_with_argmax(x, 2, 2, "VALID"))
    x = tf.reshape(tf.range(70.0), [1, 5, 7, 2])
    np.testing.assert_array_equal(f(x).argmax.numpy()[0, :, :, 0],
                                  [[16, 20, 24], [44, 48, 52]])
    cf = f.get_concrete_function(tf.TensorSpec([None, 4, None, 1]))
    assert cf.structured_outputs.argmax.shape.as_list() == [None, 2, None, 1]
    out = cf(tf.reshape(tf.range(32.0), [2, 4, 4, 1]))
    np.testing.assert_array_equal(out.argmax.numpy().ravel(), [5, 7, 13, 15] * 2)
    eager = tf.nn.max_pool_with_argmax(tf.reshape(tf.range(32.0), [2, 4, 4, 1]), 2, 2,
                                       "VALID", include_batch_in_index=True,
                                       output_dtype=tf.int32)
    assert eager.argmax.dtype == tf.int32
    np.testing.assert_array_equal(eager.argmax.numpy().ravel(),
                                  [5, 7, 13, 15, 21, 23, 29, 31])


# ------------------------------------- composite ops traced from TensorSpecs
def test_ragged_to_tensor_traced_from_specs():
    spec_v, spec_s = tf.TensorSpec([None]), tf.TensorSpec([None], tf.int64)
    f = tf.function(lambda v, s: tf.RaggedTensor.from_row_splits(v, s).to_tensor())
    cf = f.get_concrete_function(spec_v, spec_s)
    assert cf.structured_outputs.shape.as_list() == [None, None]
    np.testing.assert_array_equal(
        cf(tf.constant([1.0, 2, 3]), tf.constant([0, 2, 3], tf.int64)).numpy(),
        [[1.0, 2.0], [3.0, 0.0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="number of values"):
        cf(tf.constant([1.0, 2, 3]), tf.constant([0, 2, 5], tf.int64))
    g = tf.function(lambda v, n: tf.RaggedTensor.from_row_lengths(v, n).to_tensor(-1.0))
    cg = g.get_concrete_function(spec_v, spec_s)
    np.testing.assert_array_equal(
        cg(tf.constant([1.0, 2, 3]), tf.constant([1, 0, 2], tf.int64)).numpy(),
        [[1.0, -1.0], [-1.0, -1.0], [2.0, 3.0]])


def test_sparse_to_dense_traced_from_specs():
    f = tf.function(
        lambda i, v: tf.sparse.to_dense(tf.sparse.SparseTensor(i, v, [3, 3])))
    cf = f.get_concrete_function(tf.TensorSpec([None, 2], tf.int64),
                                 tf.TensorSpec([None]))
    np.testing.assert_array_equal(
        cf(tf.constant([[0, 1], [2, 2]], tf.int64), tf.constant([1.0, 2.0])).numpy(),
        [[0, 1, 0], [0, 0, 0], [0, 0, 2]])
    for bad, why in [([[0, 1], [0, 1]], "repeated"), ([[2, 2], [0, 1]], "out of order"),
                     ([[5, 0], [0, 1]], "out of bounds")]:
        with pytest.raises(tf.errors.InvalidArgumentError, match=why):
            cf(tf.constant(bad, tf.int64), tf.constant([1.0, 2.0]))


def test_sparse_segment_static_shape_not_baked_from_placeholders():
    spec = tf.TensorSpec([None], tf.int32)
    f = tf.function(lambda x, i, s: tf.sparse.segment_sum(x, i, s))
    cf = f.get_concrete_function(tf.TensorSpec([None, 2]), spec, spec)
    assert cf.structured_outputs.shape.as_list() == [None, 2]
    np.testing.assert_array_equal(
        cf(tf.ones([3, 2]), tf.constant([0, 1, 2]), tf.constant([0, 1, 2])).numpy(),
        np.ones([3, 2]))
    x = tf.Variable([3.0, 1.0, 2.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.sort(x) * [1.0, 2.0, 3.0])
    grad = tape.gradient(y, x)
    assert isinstance(grad, tf.Tensor)
    np.testing.assert_array_equal(grad.numpy(), [3.0, 1.0, 2.0])


def test_histogram_traced_from_specs_and_range_checks():
    f = tf.function(lambda x, r: tf.histogram_fixed_width(x, r, 3))
    for spec in (tf.TensorSpec([None]), tf.TensorSpec([2])):
        cf = f.get_concrete_function(tf.TensorSpec([None]), spec)
        assert cf.structured_outputs.shape.as_list() == [3]
        np.testing.assert_array_equal(
            cf(tf.constant([1.0, 2.0]), tf.constant([0.0, 3.0])).numpy(), [0, 1, 1])
    with pytest.raises(tf.errors.InvalidArgumentError, match="value_range"):
        cf(tf.constant([1.0, 2.0]), tf.constant([3.0, 0.0]))
    for bad in ([1.0], [[0.0, 1.0]]):
        with pytest.raises(tf.errors.InvalidArgumentError, match="vector of 2"):
            tf.histogram_fixed_width([1.0, 2.0], bad, 3)


@pytest.mark.parametrize("op", [tf.math.cumsum, tf.math.cumprod])
def test_scan_axis_must_be_scalar(op):
    with pytest.raises(tf.errors.InvalidArgumentError, match="axis must be a scalar"):
        op([1, 2], axis=[0])
    np.testing.assert_array_equal(op([1, 2], axis=tf.constant(0)).numpy(),
                                  [1, 3] if op is tf.math.cumsum else [1, 2])
