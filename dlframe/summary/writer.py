"""Summary writers, the default writer, the default step and ``record_if``.

As in TensorFlow the state is per thread: ``writer.as_default()`` makes a writer the
target of ``tf.summary.scalar``/... inside the block (and flushes it on exit);
``set_as_default()`` does so for the rest of the thread.
"""

import contextlib
import itertools
import os
import threading
import time

from dlframe.core.tensor import Tensor, convert_to_tensor


class _State(threading.local):
    def __init__(self):
        self.writer = None
        self.step = None
        self.recording = True


STATE = _State()


_COUNT = itertools.count()


def _events_writer(logdir, filename_suffix):
    """tensorboardX's synchronous event-file writer (its SummaryWriter queues events on
    a thread, so a flush would not mean they are on disk)."""
    try:
        from tensorboardX.event_file_writer import EventsWriter
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("tf.summary writes TensorBoard event files through tensorboardX, "
                          "which is not installed: pip install 'dlframe[tensorboard]'") from e
    suffix = f".{os.getpid()}.{next(_COUNT)}.v2{filename_suffix}"
    return EventsWriter(os.path.join(logdir, "events"), suffix)


class SummaryWriter:
    """Base class of summary writers (``tf.summary.SummaryWriter``)."""

    def set_as_default(self, step=None):
        """Makes this the default writer for the rest of the thread (and ``step`` the
        default step when given)."""
        STATE.writer = self
        if step is not None:
            STATE.step = step

    @contextlib.contextmanager
    def as_default(self, step=None):
        """Context manager making this the default writer; flushes it on exit.

        Args:
          step: optional default step inside the block (restored on exit).
        """
        old_writer, old_step = STATE.writer, STATE.step
        STATE.writer = self
        if step is not None:
            STATE.step = step
        try:
            yield self
        finally:
            STATE.writer = old_writer
            if step is not None:
                STATE.step = old_step
            self.flush()

    def init(self):
        """No-op: writers are ready on creation."""

    def flush(self):
        """Writes buffered events to disk."""

    def close(self):
        """Flushes and closes the writer."""

    def _write(self, summary, step):
        return False


class _FileWriter(SummaryWriter):
    """Writes TensorBoard event files (``*.v2``) into ``logdir``."""

    def __init__(self, logdir, max_queue=None, flush_millis=None, filename_suffix=None,
                 name=None):
        self._logdir = os.fspath(logdir)
        os.makedirs(self._logdir, exist_ok=True)
        self._writer = _events_writer(self._logdir, filename_suffix or "")
        self._max_queue = 10 if max_queue is None else int(max_queue)
        self._flush_secs = 120.0 if flush_millis is None else flush_millis / 1000.0
        self._pending = 0
        self._last_flush = time.monotonic()
        self._closed = False

    @property
    def logdir(self):
        return self._logdir

    def _write(self, summary, step):
        if self._closed:
            return False
        from tensorboardX.proto import event_pb2
        self._writer.write_event(event_pb2.Event(wall_time=time.time(), step=int(step),
                                                 summary=summary))
        self._pending += 1
        if self._pending >= self._max_queue or \
                time.monotonic() - self._last_flush >= self._flush_secs:
            self.flush()
        return True

    def flush(self):
        if not self._closed:
            self._writer.flush()
            self._pending = 0
            self._last_flush = time.monotonic()

    def close(self):
        if not self._closed:
            self._writer.close()
            self._closed = True

    def __repr__(self):
        return f"<SummaryWriter logdir={self._logdir!r}>"


class _NoopWriter(SummaryWriter):
    """A writer that records nothing (``tf.summary.create_noop_writer``)."""


def create_file_writer(logdir, max_queue=None, flush_millis=None, filename_suffix=None,
                       name=None, experimental_trackable=False, experimental_mesh=None):
    """A SummaryWriter writing event files into directory ``logdir``.

    Args:
      logdir: directory of the event files (created if missing).
      max_queue: events buffered before a write (default 10).
      flush_millis: longest time between flushes in ms (default 120000).
      filename_suffix: appended to the event file's name.
    """
    if logdir is None:
        raise ValueError("Expected logdir to be a string, got None")
    return _FileWriter(logdir, max_queue, flush_millis, filename_suffix, name)


def create_noop_writer():
    """A SummaryWriter that writes nothing."""
    return _NoopWriter()


def flush(writer=None, name=None):
    """Flushes ``writer`` (default: the default writer)."""
    writer = writer if writer is not None else STATE.writer
    if writer is not None:
        writer.flush()


# ------------------------------------------------------------------ step & recording
def get_step():
    """The default step (an int, Variable or None)."""
    return STATE.step


def set_step(step):
    """Sets the default step used when a summary op gets ``step=None``."""
    STATE.step = step


def _symbolic(t):
    """True when ``t`` is a value of the function being traced (a Variable or a
    tensor computed from its inputs): its value is known only when the graph runs."""
    from dlframe.core.primitive import STATE as trace_state
    trace = trace_state.trace
    return trace is not None and trace.is_symbolic(t)


def recording_condition():
    """The ``record_if`` condition now: a Python bool, or a boolean tensor of the
    graph being traced (a condition computed from a Variable or an input), which
    the summary ops then check each time the graph runs (as TF's graph ``cond``).

    A callable is called here, when the summary op is called (traced): a callable
    returning a Python bool is fixed at trace time, as in TensorFlow.
    """
    condition = STATE.recording
    if callable(condition) and not isinstance(condition, Tensor):
        condition = condition()
    if isinstance(condition, Tensor):
        if _symbolic(condition):
            return condition
        condition = bool(condition.numpy())
    return bool(condition)


@contextlib.contextmanager
def record_if(condition):
    """Records summaries inside the block only when ``condition`` (a bool, a boolean
    tensor or a callable returning one, evaluated at each write) holds."""
    old = STATE.recording
    STATE.recording = condition
    try:
        yield
    finally:
        STATE.recording = old


def should_record_summaries():
    """A boolean tensor: whether a summary op would write now (a default writer
    and recording on); inside a traced function it may be a graph value (a
    ``record_if`` condition computed from a Variable)."""
    if STATE.writer is None or isinstance(STATE.writer, _NoopWriter):
        return convert_to_tensor(False)
    condition = recording_condition()
    return condition if isinstance(condition, Tensor) else convert_to_tensor(condition)
