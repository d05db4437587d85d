"""Philox4x32-10 draws from a counter held in device memory (capturable on a GPU).

A stream's state is a ``uint32[6]`` device array: the 128-bit counter (words 0-3,
least significant first) and the 64-bit key (words 4-5). A draw reads the state on
the device and a second tiny kernel advances the counter by the blocks the draw
used, so neither reads anything on the host: a CUDA graph captures both, and each
replay reads the counter the previous replay left (GPU.md §1.5: no cuRAND, no host
sync inside a capture). Reseeding writes the state in place, so graphs that hold
its address follow the new seed.

The kernels compute exactly what ``dlframe.ops.philox`` computes on arrays (the
same rounds, block ``counter + j`` for output group ``j``, the same uniform
mantissa rules). Without a CUDA compiler (the fake CuPy of the tests) the xp-array
twin runs instead: ``kernels_usable`` says which. The CUDA source is (U) until run
on a GPU: tests/gpu/test_capturable_random_round22_A.py checks it bit for bit.
"""

import warnings

from dlframe.backends.base import np

_MASK32 = 0xFFFFFFFF
STATE_WORDS = 6

_PREAMBLE = r"""
__device__ __forceinline__ void dlf_philox_block(
    unsigned int s0, unsigned int s1, unsigned int s2, unsigned int s3,
    unsigned int k0, unsigned int k1, unsigned long long b, unsigned int w[4]) {
  // block ``counter + b`` (128-bit add with carry), then ten Philox4x32 rounds
  unsigned long long lo = ((unsigned long long)s1 << 32) | s0;
  unsigned long long hi = ((unsigned long long)s3 << 32) | s2;
  unsigned long long nlo = lo + b;
  hi += (nlo < lo) ? 1ull : 0ull;
  unsigned int c0 = (unsigned int)nlo, c1 = (unsigned int)(nlo >> 32);
  unsigned int c2 = (unsigned int)hi, c3 = (unsigned int)(hi >> 32);
  #pragma unroll
  for (int r = 0; r < 10; ++r) {
    unsigned int lo0 = 0xD2511F53u * c0, hi0 = __umulhi(0xD2511F53u, c0);
    unsigned int lo1 = 0xCD9E8D57u * c2, hi1 = __umulhi(0xCD9E8D57u, c2);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  w[0] = c0; w[1] = c1; w[2] = c2; w[3] = c3;
}
"""

# each thread ``i`` computes block ``counter + i`` and writes its outputs
_BLOCK = ("unsigned int w[4];\n"
          "dlf_philox_block(st[0], st[1], st[2], st[3], st[4], st[5], "
          "(unsigned long long)i, w);\n")
# per output of a block: the [0, 1) value ``u`` of the generating precision
_UNIFORM = {
    # float32: low 23 bits of a word (four outputs per block); the product is exact
    23: ("float", 4, "(float)(w[j] & 0x7FFFFFu) * 1.1920928955078125e-07f"),
    # float16: low 10 bits of a word
    10: ("float", 4, "(float)(w[j] & 0x3FFu) * 0.0009765625f"),
    # float64: 20 bits of word 2j and all of word 2j + 1 (two outputs per block)
    52: ("double", 2, "(double)((((unsigned long long)(w[2 * j] & 0xFFFFFu)) << 32)"
                      " | w[2 * j + 1]) * 2.220446049250313e-16"),
    # the raw words (uint32 output; normals build on them)
    32: ("unsigned int", 4, "w[j]"),
}
_WRITE = {"uniform": "y[idx] = (T)(u);",
          "mask": "y[idx] = (u >= (G)rate) ? (T)((G)scale) : (T)((G)0);"}
_ADVANCE = r"""
unsigned long long lo = ((unsigned long long)st[1] << 32) | st[0];
unsigned long long hi = ((unsigned long long)st[3] << 32) | st[2];
unsigned long long nlo = lo + delta;
hi += (nlo < lo) ? 1ull : 0ull;
st[0] = (unsigned int)nlo;
st[1] = (unsigned int)(nlo >> 32);
st[2] = (unsigned int)hi;
st[3] = (unsigned int)(hi >> 32);
"""

_DRAW_PARAMS = "raw uint32 st, uint64 total, float64 rate, float64 scale"
_kernels = {}
_usable = {}


def state_words(key, counter):
    """The host ``uint32[6]`` state of ``key`` ``(k0, k1)`` and a 128-bit counter."""
    counter = int(counter)
    words = [(counter >> (32 * i)) & _MASK32 for i in range(4)]
    words += [int(key[0]) & _MASK32, int(key[1]) & _MASK32]
    return np.asarray(words, dtype=np.uint32)


def seed_state_words(seed):
    """The state of a device's stream seeded with the int ``seed`` (None: a random
    key): the key is the seed's two low words, the counter starts at 0."""
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 1 << 63))
    seed = int(seed) & ((1 << 64) - 1)
    return state_words((seed & _MASK32, seed >> 32), 0)


