"""``tf.Module``: a named container that finds the Variables in its attributes."""

import re

from dlframe.core.variable import Variable, current_scope, name_scope


def _snake(name):
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


class Module:
    """Base class for objects that own Variables and sub-modules.

    Args:
      name: the module's name (default: the class name in snake_case); it prefixes
        the names of variables created under ``with self.name_scope:``.
    """

    def __init__(self, name=None):
        if name is None:
            name = _snake(type(self).__name__)
        elif not re.match(r"^[A-Za-z_][\w.\-]*$", name):
            raise ValueError(f"{name!r} is not a valid module name. Module names must be "
                             "valid Python identifiers (e.g. a valid class name).")
        self._module_name = name
        outer = current_scope()   # TF: the scope is absolute, fixed at construction
        self._module_scope_name = f"{outer}/{name}/" if outer else f"{name}/"

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        # a checkpoint restored before this attribute existed (delayed restoration)
        hooks = self.__dict__.get("_module_restore_hooks")
        if hooks and not name.startswith("_module_"):
            for hook in list(hooks):
                hook()

    @property
    def name(self):
        return self._module_name

    @property
    def name_scope(self):
        """A name scope for this module: ``with self.name_scope: v = tf.Variable(...)``.

        Its ``name`` ends with '/' (an absolute scope), e.g. ``'the_model/'``."""
        scope = self.__dict__.get("_module_scope_name") or f"{self._module_name}/"
        return name_scope(scope)

    @property
    def variables(self):
        """All Variables of this module and its sub-modules (each once)."""
        return tuple(_walk(self, lambda v: True))

    @property
    def trainable_variables(self):
        return tuple(_walk(self, lambda v: v.trainable))

    @property
    def non_trainable_variables(self):
        return tuple(_walk(self, lambda v: not v.trainable))

    @property
    def submodules(self):
        """Every Module reachable from this one's attributes (depth first)."""
        found, seen = [], {id(self)}

        def visit(value):
            if isinstance(value, Module):
                if id(value) in seen:
                    return
                seen.add(id(value))
                found.append(value)
                for v in _attributes(value):
                    visit(v)
            elif isinstance(value, (list, tuple)):
                for v in value:
                    visit(v)
            elif isinstance(value, dict):
                for k in sorted(value, key=str):
                    visit(value[k])
        for v in _attributes(self):
            visit(v)
        return tuple(found)

    def _flatten(self, recursive=True, predicate=None, attribute_traversal_key=None,
                 with_path=False, expand_composites=False):
        """Leaves of this module's attributes (TF's ``Module._flatten``).

        Args:
          recursive: also descend into sub-modules.
          predicate: keeps a leaf when ``predicate(leaf)`` is true (default: all).
          attribute_traversal_key: sort key for attribute names (default: sorted).
          with_path: yield ``(path, leaf)`` with ``path`` a tuple of attribute names,
            list indices and dict keys.
          expand_composites: accepted for TF compatibility.

        Yields:
          Matching leaves (or ``(path, leaf)`` pairs), each object once.
        """
        keep = predicate or (lambda _: True)
        seen = {id(self)}

        def visit(module, prefix):
            d = getattr(module, "__dict__", {})
            for key in sorted(d, key=attribute_traversal_key):
                if key.startswith("_module_"):
                    continue
                for path, leaf in _paths(d[key], prefix + (key,)):
                    if id(leaf) in seen:
                        continue
                    seen.add(id(leaf))
                    if keep(leaf):
                        yield (path, leaf) if with_path else leaf
                    if recursive and isinstance(leaf, Module):
                        yield from visit(leaf, path)
        return visit(self, ())

    @classmethod
    def with_name_scope(cls, method):
        """Decorator entering the module's name scope around a method call."""
        def wrapped(self, *args, **kwargs):
            with self.name_scope:
                return method(self, *args, **kwargs)
        wrapped.__name__ = method.__name__
        wrapped.__doc__ = method.__doc__
        return wrapped

    def __repr__(self):
        return f"<{type(self).__name__} name={self._module_name!r}>"


def _attributes(obj):
    d = getattr(obj, "__dict__", {})
    return [d[k] for k in sorted(d) if not k.startswith("_module_")]


def _leaves(value, depth=0):
    """The leaves of one attribute value: lists, tuples and dicts (by sorted key)
    are flattened; anything else is a leaf."""
    if depth > 64:
        return
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves(v, depth + 1)
    elif isinstance(value, dict):
        for k in sorted(value, key=str):
            yield from _leaves(value[k], depth + 1)
    else:
        yield value


def _paths(value, path, depth=0):
    """``(path, leaf)`` pairs of one attribute value (``_leaves`` with paths)."""
    if depth > 64:
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _paths(v, path + (i,), depth + 1)
    elif isinstance(value, dict):
        for k in sorted(value, key=str):
            yield from _paths(value[k], path + (k,), depth + 1)
    else:
        yield path, value


def _walk(root, keep):
    """The Variables of ``root`` in TF's order: a module's own Variables (attributes
    by sorted name) before those of its sub-modules, which follow in the order found."""
    out, seen = [], {id(root)}

    def visit(module, depth):
        submodules = []
        for leaf in (v for value in _attributes(module) for v in _leaves(value)):
            if id(leaf) in seen:
                continue
            if isinstance(leaf, Variable):
                seen.add(id(leaf))
                if keep(leaf):
                    out.append(leaf)
            elif isinstance(leaf, Module):
                seen.add(id(leaf))
                submodules.append(leaf)
            elif hasattr(leaf, "trainable_weights") and hasattr(leaf, "weights"):
                seen.add(id(leaf))   # a Keras layer or model held by the module
                for v in leaf.weights:
                    if id(v) not in seen:
                        seen.add(id(v))
                        if keep(v):
                            out.append(v)
        if depth < 64:
            for sub in submodules:
                visit(sub, depth + 1)
    visit(root, 0)
    return out
