"""tf.experimental.dispatch_for_api and the elementwise dispatch decorators route
ops called on ExtensionType values to user implementations (eager and traced)."""

# ruff: noqa: UP006, UP007, UP035 - the TF guide's typing spellings

from typing import List, Union

import numpy as np
import pytest

import dlframe as tf


class Masked(tf.experimental.ExtensionType):
    values: tf.Tensor
    mask: tf.Tensor


def _pair():
    a = Masked([1.0, -2.0, 3.0], [True, False, True])
    b = Masked([10.0, 20.0, 30.0], [True, True, False])
    return a, b


@pytest.fixture
def registered():
    """Registers dispatchers for the test and removes them afterwards."""
    targets = []

    def register(decorator, fn):
        decorator(fn)
        targets.append(fn)
        return fn
    yield register
    for fn in targets:
        tf.experimental.unregister_dispatch_for(fn)


def test_unhandled_extension_value_is_a_clear_error():
    a, _ = _pair()
    with pytest.raises(ValueError, match="Attempt to convert a value"):
        tf.abs(a)


def test_dispatch_for_api_with_annotations_and_signature(registered):
    def masked_add(x: Masked, y: Masked, name=None):
        return Masked(x.values + y.values, x.mask & y.mask)

    def masked_sum(input_tensor, axis=None, keepdims=False, name=None):
        kept = tf.where(input_tensor.mask, input_tensor.values, 0.0)
        return tf.reduce_sum(kept, axis, keepdims)

    def masked_stack(values: List[Masked], axis=0):
        return Masked(tf.stack([v.values for v in values], axis),
                      tf.stack([v.mask for v in values], axis))
    registered(tf.experimental.dispatch_for_api(tf.math.add), masked_add)
    registered(tf.experimental.dispatch_for_api(
        tf.math.reduce_sum, {"input_tensor": Masked}), masked_sum)
    registered(tf.experimental.dispatch_for_api(tf.stack), masked_stack)
    a, b = _pair()
    out = tf.add(a, b)
    np.testing.assert_allclose(out.values.numpy(), [11.0, 18.0, 33.0])
    np.testing.assert_array_equal(out.mask.numpy(), [True, False, False])
    assert float(tf.reduce_sum(a)) == 4.0
    stacked = tf.stack([a, b])
    assert stacked.values.shape.as_list() == [2, 3]
    # ordinary tensors still take the normal path
    assert float(tf.reduce_sum(tf.constant([1.0, 2.0]))) == 3.0
    np.testing.assert_allclose(tf.add(tf.constant(1.0), 2.0).numpy(), 3.0)

    @tf.function
    def traced(x, y):
        return tf.math.add(x, y)
    np.testing.assert_allclose(traced(a, b).values.numpy(), out.values.numpy())


def test_elementwise_dispatch(registered):
    def unary(api_func, x):
        return Masked(api_func(x.values), x.mask)

    def binary(api_func, x, y):
        if not isinstance(x, Masked):
            x = Masked(x, tf.ones_like(x, tf.bool))
        if not isinstance(y, Masked):
            y = Masked(y, tf.ones_like(y, tf.bool))
        return Masked(api_func(x.values, y.values), x.mask & y.mask)
    registered(tf.experimental.dispatch_for_unary_elementwise_apis(Masked), unary)
    registered(tf.experimental.dispatch_for_binary_elementwise_apis(
        Union[Masked, tf.Tensor], Union[Masked, tf.Tensor]), binary)
    a, b = _pair()
    np.testing.assert_allclose(tf.abs(a).values.numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(tf.math.exp(a).values.numpy(), np.exp([1.0, -2.0, 3.0]),
                               rtol=1e-6)
    np.testing.assert_allclose(tf.nn.relu(a).values.numpy(), [1.0, 0.0, 3.0])
    cast = tf.cast(a, tf.int32)   # the API's other arguments are bound
    assert cast.values.dtype == tf.int32
    np.testing.assert_allclose(tf.math.maximum(a, b).values.numpy(), [10.0, 20.0, 30.0])
    mixed = tf.math.multiply(a, tf.constant([2.0, 2.0, 2.0]))
    np.testing.assert_allclose(mixed.values.numpy(), [2.0, -4.0, 6.0])
    np.testing.assert_array_equal(mixed.mask.numpy(), [True, False, True])
    np.testing.assert_array_equal(tf.math.less(a, b).values.numpy(), [True, True, True])

    @tf.function
    def traced(x):
        return tf.math.square(x)
    np.testing.assert_allclose(traced(a).values.numpy(), [1.0, 4.0, 9.0])


def test_assert_dispatch_and_unregister(registered):
    def masked_assert(assert_func, x, y):
        return assert_func(x.values, y.values)
    registered(tf.experimental.dispatch_for_binary_elementwise_assert_apis(
        Masked, Masked), masked_assert)
    a, b = _pair()
    tf.debugging.assert_equal(a, a)
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.debugging.assert_equal(a, b)

    def add(x: Masked, y: Masked, name=None):
        return "custom"
    tf.experimental.dispatch_for_api(tf.math.add)(add)
    assert tf.math.add(a, b) == "custom"
    tf.experimental.unregister_dispatch_for(add)
    with pytest.raises(ValueError, match="Attempt to convert"):
        tf.math.add(a, b)
    with pytest.raises(ValueError, match="was not registered"):
        tf.experimental.unregister_dispatch_for(add)


def test_bad_signatures():
    with pytest.raises(ValueError, match="does not have"):
        tf.experimental.dispatch_for_api(tf.math.add, {"z": Masked})(lambda x, y: x)
    with pytest.raises(ValueError, match="annotate"):
        tf.experimental.dispatch_for_api(tf.math.add)(lambda x, y, name=None: x)
    with pytest.raises(TypeError, match="Unsupported type annotation"):
        tf.experimental.dispatch_for_api(tf.math.add, {"x": "Masked"})
