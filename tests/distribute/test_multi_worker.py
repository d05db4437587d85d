"""MultiWorkerMirroredStrategy: two real worker processes joined by a pipe-backed MPI
stand-in train like one process on the global batches; without MPI the strategy is
a single worker (TF's behaviour without TF_CONFIG); clear errors otherwise."""

import importlib.util
import json

import mpi_pipe_world
import numpy as np
import pytest

import dlframe as tf
from dlframe.distribute import cluster_resolver, multi_worker
from dlframe.distribute.communicators import InProcessCommunicator
from dlframe.distribute.communicators_mpi import MpiCommunicator
from dlframe.distribute.communicators_multi_worker import MultiWorkerCommunicator

GLOBAL_BATCH, EPOCHS, FIT_ROWS = 8, 2, 31   # 31 rows: last batch 7 = 4 + 3 rows


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    x[:, 0] = np.arange(32)  # row ids: which worker trained on which row
    x[:, 0] /= 32.0
    return x, rng.normal(size=(32, 1)).astype("float32")


@pytest.fixture(scope="module")
def workers(data):
    """The results of ``training_program`` on two spawned worker processes."""
    mp = pytest.MonkeyPatch()
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        mp.setenv(name, "1")
    try:
        x, y = data
        yield mpi_pipe_world.run_workers("training_program", size=2, x=x, y=y,
                                         global_batch=GLOBAL_BATCH, epochs=EPOCHS,
                                         fit_rows=FIT_ROWS)
    finally:
        mp.undo()


def _assert_weights_close(got, want, atol=1e-5):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, atol=atol, rtol=0)


def test_workers_know_their_place(workers):
    for rank, out in enumerate(workers):
        assert out["replicas"] == 2
        assert out["task"] == ("worker", rank)
        assert out["should_checkpoint"] == (rank == 0)
        assert out["devices"] == (f"/job:worker/replica:0/task:{rank}/device:CPU:0",)
        assert out["replica_id"] == rank
        assert out["input_context"] == (2, rank, 2)
        assert out["mpi_calls"] > 0


def test_variables_start_from_rank_0(workers):
    # each rank seeded differently: the broadcast at creation made them identical
    for key in ("fit_initial", "loop_initial"):
        _assert_weights_close(workers[1][key], workers[0][key], atol=0)


def test_fit_on_two_workers_equals_one_process_on_global_batches(workers, data):
    x, y = data
    _assert_weights_close(workers[1]["fit_final"], workers[0]["fit_final"], atol=0)
    model = mpi_pipe_world.make_model(tf, 0)
    model.set_weights(workers[0]["fit_initial"])
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x[:FIT_ROWS], y[:FIT_ROWS], batch_size=GLOBAL_BATCH,
                        epochs=EPOCHS, shuffle=False, verbose=0)
    _assert_weights_close(workers[0]["fit_final"], model.get_weights())
    assert not np.allclose(workers[0]["fit_final"][0], workers[0]["fit_initial"][0])
    # logs: the workers' mean (16 vs 15 rows: close to, not exactly, the global mean)
    assert workers[0]["fit_loss"] == workers[1]["fit_loss"]
    np.testing.assert_allclose(workers[0]["fit_loss"], history.history["loss"],
                               rtol=0.05)
    # evaluate / predict over both workers' rows
    want_eval = model.evaluate(x, y, batch_size=GLOBAL_BATCH, verbose=0)
    want_pred = model.predict(x, batch_size=GLOBAL_BATCH, verbose=0)
    for out in workers:
        np.testing.assert_allclose(out["evaluate"], want_eval, rtol=1e-5)
        np.testing.assert_allclose(out["predict"], want_pred, atol=1e-5)


def test_custom_loop_on_two_workers_equals_one_process(workers, data):
    x, y = data
    net = mpi_pipe_world.make_model(tf, 0)
    net.set_weights(workers[0]["loop_initial"])
    optimizer = tf.keras.optimizers.SGD(0.1, momentum=0.9)
    losses = []
    for _ in range(EPOCHS):
        for xb, yb in tf.data.Dataset.from_tensor_slices((x, y)).batch(GLOBAL_BATCH):
            with tf.GradientTape() as tape:
                loss = tf.nn.compute_average_loss(
                    tf.reduce_mean(tf.square(net(xb) - yb), -1))
            grads = tape.gradient(loss, net.trainable_variables)
            optimizer.apply_gradients(zip(grads, net.trainable_variables))
            losses.append(float(loss))
    for out in workers:
        np.testing.assert_allclose(out["loop_losses"], losses, rtol=1e-5)
        _assert_weights_close(out["loop_final"], net.get_weights())


