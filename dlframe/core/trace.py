"""Tracing Python into graphs of primitives, optimizing them and replaying them.

Tracing is concrete: the Python function runs once per input signature with real
values while ``call`` records every primitive here. The record becomes a flat
program over numbered slots — function inputs, captured constants (eager tensors
from outside, by value), Variables (by reference, read at each run) and node
outputs. Replay runs each node's forward on raw arrays: no Tensor objects, no
tapes, no per-op dispatch (DESIGN.md §5).

While tracing, asking a traced tensor or a Variable for a Python value is an
error (as in TF graphs), so nothing data-dependent is silently baked in.
"""

import sys

from dlframe import config
from dlframe.core import graph_exec
from dlframe.core import static_dims as _static_dims
from dlframe.core.graph_capture import CapturedStep
from dlframe.core.graph_passes import (
    cse,
    dead_code,
    fold_constants,
    fuse_elementwise,
    liveness,
    remap_cpu,
)
from dlframe.core.primitive import STATE, stateful_twin
from dlframe.core.tensor import Tensor
from dlframe.core.trace_deferred import DeferredErrors
from dlframe.core.trace_names import NODE_NAMES, GraphNames, node_defs
from dlframe.core.trace_placeholders import PyPlaceholders
from dlframe.errors import InvalidArgumentError

_primitive = sys.modules["dlframe.core.primitive"]   # PROFILER lives there
# set by dlframe.distribute.values: a replica thread's reads of distributed variables
# are recorded as reads of that replica's component (its own device's buffer)
REPLICA_INPUTS = None


class OperatorNotAllowedInGraphError(TypeError):
    """A traced tensor was used where a Python value is needed (bool, numpy...)."""


class SymbolicNumpyError(OperatorNotAllowedInGraphError, AttributeError):
    """``numpy()`` of a traced tensor: TF's symbolic tensors have no ``numpy``
    attribute (AttributeError); dlframe's error is also TF's graph TypeError."""


