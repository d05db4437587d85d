"""NumPy-style shape manipulation: ``reshape``, ``transpose``, ``expand_dims``,
``concatenate``, ``stack``, ``split``, ``tile``, ``repeat``, ``flip``, ``roll``,
``pad``, ``moveaxis``, ``vstack``/``hstack``, ``diff``, ``append``, ...
"""

import itertools

from dlframe.core import dtypes
from dlframe.core.tensor import Tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops import array as _a
from dlframe.ops import array_index as _ai
from dlframe.ops import creation as _c
from dlframe.ops import math as _m
from dlframe.ops._util import static_shape
from dlframe.ops.numpy_api import as_tensor, promote

_pyslice = slice


def _axis(axis, ndim, op, arg="axis"):
    a = int(axis)
    if not -ndim <= a < max(ndim, 1):
        raise ValueError(f"{op}: `{arg}` {axis} is out of bounds for an array of "
                         f"dimension {ndim}")
    return a % max(ndim, 1)


def _axes(axis, ndim, op):
    items = axis if isinstance(axis, (list, tuple)) else (axis,)
    return tuple(_axis(a, ndim, op) for a in items)


def reshape(x, newshape):
    """``x`` with a new shape (one dimension may be -1).

    Args:
      x: input tensor.
      newshape: int or sequence of ints.
    """
    if isinstance(newshape, int):
        newshape = (newshape,)
    return _a.reshape(as_tensor(x), newshape)


def ravel(x):
    """``x`` flattened to 1-D.

    Args:
      x: input tensor.
    """
    return _a.reshape(as_tensor(x), [-1])


def transpose(x, axes=None):
    """Permutes the axes of ``x`` (reverses them when ``axes`` is None).

    Args:
      x: input tensor.
      axes: a permutation of ``range(ndim)``.

    Raises:
      ValueError: ``axes`` is not a permutation of the input's axes.
    """
    x = as_tensor(x)
    if axes is not None:
        nd = x._value.ndim
        axes = [int(a) for a in axes]
        if len(axes) != nd or sorted(a % max(nd, 1) for a in axes) != list(range(nd)) \
                or any(not -nd <= a < nd for a in axes):
            raise ValueError("`axes` must be a valid permutation of the input "
                             f"dimensions (no duplicates). Received: axes={axes} for "
                             f"input of rank {nd}.")
    return _a.transpose(x, axes)


def swapaxes(x, axis1, axis2):
    """Exchanges two axes of ``x``.

    Args:
      x: input tensor.
      axis1: first axis.
      axis2: second axis.
    """
    x = as_tensor(x)
    nd = x._value.ndim
    perm = list(range(nd))
    a, b = _axis(axis1, nd, "swapaxes", "axis1"), _axis(axis2, nd, "swapaxes", "axis2")
    perm[a], perm[b] = perm[b], perm[a]
    return _a.transpose(x, perm)


def moveaxis(x, source, destination):
    """Moves axes ``source`` to positions ``destination`` (ints or sequences).

    Args:
      x: input tensor.
      source: original positions.
      destination: new positions.
    """
    x = as_tensor(x)
    nd = x._value.ndim
    src = _axes(source, nd, "moveaxis")
    dst = _axes(destination, nd, "moveaxis")
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: `source` {source!r} and `destination` "
                         f"{destination!r} must have the same number of elements")
    order = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _a.transpose(x, order)


def expand_dims(x, axis):
    """Inserts length-1 axes at ``axis`` (an int or a tuple of positions in the result).

    Args:
      x: input tensor.
      axis: int or tuple of ints.
    """
    x = as_tensor(x)
    out_nd = x._value.ndim + (len(axis) if isinstance(axis, (list, tuple)) else 1)
    shape = list(x._value.shape)
    for a in sorted(_axes(axis, out_nd, "expand_dims")):
        shape.insert(a, 1)
    return _a.reshape(x, shape)


