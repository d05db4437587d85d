"""numpy_function inside graphs (tf.function, Dataset.map) gets 0-d inputs as NumPy
scalars, as TF's graph op does: a scalar string arrives as ``bytes`` (the common
``path.decode()`` in a loader), a scalar float as ``np.float32``; eagerly every
input is an ``ndarray``."""

import numpy as np

import dlframe as tf


def _kinds(*args):
    return np.array(",".join(type(a).__name__ for a in args))


def test_graph_numpy_function_gets_scalars_like_tf():
    args = [tf.constant("ab"), tf.constant(1.5), tf.constant(["a"])]
    eager = tf.numpy_function(_kinds, args, tf.string).numpy()
    graph = tf.function(lambda: tf.numpy_function(_kinds, args, tf.string))().numpy()
    # both from TF 2.21
    assert eager == b"ndarray,ndarray,ndarray"
    assert graph == b"bytes,float32,ndarray"


def test_dataset_map_numpy_function_decodes_bytes():
    ds = tf.data.Dataset.from_tensor_slices(["ab", "abc"]).map(
        lambda s: tf.numpy_function(lambda b: np.int64(len(b.decode())), [s], tf.int64))
    assert [int(v) for v in ds] == [2, 3]


def test_graph_numpy_function_returns_numpy_text_as_tf_string():
    # TF 2.21 accepts NumPy bytes and unicode arrays for a tf.string Tout
    for value in (np.array(b"ab"), np.array([["ab", "c"]])):
        out = tf.function(lambda v=value: tf.numpy_function(
            lambda: v, [], tf.string))()
        assert out.dtype == tf.string
        assert np.asarray(out.numpy()).tolist() == np.char.encode(
            value.astype("U")).tolist()
