"""Bad input gets TensorFlow's error type, early, with a message naming the problem.

Each case came from a probe program run under TF 2.21 (Keras 3) and dlframe; where
Keras 2 and Keras 3 raise different types, dlframe raises a class deriving from both.
"""

import os

import numpy as np
import pytest

import dlframe as tf
from dlframe import errors

keras = tf.keras
layers = keras.layers


# ------------------------------------------------------------------ tensors and ops
@pytest.mark.parametrize("convert", [int, float])
def test_python_scalar_of_vector_is_type_error(convert):
    with pytest.raises(TypeError, match="only 0-dimensional"):
        convert(tf.constant([1.0, 2.0]))
    assert convert(tf.constant([3.0])) == 3   # one element converts, as in TF


@pytest.mark.parametrize("make", [tf.constant, tf.convert_to_tensor])
def test_ragged_list_is_value_error_without_numpy_text(make):
    with pytest.raises(ValueError, match="non-rectangular") as info:
        make([[1, 2], [3]])
    assert "inhomogeneous" not in str(info.value)


@pytest.mark.parametrize("make", [tf.constant, tf.convert_to_tensor, tf.Variable])
@pytest.mark.parametrize("value", [object(), {"a": 1}, {1, 2}])
def test_unsupported_type_is_value_error_and_type_error(make, value):
    # TF 2.21 eager: ValueError "Attempt to convert a value ... unsupported type";
    # graph-mode TF and older dlframe code: TypeError
    with pytest.raises(ValueError, match="unsupported type") as info:
        make(value)
    assert isinstance(info.value, TypeError)


