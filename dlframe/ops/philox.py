"""Philox4x32-10 counter-based random bits and TensorFlow's distributions on them.

TensorFlow's CPU random kernels draw from Philox4x32-10 (Salmon et al., "Parallel
random numbers: as easy as 1, 2, 3", SC'11): a 64-bit key and a 128-bit counter
give one block of four 32-bit words, and a kernel's output element ``j`` reads the
words of block ``counter + j // per_block``. Writing the same block-to-output rules
here makes seeded draws give TensorFlow's numbers:

- uniform floats keep the low mantissa bits of one word (two for float64),
  ``1.mantissa - 1`` in ``[0, 1)``;
- normals are Box-Muller on consecutive word pairs (float64: word quadruples);
- truncated normals reject ``|z| >= 2``, each group of outputs reading its own
  stretch of 256 blocks (128 for float64) one word at a time;
- integers take ``lo + bits % (hi - lo)``.

Uniform and integer draws equal TF's bit for bit. Normal draws may differ from
TF's by one ulp in about 1.5% of elements: TF's Box-Muller calls glibc's logf,
sinf and cosf, which are not correctly rounded (their results even depend on the
glibc version); here those run in float64 and round once to float32.

Everything is array arithmetic on ``xp`` (NumPy or CuPy): 32-bit words are held
in uint32 arrays and multiplied into uint64, so the same code runs on both.
"""

import math as _pymath

from dlframe.backends import philox_cuda
from dlframe.backends.base import np

_M0, _M1 = 0xD2511F53, 0xCD9E8D57     # round multipliers
_W0, _W1 = 0x9E3779B9, 0xBB67AE85     # key schedule (golden ratio, sqrt(3) - 1)
_MASK32 = 0xFFFFFFFF
_MASK64 = (1 << 64) - 1
_MASK128 = (1 << 128) - 1
SAMPLES_PER_OUTPUT = 256   # counter blocks TF reserves per output element
_STATELESS_KEY = (0x3EC8F720, 0x02461E29)
_TRUNCATE = 2.0
_CPU_CHUNK = 1 << 14    # blocks per NumPy pass (fits in L2)
_INT_BLOCKS = 6         # up to this many blocks: Philox on Python ints (~5 us each)
_BM_EPS = 1.0e-7


# ---------------------------------------------------------------- the bijection
def _mulhilo(xp, mult, x):
    """``(lo, hi)`` 32-bit halves of ``mult * x`` (``x`` a uint32 array or int)."""
    if isinstance(x, int):
        p = mult * x
        return p & _MASK32, p >> 32
    # the uint64 product seen as uint32 pairs: (lo, hi) on little-endian hosts/GPUs
    p = xp.multiply(x, np.uint64(mult), dtype=xp.uint64).view(xp.uint32)
    return p[0::2], p[1::2]


