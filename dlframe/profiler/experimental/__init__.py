"""``tf.profiler.experimental``: start/stop a profiling session, annotate regions.

Example::

    tf.profiler.experimental.start("logs")
    for step in range(10):
        with tf.profiler.experimental.Trace("train", step_num=step, _r=1):
            train_step()
    tf.profiler.experimental.stop()   # logs/plugins/profile/<run>/<host>.trace.json.gz
"""

import collections
import time

from dlframe.profiler import recorder as _recorder
from dlframe.profiler.experimental import client, server


class ProfilerOptions(collections.namedtuple(
        "ProfilerOptions",
        ["host_tracer_level", "python_tracer_level", "device_tracer_level", "delay_ms"])):
    """Options of a profiling session.

    Args:
      host_tracer_level: 0 records nothing on the host, 1 only ``Trace`` regions,
        2 (default) and 3 also every op dispatch.
      python_tracer_level: 1 also records every Python function call (slow);
        0 (default) does not.
      device_tracer_level: accepted; device kernels run inside their op's
        dispatch, which the host tracer times.
      delay_ms: events in the first ``delay_ms`` milliseconds are dropped.
    """

    __slots__ = ()

    def __new__(cls, host_tracer_level=2, python_tracer_level=0, device_tracer_level=1,
                delay_ms=None):
        return super().__new__(cls, host_tracer_level, python_tracer_level,
                               device_tracer_level, delay_ms)


def _check_options(options):
    if options is None:
        return ProfilerOptions()
    if not isinstance(options, tuple) or not hasattr(options, "_asdict"):
        raise TypeError("options must be a tf.profiler.experimental.ProfilerOptions, "
                        f"got {options!r}")
    for field in ("host_tracer_level", "python_tracer_level", "device_tracer_level"):
        level = getattr(options, field)
        if isinstance(level, bool) or not isinstance(level, int) or level < 0:
            raise ValueError(f"ProfilerOptions.{field} must be a non-negative int, "
                             f"got {level!r}")
    delay = options.delay_ms
    if delay is not None and (isinstance(delay, bool) or not isinstance(delay, int)
                              or delay < 0):
        raise ValueError(f"ProfilerOptions.delay_ms must be None or a non-negative int, "
                         f"got {delay!r}")
    return options


def start(logdir, options=None):
    """Starts profiling: every op dispatch and ``Trace`` region is recorded.

    Args:
      logdir: directory the trace is written under when profiling stops.
      options: a ``ProfilerOptions`` (default ``ProfilerOptions()``).

    Raises:
      AlreadyExistsError: a profiling session is already running.
      TypeError: ``logdir`` is not a path or ``options`` not ``ProfilerOptions``.
    """
    if not isinstance(logdir, (str, bytes)) and not hasattr(logdir, "__fspath__"):
        raise TypeError(f"logdir must be a path, got {logdir!r}")
    _recorder.start_session(logdir, _check_options(options))


def stop(save=True):
    """Stops profiling and writes the trace.

    The trace is ``<logdir>/plugins/profile/<YYYY_MM_DD_HH_MM_SS>/<host>.trace.json.gz``
    (gzipped Chrome trace-event JSON, read by TensorBoard's profile plugin).

    Args:
      save: write the trace (False discards it).

    Raises:
      UnavailableError: no profiling session is running.
    """
    _recorder.stop_session(save)


class Profile:
    """Context manager profiling its body: ``start(logdir, options)`` on entry,
    ``stop()`` on exit.

    Args:
      logdir: directory the trace is written under.
      options: a ``ProfilerOptions``.
    """

    def __init__(self, logdir, options=None):
        self._logdir = logdir
        self._options = options

    def __enter__(self):
        start(self._logdir, self._options)

    def __exit__(self, typ, value, tb):
        stop()


class Trace:
    """Context manager marking a named region (a step, a phase) in the trace.

    Costs one check when no profiler runs. ``Trace("train", step_num=k, _r=1)`` is
    TF's way of marking training step ``k``; every keyword is kept as an
    argument of the region's trace event.

    Args:
      name: the region's name shown in the trace viewer.
      **kwargs: metadata of the region (``step_num``, ``_r``, anything else).
    """

    __slots__ = ("_kwargs", "_name", "_recorder", "_start")

    def __init__(self, name, **kwargs):
        if not isinstance(name, str):
            raise TypeError(f"Trace name must be a str, got {name!r}")
        self._name = name
        self._kwargs = kwargs
        self._recorder = None

    def __enter__(self):
        self._recorder = _recorder.active_recorder()
        if self._recorder is not None:
            self._start = time.perf_counter_ns()
        return self

    def set_metadata(self, **kwargs):
        """Adds (or overrides) metadata of the region while it is open."""
        self._kwargs.update(kwargs)

    def __exit__(self, typ, value, tb):
        rec = self._recorder
        if rec is not None:
            self._recorder = None
            rec.region(self._name, self._start, time.perf_counter_ns(), self._kwargs)


__all__ = ["Profile", "ProfilerOptions", "Trace", "client", "server", "start", "stop"]
