"""Review round 20 (R3): Dataset.map's spec retry with large stand-ins runs only
where an unknown size could be why the small ones failed."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.data import spec_trace


def _counting(fn):
    calls = []

    def wrapped(x):
        calls.append(tuple(x.shape))
        return fn(x)
    return wrapped, calls


def test_known_shapes_do_not_retry_with_large_stand_ins():
    fn, calls = _counting(lambda x: x + tf.ones([7]))   # fails for any [3] input
    assert spec_trace.traced_map_spec(fn, tf.TensorSpec([3], tf.float32)) is None
    assert calls == [(3,)]


def test_unknown_sizes_retry_and_crop_specs_follow():
    fn, calls = _counting(lambda x: tf.image.random_crop(x, [20, 20, 3]))
    spec = spec_trace.traced_map_spec(fn, tf.TensorSpec([None, None, 3], tf.float32))
    assert spec == tf.TensorSpec([20, 20, 3], tf.float32)
    assert len(calls) == 4   # one small stand-in failed, three large ones ran


def test_a_map_that_fails_on_real_data_still_raises_its_error():
    images = [np.zeros((32 + i, 40, 3), np.float32) for i in range(2)]
    ds = tf.data.Dataset.from_generator(
        lambda: iter(images),
        output_signature=tf.TensorSpec([None, None, 3], tf.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Incompatible shapes"):
        for _ in ds.map(lambda x: x + tf.ones([7, 7, 3])):
            pass
