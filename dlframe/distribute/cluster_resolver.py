"""``tf.distribute.cluster_resolver``: who the workers of a job are, and which one this
process is.

* ``ClusterSpec`` (also ``tf.train.ClusterSpec``): job names -> task addresses.
* ``TFConfigClusterResolver``: reads the ``TF_CONFIG`` environment variable (the
  cluster, this task's type and index, the RPC layer).
* ``SimpleClusterResolver``: a resolver over values given directly.
* ``MPIClusterResolver`` (dlframe's own): the ranks of an MPI communicator are the
  workers; ``MultiWorkerMirroredStrategy`` uses it when the program runs under
  ``mpirun`` (DESIGN.md section 7: multi-host training runs on MPI).
* ``TPUClusterResolver``: there are no TPUs here; it raises TF's ``ValueError`` when no
  TPU is named, so the usual ``try: ... except ValueError:`` fallback runs.
"""

import json
import os

from dlframe import backends

_MPI_LAUNCHER_VARS = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK",
                      "MV2_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "I_MPI_HYDRA_HOST_FILE")

# Tests inject a stand-in for ``mpi4py.MPI`` here (a real mpirun needs no injection).
_INJECTED_MPI = None


class ClusterSpec:
    """The jobs of a cluster and the network addresses of their tasks.

    Args:
      cluster: a dict mapping each job name to a list of addresses (task ``i`` is
        ``list[i]``) or to a dict ``{task index: address}``; or another ClusterSpec.

    Raises:
      TypeError: when ``cluster`` or one job's tasks have another type.
    """

    def __init__(self, cluster):
        if isinstance(cluster, ClusterSpec):
            cluster = cluster.as_dict()
        if not isinstance(cluster, dict):
            raise TypeError("`cluster` must be a dictionary mapping one or more job "
                            "names to lists of network addresses, or a `ClusterDef` "
                            f"protocol buffer; got {cluster!r}")
        self._jobs = {}
        for job, tasks in cluster.items():
            if isinstance(tasks, (list, tuple)):
                self._jobs[job] = {i: str(a) for i, a in enumerate(tasks)}
            elif isinstance(tasks, dict) and all(isinstance(i, int) for i in tasks):
                self._jobs[job] = {int(i): str(a) for i, a in sorted(tasks.items())}
            else:
                raise TypeError(f"The tasks for job {job!r} must be a list or a "
                                f"dictionary from integers to strings, got {tasks!r}.")

    def __bool__(self):
        return bool(self._jobs)

    def __eq__(self, other):
        return isinstance(other, ClusterSpec) and self._jobs == other._jobs

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def __repr__(self):
        return f"ClusterSpec({dict(sorted(self.as_dict().items()))!r})"

    def as_dict(self):
        """Job name -> list of addresses (or ``{index: address}`` when the indices
        have gaps)."""
        out = {}
        for job, tasks in self._jobs.items():
            dense = list(tasks) == list(range(len(tasks)))
            out[job] = list(tasks.values()) if dense else dict(tasks)
        return out

    @property
    def jobs(self):
        """The job names, in the order given."""
        return list(self._jobs)

    def _tasks(self, job_name):
        try:
            return self._jobs[job_name]
        except KeyError:
            raise ValueError(f"No such job in cluster: {job_name!r}") from None

    def num_tasks(self, job_name):
        """How many tasks ``job_name`` has."""
        return len(self._tasks(job_name))

    def task_indices(self, job_name):
        """The task indices of ``job_name``, ascending."""
        return list(self._tasks(job_name))

    def task_address(self, job_name, task_index):
        """The address of task ``task_index`` of ``job_name``."""
        tasks = self._tasks(job_name)
        try:
            return tasks[task_index]
        except KeyError:
            raise ValueError(f"No task with index {task_index!r} in job "
                             f"{job_name!r}") from None

    def job_tasks(self, job_name):
        """The addresses of ``job_name``'s tasks by index (None in gaps)."""
        tasks = self._tasks(job_name)
        if not tasks:
            return []
        return [tasks.get(i) for i in range(max(tasks) + 1)]


def _with_rpc(address, rpc_layer):
    return f"{rpc_layer}://{address}" if rpc_layer else address


