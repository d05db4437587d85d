"""Array manipulation: shape changes, joins, tile/pad/reverse/roll, metadata."""

import builtins

from dlframe import backends
from dlframe.backends.base import np
from dlframe.core import basic, dtypes
from dlframe.core import tensor as _tensor_mod
from dlframe.core.primitive import STATE as _STATE
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError, ShapeMismatchError
from dlframe.ops import dynamic_shape as _dyn
from dlframe.ops import reduction
from dlframe.ops._util import norm_axis, one_axis, static_shape, t
from dlframe.ops.creation import fill, ones, zeros  # noqa: F401 - re-exported
from dlframe.ops.late_bound import reads_values
from dlframe.ops.slicing import getitem  # also Tensor.__getitem__ (operators.py)

broadcast_to_p = basic.broadcast_to_p


# ---------------------------------------------------------------- shapes
@primitive("Reshape", aliases=True)
def reshape_p(d, x, *, shape):
    return x.reshape(shape)


@reshape_p.defgrad
def _reshape_grad(inputs, out, dy, *, shape):
    return call(reshape_like_p, (dy, inputs[0]))


@primitive("ReshapeLike", aliases=True)
def reshape_like_p(d, x, like):
    """``x`` reshaped to ``like``'s shape when it runs (gradients of shape changes
    stay right when sizes change between runs of a compiled graph)."""
    return x.reshape(like.shape)


@reshape_like_p.defgrad
def _reshape_like_grad(inputs, out, dy):
    return call(reshape_like_p, (dy, inputs[0])), None


@primitive("ExpandDims", aliases=True)
def expand_dims_p(d, x, *, axis):
    return d.xp.expand_dims(x, axis)


@expand_dims_p.defgrad
def _expand_dims_grad(inputs, out, dy, *, axis):
    return call(squeeze_p, (dy,), {"axes": (axis,)})


@primitive("Squeeze", aliases=True)
def squeeze_p(d, x, *, axes):
    return d.xp.squeeze(x, axis=axes)


@squeeze_p.defgrad
def _squeeze_grad(inputs, out, dy, *, axes):
    return call(reshape_like_p, (dy, inputs[0]))


def _resolve_shape(size, shape, op):
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
        return _dyn.reshape(x, shape)
    spec = static_shape(shape, "Reshape")
    target = _resolve_shape(x._value.size, spec, "Reshape")
    if target == tuple(x._value.shape):
        return x
    # a -1 stays -1 in the graph: resolved from the input's size when it runs
    return call(reshape_p, (x,), {"shape": tuple(spec) if -1 in spec else target})


@primitive("Transpose", aliases=True)
def transpose_p(d, x, *, perm):
    return d.xp.transpose(x, perm)


@transpose_p.defgrad
def _transpose_grad(inputs, out, dy, *, perm):
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return transpose(dy, inverse)


@reads_values("perm")
def transpose(a, perm=None, conjugate=False, name=None):
    """Permutes dimensions (reverses them when ``perm`` is None)."""
    x = t(a)
    nd = x._value.ndim
    if perm is None:
        perm = tuple(range(nd - 1, -1, -1))
    else:
        perm = tuple(int(p) % nd if nd else int(p) for p in static_shape(perm, "Transpose"))
        if sorted(perm) != list(range(nd)):
            raise InvalidArgumentError(f"Transpose: perm {list(perm)} is not a permutation "
                                       f"of {nd} dimensions")
    if perm == tuple(range(nd)):
        return x
    return call(transpose_p, (x,), {"perm": perm})


@reads_values("axis")
def expand_dims(input, axis, name=None):  # noqa: A002
    """Inserts a length-1 dimension at ``axis``."""
    x = t(input)
    nd = x._value.ndim
    axis = int(axis)
    if not -nd - 1 <= axis <= nd:
        raise InvalidArgumentError(f"ExpandDims: axis {axis} out of range [{-nd - 1}, {nd}]")
    return call(expand_dims_p, (x,), {"axis": axis % (nd + 1)})


