"""Regressions found by running TF guide programs ("Training checkpoints",
"Using the SavedModel format", "Introduction to variables", ...) under dlframe:
Keras 2 checkpoint keys of subclassed models, their aliases, delayed restoration
of layers that are not built yet, and the small API gaps around them."""

import os

import numpy as np
import pytest

import dlframe as tf
from dlframe import backends, config

SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"


class Net(tf.keras.Model):
    """The guide's model: one Dense layer held in the attribute ``l1``."""

    def __init__(self):
        super().__init__()
        self.l1 = tf.keras.layers.Dense(5)

    def call(self, x):
        return self.l1(x)


class Block(tf.keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.inner = [tf.keras.layers.Dense(3), tf.keras.layers.Dense(3)]

    def call(self, x):
        for layer in self.inner:
            x = layer(x)
        return x


class Tower(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = tf.keras.layers.Dense(1)

    def call(self, x):
        return self.head(self.block(x))


def _train_step(model, optimizer, x):
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(x) ** 2)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


def _keys(path):
    return {k[:-len(SUFFIX)]: v for k, v in tf.train.list_variables(path)
            if k.endswith(SUFFIX)}


# ------------------------------------------------------------ checkpoint keys
def test_subclassed_model_keys_follow_attribute_names(tmp_path):
    net = Net()
    net(tf.ones([1, 1]))
    path = tf.train.Checkpoint(net=net).write(str(tmp_path / "c"))
    keys = _keys(path)
    # Keras 2 keys, as the guide reads them back
    assert keys["net/l1/kernel"] == [1, 5] and keys["net/l1/bias"] == [5]
    np.testing.assert_array_equal(
        tf.train.load_variable(path, "net/l1/kernel" + SUFFIX), net.l1.kernel.numpy())
    # lists of layers are numbered under their attribute, nested layers by name
    tower = Tower()
    tower(tf.ones([2, 4]))
    keys = _keys(tf.train.Checkpoint(model=tower).write(str(tmp_path / "t")))
    assert sorted(keys) == ["model/block/inner/0/bias", "model/block/inner/0/kernel",
                            "model/block/inner/1/bias", "model/block/inner/1/kernel",
                            "model/head/bias", "model/head/kernel"]


def test_sequential_keys_stay_positional(tmp_path):
    model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(3)])
    keys = _keys(tf.train.Checkpoint(model=model).write(str(tmp_path / "s")))
    assert keys["model/layer_with_weights-0/kernel"] == [2, 3]


def test_positional_keys_restore_as_aliases(tmp_path):
    # a checkpoint written with the positional spelling of the same object graph
    kernel = tf.Variable(np.arange(5.0, dtype="float32").reshape(1, 5))
    bias = tf.Variable(np.full(5, 7.0, dtype="float32"))
    layer = tf.train.Checkpoint(kernel=kernel, bias=bias)
    path = tf.train.Checkpoint(
        net=tf.train.Checkpoint(**{"layer_with_weights-0": layer})).write(
        str(tmp_path / "old"))
    net = Net()
    net(tf.ones([1, 1]))
    tf.train.Checkpoint(net=net).read(path).assert_consumed()
    np.testing.assert_array_equal(net.l1.kernel.numpy(), kernel.numpy())
    np.testing.assert_array_equal(net.l1.bias.numpy(), bias.numpy())


# ------------------------------------------------------------ delayed restoration
def test_guide_partial_restore_through_fake_objects(tmp_path):
    net = Net()
    _train_step(net, tf.keras.optimizers.Adam(0.1), tf.ones([2, 1]))
    path = tf.train.Checkpoint(net=net).save(str(tmp_path / "ckpt"))
    to_restore = tf.Variable(tf.zeros([5]))
    fake_net = tf.train.Checkpoint(l1=tf.train.Checkpoint(bias=to_restore))
    status = tf.train.Checkpoint(net=fake_net).restore(path)
    np.testing.assert_array_equal(to_restore.numpy(), net.l1.bias.numpy())
    status.assert_existing_objects_matched()
    with pytest.raises(AssertionError):   # the kernel was not used
        status.assert_consumed()
    status.expect_partial()


