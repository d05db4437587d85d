"""The host tracer behind ``tf.profiler``: op dispatches and ``Trace`` regions.

While a profiling session runs, ``dlframe.core.primitive.PROFILER`` holds the
active :class:`Recorder`; ``primitive.call`` then reports each op dispatch (op
type, device, start, duration, thread) and ``Trace`` reports each annotated
region. ``Recorder.export`` writes them as a gzipped Chrome trace-event JSON file,
the ``<host>.trace.json.gz`` that TensorBoard's profile plugin shows in its trace
viewer, under ``<logdir>/plugins/profile/<run>/`` as TensorFlow lays runs out.
"""

import gzip
import importlib
import json
import os
import socket
import threading
import time

from dlframe.errors import AlreadyExistsError, UnavailableError

# the module, not the ``primitive`` decorator that dlframe.core exports under its name
_primitive = importlib.import_module("dlframe.core.primitive")
_LOCK = threading.Lock()
_HOST_PID = 1       # trace-viewer process of the host CPU ("/host:CPU" in TF's traces)
_PYTHON_PID = 2     # Python function calls (python_tracer_level=1)


class Recorder:
    """Collects timed events of one profiling session.

    Events are tuples ``(name, start_ns, duration_ns, thread_ident, args)``;
    ``list.append`` is atomic in CPython, so every thread appends without a lock.

    Args:
      options: the session's ``ProfilerOptions``.
    """

    def __init__(self, options):
        self.options = options
        self.start_ns = time.perf_counter_ns()
        self.wall_start = time.time()
        self.ops = []
        self.regions = []
        self.python_calls = []
        self.thread_names = {}
        self.record_ops = options.host_tracer_level >= 2
        self.record_regions = options.host_tracer_level >= 1

    def op(self, prim, device, start_ns):
        """Records one op dispatch that began at ``start_ns`` (called by ``call``)."""
        end = time.perf_counter_ns()
        if self.record_ops:
            self.ops.append((prim.name, start_ns, end - start_ns, self._thread(),
                             device.name))

    def region(self, name, start_ns, end_ns, args):
        """Records one ``Trace`` region."""
        if self.record_regions:
            self.regions.append((name, start_ns, end_ns - start_ns, self._thread(),
                                 args))

    def timed_program(self, program, node_names):
        """``program`` (a compiled graph's steps) with every forward timed as an op.

        A ``dlframe.function`` graph runs its nodes without ``call``; while
        profiling it runs this program instead, so each node shows in the trace.
        Programs are cached by identity for the session.
        """
        cache = self.__dict__.setdefault("_timed", {})
        timed = cache.get(id(program))
        if timed is None:
            if len(node_names) != len(program):   # fused steps: name them by kernel
                node_names = [getattr(s[0], "__name__", "Fused") for s in program]
            timed = [(self._timed_forward(step[0], name),) + tuple(step[1:])
                     for step, name in zip(program, node_names)]
            cache[id(program)] = timed
            self.__dict__.setdefault("_keep", []).append(program)   # ids stay unique
        return timed

    def _timed_forward(self, forward, name):
        prim = _NamedOp(name)

        def timed(device, *arrays, **attrs):
            start = time.perf_counter_ns()
            out = forward(device, *arrays, **attrs)
            self.op(prim, device, start)
            return out
        return timed

    def _thread(self):
        # the OS thread id (as TF's traces show), named while the thread still lives
        tid = threading.get_native_id()
        if tid not in self.thread_names:
            self.thread_names[tid] = threading.current_thread().name
        return tid

    def _python_event(self, frame, event, arg):
        # sys.setprofile callback: pairs call/return events per thread on a stack
        if event in ("call", "c_call"):
            stack = self._stack()
            stack.append(time.perf_counter_ns())
        elif event in ("return", "c_return", "c_exception"):
            stack = self._stack()
            if not stack:
                return
            start = stack.pop()
            if event == "return":
                code = frame.f_code
                name = f"{code.co_name} ({os.path.basename(code.co_filename)}:" \
                       f"{code.co_firstlineno})"
            else:
                name = getattr(arg, "__qualname__", None) or repr(arg)
            self.python_calls.append((name, start, time.perf_counter_ns() - start,
                                      self._thread(), None))

    def _stack(self):
        local = self.__dict__.setdefault("_local", threading.local())
        stack = getattr(local, "stack", None)
        if stack is None:
            stack = local.stack = []
        return stack

    def chrome_trace(self):
        """The session as a Chrome trace-event dict (times in microseconds)."""
        delay_ns = (self.options.delay_ms or 0) * 1_000_000
        keep_from = self.start_ns + delay_ns
        events = [_meta("process_name", _HOST_PID, None, "/host:CPU"),
                  _meta("process_sort_index", _HOST_PID, None, 0, key="sort_index")]
        if self.python_calls:
            events.append(_meta("process_name", _PYTHON_PID, None, "/host:python"))
        threads = set()
        groups = ((self.ops, _HOST_PID, "op"), (self.regions, _HOST_PID, "trace"),
                  (self.python_calls, _PYTHON_PID, "python"))
        for records, pid, kind in groups:
            for name, start, dur, tid, extra in records:
                if start < keep_from:
                    continue
                threads.add((pid, tid))
                event = {"ph": "X", "pid": pid, "tid": tid, "name": name, "cat": kind,
                         "ts": (start - self.start_ns) / 1000.0, "dur": dur / 1000.0}
                if kind == "op":
                    event["args"] = {"device": extra, "long_name": name}
                elif extra:
                    event["args"] = {k: str(v) for k, v in extra.items()}
                events.append(event)
        for pid, tid in sorted(threads):
            events.append(_meta("thread_name", pid, tid, self.thread_names[tid]))
        return {"displayTimeUnit": "ns", "metadata": {"highres-ticks": True},
                "traceEvents": events}

    def export(self, logdir):
        """Writes ``<logdir>/plugins/profile/<run>/<host>.trace.json.gz``.

        Returns:
          The path of the written file.
        """
        run = time.strftime("%Y_%m_%d_%H_%M_%S", time.localtime())
        run_dir = os.path.join(os.fspath(logdir), "plugins", "profile", run)
        os.makedirs(run_dir, exist_ok=True)
        path = os.path.join(run_dir, f"{socket.gethostname()}.trace.json.gz")
        data = json.dumps(self.chrome_trace(), separators=(",", ":")).encode("utf-8")
        with gzip.open(path, "wb") as f:
            f.write(data)
        return path


