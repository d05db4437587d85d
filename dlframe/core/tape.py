"""GradientTape: records primitives on watched tensors and runs reverse-mode AD.

Gradient rules are written in dlframe ops, so the backward pass is itself recorded
by outer tapes (higher derivatives) and by an active trace (compiled train steps).
"""

import contextlib
import enum
import logging
import threading

from dlframe.core import basic, dtypes
from dlframe.core import indexed_slices as _slices
from dlframe.core.indexed_slices import IndexedSlices
from dlframe.core.nest import flatten as _flatten
from dlframe.core.nest import pack_sequence_as as _pack_like
from dlframe.core.primitive import STATE
from dlframe.core.tensor import Tensor

# Late-bound ops used by jacobian (ops sit above core; they register themselves).
OPS = {}
# methods already warned about being called inside a persistent tape's context
_WARNED_INSIDE = set()


def _is_float(t):
    dtype = t._value.dtype
    return dtype.kind in "fc" or dtype == _BF16 or (
        dtype.kind == "O" and _float_rows(t._value))


def _float_rows(value):
    """A ragged TensorArray buffer of float rows (ops.list_ops): differentiable."""
    if value.ndim != 1:
        return False
    row = next((r for r in value if r is not None), None)
    return getattr(row, "dtype", None) is not None and row.dtype.kind in "fc"


_BF16 = dtypes.bfloat16._np if dtypes.bfloat16 is not None else None


class UnconnectedGradients(enum.Enum):
    """What ``GradientTape.gradient`` returns for sources the targets do not reach:
    ``NONE`` (None, the default) or ``ZERO`` (zeros shaped like the source)."""

    NONE = "none"
    ZERO = "zero"


def unconnected_mode(value):
    """'none' or 'zero' from an ``unconnected_gradients`` argument (a string or an
    ``UnconnectedGradients``); ValueError for anything else."""
    mode = str(getattr(value, "value", value)).lower()
    if mode not in ("none", "zero"):
        raise ValueError(f"Unknown value for unconnected_gradients: {value!r}")
    return mode


