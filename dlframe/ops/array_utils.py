"""Top-level array utilities: ``tf.unravel_index``, ``tf.parallel_stack``,
``tf.fingerprint`` and ``tf.extract_volume_patches``.

``fingerprint`` hashes rows on the host with the same FarmHash Fingerprint64 that
``tf.strings.to_hash_bucket_fast`` uses, so its bytes equal TF's. Patches are
strided slices of the (padded) volume stacked into the depth axis, so their gradient
comes from slicing and stacking.
"""

from dlframe.backends.base import np  # host-side hashing and index checks
from dlframe.core import dtypes
from dlframe.core.primitive import STATE, call, primitive
from dlframe.errors import InvalidArgumentError
from dlframe.ops import array as _array
from dlframe.ops._util import t
from dlframe.ops.string_hashes import fingerprint64


# ---------------------------------------------------------------- unravel_index
@primitive("UnravelIndex")
def _unravel_p(d, indices, dims):
    host_dims = d.to_numpy(dims).astype(np.int64)
    zero = np.flatnonzero(host_dims == 0)
    if zero.size:
        raise InvalidArgumentError(f"Input dims cannot contain a dim of zero, but dims "
                                   f"contains zero at index {int(zero[0])} "
                                   "[Op:UnravelIndex]")
    host = d.to_numpy(indices).astype(np.int64)
    total = int(np.prod(host_dims))
    if ((host < 0) | (host >= total)).any():
        raise InvalidArgumentError("index is out of bound as with dims "
                                   "[Op:UnravelIndex]")
    out = np.stack(np.unravel_index(host.reshape(-1), tuple(host_dims)))
    out = out.reshape((len(host_dims),) + host.shape).astype(indices.dtype)
    return d.xp.asarray(out)


def unravel_index(indices, dims, name=None):
    """Converts flat indices into coordinates of an array of shape ``dims``.

    Args:
      indices: an int32/int64 scalar or vector of flat (row-major) indices.
      dims: an int32/int64 vector, the array's shape.
      name: unused.

    Returns:
      ``[len(dims)]`` for a scalar index, else ``[len(dims), len(indices)]``, with
      the dtype of ``indices``.

    Raises:
      InvalidArgumentError: an index is outside ``[0, prod(dims))``, ``dims``
        contains a zero, or ``indices`` has rank above 1.
    """
    idx = t(indices)
    if idx.dtype not in (dtypes.int32, dtypes.int64):
        raise InvalidArgumentError(f"Value for attr 'Tidx' of {idx.dtype.name} is not "
                                   "in the list of allowed values: int32, int64 "
                                   "[Op:UnravelIndex]")
    if idx.ndim > 1:
        raise InvalidArgumentError(f"The indices can only be scalar or vector, got "
                                   f"\"{list(idx.shape)}\" [Op:UnravelIndex]")
    shape = t(dims, dtype=idx.dtype) if not hasattr(dims, "dtype") else t(dims)
    if shape.ndim != 1:
        raise InvalidArgumentError(f"The dims can only be a vector, got "
                                   f"\"{list(shape.shape)}\" [Op:UnravelIndex]")
    return call(_unravel_p, (idx, shape))


# ---------------------------------------------------------------- parallel_stack
def parallel_stack(values, name="parallel_stack"):
    """Stacks same-shaped tensors along a new first axis (graph mode only, as in TF).

    Args:
      values: a list of tensors of one shape and dtype.
      name: unused.

    Returns:
      ``[len(values)] + values[0].shape``.

    Raises:
      RuntimeError: when called eagerly (TF supports it only inside a function).
    """
    if STATE.trace is None:
        raise RuntimeError("tf.parallel_stack() is not compatible with eager execution.")
    return _array.stack(values, axis=0)


# ---------------------------------------------------------------- fingerprint
def _row_fingerprints(rows):
    out = np.empty((len(rows), 8), dtype=np.uint8)
    for i, row in enumerate(rows):
        out[i] = np.frombuffer(int(fingerprint64(row)).to_bytes(8, "little"), np.uint8)
    return out


@primitive("Fingerprint")
def _fingerprint_p(d, data):
    host = data if data.dtype == object else d.to_numpy(data)
    n = host.shape[0]
    if host.dtype == object:   # strings: hash each, then hash a row's hashes
        flat = host.reshape(n, -1)
        rows = []
        for row in flat:
            hashes = _row_fingerprints([bytes(s) for s in row])
            rows.append(bytes(row[0]) if len(row) == 1 else hashes.tobytes())
    else:
        flat = np.ascontiguousarray(host).reshape(n, -1)
        rows = [r.tobytes() for r in flat]
    return d.xp.asarray(_row_fingerprints(rows))