class _NamedOp:
    """Stands for a primitive (only its ``name`` is read) in a timed graph node."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


def _meta(kind, pid, tid, value, key="name"):
    event = {"ph": "M", "pid": pid, "name": kind, "args": {key: value}}
    if tid is not None:
        event["tid"] = tid
    return event


class _Session:
    """The process-wide profiling session (TF allows one at a time)."""

    recorder = None
    logdir = None


def start_session(logdir, options):
    """Starts recording; raises ``AlreadyExistsError`` when a session runs."""
    import sys
    with _LOCK:
        if _Session.recorder is not None:
            raise AlreadyExistsError(None, None, "Another profiler is running.")
        recorder = Recorder(options)
        _Session.recorder, _Session.logdir = recorder, logdir
        _primitive.PROFILER = recorder
    if options.python_tracer_level >= 1:
        threading.setprofile(recorder._python_event)
        sys.setprofile(recorder._python_event)
    return recorder


def stop_session(save=True):
    """Stops recording and writes the trace when ``save``; returns its path or None.

    Raises ``UnavailableError`` when no session runs.
    """
    import sys
    with _LOCK:
        recorder, logdir = _Session.recorder, _Session.logdir
        if recorder is None:
            raise UnavailableError(
                None, None, "Cannot export profiling results. No profiler is running.")
        _primitive.PROFILER = None
        _Session.recorder = _Session.logdir = None
    if recorder.options.python_tracer_level >= 1:
        sys.setprofile(None)
        threading.setprofile(None)
    return recorder.export(logdir) if save else None


def active_recorder():
    """The running session's Recorder, or None."""
    return _Session.recorder
