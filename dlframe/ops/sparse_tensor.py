"""``SparseTensor`` (COO: indices, values, dense_shape), ``to_dense`` and ``from_dense``.

The dense shape is static: it is read on the host whenever an op needs it, and a
SparseTensor crossing a ``dlframe.function`` boundary carries it in the signature (its
indices and values are the traced tensors), as TF's shapes are static per trace.
Components may be host NumPy arrays (the data pipeline moves them that way); ops
convert them with ``parts``.
"""

from dlframe.backends.base import np  # host arrays for file I/O and static shapes
from dlframe.core import dtypes as _dt
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, _tracing_tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.errors import InvalidArgumentError
from dlframe.ops import array as _array
from dlframe.ops import array_index as _index
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red
from dlframe.ops._util import probing_branch, stand_in, t


def _component(value, dtype=None):
    if isinstance(value, Tensor) and dtype is not None and value.dtype != dtype \
            and value.dtype.is_integer:
        return _logic.cast(value, dtype)   # TF's int64 (TF refuses int32 tensors)
    if isinstance(value, np.ndarray) and dtype is not None \
            and value.dtype.kind in "iu" and value.dtype != dtype._np:
        return value.astype(dtype._np)   # TF converts int32 arrays to int64
    if isinstance(value, (Tensor, np.ndarray)):
        return value
    return convert_to_tensor(value, dtype=dtype)


def _host(value):
    return value.numpy() if isinstance(value, Tensor) else np.asarray(value)


class _SparseStructure:
    """Static part of a SparseTensor in a function template: its dense shape."""

    def __init__(self, shape):
        self.shape = shape

    def __eq__(self, other):
        return isinstance(other, _SparseStructure) and other.shape == self.shape

    def __hash__(self):
        return hash(("SparseTensor", self.shape))

    def __repr__(self):
        return f"SparseTensor(dense_shape={list(self.shape)})"

    def _dlframe_unflatten(self, parts):
        device = parts[1]._device if isinstance(parts[1], Tensor) else None
        shape = np.asarray(self.shape, dtype=np.int64).reshape(-1)
        return SparseTensor(parts[0], parts[1], convert_to_tensor(shape, device=device))


class SparseTensor:
    """A sparse tensor: ``values[i]`` sits at ``indices[i]`` of a ``dense_shape`` tensor.

    Args:
      indices: int64 ``[N, rank]`` positions of the values, in row-major order.
      values: ``[N]`` values.
      dense_shape: int64 ``[rank]`` shape of the dense tensor.
    """

    _dlframe_composite = True
    _is_tensor_like = True   # tf.is_tensor

    def __init__(self, indices, values, dense_shape):
        self.indices = _component(indices, _dt.int64)
        self.values = _component(values)
        self.dense_shape = _component(dense_shape, _dt.int64)
        ishape, shape = tuple(self.indices.shape), tuple(self.dense_shape.shape)
        if len(ishape) != 2 or len(shape) != 1 or (ishape[0] and ishape[1] != shape[0]):
            raise ValueError(f"SparseTensor indices must be [N, rank] and dense_shape "
                             f"[rank]; got indices shape {ishape}, dense_shape shape "
                             f"{shape}")
        vshape = tuple(self.values.shape)
        if len(vshape) != 1 or vshape[0] != ishape[0]:
            raise ValueError(f"SparseTensor values must be [N] = [{ishape[0]}] like the "
                             f"indices; got values shape {vshape}")

    @property
    def dtype(self):
        v = self.values
        return v.dtype if isinstance(v, Tensor) else _dt.from_numpy(v.dtype)

    @property
    def shape(self):
        if isinstance(self.dense_shape, Tensor) and _tracing_tensor(self.dense_shape):
            static = self.__dict__.get("_static_shape")
            if static is not None:
                return static
            return TensorShape([None] * int(self.dense_shape.shape[0]))
        return TensorShape([int(d) for d in _host(self.dense_shape)])

    def get_shape(self):
        return self.shape

    def set_shape(self, shape):
        """Refines the static shape (inside ``tf.function``, where the dense shape is
        not known); raises ValueError when ``shape`` is incompatible with it.

        Args:
          shape: a TensorShape-like value.
        """
        current, shape = self.shape, TensorShape(shape)
        if not current.is_compatible_with(shape):
            raise ValueError(f"Shapes {current} and {shape} are not compatible")
        self._static_shape = current.merge_with(shape)

    @property
    def op(self):
        """The operation producing the values (only inside ``tf.function``)."""
        return self.values.op

    @property
    def graph(self):
        """The graph of ``op`` (only inside ``tf.function``)."""
        return self.op.graph

    def with_values(self, new_values):
        """The same indices and dense shape with ``new_values`` ([N])."""
        return SparseTensor(self.indices, new_values, self.dense_shape)

    @classmethod
    def from_value(cls, value):
        return value if isinstance(value, SparseTensor) else cls(*value)

    # -- composite protocol (function inputs/outputs, cond and while_loop) ------------
    def _dlframe_flatten(self):
        return _SparseStructure(static_shape(self)), [self.indices, self.values]

    # table lookups treat a composite's flat values (dlframe.ops.lookup_ops)
    @property
    def flat_values(self):
        return self.values

    def with_flat_values(self, new_values):
        return self.with_values(new_values)

    # -- operators TF defines on SparseTensor: elementwise with a dense tensor --------
    def __mul__(self, other):
        return _cwise(self, other, "multiply")

    def __truediv__(self, other):
        return _cwise(self, other, "truediv")

    __div__ = __truediv__

    def __repr__(self):
        return (f"SparseTensor(indices={self.indices!s}, values={self.values!s}, "
                f"dense_shape={self.dense_shape!s})")

    __str__ = __repr__


