"""Keras 3 merge layers promote mixed input dtypes (float32 + int64 -> float32), so a
preprocessing branch that yields int64 (StringLookup one_hot) joins float features."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras


@pytest.mark.parametrize("layer, expected", [
    (keras.layers.Concatenate(), np.array([[1., 1., 2., 2., 2.]], "float32")),
    (keras.layers.Add(), None),
])
def test_float_and_int64_merge_to_float32(layer, expected):
    a = tf.ones([1, 2])
    b = tf.fill([1, 3] if expected is not None else [1, 2], tf.constant(2, tf.int64))
    out = layer([a, b])
    assert out.dtype == tf.float32
    want = expected if expected is not None else np.full([1, 2], 3.0, "float32")
    np.testing.assert_array_equal(out.numpy(), want)


def test_int_widths_promote_to_wider_int():
    out = keras.layers.Multiply()([tf.constant([[2, 3]], tf.int32),
                                   tf.constant([[4, 5]], tf.int64)])
    assert out.dtype == tf.int64
    np.testing.assert_array_equal(out.numpy(), [[8, 15]])
    out = keras.layers.Subtract()([tf.constant([[2.5]]), tf.constant([[1]], tf.int64)])
    assert out.dtype == tf.float32 and out.numpy()[0, 0] == 1.5


def test_functional_model_with_int64_one_hot_branch_trains():
    sex = keras.Input((1,), dtype="string", name="sex")
    fare = keras.Input((1,), name="fare")
    lookup = keras.layers.StringLookup(vocabulary=["male", "female"], output_mode="one_hot")
    joined = keras.layers.concatenate([fare, lookup(sex)])
    assert joined.dtype == tf.float32
    model = keras.Model([sex, fare], keras.layers.Dense(1)(joined))
    model.compile("adam", "mse")
    s = np.array([["male"], ["female"]] * 8)
    f = np.linspace(0, 1, 16).astype("float32")[:, None]
    y = (s[:, 0] == "female").astype("float32") + f[:, 0]
    model.fit([s, f], y, epochs=2, verbose=0)
    assert model.predict([s[:2], f[:2]], verbose=0).shape == (2, 1)
