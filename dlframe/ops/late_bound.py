"""Ops given traced tensors where they need Python values, inside ``dlframe.function``.

Tracing is concrete, so an op that needs a Python value from an argument (a
reduction ``axis``, ``one_hot``'s ``depth``, ``top_k``'s ``k``, ``tile``'s
``multiples``...) could read the trace-time value of a tensor computed from the
function's inputs, and the graph would bake it in. Instead, an op decorated with
``reads_values("axis", ...)`` that receives a traced tensor there becomes one graph
node: at every run the node reads those tensors' values and runs the op eagerly
(``EagerCall``). Its outputs' shapes may depend on the values, so shape queries of
them run with the graph; its gradient is another such node (a tape around the same
eager call), so it stays differentiable and traceable.
"""

import functools
import inspect

from dlframe.core import nest
from dlframe.core.primitive import STATE, call, primitive
from dlframe.core.static_dims import UnknownRankDims, hidden_values
from dlframe.core.tensor import Tensor, _tracing_tensor, convert_to_tensor
from dlframe.errors import OpError


def _traced(value):
    if isinstance(value, Tensor):
        return _tracing_tensor(value)
    if isinstance(value, (list, tuple)):
        return any(_traced(v) for v in value)
    return False


def _split(value, leaves):
    """``value`` with its Tensor leaves taken out into ``leaves`` (a template)."""
    if isinstance(value, Tensor):
        leaves.append(value)
        return _LEAF
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return (type(value), [_split(v, leaves) for v in value])
    if isinstance(value, dict):
        return (dict, {k: _split(v, leaves) for k, v in value.items()})
    return value


_LEAF = object()


def _join(template, it):
    if template is _LEAF:
        return next(it)
    if isinstance(template, tuple) and len(template) == 2 and template[0] in (
            list, tuple, dict):
        kind, items = template
        if kind is dict:
            return {k: _join(v, it) for k, v in items.items()}
        return kind(_join(v, it) for v in items)
    return template


class _eager:
    """Runs ops plainly: no trace records them and no tape watches them."""

    def __enter__(self):
        self.saved = STATE.trace, STATE.tapes
        STATE.trace, STATE.tapes = None, []

    def __exit__(self, *exc):
        STATE.trace, STATE.tapes = self.saved
        return False


class _Bound:
    """``op`` with its arguments, the tensors among them supplied at each run."""

    def __init__(self, op, template, static_dims=None):
        self.op = op
        self.template = template
        self.static_dims = static_dims   # the outputs' dims TF knows, or None
        self.structure = None    # the output structure (set by the trace-time run)
        self.pending = None      # trace-time output arrays, handed to the first forward

    def run(self, tensors):
        """Flat output Tensors of ``op`` on these argument tensors (eagerly)."""
        args, kwargs = _join(self.template, iter(tensors))
        out = self.op(*args, **kwargs)
        if self.structure is None:
            self.structure = out
        return [convert_to_tensor(o) for o in nest.flatten(out)]

    def __repr__(self):
        return f"<{getattr(self.op, '__name__', 'op')} with run-time arguments>"


class _Vjp:
    """Gradients of a ``_Bound`` call with respect to its floating inputs."""

    def __init__(self, bound, wrt, n_in):
        self.bound = bound
        self.wrt = wrt
        self.n_in = n_in
        self.__name__ = f"{getattr(bound.op, '__name__', 'op')}_grad"
        self.static_dims = None   # (the gradient node's shapes are the inputs')
        self.structure = None
        self.pending = None

    def run(self, tensors):
        from dlframe.core.tape import GradientTape
        xs, dys = list(tensors[:self.n_in]), list(tensors[self.n_in:])
        with GradientTape() as tape:
            for i in self.wrt:
                tape.watch(xs[i])
            outs = self.bound.run(xs)
        grads = tape.gradient(outs, [xs[i] for i in self.wrt], output_gradients=dys,
                              unconnected_gradients="zero")
        # a gather's IndexedSlices: the graph node's outputs are dense arrays
        return [convert_to_tensor(g) for g in grads]


def _forward(d, *arrays, bound):
    if bound.pending is not None:     # the trace-time call: computed just before
        values, bound.pending = bound.pending, None
    else:
        with _eager():
            values = [o._value for o in bound.run([Tensor(a, d) for a in arrays])]
    return tuple(values)


def _grad(inputs, out, dy, *, bound):
    dys = list(dy) if isinstance(dy, (tuple, list)) else [dy]
    wrt = [i for i, x in enumerate(inputs) if x.dtype.is_floating or x.dtype.is_complex]
    grads = [None] * len(inputs)
    if wrt:
        found = _call_bound(_Vjp(bound, wrt, len(inputs)), list(inputs) + dys)
        for i, g in zip(wrt, found):
            grads[i] = g
    return tuple(grads)


@primitive("EagerCall", n_out=-1)
def _pure_p(d, *arrays, bound):
    return _forward(d, *arrays, bound=bound)


@primitive("EagerCallStateful", n_out=-1, stateful=True)
def _stateful_p(d, *arrays, bound):
    return _forward(d, *arrays, bound=bound)


for _p in (_pure_p, _stateful_p):
    _p.defgrad(_grad)
    _p.value_shaped = True   # its output sizes depend on input values
    # the op's own static dims where it gave them (random_crop's Python-int sizes)
    _p.static_shape = lambda in_dims, attrs: attrs["bound"].static_dims


