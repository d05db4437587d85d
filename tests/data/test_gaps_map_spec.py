"""``Dataset.map`` element_spec from a trace on the input spec (unknown sizes stay
unknown), and ``tf.py_function`` / ``tf.numpy_function`` results of unknown shape that
``set_shape`` fixes. Expected specs were printed by TF 2.21."""

import numpy as np

import dlframe as tf


def _varying():
    rows = [np.ones(3, "float32"), np.ones(5, "float32")]
    return tf.data.Dataset.from_generator(
        lambda: iter(rows), output_signature=tf.TensorSpec([None], tf.float32))


def _images():
    imgs = np.random.default_rng(0).random((6, 8, 8, 3)).astype("float32")
    return tf.data.Dataset.from_tensor_slices((imgs, np.arange(6)))


def _double(a):
    return a * 2


def test_py_function_results_have_unknown_shape_until_set_shape():
    ds = tf.data.Dataset.from_tensor_slices(np.arange(6, dtype="float32").reshape(3, 2))
    plain = ds.map(lambda x: tf.py_function(_double, [x], tf.float32))
    assert plain.element_spec == tf.TensorSpec(None, tf.float32)
    assert plain.element_spec.shape.rank is None

    def fixed(x):
        y = tf.py_function(_double, [x], tf.float32)
        y.set_shape([2])
        return y
    shaped = ds.map(fixed)
    assert shaped.element_spec == tf.TensorSpec([2], tf.float32)
    assert [e.numpy().tolist() for e in shaped] == [[0, 2], [4, 6], [8, 10]]
    pair = ds.map(lambda x: tf.py_function(lambda a: (a, tf.reduce_sum(a)), [x],
                                           [tf.float32, tf.float32]))
    assert pair.element_spec == (tf.TensorSpec(None, tf.float32),
                                 tf.TensorSpec(None, tf.float32))
    numpy_fn = ds.map(lambda x: tf.numpy_function(lambda a: a * 2, [x], tf.float32))
    assert numpy_fn.element_spec.shape.rank is None


def test_set_shape_partially_known_and_values_still_flow():
    def load(x, y):
        z = tf.numpy_function(lambda a: (a * 2).astype("float32"), [x], tf.float32)
        z.set_shape([None, None, 3])
        return z, y
    ds = _images().map(load)
    assert ds.element_spec == (tf.TensorSpec([None, None, 3], tf.float32),
                               tf.TensorSpec([], tf.int64))
    first, label = next(iter(ds))
    assert first.shape == (8, 8, 3) and int(label) == 0
    # the spec drives batching: a padded/plain batch of these works
    batch = next(iter(ds.batch(2)))[0]
    assert batch.shape == (2, 8, 8, 3)


def test_unknown_input_dims_stay_unknown_and_static_sizes_stay_known():
    d2 = _varying()
    assert d2.map(lambda x: tf.concat([x, x], 0)).element_spec == \
        tf.TensorSpec([None], tf.float32)
    assert d2.map(lambda x: tf.reshape(x, [-1, 1])).element_spec == \
        tf.TensorSpec([None, 1], tf.float32)
    # a size equal to an input's unknown size by chance is still known
    assert d2.map(lambda x: tf.zeros([3, 4])).element_spec == \
        tf.TensorSpec([3, 4], tf.float32)
    assert d2.map(lambda x: tf.strings.as_string(x)).element_spec == \
        tf.TensorSpec([None], tf.string)
    ds = tf.data.Dataset.from_tensor_slices(np.arange(6, dtype="float32").reshape(3, 2))
    assert ds.batch(2).map(lambda x: x + 1).element_spec == \
        tf.TensorSpec([None, 2], tf.float32)
    assert ds.map(lambda x: {"a": x, "b": tf.size(x)}).element_spec == {
        "a": tf.TensorSpec([2], tf.float32), "b": tf.TensorSpec([], tf.int32)}


def test_value_dependent_sizes_are_unknown():
    rng = tf.data.Dataset.range(5)
    assert rng.map(lambda x: tf.range(x)).element_spec == tf.TensorSpec([None], tf.int64)
    assert rng.map(lambda x: tf.ones([x, 2])).element_spec == \
        tf.TensorSpec([None, 2], tf.float32)
    assert rng.filter(lambda x: x > 1).map(lambda x: tf.fill([2], x)).element_spec == \
        tf.TensorSpec([2], tf.int64)
    imgs = _images()
    assert imgs.map(lambda x, y: tf.where(x > 0.5)).element_spec == \
        tf.TensorSpec([None, 3], tf.int64)
    assert imgs.map(lambda x, y: tf.unique(
        tf.reshape(tf.cast(x * 3, tf.int32), [-1]))[0]).element_spec == \
        tf.TensorSpec([None], tf.int32)
    assert imgs.map(lambda x, y: tf.boolean_mask(
        tf.reshape(x, [-1]), tf.reshape(x, [-1]) > 0.5)).element_spec == \
        tf.TensorSpec([None], tf.float32)


def test_common_pipelines_keep_their_static_shapes():
    imgs = _images()
    assert imgs.map(lambda x, y: (tf.image.resize(x, [4, 4]), tf.one_hot(y, 10))) \
        .element_spec == (tf.TensorSpec([4, 4, 3], tf.float32),
                          tf.TensorSpec([10], tf.float32))
    assert imgs.batch(2).map(lambda x, y: (tf.reduce_mean(x, [1, 2]), y)).element_spec \
        == (tf.TensorSpec([None, 3], tf.float32), tf.TensorSpec([None], tf.int64))
    text = tf.data.Dataset.from_tensor_slices(["1.5", "2"])
    assert text.map(tf.strings.to_number).element_spec == tf.TensorSpec([], tf.float32)
    assert text.map(tf.strings.split).element_spec == tf.TensorSpec([None], tf.string)
    windows = tf.data.Dataset.range(10).batch(3).map(lambda w: (w[:-1], w[-1]))
    assert windows.element_spec == (tf.TensorSpec([None], tf.int64),
                                    tf.TensorSpec([], tf.int64))


def test_functions_that_need_real_data_fall_back_to_samples():
    calls = []

    def needs_value(x):   # eager-only Python on the value: not traceable
        calls.append(1)
        return tf.fill([int(x.numpy()) % 2 + 2], x)
    ds = tf.data.Dataset.range(4).map(needs_value)
    assert ds.element_spec.dtype == tf.int64
    assert [e.numpy().tolist() for e in ds] == [[0, 0], [1, 1, 1], [2, 2], [3, 3, 3]]
