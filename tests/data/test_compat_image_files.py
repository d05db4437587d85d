"""Image files in input pipelines: tf.io.decode_png / decode_image / decode_bmp /
encode_png against files written by TensorFlow's libpng (embedded below) and against PNGs
built here with every row filter, colour type and bit depth. Channel conversions and
16-bit scaling follow values recorded from TensorFlow 2.21."""

import base64
import io
import struct
import zlib

import numpy as np
import pytest

import dlframe as tf

# tf.io.encode_png outputs (TF 2.21) of the images built by _tf_fixture_image(): libpng
# chose filters None, Sub, Up and Paeth for their rows.
TF_RGB_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAMCAIAAADQ/GvKAAAAtklEQVQYlWNkYGCQY+DCRCwMIlwMDFgQXSTW"
    "nHYWEWljVuETWPcy0ClkC6NbUmbU22knmNYoGURy+brpZv29d/nWj8wXv67P+8D7zeYpQ99yhYOcO+sV5E99"
    "mb743+mi7TJKDQ1LTFuZZjBcCWA4/YphdihD1jyGe8cZvEIZ9NYx/GbJYHD8x1B6gqHrOYNeAsMtXwY/GYbb"
    "axisWDoZIuIY2u4yVM5l2KbEULuUQcWQwfI9w2wAJA5ARrRUbtoAAAAASUVORK5CYII=")
TF_GRAY_ALPHA_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAMCAQAAAD1lzQWAAAAgUlEQVQImWNkYJDjQoZMDFyokBoCDGtKD/w+"
    "zHn5k4rbjR6rZ+rrmNYYRPq6Zf29fCvzxfV5vN+eMiedy2uV6lRW3a9xsLX2Z+sfRrUvrydEmG1zV1rxY6+d"
    "x+1LzNW7bf1uTTrLGyNe4OB+77sx84Vilaln8zs+m/SvPPWN5cV8AFFnN2GbOpkrAAAAAElFTkSuQmCC")
TF_RGB16_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAMEAIAAACAbLeJAAABhUlEQVQokY2OPWgTARiGH8sNR3KiQyEBI5z0"
    "ak5JoILRG0IJpOBSpJaAgWbIkJCMJxQNJUOGKgoROmgINIQOoTqJQ5RDUIPiUJIhUH9S6GDjSU9IoEMgB54/"
    "g1oiKnZ5eXl4vp9DADChgtuYUEEayd+JooJkCODR3QaANJJ/kl9cAI9+MPVHF8CrH0zdH/jbS/9a4R698D/1"
    "Z99YOT9+y7fDxeWTirmcq7uKwxlv5Vj59FR6MC9+kTNy7WjU7gYO3wzW04OmJVRX/B0t8njWmWsKfTHUS2qf"
    "8rVY0vvNGq7tSmZcsO/tPVH7s0fCyvaFuZ0E69mX9clCN+Aqdlp3Xk8WlFjPOL73cPBcOHW/b14vv12U2/5O"
    "iRKNqWnf6vbYDRls/UwDXpi7GjyqaRW4pN1WYUt9ehYuG6kKhKw1Cz4rwtJ7OBH4qkDQ9ywFV/lQhnOW3oLN"
    "3EIYFrJyG97Uqg5E7bHFImTkjxJcEd85cC1hOKBF5kXI5O8mIB55YMOrbG8c4pHv01ugAj4MSl0AAAAASUVO"
    "RK5CYII=")


def _tf_fixture_image():
    rng = np.random.RandomState(0)
    yy, xx = np.mgrid[0:12, 0:8]
    img = np.stack([xx * 30, yy * 20, (xx + yy) * 10], -1).astype(np.uint8)
    img[6:] = rng.randint(0, 256, size=(6, 8, 3))
    img[9:, :, 1] = img[8, :, 1]
    return img