def squeeze(input, axis=None, name=None):  # noqa: A002
    """Removes length-1 dimensions (only ``axis`` when given)."""
    x = t(input)
    shape = list(x._value.shape)
    if axis is None:
        axes = tuple(i for i, s in enumerate(shape) if s == 1)
    else:
        axes = tuple(sorted(norm_axis(axis, len(shape), "Squeeze")))
        for a in axes:
            if shape[a] != 1:
                raise InvalidArgumentError(
                    f"Squeeze: Can not squeeze dim[{a}], expected a dimension of 1, got "
                    f"{shape[a]}")
    if not axes:
        return x
    return call(squeeze_p, (x,), {"axes": axes})


@reads_values("shape")
def broadcast_to(input, shape, name=None):  # noqa: A002
    """Broadcasts ``input`` to ``shape``."""
    return basic.broadcast_to(t(input), static_shape(shape, "BroadcastTo"))


# ---------------------------------------------------------------- joins
@primitive("ConcatV2")
def concat_p(d, *xs, axis):
    return d.xp.concatenate(xs, axis=axis)


@concat_p.defgrad
def _concat_grad(inputs, out, dy, *, axis):
    sizes = [x._value.shape[axis] for x in inputs]
    return split(dy, sizes, axis=axis)


def _same_dtype(op, values):
    first = values[0]._value.dtype
    for i, v in enumerate(values[1:], 1):
        if v._value.dtype != first:
            from dlframe.errors import DTypeMismatchError
            raise DTypeMismatchError(
                f"{op}: values[{i}] has dtype {v.dtype.name}, expected "
                f"{values[0].dtype.name} like values[0]")


def _as_list_of_tensors(values, op):
    if isinstance(values, Tensor):
        return list(values)
    if not isinstance(values, (list, tuple)) or not values:
        raise ValueError(f"{op}: values must be a non-empty list of tensors, got {values!r}")
    first = next((v for v in values if isinstance(v, Tensor)), None)
    if first is None:
        return [convert_to_tensor(v) for v in values]
    from dlframe.core.tensor import as_operand
    return [v if isinstance(v, Tensor) else as_operand(v, first) for v in values]


@reads_values("axis")
def concat(values, axis, name="concat"):
    """Concatenates tensors along ``axis``."""
    xs = _as_list_of_tensors(values, "ConcatV2")
    _same_dtype("ConcatV2", xs)
    nd = xs[0]._value.ndim
    if nd == 0:
        raise InvalidArgumentError("ConcatV2: Can't concatenate scalars (use tf.stack instead)")
    a = one_axis(axis, nd, "ConcatV2")
    ref = list(xs[0]._value.shape)
    for i, x in enumerate(xs[1:], 1):
        s = list(x._value.shape)
        if len(s) != nd or any(p != q for j, (p, q) in enumerate(zip(ref, s)) if j != a):
            raise ShapeMismatchError(
                f"ConcatOp : Dimension {a} excluded, shapes must match: shape[0] = {ref} vs. "
                f"shape[{i}] = {s} [Op:ConcatV2]")
    if len(xs) == 1:
        return xs[0]
    return call(concat_p, tuple(xs), {"axis": a})


@primitive("Pack")
def stack_p(d, *xs, axis):
    return d.xp.stack(xs, axis=axis)


@stack_p.defgrad
def _stack_grad(inputs, out, dy, *, axis):
    return unstack(dy, axis=axis)


def stack(values, axis=0, name="stack"):
    """Stacks same-shaped tensors along a new ``axis``."""
    xs = _as_list_of_tensors(values, "Pack")
    _same_dtype("Pack", xs)
    shape = xs[0]._value.shape
    for i, x in enumerate(xs[1:], 1):
        if x._value.shape != shape:
            raise ShapeMismatchError(
                f"Pack: Shapes of all inputs must match: values[0].shape = {list(shape)} != "
                f"values[{i}].shape = {list(x._value.shape)} [Op:Pack]")
    nd = len(shape) + 1
    a = int(axis)
    if not -nd <= a < nd:
        raise InvalidArgumentError(f"Pack: axis {a} out of range [{-nd}, {nd})")
    return call(stack_p, tuple(xs), {"axis": a % nd})


