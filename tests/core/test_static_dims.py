"""Static shapes of slices of unknown dimensions (core.static_dims + the StridedSlice
rule): ``x[:2]`` of a None dimension is None, as TF's shape inference says, in
``ConcreteFunction.output_shapes``, ``Dataset.map`` specs and Keras symbolic shapes."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.ops.slicing import getitem_static_shape

# (input shape, index, output_shapes) from TF 2.21 (tf.function input_signature)
TF_SHAPES = [
    ([None], ':2', [None]),
    ([None], '1:', [None]),
    ([None], '-2:', [None]),
    ([None], ':-1', [None]),
    ([None], '::2', [None]),
    ([None], '::-1', [None]),
    ([None], '2:1', [None]),
    ([None], '5:', [None]),
    ([None], ':0', [None]),
    ([None], '1:3', [None]),
    ([None], '-1', []),
    ([None], '0', []),
    ([None], 'None', [1, None]),
    ([None], '...', [None]),
    ([None], '..., :2', [None]),
    ([None], '3:100', [None]),
    ([None], '-100:2', [None]),
    ([None], '::3', [None]),
    ([None], '1::2', [None]),
    ([None], '-3::-2', [None]),
    ([5], ':2', [2]),
    ([5], '1:', [4]),
    ([5], '-2:', [2]),
    ([5], ':-1', [4]),
    ([5], '::2', [3]),
    ([5], '::-1', [5]),
    ([5], '2:1', [0]),
    ([5], '5:', [0]),
    ([5], ':0', [0]),
    ([5], '1:3', [2]),
    ([5], '-1', []),
    ([5], '0', []),
    ([5], 'None', [1, 5]),
    ([5], '...', [5]),
    ([5], '..., :2', [2]),
    ([5], '3:100', [2]),
    ([5], '-100:2', [2]),
    ([5], '::3', [2]),
    ([5], '1::2', [2]),
    ([5], '-3::-2', [2]),
    ([4, None], ':2', [2, None]),
    ([4, None], '1:', [3, None]),
    ([4, None], '-2:', [2, None]),
    ([4, None], ':-1', [3, None]),
    ([4, None], '::2', [2, None]),
    ([4, None], '::-1', [4, None]),
    ([4, None], '2:1', [0, None]),
    ([4, None], '5:', [0, None]),
    ([4, None], ':0', [0, None]),
    ([4, None], '1:3', [2, None]),
    ([4, None], '-1', [None]),
    ([4, None], '0', [None]),
    ([4, None], 'None', [1, 4, None]),
    ([4, None], '...', [4, None]),
    ([4, None], '..., :2', [4, None]),
    ([4, None], '3:100', [1, None]),
    ([4, None], '-100:2', [2, None]),
    ([4, None], '::3', [2, None]),
    ([4, None], '1::2', [2, None]),
    ([4, None], '-3::-2', [1, None]),
    ([4, None], ':, :2', [4, None]),
    ([4, None], ':2, 1:', [2, None]),
    ([4, None], '0, :1', [None]),
    ([4, None], '..., 0', [4]),
    ([4, None], 'None, :, ::2', [1, 4, None]),
    ([4, None], ':, None, -1:', [4, 1, None]),
    ([4, None], '1:, 0', [3]),
    ([4, None], '-1, -2:', [None]),
    ([None, None], ':2', [None, None]),
    ([None, None], '1:', [None, None]),
    ([None, None], '-2:', [None, None]),
    ([None, None], ':-1', [None, None]),
    ([None, None], '::2', [None, None]),
    ([None, None], '::-1', [None, None]),
    ([None, None], '2:1', [None, None]),
    ([None, None], '5:', [None, None]),
    ([None, None], ':0', [None, None]),
    ([None, None], '1:3', [None, None]),
    ([None, None], '-1', [None]),
    ([None, None], '0', [None]),
    ([None, None], 'None', [1, None, None]),
    ([None, None], '...', [None, None]),
    ([None, None], '..., :2', [None, None]),
    ([None, None], '3:100', [None, None]),
    ([None, None], '-100:2', [None, None]),
    ([None, None], '::3', [None, None]),
    ([None, None], '1::2', [None, None]),
    ([None, None], '-3::-2', [None, None]),
    ([None, None], ':, :2', [None, None]),
    ([None, None], ':2, 1:', [None, None]),
    ([None, None], '0, :1', [None]),
    ([None, None], '..., 0', [None]),
    ([None, None], 'None, :, ::2', [1, None, None]),
    ([None, None], ':, None, -1:', [None, 1, None]),
    ([None, None], '1:, 0', [None]),
    ([None, None], '-1, -2:', [None]),
    ([2, 5, None], '..., :2', [2, 5, None]),
    ([2, 5, None], ':, :2', [2, 2, None]),
    ([2, 5, None], ':2, 1:', [2, 4, None]),
    ([2, 5, None], '0, :1', [1, None]),
    ([2, 5, None], '..., 0', [2, 5]),
    ([2, 5, None], 'None, :, ::2', [1, 2, 3, None]),
    ([2, 5, None], ':, None, -1:', [2, 1, 1, None]),
    ([2, 5, None], '1:, 0', [1, None]),
    ([2, 5, None], '-1, -2:', [2, None]),
]


def _index(key):
    return eval(f"lambda x: x[{key}]")  # the table's index expressions


@pytest.mark.parametrize("shape, key, want", TF_SHAPES)
def test_function_output_shapes_match_tf(shape, key, want):
    fn = tf.function(_index(key), input_signature=[tf.TensorSpec(shape, tf.float32)])
    assert fn.get_concrete_function().output_shapes.as_list() == want
    # an elementwise op after the slice keeps the unknown dimension
    chained = tf.function(lambda x: _index(key)(x) * 2.0 + 1.0,
                          input_signature=[tf.TensorSpec(shape, tf.float32)])
    assert chained.get_concrete_function().output_shapes.as_list() == want


@pytest.mark.parametrize("shape, key, want", TF_SHAPES[::3])
def test_dataset_map_element_spec_matches_tf(shape, key, want):
    ds = tf.data.Dataset.from_generator(
        lambda: iter([]), output_signature=tf.TensorSpec(shape, tf.float32))
    assert ds.map(_index(key)).element_spec.shape.as_list() == want


@pytest.mark.parametrize("shape, key, want", TF_SHAPES)
def test_static_rule_matches_tf(shape, key, want):
    assert getitem_static_shape(shape, eval(f"np.s_[{key}]")) == want


def test_rule_declines_index_arrays():
    assert getitem_static_shape([None, 3], ([0, 1],)) is None


def test_slice_op_sizes_and_broadcasting_match_tf():
    # output_shapes from TF 2.21
    cases = [([None], lambda x: tf.slice(x, [1], [-1]), [None]),
             ([5], lambda x: tf.slice(x, [1], [-1]), [4]),
             ([None, 4], lambda x: tf.slice(x, [0, 1], [-1, 2]), [None, 2]),
             ([None, 4], lambda x: tf.strided_slice(x, [0, 1], [2, 3]), [None, 2]),
             ([None, 4], lambda x: tf.nn.relu(x[:2]), [None, 4]),
             ([None], lambda x: x[:2] + tf.constant([1.0, 2.0]), [2]),
             ([None, 4], lambda x: tf.reduce_sum(x[:2], axis=1), [None]),
             ([None], lambda x: tf.stack([x[:2], x[:2]]), [2, None]),
             ([None, 3], lambda x: x[0], [3]),
             ([None], lambda x: x[1:3] * x[:2], [None])]
    for shape, fn, want in cases:
        f = tf.function(fn, input_signature=[tf.TensorSpec(shape, tf.float32)])
        assert f.get_concrete_function().output_shapes.as_list() == want, (shape, want)
    ds = tf.data.Dataset.from_generator(
        lambda: iter([]), output_signature=tf.TensorSpec([None], tf.float32))
    assert ds.map(lambda x: tf.slice(x, [0], [2])).element_spec.shape.as_list() == [2]


def test_values_are_unchanged():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def head(x):
        return x[:2] * 10.0, tf.slice(x, [1], [-1])

    x = np.arange(5, dtype=np.float32)
    first, rest = head(tf.constant(x))
    np.testing.assert_array_equal(first.numpy(), x[:2] * 10)
    np.testing.assert_array_equal(rest.numpy(), x[1:])
    short = head(tf.constant(x[:1]))[0]
    np.testing.assert_array_equal(short.numpy(), x[:1] * 10)
    values = list(tf.data.Dataset.from_tensor_slices([[1.0, 2.0, 3.0]]).map(
        lambda v: v[:2]).as_numpy_iterator())
    np.testing.assert_array_equal(values[0], [1.0, 2.0])


def test_keras_symbolic_slices():
    inp = tf.keras.Input(shape=(None, 3))
    assert inp[:, :2].shape.as_list() == [None, None, 3]   # Keras (TF 2.21)
    assert inp[:, -2:, :2].shape.as_list() == [None, None, 2]
    assert inp[:, 0].shape.as_list() == [None, 3]
    fixed = tf.keras.Input(shape=(6, 3))
    assert fixed[:, 1:4, ::2].shape.as_list() == [None, 3, 2]
    model = tf.keras.Model(inp, tf.keras.layers.Dense(2)(inp[:, :2]))
    out = model(np.ones((4, 5, 3), np.float32))
    assert out.shape == (4, 2, 2)
