"""tensorflow.org advanced tutorials (image captioning, NMT with attention,
pix2pix, FGSM, segmentation, style transfer), shrunk to synthetic data, probed
against TF 2.21: the differences found, each with a regression test."""

import numpy as np
import pytest

import dlframe as tf

CAPTIONS = ["a b c", "a b c d e f", "a", "b c"]


def _tokenizer():
    tok = tf.keras.layers.TextVectorization(ragged=True)
    tok.adapt(CAPTIONS)
    return tok


def test_to_tensor_of_tokens_in_map_has_unknown_width():
    # TF 2.21: the padded width of rt.to_tensor() follows the longest row, so the
    # static shape is [nrows, None] (image captioning / NMT `process_text`)
    tok = _tokenizer()
    ds = tf.data.Dataset.from_tensor_slices(CAPTIONS).batch(2)
    direct = ds.map(lambda s: tok(s).to_tensor())
    assert direct.element_spec.shape.as_list() == [None, None]
    assert direct.element_spec.dtype == tf.int64
    split = ds.map(lambda s: tf.strings.split(s).to_tensor())
    assert split.element_spec.shape.as_list() == [None, None]
    assert split.element_spec.dtype == tf.string
    widths = [x.shape[1] for x in direct]
    assert widths == [6, 2]
    # a given shape keeps its width
    fixed = ds.map(lambda s: tok(s).to_tensor(shape=[None, 4]))
    assert fixed.element_spec.shape.as_list() == [None, 4]
    assert [x.shape for x in fixed] == [(2, 4), (2, 4)]


def test_to_tensor_of_a_ragged_element_in_map_has_unknown_dims():
    # the rows and the width of a ragged element (whose batches happen to have the
    # same sizes here) are not known to TF when the map function is traced
    tok = _tokenizer()
    ds = tf.data.Dataset.from_tensor_slices(["a b", "c d", "e f", "a c"]).batch(2)
    ragged = ds.map(tok)
    assert ragged.element_spec.shape.as_list() == [None, None]
    dense = ragged.map(lambda t: t.to_tensor())
    assert dense.element_spec.shape.as_list() == [None, None]

    def prepare(txt):
        tokens = tok(txt)
        return tokens[..., :-1], tokens[..., 1:]

    pairs = ragged.map(lambda t: (t[:, :-1].to_tensor(), t[:, 1:].to_tensor()))
    assert [s.shape.as_list() for s in pairs.element_spec] == [[None, None]] * 2
    caption_ds = ds.map(prepare).map(lambda a, b: (a.to_tensor(), b.to_tensor()))
    assert [s.shape.as_list() for s in caption_ds.element_spec] == [[None, None]] * 2
    for a, b in caption_ds:
        assert a.shape == b.shape == (2, 1)


def test_to_tensor_width_in_function_is_read_when_the_graph_runs():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def widths(s):
        dense = tf.strings.split(s).to_tensor()
        return tf.shape(dense)

    np.testing.assert_array_equal(widths(tf.constant(["a b c", "d"])).numpy(), [2, 3])
    np.testing.assert_array_equal(widths(tf.constant(["a", "b", "c"])).numpy(), [3, 1])


@pytest.mark.parametrize("shape,axis,expect", [
    # from TF 2.21
    ((0,), -1, b""),
    ((0,), None, b""),
    ((2, 0), 1, [b"", b""]),
    ((0, 3), 1, []),
    ((0, 3), 0, [b"", b"", b""]),
    ((2, 0, 3), 1, [[b""] * 3] * 2),
    ((2, 0), 0, []),
])
def test_reduce_join_of_empty_inputs(shape, axis, expect):
    x = tf.zeros(shape, tf.string)
    out = tf.strings.reduce_join(x, axis=axis, separator=" ")
    expect = np.array(expect, dtype=object)
    assert out.shape == expect.shape
    assert np.asarray(out.numpy()).tolist() == expect.tolist()
    kept = tf.strings.reduce_join(x, axis=axis, separator=" ", keepdims=True)
    axes = range(len(shape)) if axis is None else [axis % len(shape)]
    assert kept.shape == tuple(1 if i in axes else s for i, s in enumerate(shape))


def test_caption_generation_stopping_at_once_joins_no_words():
    # the captioning tutorial's simple_gen: when [END] comes first, the words
    # between [START] and [END] are an empty tensor, joined to ""
    vocab = ["", "[UNK]", "[START]", "[END]", "dog"]
    index_to_word = tf.keras.layers.StringLookup(mask_token="", vocabulary=vocab,
                                                 invert=True)
    tokens = tf.constant([[2, 3]], tf.int64)
    words = index_to_word(tokens[0, 1:-1])
    assert words.shape == (0,)
    result = tf.strings.reduce_join(words, axis=-1, separator=" ")
    assert result.numpy().decode() == ""
    compiled = tf.function(lambda w: tf.strings.reduce_join(w, axis=-1, separator=" "))
    assert compiled(words[:0]).numpy() == b""
    tokens = tf.constant([[2, 4, 4, 3]], tf.int64)
    words = index_to_word(tokens[0, 1:-1])
    assert tf.strings.reduce_join(words, axis=-1, separator=" ").numpy() == b"dog dog"


