"""tf.nest semantics."""

import collections

import pytest

import dlframe as tf


def test_flatten_and_pack_round_trip():
    Point = collections.namedtuple("Point", "x y")
    s = {"b": [1, (2, 3)], "a": Point(4, 5)}
    flat = tf.nest.flatten(s)
    assert flat == [4, 5, 1, 2, 3]  # dict keys sorted, like TF
    back = tf.nest.pack_sequence_as(s, flat)
    assert back == s and isinstance(back["a"], Point)


def test_map_structure_many_and_structure_errors():
    assert tf.nest.map_structure(lambda a, b: a + b, [1, (2,)], [10, (20,)]) == [11, (22,)]
    with pytest.raises(ValueError):
        tf.nest.map_structure(lambda a, b: a, [1, 2], [1])
    with pytest.raises(ValueError):
        tf.nest.assert_same_structure({"a": 1}, {"b": 1})
