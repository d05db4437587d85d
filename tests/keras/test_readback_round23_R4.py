"""Read-back of session 23's second-wave Keras changes against TF 2.21 (Keras 3.15):
a user optimizer's own ``build`` runs as written, ``keras.tree`` orders keys of mixed
types as optree, ``draw_bounding_boxes`` input dtypes, ``decode_jpeg`` of a PNG and
the decoders' check order, ``IntegerLookup`` of float ids, RNN dropout rates of any
real type, and lookup vector modes over a batched ``tf.data`` map."""

import io

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras


# -- optimizers: only the built-in build is a no-op when built ------------------------
def test_user_build_without_guard_makes_fresh_slots_as_tf():
    class Momentum(keras.optimizers.Optimizer):
        def build(self, var_list):   # no `if self.built: return`
            super().build(var_list)
            self.m = [self.add_variable_from_reference(v, "m") for v in var_list]

        def update_step(self, gradient, variable, learning_rate):
            m = self.m[self._get_variable_index(variable)]
            self.assign(m, m * 0.9 + gradient)
            self.assign_sub(variable, m * learning_rate)

    v = tf.Variable([1.0, 2.0])
    opt = Momentum(learning_rate=0.1)
    for _ in range(2):
        opt.build([v])
        opt.apply_gradients([(tf.constant([1.0, 1.0]), v)])
    # TF 2.21: the second build re-creates `m` (zeros), so no momentum carries over
    np.testing.assert_allclose(v.numpy(), [0.8, 1.8], rtol=1e-6)
    assert len(opt.variables) == 4


def test_user_subclass_of_a_builtin_keeps_the_builtin_slots():
    class MySGD(keras.optimizers.SGD):
        def build(self, var_list):
            super().build(var_list)
            self.extra = [self.add_variable_from_reference(v, "extra") for v in var_list]

    v = tf.Variable([1.0, 2.0])
    opt = MySGD(0.1, momentum=0.9)
    for _ in range(2):
        opt.build([v])
        opt.apply_gradients([(tf.constant([1.0, 1.0]), v)])
    np.testing.assert_allclose(v.numpy(), [0.71, 1.71], rtol=1e-6)   # TF 2.21
    assert len(opt.variables) == 5 and len(opt.extra) == 1


# -- keras.tree: mixed key types grouped by type, as optree -------------------------
def test_tree_mixed_key_types_order_as_optree():
    tree = keras.tree
    assert tree.flatten({10: "a", "b": "b", 2: "c"}) == ["c", "a", "b"]   # TF 2.21
    assert tree.flatten({1.5: "a", "x": "b", 1: "c", 0.5: "d"}) == ["d", "a", "c", "b"]
    assert tree.flatten({"b": 1, 3: 2, "a": 3, -1: 4}) == [4, 2, 3, 1]
    packed = tree.pack_sequence_as({10: 1, "b": 2, 2: 3}, [7, 8, 9])
    assert packed == {10: 8, "b": 9, 2: 7}


# -- draw_bounding_boxes: NumPy values as float32, tensors float32/float16 only --------
_BOXES = np.array([[[0.1, 0.1, 0.8, 0.8]]], np.float32)
_RED = np.array([[1.0, 0.0, 0.0, 1.0]], np.float32)
_OUTLINE = [[1, 1, 1, 1, 0], [1, 0, 0, 1, 0], [1, 0, 0, 1, 0], [1, 1, 1, 1, 0],
            [0, 0, 0, 0, 0]]   # TF 2.21's red channel for a 5x5 image


@pytest.mark.parametrize("dtype", ["float16", "float64", "uint8"])
def test_draw_bounding_boxes_numpy_images_become_float32(dtype):
    out = tf.image.draw_bounding_boxes(np.zeros((1, 5, 5, 3), dtype), _BOXES, _RED)
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy()[0, :, :, 0], _OUTLINE)