def test_data_is_sharded_without_overlap(workers, data):
    x, _ = data
    per_epoch = len(x) // 2
    for epoch in range(EPOCHS):
        ids = [set(np.round(w["loop_rows"][epoch * per_epoch:(epoch + 1) * per_epoch, 0]
                            * 32).astype(int)) for w in workers]
        assert not ids[0] & ids[1]
        assert ids[0] | ids[1] == set(range(32))
    # each worker took the first / second half of every global batch
    assert workers[0]["loop_rows"][:4, 0].tolist() == (np.arange(4) / 32).tolist()
    assert workers[1]["loop_rows"][:4, 0].tolist() == (np.arange(4, 8) / 32).tolist()
    # distribute_datasets_from_function: each worker built its own shard
    assert workers[0]["from_function"] == [[0, 2], [4, 6]]
    assert workers[1]["from_function"] == [[1, 3], [5, 7]]
    # AutoShardPolicy.OFF: every worker reads every element whole
    assert workers[0]["shard_off"] == workers[1]["shard_off"] == [[0, 1], [2, 3]]


def test_collectives_across_workers(workers):
    for out in workers:
        assert out["all_reduce"] == 3.0                      # 1 + 2
        assert out["sum"] == 3.0
        np.testing.assert_array_equal(out["gather"], [0, 1, 10, 11, 12])
        np.testing.assert_allclose(out["mean_axis"], (0 + 1 + 10 + 11 + 12) / 5)
        # MEAN of (1, 2); SUM of deltas 1 + 2; ONLY_FIRST_REPLICA: rank 0's 5
        assert out["assigned"] == (1.5, 3.0, 5.0)


# ---------------------------------------------------------------- one process
class _OtherWorker:
    """``mpi4py.MPI`` stand-in: rank 0 of 2, the other rank holds ``factor`` x ours."""

    SUM = "MPI.SUM"

    def __init__(self, factor=10.0):
        self.factor = factor
        self.COMM_WORLD = self

    def Get_rank(self):
        return 0

    def Get_size(self):
        return 2

    def Allreduce(self, send, recv, op):
        recv[...] = send * (1 + self.factor)

    def Bcast(self, buf, root):
        if root != 0:
            buf[...] = buf * self.factor

    def allgather(self, value):
        return [value, value * self.factor]


def test_multi_worker_communicator_two_levels(two_cpus):
    devices = two_cpus.extended._replica_devices
    comm = MultiWorkerCommunicator(InProcessCommunicator(devices),
                                   MpiCommunicator(devices[0], mpi=_OtherWorker()))
    assert comm.world_size == 4 and comm.num_workers == 2 and comm.worker_index == 0
    with tf.device("CPU:0"):
        a = tf.constant([1.0, 2.0])
    with tf.device("CPU:1"):
        b = tf.constant([3.0, 4.0])
    summed = comm.all_reduce([a, b], "sum")      # (a + b) on both workers
    assert [t.device[-5:] for t in summed] == ["CPU:0", "CPU:1"]
    for t in summed:
        np.testing.assert_allclose(t.numpy(), [44.0, 66.0])
    np.testing.assert_allclose(comm.all_reduce([a, b], "mean")[1].numpy(), [11.0, 16.5])
    np.testing.assert_allclose(comm.reduce([a, b], "sum").numpy(), [44.0, 66.0])
    np.testing.assert_allclose(comm.broadcast([a, b], root=1)[1].numpy(), [3.0, 4.0])
    np.testing.assert_allclose(comm.broadcast([a, b], root=3)[0].numpy(), [30.0, 40.0])
    np.testing.assert_allclose(comm.all_gather([a, b], axis=0)[1].numpy(),
                               [1, 2, 3, 4, 10, 20, 30, 40])
    with tf.GradientTape() as tape:     # differentiable through both levels
        tape.watch(a)
        y = tf.reduce_sum(comm.all_reduce([a * 2.0, b], "sum")[0])
    np.testing.assert_allclose(tape.gradient(y, a).numpy(), [22.0, 22.0])


