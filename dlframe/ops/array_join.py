"""Joins and splits: concat, stack, unstack, split (and TF's auto-packing of
nested lists holding tensors)."""

from dlframe.backends.base import np
from dlframe.core import tensor as _tensor_mod
from dlframe.core.primitive import call, primitive
from dlframe.core.static_dims import graph_dims, merge_dims
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import AxisError, InvalidArgumentError, ShapeMismatchError
from dlframe.ops import dynamic_shape as _dyn
from dlframe.ops._util import one_axis, t, unaliased
from dlframe.ops.late_bound import reads_values


@primitive("ConcatV2")
def concat_p(d, *xs, axis):
    return d.xp.concatenate(xs, axis=axis)


def _concat_static_shape(in_dims, attrs):
    a = attrs["axis"]
    out = merge_dims(*in_dims)
    sizes = [dims[a] for dims in in_dims]
    out[a] = None if None in sizes else sum(sizes)
    return out


concat_p.static_shape = _concat_static_shape


@concat_p.defgrad
def _concat_grad(inputs, out, dy, *, axis):
    sizes = [x._value.shape[axis] for x in inputs]
    return split(dy, sizes, axis=axis)


def _same_dtype(op, values):
    first = values[0]._value.dtype
    for i, v in enumerate(values[1:], 1):
        if v._value.dtype != first and v.dtype != values[0].dtype:   # (.dtype:
            # an autocast variable in a mixed layer's call reads as the compute dtype)
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
        # TF (eager) converts the first value on its own and the others to its
        # dtype: stack([int32 array, float32 array], axis=1) is int32
        first = convert_to_tensor(values[0])
        values = [first, *values[1:]]
    from dlframe.core.tensor import as_operand
    return [v if isinstance(v, Tensor) else as_operand(v, first) for v in values]


def _check_concat_axis(axis, single):
    """TF's checks of concat's ``axis`` (made even where one value comes back as it
    is); returns it as an int. Python floats, strings and float tensors are
    refused, NumPy scalars truncated; a one-element list passes with several values.
    """
    if isinstance(axis, Tensor):
        refused = axis._value.dtype.kind not in "iu"
    else:
        refused = isinstance(axis, (str, bytes, float)) and not isinstance(
            axis, np.generic)   # np.float64 is a float, truncated like the others
    if refused:   # TF: a Python TypeError where no kernel runs, else its refusal
        raise (TypeError if single else InvalidArgumentError)(
            f"ConcatV2: `axis` must be an integer, got {axis!r}")
    array = axis._value if isinstance(axis, Tensor) else np.asarray(axis)
    if array.ndim and (single or array.size != 1):
        raise ValueError(f"ConcatV2: `axis` must be a scalar, got {axis!r}")
    return int(array.reshape(()))


@reads_values("axis", sizes_follow=True)
def concat(values, axis, name="concat"):
    """Concatenates tensors along ``axis``.

    As in TF, anything but a list or tuple (a Tensor, a NumPy array such as a
    ``model.predict`` result) is one value, and one value comes back unchanged
    whatever its rank and ``axis``.
    """
    xs = _as_list_of_tensors(values if isinstance(values, (list, tuple)) else [values],
                             "ConcatV2")
    axis = _check_concat_axis(axis, single=len(xs) == 1)
    if len(xs) == 1:
        return unaliased(xs[0])
    _same_dtype("ConcatV2", xs)
    nd = xs[0]._value.ndim
    if nd == 0:
        raise InvalidArgumentError("ConcatV2: Can't concatenate scalars (use tf.stack instead)")
    a = one_axis(axis, nd, "ConcatV2")
    ref = list(xs[0]._value.shape)
    for i, x in enumerate(xs[1:], 1):
        s = list(x._value.shape)
        if len(s) != nd:
            raise ShapeMismatchError(
                f"ConcatOp : Ranks of all input tensors should match: shape[0] = {ref} vs. "
                f"shape[{i}] = {s} [Op:ConcatV2]")
        if any(p != q for j, (p, q) in enumerate(zip(ref, s)) if j != a):
            raise ShapeMismatchError(
                f"ConcatOp : Dimension {a} excluded, shapes must match: shape[0] = {ref} vs. "
                f"shape[{i}] = {s} [Op:ConcatV2]")
    return call(concat_p, tuple(xs), {"axis": a})


@primitive("Pack")
def stack_p(d, *xs, axis):
    return d.xp.stack(xs, axis=axis)


def _stack_static_shape(in_dims, attrs):
    out = merge_dims(*in_dims)
    return out[:attrs["axis"]] + [len(in_dims)] + out[attrs["axis"]:]


