"""TensorFlow's samplers on Philox bits: categorical, Gamma, Poisson, binomial and
shuffle.

Written from TF's observed outputs (black-box experiments), not its source:

- categorical (``Multinomial`` / ``StatelessMultinomial``): each row's weights are
  ``exp(logit - max)`` in float64 (the max over the row's finite logits; NaN and
  infinite logits weigh 0), accumulated left to right into a CDF. Sample ``j`` of
  row ``r`` reads the two words ``2 (r * num_samples + j)`` and ``+ 1`` of the
  draw (a float64 uniform, the first word holding the high mantissa bits), scales
  it by the row's total and takes the first class whose CDF exceeds it. A row of
  no finite logit returns ``num_classes``. TF splits large batches across its
  threads, each part starting at block ``first_row * num_samples``, which depends
  on the machine; here every batch reads its words contiguously, TF's layout
  whenever TF runs the op in one piece (small draws, or one thread).
  A seeded stateful draw advances its stream by ``2 * batch * ceil4(num_samples)``
  outputs (256 blocks each).
- Gamma and Poisson: each output has a substream of its own (256 blocks apart;
  ``[sample, parameter]`` outputs numbered parameter-major) read block by block
  into two-value buffers of float64 normals and uniforms; the algorithms are in
  :func:`gamma` and :func:`poisson`. A seeded draw advances by its outputs.
- binomial: the same buffers, substreams 42 blocks apart for inversion draws and
  256 for BTRS ones (:func:`binomial`); a Generator advances as
  :func:`binomial_draw_size` says.
- shuffle: a forward Fisher-Yates shuffle on consecutive 32-bit words
  (:func:`shuffle`).
"""

from fractions import Fraction

from dlframe.backends.base import np
from dlframe.ops import philox

_COMPARE_CHUNK = 1 << 22   # elements of the (rows, samples, classes) comparison at once
_SEARCH_CLASSES = 256      # from this many classes on: searchsorted row by row


