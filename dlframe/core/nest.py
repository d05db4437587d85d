"""Nested structures (lists, tuples, namedtuples, dicts): ``tf.nest``.

Dicts are flattened in sorted-key order (as TF does) and rebuilt in their own order.
"""


def is_nested(x):
    return isinstance(x, (list, tuple, dict))


def flatten(structure):
    """Leaves of a nested list/tuple/dict structure (dicts in sorted-key order)."""
    if isinstance(structure, dict):
        out = []
        for k in sorted(structure, key=str):
            out.extend(flatten(structure[k]))
        return out
    if isinstance(structure, (list, tuple)):
        out = []
        for item in structure:
            out.extend(flatten(item))
        return out
    return [structure]


def pack_sequence_as(structure, flat):
    """Rebuilds ``structure`` with the leaves taken in order from ``flat``."""
    it = iter(flat)

    def rebuild(s):
        if isinstance(s, dict):
            vals = {k: rebuild(s[k]) for k in sorted(s, key=str)}
            return type(s)((k, vals[k]) for k in s)
        if isinstance(s, (list, tuple)):
            items = [rebuild(i) for i in s]
            if isinstance(s, tuple) and hasattr(s, "_fields"):
                return type(s)(*items)
            return type(s)(items)
        return next(it)
    return rebuild(structure)


def map_structure(fn, *structures):
    """Applies ``fn`` to corresponding leaves of one or more same-shaped structures."""
    if not structures:
        raise ValueError("map_structure needs at least one structure")
    for other in structures[1:]:
        assert_same_structure(structures[0], other, check_types=False)
    leaves = [flatten(s) for s in structures]
    return pack_sequence_as(structures[0], [fn(*xs) for xs in zip(*leaves)])


def assert_same_structure(nest1, nest2, check_types=True):
    """Raises ValueError unless both structures nest the same way with equal leaf counts."""
    def shape(s):
        if isinstance(s, dict):
            return ("dict", tuple(sorted(map(str, s))), tuple(shape(s[k]) for k in
                                                            sorted(s, key=str)))
        if isinstance(s, (list, tuple)):
            kind = type(s).__name__ if check_types else "seq"
            return (kind, tuple(shape(i) for i in s))
        return "leaf"
    if shape(nest1) != shape(nest2):
        raise ValueError(f"The two structures don't have the same nested structure: "
                         f"{nest1!r} vs {nest2!r}")


__all__ = ["is_nested", "flatten", "pack_sequence_as", "map_structure",
           "assert_same_structure"]
