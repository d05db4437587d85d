"""ParameterServerStrategy over an in-process cluster and ClusterCoordinator:
scheduling, RemoteValues, per-worker datasets, errors, sharded variables and
training that reaches single-device weights."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.distribute.parameter_server import in_process_cluster

Partitioners = tf.distribute.experimental.partitioners


def _strategy(workers=2, ps=2, partitioner=None):
    return tf.distribute.ParameterServerStrategy(in_process_cluster(workers, ps),
                                                 variable_partitioner=partitioner)


def test_cluster_checks():
    spec = tf.train.ClusterSpec
    resolver = tf.distribute.cluster_resolver.SimpleClusterResolver
    with pytest.raises(ValueError, match="at least one ps"):
        tf.distribute.ParameterServerStrategy(resolver(spec({"worker": ["localhost:1"]})))
    with pytest.raises(ValueError, match="at least one worker"):
        tf.distribute.ParameterServerStrategy(resolver(spec({"ps": ["localhost:1"]})))
    with pytest.raises(ValueError, match="non-empty"):
        tf.distribute.ParameterServerStrategy(resolver(spec({})))
    with pytest.raises(ValueError, match="ClusterResolver"):
        tf.distribute.ParameterServerStrategy({"worker": ["localhost:1"]})
    remote = resolver(spec({"worker": ["localhost:1", "10.1.2.3:2222"],
                            "ps": ["ps0.example.com:2222"]}))
    with pytest.raises(ValueError) as info:
        tf.distribute.ParameterServerStrategy(remote)
    message = str(info.value)
    assert "/job:worker/task:1 (10.1.2.3:2222)" in message
    assert "/job:ps/task:0 (ps0.example.com:2222)" in message
    assert "localhost:1" not in message.split("remote tasks")[1].split("]")[0]
    with pytest.raises(ValueError, match="variable_partitioner"):
        _strategy(partitioner=3)
    with pytest.raises(ValueError, match="ParameterServerStrategy"):
        tf.distribute.experimental.coordinator.ClusterCoordinator(
            tf.distribute.OneDeviceStrategy("CPU:0"))


def test_strategy_basics():
    strategy = _strategy(workers=3, ps=2)
    assert tf.distribute.experimental.ParameterServerStrategy is \
        tf.distribute.ParameterServerStrategy
    assert strategy.num_replicas_in_sync == 1
    assert strategy.extended._num_workers == 3 and strategy.extended._num_ps == 2
    assert strategy.extended.parameter_devices[1] == \
        "/job:ps/replica:0/task:1/device:CPU:0"
    with strategy.scope():
        assert tf.distribute.get_strategy() is strategy
        v = tf.Variable(1.0)
    assert type(v) is tf.Variable             # no partitioner: one plain variable
    assert strategy.run(lambda: v + 1).numpy() == 2.0
    coordinator = tf.distribute.coordinator.ClusterCoordinator(strategy)
    assert tf.distribute.experimental.coordinator.ClusterCoordinator(strategy) is \
        coordinator                              # one coordinator per strategy
    assert coordinator.strategy is strategy


def test_schedule_fetch_get_join_done():
    strategy = _strategy()
    with strategy.scope():
        total = tf.Variable(3.0)
    coordinator = tf.distribute.coordinator.ClusterCoordinator(strategy)

    @tf.function
    def step(x):
        total.assign_add(x)
        return {"double": total.read_value() * 2, "x": x}

    remotes = [coordinator.schedule(step, args=(tf.constant(float(i)),))
               for i in range(1, 5)]
    coordinator.join()
    assert coordinator.done()
    # the workers take turns in schedule order: 3+1, +2, +3, +4
    assert [r.fetch()["double"] for r in remotes] == [8.0, 12.0, 18.0, 26.0]
    got = remotes[0].get()
    assert isinstance(got["double"], tf.Tensor) and float(got["x"]) == 1.0
    assert isinstance(remotes[0].fetch()["double"], np.floating)
    assert float(total.numpy()) == 13.0
    assert coordinator.fetch([remotes[1], 5]) == [{"double": 12.0, "x": 2.0}, 5]
    # a RemoteValue as an argument is its result
    chained = coordinator.schedule(lambda d: d["x"] + 10, args=(remotes[3],))
    assert chained.fetch() == 14.0


def test_worker_indices_and_per_worker_datasets():
    strategy = _strategy(workers=2)
    coordinator = tf.distribute.coordinator.ClusterCoordinator(strategy)
    indices = [coordinator.schedule(
        tf.distribute.coordinator.experimental_get_current_worker_index)
        for _ in range(4)]
    assert [r.fetch() for r in indices] == [0, 1, 0, 1]
    with pytest.raises(RuntimeError, match="scheduled"):
        tf.distribute.coordinator.experimental_get_current_worker_index()

    def dataset_fn():
        return tf.data.Dataset.range(5).repeat()

    per_worker = iter(coordinator.create_per_worker_dataset(dataset_fn))

    @tf.function
    def take(iterator):
        return next(iterator)

    remotes = [coordinator.schedule(take, args=(per_worker,)) for _ in range(6)]
    coordinator.join()
    # each worker reads its own copy of the dataset (TF's result on 2 workers)
    assert [int(r.fetch()) for r in remotes] == [0, 0, 1, 1, 2, 2]
    with pytest.raises(RuntimeError, match="scheduled"):
        next(per_worker)
    values = coordinator._create_per_worker_resources(
        tf.distribute.coordinator.experimental_get_current_worker_index)
    assert coordinator.fetch(values) == (0, 1)
    seen = coordinator.schedule(lambda v: v * 10, args=(values,))
    assert seen.fetch() in (0, 10)


def test_errors_are_raised_once_and_cancel_pending():
    coordinator = tf.distribute.coordinator.ClusterCoordinator(_strategy())

    def check(x):
        tf.debugging.assert_equal(x, 2)
        return x

    bad = coordinator.schedule(check, args=(tf.constant(1),))
    later = coordinator.schedule(check, args=(tf.constant(2),))
    with pytest.raises(tf.errors.InvalidArgumentError):
        bad.fetch()
    with pytest.raises(tf.errors.CancelledError, match="reschedule"):
        later.fetch()
    with pytest.raises(tf.errors.InvalidArgumentError):
        coordinator.join()
    assert coordinator.done()            # cleared once raised
    fine = coordinator.schedule(check, args=(tf.constant(2),))
    assert int(fine.fetch()) == 2
    bad = coordinator.schedule(check, args=(tf.constant(5),))
    bad._done.wait()
    with pytest.raises(tf.errors.InvalidArgumentError):
        coordinator.schedule(check, args=(tf.constant(2),))
    assert coordinator.done()
    exhausted = iter(coordinator.create_per_worker_dataset(tf.data.Dataset.range(1)))
    coordinator.schedule(next, args=(exhausted,))
    coordinator.schedule(next, args=(exhausted,))
    coordinator.schedule(next, args=(exhausted,))   # worker 0's copy is used up
    with pytest.raises(tf.errors.OutOfRangeError):
        coordinator.join()
    with pytest.raises(TypeError, match="callable"):
        coordinator.schedule(3)


def test_sharded_variables():
    strategy = _strategy(ps=2, partitioner=Partitioners.FixedShardsPartitioner(2))
    with strategy.scope():
        w = tf.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], name="w")
        scalar = tf.Variable(3.0)
        five = tf.Variable(tf.zeros([5]))
    assert isinstance(w, tf.distribute.sharded_variable.ShardedVariable)
    assert type(scalar) is tf.Variable
    assert [v.name for v in w.variables] == ["w/part_0:0", "w/part_1:0"]
    assert [tuple(v.shape) for v in w.variables] == [(2, 2), (1, 2)]   # as TF
    assert [tuple(v.shape) for v in five.variables] == [(3,), (2,)]
    assert [v.device for v in w.variables] == [
        "/job:ps/replica:0/task:0/device:CPU:0", "/job:ps/replica:0/task:1/device:CPU:0"]
    assert tuple(w.shape) == (3, 2) and list(w) == w.variables
    w.assign(w * 2)                                      # the whole -> the shards
    np.testing.assert_array_equal(w.variables[1].numpy(), [[10.0, 12.0]])
    w.variables[0].assign([[0.0, 0.0], [1.0, 1.0]])      # a shard -> the whole
    np.testing.assert_array_equal(w.numpy(), [[0, 0], [1, 1], [10, 12]])
    np.testing.assert_array_equal(tf.nn.embedding_lookup(w, [2, 0]).numpy(),
                                  [[10, 12], [0, 0]])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.matmul(w, tf.ones([2, 1])) ** 2)
    np.testing.assert_allclose(tape.gradient(loss, w).numpy(),
                               [[0, 0], [4, 4], [44, 44]])
    w.assign(tf.ones([3, 2]))    # a checkpoint-style buffer replacement keeps shards
    w._value = w._device.xp.full((3, 2), 7.0, dtype="float32")
    np.testing.assert_array_equal(w.variables[1].numpy(), [[7.0, 7.0]])


def test_bad_partitioner_output():
    strategy = _strategy(partitioner=lambda shape, dtype: [2, 2])
    with strategy.scope(), pytest.raises(ValueError, match="first axis"):
        tf.Variable(tf.zeros([4, 4]))


def _linear_data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(48, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype("float32")
    return x, y


def test_coordinator_training_matches_single_device():
    """SGD steps scheduled on 2 workers (each on its own copy of the data) reach the
    weights of the same steps run in order on one device."""
    x, y = _linear_data()
    batches = [(x[i:i + 8], y[i:i + 8]) for i in range(0, 48, 8)]

    def make(strategy):
        with strategy.scope():
            w = tf.Variable(tf.zeros([3, 1]))
            b = tf.Variable(tf.zeros([1]))
        return w, b, keras.optimizers.SGD(0.1)

    def step_fn(w, b, opt):
        @tf.function
        def step(iterator):
            bx, by = next(iterator)
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean((tf.matmul(bx, w) + b - by) ** 2)
            opt.apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b]))
            return loss
        return step

    strategy = _strategy(workers=2, partitioner=Partitioners.FixedShardsPartitioner(2))
    w, b, opt = make(strategy)
    coordinator = tf.distribute.coordinator.ClusterCoordinator(strategy)
    data = coordinator.create_per_worker_dataset(
        lambda: tf.data.Dataset.from_tensor_slices((x, y)).batch(8).repeat())
    step = step_fn(w, b, opt)
    iterator = iter(data)
    losses = [coordinator.schedule(step, args=(iterator,)) for _ in range(12)]
    coordinator.join()

    # the single-device reference runs on the CPU: its batches must be there too
    with tf.device("CPU:0"):
        rw, rb, ropt = make(tf.distribute.OneDeviceStrategy("CPU:0"))
        ref_step = step_fn(rw, rb, ropt)
        order = [batches[k // 2 % 6] for k in range(12)]   # worker 0, 1, 0, 1...
        ref_iterator = iter(tf.data.Dataset.from_tensor_slices(
            (np.concatenate([bx for bx, _ in order]),
             np.concatenate([by for _, by in order]))).batch(8))
        ref_losses = [float(ref_step(ref_iterator)) for _ in order]
    np.testing.assert_allclose([r.fetch() for r in losses], ref_losses, rtol=1e-5)
    np.testing.assert_allclose(w.numpy(), rw.numpy(), atol=1e-6)
    np.testing.assert_allclose(b.numpy(), rb.numpy(), atol=1e-6)
    assert ref_losses[-1] < 0.5 * ref_losses[0]


def _fit(strategy, data, **kwargs):
    with strategy.scope():
        keras.utils.set_random_seed(4)
        model = keras.Sequential([keras.Input((3,)),
                                  keras.layers.Dense(6, activation="tanh"),
                                  keras.layers.Dense(1)])
        model.compile(keras.optimizers.SGD(0.05), "mse")
    history = model.fit(data, epochs=3, verbose=0, **kwargs)
    return model, history.history["loss"]


def test_keras_fit_with_dataset_creator_and_dataset():
    x, y = _linear_data()

    def dataset_fn(input_context):
        batch = input_context.get_per_replica_batch_size(12)
        return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch).repeat()

    ref_model, ref_loss = _fit(tf.distribute.OneDeviceStrategy("CPU:0"),
                               tf.data.Dataset.from_tensor_slices((x, y)).batch(12))
    strategy = _strategy(partitioner=Partitioners.MinSizePartitioner(
        min_shard_bytes=16, max_shards=2))
    creator = keras.utils.experimental.DatasetCreator(dataset_fn)
    model, loss = _fit(strategy, creator, steps_per_epoch=4)
    assert type(model.weights[0]).__name__ == "ShardedVariable"
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-5)
    for w, r in zip(model.weights, ref_model.weights):
        np.testing.assert_allclose(w.numpy(), r.numpy(), atol=1e-6)
    assert loss[-1] < loss[0]
    _, loss2 = _fit(_strategy(), tf.data.Dataset.from_tensor_slices((x, y))
                         .batch(12).repeat(), steps_per_epoch=4)
    np.testing.assert_allclose(loss2, ref_loss, rtol=1e-5)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        _fit(strategy, creator)


def test_dataset_creator_checks():
    with pytest.raises(TypeError, match="callable"):
        keras.utils.experimental.DatasetCreator([1, 2])
    with pytest.raises(TypeError, match="InputOptions"):
        keras.utils.experimental.DatasetCreator(lambda ctx: None, input_options=3)
    creator = keras.utils.experimental.DatasetCreator(lambda ctx: [1, 2])
    with pytest.raises(TypeError, match="must return a Dataset"):
        creator(tf.distribute.InputContext())
