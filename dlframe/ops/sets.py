"""Set operations over the last dimension (``tf.sets``) and ``tf.edit_distance``.

A rank-``R`` dense tensor or SparseTensor holds one set (or sequence) per position
of its first ``R - 1`` dimensions: the values along the last dimension (for a
SparseTensor, the values present there). The work is grouping values by that
prefix, so it runs on the host; results are SparseTensors with sorted values per
set, as TF returns them. None of these ops is differentiable (integer or string
sets; edit distances are counts).
"""

from dlframe.backends.base import np  # host-side grouping of indices
from dlframe.core.primitive import call, primitive
from dlframe.errors import InvalidArgumentError
from dlframe.ops._util import t
from dlframe.ops.sparse_tensor import SparseTensor, parts

_SET_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "string")


# ---------------------------------------------------------------- host helpers
def _check_sorted(indices, shape, op):
    """TF's validate_indices: in bounds and strictly increasing in row-major order."""
    if not indices.shape[0]:
        return
    bounds = np.asarray(shape, dtype=np.int64)
    bad = np.flatnonzero(((indices < 0) | (indices >= bounds)).any(axis=1))
    if bad.size:
        i = int(bad[0])
        raise InvalidArgumentError(f"{op}: indices[{i}] = {indices[i].tolist()} is out "
                                   f"of bounds for dense shape {list(shape)}")
    flat = np.ravel_multi_index(indices.T, shape) if shape else np.zeros(1, np.int64)
    bad = np.flatnonzero(np.diff(flat) <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        raise InvalidArgumentError(
            f"indices[{i}] = {indices[i].tolist()} is out of order. Many sparse ops "
            "require sorted indices.\n    Use `tf.sparse.reorder` to create a correctly "
            f"ordered copy.\n\n [Op:{op}]")


def _groups(arrays, kind, prefix, validate, op):
    """Per-row value arrays (in last-index order) of one dense or sparse operand.

    Args:
      arrays: ``(dense,)`` or ``(indices, values)`` host arrays.
      kind: ``"dense"`` or a tuple, the SparseTensor's full dense shape.
      prefix: the shape of the set positions (all but the last dimension).
    """
    n = int(np.prod(prefix, dtype=np.int64))
    if kind == "dense":
        dense = arrays[0]
        return list(dense.reshape(n, dense.shape[-1]))
    indices, values = arrays
    if validate:
        _check_sorted(indices, kind, op)
    if indices.shape[0]:
        rows = np.ravel_multi_index(indices[:, :-1].T, prefix) if prefix else \
            np.zeros(indices.shape[0], np.int64)
        order = np.lexsort((indices[:, -1], rows))
    else:
        rows = order = np.zeros(0, np.int64)
    rows, values = rows[order], values[order]
    bounds = np.searchsorted(rows, np.arange(n + 1))
    return [values[bounds[r]:bounds[r + 1]] for r in range(n)]


def _host(d, arrays):
    return [a if a.dtype == object else d.to_numpy(a) for a in arrays]


def _split(arrays, kinds):
    out, k = [], 0
    for kind in kinds:
        width = 1 if kind == "dense" else 2
        out.append(arrays[k:k + width])
        k += width
    return out


_SET_FNS = {
    "intersection": lambda a, b: np.intersect1d(a, b),
    "union": lambda a, b: np.union1d(a, b),
    "a-b": lambda a, b: np.setdiff1d(a, b),
    "b-a": lambda a, b: np.setdiff1d(b, a),
}


@primitive("SetOperation", n_out=3, host_kernel=True)
def _set_op_p(d, *arrays, kinds, prefix, set_operation, validate):
    a, b = (_groups(arrs, kind, prefix, validate, "SetOperation")
            for arrs, kind in zip(_split(_host(d, arrays), kinds), kinds))
    fn = _SET_FNS[set_operation]
    results = [fn(np.unique(x), np.unique(y)) for x, y in zip(a, b)]
    sizes = np.array([len(r) for r in results], dtype=np.int64)
    width = int(sizes.max()) if sizes.size else 0
    rows = np.repeat(np.arange(len(results)), sizes)
    cols = np.concatenate([np.arange(s) for s in sizes]) if sizes.size else rows
    lead = np.stack(np.unravel_index(rows, prefix), 1) if prefix else \
        np.zeros((rows.size, 0), np.int64)
    indices = np.concatenate([lead, cols[:, None]], 1).astype(np.int64)
    dtype = arrays[1 if kinds[0] != "dense" else 0].dtype
    values = np.concatenate(results).astype(dtype) if results else np.zeros(0, dtype)
    shape = np.asarray(list(prefix) + [width], dtype=np.int64)
    if dtype != object:
        return d.xp.asarray(indices), d.xp.asarray(values), d.xp.asarray(shape)
    return d.xp.asarray(indices), values, d.xp.asarray(shape)


_set_op_p.value_shaped = True   # the number of members depends on the values


@primitive("SetSize", host_kernel=True)
def _set_size_p(d, indices, values, *, shape, validate):
    prefix = tuple(shape[:-1])
    groups = _groups(_host(d, (indices, values)), shape, prefix, validate, "SetSize")
    counts = np.array([len(np.unique(g)) for g in groups], dtype=np.int32)
    return d.xp.asarray(counts.reshape(prefix))


# ---------------------------------------------------------------- set operands
def _operand(x, name):
    """``(kind, arrays, full shape, dtype)`` of a dense or sparse set operand."""
    if isinstance(x, SparseTensor):
        indices, values, shape = parts(x, "sets")
        kind, arrays, dtype = tuple(shape), (indices, values), values.dtype
    else:
        x = t(x)
        shape, kind, arrays, dtype = tuple(x.shape), "dense", (x,), x.dtype
    if dtype.name not in _SET_DTYPES:
        raise TypeError(f"{name!r} has invalid dtype `{dtype!r}` not in supported "
                        f"dtypes: {', '.join(_SET_DTYPES)}.")
    if len(shape) < 2:
        raise InvalidArgumentError(f"Shape {list(shape)} has rank {len(shape)} < 2 "
                                   f"[Op:SetOperation]")
    return kind, arrays, shape, dtype


def _set_operation(a, b, set_operation, validate_indices):
    if not isinstance(a, SparseTensor) and isinstance(b, SparseTensor):
        # a sparse operand always goes first (TF swaps them and flips a difference)
        a, b = b, a
        set_operation = {"a-b": "b-a", "b-a": "a-b"}.get(set_operation, set_operation)
    ka, arrays_a, shape_a, dtype_a = _operand(a, "a")
    kb, arrays_b, shape_b, dtype_b = _operand(b, "b")
    if dtype_a != dtype_b:
        raise TypeError(f"Types don't match, {dtype_a!r} vs {dtype_b!r}.")
    if shape_a[:-1] != shape_b[:-1]:
        raise InvalidArgumentError(f"Mismatched shapes {list(shape_a[:-1])} vs "
                                   f"{list(shape_b[:-1])} [Op:SetOperation]")
    indices, values, dense_shape = call(
        _set_op_p, tuple(arrays_a) + tuple(arrays_b),
        {"kinds": (ka, kb), "prefix": tuple(shape_a[:-1]),
         "set_operation": set_operation, "validate": bool(validate_indices)})
    return SparseTensor(indices, values, dense_shape)


def intersection(a, b, validate_indices=True):
    """The intersection of the sets in the last dimension of ``a`` and ``b``.

    Args:
      a: a dense Tensor or SparseTensor of rank ``R >= 2`` (int8/16/32/64, uint8/16
        or string); each position of the first ``R - 1`` dimensions holds a set.
      b: like ``a``, with the same dtype and the same first ``R - 1`` dimensions.
      validate_indices: check that sparse indices are in bounds and sorted.

    Returns:
      A SparseTensor of rank ``R`` whose last dimension holds each intersection in
      ascending order, with dense shape ``a.shape[:-1] + [largest result]``.
    """
    return _set_operation(a, b, "intersection", validate_indices)


def union(a, b, validate_indices=True):
    """The union of the sets in the last dimension of ``a`` and ``b`` (see
    ``intersection`` for the arguments and result)."""
    return _set_operation(a, b, "union", validate_indices)


def difference(a, b, aminusb=True, validate_indices=True):
    """``a - b`` (or ``b - a`` when ``aminusb`` is False) of the sets in the last
    dimension (see ``intersection`` for the arguments and result)."""
    return _set_operation(a, b, "a-b" if aminusb else "b-a", validate_indices)


def size(a, validate_indices=True):
    """The number of distinct values in each set of SparseTensor ``a``.

    Args:
      a: a SparseTensor of rank ``R >= 2``.
      validate_indices: check that its indices are in bounds and sorted.

    Returns:
      An int32 Tensor of shape ``a.dense_shape[:-1]``.

    Raises:
      TypeError: ``a`` is not a SparseTensor or has an unsupported dtype.
    """
    if not isinstance(a, SparseTensor):
        raise TypeError(f"Expected `SparseTensor`, got {a!r}.")
    _, arrays, shape, _ = _operand(a, "a")
    return call(_set_size_p, arrays, {"shape": shape, "validate": bool(validate_indices)})


# ---------------------------------------------------------------- edit distance
def _levenshtein(x, y):
    prev = np.arange(len(y) + 1)
    for i in range(1, len(x) + 1):
        cur = np.empty_like(prev)
        cur[0] = i
        for j in range(1, len(y) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] != y[j - 1]))
        prev = cur
    return int(prev[-1])


