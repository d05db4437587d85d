"""The ``tf.while_loop`` primitives of traced graphs and their gradients.

``While`` runs a traced body until its traced condition fails. Where a gradient
may be asked for (a tape records), the loop is recorded as ``WhileWithHistory``,
which also returns the states entering each iteration; its gradient is a backward
while_loop over them. A ``While`` recorded without history (``tf.gradients``
inside a function, where no tape was recording) is differentiated by running the
loop again with history, its side effects dry-run. Loops whose bodies have side
effects have effect twins (``_effectful``): never pruned, dry-run while an
enclosing branch is traced.
"""

from dlframe import backends
from dlframe.core import basic
from dlframe.core.primitive import STATE, Primitive, call, primitive
from dlframe.core.tape import GradientTape
from dlframe.core.tape import _is_float
from dlframe.errors import InvalidArgumentError
from dlframe.ops.control_flow_branch import _WITH_HISTORY
from dlframe.ops.list_ops import owned_rows, take_rows_like


@primitive("While", n_out=-1, stateful=True)
def _while_p(d, *arrays, cond_graph, body_graph, n_vars, cond_idx, body_idx,
             maximum_iterations, body, relaxed=(), from_end=(), dry=False):
    state = list(arrays[:n_vars])
    ext = arrays[n_vars:]
    it = 0
    with owned_rows(state, _written(body, from_end)) as claim:
        while True:
            if maximum_iterations is not None and it >= maximum_iterations:
                break
            (flag,) = cond_graph.run(state + [ext[i] for i in cond_idx], dry=dry)
            if not bool(flag):
                break
            state[:] = body_graph.run(state + [ext[i] for i in body_idx], dry=dry)
            claim()
            it += 1
    return tuple(state)


def _host_xp():
    return backends.get_device("cpu:0").xp


def _written(body, from_end):
    """The loop variables of ``from_end`` the body writes rows into (not those it
    passes through): their old values are dead after each write, so the writes
    may go in place (``list_ops.owned_rows``)."""
    return tuple(i for i in from_end if body.write_only_output(i) == i
                 and body._out_refs[i] != i)


_while_p.value_shaped = True   # its output size depends on input values


@primitive("WhileWithHistory", n_out=-1, stateful=True)
def _while_hist_p(d, *arrays, cond_graph, body_graph, n_vars, cond_idx, body_idx,
                  maximum_iterations, body, relaxed=(), from_end=(), dry=False):
    """While that also returns, per loop variable, the stacked states entering each
    iteration (shape [iterations, ...]): what its gradient needs. For the variables
    in ``from_end`` (see ``_Branch.replayable_from_end``) every row is a view of the
    final value: nothing is copied."""
    xp = d.xp
    state = list(arrays[:n_vars])
    ext = arrays[n_vars:]
    history = [[] for _ in state]
    kept = [i for i in range(n_vars) if i not in from_end]
    it = 0
    with owned_rows(state, _written(body, from_end)) as claim:
        while maximum_iterations is None or it < maximum_iterations:
            (flag,) = cond_graph.run(state + [ext[i] for i in cond_idx], dry=dry)
            if not bool(flag):
                break
            for i in kept:
                history[i].append(state[i])
            state[:] = body_graph.run(state + [ext[i] for i in body_idx], dry=dry)
            claim()
            it += 1
    for i in from_end:   # (a ragged TensorArray buffer lives in host memory)
        hxp = _host_xp() if state[i].dtype == object else xp
        history[i] = hxp.broadcast_to(state[i][None], (it,) + tuple(state[i].shape))
    for i, h in enumerate(history):
        for v in h:
            if i not in from_end and v.shape != h[0].shape:
                raise InvalidArgumentError(
                    f"while_loop: loop variable {i} changes shape from "
                    f"{list(h[0].shape)} to {list(v.shape)} between iterations; "
                    "gradients through such a loop in a dlframe.function are not "
                    "supported")
    # (a ragged buffer's history stays in host memory too)
    stacked = tuple(h if i in from_end else (_host_xp() if v.dtype == object else xp)
                    .stack(h) if h else
                    xp.zeros((0,) + tuple(v.shape), dtype=v.dtype)
                    for i, (h, v) in enumerate(zip(history, arrays[:n_vars])))
    return tuple(state) + stacked


