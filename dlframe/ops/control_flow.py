"""Control flow: cond, case, switch_case, while_loop — eager and inside traced graphs.

Eagerly (or when the predicate is a constant while tracing) these run plain Python
and tapes see the ops of the branch taken. Inside a trace with a symbolic
predicate, each branch/body is traced into a sub-Graph and one node runs the
chosen branch (or the loop) at replay time, so results are right for every input
without retracing. Both are differentiable in graphs, to any order: cond's
gradient is another cond over the branches' vector-Jacobian products, while_loop's
a backward while_loop over the states the forward recorded. Gradients recompute a
branch or body from its trace with side effects dry-run, so variable writes and
prints happen once per forward run.

Loop variables and branch results may be composites (TensorArrays, see
control_flow_branch): one not allocated yet gets its shape from one staged
iteration (or from the other branch), a part its spec marks ``relaxed`` may change
shape between iterations, and the loop gradient replays a variable that the body
passes through unchanged or only writes rows into from its final value, instead
of keeping a copy per iteration (``_Branch.replayable_from_end``).
"""

import threading

from dlframe.core.primitive import STATE, call, primitive
from dlframe.core.tape import GradientTape
from dlframe.core.tensor import Tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops.control_flow_branch import (  # noqa: F401 - _flat/_unflat/_Branch: autograph
    _WITH_HISTORY,
    _as_vars,
    _Branch,
    _check_loop_vars,
    _flat,
    _like,
    _pure_twin,
    _relaxed,
    _taping,
    _unflat,
    body_runs_now,
    cond_runs_now,
    merge_branch_shapes,
    note_loop_shapes,
    runs_now,
)
from dlframe.ops.control_flow_while import (  # noqa: F401 - re-exported
    _dry_loop,
    _effectful,
    _floating,
    _hist_read_p,
    _hist_scatter_p,
    _loop_count_p,
    _while_fx_p,
    _while_hist_fx_p,
    _while_hist_grad,
    _while_hist_p,
    _while_p,
    _zero_filled,
)


class _BranchStructureError(ValueError, TypeError):
    """Branches returning different structures: TF 2.21 raises TypeError (older
    versions ValueError); both ``except`` clauses catch it."""


def _check_same_structure(a, b, what):
    if a.template != b.template or len(a.outputs) != len(b.outputs):
        raise _BranchStructureError(f"{what}: true_fn and false_fn arguments to cond must have the same "
                         "number, type, and overall structure of return values.")
    for i, (x, y) in enumerate(zip(a.outputs, b.outputs)):
        if x.dtype != y.dtype:
            raise TypeError(f"{what}: output {i} has dtype {x.dtype.name} in true_fn and "
                            f"{y.dtype.name} in false_fn")


@primitive("If", n_out=-1, stateful=True)
def _if_p(d, pred, *ext, true_graph, false_graph, true_idx, false_idx, branches):
    if bool(pred):
        return tuple(true_graph.run([ext[i] for i in true_idx]))
    return tuple(false_graph.run([ext[i] for i in false_idx]))


@_if_p.defgrad
def _if_grad(inputs, outs, dys, *, true_graph, false_graph, true_idx, false_idx,
             branches):
    pred, ext = inputs[0], list(inputs[1:])
    # (a ragged TensorArray buffer of float rows carries gradients too)
    floats = [i for i, x in enumerate(ext) if _floating(x, x)]

    def vjp(branch, idx):
        def run():
            with GradientTape() as tape:
                for i in floats:
                    tape.watch(ext[i])
                leaves = branch.recompute([ext[i] for i in idx])
            grads = tape.gradient(leaves, [ext[i] for i in floats],
                                  output_gradients=list(dys),
                                  unconnected_gradients="zero")
            return tuple(grads)
        return run
    grads = cond(pred, vjp(branches[0], true_idx),
                 vjp(branches[1], false_idx)) if floats else ()
    if not isinstance(grads, (list, tuple)):
        grads = (grads,)
    out = [None] * len(inputs)
    for i, g in zip(floats, grads):
        out[1 + i] = g
    return tuple(out)


def _settled_like(fn, like):
    """``fn`` whose lazily allocated composites in its result (a TensorArray not
    written yet) are allocated like their counterparts in ``like``."""
    def run():
        out = fn()
        found, other = [], []
        template = _flat(out, found, opaque=True)
        _flat(like, other, opaque=True)
        if len(found) != len(other):
            return out
        return _unflat(template, iter(
            v._dlframe_settle(w) if getattr(v, "_dlframe_lazy", False) else v
            for v, w in zip(found, other)))
    return run