def test_single_worker_fallback_runs_the_tutorial_unchanged(monkeypatch, cpu_default):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    assert strategy.num_replicas_in_sync == 1
    resolver = strategy.cluster_resolver
    assert isinstance(resolver, tf.distribute.cluster_resolver.TFConfigClusterResolver)
    assert (resolver.task_type, resolver.task_id) == (None, None)
    assert strategy.extended.should_checkpoint and strategy.extended.should_save_summary
    assert not strategy.extended._in_multi_worker_mode()

    def _is_chief(task_type, task_id):   # TF's multi-worker tutorial helper
        return task_type == "chief" or (task_type == "worker" and task_id == 0) or \
            task_type is None
    assert _is_chief(resolver.task_type, resolver.task_id)

    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], "float32")).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    with strategy.scope():
        model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)])
        model.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss="mse")
    plain = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)])
    plain.set_weights(model.get_weights())
    plain.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss="mse")
    history = model.fit(dataset, epochs=5, verbose=0)
    plain.fit(dataset, epochs=5, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    _assert_weights_close(model.get_weights(), plain.get_weights(), atol=1e-6)
    # custom loop pieces
    dist = strategy.experimental_distribute_dataset(dataset)
    xb, _ = next(iter(dist))
    assert xb.shape == (16, 3)
    total = strategy.reduce("SUM", strategy.run(lambda: tf.constant(2.0)), axis=None)
    assert float(total) == 2.0
    contexts = []
    strategy.distribute_datasets_from_function(
        lambda ctx: contexts.append(ctx) or tf.data.Dataset.range(2))
    assert (contexts[0].num_input_pipelines, contexts[0].input_pipeline_id) == (1, 0)


def test_single_worker_tf_config(monkeypatch, cpu_default):
    monkeypatch.setenv("TF_CONFIG", json.dumps(
        {"cluster": {"worker": ["localhost:12345"]}, "task": {"type": "worker",
                                                              "index": 0}}))
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    assert strategy.num_replicas_in_sync == 1
    assert (strategy.cluster_resolver.task_type, strategy.cluster_resolver.task_id) == \
        ("worker", 0)


def test_several_workers_without_mpi_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps(
        {"cluster": {"worker": ["host1:2222", "host2:2222"]},
         "task": {"type": "worker", "index": 0}}))
    for name in cluster_resolver._MPI_LAUNCHER_VARS:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match=r"runs under MPI.*mpirun -n 2.*Missing: "):
        tf.distribute.MultiWorkerMirroredStrategy()
    resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
        tf.train.ClusterSpec({"chief": ["a:1"], "worker": ["b:1", "c:1"]}),
        task_type="chief", task_id=0)
    with pytest.raises(RuntimeError, match="mpirun -n 3"):
        tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)


@pytest.mark.skipif(importlib.util.find_spec("mpi4py") is not None,
                    reason="mpi4py is installed")
def test_launched_by_mpirun_without_mpi4py_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    with pytest.raises(RuntimeError, match=r"mpi4py cannot be imported.*dlframe\[mpi\]"):
        tf.distribute.MultiWorkerMirroredStrategy()


def test_mpi_world_size_must_match_the_cluster(monkeypatch, cpu_default):
    monkeypatch.setattr(cluster_resolver, "_INJECTED_MPI", _OtherWorker())
    monkeypatch.setenv("TF_CONFIG", json.dumps(
        {"cluster": {"worker": ["a:1", "b:1", "c:1"]}, "task": {"type": "worker",
                                                                 "index": 0}}))
    with pytest.raises(ValueError, match=r"names 3 workers but MPI started 2"):
        tf.distribute.MultiWorkerMirroredStrategy()
    monkeypatch.setenv("TF_CONFIG", json.dumps(
        {"cluster": {"chief": ["a:1"], "worker": ["b:1"]}, "task": {"type": "worker",
                                                                     "index": 0}}))
    strategy = tf.distribute.MultiWorkerMirroredStrategy()   # rank 0 is the chief
    assert strategy.num_replicas_in_sync == 2
    assert (strategy.cluster_resolver.task_type, strategy.cluster_resolver.task_id) == \
        ("chief", 0)
    assert strategy.extended._in_multi_worker_mode()


def test_communication_options_and_names():
    E = tf.distribute.experimental
    assert E.CollectiveCommunication is E.CommunicationImplementation
    assert [i.name for i in E.CommunicationImplementation] == ["AUTO", "RING", "NCCL"]
    options = E.CommunicationOptions(bytes_per_pack=1024, implementation="ring")
    assert options.implementation is E.CommunicationImplementation.RING
    assert repr(options) == ("Options(bytes_per_pack=1024,timeout_seconds=None, "
                             "implementation=CommunicationImplementation.RING)")
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    assert strategy.extended._bucket_bytes == 1024
    with pytest.raises(ValueError, match=r"bytes_per_pack.*-1"):
        E.CommunicationOptions(bytes_per_pack=-1)
    with pytest.raises(ValueError, match="CommunicationImplementation"):
        E.CommunicationOptions(implementation=3)
    with pytest.raises(ValueError, match="communication_options"):
        tf.distribute.MultiWorkerMirroredStrategy(communication_options="RING")
    experimental = E.MultiWorkerMirroredStrategy(E.CollectiveCommunication.RING)
    assert isinstance(experimental, tf.distribute.MultiWorkerMirroredStrategy)
    assert isinstance(multi_worker.MultiWorkerMirroredStrategy(), tf.distribute.Strategy)
    for cls in (tf.distribute.TPUStrategy, E.TPUStrategy):
        with pytest.raises(NotImplementedError, match="no TPU support"):
            cls()
