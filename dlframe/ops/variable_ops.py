"""The sparse ``tf.Variable`` methods (``tf.IndexedSlices`` itself lives in
``dlframe.core.indexed_slices``; it is re-exported here): ``scatter_*`` (rows
given by an IndexedSlices), ``scatter_nd_*`` (n-d indices), ``batch_scatter_update``,
``sparse_read``, ``gather_nd`` and ``initialized_value``.

The writes are one effectful primitive updating the variable's buffer in place, so they
keep their order inside a traced ``dlframe.function``. ``install()`` attaches the methods
to ``Variable`` (core cannot import ops; this mirrors ``operators.install``).
"""

import weakref

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core import indexed_slices as _slices_mod
from dlframe.core.indexed_slices import IndexedSlices
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.variable import Variable
from dlframe.errors import InvalidArgumentError
from dlframe.ops import array as _array
from dlframe.ops import array_index as _index
from dlframe.ops import array_join as _join
from dlframe.ops import device_index
from dlframe.ops import math as _math
from dlframe.ops import scatter_nan as _nan_rule
from dlframe.ops import slicing as _slicing

# ---------------------------------------------------------------- the write primitive
_UFUNC = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "true_divide",
          "max": "maximum", "min": "minimum"}


def _key(xp, index, layout):
    """The advanced-indexing key of ``index`` for the variable's buffer."""
    if layout == "rows":
        return index
    if layout == "batch":   # batch dims index themselves, the last axis holds row ids
        grids = xp.meshgrid(*[xp.arange(n) for n in index.shape], indexing="ij")
        return tuple(grids[:-1]) + (index,)
    return tuple(index[..., k] for k in range(index.shape[-1]))


def _check_range(d, index, shape, layout, op):
    host = d.to_numpy(index)
    if layout == "rows":
        host, sizes = host.reshape(-1, 1), shape[:1]
    elif layout == "batch":
        host, sizes = host.reshape(-1, 1), shape[host.ndim - 1:host.ndim]
    else:
        sizes = shape[:host.shape[-1]]
        host = host.reshape(-1, len(sizes))
    bad = ((host < 0) | (host >= sizes)).any(axis=1)
    if bad.any():
        at = int(bad.nonzero()[0][0])
        if layout == "rows":   # TF's ResourceScatter* kernels name the row range
            raise InvalidArgumentError(f"indices[{at}] = {int(host[at][0])} is not in "
                                       f"[0, {int(shape[0])}) [Op:{op}]")
        raise InvalidArgumentError(f"indices[{at}] = {host[at].tolist()} does not index "
                                   f"into shape {list(shape)} [Op:{op}]")


def _device_key(xp, index, shape, layout):
    """``_key`` as a tuple of broadcast arrays and where an index is out of range."""
    if layout == "nd":
        key = tuple(index[..., k] for k in range(index.shape[-1]))
        sizes = shape[:index.shape[-1]]
    else:
        key = _key(xp, index, layout)
        key = key if isinstance(key, tuple) else (key,)
        sizes = (shape[0],) if layout == "rows" else shape[index.ndim - 1:index.ndim]
        key = tuple(xp.broadcast_arrays(*key)) if len(key) > 1 else key
    bad = xp.zeros(key[0].shape, dtype=bool) if key else xp.zeros((), dtype=bool)
    for k, size in zip(key[len(key) - len(sizes):], sizes):
        bad |= (k < 0) | (k >= size)
    return key, bad


def _scatter_forward(d, var, index, updates, *, mode, layout, op):
    if d.is_gpu:   # TF's GPU kernels ignore out-of-range indices: no host read
        updates = updates.astype(var.dtype, copy=False)
        key, bad = _device_key(d.xp, index, var.shape, layout)
        key, updates = device_index.neutralize(d.xp, var, key, bad, updates, mode)
    else:
        _check_range(d, index, var.shape, layout, op)
        key = _key(d.xp, index, layout)
    if mode == "update":
        var[key] = updates
        return var
    updates = updates.astype(var.dtype, copy=False)
    if mode == "add":
        d.scatter_add(var, key, updates)
    elif mode == "sub":   # a - b == a + (-b) exactly (wrapping alike for integers)
        d.scatter_add(var, key, -updates)
    elif mode in ("max", "min"):
        _nan_rule.scatter_extreme(d, mode, var, key, updates)
    elif mode == "div" and var.dtype.kind in "iu":   # TF truncates toward zero
        _ordered_at(d.xp, _truncating_divide(d.xp), var, key, updates)
    elif d.is_gpu:   # CuPy 14 has no multiply.at / true_divide.at
        _ordered_at(d.xp, getattr(d.xp, _UFUNC[mode]), var, key, updates)
    else:   # NumPy's ufunc.at: linear in the updates (_ordered_at is one round per repeat)
        getattr(d.xp, _UFUNC[mode]).at(var, key, updates)
    return var


