"""tf.experimental.ExtensionType: fields, conversion, immutability, Spec, tracing,
tf.nest, control flow and tf.data batching (the TF "Extension types" guide).
Expected reprs and errors were checked against TF 2.21."""

# ruff: noqa: UP006, UP045 - the TF guide's typing spellings

import typing

import numpy as np
import pytest

import dlframe as tf
from dlframe.experimental import extension_type


class MaskedTensor(tf.experimental.ExtensionType):
    values: tf.Tensor
    mask: tf.Tensor

    def __validate__(self):
        self.values.shape.assert_is_compatible_with(self.mask.shape)
        assert self.mask.dtype.is_bool, "mask.dtype must be bool"


class Pair(tf.experimental.ExtensionType):
    a: int
    b: str = "x"
    c: typing.Tuple[tf.Tensor, ...] = ()
    d: typing.Mapping[str, tf.Tensor] = {}
    e: tf.TensorShape = None
    f: typing.Optional[tf.Tensor] = None


class Node(tf.experimental.ExtensionType):
    value: tf.Tensor
    children: typing.Tuple["Node", ...] = ()


class MT(tf.experimental.ExtensionType):
    """A custom constructor and a custom Spec, as in the guide."""
    values: tf.Tensor
    mask: tf.Tensor

    def __init__(self, values, mask=None):
        self.values = values
        self.mask = tf.ones_like(values, tf.bool) if mask is None else mask

    shape = property(lambda self: self.values.shape)

    class Spec:
        def __init__(self, shape, dtype=tf.float32):
            self.values = tf.TensorSpec(shape, dtype)
            self.mask = tf.TensorSpec(shape, tf.bool)

        shape = property(lambda self: self.values.shape)


class Batch(tf.experimental.BatchableExtensionType):
    values: tf.Tensor
    mask: tf.Tensor
    label: str = "b"


def _mt():
    return MaskedTensor([[1, 2, 3], [4, 5, 6]],
                        [[True, True, False], [True, False, True]])


def test_fields_are_converted_and_repr_matches_tf():
    mt = _mt()
    assert isinstance(mt.values, tf.Tensor) and mt.values.dtype == tf.int32
    assert mt.mask.dtype == tf.bool
    np.testing.assert_array_equal(mt.values.numpy(), [[1, 2, 3], [4, 5, 6]])
    assert repr(mt).startswith("MaskedTensor(values=<tf.Tensor: shape=(2, 3), "
                               "dtype=int32")
    assert ", mask=<tf.Tensor: shape=(2, 3), dtype=bool" in repr(mt)
    p = Pair(3, c=[1, 2], d={"k": 1.0}, e=[2, None])
    assert isinstance(p.c, tuple) and all(isinstance(t, tf.Tensor) for t in p.c)
    assert p.d["k"].dtype == tf.float32 and isinstance(p.e, tf.TensorShape)
    assert p.e.as_list() == [2, None] and p.b == "x" and p.f is None
    assert "d=ImmutableDict({'k': <tf.Tensor" in repr(p)
    assert repr(p).endswith("e=TensorShape([2, None]), f=None)")
    assert extension_type.as_dict(p)["a"] == 3


def test_bad_fields_raise_clear_errors():
    with pytest.raises(TypeError, match="missing a required argument: 'mask'"):
        MaskedTensor([1, 2])
    with pytest.raises(TypeError, match="a: expected 'int', got 'str'"):
        Pair("s")
    with pytest.raises(TypeError, match="b: expected 'str', got 'int'"):
        Pair(1, b=3)
    with pytest.raises(AssertionError, match="mask.dtype must be bool"):
        MaskedTensor([1, 2], [1, 0])
    with pytest.raises(ValueError):
        MaskedTensor([1, 2], [True, False, True])
    with pytest.raises(TypeError, match="Unsupported type annotation"):
        class Bad(tf.experimental.ExtensionType):
            x: typing.List[int]
    with pytest.raises(TypeError, match="as_dict"):
        extension_type.as_dict(3)


