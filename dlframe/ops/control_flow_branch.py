"""Branch and loop-body tracing for compiled control flow, and their replay.

A ``_Branch`` traces a Python branch/body function into a sub-Graph, remembers
the ops it recorded (by position, not keeping traced values alive) and can
``recompute`` them under a tape with side effects dry-run: gradients of cond and
while_loop differentiate that replay, so effects happen once per forward run and
Python closures rebound after the call are never read again.
"""

from dlframe.core import function_scope as _scope
from dlframe.core import static_dims as _static_dims
from dlframe.core import trace as _trace
from dlframe.core.primitive import STATE, Primitive, call
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape

# While primitive -> its twin that also returns the per-iteration states (filled in
# by control_flow): a replay under a tape records loops with their history
_WITH_HISTORY = {}


# Template tag of a composite value (e.g. a TensorArray): an object whose
# ``_dlframe_flatten()`` gives ``(spec, parts)``; ``spec._dlframe_unflatten(parts)``
# rebuilds it. Its parts (tensors or nested structures) become loop variables or
# branch outputs like any other; ``spec == other`` compares the static information.
_COMPOSITE = "composite"


def _flat(structure, out, opaque=False):
    """Template of a nested structure; appends its tensor leaves to ``out``.

    With ``opaque=True`` composites are leaves themselves (appended unconverted).
    """
    if isinstance(structure, (list, tuple)) and not hasattr(structure, "_fields"):
        return (type(structure), [_flat(s, out, opaque) for s in structure])
    if isinstance(structure, tuple):
        return (type(structure), [_flat(s, out, opaque) for s in structure], "nt")
    if isinstance(structure, dict):
        return (dict, [(k, _flat(structure[k], out, opaque))
                       for k in sorted(structure, key=str)])
    if structure is None:
        return None
    if not isinstance(structure, Tensor) and hasattr(structure, "_dlframe_flatten"):
        if opaque:
            out.append(structure)
            return "leaf"
        spec, parts = structure._dlframe_flatten()
        return (_COMPOSITE, spec, [_flat(p, out) for p in parts])
    out.append(structure if isinstance(structure, Tensor) else convert_to_tensor(structure))
    return "leaf"


def _leaves(structure):
    """The Tensors in a (nested) result, composites' parts included."""
    found = []
    _flat(structure, found)
    return found


def runs_now(trace, selected):
    """Whether a branch traced in ``trace`` runs right after its trace (see
    ``Trace.branch_runs_now``; None: it may). ``selected()``: the run takes it."""
    ask = getattr(trace, "branch_runs_now", None)
    return None if ask is None else ask(selected)


def _truth(value):
    """The Python truth of a traced predicate's (real) value."""
    if isinstance(value, Tensor):
        return bool(value._device.to_numpy(value._value))
    return bool(value)


def cond_runs_now(trace, pred):
    """``runs_now`` of a cond's (true, false) branches on the traced ``pred``."""
    return (runs_now(trace, lambda: _truth(pred)),
            runs_now(trace, lambda: not _truth(pred)))


def body_runs_now(trace, cond_branch, maximum_iterations):
    """``runs_now`` of a loop body: whether the run enters the loop, from the
    traced condition ``cond_branch`` (unsure where it read py_function
    placeholders: its traced value is not the run's)."""
    return runs_now(trace, lambda: maximum_iterations != 0 and (
        getattr(cond_branch, "_made_placeholders", False) or
        _truth(cond_branch.outputs[0])))


def _unflat(template, it):
    if template == "leaf":
        return next(it)
    if template is None:
        return None
    kind, items = template[0], template[1]
    if kind is dict:
        return {k: _unflat(v, it) for k, v in items}
    if kind == _COMPOSITE:
        return items._dlframe_unflatten([_unflat(p, it) for p in template[2]])
    vals = [_unflat(s, it) for s in items]
    if len(template) == 3:
        return kind(*vals)
    return kind(vals)


