"""The primitive registry and ``call``: the one place where ops run and are recorded.

A primitive is a forward on raw arrays with its gradient rule beside it
(DESIGN.md §4). ``call`` places the op (operands on several devices are copied to
the op's device, as TF copies them, with the recorded ``copy_to_device``), runs the
forward, wraps outputs, appends to active tapes that watch an input, and appends to
the active trace.

Forward signature: ``forward(device, *arrays, **attrs)`` -> array or tuple of arrays;
the device gives ``device.xp`` and device kernels (BLAS-threaded matmul, cuDNN RNN).
Gradient signature: ``grad(inputs, output, dy, **attrs)`` -> one gradient per input
(Tensor or None), written with dlframe ops so it is differentiable and traceable.
For multi-output primitives ``output`` and ``dy`` are tuples (missing dys are zeros).
"""

import copy
import threading
from time import perf_counter_ns as _perf_counter_ns

from dlframe import backends
from dlframe.backends.base import np as _np
from dlframe.core import tensor as _tensor_mod
from dlframe.core.tensor import Tensor

_EMPTY = {}
REGISTRY = {}
# Keras mixed precision's reader while a mixed-precision layer's call runs in any
# thread (keras.mixed_precision.autocast), else None: ``(prim, inputs) -> inputs``
# with that thread's autocast variables read in the layer's compute dtype.
AUTOCAST_READ = None
# The running tf.profiler session's recorder (dlframe.profiler), else None: ``call``
# reads it once per op, so dispatch costs nothing more while no one profiles.
PROFILER = None
# ``tf.debugging.enable_check_numerics``'s checker ``(prim, inputs, outs)``, else
# None: read once per eager op, like PROFILER.
NUMERICS_CHECK = None


class Primitive:
    """A named forward kernel plus its gradient rule.

    Attributes:
      name: TF-style op name used in errors ('AddV2', 'MatMul', ...).
      forward: ``forward(device, *arrays, **attrs)``.
      grad: gradient rule or None (not differentiable: outputs are not recorded).
      n_out: number of outputs (1 returns a Tensor, >1 a tuple).
      aliases: True when the forward may return a view of an input (then a
        Variable input's buffer is copied so later in-place assigns don't leak).
      stateful: True when the forward is random or reads mutable state (never
        constant-folded or deduplicated by the graph optimizer).
      effects: True when the forward has side effects (variable writes, printing):
        such nodes are never removed from a graph and keep their order.
      wants_needs: True when the gradient rule accepts ``needs`` (a bool per input:
        does anyone want that input's gradient?) to skip the work for the others.
      value_shaped: True (or a predicate ``(inputs, attrs)``) when the output shapes
        depend on input values, not only input shapes (loop outputs, masks,
        ``tf.range(n)``); a trace then runs shape queries of them with the graph.
      into: optional CPU kernel ``into(*arrays, out=buffer)`` computing the same
        values as ``forward`` into a given NumPy buffer of the output's shape and
        dtype (a ufunc for elementwise ops); the graph's buffer-reuse pass uses it
        to write into a dead input's buffer.
      host_kernel: True when the forward only runs on the host (string/object
        arrays, hash tables, Python loops over values). With a GPU input or a GPU
        current device it runs on ``cpu:0`` on host copies of its inputs; its
        string outputs stay on ``cpu:0`` and its numeric outputs go to that GPU,
        as TF's copies around a CPU-only kernel do. A predicate ``(inputs) -> bool``
        makes only some calls host ones (string comparisons). Any other op with a
        string operand on the host, called while the current device is a GPU, runs
        the same way (``tf.unique(words)[1]`` lands beside the model's weights).
      device_random: True (or a predicate ``(attrs) -> bool``) when the forward,
        on a device with a ``philox_stream`` (a GPU), draws only from Philox
        counters held on that device (read and advanced there): a CUDA graph
        replays such a draw with fresh numbers.
      takes_slices: (optional, set after registration) True when the gradient
        rule accepts an IndexedSlices ``dy``; the tape densifies it for others.
    """

    __slots__ = ("name", "forward", "grad", "n_out", "aliases", "stateful", "effects",
                 "dry_run", "wants_needs", "into", "value_shaped", "host_kernel",
                 "device_random", "__dict__")

    def __init__(self, name, forward, grad=None, n_out=1, aliases=False, stateful=False,
                 effects=False, host_kernel=False):
        self.name = name
        self.forward = forward
        self.grad = grad
        self.n_out = n_out
        self.aliases = aliases
        self.stateful = stateful or effects
        self.effects = effects
        self.dry_run = _first_input
        self.wants_needs = False
        self.value_shaped = False
        self.into = None
        self.host_kernel = host_kernel
        self.device_random = False

    def __repr__(self):
        return f"<Primitive {self.name}>"