class GradientTape:
    """Records operations for automatic differentiation.

    Args:
      persistent: allow several ``gradient`` calls on this tape.
      watch_accessed_variables: watch trainable Variables read while recording.
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = bool(persistent)
        self._watch_vars = bool(watch_accessed_variables)
        self._watched = {}
        self._variables = {}
        self._entries = []
        self._snapshots = []   # (value read before an in-place write, its Variable)
        self._used = False
        self._active = False
        self._entered = False

    # -- recording -------------------------------------------------------------
    def __enter__(self):
        self._push()
        return self

    def __exit__(self, *exc):
        self._pop()
        return False

    def _push(self):
        if self._active:
            raise ValueError("Tape is still recording, This can happen if you try to "
                             "re-enter an already-active tape.")
        STATE.tapes.append(self)
        self._active = True
        self._entered = True

    def _pop(self):
        if self._active:
            STATE.tapes.remove(self)
            self._active = False

    def _record(self, prim, inputs, outs, attrs):
        watched = self._watched
        hit = False
        for t in inputs:
            key = id(t)
            if key in watched:
                hit = True
            elif t._is_variable and self._watch_vars and t._trainable:
                watched[key] = t
                self._variables[key] = t
                hit = True
        if hit:
            self._entries.append((prim, inputs, outs, attrs))
            for o in outs:
                watched[id(o)] = o
            for t in inputs:
                if t._is_variable:
                    t._taped_by(self)

    def _snapshot_input(self, var, snapshot):
        """``var`` is about to be written in place: entries that read it keep
        ``snapshot`` (its value now) instead, and its gradients still reach ``var``
        (TF's backward uses the values the forward pass read)."""
        entries = self._entries
        for i, (prim, inputs, outs, attrs) in enumerate(entries):
            if any(x is var for x in inputs):
                entries[i] = (prim, tuple(snapshot if x is var else x for x in inputs),
                              outs, attrs)
        self._snapshots.append((snapshot, var))

    def watch(self, tensor):
        """Ensures ``tensor`` (or a nested structure of them) is traced by this tape."""
        for t in _flatten(tensor):
            if not isinstance(t, Tensor):
                raise ValueError(
                    f"Passed in object {t!r} of type {type(t).__name__!r}, not "
                    "dlframe.Tensor or dlframe.Variable, to GradientTape.watch.")
            if not _is_float(t):
                # TF logs this (``WARNING:tensorflow:...``), it is no Python warning
                logging.getLogger("dlframe").warning(
                    "The dtype of the watched tensor must be floating (e.g. "
                    "tf.float32), got %r", t.dtype)
            self._watched[id(t)] = t
            if t._is_variable:
                self._variables[id(t)] = t

    def watched_variables(self):
        """The Variables watched by this tape, in the order they were created (as
        TF, whatever order they were read in)."""
        return tuple(sorted(self._variables.values(),
                            key=lambda v: getattr(v, "_creation_order", -1)))

    def stop_recording(self):
        """Context manager that temporarily stops recording on this tape."""
        return _StopRecording(self)

    def reset(self):
        """Clears everything recorded so far (the tape keeps recording).

        Raises:
          ValueError: when the tape is not recording (outside its ``with`` block).
        """
        if not self._active:
            raise ValueError("Tape is not recording.")
        self._watched = {}
        self._variables = {}
        self._entries = []

    # -- differentiation -------------------------------------------------------
    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients="none"):
        """Computes the gradient of ``target`` with respect to ``sources``.

        Args:
          target: a Tensor or nested structure of Tensors to differentiate.
          sources: a Tensor/Variable or nested structure of them.
          output_gradients: gradients of the targets (default: ones).
          unconnected_gradients: 'none' or 'zero' for sources the targets do not
            depend on.

        Returns:
          Gradients with the structure of ``sources``; None for integer sources
          (except a source that is itself a target: its seed, as TF).

        Raises:
          RuntimeError: on a second call of a non-persistent tape.
          TypeError: when a source is not a Tensor or Variable.
        """
        self._check_usable()
        mode = unconnected_mode(unconnected_gradients)
        flat_sources = _flatten(sources)
        for s in flat_sources:
            if not isinstance(s, Tensor):
                raise TypeError(f"GradientTape.gradient: sources must be Tensors or "
                                f"Variables, got {type(s).__name__}: {s!r}")
        flat_targets = [t for t in _flatten(target)]
        for t in flat_targets:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"GradientTape.gradient: target must be a Tensor, got "
                                f"{type(t).__name__}: {t!r}")
        if output_gradients is None:
            flat_out = [None] * len(flat_targets)
        else:
            flat_out = _flatten(output_gradients)
            if len(flat_out) != len(flat_targets):
                raise ValueError("output_gradients must have the structure of target: "
                                 f"{len(flat_out)} vs {len(flat_targets)} tensors")
        # a persistent tape called inside its context records the backward pass too
        # (TF: that is how it gives higher derivatives)
        self._leave_context("gradient")
        if not self._persistent:
            self._used = True
        # TF: a target that is itself a source gets its seed even when unwatched
        target_ids = {id(t) for t in flat_targets}
        watched_sources = [s for s in flat_sources
                           if id(s) in self._watched or id(s) in target_ids]
        found = backprop(self._entries, flat_targets, flat_out, watched_sources,
                         self._snapshots)
        if not self._persistent:   # nothing can read them again: free the forward
            self._entries, self._snapshots = [], []
        by_id = {id(s): g for s, g in zip(watched_sources, found)}
        result = []
        for s in flat_sources:
            g = by_id.get(id(s))
            if g is None and mode == "zero":   # TF: integer sources get zeros too
                g = basic.zeros_like_t(s)
            result.append(g)
        return _pack_like(sources, result)

    def _check_usable(self):
        """Raises TF's RuntimeError when a non-persistent tape was already used."""
        if (self._used or not self._entered) and not self._persistent:
            # TF: a tape never entered has nothing recorded and fails the same way
            raise RuntimeError("A non-persistent GradientTape can only be used to compute "
                               "one set of gradients (or jacobians)")

    def _leave_context(self, method):
        """Called by ``method`` inside the tape's ``with`` block, as TF: a
        non-persistent tape stops recording for good (nothing can use it again); a
        persistent one keeps recording, with a log warning (once per process)."""
        if not self._active:
            return
        if not self._persistent:
            self._pop()
            return
        if method not in _WARNED_INSIDE:
            _WARNED_INSIDE.add(method)
            logging.getLogger("dlframe").warning(
                "Calling GradientTape.%s on a persistent tape inside its context is "
                "significantly less efficient than calling it outside the context (it "
                "causes the %s ops to be recorded on the tape, leading to increased "
                "CPU and memory usage). Only call GradientTape.%s inside the context "
                "if you actually want to trace the %s in order to compute higher "
                "order derivatives.", method, method, method, method)

    def _require_persistent_for_loop(self, what, use_pfor):
        """TF: an eager Jacobian without pfor loops over ``gradient`` calls, which
        only a persistent tape allows."""
        if not use_pfor and not self._persistent and STATE.trace is None:
            raise RuntimeError(
                f"GradientTape must be created with persistent=True to compute the "
                f"{what} with eager execution enabled and with experimental_use_pfor "
                f"set to False.")

    def jacobian(self, target, sources, unconnected_gradients="none",
                 parallel_iterations=None, experimental_use_pfor=True):
        """Jacobian of ``target`` w.r.t. each source: shape ``target.shape + source.shape``."""
        self._check_usable()
        self._require_persistent_for_loop("jacobian", experimental_use_pfor)
        self._leave_context("jacobian")
        flat_sources = _flatten(sources)
        zero_mode = unconnected_mode(unconnected_gradients) == "zero"
        rows = [[] for _ in flat_sources]
        was_persistent = self._persistent
        self._persistent = True
        try:
            for i in range(int(target._value.size)):
                seed = _one_hot_like(target, i)
                grads = self.gradient(target, flat_sources, output_gradients=seed)
                for r, g in zip(rows, grads):
                    r.append(_slices.densify(g))
        finally:
            self._persistent = was_persistent
            if not was_persistent:
                self._used = True
        out = []
        for s, r in zip(flat_sources, rows):
            shape = tuple(target._value.shape) + tuple(s._value.shape)
            if all(g is None for g in r):
                out.append(OPS["zeros"](shape, s.dtype) if zero_mode else None)
                continue
            r = [g if g is not None else basic.zeros_like_t(s) for g in r]
            out.append(OPS["reshape"](OPS["stack"](r, 0), shape) if r
                       else OPS["zeros"](shape, s.dtype))
        return _pack_like(sources, out)

    def batch_jacobian(self, target, source, unconnected_gradients="none",
                       parallel_iterations=None, experimental_use_pfor=True):
        """Per-example Jacobian: ``[b, *target.shape[1:], *source.shape[1:]]``."""
        self._check_usable()
        self._require_persistent_for_loop("batch_jacobian", experimental_use_pfor)
        self._leave_context("batch_jacobian")
        tshape = tuple(target._value.shape)
        sshape = tuple(source._value.shape)
        for name, shape in (("target", tshape), ("source", sshape)):
            if len(shape) < 2:   # TF: both are [batch, ...] with rank >= 2
                raise ValueError(f"batch_jacobian: `{name}` must have rank at least 2, "
                                 f"got shape {list(shape)}")
        if not tshape or not sshape or tshape[0] != sshape[0]:
            raise ValueError(f"Need first dimension of target shape ({tuple(tshape)}) "
                             f"and source shape ({tuple(sshape)}) to match.")
        batch = tshape[0]
        inner = 1
        for d in tshape[1:]:
            inner *= d
        was_persistent = self._persistent
        self._persistent = True
        cols = []
        try:
            for j in range(inner):
                seed = _batch_seed(target, j)
                g = self.gradient(target, source, output_gradients=seed,
                                  unconnected_gradients="zero")
                cols.append(_slices.densify(g))
        finally:
            self._persistent = was_persistent
            if not was_persistent:
                self._used = True
        stacked = OPS["stack"](cols, 1)  # [b, inner, *source[1:]]
        return OPS["reshape"](stacked, (batch,) + tshape[1:] + sshape[1:])


