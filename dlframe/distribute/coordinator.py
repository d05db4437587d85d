"""``tf.distribute.coordinator`` (and ``tf.distribute.experimental.coordinator``):
``ClusterCoordinator`` schedules functions onto the workers of a
``ParameterServerStrategy``.

The workers are in-process (``parameter_server``): one thread per worker, each
with its own per-worker resources (``create_per_worker_dataset`` gives every
worker its own copy of the input pipeline, as TF does). ``schedule`` returns a
``RemoteValue`` at once; closure ``k`` goes to worker ``k % num_workers``.
The workers take turns in schedule order: dlframe's tapes and traces are per
thread, but optimizer state and compiled-function caches are shared, so turn-taking
keeps every update whole. Each closure reads the variables as the previous one left
them and applies its own update -- one legal schedule of TF's asynchronous
training, and a deterministic one.

Errors follow TF: a failing closure's ``RemoteValue`` raises its error; the
closures scheduled before the failure that had not run yet are cancelled
(``CancelledError``); the next ``schedule``, ``join`` or ``done`` raises the error
once and clears it.
"""

import inspect
import queue
import threading

from dlframe.core.tensor import Tensor
from dlframe.distribute.input import DistributedDataset, _map
from dlframe.distribute.parameter_server import ParameterServerStrategy
from dlframe.errors import CancelledError, OutOfRangeError


class _Local(threading.local):
    def __init__(self):
        self.worker_index = None


_LOCAL = _Local()


def experimental_get_current_worker_index():
    """The index of the worker running the current scheduled function.

    Raises:
      RuntimeError: outside a function run by a ``ClusterCoordinator``.
    """
    if _LOCAL.worker_index is None:
        raise RuntimeError("experimental_get_current_worker_index() must be called "
                           "inside a function scheduled with "
                           "ClusterCoordinator.schedule (on a worker).")
    return _LOCAL.worker_index


# ---------------------------------------------------------------- values
class RemoteValue:
    """The future result of a scheduled function (``fetch`` / ``get``)."""

    def __init__(self):
        self._done = threading.Event()
        self._value = None
        self._error = None

    def _set(self, value=None, error=None):
        self._value, self._error = value, error
        self._done.set()

    def _wait(self):
        self._done.wait()
        if self._error is not None:
            raise self._error

    def fetch(self):
        """Waits for the function; returns its result with tensors as NumPy values.

        Raises:
          The function's error, or ``tf.errors.CancelledError`` when it was cancelled.
        """
        self._wait()
        return _map(lambda v: v.numpy() if isinstance(v, Tensor) else v, self._value)

    def get(self):
        """Waits for the function; returns its result (tensors stay tensors)."""
        self._wait()
        return self._value

    def __repr__(self):
        state = "done" if self._done.is_set() else "pending"
        return f"<RemoteValue {state}>"


class PerWorkerValues:
    """One value per worker; a scheduled function receives its worker's value.

    Args:
      values: a list or tuple with one value per worker.
    """

    def __init__(self, values):
        if not isinstance(values, (list, tuple)):
            raise TypeError(f"`values` must be a list or tuple of per-worker values, "
                            f"got {values!r}")
        self._values = tuple(values)

    def __repr__(self):
        return f"PerWorkerValues({list(self._values)!r})"


PerWorkerValue = PerWorkerValues


class PerWorkerDataset:
    """A dataset with one copy per worker (``create_per_worker_dataset``); ``iter``
    gives a per-worker iterator to pass to scheduled functions."""

    def __init__(self, datasets):
        self._datasets = datasets

    def __iter__(self):
        return PerWorkerDistributedIterator([iter(d) for d in self._datasets])

    def build(self):
        """Kept for TF's API (the datasets are built already); returns ``self``."""
        return self

    @property
    def element_spec(self):
        return self._datasets[0].element_spec


class PerWorkerDistributedIterator(PerWorkerValues):
    """The iterators of a PerWorkerDataset, one per worker; pass it to
    ``ClusterCoordinator.schedule`` (each worker's function gets its iterator)."""

    def __iter__(self):
        return self

    def __next__(self):
        raise RuntimeError("A per-worker iterator is advanced inside the functions "
                           "scheduled with ClusterCoordinator.schedule: pass it in "
                           "`args` and call next() on it there.")

    @property
    def element_spec(self):
        return self._values[0].element_spec


# ---------------------------------------------------------------- coordinator
class _Worker:
    def __init__(self, coordinator, index):
        self.index = index
        self.queue = queue.SimpleQueue()
        self.thread = threading.Thread(target=coordinator._work, args=(self,),
                                       name=f"dlframe-ps-worker-{index}", daemon=True)
        self.thread.start()


def _local_dataset(dataset):
    """What a worker iterates: a one-replica DistributedDataset is its dataset."""
    if isinstance(dataset, DistributedDataset) and dataset._undivided():
        return dataset._dataset
    return dataset


