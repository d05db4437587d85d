"""tf.distribute: default/OneDevice/single-replica Mirrored strategies run TF programs."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras


def _data(n=64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32") + 0.25).astype("float32")
    return x, y


def test_contexts_outside_and_inside_scope_and_run(cpu_default):
    assert not tf.distribute.has_strategy()
    assert not tf.distribute.in_cross_replica_context()
    default = tf.distribute.get_strategy()
    assert default.num_replicas_in_sync == 1
    assert tf.distribute.get_replica_context() is not None
    strategy = tf.distribute.MirroredStrategy()
    assert strategy.num_replicas_in_sync == 1
    assert len(strategy.extended.worker_devices) == 1
    with strategy.scope():
        assert tf.distribute.has_strategy()
        assert tf.distribute.in_cross_replica_context()
        assert tf.distribute.get_replica_context() is None
        assert tf.distribute.get_strategy() is strategy
    seen = {}

    def fn(x):
        ctx = tf.distribute.get_replica_context()
        seen["ids"] = (int(ctx.replica_id_in_sync_group), ctx.num_replicas_in_sync)
        seen["cross"] = tf.distribute.in_cross_replica_context()
        seen["strategy"] = tf.distribute.get_strategy()
        seen["merged"] = ctx.merge_call(lambda s, v: (s, tf.distribute.
                                                       in_cross_replica_context(), v), (3,))
        return ctx.all_reduce(tf.distribute.ReduceOp.SUM, x * 2.0)

    out = strategy.run(fn, args=(tf.constant([1.0, 2.0, 3.0]),))
    assert seen["ids"] == (0, 1) and seen["cross"] is False
    assert seen["strategy"] is strategy and seen["merged"] == (strategy, True, 3)
    np.testing.assert_array_equal(out.numpy(), [2.0, 4.0, 6.0])
    np.testing.assert_array_equal(strategy.reduce("SUM", out, axis=None).numpy(),
                                  [2.0, 4.0, 6.0])
    assert float(strategy.reduce(tf.distribute.ReduceOp.MEAN, out, axis=0)) == 4.0
    assert float(strategy.reduce(tf.distribute.ReduceOp.SUM, out, axis=0)) == 12.0
    assert strategy.experimental_local_results(out)[0] is out
    with pytest.raises(ValueError, match="reduce_op"):
        strategy.reduce("MAX", out, axis=None)
    assert not tf.distribute.has_strategy()


def test_several_devices_need_existing_devices():
    # "/cpu:5" was never configured (test_mirrored_strategy uses two logical CPUs)
    with pytest.raises(ValueError, match="'/cpu:5'"):
        tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:5"])
    one = tf.distribute.MirroredStrategy(["/cpu:0"])
    assert one.num_replicas_in_sync == 1
    assert tf.distribute.ReduceOp("MEAN") is tf.distribute.ReduceOp.MEAN


def test_one_device_strategy_places_variables():
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        v = tf.Variable([1.0, 2.0])
    assert v.device.lower().endswith("cpu:0")
    assert strategy.extended.worker_devices == ("/job:localhost/replica:0/task:0/device:CPU:0",)
    result = strategy.run(lambda: v * 3.0)
    np.testing.assert_array_equal(result.numpy(), [3.0, 6.0])


def test_distributed_datasets(cpu_default):
    strategy = tf.distribute.MirroredStrategy()
    ds = tf.data.Dataset.range(6).batch(2)
    dist = strategy.experimental_distribute_dataset(ds)
    assert [list(b.numpy()) for b in dist] == [[0, 1], [2, 3], [4, 5]]
    assert dist.element_spec == ds.element_spec

    def dataset_fn(ctx):
        assert ctx.num_input_pipelines == 1 and ctx.input_pipeline_id == 0
        batch = ctx.get_per_replica_batch_size(4)
        return tf.data.Dataset.range(8).batch(batch)
    dist = strategy.distribute_datasets_from_function(dataset_fn)
    assert [len(b.numpy()) for b in dist] == [4, 4]


def test_mirrored_program_with_fit():
    x, y = _data()
    keras.utils.set_random_seed(0)
    strategy = tf.distribute.MirroredStrategy()
    with strategy.scope():
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    batch = 16 * strategy.num_replicas_in_sync
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch)
    history = model.fit(ds, epochs=60, verbose=0)
    assert history.history["loss"][-1] < 0.01 * history.history["loss"][0]
    assert model.evaluate(x, y, verbose=0) < 0.05


def test_custom_training_loop_with_strategy_run():
    x, y = _data()
    keras.utils.set_random_seed(0)
    strategy = tf.distribute.MirroredStrategy()
    global_batch = 16
    with strategy.scope():
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        optimizer = keras.optimizers.SGD(0.1)
        loss_obj = keras.losses.MeanSquaredError(reduction="none")
    dist = strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices((x, y)).batch(global_batch))

    def step(inputs):
        xb, yb = inputs
        with tf.GradientTape() as tape:
            per_example = loss_obj(yb, model(xb, training=True))
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def dist_step(inputs):
        per_replica = strategy.run(step, args=(inputs,))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    losses = []
    for _ in range(20):
        total = 0.0
        for batch in dist:
            total += float(dist_step(batch))
        losses.append(total)
    assert losses[-1] < 0.05 * losses[0]
