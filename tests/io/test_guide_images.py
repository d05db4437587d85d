"""The "Load images" and "Data augmentation" tutorials' image code: tf.image.resize
with antialiasing and the kernel methods, JPEG shape/crop decoding, reading a
directory, and the augmentation layers' argument checks."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_grad

IMG = (np.arange(6 * 7, dtype=np.float32).reshape(1, 6, 7, 1) ** 1.5 / 10)

_RESIZE_REFERENCE = {  # from TF 2.21: tf.image.resize(IMG, size, method, antialias)
    ('bilinear', True, (3, 2)): [[2.0697, 3.2005], [8.6684, 10.5713], [17.92, 20.3571]],
    ('bicubic', True, (2, 3)): [[2.9806, 3.9843, 5.1286], [14.8303, 16.6721, 18.5806]],
    ('lanczos3', False, (4, 5)):
        [[0.2101, 0.4833, 0.844, 1.2702, 1.8416],
         [4.4328, 5.294, 6.077, 6.8907, 7.8721],
         [10.7115, 11.8335, 12.8374, 13.8663, 15.0884],
         [19.933, 21.305, 22.5197, 23.7551, 25.2099]],
    ('lanczos5', True, (3, 3)):
        [[0.9732, 1.7242, 2.6814],
         [7.6449, 9.2059, 10.8564],
         [18.3615, 20.3859, 22.4891]],
    ('gaussian', False, (6, 7)):
        [[0.2371, 0.3659, 0.5763, 0.839, 1.1433, 1.4837, 1.8088],
         [2.0625, 2.4135, 2.8396, 3.2932, 3.7722, 4.275, 4.7353],
         [5.4123, 5.9141, 6.5011, 7.1072, 7.7318, 8.3743, 8.9538],
         [9.7921, 10.4046, 11.1142, 11.8395, 12.5803, 13.3361, 14.0134],
         [14.9858, 15.6914, 16.5049, 17.332, 18.1728, 19.0268, 19.7892],
         [20.1094, 20.8882, 21.7834, 22.6912, 23.6113, 24.5436, 25.3741]],
    ('mitchellcubic', True, (2, 9)):
        [[3.3042, 3.5564, 3.9061, 4.2626, 4.6364, 5.0262, 5.4309, 5.8705, 6.2121],
         [13.686, 14.1609, 14.7927, 15.4051, 16.0261, 16.6555, 17.2934, 17.9709, 18.49]],
    ('area', True, (3, 3)):
        [[1.1162, 1.8506, 2.7674],
         [7.8858, 9.3882, 10.9769],
         [18.3683, 20.3461, 22.3898]],
}


@pytest.mark.parametrize("method, antialias, size", sorted(_RESIZE_REFERENCE))
def test_resize_matches_tf(method, antialias, size):
    out = tf.image.resize(IMG, size, method=method, antialias=antialias)
    assert out.dtype == tf.float32 and out.shape == (1,) + size + (1,)
    np.testing.assert_allclose(out.numpy()[0, :, :, 0],
                               _RESIZE_REFERENCE[(method, antialias, size)], atol=2e-4)


def test_resize_antialias_averages_a_checkerboard_when_downsampling():
    board = (np.indices((15, 15)).sum(axis=0) % 2).astype("float32")[None, :, :, None]
    plain = tf.image.resize(board, [5, 5]).numpy()    # samples single pixels: aliased
    smooth = tf.image.resize(board, [5, 5], antialias=True).numpy()
    assert np.ptp(plain) == pytest.approx(1.0)
    assert np.ptp(smooth) < 0.2
    np.testing.assert_allclose(smooth.mean(), board.mean(), atol=0.05)
    # upsampling: antialias changes nothing for bilinear
    np.testing.assert_allclose(tf.image.resize(IMG, [9, 11], antialias=True).numpy(),
                               tf.image.resize(IMG, [9, 11]).numpy(), atol=1e-5)


@pytest.mark.parametrize("method", ["bilinear@aa", "lanczos3@plain", "gaussian@aa"])
def test_resize_kernel_methods_are_differentiable(method):
    from dlframe.ops.image import _resize_float
    x = np.random.RandomState(0).rand(1, 5, 6, 2)
    check_grad(lambda t: _resize_float(t, [3, 4], method=method), [x])


def test_resize_method_names():
    assert tf.image.ResizeMethod.LANCZOS3 == "lanczos3"
    assert tf.image.ResizeMethod.MITCHELLCUBIC == "mitchellcubic"
    assert tf.image.ResizeMethod.GAUSSIAN == "gaussian"
    with pytest.raises(ValueError, match="box"):
        tf.image.resize(IMG, [2, 2], method="box")


# ---------------------------------------------------------------- files
def _jpeg_bytes(h=12, w=10):
    pixels = (np.random.RandomState(1).rand(h, w, 3) * 255).astype("uint8")
    return tf.io.encode_jpeg(pixels, quality=95)


def test_extract_jpeg_shape_and_decode_and_crop():
    data = _jpeg_bytes()
    shape = tf.io.extract_jpeg_shape(data)
    assert shape.dtype == tf.int32 and shape.numpy().tolist() == [12, 10, 3]
    assert tf.image.extract_jpeg_shape(data, output_type=tf.int64).dtype == tf.int64
    full = tf.io.decode_jpeg(data).numpy()
    crop = tf.io.decode_and_crop_jpeg(data, [2, 3, 5, 4])
    assert crop.shape == (5, 4, 3) and crop.dtype == tf.uint8
    np.testing.assert_array_equal(crop.numpy(), full[2:7, 3:7])
    assert tf.image.decode_and_crop_jpeg(data, [0, 0, 2, 2], channels=1).shape == (2, 2, 1)
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.io.decode_and_crop_jpeg(data, [8, 0, 6, 2])   # past the bottom
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.io.extract_jpeg_shape(tf.io.encode_png(np.zeros((2, 2, 1), "uint8")))


def test_read_file_of_a_directory_is_a_failed_precondition(tmp_path):
    with pytest.raises(tf.errors.FailedPreconditionError, match="directory"):
        tf.io.read_file(str(tmp_path))
    with pytest.raises(tf.errors.NotFoundError):
        tf.io.read_file(str(tmp_path / "missing.jpg"))


# ---------------------------------------------------------------- layers
def test_random_translation_factor_must_lie_in_minus_one_one():
    with pytest.raises(ValueError, match="height_factor"):
        tf.keras.layers.RandomTranslation(1.5, 0.1)
    with pytest.raises(ValueError, match="width_factor"):
        tf.keras.layers.RandomTranslation(0.1, (-1.2, 0.0))
    tf.keras.layers.RandomTranslation((-1.0, 1.0), 1.0)


def test_center_crop_reports_its_data_format():
    layer = tf.keras.layers.CenterCrop(4, 5)
    config = layer.get_config()
    assert config["data_format"] == "channels_last"
    again = tf.keras.layers.CenterCrop.from_config(config)
    x = np.arange(2 * 6 * 7 * 3, dtype="float32").reshape(2, 6, 7, 3)
    np.testing.assert_array_equal(again(x).numpy(), x[:, 1:5, 1:6])
    with pytest.raises(ValueError, match="channels_first"):
        tf.keras.layers.CenterCrop(4, 5, data_format="channels_first")
