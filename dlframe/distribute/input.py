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

import collections
import enum

from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_spec import TensorSpec
from dlframe.data.dataset import Dataset
from dlframe.data.graph_loop import feed
from dlframe.distribute.cross_device import to_device
from dlframe.distribute.values import PerReplica, PerReplicaSpec


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


class InputReplicationMode(enum.Enum):
    """How ``distribute_datasets_from_function`` feeds the replicas:
    ``PER_WORKER`` (one input pipeline per worker, the default) or ``PER_REPLICA``
    (one per replica, ``dataset_fn`` called once per replica)."""

    PER_WORKER = "PER_WORKER"
    PER_REPLICA = "PER_REPLICA"


class InputOptions(collections.namedtuple("InputOptions", (
        "experimental_fetch_to_device", "experimental_replication_mode",
        "experimental_place_dataset_on_device",
        "experimental_per_replica_buffer_size"))):
    """Options of distributed datasets (a namedtuple, as TF's).

    Args:
      experimental_fetch_to_device: prefetch each shard to its replica's device
        (None: True). Shards are always placed on their replica's device.
      experimental_replication_mode: ``InputReplicationMode`` (default PER_WORKER);
        PER_REPLICA only for ``distribute_datasets_from_function``.
      experimental_place_dataset_on_device: build the dataset on the device (only
        with PER_REPLICA and ``experimental_fetch_to_device=False``).
      experimental_per_replica_buffer_size: prefetch depth per replica.
    """

    def __new__(cls, experimental_fetch_to_device=None,
                experimental_replication_mode=InputReplicationMode.PER_WORKER,
                experimental_place_dataset_on_device=False,
                experimental_per_replica_buffer_size=1):
        if experimental_fetch_to_device is None:
            experimental_fetch_to_device = True
        return super().__new__(cls, experimental_fetch_to_device,
                               experimental_replication_mode,
                               experimental_place_dataset_on_device,
                               experimental_per_replica_buffer_size)


def _mode_name(options):
    mode = getattr(options, "experimental_replication_mode", None)
    return getattr(mode, "value", mode)


def check_input_options(options, from_function):
    """TF's checks of ``options`` for ``experimental_distribute_dataset``
    (``from_function=False``) or ``distribute_datasets_from_function``; returns
    True when the mode is PER_REPLICA."""
    if options is None:
        return False
    if not hasattr(options, "experimental_replication_mode"):
        raise TypeError("`options` must be a tf.distribute.InputOptions, got "
                        f"{options!r}")
    per_replica = _mode_name(options) == "PER_REPLICA"
    if not from_function:
        if per_replica:
            raise NotImplementedError(
                "InputReplicationMode.PER_REPLICA is only supported in "
                "`experimental_distribute_datasets_from_function`.")
        return False
    if options.experimental_place_dataset_on_device:
        if not per_replica:
            raise ValueError(
                "When `experimental_place_dataset_on_device` is set for dataset "
                "placement, you must also specify `PER_REPLICA` for the "
                "replication mode")
        if options.experimental_fetch_to_device:
            raise ValueError(
                "`experimental_place_dataset_on_device` can not be set to True when "
                "experimental_fetch_to_device is True and replication mode is set "
                "to `PER_REPLICA`")
    return per_replica


def check_dataset(dataset, from_function=False):
    """TypeError unless ``dataset`` (or what ``dataset_fn`` returned) is a
    ``tf.data.Dataset``."""
    if not isinstance(dataset, Dataset):
        what = "`dataset_fn` must return" if from_function else "`dataset` must be"
        raise TypeError(f"{what} a tf.data.Dataset, got {type(dataset).__name__}: "
                        f"{dataset!r}")
    return dataset


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
    """``t`` on ``device``, as a recorded copy (no copy when already there)."""
    return to_device(t, device)


@primitive("ReplicaShard", aliases=True)
def _shard_p(d, x, *, index, parts):
    start, stop = shard_bounds(int(x.shape[0]), parts)[index]
    return x[start:stop]


@primitive("ReplicaUnshard")
def _unshard_p(d, dy, x, *, index, parts):
    start, stop = shard_bounds(int(x.shape[0]), parts)[index]
    out = d.xp.zeros(x.shape, dtype=dy.dtype)
    out[start:stop] = dy
    return out


@_shard_p.defgrad
def _shard_grad(inputs, out, dy, *, index, parts):
    return call(_unshard_p, (dy, inputs[0]), {"index": index, "parts": parts})


@_unshard_p.defgrad
def _unshard_grad(inputs, out, ddy, *, index, parts):
    return call(_shard_p, (ddy,), {"index": index, "parts": parts}), None