def _call_bound(bound, tensors, stateful=False, substitute=None, unknown=False):
    if substitute is not None and not _made_up():
        substitute = None   # real values: the op's errors are the caller's
    with _eager():
        try:
            first = bound.run(tensors)
        except (ValueError, TypeError, OpError) as exc:
            if substitute is None:
                raise
            first = _substituted(bound, substitute, exc)
    if not first:
        return []
    if unknown:
        _unknown_dims(bound, first, unknown == "rank")
    bound.pending = [o._value for o in first]
    dev = tensors[0]._device if tensors else first[0]._device
    tensors = [x if x._device is dev else convert_to_tensor(x.numpy(), device=dev)
               for x in tensors]
    return list(call(_stateful_p if stateful else _pure_p, tuple(tensors),
                     {"bound": bound}, device=dev))


def _made_up():
    """Whether the running trace computes with values its graph's runs need not
    have: a ``get_concrete_function`` trace on placeholders (its run is not the
    call's) or a branch's (see ``ops._util.probing_branch``)."""
    trace = STATE.trace
    if trace is None:
        return False
    root = trace
    while root.parent is not None:
        root = root.parent
    return trace.parent is not None or getattr(root, "py_runs_now", None) is False


def _substituted(bound, substitute, exc):
    """Outputs of ``substitute`` (the op's stand-in on values it accepts) for a
    trace-time run that ``exc`` refused; the graph's runs call the op itself."""
    try:
        out = substitute()
    except Exception:   # noqa: BLE001 - no stand-in: the op's own error stands
        raise exc from None
    bound.structure = out
    return [convert_to_tensor(o) for o in nest.flatten(out)]


def _unknown_dims(bound, outs, rank=False):
    """All dims of ``outs`` unknown (with ``rank``, their ranks too): TF's view of
    an op whose read values, unknown to it, set its output sizes
    (``sizes_follow``)."""
    kind = UnknownRankDims if rank else list
    dims = [kind([None] * o._value.ndim) for o in outs]
    bound.static_dims = dims[0] if len(dims) == 1 else dims


def late_call(op, args, kwargs, stateful=False, static_shape=None, stand_in=None,
              hidden=False):
    """``op(*args, **kwargs)`` as one graph node reading its tensor arguments' values
    at every run (see the module docstring); ``static_shape(*args, **kwargs)``, when
    given, says the output dims TF knows (None where a traced value sets them);
    where it gives None, ``hidden`` (read values that TF's graph does not know
    set the output sizes: ``sizes_follow``) leaves every dim unknown.
    ``stand_in(*args, **kwargs)`` gives a result of the op's structure and dtypes
    for a trace on placeholder values the op refuses (``get_concrete_function``
    with a TensorSpec for a ``transpose`` perm)."""
    leaves = []
    template = _split((tuple(args), dict(kwargs)), leaves)
    dims = None if static_shape is None else static_shape(*args, **kwargs)
    bound = _Bound(op, template, dims)
    substitute = None if stand_in is None else (lambda: stand_in(*args, **kwargs))
    outs = _call_bound(bound, leaves, stateful, substitute, dims is None and hidden)
    return nest.pack_sequence_as(bound.structure, outs)


def _hidden(args, kwargs, where):
    """Whether a value ``reads_values`` reads is one TF's graph does not know."""
    trace = STATE.trace
    if getattr(trace, "value_mask", None) is None:
        return False
    for n, i in where:
        value = args[i] if i < len(args) else kwargs.get(n)
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(v, Tensor) and hidden_values(trace, v) is not None:
                return True
    return False


def reads_values(*names, stateful=False, static_shape=None, stand_in=None,
                 sizes_follow=False):
    """Decorator: ``op`` needs the Python values of the arguments ``names``; given
    traced tensors there (inside a ``dlframe.function``), it runs as a graph node
    that reads them at run time instead of failing or baking a trace-time value.

    Args:
      *names: parameter names of the decorated op.
      stateful: the op draws random numbers (never merged or folded in a graph).
      static_shape: optional function of the op's arguments giving its output's
        dims as TF's shape inference knows them (None for a size a traced value
        sets).
      sizes_follow: the values read set the output's sizes (``tf.tile``'s
        multiples): where TF's graph does not know them and ``static_shape``
        tells nothing, every output dim is unknown (its rank known); "rank":
        the rank too (a reduction's ``axis``); or a function of the op's
        arguments giving one of these (or False).
      stand_in: optional function of the op's arguments giving a result of the
        op's structure and dtypes, for a trace on placeholder values the op
        refuses (``late_call``).
    """
    def wrap(op):
        params = list(inspect.signature(op).parameters)
        where = [(n, params.index(n)) for n in names]

        @functools.wraps(op)
        def wrapper(*args, **kwargs):
            if STATE.trace is not None:
                for n, i in where:
                    value = args[i] if i < len(args) else kwargs.get(n)
                    if _traced(value):
                        follow = sizes_follow(*args, **kwargs) if callable(
                            sizes_follow) else sizes_follow
                        return late_call(op, args, kwargs, stateful, static_shape,
                                         stand_in, follow if follow and _hidden(
                                             args, kwargs, where) else False)
            return op(*args, **kwargs)
        return wrapper
    return wrap


__all__ = []