def cond(pred, true_fn=None, false_fn=None, name=None):
    """Returns ``true_fn()`` if ``pred`` is true else ``false_fn()``.

    Inside a dlframe.function with a data-dependent ``pred`` both branches become
    part of the graph and the choice happens at run time.
    """
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError("cond: true_fn and false_fn must be callables, got "
                        f"{type(true_fn).__name__} and {type(false_fn).__name__}")
    trace = STATE.trace
    if isinstance(pred, Tensor) and trace is not None and trace.is_symbolic(pred):
        p = pred
        if p._value.size != 1:
            raise InvalidArgumentError(f"cond: pred must be a scalar, got shape "
                                       f"{list(p._value.shape)}")
        now = cond_runs_now(trace, p)   # (py_function bodies of an untaken one idle)
        a = _Branch(true_fn, trace, runs_now=now[0])
        b = _Branch(false_fn, trace, runs_now=now[1])
        if a.template != b.template:  # e.g. a TensorArray written in one branch only
            a_out = _unflat(a.template, iter(a.outputs))
            b_out = _unflat(b.template, iter(b.outputs))
            a = _Branch(_settled_like(true_fn, b_out), trace, runs_now=now[0])
            b = _Branch(_settled_like(false_fn, a_out), trace, runs_now=now[1])
        _check_same_structure(a, b, "cond")
        externals, index = [], {}
        for x in a.externals + b.externals:
            if id(x) not in index:
                index[id(x)] = len(externals)
                externals.append(x)
        true_idx = tuple(index[id(x)] for x in a.externals)
        false_idx = tuple(index[id(x)] for x in b.externals)
        prim = _if_fx_p if a.graph.has_effects or b.graph.has_effects else _if_p
        outs = call(prim, (p,) + tuple(externals),
                    {"true_graph": a.graph, "false_graph": b.graph, "true_idx": true_idx,
                     "false_idx": false_idx, "branches": (a, b)})
        merge_branch_shapes(trace, outs, (a, b))
        return _unflat(a.template, iter(outs))
    if isinstance(pred, Tensor):
        value = bool(pred._device.to_numpy(pred._value))
    else:
        value = bool(pred)
    return true_fn() if value else false_fn()


def _check_pairs(pairs, what):
    """Validates (key, fn) entries as TF does: 2-tuples holding a callable."""
    for entry in pairs:
        if not isinstance(entry, tuple) or len(entry) != 2:
            raise TypeError(f"Each entry in '{what}' must be a 2-tuple. "
                            f"Received {entry!r}.")
        if not callable(entry[1]):
            raise TypeError(f"{what}: fn for {entry[0]!r} must be callable, "
                            f"got {entry[1]!r}")


def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """Runs the fn of the first pair whose predicate is true, else ``default``.

    Args:
      pred_fn_pairs: list of ``(pred, fn)`` pairs (or a dict ``{pred: fn}``); each
        ``pred`` a scalar boolean Tensor and each ``fn`` a callable.
      default: callable run when no predicate is true. Without it the last pair's
        fn is the default and a run where no predicate is true raises
        ``InvalidArgumentError``.
      exclusive: accepted for TF compatibility (the first true pair wins).
      strict: accepted for TF compatibility.
      name: unused.

    Returns:
      The result of the chosen fn; all fns must return the same structure.
    """
    if isinstance(pred_fn_pairs, dict):
        pairs = list(pred_fn_pairs.items())
    elif isinstance(pred_fn_pairs, (list, tuple)):
        pairs = list(pred_fn_pairs)
    else:
        raise TypeError("case: pred_fn_pairs must be a list, tuple or dict, got "
                        f"{pred_fn_pairs!r}")
    _check_pairs(pairs, "pred_fn_pairs")
    for pred, _ in pairs:
        if not isinstance(pred, Tensor):
            raise TypeError(f"pred must be a Tensor, got: {pred!r}")
        if pred.dtype.name != "bool":
            raise TypeError(f"case: pred must be a boolean Tensor, got dtype "
                            f"{pred.dtype.name}")
    if default is not None and not callable(default):
        raise TypeError(f"case: default must be callable, got {default!r}")
    if not pairs:
        raise ValueError("case: pred_fn_pairs must hold at least one (pred, fn) pair")
    if default is None:
        (last_pred, last_fn), pairs = pairs[-1], pairs[:-1]
        preds = [p for p, _ in pairs] + [last_pred]

        def default():
            from dlframe.ops.debugging import Assert
            # Reached only when the earlier predicates are false: fails unless
            # the last one holds, at run time inside a graph.
            Assert(last_pred, ["Input error: None of conditions evaluated as True:"]
                   + preds)
            return last_fn()
    fn = default
    for pred, branch in reversed(pairs):
        fn = _chained(pred, branch, fn)
    return fn()


def _chained(pred, branch, rest):
    """``cond(pred, branch, rest)`` as a branch of an enclosing cond."""
    return lambda: cond(pred, branch, rest)


