"""TF's unknown static dimensions carried through a concrete trace.

dlframe traces run on values, so the static shapes of a traced function's results
(``ConcreteFunction.output_shapes``, ``Dataset.map``'s ``element_spec``) are found by
tracing at several sizes of the unknown input dimensions and keeping what differs
as unknown. That misses results whose size does not follow the input's although
TF cannot know it: ``x[:2]`` of a ``[None]`` input is 2 at every traced size of
at least 2, yet TF reports ``[None]`` (x may be shorter).

``forced_unknown`` walks a finished trace from the inputs' unknown dimensions and
marks the dimensions TF would not know: a primitive with a ``static_shape`` rule
(``StridedSlice``) says exactly which of its output dimensions stay known; any
other primitive whose outputs have the broadcast shape of its inputs (elementwise
math, casts, activations) passes a mark on to the output dimension it lines up
with. Callers turn the marked dimensions of their results to None, on top of
what the size comparison finds.

A rule ``static_shape(in_dims, attrs)`` gets each input's dims (None where unknown)
and the primitive's attributes and returns the output's dims (a list of lists for
several outputs), as TF's shape function would; it returns None when it cannot
tell (the marks then follow the elementwise rule, and a Keras functional build
compares a second run). The helpers below are shared by the rules in ``ops``.
Which *values* of shape tensors TF knows, and ``tf.get_static_value`` in a trace:
``static_dims_values`` (its names are re-exported here).
"""

from dlframe.core.primitive import STATE
from dlframe.core.static_dims_values import (  # noqa: F401 - re-exported for ops
    _broadcast,
    hidden_values,
    note_shape_of,
    note_shaped,
    note_sized,
    shape_arg_dims,
    shape_arg_static,
    static_value,
    unknown_values,
    value_masks,
)
from dlframe.core.tensor import Tensor

# in a set of unknown axes: the rank itself is unknown (a py_function's result, an
# input of TensorSpec(shape=None)); TF shows such a shape as ``<unknown>``
RANK = -1


class UnknownRankDims(list):
    """What ``Trace.static_shape`` gives for a tensor of unknown rank: None per
    concrete axis (for dlframe's own code), ``unknown_rank`` for user views."""

    unknown_rank = True


def unknown_axes(tensor, shape):
    """Axes of ``tensor`` left unknown by the static ``shape`` it stands for."""
    rank = tensor._value.ndim
    dims = getattr(shape, "dims", shape)
    if dims is None:
        return frozenset(range(rank)) | {RANK}
    dims = list(dims)
    if len(dims) != rank:
        return frozenset()
    return frozenset(a for a, d in enumerate(dims) if getattr(d, "value", d) is None)


def merge_dim(*dims):
    """One dimension seen through several inputs that must agree or broadcast (TF's
    broadcast / merge of static dims): a known size other than 1 wins, else None when
    any is unknown, else 1."""
    sizes = [d for d in dims if d is not None and d != 1]
    if sizes:
        return sizes[0]
    return None if any(d is None for d in dims) else 1


def merge_dims(*shapes):
    """``merge_dim`` per axis of ``shapes``, aligned at their last axes (NumPy
    broadcasting; a shorter shape counts as 1 on the leading axes)."""
    rank = max((len(s) for s in shapes), default=0)
    padded = [[1] * (rank - len(s)) + list(s) for s in shapes]
    return [merge_dim(*ds) for ds in zip(*padded)]


def window_dim(n, k, s, dil, lo, hi):
    """Output length of a convolution / pooling sweep over a (None: unknown) input
    length ``n`` (known padding ``lo``/``hi``)."""
    if n is None:
        return None
    return (n + lo + hi - ((k - 1) * dil + 1)) // s + 1


def swept_static_shape(in_dims, attrs, channels):
    """Rule of a convolution or pooling (channels last): the batch, each spatial
    length through ``window_dim`` and ``channels`` output channels."""
    x = in_dims[0]
    ks = attrs.get("ksize") or in_dims[1][:len(x) - 2]
    spatial = [None if k is None else window_dim(n, k, s, dil, lo, hi)
               for n, k, s, dil, (lo, hi) in zip(x[1:-1], ks, attrs["strides"],
                                                   attrs["dilations"], attrs["pads"])]
    return x[:1] + spatial + [channels]


def padded_static_shape(in_dims, attrs):
    """Rule of the pads: each dimension grows by its known ``paddings`` pair."""
    return [None if d is None else d + lo + hi
            for d, (lo, hi) in zip(in_dims[0], attrs["paddings"])]


