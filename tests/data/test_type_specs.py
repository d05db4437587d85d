"""tf.TypeSpec and its subclasses, tf.type_spec_from_value, tf.experimental.Optional,
tf.data.experimental.get_structure (expected reprs and results came from TF 2.21)."""

import numpy as np
import pytest

import dlframe as tf


def test_every_spec_is_a_type_spec():
    specs = [tf.TensorSpec([2]), tf.RaggedTensorSpec([None, None]),
             tf.SparseTensorSpec(),
             tf.data.DatasetSpec(tf.TensorSpec([])), tf.TensorArraySpec(),
             tf.OptionalSpec(tf.TensorSpec([])), tf.IndexedSlicesSpec(),
             tf.NoneTensorSpec(), tf.data.IteratorSpec(tf.TensorSpec([]))]
    for spec in specs:
        assert isinstance(spec, tf.TypeSpec), spec
    assert tf.data.TypeSpec is tf.TypeSpec


@pytest.mark.parametrize("value, expect", [
    (lambda: tf.constant([1, 2]), "TensorSpec(shape=(2,), dtype=tf.int32, name=None)"),
    (lambda: np.array([1., 2.]), "TensorSpec(shape=(2,), dtype=tf.float64, name=None)"),
    (lambda: 3, "TensorSpec(shape=(), dtype=tf.int32, name=None)"),
    (lambda: 2.5, "TensorSpec(shape=(), dtype=tf.float32, name=None)"),
    (lambda: "a", "TensorSpec(shape=(), dtype=tf.string, name=None)"),
    (lambda: tf.ragged.constant([[1], [2, 3]]),
     "RaggedTensorSpec(TensorShape([2, None]), tf.int32, 1, tf.int64)"),
    (lambda: tf.sparse.from_dense([[1, 0]]),
     "SparseTensorSpec(TensorShape([1, 2]), tf.int32)"),
    (lambda: tf.data.Dataset.range(3),
     "DatasetSpec(TensorSpec(shape=(), dtype=tf.int64, name=None), TensorShape([]))"),
    (lambda: iter(tf.data.Dataset.range(3)),
     "IteratorSpec(TensorSpec(shape=(), dtype=tf.int64, name=None),)"),
    (lambda: tf.experimental.Optional.from_value(1),
     "OptionalSpec(TensorSpec(shape=(), dtype=tf.int32, name=None),)"),
    (lambda: tf.TensorArray(tf.float32, size=2),
     "TensorArraySpec(TensorShape(None), tf.float32, False, True)"),
    (lambda: None, "NoneTensorSpec()"),
    (lambda: tf.IndexedSlices(tf.constant([[1.]]), tf.constant([0]),
                              tf.constant([3, 1])),
     ("IndexedSlicesSpec(TensorShape([3, 1]), tf.float32, tf.int32, tf.int32, "
      "TensorShape([1]))")),
    (lambda: tf.Variable([1., 2.], trainable=False),
     "VariableSpec(shape=(2,), dtype=tf.float32, trainable=False, alias_id=None)"),
])
def test_type_spec_from_value(value, expect):
    v = value()
    spec = tf.type_spec_from_value(v)
    assert repr(spec) == expect
    if v is not None and not isinstance(v, (int, float, str, np.ndarray)):
        assert isinstance(v, spec.value_type)


def test_type_spec_from_value_rejects_unknown_objects():
    with pytest.raises(TypeError, match="Could not build a TypeSpec"):
        tf.type_spec_from_value(object())


def test_spec_constructors_and_defaults():
    assert repr(tf.TensorArraySpec([2], tf.float32)) == \
        "TensorArraySpec(TensorShape([2]), tf.float32, False, True)"
    assert repr(tf.IndexedSlicesSpec()) == \
        ("IndexedSlicesSpec(TensorShape(None), tf.float32, tf.int64, None, "
         "TensorShape([None]))")
    assert tf.OptionalSpec(tf.TensorSpec([], tf.int32)) == \
        tf.OptionalSpec(tf.TensorSpec([], tf.int32))
    assert tf.NoneTensorSpec() == tf.NoneTensorSpec()
    assert hash(tf.NoneTensorSpec()) == hash(tf.NoneTensorSpec())
    assert tf.TensorArraySpec([2]) != tf.TensorArraySpec([3])


