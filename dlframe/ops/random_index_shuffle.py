"""``tf.random.experimental.index_shuffle``: a seeded bijection of ``[0, max_index]``.

TF maps each index through a keyed block cipher so a data pipeline can visit every
element once in a random order without materialising the permutation. Observed
behaviour (matched here number for number):

- the block is ``W = max(16, ceil(log2(max_index)))`` bits rounded up to even
  (``log2`` of ``max_index`` as a float64, so a power-of-two ``max_index`` gets
  one bit too few and ``index == max_index`` aliases index 0, as in TF), and the
  index is read modulo ``2**W``;
- the cipher is a four-round Feistel network on ``W/2``-bit halves (high half
  left) with the SIMON round function ``(x <<< 1 & x <<< 8) ^ x <<< 2`` (Beaulieu
  et al., 2013) plus a round key;
- the round keys are the three words ``(0x1DB2A80C, seed[0], seed[1])`` cut to
  ``W/2`` bits, and a fourth from SIMON's three-word key schedule;
- values above ``max_index`` are re-encrypted until they fall in range (cycle
  walking), which keeps the map a bijection of the smaller range.
"""

from dlframe.core.primitive import call, primitive
from dlframe.errors import DTypeMismatchError, InvalidArgumentError
from dlframe.ops._util import t

_INDEX_KINDS = ("int32", "uint32", "int64", "uint64")
_KEY0 = 0x1DB2A80C   # the first key word TF puts before the two seed words
_MIN_BLOCK = 16


def _rotl(xp, value, by, width, mask):
    """``value`` rotated left ``by`` bits within ``width``-bit words (uint64)."""
    by = xp.uint64(by) if isinstance(by, int) else by
    return ((value << by) | (value >> (width - by))) & mask


def _half_bits(xp, max_index):
    """Half the block width of each ``max_index`` (uint64), as TF sizes it."""
    top = xp.maximum(max_index.astype("float64"), 1.0)
    bits = xp.maximum(xp.ceil(xp.log2(top)), float(_MIN_BLOCK)).astype("uint64")
    return (bits + (bits & xp.uint64(1))) >> xp.uint64(1)


def _round_keys(xp, seed, half, mask):
    """The four round keys: three key words and SIMON's schedule step."""
    one = xp.uint64(1)
    k0 = xp.full(half.shape, _KEY0, dtype="uint64") & mask
    k1, k2 = seed[0:1] & mask, seed[1:2] & mask
    mix = _rotl(xp, k2, half - xp.uint64(3), half, mask)       # k2 >>> 3
    mix ^= _rotl(xp, mix, half - one, half, mask)             # ^ (. >>> 1)
    k3 = ~k0 & mask ^ mix ^ xp.uint64(2)    # ^ 3 (the constant) ^ 1 (z0's bit 0)
    return [k0, k1, k2, k3]


def _encrypt(xp, value, half, mask, keys):
    left, right = value >> half, value & mask
    for key in keys:
        spin = (_rotl(xp, right, 1, half, mask) & _rotl(xp, right, 8, half, mask)) \
            ^ _rotl(xp, right, 2, half, mask)
        left, right = right, left ^ spin ^ key
    return (left << half) | right


def _check_range(xp, index, max_index):
    """TF's value checks, in the kernel so a traced call checks every run."""
    if index.dtype.kind == "i" and index.size and int(index.min()) < 0:
        raise InvalidArgumentError(
            f"index_shuffle: index must be >= 0 but was {int(index.min())}")
    if max_index.dtype.kind == "i" and max_index.size and int(max_index.min()) < 0:
        raise InvalidArgumentError(
            f"index_shuffle: max_index must be >= 0 but was {int(max_index.min())}")
    index, max_index = xp.broadcast_arrays(index, max_index)
    over = index > max_index
    if over.any():
        raise InvalidArgumentError(
            f"index_shuffle: max_index must be >= index, but "
            f"{int(max_index[over].reshape(-1)[0])} < {int(index[over].reshape(-1)[0])}")


@primitive("RandomIndexShuffle")
def _index_shuffle_p(d, index, seed, max_index):
    xp = d.xp
    _check_range(xp, index, max_index)
    out_dtype = index.dtype
    index, max_index = xp.broadcast_arrays(index.astype("uint64"),
                                           max_index.astype("uint64"))
    shape = index.shape
    index, max_index = index.reshape(-1), max_index.reshape(-1)
    seed = seed.astype("int64").astype("uint64")      # sign-extended, as TF
    half = _half_bits(xp, max_index)
    mask = (xp.uint64(1) << half) - xp.uint64(1)
    keys = _round_keys(xp, seed, half, mask)
    value = _encrypt(xp, index & ((mask << half) | mask), half, mask, keys)
    todo = value > max_index
    walks = 0
    while todo.any():   # cycle walking: each value returns to range within its cycle
        if walks == _SHORT_WALK:   # a small range in a 2**16+ block: long walks
            value = _finish_by_table(xp, value, todo, seed, half, max_index)
        else:
            value = xp.where(todo, _encrypt(xp, value, half, mask, keys), value)
        todo = value > max_index
        walks += 1
    return value.reshape(shape).astype(out_dtype)


