"""Array manipulation: shape changes, joins, creation, indexing."""

from dlframe import backends
from dlframe.backends.base import np
from dlframe.core import basic, dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError, ShapeMismatchError
from dlframe.ops._util import norm_axis, one_axis, static_shape, t

broadcast_to_p = basic.broadcast_to_p


# ---------------------------------------------------------------- shapes
@primitive("Reshape", aliases=True)
def reshape_p(d, x, *, shape):
    return x.reshape(shape)


@reshape_p.defgrad
def _reshape_grad(inputs, out, dy, *, shape):
    return reshape(dy, tuple(inputs[0]._value.shape))


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


def reshape(tensor, shape, name=None):
    """Reshapes ``tensor``; one dimension may be -1."""
    x = t(tensor)
    target = _resolve_shape(x._value.size, static_shape(shape, "Reshape"), "Reshape")
    if target == tuple(x._value.shape):
        return x
    return call(reshape_p, (x,), {"shape": target})


@primitive("Transpose", aliases=True)
def transpose_p(d, x, *, perm):
    return d.xp.transpose(x, perm)


@transpose_p.defgrad
def _transpose_grad(inputs, out, dy, *, perm):
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return transpose(dy, inverse)


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


def expand_dims(input, axis, name=None):  # noqa: A002
    """Inserts a length-1 dimension at ``axis``."""
    x = t(input)
    nd = x._value.ndim
    axis = int(axis)
    if not -nd - 1 <= axis <= nd:
        raise InvalidArgumentError(f"ExpandDims: axis {axis} out of range [{-nd - 1}, {nd}]")
    axis = axis % (nd + 1)
    shape = list(x._value.shape)
    shape.insert(axis, 1)
    return reshape(x, shape)


def squeeze(input, axis=None, name=None):  # noqa: A002
    """Removes length-1 dimensions (only ``axis`` when given)."""
    x = t(input)
    shape = list(x._value.shape)
    if axis is None:
        new = [s for s in shape if s != 1]
    else:
        axes = norm_axis(axis, len(shape), "Squeeze")
        for a in axes:
            if shape[a] != 1:
                raise InvalidArgumentError(
                    f"Squeeze: Can not squeeze dim[{a}], expected a dimension of 1, got "
                    f"{shape[a]}")
        new = [s for i, s in enumerate(shape) if i not in axes]
    return reshape(x, new)


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


def shape(input, out_type=dtypes.int32, name=None):  # noqa: A002
    """The shape of ``input`` as a 1-D int tensor."""
    x = t(input)
    return convert_to_tensor(list(x._value.shape), dtype=out_type, device=x._device)


def shape_n(input, out_type=dtypes.int32, name=None):  # noqa: A002
    return [shape(x, out_type) for x in input]


def size(input, out_type=dtypes.int32, name=None):  # noqa: A002
    """Number of elements of ``input`` as a scalar int tensor."""
    x = t(input)
    return convert_to_tensor(int(x._value.size), dtype=out_type, device=x._device)


def rank(input, name=None):  # noqa: A002
    """Rank of ``input`` as a scalar int32 tensor."""
    x = t(input)
    return convert_to_tensor(int(x._value.ndim), dtype=dtypes.int32, device=x._device)


# ---------------------------------------------------------------- creation
def _creation_dtype(dtype, default=dtypes.float32):
    return dtypes.as_dtype(dtype) if dtype is not None else default


@primitive("Fill", stateful=False)
def fill_p(d, *, shape, value, dtype):
    return d.xp.full(shape, value, dtype=dtype)


def _filled(shape_arg, value, dtype, op):
    shp = static_shape(shape_arg, op)
    if any(s < 0 for s in shp):
        raise InvalidArgumentError(f"{op}: shape must be non-negative, got {list(shp)}")
    return call(fill_p, (), {"shape": shp, "value": value, "dtype": dtype._np})


def zeros(shape, dtype=dtypes.float32, name=None, layout=None):
    """A tensor of zeros (default float32)."""
    d = _creation_dtype(dtype)
    return _filled(shape, False if d.is_bool else 0, d, "Zeros")


def ones(shape, dtype=dtypes.float32, name=None, layout=None):
    """A tensor of ones (default float32)."""
    d = _creation_dtype(dtype)
    return _filled(shape, True if d.is_bool else 1, d, "Ones")


def fill(dims, value, name=None, layout=None):
    """A tensor of shape ``dims`` filled with scalar ``value`` (dtype inferred from it)."""
    v = t(value)
    if v._value.ndim != 0:
        raise InvalidArgumentError(f"Fill: value must be a scalar, got shape "
                                   f"{list(v._value.shape)}")
    host = v._device.to_numpy(v._value)
    return _filled(dims, host.item() if host.dtype != object else host, v.dtype, "Fill")


# ---------------------------------------------------------------- indexing
class _Slot:
    """Placeholder for a tensor-valued part of an index key (an extra op input)."""

    __slots__ = ("i",)

    def __init__(self, i):
        self.i = i

    def __eq__(self, other):
        return isinstance(other, _Slot) and other.i == self.i

    def __hash__(self):
        return hash(("slot", self.i))

    def __repr__(self):
        return f"_Slot({self.i})"