def draw_source(bits, write):
    """The CUDA C operation of a draw kernel over blocks ``i``.

    ``bits`` picks the uniform rule (23: float32, 10: float16, 52: float64; 32: raw
    words), ``write`` "uniform" or "mask"; the params are ``_DRAW_PARAMS`` and
    ``raw T y`` (CuPy reserves the names ``n``, ``i`` and ``_*``).
    """
    gen, per_block, expr = _UNIFORM[bits]
    return (_BLOCK + f"typedef {gen} G;\n"
            f"for (int j = 0; j < {per_block}; ++j) {{\n"
            f"  ptrdiff_t idx = (ptrdiff_t)i * {per_block} + j;\n"
            "  if (idx >= (ptrdiff_t)total) break;\n"
            f"  G u = {expr};\n  {_WRITE[write]}\n}}\n")


def _kernel(cp, key):
    k = _kernels.get(key)
    if k is not None:
        return k
    if key == "advance":
        k = cp.ElementwiseKernel("uint64 delta", "raw uint32 st", _ADVANCE,
                                 "dlframe_philox_advance")
    else:
        bits, write = key
        k = cp.ElementwiseKernel(_DRAW_PARAMS, "raw T y", draw_source(bits, write),
                                 f"dlframe_philox_{write}{bits}", preamble=_PREAMBLE)
    _kernels[key] = k
    return k


def kernels_usable(cp):
    """Whether ``cp`` compiles ``ElementwiseKernel``s (False on the fake CuPy, and
    after a failed compile: warned once, the xp-array twin runs from then on)."""
    ok = _usable.get(id(cp))
    if ok is None:
        try:
            _kernel(cp, "advance")
            ok = True
        except NotImplementedError:
            ok = False
        _usable[id(cp)] = ok
    return ok


def _bits_of(out_dtype, gen_dtype):
    gen = np.dtype(gen_dtype)
    if gen == np.float64:
        return 52
    if gen == np.float32:
        return 23
    if gen == np.float16 and np.dtype(out_dtype) == np.float16:
        return 10
    return None


def draw(cp, state, n, out_dtype, gen_dtype=None, rate=None, scale=None):
    """``n`` outputs of one Philox kernel over the stream ``state`` (flat, or None
    when the kernel does not cover the dtypes: the caller runs the twin).

    Args:
      cp: the CuPy module.
      state: the stream's ``uint32[6]`` device array (read on the device).
      n: the number of outputs.
      out_dtype: the output dtype (float16, float32 or float64).
      gen_dtype: the uniform's dtype (its mantissa rule; default ``out_dtype``).
      rate, scale: a dropout mask instead of uniforms: ``scale`` where the uniform
        is ``>= rate`` (``rate`` rounded to ``gen_dtype``), else 0.

    Returns:
      The outputs and the number of Philox blocks they used.
    """
    out_dtype = np.dtype(out_dtype)
    gen_dtype = out_dtype if gen_dtype is None else np.dtype(gen_dtype)
    bits = _bits_of(out_dtype, gen_dtype)
    if bits is None or out_dtype not in (np.float16, np.float32, np.float64) or \
            not kernels_usable(cp):
        return None
    masked = rate is not None
    per_block = _UNIFORM[bits][1]
    nblocks = -(-int(n) // per_block)
    out = cp.empty(int(n), dtype=out_dtype)
    if nblocks and not _launch(cp, (bits, "mask" if masked else "uniform"), state, n,
                               float(gen_dtype.type(rate)) if masked else 0.0,
                               float(scale) if masked else 0.0, out, nblocks):
        return None
    return out, nblocks


def _launch(cp, key, state, n, rate, scale, out, nblocks):
    """Runs draw kernel ``key`` over ``nblocks`` blocks into ``out``; False after a
    failure to compile (warned once: the xp-array twin runs from then on)."""
    try:
        _kernel(cp, key)(state, np.uint64(n), rate, scale, out, size=nblocks)
    except Exception as exc:  # noqa: BLE001 - a compile error: the twin instead
        if isinstance(exc, (MemoryError, KeyboardInterrupt)):
            raise
        warnings.warn(f"dlframe's Philox CUDA kernel failed ({exc}); using the "
                      "array version of the draw.")
        _usable[id(cp)] = False
        return False
    return True


def words(cp, state, n):
    """The first ``n`` words of the blocks from the counter of ``state`` on
    (``uint32[n]``) and the blocks used, or None where kernels do not compile."""
    if not kernels_usable(cp):
        return None
    nblocks = -(-int(n) // 4)
    out = cp.empty(int(n), dtype=np.uint32)
    if nblocks and not _launch(cp, (32, "uniform"), state, n, 0.0, 0.0, out, nblocks):
        return None
    return out, nblocks


def advance(xp, state, delta):
    """Adds ``delta`` blocks to the counter of ``state`` in place, on the device
    (a kernel on CuPy; in-place array ops where kernels do not compile)."""
    delta = int(delta)
    if not delta:
        return
    if xp is not np and kernels_usable(xp):
        _kernel(xp, "advance")(np.uint64(delta), state, size=1)
        return
    w = state[:4].astype(xp.uint64)
    lo = w[0:1] | (w[1:2] << np.uint64(32))
    hi = w[2:3] | (w[3:4] << np.uint64(32))
    nlo = lo + np.uint64(delta)
    hi = hi + (nlo < lo).astype(xp.uint64)
    low32 = np.uint64(_MASK32)
    state[0:1] = (nlo & low32).astype(xp.uint32)
    state[1:2] = (nlo >> np.uint64(32)).astype(xp.uint32)
    state[2:3] = (hi & low32).astype(xp.uint32)
    state[3:4] = (hi >> np.uint64(32)).astype(xp.uint32)
