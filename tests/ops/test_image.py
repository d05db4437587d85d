"""tf.image ops against NumPy references and values produced by TensorFlow 2.21
(``TF_REF``: outputs for the input ``X`` below, recorded from the scratch TF install)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.ops.names import unwrap
from dlframe.ops import image as image_ops
from tests.helpers import check_function_matches_eager, check_grad

# (1, 4, 5, 1) test image: (arange(20) * 7) % 23
X = ((np.arange(20, dtype=np.float32).reshape(1, 4, 5, 1) * 7) % 23)
RGB = np.stack([X[..., 0], 255 - X[..., 0] * 3, X[..., 0] * 2], -1)
TRANSFORM = [0.9, 0.2, -0.7, -0.3, 1.1, 0.4, 0.01, -0.02]

TF_REF = {
    'resize_bilinear_3x7': [2.0, 6.0, 9.904800415039062, 12.16670036315918, 17.16670036315918, 13.952400207519531, 7.0, 6.5, 10.5, 12.214300155639648, 9.0, 14.0, 14.071399688720703, 11.5, 11.0, 15.0, 14.523799896240234, 5.8333001136779785, 10.83329963684082, 14.190500259399414, 16.0],
    'resize_bilinear_6x3': [2.3333001136779785, 14.0, 10.33329963684082, 8.33329963684082, 8.5, 12.5, 12.5, 5.0, 14.111100196838379, 5.1666998863220215, 13.0, 11.888899803161621, 9.33329963684082, 9.5, 13.5, 15.33329963684082, 4.0, 15.66670036315918],
    'resize_nearest_3x7': [0.0, 7.0, 7.0, 14.0, 21.0, 21.0, 5.0, 1.0, 8.0, 8.0, 15.0, 22.0, 22.0, 6.0, 13.0, 20.0, 20.0, 4.0, 11.0, 11.0, 18.0],
    'resize_area_3x2': [7.449999809265137, 12.75, 9.800000190734863, 12.800000190734863, 12.149999618530273, 12.850000381469727],
    'resize_bicubic_5x3': [1.1359000205993652, 14.47439956665039, 9.404899597167969, 11.732500076293945, 5.229599952697754, 14.056599617004395, 8.583499908447266, 9.0, 12.980799674987793, 5.434500217437744, 12.770400047302246, 11.904999732971191, 16.031099319458008, 3.525599956512451, 16.556699752807617],
    'tr_reflect_bilinear': [4.800000190734863, 2.5743000507354736, 7.548999786376953, 13.59220027923584, 19.51919937133789, 6.163300037384033, 12.49489974975586, 13.6899995803833, 8.712900161743164, 17.40250015258789, 9.5, 9.783499717712402, 11.706000328063965, 14.575799942016602, 14.140000343322754, 13.0, 18.894699096679688, 7.6666998863220215, 10.010299682617188, 14.0378999710083],
    'tr_reflect_nearest': [0.0, 0.0, 7.0, 14.0, 21.0, 1.0, 12.0, 19.0, 3.0, 21.0, 13.0, 8.0, 15.0, 15.0, 10.0, 13.0, 20.0, 4.0, 11.0, 18.0],
    'tr_wrap_bilinear': [9.800000190734863, 2.5743000507354736, 18.745100021362305, 4.932000160217285, 9.519200325012207, 11.163299560546875, 12.49489974975586, 13.6899995803833, 8.712900161743164, 17.40250015258789, 14.5, 9.783499717712402, 11.706000328063965, 14.575799942016602, 14.140000343322754, 5.0, 5.894700050354004, 12.39579963684082, 10.010299682617188, 14.0378999710083],
    'tr_wrap_nearest': [5.0, 0.0, 20.0, 4.0, 11.0, 6.0, 12.0, 19.0, 3.0, 21.0, 18.0, 8.0, 15.0, 15.0, 10.0, 5.0, 7.0, 14.0, 11.0, 18.0],
    'tr_constant_bilinear': [0.7400000095367432, 2.5743000507354736, 5.872700214385986, 6.508600234985352, 3.7351999282836914, 2.508500099182129, 12.49489974975586, 13.6899995803833, 8.712900161743164, 17.40250015258789, 6.218800067901611, 9.783499717712402, 11.706000328063965, 14.575799942016602, 14.140000343322754, -0.20149999856948853, 7.376699924468994, 5.680600166320801, 10.010299682617188, 14.0378999710083],
    'tr_constant_nearest': [-1.0, 0.0, 7.0, 14.0, -1.0, -1.0, 12.0, 19.0, 3.0, 21.0, 13.0, 8.0, 15.0, 15.0, 10.0, -1.0, -1.0, 4.0, 11.0, 18.0],
    'tr_nearest_bilinear': [4.800000190734863, 2.5743000507354736, 7.548999786376953, 13.59220027923584, 19.51919937133789, 6.163300037384033, 12.49489974975586, 13.6899995803833, 8.712900161743164, 17.40250015258789, 9.5, 9.783499717712402, 11.706000328063965, 14.575799942016602, 14.140000343322754, 13.0, 18.894699096679688, 7.6666998863220215, 10.010299682617188, 14.0378999710083],
    'tr_nearest_nearest': [0.0, 0.0, 7.0, 14.0, 21.0, 1.0, 12.0, 19.0, 3.0, 21.0, 13.0, 8.0, 15.0, 15.0, 10.0, 13.0, 20.0, 4.0, 11.0, 18.0],
    'rot': [8.845499992370605, 14.508600234985352, 17.02050018310547, 14.220499992370605, 11.917499542236328, 4.730999946594238, 10.824600219726562, 6.203100204467773, 17.302400588989258, 10.112799644470215, 9.363800048828125, 14.795700073242188, 12.442299842834473, 13.190600395202637, 13.269000053405762, 6.082499980926514, 4.673999786376953, 15.448800086975098, 5.162600040435791, 9.154500007629395],
    'zoom': [2.799999952316284, 8.399999618530273, 14.0, 19.600000381469727, 11.399999618530273, 13.0, 14.6899995803833, 4.650000095367432, 10.25, 13.779999732971191, 5.599999904632568, 10.510000228881836, 13.350000381469727, 18.950000762939453, 12.819999694824219, 15.800000190734863, 16.799999237060547, 4.0, 9.600000381469727, 15.199999809265137],
    'trans': [0.0, 0.0, 0.0, 0.0, 0.0, 7.0, 14.0, 21.0, 5.0, 0.0, 19.0, 3.0, 10.0, 17.0, 0.0, 8.0, 15.0, 22.0, 6.0, 0.0],
    'std': [-1.6842999458312988, -0.6409000158309937, 0.4023999869823456, 1.4457999467849731, -0.9390000104904175, 0.10429999977350235, 1.1476999521255493, -1.2372000217437744, -0.19380000233650208, 0.8496000170707703, -1.5353000164031982, -0.4918999969959259, 0.5515000224113464, 1.5949000120162964, -0.7900000214576721, 0.2533999979496002, 1.2968000173568726, -1.0880999565124512, -0.04470000043511391, 0.9987000226974487],
    'gray': [149.68499755859375, 141.04629516601562, 132.4075927734375, 123.7688980102539, 143.51449584960938, 134.87579345703125, 126.23709869384766, 145.98269653320312, 137.343994140625, 128.70530700683594, 148.45089721679688, 139.81219482421875, 131.17349243164062, 122.53479766845703, 142.2803955078125, 133.64169311523438, 125.00299835205078, 144.74859619140625, 136.10989379882812, 127.47119903564453],
    'grayu8': [149, 141, 132, 124, 143, 135, 126, 146, 137, 128, 148, 140, 131, 122, 142, 133, 125, 145, 136, 127],
    'contrast': [0, 255, 0, 3, 243, 7, 15, 207, 31, 27, 171, 55, 0, 253, 1, 12, 217, 25, 24, 182, 48, 0, 255, 0, 9, 228, 18, 21, 192, 42, 0, 255, 0, 5, 238, 11, 17, 202, 35, 29, 166, 59, 2, 248, 4, 14, 212, 28, 26, 177, 52, 0, 255, 0, 10, 223, 21, 22, 187, 45],
    'bright': [25, 255, 25, 32, 255, 39, 39, 238, 53, 46, 217, 67, 30, 255, 35, 37, 244, 49, 44, 223, 63, 28, 255, 31, 35, 250, 45, 42, 229, 59, 26, 255, 27, 33, 255, 41, 40, 235, 55, 47, 214, 69, 31, 255, 37, 38, 241, 51, 45, 220, 65, 29, 255, 33, 36, 247, 47, 43, 226, 61],
    'cu8f': [0.0, 0.003921568859368563, 0.501960813999176, 1.0],
    'cfu8': [0, 76, 127, 255, 255],
    'cu8i32': [0, 8388608, 2139095040],
    'ci32u8': [0, 2, 255],
    'cu8i16': [0, 128, 32640],
    'gn': [-1.0968999862670898, -0.6202999949455261, -0.14419999718666077, 1.343500018119812, -0.6202999949455261, 0.8956999778747559, -1.4835000038146973, 0.9189000129699707, -0.32120001316070557, 1.7630000114440918, 0.3549000024795532, -0.9897000193595886, 1.1152000427246094, 0.41440001130104065, -0.8823999762535095, -1.750499963760376, -1.184499979019165, -1.5591000318527222, 1.1282000541687012, 0.7587000131607056, 0.6499999761581421, 0.5638999938964844, 0.3343000113964081, 0.41179999709129333],
    'norm': [[-1.0, 1.0]],
}


def _close(got, key, atol=2e-4):
    np.testing.assert_allclose(np.asarray(got).ravel(), TF_REF[key], rtol=1e-4, atol=atol)


@pytest.mark.parametrize("method,size", [("bilinear", (3, 7)), ("bilinear", (6, 3)),
                                         ("nearest", (3, 7)), ("area", (3, 2)),
                                         ("bicubic", (5, 3))])
def test_resize_matches_tf(method, size):
    out = tf.image.resize(X, size, method=method)
    assert out.dtype == tf.float32
    assert tuple(out.shape) == (1,) + size + (1,)
    _close(out.numpy(), f"resize_{method}_{size[0]}x{size[1]}")


def test_resize_3d_and_dtypes():
    out = tf.image.resize(X[0], (3, 7))
    assert tuple(out.shape) == (3, 7, 1)
    _close(out.numpy(), "resize_bilinear_3x7")
    u8 = X.astype(np.uint8)
    near = tf.image.resize(u8, (3, 7), method="nearest")
    assert near.dtype == tf.uint8
    np.testing.assert_array_equal(near.numpy().ravel(), TF_REF["resize_nearest_3x7"])
    assert tf.image.resize(u8, (3, 7)).dtype == tf.float32
    assert tf.image.resize(X.astype(np.float64), (3, 7)).dtype == tf.float32
    # same size: bilinear is the identity
    np.testing.assert_array_equal(tf.image.resize(X, (4, 5)).numpy(), X)


def test_resize_preserve_aspect_ratio_and_errors():
    out = tf.image.resize(np.zeros((2, 5, 6, 3), np.float32), (10, 10),
                          preserve_aspect_ratio=True)
    assert tuple(out.shape) == (2, 8, 10, 3)  # checked in TF
    with pytest.raises(ValueError, match="not implemented"):
        tf.image.resize(X, (2, 2), method="lanczos7")
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.image.resize(np.zeros((4, 5), np.float32), (2, 2))


def _numpy_bilinear(x, oh, ow):
    """Independent reference: TF2 half-pixel bilinear, loop form."""
    b, h, w, c = x.shape
    out = np.zeros((b, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            y = max((i + 0.5) * h / oh - 0.5, 0)
            xx = max((j + 0.5) * w / ow - 0.5, 0)
            y0, x0 = int(np.floor(y)), int(np.floor(xx))
            y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
            fy, fx = y - y0, xx - x0
            out[:, i, j] = ((1 - fy) * ((1 - fx) * x[:, y0, x0] + fx * x[:, y0, x1])
                            + fy * ((1 - fx) * x[:, y1, x0] + fx * x[:, y1, x1]))
    return out


def test_resize_bilinear_random_against_numpy():
    x = np.random.default_rng(0).standard_normal((2, 7, 5, 3)).astype(np.float32)
    for size in [(3, 4), (11, 9), (7, 2)]:
        np.testing.assert_allclose(tf.image.resize(x, size).numpy(),
                                   _numpy_bilinear(x, *size), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("method", ["bilinear", "nearest", "area", "bicubic"])
def test_resize_gradient(method):
    x = np.random.default_rng(1).standard_normal((2, 4, 5, 2))
    check_grad(lambda a: image_ops._resize_float(a, (3, 7), method), [x])
    check_grad(lambda a: image_ops._resize_float(a, (6, 3), method), [x])


def test_resize_second_order_and_function():
    x = tf.constant(np.random.default_rng(2).standard_normal((1, 3, 4, 1)))
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(image_ops._resize_float(x, (5, 2)) ** 2)
        g = inner.gradient(y, x)
        s = tf.reduce_sum(g * g)
    gg = outer.gradient(s, x)
    assert gg is not None and np.all(np.isfinite(gg.numpy()))
    # d/dx sum((A x)^2) = 2 A^T A x: the gradient is linear in x
    g2 = tf.GradientTape()
    with g2:
        g2.watch(x)
        y2 = tf.reduce_sum(image_ops._resize_float(x * 2.0, (5, 2)) ** 2)
    np.testing.assert_allclose(g2.gradient(y2, x).numpy(), 4 * g.numpy(), rtol=1e-10)
    check_function_matches_eager(lambda a: tf.image.resize(a, (3, 7)), [X])


def test_flips_rot90_transpose():
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 2)).astype(np.float32)
    np.testing.assert_array_equal(tf.image.flip_left_right(x).numpy(), x[:, :, ::-1])
    np.testing.assert_array_equal(tf.image.flip_up_down(x).numpy(), x[:, ::-1])
    np.testing.assert_array_equal(tf.image.flip_left_right(x[0]).numpy(), x[0, :, ::-1])
    np.testing.assert_array_equal(tf.image.transpose(x).numpy(), x.transpose(0, 2, 1, 3))
    for k in range(-1, 6):
        np.testing.assert_array_equal(tf.image.rot90(x, k).numpy(),
                                      np.rot90(x, k, axes=(1, 2)))
        np.testing.assert_array_equal(tf.image.rot90(x[0], k).numpy(),
                                      np.rot90(x[0], k, axes=(0, 1)))
    check_grad(lambda a: tf.image.flip_left_right(a) * a, [x.astype(np.float64)])
    check_grad(lambda a: tf.image.flip_up_down(a) * a, [x.astype(np.float64)])


def test_random_flips_are_per_image_and_seeded():
    x = np.random.default_rng(4).standard_normal((64, 2, 3, 1)).astype(np.float32)
    tf.random.set_seed(5)
    out = tf.image.random_flip_left_right(x, seed=3).numpy()
    flipped = np.all(out == x[:, :, ::-1], axis=(1, 2, 3))
    kept = np.all(out == x, axis=(1, 2, 3))
    assert np.all(flipped | kept) and 10 < flipped.sum() < 54
    tf.random.set_seed(5)
    np.testing.assert_array_equal(tf.image.random_flip_left_right(x, seed=3).numpy(), out)
    out = tf.image.random_flip_up_down(x).numpy()
    assert np.all(np.all(out == x[:, ::-1], axis=(1, 2, 3)) | np.all(out == x,
                                                                     axis=(1, 2, 3)))


def test_crops_and_pads():
    x = np.random.default_rng(5).standard_normal((2, 5, 6, 3)).astype(np.float32)
    np.testing.assert_array_equal(tf.image.crop_to_bounding_box(x, 1, 2, 3, 3).numpy(),
                                  x[:, 1:4, 2:5])
    padded = tf.image.pad_to_bounding_box(x, 1, 2, 8, 9).numpy()
    expect = np.zeros((2, 8, 9, 3), np.float32)
    expect[:, 1:6, 2:8] = x
    np.testing.assert_array_equal(padded, expect)
    # central_crop(0.5) of 5x6 keeps rows 1..3 and columns 1..4 (checked in TF)
    np.testing.assert_array_equal(tf.image.central_crop(x, 0.5).numpy(), x[:, 1:4, 1:5])
    np.testing.assert_array_equal(tf.image.central_crop(x[0], 1.0).numpy(), x[0])
    # resize_with_crop_or_pad: crop 5->3 rows from offset 1, pad 6->9 cols at offset 1
    out = tf.image.resize_with_crop_or_pad(x, 3, 9).numpy()
    expect = np.zeros((2, 3, 9, 3), np.float32)
    expect[:, :, 1:7] = x[:, 1:4]
    np.testing.assert_array_equal(out, expect)
    out = tf.image.resize_with_crop_or_pad(x, 8, 3).numpy()
    expect = np.zeros((2, 8, 3, 3), np.float32)
    expect[:, 1:6] = x[:, :, 1:4]
    np.testing.assert_array_equal(out, expect)
    with pytest.raises(ValueError):
        tf.image.crop_to_bounding_box(x, 3, 0, 3, 3)
    with pytest.raises(ValueError):
        tf.image.central_crop(x, 0.0)
    check_grad(lambda a: tf.image.resize_with_crop_or_pad(a, 3, 7),
               [x[:1, :, :, :1].astype(np.float64)])


def test_convert_image_dtype():
    np.testing.assert_allclose(tf.image.convert_image_dtype(
        np.array([0, 1, 128, 255], np.uint8), tf.float32).numpy(), TF_REF["cu8f"])
    out = tf.image.convert_image_dtype(np.array([0, 0.3, 0.5, 1.0, 1.2], np.float32),
                                       tf.uint8, saturate=True)
    assert out.dtype == tf.uint8
    np.testing.assert_array_equal(out.numpy(), TF_REF["cfu8"])
    np.testing.assert_array_equal(tf.image.convert_image_dtype(
        np.array([0, 1, 255], np.uint8), tf.int32).numpy(), TF_REF["cu8i32"])
    np.testing.assert_array_equal(tf.image.convert_image_dtype(
        np.array([0, 1, 255], np.uint8), tf.int16).numpy(), TF_REF["cu8i16"])
    np.testing.assert_array_equal(tf.image.convert_image_dtype(
        np.array([0, 2 ** 24, 2 ** 31 - 1], np.int32), tf.uint8).numpy(), TF_REF["ci32u8"])
    assert tf.image.convert_image_dtype(np.ones(2, np.float32),
                                        tf.float64).dtype == tf.float64


def test_colour_ops_match_tf():
    _close(tf.image.per_image_standardization(X).numpy(), "std")
    _close(tf.image.rgb_to_grayscale(RGB).numpy(), "gray", atol=1e-3)
    gray = tf.image.rgb_to_grayscale(RGB.astype(np.uint8))
    assert gray.dtype == tf.uint8 and tuple(gray.shape) == (1, 4, 5, 1)
    np.testing.assert_array_equal(gray.numpy().ravel(), TF_REF["grayu8"])
    out = tf.image.adjust_contrast(RGB.astype(np.uint8), 1.7)
    assert out.dtype == tf.uint8
    np.testing.assert_array_equal(out.numpy().ravel(), TF_REF["contrast"])
    np.testing.assert_array_equal(
        tf.image.adjust_brightness(RGB.astype(np.uint8), 0.1).numpy().ravel(),
        TF_REF["bright"])
    rgb = tf.image.grayscale_to_rgb(X)
    np.testing.assert_array_equal(rgb.numpy(), np.concatenate([X, X, X], -1))
    # float images: plain arithmetic, no clipping
    f = RGB / 255.0
    np.testing.assert_allclose(tf.image.adjust_brightness(f, -0.5).numpy(), f - 0.5,
                               rtol=1e-6)
    mean = f.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(tf.image.adjust_contrast(f, 0.3).numpy(),
                               (f - mean) * 0.3 + mean, rtol=1e-5, atol=1e-6)
    check_grad(tf.image.per_image_standardization,
               [np.random.default_rng(0).standard_normal((1, 2, 3, 2))], rtol=1e-4,
               atol=1e-6)


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_projective_transform_matches_tf(fill_mode, interpolation):
    out = image_ops.transform(X, [TRANSFORM], interpolation=interpolation,
                              fill_mode=fill_mode, fill_value=-1.0)
    _close(out.numpy(), f"tr_{fill_mode}_{interpolation}")
    # the identity transform is the identity
    same = image_ops.transform(X[0], [1, 0, 0, 0, 1, 0, 0, 0], fill_mode=fill_mode,
                               interpolation=interpolation)
    np.testing.assert_allclose(same.numpy(), X[0])


def test_image_namespace():
    for name in image_ops.IMAGE_NAMES:
        assert unwrap(getattr(tf.image, name)) is getattr(image_ops, name)
    assert tf.image.ResizeMethod.BILINEAR == "bilinear"