class ClusterResolver:
    """Base of the resolvers: ``cluster_spec()``, ``master()``, ``task_type``,
    ``task_id``, ``num_accelerators()``, ``rpc_layer`` and ``environment``."""

    task_type = None
    task_id = None
    rpc_layer = None
    environment = ""

    def cluster_spec(self):
        """The ClusterSpec of the job."""
        raise NotImplementedError

    def master(self, task_type=None, task_id=None, rpc_layer=None):
        """The address of ``task_type``/``task_id`` (default: this task), with the RPC
        layer as a scheme prefix; '' when unknown."""
        task_type = self.task_type if task_type is None else task_type
        task_id = self.task_id if task_id is None else task_id
        rpc_layer = self.rpc_layer if rpc_layer is None else rpc_layer
        spec = self.cluster_spec()
        if task_type is None or task_id is None or task_type not in spec.jobs:
            return ""
        return _with_rpc(spec.task_address(task_type, task_id), rpc_layer)

    def num_accelerators(self, task_type=None, task_id=None, config_proto=None):
        """Accelerators of this machine by kind (``{"GPU": n}``; empty without any)."""
        if not backends.gpu_available():
            return {}
        from dlframe.backends import cupy_backend
        count = cupy_backend.gpu_count()
        return {"GPU": count} if count else {}


class SimpleClusterResolver(ClusterResolver):
    """A resolver over given values.

    Args:
      cluster_spec: a ClusterSpec (or a dict accepted by ClusterSpec).
      master: this task's address (``master()`` returns it with the RPC layer).
      task_type: this task's job name.
      task_id: this task's index in its job.
      environment: the environment name ('' or 'google').
      num_accelerators: ``{"GPU": n}`` of each task, or None for none.
      rpc_layer: the RPC protocol name (e.g. 'grpc').
    """

    def __init__(self, cluster_spec, master="", task_type=None, task_id=None,
                 environment="", num_accelerators=None, rpc_layer=None):
        self._cluster_spec = ClusterSpec(cluster_spec)
        self._master = master
        self.task_type = task_type
        self.task_id = task_id
        self.environment = environment
        self._num_accelerators = dict(num_accelerators or {})
        self.rpc_layer = rpc_layer

    def cluster_spec(self):
        return self._cluster_spec

    def master(self, task_type=None, task_id=None, rpc_layer=None):
        if task_type is not None and task_id is not None:
            return super().master(task_type, task_id, rpc_layer)
        rpc_layer = self.rpc_layer if rpc_layer is None else rpc_layer
        return _with_rpc(self._master, rpc_layer)

    def num_accelerators(self, task_type=None, task_id=None, config_proto=None):
        return dict(self._num_accelerators)


def _tf_config():
    raw = os.environ.get("TF_CONFIG", "")
    if not raw:
        return {}
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"TF_CONFIG is not valid JSON ({exc}): {raw!r}") from None
    if not isinstance(config, dict):
        raise ValueError(f"TF_CONFIG must be a JSON object, got {raw!r}")  # noqa: TRY004
    return config


class TFConfigClusterResolver(ClusterResolver):
    """The cluster described by the ``TF_CONFIG`` environment variable.

    ``TF_CONFIG`` is JSON: ``{"cluster": {"worker": ["host:port", ...], "chief":
    [...]}, "task": {"type": "worker", "index": 0}, "rpc_layer": "grpc"}``. It is read
    on each query, as TF does; without it the cluster is empty and the task is None.

    Args:
      task_type: overrides ``TF_CONFIG``'s task type.
      task_id: overrides ``TF_CONFIG``'s task index.
      rpc_layer: overrides ``TF_CONFIG``'s RPC layer.
      environment: overrides ``TF_CONFIG``'s environment.
    """

    def __init__(self, task_type=None, task_id=None, rpc_layer=None, environment=None):
        self._task_type = task_type
        self._task_id = task_id
        self._rpc_layer = rpc_layer
        self._environment = environment

    @property
    def task_type(self):
        if self._task_type is not None:
            return self._task_type
        task_type = _tf_config().get("task", {}).get("type")
        return None if task_type is None else str(task_type)

    @task_type.setter
    def task_type(self, value):
        self._task_type = value

    @property
    def task_id(self):
        if self._task_id is not None:
            return self._task_id
        index = _tf_config().get("task", {}).get("index")
        return None if index is None else int(index)

    @task_id.setter
    def task_id(self, value):
        self._task_id = value

    @property
    def rpc_layer(self):
        if self._rpc_layer is not None:
            return self._rpc_layer
        return _tf_config().get("rpc_layer")

    @rpc_layer.setter
    def rpc_layer(self, value):
        self._rpc_layer = value

    @property
    def environment(self):
        if self._environment is not None:
            return self._environment
        return _tf_config().get("environment")

    def cluster_spec(self):
        return ClusterSpec(_tf_config().get("cluster", {}))


