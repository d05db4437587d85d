"""Review of round 18's iterator checkpoints under TF's ``ITERATOR_STATE`` key: a
checkpoint written by an older dlframe (the position, a scalar, under
``<iterator>/_it/_position``) still restores the iterator's position."""

import numpy as np

import dlframe as tf
from dlframe.train import checkpoint_io


def _legacy_checkpoint(prefix, position, edge="iterator"):
    """The file an older dlframe wrote for ``Checkpoint(iterator=it)``."""
    checkpoint_io._write_file(prefix, {
        f"{edge}/_it/_position": np.array(position, np.int64),
        "save_counter": np.array(1, np.int64)})
    return prefix


def _rows(it, n):
    return [next(it).numpy().tolist() for _ in range(n)]


def test_legacy_position_restores_a_plain_pipeline(tmp_path):
    prefix = _legacy_checkpoint(str(tmp_path / "ckpt-1"), 3)
    it = iter(tf.data.Dataset.range(10).batch(2))
    tf.train.Checkpoint(iterator=it).restore(prefix).assert_consumed()
    assert _rows(it, 2) == [[6, 7], [8, 9]]


def test_legacy_position_restores_a_shuffled_pipeline_like_a_replay(tmp_path):
    def pipeline():
        return tf.data.Dataset.range(15).shuffle(15, seed=3).batch(3)

    expected = _rows(iter(pipeline()), 5)
    prefix = _legacy_checkpoint(str(tmp_path / "ckpt-1"), 2)
    it = iter(pipeline())
    status = tf.train.Checkpoint(iterator=it).restore(prefix)
    status.assert_existing_objects_matched()
    assert _rows(it, 2) == expected[2:4]
    # saved again, it is written under TF's key and restores from there
    saved = tf.train.Checkpoint(iterator=it).write(str(tmp_path / "again"))
    names = [name for name, _ in tf.train.list_variables(saved)]
    assert "iterator/.ATTRIBUTES/ITERATOR_STATE" in names
    fresh = iter(pipeline())
    tf.train.Checkpoint(iterator=fresh).read(saved).assert_consumed()
    assert _rows(fresh, 1) == expected[4:]


def test_legacy_key_of_a_nested_iterator_and_other_variables_untouched(tmp_path):
    prefix = str(tmp_path / "ckpt-1")
    checkpoint_io._write_file(prefix, {
        "holder/it/_it/_position": np.array(4, np.int64),
        "holder/v": np.array([1.5, 2.5], np.float32),
        "save_counter": np.array(1, np.int64)})
    module = tf.Module()
    module.it = iter(tf.data.Dataset.range(8))
    module.v = tf.Variable([0.0, 0.0])
    tf.train.Checkpoint(holder=module).restore(prefix).assert_consumed()
    assert int(next(module.it)) == 4
    np.testing.assert_array_equal(module.v.numpy(), [1.5, 2.5])
