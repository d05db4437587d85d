"""Control flow: cond, case, switch_case, while_loop — eager and inside traced graphs.

Eagerly (or when the predicate is a constant while tracing) these run plain Python
and tapes see the ops of the branch taken. Inside a trace with a symbolic
predicate, each branch/body is traced into a sub-Graph and one node runs the
chosen branch (or the loop) at replay time, so results are right for every input
without retracing. ``cond`` is differentiable in graphs: its gradient is another
cond over the branches' vector-Jacobian products.
"""

from dlframe.core import trace as _trace
from dlframe.core.primitive import STATE, Primitive, call, primitive
from dlframe.core.tape import GradientTape
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops._util import t


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


class _Branch:
    """A traced sub-graph plus the outer tensors it reads (its external inputs)."""

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
        STATE.tapes = []
        try:
            with _trace.tracing(child):
                result = fn(*fresh)
        finally:
            STATE.tapes = saved_tapes
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


def _check_same_structure(a, b, what):
    if a.template != b.template or len(a.outputs) != len(b.outputs):
        raise ValueError(f"{what}: true_fn and false_fn arguments to cond must have the same "
                         "number, type, and overall structure of return values.")
    for i, (x, y) in enumerate(zip(a.outputs, b.outputs)):
        if x.dtype != y.dtype:
            raise TypeError(f"{what}: output {i} has dtype {x.dtype.name} in true_fn and "
                            f"{y.dtype.name} in false_fn")


@primitive("If", n_out=-1, stateful=True)
def _if_p(d, pred, *ext, true_graph, false_graph, true_idx, false_idx, fns):
    if bool(pred):
        return tuple(true_graph.run([ext[i] for i in true_idx]))
    return tuple(false_graph.run([ext[i] for i in false_idx]))


@_if_p.defgrad
def _if_grad(inputs, outs, dys, *, true_graph, false_graph, true_idx, false_idx, fns):
    pred, ext = inputs[0], list(inputs[1:])
    floats = [i for i, x in enumerate(ext) if x.dtype.is_floating]

    def vjp(fn):
        def run():
            with GradientTape() as tape:
                for i in floats:
                    tape.watch(ext[i])
                leaves = []
                _flat(fn(), leaves)
            grads = tape.gradient(leaves, [ext[i] for i in floats],
                                  output_gradients=list(dys),
                                  unconnected_gradients="zero")
            return tuple(grads)
        return run
    grads = cond(pred, vjp(fns[0]), vjp(fns[1])) if floats else ()
    if not isinstance(grads, (list, tuple)):
        grads = (grads,)
    out = [None] * len(inputs)
    for i, g in zip(floats, grads):
        out[1 + i] = g
    return tuple(out)


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
        a = _Branch(true_fn, trace)
        b = _Branch(false_fn, trace)
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
                     "false_idx": false_idx, "fns": (true_fn, false_fn)})
        return _unflat(a.template, iter(outs))
    if isinstance(pred, Tensor):
        value = bool(pred._device.to_numpy(pred._value))
    else:
        value = bool(pred)
    return true_fn() if value else false_fn()


def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """Runs the fn of the first pair whose predicate is true, else ``default``."""
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else \
        list(pred_fn_pairs)
    if not pairs:
        if default is None:
            raise ValueError("case: pred_fn_pairs is empty and no default was given")
        return default()
    if default is None:
        pairs, (_, default) = pairs[:-1], pairs[-1]
    fn = default
    for pred, branch in reversed(pairs):
        fn = (lambda p, b, rest: (lambda: cond(p, b, rest)))(pred, branch, fn)
    return fn()


def switch_case(branch_index, branch_fns, default=None, name="switch_case"):
    """Runs ``branch_fns[branch_index]`` (``default`` or the last branch when out of range)."""
    fns = sorted(branch_fns.items()) if isinstance(branch_fns, dict) else \
        list(enumerate(branch_fns))
    if not fns:
        raise ValueError("switch_case: branch_fns must not be empty")
    idx = t(branch_index)
    if idx._value.dtype.kind not in "iu":
        raise TypeError(f"switch_case: branch_index must be an integer tensor, got "
                        f"{idx.dtype.name}")
    fallback = default if default is not None else fns[-1][1]
    from dlframe.ops.math import equal
    pairs = [(equal(idx, k), f) for k, f in fns]
    return case(pairs, default=fallback)


@primitive("While", n_out=-1, stateful=True)
def _while_p(d, *arrays, cond_graph, body_graph, n_vars, cond_idx, body_idx,
             maximum_iterations):
    state = list(arrays[:n_vars])
    ext = arrays[n_vars:]
    it = 0
    while True:
        if maximum_iterations is not None and it >= maximum_iterations:
            break
        (flag,) = cond_graph.run(state + [ext[i] for i in cond_idx])
        if not bool(flag):
            break
        state = body_graph.run(state + [ext[i] for i in body_idx])
        it += 1
    return tuple(state)


