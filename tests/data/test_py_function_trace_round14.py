"""tf.py_function / tf.numpy_function in tf.data: building a pipeline (finding its
``element_spec``) never runs their Python bodies, as TF's tracing does not; their
results have unknown shape until ``set_shape`` / ``tf.ensure_shape``, and the shapes
given there are known to the ops after them. Expected specs and call lists are those
TF 2.21 prints for the same programs."""

import numpy as np
import pytest

import dlframe as tf


def _spec(shape, dtype):
    return tf.TensorSpec(shape, dtype)


def test_map_body_runs_only_on_real_elements():
    seen = []

    def double(x):
        seen.append(int(x.numpy()))
        return x * 2

    ds = tf.data.Dataset.range(3).map(lambda x: tf.py_function(double, [x], tf.int64))
    assert seen == []   # TF 2.21: nothing recorded while the pipeline is built
    assert ds.element_spec == _spec(None, tf.int64)
    assert [int(v) for v in ds] == [0, 2, 4]
    assert seen == [0, 1, 2]


def test_numpy_function_several_outputs_not_run_when_built():
    calls = []

    def three(i):
        calls.append(int(i))
        return np.int32(i), np.float64(i) / 2, np.array([i, i], np.int64)

    ds = tf.data.Dataset.range(3).map(lambda i: tuple(tf.numpy_function(
        three, [i], [tf.int32, tf.float64, tf.int64])))
    assert calls == []
    assert ds.element_spec == (_spec(None, tf.int32), _spec(None, tf.float64),
                               _spec(None, tf.int64))
    got = [tuple(np.asarray(t).tolist() for t in e) for e in ds.as_numpy_iterator()]
    assert got == [(i, i / 2, [i, i]) for i in range(3)]
    assert calls == [0, 1, 2]


def _decode(i):
    return np.full((4, 4, 3), i, np.uint8)


def test_set_shape_is_known_downstream_and_batches():
    def load(i):
        img = tf.numpy_function(_decode, [i], tf.uint8)
        img.set_shape([4, 4, 3])
        return tf.cast(img, tf.float32) / 255.0, i % 2

    ds = tf.data.Dataset.range(5).map(load)
    # TF 2.21: the cast and division keep the shape set_shape gave
    assert ds.element_spec == (_spec([4, 4, 3], tf.float32), _spec([], tf.int64))
    batched = ds.batch(2)
    assert batched.element_spec[0] == _spec([None, 4, 4, 3], tf.float32)
    images = [b.numpy() for b, _ in batched]
    assert [im.shape for im in images] == [(2, 4, 4, 3), (2, 4, 4, 3), (1, 4, 4, 3)]
    np.testing.assert_allclose(images[2][0], np.full((4, 4, 3), 4 / 255.0),
                               rtol=1e-6)


def test_ensure_shape_partial_then_resize():
    def load(i):
        img = tf.numpy_function(_decode, [i], tf.uint8)
        img = tf.ensure_shape(img, [None, None, 3])
        return tf.image.resize(img, [8, 8])

    ds = tf.data.Dataset.range(3).map(load)
    assert ds.element_spec == _spec([8, 8, 3], tf.float32)   # TF 2.21's
    out = [b.numpy() for b in ds.batch(2)]
    assert [b.shape for b in out] == [(2, 8, 8, 3), (1, 8, 8, 3)]
    np.testing.assert_allclose(out[1][0], np.full((8, 8, 3), 2.0))


def test_ensure_shape_mismatch_fails_when_iterated():
    ds = tf.data.Dataset.range(2).map(lambda i: tf.ensure_shape(tf.numpy_function(
        lambda v: np.zeros((2, 3), np.float32), [i], tf.float32), [3, 3]))
    assert ds.element_spec == _spec([3, 3], tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError):
        list(ds)


