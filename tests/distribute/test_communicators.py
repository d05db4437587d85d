"""Communicators: in-process engine, bucketed gradient reduction, MPI engine logic
(fake communicator; real mpi4py when installed)."""

import importlib.util

import numpy as np
import pytest

import dlframe as tf
from dlframe import backends
from dlframe.distribute import communicators as comms
from dlframe.distribute.communicators_mpi import MpiCommunicator


def _tensor(value, device):
    with tf.device(device):
        return tf.constant(value)


def test_in_process_collectives(two_cpus):
    devs = two_cpus.extended._replica_devices
    comm = comms.InProcessCommunicator(devs)
    a, b = _tensor([1.0, 2.0], "CPU:0"), _tensor([10.0, 20.0], "CPU:1")
    summed = comm.all_reduce([a, b], "sum")
    assert [t.device[-5:] for t in summed] == ["CPU:0", "CPU:1"]
    for t in summed:
        np.testing.assert_array_equal(t.numpy(), [11.0, 22.0])
    np.testing.assert_array_equal(comm.all_reduce([a, b], "MEAN")[1].numpy(), [5.5, 11])
    np.testing.assert_array_equal(comm.reduce([a, b], "sum").numpy(), [11.0, 22.0])
    assert [t.numpy().tolist() for t in comm.broadcast([a, b], root=1)] == \
        [[10.0, 20.0], [10.0, 20.0]]
    gathered = comm.all_gather([a, b], axis=0)
    assert gathered[1].numpy().tolist() == [1.0, 2.0, 10.0, 20.0]
    assert gathered[1].device.endswith("CPU:1")
    with pytest.raises(ValueError, match="one value per local replica"):
        comm.all_reduce([a], "sum")
    with pytest.raises(ValueError, match="reduce_op"):
        comm.all_reduce([a, b], "max")


def test_all_reduce_is_differentiable(two_cpus):
    devs = two_cpus.extended._replica_devices
    comm = comms.InProcessCommunicator(devs)
    a, b = _tensor([1.0, 2.0], "CPU:0"), _tensor([3.0, 4.0], "CPU:1")
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([a, b])
        out = comm.all_reduce([a * a, b * b], "mean")
        loss = tf.reduce_sum(out[0])
    ga, gb = tape.gradient(loss, [a, b])
    np.testing.assert_allclose(ga.numpy(), [1.0, 2.0])      # d(mean(a², b²))/da = a
    np.testing.assert_allclose(gb.numpy(), [3.0, 4.0])
    assert gb.device.endswith("CPU:1")


def _grads(rng, device):
    shapes = [(3, 4), (4,), (), (5, 2), (2,), (7,)]
    dtypes = ["float32", "float32", "float32", "float64", "float32", "float64"]
    out = []
    for shape, dtype in zip(shapes, dtypes):
        out.append(_tensor(rng.normal(size=shape).astype(dtype), device))
    return out


def test_plan_buckets_groups_by_dtype_and_cap():
    rng = np.random.default_rng(0)
    grads = _grads(rng, "CPU:0")
    grads.insert(2, None)
    buckets = comms.plan_buckets(grads, bucket_bytes=40)
    assert sorted(i for b in buckets for i in b) == [0, 1, 3, 4, 5, 6]
    for b in buckets:
        assert len({grads[i].dtype for i in b}) == 1
        size = sum(grads[i].numpy().nbytes for i in b)
        assert size <= 40 or len(b) == 1
    assert len(comms.plan_buckets(grads, 1 << 20)) == 2   # one per dtype


@pytest.mark.parametrize("cap", [1, 40, 1 << 20])
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_bucketed_equals_per_tensor_reduction(two_cpus, cap, op):
    devs = two_cpus.extended._replica_devices
    comm = comms.InProcessCommunicator(devs)
    rng = np.random.default_rng(1)
    per_replica = [_grads(rng, "CPU:0"), _grads(rng, "CPU:1")]
    per_replica[0][2] = per_replica[1][2] = None
    bucketed = comms.bucketed_all_reduce(comm, per_replica, op, bucket_bytes=cap)
    for i in range(len(per_replica[0])):
        if per_replica[0][i] is None:
            assert bucketed[0][i] is None and bucketed[1][i] is None
            continue
        want = comm.all_reduce([per_replica[0][i], per_replica[1][i]], op)
        for r in range(2):
            np.testing.assert_array_equal(bucketed[r][i].numpy(), want[r].numpy())
            assert bucketed[r][i].shape == per_replica[r][i].shape
            assert bucketed[r][i].dtype == per_replica[r][i].dtype
    root = comms.bucketed_all_reduce(comm, per_replica, op, cap, root_only=True)
    np.testing.assert_array_equal(root[0].numpy(), bucketed[0][0].numpy())