def test_restore_before_build_lands_when_layers_build(tmp_path):
    x = tf.constant(np.linspace(-1, 1, 8, dtype="float32").reshape(2, 4))
    tower, opt = Tower(), tf.keras.optimizers.Adam(0.1)
    _train_step(tower, opt, x)
    path = tf.train.Checkpoint(model=tower, opt=opt).save(str(tmp_path / "ckpt"))
    expected = tower(x).numpy()

    fresh, fresh_opt = Tower(), tf.keras.optimizers.Adam(0.1)
    status = tf.train.Checkpoint(model=fresh, opt=fresh_opt).restore(path)
    assert fresh.variables == []                 # nothing built yet
    with pytest.raises(AssertionError):
        status.assert_consumed()
    status.assert_existing_objects_matched()
    np.testing.assert_allclose(fresh(x).numpy(), expected, rtol=1e-6)
    # one more identical step on both: the optimizer state was restored too
    _train_step(tower, opt, x)
    _train_step(fresh, fresh_opt, x)
    status.assert_consumed()
    for a, b in zip(tower.variables, fresh.variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    assert "build" not in vars(fresh.head)       # the restore hook is gone


def test_delayed_restore_of_a_single_layer(tmp_path):
    net = Net()
    net(tf.ones([1, 1]))
    path = tf.train.Checkpoint(net=net).save(str(tmp_path / "ckpt"))
    delayed = tf.keras.layers.Dense(5)
    root = tf.train.Checkpoint(net=tf.train.Checkpoint(l1=delayed))
    root.restore(path).expect_partial()
    assert delayed.variables == []
    delayed(tf.zeros([1, 1]))
    np.testing.assert_array_equal(delayed.kernel.numpy(), net.l1.kernel.numpy())


def test_manager_restores_into_an_unbuilt_model(tmp_path):
    net, opt = Net(), tf.keras.optimizers.Adam(0.1)
    ckpt = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt, net=net)
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=2,
                                         checkpoint_name="model")
    for _ in range(3):
        _train_step(net, opt, tf.ones([2, 1]))
        ckpt.step.assign_add(1)
        manager.save()
    assert os.path.basename(manager.latest_checkpoint) == "model-3"
    net2, opt2 = Net(), tf.keras.optimizers.Adam(0.1)
    ckpt2 = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt2, net=net2)
    ckpt2.restore(tf.train.latest_checkpoint(str(tmp_path)))
    assert int(ckpt2.step) == 4
    net2(tf.ones([1, 1]))
    np.testing.assert_array_equal(net2.l1.kernel.numpy(), net.l1.kernel.numpy())


class FlexibleDense(tf.Module):
    """The modules guide's module that creates its variables on first call."""

    def __init__(self, out_features, name=None):
        super().__init__(name=name)
        self.out_features = out_features

    def __call__(self, x):
        if not hasattr(self, "w"):
            self.w = tf.Variable(tf.random.normal([x.shape[-1], self.out_features]),
                                 name="w")
            self.b = tf.Variable(tf.zeros([self.out_features]), name="b")
        return tf.nn.relu(tf.matmul(x, self.w) + self.b)