def squeeze(x, axis=None):
    """Removes length-1 axes (only ``axis`` when given).

    Args:
      x: input tensor.
      axis: None, int or tuple of ints.
    """
    x = as_tensor(x)
    if axis is not None:
        for a in _axes(axis, x._value.ndim, "squeeze"):
            if x._value.shape[a] != 1:
                raise ValueError(f"squeeze: cannot select an axis to squeeze out which "
                                 f"has size not equal to one (axis {a} of shape "
                                 f"{tuple(x._value.shape)})")
    return _a.squeeze(x, axis=list(axis) if isinstance(axis, tuple) else axis)


def broadcast_to(x, shape):
    """Broadcasts ``x`` to ``shape``.

    Args:
      x: input tensor.
      shape: target shape.
    """
    return _a.broadcast_to(as_tensor(x), static_shape(shape, "broadcast_to"))


def _seq(xs, op):
    if isinstance(xs, Tensor):
        return _a.unstack(xs)
    if not isinstance(xs, (list, tuple)):
        raise TypeError(f"{op}: expected a list of tensors, got {xs!r}")
    return promote(*xs)


def concatenate(xs, axis=0):
    """Joins tensors along an existing axis (flattened first when ``axis`` is None);
    mixed dtypes are promoted.

    Args:
      xs: sequence of tensors.
      axis: int or None.
    """
    xs = _seq(xs, "concatenate")
    if axis is None:
        xs, axis = [_a.reshape(v, [-1]) for v in xs], 0
    return _a.concat(xs, axis=axis)


def append(x1, x2, axis=None):
    """``x2`` appended to ``x1`` along ``axis`` (flattened when None).

    Args:
      x1: first tensor.
      x2: values to append.
      axis: int or None.
    """
    return concatenate([x1, x2], axis)


def stack(x, axis=0):
    """Joins tensors along a new axis; mixed dtypes are promoted.

    Args:
      x: sequence of tensors of equal shape.
      axis: position of the new axis.
    """
    return _a.stack(_seq(x, "stack"), axis=axis)


def _at_least(x, n):
    x = as_tensor(x)
    shape = list(x._value.shape)
    if len(shape) >= n:
        return x
    if n == 3 and len(shape) == 2:
        return _a.reshape(x, shape + [1])
    if n == 3 and len(shape) == 1:
        return _a.reshape(x, [1] + shape + [1])
    return _a.reshape(x, [1] * (n - len(shape)) + shape)


def atleast_1d(*xs):
    """Inputs viewed with at least one dimension (a list when several)."""
    out = [_at_least(x, 1) for x in xs]
    return out[0] if len(out) == 1 else out


def atleast_2d(*xs):
    """Inputs viewed with at least two dimensions (a list when several)."""
    out = [_at_least(x, 2) for x in xs]
    return out[0] if len(out) == 1 else out


def atleast_3d(*xs):
    """Inputs viewed with at least three dimensions (a list when several)."""
    out = [_at_least(x, 3) for x in xs]
    return out[0] if len(out) == 1 else out


def vstack(xs):
    """Stacks tensors row-wise (1-D inputs become rows).

    Args:
      xs: sequence of tensors.
    """
    return concatenate([_at_least(x, 2) for x in _seq(xs, "vstack")], axis=0)


def hstack(xs):
    """Stacks tensors column-wise (1-D inputs are joined end to end).

    Args:
      xs: sequence of tensors.
    """
    xs = [_at_least(x, 1) for x in _seq(xs, "hstack")]
    return concatenate(xs, axis=0 if xs[0]._value.ndim == 1 else 1)


def dstack(xs):
    """Stacks tensors along the third axis.

    Args:
      xs: sequence of tensors.
    """
    return concatenate([_at_least(x, 3) for x in _seq(xs, "dstack")], axis=2)


