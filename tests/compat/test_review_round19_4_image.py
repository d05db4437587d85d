"""Review of tf.compat.v1.image (round 19, reviewer 4): TF1's bicubic resize on the
legacy and align_corners grids, and area resize with align_corners, which raised
UnimplementedError (so did ``resize_images(method=BICUBIC)`` with its defaults).

Expected values come from TensorFlow 2.21's tf.compat.v1.image on the same inputs.
"""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_function_matches_eager

v1 = tf.compat.v1.image
X = np.array([[1., 2., 4.], [8., 16., 32.]], np.float32).reshape(1, 2, 3, 1)
Y = (np.arange(20, dtype=np.float32) ** 1.5).reshape(1, 4, 5, 1)


@pytest.mark.parametrize("images, size, align_corners, want", [
    (X, [3, 4], False,
     [[1.0, 1.5625, 3.09375, 4.2109375],
      [5.798764705657959, 9.060569763183594, 17.939926147460938, 24.418235778808594],
      [8.777777671813965, 13.715278625488281, 27.156248092651367, 36.96267318725586]]),
    (Y, [3, 7], True,
     [[0.0, 0.48237940669059753, 1.554734706878662, 2.8284270763397217,
       4.241484642028809, 6.340937614440918, 8.0],
      [19.967967987060547, 22.428529739379883, 25.93997573852539, 28.841764450073242,
       31.813228607177734, 35.72209548950195, 38.619483947753906],
      [58.094749450683594, 61.46604537963867, 66.22400665283203, 70.0927963256836,
       74.0155258178711, 79.09349060058594, 82.81907653808594]]),
    (Y, [6, 3], False,
     [[0.0, 2.0458498001098633, 6.340937614440918],
      [5.393165588378906, 9.825972557067871, 16.013004302978516],
      [17.382461547851562, 24.267366409301758, 32.59165954589844],
      [31.62277603149414, 39.65015411376953, 49.194393157958984],
      [50.90434265136719, 60.20625305175781, 71.06355285644531],
      [61.03608322143555, 70.93580627441406, 82.41561126708984]]),
])
def test_resize_bicubic_legacy_grids_from_tf(images, size, align_corners, want):
    got = v1.resize_bicubic(images, size, align_corners=align_corners)
    assert got.dtype == tf.float32 and got.shape == (1, *size, 1)
    np.testing.assert_allclose(got.numpy()[0, ..., 0], want, rtol=2e-6, atol=1e-6)


def test_resize_bicubic_raw_op_and_resize_images():
    want = v1.resize_bicubic(X, [3, 4]).numpy()
    raw = tf.raw_ops.ResizeBicubic(images=X, size=[3, 4])
    np.testing.assert_array_equal(raw.numpy(), want)
    got = v1.resize_images(X[0].astype(np.uint8), [3, 4],
                           method=v1.ResizeMethod.BICUBIC)
    assert got.dtype == tf.float32 and got.shape == (3, 4, 1)
    np.testing.assert_allclose(got.numpy(), want[0], rtol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError):   # TF's error for both grids
        v1.resize_bicubic(X, [3, 4], align_corners=True, half_pixel_centers=True)


def _check_linear_gradient(resize, images):
    """Tape gradient of ``sum(resize(x) * w)`` against central differences (exact
    for a linear map up to float32 rounding; the TF1 resizes return float32)."""
    w = np.random.default_rng(0).standard_normal(resize(images).shape).astype(np.float32)
    x = tf.constant(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(resize(x) * w)
    got = tape.gradient(loss, x).numpy()
    want = np.zeros(images.shape)
    for i in np.ndindex(images.shape):
        step = np.zeros(images.shape, np.float32)
        step[i] = 0.5
        up, down = (float(np.sum(resize(images + s).numpy().astype(np.float64) * w))
                    for s in (step, -step))
        want[i] = (up - down) / 1.0
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_resize_bicubic_legacy_gradient_and_function():
    _check_linear_gradient(lambda v: v1.resize_bicubic(v, [3, 7], align_corners=True), Y)
    _check_linear_gradient(lambda v: v1.resize_bicubic(v, [6, 3]), Y)
    check_function_matches_eager(lambda v: v1.resize_bicubic(v, [6, 3]), [Y])


def test_resize_area_align_corners_from_tf():
    got = v1.resize_area(Y, [3, 7], align_corners=True)
    assert got.dtype == tf.float32
    np.testing.assert_allclose(got.numpy()[0, ..., 0], [
        [3.7267799377441406, 4.646213531494141, 5.565645694732666, 8.059038162231445,
         9.532807350158691, 11.006571769714355, 14.33333969116211],
        [24.808631896972656, 27.0147647857666, 29.22089195251465, 33.88623809814453,
         36.33841323852539, 38.79057312011719, 43.92215347290039],
        [58.09475326538086, 61.0473747253418, 63.999996185302734, 70.09280395507812,
         73.23017120361328, 76.36750793457031, 82.81912231445312]], rtol=2e-6)
    # a single input row spread over two: copied, as TF
    one = v1.resize_area(X[:, :1], [2, 5], align_corners=True)
    np.testing.assert_array_equal(one.numpy()[0, ..., 0], [[1., 1., 2., 2., 4.]] * 2)
    same = v1.resize_images(Y.astype(np.uint8), [3, 7], method=v1.ResizeMethod.AREA,
                            align_corners=True)
    assert same.dtype == tf.float32 and same.shape == (1, 3, 7, 1)


def test_resize_area_align_corners_gradient():
    _check_linear_gradient(lambda v: v1.resize_area(v, [3, 2], align_corners=True), Y)
    _check_linear_gradient(lambda v: v1.resize_area(v, [6, 9], align_corners=True), Y)
