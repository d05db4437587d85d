"""``tf.compat.v1.nn`` embedding lookups with TF1's ``partition_strategy``.

TF1 lets ``params`` be a list of shards of one embedding table. Under ``"div"``
(TF2's only strategy) the shards hold consecutive id ranges, which is what TF2's
``tf.nn.embedding_lookup`` does with a list. Under ``"mod"`` (TF1's default for
``embedding_lookup`` and ``embedding_lookup_sparse``) id ``i`` lives in shard
``i % n`` at row ``i // n``. Both reduce to a lookup in the concatenated shards
after renumbering the ids, so the TF2 ops do the work (and keep their
``IndexedSlices`` gradients).
"""

import dlframe as _tf

_STRATEGIES = ("mod", "div")


def _mod_renumber(params, partition_strategy):
    """A function mapping ids to rows of ``concat(params)``, or None when the ids
    need no renumbering (one shard, or the ``"div"`` layout)."""
    if partition_strategy not in _STRATEGIES:
        raise ValueError("Unrecognized partition strategy: "
                         f"partition_strategy={partition_strategy!r}; expected one "
                         "of 'mod' or 'div'")
    if not isinstance(params, (list, tuple)) or len(params) <= 1 or \
            partition_strategy == "div":
        return None
    sizes = [int(_tf.convert_to_tensor(shard).shape[0]) for shard in params]
    shards, total = len(sizes), sum(sizes)
    expected = [len(range(p, total, shards)) for p in range(shards)]
    if sizes != expected:
        raise ValueError("With partition_strategy='mod' shard p must hold the ids "
                         f"p, p + {shards}, ...: expected shard sizes {expected} for "
                         f"{total} ids, received {sizes}")
    offsets = [sum(sizes[:p]) for p in range(shards)]

    def renumber(ids):
        ids = _tf.convert_to_tensor(ids)
        table = _tf.constant(offsets, dtype=ids.dtype)
        rows = _tf.gather(table, _tf.math.floormod(ids, shards)) + ids // shards
        return _tf.where(ids < 0, ids, rows)   # negative ids stay invalid
    return renumber


def _renumber_sparse(sp_ids, renumber):
    if renumber is None:
        return sp_ids
    return _tf.sparse.SparseTensor(sp_ids.indices, renumber(sp_ids.values),
                                   sp_ids.dense_shape)


def embedding_lookup(params, ids, partition_strategy="mod", name=None,
                     validate_indices=True, max_norm=None):
    """TF1's ``nn.embedding_lookup``.

    Args:
      params: a tensor ``[vocab, ...]`` or a list of shards of one table.
      ids: int32/int64 ids of any shape.
      partition_strategy: ``"mod"`` (id ``i`` is row ``i // n`` of shard ``i % n``)
        or ``"div"`` (shards hold consecutive ids).
      name: unused.
      validate_indices: unused (ids are always checked).
      max_norm: clip each looked-up embedding to this L2 norm.

    Returns:
      A tensor of shape ``ids.shape + params.shape[1:]``.
    """
    renumber = _mod_renumber(params, partition_strategy)
    if renumber is not None:
        ids = renumber(ids)
    return _tf.nn.embedding_lookup(params, ids, max_norm=max_norm, name=name)


def embedding_lookup_sparse(params, sp_ids, sp_weights, partition_strategy="mod",
                            name=None, combiner=None, max_norm=None,
                            allow_fast_lookup=False):
    """TF1's ``nn.embedding_lookup_sparse`` (see ``tf.nn.embedding_lookup_sparse``;
    ``partition_strategy`` as in ``embedding_lookup``)."""
    sp_ids = _renumber_sparse(sp_ids, _mod_renumber(params, partition_strategy))
    return _tf.nn.embedding_lookup_sparse(params, sp_ids, sp_weights,
                                          combiner=combiner, max_norm=max_norm,
                                          allow_fast_lookup=allow_fast_lookup)


def safe_embedding_lookup_sparse(embedding_weights, sparse_ids, sparse_weights=None,
                                 combiner="mean", default_id=None, name=None,
                                 partition_strategy="div", max_norm=None,
                                 allow_fast_lookup=False):
    """TF1's ``nn.safe_embedding_lookup_sparse`` (see the TF2 op;
    ``partition_strategy`` as in ``embedding_lookup``)."""
    renumber = _mod_renumber(embedding_weights, partition_strategy)
    sparse_ids = _renumber_sparse(sparse_ids, renumber)
    if renumber is not None and default_id is not None:
        default_id = int(renumber(default_id))
    return _tf.nn.safe_embedding_lookup_sparse(
        embedding_weights, sparse_ids, sparse_weights, combiner=combiner,
        default_id=default_id, max_norm=max_norm,
        allow_fast_lookup=allow_fast_lookup)


__all__ = ["embedding_lookup", "embedding_lookup_sparse",
           "safe_embedding_lookup_sparse"]
