"""Shape validation of the random samplers, as TF 2.21 does it (probe findings)."""

import numpy as np
import pytest

import dlframe as tf

SAMPLERS = [
    lambda shape: tf.random.normal(shape),
    lambda shape: tf.random.uniform(shape),
    lambda shape: tf.random.truncated_normal(shape),
    lambda shape: tf.random.stateless_normal(shape, seed=[1, 2]),
    lambda shape: tf.random.stateless_uniform(shape, seed=[1, 2]),
    lambda shape: tf.random.Generator.from_seed(1).normal(shape),
    lambda shape: tf.random.Generator.from_seed(1).uniform(shape),
]


@pytest.mark.parametrize("sample", SAMPLERS)
@pytest.mark.parametrize("shape", [[2.5], [2.0, 3], 3, "a", [True],
                                   np.array([2.0])])
def test_non_integer_vector_shape_is_invalid_argument(sample, shape):
    with pytest.raises(tf.errors.InvalidArgumentError, match="shape"):
        sample(shape)


@pytest.mark.parametrize("sample", SAMPLERS)
def test_float_shape_tensor_and_scalar_tensor_are_refused(sample):
    for shape in (tf.constant([2.0]), tf.constant(2)):
        with pytest.raises(tf.errors.InvalidArgumentError):
            sample(shape)


@pytest.mark.parametrize("sample", SAMPLERS)
def test_unknown_dimension_is_value_error(sample):
    with pytest.raises(ValueError):
        sample([None])
    with pytest.raises(ValueError):
        sample(tf.TensorShape([None, 2]))


@pytest.mark.parametrize("sample", SAMPLERS)
@pytest.mark.parametrize("shape", [[2, 3], (2, 3), tf.TensorShape([2, 3]),
                                   np.array([2, 3]), tf.constant([2, 3]),
                                   tf.constant([2, 3], tf.int64),
                                   [tf.constant(2), np.int64(3)]])
def test_integer_shapes_of_every_kind_are_accepted(sample, shape):
    out = sample(shape)
    assert out.shape == (2, 3)
    assert np.all(np.isfinite(out.numpy()))


def test_empty_shape_is_a_scalar_draw():
    assert tf.random.normal([]).shape == ()
    assert tf.random.uniform(()).shape == ()


def test_negative_dimension_is_still_refused():
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.random.uniform([2, -3])


def test_shape_checks_inside_function():
    @tf.function
    def draw(n):
        return tf.random.uniform([n, 2], seed=1)

    assert draw(tf.constant(3)).shape == (3, 2)
