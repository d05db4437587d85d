"""Round 23 (I): vision programs compared with TF 2.21 / Keras 3.15 (CPU).

Expected figures were printed by the same programs run under TensorFlow.
"""

import io

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError

keras = tf.keras
L = keras.layers


# ------------------------------------------------------------ convert_image_dtype
F = np.array([-0.5, 0.0, 0.3, 0.999, 1.0, 1.5], "float32")


def _cid(x, dtype, saturate):
    out = tf.image.convert_image_dtype(x, dtype, saturate=saturate)
    return np.asarray(out).tolist()


def test_convert_float_to_int32_saturate_clamps_at_largest_float32_below_max():
    # TF: the float32 product is clamped to float32(2**31 - 128) before the cast
    assert _cid(F, tf.int32, True) == [-1073741824, 0, 644245120, 2145336192,
                                       2147483520, 2147483520]
    # (without saturate the out-of-range cast is the platform's: TF's CPU wraps)
    assert _cid(F.astype("float64"), tf.int32, True)[4:] == [2147483647, 2147483647]


def test_convert_float_to_small_ints_saturate():
    assert _cid(F, tf.uint8, True) == [0, 0, 76, 255, 255, 255]
    assert _cid(F, tf.int8, True) == [-63, 0, 38, 127, 127, 127]
    with tf.device("/CPU:0"):   # unsaturated out-of-range casts are the platform's:
        # the CPU wraps as TF's CPU kernel; a GPU's conversion instruction clamps
        assert _cid(F, tf.uint8, False) == [129, 0, 76, 255, 255, 127]


def test_convert_int_to_unsigned_saturate_clamps_negatives_to_zero():
    i32 = np.array([-2**31, -5, 0, 2**24, 2**31 - 1], "int32")
    assert _cid(i32, tf.uint8, True) == [0, 0, 0, 2, 255]
    assert _cid(i32, tf.uint8, False) == [0, 255, 0, 2, 255]
    assert _cid(i32, tf.uint16, True) == [0, 0, 0, 512, 65535]
    i8 = np.array([-128, -1, 0, 5, 127], "int8")
    # widening: saturate-cast first, then scale up
    assert _cid(i8, tf.uint8, True) == [0, 0, 0, 10, 254]
    assert _cid(i8, tf.uint8, False) == [0, 254, 0, 10, 254]
    assert _cid(i8, tf.uint16, False) == [0, 65024, 0, 2560, 65024]
    assert _cid(np.array([0, 1, 200, 255], "uint8"), tf.int8, True) == [0, 0, 100, 127]


def test_adjust_brightness_on_uint8_images_still_saturates():
    img = np.array([[[0, 100, 250]]], "uint8")
    out = tf.image.adjust_brightness(img, 0.1)
    assert out.dtype == tf.uint8
    assert np.asarray(out).tolist() == [[[25, 125, 255]]]


# ------------------------------------------------------------ draw_bounding_boxes
BOX = np.array([[[0.2, 0.2, 0.8, 0.8]]], "float32")
COLOR = np.array([[0.5, 1, 1]], "float32")
OUTLINE = [[0.5, 0.5, 0.5, 0.5, 0.0], [0.5, 0.0, 0.0, 0.5, 0.0],
           [0.5, 0.0, 0.0, 0.5, 0.0], [0.5, 0.5, 0.5, 0.5, 0.0], [0.0] * 5]


def test_draw_bounding_boxes_numpy_uint8_images_convert_to_float():
    out = tf.image.draw_bounding_boxes(np.zeros((1, 5, 5, 3), "uint8"), BOX, COLOR)
    assert out.dtype == tf.float32
    np.testing.assert_allclose(np.asarray(out)[0, :, :, 0], OUTLINE)
    full = tf.image.draw_bounding_boxes(np.full((1, 5, 5, 3), 200, "uint8"), BOX, COLOR)
    assert float(np.asarray(full)[0, 4, 4, 0]) == 200.0


