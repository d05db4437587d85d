"""Nested structures (lists, tuples, namedtuples, dicts): ``tf.nest``.

Dicts are flattened in sorted-key order (as TF does) and rebuilt in their own order.
With ``expand_composites=True`` a composite value (RaggedTensor, SparseTensor,
ExtensionType: anything with ``_dlframe_flatten``) is a structure of its component
tensors. A tuple type marked ``_dlframe_nest_leaf`` (tf.distribute's PerReplica)
stands for one value: a leaf unless composites are expanded.
"""


def _composite(x, expand_composites):
    return expand_composites and getattr(x, "_dlframe_composite", False) and hasattr(
        x, "_dlframe_flatten")


_PLAIN = frozenset((list, tuple))


def _leaf(x, expand_composites):
    # tuples that stand for one value (tf.distribute's PerReplica/Mirrored, TF
    # composites) are leaves unless composites are expanded; plain lists and
    # tuples answer with one set lookup (tf.nest is on every step's hot path)
    return type(x) not in _PLAIN and not expand_composites and getattr(
        type(x), "_dlframe_nest_leaf", False)


def is_nested(x):
    return isinstance(x, (list, tuple, dict)) and not _leaf(x, False)


def flatten(structure, expand_composites=False):
    """Leaves of a nested list/tuple/dict structure (dicts in sorted-key order).

    Args:
      structure: the nested structure.
      expand_composites: yield the component tensors of composite values.
    """
    if isinstance(structure, dict):
        out = []
        for k in sorted(structure, key=str):
            out.extend(flatten(structure[k], expand_composites))
        return out
    if isinstance(structure, (list, tuple)) and not _leaf(structure, expand_composites):
        out = []
        for item in structure:
            out.extend(flatten(item, expand_composites))
        return out
    if _composite(structure, expand_composites):
        return flatten(structure._dlframe_flatten()[1], True)
    return [structure]


def pack_sequence_as(structure, flat, expand_composites=False):
    """Rebuilds ``structure`` with the leaves taken in order from ``flat``
    (``expand_composites``: composites of ``structure`` are rebuilt from their
    component tensors)."""
    it = iter(flat)

    def rebuild(s):
        if isinstance(s, dict):
            vals = {k: rebuild(s[k]) for k in sorted(s, key=str)}
            return type(s)((k, vals[k]) for k in s)
        if isinstance(s, (list, tuple)) and not _leaf(s, expand_composites):
            items = [rebuild(i) for i in s]
            if isinstance(s, tuple) and hasattr(s, "_fields"):
                return type(s)(*items)
            return type(s)(items)
        if _composite(s, expand_composites):
            struct, parts = s._dlframe_flatten()
            return struct._dlframe_unflatten([rebuild(p) for p in parts])
        return next(it)
    return rebuild(structure)


def map_structure(fn, *structures, check_types=False, expand_composites=False):
    """Applies ``fn`` to corresponding leaves of one or more same-shaped structures."""
    if not structures:
        raise ValueError("map_structure needs at least one structure")
    for other in structures[1:]:
        assert_same_structure(structures[0], other, check_types=check_types,
                              expand_composites=expand_composites)
    leaves = [flatten(s, expand_composites) for s in structures]
    return pack_sequence_as(structures[0], [fn(*xs) for xs in zip(*leaves)],
                            expand_composites)


def assert_same_structure(nest1, nest2, check_types=True, expand_composites=False):
    """Raises ValueError unless both structures nest the same way with equal leaf counts."""
    def shape(s):
        if isinstance(s, dict):
            return ("dict", tuple(sorted(map(str, s))), tuple(shape(s[k]) for k in
                                                            sorted(s, key=str)))
        if isinstance(s, (list, tuple)) and not _leaf(s, expand_composites):
            kind = type(s).__name__ if check_types else "seq"
            return (kind, tuple(shape(i) for i in s))
        if _composite(s, expand_composites):
            struct, parts = s._dlframe_flatten()
            return ("composite", struct, shape(list(parts)))
        return "leaf"
    if shape(nest1) != shape(nest2):
        raise ValueError(f"The two structures don't have the same nested structure: "
                         f"{nest1!r} vs {nest2!r}")


__all__ = [
    "assert_same_structure",
    "flatten",
    "is_nested",
    "map_structure",
    "pack_sequence_as",
]