def _autopack(values, dtype):
    """TF's auto-packing: a nested list holding tensors becomes stacked tensors.

    Python numbers beside the tensors take the first tensor's dtype, as in TF.
    """
    if dtype is None:
        from dlframe.core.tensor import _leaves
        dtype = next(_leaves(values)).dtype

    def pack(v):
        if isinstance(v, (list, tuple)):
            return stack([pack(i) for i in v])
        return convert_to_tensor(v, dtype=dtype)
    return pack(values)


_tensor_mod._autopack = _autopack


@primitive("Unpack", n_out=-1)
def unstack_p(d, x, *, axis, num):
    xp = d.xp
    return tuple(xp.take(x, i, axis=axis) for i in range(num))


@unstack_p.defgrad
def _unstack_grad(inputs, outs, dys, *, axis, num):
    return stack(list(dys), axis=axis)


def unstack(value, num=None, axis=0, name="unstack"):
    """Splits ``value`` along ``axis`` into a list of tensors."""
    x = t(value)
    nd = x._value.ndim
    if nd == 0:
        raise ValueError("Cannot unstack a scalar tensor.")
    a = one_axis(axis, nd, "Unpack")
    n = x._value.shape[a]
    if num is not None and int(num) != n:
        raise ValueError(f"Unpack: num={num} does not match dimension {a} of size {n}")
    if n == 0:
        return []
    return list(call(unstack_p, (x,), {"axis": a, "num": n}))


@primitive("SplitV", n_out=-1)
def split_p(d, x, *, sizes, axis):
    bounds = np.cumsum(sizes)[:-1].tolist()
    return tuple(d.xp.split(x, bounds, axis=axis))