_SHORT_WALK = 8          # encryptions per value before the table takes over
_TABLE_HALF_BITS = 10    # tables of blocks up to 2**20 values (8 MB)


def _finish_by_table(xp, value, todo, seed, half, max_index):
    """Finishes the cycle walks of the ``todo`` values in small blocks at once: for
    each block size and range among them, encrypts the whole block once and finds,
    by pointer doubling, the first in-range value after each one on its cycle. The
    walk's result, not a shortcut: the same numbers as walking on. Values in larger
    blocks (whose range fills most of the block) are left to walk on."""
    for h, top in {(int(a), int(b)) for a, b in zip(half[todo].tolist(),
                                                    max_index[todo].tolist())}:
        if h > _TABLE_HALF_BITS:
            continue
        rows = todo & (half == xp.uint64(h)) & (max_index == xp.uint64(top))
        one_half = xp.full(1, h, dtype="uint64")
        mask = (xp.uint64(1) << one_half) - xp.uint64(1)
        block = xp.arange(1 << (2 * h), dtype="uint64")
        step = _encrypt(xp, block, one_half, mask, _round_keys(xp, seed, one_half, mask))
        landed = step <= xp.uint64(top)   # invariant: first hit = step[x] if landed[x]
        for _ in range(2 * h + 1):        # else the first hit after step[x]; paths
            far = step[step]              # of 2**(2h+1) steps cover every cycle
            landed, step = landed | landed[step], xp.where(landed, step, far)
        # (cycles with no value in range never land: no index walks on them)
        value[rows] = step[value[rows]]
    return value


def _checked_int(value, name, like=None):
    if like is not None and not hasattr(value, "dtype"):
        x = t(value, like.dtype)   # a Python value takes the other tensor's dtype
    else:
        x = t(value)
    if x.dtype.name not in _INDEX_KINDS:
        raise InvalidArgumentError(
            f"index_shuffle: `{name}` must have dtype int32, uint32, int64 or uint64, "
            f"got {x.dtype.name}: {value!r}")
    return x


def index_shuffle(index, seed, max_index):
    """Where ``index`` lands in a random permutation of ``[0, max_index]``.

    For a fixed ``seed`` and ``max_index`` the map is a bijection of
    ``[0, max_index]`` (every position is hit exactly once); a different seed gives
    a different permutation; the positions are TF's (see the module docstring).

    Args:
      index: a scalar or vector of int32, uint32, int64 or uint64 positions in
        ``[0, max_index]``.
      seed: a shape ``[2]`` integer tensor choosing the permutation.
      max_index: the largest position, a scalar or a vector like ``index``, in
        ``index``'s dtype.

    Returns:
      A tensor of ``index``'s shape and dtype.

    Raises:
      InvalidArgumentError: for a bad dtype or shape, a negative ``index`` or
        ``max_index``, or an ``index`` above ``max_index``.
    """
    if hasattr(max_index, "dtype") and not hasattr(index, "dtype"):
        top = _checked_int(max_index, "max_index")   # a Python index takes its dtype
        idx = _checked_int(index, "index", like=top)
    else:
        idx = _checked_int(index, "index")
        top = _checked_int(max_index, "max_index", like=idx)
    if top.dtype != idx.dtype:
        raise DTypeMismatchError(
            f"cannot compute RandomIndexShuffle as input #2(zero-based) was expected "
            f"to be a {idx.dtype.name} tensor but is a {top.dtype.name} tensor "
            f"[Op:RandomIndexShuffle]")
    key = _checked_int(seed, "seed")
    if idx.ndim > 1:
        raise InvalidArgumentError(f"index_shuffle: `index` must be a scalar or "
                                   f"vector, got shape {list(idx.shape)}")
    if top.ndim > 1 or (top.ndim == 1 and list(top.shape) != list(idx.shape)):
        raise InvalidArgumentError(f"index_shuffle: `max_index` must be a scalar or a "
                                   f"vector of `index`'s shape {list(idx.shape)}, got "
                                   f"shape {list(top.shape)}")
    if list(key.shape) != [2]:
        raise InvalidArgumentError(f"index_shuffle: `seed` must have shape [2], got "
                                   f"shape {list(key.shape)}")
    return call(_index_shuffle_p, (idx, key, top))
