# ruff: noqa: TRY004 - TensorFlow raises ValueError for these type checks
"""``crossed_column``: hashes every combination of its keys' values per example.

The hash is TF's ``sparse_cross_hashed``, so ids equal TensorFlow's: starting from
``hash_key`` (default 0xDECAFCAFFE), each key's value is folded in with
FingerprintCat64, where a string contributes its FarmHash Fingerprint64 and an integer
(a raw integer feature or a categorical column's id) its two's-complement value;
the result is taken modulo ``hash_bucket_size``. Keys are crossed in the given order;
a row with ``n_i`` values for key ``i`` gives ``prod(n_i)`` ids.
"""

import collections

from dlframe.core import dtypes as _dt
from dlframe.core.primitive import call
from dlframe.feature_column import base
from dlframe.io.sparse_tensor import SparseTensor, to_dense
from dlframe.ops import array as _array
from dlframe.ops import creation as _creation
from dlframe.ops import math as _math
from dlframe.ops.hash_cross import (  # noqa: F401 - shared with keras HashedCrossing
    DEFAULT_HASH_KEY,
    cross_hashed_p,
    fingerprint_cat64,
)


def _leaf_keys(keys):
    for key in keys:
        if isinstance(key, CrossedColumn):
            yield from _leaf_keys(key.keys)
        else:
            yield key


def _raw_key_values(transformation_cache, key, state_manager):
    raw = transformation_cache.get(key, state_manager)
    if raw.dtype != _dt.string and not raw.dtype.is_integer:
        raise ValueError(
            f"crossed_column: feature {key!r} must be string or integer, "
            f"got {raw.dtype}."
        )
    if isinstance(raw, SparseTensor):
        raw = to_dense(raw, default_value=b"" if raw.dtype == _dt.string else -1)
    batch = raw.shape[0]
    raw = _array.reshape(raw, [batch, -1])
    if raw.dtype != _dt.string:
        raw = _math.cast(raw.cpu(), _dt.int64)
    return raw


def _outer_and(masks, batch):
    """Row-wise outer AND of ``[batch, k_i]`` masks as ``[batch, prod(k_i)]``."""
    total = None
    for mask in masks:
        mask = _math.cast(mask, _dt.int32)
        if total is None:
            total = mask
            continue
        both = _math.multiply(_array.expand_dims(total, 2), _array.expand_dims(mask, 1))
        total = _array.reshape(both, [batch, -1])
    return _math.cast(total, _dt.bool)


class CrossedColumn(
    base.CategoricalColumn,
    collections.namedtuple("CrossedColumn", ("keys", "hash_bucket_size", "hash_key")),
):
    """Hashed feature crosses (see ``crossed_column``)."""

    __slots__ = ()

    @property
    def name(self):
        names = [k if isinstance(k, str) else k.name for k in self.keys]
        return "_X_".join(sorted(names))

    @property
    def num_buckets(self):
        return self.hash_bucket_size

    @property
    def parse_example_spec(self):
        from dlframe.io.parsing import VarLenFeature

        spec = {}
        for key in self.keys:
            if isinstance(key, str):
                spec[key] = VarLenFeature(_dt.string)
            else:
                spec.update(key.parse_example_spec)
        return spec

    @property
    def parents(self):
        return list(self.keys)

    def transform_feature(self, transformation_cache, state_manager, training=None):
        values, masks = [], []
        for key in _leaf_keys(self.keys):
            if isinstance(key, str):
                raw = _raw_key_values(transformation_cache, key, state_manager)
                values.append(raw)
                masks.append(_creation.fill(raw.shape.as_list(), True))
            else:
                ids = key.get_sparse_tensors(
                    transformation_cache, state_manager
                ).id_tensor
                ids = _array.reshape(ids, [ids.shape[0], -1])
                values.append(ids.cpu())
                masks.append(_math.greater_equal(ids, 0))
        hash_key = DEFAULT_HASH_KEY if self.hash_key is None else self.hash_key
        ids = call(
            cross_hashed_p,
            tuple(values),
            {"num_buckets": self.hash_bucket_size, "hash_key": hash_key},
        )
        valid = _outer_and(masks, ids.shape[0])
        return base.mark_missing(ids, _math.logical_not(valid))


def crossed_column(keys, hash_bucket_size, hash_key=None):
    """A categorical column of hashed crosses of ``keys``.

    Args:
      keys: two or more raw feature keys (strings) or categorical columns (not
        ``categorical_column_with_hash_bucket``: cross the raw key instead).
      hash_bucket_size: number of buckets of the crossed ids (>= 1).
      hash_key: optional 64-bit key of the cross hash (TF's default when None).

    Returns:
      A ``CrossedColumn``.
    """
    from dlframe.feature_column.categorical import HashedCategoricalColumn

    if not hash_bucket_size or hash_bucket_size < 1:
        raise ValueError(
            f"hash_bucket_size must be > 1. hash_bucket_size: {hash_bucket_size}"
        )
    if not keys or len(keys) < 2:
        raise ValueError(f"keys must be a list with length > 1. Given: {keys}")
    for key in keys:
        if isinstance(key, str):
            continue
        if isinstance(key, HashedCategoricalColumn):
            raise ValueError(
                "categorical_column_with_hash_bucket is not supported for crossing. "
                "Hashing before crossing will increase probability of collision. "
                f"Instead, use the feature name as a string. Given: {key}"
            )
        if not getattr(key, "_is_categorical_column", False):
            raise ValueError(
                "Unsupported key type. All keys must be either string, or categorical "
                f"column except HashedCategoricalColumn. Given: {key}"
            )
    return CrossedColumn(
        keys=tuple(keys), hash_bucket_size=hash_bucket_size, hash_key=hash_key
    )