def _dynamic_loop(n):
    ta = tf.TensorArray(tf.float32, size=1, dynamic_size=True)
    for t in tf.range(n):
        ta = ta.write(t, tf.ones([2]))
    return ta.stack()


def _python_loop(n):
    ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    for t in range(3):
        ta = ta.write(t, tf.ones([2]) * t)
    return ta.stack()


def _fixed_by_tensor(n):
    ta = tf.TensorArray(tf.float32, size=n)
    for t in tf.range(n):
        ta = ta.write(t, tf.ones([2]))
    return ta.stack()


def _fixed_by_constant(n):
    ta = tf.TensorArray(tf.float32, size=3)
    for t in tf.range(3):
        ta = ta.write(t, tf.ones([2]))
    return ta.stack()


def _breaks_early(n):
    ta = tf.TensorArray(tf.float32, size=1, dynamic_size=True)
    for t in tf.range(6):
        ta = ta.write(t, tf.ones([2]))
        if tf.reduce_sum(ta.stack()) > tf.cast(n, tf.float32):
            break
    return ta.stack()


@pytest.mark.parametrize("fn,static,rows", [
    # static shapes from TF 2.21: only a fixed constant size is known
    (_dynamic_loop, [None, 2], 4),
    (_python_loop, [None, 2], 3),
    (_fixed_by_tensor, [None, 2], 4),
    (_fixed_by_constant, [3, 2], 3),
    (_breaks_early, [None, 2], 3),
])
def test_tensor_array_stack_static_length(fn, static, rows):
    compiled = tf.function(fn)
    cf = compiled.get_concrete_function(tf.TensorSpec([], tf.int32))
    assert cf.structured_outputs.shape.as_list() == static
    out = compiled(tf.constant(4))
    assert out.shape == (rows, 2)
    np.testing.assert_array_equal(out.numpy(), fn(tf.constant(4)).numpy())


def test_nmt_translate_loop_with_tensor_arrays_exports(tmp_path):
    # the (Keras 2) NMT tutorial's translate: a tf.range loop with a break writing
    # dynamic-size TensorArrays, exported and reloaded
    tf.keras.utils.set_random_seed(0)
    embedding = tf.keras.layers.Embedding(10, 4)
    gru = tf.keras.layers.GRU(5, return_sequences=True, return_state=True)
    fc = tf.keras.layers.Dense(10)

    @tf.function(input_signature=[tf.TensorSpec(dtype=tf.int64, shape=[None])])
    def translate(start):
        batch_size = tf.shape(start)[0]
        result_tokens = tf.TensorArray(tf.int64, size=1, dynamic_size=True)
        attention = tf.TensorArray(tf.float32, size=1, dynamic_size=True)
        new_tokens = start[:, None]
        state = tf.zeros([batch_size, 5])
        done = tf.zeros([batch_size, 1], dtype=tf.bool)
        for t in tf.range(6):
            out, state = gru(embedding(new_tokens), initial_state=state)
            logits = fc(out)
            new_tokens = tf.argmax(logits, axis=-1)
            attention = attention.write(t, tf.nn.softmax(logits[:, 0]))
            done = done | (new_tokens == 3)
            new_tokens = tf.where(done, tf.constant(0, dtype=tf.int64), new_tokens)
            result_tokens = result_tokens.write(t, new_tokens)
            if tf.reduce_all(done):
                break
        tokens = tf.transpose(tf.squeeze(result_tokens.stack(), -1), [1, 0])
        return {"tokens": tokens,
                "attention": tf.transpose(attention.stack(), [1, 0, 2])}

    start = tf.constant([2, 2, 4], tf.int64)
    result = translate(start)
    steps = result["tokens"].shape[1]
    assert 1 <= steps <= 6
    assert result["attention"].shape == (3, steps, 10)
    outputs = translate.get_concrete_function().structured_outputs
    assert outputs["tokens"].shape.as_list() == [None, None]
    assert outputs["attention"].shape.as_list() == [None, None, 10]
    module = tf.Module()
    module.translate = translate
    module.layers = [embedding, gru, fc]
    tf.saved_model.save(module, str(tmp_path))
    reloaded = tf.saved_model.load(str(tmp_path))
    again = reloaded.translate(start)
    np.testing.assert_array_equal(again["tokens"].numpy(), result["tokens"].numpy())
    np.testing.assert_allclose(again["attention"].numpy(), result["attention"].numpy(),
                               rtol=1e-6)