def test_draw_bounding_boxes_rejects_uint8_tensors_two_channels_and_rank3():
    with pytest.raises(InvalidArgumentError):
        tf.image.draw_bounding_boxes(tf.constant(np.zeros((1, 5, 5, 3), "uint8")),
                                     BOX, COLOR)
    with pytest.raises(InvalidArgumentError, match="Channel depth"):
        tf.image.draw_bounding_boxes(np.zeros((1, 5, 5, 2), "float32"), BOX, COLOR)
    with pytest.raises(InvalidArgumentError, match="rank of the images should be 4"):
        tf.image.draw_bounding_boxes(np.zeros((5, 5, 3), "float32"), BOX, COLOR)
    gray = tf.image.draw_bounding_boxes(np.zeros((1, 5, 5, 1), "float32"), BOX, COLOR)
    np.testing.assert_allclose(np.asarray(gray)[0, :, :, 0], OUTLINE)


# ------------------------------------------------------------ load_img
def test_load_img_reads_a_bytesio_file(tmp_path):
    from PIL import Image
    rng = np.random.RandomState(0)
    pixels = (rng.uniform(0, 1, (20, 30, 3)) * 255).astype("uint8")
    path = tmp_path / "a.png"
    Image.fromarray(pixels).save(path)
    img = keras.utils.load_img(io.BytesIO(path.read_bytes()))
    assert img.mode == "RGB" and img.size == (30, 20)
    np.testing.assert_array_equal(keras.utils.img_to_array(img, dtype="uint8"), pixels)
    with open(path, "rb") as f:
        small = keras.utils.load_img(f, color_mode="grayscale", target_size=(10, 12))
    assert small.mode == "L" and small.size == (12, 10)


# ------------------------------------------------------------ masked BatchNormalization
def _masked_reference(x, mask, eps=1e-7):
    w = np.broadcast_to(mask[..., None].astype("float64"), x.shape)
    count = w.sum(axis=(0, 1)) + eps
    mean = (w * x).sum(axis=(0, 1)) / count
    var = (w * (x - mean) ** 2).sum(axis=(0, 1)) / count
    return mean, var


