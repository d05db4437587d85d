"""Round-20 probe of the Keras mistakes TF2 users hit most, against TF 2.21: the
error class their ``except`` clauses expect, raised early, with a message naming the
argument and the received shapes (and what to do instead)."""

import numpy as np
import pytest

from dlframe import keras


def _classifier(classes=3):
    return keras.Sequential([keras.Input(shape=(4,)),
                             keras.layers.Dense(classes, activation="softmax")])


def test_sparse_crossentropy_fed_one_hot_targets_says_rank_and_what_to_use():
    model = _classifier()
    model.compile("adam", "sparse_categorical_crossentropy")
    y = np.eye(3)[np.arange(10) % 3]
    with pytest.raises(ValueError, match=r"(?s)rank.*target\.shape=\(10, 3\).*"
                                         r"output\.shape=\(10, 3\).*one-hot.*"
                                         r"`categorical_crossentropy`"):
        model.fit(np.zeros((10, 4)), y, verbose=0)


def test_categorical_crossentropy_fed_class_ids_points_to_the_sparse_loss():
    model = _classifier()
    model.compile("adam", "categorical_crossentropy")
    with pytest.raises(ValueError, match=r"(?s)same shape.*output\.shape=\(10, 3\).*"
                                         "sparse_categorical_crossentropy"):
        model.fit(np.zeros((10, 4)), np.arange(10) % 3, verbose=0)
    # a real shape mismatch between soft targets gets no such hint
    with pytest.raises(ValueError, match=r"same shape") as info:
        keras.losses.categorical_crossentropy(np.ones((2, 4)) / 4, np.ones((2, 3)) / 3)
    assert "sparse" not in str(info.value)


@pytest.mark.parametrize("loss, y", [("sparse_categorical_crossentropy", np.zeros(4)),
                                     ("categorical_crossentropy", np.zeros((4, 10)))])
def test_crossentropy_on_a_conv_output_without_flatten_says_so(loss, y):
    model = keras.Sequential([keras.Input(shape=(8, 8, 1)), keras.layers.Conv2D(2, 3),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", loss)
    with pytest.raises(ValueError, match=r"(?s)output\.shape=\(4, 6, 6, 10\).*rank 4.*"
                                         r"`Flatten` or global pooling") as info:
        model.fit(np.zeros((4, 8, 8, 1)), y, verbose=0)
    assert "one-hot" not in str(info.value) and "class ids" not in str(info.value)


def test_sparse_crossentropy_still_takes_ids_of_shape_n_and_n_1():
    y_pred = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], "float32")
    expect = -np.log([0.7, 0.8])
    for y in (np.array([0, 2]), np.array([[0], [2]])):
        got = keras.losses.sparse_categorical_crossentropy(y, y_pred).numpy()
        np.testing.assert_allclose(got, expect, rtol=1e-5)


def test_python_lists_of_numbers_are_one_array_and_ragged_ones_fail_clearly():
    model = keras.Sequential([keras.Input(shape=(4,)),
                              keras.layers.Dense(2, kernel_initializer="ones")])
    # Keras 2 reads a nested list of numbers as one batch (Keras 3 refuses lists)
    out = model.predict([[1, 2, 3, 4], [0, 1, 0, 1]], verbose=0)
    np.testing.assert_allclose(out, [[10, 10], [2, 2]])
    with pytest.raises(ValueError, match=r"(?s)argument `x`.*\[\[1, 2, 3, 4\], \[1, 2, 3\]\]"
                                         r".*non-rectangular.*pad_sequences"):
        model.predict([[1, 2, 3, 4], [1, 2, 3]], verbose=0)
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"(?s)argument `y`.*non-rectangular"):
        model.fit([[1, 2, 3, 4], [1, 2, 3, 4]], [[0, 1], [1]], verbose=0)
    before = model.get_weights()[0].copy()
    model.fit([[1, 2, 3, 4], [0, 1, 0, 1]], [[0, 1], [1, 0]], epochs=2, verbose=0)
    assert not np.allclose(model.get_weights()[0], before)


def test_multi_input_lists_of_arrays_are_still_several_inputs():
    a, b = keras.Input(shape=(2,)), keras.Input(shape=(2,))
    model = keras.Model([a, b], keras.layers.Add()([a, b]))
    out = model.predict([np.ones((3, 2)), np.full((3, 2), 2.0)], verbose=0)
    np.testing.assert_allclose(out, np.full((3, 2), 3.0))


@pytest.mark.parametrize("attr", ["input", "output", "input_shape", "output_shape"])
def test_unbuilt_sequential_graph_attributes_say_it_is_not_built(attr):
    model = keras.Sequential([keras.layers.Dense(4), keras.layers.Dense(1)])
    what = "input" if attr.startswith("input") else "output"
    with pytest.raises(AttributeError, match=rf"Sequential model '{model.name}' has no "
                                             rf"defined {what} yet.*keras\.Input"):
        getattr(model, attr)
    assert not hasattr(model, attr)
    model.build((None, 3))
    assert model.input_shape == (None, 3) and model.output_shape == (None, 1)


def test_eager_tensor_operator_keras_tensor_builds_an_op_layer():
    # Keras 2 (TFOpLambda) and Keras 3 both accept `tf.ones(...) + keras.Input(...)`;
    # it used to raise a TypeError from Tensor.__add__
    from dlframe import ones

    inputs = keras.Input(shape=(4,))
    outputs = [ones((1, 4)) + inputs, ones((1, 4)) - inputs, ones((1, 4)) * inputs]
    model = keras.Model(inputs, outputs)
    got = model(np.full((2, 4), 2.0, "float32"))
    for out, expect in zip(got, (3.0, -1.0, 2.0)):
        np.testing.assert_allclose(out.numpy(), np.full((2, 4), expect))


@pytest.mark.parametrize("cls", [keras.optimizers.Adam, keras.optimizers.SGD])
def test_learning_rate_given_as_a_string_is_refused_early(cls):
    # TF 2.21: ValueError "Argument `learning_rate` should be float, ...
    # Received instead: learning_rate=0.01"; float("0.01") used to let it through
    with pytest.raises(ValueError, match=r"`learning_rate` should be float.*'0\.01'"):
        cls(learning_rate="0.01")
    assert float(cls(learning_rate=0.01).learning_rate) == pytest.approx(0.01)