def static_shape(sp):
    """The dense shape of ``sp`` as a tuple of Python ints."""
    if isinstance(sp.dense_shape, Tensor) and _tracing_tensor(sp.dense_shape):
        raise InvalidArgumentError("sparse ops need a SparseTensor's dense_shape to be "
                                   "known when tracing; build it from a Python list or "
                                   "a static shape")
    return tuple(int(d) for d in _host(sp.dense_shape).reshape(-1))


def parts(sp, op="sparse op"):
    """``(indices int64 Tensor, values Tensor, static shape tuple)`` of a SparseTensor."""
    if not isinstance(sp, SparseTensor):
        raise TypeError(f"{op}: expected a SparseTensor; received "
                        f"{type(sp).__name__}")
    indices = sp.indices
    if not isinstance(indices, Tensor) or indices.dtype != _dt.int64:
        indices = convert_to_tensor(_host(indices).astype(np.int64)
                                    if not isinstance(indices, Tensor) else indices)
        if indices.dtype != _dt.int64:
            indices = _math.cast(indices, _dt.int64)
    values = sp.values if isinstance(sp.values, Tensor) else convert_to_tensor(sp.values)
    return indices, values, static_shape(sp)


def _cwise(sp, other, op):
    indices, values, shape = parts(sp, op)
    dense = t(other)
    if dense.dtype != values.dtype:
        dense = _math.cast(dense, values.dtype) if not isinstance(other, Tensor) else dense
    dense = _array.broadcast_to(dense, list(shape))
    picked = _index.gather_nd(dense, indices)
    fn = _math.multiply if op == "multiply" else _math.divide
    return SparseTensor(indices, fn(values, picked), sp.dense_shape)


# ---------------------------------------------------------------- to_dense
@primitive("SparseToDense")
def _to_dense_p(d, indices, values, default, *, shape, validate):
    xp = d.xp
    out = xp.full(shape, default, dtype=values.dtype)
    if indices.shape[0]:
        problem = _index_problem(d, indices, shape) if validate else None
        if problem is not None:
            if probing_branch():   # a trace's placeholder indices: the run checks
                return stand_in(out)
            raise InvalidArgumentError(problem)
        if not validate and xp is not np and indices.shape[0] > 1:
            values = _last_of_repeats(d, indices, values, shape)
        out[tuple(indices.T)] = values
    return out


def _last_of_repeats(d, indices, values, shape):
    """``values`` with each entry of a repeated index replaced by the repeat's last
    value: a GPU scatter writes repeats in no set order, the CPU's last write wins
    (TF's CPU kernel too). Valid, in-bounds ``indices`` are assumed. Works in O(N)
    memory (not the dense size) with no host arrays and no sync, so a captured step
    may hold it."""
    xp = d.xp
    n = indices.shape[0]
    flat = xp.zeros(n, dtype=np.int64)   # row-major position of each index
    for k, size in enumerate(shape):
        flat = flat * int(size) + indices[:, k].astype(np.int64)
    order = xp.argsort(flat, kind="stable")
    ranked = flat[order]
    start = xp.ones(n, dtype=bool)
    start[1:] = ranked[1:] != ranked[:-1]
    run = xp.cumsum(start, dtype=np.int64) - 1   # the run of equal indices, in order
    last = xp.full(n, -1, dtype=np.int64)
    d.scatter_max(last, run, order)   # each run's last position in ``indices``
    picked = xp.empty_like(run)
    picked[order] = last[run]
    return values[picked]


