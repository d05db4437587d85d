"""TF1-style symbolic gradient entry points and small graph-context helpers:
``tf.gradients`` (graph-only in TF 2: differentiates the ops a ``dlframe.function``
traced so far), ``tf.hessians`` (explains the GradientTape alternative),
``tf.grad_pass_through``, ``tf.inside_function``, ``tf.get_current_name_scope``
and ``tf.tuple``."""

import builtins

from dlframe.core.function_inline import gradient_frames
from dlframe.core.primitive import STATE
from dlframe.core.tape import backprop, graph_gradients, unconnected_mode
from dlframe.core.variable import current_scope
from dlframe.ops import array as _array
from dlframe.ops import logic as _logic

_EAGER_MSG = "tf.{} is not supported when eager execution is enabled. Use " \
             "tf.GradientTape instead."


def _graph_only(api):
    if STATE.trace is None:
        raise RuntimeError(_EAGER_MSG.format(api))
    raise NotImplementedError(
        f"tf.{api} inside a dlframe.function is not supported: record the computation "
        "on a tf.GradientTape and call tape.gradient (or tape.jacobian) instead.")


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, builtins.tuple)) else [value]


def _traced_entries(trace, stop_ids):
    """The (primitive, inputs, outputs, attrs) the active function trace recorded,
    outermost trace first (a cond branch or loop body sees its enclosing graph's
    ops); nodes producing a ``stop_gradients`` tensor are left out, so nothing
    flows back through them.

    In an inlined tf.function body gradients stop at the body's inputs, as at the
    placeholders of TF's function graph, while tensors it captures from its caller
    pass them on through the caller's ops: where an input also appears in ops
    outside the body (the caller's op making it, or reading it), those ops see it
    as a traced Identity of it (``_seen_as``), apart from the body's uses."""
    chain = []
    while trace is not None:
        chain.append(trace)
        trace = trace.parent
    chain.reverse()
    pos = {id(tr): k for k, tr in enumerate(chain)}
    frames = [f for f in gradient_frames(chain[-1]) if id(f[0]) in pos]
    renamed = {}   # (id(tensor), frame level) -> the tensor standing for it there
    entries = []
    written = {}   # id(Variable) -> index in ``entries`` when it was last written
    for k, tr in enumerate(chain):
        enclosing = builtins.sum(1 for f in frames if pos[id(f[0])] < k)
        starts = [f[1] for f in frames if f[0] is tr]   # ascending: nested frames
        for i, (prim, inputs, outs, attrs, _dev) in enumerate(list(tr.nodes)):
            if frames:
                level = enclosing + builtins.sum(1 for s in starts if s <= i)
                inputs = _seen_as(inputs, level, frames, renamed)
                outs = _seen_as(outs, level, frames, renamed)
            if prim.effects:
                written.update((id(x), len(entries)) for x in inputs if x._is_variable)
            if prim.grad is None or any(id(o) in stop_ids for o in outs):
                continue
            entries.append((prim, inputs, outs, attrs))
    return entries, written


def _frame_level(x, level, frames):
    """The innermost of the first ``level`` inlined bodies that takes ``x`` as an
    input (its placeholder there), or 0 (the tensor itself)."""
    for j in range(level, 0, -1):
        if id(x) in frames[j - 1][2]:
            return j
    return 0


def _seen_as(tensors, level, frames, renamed):
    """``tensors`` as the ops at inlined-body depth ``level`` see them: an input of
    an inlined body seen at another depth than the innermost (where ``tf.gradients``
    was called) becomes an Identity of it, so the two are differentiated apart."""
    out = None
    for n, x in enumerate(tensors):
        here = _frame_level(x, level, frames)
        if here == _frame_level(x, len(frames), frames):
            continue
        alias = renamed.get((id(x), here))
        if alias is None:
            alias = renamed[(id(x), here)] = _array.identity(x)
        if out is None:
            out = list(tensors)
        out[n] = alias
    return tensors if out is None else builtins.tuple(out)


