"""Regressions found by running TF2 tf.distribute programs under dlframe and TF 2.21
on 2 logical CPU devices (round 14): logical device names, the default replica
context, CentralStorageStrategy's default devices, mixing strategy scopes,
``strategy.run`` argument checks, the gradient of ``ReplicaContext.all_reduce`` and
synchronized batch normalization."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras


def _replica_id():
    return tf.distribute.get_replica_context().replica_id_in_sync_group


def test_split_cpu_lists_tf_logical_device_names(two_cpus):
    # TF 2.21 lists LogicalDevice(name='/device:CPU:0', device_type='CPU')
    names = [d.name for d in tf.config.list_logical_devices("CPU")]
    assert names == ["/device:CPU:0", "/device:CPU:1"]
    assert {d.device_type for d in tf.config.list_logical_devices()} >= {"CPU"}


def test_default_replica_context_answers_python_ints():
    assert not tf.distribute.has_strategy()
    ctx = tf.distribute.get_replica_context()
    assert ctx.replica_id_in_sync_group == 0
    assert isinstance(ctx.replica_id_in_sync_group, int)
    assert ctx.num_replicas_in_sync == 1


def test_replica_id_in_mirrored_run_is_an_int32_tensor(two_cpus):
    ids = two_cpus.run(_replica_id)
    assert [int(i) for i in two_cpus.experimental_local_results(ids)] == [0, 1]
    assert all(i.dtype == tf.int32 for i in ids.values)


def test_central_storage_default_is_one_cpu_replica(two_cpus, cpu_default):
    # TF 2.21: CentralStorageStrategy() on a CPU split in 2 has 1 replica, while
    # MirroredStrategy() uses both logical CPUs
    central = tf.distribute.experimental.CentralStorageStrategy()
    assert central.num_replicas_in_sync == 1
    assert tf.distribute.MirroredStrategy().num_replicas_in_sync == 2
    assert tf.distribute.experimental.CentralStorageStrategy(
        ["/cpu:0", "/cpu:1"]).num_replicas_in_sync == 2


def test_mixing_strategy_scopes_raises_runtime_error(two_cpus):
    other = tf.distribute.OneDeviceStrategy("/cpu:0")
    with two_cpus.scope():
        with pytest.raises(RuntimeError, match="Mixing different tf.distribute"), \
                other.scope():
            pass
        with two_cpus.scope():       # the same strategy again is fine
            assert tf.distribute.get_strategy() is two_cpus
        with tf.distribute.get_strategy().scope():
            assert tf.distribute.get_strategy() is two_cpus
    with other.scope():              # after leaving, another strategy is fine
        assert tf.distribute.get_strategy() is other
    assert not tf.distribute.has_strategy()


@pytest.mark.parametrize("args", [tf.constant(1.0), 3, "x"])
def test_run_needs_a_list_or_tuple_of_args(two_cpus, args):
    with pytest.raises(ValueError, match="positional args must be a list or tuple"):
        two_cpus.run(lambda a: a, args=args)
    assert float(tf.distribute.OneDeviceStrategy("/cpu:0").run(
        lambda a: a * 2.0, args=[tf.constant(1.5)])) == 3.0


def _per_replica_x(strategy):
    return strategy.experimental_distribute_values_from_function(
        lambda ctx: tf.constant([1.0, 2.0]) * float(ctx.replica_id_in_sync_group + 1))


def _all_reduce_grad(op):
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.distribute.get_replica_context().all_reduce(op, x * x)
            loss = tf.reduce_sum(y * tf.cast(_replica_id() + 1, tf.float32))
        return tape.gradient(loss, x)
    return step


@pytest.mark.parametrize("compiled", [False, True])
def test_all_reduce_gradient_all_reduces_upstream_gradients(two_cpus, compiled):
    x = _per_replica_x(two_cpus)  # replica 0: [1, 2], replica 1: [2, 4]

    def run(op):
        return two_cpus.run(_all_reduce_grad(op), args=(x,))
    if compiled:
        run = tf.function(run)
    # loss_r = (r + 1) * sum(op_j x_j**2): d loss_total / d x_r = 2 x_r * (1 + 2)
    # for SUM (TF 2.21 gives [6, 12] and [12, 24]) and 2 x_r * (1 + 2) / 2 for MEAN
    grads = [g.numpy() for g in two_cpus.experimental_local_results(run("sum"))]
    np.testing.assert_allclose(grads, [[6.0, 12.0], [12.0, 24.0]])
    grads = [g.numpy() for g in two_cpus.experimental_local_results(
        run(tf.distribute.ReduceOp.MEAN))]
    np.testing.assert_allclose(grads, [[3.0, 6.0], [6.0, 12.0]])


def test_all_reduce_of_a_nest_keeps_structure_and_gradients(two_cpus):
    x = _per_replica_x(two_cpus)

    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = tf.distribute.get_replica_context().all_reduce(
                "sum", {"a": x, "b": [2.0 * x]})
            loss = tf.reduce_sum(out["a"]) + tf.reduce_sum(out["b"][0])
        return out, tape.gradient(loss, x)
    out, grads = two_cpus.run(step, args=(x,))
    for part in two_cpus.experimental_local_results(out):
        np.testing.assert_allclose(part["a"].numpy(), [3.0, 6.0])
        np.testing.assert_allclose(part["b"][0].numpy(), [6.0, 12.0])
    # each replica's x feeds both replicas' losses: (1 + 2) per replica
    for g in two_cpus.experimental_local_results(grads):
        np.testing.assert_allclose(g.numpy(), [6.0, 6.0])


def _bn_model(synchronized):
    keras.utils.set_random_seed(1)
    return keras.Sequential([
        keras.layers.Input((4,)), keras.layers.Dense(8),
        keras.layers.BatchNormalization(synchronized=synchronized),
        keras.layers.Dense(1, activation="sigmoid")])


def _fit_bn(strategy, synchronized, x, y):
    with strategy.scope():
        model = _bn_model(synchronized)
        model.compile(keras.optimizers.SGD(0.1), "binary_crossentropy")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    return [w.numpy() for w in model.weights]


def test_synchronized_batch_norm_matches_one_device(two_cpus):
    rng = np.random.RandomState(0)
    x = rng.randn(64, 4).astype("float32")
    y = (x.sum(1, keepdims=True) > 0).astype("float32")
    one = _fit_bn(tf.distribute.OneDeviceStrategy("/cpu:0"), False, x, y)
    synced = _fit_bn(two_cpus, True, x, y)
    for a, b in zip(one, synced):   # global-batch statistics: the same training
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    local = _fit_bn(two_cpus, False, x, y)  # per-replica statistics differ
    assert not np.allclose(one[4], local[4], atol=1e-4)  # moving_mean
    assert keras.layers.BatchNormalization(synchronized=True).get_config()[
        "synchronized"] is True


def test_synchronized_moments_match_numpy_on_the_global_batch(two_cpus):
    with two_cpus.scope():
        layer = keras.layers.BatchNormalization(synchronized=True, momentum=0.0,
                                                epsilon=0.0, center=False, scale=False)
        layer.build((None, 3))
    data = np.arange(24, dtype="float32").reshape(8, 3) ** 1.5
    parts = two_cpus.experimental_distribute_values_from_function(
        lambda ctx: tf.constant(data[4 * ctx.replica_id_in_sync_group:
                                     4 * ctx.replica_id_in_sync_group + 4]))
    out = two_cpus.run(lambda t: layer(t, training=True), args=(parts,))
    got = np.concatenate([o.numpy() for o in two_cpus.experimental_local_results(out)])
    ref = (data - data.mean(0)) / np.sqrt(data.var(0))
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.moving_mean.numpy(), data.mean(0), rtol=1e-5)


def test_run_argument_returned_by_every_replica_regroups_to_itself(two_cpus):
    # TF hands a non-distributed argument to every replica as the same object, so
    # returning it (or passing it to merge_call) gives back that tensor, not a
    # PerReplica (TF 2.21: EagerTensor); SUM-reducing it is then TF's ValueError
    arg = tf.constant([1.0, 2.0])
    back = two_cpus.run(lambda t: t, args=(arg,))
    assert back is arg
    with pytest.raises(ValueError, match="non-DistributedValues"):
        two_cpus.reduce("SUM", back, axis=None)
    assert float(two_cpus.reduce("MEAN", two_cpus.run(
        lambda t: t, args=(tf.constant(4.0),)), axis=None)) == 4.0

    seen = []

    def step(t, pair):
        ctx = tf.distribute.get_replica_context()
        merged = ctx.merge_call(
            lambda strategy, v, w: seen.append((v, w)) or (v, w), args=(t, pair))
        # each replica gets its own device's copy back: mixing with local tensors works
        return merged[0] * 2.0 + merged[1][0], merged[1][1]
    out, five = two_cpus.run(step, args=(arg, [tf.constant(1.0), tf.constant(5.0)]))
    assert seen[0][0] is arg and not isinstance(seen[0][1][0],
                                                tf.distribute.DistributedValues)
    assert [o.numpy().tolist() for o in two_cpus.experimental_local_results(out)] == \
        [[3.0, 5.0], [3.0, 5.0]]
    assert float(five) == 5.0


def test_per_replica_values_still_regroup_to_per_replica(two_cpus):
    x = _per_replica_x(two_cpus)
    out = two_cpus.run(lambda t: t, args=(x,))
    assert isinstance(out, tf.distribute.DistributedValues)
    assert [o.numpy().tolist() for o in out.values] == [[1.0, 2.0], [2.0, 4.0]]
    np.testing.assert_allclose(two_cpus.reduce("SUM", out, axis=None).numpy(), [3, 6])


def test_scope_gives_the_strategy_and_stays_entered_without_a_reference(two_cpus):
    import gc

    central = tf.distribute.experimental.CentralStorageStrategy()
    for strategy in (two_cpus, tf.distribute.OneDeviceStrategy("/cpu:0"), central):
        with strategy.scope() as entered:
            assert entered is strategy
    from dlframe import backends
    devices_before = list(getattr(backends._local, "stack", None) or ())
    two_cpus.scope().__enter__()   # TF users do this in notebooks
    try:
        gc.collect()
        assert tf.distribute.get_strategy() is two_cpus
        assert isinstance(tf.Variable(1.0), tf.distribute.MirroredVariable)
    finally:  # what the dropped scope object's __exit__ would have undone
        from dlframe.distribute import strategy as strategy_mod
        strategy_mod._CTX.stack.pop()
        backends.pop_device()
    assert not tf.distribute.has_strategy()
    # (the fixture's own CPU:0 scope stays; nothing of the strategy's is left)
    assert list(getattr(backends._local, "stack", None) or ()) == devices_before
