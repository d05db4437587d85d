"""Review round 15 (3): scalar tensor indices keep static shapes, Variable
formatting as TF, int32 NumPy sparse indices become int64."""

import numpy as np
import pytest

import dlframe as tf


def test_scalar_tensor_index_keeps_dataset_map_spec():
    # TF 2.21: TensorSpec(shape=(4,)) - x[i] drops a dimension whatever i is
    ds = tf.data.Dataset.from_tensor_slices(np.zeros((5, 3, 4), "float32"))
    mapped = ds.map(lambda x: x[tf.random.uniform([], 0, 3, tf.int32)] * 2.0)
    assert mapped.element_spec.shape.as_list() == [4]
    assert [e.shape for e in mapped] == [(4,)] * 5


def test_tensor_slice_bound_shape_follows_each_call():
    @tf.function
    def f(x, i):
        y = x[i]
        assert y.shape.as_list() == [4]   # static shape known at trace time
        return tf.shape(y), tf.shape(x[i:i + 2])

    x = tf.reshape(tf.range(20.0), [5, 4])
    for i, rows in [(1, 2), (4, 1), (3, 2)]:
        shape_y, shape_s = f(x, tf.constant(i))
        np.testing.assert_array_equal(shape_y.numpy(), [4])
        np.testing.assert_array_equal(shape_s.numpy(), [rows, 4])
    np.testing.assert_array_equal(f(x, tf.constant(3))[1].numpy(),
                                  np.array(x.numpy()[3:5].shape))


def test_scalar_index_in_compiled_loop_matches_eager():
    def body(x):
        out = tf.TensorArray(tf.float32, size=3)
        for t in tf.range(3):
            out = out.write(t, x[:, t] * 2.0)
        return out.stack()

    x = tf.reshape(tf.range(24.0), [2, 3, 4])
    compiled = tf.function(body)(x)
    assert compiled.shape == (3, 2, 4)
    np.testing.assert_allclose(compiled.numpy(),
                               np.transpose(x.numpy(), (1, 0, 2)) * 2.0)


def test_variable_format_as_tf():
    v = tf.Variable(1.5)
    assert format(v, "") == str(v)   # what "{}".format(v) calls
    assert f"{v}".startswith("<tf.Variable")
    with pytest.raises(TypeError, match="format"):
        format(v, ".2f")   # TF refuses a format spec for a Variable
    assert f"{v.numpy():.2f}" == "1.50"
    assert f"{tf.constant(1.5):.2f}" == "1.50"   # a Tensor still formats its value


def test_sparse_int32_numpy_indices_become_int64():
    st = tf.SparseTensor(np.array([[0, 1]], "int32"), [1.0], np.array([2, 3], "int32"))
    assert st.indices.dtype == np.int64 and st.dense_shape.dtype == np.int64
    np.testing.assert_array_equal(tf.sparse.to_dense(st).numpy(),
                                  [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