class MPIClusterResolver(ClusterResolver):
    """The processes of an MPI communicator as a cluster of workers (dlframe's own).

    Rank 0 is the chief: task ``('chief', 0)`` when ``TF_CONFIG`` names a chief job,
    else ``('worker', 0)``; the other ranks are workers in rank order.

    Args:
      comm: an mpi4py communicator (default ``COMM_WORLD``).
      mpi: the ``mpi4py.MPI`` module or a stand-in with ``SUM`` and ``COMM_WORLD``
        (imported when None).
    """

    def __init__(self, comm=None, mpi=None):
        if mpi is None:
            mpi = _INJECTED_MPI
        if mpi is None:
            from dlframe.distribute.communicators_mpi import _load_mpi
            mpi = _load_mpi()
        self.mpi = mpi
        self.comm = comm if comm is not None else mpi.COMM_WORLD
        self.rank = int(self.comm.Get_rank())
        self.size = int(self.comm.Get_size())
        self._has_chief = "chief" in _tf_config().get("cluster", {})
        if self._has_chief and self.rank == 0:
            self.task_type, self.task_id = "chief", 0
        else:
            self.task_type, self.task_id = "worker", self.rank - int(self._has_chief)

    def cluster_spec(self):
        """The ranks as tasks (addresses ``mpi-rank-<r>``: MPI does the routing)."""
        hosts = [f"mpi-rank-{r}" for r in range(self.size)]
        if self._has_chief:
            return ClusterSpec({"chief": hosts[:1], "worker": hosts[1:]})
        return ClusterSpec({"worker": hosts})


def launched_by_mpi():
    """Whether an MPI launcher (mpirun, mpiexec, srun with PMI) started this process
    as one of several ranks."""
    for name in _MPI_LAUNCHER_VARS:
        value = os.environ.get(name)
        if value is None:
            continue
        if name.endswith("SIZE") or name == "MPI_LOCALNRANKS":
            try:
                if int(value) > 1:
                    return True
            except ValueError:
                continue
        else:
            return True
    return False


def mpi_world_resolver():
    """An MPIClusterResolver over COMM_WORLD when this process is one of several MPI
    ranks (an injected stand-in, or mpi4py under a launcher), else None.

    Raises:
      ImportError: launched by mpirun but mpi4py is not installed.
    """
    if _INJECTED_MPI is None and not launched_by_mpi():
        return None
    resolver = MPIClusterResolver()
    return resolver if resolver.size > 1 else None


def tf_config_worker_count(spec):
    """Tasks that train (chief + workers) in a ClusterSpec."""
    return sum(spec.num_tasks(job) for job in ("chief", "worker") if job in spec.jobs)


class TPUClusterResolver(ClusterResolver):
    """TPUs are not supported by dlframe (no TPU runtime).

    Raises:
      ValueError: "Please provide a TPU Name to connect to." when no TPU is named
        (TF's error on a machine without a TPU, which Kaggle/Colab code catches to
        fall back to GPUs/CPU).
      NotImplementedError: when a TPU is named.
    """

    def __init__(self, tpu=None, zone=None, project=None, job_name="worker",
                 coordinator_name=None, coordinator_address=None, credentials="default",
                 service=None, discovery_url=None):
        if not tpu and not os.environ.get("TPU_NAME"):
            raise ValueError("Please provide a TPU Name to connect to.")
        raise NotImplementedError(
            f"dlframe has no TPU support (TPUClusterResolver(tpu={tpu!r})); use "
            "tf.distribute.MirroredStrategy (GPUs of one machine) or "
            "MultiWorkerMirroredStrategy (several machines, under mpirun).")

    @staticmethod
    def connect(tpu=None, zone=None, project=None):
        """Raises as the constructor does (there is no TPU to connect to)."""
        return TPUClusterResolver(tpu, zone, project)


def _no_tpu(what):
    def raiser(*args, **kwargs):
        raise NotImplementedError(
            f"{what} is only reached with a TPU, and dlframe has no TPU support; "
            "use tf.distribute.MirroredStrategy or MultiWorkerMirroredStrategy.")
    raiser.__name__ = what.rsplit(".", 1)[-1]
    raiser.__doc__ = f"``{what}``: raises NotImplementedError (no TPU support)."
    return raiser


experimental_connect_to_cluster = _no_tpu("tf.config.experimental_connect_to_cluster")
experimental_connect_to_host = _no_tpu("tf.config.experimental_connect_to_host")
initialize_tpu_system = _no_tpu("tf.tpu.experimental.initialize_tpu_system")
shutdown_tpu_system = _no_tpu("tf.tpu.experimental.shutdown_tpu_system")

__all__ = ["ClusterResolver", "ClusterSpec", "MPIClusterResolver",
           "SimpleClusterResolver", "TFConfigClusterResolver", "TPUClusterResolver"]