def split_element(element, devices, worker=(0, 1)):
    """A global batch (nest of tensors) -> the same nest of PerReplica shards.

    The rows are cut when the step runs (``ReplicaShard``: TF's split of the
    batch size found then), so a compiled step splits every batch it is given.

    Args:
      element: the global batch.
      devices: this process's replica Devices.
      worker: ``(index, count)`` of this process among the workers; the batch is
        split over ``count * len(devices)`` replicas and this worker keeps its own.
    """
    n = len(devices)
    index, count = worker

    def split(leaf):
        if isinstance(leaf, PerReplica):
            return leaf  # an element of a distributed dataset: already split
        if not isinstance(leaf, Tensor):
            if leaf is None or isinstance(leaf, (str, bytes, int, float, bool)):
                return leaf
            leaf = convert_to_tensor(leaf)
        if leaf._value.ndim == 0:
            return PerReplica([place(leaf, d) for d in devices])
        return PerReplica([
            place(call(_shard_p, (leaf,), {"index": index * n + i, "parts": n * count}),
                  d) for i, d in enumerate(devices)])
    return _map(split, element)


def group_elements(elements, devices):
    """One element per replica (nests alike) -> one nest of PerReplica values."""
    flat = [_flatten(e) for e in elements]
    leaves = []
    for i in range(len(flat[0])):
        leaves.append(PerReplica([place(convert_to_tensor(f[i]), d)
                                  for f, d in zip(flat, devices)]))
    return _pack(elements[0], leaves)


def global_rows(element):
    """Rows of the global batch ``element``: its first batched tensor's, or the
    sum over the replicas of a PerReplica one (an element of a distributed
    dataset); 0 when nothing is batched."""
    for leaf in _flatten(element):
        parts = list(leaf) if isinstance(leaf, PerReplica) else [leaf]
        if all(isinstance(p, Tensor) and p._value.ndim for p in parts):
            return sum(int(p._value.shape[0]) for p in parts)
    return 0


def _flatten(structure):
    out = []
    _map(out.append, structure)
    return out


def _pack(structure, leaves):
    it = iter(leaves)
    return _map(lambda _: next(it), structure)


def _empty_like(element):
    return _map(lambda t: convert_to_tensor(t)[:0], element)


def _grouped(iterator, n):
    """Tuples of ``n`` consecutive elements of ``iterator``, the last one padded with
    empty elements (the replicas that get no data)."""
    for first in iterator:
        group = [first]
        for _ in range(n - 1):
            try:
                group.append(next(iterator))
            except StopIteration:
                group.append(_empty_like(first))
        yield tuple(group)


def _unbatched_spec(spec):
    """``spec`` with unknown first dimensions (a padded element may be empty)."""
    def leaf(s):
        if not isinstance(s, TensorSpec) or s.shape.rank in (None, 0):
            return s
        return TensorSpec([None] + s.shape.as_list()[1:], s.dtype, s.name)
    return _map(leaf, spec)


def _check_batched(dataset):
    """ValueError for a dataset of scalars: there is no batch to split over the
    replicas (TF fails on it too; dlframe would otherwise copy each element)."""
    spec = getattr(dataset, "element_spec", None)
    ranks = [leaf.shape.rank for leaf in _flatten(spec) if isinstance(leaf, TensorSpec)]
    if ranks and all(rank == 0 for rank in ranks):
        raise ValueError(
            "experimental_distribute_dataset needs a batched dataset whose global "
            "batches are split over the replicas; got elements of shape () "
            f"(element_spec={spec!r}). Call dataset.batch(global_batch_size) first.")


