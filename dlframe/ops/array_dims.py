"""Shape changes: reshape, transpose, expand_dims, squeeze, broadcast_to."""

import operator

from dlframe.backends.base import np
from dlframe.core import basic
from dlframe.core.primitive import STATE, call, primitive
from dlframe.core.static_dims import (
    graph_dims,
    note_shaped,
    shape_arg_dims,
    sizes_unknown,
)
from dlframe.core.tensor import Tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops import dynamic_shape as _dyn
from dlframe.ops._util import (
    norm_axis,
    probing_branch,
    stand_in,
    static_shape,
    t,
    unaliased,
)
from dlframe.ops.late_bound import reads_values

broadcast_to_p = basic.broadcast_to_p


# ---------------------------------------------------------------- shapes
@primitive("Reshape", aliases=True)
def reshape_p(d, x, *, shape, sized=False):
    try:
        return x.reshape(shape)
    except ValueError:   # sizes a trace did not know (see reshape)
        if probing_branch():   # a stand-in of the asked shape
            return stand_in(d.xp.resize(x, [1 if s == -1 else s for s in shape]))
        raise InvalidArgumentError(
            f"Reshape: Input to reshape is a tensor with {x.size} values, but the "
            f"requested shape is {list(shape)} [Op:Reshape]") from None


