"""Nested structures (lists, tuples, namedtuples, dicts, attrs classes): ``tf.nest``.

Dicts are flattened in sorted-key order (as TF does) and rebuilt in their own order;
an ``@attr.s`` instance is a structure of its fields, in their declaration order.
With ``expand_composites=True`` a composite value (RaggedTensor, SparseTensor,
ExtensionType: anything with ``_dlframe_flatten``) is a structure of its component
tensors. A tuple type marked ``_dlframe_nest_leaf`` (tf.distribute's PerReplica)
stands for one value: a leaf unless composites are expanded.

Errors are TF's: ``assert_same_structure`` raises TypeError when two sequences'
types differ (``check_types``) and ValueError for any other difference, with TF's
message (both structures, the mismatching parts, and their skeletons).
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


_ATTRS_TYPES = {}   # type -> whether it is an ``@attr.s`` class (a leaf's check is
                    # one dict lookup: flatten runs on every step's hot path)


def _is_attrs(x):
    """An instance (not the class) of an ``@attr.s`` class."""
    kind = type(x)
    found = _ATTRS_TYPES.get(kind)
    if found is None:
        found = _ATTRS_TYPES[kind] = hasattr(kind, "__attrs_attrs__")
    return found


def _attrs_values(x):
    return [getattr(x, a.name) for a in type(x).__attrs_attrs__]


def _sorted_keys(d):
    try:
        return sorted(d)
    except TypeError:   # keys of mixed types: a stable order all the same
        return sorted(d, key=str)


def _rebuild_dict(d, values):
    """A dict of ``d``'s type with ``values`` ({key: value}) in ``d``'s key order."""
    pairs = [(k, values[k]) for k in d]
    if hasattr(d, "default_factory"):   # collections.defaultdict
        return type(d)(d.default_factory, pairs)
    return type(d)(pairs)


def _sequence(x, expand_composites):
    """Whether ``x`` is a structure (not a leaf) for ``tf.nest``."""
    if isinstance(x, dict):
        return True
    if isinstance(x, (list, tuple)):
        return not _leaf(x, expand_composites)
    return _is_attrs(x) or bool(_composite(x, expand_composites))


def is_nested(seq):
    """True for a list, tuple, dict or attrs instance (not a string or Tensor)."""
    return isinstance(seq, (list, tuple, dict)) and not _leaf(seq, False) or \
        _is_attrs(seq)


def flatten(structure, expand_composites=False):
    """Leaves of a nested structure (dicts in sorted-key order).

    Args:
      structure: the nested structure (a single value flattens to ``[value]``).
      expand_composites: yield the component tensors of composite values.

    Returns:
      A list of the leaves.
    """
    if isinstance(structure, dict):
        out = []
        for k in _sorted_keys(structure):
            out.extend(flatten(structure[k], expand_composites))
        return out
    if isinstance(structure, (list, tuple)) and not _leaf(structure, expand_composites):
        out = []
        for item in structure:
            out.extend(flatten(item, expand_composites))
        return out
    if _composite(structure, expand_composites):
        return flatten(structure._dlframe_flatten()[1], True)
    if _is_attrs(structure):
        return flatten(_attrs_values(structure), expand_composites)
    return [structure]


def _packable(flat):
    """Whether ``flat`` is a sequence of values (not a string, array or scalar)."""
    if isinstance(flat, (list, tuple)):
        return True
    return not isinstance(flat, (str, bytes, dict)) and not hasattr(flat, "dtype") \
        and hasattr(flat, "__iter__")


def pack_sequence_as(structure, flat_sequence, expand_composites=False):
    """Rebuilds ``structure`` with the leaves taken in order from ``flat_sequence``.

    Args:
      structure: the nested structure to rebuild.
      flat_sequence: a list of leaves, as many as ``flatten(structure)`` has.
      expand_composites: rebuild composites of ``structure`` from their components.

    Raises:
      TypeError: ``flat_sequence`` is not a sequence.
      ValueError: the number of leaves differs.
    """
    if not _packable(flat_sequence):
        raise TypeError(f"Attempted to pack value:\n  {flat_sequence}\ninto a "
                        "structure, but found incompatible type "
                        f"`{type(flat_sequence)}` instead.")
    flat = flat_sequence if isinstance(flat_sequence, (list, tuple)) else \
        list(flat_sequence)
    if not _sequence(structure, expand_composites):
        if len(flat) != 1:
            raise ValueError(f"The target structure is of type `{type(structure)}`\n  "
                             f"{structure}\nHowever the input is a sequence "
                             f"({type(flat)}) of length {len(flat)}.\n  {flat}\n"
                             "nest cannot guarantee that it is safe to map one to the "
                             "other.")
        return flat[0]
    it = iter(flat)

    def rebuild(s):
        if isinstance(s, dict):
            return _rebuild_dict(s, {k: rebuild(s[k]) for k in _sorted_keys(s)})
        if isinstance(s, (list, tuple)) and not _leaf(s, expand_composites):
            items = [rebuild(i) for i in s]
            if isinstance(s, tuple) and hasattr(s, "_fields"):
                return type(s)(*items)
            return type(s)(items)
        if _composite(s, expand_composites):
            struct, parts = s._dlframe_flatten()
            return struct._dlframe_unflatten([rebuild(p) for p in parts])
        if _is_attrs(s):
            return type(s)(*[rebuild(v) for v in _attrs_values(s)])
        return next(it)
    try:
        out = rebuild(structure)
        complete = next(it, _END) is _END
    except StopIteration:
        complete = False
    if not complete:
        atoms = len(flatten(structure, expand_composites))
        raise ValueError(f"Could not pack sequence. Structure had {atoms} atoms, but "
                         f"flat_sequence had {len(flat)} items.  Structure: "
                         f"{structure}, flat_sequence: {flat}.")
    return out


_END = object()
_LEAF_TYPES = {}   # type -> whether its instances are always leaves (composites
                   # unexpanded): not a list, tuple, dict or attrs class


def _plain_leaf(x):
    kind = type(x)
    found = _LEAF_TYPES.get(kind)
    if found is None:
        found = _LEAF_TYPES[kind] = not issubclass(kind, (list, tuple, dict)) and \
            not hasattr(kind, "__attrs_attrs__")
    return found


def _map_shallow(func, structures):
    """``map_structure`` without composites for the common shapes - leaves, or
    plain lists/tuples of one type and length (dicts: one structure) whose items
    are leaves - where no check can fail: ``func`` in the order of ``flatten``,
    the result as ``pack_sequence_as`` builds it. ``_END`` for any other input."""
    first = structures[0]
    kind = type(first)
    if kind is list or kind is tuple:
        size = len(first)
        for s in structures:
            if type(s) is not kind or len(s) != size:
                return _END
            for v in s:
                if not _plain_leaf(v):
                    return _END
        if len(structures) == 1:
            return kind([func(v) for v in first])
        return kind([func(*xs) for xs in zip(*structures)])
    if kind is dict and len(structures) == 1:
        for v in first.values():
            if not _plain_leaf(v):
                return _END
        done = {k: func(first[k]) for k in _sorted_keys(first)}
        return {k: done[k] for k in first}
    for s in structures:
        if not _plain_leaf(s):
            return _END
    return func(*structures)


def map_structure(func, *structure, **kwargs):
    """Applies ``func`` to corresponding leaves of one or more same-shaped structures.

    Args:
      func: a callable taking one argument per structure.
      *structure: the structures (at least one), checked with
        ``assert_same_structure``.
      check_types: (keyword, default True) sequence types must match too.
      expand_composites: (keyword) map over the component tensors of composites.

    Returns:
      A structure like the first one holding ``func``'s results.
    """
    if not callable(func):
        raise TypeError(f"func must be callable, got: {func}")
    if not structure:
        raise ValueError("Must provide at least one structure")
    check_types = kwargs.pop("check_types", True)
    expand_composites = kwargs.pop("expand_composites", False)
    if kwargs:
        raise ValueError("Only valid keyword arguments are `check_types` and "
                         f"`expand_composites`, not: `{'`, `'.join(kwargs)}`")
    if not expand_composites:
        out = _map_shallow(func, structure)
        if out is not _END:
            return out
    for other in structure[1:]:
        assert_same_structure(structure[0], other, check_types=check_types,
                              expand_composites=expand_composites)
    leaves = [flatten(s, expand_composites) for s in structure]
    return pack_sequence_as(structure[0], [func(*xs) for xs in zip(*leaves)],
                            expand_composites)


class _Dot:
    """A leaf in an error message's skeleton of a structure."""

    def __repr__(self):
        return "."