def _index_problem(d, indices, shape):
    """TF's complaint about ``indices`` of a dense ``shape`` (None when valid):
    out of bounds, repeated, or not in row-major order."""
    host = d.to_numpy(indices)
    bad = np.flatnonzero(((host < 0) | (host >= np.asarray(shape))).any(axis=1))
    if bad.size:
        i = int(bad[0])
        return (f"indices[{i}] = {host[i].tolist()} is out of bounds: need 0 <= index "
                f"< {list(shape)}")
    flat = np.ravel_multi_index(host.T, shape) if shape else np.zeros(1)
    steps = np.diff(flat)
    late = np.flatnonzero(steps <= 0)   # TF requires strictly row-major order
    if late.size:
        i = int(late[0]) + 1
        if steps[i - 1] == 0:
            return f"indices[{i}] = {host[i].tolist()} is repeated"
        return (f"indices[{i}] = {host[i].tolist()} is out of order. Many sparse ops "
                "require sorted indices. Use `tf.sparse.reorder` to create a correctly "
                "ordered copy.")
    return None


@_to_dense_p.defgrad
def _to_dense_grad(inputs, out, dy, *, shape, validate):
    picked = _index.gather_nd(dy, inputs[0])
    return None, picked, _math.subtract(_red.reduce_sum(dy), _red.reduce_sum(picked))


@primitive("SparseToDenseDynamic")
def _to_dense_dynamic_p(d, indices, values, default, dense_shape, *, validate):
    """``SparseToDense`` whose dense shape is a traced tensor (a parsed
    ``VarLenFeature`` inside ``tf.function``): read when the graph runs."""
    shape = tuple(int(s) for s in d.to_numpy(dense_shape).reshape(-1))
    return _to_dense_p.forward(d, indices, values, default, shape=shape,
                               validate=validate)


_to_dense_dynamic_p.value_shaped = True   # its output sizes are dense_shape's values
_to_dense_dynamic_p.static_shape = lambda in_dims, attrs: (
    None if in_dims[3][0] is None else [None] * in_dims[3][0])   # rank known only


@_to_dense_dynamic_p.defgrad
def _to_dense_dynamic_grad(inputs, out, dy, *, validate):
    _, d_values, d_default = _to_dense_grad(inputs[:3], out, dy, shape=None,
                                            validate=validate)
    return None, d_values, d_default, None


def to_dense(sp_input, default_value=None, validate_indices=True, name=None):
    """The dense Tensor of a SparseTensor; missing entries are ``default_value`` (0).

    Differentiable w.r.t. the values and the default value.

    Raises:
      InvalidArgumentError: when ``validate_indices`` and an index is out of bounds or
        repeated.
    """
    if not isinstance(sp_input, SparseTensor):
        raise TypeError(f"Input must be a SparseTensor, got {type(sp_input).__name__}")
    dense_shape = sp_input.dense_shape
    traced_shape = isinstance(dense_shape, Tensor) and _tracing_tensor(dense_shape)
    if traced_shape:   # known only when the graph runs (parse_example in a function)
        sp_input = SparseTensor(sp_input.indices, sp_input.values, [0] * int(
            dense_shape.shape[0]))
    indices, values, shape = parts(sp_input, "to_dense")
    if default_value is None:
        fill = np.asarray(b"" if values.dtype == _dt.string else 0,
                          dtype=values._value.dtype)
        default = convert_to_tensor(fill, device=values._device)
    else:
        default = convert_to_tensor(_host(default_value).astype(values._value.dtype),
                                    device=values._device) \
            if not isinstance(default_value, Tensor) else default_value
    if traced_shape:
        return call(_to_dense_dynamic_p,
                    (indices, values, default, _math.cast(dense_shape, _dt.int64)),
                    {"validate": bool(validate_indices)})
    return call(_to_dense_p, (indices, values, default),
                {"shape": shape, "validate": bool(validate_indices)})


def from_dense(tensor, name=None):
    """The SparseTensor of the non-zero (non-empty for strings) entries of ``tensor``.

    Differentiable w.r.t. the kept values.
    """
    x = t(tensor)
    if x.dtype == _dt.bool:
        present = x
    else:
        zero = np.asarray(b"" if x.dtype == _dt.string else 0, dtype=x._value.dtype)
        present = _logic.not_equal(x, convert_to_tensor(zero, device=x._device))
    indices = _array._where_indices(present)
    shape = np.asarray([int(s) for s in x.shape], dtype=np.int64)
    return SparseTensor(indices, _index.gather_nd(x, indices),
                        convert_to_tensor(shape, device=x._device))