class TwoLayers(tf.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.dense_1 = FlexibleDense(3)
        self.dense_2 = FlexibleDense(2)
        self.extra = [tf.Variable(1.0, name="e1"),
                      {"k": tf.Variable(2.0, name="e2", trainable=False)}]

    def __call__(self, x):
        return self.dense_2(self.dense_1(x))


def test_module_restore_before_variables_exist(tmp_path):
    x = tf.constant([[2.0, 2.0, 2.0]])
    model = TwoLayers()
    expected = model(x).numpy()
    path = tf.train.Checkpoint(model=model).write(str(tmp_path / "m"))
    assert "model/dense_1/w" in _keys(path)
    fresh = TwoLayers()
    status = tf.train.Checkpoint(model=fresh).read(path)
    np.testing.assert_allclose(fresh(x).numpy(), expected, rtol=1e-6)
    status.assert_consumed()
    np.testing.assert_array_equal(fresh.dense_2.w.numpy(), model.dense_2.w.numpy())
    assert "_module_restore_hooks" not in vars(fresh.dense_1) or \
        not vars(fresh.dense_1)["_module_restore_hooks"]


def test_module_variable_order_and_name_scope():
    model = TwoLayers(name="the_model")
    model(tf.ones([1, 3]))
    # TF: a module's own variables (attributes by name) before its sub-modules'
    assert [v.name for v in model.variables] == ["e1:0", "e2:0", "b:0", "w:0",
                                                "b:0", "w:0"]
    assert [v.name for v in model.trainable_variables] == ["e1:0", "b:0", "w:0",
                                                          "b:0", "w:0"]
    assert model.name_scope.name == "the_model/"
    with tf.name_scope("outer"):
        inner = tf.Module(name="inner")
    assert inner.name_scope.name == "outer/inner/"
    with inner.name_scope:
        v = tf.Variable(1.0, name="v")
    assert v.name == "outer/inner/v:0"


# ------------------------------------------------------------ SavedModel
class _Served(tf.Module):
    def __init__(self):
        super().__init__()
        self.w = tf.Variable([[1.0], [2.0], [3.0]])

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def serve(self, x):
        return {"out": tf.matmul(x, self.w), "sum": tf.reduce_sum(x, axis=1)}

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def double(self, x):
        return x * 2.0


def test_signature_structured_outputs_after_load(tmp_path):
    module = _Served()
    tf.saved_model.save(module, str(tmp_path / "m"),
                        signatures={"serving_default": module.serve, "b": module.double})
    loaded = tf.saved_model.load(str(tmp_path / "m"))
    sig = loaded.signatures["serving_default"]
    outs = sig.structured_outputs
    assert sorted(outs) == ["out", "sum"]
    # as TF 2.21 reports them: named after their key, batch dimension unknown
    assert outs["out"] == tf.TensorSpec([None, 1], tf.float32, name="out")
    assert outs["sum"].shape.as_list() == [None] and outs["sum"].name == "sum"
    b = loaded.signatures["b"]
    assert list(b.structured_outputs) == ["output_0"]
    assert b.output_shapes["output_0"].as_list() == [None, 3]
    assert b.output_dtypes == {"output_0": tf.float32}
    x = tf.constant([[1.0, 2.0, 3.0]])
    result = sig(x=x)
    np.testing.assert_allclose(result["out"].numpy(), [[14.0]])
    np.testing.assert_allclose(b(x)["output_0"].numpy(), [[2.0, 4.0, 6.0]])


class _DictInput(tf.Module):
    def __init__(self):
        super().__init__()
        self.scale = tf.Variable(2.0)

    @tf.function(input_signature=[{"x": tf.TensorSpec([None], tf.float32),
                                   "y": tf.TensorSpec([None], tf.float32)}])
    def combine(self, inputs):
        return inputs["x"] * self.scale + inputs["y"]


def test_signature_of_a_dict_argument(tmp_path):
    module = _DictInput()
    concrete = module.combine.get_concrete_function()   # specs nested in a dict
    assert concrete.structured_outputs.shape.as_list() == [None]
    tf.saved_model.save(module, str(tmp_path / "m"),
                        signatures={"combine": module.combine})
    loaded = tf.saved_model.load(str(tmp_path / "m"))
    sig = loaded.signatures["combine"]
    # TF 2.21 names a nested argument's inputs 'inputs', 'inputs_1', ...
    assert sorted(sig.structured_input_signature[1]) == ["inputs", "inputs_1"]
    out = sig(inputs=tf.constant([1.0]), inputs_1=tf.constant([2.0]))
    np.testing.assert_allclose(out["output_0"].numpy(), [4.0])
    np.testing.assert_allclose(
        loaded.combine({"x": tf.constant([3.0]), "y": tf.constant([1.0])}).numpy(),
        [7.0])


def test_keras_default_signature_describes_itself(tmp_path):
    inputs = tf.keras.Input((3,), name="feat")
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(2, name="out")(inputs))
    tf.saved_model.save(model, str(tmp_path / "k"))
    sig = tf.saved_model.load(str(tmp_path / "k")).signatures["serving_default"]
    (spec,) = sig.structured_input_signature[1].values()
    assert spec.shape.as_list() == [None, 3] and spec.dtype == tf.float32
    (out_name, out_spec), = sig.structured_outputs.items()
    assert out_spec.shape.as_list() == [None, 2]
    x = tf.ones([4, 3])
    expected = model(x).numpy()
    # Keras 2 names the input after the Input layer, Keras 3 'inputs': both work
    np.testing.assert_allclose(sig(feat=x)[out_name].numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(sig(inputs=x)[out_name].numpy(), expected, rtol=1e-6)


def test_export_reloads_without_custom_objects(tmp_path):
    class Twice(tf.keras.layers.Layer):   # neither registered nor passed to load
        def call(self, x):
            return x * 2.0

    def squash(x):
        return tf.nn.tanh(x) ** 2

    inputs = tf.keras.Input((3,))
    model = tf.keras.Model(
        inputs, tf.keras.layers.Dense(2, activation=squash)(Twice()(inputs)))
    model.export(str(tmp_path / "exported"), verbose=False)
    x = tf.constant(np.linspace(-1, 1, 6, dtype="float32").reshape(2, 3))
    expected = model(x).numpy()
    loaded = tf.saved_model.load(str(tmp_path / "exported"))
    np.testing.assert_allclose(loaded.serve(x).numpy(), expected, rtol=1e-6)
    (out,) = loaded.signatures["serving_default"](x).values()
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    layer = tf.keras.layers.TFSMLayer(str(tmp_path / "exported"))
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-6)
    with pytest.raises((ValueError, TypeError)):   # the archive alone needs them
        tf.keras.models.load_model(str(tmp_path / "exported" / "model.keras"))