def _build_key(key, arrays):
    return tuple(arrays[k.i] if isinstance(k, _Slot) else k for k in key)


@primitive("StridedSlice", aliases=True)
def getitem_p(d, x, *index_arrays, key):
    return x[_build_key(key, index_arrays)]


@getitem_p.defgrad
def _getitem_grad(inputs, out, dy, *, key):
    x = inputs[0]
    return (call(getitem_grad_p, (dy,) + tuple(inputs[1:]),
                 {"key": key, "shape": tuple(x._value.shape)}),) + (None,) * (len(inputs) - 1)


@primitive("StridedSliceGrad")
def getitem_grad_p(d, dy, *index_arrays, key, shape):
    xp = d.xp
    g = xp.zeros(shape, dtype=dy.dtype)
    k = _build_key(key, index_arrays)
    if any(not isinstance(p, (int, slice, type(None), type(Ellipsis))) for p in k):
        d.scatter_add(g, k, dy)
    else:
        g[k] = dy
    return g


@getitem_grad_p.defgrad
def _getitem_grad_grad(inputs, out, ddy, *, key, shape):
    return (call(getitem_p, (ddy,) + tuple(inputs[1:]), {"key": key}),) + \
        (None,) * (len(inputs) - 1)


def _normalize_key(x, key):
    """Validates an index key; returns (static key with slots, index tensors)."""
    if not isinstance(key, tuple):
        key = (key,)
    shape = x._value.shape
    out, extra = [], []
    dim = 0
    n_specified = sum(1 for k in key if k is not None and k is not Ellipsis and not (
        isinstance(k, Tensor) and k._value.dtype.kind == "b"))
    n_specified += sum(k._value.ndim for k in key
                       if isinstance(k, Tensor) and k._value.dtype.kind == "b")
    if n_specified > len(shape):
        raise InvalidArgumentError(
            f"StridedSlice: Index out of range using input dim {len(shape)}; input has "
            f"only {len(shape)} dims, key {key!r}")
    for k in key:
        if isinstance(k, (list, np.ndarray)) and not isinstance(k, Tensor):
            k = convert_to_tensor(np.asarray(k), device=x._device)
        if isinstance(k, Tensor):
            if k._device is not x._device:
                from dlframe.core.tensor import copy_to_device
                k = copy_to_device(k, x._device)
            kind = k._value.dtype.kind
            if k._value.ndim == 0 and kind in "iu":
                k = int(k)
            elif kind in "iub":
                if kind == "b":
                    _check_mask(k, shape, dim)
                    dim += k._value.ndim
                else:
                    _check_indices(k, shape[dim] if dim < len(shape) else 0, dim)
                    dim += 1
                out.append(_Slot(len(extra)))
                extra.append(k)
                continue
            else:
                raise TypeError(f"Only integers, slices, ellipsis, None and integer or "
                                f"boolean tensors are valid indices, got {k.dtype.name}")
        if hasattr(k, "__index__") and not isinstance(k, (bool, slice)):
            k = int(k.__index__())
            size = shape[dim] if dim < len(shape) else 0
            if not -size <= k < size:
                raise InvalidArgumentError(
                    f"StridedSlice: slice index {k} of dimension {dim} out of bounds. "
                    f"[Op:StridedSlice]")
            dim += 1
        elif isinstance(k, slice):
            k = slice(*(None if v is None else int(v) for v in (k.start, k.stop, k.step)))
            if k.step == 0:
                raise InvalidArgumentError("StridedSlice: slice step cannot be zero")
            dim += 1
        elif k is Ellipsis:
            dim = len(shape) - (n_specified - dim)
        elif k is None:
            pass
        else:
            raise TypeError(f"Only integers, slices (`:`), ellipsis (`...`), "
                            f"tf.newaxis (`None`) and scalar tf.int32/tf.int64 tensors are "
                            f"valid indices, got {k!r}")
        out.append(k)
    return tuple(out), tuple(extra)


def _check_mask(k, shape, dim):
    ms = k._value.shape
    if tuple(shape[dim:dim + len(ms)]) != tuple(ms):
        raise InvalidArgumentError(
            f"boolean mask of shape {list(ms)} does not match the indexed dimensions "
            f"{list(shape[dim:dim + len(ms)])} of the input of shape {list(shape)}")


def _check_indices(k, size, dim):
    host = k._device.to_numpy(k._value)
    if host.size and (host.min() < -size or host.max() >= size):
        bad = host[(host < -size) | (host >= size)].ravel()[0]
        raise InvalidArgumentError(f"indices = {int(bad)} is not in [0, {size}) for "
                                   f"dimension {dim}")


def getitem(tensor, key):
    """NumPy-style indexing: ints, slices with steps, ..., None, bool/int masks."""
    x = t(tensor)
    static, extra = _normalize_key(x, key)
    return call(getitem_p, (x,) + extra, {"key": static})


def _where_indices(condition):
    host = condition._device.to_numpy(condition._value)
    coords = np.argwhere(host).astype(np.int64)
    return Tensor(condition._device.asarray(coords), condition._device)

__all__ = ["broadcast_to", "concat", "expand_dims", "fill", "identity", "ones", "rank",
           "reshape", "shape", "shape_n", "size", "split", "squeeze", "stack",
           "stop_gradient", "transpose", "unstack", "zeros"]