def _reshape_static_shape(in_dims, attrs):
    """TF's static shape of a reshape: literal target sizes are known, a -1 only when
    the input's size is. A target holding tensors (``tf.shape(x)[0]``: ``sized``) or
    fixing every size of an input with unknown dims cannot be told from the marks."""
    dims, shape = in_dims[0], list(attrs["shape"])
    if attrs.get("sized"):
        return None
    if -1 not in shape:   # every size given: known whatever the input's
        return shape
    if None in dims or getattr(dims, "unknown_rank", False):
        return [None if s == -1 else s for s in shape]
    known = 1
    for s in shape:
        known *= 1 if s == -1 else s
    total = 1
    for d in dims:
        total *= d
    return [total // known if s == -1 else s for s in shape]


reshape_p.static_shape = _reshape_static_shape
reshape_p.sets_rank = True   # TF: reshape(x, [-1]) of an unknown rank is [None]


@reshape_p.defgrad
def _reshape_grad(inputs, out, dy, **attrs):
    return call(reshape_like_p, (dy, inputs[0]))


@primitive("ReshapeLike", aliases=True)
def reshape_like_p(d, x, like):
    """``x`` reshaped to ``like``'s shape when it runs (gradients of shape changes
    stay right when sizes change between runs of a compiled graph)."""
    return x.reshape(like.shape)


reshape_like_p.static_shape = lambda in_dims, attrs: list(in_dims[1])


@reshape_like_p.defgrad
def _reshape_like_grad(inputs, out, dy):
    return call(reshape_like_p, (dy, inputs[0])), None


@primitive("ExpandDims", aliases=True)
def expand_dims_p(d, x, *, axis):
    return d.xp.expand_dims(x, axis)


expand_dims_p.static_shape = lambda in_dims, attrs: (
    in_dims[0][:attrs["axis"]] + [1] + in_dims[0][attrs["axis"]:])
# TF: the result of an input of unknown rank has unknown rank (a numpy_function's)
expand_dims_p.keeps_unknown_rank = True


@expand_dims_p.defgrad
def _expand_dims_grad(inputs, out, dy, *, axis):
    return call(squeeze_p, (dy,), {"axes": (axis,)})


@primitive("Squeeze", aliases=True)
def squeeze_p(d, x, *, axes):
    return d.xp.squeeze(x, axis=axes)


squeeze_p.static_shape = lambda in_dims, attrs: [
    d for i, d in enumerate(in_dims[0]) if i not in attrs["axes"]]


@squeeze_p.defgrad
def _squeeze_grad(inputs, out, dy, *, axes):
    return call(reshape_like_p, (dy, inputs[0]))


def _nonzero_product(dims, skip=None):
    out = 1
    for d in dims:
        out *= d if d and d != skip else 1
    return out


def _resolve_shape(size, shape, op, in_shape=None):
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise InvalidArgumentError(f"{op}: only one input size may be -1, not both "
                                   f"{unknown[0]} and {unknown[1]}")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise InvalidArgumentError(f"{op}: size {s} must be non-negative")
            known *= s
    if unknown and known == 0 and in_shape is not None:
        # TF's rule for an empty result: the -1 takes the input's non-zero sizes
        # divided by the target's ([0, 3] -> [-1, 0] gives [3, 0])
        return tuple(_nonzero_product(in_shape) // _nonzero_product(shape, skip=-1)
                     if s == -1 else s for s in shape)
    if unknown:
        if known == 0 or size % known:
            raise InvalidArgumentError(
                f"{op}: Input to reshape is a tensor with {size} values, but the requested "
                f"shape requires a multiple of {known}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    elif known != size:
        raise InvalidArgumentError(
            f"{op}: Input to reshape is a tensor with {size} values, but the requested "
            f"shape has {known} [Op:Reshape]")
    return shape


def _one_dynamic_dim(shape):
    """``[tf.shape(x)[0], 6, 4]`` while tracing -> ``[-1, 6, 4]``: a single traced
    entry is the one dimension the others leave, so the graph reshapes every batch size
    (eager entries, and two or more traced ones, are read as values)."""
    if not isinstance(shape, (list, tuple)):
        return shape
    dynamic = [i for i, s in enumerate(shape) if isinstance(s, Tensor)]
    if len(dynamic) != 1 or any(isinstance(s, int) and s == -1 for s in shape):
        return shape
    try:
        int(shape[dynamic[0]])
        return shape          # a concrete value: checked like any other
    except TypeError:         # traced: its value is not readable in the graph
        return [-1 if i == dynamic[0] else s for i, s in enumerate(shape)]


def reshape(tensor, shape, name=None):
    """Reshapes ``tensor``; one dimension may be -1."""
    x = t(tensor)
    shape = _one_dynamic_dim(shape)
    if _dyn.traced(shape):
        return note_shaped(_dyn.reshape(x, shape), shape, x)
    spec = static_shape(shape, "Reshape")
    try:
        target = _resolve_shape(x._value.size, spec, "Reshape", x._value.shape)
    except InvalidArgumentError:
        if not stand_in_allowed(x):
            raise
        return probing_call(reshape_p, x, {"shape": tuple(spec)})
    if target == tuple(x._value.shape) and shape_arg_dims(shape) is None and \
            graph_dims(x) == list(target):   # (traced: a shape TF knows)
        return unaliased(x)
    # a -1 stays -1 in the graph: resolved from the input's size when it runs (an
    # empty input's -1 is resolved here: its size cannot tell it)
    attrs = {"shape": tuple(spec) if -1 in spec and x._value.size else target}
    if isinstance(shape, Tensor) or isinstance(shape, (list, tuple)) and any(
            isinstance(s, Tensor) for s in shape):
        attrs["sized"] = True   # sizes read from tensors (tf.shape): see the rule
    return note_shaped(call(reshape_p, (x,), attrs), shape, x)


def stand_in_allowed(x):
    """Whether a reshape of traced ``x`` whose sizes do not fit may give a stand-in:
    TF's graph does not know them, and the trace's values may not be the run's (a
    function's trace, whose deferred errors surface where the result is used, a
    branch, or a Dataset.map spec trace on placeholder elements)."""
    trace = STATE.trace
    return trace is not None and sizes_unknown(x) and (
        getattr(trace, "defers_errors", False) or probing_branch()
        or hasattr(trace, "placeholder_py_functions"))


def probing_call(prim, x, attrs):
    """``prim`` on traced ``x`` as the graph's node, its forward probing: a stand-in
    result of the asked shape now where the sizes do not fit (``reshape``,
    ``ensure_shape``), the sizes checked whenever the graph runs."""
    trace = STATE.trace
    probing, trace.probing_now = trace.probing_now, True
    try:
        return call(prim, (x,), attrs)
    finally:
        trace.probing_now = probing


@primitive("Transpose", aliases=True)
def transpose_p(d, x, *, perm):
    return d.xp.transpose(x, perm)


transpose_p.static_shape = lambda in_dims, attrs: [
    in_dims[0][p] for p in attrs["perm"]]


@transpose_p.defgrad
def _transpose_grad(inputs, out, dy, *, perm):
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return transpose(dy, inverse)


def _checked_perm(raw, nd):
    """``perm`` as non-negative ints; errors show the ``perm`` the caller passed."""
    raw = [int(p) for p in raw]
    if len(raw) != nd:
        raise InvalidArgumentError(
            f"Transpose: transpose expects a vector of size {nd}. But input(1) is a "
            f"vector of size {len(raw)}: perm={raw}")
    bad = [p for p in raw if not -nd <= p < nd]
    if bad:
        raise InvalidArgumentError(
            f"Transpose: {bad[0]} is out of range [0 .. {nd}) in perm={raw}")
    perm = tuple(p % nd for p in raw)
    missing = sorted(set(range(nd)) - set(perm))
    if missing:
        raise InvalidArgumentError(
            f"Transpose: {missing[0]} is missing from perm={raw}")
    return perm


def _transpose_stand_in(a, perm=None, conjugate=False, name=None):
    """The reversed transpose (placeholder ``perm`` values that are no perm)."""
    return transpose(a, None, conjugate)


@reads_values("perm", stand_in=_transpose_stand_in, sizes_follow=True)
def transpose(a, perm=None, conjugate=False, name=None):
    """Permutes dimensions (reverses them when ``perm`` is None)."""
    x = t(a)
    nd = x._value.ndim
    if perm is None:
        perm = tuple(range(nd - 1, -1, -1))
    else:
        perm = _checked_perm(static_shape(perm, "Transpose"), nd)
    out = unaliased(x) if perm == tuple(range(nd)) else call(
        transpose_p, (x,), {"perm": perm})
    if conjugate and x._value.dtype.kind == "c":
        from dlframe.ops import math_complex  # math sits above array ops: bind late
        out = math_complex.conj(out)
    return out


@reads_values("axis", sizes_follow="rank")
def expand_dims(input, axis, name=None):
    """Inserts a length-1 dimension at ``axis``."""
    x = t(input)
    nd = x._value.ndim
    given = axis
    if not isinstance(axis, int):   # TF takes any one-element axis ([1], a tensor)
        values = np.asarray(axis.numpy() if isinstance(axis, Tensor) else axis)
        if values.size != 1:
            raise InvalidArgumentError(f"ExpandDims: 'dim' must be a tensor with a single "
                                       f"value, got {axis!r}")
        axis = values.reshape(-1)[0]
    try:   # an int or an integer scalar (TF refuses 0.0)
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"ExpandDims: `axis` must be an integer, got {given!r}") from None
    if not -nd - 1 <= axis <= nd:
        raise InvalidArgumentError(f"ExpandDims: axis {axis} out of range [{-nd - 1}, {nd}]")
    return call(expand_dims_p, (x,), {"axis": axis % (nd + 1)})


def squeeze(input, axis=None, name=None):
    """Removes length-1 dimensions (only ``axis`` when given)."""
    x = t(input)
    shape = list(x._value.shape)
    if axis is None or isinstance(axis, (list, tuple)) and not axis:   # TF: [] is all
        axes = tuple(i for i, s in enumerate(shape) if s == 1)
    else:
        axes = tuple(sorted(norm_axis(axis, len(shape), "Squeeze")))
        for a in axes:
            if shape[a] != 1:
                raise InvalidArgumentError(
                    f"Squeeze: Can not squeeze dim[{a}], expected a dimension of 1, got "
                    f"{shape[a]}")
    if not axes:
        return unaliased(x)
    return call(squeeze_p, (x,), {"axes": axes})


def _broadcast_dims(input, shape, name=None):
    """TF's static shape of ``broadcast_to`` with hidden ``shape`` values: a size
    the input knows (other than 1) where the shape's is hidden."""
    dims = shape_arg_dims(shape)
    if dims is None:
        return None
    have = graph_dims(t(input))
    if getattr(have, "unknown_rank", False) or len(have) > len(dims):
        return dims
    have = [None] * (len(dims) - len(have)) + list(have)
    return [h if d is None and h not in (None, 1) else d for d, h in zip(dims, have)]


def _broadcast_stand_in(input, shape, name=None):
    """``input`` at the rank of ``shape`` (placeholder values it does not fit)."""
    x = t(input)
    rank = shape._value.shape[0] if isinstance(shape, Tensor) else len(shape)
    return reshape(x, [1] * (rank - x._value.ndim) + list(x._value.shape))


@reads_values("shape", static_shape=_broadcast_dims, stand_in=_broadcast_stand_in)
def broadcast_to(input, shape, name=None):
    """Broadcasts ``input`` to ``shape``."""
    x = t(input)
    return note_shaped(unaliased(basic.broadcast_to(x, static_shape(
        shape, "BroadcastTo"))), shape)
