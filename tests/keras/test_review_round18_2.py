"""Review of round 18's Keras changes: Keras 3's argument order of Conv3DTranspose
(only there), and channels_first through every affine augmentation layer.
Expected values marked "TF 2.21" were printed by TensorFlow 2.21 (Keras 3)."""

import numpy as np
import pytest

from dlframe import keras

L = keras.layers


@pytest.mark.parametrize("args", [
    (None, (1, 1, 1)),              # Keras 3: data_format, output_padding
    (None, 1),
    ("channels_last", (1, 1, 1)),
    ((1, 1, 1), "channels_last"),   # Keras 2: output_padding, data_format
    ((1, 1, 1), None),
])
def test_conv3d_transpose_reads_both_argument_orders(args):
    x = np.random.RandomState(0).randn(1, 3, 3, 3, 2).astype("float32")
    layer = L.Conv3DTranspose(2, 2, 2, "valid", *args)
    assert layer.output_padding == (1, 1, 1)
    assert layer.data_format == "channels_last"
    ref = L.Conv3DTranspose(2, 2, 2, "valid", output_padding=1,
                            data_format="channels_last")
    ref.build(x.shape)
    layer.build(x.shape)
    layer.kernel.assign(ref.kernel)
    y = layer(x).numpy()
    assert y.shape == (1, 7, 7, 7, 2)   # TF 2.21: (3 - 1) * 2 + 2 + 1
    np.testing.assert_allclose(y, ref(x).numpy(), rtol=1e-6)


@pytest.mark.parametrize("cls", [L.Conv1DTranspose, L.Conv2DTranspose])
def test_conv_transpose_string_in_output_padding_slot_is_refused(cls):
    # only Conv3DTranspose takes data_format 5th; the others refuse it (TF 2.21)
    with pytest.raises(ValueError, match="output_padding.*channels_last"):
        cls(2, 2, 2, "valid", "channels_last")


def _nchw(x):
    return np.transpose(x, (0, 3, 1, 2))


@pytest.mark.parametrize("make", [
    lambda fmt: L.RandomShear(0.3, 0.2, seed=5, data_format=fmt),
    lambda fmt: L.RandomPerspective((1.0, 1.0), 0.5, seed=5, data_format=fmt),
])
def test_shear_and_perspective_channels_first_match_channels_last(make):
    x = np.random.RandomState(3).rand(2, 7, 9, 3).astype("float32")
    last, first = make("channels_last"), make("channels_first")
    y_last = last(x, training=True).numpy()
    y_first = first(_nchw(x), training=True).numpy()
    assert not np.allclose(y_last, x)   # the layer did transform the images
    np.testing.assert_allclose(y_first, _nchw(y_last), rtol=1e-5, atol=1e-5)
    assert tuple(first.compute_output_shape((2, 3, 7, 9))) == (2, 3, 7, 9)
    single = first(_nchw(x)[0], training=True).numpy()
    assert single.shape == (3, 7, 9)