def _rounds(xp, words, key):
    """Ten Philox rounds on four words (1-D uint32 arrays or Python ints)."""
    c0, c1, c2, c3 = words
    k0, k1 = key
    for r in range(10):
        lo0, hi0 = _mulhilo(xp, _M0, c0)
        lo1, hi1 = _mulhilo(xp, _M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
        if r < 9:
            k0, k1 = (k0 + _W0) & _MASK32, (k1 + _W1) & _MASK32
    return c0, c1, c2, c3


_LOW32, _SHIFT32 = np.uint64(_MASK32), np.uint64(32)
_PAIR_MULTS = {}   # blocks -> uint64 [2, blocks] multipliers [M0; M1] and [M1; M0]


def _pair_mults(n):
    mults = _PAIR_MULTS.get(n)
    if mults is None:
        if len(_PAIR_MULTS) >= 32:
            _PAIR_MULTS.clear()
        straight = np.empty((2, n), dtype=np.uint64)
        straight[0], straight[1] = _M0, _M1
        mults = _PAIR_MULTS[n] = (straight, straight[::-1].copy())
    return mults


def _rounds_host(even, odd, key):
    """``_rounds`` on NumPy, in place: ``even`` holds words ``[c0; c2]`` and ``odd``
    ``[c1; c3]`` (uint64 ``[2, n]`` arrays of 32-bit values; Python-int key).

    Both multiplies of a round are one uint64 product of ``even`` by its rows'
    multipliers; then ``even = hi ^ odd[::-1] ^ key`` and ``odd = lo``. That leaves
    both arrays with their rows swapped (``[c2; c0]``, ``[c3; c1]``), which the
    next round reads with swapped multipliers and key words and swaps back: ten
    rounds end in the starting layout, each six array operations on whole rows
    (two of them XOR one key word into one row).
    """
    mults = _pair_mults(even.shape[1])
    prod = np.empty_like(even)
    row0, row1 = even[0], even[1]
    k0, k1 = key
    for r in range(10):
        swapped = r & 1
        np.multiply(even, mults[swapped], out=prod)
        np.right_shift(prod, _SHIFT32, out=even)
        even ^= odd[::-1]
        # straight rows: [hi0 ^ c3; hi1 ^ c1] = [c2'; c0'] - swapped the reverse
        row0 ^= np.uint64(k0 if swapped else k1)
        row1 ^= np.uint64(k1 if swapped else k0)
        np.bitwise_and(prod, _LOW32, out=odd)
        k0, k1 = (k0 + _W0) & _MASK32, (k1 + _W1) & _MASK32
    return even, odd


def philox_block(key, counter):
    """One Philox4x32-10 block on the host: four Python ints.

    Args:
      key: ``(k0, k1)`` 32-bit words.
      counter: the 128-bit counter as one Python int.
    """
    c0, c1, c2, c3 = ((counter >> (32 * i)) & _MASK32 for i in range(4))
    k0, k1 = key[0] & _MASK32, key[1] & _MASK32
    for _ in range(10):   # _rounds on Python ints (the key's last step is unused)
        p0, p1 = _M0 * c0, _M1 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & _MASK32, (p0 >> 32) ^ c3 ^ k1, \
            p0 & _MASK32
        k0, k1 = (k0 + _W0) & _MASK32, (k1 + _W1) & _MASK32
    return c0, c1, c2, c3


def add_counter(counter, delta):
    """``counter + delta`` modulo 2**128 (Philox's ``Skip``)."""
    return (int(counter) + int(delta)) & _MASK128


def stateless_key_counter(seed0, seed1):
    """TF's key and counter of a stateless op seeded with the two ints ``seed``.

    The seed words (sign-extended to 64 bits) form a counter that one block under
    a fixed key scrambles; its first two words become the key, the last two the
    high half of the counter (as ``StatelessRandomGetKeyCounter``).
    """
    counter = (int(seed0) & _MASK64) | ((int(seed1) & _MASK64) << 64)
    mix = philox_block(_STATELESS_KEY, counter)
    return (mix[0], mix[1]), (mix[2] << 64) | (mix[3] << 96)


def stateless_device_state(xp, seed):
    """``stateless_key_counter`` of a seed held on a device, computed there: the
    ``uint32[6]`` state of :class:`DeviceBits` (counter words 0-3, key words 4-5)
    for the int32/int64 ``[2]`` array ``seed``, without reading it back."""
    wide = seed.reshape(-1).astype(xp.int64).view(xp.uint64)   # sign-extended
    low, shift = np.uint64(_MASK32), np.uint64(32)
    words = []
    for i in range(2):
        part = wide[i:i + 1]
        words += [(part & low).astype(xp.uint32), (part >> shift).astype(xp.uint32)]
    # filled on the device: a host-to-device copy would stop a CUDA-graph capture
    key = tuple(xp.full(1, k, dtype=xp.uint32) for k in _STATELESS_KEY)
    mix = _rounds(xp, tuple(words), key)   # as DeviceBits' keys
    zero = xp.zeros(1, dtype=xp.uint32)
    return xp.concatenate([zero, zero, mix[2], mix[3], mix[0], mix[1]])


def seed_key_counter(seed, seed2):
    """Key and counter of a stateful kernel seeded ``(seed, seed2)`` (TF's
    ``PhiloxRandom(seed_lo, seed_hi)``: the key is ``seed``, ``seed2`` the high
    half of the counter)."""
    seed, seed2 = int(seed) & _MASK64, int(seed2) & _MASK64
    return (seed & _MASK32, seed >> 32), seed2 << 64


class Bits:
    """The random words of one kernel call: a key and a starting counter.

    Args:
      xp: the array module the words are made on.
      key: ``(k0, k1)`` 32-bit words.
      counter: the 128-bit starting counter (Python int).
      rng: the generator ``numpy_rng`` returns (default: one keyed by the bits).
    """

    __slots__ = ("_rng", "counter", "key", "xp")

    def __init__(self, xp, key, counter, rng=None):
        self.xp = xp
        self.key = (int(key[0]) & _MASK32, int(key[1]) & _MASK32)
        self.counter = int(counter) & _MASK128
        self._rng = rng

    def blocks(self, offsets):
        """Blocks at ``counter + offsets`` (a uint64 array): a ``[..., 4]`` uint32
        array."""
        xp = self.xp
        flat = offsets.reshape(-1)
        out = xp.empty((flat.size, 4), dtype=xp.uint32)
        # NumPy: chunks that stay in cache; a GPU takes the whole array at once
        step = _CPU_CHUNK if xp is np else max(flat.size, 1)
        for start in range(0, flat.size, step):
            part = out[start:start + step]
            if xp is np:   # [b, i, j] is word 2 i + j of block b
                words = self.host_words(flat[start:start + step])
                grid = part.reshape(-1, 2, 2)
                for j in range(2):
                    for i in range(2):
                        grid[:, i, j] = words[j, i]
                continue
            for i, w in enumerate(self._block_words(flat[start:start + step])):
                part[:, i] = w
        return out.reshape(tuple(offsets.shape) + (4,))

    def host_words(self, offsets, top=None):
        """NumPy blocks at ``counter + offsets`` (a 1-D uint64 array ``[n]``; ``top``:
        its maximum when known): a uint64 ``[2, 2, n]`` array, ``[j, i, b]`` word
        ``2 i + j`` of block ``b``."""
        n = offsets.shape[0]
        if n <= _INT_BLOCKS:   # a few blocks: Python ints beat NumPy's per-op cost
            return self._int_words(offsets)
        lo_base, hi_base = self.counter & _MASK64, self.counter >> 64
        words = np.empty((2, 2, n), dtype=np.uint64)
        even, odd = words[0], words[1]    # [w0; w2], [w1; w3]
        lo = offsets + np.uint64(lo_base)
        np.bitwise_and(lo, _LOW32, out=even[0])
        np.right_shift(lo, _SHIFT32, out=odd[0])
        if top is None:
            top = int(offsets.max()) if n else 0
        if lo_base + top <= _MASK64:
            even[1], odd[1] = hi_base & _MASK32, hi_base >> 32   # no carry
        else:
            hi = (lo < offsets).astype(np.uint64) + np.uint64(hi_base)
            np.bitwise_and(hi, _LOW32, out=even[1])
            np.right_shift(hi, _SHIFT32, out=odd[1])
        _rounds_host(even, odd, self.key)
        return words

    def _int_words(self, offsets):
        """``host_words`` one block at a time on Python ints (``philox_block``)."""
        words = np.empty((2, 2, offsets.shape[0]), dtype=np.uint64)
        for b, off in enumerate(offsets.tolist()):
            w0, w1, w2, w3 = philox_block(self.key, (self.counter + off) & _MASK128)
            words[0, :, b] = w0, w2
            words[1, :, b] = w1, w3
        return words

    def _block_words(self, offsets):
        xp = self.xp
        lo_base, hi_base = self.counter & _MASK64, self.counter >> 64
        lo = offsets + np.uint64(lo_base)
        if lo_base + (int(offsets.max()) if offsets.size else 0) <= _MASK64:
            hi0, hi1 = hi_base & _MASK32, hi_base >> 32  # no carry: scalar high words
        else:
            hi = (lo < offsets).astype(xp.uint64) + np.uint64(hi_base)
            hi0 = (hi & np.uint64(_MASK32)).astype(xp.uint32)
            hi1 = (hi >> np.uint64(32)).astype(xp.uint32)
        words = ((lo & np.uint64(_MASK32)).astype(xp.uint32),
                 (lo >> np.uint64(32)).astype(xp.uint32), hi0, hi1)
        return _rounds(xp, words, self.key)

    def words(self, n):
        """The first ``n`` words of consecutive blocks, flat (uint32 ``[n]``)."""
        xp = self.xp
        nblocks = -(-int(n) // 4)
        return self.blocks(xp.arange(nblocks, dtype=xp.uint64)).reshape(-1)[:n]

    def numpy_rng(self):
        """A device ``default_rng`` keyed by this key and counter, for samplers TF
        equality is not promised for (categorical, gamma, ...); the ``rng`` given
        at construction if any."""
        if self._rng is not None:
            return self._rng
        seq = np.random.SeedSequence([*self.key, self.counter & _MASK64,
                                      self.counter >> 64])
        return self.xp.random.default_rng(int(seq.generate_state(1, np.uint64)[0]))


class DeviceBits:
    """The random words of one draw from a stream whose state lives on a device.

    The state is a ``uint32[6]`` device array (``backends.philox_cuda``: counter
    words 0-3, key words 4-5), read on the device only: a CUDA graph can capture
    the draw, and its replays read the counter each replay advances. A draw's
    blocks are ``counter + offsets`` as in :class:`Bits`; :meth:`commit` then
    advances the counter by ``advance`` blocks (a seeded stream's fixed room) or,
    when that is None, by the blocks the draw used.

    Args:
      xp: the device's array module.
      state: the stream's ``uint32[6]`` array.
      advance: blocks to advance by (None: the blocks used).
    """

    __slots__ = ("advance", "state", "used", "xp")

    def __init__(self, xp, state, advance=None):
        self.xp = xp
        self.state = state
        self.advance = advance
        self.used = 0

    def blocks(self, offsets):
        """Blocks at ``counter + offsets`` (a uint64 array): ``[..., 4]`` uint32."""
        xp = self.xp
        out = xp.empty(tuple(offsets.shape) + (4,), dtype=xp.uint32)
        for i, w in enumerate(self._block_words(offsets)):
            out[..., i] = w
        return out

    def _block_words(self, offsets):
        xp, st = self.xp, self.state
        wide = st[:4].astype(xp.uint64)
        lo = offsets + (wide[0:1] | (wide[1:2] << np.uint64(32)))
        carry = (lo < offsets).astype(xp.uint64)
        hi = (wide[2:3] | (wide[3:4] << np.uint64(32))) + carry
        low = np.uint64(_MASK32)
        words = ((lo & low).astype(xp.uint32), (lo >> np.uint64(32)).astype(xp.uint32),
                 (hi & low).astype(xp.uint32), (hi >> np.uint64(32)).astype(xp.uint32))
        return _rounds(xp, words, (st[4:5], st[5:6]))

    def words(self, n):
        """The first ``n`` words of consecutive blocks, flat (uint32 ``[n]``)."""
        xp = self.xp
        nblocks = -(-int(n) // 4)
        self.used = max(self.used, nblocks)
        res = philox_cuda.words(xp, self.state, n) if xp is not np else None
        if res is not None:   # one kernel (normals take their words here)
            return res[0]
        if not nblocks:
            return xp.empty(0, dtype=xp.uint32)
        return self.blocks(xp.arange(nblocks, dtype=xp.uint64)).reshape(-1)[:n]

    def kernel_draw(self, n, dtype, gen_dtype=None, rate=None, scale=None):
        """Uniforms (or a dropout mask) from the device's fused Philox kernel, flat;
        None where no kernel runs (``philox_cuda.draw``)."""
        if self.xp is np:
            return None
        res = philox_cuda.draw(self.xp, self.state, n, dtype, gen_dtype, rate, scale)
        if res is None:
            return None
        out, nblocks = res
        self.used = max(self.used, nblocks)
        return out

    def commit(self):
        """Advances the device counter past this draw (in place, on the device)."""
        philox_cuda.advance(self.xp, self.state,
                            self.used if self.advance is None else self.advance)

    def numpy_rng(self):
        raise NotImplementedError("a device Philox stream draws only Philox samplers")


# ---------------------------------------------------------------- bits to values
def num_elements(shape):
    """The number of elements of ``shape``."""
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _is64(dtype):
    return np.dtype(dtype).itemsize == 8


def _unit32(xp, x):
    """``[0, 1)`` float32 from the low 23 bits of each word."""
    return (x & np.uint32(0x7FFFFF)).astype(xp.float32) * np.float32(2.0 ** -23)


def _unit64(xp, hi, lo):
    """``[0, 1)`` float64 from 20 bits of ``hi`` and all of ``lo``."""
    man = ((hi & np.uint32(0xFFFFF)).astype(xp.uint64) << np.uint64(32)) | lo
    return man.astype(xp.float64) * (2.0 ** -52)


def uniform(bits, shape, dtype):
    """``[0, 1)`` floats of ``dtype`` (float16, bfloat16, float32 or float64)."""
    xp, n, dtype = bits.xp, num_elements(shape), np.dtype(dtype)
    fast = bits.kernel_draw(n, dtype) if isinstance(bits, DeviceBits) else None
    if fast is not None:
        return fast.reshape(shape)
    if _is64(dtype):
        w = bits.words(2 * n)
        out = _unit64(xp, w[0::2], w[1::2])
    elif dtype.itemsize == 2:
        frac = 10 if dtype == np.float16 else 7   # mantissa bits of half / bfloat16
        w = bits.words(n) & np.uint32((1 << frac) - 1)
        out = w.astype(xp.float32) * np.float32(2.0 ** -frac)
    else:
        out = _unit32(xp, bits.words(n))
    return out.astype(dtype, copy=False).reshape(shape)


def dropout_mask(bits, shape, dtype, rate):
    """TF's dropout keep mask on Philox uniforms: ``1 / (1 - rate)`` (in ``dtype``)
    where a uniform (float32; float64 for float64) is ``>= rate``, else 0."""
    dtype = np.dtype(dtype)
    one = dtype.type(1)   # NumPy scalars: a 0-d host array is no CuPy operand
    return keep_mask(bits, shape, dtype, rate, one / (one - dtype.type(rate)),
                     compare_dtype=np.float64 if _is64(dtype) else np.float32)


def _fraction_bits(dtype):
    """Mantissa bits of ``uniform``'s one-word rule for ``dtype``, where its
    uniforms are exact (None: float64, 8-bit floats)."""
    if dtype.itemsize == 2:
        return 10 if dtype == np.float16 else 7
    return 23 if dtype.itemsize == 4 else None


def _keep_words(bits, n, frac, threshold, dtype):
    """``uniform(bits, [n], dtype) >= rate`` as 0/1 of ``dtype`` for a host
    ``Bits``, from the words' low ``frac`` bits and the integer ``threshold``
    (``keep_mask``)."""
    nblocks = -(-n // 4)
    keep = np.empty((nblocks, 2, 2), dtype=bool)    # [b, i, j]: word 2 i + j
    low, k = np.uint64((1 << frac) - 1), np.uint64(threshold)
    for start in range(0, nblocks, _CPU_CHUNK):
        stop = min(nblocks, start + _CPU_CHUNK)
        words = bits.host_words(np.arange(start, stop, dtype=np.uint64), stop - 1)
        words &= low                                 # [j, i, b]
        part = keep[start:stop]
        for j in range(2):
            for i in range(2):
                np.greater_equal(words[j, i], k, out=part[:, i, j])
    return keep.reshape(-1)[:n].astype(dtype)


def keep_mask(bits, shape, dtype, rate, scale=None, compare_dtype=None):
    """Keras 3's dropout keep mask (TF's ``stateless_dropout``): 1 where a uniform
    of ``dtype`` is ``>= rate`` (rounded to ``dtype``), else 0, times ``scale``
    (rounded to ``dtype``) when given. ``compare_dtype`` (default ``dtype``): the
    dtype of the uniforms and of the rate they are compared with (``dropout_mask``
    compares float32 uniforms for half-precision masks).

    On the host the uniforms are not built. ``uniform`` makes a word's uniform as
    ``u = m * 2**-f`` with ``m`` its low ``f`` bits (23: float32, 10: float16, 7:
    bfloat16); ``m < 2**24`` converts to float32 exactly and the power-of-two
    scaling is exact, as is the cast to ``dtype`` (``m`` has at most ``f``
    significant bits), so ``u`` is the real number ``m / 2**f``. For the rounded
    rate ``r`` (a binary float, so ``r * 2**f`` is exact in float64):
    ``u >= r  <=>  m >= r * 2**f  <=>  m >= ceil(r * 2**f)`` since ``m`` is an
    integer. The comparison on the words is the float comparison, exactly.
    """
    xp, n, dtype = bits.xp, num_elements(shape), np.dtype(dtype)
    cmp = dtype if compare_dtype is None else np.dtype(compare_dtype)
    rate_c = cmp.type(rate)
    scale_d = dtype.type(1 if scale is None else scale)
    if isinstance(bits, DeviceBits):
        fast = bits.kernel_draw(n, dtype, cmp, float(rate), scale_d)
        if fast is not None:
            return fast.reshape(shape)
    frac = _fraction_bits(cmp)
    if xp is np and isinstance(bits, Bits) and frac is not None:
        mask = _keep_words(bits, n, frac, _pymath.ceil(float(rate_c) * 2.0 ** frac),
                           dtype).reshape(shape)
    else:
        mask = (uniform(bits, shape, cmp) >= rate_c).astype(dtype)
    if scale is not None:
        mask *= scale_d
    return mask


def _box_muller32(xp, x0, x1):
    """TF's float Box-Muller on word pairs: ``(r sin t, r cos t)``, float32.

    The transcendental functions run in float64 and round once to float32, which
    is what a correctly rounded libm float function returns.
    """
    u1 = xp.maximum(_unit32(xp, x0), np.float32(_BM_EPS))
    theta = (2.0 * np.pi * _unit32(xp, x1).astype(xp.float64)).astype(xp.float32)
    log = xp.log(u1.astype(xp.float64)).astype(xp.float32)
    radius = xp.sqrt(np.float32(-2.0) * log)
    t64 = theta.astype(xp.float64)
    return (xp.sin(t64).astype(xp.float32) * radius,
            xp.cos(t64).astype(xp.float32) * radius)


def _box_muller64(xp, x0, x1, x2, x3):
    """TF's double Box-Muller on word quadruples."""
    u1 = xp.maximum(_unit64(xp, x0, x1), _BM_EPS)
    theta = 2.0 * np.pi * _unit64(xp, x2, x3)
    radius = xp.sqrt(-2.0 * xp.log(u1))
    return xp.sin(theta) * radius, xp.cos(theta) * radius


def _interleave(xp, a, b):
    out = xp.empty(tuple(a.shape[:-1]) + (2 * a.shape[-1],), dtype=a.dtype)
    out[..., 0::2] = a
    out[..., 1::2] = b
    return out


def normal(bits, shape, dtype):
    """Standard normal floats of ``dtype`` (Box-Muller, as TF)."""
    xp, n, dtype = bits.xp, num_elements(shape), np.dtype(dtype)
    if _is64(dtype):
        w = bits.words(4 * (-(-n // 2))).reshape(-1, 4)
        z = _box_muller64(xp, w[:, 0], w[:, 1], w[:, 2], w[:, 3])
    else:
        w = bits.words(2 * (-(-n // 2))).reshape(-1, 2)
        z = _box_muller32(xp, w[:, 0], w[:, 1])
    return _interleave(xp, *z)[:n].astype(dtype, copy=False).reshape(shape)


def _truncated_candidates(bits, groups, first, depth, wide):
    """Box-Muller candidates of output ``groups`` from their blocks ``first`` ..
    ``first + depth - 1``, in the order TF's one-word-at-a-time reader visits
    them."""
    xp = bits.xp
    stride = SAMPLES_PER_OUTPUT // (2 if wide else 1)
    offsets = (groups.astype(xp.uint64)[:, None] * np.uint64(stride)
               + xp.arange(first, first + depth, dtype=xp.uint64)[None, :])
    w = bits.blocks(offsets)                                # [g, depth, 4]
    if wide:
        z = _box_muller64(xp, w[..., 0], w[..., 1], w[..., 2], w[..., 3])
    else:
        w = w.reshape(len(groups), -1, 2)
        z = _box_muller32(xp, w[..., 0], w[..., 1])
    return _interleave(xp, *z)


def _first_accepted(xp, cand, per_group):
    """Rows' first ``per_group`` candidates with ``|z| < 2``, and which rows had
    enough."""
    ok = xp.abs(cand) < _TRUNCATE
    rank = xp.cumsum(ok, axis=1, dtype=xp.int32)
    full = rank[:, -1] >= per_group
    take = ok & (rank <= per_group) & full[:, None]
    return cand[take].reshape(-1, per_group), full


def truncated_normal(bits, shape, dtype):
    """Standard normals redrawn beyond two standard deviations, as TF's
    ``TruncatedNormalDistribution`` (groups of 4 outputs, 2 for float64; group
    ``g`` reads its words from block ``256 g``, ``128 g`` for float64)."""
    xp, n, dtype = bits.xp, num_elements(shape), np.dtype(dtype)
    wide = _is64(dtype)
    per_group = 2 if wide else 4
    ngroups = -(-n // per_group)
    out = xp.empty((ngroups, per_group), dtype=xp.float64 if wide else xp.float32)
    todo = xp.arange(ngroups, dtype=xp.int64)
    # one block first (4 candidates: 2 for float64); the ~17% of groups short of
    # accepted values read on, keeping what they have
    cand = _truncated_candidates(bits, todo, 0, 1, wide)
    used, depth = 1, 2
    while True:
        vals, full = _first_accepted(xp, cand, per_group)
        out[todo[full]] = vals
        todo, cand = todo[~full], cand[~full]
        if not todo.size:
            break
        more = _truncated_candidates(bits, todo, used, depth, wide)
        cand = xp.concatenate([cand, more], axis=1)
        used, depth = used + depth, depth * 2
    return out.reshape(-1)[:n].astype(dtype, copy=False).reshape(shape)


def _bits64(w):
    """uint64 values from (low, high) word pairs."""
    return w[0::2].astype(np.uint64) | (w[1::2].astype(np.uint64) << np.uint64(32))


def uniform_int(bits, shape, dtype, minval, maxval):
    """Integers in ``[minval, maxval)``: ``minval + bits % (maxval - minval)``."""
    n, dtype = num_elements(shape), np.dtype(dtype)
    if _is64(dtype):
        span = np.uint64((int(maxval) - int(minval)) & _MASK64)
        raw = _bits64(bits.words(2 * n)) % span + np.uint64(int(minval) & _MASK64)
    else:
        span = np.uint32((int(maxval) - int(minval)) & _MASK32)
        raw = bits.words(n) % span + np.uint32(int(minval) & _MASK32)
    return raw.astype(dtype).reshape(shape)


def full_int(bits, shape, dtype):
    """Integers over the whole range of ``dtype`` (raw words; 64-bit: low word
    first)."""
    n, dtype = num_elements(shape), np.dtype(dtype)
    raw = _bits64(bits.words(2 * n)) if _is64(dtype) else bits.words(n)
    return raw.astype(dtype).reshape(shape)
