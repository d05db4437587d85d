"""Checkpoint files laid out as TensorFlow's: ``.index`` + ``.data-00000-of-00001``,
TF-written checkpoints restore, old index-only dlframe checkpoints still load."""

import os
import pathlib
import shutil

import numpy as np
import pytest

import dlframe as tf
from dlframe.train import bundle, checkpoint_io

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "tf221_ckpt"
DATA = ".data-00000-of-00001"
KEY = "/.ATTRIBUTES/VARIABLE_VALUE"


def _objects(zero=False):
    def value(x, dtype=None):
        return tf.zeros_like(tf.constant(x, dtype)) if zero else tf.constant(x, dtype)
    return {"v": tf.Variable(value(np.arange(6, dtype="float32").reshape(2, 3))),
            "step": tf.Variable(value(7, tf.int64)),
            "nested": tf.train.Checkpoint(h=tf.Variable(value([1.5, 2.5]))),
            "b16": tf.Variable(tf.cast(value([0.5, 3.0]), tf.bfloat16))}


def _check_restored(objs):
    assert objs["v"].numpy().tolist() == [[0, 1, 2], [3, 4, 5]]
    assert int(objs["step"].numpy()) == 7
    assert objs["nested"].h.numpy().tolist() == [1.5, 2.5]
    assert objs["b16"].dtype == tf.bfloat16
    assert tf.cast(objs["b16"], tf.float32).numpy().tolist() == [0.5, 3.0]


def test_save_writes_index_and_data_files(tmp_path):
    objs = _objects()
    path = tf.train.Checkpoint(**objs).save(str(tmp_path / "ckpt"))
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "ckpt-1" + DATA, "ckpt-1.index"]
    # the variables' bytes are in the data file, at the offsets the index gives
    raw = (tmp_path / ("ckpt-1" + DATA)).read_bytes()
    assert np.arange(6, dtype="<f4").tobytes() in raw
    names = dict(tf.train.list_variables(str(tmp_path)))
    assert names == {"_CHECKPOINTABLE_OBJECT_GRAPH": [], "b16" + KEY: [2],
                     "nested/h" + KEY: [2], "save_counter" + KEY: [], "step" + KEY: [],
                     "v" + KEY: [2, 3]}
    assert tf.train.load_variable(path, "v" + KEY).tolist() == [[0, 1, 2], [3, 4, 5]]
    fresh = _objects(zero=True)
    tf.train.Checkpoint(**fresh).restore(tf.train.latest_checkpoint(str(tmp_path))) \
        .assert_consumed()
    _check_restored(fresh)


