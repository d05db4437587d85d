"""TF's ``StatelessParameterizedTruncatedNormal`` sampler on Philox bits.

Observed behaviour of TF 2.21's kernel (matched here number for number):

- the parameters broadcast to a shape ``P`` that ends the output shape; output
  ``[j, b]`` (``j`` over the ``s`` samples, ``b`` over ``P``) belongs to batch
  ``b``; the batches read one Philox stream in turn, each from the block after
  the last one its predecessor read (TF's single work shard: TF splits a large
  draw of many batches over its threads, whose numbers then depend on the
  machine);
- an interval with ``minval = -inf`` or wholly below the mean is mirrored
  (bounds swapped, stddev negated); with ``a, b`` the standardised bounds:
- ``a < -1.3 <= ... b >= 0`` or ``b > 1.3, a <= 0``: TF's normals (4 per block,
  2 for float64) in order, kept when ``a <= z <= b``;
- else when ``b - a`` is below Robert's cutoff ``2 exp(1/2 + a (a - r) / 4) /
  (a + r)``, ``r = sqrt(a^2 + 4)``: ``z = a + (b - a) u`` from one block of
  uniforms, kept when the next block's ``u' <= exp((max(a, 0)^2 - z^2) / 2)``;
- else Robert's exponential proposal: per uniform pair ``(u, u')`` of a block,
  ``z = a - log(u) / lam`` with ``lam = (a + r) / 2``, kept when ``u' <= exp(-(lam
  - z)^2 / 2)`` (``exp(-(a - lam)^2 / 2)`` when ``a >= lam``) and ``z < b``;
- the result is ``z * stddev + mean``, all in the output's precision (float32
  for half).
"""

from dlframe.backends.base import np
from dlframe.errors import InternalError, InvalidArgumentError
from dlframe.ops import philox

_RANDN_BOUND = 1.3
_MAX_BLOCKS = 1 << 16   # blocks a batch may read before its interval counts hopeless


def tail_failed():
    return InternalError(None, None, "TruncatedNormal exponential distribution "
                         "rejection sampler failed to accept a sample.")


def _layout(shape, params):
    """(batches, samples per batch) of an output ``shape`` whose parameters
    broadcast to ``params``, which must end ``shape`` (TF's check)."""
    rank = len(params)
    if rank > len(shape) or tuple(shape[len(shape) - rank:]) != tuple(params):
        raise InvalidArgumentError(None, None,
                                   "Shape passed in must end with broadcasted shape.")
    k = philox.num_elements(params)
    return k, philox.num_elements(shape) // max(k, 1)


def _words(bits, starts, first, depth):
    """uint32 ``[k, depth, 4]``: blocks ``first .. first + depth - 1`` of each row."""
    xp = bits.xp
    offsets = starts[:, None] + xp.arange(first, first + depth, dtype=xp.uint64)[None, :]
    return bits.blocks(offsets)


def _normals(xp, w, wide):
    if wide:
        z = philox._box_muller64(xp, w[..., 0], w[..., 1], w[..., 2], w[..., 3])
    else:
        w = w.reshape(w.shape[0], -1, 2)
        z = philox._box_muller32(xp, w[..., 0], w[..., 1])
    return philox._interleave(xp, *z)


def _uniforms(xp, w, wide):
    if wide:
        return philox._unit64(xp, w[..., 0::2], w[..., 1::2]).reshape(w.shape[0], -1)
    return philox._unit32(xp, w).reshape(w.shape[0], -1)


def _candidates(bits, starts, first, depth, method, a, b, gen, wide):
    """(values, accepted) of ``depth`` more blocks of each row from ``first``."""
    xp = bits.xp
    if method == 0:   # normals
        z = _normals(xp, _words(bits, starts, first, depth), wide).astype(gen)
        return z, (z >= a[:, None]) & (z <= b[:, None])
    if method == 1:   # uniform proposal: block pairs (values, then their tests)
        w = _words(bits, starts, 2 * first, 2 * depth)
        w = w.reshape(w.shape[0], depth, 2, 4)
        u = _uniforms(xp, w[:, :, 0], wide).astype(gen)
        test = _uniforms(xp, w[:, :, 1], wide).astype(gen)
        lo, hi = a[:, None], b[:, None]
        z = u * (hi - lo) + lo
        plus = xp.where(lo < 0, gen(0), lo * lo)
        with np.errstate(over="ignore"):
            return z, test <= xp.exp((plus - z * z) / gen(2))
    u = _uniforms(xp, _words(bits, starts, first, depth), wide).astype(gen)
    u, test = u[:, 0::2], u[:, 1::2]
    lo, hi = a[:, None], b[:, None]
    lam = (lo + xp.sqrt(lo * lo + gen(4))) / gen(2)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        z = -xp.log(u) / lam + lo
        x = xp.where(lo < lam, lam - z, lo - lam)
        return z, (test <= xp.exp(-x * x / gen(2))) & (z < hi)