def test_bucketed_reduction_inside_function(two_cpus):
    devs = two_cpus.extended._replica_devices
    comm = comms.InProcessCommunicator(devs)
    rng = np.random.default_rng(2)
    per_replica = [_grads(rng, "CPU:0"), _grads(rng, "CPU:1")]
    eager = comms.bucketed_all_reduce(comm, per_replica, "sum", 64, root_only=True)
    compiled = tf.function(lambda p: comms.bucketed_all_reduce(comm, p, "sum", 64,
                                                               root_only=True))
    for a, b in zip(compiled(per_replica), eager):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# ---------------------------------------------------------------- MPI engine
class _FakeWorld:
    """In-memory stand-in for ``mpi4py.MPI``: ``size`` ranks run in lock step, each
    call made by every rank in turn (rank r's buffers are given by ``contrib``)."""

    SUM = "MPI.SUM"

    def __init__(self, size, rank, others):
        self.size, self.rank, self.others = size, rank, others
        self.calls = []
        self.COMM_WORLD = self

    def Get_size(self):
        return self.size

    def Get_rank(self):
        return self.rank

    def Allreduce(self, send, recv, op):
        assert op == self.SUM
        self.calls.append("Allreduce")
        recv[...] = send + sum(o(send) for o in self.others)

    def Bcast(self, buf, root):
        self.calls.append(("Bcast", root))
        if root != self.rank:
            buf[...] = self.others[0](buf)

    def allgather(self, value):
        self.calls.append("allgather")
        parts = [value] + [o(value) for o in self.others]
        return parts if self.rank == 0 else parts[::-1]


def test_mpi_engine_logic_with_fake_comm():
    # rank 0 of 2; the other rank holds 10x our value
    world = _FakeWorld(2, 0, [lambda a: a * 10])
    comm = MpiCommunicator(device="cpu:0", mpi=world)
    assert comm.world_size == 2 and comm.rank == 0 and comm.num_local_replicas == 1
    x = tf.constant([1.0, 2.0])
    np.testing.assert_array_equal(comm.all_reduce([x], "sum")[0].numpy(), [11, 22])
    np.testing.assert_array_equal(comm.all_reduce([x], "mean")[0].numpy(), [5.5, 11])
    ints = tf.constant([3, 5])
    np.testing.assert_array_equal(comm.all_reduce([ints], "mean")[0].numpy(), [16, 27])
    np.testing.assert_array_equal(comm.broadcast([x], root=1)[0].numpy(), [10, 20])
    np.testing.assert_array_equal(comm.all_gather([x], axis=0)[0].numpy(),
                                  [1, 2, 10, 20])
    # differentiable: d(sum over ranks)/dx is the all-reduce of the output gradients
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(comm.all_reduce([x * 3.0], "sum")[0])
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [33.0, 33.0])
    # compiled: the collective replays on every call (stateful, never folded)
    before = world.calls.count("Allreduce")
    step = tf.function(lambda t: comm.all_reduce([t], "sum")[0])
    for _ in range(3):
        np.testing.assert_array_equal(step(x).numpy(), [11, 22])
    assert world.calls.count("Allreduce") - before >= 3
    with pytest.raises(ValueError, match="one value per local replica"):
        comm.all_reduce([x, x])


def test_mpi_engine_import_error_is_clear(monkeypatch):
    import builtins
    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name == "mpi4py":
            raise ImportError("No module named 'mpi4py'")
        return real(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match=r"dlframe\[mpi\]"):
        MpiCommunicator()


@pytest.mark.mpi
@pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None,
                    reason="mpi4py is not installed (pip install 'dlframe[mpi]')")
def test_mpi_engine_world_of_one():
    comm = MpiCommunicator()
    x = tf.constant([1.0, 2.0])
    size = comm.world_size
    np.testing.assert_allclose(comm.all_reduce([x], "mean")[0].numpy(), [1.0, 2.0])
    assert comm.all_gather([x])[0].shape[0] == 2 * size


def test_nccl_probe_without_gpu_is_safe():
    from dlframe.backends import nccl
    assert isinstance(nccl.nccl_available(), bool)
    assert nccl.nccl_datatype(np.dtype("float32")) == 7
    with pytest.raises(TypeError, match="complex64"):
        nccl.nccl_datatype(np.dtype("complex64"))
    assert not backends.get_device("cpu:0").is_gpu