# ------------------------------------------------------------ Variables
def test_on_read_variable_may_be_trainable():
    sync = tf.VariableSynchronization.ON_READ
    assert tf.Variable(1.0, synchronization=sync).trainable is False
    v = tf.Variable(1.0, synchronization=sync, trainable=True)   # TF 2.21 accepts
    assert v.trainable is True and v.synchronization == sync


# ------------------------------------------------------------ summaries
def test_summary_iterator_reads_back_a_training_loop_log(tmp_path):
    pytest.importorskip("tensorboardX")
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        for step in range(3):
            tf.summary.scalar("loss", 0.5 / (step + 1), step=step)
            tf.summary.histogram("w", tf.constant([1.0, 2.0, 2.0]), step=step)
    writer.close()
    (name,) = os.listdir(tmp_path)
    events = list(tf.compat.v1.train.summary_iterator(str(tmp_path / name)))
    assert events[0].file_version.startswith("brain.Event")
    losses = [(e.step, float(tf.make_ndarray(v.tensor)))
              for e in events for v in e.summary.value if v.tag == "loss"]
    assert [s for s, _ in losses] == [0, 1, 2]
    np.testing.assert_allclose([x for _, x in losses], [0.5, 0.25, 0.5 / 3], rtol=1e-6)
    tags = {v.tag for e in events for v in e.summary.value}
    assert tags == {"loss", "w"}


# ------------------------------------------------------------ distribution
@pytest.fixture
def two_logical_cpus():
    before = config.logical_cpu_count()
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    try:
        yield
    finally:
        config._logical_cpu_count = before


def test_multi_worker_strategy_uses_one_cpu_per_worker(two_logical_cpus, monkeypatch):
    # as TF 2.21 on a machine without a GPU (the process default is cpu:0; with a
    # GPU, MirroredStrategy() takes the GPUs): it spans the logical CPUs, a worker
    # uses one
    monkeypatch.setattr(backends, "_default", backends.get_device("cpu:0"))
    assert tf.distribute.MirroredStrategy().num_replicas_in_sync == 2
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    assert strategy.num_replicas_in_sync == 1
    with strategy.scope():
        v = tf.Variable(1.0)
    strategy.run(lambda: v.assign_add(2.0))
    assert float(v.numpy()) == 3.0


# ------------------------------------------------------------ optimizers
def test_apply_gradients_with_no_gradient_at_all_raises():
    v = tf.Variable([1.0])
    opt = tf.keras.optimizers.AdamW(0.1)
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.apply_gradients([(None, v)])
    assert v.numpy().tolist() == [1.0] and int(opt.iterations) == 0