def switch_case(branch_index, branch_fns, default=None, name="switch_case"):
    """Runs ``branch_fns[branch_index]``.

    Args:
      branch_index: scalar integer Tensor.
      branch_fns: list of callables, or a dict / list of ``(int, callable)`` pairs
        whose keys form the range ``[0, n)``.
      default: callable run when ``branch_index`` is out of range (the last branch
        when not given).
      name: unused.

    Returns:
      The chosen branch's result; all branches must return the same structure.
    """
    if isinstance(branch_fns, (list, tuple)) and all(callable(f) for f in branch_fns):
        fns = list(enumerate(branch_fns))
    else:
        fns = list(branch_fns.items()) if isinstance(branch_fns, dict) else \
            list(branch_fns)
        _check_pairs(fns, "branch_fns")
        keys = sorted(k for k, _ in fns)
        if any(not isinstance(k, int) for k in keys):
            raise TypeError(f"branch_fns: keys must be Python ints, got {keys}")
        if keys != list(range(len(keys))):
            found = "{" + ",".join(str(k) for k in keys) + "}"
            raise ValueError("branch indices (keys) must form contiguous range of "
                             f"[0 to {len(keys)}) but found {found}")
        fns.sort(key=lambda kv: kv[0])
    if not fns:
        raise ValueError("Must provide at least one item in 'branch_fns'")
    if not isinstance(branch_index, Tensor):
        raise TypeError(f"'branch_index' must be a Tensor, got {type(branch_index)}")
    if not branch_index.dtype.is_integer:
        raise TypeError("'branch_index' must be an integer Tensor, got "
                        f"{branch_index.dtype!r}")
    if branch_index.shape.rank not in (0, None):
        raise InvalidArgumentError("switch_case: branch_index must be a scalar, got "
                                   f"shape {branch_index.shape}")
    fallback = default if default is not None else fns[-1][1]
    from dlframe.ops.math import equal
    return case([(equal(branch_index, k), f) for k, f in fns], default=fallback)




# If/While whose branch or body graphs have side effects (variable writes, printing,
# or such nested control flow) are effects themselves: dead-code elimination keeps
# them even when their outputs are unused (a function returning None, an `if` that
# only prints), and while an enclosing branch is traced they only dry-run, so the
# effects happen once, when the graph runs (as TF's stateful ops in tf.function).
def _if_dry(d, pred, *ext, true_graph, false_graph, true_idx, false_idx, branches):
    if bool(pred):
        return tuple(true_graph.run([ext[i] for i in true_idx], dry=True))
    return tuple(false_graph.run([ext[i] for i in false_idx], dry=True))


_if_fx_p = _effectful(_if_p, _if_dry)
for _branching in (_if_p, _if_fx_p):
    # a cond between strategy.run calls (``if not optional.has_value(): break``)
    # reads per-replica values on several logical CPUs; each output keeps the device
    # its true branch produced it on
    _branching.mixes_cpu_devices = lambda inputs, attrs: [
        x._device for x in attrs["branches"][0].outputs]


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10,
               back_prop=True, swap_memory=False, maximum_iterations=None, name=None):
    """Repeats ``body`` while ``cond`` is true; returns the final loop variables.

    Args:
      cond: callable of the loop variables returning a boolean scalar.
      body: callable returning new loop variables with the same structure.
      loop_vars: a (nested) tuple/list of tensors.
      shape_invariants: allow loop variables to change shape (checked otherwise).
      maximum_iterations: optional cap on the number of iterations.
    """
    if not callable(cond):
        raise TypeError(f"'cond' must be callable, got {cond!r}")
    if not callable(body):
        raise TypeError(f"'body' must be callable, got {body!r}")
    single = not isinstance(loop_vars, (list, tuple))
    vars_ = [loop_vars] if single else list(loop_vars)
    leaves = []
    template = _flat(vars_, leaves)
    trace = STATE.trace
    symbolic = trace is not None and any(trace.is_symbolic(x) for x in leaves)
    if symbolic:
        return _like(loop_vars, _traced_while(cond, body, vars_, shape_invariants,
                                              maximum_iterations, single))
    state = _unflat(template, iter(leaves))
    it = 0
    while maximum_iterations is None or it < int(maximum_iterations):
        flag = cond(*state)
        # while tracing, a tensor predicate makes a graph loop even when its value is
        # known (computed from shapes): unrolling would copy the body per iteration
        if isinstance(flag, Tensor) and trace is not None:
            return _like(loop_vars, _traced_while(
                cond, body, state, shape_invariants, None if maximum_iterations is None
                else int(maximum_iterations) - it, single))
        if not bool(flag if not isinstance(flag, Tensor) else
                    flag._device.to_numpy(flag._value)):
            break
        new = body(*state)
        new = _as_vars(new, single)
        # eagerly, as in TF, loop variables may change shape without invariants
        _check_loop_vars(state, new, shape_invariants=())
        state = new
        it += 1
    return state[0] if single else _like(loop_vars, state)