def primitive(name, n_out=1, aliases=False, stateful=False, effects=False,
              host_kernel=False):
    """Decorator registering a forward function as a Primitive.

    Use ``@prim.defgrad`` on the gradient rule to attach it.
    """
    def wrap(forward):
        p = Primitive(name, forward, None, n_out, aliases, stateful, effects,
                      host_kernel)
        if name in REGISTRY:
            raise ValueError(f"Primitive {name!r} registered twice")
        REGISTRY[name] = p
        return p
    return wrap


def _defgrad(self, rule):
    self.grad = rule
    return rule


Primitive.defgrad = _defgrad


_STATEFUL_TWINS = {}


def stateful_twin(prim):
    """``prim`` as a stateful primitive (same forward and gradient), so that its
    node is neither folded nor merged, nor its outputs read as trace constants."""
    if prim.stateful:
        return prim
    twin = _STATEFUL_TWINS.get(prim)
    if twin is None:
        twin = _STATEFUL_TWINS[prim] = copy.copy(prim)
        twin.stateful = True
    return twin


class _State(threading.local):
    """Per-thread recording state: active tapes and the active trace."""

    def __init__(self):
        self.tapes = []
        self.trace = None
        # True while a function re-specializes a known signature for new sizes in its
        # None dimensions: the trace is not the user's, so trace-time prints are quiet
        self.silent_trace = False
        # > 0 while a graph runs with its effects dry-run inside a trace (a cond or
        # loop traced inside another's branch): its values stand for real ones
        self.dry_graphs = 0
        # set by a probing branch's forward that gave stand-in values for bad
        # indices (ops._util.stand_in): the next recorded node must not be folded
        self.stand_in = False


STATE = _State()
_tensor_mod._trace_state = STATE


def call(prim, inputs, attrs=None, device=None):
    """Runs ``prim`` on Tensors ``inputs`` and records it on tapes and traces.

    Args:
      prim: the Primitive.
      inputs: a tuple of Tensors (already converted, dtypes checked by the op).
      attrs: dict of static keyword attributes for the forward and gradient.
      device: device for primitives without tensor inputs (default: current).

    Returns:
      A Tensor, or a tuple of Tensors when ``prim.n_out > 1``.
    """
    profiler = PROFILER
    if profiler is not None:
        start_ns = _perf_counter_ns()
    mixed = hosted = False
    if inputs:
        if AUTOCAST_READ is not None:
            inputs = AUTOCAST_READ(prim, inputs)
        dev = inputs[0]._device
        for t in inputs:
            if t._device is not dev:   # TF copies operands to the op's device
                prim, dev, inputs, mixed, hosted = _placed(prim, inputs)
                break
        arrays = [t._value for t in inputs]
    else:
        dev = device if device is not None else backends.current_device()
        arrays = ()
    host_kernel = prim.host_kernel
    if host_kernel and (host_kernel is True or host_kernel(inputs)) and (
            dev.is_gpu or backends.current_device().is_gpu):
        prim, dev = _on_host(prim, dev if dev.is_gpu else backends.current_device())
        hosted = True
    elif not hosted and not dev.is_gpu:
        for a in arrays:   # inline: every CPU op passes here
            if a.dtype is _OBJECT:   # numbers derived from host strings
                gpu = backends.current_device()
                if gpu.is_gpu:
                    prim, dev = _on_host(prim, gpu)
                    hosted = True
                break
    state = STATE
    trace = state.trace
    if prim.effects and (trace is None or trace.run_effects):
        if trace is not None and getattr(trace, "tainted", None):
            trace.refuse_tainted(inputs)   # a deferred index error (trace_deferred)
        # a write in place: tapes keep the value they read (not inside a branch or
        # loop-body graph, whose tensors cannot reach the tape's outer entries)
        for t in inputs:
            if t._is_variable and t._taped is not None:
                t._before_write()
    if trace is not None and prim.effects and not trace.run_effects:
        # branch/loop-body tracing: record the effect, run it only when the graph runs
        result = prim.dry_run(dev, *arrays, **(attrs or _EMPTY))
    else:
        try:
            if dev.is_gpu:
                with dev.context():
                    result = prim.forward(dev, *arrays, **(attrs or _EMPTY))
            else:
                result = prim.forward(dev, *arrays, **(attrs or _EMPTY))
        except Exception as exc:
            # a function's trace: a stand-in result, the error when it is needed
            # (core.trace_deferred); free while nothing raises
            after_error = getattr(trace, "result_after_error", None)
            if after_error is None:
                raise
            result = after_error(prim, dev, inputs, arrays, attrs or _EMPTY, exc)
            if result is None:
                raise
    if hosted:   # ran on the host: strings stay there, numbers went to ``dev``
        if prim.n_out == 1:
            result = (_unalias(result, inputs) if prim.aliases else result,)
        outs = tuple(Tensor(r, _HOST[0] if r.dtype == object else dev) for r in result)
        out = outs[0] if prim.n_out == 1 else outs
    elif prim.n_out == 1:
        if prim.aliases:
            result = _unalias(result, inputs)
        out = Tensor(result, dev)
        outs = (out,)
    elif mixed:  # output k continues input k (a loop variable) on its device
        where = prim.mixes_cpu_devices   # or a callable naming each output's device
        devices = where(inputs, attrs) if callable(where) else [
            inputs[k]._device if k < len(inputs) else dev for k in range(len(result))]
        outs = tuple(Tensor(r, d) for r, d in zip(result, devices))
        out = outs
    else:   # (strings a GPU op made, a py_function's, stay in host memory)
        outs = tuple(Tensor(r, _host_device() if dev.is_gpu and r.dtype is _OBJECT
                            else dev) for r in result)
        out = outs
    if NUMERICS_CHECK is not None and (trace is None or trace.run_effects) and \
            not state.dry_graphs:   # values of untaken branches are not checked
        NUMERICS_CHECK(prim, inputs, outs)
    if state.tapes and prim.grad is not None:
        for tape in state.tapes:
            tape._record(prim, inputs, outs, attrs)
    if trace is not None:
        trace.record(prim, inputs, outs, attrs, dev)
    if profiler is not None:
        profiler.op(prim, dev, start_ns)
    return out