def _relaxed(template, out):
    """Appends to ``out`` one bool per leaf of ``template``: may that leaf change its
    shape between loop iterations (a part its composite's spec lists in ``relaxed``)?"""
    if template == "leaf":
        out.append(False)
    elif template is None:
        pass
    elif template[0] == _COMPOSITE:
        flags = getattr(template[1], "relaxed", ())
        for k, part in enumerate(template[2]):
            start = len(out)
            _relaxed(part, out)
            if k < len(flags) and flags[k]:
                out[start:] = [True] * (len(out) - start)
    elif template[0] is dict:
        for _, v in template[1]:
            _relaxed(v, out)
    else:
        for s in template[1]:
            _relaxed(s, out)
    return out


class _GradientProbe:
    """Stands in the tape list while a branch is traced, to see whether it uses
    tf.custom_gradient (whose rule only a fresh Python call can give back)."""

    def __init__(self):
        self.custom = False

    def _record(self, prim, inputs, outs, attrs):
        if prim.name == "CustomGradient":
            self.custom = True


def _taping():
    """True when a real tape records (a gradient may be asked for)."""
    return any(not isinstance(t, _GradientProbe) for t in STATE.tapes)


def _root(trace):
    """The outermost trace of ``trace`` (None outside traces)."""
    while getattr(trace, "parent", None) is not None:
        trace = trace.parent
    return trace


