"""tf.data / tf.io gaps found against TF 2.21 (round 21, P2): run-time errors of map
functions (a box too large for an image of unknown size) come while iterating, as
TF's InvalidArgumentError (so ``ignore_errors`` skips the element); decode_image's
channels per format; ``Dataset.save`` compressions."""

import struct

import numpy as np
import pytest

import dlframe as tf
from dlframe.data import compression as codecs


def _images_dataset(sizes):
    images = [np.arange(n * n, dtype="float32").reshape(n, n, 1) for n in sizes]

    def gen():
        yield from images

    spec = tf.TensorSpec((None, None, 1), tf.float32)
    return tf.data.Dataset.from_generator(gen, output_signature=spec), images


# -- 4. map: errors of values come at iteration ----------------------------------------
@pytest.mark.parametrize("op", ["crop", "pad"])
def test_box_too_large_fails_at_iteration(device, op):
    ds, images = _images_dataset([8, 4, 9] if op == "crop" else [4, 8, 5])
    if op == "crop":
        mapped = ds.map(lambda x: tf.image.crop_to_bounding_box(x, 1, 1, 6, 6))
        ref = [im[1:7, 1:7] for im in images if im.shape[0] >= 7]
    else:
        mapped = ds.map(lambda x: tf.image.pad_to_bounding_box(x, 1, 1, 6, 6))
        ref = [np.pad(im, [(1, 5 - im.shape[0]), (1, 5 - im.shape[1]), (0, 0)])
               for im in images if im.shape[0] <= 5]
    assert mapped.element_spec == tf.TensorSpec((6, 6, 1), tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError):
        list(mapped)
    got = [e.numpy() for e in mapped.ignore_errors()]
    assert len(got) == len(ref) == 2
    for g, r in zip(got, ref):
        np.testing.assert_array_equal(g, r)


def test_spec_from_samples_skips_failing_elements(device):
    ds, images = _images_dataset([8, 4, 9])
    # a numpy_function hides the shape: the spec comes from real elements
    hidden = ds.map(lambda x: tf.numpy_function(lambda a: a, [x], tf.float32))
    mapped = hidden.map(lambda x: tf.image.crop_to_bounding_box(x, 0, 0, 6, 6))
    assert mapped.element_spec.shape[:2] == (6, 6)
    with pytest.raises(tf.errors.InvalidArgumentError):
        list(mapped)
    got = [e.numpy() for e in mapped.ignore_errors()]
    np.testing.assert_array_equal(got[0], images[0][:6, :6])
    np.testing.assert_array_equal(got[1], images[2][:6, :6])
    gathered = hidden.map(lambda x: tf.gather(tf.reshape(x, [-1]), 70))
    assert gathered.element_spec == tf.TensorSpec((), tf.float32)
    assert [float(v) for v in gathered.ignore_errors()] == [70.0]


def test_known_sizes_still_fail_when_built():
    # TF: static sizes are checked while tracing (ValueError), eagerly too
    image = np.ones((4, 4, 1), "float32")
    with pytest.raises(ValueError):
        tf.image.crop_to_bounding_box(image, 0, 0, 6, 6)
    ds = tf.data.Dataset.from_tensor_slices(image[None])
    with pytest.raises(ValueError):
        _ = ds.map(lambda x: tf.image.crop_to_bounding_box(x, 0, 0, 6, 6)).element_spec


# -- 5. decode_image channels per format -------------------------------------------
def _bmp(pixels, palette=b""):
    """An uncompressed bottom-up BMP of ``uint8 [h, w]`` (8-bit) or ``[h, w, 3]``."""
    h, w = pixels.shape[:2]
    ch = 1 if pixels.ndim == 2 else 3
    row = (w * ch + 3) // 4 * 4
    body = bytearray()
    for r in pixels[::-1]:
        data = r.reshape(w, ch)[:, ::-1].tobytes()
        body += data + bytes(row - len(data))
    palette = palette if ch == 1 else b""
    offset = 54 + len(palette)
    head = b"BM" + struct.pack("<IHHI", offset + len(body), 0, 0, offset)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, ch * 8, 0, len(body), 0, 0,
                       256 if ch == 1 else 0, 0)
    return head + info + palette + bytes(body)


def test_decode_8bit_bmp_as_gray(device):
    rng = np.random.default_rng(1)
    gray = rng.integers(0, 255, (3, 5), dtype=np.uint8)
    data = _bmp(gray, bytes(rng.integers(0, 255, 1024, dtype=np.uint8)))
    # TF reads the bytes as gray levels (the palette is not applied)
    for decode in (tf.io.decode_bmp, tf.io.decode_image):
        np.testing.assert_array_equal(decode(data).numpy(), gray[..., None])
        np.testing.assert_array_equal(decode(data, channels=3).numpy(),
                                      np.repeat(gray[..., None], 3, -1))
        four = decode(data, channels=4).numpy()
        np.testing.assert_array_equal(four[..., :3], np.repeat(gray[..., None], 3, -1))
        assert (four[..., 3] == 255).all()
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="`channels` must be 0, 3 or 4 for BMP, but got 1"):
            decode(data, channels=1)
    rgb = rng.integers(0, 255, (3, 5, 3), dtype=np.uint8)
    np.testing.assert_array_equal(tf.io.decode_image(_bmp(rgb)).numpy(), rgb)