def _one_hot_like(target, i):
    xp = target._device.xp
    arr = xp.zeros(target._value.size, dtype=target._value.dtype)
    arr[i] = 1
    return Tensor(arr.reshape(target._value.shape), target._device)


def _batch_seed(target, j):
    xp = target._device.xp
    b = target._value.shape[0]
    arr = xp.zeros((b, target._value.size // b), dtype=target._value.dtype)
    arr[:, j] = 1
    return Tensor(arr.reshape(target._value.shape), target._device)


class _StopRecording:
    def __init__(self, tape):
        self._tape = tape

    def __enter__(self):
        if not self._tape._active:
            raise ValueError("Tape is not recording.")
        self._tape._pop()

    def __exit__(self, *exc):
        self._tape._push()
        return False


def backprop(entries, targets, target_grads, sources, snapshots=()):
    """Reverse-mode sweep over recorded ``entries``.

    Args:
      entries: (primitive, inputs, outputs, attrs) in execution order.
      targets: Tensors to differentiate.
      target_grads: seed gradients per target (None = ones).
      sources: Tensors to differentiate with respect to.
      snapshots: (snapshot, Variable) pairs: entries read ``snapshot`` in place of a
        Variable written after them; its gradient counts for the Variable.

    Returns:
      A list with a gradient (or None) per source.
    """
    grads = {}
    direct = {}   # seeds of non-float targets that are sources (TF returns them)
    source_ids = {id(s) for s in sources}
    for t, g in zip(targets, target_grads):
        if t is None:
            continue
        is_float = _is_float(t)
        if not is_float and id(t) not in source_ids:
            continue
        if g is None:
            g = basic.ones_like_t(t)
        elif not isinstance(g, Tensor):
            from dlframe.core.tensor import convert_to_tensor
            g = convert_to_tensor(g, dtype=t.dtype)
        _accumulate(grads if is_float else direct, t, g)
    reach = set(source_ids)
    for snap, var in snapshots:
        if id(var) in reach:
            reach.add(id(snap))
    needed = []
    for entry in entries:
        hit = False
        for x in entry[1]:
            if id(x) in reach:
                hit = True
                break
        needed.append(hit)
        if hit:
            for o in entry[2]:
                reach.add(id(o))
    for i in range(len(entries) - 1, -1, -1):
        if not needed[i]:
            continue
        prim, inputs, outs, attrs = entries[i]
        dys = [grads.get(id(o)) for o in outs]
        if all(d is None for d in dys):
            continue
        if any(d.__class__ is IndexedSlices for d in dys) and \
                not getattr(prim, "takes_slices", False):   # most rules take dense
            dys = [_slices.densify(d) for d in dys]
        kwargs = attrs or {}
        if prim.wants_needs:  # rules that can skip work for inputs nobody asked for
            kwargs = dict(kwargs, needs=tuple(id(x) in reach and _is_float(x)
                                              for x in inputs))
        if prim.n_out == 1:
            in_grads = prim.grad(inputs, outs[0], dys[0], **kwargs)
        else:
            # outputs past ``grad_outputs`` are saved forward buffers that the rule
            # ignores (fused RNN kernels): they get None, not a zeros array each
            n_grad = getattr(prim, "grad_outputs", len(outs))
            filled = tuple(d if d is not None or k >= n_grad else basic.zeros_like_t(o)
                           for k, (d, o) in enumerate(zip(dys, outs)))
            in_grads = prim.grad(inputs, outs, filled, **kwargs)
        if not isinstance(in_grads, (tuple, list)):
            in_grads = (in_grads,)
        for x, g in zip(inputs, in_grads):
            if g is None or id(x) not in reach or not _is_float(x):
                continue
            if g.__class__ is not IndexedSlices and g._value.shape != x._value.shape:
                g = basic.sum_to(g, x._value.shape)
            _accumulate(grads, x, g)
    for snap, var in snapshots:
        g = grads.pop(id(snap), None)
        if g is not None:
            _accumulate(grads, var, g)
    return [grads.get(id(s)) if _is_float(s) else direct.get(id(s)) for s in sources]


def _accumulate(grads, x, g):
    key = id(x)
    prev = grads.get(key)
    if prev is None:
        grads[key] = g
    elif prev.__class__ is IndexedSlices or g.__class__ is IndexedSlices:
        grads[key] = _slices.add(g, prev)   # TF: slices concatenate, dense wins
    else:
        grads[key] = basic.add(prev, g)


# ------------------------------------------------------------- graph-style gradients
class _GraphTapes(threading.local):
    def __init__(self):
        self.stack = []


_GRAPH_TAPES = _GraphTapes()


@contextlib.contextmanager
def graph_gradient_tape(tape):
    """Makes ``tape`` answer TF1 graph-style gradient requests in this context.

    TF1 code differentiates loss *tensors* (``tf.gradients``, ``optimizer.minimize(
    loss)``, Keras 2's ``get_updates``). ``tf.estimator`` runs a ``model_fn`` under a
    recording tape and names it here, so that code works eagerly.
    """
    _GRAPH_TAPES.stack.append(tape)
    try:
        yield tape
    finally:
        _GRAPH_TAPES.stack.pop()


def graph_gradients(ys, xs, grad_ys=None, stop_gradients=()):
    """Gradients of the tensor(s) ``ys`` w.r.t. ``xs`` from the graph tape, or None
    when no graph tape is active (the caller raises its own error). Ops producing a
    ``stop_gradients`` tensor are left out of the backward pass, as TF's
    ``tf.gradients`` holds those tensors constant."""
    if not _GRAPH_TAPES.stack:
        return None
    tape = _GRAPH_TAPES.stack[-1]
    stop_ids = {id(t) for t in stop_gradients}
    recorded = tape._entries
    if stop_ids:
        tape._entries = [e for e in recorded if not any(id(o) in stop_ids for o in e[2])]
    kept = len(tape._entries)
    try:
        with tape.stop_recording() if tape._active else contextlib.nullcontext():
            return tape.gradient(ys, xs, output_gradients=grad_ys)
    finally:
        if stop_ids and tape._persistent:   # it keeps what it held, plus what
            tape._entries = recorded + tape._entries[kept:]   # it just recorded