def test_checkpoint_manager_interval_skips_a_step_already_saved(tmp_path):
    # from TF 2.21: with a step counter, a save at the step of the last save returns
    # None even with check_interval=False; a later step saves at once
    step = tf.Variable(0, dtype=tf.int64)
    dense = tf.keras.layers.Dense(2)
    dense.build((None, 3))
    ckpt = tf.train.Checkpoint(step=step, model=dense)
    mgr = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=3,
                                     checkpoint_name="model", step_counter=step,
                                     checkpoint_interval=2)
    assert mgr.restore_or_initialize() is None
    saved = []
    for _ in range(5):
        step.assign_add(1)
        path = mgr.save(checkpoint_number=step)
        saved.append(None if path is None else path.rsplit("/", 1)[-1])
    assert saved == ["model-1", None, "model-3", None, "model-5"]
    assert mgr.save(checkpoint_number=step, check_interval=False) is None
    step.assign_add(1)
    assert mgr.save(checkpoint_number=step, check_interval=False).endswith("model-6")
    step.assign_add(1)
    assert mgr.save() is None   # one step after the last save: too soon
    assert [c.rsplit("/", 1)[-1] for c in mgr.checkpoints] == [
        "model-3", "model-5", "model-6"]
    restored = tf.train.Checkpoint(step=tf.Variable(0, dtype=tf.int64))
    restored.restore(mgr.latest_checkpoint).expect_partial()
    assert int(restored.step) == 6


def _jpeg_files(tmp_path, sizes):
    paths = []
    for i, (h, w) in enumerate(sizes):
        path = str(tmp_path / f"im{i}.jpg")
        pixels = np.random.default_rng(i).integers(0, 255, (h, w, 3)).astype("uint8")
        tf.io.write_file(path, tf.io.encode_jpeg(pixels))
        paths.append(path)
    return paths


def _decode(path):
    return tf.io.decode_jpeg(tf.io.read_file(path), channels=3)


@pytest.mark.parametrize("sizes", [[(64, 64)], [(10, 12), (64, 64)]])
def test_resize_of_a_decoded_image_has_the_target_static_shape(tmp_path, sizes):
    # the captioning tutorial's load_image: an image already of the target size
    # still gets TF's static shape [64, 64, 3] (its size is unknown when traced)
    ds = tf.data.Dataset.from_tensor_slices(_jpeg_files(tmp_path, sizes))
    resized = ds.map(lambda p: tf.image.resize(_decode(p), (64, 64))).batch(2)
    assert resized.element_spec.shape.as_list() == [None, 64, 64, 3]
    assert resized.element_spec.dtype == tf.float32
    batch = next(iter(resized))
    assert batch.shape == (len(sizes), 64, 64, 3)
    same = _decode(_jpeg_files(tmp_path, [(64, 64)])[0])
    # resizing to the same size keeps the pixels
    np.testing.assert_allclose(tf.image.resize(same, (64, 64)).numpy(),
                               same.numpy().astype("float32"))


@pytest.mark.parametrize("fn,static", [
    # static shapes from TF 2.21
    (lambda x: tf.image.resize_with_crop_or_pad(x, 8, 8), [8, 8, 3]),
    (lambda x: tf.image.crop_to_bounding_box(x, 1, 1, 3, 3), [3, 3, 3]),
    (lambda x: tf.image.pad_to_bounding_box(x, 1, 2, 12, 14), [12, 14, 3]),
    (lambda x: tf.image.central_crop(x, 0.5), [None, None, 3]),
])
def test_crops_and_pads_of_images_of_several_sizes_in_map(tmp_path, fn, static):
    # each element's box follows its own size, not the first traced image's
    paths = _jpeg_files(tmp_path, [(10, 12), (5, 6), (9, 7)])
    mapped = tf.data.Dataset.from_tensor_slices(paths).map(lambda p: fn(_decode(p)))
    assert mapped.element_spec.shape.as_list() == static
    got = list(mapped)
    assert len(got) == 3
    for path, out in zip(paths, got):
        np.testing.assert_array_equal(out.numpy(), fn(_decode(path)).numpy())
    if static[0] is None:   # TF: central_crop of 5x6 by 0.5 keeps 3x4
        assert [tuple(x.shape) for x in got] == [(6, 6, 3), (3, 4, 3), (5, 5, 3)]


def test_resize_with_crop_or_pad_has_the_target_static_shape():
    fn = tf.function(lambda x: tf.image.resize_with_crop_or_pad(x, 8, 8))
    cf = fn.get_concrete_function(tf.TensorSpec([None, None, None, 3]))
    assert cf.structured_outputs.shape.as_list() == [None, 8, 8, 3]
    x = np.arange(2 * 5 * 9 * 3, dtype="float32").reshape(2, 5, 9, 3)
    expect = np.zeros((2, 8, 8, 3), "float32")
    expect[:, 1:6] = x[:, :, 0:8]
    np.testing.assert_array_equal(fn(x).numpy(), expect)
    np.testing.assert_array_equal(
        tf.image.resize_with_crop_or_pad(x, 8, 8).numpy(), expect)