def sample(bits, xp, means, stddevs, minvals, maxvals, *, shape, dtype):
    """``shape`` samples (``dtype``) of normals restricted to ``[minvals,
    maxvals]``, TF's numbers (see the module docstring)."""
    dtype = np.dtype(dtype)
    wide = dtype == np.float64
    gen = np.float64 if wide else np.float32
    params = np.broadcast_shapes(*(tuple(v.shape) for v in (means, stddevs, minvals,
                                                              maxvals)))
    k, s = _layout(tuple(shape), params)
    mu, sd, lo, hi = (xp.broadcast_to(v.astype(gen), params).reshape(-1)
                      for v in (means, stddevs, minvals, maxvals))
    if not bool(((sd > 0) & (lo < hi) & (xp.isfinite(lo) | xp.isfinite(hi))).all()):
        raise InvalidArgumentError(None, None, "Invalid parameters")
    if not bool(xp.isfinite(mu).all()):
        raise tail_failed()
    if not k * s:
        return xp.empty(tuple(shape), dtype=dtype)
    flip = (xp.isinf(lo) & (lo < 0)) | (hi < mu)
    lo, hi, sd = xp.where(flip, hi, lo), xp.where(flip, lo, hi), xp.where(flip, -sd, sd)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        a, b = (lo - mu) / sd, (hi - mu) / sd
        root = xp.sqrt(a * a + gen(4))
        cutoff = gen(2) * xp.exp(gen(0.5) + a * (a - root) / gen(4)) / (a + root)
    randn = ((a < -_RANDN_BOUND) & (b >= 0)) | ((b > _RANDN_BOUND) & (a <= 0))
    method = xp.where(randn, 0, xp.where(b - a < cutoff, 1, 2))
    out = _batches(bits, method, a, b, s, gen, wide)
    out = out.T * sd[None, :] + mu[None, :]
    out[:, xp.isinf(sd)] = xp.nan   # TF: an infinite stddev gives NaN
    return out.astype(dtype).reshape(tuple(shape))


def _batches(bits, method, a, b, s, gen, wide):
    """``[k, s]`` accepted values of the ``k`` batches read in turn from one stream.

    A batch's first block follows the blocks of those before it, so a window of
    batches is drawn with starts guessed from their fewest blocks; the draws up to
    the first batch whose start was guessed wrong are right (that one's start was
    known), and the next window starts after it. The window grows while whole
    windows come out right (batches that need no second try), and shrinks to
    a few batches where most need more blocks than the fewest."""
    xp = bits.xp
    k = method.shape[0]
    out = xp.empty((k, s), dtype=gen)
    least = xp.asarray([_blocks_per(m, s, wide) for m in range(3)],
                       dtype=xp.uint64)[method]
    first, start, window = 0, 0, 64
    while first < k:
        rows = xp.arange(first, min(k, first + window))
        guess = xp.cumsum(least[rows]) - least[rows] + xp.uint64(start)
        used = xp.empty(rows.shape[0], dtype=xp.uint64)
        vals = xp.empty((rows.shape[0], s), dtype=gen)
        for m in range(3):
            sel = xp.nonzero(method[rows] == m)[0]
            if sel.size:
                vals[sel], used[sel] = _fill(bits, guess[sel], m, a[rows[sel]],
                                             b[rows[sel]], s, gen, wide)
        wrong = xp.nonzero(used[:-1] != least[rows[:-1]])[0]
        right = int(wrong[0]) + 1 if wrong.size else rows.shape[0]
        out[first:first + right] = vals[:right]
        start = int(guess[right - 1] + used[right - 1])
        first += right
        window = min(4096, window * 2) if right == rows.shape[0] else max(4, 2 * right)
    return out


def _blocks_per(method, s, wide):
    """The fewest blocks a batch of ``s`` samples reads with ``method``."""
    per = _per_block(method, wide)
    return -(-s // per) * (2 if method == 1 else 1)


def _per_block(method, wide):
    """Candidates per block (per block pair for the uniform proposal)."""
    return (2 if wide else 4) if method < 2 else (1 if wide else 2)


def _fill(bits, starts, method, a, b, s, gen, wide):
    """The first ``s`` accepted values of each row (``[rows, s]``) and the blocks
    each row read up to its last one."""
    xp = bits.xp
    per = _per_block(method, wide)
    depth = -(-s // per) + 1
    vals, ok = _candidates(bits, starts, 0, depth, method, a, b, gen, wide)
    used = depth
    out = xp.empty((starts.shape[0], s), dtype=gen)
    blocks = xp.empty(starts.shape[0], dtype=xp.uint64)
    todo = xp.arange(starts.shape[0])
    while True:
        rank = xp.cumsum(ok, axis=1, dtype=xp.int64)
        full = rank[:, -1] >= s
        take = ok & (rank <= s) & full[:, None]
        out[todo[full]] = vals[take].reshape(-1, s)
        last = xp.argmax(rank[full] >= s, axis=1)   # the s-th accepted candidate
        blocks[todo[full]] = ((last // per + 1) * (2 if method == 1 else 1)).astype(
            xp.uint64)
        keep = ~full
        todo, vals, ok = todo[keep], vals[keep], ok[keep]
        if not todo.size:
            return out, blocks
        if used >= _MAX_BLOCKS:
            raise tail_failed()
        more, more_ok = _candidates(bits, starts[todo], used, depth, method, a[todo],
                                    b[todo], gen, wide)
        vals = xp.concatenate([vals, more], axis=1)
        ok = xp.concatenate([ok, more_ok], axis=1)
        used, depth = used + depth, depth * 2
