"""Round-18 probes: TF core guides (extension types, advanced autodiff) and text
tutorials, run under TensorFlow 2.21 and dlframe; regressions for each difference."""

import numpy as np
import pytest

import dlframe as tf


class MaskedTensor(tf.experimental.ExtensionType):
    """The extension-type guide's masked tensor, with a __repr__ that reads values
    (so it only works eagerly, as in the guide)."""

    values: tf.Tensor
    mask: tf.Tensor

    def __validate__(self):
        self.values.shape.assert_is_compatible_with(self.mask.shape)
        assert self.mask.dtype.is_bool, "mask.dtype must be bool"

    def with_default(self, default):
        return tf.where(self.mask, self.values, default)

    def __repr__(self):
        return f"<MaskedTensor {self.values.numpy()} {self.mask.numpy()}>"


@tf.experimental.dispatch_for_api(tf.math.add)
def _masked_add(x: MaskedTensor, y: MaskedTensor, name=None):
    return MaskedTensor(x.values + y.values, x.mask & y.mask)


class Network(tf.experimental.BatchableExtensionType):
    """The guide's batchable type with a TensorShape field."""

    shape: tf.TensorShape
    work: tf.Tensor
    bandwidth: tf.Tensor

    def __init__(self, work, bandwidth):
        self.work = tf.convert_to_tensor(work)
        self.bandwidth = tf.convert_to_tensor(bandwidth)
        self.shape = self.work.shape[:-1].merge_with(self.bandwidth.shape[:-2])


@tf.experimental.dispatch_for_api(tf.stack)
def _network_stack(values: list[Network], axis=0):
    return Network(work=tf.stack([v.work for v in values], axis),
                   bandwidth=tf.stack([v.bandwidth for v in values], axis))


def _network(scale):
    return Network(np.array([5., 3., 8.], np.float32) * scale,
                   np.eye(3, dtype=np.float32) * scale)


def test_dispatch_for_api_inside_function_with_eager_only_repr():
    # the dispatch must run while tracing even though the value's __repr__ calls
    # .numpy() (the conversion error message used to call it and fail first)
    a = MaskedTensor([1., 2., 3.], [True, False, True])
    b = MaskedTensor([10., 20., 30.], [True, True, False])

    @tf.function
    def add(x, y):
        return tf.add(x, y)

    for out in (tf.add(a, b), add(a, b)):
        np.testing.assert_allclose(out.values.numpy(), [11., 22., 33.])
        np.testing.assert_array_equal(out.mask.numpy(), [True, False, False])


def test_undispatched_extension_in_function_is_value_error():
    @tf.function
    def add_one(x):
        return tf.subtract(x, tf.constant(1.0))

    with pytest.raises(ValueError, match="Attempt to convert a value"):
        add_one(MaskedTensor([1., 2.], [True, False]))


def test_tensor_shape_field_follows_dataset_unbatch_and_batch():
    batch = tf.stack([_network(1.0), _network(2.0)])
    assert batch.shape == tf.TensorShape([2])
    rows = list(tf.data.Dataset.from_tensor_slices(batch))
    assert [r.shape for r in rows] == [tf.TensorShape([])] * 2   # TF 2.21: shape=()
    np.testing.assert_allclose(rows[1].work.numpy(), [10., 6., 16.])

    batched = list(tf.data.Dataset.from_tensors(_network(1.0)).repeat(3).batch(2))
    assert [b.work.shape[0] for b in batched] == [2, 1]
    assert [b.shape.rank for b in batched] == [1, 1]
    again = list(tf.data.Dataset.from_tensors(_network(1.0)).repeat(3).batch(2)
                 .unbatch())
    assert len(again) == 3 and again[0].shape == tf.TensorShape([])


def test_batch_encoder_specs_batch_tensor_shape_fields():
    spec = tf.type_spec_from_value(_network(1.0))
    batched = spec._batch(4)
    assert batched.shape == tf.TensorShape([4])
    assert batched._unbatch().shape == tf.TensorShape([])
    assert spec._batch(None).shape.as_list() == [None]


def test_recompute_grad_matches_plain_gradient_eager_and_traced():
    def fn(x):
        return tf.sin(x) * tf.exp(x)

    x_np = np.array([0.5, 1.0, 1.5], np.float32)
    expect = np.exp(x_np) * (np.cos(x_np) + np.sin(x_np))
    recomputed = tf.recompute_grad(fn)

    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = recomputed(x)
        return tape.gradient(y, x)

    x = tf.constant(x_np)
    np.testing.assert_allclose(grad(x).numpy(), expect, rtol=1e-5)
    np.testing.assert_allclose(tf.function(grad)(x).numpy(), expect, rtol=1e-5)


def test_recompute_grad_reaches_layer_variables():
    dense = tf.keras.layers.Dense(3, kernel_initializer="ones")
    dense.build((None, 3))
    recomputed = tf.recompute_grad(lambda z: dense(z))
    with tf.GradientTape() as tape:
        out = tf.reduce_sum(recomputed(tf.ones((2, 3))))
    kernel_grad, bias_grad = tape.gradient(out, dense.trainable_variables)
    np.testing.assert_allclose(kernel_grad.numpy(), np.full((3, 3), 2.0))
    np.testing.assert_allclose(bias_grad.numpy(), np.full(3, 2.0))


# ------------------------------------------------- tnp guide: tuples inside a key
@pytest.fixture
def numpy_indexing():
    from dlframe.ops import slicing
    slicing.set_numpy_indexing(True)
    yield
    slicing.set_numpy_indexing(False)


@pytest.mark.parametrize("key", [
    (slice(None), (True, False, True)),
    (1, (0, 0, 1), np.array([0, 1, 1])),
    ((0, 1), slice(None), 2),
])
def test_tuple_inside_key_is_index_array_under_numpy_behavior(numpy_indexing, key):
    x_np = np.arange(24).reshape(2, 3, 4)
    out = tf.constant(x_np)[key]
    np.testing.assert_array_equal(out.numpy(), x_np[key])


def test_tuple_inside_key_stays_an_error_without_numpy_behavior():
    with pytest.raises(TypeError, match="valid indices"):
        tf.constant(np.arange(6).reshape(2, 3))[:, (True, False, True)]