def _user_frame():
    """'file:line' of the innermost frame outside dlframe (for error messages)."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if "/dlframe/" not in name.replace("\\", "/") or "/tests/" in name:
            return f"{name}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


class Trace(GraphNames, PyPlaceholders, DeferredErrors):
    """Records primitives executed while a function is traced (a function's trace
    defers index errors of pure ops: see ``trace_deferred.DeferredErrors``)."""

    def __init__(self, allow_variable_creation=True):
        self.nodes = []            # (prim, inputs, outputs, attrs, device)
        self.produced = {}         # id -> Tensor produced by a node (kept alive)
        self.static = set()        # ids of produced Tensors made from constants only
        self.dynamic = set()       # ids of produced Tensors with value-dependent shapes
        self.inputs = []           # input Tensors, in slot order
        self.input_ids = set()
        self.created_variables = []
        self.allow_variable_creation = allow_variable_creation
        self.parent = None         # enclosing trace of a cond/while branch
        self.run_effects = True    # False while tracing branches: effects run at replay
        self.unknown_axes = {}     # id -> axes TF's static shape leaves unknown (None)
        self.names = {}            # id -> TF-style graph name ("add:0"), for printing
        self.value_unknown = {}    # id -> (tensor, mask of values TF would not know)
        self.noted = {}            # id -> (tensor, axes) marked from shape arguments
        self.op_types = {}         # id -> op type of the node that produced it
        self.scopes = []           # graph name scopes ('block/', 'block/inner/')
        self._name_counts = {}
        self._last_name = ((), None)   # (outputs, name) of the newest node
        self._constants = []
        # py_function results of this trace that stand for unknown values (their
        # bodies do not run while traced, as in TF): id -> [Tensor, resize function,
        # fully shaped by set_shape]
        self.py_placeholders = {}
        self.made_placeholders = False   # some were made (here or in a branch)
        self.run_py_bodies = False   # a retry: the rest could not run on placeholders
        self.keeps_static = False    # set_shape refines the static dims (a function's)
        self.tainted = {}   # id -> (prim, inputs, attrs, device) of a deferred error

    # -- hooks called by core --------------------------------------------------
    def record(self, prim, inputs, outs, attrs, dev):
        if STATE.stand_in:   # values a probe made up: never constant (not folded)
            STATE.stand_in = False
            prim = stateful_twin(prim)
            if self.defers_errors and self.parent is None:
                origin = (prim, inputs, attrs, dev)
                self.tainted.update((id(o), origin) for o in outs)
        elif self.tainted:
            origin = self.tainted_origin(inputs)
            if origin is not None:
                self.tainted.update((id(o), origin) for o in outs)
        if REPLICA_INPUTS is not None:
            inputs = REPLICA_INPUTS(inputs)
        self.nodes.append((prim, inputs, outs, attrs, dev))
        for o in outs:
            self.produced[id(o)] = o
        base = self._unique_name(self._scoped(NODE_NAMES.get(prim.name, prim.name)))
        self._last_name = (outs, base)
        for i, o in enumerate(outs):
            self.names[id(o)] = f"{base}:{i}"
            self.op_types[id(o)] = prim.name
        for t in inputs:
            if id(t) not in self.unknown_axes and id(t) not in self.produced:
                self._seed_unknown(t)
        if self.unknown_axes or prim.value_shaped:   # dims TF's graph leaves unknown
            _static_dims.propagate(self.unknown_axes, prim, inputs, outs, attrs)
        if self.value_unknown or self.parent is not None:
            self._propagate_values(prim, inputs, outs, attrs)
        if not prim.stateful and not any(self.is_symbolic(t) for t in inputs):
            # computed from constants only (shapes, Python values): the same at every
            # run of this signature, so its trace-time value may be read
            self.static.update(id(o) for o in outs)
        if _static_dims.value_shaped(prim, inputs, attrs) or any(
                self.is_dynamic(t) for t in inputs):
            # sizes that depend on values (loop outputs, masks, tf.range(n)): shape
            # queries of these (tf.shape) must run with the graph
            self.dynamic.update(id(o) for o in outs)

    def is_dynamic(self, t):
        """True when ``t``'s shape may differ between runs of the graph."""
        if id(t) in self.dynamic:
            return True
        return self.parent is not None and self.parent.is_dynamic(t)

    def is_symbolic(self, t):
        key = id(t)
        if key in self.static:
            return False
        if key in self.produced or key in self.input_ids or t._is_variable:
            return True
        return self.parent is not None and self.parent.is_symbolic(t)

    def refuse_concrete(self, t, what, bool_check=False):
        where = _user_frame()
        if bool_check:
            raise OperatorNotAllowedInGraphError(
                f"Using a symbolic tensor as a Python `bool` is not allowed in a "
                f"dlframe.function ({where}): the branch would be baked into the "
                "graph. Use dlframe.cond / dlframe.while_loop, or leave autograph=True "
                "so `if` and `while` on tensors are converted.")
        error = SymbolicNumpyError if what == "numpy()" else \
            OperatorNotAllowedInGraphError
        raise error(
            f"{what} of a symbolic tensor is not allowed inside a dlframe.function "
            f"({where}); its value is only known when the graph runs. Return the "
            "tensor from the function, or use dlframe.print for run-time printing.")

    def variable_created(self, var, initial_value=None):
        if self.tainted and isinstance(initial_value, Tensor):
            self.refuse_tainted([initial_value])   # no stand-in initial value
        if not self.allow_variable_creation:
            raise ValueError(
                "tf.function only supports singleton tf.Variables created on the first "
                "call. Make sure the tf.Variable is only created once or created "
                f"outside tf.function (dlframe.function created {var.name!r} while "
                "retracing).")
        self.created_variables.append(var)

    def add_input(self, tensor, name=None, static_shape=None):
        """Adds a function input; ``name`` (the Python parameter) and ``static_shape``
        (its signature's shape, None for unknown dims) are what TF shows for it."""
        self.inputs.append(tensor)
        self.input_ids.add(id(tensor))
        if name is not None:
            self.names[id(tensor)] = f"{self._unique_name(name)}:0"
        if static_shape is not None:
            axes = _static_dims.unknown_axes(tensor, static_shape)
            if axes:
                self.unknown_axes[id(tensor)] = axes

    # -- TF's static view of traced tensors (None dims, values TF would not know) --
    def _propagate_values(self, prim, inputs, outs, attrs):
        in_masks = [self.value_mask(t) for t in inputs]
        if any(m is not None for m in in_masks):
            found = _static_dims.value_masks(prim, inputs, in_masks, attrs, outs)
            for o, mask in zip(outs, found):
                if mask.any():
                    self.note_value(o, mask)

    def note_value(self, t, mask):
        """Marks the elements of shape-derived ``t`` TF would not know (``mask``)."""
        self.value_unknown[id(t)] = (t, mask)

    def value_mask(self, t):
        """The bool mask of ``t``'s elements TF would not know, or None."""
        trace = self
        while trace is not None:
            found = trace.value_unknown.get(id(t))
            if found is not None:
                return found[1]
            trace = trace.parent
        return None

    def _seed_unknown(self, t):
        """Unknown dims of an input ``t`` the graph did not make: a read of a
        Variable(shape=[None]), or (in a branch or loop body) a tensor captured
        from the enclosing graph, whose static shape TF keeps."""
        if t._is_variable:
            declared = getattr(t, "_shape", None)
            if declared is not None and not declared.is_fully_defined():
                axes = _static_dims.unknown_axes(t, declared)
                if axes:
                    self.note_unknown(t, axes)
                    self.dynamic.add(id(t))   # its size may change between runs
            return
        trace = self.parent
        while trace is not None:
            axes = trace.unknown_axes.get(id(t))
            if axes is not None:
                self.unknown_axes[id(t)] = axes
                return
            trace = trace.parent

    def note_unknown(self, t, axes):
        """Marks ``axes`` of ``t`` unknown (an op sized from a hidden shape value)."""
        axes = axes | self.unknown_axes.get(id(t), frozenset())
        self.unknown_axes[id(t)] = axes
        self.noted[id(t)] = (t, axes)

    def static_shape(self, t):
        """``t``'s shape as TF's graph knows it (None for dimensions unknown from the
        input signature), or None when all of it is known."""
        trace = self
        axes = None
        while trace is not None and axes is None:
            axes = trace.unknown_axes.get(id(t))
            trace = trace.parent
        if axes is None:
            return None
        dims = [None if a in axes else d for a, d in enumerate(t._value.shape)]
        return _static_dims.UnknownRankDims(dims) if _static_dims.RANK in axes else dims