def _split_sizes(dim, indices_or_sections, even, op, axis):
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.numpy().tolist()
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k <= 0:
            raise ValueError(f"{op}: number of sections must be positive, got {k}")
        if even and dim % k:   # (TF's Split kernel error)
            raise InvalidArgumentError(
                f"Number of ways to split should evenly divide the split dimension, "
                f"but got split_dim {axis} (size = {dim}) and num_split {k} [Op:Split]")
        return [dim // k + (1 if i < dim % k else 0) for i in range(k)]
    bounds = [0] + [min(max(int(i) if i >= 0 else dim + int(i), 0), dim)
                    for i in indices_or_sections] + [dim]
    return [max(b - a, 0) for a, b in itertools.pairwise(bounds)]


def _split(x, indices_or_sections, axis, even, op):
    x = as_tensor(x)
    ndim = x._value.ndim
    if not -ndim <= int(axis) < ndim:   # (TF's Split kernel error)
        raise InvalidArgumentError(f"-input rank(-1) <= split_dim < input rank "
                                   f"({ndim}), but got {axis} [Op:Split]")
    a = int(axis) % ndim
    sizes = _split_sizes(x._value.shape[a], indices_or_sections, even, op, a)
    out, start = [], 0
    for s in sizes:
        key = [_pyslice(None)] * x._value.ndim
        key[a] = _pyslice(start, start + s)
        out.append(x[tuple(key)])
        start += s
    return out


def split(x, indices_or_sections, axis=0):
    """Splits ``x`` into equal sections (an int) or at the given indices (a list).

    Args:
      x: input tensor.
      indices_or_sections: number of equal sections or sorted split indices.
      axis: the split axis.
    """
    return _split(x, indices_or_sections, axis, True, "split")


def array_split(x, indices_or_sections, axis=0):
    """Like ``split`` but allows sections of unequal size.

    Args:
      x: input tensor.
      indices_or_sections: number of sections or split indices.
      axis: the split axis.
    """
    return _split(x, indices_or_sections, axis, False, "array_split")


def hsplit(x, indices_or_sections):
    """``split`` along axis 1 (axis 0 for 1-D inputs)."""
    x = as_tensor(x)
    return split(x, indices_or_sections, 0 if x._value.ndim == 1 else 1)


def vsplit(x, indices_or_sections):
    """``split`` along axis 0."""
    return split(x, indices_or_sections, 0)


def dsplit(x, indices_or_sections):
    """``split`` along axis 2."""
    return split(x, indices_or_sections, 2)


def tile(x, repeats):
    """Repeats ``x`` ``repeats`` times along each axis (NumPy's rank rules).

    Args:
      x: input tensor.
      repeats: int or sequence of ints.
    """
    x = as_tensor(x)
    reps = list(static_shape(repeats, "tile", "repeats"))
    nd = x._value.ndim
    if len(reps) < nd:
        reps = [1] * (nd - len(reps)) + reps
    elif len(reps) > nd:
        x = _a.reshape(x, [1] * (len(reps) - nd) + list(x._value.shape))
    return _a.tile(x, reps)


def repeat(x, repeats, axis=None):
    """Repeats each element ``repeats`` times along ``axis`` (flattened when None).

    Args:
      x: input tensor.
      repeats: int or per-element counts.
      axis: int or None.
    """
    return _ai.repeat(as_tensor(x), repeats, axis=axis)


def flip(x, axis=None):
    """Reverses the order of elements along ``axis`` (all axes when None).

    Args:
      x: input tensor.
      axis: None, int or tuple of ints.
    """
    x = as_tensor(x)
    axes = list(range(x._value.ndim)) if axis is None else list(
        _axes(axis, x._value.ndim, "flip"))
    return _a.reverse(x, axes) if axes else x


def fliplr(x):
    """Reverses axis 1."""
    return flip(x, 1)


def flipud(x):
    """Reverses axis 0."""
    return flip(x, 0)


def rot90(array, k=1, axes=(0, 1)):
    """Rotates by 90 degrees ``k`` times in the plane of ``axes``.

    Args:
      array: input tensor of rank >= 2.
      k: number of quarter turns (counter-clockwise).
      axes: the two axes of the rotation plane.
    """
    x = as_tensor(array)
    if len(axes) != 2 or _axis(axes[0], x._value.ndim, "rot90") == \
            _axis(axes[1], x._value.ndim, "rot90"):
        raise ValueError(f"rot90: `axes` must be two different axes, got {axes!r}")
    k %= 4
    if k == 0:
        return x
    if k == 2:
        return flip(x, axes)
    if k == 1:
        return swapaxes(flip(x, axes[1]), axes[0], axes[1])
    return flip(swapaxes(x, axes[0], axes[1]), axes[1])


def roll(x, shift, axis=None):
    """Rolls elements by ``shift`` along ``axis`` (of the flattened input when None).

    Args:
      x: input tensor.
      shift: int or tuple of ints.
      axis: None, int or tuple of ints.
    """
    x = as_tensor(x)
    if axis is None:
        return _a.reshape(_a.roll(_a.reshape(x, [-1]), shift, 0), tuple(x._value.shape))
    return _a.roll(x, shift, axis)


def _pad_pairs(pad_width, ndim):
    if isinstance(pad_width, Tensor):
        pad_width = pad_width.numpy().tolist()
    if isinstance(pad_width, int):
        return [(pad_width, pad_width)] * ndim
    pad_width = [p.numpy().tolist() if isinstance(p, Tensor) else p for p in pad_width]
    if len(pad_width) == 2 and all(isinstance(p, int) for p in pad_width):
        return [tuple(pad_width)] * ndim
    if len(pad_width) == 1:
        p = pad_width[0]
        return [(p, p) if isinstance(p, int) else tuple(p)] * ndim
    if len(pad_width) != ndim:
        raise ValueError(f"pad: `pad_width` must have one (before, after) pair per "
                         f"dimension ({ndim}), got {pad_width!r}")
    return [(p, p) if isinstance(p, int) else tuple(p) for p in pad_width]


def _index_pad(x, pairs, mode):
    """Edge/wrap padding as one gather per padded axis."""
    for ax, (before, after) in enumerate(pairs):
        if not before and not after:
            continue
        n = x._value.shape[ax]
        idx = _c.range(-before, n + after, dtype="int32")
        idx = _m.minimum(_m.maximum(idx, 0), n - 1) if mode == "edge" else \
            _m.floormod(idx, n)
        x = _ai.gather(x, idx, axis=ax)
    return x


def pad(x, pad_width, mode="constant", constant_values=None):
    """Pads ``x`` (NumPy's ``pad``).

    Args:
      x: input tensor.
      pad_width: int, (before, after) or one pair per dimension.
      mode: 'constant', 'reflect', 'symmetric', 'edge' or 'wrap'.
      constant_values: fill value for 'constant' (default 0).
    """
    x = as_tensor(x)
    pairs = [(int(b), int(a)) for b, a in _pad_pairs(pad_width, x._value.ndim)]
    if mode in ("edge", "wrap"):
        return _index_pad(x, pairs, mode)
    if mode not in ("constant", "reflect", "symmetric"):
        raise ValueError(f"pad: `mode` must be one of 'constant', 'reflect', "
                         f"'symmetric', 'edge', 'wrap'; got {mode!r}")
    if constant_values is not None and mode != "constant":
        raise ValueError(f"pad: `constant_values` is only used with mode='constant', got "
                         f"mode={mode!r}")
    return _a.pad(x, pairs, mode=mode.upper(), constant_values=constant_values or 0)


def diff(a, n=1, axis=-1):
    """The ``n``-th discrete difference along ``axis`` (``!=`` of neighbours for
    booleans, as NumPy and TF's tnp).

    Args:
      a: input tensor.
      n: number of times to difference.
      axis: the axis.
    """
    x = as_tensor(a)
    ax = _axis(axis, x._value.ndim, "diff")
    op = _m.not_equal if x.dtype == dtypes.bool else _m.subtract
    for _ in range(int(n)):
        hi = [_pyslice(None)] * x._value.ndim
        lo = list(hi)
        hi[ax], lo[ax] = _pyslice(1, None), _pyslice(None, -1)
        x = op(x[tuple(hi)], x[tuple(lo)])
    return x


def get_item(x, key):
    """``x[key]`` (NumPy/TF indexing).

    Args:
      x: input tensor.
      key: index, slice, tuple or tensor index.
    """
    return as_tensor(x)[key]


__all__ = [
    "append", "array_split", "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_to",
    "concatenate", "diff", "dsplit", "dstack", "expand_dims", "flip", "fliplr",
    "flipud", "get_item", "hsplit", "hstack", "moveaxis", "pad", "ravel", "repeat",
    "reshape", "roll", "rot90", "split", "squeeze", "stack", "swapaxes", "tile",
    "transpose", "vsplit", "vstack",
]