def test_decode_channels_errors():
    data = _bmp(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="`channels` must be 0, 1, 3 or 4 but got 2"):
        tf.io.decode_image(data, channels=2)
    jpeg = tf.io.encode_jpeg(np.full((4, 4, 3), 100, np.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="JPEG does not support 4 channels"):
        tf.io.decode_image(jpeg, channels=4)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="JPEG does not support 4 channels"):
        tf.io.decode_jpeg(jpeg, channels=4)
    assert tf.io.decode_image(jpeg, channels=1).shape == (4, 4, 1)


def test_decode_gif_channels_and_dataset_skip(tmp_path):
    image = pytest.importorskip("PIL.Image")
    frames = [image.fromarray(np.full((5, 7, 3), v, np.uint8)).convert("P")
              for v in (10, 200)]
    gif = tmp_path / "anim.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:])
    data = gif.read_bytes()
    for channels in (1, 4):
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=f"channels must be 0 or 3 for GIF, got {channels}"):
            tf.io.decode_image(data, channels=channels)
    assert tf.io.decode_image(data, channels=3).shape == (2, 5, 7, 3)
    assert tf.io.decode_image(data, expand_animations=False).shape == (5, 7, 3)
    bmp = tmp_path / "x.bmp"
    bmp.write_bytes(_bmp(np.zeros((5, 7, 3), np.uint8)))
    files = tf.data.Dataset.from_tensor_slices([str(bmp), str(gif), str(bmp)])
    decoded = files.map(tf.io.read_file).map(
        lambda b: tf.io.decode_image(b, channels=4, expand_animations=False))
    assert decoded.element_spec == tf.TensorSpec((None, None, 4), tf.uint8)
    assert [tuple(e.shape) for e in decoded.ignore_errors()] == [(5, 7, 4)] * 2


# -- 6. Dataset.save compressions -------------------------------------------------
def _saved_elements(ds):
    return [(int(e["a"]), e["b"].numpy().tolist()) for e in ds]


@pytest.mark.parametrize("compression,plain", [
    ("ZIP", True), ("NONE", True), (None, True), ("gzip", True),
    ("GZIP", False), ("ZLIB", False), ("SNAPPY", False)])
def test_save_load_compressions(tmp_path, compression, plain):
    ds = tf.data.Dataset.from_tensor_slices(
        {"a": np.arange(5, dtype="int64"),
         "b": np.arange(10, dtype="float32").reshape(5, 2)})
    want = _saved_elements(ds)
    ds.save(str(tmp_path), compression=compression)
    loaded = tf.data.Dataset.load(str(tmp_path), compression=compression)
    assert loaded.element_spec == ds.element_spec
    assert int(loaded.cardinality()) == 5
    assert _saved_elements(loaded) == want
    plain_read = tf.data.Dataset.load(str(tmp_path))
    if plain:   # TF: only GZIP, ZLIB and SNAPPY compress (names case-sensitive)
        assert _saved_elements(plain_read) == want
    else:
        with pytest.raises(tf.errors.DataLossError):
            list(plain_read)


def test_save_compression_must_be_a_string(tmp_path):
    with pytest.raises(TypeError, match="Expected string for argument 'compression'"):
        tf.data.Dataset.range(3).save(str(tmp_path), compression=3)


def test_save_zip_with_shard_func(tmp_path):
    tf.data.Dataset.range(10).save(str(tmp_path), compression="ZIP",
                                   shard_func=lambda x: x % 3)
    loaded = tf.data.Dataset.load(str(tmp_path), compression="ZIP")
    assert sorted(int(x) for x in loaded) == list(range(10))


def test_snappy_block_codec():
    data = bytes(range(256)) * 300 + b"tail"
    assert codecs.snappy_decompress(codecs.snappy_compress(data)) == data
    assert codecs.snappy_decompress(codecs.snappy_compress(b"")) == b""
    # a block with copies (as Snappy encoders write): "abc" then copy 6 at offset 3
    assert codecs.snappy_decompress(bytes([9, 2 << 2]) + b"abc" +
                                    bytes([(2 << 2) | 1, 3])) == b"abcabcabc"
    with pytest.raises(ValueError):
        codecs.snappy_decompress(bytes([9, 2 << 2]) + b"abc")