class ClusterCoordinator:
    """Schedules functions onto the workers of a ``ParameterServerStrategy``.

    There is one coordinator per strategy: constructing another returns it.

    Args:
      strategy: a ``tf.distribute.ParameterServerStrategy``.

    Raises:
      ValueError: for another kind of strategy.
    """

    def __new__(cls, strategy):
        existing = getattr(strategy, "_cluster_coordinator", None)
        if existing is not None:
            return existing
        return super().__new__(cls)

    def __init__(self, strategy):
        if getattr(self, "_strategy", None) is not None:
            return  # the strategy's existing coordinator
        if not isinstance(strategy, ParameterServerStrategy):  # TF: ValueError
            raise ValueError(  # noqa: TRY004
                "Only `tf.distribute.ParameterServerStrategy` is supported to work with "
                "`tf.distribute.coordinator.ClusterCoordinator` currently; got "
                f"{strategy!r}.")
        self._strategy = strategy
        self._cv = threading.Condition()
        self._next_ticket = 0
        self._turn = 0          # the ticket whose closure runs next
        self._pending = 0       # scheduled closures not finished
        self._error = None      # the first error not raised yet
        self._cancel_below = 0  # tickets below it are cancelled
        n = strategy.extended._num_workers
        self._workers = [_Worker(self, i) for i in range(n)]
        strategy._cluster_coordinator = self

    @property
    def strategy(self):
        """The ParameterServerStrategy this coordinator schedules for."""
        return self._strategy

    # -- scheduling ----------------------------------------------------------------
    def schedule(self, fn, args=None, kwargs=None):
        """Schedules ``fn(*args, **kwargs)`` on a worker; returns its RemoteValue at
        once. PerWorkerValues arguments (per-worker iterators) are replaced by the
        running worker's value, RemoteValue arguments by their results.

        Raises:
          An error of a previously scheduled function that was not raised yet.
        """
        if not callable(fn):
            raise TypeError(f"`fn` must be callable, got {fn!r}")
        self._raise_error()
        remote = RemoteValue()
        with self._cv:
            ticket = self._next_ticket
            self._next_ticket += 1
            self._pending += 1
        worker = self._workers[ticket % len(self._workers)]
        worker.queue.put((ticket, fn, tuple(args or ()), dict(kwargs or {}), remote))
        return remote

    def join(self):
        """Waits until every scheduled function finished.

        Raises:
          One of the errors the functions raised (then cleared).
        """
        with self._cv:
            self._cv.wait_for(lambda: self._pending == 0)
        self._raise_error()

    def done(self):
        """Whether every scheduled function finished (errors raised as ``join``)."""
        self._raise_error()
        with self._cv:
            return self._pending == 0

    def fetch(self, val):
        """``val`` (a RemoteValue, PerWorkerValues or a nest of them) with every
        RemoteValue replaced by its fetched result."""
        def one(v):
            if isinstance(v, RemoteValue):
                return v.fetch()
            if isinstance(v, PerWorkerValues):
                return tuple(one(x) for x in v._values)
            return v.numpy() if isinstance(v, Tensor) else v
        return _map(one, val)

    def _raise_error(self):
        with self._cv:
            error, self._error = self._error, None
        if error is not None:
            raise error

    # -- per-worker resources --------------------------------------------------------
    def create_per_worker_dataset(self, dataset_fn):
        """A PerWorkerDataset: ``dataset_fn()`` (or ``dataset_fn(input_context)``)
        called once per worker, or a dataset given directly copied to every
        worker; ``iter`` of it is passed to scheduled functions."""
        datasets = []
        for i in range(len(self._workers)):
            if callable(dataset_fn) and not hasattr(dataset_fn, "element_spec"):
                datasets.append(_local_dataset(self._call_on_worker(dataset_fn, i)))
            else:
                datasets.append(_local_dataset(dataset_fn))
        return PerWorkerDataset(datasets)

    def _create_per_worker_resources(self, fn, args=None, kwargs=None):
        """PerWorkerValues of ``fn(*args, **kwargs)`` made once per worker."""
        return PerWorkerValues([
            self._call_on_worker(lambda: fn(*(args or ()), **(kwargs or {})), i)
            for i in range(len(self._workers))])

    def _call_on_worker(self, fn, index):
        from dlframe.distribute.input import InputContext
        previous, _LOCAL.worker_index = _LOCAL.worker_index, index
        try:
            with self._strategy.scope():
                if _takes_one_argument(fn):
                    n = len(self._workers)
                    return fn(InputContext(n, index, self._strategy.num_replicas_in_sync))
                return fn()
        finally:
            _LOCAL.worker_index = previous

    # -- the workers -----------------------------------------------------------------
    def _work(self, worker):
        while True:
            ticket, fn, args, kwargs, remote = worker.queue.get()
            with self._cv:
                self._cv.wait_for(lambda t=ticket: self._turn == t)
                cancelled = ticket < self._cancel_below
            try:
                if cancelled:
                    remote._set(error=CancelledError(
                        None, None, "The corresponding function is cancelled. Please "
                        "reschedule the function."))
                else:
                    self._run(worker, fn, args, kwargs, remote)
            finally:
                with self._cv:
                    self._turn += 1
                    self._pending -= 1
                    self._cv.notify_all()

    def _run(self, worker, fn, args, kwargs, remote):
        def resolve(v):
            if isinstance(v, PerWorkerValues):
                return v._values[worker.index]
            if isinstance(v, RemoteValue):
                return v.get()
            return v
        _LOCAL.worker_index = worker.index
        try:
            args, kwargs = _map(resolve, args), _map(resolve, kwargs)
            with self._strategy.scope():
                result = fn(*args, **kwargs)
        except StopIteration:
            self._failed(remote, OutOfRangeError(None, None, "End of sequence"))
        except Exception as exc:  # noqa: BLE001 - handed to the RemoteValue and join()
            self._failed(remote, exc)
        else:
            remote._set(value=result)
        finally:
            _LOCAL.worker_index = None

    def _failed(self, remote, error):
        remote._set(error=error)
        with self._cv:
            if self._error is None:
                self._error = error
            self._cancel_below = self._next_ticket


def _takes_one_argument(fn):
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.default is p.empty and
                  p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return False
    return len(params) == 1


__all__ = ["ClusterCoordinator", "PerWorkerValue", "PerWorkerValues", "RemoteValue",
           "experimental_get_current_worker_index"]
