"""tf.train.Checkpoint / CheckpointManager / latest_checkpoint: files re-load exactly."""

import os
import types

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras


def _model(seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Dense(2)])
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(16, 3)).astype("float32"), rng.normal(size=(16, 2)).astype(
        "float32")


def _train(model, optimizer, steps):
    x, y = _data()
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))


def _values(variables):
    return [v.numpy().copy() for v in variables]


def test_save_restore_round_trip_and_resume_identically(tmp_path):
    model, opt = _model(1), keras.optimizers.Adam(0.01)
    _train(model, opt, 2)
    ckpt = tf.train.Checkpoint(model=model, optimizer=opt)
    path = ckpt.save(str(tmp_path / "ckpt"))
    assert path == str(tmp_path / "ckpt-1")
    assert os.path.exists(path + ".index")
    assert int(ckpt.save_counter.numpy()) == 1
    saved = _values(model.weights)
    _train(model, opt, 3)
    expected = _values(model.weights)

    # a fresh model with different initial weights and an unbuilt optimizer
    model2, opt2 = _model(7), keras.optimizers.Adam(0.01)
    assert not np.allclose(model2.weights[0].numpy(), saved[0])
    ckpt2 = tf.train.Checkpoint(model=model2, optimizer=opt2)
    status = ckpt2.restore(path)
    for v, s in zip(model2.weights, saved):
        np.testing.assert_array_equal(v.numpy(), s)
    assert int(opt2.iterations.numpy()) == 2
    assert int(ckpt2.save_counter.numpy()) == 1
    with pytest.raises(AssertionError):  # Adam's slots are not created yet
        status.assert_consumed()
    status.assert_existing_objects_matched()
    _train(model2, opt2, 3)  # builds the slots: deferred values land before the update
    status.assert_consumed()
    for v, e in zip(model2.weights, expected):
        np.testing.assert_allclose(v.numpy(), e, rtol=1e-6, atol=1e-6)


def test_paths_are_object_graph_paths(tmp_path):
    model, opt = _model(1), keras.optimizers.SGD(0.1)
    _train(model, opt, 1)
    step = tf.Variable(5, dtype=tf.int64)
    path = tf.train.Checkpoint(model=model, optimizer=opt, step=step).write(
        str(tmp_path / "w"))
    assert path == str(tmp_path / "w")
    # keys as TF names them; strip TF's attribute suffix to compare paths
    names = {k.replace("/.ATTRIBUTES/VARIABLE_VALUE", ""): v
             for k, v in tf.train.list_variables(path)}
    assert names["model/layer_with_weights-0/kernel"] == [3, 4]
    assert names["model/layer_with_weights-1/moving_mean"] == [4]
    assert names["step"] == []
    # write() never creates the save counter, so (as in TF) the file lacks it
    assert "optimizer/variables/0" in names and "save_counter" not in names
    reader = tf.train.load_checkpoint(path)
    np.testing.assert_array_equal(reader.get_tensor("model/layer_with_weights-2/bias"),
                                  model.layers[2].bias.numpy())
    assert tf.train.load_variable(path, "step") == 5


def test_write_does_not_count_and_save_records_state(tmp_path):
    v = tf.Variable([1.0, 2.0])
    ckpt = tf.train.Checkpoint(v=v)
    ckpt.write(str(tmp_path / "a"))
    assert int(ckpt.save_counter.numpy()) == 0
    assert tf.train.latest_checkpoint(str(tmp_path)) is None
    p1 = ckpt.save(str(tmp_path / "b"))
    p2 = ckpt.save(str(tmp_path / "b"))
    assert (p1, p2) == (str(tmp_path / "b-1"), str(tmp_path / "b-2"))
    assert tf.train.latest_checkpoint(str(tmp_path)) == p2
    state = (tmp_path / "checkpoint").read_text()
    assert 'model_checkpoint_path: "b-2"' in state
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    v.assign([0.0, 0.0])
    # the counter exists now but "a" was written before it did: TF reports it unmatched
    ckpt.read(str(tmp_path / "a")).assert_nontrivial_match()
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])


