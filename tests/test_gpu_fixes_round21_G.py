"""Round 21, group G: what the first GPU run of the Keras/data tutorials found.

Each test runs on ``cpu:0`` and, where there is one, ``gpu:0`` (the ``device``
fixture), and compares with NumPy or with the other device's numbers:
- a ``tf.data`` function runs on the host and reads the tensors it captured from
  the default device (a constant, a layer's weights or seed state), every run;
- host strings gathered at device indices inside a ``tf.function`` follow the
  indices of each call (an untraced copy had frozen the first call's);
- string fills, hashed crosses and ``check_numerics`` of fused elementwise chains.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError

keras = tf.keras


def test_dataset_map_reads_captured_tensors_on_every_run(device):
    mel = tf.constant(np.arange(12, dtype="float32").reshape(4, 3))
    scale = tf.Variable(1.0)
    frames = np.random.default_rng(0).random((5, 2, 4)).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices(frames).map(
        lambda x: tf.tensordot(x, mel, 1) * scale)
    want = frames @ np.arange(12, dtype="float32").reshape(4, 3)
    np.testing.assert_allclose(np.stack([e.numpy() for e in ds]), want, rtol=1e-6)
    scale.assign(2.0)   # the traced map reads the variable when it runs
    np.testing.assert_allclose(np.stack([e.numpy() for e in ds]), 2 * want,
                               rtol=1e-6)


def test_same_seed_flips_agree_inside_a_dataset_map(device):
    keras.backend.clear_session()
    first = keras.layers.RandomFlip("horizontal", seed=42)
    second = keras.layers.RandomFlip("horizontal", seed=42)
    images = np.arange(4 * 2 * 3, dtype="float32").reshape(4, 2, 3, 1)
    ds = tf.data.Dataset.from_tensor_slices(images).batch(4).repeat(4).map(
        lambda x: (first(x, training=True), second(x, training=True)))
    flips = []
    for a, b in ds:
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        flips.append(tuple(a.numpy()[:, 0, 0, 0] != images[:, 0, 0, 0]))
    assert len(set(flips)) > 1   # the seed state advances from batch to batch


def test_traced_gather_of_host_strings_follows_each_call(device):
    names = np.array(["down", "up", "left"])

    @tf.function
    def classify(logits):
        return tf.gather(names, tf.argmax(logits, axis=-1))

    for logits, want in (([[1., 5., 0.]], b"up"), ([[9., 1., 0.]], b"down"),
                         ([[0., 0., 3.]], b"left")):
        assert classify(tf.constant(logits)).numpy().tolist() == [want]


def test_string_zeros_live_on_the_host(device):
    empty = tf.zeros([2, 0], tf.string)
    blank = tf.zeros([2], tf.string)
    assert tuple(empty.shape) == (2, 0) and blank.numpy().tolist() == [b"", b""]
    assert blank.device.endswith("CPU:0")
    assert tf.strings.reduce_join(blank, separator="-").numpy() == b"-"


def test_hashed_cross_ids_join_device_tensors(device):
    cross = keras.layers.HashedCrossing(8, output_mode="one_hot")
    hot = cross((tf.constant([1, 2, 3]), tf.constant(["a", "b", "a"])))
    joined = tf.concat([hot, tf.ones([3, 1])], axis=-1)   # one device for both
    assert tuple(joined.shape) == (3, 9)
    with tf.device("cpu:0"):
        ref = keras.layers.HashedCrossing(8, output_mode="one_hot")(
            (tf.constant([1, 2, 3]), tf.constant(["a", "b", "a"])))
    np.testing.assert_array_equal(hot.numpy(), ref.numpy())


def test_check_numerics_names_the_op_inside_a_fused_chain(device, check_numerics_on):
    @tf.function
    def chain(x):
        return tf.exp(tf.math.log(x) * 2.0) + 1.0

    np.testing.assert_allclose(chain(tf.constant([1.0, 2.0])).numpy(), [2.0, 5.0],
                               rtol=1e-6)
    for _ in range(2):   # the trace, then replays of the graph
        with pytest.raises(InvalidArgumentError, match='op "Log"'):
            chain(tf.constant([-1.0, 2.0]))