@split_p.defgrad
def _split_grad(inputs, outs, dys, *, sizes, axis):
    return concat(list(dys), axis=axis)


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Splits into ``num`` equal parts or parts of the given sizes along ``axis``."""
    if (isinstance(num_or_size_splits, Tensor) and num_or_size_splits._value.ndim == 0
            and _dyn.traced(num_or_size_splits)):   # the number of outputs is static
        raise ValueError(f"Rank-0 tensors are not supported as the num_or_size_splits "
                         f"argument to split. Argument provided: {num_or_size_splits!r}")
    return _split(value, num_or_size_splits, axis, num)


@reads_values("num_or_size_splits", "axis")
def _split(value, num_or_size_splits, axis=0, num=None):
    x = t(value)
    a = one_axis(axis, x._value.ndim, "Split")
    dim = x._value.shape[a]
    if isinstance(num_or_size_splits, Tensor):
        num_or_size_splits = num_or_size_splits.numpy().tolist()
    if isinstance(num_or_size_splits, int):
        k = num_or_size_splits
        if k <= 0 or dim % k:
            raise InvalidArgumentError(
                f"Split: Number of ways to split should evenly divide the split dimension, "
                f"but got split_dim {a} (size = {dim}) and num_split {k}")
        sizes = [dim // k] * k
    else:
        sizes = [int(s) for s in num_or_size_splits]
        if sizes.count(-1) == 1:
            sizes[sizes.index(-1)] = dim - (sum(sizes) + 1)
        if sum(sizes) != dim or any(s < 0 for s in sizes):
            raise InvalidArgumentError(
                f"Split: Determined shape must either match input shape along split_dim "
                f"exactly if fully specified, or be less than the size of the input along "
                f"split_dim; got sizes {sizes} for dimension of size {dim}")
    if len(sizes) == 1:
        return [x]
    return list(call(split_p, (x,), {"sizes": tuple(sizes), "axis": a}))


# ---------------------------------------------------------------- identity, metadata
@primitive("Identity")
def identity_p(d, x):
    return x.copy()


@identity_p.defgrad
def _identity_grad(inputs, out, dy):
    return dy


def identity(input, name=None):  # noqa: A002
    """Returns a copy of ``input`` (placed on the current device scope if it differs)."""
    x = t(input)
    dev = backends.current_device()
    if x._device is not dev and backends._stack():
        from dlframe.core.tensor import copy_to_device
        return copy_to_device(x, dev)
    return call(identity_p, (x,))


@primitive("StopGradient")
def stop_gradient_p(d, x):
    return x


def stop_gradient(input, name=None):  # noqa: A002
    """Passes ``input`` through but blocks gradients."""
    return call(stop_gradient_p, (t(input),))


@primitive("Shape")
def _shape_p(d, x, *, dtype):
    return d.xp.asarray(x.shape, dtype=dtype)


@primitive("Size")
def _size_p(d, x, *, dtype):
    return d.xp.asarray(x.size, dtype=dtype)


def _dynamic(x):
    trace = _STATE.trace
    return trace is not None and trace.is_dynamic(x)


def shape(input, out_type=dtypes.int32, name=None):  # noqa: A002
    """The shape of ``input`` as a 1-D int tensor (read when a compiled graph runs
    for a tensor whose size depends on values, e.g. a loop's stacked outputs)."""
    x = t(input)
    if _dynamic(x):
        return call(_shape_p, (x,), {"dtype": dtypes.as_dtype(out_type)._np})
    return convert_to_tensor(list(x._value.shape), dtype=out_type, device=x._device)


def shape_n(input, out_type=dtypes.int32, name=None):  # noqa: A002
    return [shape(x, out_type) for x in input]


def size(input, out_type=dtypes.int32, name=None):  # noqa: A002
    """Number of elements of ``input`` as a scalar int tensor."""
    x = t(input)
    if _dynamic(x):
        return call(_size_p, (x,), {"dtype": dtypes.as_dtype(out_type)._np})
    return convert_to_tensor(int(x._value.size), dtype=out_type, device=x._device)


def rank(input, name=None):  # noqa: A002
    """Rank of ``input`` as a scalar int32 tensor."""
    x = t(input)
    return convert_to_tensor(int(x._value.ndim), dtype=dtypes.int32, device=x._device)


# ---------------------------------------------------------------- tile, pad, reverse, roll
@primitive("Tile")
def tile_p(d, x, *, multiples):
    return d.xp.tile(x, multiples)


@tile_p.defgrad
def _tile_grad(inputs, out, dy, *, multiples):
    shape = inputs[0]._value.shape
    split_shape = []
    for m, s in zip(multiples, shape):
        split_shape += [m, s]
    folded = reshape(dy, split_shape)
    return reduction.reduce_sum(folded, axis=tuple(range(0, 2 * len(shape), 2)))


@reads_values("multiples")
def tile(input, multiples, name=None):  # noqa: A002
    """Repeats ``input`` ``multiples[i]`` times along dimension i.

    Args:
      input: a Tensor of rank n.
      multiples: n non-negative ints.
    """
    x = t(input)
    mult = static_shape(multiples, "Tile", "multiples")
    if len(mult) != x._value.ndim:
        raise InvalidArgumentError(
            f"Tile: Expected multiples argument to be a vector of length "
            f"{x._value.ndim} but got length {len(mult)} [Op:Tile]")
    if any(m < 0 for m in mult):
        raise InvalidArgumentError(f"Tile: Expected multiples[i] >= 0, but got "
                                   f"{list(mult)} [Op:Tile]")
    if all(m == 1 for m in mult):
        return x
    return call(tile_p, (x,), {"multiples": mult})


@primitive("PadV2")
def pad_p(d, x, *, paddings, value):
    return d.xp.pad(x, paddings, mode="constant", constant_values=value)


@pad_p.defgrad
def _pad_grad(inputs, out, dy, *, paddings, value):
    shape = inputs[0]._value.shape
    key = tuple(builtins.slice(b, b + n) for (b, _), n in zip(paddings, shape))
    return getitem(dy, key)


_MIRROR = {"REFLECT": "reflect", "SYMMETRIC": "symmetric"}


@primitive("MirrorPad")
def mirror_pad_p(d, x, *, paddings, mode):
    return d.xp.pad(x, paddings, mode=_MIRROR[mode])


@mirror_pad_p.defgrad
def _mirror_pad_grad(inputs, out, dy, *, paddings, mode):
    return call(mirror_pad_grad_p, (dy,), {"paddings": paddings, "mode": mode})


@primitive("MirrorPadGrad")
def mirror_pad_grad_p(d, dy, *, paddings, mode):
    # folds each padded border back onto the cells it mirrored, one axis at a time
    offset = 1 if mode == "REFLECT" else 0
    g = dy
    for axis, (before, after) in enumerate(paddings):
        n = g.shape[axis] - before - after

        def ix(sl, axis=axis):
            return (builtins.slice(None),) * axis + (sl,)
        core = g[ix(builtins.slice(before, before + n))].copy()
        if before:
            left = g[ix(builtins.slice(before - 1, None, -1))]
            core[ix(builtins.slice(offset, offset + before))] += left
        if after:
            right = g[ix(builtins.slice(g.shape[axis] - 1, before + n - 1, -1))]
            core[ix(builtins.slice(n - after - offset, n - offset))] += right
        g = core
    return g


@mirror_pad_grad_p.defgrad
def _mirror_pad_grad_grad(inputs, out, ddy, *, paddings, mode):
    return call(mirror_pad_p, (ddy,), {"paddings": paddings, "mode": mode})


@reads_values("paddings")
def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None):
    """Pads ``tensor`` with ``paddings[i] = [before, after]`` elements on dimension i.

    Args:
      tensor: a Tensor of rank n.
      paddings: an [n, 2] int list or tensor.
      mode: "CONSTANT", "REFLECT" (mirror without the edge) or "SYMMETRIC" (with it),
        case-insensitive.
      constant_values: the fill value in CONSTANT mode.
    """
    x = t(tensor)
    if isinstance(paddings, Tensor):
        paddings = paddings.numpy().tolist()
    try:
        pads = tuple((int(b), int(a)) for b, a in paddings)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"Pad: paddings must be a matrix with 2 columns, got "
                                   f"{paddings!r}") from None
    shape = x._value.shape
    if len(pads) != len(shape):
        raise InvalidArgumentError(
            f"Pad: The first dimension of paddings must be the rank of inputs"
            f"[{len(pads)},2] {list(shape)} [Op:Pad]")
    for b, a in pads:
        if b < 0 or a < 0:
            raise InvalidArgumentError(f"Pad: Paddings must be non-negative: {b} {a} "
                                       f"[Op:Pad]")
    mode_u = str(mode).upper()
    if mode_u == "CONSTANT":
        value = constant_values
        if isinstance(value, Tensor):
            value = value.numpy().item()
        if all(p == (0, 0) for p in pads):
            return x
        return call(pad_p, (x,), {"paddings": pads, "value": value})
    if mode_u not in _MIRROR:
        raise ValueError(f'Value of argument `mode` expected to be one of "CONSTANT", '
                         f'"REFLECT", or "SYMMETRIC". Received `mode` = {mode}')
    limit = 1 if mode_u == "REFLECT" else 0
    for (b, a), n in zip(pads, shape):
        if b > n - limit or a > n - limit:
            raise InvalidArgumentError(
                f"MirrorPad: paddings must be less than"
                f"{' ' if limit else ' or equal to '}the dimension size: {b}, {a} not less "
                f"than {n} [Op:MirrorPad]")
    return call(mirror_pad_p, (x,), {"paddings": pads, "mode": mode_u})