def test_state_file_is_tensorflow_text_format(tmp_path):
    (tmp_path / "x-3.index").write_bytes(b"")
    (tmp_path / "checkpoint").write_text(
        'model_checkpoint_path: "x-3"\nall_model_checkpoint_paths: "x-2"\n'
        'all_model_checkpoint_paths: "x-3"\n')
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "x-3")
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.all_model_checkpoint_paths == [str(tmp_path / "x-2"),
                                                str(tmp_path / "x-3")]
    os.remove(tmp_path / "x-3.index")
    assert tf.train.latest_checkpoint(str(tmp_path)) is None
    assert tf.train.latest_checkpoint(str(tmp_path / "missing")) is None


def test_partial_restore_statuses(tmp_path):
    a, b = tf.Variable(1.0), tf.Variable([2, 3])
    path = tf.train.Checkpoint(a=a, b=b).save(str(tmp_path / "c"))
    a2 = tf.Variable(0.0)
    status = tf.train.Checkpoint(a=a2).restore(path)
    assert a2.numpy() == 1.0
    with pytest.raises(AssertionError, match="b"):
        status.assert_consumed()
    status.assert_existing_objects_matched()
    status.assert_nontrivial_match()
    assert status.expect_partial() is status
    extra = tf.Variable(9.0)
    status = tf.train.Checkpoint(a=a2, b=tf.Variable([0, 0]), extra=extra).restore(path)
    with pytest.raises(AssertionError, match="extra"):
        status.assert_existing_objects_matched()
    assert extra.numpy() == 9.0
    with pytest.raises(AssertionError):
        tf.train.Checkpoint(a=a2).restore(None).assert_consumed()


def test_shape_mismatch_and_missing_file(tmp_path):
    path = tf.train.Checkpoint(w=tf.Variable([1.0, 2.0])).save(str(tmp_path / "c"))
    with pytest.raises(ValueError, match="shape"):
        tf.train.Checkpoint(w=tf.Variable([1.0, 2.0, 3.0])).restore(path)
    with pytest.raises(tf.errors.NotFoundError):
        tf.train.Checkpoint(w=tf.Variable(1.0)).restore(str(tmp_path / "nope-1"))


class _Module:
    def __init__(self, scale):
        self.w = tf.Variable([[scale, 2.0 * scale]])
        self.blocks = [{"b": tf.Variable(scale)}, tf.Variable([scale] * 3)]
        self.name = "module"

    @property
    def variables(self):
        return [self.w, self.blocks[0]["b"], self.blocks[1], self.store.hidden]


def test_module_like_objects_and_attribute_assignment(tmp_path):
    m = _Module(1.0)
    m.store = types.SimpleNamespace(hidden=tf.Variable(4.0))  # only via .variables
    ckpt = tf.train.Checkpoint(net=m)
    ckpt.counter = tf.Variable(7, dtype=tf.int64)
    path = ckpt.save(str(tmp_path / "m"))
    names = {k.replace("/.ATTRIBUTES/VARIABLE_VALUE", ""): v
             for k, v in tf.train.list_variables(path)
             if k != "_CHECKPOINTABLE_OBJECT_GRAPH"}   # listed by TF too
    assert set(names) == {"net/w", "net/blocks/0/b", "net/blocks/1", "net/variables/3",
                          "counter", "save_counter"}
    m2 = _Module(0.0)
    m2.store = types.SimpleNamespace(hidden=tf.Variable(0.0))
    ckpt2 = tf.train.Checkpoint(net=m2, counter=tf.Variable(0, dtype=tf.int64))
    ckpt2.restore(path).assert_consumed()
    np.testing.assert_array_equal(m2.w.numpy(), [[1.0, 2.0]])
    np.testing.assert_array_equal(m2.blocks[1].numpy(), [1.0, 1.0, 1.0])
    assert m2.store.hidden.numpy() == 4.0 and ckpt2.counter.numpy() == 7


