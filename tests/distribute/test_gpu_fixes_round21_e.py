"""Round 21 (first run on a real GPU) regressions of tf.distribute: NCCL's world of
one, replica means computed beside the replicas while the current device is a GPU,
and the guide's distributed loops on a one-device strategy of each device."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import backends
from dlframe.distribute.communicators import InProcessCommunicator
from dlframe.distribute.communicators_multi_worker import MultiWorkerCommunicator


class _OneGpuGroup:
    """``NcclGroup`` stand-in of one GPU on raw arrays (a world of one: every
    collective gives the array itself back, as NCCL does)."""

    def all_reduce(self, arrays, mean=False):
        return tuple(a.copy() for a in arrays)

    def broadcast(self, arrays, root=0):
        return tuple(a.copy() for a in arrays)

    def all_gather(self, arrays):
        return tuple(a.copy() for a in arrays)


@pytest.mark.gpu
def test_nccl_communicator_of_one_gpu_returns_one_tensor_per_replica():
    # a one-output primitive returned the group's 1-tuple as its array
    from dlframe.distribute.communicators_nccl import NcclCommunicator
    comm = NcclCommunicator([backends.get_device("gpu:0")], group=_OneGpuGroup())
    with tf.device("/GPU:0"):
        x = tf.constant([1.0, 2.0, 3.0])
        for op in ("sum", "mean"):
            (out,) = comm.all_reduce([x], op)
            assert out.device.endswith("GPU:0")
            np.testing.assert_array_equal(out.numpy(), [1, 2, 3])
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(comm.all_reduce([x * x], "sum")[0])
        np.testing.assert_allclose(tape.gradient(y, x).numpy(), [2, 4, 6])
        step = tf.function(lambda t: comm.all_reduce([t * 2.0], "sum")[0])
        for _ in range(4):   # traced, then replayed (CUDA graph after warm-up)
            np.testing.assert_array_equal(step(x).numpy(), [2, 4, 6])


class _TwoWorkers:
    """``MpiCommunicator`` stand-in: rank 0 of 2, the other worker holds our value."""

    world_size = 2
    rank = 0

    def all_reduce(self, values, op):
        return [v * 2.0 for v in values]


def test_replica_means_stay_on_the_replica_devices(two_cpus, device):
    # the count a MEAN divides by was made on the current device (the GPU) while
    # the replicas' values sat on the logical CPUs: a DeviceMismatchError
    s = two_cpus
    with tf.device(device):
        with s.scope():
            var = tf.Variable([1.0, 2.0])
            counter = tf.Variable(0, aggregation=tf.VariableAggregation.MEAN)
        for cls in (tf.distribute.ReductionToOneDevice,
                    tf.distribute.HierarchicalCopyAllReduce,
                    tf.distribute.NcclAllReduce):
            mean = cls().reduce(tf.distribute.ReduceOp.MEAN, var, destinations=var)
            for part in s.experimental_local_results(mean):
                np.testing.assert_allclose(part.numpy(), [1.0, 2.0])
        with tf.device("CPU:0"):
            a = tf.constant([1.0, 2.0])
        with tf.device("CPU:1"):
            b = tf.constant([3.0, 6.0])
        devices = s.extended._replica_devices
        local = InProcessCommunicator(devices)
        np.testing.assert_allclose(local.reduce([a, b], "mean").numpy(), [2.0, 4.0])
        both = MultiWorkerCommunicator(local, _TwoWorkers())
        np.testing.assert_allclose(both.reduce([a, b], "mean").numpy(), [2.0, 4.0])

        def step():
            ctx = tf.distribute.get_replica_context()
            counter.assign(ctx.replica_id_in_sync_group * 2 + 3)   # 3 and 5
        s.run(step)
        assert counter.dtype == tf.int32
        assert [int(v) for v in s.experimental_local_results(counter)] == [4, 4]
        rows = s.experimental_distribute_values_from_function(
            lambda ctx: tf.constant([[1.0], [3.0]]) * (ctx.replica_id_in_sync_group + 1))
        np.testing.assert_allclose(s.reduce("MEAN", rows, axis=0).numpy(), [3.0])


def test_guide_loops_on_a_one_device_strategy(device):
    # the pinned two-CPU tests' programs on one replica of each device: the data,
    # the variables and the reduced values all live on it
    s = tf.distribute.MirroredStrategy([device])
    dist = s.experimental_distribute_dataset(tf.data.Dataset.range(9).batch(4))

    @tf.function
    def loop(iterator):
        total = tf.constant(0, tf.int64)
        for _ in tf.range(10):
            optional = iterator.get_next_as_optional()
            if not optional.has_value():
                break
            total += s.reduce("SUM", s.run(tf.reduce_sum, args=(optional.get_value(),)),
                              axis=None)
        return total
    assert int(loop(iter(dist))) == 36
    assert int(loop(iter(dist))) == 36

    @tf.function
    def pick(flag, v):
        if flag > 0:
            out = s.run(lambda t: t * 2.0, args=(v,))
        else:
            out = s.run(lambda t: t - 1.0, args=(v,))
        return s.reduce("SUM", out, axis=None)
    values = s.experimental_distribute_values_from_function(
        lambda ctx: tf.constant([3.0]))
    np.testing.assert_allclose(pick(tf.constant(1), values).numpy(), [6.0])
    np.testing.assert_allclose(pick(tf.constant(0), values).numpy(), [2.0])


def test_custom_loop_on_a_one_device_strategy_matches_plain_steps(device):
    rng = np.random.RandomState(0)
    x = rng.rand(32, 4).astype("float32")
    y = rng.rand(32, 1).astype("float32")

    def train(strategy):
        with strategy.scope():
            w = tf.Variable(tf.ones([4, 1]))
            opt = tf.keras.optimizers.SGD(0.1)

        def step(inputs):
            xb, yb = inputs
            with tf.GradientTape() as tape:
                loss = tf.nn.compute_average_loss(
                    tf.square(tf.matmul(xb, w) - yb)[:, 0], global_batch_size=8)
            opt.apply_gradients([(tape.gradient(loss, w), w)])
            return loss

        @tf.function
        def run(batch):
            return strategy.reduce("SUM", strategy.run(step, args=(batch,)), axis=None)
        dist = strategy.experimental_distribute_dataset(
            tf.data.Dataset.from_tensor_slices((x, y)).batch(8))
        losses = [float(run(batch)) for batch in dist]
        return w, losses

    w, losses = train(tf.distribute.MirroredStrategy([device]))
    assert w.device.lower().endswith(device)
    ref, ref_losses = train(tf.distribute.OneDeviceStrategy(device))
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-5)
    np.testing.assert_allclose(w.numpy(), ref.numpy(), rtol=1e-5)
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("make", [tf.distribute.OneDeviceStrategy,
                                  lambda d: tf.distribute.MirroredStrategy([d])])
def test_one_replica_run_takes_tensors_made_on_another_device(two_cpus, device, make):
    # as with several replicas, run copies (recorded) a tensor argument to the
    # replica's device: a batch made on the GPU feeds a CPU replica, as in TF
    s = make("CPU:1")
    with s.scope():
        table = tf.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with tf.device(device):
        ids = tf.constant([2, 0])
        scale = tf.constant([[2.0], [3.0]])

    def step(ids, scale):
        return tf.nn.embedding_lookup(table, ids) * scale
    with tf.GradientTape() as tape:
        tape.watch(scale)
        out = s.run(step, args=(ids,), kwargs={"scale": scale})
        total = tf.reduce_sum(out)
    assert out.device.endswith("CPU:1")
    np.testing.assert_allclose(out.numpy(), [[10.0, 12.0], [3.0, 6.0]])
    grad = tape.gradient(total, scale)   # back through the copy, on scale's device
    assert grad.device.lower().endswith(device)
    np.testing.assert_allclose(grad.numpy(), [[11.0], [3.0]])


def test_reduce_lands_on_the_current_device(two_cpus, device):
    # TF reduces onto the current device: a GPU program's accumulator adds a
    # CPU-split strategy's results
    s = two_cpus
    values = s.experimental_distribute_values_from_function(
        lambda ctx: tf.constant([[1.0], [2.0]]) * (ctx.replica_id_in_sync_group + 1))
    dist = s.experimental_distribute_dataset(tf.data.Dataset.range(10).batch(4))
    with tf.device(device):
        for out, want in ((s.reduce("SUM", values, axis=None), [[3.0], [6.0]]),
                          (s.reduce("MEAN", values, axis=0), [2.25])):
            assert out.device.lower().endswith(device)
            np.testing.assert_allclose(out.numpy(), want)

        @tf.function
        def total(dataset):
            acc = tf.constant(0, tf.int64)
            for batch in dataset:
                acc += s.reduce("SUM", s.run(tf.reduce_sum, args=(batch,)), axis=None)
            return acc
        assert int(total(dist)) == 45
        assert int(total(dist)) == 45
        with s.scope():   # inside the scope the current device is the first replica's
            assert s.reduce("SUM", values, axis=None).device.endswith("CPU:0")