def _truncating_divide(xp):
    """Integer division rounding toward zero, as TF's integer scatter_div."""
    def divide(a, b):
        q = a // b
        return xp.where((q < 0) & (q * b != a), q + 1, q)
    return divide


# mul/div apply repeated indices in rounds counted on the host (not capturable)
_scatter_p = primitive("ResourceScatter", effects=True)(_scatter_forward)
_scatter_ordered_p = primitive("ResourceScatterOrdered", effects=True)(_scatter_forward)


def _ordered_at(xp, ufunc, var, key, updates):
    """``ufunc.at(var, key, updates)`` from plain fancy-index writes: repeated
    indices are applied in their order, one round per repetition."""
    keys = key if isinstance(key, tuple) else (key,)
    keys = xp.broadcast_arrays(*keys)
    lead = keys[0].shape
    keys = [k.reshape(-1) for k in keys]
    rows = updates.reshape((len(keys[0]),) + updates.shape[len(lead):])
    if not len(keys[0]):
        return
    flat = xp.ravel_multi_index(tuple(keys), var.shape[:len(keys)])
    order = xp.argsort(flat, kind="stable")
    ranked = flat[order]
    rank = xp.empty_like(order)   # how many earlier updates hit the same element
    rank[order] = xp.arange(len(ranked)) - xp.searchsorted(ranked, ranked)
    for r in range(int(rank.max()) + 1):
        pick = xp.nonzero(rank == r)[0]
        at = tuple(k[pick] for k in keys)
        var[at] = ufunc(var[at], rows[pick])


def _scatter(var, index, updates, mode, layout, op):
    index = index if isinstance(index, Tensor) else convert_to_tensor(index)
    if index.dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"{op}: indices must be int32 or int64, got {index.dtype.name}")
    shape = tuple(var._value.shape)
    ishape = tuple(index.shape)
    if layout == "rows":
        want = ishape + shape[1:]
    elif layout == "batch":
        if len(ishape) > len(shape) or ishape[:-1] != shape[:len(ishape) - 1]:
            raise InvalidArgumentError(f"{op}: indices of shape {list(ishape)} do not "
                                       f"match the batch dims of shape {list(shape)}")
        want = ishape + shape[len(ishape):]
    else:
        if ishape[-1] == 0:   # TF refuses an index depth of 0
            raise InvalidArgumentError(f"{op}: Indices and updates specified for empty "
                                       f"output.  indices shape: {list(ishape)} [Op:{op}]")
        if ishape[-1] > len(shape):
            raise InvalidArgumentError(f"{op}: index depth {ishape[-1]} exceeds the "
                                       f"variable rank {len(shape)}")
        want = ishape[:-1] + shape[ishape[-1]:]
    if not isinstance(updates, Tensor):
        updates = convert_to_tensor(updates, dtype=var.dtype, device=var._device)
    if updates.dtype != var.dtype:
        raise TypeError(f"{op}: updates dtype {updates.dtype.name} does not match the "
                        f"variable dtype {var.dtype.name}")
    if tuple(updates.shape) != want:
        raise InvalidArgumentError(f"{op}: updates must have shape {list(want)} for indices "
                                   f"of shape {list(ishape)}; got {list(updates.shape)}")
    prim = _scatter_ordered_p if mode in ("mul", "div") else _scatter_p
    call(prim, (var, index, updates), {"mode": mode, "layout": layout, "op": op})
    return var


def _slices(sparse_delta, method):
    if not isinstance(sparse_delta, IndexedSlices):
        raise TypeError("Argument `sparse_delta` must be a `tf.IndexedSlices`. Received "
                        f"arg: {sparse_delta!r}")
    return sparse_delta.indices, sparse_delta.values


def _row_method(mode):
    def method(self, sparse_delta, use_locking=False, name=None):
        index, values = _slices(sparse_delta, f"scatter_{mode}")
        return _scatter(self, index, values, mode, "rows", f"ResourceScatter{mode.title()}")
    method.__name__ = f"scatter_{mode}"
    method.__doc__ = (f"Applies '{mode}' of ``sparse_delta.values`` to the rows "
                      "``sparse_delta.indices`` in place; returns the variable.")
    return method


