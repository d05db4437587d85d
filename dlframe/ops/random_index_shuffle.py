"""``tf.random.experimental.index_shuffle``: a seeded bijection of ``[0, max_index]``.

TF maps each index through a keyed permutation so a data pipeline can visit every
element once in a random order without materialising the permutation. dlframe
keeps the contract (same signature, dtypes, errors; for a fixed seed and
``max_index`` the map is a bijection of ``[0, max_index]``) with its own
construction, so the permuted positions differ from TF's: a balanced four-round
Feistel network over the smallest ``4**k`` domain holding ``max_index + 1``
values, with cycle walking (re-applying the permutation until the value falls in
range, which keeps it a bijection of the smaller range).
"""

from dlframe.core.primitive import call, primitive
from dlframe.errors import DTypeMismatchError, InvalidArgumentError
from dlframe.ops._util import t

_ROUNDS = 4
_INDEX_KINDS = ("int32", "uint32", "int64", "uint64")


def _mix64(xp, value):
    """SplitMix64's finaliser on uint64 arrays (wrapping arithmetic)."""
    value = (value ^ (value >> xp.uint64(30))) * xp.uint64(0xBF58476D1CE4E5B9)
    value = (value ^ (value >> xp.uint64(27))) * xp.uint64(0x94D049BB133111EB)
    return value ^ (value >> xp.uint64(31))


def _half_bits(xp, max_index):
    """Half the bit width of the Feistel domain of each ``max_index`` (uint64)."""
    bits = xp.zeros(max_index.shape, dtype="uint64")
    rest = max_index.copy()
    for _ in range(64):
        live = rest != 0
        if not live.any():
            break
        bits += live.astype("uint64")
        rest >>= xp.uint64(1)
    return (bits + xp.uint64(1)) >> xp.uint64(1)


def _feistel(xp, value, half, mask, keys):
    left, right = value >> half, value & mask
    for key in keys:
        left, right = right, left ^ (_mix64(xp, right ^ key) & mask)
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
    seed = seed.astype("uint64")
    # one-item arrays, not NumPy scalars: array arithmetic wraps without warnings
    key = _mix64(xp, seed[0:1] ^ _mix64(xp, seed[1:2]))
    keys = [_mix64(xp, key + xp.uint64(r + 1)) for r in range(_ROUNDS)]
    half = _half_bits(xp, max_index)
    mask = (xp.uint64(1) << half) - xp.uint64(1)
    value = index.copy()
    todo = xp.ones(value.shape, dtype=bool)
    while todo.any():   # cycle walking: each value returns to range within its cycle
        value = xp.where(todo, _feistel(xp, value, half, mask, keys), value)
        todo = value > max_index
    return value.reshape(index.shape).astype(out_dtype)


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
    a different permutation. The permutation is dlframe's own (see the module
    docstring), not TF's bit-for-bit.

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
