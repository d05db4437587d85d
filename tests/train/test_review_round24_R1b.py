"""Read-back review of checkpoints written with TF 2.21's extra object-graph edges
(round 24, R1): the edges add no entries to ``list_variables``, dlframe still
restores its own files (Keras 2 key names, ``load_variable``, ``assert_consumed``),
``CheckpointManager`` keeps ``max_to_keep`` files and leaves no temporary ones.
Entry counts and names were observed on TF 2.21 for the same programs."""

import os

import numpy as np

import dlframe as tf


def _trained_model():
    tf.random.set_seed(0)
    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(4),
                                 tf.keras.layers.BatchNormalization(),
                                 tf.keras.layers.Dense(1)])
    opt = tf.keras.optimizers.Adam(0.1)
    model.compile(opt, "mse")
    model.fit(np.ones((8, 3), "float32"), np.ones((8, 1), "float32"), epochs=1,
              verbose=0)
    return model, opt


def test_extra_edges_add_no_entries_and_dlframe_restores_its_file(tmp_path):
    model, opt = _trained_model()
    path = tf.train.Checkpoint(model=model, optimizer=opt).save(str(tmp_path / "ck"))
    names = [n for n, _ in tf.train.list_variables(path)]
    assert len(names) == len(set(names)) == 24   # TF 2.21: 24 entries as well
    assert [n for n in names if n.startswith("model/")] == [
        f"model/layer_with_weights-{i}/{w}/.ATTRIBUTES/VARIABLE_VALUE"
        for i, ws in enumerate([("bias", "kernel"),
                                ("beta", "gamma", "moving_mean", "moving_variance"),
                                ("bias", "kernel")]) for w in ws]
    kernel = tf.train.load_variable(
        path, "model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE")
    np.testing.assert_array_equal(kernel, model.layers[0].kernel.numpy())

    clone = tf.keras.models.clone_model(model)
    opt2 = tf.keras.optimizers.Adam(0.1)
    status = tf.train.Checkpoint(model=clone, optimizer=opt2).restore(path)
    clone.compile(opt2, "mse")
    clone.build((None, 3))
    for a, b in zip(model.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(a, b)
    status.assert_existing_objects_matched()
    status.assert_consumed()


def test_shared_variable_and_subclassed_model_entries(tmp_path):
    class Holder(tf.Module):
        def __init__(self):
            self.v = tf.Variable([1.0, 2.0])
            self.w = self.v
            self.lst = [self.v, tf.Variable(3.0)]
    path = tf.train.Checkpoint(m=Holder()).save(str(tmp_path / "mod"))
    assert [n for n, _ in tf.train.list_variables(path)] == [
        "_CHECKPOINTABLE_OBJECT_GRAPH", "m/lst/1/.ATTRIBUTES/VARIABLE_VALUE",
        "m/v/.ATTRIBUTES/VARIABLE_VALUE", "save_counter/.ATTRIBUTES/VARIABLE_VALUE"]
    fresh = Holder()
    fresh.v.assign([0.0, 0.0])
    fresh.lst[1].assign(0.0)
    tf.train.Checkpoint(m=fresh).restore(path).assert_consumed()
    assert fresh.v.numpy().tolist() == [1.0, 2.0] and float(fresh.lst[1]) == 3.0

    class Two(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.d1 = tf.keras.layers.Dense(2)
            self.d2 = tf.keras.layers.Dense(1)

        def call(self, x):
            return self.d2(self.d1(x))
    x = np.ones((1, 3), "float32")
    model = Two()
    model(x)
    path = tf.train.Checkpoint(model=model).save(str(tmp_path / "sub"))
    names = [n for n, _ in tf.train.list_variables(path)]
    assert len(names) == len(set(names)) == 6
    assert "model/d1/kernel/.ATTRIBUTES/VARIABLE_VALUE" in names
    other = Two()
    status = tf.train.Checkpoint(model=other).restore(path)
    other(x)   # restored as it builds
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    status.assert_consumed()


def test_manager_keeps_max_to_keep_and_no_temporary_files(tmp_path):
    model, opt = _trained_model()
    ckpt = tf.train.Checkpoint(model=model, optimizer=opt)
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=2)
    for _ in range(4):
        manager.save()
    assert [os.path.basename(p) for p in manager.checkpoints] == ["ckpt-3", "ckpt-4"]
    assert sorted(os.listdir(tmp_path)) == [
        "checkpoint", "ckpt-3.data-00000-of-00001", "ckpt-3.index",
        "ckpt-4.data-00000-of-00001", "ckpt-4.index"]
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-4")
