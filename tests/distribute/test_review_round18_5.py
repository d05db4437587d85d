"""Review of round 18's tf.distribute changes: the cross-device ops reduce a
distributed variable's components, and ``tf.nest``'s one-value tuples."""

import collections

import numpy as np
import pytest

import dlframe as tf
from dlframe.core import nest


@pytest.mark.parametrize("cls", [tf.distribute.ReductionToOneDevice,
                                 tf.distribute.HierarchicalCopyAllReduce,
                                 tf.distribute.NcclAllReduce])
def test_cross_device_reduce_of_a_mirrored_variable_sums_its_components(two_cpus, cls):
    with two_cpus.scope():
        var = tf.Variable([1.0, 2.0])
    # TF 2.21: SUM of a MirroredVariable on 2 replicas is twice its value (it was
    # read as one value: [1, 2]); MEAN is the value itself
    total = cls().reduce(tf.distribute.ReduceOp.SUM, var, destinations=var)
    mean = cls().reduce(tf.distribute.ReduceOp.MEAN, var, destinations=var)
    for part in two_cpus.experimental_local_results(total):
        np.testing.assert_allclose(part.numpy(), [2.0, 4.0])
    for part in two_cpus.experimental_local_results(mean):
        np.testing.assert_allclose(part.numpy(), [1.0, 2.0])
    one = cls().reduce("SUM", var, destinations="/cpu:0")
    np.testing.assert_allclose(one.numpy(), [2.0, 4.0])


class _OneValue(tuple):
    """A tuple that stands for one value (as PerReplica)."""

    _dlframe_nest_leaf = True


class _Pair(list):
    pass


def test_nest_leaf_flag_only_for_marked_sequences():
    point = collections.namedtuple("Point", "x y")
    one = _OneValue((3, 4))
    structure = {"a": [1, (2, one)], "b": point(5, _Pair([6, 7]))}
    assert nest.flatten(structure) == [1, 2, one, 5, 6, 7]
    assert nest.flatten(structure, expand_composites=True) == [1, 2, 3, 4, 5, 6, 7]
    doubled = nest.map_structure(lambda v: v * 2, structure)
    assert doubled["a"] == [2, (4, one * 2)]   # the marked tuple is one leaf
    assert isinstance(doubled["b"], point) and doubled["b"].y == [12, 14]
    assert isinstance(doubled["b"].y, _Pair)
    assert not nest.is_nested(one) and nest.is_nested(_Pair([1]))
    nest.assert_same_structure(structure, nest.map_structure(lambda v: v, structure))
    with pytest.raises(ValueError):
        nest.assert_same_structure(one, [3, 4])
