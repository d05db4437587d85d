"""Running a function once per replica, each in its own thread, as TF does.

Replica ``i`` runs in a thread whose dlframe state is the caller's (active trace and
tapes, name scopes, device scopes, strategy contexts) plus its own device and
replica context. The threads take turns: one runs until it finishes or calls
``merge_call`` (``all_reduce``, an optimizer update), then the next. When every
replica waits in ``merge_call`` the caller's thread runs ``merge_fn`` once, in the
cross-replica context, with the replicas' arguments regrouped into ``PerReplica``
values, and hands each replica its part of the result. Taking turns keeps the run
deterministic and lets a ``dlframe.function`` trace record every replica's ops, in
order, into one graph.
"""

import threading
import weakref

from dlframe import backends, config
from dlframe.core import variable as _variable
from dlframe.core.primitive import STATE
from dlframe.core.tensor import Tensor
from dlframe.distribute import strategy as _strategy
from dlframe.distribute.cross_device import to_device
from dlframe.distribute.input import _map as map_leaves
from dlframe.distribute.values import REPLICA, PerReplica

# (capture() -> token, install(token)) pairs of higher layers' thread-local state
THREAD_STATE_HOOKS = []


class _Aborted(BaseException):
    """Unwinds a replica thread whose run was abandoned (another replica failed)."""


class _Local(threading.local):
    def __init__(self):
        self.thread = None


_LOCAL = _Local()


def _capture():
    return {"trace": STATE.trace, "tapes": list(STATE.tapes),
            "scopes": list(_variable._NAMES.scopes),
            "devices": list(getattr(backends._local, "stack", None) or ()),
            "ctx": list(_strategy._CTX.stack),
            "hooks": [(install, capture()) for capture, install in THREAD_STATE_HOOKS]}


class _ReplicaThread(threading.Thread):
    def __init__(self, strategy, index, device, fn, args, kwargs, caller):
        super().__init__(name=f"dlframe-replica-{index}", daemon=True)
        self.strategy, self.index, self.device = strategy, index, device
        self.fn, self.args, self.kwargs, self.caller = fn, args, kwargs, caller
        self.should_run = threading.Event()
        self.has_paused = threading.Event()
        self.done = False
        self.abort = False
        self.result = None
        self.error = None
        self.merge_fn = self.merge_args = self.merge_kwargs = self.merge_result = None

    def _install(self):
        caller = self.caller
        STATE.trace = caller["trace"]
        STATE.tapes = list(caller["tapes"])
        _variable._NAMES.scopes = list(caller["scopes"])
        backends._local.stack = list(caller["devices"]) + [self.device]
        context = _strategy.ReplicaContext(self.strategy, self.index)
        _strategy._CTX.stack = list(caller["ctx"]) + [(self.strategy, context)]
        for install, token in caller["hooks"]:
            install(token)
        REPLICA.device, REPLICA.index, REPLICA.strategy = \
            self.device, self.index, self.strategy
        _LOCAL.thread = self

    def run(self):
        self.should_run.wait()
        self.should_run.clear()
        try:
            if not self.abort:
                self._install()
                self.result = self.fn(*self.args, **self.kwargs)
        except _Aborted:
            pass
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            self.error = exc
        finally:
            self.done = True
            self.has_paused.set()


def in_replica_thread():
    return _LOCAL.thread is not None


def merge_call(merge_fn, args, kwargs):
    """Called in a replica thread: waits until every replica got here, lets the
    caller's thread run ``merge_fn`` once, returns this replica's part of its result."""
    thread = _LOCAL.thread
    thread.merge_fn, thread.merge_args, thread.merge_kwargs = merge_fn, args, kwargs
    thread.has_paused.set()
    thread.should_run.wait()
    thread.should_run.clear()
    if thread.abort:
        raise _Aborted()
    result, thread.merge_result = thread.merge_result, None
    return result


def call_for_each_replica(strategy, fn, per_replica_args, per_replica_kwargs,
                          sources=None):
    """Runs ``fn(*per_replica_args[i], **per_replica_kwargs[i])`` for every replica
    ``i`` (devices ``strategy.extended._replica_devices``); returns their results.
    ``sources`` is ``regroup``'s, for the arguments of ``merge_call``s."""
    devices = strategy.extended._replica_devices
    caller = _capture()
    threads = [_ReplicaThread(strategy, i, dev, fn, per_replica_args[i],
                              per_replica_kwargs[i], caller)
               for i, dev in enumerate(devices)]
    for t in threads:
        t.start()
    try:
        while True:
            for t in threads:
                if t.done:
                    continue
                t.should_run.set()
                t.has_paused.wait()
                t.has_paused.clear()
                if t.error is not None:
                    raise t.error
            if all(t.done for t in threads):
                break
            if any(t.done for t in threads):
                raise RuntimeError(
                    "Some replicas made a different number of merge_call()s (or "
                    "all_reduce()s) than others: every replica of strategy.run must "
                    "call them in the same order.")
            _merge(strategy, threads, sources)
    finally:
        for t in threads:
            if not t.done:
                t.abort = True
                t.should_run.set()
        for t in threads:
            t.join()
    return [t.result for t in threads]


