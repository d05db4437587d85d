"""``tf.train.Coordinator`` (stopping a group of threads together) and
``tf.train.checkpoints_iterator`` (waiting for new checkpoints)."""

import contextlib
import sys
import threading
import time

from dlframe.errors import OutOfRangeError


class Coordinator:
    """Coordinates the termination of a set of threads.

    Threads loop ``while not coord.should_stop(): ...``; any of them (or the main
    thread) calls ``request_stop()``, optionally with the exception that made it
    stop, and the main thread's ``join(threads)`` waits for all of them and re-raises
    that exception.

    Args:
      clean_stop_exception_types: exception types that stop the threads without
        being re-raised by ``join`` (default ``(tf.errors.OutOfRangeError,)``).
    """

    def __init__(self, clean_stop_exception_types=None):
        if clean_stop_exception_types is None:
            clean_stop_exception_types = (OutOfRangeError,)
        self._clean_stop_exception_types = tuple(clean_stop_exception_types)
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._exc_info_to_raise = None
        self._joined = False
        self._registered_threads = set()

    def _filter_exception(self, ex):
        """``ex`` as an exc_info triple, or None for a clean-stop exception."""
        exc_info = ex if isinstance(ex, tuple) else (type(ex), ex, ex.__traceback__)
        if issubclass(exc_info[0], self._clean_stop_exception_types):
            return None
        return exc_info

    def request_stop(self, ex=None):
        """Asks every thread to stop; the first non-clean ``ex`` is kept for
        ``join`` to re-raise.

        Args:
          ex: an exception or an ``exc_info`` tuple, or None.
        """
        with self._lock:
            if ex is not None and not self._joined:
                exc_info = self._filter_exception(ex)
                if exc_info is not None and self._exc_info_to_raise is None:
                    self._exc_info_to_raise = exc_info
            self._stop_event.set()

    def clear_stop(self):
        """Clears the stop request and the recorded exception (to reuse the
        coordinator)."""
        with self._lock:
            self._joined = False
            self._exc_info_to_raise = None
            self._stop_event.clear()

    def should_stop(self):
        """True once a stop was requested."""
        return self._stop_event.is_set()

    @contextlib.contextmanager
    def stop_on_exception(self):
        """A context manager that requests a stop when its body raises (and
        swallows the exception, which ``join`` re-raises)."""
        try:
            yield
        except BaseException:  # noqa: BLE001 - every exception stops the threads
            self.request_stop(ex=sys.exc_info())

    def wait_for_stop(self, timeout=None):
        """Waits up to ``timeout`` seconds (None: forever) for a stop request;
        returns whether one came."""
        return self._stop_event.wait(timeout)

    def register_thread(self, thread):
        """Adds ``thread`` to the threads ``join`` waits for."""
        with self._lock:
            self._registered_threads.add(thread)

    def join(self, threads=None, stop_grace_period_secs=120, ignore_live_threads=False):
        """Waits for the threads to finish, then re-raises the exception passed to
        ``request_stop``, if any.

        Once a stop is requested the threads get ``stop_grace_period_secs`` seconds
        to finish.

        Args:
          threads: the threads to wait for, besides the registered ones.
          stop_grace_period_secs: seconds to wait after the stop request.
          ignore_live_threads: do not raise when threads are still running after the
            grace period.

        Raises:
          RuntimeError: threads still running after the grace period.
          Exception: the exception given to ``request_stop``.
        """
        threads = set(self._registered_threads) | set(threads or ())
        while any(t.is_alive() for t in threads) and not self.wait_for_stop(0.01):
            pass
        deadline = time.monotonic() + stop_grace_period_secs
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            time.sleep(0.01)
        with self._lock:
            self._joined = True
            self._registered_threads = set()
            exc_info = self._exc_info_to_raise
        alive = [t.name for t in threads if t.is_alive()]
        if alive and not ignore_live_threads:
            raise RuntimeError(f"Coordinator stopped with threads still running: "
                               f"{' '.join(alive)}")
        if exc_info is not None:
            raise exc_info[1].with_traceback(exc_info[2])

    @property
    def joined(self):
        """Whether ``join`` has run."""
        return self._joined

    def raise_requested_exception(self):
        """Re-raises the exception given to ``request_stop``, if any."""
        with self._lock:
            exc_info = self._exc_info_to_raise
        if exc_info is not None:
            raise exc_info[1].with_traceback(exc_info[2])


def _wait_for_new_checkpoint(checkpoint_dir, last_checkpoint, seconds_to_sleep,
                             timeout):
    from dlframe.train.checkpoint import latest_checkpoint
    stop_time = None if timeout is None else time.monotonic() + timeout
    while True:
        path = latest_checkpoint(checkpoint_dir)
        if path is not None and path != last_checkpoint:
            return path
        if stop_time is not None and time.monotonic() + seconds_to_sleep > stop_time:
            return None
        time.sleep(seconds_to_sleep)


def checkpoints_iterator(checkpoint_dir, min_interval_secs=0, timeout=None,
                         timeout_fn=None):
    """Yields the path of each new checkpoint written in ``checkpoint_dir``, as it
    appears (an evaluation loop beside a training job).

    Args:
      checkpoint_dir: the directory the training job saves to.
      min_interval_secs: the least time between two yields.
      timeout: seconds to wait for a new checkpoint (None: forever).
      timeout_fn: called when ``timeout`` passes without a new checkpoint; the
        iterator ends when it returns True (or when there is no ``timeout_fn``).

    Yields:
      Checkpoint path prefixes, each one once.
    """
    last = None
    while True:
        path = _wait_for_new_checkpoint(checkpoint_dir, last, min(1.0, timeout or 1.0),
                                        timeout)
        if path is None:
            if timeout_fn is None or timeout_fn():
                return
            continue
        start = time.monotonic()
        last = path
        yield path
        remaining = start + min_interval_secs - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)