def _refuse_stale_reads(entries, written, targets, sources):
    """Raises where the backward pass would read a Variable that the function
    wrote after the forward op read it: its rule would see the new value (TF's
    gradient uses the value read), so the gradient would be silently wrong."""
    if not written:
        return
    forward = {id(s) for s in sources}
    on_path = []
    for i, (_, inputs, outs, _) in enumerate(entries):
        if any(id(x) in forward for x in inputs):
            forward.update(id(o) for o in outs)
            on_path.append(i)
    backward = {id(t) for t in targets}
    for i in reversed(on_path):
        _, inputs, outs, _ = entries[i]
        if not any(id(o) in backward for o in outs):
            continue
        backward.update(id(x) for x in inputs)
        for x in inputs:
            if x._is_variable and written.get(id(x), -1) > i:
                raise NotImplementedError(
                    f"tf.gradients inside a dlframe.function: variable "
                    f"{getattr(x, 'name', x)!r} was written after an op on the "
                    "gradient path read it, so its gradient would use the new "
                    "value. Differentiate before the write, or record the forward "
                    "pass on a tf.GradientTape (tapes keep the value read).")


def gradients(ys, xs, grad_ys=None, name="gradients", gate_gradients=False,
              aggregation_method=None, stop_gradients=None,
              unconnected_gradients="none"):
    """Symbolic gradients of the sum of ``ys`` w.r.t. each of ``xs`` (graph only).

    Inside a ``dlframe.function`` the gradients are computed over the ops traced
    so far (the backward ops join the graph, so they run at every call).

    Args:
      ys: a Tensor or list of Tensors to differentiate.
      xs: a Tensor/Variable or list of them.
      grad_ys: optional seed gradients, one per ``ys`` (default: ones).
      name: unused.
      gate_gradients: unused.
      aggregation_method: unused.
      stop_gradients: Tensors held constant: no gradient flows through them.
      unconnected_gradients: 'none' (None for an ``x`` that ``ys`` does not depend
        on) or 'zero' (zeros instead).

    Returns:
      A list with one gradient (or None) per ``x``.

    Raises:
      RuntimeError: when executing eagerly (TF 2's error).
      ValueError: a bad ``unconnected_gradients`` or a ``grad_ys`` list of the
        wrong length.

    Inside a ``tf.estimator`` ``model_fn`` (a graph in TF1) the gradients come from
    the tape the Estimator records the ``model_fn`` on.
    """
    mode = unconnected_mode(unconnected_gradients)
    sources = _as_list(xs)
    trace = STATE.trace
    if trace is None:
        grads = graph_gradients(ys, sources, grad_ys, _as_list(stop_gradients))
        if grads is None:
            raise RuntimeError(_EAGER_MSG.format("gradients"))
    else:
        targets = _as_list(ys)
        seeds = _as_list(grad_ys) if grad_ys is not None else [None] * len(targets)
        if len(seeds) != len(targets):
            raise ValueError(f"Passed {len(seeds)} grad_ys for {len(targets)} ys")
        stop_ids = {id(t) for t in _as_list(stop_gradients)}
        entries, written = _traced_entries(trace, stop_ids)
        _refuse_stale_reads(entries, written, targets, sources)
        grads = backprop(entries, targets, seeds, sources)
    if mode == "zero":
        grads = [_logic.zeros_like(x) if g is None else g
                 for g, x in zip(grads, sources)]
    return list(grads)


def hessians(ys, xs, name="hessians", colocate_gradients_with_ops=False,
             gate_gradients=False, aggregation_method=None):
    """TF1 symbolic Hessians: raises, pointing to nested ``tf.GradientTape``s."""
    _graph_only("hessians")


def grad_pass_through(f):
    """Wraps ``f`` so its outputs take the identity gradient (straight-through).

    Args:
      f: a function of one tensor (e.g. ``tf.round``, a variable's ``assign``).

    Returns:
      ``g(x)`` computing ``f(x)`` forward whose gradient w.r.t. ``x`` is ``dy``.
    """
    def wrapped(x, *args, **kwargs):
        y = f(x, *args, **kwargs)
        y = y.read_value() if hasattr(y, "read_value") else y
        return x + _array.stop_gradient(y - x)
    return wrapped


def inside_function():
    """True while a ``dlframe.function`` is being traced."""
    return STATE.trace is not None


def get_current_name_scope():
    """The name scope active here ('' at the top level), as ``tf.get_current_name_scope``."""
    return current_scope()


def tuple(tensors, name=None, control_inputs=None):
    """The ``tensors`` as a list (eager and traced steps already run in order)."""
    return [None if x is None else _array.identity(x) for x in tensors]


__all__ = [
    "get_current_name_scope",
    "grad_pass_through",
    "gradients",
    "hessians",
    "inside_function",
    "tuple",
]