def _rule_marks(prim, inputs, in_marks, attrs, outs):
    # an input of unknown rank: UnknownRankDims (a scalar stand-in has no dims to
    # hold its unknown size)
    in_dims = [(UnknownRankDims if RANK in m else list)(
        None if a in m else d for a, d in enumerate(x._value.shape))
        for x, m in zip(inputs, in_marks)]
    out_dims = prim.static_shape(in_dims, attrs)
    if out_dims is None:
        return None
    if len(outs) == 1 and (not out_dims or not isinstance(out_dims[0], list)):
        out_dims = [out_dims]
    # an input of unknown rank: an output with no known dim has unknown rank too,
    # unless the primitive's arguments set it (``sets_rank``: reshape to [-1])
    rank_lost = any(RANK in m for m in in_marks)
    if rank_lost and getattr(prim, "sized_by_rank", False):   # tf.shape: [None]
        return [frozenset(range(len(dims))) for dims in out_dims]
    if rank_lost and getattr(prim, "keeps_unknown_rank", False):   # expand_dims
        return [frozenset(range(len(dims))) | {RANK} for dims in out_dims]
    marks = []
    for dims in out_dims:
        axes = frozenset(a for a, d in enumerate(dims) if d is None)
        if getattr(dims, "unknown_rank", False):   # the rule says: rank unknown
            axes |= {RANK}
        if rank_lost and dims and len(axes) == len(dims) and \
                not getattr(prim, "sets_rank", False):
            axes |= {RANK}
        marks.append(axes)
    return marks


def aligned_axes(inputs, in_marks):
    """``(broadcast shape or None, unknown axes, known axes)`` of elementwise inputs:
    the output axes some input leaves unknown, and those some input knows (a size
    other than 1)."""
    shape = _broadcast([tuple(x._value.shape) for x in inputs])
    rank = len(shape) if shape is not None else 0
    unknown, known = set(), set()
    for x, m in zip(inputs, in_marks):
        lead = rank - x._value.ndim
        for a, d in enumerate(x._value.shape):
            if a in m:
                unknown.add(lead + a)
            elif d != 1:
                known.add(lead + a)
    return shape, unknown, known


def _aligned_marks(inputs, in_marks, outs):
    """Marks of outputs shaped as the broadcast of the inputs (elementwise ops): as
    TF's broadcast shape, a dimension is unknown when an input's is and no other
    input knows it (a known 1 does not)."""
    shape, unknown, known = aligned_axes(inputs, in_marks)
    axes = frozenset(unknown - known)
    if any(RANK in m for m in in_marks):   # broadcasting with an unknown rank
        axes = frozenset(range(len(shape or ()))) | {RANK}
    return [axes if tuple(o._value.shape) == shape else frozenset() for o in outs]


def forced_unknown(trace, seeds):
    """Dimensions TF would leave unknown, for every tensor of ``trace``.

    Args:
      trace: a finished ``Trace`` (its ``nodes`` in execution order).
      seeds: ``(tensor, static shape)`` pairs for the trace's inputs: a TensorShape
        or a list with None for unknown dimensions.

    Returns:
      ``{id(tensor): frozenset of axes}`` for the tensors with unknown dimensions
      (ids of tensors the trace keeps alive: use it while the trace lives).
    """
    noted = {key: axes for key, (_t, axes) in getattr(trace, "noted", {}).items()}
    marks = dict(noted)   # dims ops marked from shape arguments (note_shaped)
    refined = getattr(trace, "refined", {})
    for tensor, shape in seeds:
        given = refined.get(id(tensor), (0, frozenset()))[1]
        axes = unknown_axes(tensor, shape) - given
        if axes:
            marks[id(tensor)] = axes
    for prim, inputs, outs, attrs, _dev in trace.nodes:
        if marks or prim.value_shaped:
            propagate(marks, prim, inputs, outs, attrs)
            for o in outs:
                if id(o) in refined and id(o) in marks:
                    marks[id(o)] = marks[id(o)] - refined[id(o)][1]
    return marks


def refine_static(trace, tensor, shape):
    """``tensor.set_shape(shape)`` (or ``tf.ensure_shape``) inside ``trace``: the
    dimensions ``shape`` gives are known from now on, as in TF's graph."""
    dims = getattr(shape, "dims", shape)
    if dims is None:
        return
    # a given rank is known from now on
    known = frozenset(a for a, d in enumerate(dims)
                      if getattr(d, "value", d) is not None) | {RANK}
    axes = trace.unknown_axes.get(id(tensor))
    if axes is None and trace.parent is not None:
        axes = trace.static_shape(tensor) and frozenset(
            a for a, d in enumerate(trace.static_shape(tensor)) if d is None)
    if not axes or not known & axes:
        return
    trace.unknown_axes[id(tensor)] = axes - known
    refined = trace.__dict__.setdefault("refined", {})
    refined[id(tensor)] = (tensor, known | refined.get(id(tensor), (0, frozenset()))[1])