def _nd_method(mode):
    def method(self, indices, updates, name=None):
        return _scatter(self, indices, updates, mode, "nd",
                        f"ResourceScatterNd{mode.title()}")
    method.__name__ = f"scatter_nd_{mode}"
    method.__doc__ = (f"Applies '{mode}' of ``updates`` at the n-d ``indices`` in place; "
                      "returns the variable.")
    return method


def batch_scatter_update(self, sparse_delta, use_locking=False, name=None):
    """Per-batch row update: ``var[b..., indices[b..., i]] = values[b..., i]``."""
    index, values = _slices(sparse_delta, "batch_scatter_update")
    return _scatter(self, index, values, "update", "batch", "ResourceScatterNdUpdate")


def sparse_read(self, indices, name=None):
    """The rows ``indices`` of the variable (a gather on axis 0)."""
    return _index.gather(self.value(), indices)


def gather_nd(self, indices, name=None):
    """``tf.gather_nd`` of the variable's value."""
    return _index.gather_nd(self.value(), indices)


def initialized_value(self):
    """The variable's value (TF1 API; variables are always initialized here)."""
    return self.value()


# ---------------------------------------------------------------- sliced assignment
@primitive("ResourceStridedSliceAssign", effects=True)
def _slice_assign_p(d, var, value, *index_arrays, key):
    full = _slicing._build_key(key, index_arrays)
    target = var[full]
    try:   # the value broadcasts into the slice, never the slice into the value
        fits = np.broadcast_shapes(tuple(value.shape), tuple(target.shape)) == \
            tuple(target.shape)
    except ValueError:
        fits = False
    if not fits:
        raise InvalidArgumentError(
            f"sliced assign: value of shape {list(value.shape)} does not fit the slice "
            f"of shape {list(target.shape)} [Op:ResourceStridedSliceAssign]") from None
    var[full] = value
    return var


# slice tensor id -> (weakref to it, variable, static key, index tensors)
_SLICES = {}


class VariableSlice(Tensor):
    """What ``variable[key]`` returns: the sliced value, plus ``assign`` (TF's
    ``v[0, 1].assign(5.0)``) writing into that part of the variable."""

    __slots__ = ()

    def assign(self, value, name=None, read_value=True):
        """Writes ``value`` (broadcast to the slice's shape) into the sliced part.

        Returns:
          The variable (None when ``read_value`` is False).
        """
        _, var, key, extra = _SLICES[id(self)]
        if not isinstance(value, Tensor):
            value = convert_to_tensor(value, dtype=var.dtype, device=var._device)
        if value.dtype != var.dtype:
            raise TypeError(f"sliced assign: value dtype {value.dtype.name} does not match "
                            f"the variable dtype {var.dtype.name}")
        call(_slice_assign_p, (var, value) + extra, {"key": key})
        return var if read_value else None


def _variable_getitem(self, key):
    static, extra = _slicing._normalize_key(self, key)
    out = call(_slicing.getitem_p, (self,) + extra, {"key": static})
    out.__class__ = VariableSlice   # same layout: keeps the traced/taped identity
    ident = id(out)
    _SLICES[ident] = (weakref.ref(out, lambda _: _SLICES.pop(ident, None)), self,
                      static, extra)
    return out


def install():
    """Attaches the sparse methods to ``Variable``."""
    for mode in ("update", "add", "sub", "mul", "div", "max", "min"):
        setattr(Variable, f"scatter_{mode}", _row_method(mode))
    for mode in ("update", "add", "sub", "max", "min"):
        setattr(Variable, f"scatter_nd_{mode}", _nd_method(mode))
    for fn in (batch_scatter_update, sparse_read, gather_nd, initialized_value):
        setattr(Variable, fn.__name__, fn)
    Variable.__getitem__ = _variable_getitem


def _densify(values, indices, shape):
    """Rows ``values`` scatter-added at ``indices`` into zeros of ``shape``."""
    return call(_index.gather_grad_p, (values, indices),
                {"axis": 0, "batch_dims": 0, "shape": tuple(shape)})


install()
_slices_mod.OPS.update(densify=_densify, concat=_join.concat, cast=_math.cast,
                       reshape=_array.reshape)
__all__ = ["IndexedSlices"]
