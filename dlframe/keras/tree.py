"""``keras.tree``: Keras 3's utilities for nested structures.

Lists, tuples, namedtuples and dicts (any ``Mapping``) nest; everything else,
``None`` included, is a leaf. Dicts are flattened in sorted-key order (an
``OrderedDict`` in its insertion order) and rebuilt in their own order. Unlike
``tf.nest`` the structure checks are strict about container types: a list and a
tuple with the same leaves are different structures.
"""

import collections as _collections
import collections.abc as _abc


class _MapToNone:
    """Sentinel a ``traverse`` function returns to replace a subtree by ``None``."""

    def __repr__(self):
        return "keras.tree.MAP_TO_NONE"


MAP_TO_NONE = _MapToNone()


def is_nested(structure):
    """Whether ``structure`` is a list, tuple, namedtuple or mapping.

    Args:
      structure: any Python object.

    Returns:
      True for containers ``keras.tree`` descends into.
    """
    return isinstance(structure, (list, tuple, _abc.Mapping))


def _keys(mapping):
    """A mapping's keys in flatten order: insertion order for an OrderedDict (as
    Keras 3's optree-backed tree does), sorted for every other mapping (integers
    numerically; keys of mixed types grouped by type name, as optree: ``{10, "b",
    2}`` gives ``2, 10, "b"``; by their text as the last resort)."""
    if isinstance(mapping, _collections.OrderedDict):
        return list(mapping)
    try:
        return sorted(mapping)
    except TypeError:
        pass
    try:
        return sorted(mapping, key=lambda k: (
            f"{type(k).__module__}.{type(k).__qualname__}", k))
    except TypeError:
        return sorted(mapping, key=str)


def _children(structure):
    """(key, child) pairs of a nested value, dict keys in ``_keys`` order."""
    if isinstance(structure, _abc.Mapping):
        return [(k, structure[k]) for k in _keys(structure)]
    return list(enumerate(structure))


def _rebuild(structure, values):
    """A container like ``structure`` holding ``values`` (given in _children order)."""
    if isinstance(structure, _abc.Mapping):
        by_key = dict(zip(_keys(structure), values))
        items = [(k, by_key[k]) for k in structure]
        if isinstance(structure, _collections.defaultdict):
            return type(structure)(structure.default_factory, items)
        return type(structure)(items)
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):
        return type(structure)(*values)
    return type(structure)(values)


def flatten(structure):
    """The leaves of ``structure`` in order (dicts by sorted key).

    Args:
      structure: a nested structure (a leaf gives a one-element list).

    Returns:
      A list of leaves.
    """
    return [leaf for _, leaf in flatten_with_path(structure)]


def flatten_with_path(structure):
    """``(path, leaf)`` pairs, a path being the tuple of keys/indices to the leaf.

    Args:
      structure: a nested structure.

    Returns:
      A list of ``(tuple, leaf)`` pairs in ``flatten`` order.
    """
    out = []

    def walk(s, path):
        if is_nested(s):
            for key, child in _children(s):
                walk(child, (*path, key))
        else:
            out.append((path, s))
    walk(structure, ())
    return out


def pack_sequence_as(structure, flat_sequence):
    """Rebuilds ``structure`` with its leaves taken in order from ``flat_sequence``.

    Args:
      structure: the nested structure giving the shape.
      flat_sequence: as many leaves as ``flatten(structure)`` has.

    Raises:
      TypeError: ``flat_sequence`` is not a list or tuple.
      ValueError: the number of leaves differs.
    """
    if not isinstance(flat_sequence, (list, tuple)):
        raise TypeError("`flat_sequence` must be a list or tuple. Received: "
                        f"flat_sequence={flat_sequence!r}")
    count = len(flatten(structure))
    if count != len(flat_sequence):
        raise ValueError(f"The structure has {count} leaves but `flat_sequence` has "
                         f"{len(flat_sequence)}. Received: structure={structure!r}")
    leaves = iter(flat_sequence)

    def fill(s):
        if not is_nested(s):
            return next(leaves)
        return _rebuild(s, [fill(c) for _, c in _children(s)])
    return fill(structure)


def _check_same(a, b):
    """Raises ValueError where ``b`` nests differently from ``a`` (types included)."""
    if not is_nested(a):
        return
    if not is_nested(b) or (type(a) is not type(b) and not (
            isinstance(a, _abc.Mapping) and isinstance(b, _abc.Mapping))):
        raise ValueError(f"Expected an instance of {type(a).__name__}, got {b!r}.")
    if isinstance(a, _abc.Mapping):
        if sorted(a, key=str) != sorted(b, key=str):
            raise ValueError(f"dict key mismatch; expected keys: {sorted(a, key=str)}, "
                             f"got: {sorted(b, key=str)}.")
    elif len(a) != len(b):
        raise ValueError(f"{type(a).__name__} arity mismatch; expected: {len(a)}, "
                         f"got: {len(b)}; {type(a).__name__}: {b!r}.")
    for (_, x), (_, y) in zip(_children(a), _children(b)):
        _check_same(x, y)


def assert_same_structure(a, b, check_types=None):
    """Raises ValueError unless ``a`` and ``b`` nest identically.

    Args:
      a, b: nested structures.
      check_types: deprecated in Keras 3 (types are always checked); ignored.

    Raises:
      ValueError: container types, lengths or dict keys differ.
    """
    del check_types
    _check_same(a, b)