@primitive("ReverseV2", aliases=True)
def reverse_p(d, x, *, axes):
    return d.xp.flip(x, axis=axes)


@reverse_p.defgrad
def _reverse_grad(inputs, out, dy, *, axes):
    return call(reverse_p, (dy,), {"axes": axes})


@reads_values("axis")
def reverse(tensor, axis, name=None):
    """Reverses the order of elements along each dimension in ``axis``.

    Args:
      tensor: a Tensor.
      axis: an int or list of ints (each in [-rank, rank), no repeats).
    """
    x = t(tensor)
    axes = norm_axis(axis if isinstance(axis, (list, tuple, Tensor)) else [axis],
                     x._value.ndim, "ReverseV2")
    if len(set(axes)) != len(axes):
        dup = next(a for a in axes if axes.count(a) > 1)
        raise InvalidArgumentError(f"ReverseV2: axis {dup} specified more than once. "
                                   f"[Op:ReverseV2]")
    if not axes:
        return x
    return call(reverse_p, (x,), {"axes": axes})


@primitive("Roll")
def roll_p(d, x, *, shift, axes):
    return d.xp.roll(x, shift, axis=axes)


@roll_p.defgrad
def _roll_grad(inputs, out, dy, *, shift, axes):
    return call(roll_p, (dy,), {"shift": tuple(-s for s in shift), "axes": axes})


