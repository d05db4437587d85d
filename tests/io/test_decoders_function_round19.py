"""The tf.io codecs as graph ops: decoded eagerly and inside dlframe.function they
agree, the concrete functions' static shapes are TF's, bad bytes raise TF's
InvalidArgumentError when the function runs, and Dataset.map still works."""

import numpy as np
import pytest

import dlframe as tf

IMAGE = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
STRING = tf.TensorSpec([], tf.string)


def _encoded():
    return {"png": tf.io.encode_png(IMAGE),
            "bmp": tf.constant(_bmp_bytes(IMAGE)),
            "jpeg": tf.io.encode_jpeg(IMAGE, quality=100)}


def _bmp_bytes(image):
    """A 24-bit bottom-up BMP of ``image`` (RGB), built by hand."""
    h, w, _ = image.shape
    row = (w * 3 + 3) // 4 * 4
    pixels = b"".join(image[y, :, ::-1].tobytes().ljust(row, b"\0")
                      for y in range(h - 1, -1, -1))
    header = b"BM" + (54 + len(pixels)).to_bytes(4, "little") + bytes(4) + \
        (54).to_bytes(4, "little")
    info = (40).to_bytes(4, "little") + w.to_bytes(4, "little") + \
        h.to_bytes(4, "little") + (1).to_bytes(2, "little") + \
        (24).to_bytes(2, "little") + bytes(24)
    return header + info + pixels


@pytest.mark.parametrize("fmt, decode", [
    ("png", lambda c: tf.io.decode_png(c, channels=3)),
    ("png", lambda c: tf.io.decode_png(c, channels=1, dtype=tf.uint16)),
    ("bmp", lambda c: tf.io.decode_bmp(c)),
    ("bmp", lambda c: tf.io.decode_image(c, channels=4)),
    ("jpeg", lambda c: tf.io.decode_jpeg(c, channels=3)),
    ("jpeg", lambda c: tf.io.decode_image(c, dtype=tf.float32,
                                          expand_animations=False)),
    ("jpeg", lambda c: tf.io.extract_jpeg_shape(c)),
    ("jpeg", lambda c: tf.io.decode_and_crop_jpeg(c, [1, 0, 3, 2])),
])
def test_eager_and_function_decode_equal(fmt, decode):
    contents = _encoded()[fmt]
    eager = decode(contents).numpy()
    traced = tf.function(decode)
    np.testing.assert_array_equal(traced(contents).numpy(), eager)
    # the graph decodes the bytes of each call (not the traced ones baked in)
    other = IMAGE[::-1, :4].copy()
    again = {"png": tf.io.encode_png(other), "bmp": tf.constant(_bmp_bytes(other)),
             "jpeg": tf.io.encode_jpeg(other, quality=100)}[fmt]
    np.testing.assert_array_equal(traced(again).numpy(), decode(again).numpy())
    assert traced.experimental_get_tracing_count() == 1


def test_png_and_bmp_decode_exactly():
    png = tf.function(lambda c: tf.io.decode_png(c))(_encoded()["png"])
    np.testing.assert_array_equal(png.numpy(), IMAGE)
    bmp = tf.function(lambda c: tf.io.decode_bmp(c, channels=3))(_encoded()["bmp"])
    np.testing.assert_array_equal(bmp.numpy(), IMAGE)


def test_load_resize_program_from_a_file(tmp_path):
    path = str(tmp_path / "a.png")
    tf.io.write_file(path, tf.io.encode_png(IMAGE))

    @tf.function
    def load(p):
        img = tf.io.decode_png(tf.io.read_file(p), channels=3)
        assert img.shape.as_list() == [None, None, 3]
        return tf.image.resize(tf.image.convert_image_dtype(img, tf.float32), [4, 4])

    out = load(tf.constant(path))
    want = tf.image.resize(IMAGE.astype(np.float32) / 255.0, [4, 4])
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-6, atol=1e-6)
    assert load.get_concrete_function(STRING).structured_outputs.shape.as_list() == \
        [4, 4, 3]


# static shapes of get_concrete_function(TensorSpec([], tf.string)), from TF 2.21
# (None: an unknown rank)
@pytest.mark.parametrize("fn, shape, dtype", [
    (lambda c: tf.io.decode_png(c), [None, None, None], tf.uint8),
    (lambda c: tf.io.decode_png(c, channels=1, dtype=tf.uint16), [None, None, 1],
     tf.uint16),
    (lambda c: tf.io.decode_jpeg(c, channels=3), [None, None, 3], tf.uint8),
    (lambda c: tf.io.decode_bmp(c, channels=4), [None, None, 4], tf.uint8),
    (lambda c: tf.io.decode_gif(c), [None, None, None, 3], tf.uint8),
    (lambda c: tf.io.decode_image(c, channels=3), None, tf.uint8),
    (lambda c: tf.io.decode_image(c, dtype=tf.float32), None, tf.float32),
    (lambda c: tf.io.decode_image(c, channels=3, expand_animations=False),
     [None, None, 3], tf.uint8),
    (lambda c: tf.io.decode_raw(c, tf.float32), [None], tf.float32),
    (lambda c: tf.io.decode_raw(c, tf.int16, fixed_length=8), [4], tf.int16),
    (lambda c: tf.io.parse_tensor(c, tf.float32), None, tf.float32),
    (lambda c: tf.io.is_jpeg(c), [], tf.bool),
    (lambda c: tf.io.extract_jpeg_shape(c), [3], tf.int32),
    (lambda c: tf.io.decode_and_crop_jpeg(c, [0, 0, 2, 2], channels=3), [2, 2, 3],
     tf.uint8),
    (lambda c: tf.io.encode_png(tf.io.decode_png(c, channels=3)), [], tf.string),
    (lambda c: tf.io.encode_jpeg(tf.io.decode_png(c, channels=3)), [], tf.string),
    (lambda c: tf.shape(tf.io.decode_png(c, channels=3)), [3], tf.int32),
])
def test_concrete_function_static_shapes_match_tf(fn, shape, dtype):
    out = tf.function(fn).get_concrete_function(STRING).structured_outputs
    assert out.dtype == dtype
    assert (out.shape.rank is None if shape is None else
            out.shape.as_list() == shape)