def test_batch_of_unknown_shape_elements():
    ds = tf.data.Dataset.range(5).map(
        lambda i: tf.numpy_function(_decode, [i], tf.uint8))
    assert ds.element_spec == _spec(None, tf.uint8)
    assert ds.batch(2).element_spec == _spec(None, tf.uint8)
    assert [tuple(b.shape) for b in ds.batch(2)] == [(2, 4, 4, 3)] * 2 + [(1, 4, 4, 3)]

    ragged = tf.data.Dataset.range(4).map(lambda i: tf.numpy_function(
        lambda v: np.arange(int(v) + 1, dtype=np.int64), [i], tf.int64))
    padded = ragged.padded_batch(2, padded_shapes=[None])
    assert padded.element_spec == _spec([None, None], tf.int64)
    assert [b.numpy().tolist() for b in padded] == [[[0, 0], [0, 1]],
                                                    [[0, 1, 2, 0], [0, 1, 2, 3]]]
    with pytest.raises(tf.errors.InvalidArgumentError):
        list(ragged.batch(2))


def test_tout_lists_and_strings():
    def pair(x):
        return [x + 1, tf.cast(x, tf.float32) * 2]

    ds = tf.data.Dataset.range(3).map(
        lambda x: tf.py_function(pair, [x], [tf.int64, tf.float32]))
    assert ds.element_spec == (_spec(None, tf.int64), _spec(None, tf.float32))
    assert [(int(a), float(b)) for a, b in ds] == [(1, 0.0), (2, 2.0), (3, 4.0)]

    one = tf.data.Dataset.range(3).map(
        lambda x: tf.py_function(lambda v: [v * 3], [x], [tf.int64]))
    assert one.element_spec == (_spec(None, tf.int64),)
    assert [int(v[0]) for v in one] == [0, 3, 6]

    names = tf.data.Dataset.range(2).map(lambda i: tf.numpy_function(
        lambda v: f"img_{int(v)}.png".encode(), [i], tf.string))
    assert names.element_spec == _spec(None, tf.string)
    assert list(names.as_numpy_iterator()) == [b"img_0.png", b"img_1.png"]


def test_from_generator_map_and_assert_cardinality():
    def gen():
        for i in range(4):
            yield np.arange(i + 1, dtype=np.float32)

    calls = []

    def total(v):
        calls.append(int(v.shape[0]))
        return tf.reduce_sum(v)

    source = tf.data.Dataset.from_generator(
        gen, output_signature=tf.TensorSpec([None], tf.float32))
    source = source.apply(tf.data.experimental.assert_cardinality(4))
    ds = source.map(lambda v: tf.py_function(total, [v], tf.float32))
    assert calls == []
    assert int(ds.cardinality()) == 4
    assert [float(x) for x in ds] == [0.0, 1.0, 3.0, 6.0]
    assert calls == [1, 2, 3, 4]
    assert [b.numpy().tolist() for b in ds.batch(2)] == [[0.0, 1.0], [3.0, 6.0]]


def test_filter_predicate_not_run_when_built():
    calls = []

    def even(x):
        calls.append(int(x))
        return x % 2 == 0

    ds = tf.data.Dataset.range(5).filter(lambda x: tf.py_function(even, [x], tf.bool))
    assert calls == []
    assert list(ds.as_numpy_iterator()) == [0, 2, 4]
    assert calls == [0, 1, 2, 3, 4]


def test_fallback_runs_body_when_placeholder_cannot_go_on():
    """A reshape of a result with no set_shape cannot run on the placeholder, so the
    spec trace runs the body (on the placeholder inputs): dlframe's one departure
    from TF, whose graph reshapes an unknown shape. Results are still right."""
    seen = []

    def four(i):
        seen.append(int(i))
        return np.arange(4, dtype=np.float32) + np.float32(i)

    ds = tf.data.Dataset.range(3).map(
        lambda i: tf.reshape(tf.numpy_function(four, [i], tf.float32), [2, 2]))
    assert ds.element_spec == _spec([2, 2], tf.float32)
    values = [x.numpy().tolist() for x in ds]
    assert values == [[[i, i + 1.0], [i + 2.0, i + 3.0]] for i in range(3)]
    assert seen[-3:] == [0, 1, 2]


