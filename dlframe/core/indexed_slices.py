"""``tf.IndexedSlices``: a sparse set of rows of a dense tensor.

The gradient of a row gather (``tf.gather`` on axis 0, ``tf.nn.embedding_lookup``)
is one: ``values`` are the upstream rows, ``indices`` the gathered ids and
``dense_shape`` the shape of the gathered tensor, so an SGD step on a large embedding
touches only the looked-up rows. The tape adds slices by concatenation and densifies
them where they meet a dense gradient or enter another gradient rule.

The ops that densify, concatenate, cast and reshape sit above core;
``dlframe.ops.variable_ops`` fills ``OPS`` with them.
"""

from dlframe.core import basic, dtypes
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape

# Late-bound ops (they live in dlframe.ops): densify(values, indices, shape),
# concat(list, axis), cast(x, dtype), reshape(x, shape); and "spec", the
# IndexedSlicesSpec class (dlframe.data).
OPS = {}


class _SlicesStructure:
    """Static part of an IndexedSlices in a function template."""

    def __init__(self, shape, has_dense_shape):
        self.shape = shape
        self.has_dense_shape = has_dense_shape

    def __eq__(self, other):
        return (isinstance(other, _SlicesStructure) and other.shape == self.shape
                and other.has_dense_shape == self.has_dense_shape)

    def __hash__(self):
        return hash(("IndexedSlices", self.shape, self.has_dense_shape))

    def __repr__(self):
        return f"IndexedSlices(dense_shape={self.shape})"

    def _dlframe_unflatten(self, parts):
        out = IndexedSlices(parts[0], parts[1],
                            parts[2] if self.has_dense_shape else None)
        out._static_shape = self.shape
        return out


class IndexedSlices:
    """A sparse set of rows of a dense tensor: ``dense[indices[i]] = values[i]``
    (rows named twice add up).

    Args:
      values: ``[N, ...]`` the rows.
      indices: ``[N]`` int row ids.
      dense_shape: optional ``[rank]`` shape of the dense tensor.
    """

    _is_tensor_like = True   # tf.is_tensor(slices) is True, as in TF
    # a composite: tf.nest(expand_composites=True) and dlframe.function see its
    # component tensors (values, indices[, dense_shape]), as TF does
    _dlframe_composite = True

    def __init__(self, values, indices, dense_shape=None):
        self._values = values if isinstance(values, Tensor) else convert_to_tensor(values)
        self._indices = indices if isinstance(indices, Tensor) else \
            convert_to_tensor(indices)
        if dense_shape is not None and not isinstance(dense_shape, Tensor):
            dense_shape = convert_to_tensor(dense_shape, dtype=dtypes.int64)
        self._dense_shape = dense_shape
        self._static_shape = None   # the dense shape as ints, when known statically

    values = property(lambda self: self._values, doc="The rows.")
    indices = property(lambda self: self._indices, doc="The row ids.")
    dense_shape = property(lambda self: self._dense_shape, doc="The dense shape (or None).")
    dtype = property(lambda self: self._values.dtype)
    device = property(lambda self: self._values.device)

    @property
    def shape(self):
        """The dense shape as a ``TensorShape`` (leading dim None when unknown)."""
        static = _static(self)   # None: no dense_shape, or a traced one
        if static is None:
            return TensorShape([None] + list(self._values.shape[1:]))
        return TensorShape(list(static))

    def __neg__(self):
        return like_slices(self, -self._values, self._indices)

    def __repr__(self):
        shape = "" if self._dense_shape is None else \
            f", dense_shape={self._dense_shape!r}"
        return f"IndexedSlices(indices={self._indices!r}, values={self._values!r}{shape})"

    # -- conversion: any op given slices sees the dense tensor (duplicates summed) ----
    def _dlframe_tensor_(self, dtype=None):
        dense = to_dense(self)
        if dtype is not None and dtypes.as_dtype(dtype) != dense.dtype:
            raise ValueError(f"Tensor conversion requested dtype {dtypes.as_dtype(dtype).name}"
                             f" for IndexedSlices with dtype {dense.dtype.name}")
        return dense

    # -- composite protocol (function outputs, cond and while_loop) -----------------
    def _dlframe_flatten(self):
        parts = [self._values, self._indices]
        if self._dense_shape is not None:
            parts.append(self._dense_shape)
        return _SlicesStructure(_static(self), self._dense_shape is not None), parts

    def _type_spec(self):
        """The ``tf.IndexedSlicesSpec`` of this value (its class lives in
        ``dlframe.data``, which registers it as ``OPS['spec']``)."""
        spec_cls = OPS.get("spec")
        if spec_cls is None:
            return self._dlframe_flatten()[0]
        return spec_cls.from_value(self)


def _static(slices):
    if slices._static_shape is not None:
        return tuple(slices._static_shape)
    if slices._dense_shape is None:
        return None
    try:
        return tuple(int(d) for d in slices._dense_shape.numpy())
    except (TypeError, ValueError):   # a traced dense shape has no static value
        return None


def like_slices(slices, values, indices):
    """IndexedSlices with ``slices``' dense shape holding ``values`` at ``indices``."""
    out = IndexedSlices(values, indices, slices._dense_shape)
    out._static_shape = slices._static_shape
    return out


def from_gather(values, indices, shape):
    """The gradient of a row gather of a tensor of static ``shape``: ``values``
    reshaped to ``[n, *shape[1:]]`` and ``indices`` flattened to ``[n]``."""
    reshape = OPS["reshape"]
    row = tuple(int(d) for d in shape[1:])
    # -1 keeps a compiled graph free of the batch size; it cannot resolve from 0 values
    n = int(indices._value.size) if 0 in row or indices._value.size == 0 else -1
    flat_ids = reshape(indices, (n,))
    rows = reshape(values, (n,) + row)
    dense_shape = convert_to_tensor(list(shape), dtype=dtypes.int32,
                                    device=values._device)
    out = IndexedSlices(rows, flat_ids, dense_shape)
    out._static_shape = tuple(int(d) for d in shape)
    return out


def to_dense(slices):
    """The dense tensor of ``slices``: rows scatter-added into zeros."""
    shape = _static(slices)
    if shape is None:
        raise ValueError("Cannot convert an IndexedSlices without a dense_shape to a "
                         f"Tensor: {slices!r}")
    return OPS["densify"](slices._values, slices._indices, shape)


def add(a, b):
    """Sum of two gradients where either may be IndexedSlices: slices + slices
    concatenate (as TF's aggregation), anything with a dense tensor is dense."""
    a_sparse = isinstance(a, IndexedSlices)
    b_sparse = isinstance(b, IndexedSlices)
    if a_sparse and b_sparse:
        concat = OPS["concat"]
        ia, ib = a._indices, b._indices
        if ia.dtype != ib.dtype:
            ia, ib = OPS["cast"](ia, dtypes.int64), OPS["cast"](ib, dtypes.int64)
        return like_slices(a, concat([a._values, b._values], 0), concat([ia, ib], 0))
    return basic.add(to_dense(a) if a_sparse else a, to_dense(b) if b_sparse else b)


def densify(value):
    """``value`` as a dense Tensor when it is IndexedSlices, unchanged otherwise."""
    return to_dense(value) if isinstance(value, IndexedSlices) else value
