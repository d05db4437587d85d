"""Tensor, dtype inference and conversion rules against TF's behaviour."""

import numpy as np
import pytest

import dlframe as tf


def test_readme_snippet(device):
    assert repr(tf.add(2, 3)) == "<tf.Tensor: shape=(), dtype=int32, numpy=5>"
    x = tf.Variable([[1., 2.], [3., 4.]])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.maximum(x @ x, 0.) ** 2)
    g = tape.gradient(y, x).numpy()
    xn = np.array([[1., 2.], [3., 4.]])
    gm = 2 * (xn @ xn)
    np.testing.assert_allclose(g, gm @ xn.T + xn.T @ gm)
    assert x.device.endswith(device.upper())


@pytest.mark.parametrize("value,dtype", [
    (1, tf.int32), (2**40, tf.int64), (1.5, tf.float32), (True, tf.bool),
    ([1, 2], tf.int32), ([1., 2], tf.float32), (np.float64(1.0), tf.float64),
    ([np.float64(1.0), 2.0], tf.float64), (np.ones(2, "int16"), tf.int16),
    ("abc", tf.string),
])
def test_dtype_inference(value, dtype):
    assert tf.constant(value).dtype == dtype


def test_python_scalars_follow_tensor_dtype():
    x = tf.constant([1., 2.])
    assert (x + 1).dtype == tf.float32
    assert (2.5 * x).dtype == tf.float32
    assert (x + np.ones(2)).dtype == tf.float32  # NumPy arrays take the tensor's width


def test_mixed_dtypes_raise_type_and_invalid_argument():
    with pytest.raises(TypeError):
        tf.constant(1) + tf.constant(1.)
    with pytest.raises(tf.errors.InvalidArgumentError, match="int32"):
        tf.constant(1) + 2.5


def test_int_division_is_float64():
    out = tf.constant(3) / tf.constant(2)
    assert out.dtype == tf.float64 and out.numpy() == 1.5
    assert (tf.constant(-3) // 2).numpy() == -2
    assert (tf.constant(-3) % 2).numpy() == 1


def test_indexing_like_numpy():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    t = tf.constant(a)
    for key in [1, -1, (slice(None), 1), (Ellipsis, 2), (None, 1), (slice(None, None, -1),),
                (slice(0, 3, 2), Ellipsis, None), (1, slice(None), slice(1, None, 2))]:
        np.testing.assert_array_equal(t[key].numpy(), a[key])
    mask = a > 10
    np.testing.assert_array_equal(t[tf.constant(mask)].numpy(), a[mask])
    np.testing.assert_array_equal(t[:, [0, 2]].numpy(), a[:, [0, 2]])


def test_index_errors():
    t = tf.constant([1, 2, 3])
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of bounds"):
        t[5]
    with pytest.raises(tf.errors.InvalidArgumentError):
        t[1, 2]


def test_getitem_gradient():
    x = tf.constant(np.arange(6.).reshape(2, 3))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(x[:, [0, 0, 2]] * 2.0) + tf.reduce_sum(x[1])
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [[4, 0, 2], [5, 1, 3]])


def test_python_protocols():
    t = tf.constant([[1, 2], [3, 4]])
    assert len(t) == 2
    assert [r.numpy().tolist() for r in t] == [[1, 2], [3, 4]]
    assert float(tf.constant(2.5)) == 2.5 and int(tf.constant(3)) == 3
    assert bool(tf.constant(True))
    with pytest.raises(ValueError):
        bool(t)
    with pytest.raises(TypeError):
        len(tf.constant(1))
    with pytest.raises(TypeError, match="unhashable"):
        hash(t)
    assert {t.ref(): 1}[t.ref()] == 1
    assert np.asarray(t).tolist() == [[1, 2], [3, 4]]
    assert (tf.constant(1) == None) is False  # noqa: E711


def test_repr_and_str():
    t = tf.constant([[1., 2.], [3., 4.]])
    assert str(t) == "tf.Tensor(\n[[1. 2.]\n [3. 4.]], shape=(2, 2), dtype=float32)"
    assert repr(tf.constant(2.5)) == "<tf.Tensor: shape=(), dtype=float32, numpy=2.5>"


