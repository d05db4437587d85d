"""The primitive registry and ``call``: the one place where ops run and are recorded.

A primitive is a forward on raw arrays with its gradient rule beside it
(DESIGN.md §4). ``call`` checks devices, runs the forward, wraps outputs, appends
to active tapes that watch an input, and appends to the active trace.

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
from dlframe.core import tensor as _tensor_mod
from dlframe.core.tensor import Tensor
from dlframe.errors import DeviceMismatchError

_EMPTY = {}
REGISTRY = {}
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
    """

    __slots__ = ("name", "forward", "grad", "n_out", "aliases", "stateful", "effects",
                 "dry_run", "wants_needs", "into", "value_shaped", "__dict__")

    def __init__(self, name, forward, grad=None, n_out=1, aliases=False, stateful=False,
                 effects=False):
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

    def __repr__(self):
        return f"<Primitive {self.name}>"


def primitive(name, n_out=1, aliases=False, stateful=False, effects=False):
    """Decorator registering a forward function as a Primitive.

    Use ``@prim.defgrad`` on the gradient rule to attach it.
    """
    def wrap(forward):
        p = Primitive(name, forward, None, n_out, aliases, stateful, effects)
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


def _device_error(prim, inputs):
    names = ", ".join(f"#{i}: {t._device.name}" for i, t in enumerate(inputs))
    return DeviceMismatchError(
        f"{prim.name}: inputs live on different devices ({names}); copy explicitly "
        "with dlframe.identity under a dlframe.device scope or Tensor.cpu().")


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
    mixed = False
    if inputs:
        dev = inputs[0]._device
        for t in inputs:
            if t._device is not dev:
                mixed = _may_mix(prim, inputs)
                if not mixed:
                    raise _device_error(prim, inputs)
                break
        arrays = [t._value for t in inputs]
    else:
        dev = device if device is not None else backends.current_device()
        arrays = ()
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
    if prim.n_out == 1:
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
    else:
        outs = tuple(Tensor(r, dev) for r in result)
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


def _may_mix(prim, inputs):
    """Whether ``prim`` may take inputs on several devices: a loop whose body runs
    on several logical CPU devices (``strategy.run`` traced inside it) sets
    ``mixes_cpu_devices`` (True, or a callable ``(inputs, attrs)`` giving each
    output's device); they share host memory, so no copy is needed."""
    return getattr(prim, "mixes_cpu_devices", False) and \
        not any(t._device.is_gpu for t in inputs)


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