def categorical_draw_size(arrays, attrs):
    """Outputs a seeded ``Multinomial`` advances its stream by (256 blocks each)."""
    batch, num_samples = int(arrays[0].shape[0]), int(attrs["num_samples"])
    return 2 * batch * (-(-num_samples // 4) * 4)


def categorical(bits, xp, logits, *, num_samples, dtype):
    """``[batch, num_samples]`` class indices of ``dtype`` drawn from ``logits``."""
    batch, classes = logits.shape
    out = xp.empty((batch, num_samples), dtype=dtype)
    if batch == 0 or num_samples == 0 or classes == 0:
        return out
    x = logits.astype(xp.float64)
    finite = xp.isfinite(x)
    top = xp.where(finite, x, -xp.inf).max(axis=1, keepdims=True)
    top = xp.where(xp.isfinite(top), top, 0.0)   # rows with no finite logit
    weights = xp.where(finite, xp.exp(xp.where(finite, x, 0.0) - top), 0.0)
    cdf = xp.cumsum(weights, axis=1)
    w = bits.words(2 * batch * num_samples)
    u = philox._unit64(xp, w[0::2], w[1::2]).reshape(batch, num_samples)
    target = u * cdf[:, -1:]
    if classes >= _SEARCH_CLASSES:   # many classes: a binary search per row (the
        for r in range(batch):       # CDF is nondecreasing: the same count)
            out[r] = xp.searchsorted(cdf[r], target[r], side="right").astype(
                dtype, copy=False)
        return out
    step = max(1, _COMPARE_CHUNK // max(num_samples * classes, 1))
    for start in range(0, batch, step):   # upper bound: CDF entries <= the target
        rows = slice(start, start + step)
        hit = cdf[rows, None, :] <= target[rows, :, None]
        out[rows] = hit.sum(axis=-1).astype(dtype, copy=False)
    return out


# ---------------------------------------------------------------- gamma
class _Streams:
    """Per-output Philox substreams (output ``i`` reads blocks ``256 i`` on) read
    block by block, with TF's two-value buffers of float64 normals and uniforms
    (each refill takes the stream's next block; values are used last first)."""

    def __init__(self, bits, streams, stride=philox.SAMPLES_PER_OUTPUT):
        xp = self.xp = bits.xp
        self.bits = bits
        stride = stride.astype(xp.uint64) if hasattr(stride, "astype") else \
            xp.uint64(stride)
        self.base = streams.astype(xp.uint64) * stride
        n = streams.shape[0]
        self.next = xp.zeros(n, dtype=xp.uint64)
        self.normals = xp.zeros((n, 2), dtype=xp.float64)
        self.uniforms = xp.zeros((n, 2), dtype=xp.float64)
        self.n_left = xp.zeros(n, dtype=xp.int64)
        self.u_left = xp.zeros(n, dtype=xp.int64)

    def _block(self, idx):
        w = self.bits.blocks(self.base[idx] + self.next[idx])
        self.next[idx] += self.xp.uint64(1)
        return w

    def _take(self, idx, values, left, refill):
        if idx.shape[0] == left.shape[0] and not bool(left.any()):
            # every stream (``idx`` is sorted, unique) with an empty buffer, as on a
            # sampler's first draw: whole-array operations, no gathers
            values[...] = refill(self.bits.blocks(self.base + self.next))
            self.next += self.xp.uint64(1)
            left[...] = 1
            return values[:, 1].copy()
        empty = idx[left[idx] == 0]
        if empty.size:
            values[empty] = refill(self._block(empty))
            left[empty] = 2
        left[idx] -= 1
        return values[idx, left[idx]]

    def normal(self, idx):
        """The next float64 standard normal of the streams ``idx``."""
        def refill(w):
            z = philox._box_muller64(self.xp, w[:, 0], w[:, 1], w[:, 2], w[:, 3])
            return self.xp.stack(z, axis=1)
        return self._take(idx, self.normals, self.n_left, refill)

    def uniform(self, idx):
        """The next float64 uniform in ``[0, 1)`` of the streams ``idx``."""
        return self._take(idx, self.uniforms, self.u_left, self._unit_pair)

    def _unit_pair(self, w):
        return philox._unit64(self.xp, w[:, 0::2], w[:, 1::2])

    def uniform_pair(self, idx):
        """The next two uniforms of the streams ``idx``, whose uniform buffers are
        empty (their samplers take uniforms in pairs only): the next block's, in
        the order :meth:`uniform` hands them out (``(first, second)``), without
        the buffer's bookkeeping."""
        pair = self._unit_pair(self._block(idx))
        return pair[:, 1], pair[:, 0]


def param_draw_size(arrays, attrs):
    """Outputs a seeded Gamma or Poisson draw advances its stream by: its
    ``shape + parameter shape`` outputs."""
    return philox.num_elements(attrs["shape"]) * int(arrays[0].size)


def gamma(bits, xp, alpha, *, shape, dtype):
    """Gamma(``alpha``, 1) samples of shape ``shape + alpha.shape`` (``dtype``).

    Output ``[s, k]`` (``s`` over ``shape``, ``k`` over ``alpha``) reads substream
    ``k * prod(shape) + s``. Alpha 1 is ``-log1p(-u)``; otherwise Marsaglia and
    Tsang's method (normal ``x``, ``v = (1 + c x)**3``, accept on a uniform ``u``
    by the squeeze ``u < 1 - 0.0331 x**4`` or the log test), on ``alpha + 1``
    scaled by ``u ** (1 / alpha)`` for ``alpha < 1``, all in float64; results
    below the dtype's smallest normal number become it, a negative or NaN
    ``alpha`` gives NaN.
    """
    samples, k = philox.num_elements(shape), int(alpha.size)
    a = xp.broadcast_to(alpha.astype(xp.float64).reshape(1, k), (samples, k)).reshape(-1)
    n = a.size
    out = xp.zeros(n, dtype=xp.float64)
    if n == 0:
        return out.astype(dtype).reshape(tuple(shape) + tuple(alpha.shape))
    pos = xp.arange(n, dtype=xp.int64)
    streams = (pos % k) * samples + pos // k
    src = _Streams(bits, streams)
    one = a == 1.0
    idx = pos[one]
    if idx.size:
        out[idx] = -xp.log1p(-src.uniform(idx))
    boost = a < 1.0
    shape_a = xp.where(boost, a + 1.0, a)
    d = shape_a - 1.0 / 3.0
    c = 1.0 / xp.sqrt(9.0 * xp.maximum(d, 2.0 / 3.0))   # (d < 2/3: alpha < 0, NaN)
    todo = pos[~one & (a >= 0)]
    while todo.size:
        x = src.normal(todo)
        v = 1.0 + c[todo] * x
        accepted = v > 0   # then: the uniform's test
        todo_v, x, v = todo[accepted], x[accepted], v[accepted] ** 3
        if todo_v.size:
            u = src.uniform(todo_v)
            dv = d[todo_v]
            with np.errstate(divide="ignore", invalid="ignore"):
                ok = (u < 1.0 - 0.0331 * x ** 4) | \
                    (xp.log(u) < 0.5 * x * x + dv * (1.0 - v + xp.log(v)))
            out[todo_v[ok]] = dv[ok] * v[ok]
            accepted[accepted] = ok
        todo = todo[~accepted]
    idx = pos[boost & (a >= 0)]
    if idx.size:
        with np.errstate(divide="ignore"):   # alpha 0: u ** inf, then the floor
            out[idx] *= src.uniform(idx) ** (1.0 / a[idx])
    out = xp.maximum(out, float(np.finfo(np.dtype(dtype)).tiny))
    out[~(a >= 0)] = xp.nan   # negative or NaN alpha
    return out.astype(dtype).reshape(tuple(shape) + tuple(alpha.shape))


# ---------------------------------------------------------------- Poisson
_PTRS_RATE = 10.0   # rates from here on: transformed rejection, below: Knuth


def poisson(bits, xp, lam, *, shape, dtype):
    """Poisson(``lam``) samples of shape ``shape + lam.shape`` (``dtype``), laid
    out over substreams as :func:`gamma`.

    Rates below 10 count uniforms until their running product reaches
    ``exp(-lam)`` (Knuth); larger ones use Hoermann's transformed rejection
    (PTRS) on the uniform pair ``(U - 1/2, V)``; all in float64.
    """
    samples, k = philox.num_elements(shape), int(lam.size)
    rate = xp.broadcast_to(lam.astype(xp.float64).reshape(1, k),
                           (samples, k)).reshape(-1)
    n = rate.size
    out = xp.zeros(n, dtype=xp.float64)
    pos = xp.arange(n, dtype=xp.int64)
    if n:
        src = _Streams(bits, (pos % k) * samples + pos // k)
        _knuth(xp, src, rate, pos[~(rate >= _PTRS_RATE)], out)
        _ptrs(xp, src, rate, pos[rate >= _PTRS_RATE], out)
    return out.astype(dtype).reshape(tuple(shape) + tuple(lam.shape))


def _knuth(xp, src, rate, todo, out):
    limit = xp.exp(-rate[todo])
    prod = xp.ones(todo.shape, dtype=xp.float64)
    count = xp.zeros(todo.shape, dtype=xp.float64)
    while todo.size:   # a block's two uniforms per pass: the same steps, half the passes
        first, second = src.uniform_pair(todo)
        prod = prod * first
        early = prod <= limit
        prod = prod * second
        late = ~early & (prod <= limit)
        out[todo[early]] = count[early]
        out[todo[late]] = count[late] + 1
        keep = ~(early | late)
        todo, prod, limit, count = todo[keep], prod[keep], limit[keep], count[keep] + 2


def _ptrs(xp, src, rate, todo, out):
    mu = rate[todo]
    b = 0.931 + 2.53 * xp.sqrt(mu)
    a = -0.059 + 0.02483 * b
    log_inv_alpha = xp.log(1.1239 + 1.1328 / (b - 3.4))
    vr = 0.9277 - 3.6224 / (b - 2.0)
    log_mu = xp.log(mu)
    while todo.size:
        u, v = src.uniform_pair(todo)
        u = u - 0.5
        us = 0.5 - xp.abs(u)
        k = xp.floor((2.0 * a / us + b) * u + mu + 0.43)
        quick = (us >= 0.07) & (v <= vr)
        refused = (k < 0) | ((us < 0.013) & (v > us))
        with np.errstate(divide="ignore", invalid="ignore"):
            exact = xp.log(v) + log_inv_alpha - xp.log(a / (us * us) + b) <= \
                -mu + k * log_mu - _log_factorial(xp, k)
        done = quick | (~refused & exact)
        out[todo[done]] = k[done]
        keep = ~done
        todo, mu, a, b = todo[keep], mu[keep], a[keep], b[keep]
        log_inv_alpha, vr, log_mu = log_inv_alpha[keep], vr[keep], log_mu[keep]


_LOG_FACTORIALS = np.cumsum(np.log(np.maximum(np.arange(10, dtype=np.float64), 1.0)))


def _log_factorial(xp, k):
    """``log(k!)`` of whole numbers ``k >= 0`` (float64): exact below 10, else
    Stirling's series (error below 1e-15)."""
    x = xp.maximum(k, 0.0) + 1.0
    small = xp.asarray(_LOG_FACTORIALS)[xp.minimum(x - 1.0, 9.0).astype(xp.int64)]
    big = xp.maximum(x, 10.0)
    inv = 1.0 / big
    inv2 = inv * inv
    series = inv * (1.0 / 12 - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260 - inv2 / 1680)))
    stirling = (big - 0.5) * xp.log(big) - big + 0.5 * np.log(2.0 * np.pi) + series
    return xp.where(x < 10.0, small, stirling)


def binomial_draw_size(arrays, attrs):
    """Outputs a ``StatefulRandomBinomial`` advances its Generator by: ``50 (s + 3)``
    for each of the ``b`` parameter pairs (``counts`` broadcast with ``probs``),
    ``s`` samples each (TF's advance; its samples themselves are not TF's here)."""
    pairs = philox.num_elements(np.broadcast_shapes(tuple(arrays[0].shape),
                                                    tuple(arrays[1].shape)))
    total = philox.num_elements(attrs["shape"])
    if not pairs or not total:
        return 0
    return 50 * pairs * (total // pairs + 3)


_BTRS_MEAN = 10.0   # n * min(p, 1 - p) from here on: BTRS, below: inversion
_INVERSION_STRIDE = 42   # blocks between the substreams of inversion draws


def binomial(bits, xp, counts, probs, *, shape, dtype):
    """Binomial(``counts``, ``probs``) samples of shape ``shape`` (``dtype``).

    Where the parameters' broadcast shape ends ``shape``, output ``[s, k]``
    reads substream ``k * samples + s`` (else the parameters are broadcast to
    ``shape``). With ``q = min(p, 1 - p)`` (a result ``n - X`` for ``p > 1/2``):
    ``n q < 10`` sums geometric waiting times ``ceil(log U / log(1 - q))`` until
    they pass ``n`` (substreams 42 blocks apart); larger means use Hoermann's
    BTRS (substreams 256 blocks apart). All in float64.
    """
    n_arr, p_arr = counts.astype(xp.float64), probs.astype(xp.float64)
    params = tuple(np.broadcast_shapes(tuple(n_arr.shape), tuple(p_arr.shape)))
    rank = len(params)
    if rank > len(shape) or tuple(shape[len(shape) - rank:]) != params:
        params = tuple(shape)
    k = philox.num_elements(params)
    samples = philox.num_elements(shape) // max(k, 1)
    size = samples * k
    n = xp.broadcast_to(xp.broadcast_to(n_arr, params).reshape(1, k), (samples, k))
    p = xp.broadcast_to(xp.broadcast_to(p_arr, params).reshape(1, k), (samples, k))
    n, p = n.reshape(-1), p.reshape(-1)
    out = xp.zeros(size, dtype=xp.float64)
    if size:
        pos = xp.arange(size, dtype=xp.int64)
        q = xp.minimum(p, 1.0 - p)
        live = (n > 0) & (p > 0) & (p < 1)
        btrs = live & (n * q >= _BTRS_MEAN)
        stride = xp.where(btrs, philox.SAMPLES_PER_OUTPUT, _INVERSION_STRIDE)
        src = _Streams(bits, (pos % k) * samples + pos // k, stride)
        _inversion(xp, src, n, q, pos[live & ~btrs], out)
        _btrs(xp, src, n, q, pos[btrs], out)
        out = xp.where(live & (p > 0.5), n - out, out)
        out = xp.where((p >= 1) & (n > 0), n, out)
    return out.astype(dtype).reshape(tuple(shape))


def _inversion(xp, src, n, q, todo, out):
    total = xp.zeros(todo.shape, dtype=xp.float64)
    count = xp.zeros(todo.shape, dtype=xp.float64)
    log_q = xp.log1p(-q[todo])
    limit = n[todo]
    while todo.size:   # a block's two uniforms per pass, as _knuth
        first, second = src.uniform_pair(todo)
        with np.errstate(divide="ignore"):
            total = total + xp.ceil(xp.log(first) / log_q)
            early = total > limit
            total = total + xp.ceil(xp.log(second) / log_q)
        late = ~early & (total > limit)
        out[todo[early]] = count[early]
        out[todo[late]] = count[late] + 1
        keep = ~(early | late)
        todo, total, count = todo[keep], total[keep], count[keep] + 2
        log_q, limit = log_q[keep], limit[keep]


def _btrs(xp, src, n, q, todo, out):
    n, p = n[todo], q[todo]
    spq = xp.sqrt(n * p * (1.0 - p))
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    vr = 0.92 - 4.2 / b
    log_alpha = xp.log((2.83 + 5.1 / b) * spq)
    m = xp.floor((n + 1.0) * p)
    log_odds = xp.log(p / (1.0 - p))
    log_fm = _log_factorial(xp, m) + _log_factorial(xp, n - m)
    while todo.size:
        u, v = src.uniform_pair(todo)
        u = u - 0.5
        us = 0.5 - xp.abs(u)
        k = xp.floor((2.0 * a / us + b) * u + c)
        quick = (us >= 0.07) & (v <= vr)
        inside = (k >= 0) & (k <= n)
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = log_fm - _log_factorial(xp, k) - _log_factorial(xp, n - k) + \
                (k - m) * log_odds
            exact = xp.log(v) + log_alpha - xp.log(a / (us * us) + b) <= bound
        done = quick | (inside & exact)
        out[todo[done]] = k[done]
        keep = ~done
        todo, n, p, b, a, c, vr = (v_[keep] for v_ in (todo, n, p, b, a, c, vr))
        log_alpha, m, log_odds, log_fm = (v_[keep] for v_ in (log_alpha, m, log_odds,
                                                              log_fm))


# ---------------------------------------------------------------- shuffle
def shuffle_draw_size(arrays, attrs):
    """A seeded ``RandomShuffle`` advances its stream by ``ceil((n - 1) / 4)``
    blocks (one word per swap), not 256 per output: in outputs, a fraction."""
    rows = int(arrays[0].shape[0]) if arrays[0].ndim else 0
    return Fraction(-(-max(rows - 1, 0) // 4), philox.SAMPLES_PER_OUTPUT)


def shuffle(bits, xp, value):
    """``value`` with its rows permuted as TF: a forward Fisher-Yates shuffle,
    step ``i`` swapping row ``i`` with row ``i + word_i % (n - i)`` (one 32-bit
    word per step, in order), computed without a sequential loop
    (:func:`_fisher_yates`)."""
    n = int(value.shape[0]) if value.ndim else 0
    if n < 2:
        return value.copy()
    words = philox.Bits(np, bits.key, bits.counter).words(n - 1)
    perm = _fisher_yates(np, words, n)
    return value[xp.asarray(perm)]


def _fisher_yates(xp, words, n):
    """The permutation of ``n`` rows the forward Fisher-Yates swaps ``(i, j_i)``,
    ``j_i = i + words[i] % (n - i)``, leave.

    Row ``k`` ends holding what position ``j_k`` held at step ``k``: the value the
    last earlier step with the same target put there (else ``j_k`` itself). A
    step ``m`` puts there what position ``m`` held at its own step: the value of
    the last earlier step targeting ``m``, and so on back to a position no step
    targeted before (its own index) - chains resolved by pointer jumping."""
    steps = n - 1
    i = xp.arange(steps, dtype=xp.int64)
    j = i + words.astype(xp.int64) % (n - i)
    key = xp.sort(j * n + i)   # unique keys: steps grouped by target, in step order
    order, js = key % n, key // n
    same = js[1:] == js[:-1]
    prev = xp.full(steps, -1, dtype=xp.int64)   # the last earlier step, same target
    prev[order[1:][same]] = order[:-1][same]
    # parent[k]: the last step m < k targeting k (j_m = k); k itself: a chain's end
    pos = xp.arange(n, dtype=xp.int64)
    last = xp.cumsum(xp.bincount(js, minlength=n)) - 1   # the last step with js <= k
    at = xp.maximum(last, 0)
    cand = order[at]
    hit = (last >= 0) & (js[at] == pos)
    cand = xp.where(hit & (cand == pos), prev[xp.minimum(cand, steps - 1)], cand)
    ptr = xp.where(hit & (cand >= 0), cand, pos)
    while True:
        nxt = ptr[ptr]
        if bool((nxt == ptr).all()):
            break
        ptr = nxt
    perm = xp.empty(n, dtype=xp.int64)
    perm[:steps] = xp.where(prev >= 0, ptr[xp.maximum(prev, 0)], j)
    perm[steps] = ptr[steps]
    return perm
