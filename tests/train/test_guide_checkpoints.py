"""TF's "Training checkpoints" guide: the checkpoint keys ``tf.train.list_variables``
reports and ``load_variable``/``load_checkpoint`` read are TensorFlow's
(``'<path>/.ATTRIBUTES/VARIABLE_VALUE'``), after a CheckpointManager loop."""

import os

import numpy as np

import dlframe as tf

SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"


class Net(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.l1 = tf.keras.layers.Dense(5)

    def call(self, x):
        return self.l1(x)


def _toy_dataset():
    inputs = tf.range(10.0)[:, None]
    labels = inputs * 5.0 + tf.range(5.0)[None, :]
    return tf.data.Dataset.from_tensor_slices({"x": inputs, "y": labels}).repeat().batch(2)


def test_manager_loop_and_tf_keys(tmp_path):
    net, opt = Net(), tf.keras.optimizers.Adam(0.1)
    ckpt = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt, net=net)
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path / "tf_ckpts"), max_to_keep=3)
    iterator = iter(_toy_dataset())
    for _ in range(50):
        example = next(iterator)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.abs(net(example["x"]) - example["y"]))
        grads = tape.gradient(loss, net.trainable_variables)
        opt.apply_gradients(zip(grads, net.trainable_variables))
        ckpt.step.assign_add(1)
        if int(ckpt.step) % 10 == 0:
            manager.save()
    assert [os.path.basename(p) for p in manager.checkpoints] == ["ckpt-3", "ckpt-4",
                                                                  "ckpt-5"]
    latest = tf.train.latest_checkpoint(str(tmp_path / "tf_ckpts"))
    assert latest == manager.latest_checkpoint
    keys = dict(tf.train.list_variables(latest))
    assert keys.pop("_CHECKPOINTABLE_OBJECT_GRAPH") == []   # as TF lists it
    assert all(k.endswith(SUFFIX) for k in keys)
    assert keys["step" + SUFFIX] == [] and keys["save_counter" + SUFFIX] == []
    kernel_key = next(k for k in keys if k.startswith("net/") and "kernel" in k)
    assert keys[kernel_key] == [1, 5]
    # the guide reads values back by key; the bare object path is accepted too
    assert int(tf.train.load_variable(latest, "step" + SUFFIX)) == 50
    assert int(tf.train.load_variable(str(tmp_path / "tf_ckpts"), "step")) == 50
    reader = tf.train.load_checkpoint(latest)
    assert reader.has_tensor("step" + SUFFIX) and reader.has_tensor("step")
    assert not reader.has_tensor("nope" + SUFFIX)
    assert reader.get_variable_to_shape_map()[kernel_key] == [1, 5]
    assert reader.get_variable_to_dtype_map()["step" + SUFFIX] == tf.int32
    try:
        reader.get_tensor("missing" + SUFFIX)
    except tf.errors.NotFoundError as exc:
        assert "missing" in str(exc)
    else:
        raise AssertionError("a missing key must raise NotFoundError")

    # restoring into a fresh net continues where training stopped
    net2, opt2 = Net(), tf.keras.optimizers.Adam(0.1)
    net2(tf.ones((1, 1)))
    ckpt2 = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt2, net=net2)
    ckpt2.restore(manager.latest_checkpoint)
    assert int(ckpt2.step) == 50
    np.testing.assert_array_equal(net2.l1.kernel.numpy(),
                                  tf.train.load_variable(latest, kernel_key))
    # the save at step 50 came before the 50th update
    assert not np.array_equal(net2.l1.kernel.numpy(), net.l1.kernel.numpy())
