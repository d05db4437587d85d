"""Review of round 19 (R5): ``keras.utils.normalize`` of a 1-D NumPy vector."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras


@pytest.mark.parametrize("axis", [0, -1, None])
def test_normalize_numpy_vector_uses_the_whole_vector_for_any_valid_axis(axis):
    # TF 2.21 (Keras 3): [[0.6, 0.8]] (float64, shape (1, 2)) for axis 0 and -1
    out = keras.utils.normalize(np.array([3.0, 4.0]), axis=axis)
    assert out.shape == (1, 2) and out.dtype == np.float64
    np.testing.assert_allclose(out, [[0.6, 0.8]])


def test_normalize_numpy_vector_order_1_and_zero_vector():
    np.testing.assert_allclose(keras.utils.normalize(np.array([3.0, 4.0]), order=1),
                               [[3 / 7, 4 / 7]])
    np.testing.assert_array_equal(keras.utils.normalize(np.zeros(3), axis=0),
                                  [[0.0, 0.0, 0.0]])


def test_normalize_numpy_vector_rejects_out_of_range_axis():
    with pytest.raises(ValueError, match="axis=1"):
        keras.utils.normalize(np.array([3.0, 4.0]), axis=1)


def _crossed_model():
    # each structure key is the Input name of the OTHER input
    g = keras.Input((1,), name="z")
    h = keras.Input((1,), name="w")
    out = keras.layers.Concatenate()([g, h * 10.0])
    return keras.Model({"w": g, "z": h}, out)


def test_dict_keys_that_are_other_inputs_names_match_by_structure_key():
    # TF 2.21: {"w": 1, "z": 2} -> [[1, 20]] (keys of the inputs structure win)
    model = _crossed_model()
    feed = {"z": np.array([[2.0]], "float32"), "w": np.array([[1.0]], "float32")}
    np.testing.assert_allclose(model(feed).numpy(), [[1.0, 20.0]])
    np.testing.assert_allclose(model.predict(feed, verbose=0), [[1.0, 20.0]])
    ds = tf.data.Dataset.from_tensor_slices(feed).batch(1)
    np.testing.assert_allclose(model.predict(ds, verbose=0), [[1.0, 20.0]])
    fn = tf.function(lambda d: model(d))
    np.testing.assert_allclose(fn(feed).numpy(), [[1.0, 20.0]])