@primitive("EditDistance", host_kernel=True)
def _edit_distance_p(d, h_idx, h_vals, t_idx, t_vals, *, h_shape, t_shape, normalize):
    prefix = tuple(max(a, b) for a, b in zip(h_shape[:-1], t_shape[:-1]))
    h_idx, h_vals, t_idx, t_vals = _host(d, (h_idx, h_vals, t_idx, t_vals))
    hyp = _groups((h_idx, h_vals), tuple(prefix) + h_shape[-1:], prefix, False, "")
    truth = _groups((t_idx, t_vals), tuple(prefix) + t_shape[-1:], prefix, False, "")
    out = np.zeros(len(hyp), np.float32)
    for r, (x, y) in enumerate(zip(hyp, truth)):
        dist = float(_levenshtein(list(x), list(y)))
        if normalize and len(y):
            dist /= len(y)
        elif normalize and len(x):
            dist = np.inf
        out[r] = dist
    return d.xp.asarray(out.reshape(prefix))


def edit_distance(hypothesis, truth, normalize=True, name="edit_distance"):
    """Levenshtein distance between the sequences of two SparseTensors.

    Each position of the first ``R - 1`` dimensions holds a sequence: the values in
    its last dimension, in index order.

    Args:
      hypothesis: a SparseTensor of rank ``R``.
      truth: a SparseTensor of rank ``R`` with the same dtype.
      normalize: divide each distance by the truth's length (a non-empty hypothesis
        against an empty truth gives ``inf``).
      name: unused.

    Returns:
      A float32 Tensor of rank ``R - 1`` shaped like the larger of the two prefixes.
    """
    if not isinstance(hypothesis, SparseTensor):
        raise TypeError("Hypothesis must be a SparseTensor.")
    if not isinstance(truth, SparseTensor):
        raise TypeError("Truth must be a SparseTensor.")
    h_idx, h_vals, h_shape = parts(hypothesis, "edit_distance")
    t_idx, t_vals, t_shape = parts(truth, "edit_distance")
    if h_vals.dtype != t_vals.dtype:
        raise InvalidArgumentError(
            f"cannot compute EditDistance as input #4(zero-based) was expected to be a "
            f"{h_vals.dtype.name} tensor but is a {t_vals.dtype.name} tensor "
            "[Op:EditDistance]")
    if len(h_shape) != len(t_shape):
        raise InvalidArgumentError(
            f"Expected truth and hypothesis to have matching ranks, but their shapes "
            f"are: [{len(t_shape)}] and [{len(h_shape)}] [Op:EditDistance]")
    return call(_edit_distance_p, (h_idx, h_vals, t_idx, t_vals),
                {"h_shape": h_shape, "t_shape": t_shape, "normalize": bool(normalize)})


__all__ = ["edit_distance"]
SET_NAMES = ["intersection", "union", "difference", "size"]