def test_draw_bounding_boxes_tensor_dtypes():
    half = tf.image.draw_bounding_boxes(tf.zeros((1, 5, 5, 3), tf.float16), _BOXES, _RED)
    assert half.dtype == tf.float16
    np.testing.assert_array_equal(half.numpy()[0, :, :, 0], _OUTLINE)
    for dtype in (tf.float64, tf.bfloat16, tf.uint8):
        with pytest.raises(tf.errors.InvalidArgumentError, match="float32 or float16"):
            tf.image.draw_bounding_boxes(tf.zeros((1, 5, 5, 3), dtype), _BOXES, _RED)


# -- decoders --------------------------------------------------------------------------
def _encoded(fmt, mode="RGB"):
    from PIL import Image
    pixels = np.random.default_rng(0).integers(0, 255, (4, 5, len(mode)), np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels, mode).save(buf, fmt)
    return buf.getvalue(), pixels


def test_decode_jpeg_of_a_png_gives_four_channels():
    data, pixels = _encoded("PNG", "RGBA")
    out = tf.io.decode_jpeg(data, channels=4)   # TF 2.21: (4, 5, 4), the PNG's RGBA
    assert out.shape == (4, 5, 4)
    np.testing.assert_array_equal(out.numpy(), pixels)
    np.testing.assert_array_equal(tf.io.decode_jpeg(data, channels=3).numpy(),
                                  pixels[..., :3])


@pytest.mark.parametrize("decoder", ["decode_png", "decode_jpeg"])
def test_bmp_channels_are_checked_before_the_wrong_op(decoder):
    data, _ = _encoded("BMP")
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"`channels` must be 0, 3 or 4 for BMP, but got 1"):
        getattr(tf.io, decoder)(data, channels=1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="using a wrong op"):
        getattr(tf.io, decoder)(data, channels=3)


# -- IntegerLookup of float ids: cast (truncated) as TF ----------------------------------
def test_integer_lookup_truncates_float_ids():
    layer = keras.layers.IntegerLookup(vocabulary=[1, 2, -1, 30])
    out = layer(np.array([-1.7, 2.9, 30.2, 1.5, 7.0]))
    np.testing.assert_array_equal(out.numpy(), [3, 2, 4, 1, 0])   # TF 2.21
    assert out.dtype == tf.int64
    multi = keras.layers.IntegerLookup(vocabulary=[1, 2, 30], output_mode="multi_hot")
    np.testing.assert_array_equal(multi(np.array([[1.9, 30.5]])).numpy(), [[0, 1, 0, 1]])


# -- RNN dropout rates: any real number, clipped -----------------------------------------
def test_rnn_dropout_takes_bools_and_numpy_floats():
    x = (np.arange(24).reshape(2, 3, 4) % 3).astype("float32")
    ones = {"kernel_initializer": "ones", "recurrent_initializer": "ones"}
    simple = keras.layers.SimpleRNN(2, dropout=True, **ones)
    assert float(tf.reduce_sum(simple(x, training=True))) == 0.0   # TF 2.21: all dropped
    lstm = keras.layers.LSTM(2, dropout=True, **ones)   # LSTM skips a rate of 1
    np.testing.assert_allclose(float(tf.reduce_sum(lstm(x, training=True))), 3.9737,
                               atol=1e-4)
    assert keras.layers.GRU(2, dropout=np.float32(0.25)).cell.dropout == 0.25
    with pytest.raises(TypeError, match="dropout"):
        keras.layers.LSTM(2, dropout="0.5")


# -- lookup vector modes in a batched tf.data map: one sample per batch (TF 2.21) ------
def test_string_lookup_multi_hot_in_a_batched_dataset_map():
    layer = keras.layers.StringLookup(vocabulary=["a", "b", "c"], output_mode="multi_hot")
    batched = tf.data.Dataset.from_tensor_slices(["a", "b", "c", "a"]).batch(2)
    assert [x.numpy().tolist() for x in batched.map(layer)] == \
        [[0, 1, 1, 0], [0, 1, 0, 1]]
    unbatched = tf.data.Dataset.from_tensor_slices(["a", "b", "c", "a"]).map(layer)
    assert [x.numpy().tolist() for x in unbatched.batch(2)] == \
        [[[0, 1, 0, 0], [0, 0, 1, 0]], [[0, 0, 0, 1], [0, 1, 0, 0]]]