def _settle_lazy(body_fn, vars_, single):
    """``vars_`` with lazily allocated composites (a TensorArray not written yet, whose
    element shape is unknown) allocated as one iteration of the body leaves them,
    found by tracing that iteration once more into a throwaway sub-graph."""
    found = []
    template = _flat(vars_, found, opaque=True)
    if not any(getattr(v, "_dlframe_lazy", False) for v in found):
        return vars_, False
    leaves, staged = [], []
    inner = _flat(vars_, leaves)

    def stage(*xs):
        new = body_fn(*_unflat(inner, iter(xs)))
        staged.append(_as_vars(new, single))
    _Branch(stage, STATE.trace, leaves)
    after = []
    _flat(staged[0], after, opaque=True)
    if len(after) != len(found):
        return vars_, True  # _check_loop_vars names the mismatch
    return _unflat(template, iter(
        v._dlframe_settle(w) if getattr(v, "_dlframe_lazy", False) else v
        for v, w in zip(found, after))), True


# options given by tf.autograph.experimental.set_loop_options inside the body of the
# innermost loop being traced (a stack: loops nest)
_LOOP_OPTIONS = threading.local()


def set_loop_options(parallel_iterations=None, swap_memory=None,
                     maximum_iterations=None, shape_invariants=None):
    """Options for the enclosing traced loop, called from inside its body: the
    ``shape_invariants`` (pairs of a loop variable and its TensorShape; None dims
    may change between iterations) and ``maximum_iterations``. Outside a traced
    loop it does nothing, as in TF eager code."""
    stack = getattr(_LOOP_OPTIONS, "stack", None)
    if not stack:
        return
    options = stack[-1]
    if shape_invariants:
        options["shape_invariants"] = list(shape_invariants)
    if maximum_iterations is not None:
        options["maximum_iterations"] = maximum_iterations


def _traced_while(cond_fn, body_fn, vars_, shape_invariants, maximum_iterations,
                  single):
    trace = STATE.trace
    # (a staged body ran the Python code once: its trace-time output was shown)
    vars_, staged = _settle_lazy(body_fn, vars_, single)
    leaves = []
    template = _flat(vars_, leaves)
    relaxed = tuple(i for i, r in enumerate(_relaxed(template, [])) if r)

    def cond_flat(*xs):
        return cond_fn(*_unflat(template, iter(xs)))

    def body_flat(*xs):
        new = body_fn(*_unflat(template, iter(xs)))
        return _as_vars(new, single)

    c = _Branch(cond_flat, trace, leaves, relaxed, runs_now(trace, lambda: True))
    stack = _LOOP_OPTIONS.__dict__.setdefault("stack", [])
    stack.append({})
    quiet = STATE.silent_trace
    STATE.silent_trace = quiet or staged
    try:
        b = _Branch(body_flat, trace, leaves, relaxed,
                    body_runs_now(trace, c, maximum_iterations))
    finally:
        STATE.silent_trace = quiet
        options = stack.pop()
    if shape_invariants is None:
        shape_invariants = options.get("shape_invariants")
    if maximum_iterations is None and options.get("maximum_iterations") is not None:
        maximum_iterations = int(options["maximum_iterations"])
    _check_loop_vars(leaves, b.outputs, shape_invariants, relaxed)
    externals, index = [], {}
    for x in c.externals + b.externals:
        if id(x) not in index:
            index[id(x)] = len(externals)
            externals.append(x)
    attrs = {"cond_graph": c.graph, "body_graph": b.graph, "n_vars": len(leaves),
             "cond_idx": tuple(index[id(x)] for x in c.externals),
             "body_idx": tuple(index[id(x)] for x in b.externals),
             "maximum_iterations": maximum_iterations, "body": b, "relaxed": relaxed,
             "from_end": b.replayable_from_end(len(leaves))}
    effects = c.graph.has_effects or b.graph.has_effects
    if _taping():  # a gradient may be asked for: keep the per-iteration states
        prim = _while_hist_fx_p if effects else _while_hist_p
        outs = call(prim, tuple(leaves) + tuple(externals), attrs)[:len(leaves)]
    else:
        outs = call(_while_fx_p if effects else _while_p, tuple(leaves) + tuple(externals),
                    attrs)
    note_loop_shapes(outs, vars_, leaves, b, shape_invariants, single, relaxed)
    state = _unflat(template, iter(outs))
    return state[0] if single else state


__all__ = ["case", "cond", "switch_case", "while_loop"]
