"""keras.ops.image (Keras 3): affine/perspective/elastic transforms, map_coordinates,
gaussian_blur, sobel_edges, ssim, scale_and_translate and extract_patches_3d against
NumPy references and values from TF 2.21 / Keras 3.15; gradients against finite
differences; eager == tf.function; op layers in functional models."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.keras import ops
from tests.helpers import check_function_matches_eager, check_grad

RNG = np.random.default_rng(0)
# a 3x4 single-channel image (the inputs of the TF 2.21 values below)
IMG = np.array([0.773956, 0.438878, 0.858598, 0.697368, 0.094177, 0.975622, 0.76114,
                0.786064, 0.128114, 0.450386, 0.370798, 0.926765],
               "float32").reshape(1, 3, 4, 1)
TRANSFORMS = np.array([[1.2, 0.3, -1.5, -0.2, 0.9, 0.7, 0, 0],
                       [0.8, -0.1, 2.1, 0.15, 1.1, -1.3, 0.01, -0.02]], "float32")


def _close(got, expect, atol=2e-5):
    np.testing.assert_allclose(np.asarray(got), np.asarray(expect), rtol=0, atol=atol)


def test_namespace_matches_keras3_dir():
    # dir(keras.ops.image) in TF 2.21 / Keras 3.15
    keras3 = ["affine_transform", "crop_images", "elastic_transform", "extract_patches",
              "extract_patches_3d", "gaussian_blur", "hsv_to_rgb", "map_coordinates",
              "pad_images", "perspective_transform", "resize", "rgb_to_grayscale",
              "rgb_to_hsv", "scale_and_translate", "sobel_edges", "ssim"]
    assert sorted(n for n in dir(ops.image) if not n.startswith("_")) == keras3
    assert keras.ops.image.gaussian_blur is ops.image.gaussian_blur


# ---------------------------------------------------------------- affine_transform
def _np_transform(images, transforms, interpolation="bilinear", fill_mode="constant",
                  fill_value=0.0):
    """Loop reference of the projective transform ('constant' / 'nearest' modes)."""
    b, h, w, _ = images.shape
    out = np.zeros_like(images, dtype=np.float64)
    for n, y, x in np.ndindex(b, h, w):
        a = transforms[n if len(transforms) > 1 else 0]   # float32 points, as TF
        py, px = np.float32(y), np.float32(x)
        k = a[6] * px + a[7] * py + 1
        sx, sy = (a[0] * px + a[1] * py + a[2]) / k, (a[3] * px + a[4] * py + a[5]) / k
        if fill_mode == "nearest":
            sx, sy = min(max(sx, 0), w - 1), min(max(sy, 0), h - 1)

        def read(r, c, n=n):
            inside = 0 <= r <= h - 1 and 0 <= c <= w - 1
            return images[n, int(r), int(c)] if inside else fill_value

        if interpolation == "nearest":
            out[n, y, x] = read(np.floor(sy + 0.5), np.floor(sx + 0.5))
            continue
        y0, x0 = np.floor(sy), np.floor(sx)
        fy, fx = sy - y0, sx - x0
        out[n, y, x] = ((1 - fy) * ((1 - fx) * read(y0, x0) + fx * read(y0, x0 + 1))
                        + fy * ((1 - fx) * read(y0 + 1, x0) + fx * read(y0 + 1, x0 + 1)))
    return out


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("fill_mode", ["constant", "nearest"])
def test_affine_transform_matches_reference(interpolation, fill_mode):
    images = RNG.random((2, 5, 6, 3)).astype("float32")
    got = ops.image.affine_transform(images, TRANSFORMS, interpolation, fill_mode,
                                     fill_value=0.25)
    assert got.dtype == tf.float32 and tuple(got.shape) == images.shape
    _close(got, _np_transform(images, TRANSFORMS, interpolation, fill_mode, 0.25))
    single = ops.image.affine_transform(images[1], TRANSFORMS[1], interpolation, fill_mode,
                                        fill_value=0.25)
    _close(single, _np_transform(images[1:], TRANSFORMS[1:], interpolation, fill_mode,
                                 0.25)[0])
    first = ops.image.affine_transform(images.transpose(0, 3, 1, 2), TRANSFORMS,
                                       interpolation, fill_mode, fill_value=0.25,
                                       data_format="channels_first")
    _close(np.transpose(first.numpy(), (0, 2, 3, 1)), got.numpy())


def test_affine_transform_wrap_reflect_projective_match_tf():
    t = np.array([1.1, 0.2, -0.6, -0.3, 0.9, 0.8, 0, 0], "float32")
    # from TF 2.21 / Keras 3.15
    expect = {
        "reflect": [0.230133, 0.570659, 0.721955, 0.745737, 0.117933, 0.568195, 0.762304,
                    0.769556, 0.128114, 0.418159, 0.370798, 0.884555],
        "wrap": [0.768325, 0.570659, 0.721955, 0.759975, 0.884555, 0.568195, 0.762304,
                 0.769556, 0.697368, 0.472386, 0.370798, 0.117933]}
    for mode, values in expect.items():
        _close(ops.image.affine_transform(IMG, t, fill_mode=mode).numpy().ravel(), values)
    projective = np.array([1, 0.1, 0.2, 0.05, 1, -0.1, 0.02, -0.03], "float32")
    _close(ops.image.affine_transform(IMG, projective).numpy().ravel(),
           [0.636247, 0.487802, 0.839994, 0.688315, 0.388694, 0.894798, 0.768503,
            0.627974, 0.259607, 0.400973, 0.595093, 0.528256])


def test_affine_transform_integer_images_and_errors():
    images = (RNG.random((1, 4, 5, 1)) * 255).astype("uint8")
    shift = np.array([1, 0, 1, 0, 1, 0, 0, 0], "float32")   # reads one pixel right
    got = ops.image.affine_transform(images, shift, interpolation="nearest")
    assert got.dtype == tf.uint8
    np.testing.assert_array_equal(got.numpy()[0, :, :4], images[0, :, 1:])
    np.testing.assert_array_equal(got.numpy()[0, :, 4], 0)
    with pytest.raises(ValueError, match="interpolation=bicubic"):
        ops.image.affine_transform(images, shift, interpolation="bicubic")
    with pytest.raises(ValueError, match="fill_mode=mirror"):
        ops.image.affine_transform(images, shift, fill_mode="mirror")
    with pytest.raises(ValueError, match="images.shape"):
        ops.image.affine_transform(images[0, 0], shift)
    with pytest.raises(ValueError, match="transform.shape"):
        ops.image.affine_transform(images, shift.reshape(1, 1, 8))


@pytest.mark.parametrize("fill_mode", ["constant", "reflect", "wrap"])
def test_affine_transform_gradient_and_function(fill_mode):
    images = RNG.random((2, 4, 5, 2))

    def fn(x):
        return ops.image.affine_transform(x, TRANSFORMS, fill_mode=fill_mode,
                                          fill_value=0.3)
    check_grad(fn, [images])
    check_function_matches_eager(fn, [images.astype("float32")])


def test_affine_transform_second_order():
    x = tf.constant(RNG.random((1, 4, 5, 1)))
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(ops.image.affine_transform(x, TRANSFORMS[0]) ** 2)
        g = inner.gradient(y, x)
        total = tf.reduce_sum(g)
    # d/dx sum(d/dx sum(T(x)^2)) = 2 T^T T 1, with T linear in x
    ones = tf.ones_like(x)
    expect = ops.image.affine_transform(ones, TRANSFORMS[0])
    with tf.GradientTape() as t:
        t.watch(x)
        z = tf.reduce_sum(ops.image.affine_transform(x, TRANSFORMS[0]) * expect)
    _close(outer.gradient(total, x), 2 * t.gradient(z, x).numpy(), atol=1e-10)


# ---------------------------------------------------------------- perspective
def test_perspective_transform():
    start = np.array([[0, 0], [3, 0], [0, 2], [3, 2]], "float32")
    end = np.array([[0.5, 0.2], [3.1, 0], [0, 1.7], [2.6, 2.2]], "float32")
    # from TF 2.21 / Keras 3.15
    _close(ops.image.perspective_transform(IMG, start, end).numpy().ravel(),
           [0.0, 0.423141, 0.759367, 0.705101, 0.058799, 0.928403, 0.76763, 0.704689,
            0.116991, 0.368562, 0.645264, 0.666419])
    images = RNG.random((2, 5, 6, 3)).astype("float32")
    _close(ops.image.perspective_transform(images, start, start), images, atol=1e-5)
    batch = ops.image.perspective_transform(images, np.stack([start, end]),
                                            np.stack([end, start]), "nearest", 2.0)
    _close(batch[1], ops.image.perspective_transform(images[1], end, start, "nearest", 2.0))
    with pytest.raises(ValueError, match="start_points shape"):
        ops.image.perspective_transform(images, start[:3], end[:3])
    with pytest.raises(ValueError, match="same shape"):
        ops.image.perspective_transform(images, start, np.stack([end, end]))
    check_grad(lambda x: ops.image.perspective_transform(x, start, end), [images[:1]])


# ---------------------------------------------------------------- gaussian_blur
def _np_blur(images, kernel_size, sigma):
    def g(size, s):
        taps = np.arange(size) - (size - 1) / 2
        w = np.exp(-0.5 * (taps / s) ** 2)
        return w / w.sum()
    k0, k1 = kernel_size
    kernel = np.outer(g(k1, sigma[1]), g(k0, sigma[0])).reshape(k0, k1)
    h, w = images.shape[1:3]
    top, left = (k0 - 1) // 2, (k1 - 1) // 2
    padded = np.pad(images, [(0, 0), (top, k0 - 1 - top), (left, k1 - 1 - left), (0, 0)])
    out = np.zeros(images.shape)
    for i in range(k0):
        for j in range(k1):
            out += kernel[i, j] * padded[:, i:i + h, j:j + w]
    return out


@pytest.mark.parametrize("kernel_size,sigma", [((3, 3), (1.0, 1.0)), ((5, 5), (1.0, 2.0)),
                                               ((3, 5), (0.8, 1.5))])
def test_gaussian_blur_matches_reference(kernel_size, sigma):
    images = RNG.random((2, 6, 7, 3)).astype("float32")
    got = ops.image.gaussian_blur(images, kernel_size, sigma)
    assert got.dtype == tf.float32
    _close(got, _np_blur(images, kernel_size, sigma))
    first = ops.image.gaussian_blur(images[0].transpose(2, 0, 1), kernel_size, sigma,
                                    data_format="channels_first")
    _close(first.numpy().transpose(1, 2, 0), got[0])


def test_gaussian_blur_non_square_kernel_matches_tf():
    img = np.array([0.643865, 0.822762, 0.443414, 0.227239, 0.554585, 0.063817, 0.827631,
                    0.631664, 0.758088, 0.354526, 0.970698, 0.893121],
                   "float32").reshape(1, 3, 4, 1)
    # from TF 2.21 / Keras 3.15 (its [k1, k0] kernel product laid out as [k0, k1])
    _close(ops.image.gaussian_blur(img, (3, 5), (0.8, 1.5)).numpy().ravel(),
           [0.224056, 0.316883, 0.311514, 0.183769, 0.325712, 0.397048, 0.497424,
            0.33875, 0.315119, 0.38463, 0.356444, 0.295588])


def test_gaussian_blur_gradient_in_images_and_sigma():
    images = RNG.random((1, 5, 4, 2))
    check_grad(lambda x: ops.image.gaussian_blur(x, (3, 5), (0.8, 1.3)), [images])
    check_grad(lambda s: ops.image.gaussian_blur(tf.constant(images), (3, 3), (s, s)),
               [np.array(1.2)])
    check_function_matches_eager(lambda x: ops.image.gaussian_blur(x, (5, 5), (1.0, 2.0)),
                                 [images.astype("float32")])


# ---------------------------------------------------------------- sobel_edges
def test_sobel_edges_matches_reference():
    images = RNG.random((2, 5, 6, 3)).astype("float32")
    padded = np.pad(images, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="reflect")
    ky = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]])
    expect = np.zeros(images.shape + (2,))
    for i in range(3):
        for j in range(3):
            window = padded[:, i:i + 5, j:j + 6]
            expect[..., 0] += ky[i, j] * window
            expect[..., 1] += ky.T[i, j] * window
    got = ops.image.sobel_edges(images)
    _close(got, expect, atol=1e-5)
    first = ops.image.sobel_edges(images.transpose(0, 3, 1, 2), "channels_first")
    assert tuple(first.shape) == (2, 3, 5, 6, 2)
    _close(first.numpy().transpose(0, 2, 3, 1, 4), got)
    with pytest.raises(ValueError, match="rank 4"):
        ops.image.sobel_edges(images[0])


# ---------------------------------------------------------------- ssim
def _ssim_inputs():
    n = 2 * 8 * 7 * 2
    one = ((np.sin(np.arange(n) * 0.37) + 1) / 2).reshape(2, 8, 7, 2).astype("float32")
    two = ((np.cos(np.arange(n) * 0.23) + 1) / 2).reshape(2, 8, 7, 2).astype("float32")
    return one, two


def _np_ssim(x, y, max_val, size, sigma, k1, k2):
    taps = np.arange(size) - (size - 1) / 2
    g = np.exp(-taps ** 2 / (2 * sigma ** 2))
    window = np.outer(g, g) / np.outer(g, g).sum()
    h, w = x.shape[1:3]
    oh, ow = h - size + 1, w - size + 1

    def blur(z):
        return sum(window[i, j] * z[:, i:i + oh, j:j + ow]
                   for i in range(size) for j in range(size))
    mx, my = blur(x), blur(y)
    vx, vy, cov = blur(x * x) - mx ** 2, blur(y * y) - my ** 2, blur(x * y) - mx * my
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    ssim_map = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx ** 2 + my ** 2 + c1) *
                                                        (vx + vy + c2))
    return ssim_map.mean(axis=(1, 2, 3))


def test_ssim_matches_reference_and_tf():
    one, two = _ssim_inputs()
    got = ops.image.ssim(one, two, filter_size=5)
    _close(got, [0.015246, -0.009414])   # from TF 2.21 / Keras 3.15
    _close(got, _np_ssim(one.astype(float), two.astype(float), 1.0, 5, 1.5, 0.01, 0.03))
    single = ops.image.ssim(one[0], two[0], max_val=2.0, filter_size=3, filter_sigma=0.8,
                            k1=0.02, k2=0.05)
    assert single.shape == ()
    _close(single, 0.028655)   # from TF 2.21 / Keras 3.15
    first = ops.image.ssim(one.transpose(0, 3, 1, 2), two.transpose(0, 3, 1, 2),
                           filter_size=5, data_format="channels_first")
    _close(first, got)
    _close(ops.image.ssim(one, one, filter_size=5), [1.0, 1.0])
    double = ops.image.ssim(one.astype("float64"), two.astype("float64"), filter_size=5)
    assert double.dtype == tf.float64
    # integer images are compared unscaled and the result cast back (0 here, as TF)
    ints = ops.image.ssim((one * 255).astype("uint8"), (two * 255).astype("uint8"),
                          max_val=255.0, filter_size=5)
    assert ints.dtype == tf.uint8 and list(ints.numpy()) == [0, 0]
    with pytest.raises(ValueError, match="image2.shape"):
        ops.image.ssim(one, two[0, 0])


def test_ssim_gradient():
    one, two = _ssim_inputs()
    check_grad(lambda x, y: ops.image.ssim(x, y, filter_size=3),
               [one[:1, :5, :5], two[:1, :5, :5]], rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------- scale_and_translate
def test_scale_and_translate_matches_tf():
    images = np.arange(9, dtype="float32").reshape(3, 3)
    scale = np.array([2.0, 2.0], "float32")
    got = ops.image.scale_and_translate(images, (5, 5), scale, -(scale / 2.0 - 0.5),
                                        (0, 1), "linear")
    _close(got, np.arange(5)[:, None] * 1.5 + np.arange(5)[None, :] * 0.5)
    x = np.array([[0.559207, 0.30395, 0.030818, 0.436717, 0.214585, 0.408529]], "float32")
    # from TF 2.21 / Keras 3.15: downsampling (antialiased) and upsampling
    expect = {
        "linear": ([0.543254, 0.283446, 0.233768, 0.296025],
                   [0.559207, 0.399671, 0.235667, 0.064959, 0.233768, 0.408951, 0.270118,
                    0.287314, 0.408529]),
        "cubic": ([0.574871, 0.271243, 0.224728, 0.305473],
                  [0.559207, 0.418386, 0.221009, 0.032589, 0.23058, 0.436159, 0.255582,
                   0.271389, 0.408529]),
        "lanczos3": ([0.601725, 0.264458, 0.207627, 0.326577],
                     [0.559207, 0.447704, 0.182567, 0.016838, 0.239071, 0.442573,
                      0.263567, 0.257535, 0.408529]),
        "lanczos5": ([0.627127, 0.26398, 0.192291, 0.341898],
                     [0.559207, 0.470164, 0.156033, -0.000261, 0.263528, 0.441456,
                      0.267221, 0.243567, 0.408529])}
    for method, (down, up) in expect.items():
        _close(ops.image.scale_and_translate(x, (1, 4), [0.7], [0.4], (1,), method)[0],
               down)
        _close(ops.image.scale_and_translate(x, (1, 9), [1.6], [-0.3], (1,), method,
                                             antialias=False)[0], up)


def test_scale_and_translate_gradient_function_and_errors():
    images = RNG.random((2, 5, 6, 2))

    def fn(x, scale=(0.6, 1.3), shift=(0.2, -0.1)):
        return ops.image.scale_and_translate(x, (2, 3, 8, 2), scale, shift, (1, 2),
                                             "bicubic")
    check_grad(fn, [images])
    compiled = tf.function(fn)
    x = tf.constant(images)
    for scale, shift in (([0.6, 1.3], [0.2, -0.1]), ([0.7, 1.1], [0.0, 0.3])):
        scale, shift = np.array(scale, "float32"), np.array(shift, "float32")
        _close(compiled(x, tf.constant(scale), tf.constant(shift)), fn(x, scale, shift),
               atol=1e-12)
    ints = ops.image.scale_and_translate((images * 255).astype("int32"), (2, 3, 8, 2),
                                         [0.6, 1.3], [0.2, -0.1], (1, 2), "linear")
    assert ints.dtype == tf.int32
    with pytest.raises(ValueError, match="method=area"):
        ops.image.scale_and_translate(images, (2, 3, 8, 2), [1, 1], [0, 0], (1, 2), "area")


# ---------------------------------------------------------------- extract_patches_3d
def _np_patches_3d(volumes, size, strides, rate=1):
    b, d, h, w, c = volumes.shape
    spans = [(k - 1) * rate + 1 for k in size]
    outs = [(n - s) // st + 1 for n, s, st in zip((d, h, w), spans, strides)]
    out = np.zeros((b, *outs, int(np.prod(size)) * c), volumes.dtype)
    for i, j, k in np.ndindex(*outs):
        z, y, x = i * strides[0], j * strides[1], k * strides[2]
        patch = volumes[:, z:z + spans[0]:rate, y:y + spans[1]:rate, x:x + spans[2]:rate]
        out[:, i, j, k] = patch.reshape(b, -1)
    return out


def test_extract_patches_3d():
    vol = RNG.random((2, 5, 6, 7, 2)).astype("float32")
    got = ops.image.extract_patches_3d(vol, (2, 2, 3))
    assert tuple(got.shape) == (2, 2, 3, 2, 24)
    _close(got, _np_patches_3d(vol, (2, 2, 3), (2, 2, 3)), atol=0)
    _close(ops.image.extract_patches_3d(vol[0], 2, strides=1),
           _np_patches_3d(vol[:1], (2, 2, 2), (1, 1, 1))[0], atol=0)
    _close(ops.image.extract_patches_3d(vol, 2, strides=1, dilation_rate=2),
           _np_patches_3d(vol, (2, 2, 2), (1, 1, 1), rate=2), atol=0)
    same = ops.image.extract_patches_3d(vol, 2, strides=(1, 2, 3), padding="same")
    padded = np.pad(vol, [(0, 0), (0, 1), (0, 0), (0, 1), (0, 0)])
    _close(same, _np_patches_3d(padded, (2, 2, 2), (1, 2, 3)), atol=0)
    first = ops.image.extract_patches_3d(vol.transpose(0, 4, 1, 2, 3), (2, 2, 3),
                                         data_format="channels_first")
    _close(first.numpy().transpose(0, 2, 3, 4, 1), got, atol=0)
    _close(ops.image.extract_patches(vol, (2, 2, 3)), got, atol=0)   # Keras 3 dispatch
    with pytest.raises(TypeError, match="size"):
        ops.image.extract_patches_3d(vol, (2, 2))
    with pytest.raises(ValueError, match="strides"):
        ops.image.extract_patches_3d(vol, 2, strides=(1, 2))
    check_grad(lambda v: ops.image.extract_patches_3d(v, 2, strides=1, padding="same"),
               [vol[:1, :3, :3, :4].astype("float64")])


# ---------------------------------------------------------------- map_coordinates
A = np.array([0.778383, 0.194639, 0.466721, 0.043804, 0.154289, 0.683049, 0.744762,
              0.96751, 0.325825, 0.37046, 0.469556, 0.189471], "float32").reshape(3, 4)
COORDS = np.array([[-1.5, -0.25, 0.6, 2.4, 3.5, 4.2], [-2.0, 4.7, 1.3, -0.6, 5.5, 3.9]],
                  "float32")


def test_map_coordinates_matches_tf():
    # from TF 2.21 / Keras 3.15 (fill_value=-1)
    expect = {
        ("reflect", 0): [0.469556, 0.466721, 0.683049, 0.37046, 0.683049, 0.96751],
        ("reflect", 1): [0.607159, 0.457781, 0.531443, 0.352606, 0.566957, 0.782769],
        ("wrap", 0): [0.744762, 0.194639, 0.683049, 0.189471, 0.744762, 0.154289],
        ("wrap", 1): [0.607159, 0.366589, 0.531443, 0.281462, 0.522293, 0.250927],
        ("nearest", 0): [0.778383, 0.043804, 0.683049, 0.325825, 0.189471, 0.189471],
        ("nearest", 1): [0.778383, 0.043804, 0.531443, 0.325825, 0.189471, 0.189471],
        ("constant", 0): [-1, -1, 0.683049, -1, -1, -1],
        ("constant", 1): [-1, -1, 0.531443, -0.681802, -1, -1]}
    for (mode, order), values in expect.items():
        got = ops.image.map_coordinates(A, COORDS, order, mode, fill_value=-1.0)
        _close(got, values)


def test_map_coordinates_reference_modes_and_dtypes():
    line = np.arange(5, dtype="float32") * 2 + 1
    coords = np.array([[-3.0, -1.0, 0.0, 2.5, 4.0, 5.0, 7.0]], "float32")
    mirror = ops.image.map_coordinates(line, coords, 0, "mirror")  # c d c b | a b c d | c b
    np.testing.assert_array_equal(mirror.numpy(), line[[3, 1, 0, 2, 4, 3, 1]])
    linear = ops.image.map_coordinates(line, coords, 1, "constant", fill_value=9)
    _close(linear, np.interp(coords[0], np.arange(5), line, left=9, right=9))
    volume = RNG.random((3, 4, 5)).astype("float32")
    points = np.array([[0, 2, 1], [3, 0, 2], [4, 1, 0]], "float32")
    np.testing.assert_array_equal(ops.image.map_coordinates(volume, points, 1).numpy(),
                                  [volume[0, 3, 4], volume[2, 0, 1], volume[1, 2, 0]])
    ints = ops.image.map_coordinates(np.array([0, 3, 6, 9], "int32"),
                                     np.array([[0.4, 1.5, 2.5, 2.7]], "float32"), 1)
    assert ints.dtype == tf.int32
    np.testing.assert_array_equal(ints.numpy(), [1, 4, 8, 8])   # rounded half to even
    with pytest.raises(ValueError, match="rank of `inputs`"):
        ops.image.map_coordinates(A, COORDS[:1], 1)
    with pytest.raises(ValueError, match="fill_mode=bogus"):
        ops.image.map_coordinates(A, COORDS, 1, "bogus")
    with pytest.raises(NotImplementedError, match="order"):
        ops.image.map_coordinates(A, COORDS, 3)


def test_map_coordinates_gradient():
    coords = COORDS.astype("float64") + 0.013   # off the integer kinks
    check_grad(lambda a, c: ops.image.map_coordinates(a, c, 1, "reflect"),
               [A.astype("float64"), coords])
    check_function_matches_eager(lambda a: ops.image.map_coordinates(a, COORDS, 1, "wrap"),
                                 [A])


# ---------------------------------------------------------------- elastic_transform
IMAGE_6x5 = np.array([
    0.129922, 0.475705, 0.226909, 0.669814, 0.437152, 0.832678, 0.700265, 0.312367,
    0.83226, 0.804764, 0.387478, 0.288328, 0.682495, 0.139752, 0.199908, 0.007362,
    0.786924, 0.664851, 0.705165, 0.780729, 0.458916, 0.568741, 0.139797, 0.11453,
    0.668403, 0.471096, 0.565236, 0.764999, 0.634718, 0.553579], "float32").reshape(1, 6, 5, 1)


def test_elastic_transform_matches_tf_draws():
    # from TF 2.21 / Keras 3.15 (stateless draws from seed [7, 0] / [11, 0])
    got = ops.image.elastic_transform(IMAGE_6x5, alpha=3.0, sigma=1.0, seed=7)
    _close(got.numpy().ravel(), [
        0.617696, 0.485023, 0.387575, 0.367018, 0.517987, 0.450066, 0.681385, 0.668201,
        0.454955, 0.629623, 0.64701, 0.568255, 0.616701, 0.344271, 0.21987, 0.183397,
        0.328859, 0.651772, 0.58168, 0.73435, 0.450359, 0.464559, 0.542601, 0.118193,
        0.623974, 0.489276, 0.53108, 0.498721, 0.461608, 0.553579], atol=5e-5)
    nearest = ops.image.elastic_transform(IMAGE_6x5, 3.0, 1.0, "nearest", "constant", -1.0,
                                          seed=11)
    _close(nearest.numpy().ravel(), [
        0.700265, 0.312367, 0.83226, 0.669814, 0.437152, 0.288328, 0.682495, 0.139752,
        0.83226, 0.804764, 0.387478, 0.664851, 0.705165, 0.139752, 0.199908, 0.007362,
        0.139797, 0.664851, 0.705165, -1.0, 0.565236, 0.764999, 0.139797, 0.11453, -1.0,
        -1.0, 0.565236, 0.764999, 0.634718, 0.553579])


def test_elastic_transform_shapes_identity_gradient():
    images = RNG.random((2, 6, 5, 3)).astype("float32")
    _close(ops.image.elastic_transform(images, alpha=0.0, seed=1), images, atol=1e-6)
    first = ops.image.elastic_transform(images.transpose(0, 3, 1, 2), 4.0, 1.5, seed=3,
                                        data_format="channels_first")
    _close(first.numpy().transpose(0, 2, 3, 1),
           ops.image.elastic_transform(images, 4.0, 1.5, seed=3), atol=1e-6)
    single = ops.image.elastic_transform(images[0], seed=5)
    assert tuple(single.shape) == (6, 5, 3)
    generator = keras.random.SeedGenerator(4)
    draws = [ops.image.elastic_transform(images, seed=generator).numpy() for _ in range(2)]
    assert np.abs(draws[0] - draws[1]).max() > 1e-3
    with pytest.raises(ValueError, match="fill_mode=mirror"):
        ops.image.elastic_transform(images, fill_mode="mirror")
    check_grad(lambda x: ops.image.elastic_transform(x, 3.0, 1.0, seed=2),
               [images[:1, :, :, :1].astype("float64")])


# ---------------------------------------------------------------- symbolic use
def test_op_layers_in_a_functional_model_save_and_reload(tmp_path):
    images = RNG.random((2, 6, 7, 3)).astype("float32")
    inp = keras.Input((6, 7, 3))
    blurred = ops.image.gaussian_blur(inp, (3, 3), (1.0, 1.0))
    moved = ops.image.affine_transform(blurred, np.array([1, 0, 1, 0, 1, 0.5, 0, 0],
                                                         "float32"))
    edges = ops.image.sobel_edges(moved)
    model = keras.Model(inp, [moved, edges])
    moved_out, edges_out = model(images)
    assert tuple(edges_out.shape) == (2, 6, 7, 3, 2)
    expect = ops.image.affine_transform(ops.image.gaussian_blur(images),
                                        np.array([1, 0, 1, 0, 1, 0.5, 0, 0], "float32"))
    _close(moved_out, expect, atol=1e-6)
    path = str(tmp_path / "model.keras")
    model.save(path)
    again = keras.models.load_model(path)
    _close(again(images)[1], edges_out, atol=0)