def assert_same_paths(a, b):
    """Raises ValueError unless ``a`` and ``b`` have the same set of leaf paths.

    Unlike ``assert_same_structure`` container types may differ.
    """
    paths_a = {p for p, _ in flatten_with_path(a)}
    paths_b = {p for p, _ in flatten_with_path(b)}
    if paths_a != paths_b:
        raise ValueError("`a` and `b` don't have the same paths.\nPaths in `a` missing "
                         f"in `b`:\n{paths_a - paths_b}\nPaths in `b` missing in "
                         f"`a`:\n{paths_b - paths_a}")


def map_structure(func, *structures, none_is_leaf=True):
    """Applies ``func`` to corresponding leaves of same-shaped structures.

    Args:
      func: called with one leaf from each structure.
      *structures: one or more structures nested identically.
      none_is_leaf: accepted for Keras compatibility; ``None`` is always a leaf.

    Returns:
      A structure like the first holding ``func``'s results.

    Raises:
      TypeError: ``func`` is not callable.
      ValueError: no structures, or they nest differently.
    """
    del none_is_leaf
    if not callable(func):
        raise TypeError(f"`func` must be callable. Received: func={func!r}")
    if not structures:
        raise ValueError("Must provide at least one structure")
    for other in structures[1:]:
        _check_same(structures[0], other)

    def walk(values):
        # dict values pair by key, so an OrderedDict meets a dict correctly
        first = values[0]
        if not is_nested(first):
            return func(*values)
        return _rebuild(first, [walk([v[k] for v in values])
                                for k, _ in _children(first)])
    return walk(list(structures))


def map_structure_up_to(shallow_structure, func, *structures):
    """``map_structure`` that stops descending where ``shallow_structure`` has a leaf.

    Args:
      shallow_structure: a prefix of every structure's nesting.
      func: called with the (possibly nested) values at each shallow leaf.
      *structures: structures at least as deep as ``shallow_structure``.
    """
    if not structures:
        raise ValueError("Must provide at least one structure")

    def walk(shallow, values):
        if not is_nested(shallow):
            return func(*values)
        for v in values:
            _check_level(shallow, v)
        keys = [k for k, _ in _children(shallow)]
        results = [walk(child, [v[k] for v in values])
                   for k, (_, child) in zip(keys, _children(shallow))]
        return _rebuild(shallow, results)
    return walk(shallow_structure, list(structures))


def _check_level(shallow, value):
    if not is_nested(value) or isinstance(shallow, _abc.Mapping) != isinstance(
            value, _abc.Mapping):
        raise ValueError(f"Expected an instance of {type(shallow).__name__}, got "
                         f"{value!r}.")
    if isinstance(shallow, _abc.Mapping):
        missing = set(shallow) - set(value)
        if missing:
            raise ValueError(f"The input structure is missing keys {sorted(missing)}.")
    elif len(shallow) != len(value):
        raise ValueError(f"{type(shallow).__name__} arity mismatch; expected: "
                         f"{len(shallow)}, got: {len(value)}.")


def traverse(func, structure, top_down=True):
    """Applies ``func`` to every subtree (leaves and containers) of ``structure``.

    Top down: where ``func`` returns None the subtree is kept and descended into;
    any other result replaces the subtree (``MAP_TO_NONE`` replaces it by None).
    Bottom up: children are traversed first and ``func`` sees the rebuilt subtree;
    None keeps it, anything else replaces it.

    Args:
      func: a callable of one subtree.
      structure: a nested structure.
      top_down: the traversal order.
    """
    if not callable(func):
        raise TypeError(f"`func` must be callable. Received: func={func!r}")

    def finish(result, default):
        if result is None:
            return default
        return None if result is MAP_TO_NONE else result

    def down(s):
        result = func(s)
        if result is not None:
            return finish(result, s)
        if not is_nested(s):
            return s
        return _rebuild(s, [down(c) for _, c in _children(s)])

    def up(s):
        if is_nested(s):
            s = _rebuild(s, [up(c) for _, c in _children(s)])
        return finish(func(s), s)
    return down(structure) if top_down else up(structure)


def lists_to_tuples(structure):
    """``structure`` with every list (recursively) turned into a tuple."""
    def convert(s):
        if isinstance(s, list):
            return tuple(s)
        return None
    return traverse(lambda s: convert(s), structure, top_down=False)


def _is_shape(s):
    return isinstance(s, (list, tuple)) and not hasattr(s, "_fields") and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in s)


def map_shape_structure(func, structure):
    """Applies ``func`` to each shape (a tuple/list of ints or None) in a structure.

    Args:
      func: called with each shape.
      structure: nested shapes, e.g. ``{'a': (None, 3), 'b': [(2,), (4, 5)]}``.
    """
    if _is_shape(structure) or not is_nested(structure):
        return func(structure)
    return _rebuild(structure, [map_shape_structure(func, c)
                                for _, c in _children(structure)])


__all__ = ["MAP_TO_NONE", "assert_same_paths", "assert_same_structure", "flatten",
           "flatten_with_path", "is_nested", "lists_to_tuples", "map_shape_structure",
           "map_structure", "map_structure_up_to", "pack_sequence_as", "traverse"]