def test_batched_strings_static_shapes_match_tf():
    batch = tf.TensorSpec([None], tf.string)
    shapes = {  # TF 2.21
        "raw": (lambda c: tf.io.decode_raw(c, tf.uint8), [None, None]),
        "fixed": (lambda c: tf.io.decode_raw(c, tf.int16, fixed_length=8), [None, 4]),
        "jpeg?": (lambda c: tf.io.is_jpeg(c), [None]),
    }
    for fn, shape in shapes.values():
        out = tf.function(fn).get_concrete_function(batch).structured_outputs
        assert out.shape.as_list() == shape
    with pytest.raises(ValueError, match="contents"):
        tf.function(lambda c: tf.io.decode_png(c)).get_concrete_function(batch)
    with pytest.raises(tf.errors.InvalidArgumentError, match="contents"):
        tf.io.decode_png(tf.constant([b"a", b"b"]))


def test_is_jpeg_is_elementwise():
    both = tf.constant([_encoded()["png"].numpy(), _encoded()["jpeg"].numpy()])
    assert tf.io.is_jpeg(both).numpy().tolist() == [False, True]
    assert tf.function(tf.io.is_jpeg)(both).numpy().tolist() == [False, True]


@pytest.mark.parametrize("decode", [
    lambda c: tf.io.decode_png(c, channels=3),
    lambda c: tf.io.decode_jpeg(c),
    lambda c: tf.io.decode_bmp(c),
    lambda c: tf.io.decode_gif(c),
    lambda c: tf.io.decode_image(c, channels=3, expand_animations=False),
    lambda c: tf.io.parse_tensor(c, tf.float32),
])
def test_bad_bytes_raise_invalid_argument_when_the_function_runs(decode):
    fn = tf.function(decode)
    with pytest.raises(tf.errors.InvalidArgumentError):
        fn(tf.constant(b"garbage"))   # the first call traces, then runs
    fn.get_concrete_function(STRING)   # tracing alone raises nothing, as in TF
    with pytest.raises(tf.errors.InvalidArgumentError):
        fn(tf.constant(b"still garbage"))


def test_raw_and_parse_tensor_in_a_function():
    raw = tf.function(lambda c: tf.io.decode_raw(c, tf.int16, little_endian=False))
    out = raw(tf.constant([b"abcd", b"efgh"]))
    np.testing.assert_array_equal(out.numpy(), [[24930, 25444], [25958, 26472]])  # TF
    with pytest.raises(tf.errors.InvalidArgumentError, match="same size"):
        raw(tf.constant([b"abcd", b"efg"]))
    parse = tf.function(lambda s: tf.io.parse_tensor(s, tf.float32))
    value = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(parse(tf.io.serialize_tensor(value)).numpy(), value)
    np.testing.assert_array_equal(parse(tf.io.serialize_tensor(value[0])).numpy(),
                                  value[0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Type mismatch"):
        parse(tf.io.serialize_tensor(tf.constant([1, 2])))


def test_encoders_in_a_function_round_trip():
    enc = tf.function(lambda x: tf.io.decode_png(tf.io.encode_png(x)))
    np.testing.assert_array_equal(enc(tf.constant(IMAGE)).numpy(), IMAGE)
    jpg = tf.function(lambda x: tf.io.encode_jpeg(x, quality=90))(tf.constant(IMAGE))
    assert jpg.numpy() == tf.io.encode_jpeg(IMAGE, quality=90).numpy()
    with pytest.raises(ValueError, match="3-dimensional"):
        tf.function(tf.io.encode_png)(tf.constant(IMAGE[0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="3-dimensional"):
        tf.io.encode_png(IMAGE[0])


def test_dataset_map_of_the_same_function():
    encoded = _encoded()

    @tf.function
    def load(c):
        img = tf.io.decode_png(c, channels=3)
        return tf.image.convert_image_dtype(img, tf.float32)

    ds = tf.data.Dataset.from_tensor_slices([encoded["png"].numpy()] * 2).map(load)
    assert ds.element_spec.shape.as_list() == [None, None, 3]
    for x in ds:
        np.testing.assert_allclose(x.numpy(), IMAGE / 255.0, rtol=1e-6)