def test_restores_a_checkpoint_written_by_tensorflow(tmp_path):
    # written by TF 2.21: tf.train.Checkpoint(v=..., step=..., nested=tf.train.Checkpoint(
    # h=...), b16=...).save(prefix), with the values of _objects()
    shutil.copytree(FIXTURE, tmp_path / "tf")
    fresh = _objects(zero=True)
    ckpt = tf.train.Checkpoint(**fresh)
    ckpt.restore(tf.train.latest_checkpoint(str(tmp_path / "tf"))).assert_consumed()
    _check_restored(fresh)
    assert int(ckpt.save_counter.numpy()) == 1
    reader = tf.train.load_checkpoint(str(tmp_path / "tf"))
    assert reader.get_variable_to_dtype_map()["b16" + KEY] == tf.bfloat16
    assert isinstance(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"), bytes)


def test_object_graph_names_every_variable_like_tensorflow(tmp_path):
    path = tf.train.Checkpoint(**_objects()).save(str(tmp_path / "w"))
    graph = tf.train.load_checkpoint(path).get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH")
    nodes = [bundle.parse_message(n) for n in bundle.parse_message(graph)[1]]

    def child(node, name):
        for ref in node.get(1, []):
            fields = bundle.parse_message(ref)
            if fields[2][0] == name.encode():
                return nodes[fields.get(1, [0])[0]]
        raise KeyError(name)
    h = child(child(nodes[0], "nested"), "h")
    attribute = bundle.parse_message(h[2][0])
    assert attribute[1] == [b"VARIABLE_VALUE"]
    assert attribute[3] == [b"nested/h" + KEY.encode()]
    # TF's own fixture has the same edges from the root
    tf_graph = tf.train.load_checkpoint(str(FIXTURE / "ckpt-1")).get_tensor(
        "_CHECKPOINTABLE_OBJECT_GRAPH")
    tf_root = bundle.parse_message(bundle.parse_message(tf_graph)[1][0])
    tf_edges = {bundle.parse_message(r)[2][0] for r in tf_root[1]}
    ours = {bundle.parse_message(r)[2][0] for r in nodes[0][1]}
    assert ours == tf_edges == {b"v", b"step", b"nested", b"b16", b"save_counter"}


def test_bundle_round_trip_many_blocks_strings_and_checksums():
    tensors = {f"k{i:03d}": np.full(i, i, np.int32) for i in range(300)}
    tensors["s"] = np.array([b"xy", b"", "z"], dtype=object)
    tensors["c"] = np.array([1 + 2j], np.complex64)
    index, data = bundle.encode_bundle(tensors)
    back = bundle.decode_bundle(index, lambda shard, n: data)
    assert back["s"].tolist() == [b"xy", b"", b"z"]
    for k, value in tensors.items():
        if k != "s":
            np.testing.assert_array_equal(back[k], value)
            assert back[k].dtype == value.dtype
    assert bundle.crc32c(b"123456789") == 0xE3069283   # the CRC-32C check value
    assert bundle.crc32c(b"56789", bundle.crc32c(b"1234")) == 0xE3069283
    corrupt = bytearray(data)
    corrupt[0] ^= 0xFF   # inside tensor "c", the first in key order
    with pytest.raises(bundle.BundleError, match="checksum"):
        bundle.decode_bundle(index, lambda shard, n: bytes(corrupt))


def test_manager_deletes_both_files_and_keeps_preserved(tmp_path):
    v = tf.Variable(0.0)
    ckpt = tf.train.Checkpoint(v=v)
    first = ckpt.save(str(tmp_path / "ckpt"))   # recorded without timestamps
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=2)
    for i in range(3):
        v.assign(float(i))
        manager.save()
    # as TF 2.21: ckpt-1 (from Checkpoint.save) is kept, ckpt-2 rotated out
    assert sorted(os.listdir(tmp_path)) == [
        "checkpoint", "ckpt-1" + DATA, "ckpt-1.index", "ckpt-3" + DATA, "ckpt-3.index",
        "ckpt-4" + DATA, "ckpt-4.index"]
    assert os.path.basename(first) == "ckpt-1"
    v.assign(-1.0)
    ckpt.restore(manager.latest_checkpoint)
    assert float(v.numpy()) == 2.0


def test_old_index_only_checkpoints_still_load(tmp_path):
    prefix = str(tmp_path / "old-1")
    with open(prefix + ".index", "wb") as f:   # what dlframe wrote before: one .npz
        np.savez(f, w=np.array([1.0, 2.0], np.float32),
                 save_counter=np.array(1, np.int64))
    w = tf.Variable([0.0, 0.0])
    tf.train.Checkpoint(w=w).restore(prefix).assert_consumed()
    assert w.numpy().tolist() == [1.0, 2.0]
    assert tf.train.list_variables(prefix) == [("save_counter" + KEY, []),
                                               ("w" + KEY, [2])]


def test_missing_data_file_and_atomic_write(tmp_path):
    path = tf.train.Checkpoint(w=tf.Variable([1.0])).write(str(tmp_path / "c"))
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    os.remove(path + DATA)
    with pytest.raises(tf.errors.NotFoundError, match="data file"):
        tf.train.Checkpoint(w=tf.Variable([0.0])).restore(path)
    checkpoint_io.remove_checkpoint(path)
    assert os.listdir(tmp_path) == []