def _skeleton(s, expand_composites):
    if not _sequence(s, expand_composites) or _composite(s, expand_composites):
        return "."
    try:
        dots = [_Dot()] * len(flatten(s, False))
        return repr(pack_sequence_as(s, dots))
    except Exception:   # a type that cannot be rebuilt: its own text
        return str(s)


def _describe(s):
    return f"type={type(s).__name__} str={str(s)}"


def _same_type(a, b):
    if type(a) is type(b) or (isinstance(a, dict) and isinstance(b, dict)):
        return True
    # namedtuples of one name and fields count as one type (TF's rule)
    fields = getattr(a, "_fields", None)
    return isinstance(a, tuple) and isinstance(b, tuple) and fields is not None and \
        type(a).__name__ == type(b).__name__ and fields == getattr(b, "_fields", None)


def _children(s, expand_composites):
    if isinstance(s, dict):
        return [s[k] for k in _sorted_keys(s)]
    if _is_attrs(s):
        return _attrs_values(s)
    if _composite(s, expand_composites):
        return list(s._dlframe_flatten()[1])
    return list(s)


def _mismatch(a, b, check_types, expand_composites):
    """(error class, TF's detail) of the first difference of ``a`` and ``b``."""
    seq_a, seq_b = _sequence(a, expand_composites), _sequence(b, expand_composites)
    if seq_a != seq_b:
        seq, other = (a, b) if seq_a else (b, a)
        return ValueError, (f'Substructure "{_describe(seq)}" is a sequence, while '
                            f'substructure "{_describe(other)}" is not')
    if not seq_a:
        return None
    if _composite(a, expand_composites) or _composite(b, expand_composites):
        spec_a = a._dlframe_flatten()[0] if _composite(a, expand_composites) else None
        spec_b = b._dlframe_flatten()[0] if _composite(b, expand_composites) else None
        if spec_a is None or spec_b is None or spec_a != spec_b:
            return ValueError, (f"Incompatible CompositeTensor TypeSpecs: "
                                f"{_describe(a)} vs. {_describe(b)}")
    elif check_types:
        if not _same_type(a, b):
            return TypeError, (
                "The two namedtuples don't have the same sequence type. First "
                f"structure {_describe(a)} has type {type(a).__name__}, while second "
                f"structure {_describe(b)} has type {type(b).__name__}")
        if isinstance(a, dict) and set(a) != set(b):
            return ValueError, (
                "The two dictionaries don't have the same set of keys. First "
                f"structure has keys {_describe(_sorted_keys(a))}, while second "
                f"structure has keys {_describe(_sorted_keys(b))}")
    kids_a, kids_b = _children(a, expand_composites), _children(b, expand_composites)
    if len(kids_a) != len(kids_b):
        return ValueError, ("The two structures don't have the same number of "
                            f"elements. First structure: {_describe(a)}. Second "
                            f"structure: {_describe(b)}")
    for x, y in zip(kids_a, kids_b):
        found = _mismatch(x, y, check_types, expand_composites)
        if found is not None:
            return found
    return None


def assert_same_structure(nest1, nest2, check_types=True, expand_composites=False):
    """Raises unless both structures nest the same way.

    Args:
      nest1: a nested structure.
      nest2: another one.
      check_types: sequence types must match too (list vs tuple, namedtuple
        classes); dict subclasses count as one type.
      expand_composites: compare composites' component structure too.

    Raises:
      ValueError: the structures nest differently, or dict keys differ.
      TypeError: ``check_types`` and two sequence types differ.
    """
    found = _mismatch(nest1, nest2, check_types, expand_composites)
    if found is None:
        return
    error, detail = found
    raise error("The two structures don't have the same nested structure.\n\n"
                f"First structure: {_describe(nest1)}\n\n"
                f"Second structure: {_describe(nest2)}\n\n"
                f"More specifically: {detail}\n"
                f"Entire first structure:\n{_skeleton(nest1, expand_composites)}\n"
                f"Entire second structure:\n{_skeleton(nest2, expand_composites)}")


__all__ = [
    "assert_same_structure",
    "flatten",
    "is_nested",
    "map_structure",
    "pack_sequence_as",
]