_while_hist_p.value_shaped = True   # its output size depends on input values


@_while_hist_p.defgrad
def _while_hist_grad(inputs, outs, dys, *, n_vars, body_idx, body, relaxed=(), **attrs):
    """A backward while_loop over the recorded states, last to first: each step pulls
    the cotangents back through a replay of the body (its variable writes and
    prints are not repeated). Being dlframe ops, it is differentiable in turn."""
    init, ext = list(inputs[:n_vars]), list(inputs[n_vars:])
    history = list(outs[n_vars:])
    floats = [i for i, v in enumerate(init) if _floating(v, outs[i])]
    # (a ragged TensorArray buffer written before the loop carries gradients too)
    ext_floats = [i for i, x in enumerate(ext) if _floating(x, x)]
    if not floats:
        return (None,) * len(inputs)
    n_float = len(floats)
    zero_filled = _zero_filled(dys)
    # cotangents of the history outputs themselves (from a higher-order gradient)
    dhist = {i: dys[n_vars + i] for i in floats
             if id(dys[n_vars + i]) not in zero_filled}

    def step(k, *carry):
        k = k - 1
        state = [call(_hist_read_p, (h, k, x)) for h, x in zip(history, init)]
        sources = [state[i] for i in floats] + [ext[i] for i in ext_floats]
        with GradientTape() as tape:
            tape.watch(sources)
            new = body.recompute(state + [ext[i] for i in body_idx])
        grads = tape.gradient([new[i] for i in floats], sources,
                              output_gradients=list(carry[:n_float]),
                              unconnected_gradients="zero")
        back = [_add(g, call(_hist_read_p, (dhist[i], k, basic.zeros_like_t(g))))
                if i in dhist else g for i, g in zip(floats, grads)]
        acc = [_add(a, g) for a, g in zip(carry[n_float:], grads[n_float:])]
        return [k] + back + acc

    from dlframe.ops.control_flow import while_loop  # it builds on this module

    count = call(_loop_count_p, (history[0],))
    result = while_loop(lambda k, *_: k > 0, step,
                        [count] + [dys[i] for i in floats] +
                        [basic.zeros_like_t(ext[i]) for i in ext_floats])
    grads = [None] * len(inputs)
    for k, i in enumerate(floats):
        # a variable that grew in the loop (relaxed) gets its entry's leading rows
        grads[i] = take_rows_like(result[1 + k], init[i]) if i in relaxed else \
            result[1 + k]
    for k, i in enumerate(ext_floats):
        grads[n_vars + i] = result[1 + n_float + k]
    return tuple(grads)


def _add(a, b):
    """``a + b`` of gradients; ragged TensorArray buffers add row by row
    (``basic.add``; ``+`` of object tensors joins strings)."""
    return basic.add(a, b) if a._value.dtype == object else a + b


def _floating(x, out):
    """Does loop variable ``x`` (``out``: its value after the loop) carry
    gradients? A ragged TensorArray buffer does when its rows are floats: seen in
    ``out`` for one the loop writes first."""
    if x._value.dtype != object:
        return x.dtype.is_floating
    return _is_float(x) or _is_float(out)


def _zero_filled(dys):
    """Ids of the ``dys`` made by the last zeros_like nodes: backprop fills in the
    outputs no gradient reached that way, just before calling the rule (and any
    zeros_like output is zero, so skipping one is always right)."""
    trace = STATE.trace
    if trace is None:
        return set()
    return {id(o[0]) for prim, _, o, _, _ in trace.nodes[-len(dys):]
            if prim is basic.zeros_like_p}


# Loop histories have a run-time length, so the backward loop reads them with
# primitives that take that length from the arrays (not the traced shape). They are
# stateful because the row index is read on the host (no CUDA-graph capture).
@primitive("LoopCount", stateful=True)
def _loop_count_p(d, history):
    return d.xp.asarray(history.shape[0], dtype="int32")


