"""Round-20 tf.data gaps: ``Dataset.map`` specs of crops of images of unknown size
whose first image is smaller than the crop, sizes that coincide between the
placeholder runs (``central_crop``), ``decode_wav``'s unknown dimensions, ``scan``
with a state that grows, and ``make_csv_dataset``'s label among the selected columns
(expected values from TF 2.21)."""

import numpy as np
import pytest

import dlframe as tf

_SIZES = [(5, 6), (12, 10), (20, 30), (9, 9)]


def _images(sizes=_SIZES, channels=3):
    def gen():
        for h, w in sizes:
            yield np.arange(h * w * channels, dtype=np.float32).reshape(h, w, channels)
    spec = tf.TensorSpec([None, None, channels], tf.float32)
    return tf.data.Dataset.from_generator(gen, output_signature=spec)


# ------------------------------------------------------ crops of a small first image
def test_random_crop_spec_when_the_first_image_is_smaller_than_the_crop():
    ds = _images().map(lambda x: tf.image.random_crop(x, [8, 8, 3]))
    # TF 2.21: the spec is the crop's, found without running on the elements
    assert ds.element_spec == tf.TensorSpec([8, 8, 3], tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError):
        list(ds)   # the first image (5 x 6) is too small, when iterated
    kept = ds.ignore_errors()
    assert kept.element_spec == tf.TensorSpec([8, 8, 3], tf.float32)
    crops = [c.numpy() for c in kept]
    assert [c.shape for c in crops] == [(8, 8, 3)] * 3
    # each crop is a window of its image: rows step by 3 * width, columns by 3
    first = crops[0]
    assert np.all(np.diff(first[:, 0, 0]) == 3 * 10)
    assert np.all(np.diff(first[0, :, 0]) == 3)


def test_crop_to_bounding_box_spec_with_a_small_first_image():
    ds = _images().map(lambda x: tf.image.crop_to_bounding_box(x, 2, 1, 7, 6))
    assert ds.element_spec == tf.TensorSpec([7, 6, 3], tf.float32)
    # (TF raises InvalidArgumentError on the small image; dlframe a ValueError)
    out = list(_images(_SIZES[1:]).map(
        lambda x: tf.image.crop_to_bounding_box(x, 2, 1, 7, 6)))
    assert len(out) == 3
    image = np.arange(12 * 10 * 3, dtype=np.float32).reshape(12, 10, 3)
    np.testing.assert_array_equal(out[0].numpy(), image[2:9, 1:7])


def test_stateless_random_crop_and_two_dimensional_crop_specs():
    ds = _images().map(
        lambda x: tf.image.stateless_random_crop(x, [8, 8, 3], seed=(1, 2)))
    assert ds.element_spec.shape.as_list() == [8, 8, 3]
    gray = _images(channels=1).map(lambda x: x[..., 0])
    crops = gray.map(lambda x: tf.image.random_crop(x, tf.constant([8, 8])))
    assert crops.element_spec == tf.TensorSpec([8, 8], tf.float32)
    assert [tuple(c.shape) for c in crops.ignore_errors()] == [(8, 8)] * 3


def test_large_placeholders_are_not_used_for_big_volumes():
    from dlframe.data import spec_trace
    volume = tf.TensorSpec([None, None, None, 2], tf.float32)
    assert not spec_trace._large_placeholders_fit(volume)
    assert spec_trace._large_placeholders_fit(tf.TensorSpec([None, None, 3]))
    ds = tf.data.Dataset.from_generator(
        lambda: iter([np.ones((9, 9, 9, 2), np.float32)]), output_signature=volume)
    out = ds.map(lambda x: tf.image.random_crop(x, [8, 8, 8, 2]))
    assert out.element_spec.shape.as_list() == [8, 8, 8, 2]
    assert next(iter(out)).shape == (8, 8, 8, 2)


def test_central_crop_spec_is_unknown_where_the_input_size_is():
    ds = _images().map(lambda x: tf.image.central_crop(x, 0.5))
    # TF 2.21: (None, None, 3); sizes 2 and 4 both crop to 2, which once hid this
    assert ds.element_spec.shape.as_list() == [None, None, 3]
    assert [tuple(c.shape) for c in ds] == [(3, 4, 3), (6, 6, 3), (10, 16, 3),
                                             (5, 5, 3)]


# ------------------------------------------------------------------------ decode_wav
def _wav_files(tmp_path):
    rate = 8000
    for label in ("down", "up"):
        (tmp_path / label).mkdir()
        for k in range(3):
            n = 800 + 400 * k
            wave = 0.5 * np.sin(np.arange(n) * (0.1 + k * 0.05)).astype(np.float32)
            tf.io.write_file(str(tmp_path / label / f"a{k}.wav"),
                             tf.audio.encode_wav(wave[:, None], rate))
    return tmp_path


def test_decode_wav_spec_leaves_the_sizes_the_file_decides_unknown(tmp_path):
    root = _wav_files(tmp_path)
    files = tf.data.Dataset.list_files(str(root / "*" / "*.wav"), shuffle=False)
    spec = files.map(lambda p: tf.audio.decode_wav(tf.io.read_file(p))).element_spec
    assert spec[0].shape.as_list() == [None, None]   # TF 2.21
    assert spec[1] == tf.TensorSpec([], tf.int32)
    mono = files.map(lambda p: tf.audio.decode_wav(
        tf.io.read_file(p), desired_channels=1)[0]).element_spec
    assert mono.shape.as_list() == [None, 1]
    fixed = files.map(lambda p: tf.audio.decode_wav(
        tf.io.read_file(p), desired_channels=2, desired_samples=900)[0])
    assert fixed.element_spec.shape.as_list() == [900, 2]
    assert next(iter(fixed)).shape == (900, 2)