def _placed(prim, inputs):
    """``(prim, device, inputs, mixed, hosted)`` for a call whose ``inputs`` live on
    several devices. As TF places such an op: a write to a variable on the
    variable's device; else on the innermost ``tf.device`` scope's device if one is
    set (a tf.data function runs under the host's), else on a GPU among the inputs
    (TF prefers the GPU), else on the current default device. The other numeric
    inputs are copied there with ``copy_to_device`` (recorded, so tapes and traces
    see the copies). Strings stay in host memory: on a GPU the op runs as a host
    twin whose numeric outputs go to that GPU (TF has no GPU string kernels), as
    does a host kernel."""
    if getattr(prim, "mixes_cpu_devices", False):
        # a loop or branch (``mixes_cpu_devices``: True, or a callable ``(inputs,
        # attrs)`` giving each output's device) takes them as they are: its graphs
        # were traced with these very inputs (a loop over ``strategy.run`` on
        # logical CPUs, host strings beside a GPU's numbers, a CPU-scoped step
        # beside a GPU model), each node running where it was traced, with the
        # copies recorded there, as TF places a function's ops one by one
        return prim, inputs[0]._device, inputs, True, False
    written = next((t for t in inputs if t._is_variable), None) if prim.effects \
        else None
    if written is not None:   # a write runs on its variable's device (TF: the
        target = written._device   # resource's); a copy would take the write
    elif backends._stack():
        target = backends.current_device()
    else:
        target = next((t._device for t in inputs if t._device.is_gpu), None) or \
            backends.current_device()
    if target.is_gpu and (prim.host_kernel is True or any(
            t._value.dtype is _OBJECT for t in inputs)):
        prim, target = _on_host(prim, target)
        return prim, target, inputs, False, True
    inputs = tuple(t if t._device is target or t._value.dtype is _OBJECT
                   else copy_to_device(t, target) for t in inputs)
    return prim, target, inputs, False, False


_HOST = []          # [cpu:0], filled on first use
_host_types = (_np.ndarray, _np.generic)
_HOST_TWINS = {}


class _HostForward:
    """Forward of a host twin: runs ``forward`` on ``cpu:0`` on host copies of the
    arrays and places its numeric results on ``d`` (the GPU the op runs for); on a
    CPU ``d`` (constant folding, static shapes) it is the plain forward."""

    def __init__(self, forward, n_out):
        self.forward = forward
        self.n_out = n_out

    def __call__(self, d, *arrays, **attrs):
        host = _HOST[0]
        if not d.is_gpu:
            return self.forward(host, *arrays, **attrs)
        arrays = [a if isinstance(a, _host_types) else d.to_numpy(a) for a in arrays]
        result = self.forward(host, *arrays, **attrs)
        if self.n_out != 1:   # (-1: a tuple of any length)
            return tuple(_to_device(d, r) for r in result)
        return _to_device(d, result)