@primitive("LoopHistoryRead", aliases=True, stateful=True)
def _hist_read_p(d, history, k, fallback):
    """Row ``k`` of a history; ``fallback`` when out of range, which happens only while
    a backward body is traced for a loop that ran zero times."""
    k = int(k)
    return history[k] if 0 <= k < history.shape[0] else fallback


@_hist_read_p.defgrad
def _hist_read_grad(inputs, out, dy):
    return call(_hist_scatter_p, (inputs[0], dy, inputs[1])), None, None


@primitive("LoopHistoryScatter", stateful=True)
def _hist_scatter_p(d, history, dy, k):
    """Zeros shaped like ``history`` with ``dy`` in row ``k``."""
    out = d.xp.zeros_like(history)
    k = int(k)
    if 0 <= k < history.shape[0]:
        out[k] = dy
    return out


@_hist_scatter_p.defgrad
def _hist_scatter_grad(inputs, out, ddy):
    dy, k = inputs[1], inputs[2]
    return None, call(_hist_read_p, (ddy, k, basic.zeros_like_t(dy))), None


@_while_p.defgrad
def _while_grad(inputs, outs, dys, *, n_vars, **attrs):
    """Gradient of a loop recorded without its history (no tape recorded when it
    was traced, as for ``tf.gradients`` in a function): the loop runs again keeping
    its states, with its side effects dry-run, and the history rule applies."""
    attrs.pop("dry", None)
    full = call(_while_hist_p, tuple(inputs), dict(attrs, n_vars=n_vars, dry=True))
    hist_dys = tuple(dys) + tuple(basic.zeros_like_t(h) for h in full[n_vars:])
    return _while_hist_grad(inputs, full, hist_dys, n_vars=n_vars, **attrs)


def _while_dry(d, *arrays, n_vars, **attrs):
    # the entry state: its values only stand in while tracing (running the loop here
    # could spin forever on a condition that reads a variable the body assigns)
    return tuple(arrays[:n_vars])


def _while_hist_dry(d, *arrays, n_vars, **attrs):
    xp = d.xp
    return tuple(arrays[:n_vars]) + tuple(xp.zeros((0,) + tuple(v.shape), dtype=v.dtype)
                                          for v in arrays[:n_vars])


def _effectful(prim, dry_run, pure_forward=None):
    p = Primitive(prim.name, prim.forward, prim.grad, prim.n_out, prim.aliases,
                  prim.stateful, effects=True)
    p.dry_run = dry_run
    p.value_shaped = prim.value_shaped   # a loop's output size stays value-dependent
    if pure_forward is not None:  # the loop itself, its body's effects dry-run
        p.pure_forward = pure_forward
    return p


def _dry_loop(forward):
    return lambda d, *arrays, **attrs: forward(d, *arrays, dry=True, **attrs)


_while_fx_p = _effectful(_while_p, _while_dry, _dry_loop(_while_p.forward))
_while_hist_fx_p = _effectful(_while_hist_p, _while_hist_dry,
                              _dry_loop(_while_hist_p.forward))
_WITH_HISTORY.update({_while_p: _while_hist_p, _while_fx_p: _while_hist_fx_p})
def _loop_devices(inputs, attrs):
    """Each output's device: loop variable k's for output k and for its history
    (output n_vars + k), as its values are (a ragged TensorArray buffer's: host)."""
    devices = [t._device for t in inputs[:attrs["n_vars"]]]
    return devices + devices


for _loop in (_while_p, _while_fx_p, _while_hist_p, _while_hist_fx_p):
    _loop.mixes_cpu_devices = _loop_devices  # a loop over strategy.run on logical CPUs
    # TF's static shape of loop output k: loop variable k's on entry (dims the
    # shape invariants or a growing buffer free are marked by _traced_while)
    _loop.static_shape = lambda in_dims, attrs: [
        list(d) for d in in_dims[:attrs["n_vars"]]]
