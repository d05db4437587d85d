"""Regressions found by the final read of the session's core GPU changes (FR).

- Complex scatter-adds on a GPU: cupyx's atomics take no complex dtype, and the
  widening fallback cast complex to int32, dropping every imaginary part (and the
  fractions) of ``tensor_scatter_nd_add``, ``Variable.scatter_add`` and the gradient
  of a gather.
- Writes into a variable with no rows on a GPU: every index is out of range, which
  TF's GPU kernels ignore, but the neutralised rows pointed at a missing element 0
  and raised IndexError (the CPU raises InvalidArgumentError, as TF's CPU kernels).
- CUDA-graph capture: the host-reading bounding-box sampler was listed under a name
  no primitive has, so a step holding it tried (and failed) a capture.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe import backends
from dlframe.core import graph_capture
from dlframe.core.primitive import REGISTRY


def _complex(values, dtype):
    values = np.asarray(values, np.float64)
    return (values + 1j * values[::-1] * 0.5).astype(dtype)


def test_tensor_scatter_nd_add_keeps_imaginary_parts(device):
    base = _complex([1.0, -2.5, 3.25, 0.5], np.complex64)
    updates = _complex([0.5, 1.5, -2.0, 4.0], np.complex64)
    index = np.array([[0], [2], [0], [3]])
    expected = base.copy()
    np.add.at(expected, index[:, 0], updates)
    with tf.device(device):
        got = tf.tensor_scatter_nd_add(tf.constant(base), index, tf.constant(updates))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)


def test_variable_scatter_add_keeps_imaginary_parts(device):
    start = _complex([[1.0, 2.0], [-3.0, 4.5], [0.25, -1.0]], np.complex128)
    rows = _complex([[2.0, -1.0], [0.5, 0.5], [7.0, 3.0]], np.complex128)
    ids = np.array([1, 1, 0])
    expected = start.copy()
    np.add.at(expected, ids, rows)
    with tf.device(device):
        v = tf.Variable(start)
        v.scatter_add(tf.IndexedSlices(tf.constant(rows), tf.constant(ids)))
    np.testing.assert_allclose(v.numpy(), expected, rtol=1e-12)


def _gather_gradient(device):
    with tf.device(device):
        params = tf.Variable(_complex([1.0, 2.0, 3.0], np.complex128))
        weights = tf.constant(_complex([1.5, -0.5, 2.0, 1.0], np.complex128))
        with tf.GradientTape() as tape:
            picked = tf.gather(params, [2, 0, 2, 1])
            loss = tf.reduce_sum(tf.math.real(picked * weights))
        return tf.convert_to_tensor(tape.gradient(loss, params)).numpy()


def test_complex_gather_gradient_matches_the_cpu(device):
    np.testing.assert_allclose(_gather_gradient(device), _gather_gradient("cpu:0"),
                               rtol=1e-12)
    assert np.abs(_gather_gradient(device).imag).max() > 0   # the case under test


@pytest.mark.parametrize("mode", ["update", "add", "sub", "mul", "div", "max", "min"])
def test_writes_into_a_variable_without_rows(device, mode):
    with tf.device(device):
        v = tf.Variable(tf.zeros([0, 2]))
        rows = tf.IndexedSlices(tf.ones([2, 2]), tf.constant([0, 3]))
        if not backends.get_device(device).is_gpu:
            with pytest.raises(tf.errors.InvalidArgumentError):
                getattr(v, "scatter_" + mode)(rows)
            return
        getattr(v, "scatter_" + mode)(rows)   # all ignored, as TF's GPU kernels
        v.scatter_nd_add([[0], [1]], tf.ones([2, 2]))
    assert v.shape == (0, 2)


def test_host_reading_box_sampler_is_never_captured():
    @tf.function
    def crop_begin(boxes):
        begin, _, _ = tf.image.stateless_sample_distorted_bounding_box(
            [20, 20, 3], boxes, seed=[1, 2], min_object_covered=0.1)
        return begin

    boxes = tf.constant([[[0.1, 0.1, 0.8, 0.8]]])
    first = crop_begin(boxes)
    graph = crop_begin.get_concrete_function(boxes).graph._graph
    assert "SampleDistortedBoundingBoxV2" in graph.node_names
    assert not graph._replayable   # its forward reads sizes and boxes on the host
    np.testing.assert_array_equal(crop_begin(boxes).numpy(), first.numpy())


def test_every_host_sync_name_is_a_primitive():
    # a misspelt name silently lets a host-reading step attempt capture
    assert not sorted(n for n in graph_capture._HOST_SYNC if n not in REGISTRY)