class tracing:
    """Context manager installing ``trace`` as this thread's active trace."""

    def __init__(self, trace):
        self.trace = trace
        self.prev = None

    def __enter__(self):
        self.prev = STATE.trace
        STATE.trace = self.trace
        return self.trace

    def __exit__(self, *exc):
        STATE.trace = self.prev
        return False


class paused:
    """Temporarily suspends tracing (e.g. for work that must happen once)."""

    def __enter__(self):
        self.prev = STATE.trace
        STATE.trace = None

    def __exit__(self, *exc):
        STATE.trace = self.prev
        return False


# ---------------------------------------------------------------- the program
class Graph(CapturedStep):
    """A traced, optimized program.

    Attributes:
      n_inputs: number of input slots (0..n_inputs-1).
      program: list of (forward, device, in_slots, out_slots, attrs, single, copy_out).
      outputs: slot of each output Tensor leaf.
      stats: node counts before/after each pass (for tests and debugging).
    """

    def __init__(self, trace, output_tensors):
        self.stats = {}
        slot_of = {}
        self.n_inputs = len(trace.inputs)
        for i, t in enumerate(trace.inputs):
            slot_of[id(t)] = i
        n_slots = self.n_inputs
        constants = {}    # slot -> array (captured eager tensors and folded values)
        variables = {}    # slot -> Variable
        devices = {}      # slot -> Device
        nodes = []        # [prim, in_slots, out_slots, attrs, dev]

        def slot_for(t):
            nonlocal n_slots
            key = id(t)
            s = slot_of.get(key)
            if s is None:
                s = slot_of[key] = n_slots
                n_slots += 1
                if t._is_variable:
                    variables[s] = t
                else:
                    constants[s] = t._value
                devices[s] = t._device
            return s

        for t in trace.inputs:
            devices[slot_of[id(t)]] = t._device
        self._traced_values = {}
        for prim, inputs, outs, attrs, dev in trace.nodes:
            ins = [slot_for(t) for t in inputs]
            outs_s = []
            for o in outs:
                s = slot_of[id(o)] = n_slots
                n_slots += 1
                devices[s] = o._device   # a host twin's strings stay on the host
                self._traced_values[s] = o._value
                outs_s.append(s)
            nodes.append([prim, ins, outs_s, attrs or {}, dev])
        self.outputs = [slot_for(t) for t in output_tensors]
        self.stats["traced"] = len(nodes)
        if config.graph_option("dependency_optimization"):
            nodes = dead_code(nodes, self.outputs)
            self.stats["after_dce"] = len(nodes)
        if config.graph_option("constant_folding"):
            nodes = fold_constants(nodes, constants, self._traced_values)
            self.stats["after_folding"] = len(nodes)
        if config.graph_option("common_subgraph_elimination"):
            nodes, remap = cse(nodes)
            self.outputs = [remap.get(s, s) for s in self.outputs]
            self.stats["after_cse"] = len(nodes)
        if config.graph_option("dependency_optimization"):
            nodes = dead_code(nodes, self.outputs)
        if config.graph_option("remapping"):
            known = {i: getattr(t, "_value", None) for i, t in enumerate(trace.inputs)}
            known.update((s, v._value) for s, v in variables.items())
            known.update(constants)
            known.update(self._traced_values)
            nodes = remap_cpu(nodes, self.outputs, known)
        self.stats["final"] = len(nodes)
        # effect nodes (incl. If/While whose sub-graphs have effects) survive DCE above;
        # a node holding this graph must itself count as an effect (see control_flow)
        self.has_effects = any(n[0].effects for n in nodes)
        self.n_slots = n_slots
        self.devices = devices
        self.output_devices = [devices[s] for s in self.outputs]
        self.variables = sorted(variables.items())
        # Variables an effect node may write in place: before a run, tapes that read
        # one keep the value they saw (as an eager write does, in ``call``)
        self._written = frozenset(s for n in nodes if n[0].effects for s in n[1]
                                  if s in variables)
        template = [None] * n_slots
        for s, arr in constants.items():
            template[s] = arr
        self.template = template
        var_slots = set(variables)
        frees = liveness(nodes, set(self.outputs) | var_slots | set(constants))
        self.program = []
        for (prim, ins, outs, attrs, dev), free in zip(nodes, frees):
            copy_out = prim.aliases and any(s in var_slots for s in ins)
            self.program.append((prim.forward, dev, tuple(ins), tuple(outs), attrs,
                                 prim.n_out == 1, copy_out, free))
        # run(dry=True) (tracing an enclosing branch): effects are dry-run, not done
        self._dry_program = [
            (prim.dry_run if prim.effects else step[0],) + step[1:]
            for step, (prim, *_rest) in zip(self.program, nodes)] if self.has_effects \
            else None
        # nodes giving a variable a new buffer (a resizing assign, a branch or loop
        # holding one): a run's slot ``self.rebinds`` holds {slot: Variable}
        # (a branch or loop body takes the variables it captures as inputs)
        self.rebinds = None
        if any(graph_exec.rebinds(n) for n in nodes):
            self.rebinds = n_slots
            self.n_slots = n_slots = n_slots + 1
            self.template.append(None)
            self._input_variables = [(i, t) for i, t in enumerate(trace.inputs)
                                     if getattr(t, "_is_variable", False)]
            held = sorted(var_slots.union(i for i, _ in self._input_variables))
            self.program = [graph_exec.rebinding_step(step, node, held, n_slots - 1)
                            if graph_exec.rebinds(node) else step
                            for step, node in zip(self.program, nodes)]
        self.node_names = [n[0].name for n in nodes]
        self.node_defs = node_defs(trace, output_tensors)
        used = {d for d in devices.values()}
        self.gpu_device = next((d for d in used if d.is_gpu), None)
        # the name of each program step (a fused chain is named by its ops)
        self.step_names = self.node_names
        if config.graph_option("remapping") and any(d.fuses for d in used):
            named = {id(step): name
                     for step, name in zip(self.program, self.node_names)}
            self.program = fuse_elementwise(self.program, nodes, set(self.outputs))
            self.step_names = [named.get(id(step)) or step[0].name
                               for step in self.program]
            self.stats["after_fusion"] = len(self.program)
        variable_inputs = {i for i, t in enumerate(trace.inputs)
                           if getattr(t, "_is_variable", False)}
        self._init_capture(nodes, len(used), self.rebinds is not None, variable_inputs)
        self._run_compiled = None
        if len(self.program) <= graph_exec.MAX_COMPILED_NODES:
            program = self.program
            if config.graph_option("buffer_reuse") and len(program) == len(nodes):
                owned = {s for n in nodes for s in n[2]}
                program = graph_exec.reuse_buffers(program, nodes, self._traced_values,
                                                   owned)
            self._run_compiled = graph_exec.compile_program(program, self.outputs)
        del self._traced_values

    def run(self, arrays, dry=False, variables=None):
        """Runs the program on input arrays; returns the output arrays.

        On a GPU, a static graph (no random, host-syncing or control-flow nodes) is
        captured as a CUDA graph after two plain runs and replayed from then on.
        With ``dry=True`` side-effect nodes only dry-run (used while an enclosing
        cond/while branch is traced: the effects happen when the graph runs).
        ``variables`` replaces ``self.variables`` (Variable arguments of a call).
        """
        if variables is None:
            variables = self.variables
        if self._written and not dry:
            for s, var in variables:
                if var._taped is not None and s in self._written:
                    var._before_write()
        if dry:
            STATE.dry_graphs += 1
            try:
                return self._run(arrays, self._dry_program, variables)
            finally:
                STATE.dry_graphs -= 1
        return self._run(arrays, None, variables)

    def _run(self, arrays, program, variables):
        checker = _primitive.NUMERICS_CHECK
        names = self.step_names if program is None else self.node_names  # dry: unfused
        if checker is not None and not STATE.dry_graphs:   # enable_check_numerics
            program = checker.checked_program(program or self.program, names)
        if program is None and self._capturable and config.graph_option("cuda_graphs"):
            step = self._cuda_step(arrays, variables)
            if step is not None:
                return step(arrays)
        slots = list(self.template)
        slots[:len(arrays)] = arrays
        for s, var in variables:
            slots[s] = var._value
        if self.rebinds is not None:
            slots[self.rebinds] = dict(self._input_variables + list(variables))
        run = self._run_compiled if program is None else None
        profiler = _primitive.PROFILER
        if profiler is not None:   # tf.profiler is on: time every node
            program = profiler.timed_program(program or self.program, names)
            run = None
        if self.gpu_device is not None:
            with self.gpu_device.context():
                if run is not None:
                    return run(slots)
                self._execute(slots, program=program)
        elif run is not None:
            return run(slots)
        else:
            self._execute(slots, program=program)
        return [slots[s] for s in self.outputs]

    def _execute(self, slots, free=True, program=None):
        for forward, dev, ins, outs, attrs, single, copy_out, dead in (
                program if program is not None else self.program):
            result = forward(dev, *[slots[i] for i in ins], **attrs)
            if single:
                slots[outs[0]] = result.copy() if copy_out else result
            else:
                for s, r in zip(outs, result):
                    slots[s] = r
            if free:
                for s in dead:
                    slots[s] = None


class InputSignatureError(InvalidArgumentError, TypeError):
    """An argument does not fit a function's input signature.

    TensorFlow raises ``TypeError`` when binding a call to a ``tf.function`` fails and
    ``InvalidArgumentError`` from a concrete function; either ``except`` catches this.
    """


def check_input(spec_shape, spec_dtype, t, index):
    """Validates a tensor against an input_signature entry."""
    if spec_dtype is not None and t.dtype != spec_dtype:
        raise InputSignatureError(
            None, None,
            f"Python inputs incompatible with input_signature: input {index} has dtype "
            f"{t.dtype.name}, expected {spec_dtype.name}")
    if spec_shape is not None and not spec_shape.is_compatible_with(t.shape):
        raise InputSignatureError(
            None, None,
            f"Python inputs incompatible with input_signature: input {index} has shape "
            f"{tuple(t._value.shape)}, expected {spec_shape}")


__all__ = [
    "Graph",
    "InputSignatureError",
    "OperatorNotAllowedInGraphError",
    "Tensor",
    "Trace",
    "paused",
    "tracing",
]
