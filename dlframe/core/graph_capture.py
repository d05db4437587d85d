"""CUDA-graph capture of a traced program's whole step (DESIGN.md §5, GPU.md §1.5).

A static-shape step on one GPU is run plainly twice (compiling kernels, creating
cuBLAS handles, growing pools), captured by the device (``Device.capture_step``) on
its third run with one input signature, and replayed from then on. This module
decides which programs a replay reproduces and keeps the captured step of a
``trace.Graph`` (mixed in as ``CapturedStep``).
"""

import threading
import warnings

# nodes a replayed CUDA graph cannot reproduce: control flow deciding on the host,
# Python callbacks and host reads/writes (they run once, at capture, not per replay)
_HOST_SYNC = {"If", "While", "WhileWithHistory", "PrintV2", "Assert", "CheckNumerics",
              "PyFunc", "PyFuncStateless", "EagerPyFunc", "EagerPyFuncGrad",
              "ResourceCountUpTo", "WriteSummary", "WriteFile"}
# GPU forwards that read device values to the host (index bounds checks, stateless
# seeds, shape tensors): a read raises while a stream captures, so such graphs run
# plain instead of failing a capture (tests/gpu/test_cuda_graph_cublas_round21.py)
# (gathers, scatters and sparse optimizer updates mask bad indices on the device
# instead, TF's GPU semantics: dlframe/ops/device_index.py)
_HOST_SYNC |= {
    "ResourceScatterOrdered", "BroadcastArgs", "DynamicReshape", "RaggedGatherIndices",
    "SampleDistortedBoundingBoxV2", "StatelessMultinomial",
    "StatelessParameterizedTruncatedNormal", "StatelessRandomBinomial",
    "StatelessRandomGammaV3", "StatelessRandomNormalV2", "StatelessRandomPoisson",
    "StatelessRandomUniformFullIntV2", "StatelessRandomUniformIntV2",
    "StatelessRandomUniformV2", "StatelessTruncatedNormalV2"}

# stateful nodes a replay reproduces: a variable read is stateful only so that reads
# before and after a write are not merged; replayed, it copies the variable's buffer
# (the captured one: a variable given a new buffer is captured again) on the device
_REPLAYABLE_STATEFUL = {"ReadVariableOp"}

_WARM_UP_RUNS = 2   # plain runs of one input signature before it is captured


def _replays_faithfully(nodes, variable_inputs):
    """Whether replaying ``nodes`` as a CUDA graph does what running them does.

    A captured step copies its inputs into static buffers, so an effect node given
    a Variable input slot (``variable_inputs``: a Variable that a loop body or a
    branch takes as an input) would write the copy, not the variable. Effects only
    write their Variable operands, so one that reads a plain input (``v.assign(x)``)
    replays faithfully: the copy of ``x`` holds this run's value. A host kernel runs
    on host copies outside the stream.
    """
    # (``host_kernel`` may be a predicate, Equal's "compares strings": a node that
    # really ran on the host was recorded as its ``on_host`` twin, excluded below)
    return not any(prim.host_kernel is True or
                   prim.effects and any(s in variable_inputs for s in ins)
                   for prim, ins, *_ in nodes)


def replayable(nodes, variable_inputs):
    """Whether a CUDA graph of one run of ``nodes`` reproduces every later run.

    Args:
      nodes: the optimized program's ``[prim, in_slots, out_slots, attrs, device]``.
      variable_inputs: input slots that hold Variables.

    Returns:
      False when a node draws random numbers (stateful without effects, but for a
      variable read, a ``device_random`` draw on a GPU, whose counter lives
      and advances on the device, and a ``capture_safe`` call), reads or decides on the host, or writes a
      Variable input; True otherwise.
    """
    return not any(prim.stateful and not prim.effects and
                   prim.name not in _REPLAYABLE_STATEFUL and
                   not _draws_on_device(prim, attrs, dev) and
                   not _capture_safe(prim, attrs, ins) or
                   prim.name in _HOST_SYNC or "on_host" in prim.__dict__
                   for prim, ins, _, attrs, dev, *_ in nodes) and \
        _replays_faithfully(nodes, variable_inputs)


def _capture_safe(prim, attrs, ins):
    """Whether a stateful node declares this call replayable
    (``Primitive.capture_safe(attrs, n_inputs)``: cuDNN's RNN without a mask)."""
    flag = getattr(prim, "capture_safe", None)
    return flag is not None and bool(flag(attrs or {}, len(ins)))


def _draws_on_device(prim, attrs, device):
    """Whether a random node reads and advances its counter on a GPU (a replay then
    draws fresh numbers): ``Primitive.device_random``."""
    flag = getattr(prim, "device_random", False)
    return bool(flag) and device.is_gpu and (flag is True or flag(attrs or {}))


class _LockedReplay:
    """A captured step that one thread replays at a time: replays share the graph's
    static input and output buffers, so two at once could mix their results."""

    __slots__ = ("_lock", "step")

    def __init__(self, step):
        self.step = step
        self._lock = threading.Lock()   # uncontended: well under a microsecond

    def __call__(self, arrays):
        with self._lock:
            return self.step(arrays)


class CapturedStep:
    """The CUDA-graph half of ``trace.Graph``: which runs replay a captured step.

    The graph provides ``gpu_device``, ``template``, ``n_inputs``, ``outputs`` and
    ``_execute(slots, free=False)``.
    """

    def _init_capture(self, nodes, n_devices, rebinds, variable_inputs):
        """Decides whether this graph may be captured (on a GPU).

        Args:
          nodes: the optimized program's nodes.
          n_devices: how many devices the program's slots use.
          rebinds: True when a node gives a variable a new buffer (buffers change
            between runs).
          variable_inputs: input slots that hold Variables.
        """
        # (device independent, so CPU tests can check the decision)
        self._replayable = n_devices == 1 and not rebinds and \
            replayable(nodes, variable_inputs)
        self._capturable = self.gpu_device is not None and self._replayable
        self._captured = None
        self._captured_buffers = None
        self._captured_key = None   # input (shape, dtype)s the captured step holds
        self._warm_key = None
        self._runs = 0

    def _cuda_step(self, arrays, variables):
        """The captured step to replay on ``arrays``, or None to run plainly (a
        shape warming up or not captured, or a failed capture)."""
        buffers = tuple(id(var._value) for _, var in variables)
        # a graph with unknown input dims (a loop body, a relaxed signature) is called
        # with other shapes: its static buffers fit one shape, the others run plain
        key = tuple((a.shape, a.dtype) for a in arrays)
        if self._captured is not None:
            if key != self._captured_key:
                return None
            if buffers == self._captured_buffers:
                return self._captured
        if key != self._warm_key:   # warm up (and capture) a shape that repeats
            self._warm_key, self._runs = key, 0
        self._runs += 1
        if self._runs <= _WARM_UP_RUNS:   # compile kernels, make cuBLAS handles,
            return None                   # grow pools
        slots = list(self.template)
        slots[:len(arrays)] = arrays
        for s, var in variables:
            slots[s] = var._value
        try:
            step = self.gpu_device.capture_step(self._execute, slots, self.n_inputs,
                                                self.outputs)
        except Exception as exc:  # noqa: BLE001 - capture unsupported: stay plain
            warnings.warn(f"CUDA graph capture failed ({exc}); running without it.")
            self._capturable = False
            return None
        self._captured = _LockedReplay(step)
        self._captured_buffers = buffers
        self._captured_key = key
        return self._captured
