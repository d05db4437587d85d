"""``tf.Module``: a named container that finds the Variables in its attributes."""

import re

from dlframe.core.variable import Variable, name_scope


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
        self._module_scope = name_scope(name)

    @property
    def name(self):
        return self._module_name

    @property
    def name_scope(self):
        """A name scope for this module: ``with self.name_scope: v = tf.Variable(...)``."""
        return name_scope(self._module_name)

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


def _walk(root, keep):
    out, seen = [], set()

    def visit(value, depth=0):
        if depth > 64:
            return
        if isinstance(value, Variable):
            if id(value) not in seen:
                seen.add(id(value))
                if keep(value):
                    out.append(value)
            return
        if isinstance(value, Module):
            if id(value) in seen:
                return
            seen.add(id(value))
            for v in _attributes(value):
                visit(v, depth + 1)
            return
        if isinstance(value, (list, tuple)):
            for v in value:
                visit(v, depth + 1)
        elif isinstance(value, dict):
            for k in sorted(value, key=str):
                visit(value[k], depth + 1)
        elif hasattr(value, "trainable_weights") and hasattr(value, "weights"):
            for v in value.weights:  # a Keras layer or model held by the module
                visit(v, depth + 1)
    for v in _attributes(root):
        visit(v)
    return out
