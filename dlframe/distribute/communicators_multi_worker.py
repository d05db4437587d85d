"""``MultiWorkerCommunicator``: collectives over the replicas of several processes.

Two levels (DESIGN.md section 7): the local replicas of this process are combined by
the local engine (in-process sum on logical CPUs, NCCL on GPUs), the per-process
results by MPI between the processes, and the result is handed back to every local
replica by the local engine. Every process must call the collectives in the same
order (they do: every worker runs the same program on its shard of the data).
"""

from dlframe.distribute.communicators import MEAN, SUM, Communicator, reduce_op_name
from dlframe.distribute.cross_device import divide_by_count


class MultiWorkerCommunicator(Communicator):
    """Local replicas x worker processes.

    Args:
      local: the Communicator of this process's replicas (InProcess or NCCL).
      remote: an ``MpiCommunicator`` (one value per process) over the workers.
    """

    def __init__(self, local, remote):
        super().__init__(local.devices)
        self.local = local
        self.remote = remote

    @property
    def num_workers(self):
        return self.remote.world_size

    @property
    def worker_index(self):
        return self.remote.rank

    @property
    def world_size(self):
        return self.num_local_replicas * self.num_workers

    def _everywhere(self, value):
        """``value`` (on the first local device) on every local replica's device."""
        return self.local.broadcast([value] * self.num_local_replicas, root=0)

    def reduce(self, values, op=SUM, root=0):
        values = self._check(values, "reduce")
        op = reduce_op_name(op)
        total = self.local.reduce(values, SUM, root)
        total = self.remote.all_reduce([total], SUM)[0]
        if op == MEAN:
            total = divide_by_count(total, self.world_size)
        return total

    def all_reduce(self, values, op=SUM):
        return self._everywhere(self.reduce(values, op, 0))

    def broadcast(self, values, root=0):
        """``values`` of global replica ``root`` (worker ``root // local replicas``)
        on every replica of every worker."""
        values = self._check(values, "broadcast")
        worker, local_root = divmod(int(root), self.num_local_replicas)
        value = self.local.broadcast(values, local_root)[0]
        value = self.remote.broadcast([value], worker)[0]
        return self._everywhere(value)

    def all_gather(self, values, axis=0):
        """The values of all replicas (worker by worker, replica order within one)
        concatenated along ``axis``, on every replica."""
        values = self._check(values, "all_gather")
        joined = self.local.all_gather(values, axis)[0]
        joined = self.remote.all_gather([joined], axis)[0]
        return self._everywhere(joined)

    def broadcast_host(self, array, root=0):
        """A NumPy ``array`` of worker ``root`` on every worker (not recorded: for
        initial values of new variables)."""
        return self.remote._bcast_host(array, root)

    def all_reduce_host(self, array, op=SUM):
        """Sum (or mean over workers) of a NumPy ``array`` over the workers."""
        return self.remote._allreduce_host(array, reduce_op_name(op))