def test_variable_assign_add_shape_is_invalid_argument():
    v = tf.Variable([1.0, 2.0])
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"Cannot update variable with shape \[2\] using a Tensor "
                             r"with shape \[3\], shapes must be equal"):   # TF 2.21
        v.assign_add([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"variable shape \(2,\)"):
        v.assign([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])


def test_variable_slice_assign_value_larger_than_slice():
    v = tf.Variable([1.0, 2.0, 3.0])
    with pytest.raises(errors.InvalidArgumentError, match="does not fit the slice"):
        v[0].assign([1.0, 2.0])
    v[0:2].assign(5.0)   # a scalar still broadcasts into the slice
    np.testing.assert_array_equal(v.numpy(), [5.0, 5.0, 3.0])


def test_stack_axis_and_unstack_num():
    a = tf.ones([2, 2])
    with pytest.raises(ValueError, match=r"`axis` = 4 not in range \[-3, 3\)"):
        tf.stack([a, a], axis=4)
    with pytest.raises(errors.InvalidArgumentError, match="must equal 3"):
        tf.unstack(a, num=3)
    assert [t.shape.as_list() for t in tf.unstack(a, num=2)] == [[2], [2]]


@pytest.mark.parametrize("value, dtype", [(["a"], tf.float32), ([1.0], tf.string)])
def test_cast_between_string_and_number_is_unimplemented(value, dtype):
    with pytest.raises(errors.UnimplementedError, match="is not supported"):
        tf.cast(tf.constant(value), dtype)


def test_string_plus_number_is_type_error_too():
    # TF: InvalidArgumentError eagerly, TypeError while tracing a Dataset.map
    with pytest.raises(errors.InvalidArgumentError):
        tf.constant(["a"]) + tf.constant([1.0])
    with pytest.raises(TypeError):   # raised by `map`, which traces the function
        list(tf.data.Dataset.range(3).map(lambda x: x + "a"))


def test_conv_output_size_negative():
    x, k = tf.ones([1, 5, 5, 1]), tf.ones([7, 7, 1, 2])
    with pytest.raises(errors.InvalidArgumentError, match="would be negative"):
        tf.nn.conv2d(x, k, 1, "VALID")
    with pytest.raises(ValueError, match="would be negative"):
        layers.Conv2D(2, 7)(x)


# ------------------------------------------------------------------ keras layers
@pytest.mark.parametrize("cls", [layers.GRU, layers.LSTM, layers.SimpleRNN])
def test_builtin_rnn_refuses_rank_4(cls):
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=4"):
        cls(3)(tf.ones([2, 5, 1, 1]))
    assert cls(3)(tf.ones([2, 5, 1])).shape.as_list() == [2, 3]


def test_functional_model_duplicate_layer_names():
    inp = keras.Input((3,))
    hidden = layers.Dense(2, name="same")(inp)
    with pytest.raises(ValueError, match='"same" is used 2 times'):
        keras.Model(inp, layers.Dense(2, name="same")(hidden))
    shared = layers.Dense(3, name="shared")   # one layer used twice is fine
    keras.Model(inp, shared(shared(inp)))


@pytest.mark.parametrize("bad", ["foo", 3])
def test_sequential_add_non_layer(bad):
    with pytest.raises(ValueError, match="Only instances of `keras.Layer`"):
        keras.Sequential().add(bad)
    with pytest.raises(TypeError):   # Keras 2's type
        keras.Sequential([layers.Dense(2), bad])


def test_model_outputs_must_be_keras_tensors():
    with pytest.raises(ValueError, match="must be KerasTensors"):
        keras.Model(keras.Input((3,)), "foo")


def test_lambda_needs_a_callable():
    with pytest.raises(TypeError, match="`function`.*callable"):
        layers.Lambda(3)


def test_to_categorical_label_out_of_range():
    with pytest.raises(IndexError, match="num_classes=3"):
        keras.utils.to_categorical([0, 5], num_classes=3)
    np.testing.assert_array_equal(keras.utils.to_categorical([0, 2], num_classes=3),
                                  [[1, 0, 0], [0, 0, 1]])


# ------------------------------------------------------------------ keras training
def _model():
    return keras.Sequential([keras.Input((4,)), layers.Dense(3)])


def test_compile_metrics_must_be_a_list():
    model = _model()
    with pytest.raises(ValueError, match="`metrics` argument to be a list"):
        model.compile("adam", "mse", metrics="accuracy")
    model.compile("adam", "mse", metrics=("mae",))


@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch"])
def test_training_before_compile(method):
    x, y = np.ones((4, 4), "float32"), np.ones((4, 3), "float32")
    kwargs = {} if method == "train_on_batch" else {"verbose": 0}
    with pytest.raises(ValueError, match=r"compile\(\)"):   # Keras 3
        getattr(_model(), method)(x, y, **kwargs)
    with pytest.raises(RuntimeError):   # Keras 2
        getattr(_model(), method)(x, y, **kwargs)


def test_multi_input_dict_with_missing_key():
    a, b = keras.Input((2,), name="a"), keras.Input((3,), name="b")
    model = keras.Model([a, b], layers.Dense(1)(layers.Concatenate()([a, b])))
    with pytest.raises(ValueError, match='Missing data for input "b"'):
        model.predict({"a": np.ones((2, 2)), "c": np.ones((2, 3))}, verbose=0)
    out = model.predict({"a": np.ones((2, 2)), "b": np.ones((2, 3))}, verbose=0)
    assert out.shape == (2, 1)


def test_load_model_missing_file(tmp_path):
    path = os.path.join(tmp_path, "nope.keras")
    with pytest.raises(ValueError, match="File not found"):
        keras.models.load_model(path)
    with pytest.raises(OSError):
        keras.models.load_model(path)


# ------------------------------------------------------------------ tf.data
def test_padded_batch_smaller_than_known_dim_fails_at_construction():
    ds = tf.data.Dataset.from_tensor_slices(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"padded shape \(2,\) is not compatible"):
        ds.padded_batch(2, padded_shapes=[2])
    assert next(iter(ds.padded_batch(2, padded_shapes=[5]))).shape.as_list() == [2, 5]


def test_unbatch_of_scalars():
    with pytest.raises(ValueError, match="Cannot unbatch an input with scalar"):
        tf.data.Dataset.range(5).unbatch()
    rows = tf.data.Dataset.from_tensor_slices(np.ones((2, 3))).unbatch()
    assert len(list(rows)) == 6
