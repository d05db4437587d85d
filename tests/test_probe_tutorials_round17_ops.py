"""Op behaviours found by running tensorflow.org tutorials against TF 2.21 (round 17).

The DeepDream tutorial's ``TiledGradients`` loops ``for x in xs`` over
``xs = tf.range(0, img_size[1], tile_size)[:-1]`` inside a ``tf.function`` with an
``input_signature``, after ``if not tf.cast(len(xs), bool): xs = tf.constant([0])``.
The length of ``xs`` is unknown to the graph there: AutoGraph must read it at run
time (TF's ``len`` becomes ``tf.shape(xs)[0]``), not bake the trace-time length, and
the ``for`` loop over such a tensor must run a graph loop bounded by that length.
"""

import numpy as np
import pytest

import dlframe as tf

pytestmark = pytest.mark.filterwarnings("ignore:.*triggered tf.function retracing")


def _tile_starts(n, tile):
    """The tutorial's tile origins, ``[0]`` when the image is smaller than a tile."""
    xs = tf.range(0, n, tile)[:-1]
    if not tf.cast(len(xs), bool):
        xs = tf.constant([0])
    return xs


def _starts_reference(n, tile):
    starts = list(range(0, n, tile))[:-1]
    return starts or [0]


def test_len_of_unknown_length_tensor_is_read_at_run_time():
    @tf.function(input_signature=[tf.TensorSpec([], tf.int32)])
    def length(n):
        return len(tf.range(0, n, 3)[:-1])

    # one trace serves every n; values from TF 2.21 (len -> tf.shape(x)[0])
    assert [int(length(n)) for n in (2, 10, 20)] == [0, 3, 6]
    assert length.experimental_get_tracing_count() == 1


def test_len_of_static_length_tensor_stays_a_python_int():
    seen = []

    @tf.function
    def f(x):
        seen.append(len(x))
        return x * 2

    f(tf.ones([4, 2]))
    assert seen == [4] and isinstance(seen[0], int)


def test_cond_on_unknown_length_picks_branch_per_call():
    traced = tf.function(_tile_starts, input_signature=[
        tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32)])
    for n in (2, 10, 16, 40):
        np.testing.assert_array_equal(traced(n, 3 if n != 40 else 16).numpy(),
                                      _starts_reference(n, 3 if n != 40 else 16))
    np.testing.assert_array_equal(_tile_starts(10, 3).numpy(), [0, 3, 6])


def test_for_loop_over_tensor_of_unknown_length():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)])
    def digits(v):
        acc = tf.constant(0)
        count = 0
        for e in v:
            acc = acc * 10 + e
            count += 1
        return acc, count

    for values in ([], [7], [1, 2, 3], [4, 0, 5, 9]):
        acc, count = digits(tf.constant(values, tf.int32))
        expected = int("".join(map(str, values))) if values else 0
        assert (int(acc), int(count)) == (expected, len(values))
    assert digits.experimental_get_tracing_count() == 1


def _tiled_gradients_fn(model):
    """The DeepDream tutorial's ``TiledGradients.__call__`` with its roll left out."""

    def gradients_of(img, img_size, tile_size):
        gradients = tf.zeros_like(img)
        xs = _tile_starts(img_size[1], tile_size)
        ys = _tile_starts(img_size[0], tile_size)
        for x in xs:
            for y in ys:
                with tf.GradientTape() as tape:
                    tape.watch(img)
                    tile = img[y:y + tile_size, x:x + tile_size]
                    loss = tf.reduce_mean(model(tile[tf.newaxis]))
                gradients = gradients + tape.gradient(loss, img)
        return gradients
    return gradients_of


def test_deepdream_tiled_gradients_match_eager():
    tf.random.set_seed(0)
    model = tf.keras.Sequential([tf.keras.Input((None, None, 3)),
                                 tf.keras.layers.Conv2D(4, 3, activation="relu")])
    fn = _tiled_gradients_fn(model)
    traced = tf.function(fn, input_signature=(
        tf.TensorSpec(shape=[None, None, 3], dtype=tf.float32),
        tf.TensorSpec(shape=[2], dtype=tf.int32),
        tf.TensorSpec(shape=[], dtype=tf.int32)))
    rng = np.random.default_rng(0)
    for h, w in ((20, 26), (9, 9)):
        img = tf.constant(rng.uniform(-1, 1, (h, w, 3)).astype("float32"))
        size = tf.constant([h, w])
        eager = fn(img, size, tf.constant(8)).numpy()
        np.testing.assert_allclose(traced(img, size, tf.constant(8)).numpy(), eager,
                                   rtol=1e-5, atol=1e-7)
        # every tile origin contributes: the gradient reaches the whole covered area
        covered = eager[:max(8, 8 * (len(_starts_reference(h, 8)))),
                        :max(8, 8 * (len(_starts_reference(w, 8))))]
        assert np.abs(covered).sum() > 0
    assert traced.experimental_get_tracing_count() == 1
