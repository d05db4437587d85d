"""Branch and loop-body tracing for compiled control flow, and their replay.

A ``_Branch`` traces a Python branch/body function into a sub-Graph, remembers
the ops it recorded (by position, not keeping traced values alive) and can
``recompute`` them under a tape with side effects dry-run: gradients of cond and
while_loop differentiate that replay, so effects happen once per forward run and
Python closures rebound after the call are never read again.
"""

from dlframe.core import trace as _trace
from dlframe.core.primitive import STATE, Primitive, call
from dlframe.core.tensor import Tensor, convert_to_tensor

# While primitive -> its twin that also returns the per-iteration states (filled in
# by control_flow): a replay under a tape records loops with their history
_WITH_HISTORY = {}


def _flat(structure, out):
    if isinstance(structure, (list, tuple)) and not hasattr(structure, "_fields"):
        return (type(structure), [_flat(s, out) for s in structure])
    if isinstance(structure, tuple):
        return (type(structure), [_flat(s, out) for s in structure], "nt")
    if isinstance(structure, dict):
        return (dict, [(k, _flat(structure[k], out)) for k in sorted(structure, key=str)])
    if structure is None:
        return None
    out.append(structure if isinstance(structure, Tensor) else convert_to_tensor(structure))
    return "leaf"


def _unflat(template, it):
    if template == "leaf":
        return next(it)
    if template is None:
        return None
    kind, items = template[0], template[1]
    if kind is dict:
        return {k: _unflat(v, it) for k, v in items}
    vals = [_unflat(s, it) for s in items]
    if len(template) == 3:
        return kind(*vals)
    return kind(vals)


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


class _Branch:
    """A traced sub-graph plus the outer tensors it reads (its external inputs).

    It also keeps the traced ops as a plan that ``recompute`` re-runs as dlframe
    ops for gradients, rather than calling the Python function again, whose
    closures may since have been rebound (``y = cond(p, lambda: y * x, ...)``).
    """

    def __init__(self, fn, parent, arg_tensors=()):
        self.fn = fn
        child = _trace.Trace(allow_variable_creation=parent.allow_variable_creation)
        child.parent = parent
        child.run_effects = False
        fresh = []
        for a in arg_tensors:
            inner = Tensor(a._value, a._device)
            child.add_input(inner)
            fresh.append(inner)
        saved_tapes = STATE.tapes
        probe = _GradientProbe()
        STATE.tapes = [probe]
        try:
            with _trace.tracing(child):
                result = fn(*fresh)
        finally:
            STATE.tapes = saved_tapes
        self.custom_gradient = probe.custom
        for outer in saved_tapes:  # an enclosing branch holds this one's functions
            if isinstance(outer, _GradientProbe):
                outer.custom = outer.custom or probe.custom
        leaves = []
        self.template = _flat(result, leaves)
        self.outputs = leaves
        # outer symbolic tensors read inside become extra graph inputs
        externals = []
        seen = set(child.input_ids)
        for _, inputs, _, _, _ in child.nodes:
            for x in inputs:
                if id(x) in seen or id(x) in child.produced:
                    continue
                if parent.is_symbolic(x):  # incl. Variables: the node must see them
                    seen.add(id(x))
                    externals.append(x)
        for x in leaves:
            if id(x) not in seen and id(x) not in child.produced and parent.is_symbolic(x) \
                    and not x._is_variable:
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


class _PureTrace:
    """Stands for the active trace while a branch is recomputed for a gradient:
    effects dry-run, and are recorded as pure twins that dry-run in the graph too.
    """

    run_effects = False

    def __init__(self, trace):
        self._trace = trace

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
