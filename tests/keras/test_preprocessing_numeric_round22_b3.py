"""Normalization's fixed statistics and Discretization's buckets as TF 2.21."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError

L = tf.keras.layers


def test_normalization_fixed_statistics_checks():
    with pytest.raises(ValueError, match="`mean` and `variance` must have the same "
                                         "shape"):
        L.Normalization(mean=[1.0, 2.0], variance=[1.0])
    with pytest.raises(ValueError, match=r"The rank of `mean` must be less than or "
                                         r"equal to the number of axes \(1\)"):
        L.Normalization(mean=[[1.0, 2.0]], variance=[[1.0, 4.0]], axis=-1)
    layer = L.Normalization(mean=[1.0, 2.0], variance=[1.0, 4.0])
    np.testing.assert_allclose(layer(tf.constant([[1.0, 2.0], [3.0, 6.0]])).numpy(),
                               [[0.0, 0.0], [2.0, 2.0]])
    scalar = L.Normalization(mean=3.0, variance=4.0, axis=None)
    np.testing.assert_allclose(scalar(tf.constant([5.0])).numpy(), [1.0])


def test_discretization_nan_goes_past_every_boundary():
    layer = L.Discretization(bin_boundaries=[0.0, 1.0])
    got = layer(tf.constant([[0.5, np.nan, np.inf, -np.inf, 1.0]]))
    assert got.numpy().tolist() == [[1, 2, 2, 0, 2]]
    assert got.dtype == tf.int32


def test_discretization_needs_sorted_boundaries():
    layer = L.Discretization(bin_boundaries=[1.0, 0.0])
    with pytest.raises(InvalidArgumentError, match="Expected sorted boundaries"):
        layer(tf.constant([0.5]))
