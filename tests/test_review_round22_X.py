"""Review of session 22's core/ops changes: traced reduction axes and one_hot depth."""

import numpy as np
import pytest

import dlframe as tf

S = tf.TensorSpec
X = np.array([[1., 2., 3.], [4., 5., 6.]], np.float32)


def _dims(t):
    return None if t.shape.rank is None else t.shape.as_list()


@pytest.mark.parametrize("name, ref", [
    ("reduce_sum", np.sum), ("reduce_mean", np.mean), ("reduce_max", np.max),
    ("reduce_min", np.min), ("reduce_prod", np.prod),
    ("reduce_euclidean_norm", lambda x, axis: np.sqrt(np.sum(x * x, axis=axis))),
    ("reduce_variance", np.var), ("reduce_std", np.std),
])
def test_reduction_axis_vector_spec_traces(name, ref):
    # TF: an axis TensorSpec([None]) traces (placeholder axes like [0, 0] are not
    # refused), the output's rank unknown; each call reduces over the real axes
    fn = getattr(tf.math, name)
    c = tf.function(lambda x, a: fn(x, a)).get_concrete_function(
        S([2, 3], tf.float32), S([None], tf.int32))
    assert _dims(c.structured_outputs) is None
    assert c.structured_outputs.dtype == tf.float32
    np.testing.assert_allclose(c(tf.constant(X), tf.constant([0, 1])).numpy(),
                               ref(X, axis=(0, 1)), rtol=1e-6)
    np.testing.assert_allclose(c(tf.constant(X), tf.constant([1])).numpy(),
                               ref(X, axis=1), rtol=1e-6)


def test_reduction_axis_vector_spec_keepdims_and_bool():
    c = tf.function(lambda x, a: tf.reduce_sum(x, a, keepdims=True)).get_concrete_function(
        S([2, 3], tf.float32), S([None], tf.int32))
    assert _dims(c.structured_outputs) == [None, None]
    np.testing.assert_allclose(c(tf.constant(X), tf.constant([1])).numpy(), [[6.], [15.]])
    c = tf.function(lambda x, a: tf.reduce_any(x, a)).get_concrete_function(
        S([2, 3], tf.bool), S([None], tf.int32))
    assert c.structured_outputs.dtype == tf.bool
    out = c(tf.constant([[True, False, False], [False, False, False]]), tf.constant([1]))
    assert out.numpy().tolist() == [True, False]


def test_reduction_real_duplicate_axes_still_refused_eagerly():
    with pytest.raises(tf.errors.InvalidArgumentError, match="duplicate"):
        tf.reduce_sum(tf.constant(X), [0, 0])


@pytest.mark.parametrize("spec, axis, dims", [
    ([3], None, [3, None]), ([3], 0, [None, 3]), ([None, 2], 1, [None, None, 2]),
    ([4, 2], -1, [4, 2, None]),
])
def test_one_hot_traced_depth_keeps_index_dims(spec, axis, dims):
    # TF: a traced depth leaves only the new dimension unknown
    c = tf.function(lambda i, d: tf.one_hot(i, d, axis=axis)).get_concrete_function(
        S(spec, tf.int32), S([], tf.int32))
    assert _dims(c.structured_outputs) == dims


def test_one_hot_traced_depth_values():
    c = tf.function(lambda i, d: tf.one_hot(i, d, axis=0)).get_concrete_function(
        S([3], tf.int32), S([], tf.int32))
    out = c(tf.constant([0, 2, 1]), tf.constant(4)).numpy()
    np.testing.assert_array_equal(out, np.eye(4, dtype=np.float32)[[0, 2, 1]].T)
    c = tf.function(lambda i, d: tf.one_hot(i, d)).get_concrete_function(
        S(None, tf.int32), S([], tf.int32))
    assert _dims(c.structured_outputs) is None
