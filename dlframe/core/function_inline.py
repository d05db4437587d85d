"""A ``dlframe.function`` called eagerly under a ``GradientTape``, or inlined into
the trace of another ``dlframe.function``.

Under an eager tape a function runs its Python body op by op (the tape records it
like any eager code). TF still runs it as a graph there, so ``tf.gradients`` works
inside it. dlframe gives that graph view with a tape of its own that records every
op of the call: ``tf.gradients`` in the body (through ``graph_gradient_tape``)
differentiates what that tape recorded, while the user's tapes record the body and
the gradient computation as usual (second derivatives included).

A function called from another one's trace runs inlined there; in TF it is a graph
of its own whose inputs are placeholders, so ``tf.gradients`` in its body sees only
its own ops and stops at its inputs (captured tensors still lead into the
caller's graph). ``gradient_frame`` marks where its ops begin in the caller's
trace and which tensors are its inputs.
"""

import contextlib

from dlframe.core import static_dims as _static_dims
from dlframe.core.function_structure import _leaf_shapes, _restore_py, _unflatten
from dlframe.core.primitive import REGISTRY, STATE, call
from dlframe.core.tape import GradientTape, graph_gradient_tape
from dlframe.core.tensor import Tensor
from dlframe.core.tensor_shape import TensorShape


class _CallTape(GradientTape):
    """A persistent tape recording every op (each tensor counts as watched)."""

    def __init__(self):
        super().__init__(persistent=True, watch_accessed_variables=False)

    def _record(self, prim, inputs, outs, attrs):
        self._entries.append((prim, inputs, outs, attrs))
        watched = self._watched
        for t in inputs:
            watched[id(t)] = t
            if t._is_variable:   # a later assign keeps the value read (snapshot)
                t._taped_by(self)
        for o in outs:
            watched[id(o)] = o

    def stop_recording(self):
        """Keeps recording: ``tf.gradients``' own ops are graph ops too, so a later
        ``tf.gradients`` of them (second derivatives) differentiates them."""
        return contextlib.nullcontext()

    def _leave_context(self, method):
        """Nothing: each ``tf.gradients`` is meant to be recorded (see above)."""


@contextlib.contextmanager
def graph_view():
    """Context of an eager call of a function body: ``tf.gradients`` answers from a
    tape recording the call."""
    tape = _CallTape()
    tape._push()
    try:
        with graph_gradient_tape(tape):
            yield
    finally:
        tape._pop()


@contextlib.contextmanager
def gradient_frame(trace, args):
    """Context of a function body inlined into ``trace`` whose input tensors are
    ``args``: ``tf.gradients`` in it stops at them (as at the placeholders of TF's
    function graph), while tensors the body captures from the caller still pass
    gradients on through the caller's ops (``gradient_frames``)."""
    frames = trace.root.__dict__.setdefault("gradient_frames", [])
    frames.append((trace, len(trace.nodes), {id(a): a for a in args}))
    try:
        yield
    finally:
        frames.pop()


def gradient_frames(trace):
    """``(trace, first node, {id: argument tensor})`` of each inlined function body
    active in ``trace`` (its own trace or an enclosing one), outermost first."""
    return list(getattr(trace.root, "gradient_frames", ()))


_NOTHING = object()


def _same_specs(a, b):
    return [(str(s[0]),) + tuple(s[1:]) for s in a.specs] == [
        (str(s[0]),) + tuple(s[1:]) for s in b.specs]


class _InlineMemo:
    """Results of the tf.functions one trace inlined, per (function, call key) in
    call order; the variable-check retrace of the same call gives them back
    instead of running their Python again (``replaying``)."""

    __slots__ = ("calls", "replaying", "used")

    def __init__(self):
        self.calls = {}
        self.replaying = False
        self.used = {}

    def restart(self):
        self.used = {}
        return self

    def keep(self, key, result):
        if not self.replaying:
            self.calls.setdefault(key, []).append(result)

    def reuse(self, key):
        if not self.replaying:
            return _NOTHING
        done = self.used.get(key, 0)
        kept = self.calls.get(key, ())
        if done >= len(kept):
            return _NOTHING
        self.used[key] = done + 1
        return kept[done]


def _traced_shapes(trace, leaves, args, kwargs):
    """Per leaf of an inlined call, the shape its signature takes: a TensorSpec's,
    else the caller's graph's static shape (None dims of a relaxed or
    ``input_signature`` trace), so the inner function's signature is as general
    as TF's (one trace for every size there). None outside a trace."""
    if trace is None:
        return None
    given = _leaf_shapes((args, kwargs))
    shapes = []
    for i, t in enumerate(leaves):
        shape = given[i] if i < len(given) else None
        if shape is None and isinstance(t, Tensor) and not t._is_variable:
            dims = trace.static_shape(t)
            if dims is not None and not getattr(dims, "unknown_rank", False):
                shape = TensorShape(list(dims))
        shapes.append(shape)
    return shapes


def widened(trace, t, spec):
    """Input ``t`` of an inlined call whose signature ``spec`` (a ``_Signature``
    entry) leaves dims unknown that the caller's trace knows (a relaxed or
    ``input_signature`` trace): an Identity of it with those dims unknown, as the
    placeholders of TF's function graph; else ``t``."""
    if not isinstance(t, Tensor) or t._is_variable or not isinstance(
            spec[0], TensorShape) or spec[0].rank is None:
        return t
    dims = trace.static_shape(t)   # (None: the traced shape, all known)
    dims = list(t._value.shape) if dims is None else dims
    if getattr(dims, "unknown_rank", False) or len(dims) != spec[0].rank:
        return t
    axes = {a for a, d in enumerate(spec[0].as_list())
            if d is None and dims[a] is not None}
    if not axes:
        return t
    return _static_dims.note_unknown_axes(call(REGISTRY["Identity"], (t,)), axes)


def distinct_inputs(args, kwargs, template, leaves, specs=()):
    """``(args, kwargs, leaves)`` of an inlined call, a tensor passed twice
    (``f(x, x)``) given to the body as two tensors (an Identity of the repeat):
    TF's function graph has one placeholder per input, so ``tf.gradients`` in the
    body differentiates each on its own. ``specs`` (the signature's) widens the
    static shapes to its unknown dims (``function_inline.widened``)."""
    seen, fresh = set(), []
    for i, t in enumerate(leaves):
        if isinstance(t, Tensor) and not t._is_variable:
            if id(t) in seen:
                t = call(REGISTRY["Identity"], (t,))
            seen.add(id(t))
            if i < len(specs):
                t = widened(STATE.trace, t, specs[i])
        fresh.append(t)
    if all(a is b for a, b in zip(fresh, leaves)):
        return args, kwargs, fresh
    call_args, call_kwargs = _unflatten(template, iter(fresh))
    return _restore_py(args, call_args), _restore_py(kwargs, call_kwargs), fresh