def test_batch_normalization_masked_training_uses_unmasked_moments():
    seq = np.random.RandomState(0).normal(0, 1, (2, 5, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    bn = L.BatchNormalization(momentum=0.5)
    out = np.asarray(bn(seq, training=True, mask=mask))
    mean, var = _masked_reference(seq.astype("float64"), mask)
    expected = (seq - mean) / np.sqrt(var + 1e-3)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    assert abs(float(out.sum())) > 0.1   # unmasked moments would centre it to 0
    np.testing.assert_allclose(np.asarray(bn.moving_mean), 0.5 * mean, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(bn.moving_variance), 0.5 + 0.5 * var,
                               rtol=1e-5)
    # inference ignores the mask: moving statistics only
    inf = np.asarray(bn(seq, training=False, mask=mask))
    moving_mean, moving_var = bn.moving_mean.numpy(), bn.moving_variance.numpy()
    np.testing.assert_allclose(inf, (seq - moving_mean) / np.sqrt(moving_var + 1e-3),
                               rtol=1e-4, atol=1e-5)


def test_masking_then_batch_normalization_fit_matches_tf_moving_stats():
    seq = np.random.RandomState(0).normal(0, 1, (4, 5, 3)).astype("float32")
    seq[0, 3:] = 0
    seq[2, 1:] = 0
    model = keras.Sequential([keras.Input((5, 3)), L.Masking(0.0),
                              L.BatchNormalization(momentum=0.5),
                              L.GlobalAveragePooling1D()])
    assert float(np.asarray(model(seq, training=True)).sum()) == pytest.approx(
        0.2541, abs=1e-3)
    np.testing.assert_allclose(model.layers[1].moving_mean.numpy(),
                               [0.2536, 0.0677, -0.1632], atol=1e-4)
    model.compile("sgd", "mse")
    model.fit(seq, np.zeros((4, 3), "float32"), epochs=2, batch_size=2, verbose=0,
              shuffle=False)
    np.testing.assert_allclose(model.layers[1].moving_mean.numpy(),
                               [0.2128, -0.0392, -0.3503], atol=1e-4)
    np.testing.assert_allclose(model.layers[1].moving_variance.numpy(),
                               [0.5967, 0.6736, 0.7582], atol=1e-4)


def test_batch_normalization_all_masked_batch_stays_finite():
    seq = np.random.RandomState(1).normal(0, 1, (2, 4, 3)).astype("float32")
    bn = L.BatchNormalization()
    out = np.asarray(bn(seq, training=True, mask=np.zeros((2, 4), bool)))
    assert np.isfinite(out).all()
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.0, atol=1e-6)


# ------------------------------------------------------------ programs that agree
def test_small_cnn_fit_with_fixed_weights_matches_tf_figures():
    rng = np.random.RandomState(0)
    x = rng.uniform(0, 1, (64, 28, 28, 1)).astype("float32")
    top, bottom = x[:, :14].mean(axis=(1, 2, 3)), x[:, 14:].mean(axis=(1, 2, 3))
    y = (top > bottom).astype("int32")
    model = keras.Sequential([
        keras.Input((28, 28, 1)), L.Conv2D(8, 3, activation="relu"),
        L.BatchNormalization(), L.MaxPool2D(),
        L.Conv2D(16, 3, padding="same", activation="relu"),
        L.GlobalAveragePooling2D(), L.Dense(2, activation="softmax")])
    assert model.count_params() == 1314
    assert [layer.count_params() for layer in model.layers] == [80, 32, 0, 1168, 0, 34]
    r2 = np.random.RandomState(5)
    model.set_weights([
        np.abs(r2.uniform(0.5, 1.5, w.shape)).astype("float32") if i in (3, 5)
        else r2.uniform(-0.3, 0.3, w.shape).astype("float32")
        for i, w in enumerate(model.get_weights())])
    pred = model.predict(x, verbose=0)
    np.testing.assert_allclose(pred.sum(axis=1), 1.0, rtol=1e-5)
    assert float((pred ** 2).sum()) == pytest.approx(33.737, abs=2e-3)
    model.compile(keras.optimizers.SGD(0.05), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    loss0, _ = model.evaluate(x, y, verbose=0, batch_size=16)
    assert loss0 == pytest.approx(0.72109, abs=1e-4)
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0, shuffle=False)
    np.testing.assert_allclose(history.history["loss"], [0.7589, 0.7804, 0.7619],
                               atol=2e-4)
    bn = model.layers[1]
    np.testing.assert_allclose(bn.moving_mean.numpy()[:3], [0.1673, -0.2544, 0.0465],
                               atol=2e-4)
    np.testing.assert_allclose(bn.moving_variance.numpy()[:3], [0.8451, 1.0663, 0.7386],
                               atol=2e-4)
    assert model.evaluate(x, y, verbose=0)[0] == pytest.approx(0.752, abs=2e-4)


@pytest.mark.parametrize("layer, shape, out_shape, figures", [
    # figures: (sum, sum of squares) TF 2.21 printed for the same weights and input
    (lambda: L.Conv2DTranspose(3, 3, strides=2, output_padding=1), (2, 5, 5, 2),
     (2, 12, 12, 3), (-87.1485, 165.1803)),
    (lambda: L.Conv2DTranspose(3, 4, strides=2, output_padding=(0, 1)), (1, 4, 4, 2),
     (1, 10, 11, 3), (-54.8065, 85.6117)),
    (lambda: L.Conv1D(4, 3, padding="causal", dilation_rate=2), (2, 10, 3),
     (2, 10, 4), (-1.3834, 25.4698)),
    (lambda: L.SeparableConv2D(4, 3, depth_multiplier=2, padding="same"),
     (2, 6, 6, 3), (2, 6, 6, 4), (-88.1821, 57.7231)),
    (lambda: L.DepthwiseConv2D(3, strides=2, depth_multiplier=2), (2, 7, 7, 2),
     (2, 3, 3, 4), (8.6284, 28.9553)),
    (lambda: L.Conv3D(2, 3, strides=(1, 2, 1), padding="same"), (1, 4, 5, 6, 2),
     (1, 4, 3, 6, 2), (-18.8706, 142.7581)),
    (lambda: L.Conv2D(4, 3, groups=2), (2, 6, 6, 4), (2, 4, 4, 4), (11.0417, 82.5712)),
    (lambda: L.AveragePooling2D((2, 3), strides=(3, 2), padding="same"),
     (1, 7, 5, 2), (1, 3, 3, 2), (-0.6246, 1.5815)),
    (lambda: L.UpSampling2D(size=(2, 3), interpolation="bilinear"), (1, 3, 4, 2),
     (1, 6, 12, 2), (-22.5556, 31.2107)),
    (lambda: L.GlobalMaxPool2D(keepdims=True), (2, 5, 5, 3), (2, 1, 1, 3),
     (5.6935, 5.4074)),
])
def test_vision_layers_match_tf_figures(layer, shape, out_shape, figures):
    layer = layer()
    rng = np.random.RandomState(1)
    x = rng.uniform(-1, 1, shape).astype("float32")
    layer(x)
    layer.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype("float32")
                       for w in layer.get_weights()])
    out = np.asarray(layer(x), "float64")
    assert out.shape == out_shape
    assert tuple(layer.compute_output_shape((None,) + shape[1:]))[1:] == out_shape[1:]
    assert out.sum() == pytest.approx(figures[0], abs=2e-4)
    assert (out ** 2).sum() == pytest.approx(figures[1], abs=2e-4)


