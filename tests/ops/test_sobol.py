"""tf.math.sobol_sample: TF's values, the sequence's stratification, errors."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError

# from TF 2.21: tf.math.sobol_sample(3, 8)
TF_DIM3 = [[0.5, 0.5, 0.5], [0.75, 0.25, 0.25], [0.25, 0.75, 0.75],
           [0.375, 0.375, 0.625], [0.875, 0.875, 0.125], [0.625, 0.125, 0.875],
           [0.125, 0.625, 0.375], [0.1875, 0.3125, 0.9375]]


def test_matches_tf_values_and_skip():
    out = tf.math.sobol_sample(3, 8)
    assert out.dtype == tf.float32 and out.shape == (8, 3)
    np.testing.assert_array_equal(out.numpy(), TF_DIM3)
    # from TF 2.21: tf.math.sobol_sample(2, 3, skip=5, dtype=tf.float64)
    skipped = tf.math.sobol_sample(2, 3, skip=5, dtype=tf.float64)
    assert skipped.dtype == tf.float64
    np.testing.assert_array_equal(skipped.numpy(), [[0.625, 0.125], [0.125, 0.625],
                                                    [0.1875, 0.3125]])
    long = tf.math.sobol_sample(5, 20, dtype="float64").numpy()
    np.testing.assert_array_equal(tf.math.sobol_sample(5, 7, skip=13,
                                                       dtype="float64").numpy(),
                                  long[13:])


@pytest.mark.parametrize("dim", [1, 7, 40])
def test_every_dimension_is_stratified(dim):
    # points 0 .. 2^k - 1 of a Sobol sequence put exactly one point in each
    # interval [j / 2^k, (j + 1) / 2^k) of every coordinate; TF drops point 0,
    # which is the origin, so it is added back here
    k = 6
    pts = tf.math.sobol_sample(dim, 2 ** k - 1, dtype="float64").numpy()
    pts = np.concatenate([np.zeros((1, dim)), pts])
    cells = np.floor(pts * 2 ** k).astype(int)
    for d in range(dim):
        assert sorted(cells[:, d]) == list(range(2 ** k))
    assert ((pts >= 0) & (pts < 1)).all()


def test_traced_equals_eager():
    f = tf.function(lambda: tf.math.sobol_sample(4, 6, skip=3))
    np.testing.assert_array_equal(f().numpy(), tf.math.sobol_sample(4, 6, 3).numpy())


@pytest.mark.parametrize("args, match", [
    ((0, 4), "dim"), ((3, 0), "num_results"), ((3, 4, -2), "skip"),
    ((21201, 1), "at most 21200")])
def test_bad_arguments(args, match):
    with pytest.raises(InvalidArgumentError, match=match):
        tf.math.sobol_sample(*args)


def test_bad_dtype_and_type():
    # TF 2.21 raises InvalidArgumentError (no SobolSample kernel for int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="dtype"):
        tf.math.sobol_sample(2, 2, dtype="int32")
    with pytest.raises(TypeError, match="dim"):
        tf.math.sobol_sample(2.5, 2)
