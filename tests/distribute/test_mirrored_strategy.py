"""MirroredStrategy over 2 logical CPU devices: replica contexts, values, reductions,
datasets, mirrored variables and the TF custom-training-loop recipe."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.distribute import values as dvalues

CPU0 = "/job:localhost/replica:0/task:0/device:CPU:0"
CPU1 = "/job:localhost/replica:0/task:0/device:CPU:1"


def _replica_id():
    return tf.distribute.get_replica_context().replica_id_in_sync_group


def test_device_spellings_and_default(two_cpus, cpu_default):
    assert two_cpus.num_replicas_in_sync == 2
    assert two_cpus.extended.worker_devices == (CPU0, CPU1)
    for devices in (["/cpu:0", "/cpu:1"], [CPU0, CPU1], ["/device:CPU:0", "CPU:1"]):
        s = tf.distribute.MirroredStrategy(devices)
        assert s.extended.worker_devices == (CPU0, CPU1)
    default = tf.distribute.MirroredStrategy()  # no GPU: every logical CPU, as TF
    assert default.num_replicas_in_sync == 2


def test_bad_devices_are_named(two_cpus):
    with pytest.raises(ValueError, match="'CPU:7'"):
        tf.distribute.MirroredStrategy(["CPU:0", "CPU:7"])
    with pytest.raises(ValueError, match="'blah:1'"):
        tf.distribute.MirroredStrategy(["CPU:0", "blah:1"])
    with pytest.raises(ValueError, match="duplicates"):
        tf.distribute.MirroredStrategy(["CPU:0", "/cpu:0"])
    with pytest.raises(ValueError, match="at least one device"):
        tf.distribute.MirroredStrategy([])


def test_run_gives_per_replica_values_and_contexts(two_cpus):
    s = two_cpus
    seen = []

    def fn(x):
        ctx = tf.distribute.get_replica_context()
        seen.append((int(ctx.replica_id_in_sync_group), ctx.num_replicas_in_sync,
                     tf.distribute.in_cross_replica_context(), x.device))
        return x * tf.cast(ctx.replica_id_in_sync_group + 1, tf.float32)

    out = s.run(fn, args=(tf.constant([1.0, 2.0]),))
    assert isinstance(out, tf.distribute.PerReplica)
    assert seen == [(0, 2, False, CPU0), (1, 2, False, CPU1)]
    local = s.experimental_local_results(out)
    assert [v.device for v in local] == [CPU0, CPU1]
    np.testing.assert_array_equal(local[1].numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(s.reduce("SUM", out, axis=None).numpy(), [3.0, 6.0])
    np.testing.assert_array_equal(s.reduce("MEAN", out, axis=None).numpy(), [1.5, 3.0])
    assert float(s.reduce("SUM", out, axis=0)) == 9.0
    assert float(s.reduce("MEAN", out, axis=0)) == 2.25   # over all 4 elements
    np.testing.assert_array_equal(s.gather(out, axis=0).numpy(), [1, 2, 2, 4])
    # TF: a value that is not per-replica can be averaged, not summed
    assert float(s.reduce("MEAN", tf.constant(2.0), axis=None)) == 2.0
    with pytest.raises(ValueError, match="non-DistributedValues"):
        s.reduce("SUM", tf.constant(2.0), axis=None)


def test_all_reduce_and_merge_call_synchronise_replicas(two_cpus):
    s = two_cpus

    def fn():
        ctx = tf.distribute.get_replica_context()
        x = tf.cast(ctx.replica_id_in_sync_group, tf.float32) + 1.0   # 1, 2
        total = ctx.all_reduce(tf.distribute.ReduceOp.SUM, {"a": x, "b": [x * 10.0]})
        mean = ctx.all_reduce("MEAN", x)
        merged = ctx.merge_call(
            lambda strategy, v: (tf.distribute.in_cross_replica_context(),
                                 len(v.values)), args=(x,))
        return total["a"], total["b"][0], mean, merged

    a, b, mean, merged = s.run(fn)
    assert [float(v) for v in a.values] == [3.0, 3.0]
    assert [float(v) for v in b.values] == [30.0, 30.0]
    assert [float(v) for v in mean.values] == [1.5, 1.5]
    assert [v.device for v in a.values] == [CPU0, CPU1]
    assert merged == (True, 2)
    compiled = tf.function(lambda: s.run(fn))
    a2, _, mean2, _ = compiled()
    assert [float(v) for v in a2.values] == [3.0, 3.0]
    assert [float(v) for v in mean2.values] == [1.5, 1.5]


def test_replica_errors_reach_the_caller(two_cpus):
    def fn():
        if int(_replica_id()) == 1:
            raise KeyError("replica one failed")
        return tf.distribute.get_replica_context().all_reduce("SUM", tf.constant(1.0))
    with pytest.raises(KeyError, match="replica one failed"):
        two_cpus.run(fn)
    assert float(two_cpus.reduce("SUM", two_cpus.run(lambda: tf.constant(1.0)),
                                 axis=None)) == 2.0


def test_values_from_function(two_cpus):
    pr = two_cpus.experimental_distribute_values_from_function(
        lambda ctx: tf.constant([ctx.replica_id_in_sync_group * 10.0,
                                 ctx.num_replicas_in_sync]))
    assert [v.device for v in pr.values] == [CPU0, CPU1]
    out = two_cpus.run(lambda v: v + 1.0, args=(pr,))
    np.testing.assert_array_equal(two_cpus.gather(out, 0).numpy(), [1, 3, 11, 3])


def test_distributed_dataset_splits_like_tf(two_cpus):
    s = two_cpus
    ds = tf.data.Dataset.range(9).batch(7)
    got = [[v.numpy().tolist() for v in s.experimental_local_results(b)]
           for b in s.experimental_distribute_dataset(ds)]
    assert got == [[[0, 1, 2, 3], [4, 5, 6]], [[7], [8]]]   # TF 2.21: ceil(B/N) rows
    pairs = tf.data.Dataset.from_tensor_slices((np.arange(3.0), np.arange(3))).batch(3)
    (x, y), = list(s.experimental_distribute_dataset(pairs))
    assert [v.device for v in x.values] == [CPU0, CPU1]
    assert [v.numpy().tolist() for v in y.values] == [[0, 1], [2]]
    one = next(iter(s.experimental_distribute_dataset(tf.data.Dataset.range(1).batch(1))))
    assert [v.numpy().tolist() for v in one.values] == [[0], []]  # empty shard

    def dataset_fn(ctx):
        assert (ctx.num_input_pipelines, ctx.input_pipeline_id,
                ctx.num_replicas_in_sync) == (1, 0, 2)
        return tf.data.Dataset.range(8).batch(ctx.get_per_replica_batch_size(4))
    batches = list(s.distribute_datasets_from_function(dataset_fn))
    assert [[v.numpy().tolist() for v in b.values] for b in batches] == \
        [[[0, 1], [2, 3]], [[4, 5], [6, 7]]]
    with pytest.raises(ValueError, match="not divisible"):
        tf.distribute.InputContext(1, 0, 2).get_per_replica_batch_size(5)


def test_mirrored_variables(two_cpus):
    s = two_cpus
    with s.scope():
        v = tf.Variable([1.0, 2.0], name="w")
        counter = tf.Variable(0.0, aggregation=tf.VariableAggregation.SUM)
    assert isinstance(v, tf.distribute.MirroredVariable)
    assert isinstance(v, tf.Variable)
    assert [c.device for c in v.values] == [CPU0, CPU1]
    assert s.extended.variable_created_in_scope(v)

    def fn():
        counter.assign_add(1.0)            # SUM: both replicas' deltas count
        v.assign_add([1.0, 1.0])           # NONE: identical values -> applied once
        return v * 1.0, v.device

    out, devices = s.run(fn)
    assert devices.values == (CPU0, CPU1)
    assert float(counter) == 2.0
    np.testing.assert_array_equal(v.numpy(), [2.0, 3.0])
    np.testing.assert_array_equal(out.values[1].numpy(), [2.0, 3.0])
    # used outside the scope and outside run: the primary copy, like a plain Variable
    np.testing.assert_array_equal((v * 2.0).numpy(), [4.0, 6.0])
    v.assign([5.0, 6.0])
    assert [c.numpy().tolist() for c in s.experimental_local_results(v)] == \
        [[5.0, 6.0], [5.0, 6.0]]


def test_sync_on_read_variables(two_cpus):
    s = two_cpus
    with s.scope():
        total = tf.Variable(0.0, trainable=False,
                            synchronization=tf.VariableSynchronization.ON_READ,
                            aggregation=tf.VariableAggregation.SUM)
    assert isinstance(total, tf.distribute.SyncOnReadVariable)
    s.run(lambda: total.assign_add(tf.cast(_replica_id(), tf.float32) + 1.0))
    assert [float(c) for c in total.values] == [1.0, 2.0]
    assert float(total) == 3.0                      # read across replicas: summed
    total.assign(0.0)
    assert float(total) == 0.0


# ---------------------------------------------------------------- custom loop
GLOBAL_BATCH = 16


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32")).astype("float32")
    return x, y


def _custom_loop(strategy, compiled, steps=3, share=True):
    """The TF tutorial 'custom training with tf.distribute.Strategy' shape."""
    x, y = _data()
    strategy.extended._share_host_memory = share
    with strategy.scope():
        keras.utils.set_random_seed(1)
        model = keras.Sequential([keras.Input((4,)),
                                  keras.layers.Dense(8, activation="tanh"),
                                  keras.layers.Dense(1)])
        optimizer = keras.optimizers.SGD(0.05, momentum=0.9)
        loss_object = keras.losses.MeanSquaredError(reduction="none")
        train_mae = keras.metrics.MeanAbsoluteError()

    def train_step(inputs):
        features, labels = inputs
        with tf.GradientTape() as tape:
            predictions = model(features, training=True)
            per_example = loss_object(labels, predictions)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=GLOBAL_BATCH)
            loss += tf.nn.scale_regularization_loss(tf.add_n(
                [0.01 * tf.reduce_sum(tf.square(w)) for w in model.trainable_variables]))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        train_mae.update_state(labels, predictions)
        return loss

    def distributed_train_step(inputs):
        per_replica_losses = strategy.run(train_step, args=(inputs,))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica_losses, axis=None)

    if compiled:
        distributed_train_step = tf.function(distributed_train_step)
    dist = strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices((x, y)).batch(GLOBAL_BATCH))
    losses = [float(distributed_train_step(b)) for _ in range(steps) for b in dist]
    return losses, model, float(train_mae.result())


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "function"])
def test_custom_loop_matches_single_device(two_cpus, compiled):
    ref_losses, ref_model, ref_mae = _custom_loop(
        tf.distribute.OneDeviceStrategy("CPU:0"), compiled)
    losses, model, mae = _custom_loop(two_cpus, compiled)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-6, atol=1e-6)
    for w, ref in zip(model.trainable_variables, ref_model.trainable_variables):
        np.testing.assert_allclose(w.numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)
        assert isinstance(w, tf.distribute.MirroredVariable)
    assert mae == pytest.approx(ref_mae, rel=1e-6)   # metric summed over replicas
    assert losses[-1] < 0.5 * losses[0]


def test_one_step_equals_single_device_step(two_cpus):
    _, ref, _ = _custom_loop(tf.distribute.OneDeviceStrategy("CPU:0"), False, steps=1)
    _, two, _ = _custom_loop(two_cpus, True, steps=1)
    for w, r in zip(two.trainable_variables, ref.trainable_variables):
        np.testing.assert_allclose(w.numpy(), r.numpy(), atol=1e-6)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "function"])
def test_separate_mirror_buffers_stay_identical(two_cpus, compiled):
    """Components with a buffer each (the multi-GPU layout) get every update."""
    _, ref, _ = _custom_loop(two_cpus, compiled, share=True)
    _, model, _ = _custom_loop(two_cpus, compiled, share=False)
    for w, r in zip(model.trainable_variables, ref.trainable_variables):
        first, second = two_cpus.experimental_local_results(w)
        assert first._value is not second._value
        np.testing.assert_array_equal(first.numpy(), second.numpy())
        np.testing.assert_allclose(first.numpy(), r.numpy(), atol=1e-6)
    shared = ref.trainable_variables[0]   # shared layout: one host buffer
    a, b = two_cpus.experimental_local_results(shared)
    assert a._value is b._value and a.device != b.device


def test_variables_made_in_scope_work_outside(two_cpus):
    with two_cpus.scope():
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    x = np.ones((4, 3), "float32")
    out = model(x)                                   # no strategy, no replica
    # as TF: the op runs on the default device (a GPU where there is one), the
    # variables' values copied there
    assert out.device == tf.constant(x).device
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(x))
    grads = tape.gradient(loss, model.trainable_variables)
    keras.optimizers.SGD(0.1).apply_gradients(zip(grads, model.trainable_variables))
    kernel = model.trainable_variables[0]
    np.testing.assert_array_equal(*[c.numpy() for c in kernel.values])


def test_per_replica_is_a_value_type():
    pr = dvalues.PerReplica([1, 2])
    assert pr.values == (1, 2) and "PerReplica" in repr(pr)
    # one leaf, as TF's composite PerReplica; its components when expanded
    assert tf.nest.flatten(pr) == [pr]
    assert tf.nest.flatten(pr, expand_composites=True) == [1, 2]