stack_p.static_shape = _stack_static_shape


@stack_p.defgrad
def _stack_grad(inputs, out, dy, *, axis):
    return unstack(dy, axis=axis)


def stack(values, axis=0, name="stack"):
    """Stacks same-shaped tensors along a new ``axis``."""
    if isinstance(values, (list, tuple)) and not values and axis == 0:
        return convert_to_tensor(values)   # TF: an empty list packs to float32 [0]
    if isinstance(values, np.ndarray) and axis == 0:
        return convert_to_tensor(values)   # TF: already packed (other axes refused)
    if (axis == 0 and isinstance(values, (list, tuple))
            and not any(isinstance(v, Tensor) for v in values)):
        try:   # TF converts a constant list whole first: stack([1, 2.]) is float32
            return convert_to_tensor(values)
        except (TypeError, ValueError):
            pass   # ragged or odd values: the per-value path gives TF's error
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
        raise AxisError(f"Pack: Argument `axis` = {a} not in range [{-nd}, {nd})")
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
    if x.dtype == object:   # (a take from a string vector is a bare bytes object)
        return tuple(xp.squeeze(xp.take(x, [i], axis=axis), axis=axis)
                     for i in range(num))
    return tuple(xp.take(x, i, axis=axis) for i in range(num))


unstack_p.static_shape = lambda in_dims, attrs: [
    [d for i, d in enumerate(in_dims[0]) if i != attrs["axis"]]] * attrs["num"]


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
        raise ShapeMismatchError(f"Unpack: Input shape axis {a} must equal {num} "
                                 f"(argument `num`), got shape {list(x._value.shape)}")
    if n == 0:
        return []
    return list(call(unstack_p, (x,), {"axis": a, "num": n}))


@primitive("SplitV", n_out=-1)
def split_p(d, x, *, sizes, axis, even=False):
    bounds = np.cumsum(sizes)[:-1].tolist()
    return tuple(d.xp.split(x, bounds, axis=axis))


def _split_static_shape(in_dims, attrs):
    # along an unknown axis TF knows the parts of given sizes, not of an even split
    dims, a = in_dims[0], attrs["axis"]
    unknown = dims[a] is None and attrs.get("even")
    return [dims[:a] + [None if unknown else s] + dims[a + 1:] for s in attrs["sizes"]]


split_p.static_shape = _split_static_shape


@split_p.defgrad
def _split_grad(inputs, outs, dys, *, axis, **attrs):
    return concat(list(dys), axis=axis)


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Splits into ``num`` equal parts or parts of the given sizes along ``axis``."""
    if (isinstance(num_or_size_splits, Tensor) and num_or_size_splits._value.ndim == 0
            and _dyn.traced(num_or_size_splits)):   # the number of outputs is static
        raise ValueError(f"Rank-0 tensors are not supported as the num_or_size_splits "
                         f"argument to split. Argument provided: {num_or_size_splits!r}")
    return _split(value, num_or_size_splits, axis, num)


def _split_dims(value, num_or_size_splits, axis=0, num=None):
    """TF's static shapes of the parts of a split by traced sizes: the input's
    dims, the split axis unknown (None: every dim, where ``axis`` is traced)."""
    x = t(value)
    if isinstance(axis, Tensor) or not isinstance(num_or_size_splits, Tensor) or \
            num_or_size_splits._value.ndim != 1:
        return None
    dims = graph_dims(x)
    if getattr(dims, "unknown_rank", False):
        return None
    a = one_axis(axis, x._value.ndim, "Split")
    parts = [list(dims[:a]) + [None] + list(dims[a + 1:])
             for _ in range(num_or_size_splits._value.shape[0])]
    return parts[0] if len(parts) == 1 else parts


def _split_stand_in(value, num_or_size_splits, axis=0, num=None):
    """Copies of ``value``, one per part (placeholder sizes that do not add up)."""
    x = t(value)
    n = num_or_size_splits._value.shape[0] if isinstance(
        num_or_size_splits, Tensor) else len(num_or_size_splits)
    return [unaliased(x) for _ in range(n)]


@reads_values("num_or_size_splits", "axis", static_shape=_split_dims,
              stand_in=_split_stand_in)
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
        return [unaliased(x)]
    attrs = {"sizes": tuple(sizes), "axis": a}
    if isinstance(num_or_size_splits, int):
        attrs["even"] = True   # TF's static parts are unknown along an unknown axis
    return list(call(split_p, (x,), attrs))