def test_channels_first_conv_bias_is_per_filter():
    # TF 2.21 (Keras 3) adds this bias along the width axis when width == filters;
    # dlframe follows Keras 2 and the NumPy reference: one bias per output channel
    rng = np.random.RandomState(1)
    x = rng.uniform(-1, 1, (2, 3, 6, 6)).astype("float32")
    kernel = rng.uniform(-1, 1, (3, 3, 3, 4)).astype("float32")
    bias = np.array([1, 2, 3, 4], "float32")
    layer = L.Conv2D(4, 3, data_format="channels_first")
    layer(x)
    layer.set_weights([kernel, bias])
    xn = x.transpose(0, 2, 3, 1)
    ref = np.zeros((2, 4, 4, 4), "float32")
    for i in range(4):
        for j in range(4):
            ref[:, i, j] = np.einsum("nhwc,hwco->no", xn[:, i:i + 3, j:j + 3], kernel)
    ref = ref.transpose(0, 3, 1, 2) + bias[None, :, None, None]
    np.testing.assert_allclose(np.asarray(layer(x)), ref, atol=1e-5)


# ------------------------------------------------------------ decoders and formats
def _encoded(fmt, frames=1):
    from PIL import Image
    rng = np.random.RandomState(0)
    images = [Image.fromarray((rng.uniform(0, 1, (6, 7, 3)) * 255).astype("uint8"))
              for _ in range(frames)]
    buf = io.BytesIO()
    if frames > 1:
        images[0].save(buf, format=fmt, save_all=True, append_images=images[1:])
    else:
        images[0].save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("op, fmt, shape", [
    ("decode_png", "JPEG", (6, 7, 3)), ("decode_png", "GIF", (6, 7, 3)),
    ("decode_jpeg", "PNG", (6, 7, 3)), ("decode_jpeg", "GIF", (6, 7, 3)),
    ("decode_gif", "PNG", (1, 6, 7, 3)), ("decode_gif", "JPEG", (1, 6, 7, 3)),
    ("decode_bmp", "BMP", (6, 7, 3)), ("decode_image", "BMP", (6, 7, 3)),
])
def test_decoders_accept_the_formats_tf_accepts(op, fmt, shape):
    assert tuple(getattr(tf.io, op)(_encoded(fmt)).shape) == shape


@pytest.mark.parametrize("op, fmt, message", [
    ("decode_png", "BMP", "Trying to decode BMP format using a wrong op. Use "
                          "`decode_bmp` or `decode_image` instead. Op used: DecodePng"),
    ("decode_jpeg", "BMP", "Op used: DecodeJpeg"),
    ("decode_gif", "BMP", "Op used: DecodeGif"),
    ("decode_bmp", "PNG", "Trying to decode PNG format using DecodeBmp op. Use "
                          "`decode_png` or `decode_image` instead."),
    ("decode_bmp", "JPEG", "Use `decode_jpeg`"),
    ("decode_bmp", "GIF", "Use `decode_gif`"),
])
def test_decoders_refuse_the_formats_tf_refuses(op, fmt, message):
    with pytest.raises(InvalidArgumentError, match=message.replace("(", r"\(")):
        getattr(tf.io, op)(_encoded(fmt))