@primitive("WhileWithHistory", n_out=-1, stateful=True)
def _while_hist_p(d, *arrays, cond_graph, body_graph, n_vars, cond_idx, body_idx,
                  maximum_iterations, body_flat):
    """While that also returns, per loop variable, the stacked states entering each
    iteration (shape [iterations, ...]): what its gradient needs."""
    xp = d.xp
    state = list(arrays[:n_vars])
    ext = arrays[n_vars:]
    history = [[] for _ in state]
    it = 0
    while maximum_iterations is None or it < maximum_iterations:
        (flag,) = cond_graph.run(state + [ext[i] for i in cond_idx])
        if not bool(flag):
            break
        for h, v in zip(history, state):
            h.append(v)
        state = body_graph.run(state + [ext[i] for i in body_idx])
        it += 1
    stacked = tuple(xp.stack(h) if h else xp.zeros((0,) + tuple(v.shape), dtype=v.dtype)
                    for h, v in zip(history, arrays[:n_vars]))
    return tuple(state) + stacked


@_while_hist_p.defgrad
def _while_hist_grad(inputs, outs, dys, *, cond_graph, body_graph, n_vars, cond_idx,
                     body_idx, maximum_iterations, body_flat):
    from dlframe.ops.array import zeros
    init, ext = list(inputs[:n_vars]), list(inputs[n_vars:])
    history = list(outs[n_vars:2 * n_vars])
    floats = [i for i, v in enumerate(init) if v.dtype.is_floating]
    ext_floats = [i for i, x in enumerate(ext) if x.dtype.is_floating]
    if not floats:
        return (None,) * len(inputs)
    trace = STATE.trace

    def vjp(*args):
        state, douts = list(args[:n_vars]), list(args[n_vars:])
        with GradientTape() as tape:
            for i in floats:
                tape.watch(state[i])
            for i in ext_floats:
                tape.watch(ext[i])
            new = body_flat(*state)
        grads = tape.gradient([new[i] for i in floats],
                              [state[i] for i in floats] + [ext[i] for i in ext_floats],
                              output_gradients=[douts[k] for k in range(len(floats))],
                              unconnected_gradients="zero")
        return list(grads)
    placeholders = list(init) + [zeros(init[i]._value.shape, dtype=init[i].dtype)
                                 for i in floats]
    step = _Branch(vjp, trace, placeholders)
    extra = tuple(step.externals)
    result = call(_while_grad_p, tuple(history) + tuple(dys[i] for i in floats) + extra,
                  {"vjp_graph": step.graph, "n_vars": n_vars, "n_float": len(floats),
                   "float_idx": tuple(floats), "n_ext_grads": len(ext_floats)})
    grads = [None] * len(inputs)
    for k, i in enumerate(floats):
        grads[i] = result[k]
    for k, i in enumerate(ext_floats):  # the VJP returns them in ext_floats order
        grads[n_vars + i] = result[len(floats) + k]
    return tuple(grads)


@primitive("WhileGrad", n_out=-1, stateful=True)
def _while_grad_p(d, *arrays, vjp_graph, n_vars, n_float, float_idx, n_ext_grads):
    """Runs the body's VJP over the recorded states in reverse, accumulating gradients
    of the loop's initial float variables and of the tensors it reads."""
    history = arrays[:n_vars]
    douts = list(arrays[n_vars:n_vars + n_float])
    extra = list(arrays[n_vars + n_float:])
    n_iter = history[0].shape[0]
    ext_acc = None
    for it in range(n_iter - 1, -1, -1):
        state = [h[it] for h in history]
        res = vjp_graph.run(state + douts + extra)
        douts = list(res[:n_float])
        ext_part = res[n_float:]
        ext_acc = ext_part if ext_acc is None else [a + b for a, b in zip(ext_acc, ext_part)]
    if ext_acc is None:
        xp = d.xp
        ext_acc = [xp.zeros((), dtype=douts[0].dtype) for _ in range(n_ext_grads)]
    return tuple(douts) + tuple(ext_acc)


# If/While whose branch or body graphs have side effects (variable writes, printing,
# or such nested control flow) are effects themselves: dead-code elimination keeps
# them even when their outputs are unused (a function returning None, an `if` that
# only prints), and while an enclosing branch is traced they only dry-run, so the
# effects happen once, when the graph runs (as TF's stateful ops in tf.function).
def _if_dry(d, pred, *ext, true_graph, false_graph, true_idx, false_idx, fns):
    if bool(pred):
        return tuple(true_graph.run([ext[i] for i in true_idx], dry=True))
    return tuple(false_graph.run([ext[i] for i in false_idx], dry=True))


