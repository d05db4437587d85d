"""``keras.utils.PyDataset`` (Keras 3) and ``keras.utils.Sequence`` (Keras 2): Python
objects that hand out whole batches by index, and the ordered thread pool that
prefetches them for ``fit``/``evaluate``/``predict``.

``use_multiprocessing=True`` is accepted and served by threads as well: batches are
NumPy work that releases the GIL, and threads need no pickling of the dataset.
"""

import concurrent.futures
import itertools
import warnings

_SUPER_WARNING = (
    "Your `PyDataset` class should call `super().__init__(**kwargs)` in its "
    "constructor. `**kwargs` can include `workers`, `use_multiprocessing`, "
    "`max_queue_size`. Do not pass these arguments to `fit()`, as they will be "
    "ignored.")


def _check_positive_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}. Received: "
                         f"{name}={value!r}")


class PyDataset:
    """Base class for a dataset whose batches are computed in Python.

    Subclasses implement ``__getitem__(index)`` (a batch: ``x``, ``(x,)``, ``(x, y)``
    or ``(x, y, sample_weight)``) and either ``__len__`` or the ``num_batches``
    property (``None`` for an endless dataset). ``fit`` visits every batch once per
    epoch (in shuffled order when ``shuffle=True``) and calls ``on_epoch_begin`` and
    ``on_epoch_end`` around each pass.

    Args:
      workers: how many threads compute batches ahead of the training loop.
      use_multiprocessing: accepted for compatibility; batches are computed by
        threads either way.
      max_queue_size: how many batches may be computed ahead.
    """

    # Keras 2 ``Sequence`` subclasses never called ``super().__init__``.
    _warn_missing_super = True

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        _check_positive_int(workers, "workers", 0)
        _check_positive_int(max_queue_size, "max_queue_size", 1)
        self._workers = workers
        self._use_multiprocessing = bool(use_multiprocessing)
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self):
        missing = False
        for attr, default in (("_workers", 1), ("_use_multiprocessing", False),
                              ("_max_queue_size", 10)):
            if attr not in self.__dict__:
                setattr(self, attr, default)
                missing = True
        if missing and self._warn_missing_super:
            warnings.warn(_SUPER_WARNING, stacklevel=3)

    @property
    def workers(self):
        """Threads computing batches ahead (1: batches are computed on demand)."""
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        """Whether processes were asked for (threads serve the request)."""
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        """How many batches may be computed ahead of the training loop."""
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        """The batch at position ``index``."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `__getitem__(self, index)` "
            "returning a batch.")

    @property
    def num_batches(self):
        """The number of batches, or ``None`` for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            f"{type(self).__name__} must implement `__len__` or the `num_batches` "
            "property:\n\n@property\ndef num_batches(self):\n  return ...")

    def __iter__(self):
        count = num_batches(self)
        for index in itertools.count() if count is None else range(count):
            yield self[index]

    def on_epoch_begin(self):
        """Called at the beginning of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch."""


class Sequence(PyDataset):
    """Keras 2's ``keras.utils.Sequence``: a ``PyDataset`` whose subclasses need not
    call ``super().__init__()`` (they get one worker and no warning)."""

    _warn_missing_super = False

    @property
    def num_batches(self):
        """As ``PyDataset``'s, unless the subclass set its own attribute of that name
        (Keras 2's Sequence has no such property: ``self.num_batches = n`` is a
        plain attribute there, as keras.io's metric-learning example sets it)."""
        if "_own_num_batches" in self.__dict__:
            return self.__dict__["_own_num_batches"]
        return PyDataset.num_batches.fget(self)

    @num_batches.setter
    def num_batches(self, value):
        self.__dict__["_own_num_batches"] = value


def num_batches(dataset):
    """``dataset.num_batches`` for a ``PyDataset``, ``len(dataset)`` for a duck-typed
    Keras 2 sequence; ``None`` means endless."""
    if isinstance(dataset, PyDataset):
        count = dataset.num_batches
    else:
        count = len(dataset)
    if count is not None:
        _check_positive_int(count, "num_batches", 0)
    return count


def loader_settings(dataset, workers=1, use_multiprocessing=False, max_queue_size=10):
    """``(workers, max_queue_size)`` for a sequence: the dataset's own settings, or the
    Keras 2 ``fit(workers=...)`` arguments when the dataset did not set any."""
    del use_multiprocessing  # threads serve both settings
    own = dataset.__dict__ if hasattr(dataset, "__dict__") else {}
    if isinstance(dataset, PyDataset):
        dataset._warn_if_super_not_called()
    if own.get("_workers", 1) != 1 or own.get("_max_queue_size", 10) != 10:
        return own.get("_workers", 1), own.get("_max_queue_size", 10)
    return workers or 1, max_queue_size or 10


def ordered_batches(getitem, indices, workers=1, max_queue_size=10):
    """Yields ``getitem(i)`` for ``i`` in ``indices``, in order; with ``workers > 1``
    up to ``max_queue_size`` batches are computed ahead by a thread pool."""
    if workers <= 1:
        for index in indices:
            yield getitem(index)
        return
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers,
                                                 thread_name_prefix="PyDataset")
    pending = []
    indices = iter(indices)
    try:
        for index in itertools.islice(indices, max(max_queue_size, workers)):
            pending.append(pool.submit(getitem, index))
        while pending:
            batch = pending.pop(0).result()
            for index in itertools.islice(indices, 1):
                pending.append(pool.submit(getitem, index))
            yield batch
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)