def test_format_uses_the_value_like_tf():
    assert f"{tf.constant(0.5)}" == "0.5"
    assert f"{tf.constant(2.0) / 3.0:.3f}" == "0.667"
    assert f"{tf.constant([1, 2])}" == "[1 2]"


def test_shapes():
    s = tf.TensorShape([None, 3])
    assert s.rank == 2 and s[1] == 3 and s[0] is None and s.as_list() == [None, 3]
    assert tf.ones((2, 3)).shape == (2, 3)
    assert not s.is_fully_defined()
    with pytest.raises(ValueError):
        tf.TensorShape(None).as_list()


def test_dtype_objects():
    assert tf.float32 == np.float32 and tf.float32 == "float32"
    assert tf.float32.as_numpy_dtype is np.float32
    assert tf.float32.is_floating and not tf.int32.is_floating
    assert tf.as_dtype(float) == tf.float32   # TF 2.21 (tnp keeps float64)
    assert tf.int8.max == 127


def test_variable_basics():
    v = tf.Variable([1., 2.], name="w")
    assert v.name == "w:0" and v.trainable
    snapshot = v + 0.0
    view = v[0:1]
    v.assign([3., 4.])
    v.assign_add([1., 1.])
    v.assign_sub([0.5, 0.5])
    np.testing.assert_array_equal(v.numpy(), [3.5, 4.5])
    np.testing.assert_array_equal(snapshot.numpy(), [1., 2.])  # no aliasing
    np.testing.assert_array_equal(view.numpy(), [1.])
    with pytest.raises(ValueError, match="Shape mismatch"):
        v.assign([1., 2., 3.])
    with pytest.raises(ValueError, match="requested dtype float32"):
        v.assign(tf.constant([1, 2]))
    with tf.name_scope("outer"):
        assert tf.Variable(1., name="k").name == "outer/k:0"
    assert tf.is_tensor(v)
    with pytest.raises(TypeError):
        hash(v)


def test_variable_buffer_is_c_contiguous():
    """Slots are made like the variable; a Fortran-ordered buffer would make every
    optimizer update mix layouts (8x slower for an LSTM's recurrent kernel)."""
    base = np.arange(12, dtype=np.float32).reshape(4, 3)
    v = tf.Variable(tf.transpose(tf.constant(base)))     # transposed view as the value
    assert v._value.flags.c_contiguous
    np.testing.assert_array_equal(v.numpy(), base.T)
    v.assign(tf.transpose(tf.constant(base * 2)))
    assert v._value.flags.c_contiguous
    np.testing.assert_array_equal(v.numpy(), base.T * 2)
    layer = tf.keras.layers.LSTM(8)   # orthogonal init builds the recurrent kernel as Q^T
    layer.build((None, 3, 4))
    assert all(w._value.flags.c_contiguous for w in layer.weights)


def test_reprs_name_tf_like_tensorflow():
    v = tf.Variable([1.0, 2.0], name="v")
    assert repr(v) == "<tf.Variable 'v:0' shape=(2,) dtype=float32, numpy=array([1., 2.], dtype=float32)>"
    assert repr(tf.constant([1, 2])) == (
        "<tf.Tensor: shape=(2,), dtype=int32, numpy=array([1, 2], dtype=int32)>")


def test_as_string_is_top_level():
    assert tf.as_string(3.5, precision=2).numpy() == b"3.50"


def test_fstring_of_traced_tensor_gives_its_str_like_tf():
    seen = []

    @tf.function
    def f(x):
        seen.append(f"{x}")
        return x + 1

    f(tf.constant([1.0, 2.0]))
    assert seen == ['Tensor("x:0", shape=(2,), dtype=float32)']   # as TF 2.21
    assert f"{tf.constant(1.5):.2f}" == "1.50"


def test_empty_string_constants():
    assert tf.constant([], tf.string).shape == (0,)
    t = tf.constant([[]], tf.string)
    assert t.shape == (1, 0) and t.dtype == tf.string
    with pytest.raises(TypeError, match="dtype string"):
        tf.constant([1.0], tf.string)