def test_image_pipeline_trains():
    tf.keras.utils.set_random_seed(0)
    labels = np.arange(32) % 2
    reads = []

    def read(path, label):
        reads.append(path)
        rng = np.random.default_rng(int(label))
        return (rng.normal(size=(6, 6, 1)) + 2.0 * float(label)).astype(np.float32)

    def load(path, label):
        img = tf.numpy_function(read, [path, label], tf.float32)
        img.set_shape([6, 6, 1])
        return img, label

    files = [f"f{i}.bin" for i in range(32)]
    ds = (tf.data.Dataset.from_tensor_slices((files, labels)).shuffle(32)
          .map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(8).prefetch(1))
    assert reads == []
    assert ds.element_spec[0] == _spec([None, 6, 6, 1], tf.float32)
    model = tf.keras.Sequential([
        tf.keras.Input((6, 6, 1)), tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(1, activation="sigmoid")])
    model.compile(tf.keras.optimizers.Adam(0.05), "binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(ds, epochs=5, verbose=0)
    assert len(reads) == 5 * 32
    assert history.history["accuracy"][-1] > 0.9


def test_map_after_unknown_rank_map_is_traced_not_sampled():
    """A map over elements of unknown rank is traced on placeholders (rank 1, then
    rank 2), so the py_function stage before it does not run when it is built."""
    calls = []

    def arange(x):
        calls.append(int(x))
        return np.arange(int(x), dtype=np.int64)

    first = tf.data.Dataset.range(4).map(
        lambda x: tf.numpy_function(arange, [x], tf.int64))
    summed = first.map(tf.reduce_sum)
    doubled = first.map(lambda v: v * 2)
    assert calls == []
    assert summed.element_spec == _spec([], tf.int64)      # TF 2.21's
    assert doubled.element_spec == _spec(None, tf.int64)   # rank follows the input
    assert list(summed.as_numpy_iterator()) == [0, 0, 1, 3]
    assert calls == [0, 1, 2, 3]


def test_unknown_rank_generator_then_map():
    def gen():
        yield np.ones((2,), np.float32)
        yield np.ones((2, 3), np.float32)

    source = tf.data.Dataset.from_generator(
        gen, output_signature=tf.TensorSpec(None, tf.float32))
    ds = source.map(lambda v: (tf.reduce_sum(v), tf.reshape(v, [-1]), tf.shape(v)))
    assert ds.element_spec == (_spec([], tf.float32), _spec([None], tf.float32),
                               _spec([None], tf.int32))
    got = [(float(a), b.shape[0], c.numpy().tolist()) for a, b, c in ds]
    assert got == [(2.0, 2, [2]), (6.0, 6, [2, 3])]


def test_flat_map_check_does_not_run_body():
    """flat_map's build-time check gives up (as a dlframe shortcut) rather than run
    the body when the placeholder cannot be sliced; its element_spec still comes
    from the first real element (TF: unknown shape)."""
    calls = []

    def arange(x):
        calls.append(int(x))
        return np.arange(int(x), dtype=np.int64)

    ds = tf.data.Dataset.range(4).flat_map(lambda x: tf.data.Dataset.from_tensor_slices(
        tf.numpy_function(arange, [x], tf.int64)))
    assert calls == []
    assert list(ds.as_numpy_iterator()) == [0, 0, 1, 0, 1, 2]
    assert calls == [0, 1, 2, 3]


def test_wrong_result_dtype_fails_at_iteration_without_eager_retry():
    """TF 2.21: "0-th value returned by ... is double, but expects float" when the
    element is produced; dlframe no longer falls back to an eager run (whose
    numpy_function does not check ``Tout``) that yielded float64 elements."""
    calls = []

    def as_float64(v):
        calls.append(int(v))
        return np.arange(4) * 1.0

    ds = tf.data.Dataset.range(3).map(
        lambda i: tf.numpy_function(as_float64, [i], tf.float32))
    assert ds.element_spec == _spec(None, tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="expects float"):
        list(ds)
    assert calls == [0]

    def raises(v):
        raise ValueError(f"bad element {int(v)}")

    failing = tf.data.Dataset.range(2).map(
        lambda i: tf.py_function(raises, [i], tf.int64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="bad element 0"):
        list(failing)