class _Branch:
    """A traced sub-graph plus the outer tensors it reads (its external inputs).

    It also keeps the traced ops as a plan that ``recompute`` re-runs as dlframe
    ops for gradients, rather than calling the Python function again, whose
    closures may since have been rebound (``y = cond(p, lambda: y * x, ...)``).
    """

    def __init__(self, fn, parent, arg_tensors=(), dynamic_args=(), runs_now=None):
        self.fn = fn
        # py_function results stand for unknown values while a branch is traced
        # (as in TF, their bodies do not run); a branch that cannot do without their
        # values (it computes with one whose full shape no set_shape gave) is
        # traced again, quietly, with the bodies run - unless it surely does not
        # run now (``runs_now`` False, see ``branch_runs_now``): then the function
        # traces again at its next call instead
        if runs_now is None and _root(parent) is not None and getattr(
                _root(parent), "py_runs_now", None) is False:
            runs_now = False   # nothing runs in this trace (a check-only re-trace)
        self._runs_now = runs_now
        try:
            child, fresh, result, probe = self._trace(fn, parent, arg_tensors,
                                                      dynamic_args, False)
            # a loop body's results come back as its inputs; a cond branch's are
            # the cond's, computed by running the branch
            retry = child.py_retry or child.uses_unshaped_placeholders(
                _leaves(result) if arg_tensors else ())
            if retry and runs_now is False:
                parent.defer_py_bodies()
                retry = False
            elif retry and isinstance(parent, _trace.Trace) and \
                    parent.parent is not None and not parent.py_bodies_run():
                parent.py_retry = True   # the enclosing branch's retry runs them
                retry = False
        except Exception:
            if not getattr(self, "_made_placeholders", False):
                raise
            retry = True
        if retry:
            quiet, STATE.silent_trace = STATE.silent_trace, True
            try:
                child, fresh, result, probe = self._trace(fn, parent, arg_tensors,
                                                          dynamic_args, True)
            finally:
                STATE.silent_trace = quiet
        self._finish(parent, child, fresh, result, probe, arg_tensors)

    def _trace(self, fn, parent, arg_tensors, dynamic_args, run_py_bodies):
        """(child trace, its inputs, ``fn``'s result, gradient probe) of one run of
        ``fn`` under a new branch trace of ``parent``."""
        child = _trace.Trace(allow_variable_creation=parent.allow_variable_creation)
        child.parent = parent
        child.run_effects = False
        child.run_py_bodies = run_py_bodies
        child.py_runs_now = False if self._runs_now is False else None
        child.keeps_static = getattr(parent, "keeps_static", False)
        fresh = []
        for i, a in enumerate(arg_tensors):
            inner = Tensor(a._value, a._device)
            child.add_input(inner)
            if i in dynamic_args or parent.is_dynamic(a):
                # a loop variable whose shape may change between iterations (a
                # growing TensorArray): tf.shape of it must run with the graph
                child.dynamic.add(id(inner))
            fresh.append(inner)
        saved_tapes = STATE.tapes
        # tensors constant in the trace that a tape watches (``x = tf.constant(2.);
        # tape.watch(x)`` inside a function) become inputs too, so that gradients
        # reach them through this branch's node
        hot = set(getattr(parent, "tape_watched", ()))
        for tape in saved_tapes:
            hot.update(getattr(tape, "_watched", ()))
        child.tape_watched = hot
        probe = _GradientProbe()
        STATE.tapes = [probe]
        try:
            with _trace.tracing(child):
                result = fn(*fresh)
        finally:
            STATE.tapes = saved_tapes
            self._made_placeholders = child.made_placeholders
        return child, fresh, result, probe

    def _finish(self, parent, child, fresh, result, probe, arg_tensors):
        """Builds the branch's graph and replay plan from its trace ``child``."""
        saved_tapes, hot = STATE.tapes, child.tape_watched
        self.custom_gradient = probe.custom
        for outer in saved_tapes:  # an enclosing branch holds this one's functions
            if isinstance(outer, _GradientProbe):
                outer.custom = outer.custom or probe.custom
        leaves = []
        self.template = _flat(result, leaves)
        self.outputs = leaves
        _scope.check_escapes(child, leaves)   # body tensors leaked by nested bodies
        _scope.close_branch(parent, child)     # and this body's, once it is done
        # outer symbolic tensors read inside become extra graph inputs
        externals = []
        seen = set(child.input_ids)
        for _, inputs, _, _, _ in child.nodes:
            for x in inputs:
                if id(x) in seen or id(x) in child.produced:
                    continue
                if parent.is_symbolic(x) or id(x) in hot:  # incl. Variables
                    seen.add(id(x))
                    externals.append(x)
        for x in leaves:
            if id(x) not in seen and id(x) not in child.produced and not x._is_variable \
                    and (parent.is_symbolic(x) or id(x) in hot):
                seen.add(id(x))
                externals.append(x)
        for x in externals:
            child.add_input(x)
        self.n_args = len(arg_tensors)
        self.externals = externals
        self.graph = _trace.Graph(child, leaves)
        parent.created_variables.extend(child.created_variables)
        # the plan refers to graph inputs and node outputs by position, so it does
        # not keep the traced intermediate values alive
        slots = {id(x): k for k, x in enumerate(child.inputs)}
        self._steps = []
        for prim, inputs, outs, attrs, dev in child.nodes:
            refs = tuple(slots.get(id(x), x) for x in inputs)
            self._steps.append((prim, refs, attrs, dev, len(outs)))
            for o in outs:
                slots[id(o)] = len(slots)
        self._out_refs = tuple(slots.get(id(x), x) for x in leaves)
        self._uses = self._first_out = None   # built by write_only_output
        # per output: its static dims as TF's graph knows them (None: unknown rank)
        # and whether its size may differ between runs (for merging cond branches)
        self.out_dims = [_known_dims(child, x) for x in leaves]
        self.out_dynamic = [child.is_dynamic(x) for x in leaves]

    def replayable_from_end(self, n_vars):
        """Loop variables whose per-iteration values a backward pass may replace by
        their final value: those the body passes through unchanged, and buffers it
        only writes rows into (see ``write_only_output``), whose gradients never
        read the buffer's values."""
        return tuple(i for i in range(n_vars) if isinstance(self._out_refs[i], int) and (
            self._out_refs[i] == i or self.write_only_output(i) == i))

    def write_only_output(self, s):
        """The output that input slot ``s`` becomes when nothing but row writes (a
        chain of ``writes_rows`` primitives, or conds doing the same in both
        branches) touches it on the way, else None."""
        if self._uses is None:
            self._uses, self._first_out = {}, []
            slot = self.n_args + len(self.externals)
            for k, (_, refs, _, _, n_out) in enumerate(self._steps):
                for pos, r in enumerate(refs):
                    if isinstance(r, int):
                        self._uses.setdefault(r, []).append((k, pos))
                self._first_out.append(slot)
                slot += n_out
        while True:
            ends = [j for j, r in enumerate(self._out_refs) if isinstance(r, int) and r == s]
            found = self._uses.get(s, ())
            if not found:
                return ends[0] if len(ends) == 1 else None
            if ends or len(found) != 1:
                return None
            k, pos = found[0]
            prim, _, attrs = self._steps[k][:3]
            if getattr(prim, "writes_rows", False) and pos == 0:
                s = self._first_out[k]
            elif prim.name == "If" and pos > 0:
                j = _if_write_only_output(attrs, pos - 1)
                if j is None:
                    return None
                s = self._first_out[k] + j
            else:
                return None

    def recompute(self, values):
        """Runs the branch again as dlframe ops on ``values`` (one per graph input,
        in ``graph.run`` order), so tapes record it; returns its output leaves.

        Side effects only dry-run: a gradient recomputes values, it never repeats
        a variable write or a print. A branch using tf.custom_gradient is run by
        calling its function again, the only way to get that rule back.
        """
        with _trace.tracing(_PureTrace(STATE.trace)):
            if self.custom_gradient:
                leaves = []
                _flat(self.fn(*values[:self.n_args]), leaves)
                return leaves
            vals = list(values)
            taping = _taping()
            for prim, refs, attrs, dev, n_out in self._steps:
                if taping:
                    prim = _WITH_HISTORY.get(prim, prim)
                out = call(prim, tuple(vals[r] if isinstance(r, int) else r
                                       for r in refs), attrs, device=dev)
                vals.extend(out[:n_out] if isinstance(out, tuple) else (out,))
            return [vals[r] if isinstance(r, int) else r for r in self._out_refs]


