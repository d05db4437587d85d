"""``MpiCommunicator``: collectives between processes through mpi4py.

One replica per process (multi-host bootstrap and CPU collectives, DESIGN.md
section 7). Values travel through host buffers: a GPU value is copied to the host,
reduced with ``comm.Allreduce`` and copied back. mpi4py is imported only when an
engine is created without an injected module (``pip install dlframe[mpi]``).

Each collective is a stateful primitive (never folded or merged), so a compiled
step replays it and every rank keeps calling it in the same order; the gradient of
an all-reduce is the all-reduce of the output gradients.
"""

from dlframe import backends
from dlframe.backends.base import np
from dlframe.core.primitive import call, primitive
from dlframe.distribute.communicators import MEAN, SUM, Communicator, reduce_op_name


def _load_mpi():
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise ImportError("MpiCommunicator needs mpi4py: pip install 'dlframe[mpi]' "
                          f"(or mpi4py>=3.1); import failed with: {exc}") from None
    return MPI


@primitive("MpiAllReduce", stateful=True)
def _allreduce_p(d, x, *, engine, op):
    return d.asarray(engine._allreduce_host(d.to_numpy(x), op))


@_allreduce_p.defgrad
def _allreduce_grad(inputs, out, dy, *, engine, op):
    return call(_allreduce_p, (dy,), {"engine": engine, "op": op})


@primitive("MpiBroadcast", stateful=True)
def _bcast_p(d, x, *, engine, root):
    return d.asarray(engine._bcast_host(d.to_numpy(x), root))


@primitive("MpiAllGather", stateful=True)
def _allgather_p(d, x, *, engine, axis):
    return d.asarray(engine._allgather_host(d.to_numpy(x), axis))


class MpiCommunicator(Communicator):
    """Collectives of the processes of an MPI communicator (one replica each).

    Args:
      device: this process's replica device (default: the current device).
      comm: an mpi4py communicator (default ``MPI.COMM_WORLD``).
      mpi: the ``mpi4py.MPI`` module, or an object with the same ``SUM`` and
        ``COMM_WORLD`` attributes (tests inject a fake); imported when None.
    """

    def __init__(self, device=None, comm=None, mpi=None):
        super().__init__([backends.get_device(device) if device is not None
                          else backends.current_device()])
        self._mpi = mpi if mpi is not None else _load_mpi()
        self._comm = comm if comm is not None else self._mpi.COMM_WORLD

    @property
    def world_size(self):
        return int(self._comm.Get_size())

    @property
    def rank(self):
        return int(self._comm.Get_rank())

    # -- host-side collectives (run inside the primitives) ----------------------------
    # (np.ascontiguousarray turns a 0-d array into shape (1,): results are reshaped)
    def _allreduce_host(self, host, op):
        send = np.ascontiguousarray(host)
        recv = np.empty_like(send)
        self._comm.Allreduce(send, recv, op=self._mpi.SUM)
        if op == MEAN:
            size = self.world_size
            if recv.dtype.kind in "iub":
                recv = recv // size
            else:
                recv = recv / np.asarray(size, dtype=recv.dtype)
        return recv.reshape(np.shape(host))

    def _bcast_host(self, host, root):
        buf = np.ascontiguousarray(host).copy()
        self._comm.Bcast(buf, root=root)
        return buf.reshape(np.shape(host))

    def _allgather_host(self, host, axis):
        parts = self._comm.allgather(np.ascontiguousarray(host))
        return np.concatenate(parts, axis=axis)

    # -- the Communicator API --------------------------------------------------------
    def all_reduce(self, values, op=SUM):
        (value,) = self._check(values, "all_reduce")
        return [call(_allreduce_p, (value,), {"engine": self, "op": reduce_op_name(op)})]

    def broadcast(self, values, root=0):
        (value,) = self._check(values, "broadcast")
        return [call(_bcast_p, (value,), {"engine": self, "root": int(root)})]

    def all_gather(self, values, axis=0):
        (value,) = self._check(values, "all_gather")
        return [call(_allgather_p, (value,), {"engine": self, "axis": int(axis)})]