class DistributedIterator:
    """Iterator over a DistributedDataset (``next``, ``get_next``)."""

    def __init__(self, dataset):
        self._dataset = dataset
        self._it = iter(dataset._dataset)

    def __iter__(self):
        return self

    def __next__(self):
        ds = self._dataset
        if ds._undivided():
            return next(self._it)
        if ds._per_replica_elements:
            return ds._distribute(next(_grouped(self._it, ds._local_replicas())))
        return ds._distribute(next(self._it))

    def _graph_iteration(self):
        """Op builders for ``for x in iterator`` in a dlframe.function: a graph loop
        that goes on from where the iterator is (see ``dlframe.data.graph_loop``)."""
        ds = self._dataset
        if ds._per_replica_elements and not ds._undivided():
            n = ds._local_replicas()
            return ds._wrap_hooks(feed(lambda: _grouped(self._it, n),
                                       ds._group_spec(), restart=False))
        return ds._wrap_hooks(self._it._graph_iteration())

    def next(self):
        """The next element (Python 2's spelling, kept by TF)."""
        return self.__next__()

    def get_next(self):
        """The next element; ``OutOfRangeError`` at the end (as TF's ``get_next``)."""
        try:
            return next(self)
        except StopIteration:
            from dlframe.errors import OutOfRangeError
            raise OutOfRangeError(None, None, "End of sequence") from None

    def get_next_as_optional(self):
        """The next element as a ``tf.experimental.Optional`` (empty at the end).

        Inside a dlframe.function it is a graph op: each run of the graph pulls the
        global batch (one element per replica with ``distribute_datasets_from_function``)
        or finds the data exhausted; ``has_value()`` is then a bool Tensor.
        """
        from dlframe.core.primitive import STATE
        from dlframe.data.dataset import Optional
        if STATE.trace is not None:
            found = self._graph_next_as_optional()
            if found is not None:
                return found
        try:
            return Optional(next(self), self.element_spec)
        except StopIteration:
            return Optional.empty(self.element_spec)

    def _graph_next_as_optional(self):
        from dlframe.data.dataset import Optional
        ds = self._dataset
        n = ds._local_replicas() if ds._per_replica_elements else 1
        parts = [self._it.get_next_as_optional() for _ in range(n)]
        if any(p._has_value is None for p in parts):
            return None     # ragged/sparse elements: taken at trace time
        if ds._undivided():
            return parts[0]
        raw = tuple(p._value for p in parts) if ds._per_replica_elements \
            else parts[0]._value
        # a replica past the end gets the empty placeholders (as ``_grouped`` pads)
        return Optional(ds._distribute(raw), self.element_spec,
                        has_value=parts[0]._has_value)

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
        if not per_replica_elements and not self._undivided():
            _check_batched(dataset)

    def __iter__(self):
        return DistributedIterator(self)

    def _local_replicas(self):
        return len(self._strategy.extended._replica_devices)

    def _undivided(self):
        """True when elements go unchanged to the one replica."""
        return self._local_replicas() == 1 and (self._per_replica_elements or
                                                self._worker[1] == 1)

    def _distribute(self, raw):
        """An element of the underlying dataset (a tuple of one per replica with
        ``per_replica_elements``) as the nest of PerReplica values the replicas get."""
        devices = self._strategy.extended._replica_devices
        if self._per_replica_elements:
            return group_elements(list(raw), devices)
        shards = split_element(raw, devices, self._worker)
        if len(devices) == 1:  # one local replica: its shard, as a plain value
            return _map(lambda v: v[0] if isinstance(v, PerReplica) else v, shards)
        return shards

    def _group_spec(self):
        return (_unbatched_spec(self._dataset.element_spec),) * self._local_replicas()

    def _wrap_hooks(self, hooks):
        if hooks is None or self._undivided():
            return hooks
        start, has_next, get = hooks
        return start, has_next, lambda i: self._distribute(get(i))

    def _graph_iteration(self):
        """Op builders for ``for x in dist_dataset`` in a dlframe.function: a graph
        loop over a fresh iterator each time the graph runs, as TF's."""
        if self._per_replica_elements and not self._undivided():
            n = self._local_replicas()
            return self._wrap_hooks(feed(lambda: _grouped(iter(self._dataset), n),
                                         self._group_spec(), restart=True))
        return self._wrap_hooks(self._dataset._graph_iteration())

    @property
    def element_spec(self):
        """The type of an element: with several local replicas each leaf is a
        PerReplicaSpec whose per-replica batch size is the global one split evenly
        (None when it is unknown or does not divide)."""
        spec = self._dataset.element_spec
        n = self._local_replicas()
        if n == 1:
            return spec
        parts = n * self._worker[1]

        def per_replica(leaf):
            if self._per_replica_elements or not isinstance(leaf, TensorSpec) or \
                    leaf.shape.rank in (None, 0):
                return PerReplicaSpec(*[leaf] * n)
            dims = leaf.shape.as_list()
            dims[0] = dims[0] // parts if dims[0] is not None and \
                dims[0] % parts == 0 else None
            return PerReplicaSpec(*[TensorSpec(dims, leaf.dtype, leaf.name)] * n)
        return _map(per_replica, spec)

    @property
    def cardinality(self):
        """The number of elements of the input dataset (a NumPy int64; -1 infinite,
        -2 unknown), as TF's property."""
        return self._dataset.cardinality().numpy()

    def reduce(self, initial_state, reduce_func):
        """``reduce_func(state, element)`` over the distributed elements, from
        ``initial_state``; returns the final state."""
        state = initial_state
        for element in self:
            state = reduce_func(state, element)
        return state

    def __repr__(self):
        return f"<DistributedDataset over {self._dataset!r}>"