def _while_dry(d, *arrays, n_vars, **attrs):
    # the entry state: its values only stand in while tracing (running the loop here
    # could spin forever on a condition that reads a variable the body assigns)
    return tuple(arrays[:n_vars])


def _while_hist_dry(d, *arrays, n_vars, **attrs):
    xp = d.xp
    return tuple(arrays[:n_vars]) + tuple(xp.zeros((0,) + tuple(v.shape), dtype=v.dtype)
                                          for v in arrays[:n_vars])


def _effectful(prim, dry_run):
    p = Primitive(prim.name, prim.forward, prim.grad, prim.n_out, prim.aliases,
                  prim.stateful, effects=True)
    p.dry_run = dry_run
    return p


_if_fx_p = _effectful(_if_p, _if_dry)
_while_fx_p = _effectful(_while_p, _while_dry)
_while_hist_fx_p = _effectful(_while_hist_p, _while_hist_dry)


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
    single = not isinstance(loop_vars, (list, tuple))
    vars_ = [loop_vars] if single else list(loop_vars)
    leaves = []
    template = _flat(vars_, leaves)
    trace = STATE.trace
    symbolic = trace is not None and any(trace.is_symbolic(x) for x in leaves)
    if symbolic:
        return _traced_while(cond, body, template, leaves, shape_invariants,
                             maximum_iterations, single)
    state = _unflat(template, iter(leaves))
    it = 0
    while maximum_iterations is None or it < int(maximum_iterations):
        flag = cond(*state)
        if isinstance(flag, Tensor) and trace is not None and trace.is_symbolic(flag):
            return _traced_while(cond, body, _flat(state, []),
                                 _flat_leaves(state), shape_invariants,
                                 None if maximum_iterations is None
                                 else int(maximum_iterations) - it, single)
        if not bool(flag if not isinstance(flag, Tensor) else
                    flag._device.to_numpy(flag._value)):
            break
        new = body(*state)
        new = list(new) if isinstance(new, (list, tuple)) and not single else [new]
        _check_loop_vars(state, new, shape_invariants)
        state = new
        it += 1
    return state[0] if single else type(loop_vars)(state) if isinstance(
        loop_vars, (list, tuple)) else state


def _flat_leaves(state):
    out = []
    _flat(state, out)
    return out


def _check_loop_vars(old, new, shape_invariants):
    a, b = [], []
    _flat(old, a)
    _flat(new, b)
    if len(a) != len(b):
        raise ValueError(f"while_loop: body returned {len(b)} loop variables, expected "
                         f"{len(a)}")
    for i, (x, y) in enumerate(zip(a, b)):
        if x.dtype != y.dtype:
            raise TypeError(f"while_loop: loop variable {i} entered the loop as "
                            f"{x.dtype.name} but has dtype {y.dtype.name} after one "
                            "iteration")
        if shape_invariants is None and tuple(x._value.shape) != tuple(y._value.shape):
            raise ValueError(
                f"while_loop: loop variable {i} entered the loop with shape "
                f"{list(x._value.shape)} but has shape {list(y._value.shape)} after one "
                "iteration. Provide shape_invariants to allow it.")


def _traced_while(cond_fn, body_fn, template, leaves, shape_invariants,
                  maximum_iterations, single):
    trace = STATE.trace

    def cond_flat(*xs):
        return cond_fn(*_unflat(template, iter(xs)))

    def body_flat(*xs):
        new = body_fn(*_unflat(template, iter(xs)))
        new = [new] if single else list(new)
        return new

    c = _Branch(cond_flat, trace, leaves)
    b = _Branch(body_flat, trace, leaves)
    _check_loop_vars(leaves, b.outputs, shape_invariants)
    externals, index = [], {}
    for x in c.externals + b.externals:
        if id(x) not in index:
            index[id(x)] = len(externals)
            externals.append(x)
    attrs = {"cond_graph": c.graph, "body_graph": b.graph, "n_vars": len(leaves),
             "cond_idx": tuple(index[id(x)] for x in c.externals),
             "body_idx": tuple(index[id(x)] for x in b.externals),
             "maximum_iterations": maximum_iterations}
    effects = c.graph.has_effects or b.graph.has_effects
    if STATE.tapes:  # a gradient may be asked for: keep the per-iteration states
        attrs["body_flat"] = body_flat
        prim = _while_hist_fx_p if effects else _while_hist_p
        outs = call(prim, tuple(leaves) + tuple(externals), attrs)[:len(leaves)]
    else:
        outs = call(_while_fx_p if effects else _while_p, tuple(leaves) + tuple(externals),
                    attrs)
    state = _unflat(template, iter(outs))
    return state[0] if single else state


__all__ = ["cond", "case", "switch_case", "while_loop"]
