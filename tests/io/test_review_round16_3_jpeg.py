"""Review round 16 (3): a traced adjust_jpeg_quality keeps TF's static shape
(channels known, height and width unknown) instead of an unknown rank."""

import numpy as np
import pytest

import dlframe as tf

IMAGES = np.random.default_rng(3).random((2, 16, 16, 3)).astype(np.float32)


@pytest.mark.parametrize("spec", [(16, 16, 3), (None, None, 3)])
def test_traced_jpeg_quality_has_tf_static_shape_and_eager_values(spec):
    fn = tf.function(lambda image: tf.image.adjust_jpeg_quality(image, 60))
    concrete = fn.get_concrete_function(tf.TensorSpec(spec, tf.float32))
    # (None, None, 3) as TF 2.21 gives for both specs
    assert concrete.structured_outputs.shape.as_list() == [None, None, 3]
    np.testing.assert_array_equal(fn(IMAGES[0]).numpy(),
                                  tf.image.adjust_jpeg_quality(IMAGES[0], 60).numpy())


def test_dataset_map_of_random_jpeg_quality_keeps_the_channels():
    ds = tf.data.Dataset.from_tensor_slices(IMAGES).map(
        lambda image: tf.image.random_jpeg_quality(image, 50, 90, seed=1))
    assert ds.element_spec.shape.as_list() == [None, None, 3]
    batch = next(iter(ds.batch(2)))
    assert batch.shape == (2, 16, 16, 3) and batch.dtype == tf.float32
    assert 0.0 <= float(tf.reduce_min(batch)) and float(tf.reduce_max(batch)) <= 1.0
