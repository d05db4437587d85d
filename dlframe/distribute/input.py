"""Distributed input: global batches split into per-replica shards.

``experimental_distribute_dataset`` splits each global batch along its first axis as
TensorFlow does: every replica gets ``ceil(B / N)`` rows in replica order, so an
uneven last batch of 7 rows over 2 replicas is ``[4, 3]`` and 5 rows over 4
replicas ``[2, 2, 1, 0]`` (a replica may get an empty shard). Shard ``i`` is
copied to replica ``i``'s device. With several worker processes
(``MultiWorkerMirroredStrategy``) the global batch is split over all replicas of
all workers and each worker keeps the shards of its own replicas (TF's DATA
auto-sharding: no two workers train on the same rows). ``distribute_datasets_from_function`` hands each
replica one element of the dataset the function built (it batches per replica).
"""

from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.distribute.values import PerReplica, copy_array


class InputContext:
    """What ``distribute_datasets_from_function``'s ``dataset_fn`` is told."""

    def __init__(self, num_input_pipelines=1, input_pipeline_id=0, num_replicas_in_sync=1):
        self.num_input_pipelines = num_input_pipelines
        self.input_pipeline_id = input_pipeline_id
        self.num_replicas_in_sync = num_replicas_in_sync

    def get_per_replica_batch_size(self, global_batch_size):
        """``global_batch_size // num_replicas_in_sync``; ValueError if not divisible."""
        if global_batch_size % self.num_replicas_in_sync:
            raise ValueError(f"The `global_batch_size` {global_batch_size} is not "
                             f"divisible by `num_replicas_in_sync` "
                             f"{self.num_replicas_in_sync}")
        return global_batch_size // self.num_replicas_in_sync

    def __repr__(self):
        return (f"tf.distribute.InputContext(input pipeline id {self.input_pipeline_id}, "
                f"total: {self.num_input_pipelines})")


class InputOptions:
    """Options of distributed datasets (accepted; shards are always placed on their
    replica's device)."""

    def __init__(self, experimental_fetch_to_device=None,
                 experimental_replication_mode=None, experimental_place_dataset_on_device=False,
                 experimental_per_replica_buffer_size=1):
        self.experimental_fetch_to_device = experimental_fetch_to_device
        self.experimental_replication_mode = experimental_replication_mode
        self.experimental_place_dataset_on_device = experimental_place_dataset_on_device
        self.experimental_per_replica_buffer_size = experimental_per_replica_buffer_size


class ValueContext:
    """What ``experimental_distribute_values_from_function``'s ``value_fn`` is told."""

    def __init__(self, replica_id_in_sync_group=0, num_replicas_in_sync=1):
        self.replica_id_in_sync_group = replica_id_in_sync_group
        self.num_replicas_in_sync = num_replicas_in_sync


def shard_bounds(global_batch, num_replicas):
    """``[(start, stop)]`` of each replica's rows (TF's split, see module doc)."""
    per = -(-global_batch // num_replicas) if global_batch else 0
    return [(min(i * per, global_batch), min((i + 1) * per, global_batch))
            for i in range(num_replicas)]


def _map(fn, structure):
    """``fn`` over the leaves of a nest; PerReplica values are leaves."""
    if isinstance(structure, PerReplica):
        return fn(structure)
    if isinstance(structure, dict):
        return type(structure)((k, _map(fn, v)) for k, v in structure.items())
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):
        return type(structure)(*[_map(fn, v) for v in structure])
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map(fn, v) for v in structure)
    return fn(structure)


def place(t, device):
    """A concrete tensor's value on ``device`` (no copy when already there)."""
    if t._device is device:
        return t
    return Tensor(copy_array(t._device, t._value, device), device)


def split_element(element, devices, worker=(0, 1)):
    """A global batch (nest of tensors) -> the same nest of PerReplica shards.

    Args:
      element: the global batch.
      devices: this process's replica Devices.
      worker: ``(index, count)`` of this process among the workers; the batch is
        split over ``count * len(devices)`` replicas and this worker keeps its own.
    """
    n = len(devices)
    index, count = worker

    def split(leaf):
        if not isinstance(leaf, Tensor):
            if leaf is None or isinstance(leaf, (str, bytes, int, float, bool)):
                return leaf
            leaf = convert_to_tensor(leaf)
        if leaf._value.ndim == 0:
            return PerReplica([place(leaf, d) for d in devices])
        bounds = shard_bounds(int(leaf._value.shape[0]), n * count)[index * n:
                                                                   (index + 1) * n]
        src = leaf._device
        return PerReplica([Tensor(copy_array(src, leaf._value[a:b], d), d)
                           for (a, b), d in zip(bounds, devices)])
    return _map(split, element)


def group_elements(elements, devices):
    """One element per replica (nests alike) -> one nest of PerReplica values."""
    flat = [_flatten(e) for e in elements]
    leaves = []
    for i in range(len(flat[0])):
        leaves.append(PerReplica([place(convert_to_tensor(f[i]), d)
                                  for f, d in zip(flat, devices)]))
    it = iter(leaves)
    return _map(lambda _: next(it), elements[0])


def _flatten(structure):
    out = []
    _map(out.append, structure)
    return out


def _empty_like(element):
    return _map(lambda t: convert_to_tensor(t)[:0], element)


class DistributedIterator:
    """Iterator over a DistributedDataset (``next``, ``get_next``)."""

    def __init__(self, dataset):
        self._dataset = dataset
        self._it = iter(dataset._dataset)

    def __iter__(self):
        return self

    def __next__(self):
        ds = self._dataset
        devices = ds._strategy.extended._replica_devices
        if len(devices) == 1 and (ds._per_replica_elements or ds._worker[1] == 1):
            return next(self._it)
        if ds._per_replica_elements:
            elements = [next(self._it)]
            for _ in devices[1:]:
                try:
                    elements.append(next(self._it))
                except StopIteration:
                    elements.append(_empty_like(elements[0]))
            return group_elements(elements, devices)
        shards = split_element(next(self._it), devices, ds._worker)
        if len(devices) == 1:  # one local replica: its shard, as a plain value
            return _map(lambda v: v[0] if isinstance(v, PerReplica) else v, shards)
        return shards

    def get_next(self):
        return next(self)

    @property
    def element_spec(self):
        return self._dataset.element_spec


class DistributedDataset:
    """A dataset whose elements are split over the replicas (nests of PerReplica).

    Args:
      dataset: the input dataset (global batches, or per-replica batches when
        ``per_replica_elements``).
      strategy: the strategy whose replicas consume it.
      per_replica_elements: consecutive elements go to consecutive replicas
        (``distribute_datasets_from_function``) instead of splitting each element.
      worker: ``(index, count)``: this process's share of each global batch among
        the workers (``(0, 1)``: the whole batch).
    """

    def __init__(self, dataset, strategy, per_replica_elements=False, worker=(0, 1)):
        self._dataset = dataset
        self._strategy = strategy
        self._per_replica_elements = per_replica_elements
        self._worker = tuple(worker)

    def __iter__(self):
        return DistributedIterator(self)

    @property
    def element_spec(self):
        return self._dataset.element_spec

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._dataset, name)

    def __repr__(self):
        return f"<DistributedDataset over {self._dataset!r}>"
