"""tf.distribute.cluster_resolver: ClusterSpec, TF_CONFIG, simple and MPI resolvers,
and the TPU names that must fail the way TPU-detection boilerplate expects."""

import json

import pytest

import dlframe as tf
from dlframe.distribute import cluster_resolver as cr

TF_CONFIG = {"cluster": {"worker": ["host1:2222", "host2:2222"], "chief": ["host0:2222"],
                         "ps": ["p:1"]},
             "task": {"type": "worker", "index": 1}, "rpc_layer": "grpc"}


def test_cluster_spec():
    spec = tf.train.ClusterSpec(TF_CONFIG["cluster"])
    assert spec is not None and bool(spec) and not tf.train.ClusterSpec({})
    assert spec.jobs == ["worker", "chief", "ps"]
    assert spec.num_tasks("worker") == 2 and spec.task_indices("worker") == [0, 1]
    assert spec.task_address("worker", 1) == "host2:2222"
    assert spec.job_tasks("worker") == ["host1:2222", "host2:2222"]
    assert spec.as_dict() == TF_CONFIG["cluster"]
    # repr sorted by job (as TF 2.21 prints it)
    assert repr(spec) == ("ClusterSpec({'chief': ['host0:2222'], 'ps': ['p:1'], "
                          "'worker': ['host1:2222', 'host2:2222']})")
    sparse = tf.train.ClusterSpec({"worker": {1: "a:1", 3: "b:2"}})
    assert sparse.as_dict() == {"worker": {1: "a:1", 3: "b:2"}}
    assert sparse.task_indices("worker") == [1, 3] and sparse.num_tasks("worker") == 2
    assert sparse.job_tasks("worker") == [None, "a:1", None, "b:2"]
    assert sparse == tf.train.ClusterSpec({"worker": {1: "a:1", 3: "b:2"}})
    assert tf.train.ClusterSpec(sparse) == sparse and sparse != spec
    with pytest.raises(ValueError, match="No such job in cluster: 'foo'"):
        spec.num_tasks("foo")
    with pytest.raises(ValueError, match="No task with index 5 in job 'worker'"):
        spec.task_address("worker", 5)
    with pytest.raises(TypeError, match="must be a dictionary"):
        tf.train.ClusterSpec("x")
    with pytest.raises(TypeError, match="tasks for job 'w'"):
        tf.train.ClusterSpec({"w": 3})


def test_tf_config_resolver(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps(TF_CONFIG))
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    assert (resolver.task_type, resolver.task_id) == ("worker", 1)
    assert resolver.cluster_spec() == tf.train.ClusterSpec(TF_CONFIG["cluster"])
    assert resolver.rpc_layer == "grpc"
    assert resolver.master() == "grpc://host2:2222"
    assert resolver.master("worker", 0) == "grpc://host1:2222"
    assert resolver.master(rpc_layer="x") == "x://host2:2222"
    # TF counts this machine's GPUs: {} without one, {"GPU": n} with n
    gpus = len(tf.config.list_physical_devices("GPU"))
    assert resolver.num_accelerators() == ({"GPU": gpus} if gpus else {})
    override = tf.distribute.cluster_resolver.TFConfigClusterResolver(
        task_type="chief", task_id=0, rpc_layer="")
    assert (override.task_type, override.task_id) == ("chief", 0)
    assert override.master() == "host0:2222"
    monkeypatch.delenv("TF_CONFIG")
    empty = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    assert (empty.task_type, empty.task_id, empty.rpc_layer) == (None, None, None)
    assert empty.cluster_spec().as_dict() == {} and empty.master() == ""
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        empty.cluster_spec()


def test_simple_resolver():
    spec = tf.train.ClusterSpec({"worker": ["a:1", "b:1"]})
    resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
        spec, task_type="worker", task_id=0, num_accelerators={"GPU": 2},
        rpc_layer="grpc")
    assert resolver.cluster_spec() is not spec and resolver.cluster_spec() == spec
    assert (resolver.task_type, resolver.task_id) == ("worker", 0)
    assert resolver.num_accelerators() == {"GPU": 2}
    assert resolver.master() == "grpc://"
    assert resolver.master("worker", 1) == "grpc://b:1"
    assert isinstance(resolver, tf.distribute.cluster_resolver.ClusterResolver)


class _World:
    SUM = "SUM"

    def __init__(self, rank, size):
        self.rank, self.size = rank, size
        self.COMM_WORLD = self

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.size


def test_mpi_resolver(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    resolver = cr.MPIClusterResolver(mpi=_World(2, 3))
    assert (resolver.task_type, resolver.task_id) == ("worker", 2)
    assert resolver.cluster_spec().num_tasks("worker") == 3
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"chief": ["a:1"],
                                                            "worker": ["b:1", "c:1"]}}))
    chief = cr.MPIClusterResolver(mpi=_World(0, 3))
    worker = cr.MPIClusterResolver(mpi=_World(2, 3))
    assert (chief.task_type, chief.task_id) == ("chief", 0)
    assert (worker.task_type, worker.task_id) == ("worker", 1)
    assert worker.cluster_spec().as_dict() == chief.cluster_spec().as_dict()
    assert chief.cluster_spec().num_tasks("worker") == 2


def test_launcher_detection(monkeypatch):
    for name in cr._MPI_LAUNCHER_VARS:
        monkeypatch.delenv(name, raising=False)
    assert not cr.launched_by_mpi() and cr.mpi_world_resolver() is None
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "1")
    assert not cr.launched_by_mpi()
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    assert cr.launched_by_mpi()
    monkeypatch.setattr(cr, "_INJECTED_MPI", _World(0, 1))
    assert cr.mpi_world_resolver() is None           # a world of one: no workers
    monkeypatch.setattr(cr, "_INJECTED_MPI", _World(1, 2))
    assert cr.mpi_world_resolver().task_id == 1


def test_tpu_boilerplate_falls_through(monkeypatch):
    monkeypatch.delenv("TPU_NAME", raising=False)
    # the Kaggle/Colab detection cell
    try:
        tpu = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(tpu)
        tf.tpu.experimental.initialize_tpu_system(tpu)
        strategy = tf.distribute.TPUStrategy(tpu)
    except ValueError as exc:
        assert str(exc) == "Please provide a TPU Name to connect to."
        strategy = tf.distribute.get_strategy()
    assert strategy.num_replicas_in_sync == 1
    with pytest.raises(NotImplementedError, match="no TPU support"):
        tf.distribute.cluster_resolver.TPUClusterResolver(tpu="grpc://10.0.0.2:8470")
    for fn in (tf.config.experimental_connect_to_cluster,
               tf.config.experimental_connect_to_host,
               tf.tpu.experimental.initialize_tpu_system,
               tf.tpu.experimental.shutdown_tpu_system):
        with pytest.raises(NotImplementedError, match="TPU"):
            fn(None)