def test_checkpoint_manager_keeps_newest(tmp_path):
    v = tf.Variable(0.0)
    ckpt = tf.train.Checkpoint(v=v)
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=2)
    assert manager.latest_checkpoint is None
    paths = []
    for i in range(4):
        v.assign(float(i))
        paths.append(manager.save())
    assert paths == [str(tmp_path / f"ckpt-{i}") for i in range(1, 5)]
    assert manager.checkpoints == paths[2:]
    assert manager.latest_checkpoint == paths[-1]
    assert sorted(f for f in os.listdir(tmp_path) if f.startswith("ckpt")) == [
        "ckpt-3.data-00000-of-00001", "ckpt-3.index",   # TF's two files per checkpoint
        "ckpt-4.data-00000-of-00001", "ckpt-4.index"]
    assert tf.train.latest_checkpoint(str(tmp_path)) == paths[-1]
    assert manager.save(checkpoint_number=10) == str(tmp_path / "ckpt-10")
    assert int(ckpt.save_counter.numpy()) == 5

    # a new manager over the same directory picks the state up
    v2 = tf.Variable(-1.0)
    ckpt2 = tf.train.Checkpoint(v=v2)
    manager2 = tf.train.CheckpointManager(ckpt2, str(tmp_path), max_to_keep=2)
    assert manager2.checkpoints == [paths[-1], str(tmp_path / "ckpt-10")]
    assert manager2.restore_or_initialize() == str(tmp_path / "ckpt-10")
    assert v2.numpy() == 3.0
    assert int(ckpt2.save_counter.numpy()) == 5
    assert manager2.save() == str(tmp_path / "ckpt-6")
    assert not os.path.exists(paths[-1] + ".index")


def test_checkpoint_manager_init_fn_and_interval(tmp_path):
    called = []
    step = tf.Variable(0, dtype=tf.int64)
    manager = tf.train.CheckpointManager(
        tf.train.Checkpoint(step=step), str(tmp_path / "d"), max_to_keep=None,
        step_counter=step, checkpoint_interval=5, init_fn=lambda: called.append(1))
    assert manager.restore_or_initialize() is None and called == [1]
    assert manager.save() is not None
    step.assign(3)
    assert manager.save() is None
    step.assign(5)
    assert manager.save() is not None
    with pytest.raises(ValueError, match="max_to_keep"):
        tf.train.CheckpointManager(tf.train.Checkpoint(), str(tmp_path), max_to_keep=0)


def test_functional_model_and_fit_after_restore(tmp_path):
    def build(seed):
        keras.utils.set_random_seed(seed)
        x = keras.Input((3,))
        h = keras.layers.Dense(5, activation="tanh")(x)
        model = keras.Model(x, keras.layers.Dense(1)(h))
        model.compile(keras.optimizers.Adam(0.01), "mse")
        return model
    x, y = _data()
    model = build(1)
    model.fit(x, y[:, :1], epochs=1, batch_size=8, verbose=0)
    path = tf.train.Checkpoint(model=model, optimizer=model.optimizer).save(
        str(tmp_path / "f"))
    model2 = build(2)
    status = tf.train.Checkpoint(model=model2, optimizer=model2.optimizer).restore(path)
    for a, b in zip(model.weights, model2.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    model.fit(x, y[:, :1], epochs=1, batch_size=8, verbose=0, shuffle=False)
    model2.fit(x, y[:, :1], epochs=1, batch_size=8, verbose=0, shuffle=False)
    status.assert_consumed()
    for a, b in zip(model.weights, model2.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_tf_module_tree(tmp_path):
    class Dense(tf.Module):
        def __init__(self, n_in, n_out, scale, name=None):
            super().__init__(name=name)
            self.w = tf.Variable(tf.fill([n_in, n_out], scale))
            self.b = tf.Variable(tf.zeros([n_out]) + scale)

    class Net(tf.Module):
        def __init__(self, scale):
            super().__init__()
            self.layers = [Dense(2, 3, scale), Dense(3, 1, 2 * scale)]

    net = Net(1.0)
    path = tf.train.Checkpoint(net=net).save(str(tmp_path / "net"))
    assert {k.replace("/.ATTRIBUTES/VARIABLE_VALUE", "")
            for k, _ in tf.train.list_variables(path)
            if k != "_CHECKPOINTABLE_OBJECT_GRAPH"} == {
        "net/layers/0/w", "net/layers/0/b", "net/layers/1/w", "net/layers/1/b",
        "save_counter"}
    other = Net(0.0)
    tf.train.Checkpoint(net=other).restore(path).assert_consumed()
    for a, b in zip(net.variables, other.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