def test_decodes_libpng_files_exactly():
    img = _tf_fixture_image()
    rgb = tf.io.decode_png(base64.b64decode(TF_RGB_PNG))
    assert rgb.dtype == tf.uint8 and rgb.shape == [12, 8, 3]
    np.testing.assert_array_equal(rgb.numpy(), img)
    gray_alpha = tf.image.decode_png(base64.b64decode(TF_GRAY_ALPHA_PNG))
    np.testing.assert_array_equal(gray_alpha.numpy(), img[..., [0, 2]])
    deep = base64.b64decode(TF_RGB16_PNG)
    wide = tf.io.decode_png(deep, dtype=tf.uint16)
    assert wide.dtype == tf.uint16
    np.testing.assert_array_equal(wide.numpy(), img.astype(np.uint16) * np.uint16(300))
    # TF's 16 -> 8 bit conversion keeps the high byte
    assert tf.io.decode_png(deep).numpy()[11, 7].tolist() == [153, 62, 49]


def test_channel_conversions_follow_tf():
    data = base64.b64decode(TF_RGB_PNG)
    gray = tf.io.decode_png(data, channels=1)
    assert gray.numpy()[:2, :4, 0].tolist() == [[0, 10, 20, 30], [12, 22, 33, 43]]
    primaries = tf.io.encode_png(np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255],
                                            [10, 200, 37]]], np.uint8))
    assert tf.io.decode_png(primaries, channels=1).numpy().ravel().tolist() == [
        76, 149, 29, 124]
    rgba = tf.io.decode_png(data, channels=4).numpy()
    assert rgba.shape == (12, 8, 4) and (rgba[..., 3] == 255).all()
    from_gray = tf.io.decode_png(tf.io.encode_png(_tf_fixture_image()[..., :1]), channels=3)
    assert (from_gray.numpy() == _tf_fixture_image()[..., :1]).all()
    as_float = tf.io.decode_image(data, dtype=tf.float32)
    assert as_float.dtype == tf.float32
    np.testing.assert_allclose(as_float.numpy(), _tf_fixture_image() / 255.0, rtol=1e-6)
    upsampled = tf.io.decode_png(primaries, dtype=tf.uint16).numpy()
    assert upsampled[0, 3].tolist() == [10 * 257, 200 * 257, 37 * 257]


def _chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(
        ">I", zlib.crc32(kind + body))


def _filter_row(kind, row, prev, bpp):
    """PNG encoder side of the row filters (the decoder must invert each)."""
    out = bytearray(len(row))
    for i, value in enumerate(row):
        left = row[i - bpp] if i >= bpp else 0
        up = prev[i]
        upper_left = prev[i - bpp] if i >= bpp else 0
        if kind == 0:
            pred = 0
        elif kind == 1:
            pred = left
        elif kind == 2:
            pred = up
        elif kind == 3:
            pred = (left + up) // 2
        else:
            p = left + up - upper_left
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
            pred = left if pa <= pb and pa <= pc else (up if pb <= pc else upper_left)
        out[i] = (value - pred) % 256
    return bytes([kind]) + bytes(out)


def _png(rows, width, depth, color, extra=b""):
    height = len(rows)
    bpp = max(1, depth * {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color] // 8)
    prev, raw = bytes(len(rows[0])), b""
    for y, row in enumerate(rows):
        raw += _filter_row(y % 5, row, prev, bpp)
        prev = row
    header = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + extra
            + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b""))


@pytest.mark.parametrize("channels,color", [(1, 0), (2, 4), (3, 2), (4, 6)])
def test_every_row_filter_is_undone(channels, color):
    pixels = np.random.RandomState(channels).randint(0, 256, (10, 7, channels))
    pixels = pixels.astype(np.uint8)
    data = _png([pixels[y].tobytes() for y in range(10)], 7, 8, color)
    np.testing.assert_array_equal(tf.io.decode_png(data).numpy(), pixels)


