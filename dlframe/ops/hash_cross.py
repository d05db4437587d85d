"""TF's hashed feature cross (``sparse_cross_hashed``), shared by
``feature_column.crossed_column`` and ``keras.layers.HashedCrossing``.

Starting from ``hash_key`` (default 0xDECAFCAFFE), each feature's value is folded in
with FingerprintCat64, where a string contributes its FarmHash Fingerprint64 and an
integer its two's-complement value; the id is the result modulo ``num_buckets``.
"""

import itertools

from dlframe.core.primitive import primitive
from dlframe.ops.string_hashes import fingerprint64

DEFAULT_HASH_KEY = 0xDECAFCAFFE
_MASK = (1 << 64) - 1
_MUL = 0xC6A4A7935BD1E995


def _shift_mix(v):
    return v ^ (v >> 47)


def fingerprint_cat64(fp1, fp2):
    """Combines two 64-bit fingerprints (TF's ``FingerprintCat64``)."""
    result = fp1 ^ _MUL
    result ^= (_shift_mix((fp2 * _MUL) & _MASK) * _MUL) & _MASK
    result = (result * _MUL) & _MASK
    result = (_shift_mix(result) * _MUL) & _MASK
    return _shift_mix(result)


def feature_hash(value):
    """A feature value's 64-bit hash: Fingerprint64 of a string, else the integer."""
    if isinstance(value, (bytes, str)):
        return fingerprint64(value.encode() if isinstance(value, str) else value)
    return int(value) & _MASK


# a host kernel (TF has no GPU kernel for the cross): its int64 ids go to the GPU
# that the inputs or the current device scope name, as TF copies them there
@primitive("SparseCrossHashedDense", host_kernel=True)
def cross_hashed_p(d, *columns, num_buckets, hash_key):
    """Crossed ids: ``[batch, prod(k_i)]`` from ``[batch, k_i]`` host inputs."""
    batch = columns[0].shape[0]
    out = []
    for row in range(batch):
        hashes = [[feature_hash(v) for v in col[row].tolist()] for col in columns]
        for combo in itertools.product(*hashes):
            h = hash_key
            for value in combo:
                h = fingerprint_cat64(h, value)
            out.append(h % num_buckets)
    width = 1
    for col in columns:
        width *= col.shape[1]
    return d.xp.asarray(out, dtype="int64").reshape(batch, width)
