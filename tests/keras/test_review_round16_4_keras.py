"""Review round 16 (R4) Keras regressions: LSTM/GRU hand ``implementation`` to their
cell, and a Loss accepts a dtype policy (its compute dtype), as TF 2.21 does."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
L = keras.layers


@pytest.mark.parametrize("cls", [L.LSTM, L.GRU])
def test_rnn_layer_passes_implementation_to_its_cell(cls):
    layer = cls(2, implementation=1)
    assert layer.cell.implementation == 1
    assert cls(2).cell.implementation == 2
    out = layer(np.ones((1, 3, 2), "float32"))
    assert tuple(out.shape) == (1, 2)


@pytest.mark.parametrize("dtype, want", [
    ("mixed_float16", "float16"), ("float64", "float64"), (None, "float32")])
def test_loss_dtype_accepts_policies(dtype, want):
    loss = keras.losses.MeanSquaredError(dtype=dtype)
    assert loss.dtype == want
    value = loss(np.ones(3, "float32"), np.zeros(3, "float32"))
    assert value.dtype == want
    assert float(value) == 1.0


def test_loss_dtype_policy_object_and_bad_name():
    policy = keras.mixed_precision.Policy("mixed_bfloat16")
    assert keras.losses.BinaryCrossentropy(dtype=policy).dtype == "bfloat16"
    with pytest.raises(ValueError, match="foo"):
        keras.losses.MeanSquaredError(dtype="foo")