def fingerprint(data, method="farmhash64", name=None):
    """A 64-bit FarmHash fingerprint of each row (slice along axis 0) of ``data``.

    A numeric row is hashed as its raw little-endian bytes; a row of strings as its
    single string, or as the concatenated fingerprints of its strings.

    Args:
      data: a Tensor of rank >= 1 (numeric, bool or string).
      method: ``"farmhash64"`` (the only method).
      name: unused.

    Returns:
      A ``[data.shape[0], 8]`` uint8 Tensor: each fingerprint's bytes, little-endian.
    """
    if method != "farmhash64":
        raise InvalidArgumentError(f"Unsupported fingerprint method: {method} "
                                   "[Op:Fingerprint]")
    x = t(data)
    if x.ndim < 1:
        raise InvalidArgumentError(f"`data` should have at least one dimension: "
                                   f"{list(x.shape)} [Op:Fingerprint]")
    return call(_fingerprint_p, (x,))


# ---------------------------------------------------------------- volume patches
def _window5(values, what):
    try:
        vals = [int(v) for v in values]
    except TypeError:
        vals = []
    if len(vals) != 5 or vals[0] != 1 or vals[4] != 1 or min(vals) < 1:
        raise ValueError(f"{what} must be [1, planes, rows, cols, 1] of positive ints; "
                         f"received {values!r}")
    return vals[1:4]


def _volume_geometry(size, k, stride, padding):
    """(output size, padding before, padding after, first tap offset) of one axis.

    TF's kernel computes SAME padding without clamping it at zero and splits it with
    C++ (truncating) division, so a negative total shifts the first patch start.
    """
    if padding == "VALID":
        return max(-(-(size - k + 1) // stride), 0), 0, 0, 0
    out = -(-size // stride)
    total = (out - 1) * stride + k - size
    before = int(total / 2)
    return out, max(before, 0), max(total - before, 0), max(-before, 0)


def extract_volume_patches(input, ksizes, strides, padding, name=None):
    """Extracts ``ksizes`` 3-D patches of ``input`` into its depth axis.

    Args:
      input: ``[batch, planes, rows, cols, depth]``.
      ksizes: ``[1, k_planes, k_rows, k_cols, 1]`` patch size.
      strides: ``[1, s_planes, s_rows, s_cols, 1]`` step between patch starts.
      padding: ``"VALID"`` or ``"SAME"`` (zero padding).
      name: unused.

    Returns:
      ``[batch, out_planes, out_rows, out_cols, k_planes * k_rows * k_cols * depth]``,
      each patch flattened in (plane, row, col, depth) order.
    """
    x = t(input)
    if x.ndim != 5:
        raise ValueError(f"input must be 5-D [batch, planes, rows, cols, depth]; "
                         f"received shape {tuple(x.shape)}")
    if padding not in ("VALID", "SAME"):
        raise ValueError(f"padding must be 'VALID' or 'SAME'; received {padding!r}")
    ks, ss = _window5(ksizes, "ksizes"), _window5(strides, "strides")
    batch, depth = int(x.shape[0]), int(x.shape[4])
    geo = [_volume_geometry(int(n), k, s, padding)
           for n, k, s in zip(x.shape[1:4], ks, ss)]
    outs = [g[0] for g in geo]
    width = ks[0] * ks[1] * ks[2] * depth
    if 0 in outs:
        return _array.reshape(x[:, :0, :0, :0, :0], [batch] + outs + [width])
    if any(g[1] or g[2] for g in geo):
        x = _array.pad(x, [[0, 0]] + [[g[1], g[2]] for g in geo] + [[0, 0]])
    p0, r0, c0 = (g[3] for g in geo)
    taps = [x[:, p:p + (outs[0] - 1) * ss[0] + 1:ss[0],
              r:r + (outs[1] - 1) * ss[1] + 1:ss[1],
              c:c + (outs[2] - 1) * ss[2] + 1:ss[2]]
            for p in range(p0, p0 + ks[0]) for r in range(r0, r0 + ks[1])
            for c in range(c0, c0 + ks[2])]
    return _array.reshape(_array.stack(taps, axis=4), [batch] + outs + [width])


__all__ = ["extract_volume_patches", "fingerprint", "parallel_stack", "unravel_index"]
