"""Round-18 tf.data gaps: ``Dataset.load`` with the wrong ``compression``, iterator
checkpoints (TF's ``ITERATOR_STATE`` key, resuming shuffled pipelines in a fresh
iterator) and ``cardinality``/``len`` through every transformation."""

import numpy as np
import pytest

import dlframe as tf

R = tf.data.Dataset.range


# ------------------------------------------------------------- save / load
@pytest.mark.parametrize("saved, read", [("GZIP", None), (None, "GZIP")])
def test_load_with_the_wrong_compression_fails_on_read(tmp_path, saved, read):
    path = str(tmp_path / "saved")
    R(5).save(path, compression=saved)
    loaded = tf.data.Dataset.load(path, compression=read)   # TF: no error yet
    assert int(loaded.cardinality()) == 5
    # TF 2.21: DataLossError "corrupted record at 0" / "inflate() failed ..."
    with pytest.raises(tf.errors.DataLossError, match="compression"):
        list(loaded)
    assert [int(x) for x in tf.data.Dataset.load(path, compression=saved)] == [
        0, 1, 2, 3, 4]


def test_load_reads_an_unknown_compression_as_none(tmp_path):
    # TF 2.21: names other than GZIP, ZLIB and SNAPPY mean no compression
    R(2).save(str(tmp_path))
    loaded = tf.data.Dataset.load(str(tmp_path), compression="ZIP")
    assert [int(x) for x in loaded] == [0, 1]


# ------------------------------------------------------------- iterator checkpoints
def _values(element):
    return tf.nest.map_structure(lambda t: t.numpy().tolist(), element)


PIPELINES = {
    "map": lambda: R(20).map(lambda x: x * 2),
    "shuffle": lambda: R(20).shuffle(5, seed=3),
    "batch": lambda: R(20).batch(3),
    "repeat": lambda: R(5).repeat(3),
    "prefetch": lambda: R(20).map(lambda x: x + 1).prefetch(2),
    "interleave": lambda: R(4).interleave(
        lambda x: R(x * 10, x * 10 + 3), cycle_length=2),
    "shuffle_batch_repeat": lambda: R(10).shuffle(10, seed=1).batch(4).repeat(2),
    "dict_zip": lambda: tf.data.Dataset.zip(
        {"a": R(20), "b": R(20).map(lambda x: -x)}),
}


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_restore_resumes_at_the_saved_element(tmp_path, name):
    iterator = iter(PIPELINES[name]())
    for _ in range(3):
        next(iterator)
    ckpt = tf.train.Checkpoint(iterator=iterator)
    path = ckpt.save(str(tmp_path / "ckpt"))
    after = [_values(next(iterator)) for _ in range(3)]
    ckpt.restore(path)
    assert [_values(next(iterator)) for _ in range(3)] == after


def test_fresh_iterator_of_a_reshuffled_pipeline_resumes(tmp_path):
    ds = R(10).shuffle(10, seed=2).batch(2)
    first = iter(ds)
    next(first)
    path = tf.train.Checkpoint(it=first).save(str(tmp_path / "ckpt"))
    expected = [_values(b) for b in first]
    # the second iterator would draw the second epoch's order; the restore brings
    # back the saved iterator's pass and position (TF 2.21 does the same)
    second = iter(ds)
    tf.train.Checkpoint(it=second).restore(path)
    assert [_values(b) for b in second] == expected


def test_checkpoint_key_of_an_iterator_is_tfs(tmp_path):
    iterator = iter(R(4))
    next(iterator)
    path = tf.train.Checkpoint(iterator=iterator).save(str(tmp_path / "ckpt"))
    names = [name for name, _ in tf.train.list_variables(path)]
    # TF 2.21 lists these three keys
    assert names == ["_CHECKPOINTABLE_OBJECT_GRAPH",
                     "iterator/.ATTRIBUTES/ITERATOR_STATE",
                     "save_counter/.ATTRIBUTES/VARIABLE_VALUE"]
    state = tf.train.load_checkpoint(path).get_tensor(
        "iterator/.ATTRIBUTES/ITERATOR_STATE")
    assert np.asarray(state).reshape(-1)[0] == 1   # one element produced


def test_iterator_checkpoint_with_manager_and_model_variables(tmp_path):
    step = tf.Variable(0)
    iterator = iter(R(100).batch(10))
    ckpt = tf.train.Checkpoint(step=step, iterator=iterator)
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=2)
    for _ in range(4):
        next(iterator)
        step.assign_add(1)
    manager.save()
    next(iterator)
    step.assign_add(1)
    ckpt.restore(manager.latest_checkpoint)
    assert int(step.numpy()) == 4
    assert next(iterator).numpy().tolist() == list(range(40, 50))


# ------------------------------------------------------------- cardinality
def _filtered():
    return R(10).filter(lambda x: x > 2)


# (dataset, cardinality), every value printed by TF 2.21
CARDINALITIES = {
    "filter": (_filtered, -2),
    "repeat": (lambda: R(10).repeat(), -1),
    "repeat3": (lambda: R(10).repeat(3), 30),
    "repeat0": (lambda: R(10).repeat(0), 0),
    "take_big": (lambda: R(10).take(30), 10),
    "take_all": (lambda: R(10).take(-1), 10),
    "skip_big": (lambda: R(10).skip(30), 0),
    "skip_all": (lambda: R(10).skip(-1), 0),
    "infinite_take": (lambda: R(10).repeat().take(5), 5),
    "infinite_skip": (lambda: R(10).repeat().skip(5), -1),
    "flat_map": (lambda: R(3).flat_map(lambda x: R(x)), -2),
    "shard": (lambda: R(10).shard(3, 1), 3),
    "shard0": (lambda: R(10).shard(3, 0), 4),
    "infinite_shard": (lambda: R(10).repeat().shard(3, 0), -1),
    "batch": (lambda: R(10).batch(3), 4),
    "batch_drop": (lambda: R(10).batch(3, drop_remainder=True), 3),
    "infinite_batch": (lambda: R(10).repeat().batch(3), -1),
    "filter_batch": (lambda: _filtered().batch(3), -2),
    "filter_take": (lambda: _filtered().take(2), -2),
    "filter_repeat": (lambda: _filtered().repeat(), -1),
    "filter_repeat2": (lambda: _filtered().repeat(2), -2),
    "zip": (lambda: tf.data.Dataset.zip((R(10), R(5).repeat())), 10),
    "concat_infinite": (lambda: R(3).concatenate(R(4).repeat()), -1),
    "window_drop": (lambda: R(10).window(3, shift=2, drop_remainder=True), 4),
    "unbatch": (lambda: R(10).batch(2).unbatch(), -2),
    "ragged_batch_drop": (lambda: R(10).ragged_batch(3, drop_remainder=True), 3),
    "choose": (lambda: tf.data.Dataset.choose_from_datasets(
        [R(3), R(4)], R(2).repeat(3)), -2),
}


@pytest.mark.parametrize("name", sorted(CARDINALITIES))
def test_cardinality_and_len_match_tf(name):
    make, expected = CARDINALITIES[name]
    ds = make()
    cardinality = ds.cardinality()
    assert cardinality.dtype == tf.int64 and int(cardinality) == expected
    assert int(tf.data.experimental.cardinality(ds)) == expected
    if expected >= 0:
        assert len(ds) == expected and type(len(ds)) is int
        assert len(list(ds)) == expected
    else:
        word = "infinite" if expected == tf.data.INFINITE_CARDINALITY else "unknown"
        with pytest.raises(TypeError, match=word):
            len(ds)