def _known_dims(trace, t):
    """``t``'s static dims in ``trace`` (None for an unknown dim), or None when its
    rank is unknown."""
    dims = trace.static_shape(t)
    if dims is None:
        return list(t._value.shape)
    return None if isinstance(dims, _static_dims.UnknownRankDims) else list(dims)


def merge_branch_shapes(trace, outs, branches):
    """Marks the outputs ``outs`` of a cond/case over ``branches`` as TF's graph
    sees them: a dim is known only where every branch gives it the same size (the
    rank only where every branch gives the same rank); an output whose branches
    differ in shape, or whose size follows values in a branch, is shaped at run
    time (``tf.shape`` of it runs with the graph)."""
    for k, out in enumerate(outs):
        if not isinstance(out, Tensor):
            continue
        dims = [b.out_dims[k] for b in branches]
        ndim = out._value.ndim
        if any(d is None or len(d) != ndim for d in dims):
            axes = frozenset(range(ndim)) | {_static_dims.RANK}
        else:
            axes = frozenset(a for a in range(ndim) if len({d[a] for d in dims}) > 1
                             or any(d[a] is None for d in dims))
        _static_dims.note_unknown_axes(out, axes)
        if axes or any(b.out_dynamic[k] for b in branches):
            trace.dynamic.add(id(out))


def note_loop_shapes(outs, vars_, leaves, body, shape_invariants, single, relaxed):
    """The static shapes TF gives the outputs ``outs`` of a loop over ``vars_``
    (flat: ``leaves``): their ``shape_invariants`` (None dims unknown; for loop
    variables that are single tensors), and for the ``relaxed`` leaves (a growing
    TensorArray buffer) unknown where the ``body`` changes them."""
    for i in relaxed:
        before, after = leaves[i]._value.shape, body.outputs[i]._value.shape
        _static_dims.note_unknown_axes(
            outs[i], frozenset(range(len(after))) | {_static_dims.RANK}
            if len(before) != len(after) else
            frozenset(a for a, (m, n) in enumerate(zip(before, after)) if m != n))
    if shape_invariants is None:
        return
    invariants = [shape_invariants] if single else shape_invariants
    if not isinstance(invariants, (list, tuple)) or len(invariants) != len(vars_):
        return
    k = 0
    for var, invariant in zip(vars_, invariants):
        parts = []
        _flat(var, parts)
        if len(parts) == 1 and isinstance(var, Tensor) and invariant is not None:
            out = outs[k]
            shape = TensorShape(invariant)
            axes = frozenset(range(out._value.ndim)) | {_static_dims.RANK} \
                if shape.rank is None else \
                frozenset(a for a, d in enumerate(shape.as_list()) if d is None)
            _static_dims.note_unknown_axes(out, axes)
        k += len(parts)