def _to_device(d, r):
    r = _np.asarray(r)
    return r if r.dtype == object else d.asarray(r)


def _host_device():
    if not _HOST:
        _HOST.append(backends.get_device("cpu:0"))
    return _HOST[0]


def _on_host(prim, target):
    """``(twin, target)``: ``prim`` as a host twin whose numeric outputs go to the
    GPU ``target``; the twin's forward is what traced programs replay."""
    twin = _HOST_TWINS.get(prim)
    if twin is None:
        _host_device()
        twin = _HOST_TWINS[prim] = copy.copy(prim)
        twin.forward = _HostForward(prim.forward, prim.n_out)
        twin.host_kernel = False
        twin.on_host = True   # graphs holding it are never captured as CUDA graphs
    return twin, target


_OBJECT = _np.dtype(object)


def numbers_device(x):
    """The device for numbers derived from Tensor ``x`` without a primitive (its
    shape, size, rank): ``x``'s own, except for strings on the host while the
    current device is a GPU, where they go to that GPU (TF copies such host-memory
    int32 results to the GPU op that reads them; DESIGN.md §3)."""
    dev = x._device
    if dev.is_gpu or x._value.dtype is not _OBJECT:
        return dev
    current = backends.current_device()
    return current if current.is_gpu else dev


def _first_input(d, *arrays, **attrs):
    """Default dry run of an effect: return the first input unchanged."""
    return arrays[0] if arrays else d.xp.zeros((), dtype="int32")


def _unalias(result, inputs):
    for t in inputs:
        if t._is_variable:
            return result.copy() if hasattr(result, "copy") else result
    return result


def recording():
    """True when some tape or trace records on this thread."""
    return bool(STATE.tapes) or STATE.trace is not None


# ---------------------------------------------------------------- copies between devices
def copy_array(src_device, array, dst_device, out=None):
    """``array`` (on ``src_device``) as an array of ``dst_device``, into ``out`` if
    given. Logical CPU devices share host memory; other pairs go through the host."""
    if not src_device.is_gpu and not dst_device.is_gpu:
        if out is None:
            return array.copy()
        dst_device.xp.copyto(out, array)
        return out
    value = dst_device.asarray(src_device.to_numpy(array))
    if out is None:
        return value
    out[...] = value
    return out


@primitive("CopyToDevice")
def _copy_p(d, x, *, source):
    return copy_array(source, x, d)


# (a graph holding a copy spans two devices: never captured as a CUDA graph)
# the tape hands it IndexedSlices as they are (an embedding used on another device
# gets sparse gradients, as through TF's copies)
_copy_p.takes_slices = True


@_copy_p.defgrad
def _copy_grad(inputs, out, dy, *, source):
    from dlframe.core.indexed_slices import IndexedSlices, like_slices
    if isinstance(dy, IndexedSlices):
        return like_slices(dy, copy_to_device(dy.values, source),
                           copy_to_device(dy.indices, source))
    return copy_to_device(dy, source)


def copy_to_device(t, device):
    """Tensor ``t`` copied to ``device`` (a Device or a name); ``t`` itself when it
    is already there, or when it holds strings and ``device`` is a GPU (strings live
    in host memory, as in TF). The copy is an op: tapes differentiate it (the
    gradient is copied back to ``t``'s device) and a traced function replays it on
    every call instead of keeping its trace-time value."""
    device = backends.get_device(device)
    if t._device is device or device.is_gpu and t._value.dtype is _OBJECT:
        return t
    return run_placed(_copy_p, (t,), {"source": t._device}, device, (device,))


def run_placed(prim, inputs, attrs, device, out_devices):
    """Runs ``prim.forward(device, ...)`` on ``inputs`` (which may live on several
    devices), wraps output ``k`` on ``out_devices[k]`` and records the call on the
    active tapes and trace with ``device``, as ``call`` does for one device (copies,
    collectives).

    Returns:
      A Tensor when ``prim.n_out == 1``, else a tuple of Tensors.
    """
    inputs = tuple(inputs)
    arrays = [t._value for t in inputs]
    if device.is_gpu:
        with device.context():
            result = prim.forward(device, *arrays, **attrs)
    else:
        result = prim.forward(device, *arrays, **attrs)
    if prim.n_out == 1:
        outs = (Tensor(result, out_devices[0]),)
    else:
        outs = tuple(Tensor(r, d) for r, d in zip(result, out_devices))
    state = STATE
    if state.tapes and prim.grad is not None:
        for tape in state.tapes:
            tape._record(prim, inputs, outs, attrs)
    if state.trace is not None:
        state.trace.record(prim, inputs, outs, attrs, device)
    return outs[0] if prim.n_out == 1 else outs