def _merge(strategy, threads, sources):
    merge_fn = threads[0].merge_fn
    args = regroup([t.merge_args for t in threads], sources=sources)
    kwargs = regroup([t.merge_kwargs or {} for t in threads], sources=sources)
    _strategy._CTX.stack.append((strategy, None))
    try:
        result = merge_fn(strategy, *args, **kwargs)
    finally:
        _strategy._CTX.stack.pop()
    for t in threads:
        t.merge_result = select_replica(t.index, result,
                                        _local_copies(sources, t.device))
        t.merge_fn = t.merge_args = t.merge_kwargs = None


# ------------------------------------------------------ a compiled replica function
def compiled_run(strategy, fn):
    """For ``strategy.run(f)`` of a ``tf.function`` ``f`` called eagerly: a
    ``tf.function`` that runs ``f`` once per replica inside one trace, as TF does.

    Calling ``f`` itself from every replica thread would replay replica 0's trace
    (with its replica id and device baked in) for every replica. Returns None when
    ``fn`` is no compiled function or the call is already traced or taped.
    """
    from dlframe.core.function import Function
    if not isinstance(fn, Function) or STATE.trace is not None or STATE.tapes \
            or config.functions_run_eagerly():
        return None
    cache = strategy.__dict__.setdefault("_compiled_runs", weakref.WeakKeyDictionary())
    wrapped = cache.get(fn)
    if wrapped is None:
        target = weakref.ref(fn)   # the cache must not keep ``fn`` alive

        def run_per_replica(args, kwargs):
            return strategy.run(target(), args=args, kwargs=kwargs)
        run_per_replica.__name__ = fn.__name__
        wrapped = cache[fn] = Function(run_per_replica, autograph=fn._autograph,
                                       jit_compile=fn._jit_compile,
                                       reduce_retracing=fn._reduce_retracing)
    return wrapped


# ---------------------------------------------------------------- structures
def for_replica(index, device, structure, copies=None):
    """Replica ``index``'s arguments: its part of PerReplica values, other tensors
    copied to its device (variables stay themselves). ``copies`` (when given) maps
    ``id`` of each such tensor to ``(tensor, the argument it came from)``."""
    def leaf(v):
        if isinstance(v, PerReplica):
            v = v[index]
            if isinstance(v, Tensor) and not v._is_variable and v._device is not device:
                return to_device(v, device)
            return v
        if isinstance(v, Tensor) and not v._is_variable:
            copy = v if v._device is device else to_device(v, device)
            if copies is not None:
                copies[id(copy)] = (copy, v)
            return copy
        return v
    if isinstance(structure, PerReplica):
        return leaf(structure)
    return map_leaves(leaf, structure)


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields") and not isinstance(x, PerReplica)


def _source(value, sources):
    entry = sources.get(id(value)) if sources else None
    return entry[1] if entry is not None and entry[0] is value else None


def regroup(values, wrap=PerReplica, sources=None):
    """Per-replica structures -> one structure whose differing leaves are ``wrap``ped.

    Identical objects stay themselves, as in TF; so do the replicas' copies of one
    ``strategy.run`` argument (``sources``: ``id(copy) -> (copy, argument)``), which
    TF hands to every replica as the same object.
    """
    first = values[0]
    if all(v is first for v in values):
        return first
    origin = _source(first, sources)
    if origin is not None and all(_source(v, sources) is origin for v in values):
        return origin
    kind = type(first)
    same_kind = all(type(v) is kind for v in values)
    if same_kind and (kind in (list, tuple) or _is_namedtuple(first)) and \
            all(len(v) == len(first) for v in values):
        items = [regroup([v[i] for v in values], wrap, sources)
                 for i in range(len(first))]
        return kind(*items) if _is_namedtuple(first) else kind(items)
    if same_kind and isinstance(first, dict) and all(v.keys() == first.keys()
                                                     for v in values):
        return kind((k, regroup([v[k] for v in values], wrap, sources))
                    for k in first)
    return wrap(values)


def select_replica(index, structure, local=None):
    """Replica ``index``'s part of a structure holding PerReplica values; a leaf
    that is a ``strategy.run`` argument becomes this replica's copy of it (``local``:
    ``id(argument) -> copy``)."""
    if isinstance(structure, PerReplica):
        return structure[index]
    if _is_namedtuple(structure):
        return type(structure)(*[select_replica(index, v, local) for v in structure])
    if type(structure) in (list, tuple):
        return type(structure)(select_replica(index, v, local) for v in structure)
    if isinstance(structure, dict):
        return type(structure)((k, select_replica(index, v, local))
                               for k, v in structure.items())
    if local:
        return local.get(id(structure), structure)
    return structure


def _local_copies(sources, device):
    """``id(argument) -> copy`` for the copies of ``strategy.run`` arguments that
    live on ``device``."""
    return {id(source): copy for copy, source in (sources or {}).values()
            if copy._device is device}
