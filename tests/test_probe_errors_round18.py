"""Round-18 probe of the mistakes TF2 users make most, against TF 2.21: each raises
early, with TF's error type, and a message that names what was wrong."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras

ERRORS = tf.errors


def _mlp(n_in=4, units=1, activation=None):
    return keras.Sequential([keras.Input(shape=(n_in,)),
                             keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(units, activation=activation)])


# ---------------------------------------------------------------- keras
def test_fit_with_x_and_y_of_different_lengths():
    model = _mlp()
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match=r"(?s)cardinality.*10.*9"):
        model.fit(np.zeros((10, 4)), np.zeros((9, 1)), verbose=0)
    with pytest.raises(ValueError, match=r"(?s)cardinality.*4.*3"):
        model.evaluate(np.zeros((4, 4)), np.zeros((3, 1)), verbose=0)


def test_fit_with_targets_of_the_wrong_rank_for_the_loss():
    model = _mlp(units=3, activation="softmax")
    model.compile("adam", "categorical_crossentropy")
    with pytest.raises(ValueError, match=r"target.*output.*\(10, 3\)"):
        model.fit(np.zeros((10, 4)), np.zeros((10,)), verbose=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="target"):
        model.fit(np.zeros((10, 4)), np.zeros((10, 3)), verbose=0)


def test_fit_with_dict_keys_that_do_not_match_the_inputs():
    a, b = keras.Input(shape=(2,), name="a"), keras.Input(shape=(2,), name="b")
    out = keras.layers.Dense(1)(keras.layers.Concatenate()([a, b]))
    model = keras.Model([a, b], out)
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match=r"(?s)Missing data for input \"b\".*'c'"):
        model.fit({"a": np.zeros((4, 2)), "c": np.zeros((4, 2))}, np.zeros((4, 1)),
                  verbose=0)


def test_predict_and_call_on_the_wrong_feature_count():
    model = _mlp()
    with pytest.raises(ValueError, match=r"(?s)incompatible.*4.*\(3, 5\)"):
        model.predict(np.zeros((3, 5)), verbose=0)
    with pytest.raises(ValueError, match=r"(?s)incompatible.*\(3, 5\)"):
        model(np.zeros((3, 5)))


@pytest.mark.parametrize("layer, shape, expect", [
    (lambda: keras.layers.Dense(3), [4], "min_ndim=2, found ndim=1"),
    (lambda: keras.layers.Conv2D(2, 3), [4, 8, 8], "min_ndim=4, found ndim=3"),
    (lambda: keras.layers.LSTM(3), [2, 4], "ndim=3, found ndim=2"),
    (lambda: keras.layers.MaxPooling2D(), [2, 4, 4], "ndim=4, found ndim=3"),
])
def test_layers_called_on_the_wrong_rank(layer, shape, expect):
    with pytest.raises(ValueError, match=expect):
        layer()(tf.ones(shape))


def test_compile_with_unknown_identifiers():
    model = _mlp()
    with pytest.raises(ValueError, match="nonexistent"):
        model.compile("adam", loss="nonexistent")
        model.fit(np.zeros((4, 4)), np.zeros((4, 1)), verbose=0)
    with pytest.raises(ValueError, match="adamx"):
        model.compile("adamx", loss="mse")


def test_reshape_layer_to_an_incompatible_size():
    for x in (tf.ones([2, 6]), keras.Input(shape=(6,))):
        with pytest.raises(ValueError, match=r"input_shape=\(6,\), target_shape=\(5,\)"):
            keras.layers.Reshape((5,))(x)


def test_load_weights_of_a_different_architecture(tmp_path):
    path = str(tmp_path / "w.weights.h5")
    _mlp().save_weights(path)
    with pytest.raises(ValueError, match=r"\(5, 8\).*\(4, 8\)"):
        _mlp(n_in=5).load_weights(path)


# ---------------------------------------------------------------- ops
@pytest.mark.parametrize("fn, error, expect", [
    (lambda: tf.reshape(tf.ones([2, 3]), [4, 2]), ERRORS.InvalidArgumentError,
     "6 values, but the requested shape has 8"),
    (lambda: tf.matmul(tf.ones([2, 3]), tf.ones([2, 3])), ERRORS.InvalidArgumentError,
     r"size-incompatible: In\[0\]: \[2, 3\], In\[1\]: \[2, 3\]"),
    (lambda: tf.matmul(tf.ones([2, 3]), tf.ones([3, 2], tf.int32)),
     ERRORS.InvalidArgumentError, "int32"),
    (lambda: tf.concat([tf.ones([2, 3]), tf.ones([3, 2])], 0),
     ERRORS.InvalidArgumentError, r"\[2, 3\] vs. shape\[1\] = \[3, 2\]"),
    (lambda: tf.concat([tf.ones([2, 3]), tf.ones([2, 3], tf.int32)], 0),
     ERRORS.InvalidArgumentError, "int32"),
    (lambda: tf.stack([tf.ones([2, 3]), tf.ones([3, 2])]), ERRORS.InvalidArgumentError,
     r"\[2, 3\] != values\[1\].shape = \[3, 2\]"),
    (lambda: tf.add(tf.ones([2, 3]), tf.ones([3, 2])), ERRORS.InvalidArgumentError,
     r"Incompatible shapes: \[2, 3\] vs. \[3, 2\]"),
    (lambda: tf.constant([1, 2]) + tf.constant([1.0, 2.0]), ERRORS.InvalidArgumentError,
     "int32 tensor but is a float32"),
    (lambda: tf.constant([[1, 2], [3]]), ValueError, "non-rectangular"),
    (lambda: tf.cast(tf.constant(["1.5"]), tf.float32), ERRORS.UnimplementedError,
     "Cast string to float"),
    (lambda: tf.one_hot(tf.constant([1.0, 2.0]), 3), ERRORS.InvalidArgumentError,
     "float"),
    (lambda: tf.gather(tf.ones([3, 2]), [5]), ERRORS.InvalidArgumentError,
     r"indices\[0\] = 5 is not in \[0, 3\)"),
    (lambda: tf.split(tf.ones([5, 2]), 2), ERRORS.InvalidArgumentError,
     r"size = 5\) and num_split 2"),
    (lambda: tf.data.Dataset.from_tensor_slices((np.zeros((4, 2)), np.zeros((3,)))),
     ValueError, "Dimensions 4 and 3 are not compatible"),
    (lambda: tf.Variable(tf.zeros([2, 3])).assign(tf.ones([3, 2])), ValueError,
     r"\(2, 3\).*\(3, 2\)"),
    (lambda: tf.Variable(tf.zeros([2, 3])).assign_add(tf.ones([3])),
     ERRORS.InvalidArgumentError, r"shape \[2,3\] using a Tensor with shape \[3\]"),
])
def test_op_misuse_raises_tf_error_type(fn, error, expect):
    # on the CPU: a GPU gathers an out-of-range index as zeros (TF's GPU kernel too)
    with tf.device("/CPU:0"), pytest.raises(error, match=expect):
        fn()


def test_static_shape_errors_inside_function_are_value_errors():
    # TF's graph shape inference raises ValueError at trace time
    with pytest.raises(ValueError):
        tf.function(lambda: tf.reshape(tf.ones([2, 3]), [4, 2]))()
    with pytest.raises(ValueError):
        tf.function(lambda: tf.matmul(tf.ones([2, 3]), tf.ones([2, 3])))()
    with pytest.raises(ValueError):
        tf.function(lambda: tf.ones([2, 3]) + tf.ones([3, 2]))()


def test_sparse_softmax_cross_entropy_checks_rank_before_dtype():
    # TF 2.21: a rank mismatch is a ValueError even for float labels
    with pytest.raises(ValueError, match=r"labels.shape.rank.*\(2, 3\) of rank 2"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(tf.ones([2, 3]), tf.ones([2, 3]))
    with pytest.raises(ValueError, match=r"rank - 1.*\(2, 1\) of rank 2"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(tf.constant([[0], [1]]),
                                                       tf.ones([2, 3]))
    with pytest.raises(ValueError, match=r"except for the last dimension.*\(3,\)"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(tf.constant([0, 1, 2]),
                                                       tf.ones([2, 3]))
    with pytest.raises(ERRORS.InvalidArgumentError, match="int32 or int64, got float32"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(tf.constant([0.0, 1.0]),
                                                       tf.ones([2, 3]))
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(tf.constant([0, 2]),
                                                          tf.zeros([2, 3]))
    np.testing.assert_allclose(loss.numpy(), [np.log(3.0)] * 2, rtol=1e-6)


def test_input_with_an_int_shape_is_keras2_spelling():
    # Keras 3 rejects shape=32; Keras 2 (tf.keras) read it as (32,): both accepted
    assert keras.Input(shape=32).shape == (None, 32)


def test_binary_crossentropy_refuses_targets_that_only_broadcast():
    model = _mlp(units=1, activation="sigmoid")
    model.compile("adam", "binary_crossentropy")
    with pytest.raises(ValueError, match=r"target.shape=\(8, 2\), output.shape=\(8, 1\)"):
        model.fit(np.zeros((8, 4)), np.zeros((8, 2)), verbose=0)
    loss = keras.losses.binary_crossentropy
    pred = tf.constant([[0.2], [0.9]])
    # (N,) against (N, 1) is per sample; a scalar target still broadcasts (Keras 2)
    expect = -np.log([0.8, 0.9])
    np.testing.assert_allclose(loss(tf.constant([0.0, 1.0]), pred).numpy(), expect,
                               rtol=1e-5)
    np.testing.assert_allclose(loss(1.0, pred).numpy(), -np.log([0.2, 0.9]), rtol=1e-5)
    with pytest.raises(ValueError, match="same shape"):
        keras.losses.binary_focal_crossentropy(tf.zeros([2, 3]), tf.fill([2, 1], 0.5))


def test_normalization_layers_take_integer_inputs_as_floats():
    x = np.array([[1, 2, 3], [4, 6, 8]], np.int32)
    out = keras.layers.LayerNormalization(epsilon=0.0)(tf.constant(x))
    assert out.dtype == tf.float32
    centered = x - x.mean(-1, keepdims=True)
    np.testing.assert_allclose(out.numpy(), centered / x.std(-1, keepdims=True),
                               rtol=1e-5)
    out = keras.layers.BatchNormalization()(tf.constant(x))
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), x / np.sqrt(1.0 + 1e-3), rtol=1e-5)
    symbolic = keras.layers.BatchNormalization()(keras.Input(shape=(3,), dtype="int32"))
    assert symbolic.dtype == tf.float32


def test_unknown_layer_keyword_is_type_and_value_error():
    for make in (lambda: keras.layers.Dense(2, activations="relu"),
                 lambda: keras.Model(foo=1)):
        with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
            make()
        with pytest.raises(TypeError):   # Keras 2's type
            make()