def propagate(marks, prim, inputs, outs, attrs):
    """Adds to ``marks`` (``{id(tensor): unknown axes}``) the axes of ``outs`` (one
    traced primitive's) that TF would not know: those following unknown input dims,
    and those of a value-shaped primitive's rule (``tf.where(mask)`` has as many rows
    as ``mask`` has True values: TF's static shape is ``[None, rank]``)."""
    empty = frozenset()
    in_marks = [marks.get(id(x), empty) for x in inputs]
    has_rule = getattr(prim, "static_shape", None) is not None
    if not any(in_marks) and not (has_rule and value_shaped(prim, inputs, attrs)):
        return
    for o, axes in zip(outs, node_marks(prim, inputs, in_marks, attrs, outs)):
        axes = axes | marks.get(id(o), empty)
        if axes:
            marks[id(o)] = axes


def value_shaped(prim, inputs, attrs):
    """Whether ``prim``'s output size on these inputs depends on their values
    (its ``value_shaped`` flag, or its rule called with ``(inputs, attrs)``)."""
    rule = prim.value_shaped
    return rule(inputs, attrs) if callable(rule) else rule


def node_marks(prim, inputs, in_marks, attrs, outs):
    """Per output of one traced primitive, the axes left unknown given its inputs'
    unknown axes ``in_marks`` (a frozenset per input)."""
    found = None
    if getattr(prim, "static_shape", None) is not None:
        found = _rule_marks(prim, inputs, in_marks, attrs, outs)
    if found is None:
        found = _aligned_marks(inputs, in_marks, outs)
    return found


def static_dims(tensor, marks):
    """``tensor``'s shape with the dimensions ``marks`` holds unknown set to None
    (None when its rank is unknown)."""
    axes = marks.get(id(tensor), ())
    if RANK in axes:
        return None
    return [None if a in axes else d for a, d in enumerate(tensor._value.shape)]


def check_static_compatible(x, want, op):
    """Inside a trace, TF's graph-construction check of an op requiring shape
    ``want`` (None: any size) of ``x``: a ValueError when the static shape already
    disagrees; sizes it leaves unknown are checked when the graph runs."""
    trace = STATE.trace
    static = getattr(trace, "static_shape", None)
    if static is None:
        return
    dims = static(x)
    if getattr(dims, "unknown_rank", False):
        return
    dims = list(x._value.shape) if dims is None else dims
    text = ",".join("?" if d is None else str(d) for d in dims)
    if len(dims) != len(want):
        raise ValueError(f"Shape must be rank {len(want)} but is rank {len(dims)} for "
                         f"'{{{{node {op}}}}}' with input shapes: [{text}].")
    for axis, (w, d) in enumerate(zip(want, dims)):
        if w is not None and d is not None and w != d:
            expected = ",".join("?" if v is None else str(v) for v in want)
            raise ValueError(
                f"Dimension {axis} in both shapes must be equal, but are {w} and {d}. "
                f"Shapes are [{expected}] and [{text}]. for '{{{{node {op}}}}}' with "
                f"input shapes: [{text}].")


def graph_dims(x):
    """``x``'s dims as TF's graph knows them inside a trace (None where the input
    signature leaves them unknown), else its concrete dims: what dlframe's own code
    must use for a static shape, since its ``x.shape`` is the concrete traced one
    (an ``UnknownRankDims`` when its rank is unknown)."""
    static = getattr(STATE.trace, "static_shape", None)
    dims = static(x) if static is not None else None
    if isinstance(dims, UnknownRankDims):
        return dims
    return list(x._value.shape) if dims is None else list(dims)


def sizes_unknown(x):
    """Whether TF's graph leaves some size of traced ``x`` unknown (its rank too)."""
    dims = graph_dims(x)
    return None in dims or getattr(dims, "unknown_rank", False)


def note_slice_sizes(out, x, begin, size):
    """Marks the dims of ``out`` (``tf.slice(x, begin, size)`` with per-dim ints or
    scalar tensors) that TF would not know: a hidden size, or a size of -1 whose
    begin is hidden or whose dim of ``x`` is unknown. No-op outside a trace."""
    trace = STATE.trace
    if getattr(trace, "value_mask", None) is None or \
            getattr(trace, "nodes", None) is None:
        return out

    def hidden(v):
        return isinstance(v, Tensor) and hidden_values(trace, v) is not None
    dims = graph_dims(x)
    axes = [a for a, (b, n) in enumerate(zip(begin, size)) if hidden(n) or (
        not isinstance(n, Tensor) and n == -1 and (hidden(b) or a >= len(dims) or
                                                    dims[a] is None))]
    return note_unknown_axes(out, axes)


def same_dims(x, *_args, **_kwargs):
    """A ``reads_values`` op's ``static_shape`` for an output shaped as its first
    argument ``x`` (``tf.roll``, ``tf.reverse``): TF knows its dims as ``x``'s."""
    return graph_dims(x) if isinstance(x, Tensor) else None


def note_unknown_axes(out, axes):
    """Marks ``axes`` of ``out`` unknown in the running trace: dims a value decides
    that the op's rule cannot name (``x[mask]`` rows). No-op outside a trace."""
    trace = STATE.trace
    if axes and id(out) in getattr(trace, "produced", ()):
        trace.note_unknown(out, frozenset(axes))
    return out
