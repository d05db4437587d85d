"""``tf.train.experimental.PythonState`` in checkpoints (keys, value types and restore
timing observed with TF 2.21)."""

import io

import numpy as np
import pytest

import dlframe as tf


class ArrayState(tf.train.experimental.PythonState):
    def __init__(self, array):
        self.array = array
        self.received = None

    def serialize(self):
        buffer = io.BytesIO()
        np.save(buffer, self.array, allow_pickle=False)
        return buffer.getvalue()   # bytes with NUL characters

    def deserialize(self, string_value):
        self.received = type(string_value)
        self.array = np.load(io.BytesIO(string_value), allow_pickle=False)


class Counter(tf.train.experimental.PythonState):
    def __init__(self):
        self.count = 0

    def serialize(self):
        return str(self.count)

    def deserialize(self, string_value):
        self.count = int(string_value)


def test_is_abstract():
    with pytest.raises(TypeError):
        tf.train.experimental.PythonState()


def test_save_and_restore_bytes_state(tmp_path):
    state = ArrayState(np.arange(5.0))
    root = tf.train.Checkpoint(state=state, v=tf.Variable(1.0))
    path = root.save(str(tmp_path / "c"))
    listed = dict(tf.train.list_variables(path))
    assert listed["state/.ATTRIBUTES/py_state"] == []
    fresh = ArrayState(None)   # not serializable: a restore never serializes
    tf.train.Checkpoint(state=fresh).restore(path).expect_partial()
    assert fresh.received is bytes
    np.testing.assert_array_equal(fresh.array, np.arange(5.0))


def test_state_is_serialized_at_each_save(tmp_path):
    class Holder(tf.Module):
        def __init__(self):
            super().__init__()
            self.counter = Counter()
            self.v = tf.Variable(2.0)

    holder = Holder()
    assert len(holder.variables) == 1   # the state is no tf.Variable of the module
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(m=holder), str(tmp_path),
                                         max_to_keep=2)
    holder.counter.count = 7
    first = manager.save()
    holder.counter.count = 9
    second = manager.save()
    assert tf.train.load_variable(first, "m/counter/.ATTRIBUTES/py_state") == b"7"
    assert tf.train.load_variable(second, "m/counter/.ATTRIBUTES/py_state") == b"9"
    restored = Holder()
    tf.train.Checkpoint(m=restored).restore(first).assert_consumed()
    assert restored.counter.count == 7


def test_delayed_restoration_when_attribute_is_set_later(tmp_path):
    saved = tf.Module()
    saved.counter = Counter()
    saved.counter.count = 4
    path = tf.train.Checkpoint(m=saved).save(str(tmp_path / "d"))
    target = tf.Module()
    tf.train.Checkpoint(m=target).restore(path)
    target.counter = Counter()
    assert target.counter.count == 4


def test_serialize_must_return_a_string(tmp_path):
    class Bad(tf.train.experimental.PythonState):
        def serialize(self):
            return 5

        def deserialize(self, string_value):
            pass

    with pytest.raises(TypeError, match="must return a str or bytes"):
        tf.train.Checkpoint(b=Bad()).save(str(tmp_path / "bad"))