def test_audio_dataset_specs_match_tf(tmp_path):
    root = _wav_files(tmp_path)
    single = tf.keras.utils.audio_dataset_from_directory(
        str(root), batch_size=None, shuffle=False)
    assert single.element_spec[0].shape.as_list() == [None, None]
    assert [tuple(x.shape) for x, _ in single][:3] == [(800, 1), (1200, 1), (1600, 1)]
    ragged = tf.keras.utils.audio_dataset_from_directory(
        str(root), batch_size=2, shuffle=False, ragged=True)
    audio_spec = ragged.element_spec[0]
    assert audio_spec.shape.as_list() == [None, None, None]   # TF 2.21
    assert audio_spec.ragged_rank == 2
    first, labels = next(iter(ragged))
    assert first.row_lengths().numpy().tolist() == [800, 1200]
    assert labels.numpy().tolist() == [0, 0]


# ------------------------------------------------------------------------------ scan
def test_scan_spec_relaxes_a_growing_state():
    def step(state, x):
        grown = tf.concat([state[1], [tf.cast(x, tf.int32)]], 0)
        return (state[0] + 1.0, grown), state[1]

    ds = tf.data.Dataset.range(4).scan((tf.constant(0.0), tf.constant([0])), step)
    assert ds.element_spec == tf.TensorSpec([None], tf.int32)   # TF 2.21
    assert [x.numpy().tolist() for x in ds] == [[0], [0, 0], [0, 0, 1], [0, 0, 1, 2]]


def test_scan_spec_of_a_fixed_state_stays_known():
    ds = tf.data.Dataset.range(3).scan(
        tf.zeros([2]), lambda s, x: (s + tf.cast(x, tf.float32), s * 2.0))
    assert ds.element_spec == tf.TensorSpec([2], tf.float32)
    assert [x.numpy().tolist() for x in ds] == [[0, 0], [0, 0], [2, 2]]
    with pytest.raises(TypeError, match="types for the new state"):
        tf.data.Dataset.range(3).scan(0, lambda s, x: (tf.cast(s, tf.float32), s))


# ------------------------------------------------------------------- make_csv_dataset
def test_make_csv_dataset_label_must_be_a_selected_column(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("age,sex,survived\n22,male,0\n38,female,1\n")
    with pytest.raises(ValueError, match="label_name"):
        tf.data.experimental.make_csv_dataset(
            str(path), batch_size=2, select_columns=["age"], label_name="sex")
    ds = tf.data.experimental.make_csv_dataset(
        str(path), batch_size=2, select_columns=["age", "survived"],
        label_name="survived", num_epochs=1, shuffle=False)
    features, label = next(iter(ds))
    assert list(features) == ["age"]
    assert features["age"].numpy().tolist() == [22, 38]
    assert label.numpy().tolist() == [0, 1]


# ------------------------------------------------------------- string vector slices
def test_unstack_and_gather_of_a_string_vector_give_string_scalars():
    words = tf.constant(["a", "bb"])
    for value, want in [(tf.unstack(words)[0], b"a"), (tf.gather(words, 1), b"bb"),
                        (tf.gather(words, tf.constant(0)), b"a")]:
        assert value.dtype == tf.string and value.shape == ()
        assert value.numpy() == want
        assert int(tf.strings.length(value)) == len(want)


def test_map_fn_decodes_a_batch_of_encoded_images():
    images = [np.full((3, 4, 3), v, np.uint8) for v in (10, 200)]
    encoded = tf.stack([tf.io.encode_png(im) for im in images])
    lengths = tf.map_fn(tf.strings.length, tf.constant(["a", "bb"]),
                        fn_output_signature=tf.int32)
    assert lengths.numpy().tolist() == [1, 2]
    decoded = tf.map_fn(lambda s: tf.io.decode_png(s, channels=3), encoded,
                        fn_output_signature=tf.uint8)
    np.testing.assert_array_equal(decoded.numpy(), np.stack(images))
    ds = tf.data.Dataset.from_tensor_slices(encoded).batch(2).map(
        lambda b: tf.map_fn(
            lambda s: tf.image.resize(tf.io.decode_png(s, channels=3), [2, 2]),
            b, fn_output_signature=tf.float32))
    assert ds.element_spec.shape.as_list() == [None, 2, 2, 3]   # TF 2.21
    batch = next(iter(ds)).numpy()
    np.testing.assert_allclose(batch[:, 0, 0, 0], [10.0, 200.0])


# -------------------------------------------------------------------- save shard_func
def test_save_shard_func_must_give_an_int64_index(tmp_path):
    ds = tf.data.Dataset.range(6).map(lambda x: (x, tf.strings.as_string(x)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="int64"):
        # TF 2.21: InvalidArgumentError for an int32 shard index
        ds.save(str(tmp_path / "bad"), shard_func=lambda x, s: tf.cast(x % 2, tf.int32))
    ds.save(str(tmp_path / "ok"), shard_func=lambda x, s: x % 2)
    loaded = tf.data.Dataset.load(str(tmp_path / "ok"))
    assert sorted(int(x) for x, _ in loaded) == list(range(6))
