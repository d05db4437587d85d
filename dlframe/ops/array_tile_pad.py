"""Tile, pad (constant and mirrored), reverse and roll."""

import builtins

from dlframe.core.primitive import call, primitive
from dlframe.core.static_dims import (
    graph_dims,
    note_shaped,
    padded_static_shape,
    same_dims,
    unknown_values,
)
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops import reduction
from dlframe.ops._util import norm_axis, static_shape, t, unaliased
from dlframe.ops.array_dims import reshape
from dlframe.ops.late_bound import reads_values
from dlframe.ops.slicing import getitem


@primitive("Tile")
def tile_p(d, x, *, multiples):
    return d.xp.tile(x, multiples)


def _tile_static_shape(in_dims, attrs):
    if any(d is None and m == 0 for d, m in zip(in_dims[0], attrs["multiples"])):
        return None   # TF may know 0 there; not worth guessing
    return [None if d is None else d * m
            for d, m in zip(in_dims[0], attrs["multiples"])]


tile_p.static_shape = _tile_static_shape


@tile_p.defgrad
def _tile_grad(inputs, out, dy, *, multiples):
    shape = inputs[0]._value.shape
    split_shape = []
    for m, s in zip(multiples, shape):
        split_shape += [m, s]
    folded = reshape(dy, split_shape)
    return reduction.reduce_sum(folded, axis=tuple(range(0, 2 * len(shape), 2)))


@reads_values("multiples", sizes_follow=True)
def tile(input, multiples, name=None):
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
        return unaliased(x)
    return note_shaped(call(tile_p, (x,), {"multiples": mult}), multiples, x)


@primitive("PadV2")
def pad_p(d, x, *, paddings, value):
    if x.dtype == object:   # np.pad would store NumPy scalars among the bytes
        out = d.xp.empty([n + b + a for n, (b, a) in zip(x.shape, paddings)], object)
        out.fill(value if isinstance(value, bytes) else b"")
        out[tuple(builtins.slice(b, b + n) for (b, _), n in zip(paddings, x.shape))] = x
        return out
    return d.xp.pad(x, paddings, mode="constant", constant_values=value)


pad_p.static_shape = padded_static_shape


@pad_p.defgrad
def _pad_grad(inputs, out, dy, *, paddings, value):
    shape = inputs[0]._value.shape
    key = tuple(builtins.slice(b, b + n) for (b, _), n in zip(paddings, shape))
    return getitem(dy, key)


_MIRROR = {"REFLECT": "reflect", "SYMMETRIC": "symmetric"}


@primitive("MirrorPad")
def mirror_pad_p(d, x, *, paddings, mode):
    return d.xp.pad(x, paddings, mode=_MIRROR[mode])


mirror_pad_p.static_shape = padded_static_shape


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


def _pad_value(p):
    return int(p._device.to_numpy(p._value)) if isinstance(p, Tensor) else int(p)


def _pad_static_dims(tensor, paddings, mode="CONSTANT", constant_values=0, name=None):
    """The dims of a pad with traced ``paddings`` that TF's graph knows: an input
    dim grown by pads whose values it knows (constants, known shapes), else None."""
    dims = graph_dims(t(tensor))
    hidden = unknown_values(paddings)
    try:
        if isinstance(paddings, Tensor):
            paddings = paddings._device.to_numpy(paddings._value).tolist()
        pads = [(_pad_value(b), _pad_value(a)) for b, a in paddings]
    except (TypeError, ValueError):
        return None   # a bad argument: the op's own error follows
    if getattr(dims, "unknown_rank", False) or hidden is None or \
            hidden.shape != (len(dims), 2) or len(pads) != len(dims):
        return None
    return [None if d is None or row.any() else d + lo + hi
            for d, (lo, hi), row in zip(dims, pads, hidden)]


@reads_values("paddings", static_shape=_pad_static_dims)
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
        elif not (isinstance(value, (int, float)) and value == 0):
            # TF converts a non-zero value to the tensor's dtype (1.5 for an int
            # tensor raises); a zero means the dtype's zero, b"" for strings
            converted = convert_to_tensor(value, dtype=x.dtype)
            if x._value.dtype == object:   # strings pad with UTF-8 bytes
                value = converted._value.item()
        if all(p == (0, 0) for p in pads):
            return unaliased(x)
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


@reads_values("axis", static_shape=same_dims)
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
        return unaliased(x)
    return call(reverse_p, (x,), {"axes": axes})


@primitive("Roll")
def roll_p(d, x, *, shift, axes):
    return d.xp.roll(x, shift, axis=axes)


@roll_p.defgrad
def _roll_grad(inputs, out, dy, *, shift, axes):
    return call(roll_p, (dy,), {"shift": tuple(-s for s in shift), "axes": axes})


@reads_values("shift", "axis", static_shape=same_dims)
def roll(input, shift, axis, name=None):
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
