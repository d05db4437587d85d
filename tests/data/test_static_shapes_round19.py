"""Static shapes inside traces (Dataset.map element_spec, tf.function) where dlframe's
concrete trace knows sizes TF's graph does not (review round 19). Expected shapes
are TF 2.21's (run on the same programs)."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_op


def _ones_3x1(_):
    return np.ones((3, 1), np.float32)


def _specs(ds):
    return tf.nest.map_structure(lambda s: s.shape.as_list()
                                 if s.shape.rank is not None else None,
                                 ds.element_spec)


def _out_shapes(fn):
    return [o.shape.as_list() if o.shape.rank is not None else None
            for o in tf.nest.flatten(fn.get_concrete_function().structured_outputs)]


# -- 1. ensure_shape returns a new tensor; its input keeps its own static shape ---------
def test_ensure_shape_leaves_its_input_unknown_in_map():
    def fn(x):
        y = tf.numpy_function(_ones_3x1, [x], tf.float32)
        return y, tf.ensure_shape(y, [None, 1]), tf.ensure_shape(y, [3, 1]) + 0
    ds = tf.data.Dataset.range(2).map(fn)
    assert _specs(ds) == (None, [None, 1], [3, 1])   # TF 2.21
    for a, b, c in ds:
        assert a.shape == b.shape == c.shape == (3, 1)


def test_ensure_shape_is_a_new_tensor_checked_when_the_graph_runs():
    x = tf.zeros((2, 3))
    y = tf.ensure_shape(x, (None, 3))
    assert y is not x
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[2,3\].*\[\?,4\]"):
        tf.ensure_shape(x, (None, 4))

    @tf.function(input_signature=[tf.TensorSpec([None, None])])
    def f(x):
        return x, tf.ensure_shape(x, [None, 3])
    assert _out_shapes(f) == [[None, None], [None, 3]]   # traced on stand-in values
    np.testing.assert_array_equal(f(tf.ones([4, 3]))[1].numpy(), np.ones((4, 3)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="EnsureShape"):
        f(tf.ones([4, 2]))
    with pytest.raises(ValueError):   # TF: a static disagreement when traced
        tf.function(lambda x: tf.ensure_shape(x, [2]))(tf.ones([3]))


def test_ensure_shape_gradient_and_function_match_eager():
    check_op(lambda a: tf.ensure_shape(a * a, [None, 2]), [np.arange(4.).reshape(2, 2)],
             lambda a: a * a)


# -- 2. / 5. reshape of values TF knows no shape of ------------------------------------
def test_reshape_of_numpy_function_results_in_map():
    def fn(x):
        y = tf.numpy_function(_ones_3x1, [x], tf.float32)
        return (tf.reshape(y, [-1]), tf.reshape(y, [-1, 1]), tf.reshape(y, [3, -1]),
                tf.reshape(y, [3, 1]))
    ds = tf.data.Dataset.range(2).map(fn)
    assert _specs(ds) == ([None], [None, 1], [3, None], [3, 1])   # TF 2.21
    for a, b, c, d in ds:
        assert (a.shape, b.shape, c.shape, d.shape) == ((3,), (3, 1), (3, 1), (3, 1))


def test_reshape_of_numpy_function_results_in_function():
    @tf.function(input_signature=[tf.TensorSpec([], tf.int64)])
    def f(x):
        y = tf.numpy_function(_ones_3x1, [x], tf.float32)
        return tf.reshape(y, [3, -1]), tf.reshape(y, [-1]), tf.reshape(y, [3, 1])
    assert _out_shapes(f) == [[3, None], [None], [3, 1]]   # TF 2.21
    assert [o.shape for o in f(tf.constant(1, tf.int64))] == [(3, 1), (3,), (3, 1)]


def test_reshape_of_unknown_rank_to_known_shape():
    @tf.function(input_signature=[tf.TensorSpec(None)])
    def f(x):
        return tf.reshape(x, [2, 3]), tf.reshape(x, [-1, 3]), tf.reshape(x, [-1])
    assert _out_shapes(f) == [[2, 3], [None, 3], [None]]   # TF 2.21
    a, b, c = f(tf.range(6.))
    np.testing.assert_array_equal(a.numpy(), np.arange(6.).reshape(2, 3))
    np.testing.assert_array_equal(b.numpy(), np.arange(6.).reshape(2, 3))
    np.testing.assert_array_equal(c.numpy(), np.arange(6.))
    with pytest.raises(tf.errors.InvalidArgumentError):
        f(tf.range(5.))


# -- 3. pad with paddings TF's graph does not know ----------------------------------
def test_pad_with_traced_paddings():
    @tf.function(input_signature=[tf.TensorSpec([None, 3]),
                                  tf.TensorSpec([2, 2], tf.int32),
                                  tf.TensorSpec([], tf.int32)])
    def f(x, p, n):
        packed = tf.stack([tf.stack([n, 0]), tf.constant([0, 1])])
        known = tf.constant([[1, 1], [2, 2]]) + 0
        return (tf.pad(x, p), tf.pad(x, [[n, 0], [0, 1]]), tf.pad(x, packed),
                tf.pad(x, known), tf.pad(x, [[0, 0], [n, 1]], mode="REFLECT"),
                tf.pad(x, [[1, 1], [0, 2]]))
    # TF 2.21
    assert _out_shapes(f) == [[None, None], [None, 4], [None, 4], [None, 7],
                              [None, None], [None, 5]]
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    outs = f(x, tf.constant([[1, 2], [0, 1]]), tf.constant(1))
    np.testing.assert_array_equal(outs[0].numpy(), np.pad(x, [[1, 2], [0, 1]]))
    np.testing.assert_array_equal(outs[4].numpy(),
                                  np.pad(x, [[0, 0], [1, 1]], mode="reflect"))


def test_pad_with_shape_derived_paddings_stays_known():
    @tf.function(input_signature=[tf.TensorSpec([4, 3])])
    def f(x):
        n = tf.shape(x)[0]
        return tf.pad(x, [[0, 8 - n], [0, 0]])
    assert _out_shapes(f) == [[8, 3]]   # TF 2.21: the shape of a known input folds


def test_pad_with_value_paddings_in_map():
    def fn(x):
        n = tf.cast(x, tf.int32)
        return tf.pad(tf.ones([2, 2]), [[n, 0], [0, 1]])
    ds = tf.data.Dataset.range(3).map(fn)
    assert _specs(ds) == [None, 3]
    assert [e.shape for e in ds] == [(2, 3), (3, 3), (4, 3)]


# -- 4. a RaggedTensor's row count ------------------------------------------------
def test_ragged_rows_unknown_in_trace():
    seen = []

    @tf.function(input_signature=[tf.RaggedTensorSpec([None, None], tf.int32)])
    def f(x):
        seen.append((x.shape.as_list(), x.nrows().shape.as_list()))
        return x.nrows(), x.to_tensor()
    assert _out_shapes(f) == [[], [None, None]]
    assert seen[-1] == ([None, None], [])   # TF 2.21: rows unknown
    n, dense = f(tf.ragged.constant([[1], [2, 3], []]))
    assert int(n) == 3 and dense.shape == (3, 2)

    @tf.function(input_signature=[tf.RaggedTensorSpec([3, None], tf.int32)])
    def g(x):
        seen.append(x.shape.as_list())
        return x.values
    g.get_concrete_function()
    assert seen[-1] == [3, None]


# -- 6. symbolic integer inputs of float layers -----------------------------------
@pytest.mark.parametrize("make, shape", [
    (lambda: tf.keras.layers.Conv2D(4, 3), (8, 8, 3)),
    (lambda: tf.keras.layers.Conv1D(2, 2), (5, 3)),
    (lambda: tf.keras.layers.Conv2DTranspose(2, 2), (5, 5, 3)),
    (lambda: tf.keras.layers.DepthwiseConv2D(2), (5, 5, 3)),
    (lambda: tf.keras.layers.SeparableConv2D(2, 2), (5, 5, 3)),
    (lambda: tf.keras.layers.Dense(2), (3,)),
])
def test_symbolic_int_input_gives_compute_dtype(make, shape):
    out = make()(tf.keras.Input(shape, dtype="int32"))
    assert out.dtype == tf.float32   # TF 2.21 (Keras 3's symbolic spec)


def test_conv_still_refuses_eager_int_inputs():
    with pytest.raises(ValueError):   # Keras 3: ValueError
        tf.keras.layers.Conv2D(4, 3)(tf.ones((1, 8, 8, 3), tf.int32))


def test_reshape_in_map_whose_placeholder_sizes_do_not_fit():
    # windows of a [None] series batched to [4, None], reshaped to [-1, 5, 1]: the
    # placeholder elements' sizes do not divide by 5, the real ones do
    series = tf.data.Dataset.range(20)
    windows = series.window(5, shift=1, drop_remainder=True).flat_map(
        lambda w: w.batch(5)).batch(4, drop_remainder=True)
    ds = windows.map(lambda x: (tf.reshape(x, [-1, 5, 1]), x[:, -1]))
    assert _specs(ds) == ([None, 5, 1], [4])   # TF 2.21
    first, last = next(iter(ds))
    np.testing.assert_array_equal(first.numpy()[:, :, 0],
                                  np.arange(5)[None] + np.arange(4)[:, None])
    np.testing.assert_array_equal(last.numpy(), [4, 5, 6, 7])


def test_ensure_shape_of_an_unknown_input_in_map():
    ds = tf.data.Dataset.from_generator(
        lambda: iter([np.ones((2, 3), np.float32)] * 2),
        output_signature=tf.TensorSpec([None, None], tf.float32))
    ds2 = ds.map(lambda x: (tf.ensure_shape(x, [None, 3]), x))
    assert _specs(ds2) == ([None, 3], [None, None])   # TF 2.21
    assert [a.shape for a, _ in ds2] == [(2, 3), (2, 3)]
    with pytest.raises(tf.errors.InvalidArgumentError):
        list(ds.map(lambda x: tf.ensure_shape(x, [None, 4])))