def test_immutability_equality_and_hash():
    mt = _mt()
    with pytest.raises(AttributeError, match="Cannot mutate attribute `mask`"):
        mt.mask = [1]
    with pytest.raises(AttributeError):
        del mt.values
    assert bool((mt == _mt()).numpy()) and not bool((mt != _mt()).numpy())
    other = MaskedTensor([[1, 2, 3], [4, 5, 7]], mt.mask)
    assert not bool((mt == other).numpy())
    assert (mt == MaskedTensor([1], [True])) is False and (mt == 3) is False
    with pytest.raises(TypeError, match="unhashable"):
        hash(mt)


def test_custom_constructor_forward_refs_and_subclass():
    m = MT([1.0, 2.0])
    np.testing.assert_array_equal(m.mask.numpy(), [True, True])
    n = Node(3, [Node(5), Node(2)])
    assert isinstance(n.children[0], Node) and int(n.children[1].value) == 2

    class Sub(MaskedTensor):
        extra: int = 0
    s = Sub([1.0], [True], extra=4)
    assert s.extra == 4 and repr(s).endswith("extra=4)")

    class Missing(tf.experimental.ExtensionType):
        a: tf.Tensor

        def __init__(self):
            pass
    with pytest.raises(ValueError, match="Missing required fields"):
        Missing()


def test_spec():
    mt = _mt()
    spec = mt._type_spec
    assert type(spec) is MaskedTensor.Spec and spec.value_type is MaskedTensor
    assert type(spec).__name__ == "MaskedTensor.Spec"
    assert repr(spec) == ("MaskedTensor.Spec(values=TensorSpec(shape=(2, 3), "
                          "dtype=tf.int32, name=None), mask=TensorSpec(shape=(2, 3), "
                          "dtype=tf.bool, name=None))")
    same = MaskedTensor.Spec(values=tf.TensorSpec([2, 3], tf.int32),
                             mask=tf.TensorSpec([2, 3], tf.bool))
    assert spec == same and hash(spec) == hash(same)
    assert spec.is_compatible_with(mt)
    assert not spec.is_compatible_with(MaskedTensor([1], [True]))
    general = spec.most_specific_common_supertype(
        [MaskedTensor([[1], [2]], [[True], [False]])._type_spec])
    assert general.values.shape.as_list() == [2, None]
    rebuilt = spec._from_components(spec._to_components(mt))
    assert bool((rebuilt == mt).numpy())
    with pytest.raises(AttributeError, match="ExtensionTypeSpec"):
        spec.values = 3
    custom = MT.Spec([None], tf.float32)
    assert custom.shape.as_list() == [None] and custom.mask.dtype == tf.bool
    assert tf.type_spec_from_value(mt) == spec
    assert "Pair.Spec(a=3, b='x', c=(TensorSpec(shape=(), dtype=tf.int32" in repr(
        Pair(3, c=[1])._type_spec)


def test_nest_expand_composites():
    mt = _mt()
    assert tf.nest.flatten(mt)[0] is mt
    flat = tf.nest.flatten({"m": mt, "p": Pair(1, c=[5])}, expand_composites=True)
    assert [t.dtype for t in flat] == [tf.int32, tf.bool, tf.int32]
    doubled = tf.nest.map_structure(lambda t: tf.identity(t), mt,
                                    expand_composites=True)
    assert isinstance(doubled, MaskedTensor) and bool((doubled == mt).numpy())
    packed = tf.nest.pack_sequence_as(mt, [tf.zeros([2, 3], tf.int32),
                                           tf.ones([2, 3], tf.bool)],
                                      expand_composites=True)
    assert int(tf.reduce_sum(packed.values)) == 0