def test_compatibility_and_supertypes():
    a, b = tf.TensorSpec([2]), tf.TensorSpec([None])
    assert a.is_compatible_with(b) and a.is_subtype_of(b) and not b.is_subtype_of(a)
    assert not tf.TensorSpec([2], name="a").is_subtype_of(tf.TensorSpec(None))
    assert a.most_specific_common_supertype([tf.TensorSpec([3])]) == b
    assert a.most_specific_common_supertype([tf.TensorSpec([2], tf.int32)]) is None
    assert repr(a.most_specific_common_supertype([tf.TensorSpec([2, 3])])) == \
        "TensorSpec(shape=<unknown>, dtype=tf.float32, name=None)"
    with pytest.raises(ValueError):
        a.most_specific_compatible_type(tf.TensorSpec([3], tf.int32))
    assert not tf.TensorSpec([], tf.int32).is_compatible_with(1)
    assert tf.TensorSpec([], tf.int32).is_compatible_with(tf.constant(1))
    ta = tf.TensorArray(tf.float32, size=1, element_shape=[2])
    assert tf.TensorArraySpec([2]).is_compatible_with(ta)
    assert not tf.TensorArraySpec([2]).is_compatible_with(
        tf.TensorArray(tf.float32, size=1, element_shape=[3]))
    assert tf.TensorArraySpec([2]).is_compatible_with(tf.TensorArraySpec([None]))
    assert tf.data.IteratorSpec(tf.TensorSpec([2])).is_compatible_with(
        tf.data.IteratorSpec(tf.TensorSpec([None])))
    opt = tf.OptionalSpec(tf.TensorSpec([], tf.int32))
    assert opt.is_compatible_with(tf.experimental.Optional.from_value(2))
    assert not opt.is_compatible_with(tf.experimental.Optional.from_value(2.))
    assert repr(tf.OptionalSpec(tf.TensorSpec([2])).most_specific_common_supertype(
        [tf.OptionalSpec(tf.TensorSpec([3]))])) == \
        "OptionalSpec(TensorSpec(shape=(None,), dtype=tf.float32, name=None),)"
    assert tf.NoneTensorSpec().is_compatible_with(None)
    ragged = tf.RaggedTensorSpec([2, None], tf.int32)
    assert ragged.most_specific_common_supertype(
        [tf.RaggedTensorSpec([3, None], tf.int32)]) == \
        tf.RaggedTensorSpec([None, None], tf.int32)


def test_optional_from_value_and_empty():
    opt = tf.experimental.Optional.from_value((1, {"a": tf.constant([1., 2.])}))
    assert isinstance(opt, tf.experimental.Optional)
    assert opt.element_spec == (tf.TensorSpec([], tf.int32),
                                {"a": tf.TensorSpec([2], tf.float32)})
    assert opt.has_value().dtype == tf.bool and bool(opt.has_value())
    value = opt.get_value()
    assert isinstance(value[0], tf.Tensor) and int(value[0]) == 1
    np.testing.assert_array_equal(value[1]["a"].numpy(), [1., 2.])
    empty = tf.experimental.Optional.empty(tf.TensorSpec([], tf.int32))
    assert not bool(empty.has_value())
    assert empty.element_spec == tf.TensorSpec([], tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="does not have a value"):
        empty.get_value()
    ragged = tf.experimental.Optional.from_value(tf.ragged.constant([[1], [2, 3]]))
    assert repr(ragged.element_spec) == \
        "RaggedTensorSpec(TensorShape([2, None]), tf.int32, 1, tf.int64)"


def test_iterator_get_next_as_optional_and_get_structure():
    ds = tf.data.Dataset.from_tensor_slices(([1, 2], [[1.] * 3] * 2))
    expect = (tf.TensorSpec([], tf.int32), tf.TensorSpec([3], tf.float32))
    assert tf.data.experimental.get_structure(ds) == expect
    it = iter(ds)
    assert tf.data.experimental.get_structure(it) == expect
    assert tf.type_spec_from_value(it) == tf.data.IteratorSpec(expect)
    seen = []
    while True:
        opt = it.get_next_as_optional()
        if not bool(opt.has_value()):
            break
        seen.append(int(opt.get_value()[0]))
    assert seen == [1, 2]
    assert opt.element_spec == expect
    with pytest.raises(TypeError, match="dataset_or_iterator"):
        tf.data.experimental.get_structure([1])