def test_png_and_jpeg_decoders_refuse_animated_gifs():
    gif = _encoded("GIF", frames=3)
    for op in ("decode_png", "decode_jpeg"):
        with pytest.raises(InvalidArgumentError, match="Got 3 frames"):
            getattr(tf.io, op)(gif)
    assert tuple(tf.io.decode_gif(gif).shape) == (3, 6, 7, 3)
    assert tuple(tf.io.decode_image(gif, expand_animations=False).shape) == (6, 7, 3)


# ------------------------------------------------------------ padded NMS
BOXES = np.array([[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, 0.05, 1, 1.05], [0, 10, 1, 11],
                  [0, 10.1, 1, 11.1], [2, 2, 3, 3]], "float32")
SCORES = np.array([0.9, 0.75, 0.6, 0.95, 0.5, 0.3], "float32")


def _flip(boxes, rows):
    boxes = boxes.copy()
    boxes[rows] = boxes[rows][:, [2, 3, 0, 1]]
    return boxes


def _padded(boxes, scores=SCORES, **kw):
    idx, valid = tf.image.non_max_suppression_padded(
        boxes, scores, 6, 0.5, pad_to_max_output_size=True, **kw)
    return np.asarray(idx).tolist(), np.asarray(valid).tolist()


@pytest.mark.parametrize("flipped, canonical, expected", [
    # TF 2.21: the first box decides one orientation for all; a box left with
    # y1 > y2 and x1 > x2 overlaps nothing
    ([], False, ([3, 0, 5, 0, 0, 0], 3)),
    ([0, 1, 2, 3, 4, 5], False, ([3, 0, 5, 0, 0, 0], 3)),
    ([0, 1, 2, 3, 4, 5], True, ([3, 0, 1, 2, 4, 5], 6)),
    ([3], False, ([3, 0, 4, 5, 0, 0], 4)),
    ([0], False, ([3, 0, 1, 2, 4, 5], 6)),
    ([0], True, ([3, 0, 1, 5, 0, 0], 4)),
    ([0, 3], True, ([3, 0, 1, 4, 5, 0], 5)),
])
def test_nms_padded_orientation_follows_the_first_box(flipped, canonical, expected):
    boxes = _flip(BOXES, flipped)
    assert _padded(boxes, canonicalized_coordinates=canonical) == expected
    # the unpadded op orders each box's corners on its own
    assert np.asarray(tf.image.non_max_suppression(boxes, SCORES, 6, 0.5)).tolist() == [
        3, 0, 5]


def test_nms_padded_sorted_input_trusts_the_given_order():
    assert _padded(BOXES, sorted_input=True) == ([0, 3, 5, 0, 0, 0], 3)
    batch = np.stack([_flip(BOXES, [0, 1, 2, 3, 4, 5]), BOXES])
    idx, valid = _padded(batch, np.stack([SCORES, SCORES]))
    assert idx == [[3, 0, 5, 0, 0, 0], [3, 0, 1, 2, 4, 5]] and valid == [3, 6]


def test_nms_padded_in_a_function_matches_eager():
    fn = tf.function(lambda b, s: tf.image.non_max_suppression_padded(
        b, s, 6, 0.5, pad_to_max_output_size=True))
    idx, valid = fn(tf.constant(_flip(BOXES, [3])), tf.constant(SCORES))
    assert np.asarray(idx).tolist() == [3, 0, 4, 5, 0, 0] and int(valid) == 4


def test_ssim_of_mixed_dtypes_raises_tf_error_classes():
    img = np.random.RandomState(0).uniform(0, 1, (1, 16, 16, 3)).astype("float32")
    with pytest.raises(InvalidArgumentError):
        tf.image.ssim(img, (img * 255).astype("uint8"), 1.0)
    with pytest.raises(TypeError):
        tf.image.psnr(img, (img * 255).astype("uint8"), 1.0)


def _palette_gif(index_frames, transparency):
    from PIL import Image
    palette = [10, 20, 30, 200, 100, 50, 90, 180, 250] + [0] * (256 * 3 - 9)
    frames = []
    for indices in index_frames:
        frame = Image.fromarray(np.asarray(indices, "uint8"), mode="P")
        frame.putpalette(palette)
        frames.append(frame)
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:],
                   transparency=transparency, optimize=False, disposal=1)
    return buf.getvalue()