def test_function_traces_once_per_spec_and_matches_eager():
    @tf.function
    def scale(x, k):
        return MaskedTensor(x.values * k, x.mask)

    a = MaskedTensor([1.0, 2.0], [True, False])
    out = scale(a, 3.0)
    assert isinstance(out, MaskedTensor)
    np.testing.assert_allclose(out.values.numpy(), [3.0, 6.0])
    scale(MaskedTensor([5.0, 6.0], [False, False]), 3.0)
    assert scale.experimental_get_tracing_count() == 1
    scale(MaskedTensor([5.0, 6.0, 7.0], [False, False, True]), 3.0)
    assert scale.experimental_get_tracing_count() == 2

    @tf.function(input_signature=[MT.Spec([None], tf.float32)])
    def double(x):
        return MT(x.values * 2, x.mask)
    np.testing.assert_allclose(double(MT([1.0, 2.0])).values.numpy(), [2.0, 4.0])
    np.testing.assert_allclose(double(MT([1.0, 2.0, 4.0])).values.numpy(),
                               [2.0, 4.0, 8.0])
    assert double.experimental_get_tracing_count() == 1
    with pytest.raises(TypeError, match="not compatible"):
        double(MT(tf.constant([1, 2])))
    concrete = double.get_concrete_function()
    np.testing.assert_allclose(concrete(MT([3.0])).values.numpy(), [6.0])


def test_gradients_flow_through_fields():
    w = tf.Variable([1.0, 2.0, 3.0])

    @tf.function
    def loss_fn(m):
        return tf.reduce_sum(tf.where(m.mask, m.values * w, 0.0))
    m = MaskedTensor([4.0, 5.0, 6.0], [True, False, True])
    with tf.GradientTape() as tape:
        eager = tf.reduce_sum(tf.where(m.mask, m.values * w, 0.0))
    grad = tape.gradient(eager, w)
    np.testing.assert_allclose(grad.numpy(), [4.0, 0.0, 6.0])
    np.testing.assert_allclose(loss_fn(m).numpy(), eager.numpy())


def test_control_flow_carries_extension_values():
    a = MaskedTensor([1.0, -2.0], [True, False])
    b = MaskedTensor([3.0, 4.0], [False, True])
    picked = tf.cond(tf.constant(False), lambda: a, lambda: b)
    assert bool((picked == b).numpy())

    def body(i, m):
        return i + 1, MaskedTensor(m.values * 2.0, m.mask)
    _, out = tf.while_loop(lambda i, m: i < 3, body, [0, a])
    np.testing.assert_allclose(out.values.numpy(), [8.0, -16.0])

    @tf.function
    def flip(x):
        if tf.reduce_sum(x.values) > 0:
            r = x
        else:
            r = MaskedTensor(-x.values, x.mask)
        return r
    np.testing.assert_allclose(flip(a).values.numpy(), [-1.0, 2.0])
    np.testing.assert_allclose(flip(b).values.numpy(), [3.0, 4.0])


def test_dataset_batching_and_unbatching():
    value = Batch([[1, 2], [3, 4], [5, 6]], [[True, False]] * 3)
    ds = tf.data.Dataset.from_tensor_slices(value)
    assert ds.element_spec == Batch.Spec(values=tf.TensorSpec([2], tf.int32),
                                         mask=tf.TensorSpec([2], tf.bool), label="b")
    items = list(ds)
    assert len(items) == 3 and isinstance(items[1], Batch)
    np.testing.assert_array_equal(items[1].values.numpy(), [3, 4])
    batched = ds.batch(2)
    assert batched.element_spec.values.shape.as_list() == [None, 2]
    batches = list(batched)
    np.testing.assert_array_equal(batches[0].values.numpy(), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(batches[1].mask.numpy(), [[True, False]])
    again = list(batched.unbatch())
    assert len(again) == 3 and bool((again[2] == items[2]).numpy())
    single = tf.data.Dataset.from_tensors(items[0])
    assert single.element_spec == items[0]._type_spec
    mapped = ds.map(lambda b: Batch(b.values * 10, b.mask)).batch(3, drop_remainder=True)
    assert mapped.element_spec.values.shape.as_list() == [3, 2]
    np.testing.assert_array_equal(next(iter(mapped)).values.numpy()[:, 0], [10, 30, 50])
    with pytest.raises(TypeError, match="not a BatchableExtensionType"):
        tf.data.Dataset.from_tensor_slices(_mt())
    spec = items[0]._type_spec
    assert spec._batch(4)._unbatch() == spec