@reads_values("shift", "axis")
def roll(input, shift, axis, name=None):  # noqa: A002
    """Rolls elements along ``axis`` by ``shift`` (shifts on a repeated axis add up).

    Args:
      input: a Tensor.
      shift: an int or list of ints.
      axis: an int or list of ints, as long as ``shift``.
    """
    x = t(input)
    shifts = static_shape(shift, "Roll", "shift")
    axes = norm_axis(axis if isinstance(axis, (list, tuple, Tensor)) else [axis],
                     x._value.ndim, "Roll")
    if len(shifts) != len(axes):
        raise InvalidArgumentError(f"Roll: shift and axis must have the same size, got "
                                   f"{len(shifts)} and {len(axes)}")
    return call(roll_p, (x,), {"shift": shifts, "axes": axes})


def meshgrid(*args, **kwargs):
    """N-D coordinate grids from 1-D tensors (``indexing`` 'xy' (default) or 'ij')."""
    indexing = kwargs.pop("indexing", "xy")
    kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"meshgrid: unexpected keyword arguments {sorted(kwargs)}")
    if indexing not in ("xy", "ij"):
        raise ValueError(f"Argument `indexing` parameter must be either 'xy' or 'ij', "
                         f"got '{indexing}'")
    xs = [reshape(t(a), [-1]) for a in args]
    if not xs:
        return []
    sizes = [x._value.shape[0] for x in xs]
    if indexing == "xy" and len(xs) > 1:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, x in enumerate(xs):
        pos = i
        if indexing == "xy" and len(xs) > 1 and i < 2:
            pos = 1 - i
        shp = [1] * len(xs)
        shp[pos] = -1
        out.append(broadcast_to(reshape(x, shp), sizes))
    return out


def ensure_shape(x, shape, name=None):
    """Returns ``x`` after checking its shape is compatible with ``shape`` (None = any)."""
    x = t(x)
    if shape is None:
        return x
    if hasattr(shape, "as_list"):
        if shape.rank is None:
            return x
        shape = shape.as_list()
    want = [None if s is None or s == -1 else int(s) for s in shape]
    have = list(x._value.shape)
    if len(want) != len(have) or any(w is not None and w != h for w, h in zip(want, have)):
        exp = ",".join("?" if w is None else str(w) for w in want)
        raise InvalidArgumentError(
            f"EnsureShape: Shape of tensor {name or 'input'} [{','.join(map(str, have))}] "
            f"is not compatible with expected shape [{exp}]. [Op:EnsureShape]")
    x.set_shape(want)   # a trace keeping static shapes (Dataset.map) learns them
    return x


@primitive("Where")
def where_indices_p(d, condition):
    return d.xp.argwhere(condition).astype("int64")


where_indices_p.value_shaped = True   # its output size depends on input values


def _where_indices(condition):
    return call(where_indices_p, (condition,))


__all__ = ["broadcast_to", "concat", "ensure_shape", "expand_dims", "identity",
           "meshgrid", "pad", "rank", "reshape", "reverse", "roll",
           "shape", "shape_n", "size", "split", "squeeze", "stack", "stop_gradient",
           "tile", "transpose", "unstack"]
