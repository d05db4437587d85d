"""tf.compat.v1.image's TF1 resize functions (legacy and align_corners grids).

Expected values were computed with TensorFlow 2.21's tf.compat.v1.image on the
same inputs, or by hand from TF1's grid (source = out_index * in / out).
"""

import numpy as np
import pytest

import dlframe as tf

v1 = tf.compat.v1.image
X = np.array([[1., 2., 4.], [8., 16., 32.]], np.float32).reshape(1, 2, 3, 1)


def _legacy_bilinear(img, nh, nw, align_corners):
    """NumPy reference of TF1's ResizeBilinear on one [h, w] channel."""
    h, w = img.shape

    def taps(n_in, n_out):
        scale = (n_in - 1) / (n_out - 1) if align_corners and n_out > 1 else n_in / n_out
        pos = np.arange(n_out) * scale
        lo = np.floor(pos).astype(int)
        return lo, np.minimum(lo + 1, n_in - 1), pos - lo
    r0, r1, fr = taps(h, nh)
    c0, c1, fc = taps(w, nw)
    top = img[r0][:, c0] + (img[r0][:, c1] - img[r0][:, c0]) * fc
    bottom = img[r1][:, c0] + (img[r1][:, c1] - img[r1][:, c0]) * fc
    return top + (bottom - top) * fr[:, None]


@pytest.mark.parametrize("align_corners", [False, True])
def test_resize_bilinear_grids_match_numpy(align_corners):
    got = v1.resize_bilinear(X, [3, 4], align_corners=align_corners)
    assert got.dtype == tf.float32 and got.shape == (1, 3, 4, 1)
    want = _legacy_bilinear(X[0, ..., 0].astype(np.float64), 3, 4, align_corners)
    np.testing.assert_allclose(got.numpy()[0, ..., 0], want, rtol=1e-6)


def test_resize_bilinear_values_from_tf():
    # from TF 2.21: tf.compat.v1.image.resize_bilinear(X, [3, 4])
    want = [[1.0, 1.75, 3.0, 4.0], [5.666667, 9.916667, 17.0, 22.666668],
            [8.0, 14.0, 24.0, 32.0]]
    np.testing.assert_allclose(v1.resize_bilinear(X, [3, 4]).numpy()[0, ..., 0], want,
                               rtol=1e-6)


def test_resize_nearest_neighbor_keeps_dtype_and_grid():
    xi = X.astype(np.int32)
    got = v1.resize_nearest_neighbor(xi, [3, 5])
    assert got.dtype == tf.int32
    # from TF 2.21
    np.testing.assert_array_equal(got.numpy()[0, ..., 0], [[1, 1, 2, 2, 4], [1, 1, 2, 2, 4],
                                                          [8, 8, 16, 16, 32]])
    got = v1.resize_nearest_neighbor(xi, [3, 5], align_corners=True)
    np.testing.assert_array_equal(got.numpy()[0, ..., 0], [[1, 2, 2, 4, 4],
                                                          [8, 16, 16, 32, 32],
                                                          [8, 16, 16, 32, 32]])


def test_half_pixel_centers_is_tf2_grid():
    got = v1.resize_bilinear(X, [3, 4], half_pixel_centers=True)
    np.testing.assert_allclose(got.numpy(), tf.image.resize(X, [3, 4]).numpy(), rtol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError):
        v1.resize_bilinear(X, [3, 4], align_corners=True, half_pixel_centers=True)


def test_resize_images_methods_dtypes_and_same_size():
    img = X[0].astype(np.uint8)
    got = v1.resize_images(img, [3, 4])            # 3-D in, 3-D out, float32
    assert got.dtype == tf.float32 and got.shape == (3, 4, 1)
    np.testing.assert_allclose(got.numpy()[..., 0],
                               _legacy_bilinear(X[0, ..., 0], 3, 4, False), rtol=1e-6)
    same = v1.resize_images(img, [2, 3])            # TF1 returns the input as it is
    assert same.dtype == tf.uint8
    np.testing.assert_array_equal(same.numpy(), img)
    near = v1.resize_images(img, [3, 5], method=v1.ResizeMethod.NEAREST_NEIGHBOR)
    assert near.dtype == tf.uint8
    np.testing.assert_array_equal(near.numpy(), v1.resize_images(img, [3, 5], method=1))
    np.testing.assert_array_equal(near.numpy(),
                                  v1.resize_images(img, [3, 5], method="nearest"))
    assert v1.resize is v1.resize_images
    assert v1.resize_images(X, [4, 4], preserve_aspect_ratio=True).shape == (1, 3, 4, 1)
    with pytest.raises(ValueError, match="7"):
        v1.resize_images(X, [3, 4], method=7)


def test_resize_area_and_pad_from_tf():
    # from TF 2.21
    np.testing.assert_allclose(v1.resize_area(X, [1, 2]).numpy()[0, ..., 0], [[6., 15.]])
    got = v1.resize_image_with_pad(X, 4, 4)
    np.testing.assert_allclose(got.numpy()[0, ..., 0],
                               [[1., 1.75, 3., 4.], [8., 14., 24., 32.], [0.] * 4, [0.] * 4])


def test_renamed_tf2_functions():
    np.testing.assert_array_equal(v1.transpose_image(X).numpy(),
                                  np.transpose(X, [0, 2, 1, 3]))
    np.testing.assert_array_equal(v1.resize_image_with_crop_or_pad(X, 2, 1).numpy(),
                                  X[:, :, 1:2])
    patches = v1.extract_image_patches(X, ksizes=[1, 2, 2, 1], strides=[1, 1, 1, 1],
                                       rates=[1, 1, 1, 1], padding="VALID")
    np.testing.assert_array_equal(patches.numpy()[0, 0], [[1., 2., 8., 16.],
                                                         [2., 4., 16., 32.]])
    # the rest of tf.image stays reachable under compat.v1
    assert v1.flip_left_right is tf.image.flip_left_right


def test_inside_function_matches_eager():
    f = tf.function(lambda x: v1.resize_bilinear(x, [3, 4], align_corners=True))
    np.testing.assert_allclose(f(tf.constant(X)).numpy(),
                               v1.resize_bilinear(X, [3, 4], align_corners=True).numpy())