def test_palette_transparency_and_low_bit_depths():
    palette = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)
    index = np.array([[0, 1, 2, 3, 3], [3, 2, 1, 0, 0]], np.uint8)
    packed = [bytes([(r[0] << 6) | (r[1] << 4) | (r[2] << 2) | r[3], r[4] << 6])
              for r in index]
    extra = _chunk(b"PLTE", palette.tobytes()) + _chunk(b"tRNS", bytes([0, 128]))
    decoded = tf.io.decode_png(_png(packed, 5, 2, 3, extra)).numpy()
    assert decoded.shape == (2, 5, 4)
    np.testing.assert_array_equal(decoded[..., :3], palette[index])
    assert decoded[0, :, 3].tolist() == [0, 128, 255, 255, 255]
    bits = tf.io.decode_png(_png([bytes([0b10110000])], 4, 1, 0)).numpy()
    assert bits[0, :, 0].tolist() == [255, 0, 255, 255]


def test_bmp_and_encode_round_trips():
    pixels = np.random.RandomState(3).randint(0, 256, (3, 5, 3)).astype(np.uint8)
    row_bytes = (5 * 3 + 3) // 4 * 4
    body = b"".join(pixels[y, :, ::-1].tobytes().ljust(row_bytes, b"\0")
                    for y in range(2, -1, -1))   # bottom-up BGR rows, 4-byte aligned
    header = (b"BM" + struct.pack("<IHHI", 54 + len(body), 0, 0, 54)
              + struct.pack("<IiiHHIIiiII", 40, 5, 3, 1, 24, 0, len(body), 0, 0, 0, 0))
    bmp = header + body
    np.testing.assert_array_equal(tf.io.decode_bmp(bmp).numpy(), pixels)
    np.testing.assert_array_equal(tf.io.decode_image(bmp).numpy(), pixels)
    for dtype in (np.uint8, np.uint16):
        for channels in (1, 2, 3, 4):
            image = np.random.RandomState(channels).randint(
                0, np.iinfo(dtype).max, (4, 6, channels)).astype(dtype)
            png = tf.io.encode_png(image)
            assert png.dtype == tf.string and png.shape == []
            again = tf.io.decode_png(png, dtype=tf.as_dtype(dtype))
            np.testing.assert_array_equal(again.numpy(), image)


def test_bad_files_raise_invalid_argument(tmp_path):
    with pytest.raises(tf.errors.InvalidArgumentError, match="Unknown image file format"):
        tf.io.decode_image(b"definitely not an image")
    truncated = base64.b64decode(TF_RGB_PNG)[:60]
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.io.decode_png(truncated)
    with pytest.raises(tf.errors.InvalidArgumentError, match="channels"):
        tf.io.decode_png(base64.b64decode(TF_RGB_PNG), channels=2)
    path = str(tmp_path / "x.png")
    tf.io.write_file(path, base64.b64decode(TF_RGB_PNG))
    assert tf.io.matching_files(str(tmp_path / "*.png")).numpy().tolist() == [path.encode()]
    assert tf.io.read_file(path).numpy() == base64.b64decode(TF_RGB_PNG)


def test_jpeg_and_gif_through_pillow():
    pil_image = pytest.importorskip("PIL.Image")
    smooth = np.tile(np.linspace(0, 255, 16, dtype=np.uint8)[None, :, None], (8, 1, 3))
    jpeg = tf.io.encode_jpeg(smooth, quality=95)
    assert bool(tf.io.is_jpeg(jpeg)) and not bool(tf.io.is_jpeg(tf.io.encode_png(smooth)))
    decoded = tf.io.decode_jpeg(jpeg)
    assert decoded.shape == [8, 16, 3] and decoded.dtype == tf.uint8
    assert np.abs(decoded.numpy().astype(int) - smooth).max() <= 8
    assert tf.io.decode_image(jpeg, channels=1).shape == [8, 16, 1]
    frames = [pil_image.fromarray(np.full((4, 6, 3), v, np.uint8)) for v in (0, 200)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    gif = buffer.getvalue()
    animation = tf.io.decode_gif(gif)
    assert animation.shape == [2, 4, 6, 3] and animation.dtype == tf.uint8
    assert animation.numpy()[:, 0, 0, 0].tolist() == [0, 200]
    assert tf.io.decode_image(gif).shape == [2, 4, 6, 3]
    assert tf.io.decode_image(gif, expand_animations=False).shape == [4, 6, 3]