def _if_write_only_output(attrs, e):
    """The output of a cond that its external input ``e`` becomes in both branches
    through row writes only (see ``_Branch.write_only_output``), else None."""
    found = set()
    for branch, idx in zip(attrs["branches"], (attrs["true_idx"], attrs["false_idx"])):
        if idx.count(e) != 1:
            return None
        found.add(branch.write_only_output(idx.index(e)))
    return found.pop() if len(found) == 1 else None


class _PureTrace:
    """Stands for the active trace while a branch is recomputed for a gradient:
    effects dry-run, and are recorded as pure twins that dry-run in the graph too.
    """

    run_effects = False

    def __init__(self, trace):
        self._trace = trace
        # py_function bodies run (a gradient uses their values), unless the function
        # trace runs nothing (get_concrete_function, the variable-creation re-trace)
        self.needs_values = getattr(_root(trace), "py_runs_now", None) is not False

    def __getattr__(self, name):
        return getattr(self._trace, name)

    def record(self, prim, inputs, outs, attrs, dev):
        self._trace.record(_pure_twin(prim) if prim.effects else prim, inputs, outs,
                           attrs, dev)


_PURE_TWINS = {}


def _pure_twin(prim):
    """``prim`` without its side effects: its dry run (for If/While: the branch or
    loop run with their effects dry-run)."""
    twin = _PURE_TWINS.get(prim)
    if twin is None:
        forward = getattr(prim, "pure_forward", prim.dry_run)
        twin = Primitive(prim.name, forward, prim.grad, prim.n_out, prim.aliases,
                         stateful=True)
        twin.wants_needs = prim.wants_needs
        _PURE_TWINS[prim] = twin
    return twin


def _as_vars(new, single):
    """The body's result as a list of loop variables (a lone value stands for the
    only one)."""
    return list(new) if isinstance(new, (list, tuple)) and not single else [new]


def _like(loop_vars, state):
    """``state`` (a list, or one value for a single loop variable) as the same
    sequence type as ``loop_vars`` (a tuple stays a tuple, as in TF)."""
    if isinstance(loop_vars, tuple) and isinstance(state, list):
        return type(loop_vars)(*state) if hasattr(loop_vars, "_fields") else \
            tuple(state)
    return state


def _check_loop_vars(old, new, shape_invariants, relaxed=()):
    """Same number, dtypes and (unless ``shape_invariants``, or for the leaf indices
    in ``relaxed``) shapes of loop variables. Composites (TensorArrays) are checked
    by their own parts only when tracing, where they are flattened."""
    a, b = [], []
    _flat(old, a, opaque=True)
    _flat(new, b, opaque=True)
    if len(a) != len(b):
        raise ValueError(f"while_loop: body returned {len(b)} loop variables, expected "
                         f"{len(a)}")
    for i, (x, y) in enumerate(zip(a, b)):
        if not isinstance(x, Tensor) or not isinstance(y, Tensor):
            if type(x) is not type(y):
                raise TypeError(f"while_loop: loop variable {i} entered the loop as "
                                f"{type(x).__name__} but is {type(y).__name__} after "
                                "one iteration")
            continue
        if x.dtype != y.dtype:
            raise TypeError(f"while_loop: loop variable {i} entered the loop as "
                            f"{x.dtype.name} but has dtype {y.dtype.name} after one "
                            "iteration")
        if shape_invariants is None and i not in relaxed and \
                tuple(x._value.shape) != tuple(y._value.shape):
            raise ValueError(
                f"while_loop: loop variable {i} entered the loop with shape "
                f"{list(x._value.shape)} but has shape {list(y._value.shape)} after one "
                "iteration. Provide shape_invariants (or call tf.autograph.experimental"
                ".set_loop_options(shape_invariants=...) in the loop body) to allow it.")
