"""Review round 18 (4): zero-size inputs on the new speed paths.

The fused LayerNorm (ops/layer_norm.py) failed on an input with no rows (an empty
batch): its row view came out as (0, 0) and the gamma broadcast raised. Softmax
and log-softmax over an empty class axis raised in ``max`` (no identity) where TF
returns the empty result.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe.ops import row_kernels
from dlframe.ops.layer_norm import layer_norm
from tests.helpers import check_function_matches_eager


@pytest.mark.parametrize("shape,axis", [((0, 8), -1), ((0, 3, 4), [1, 2]),
                                        ((2, 0, 4), -1), ((0, 3, 4), 1)])
def test_layer_norm_on_empty_rows_gives_empty_output_and_zero_param_grads(shape, axis):
    axes = [a % len(shape) for a in ([axis] if isinstance(axis, int) else axis)]
    pshape = [shape[a] for a in sorted(axes)]
    x = tf.constant(np.zeros(shape, np.float32))
    gamma = tf.constant(np.ones(pshape, np.float32))
    beta = tf.constant(np.zeros(pshape, np.float32))
    with tf.GradientTape() as tape:
        tape.watch([x, gamma, beta])
        y = layer_norm(x, gamma, beta, axis=axis)
        loss = tf.reduce_sum(y * y)
    dx, dgamma, dbeta = tape.gradient(loss, [x, gamma, beta])
    assert tuple(y.shape) == shape and y.dtype == tf.float32
    assert tuple(dx.shape) == shape
    np.testing.assert_array_equal(dgamma.numpy(), np.zeros(pshape, np.float32))
    np.testing.assert_array_equal(dbeta.numpy(), np.zeros(pshape, np.float32))


def test_layer_normalization_layer_predicts_an_empty_batch():
    layer = tf.keras.layers.LayerNormalization(axis=[1, 2])
    layer.build((None, 3, 4))
    out = layer(np.zeros((0, 3, 4), np.float32))
    assert tuple(out.shape) == (0, 3, 4)
    full = layer(np.arange(24, dtype=np.float32).reshape(2, 3, 4))   # still normal
    np.testing.assert_allclose(full.numpy().reshape(2, -1).mean(-1), 0, atol=1e-5)


@pytest.mark.parametrize("op", [tf.nn.softmax, tf.nn.log_softmax])
@pytest.mark.parametrize("shape,axis", [((3, 0), -1), ((0, 3), 0), ((2, 0, 5), 1)])
def test_softmax_over_an_empty_axis_is_empty(op, shape, axis):
    # TF 2.21 returns an empty tensor of the input's shape here
    x = tf.constant(np.zeros(shape, np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = op(x, axis=axis)
    grad = tape.gradient(y, x)
    assert tuple(y.shape) == shape and tuple(grad.shape) == shape
    check_function_matches_eager(lambda z: op(z, axis=axis),
                                 [np.zeros(shape, np.float32)])


def test_max_keepdims_of_an_empty_axis_is_a_zero_shift():
    x = np.zeros((2, 0, 3), np.float32)
    got = row_kernels.max_keepdims(np, x, 1)
    assert got.shape == (2, 1, 3) and got.dtype == np.float32
    np.testing.assert_array_equal(got, 0)
    rng = np.random.default_rng(0)
    wide = rng.standard_normal((4, 3)).astype(np.float32)   # non-empty: still max
    np.testing.assert_array_equal(row_kernels.max_keepdims(np, wide, 0),
                                  wide.max(axis=0, keepdims=True))
