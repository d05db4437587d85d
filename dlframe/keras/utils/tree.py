"""Nested-structure helpers (lists, tuples, dicts) used by layers and models."""


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


def map_structure(fn, structure):
    return pack_sequence_as(structure, [fn(x) for x in flatten(structure)])