def test_gif_transparent_pixels_are_black_then_keep_the_previous_frame():
    first = [[0, 1, 2], [1, 0, 2]]
    second = [[1, 0, 0], [2, 2, 0]]
    frames = tf.io.decode_gif(_palette_gif([first, second], transparency=0)).numpy()
    colours = {1: [200, 100, 50], 2: [90, 180, 250]}
    expected0 = [[[0, 0, 0] if i == 0 else colours[i] for i in row] for row in first]
    np.testing.assert_array_equal(frames[0], expected0)   # TF: black, not palette 0
    expected1 = [[expected0[r][c] if i == 0 else colours[i] for c, i in enumerate(row)]
                 for r, row in enumerate(second)]
    np.testing.assert_array_equal(frames[1], expected1)
    single = tf.io.decode_image(_palette_gif([first], transparency=0),
                                expand_animations=False).numpy()
    np.testing.assert_array_equal(single, expected0)


def test_smart_resize_channels_first_matches_channels_last():
    x = np.random.RandomState(0).uniform(0, 255, (2, 10, 14, 3)).astype("float32")
    smart_resize = keras.preprocessing.image.smart_resize
    last = np.asarray(smart_resize(x, (6, 6)))
    first = smart_resize(x.transpose(0, 3, 1, 2), (6, 6), data_format="channels_first")
    assert tuple(first.shape) == (2, 3, 6, 6)
    np.testing.assert_allclose(np.asarray(first).transpose(0, 2, 3, 1), last)
    assert float(last.sum()) == pytest.approx(27193.62, abs=0.05)   # TF 2.21
    single = smart_resize(x[0].transpose(2, 0, 1), (12, 5), data_format="channels_first")
    assert tuple(single.shape) == (3, 12, 5)
    with pytest.raises(ValueError, match="data_format"):
        smart_resize(x, (6, 6), data_format="nchw")


# ------------------------------------------------------------ stateless crops
TF_CROPS = [  # (begin, size) TF 2.21 returned for the cases below
    ([101, 28, 0], [24, 21, -1]), ([90, 16, 0], [112, 75, -1]),
    ([3, 39, 0], [82, 108, -1]), ([7, 38, 0], [91, 109, -1]),
    ([33, 0, 0], [43, 36, -1]), ([26, 12, 0], [145, 114, -1]),
    ([38, 0, 0], [33, 40, -1]), ([1, 136, 0], [120, 98, -1]),
    ([35, 2, 0], [53, 42, -1]), ([14, 2, 0], [121, 118, -1]),
    ([30, 13, 0], [138, 130, -1]), ([10, 6, 0], [32, 39, -1]),
]


def test_stateless_sample_distorted_bounding_box_gives_tf_crops():
    rng = np.random.RandomState(0)
    for i, expected in enumerate(TF_CROPS):
        h, w = int(rng.randint(5, 300)), int(rng.randint(5, 300))
        y0, x0 = rng.uniform(0, 0.8, 2)
        y1, x1 = y0 + rng.uniform(0.01, 0.2), x0 + rng.uniform(0.01, 0.2)
        boxes = np.array([[[y0, x0, y1, x1], [0.1, 0.2, 0.5, 0.9]]],
                         "float32")[:, :1 + i % 2]
        seed = (int(rng.randint(-2**31, 2**31 - 1)), int(rng.randint(0, 1000)))
        kw = [{}, dict(aspect_ratio_range=(0.5, 2.0), area_range=(0.3, 0.9)),
              dict(min_object_covered=0.7, max_attempts=20)][i % 3]
        begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
            [h, w, 3], boxes, seed, **kw)
        assert (begin.numpy().tolist(), size.numpy().tolist()) == expected, i
    begin, size, drawn = tf.image.stateless_sample_distorted_bounding_box(
        tf.constant([10, 10, 3], tf.int64), np.array([[[0., 0., 1., 1.]]], "float32"),
        tf.constant([1, 2], tf.int64))
    assert begin.numpy().tolist() == [5, 3, 0] and size.numpy().tolist() == [3, 4, -1]
    np.testing.assert_allclose(drawn.numpy(), [[[0.5, 0.3, 0.8, 0.7]]], rtol=1e-6)
