"""Import paths that TF2 scripts use for modules living elsewhere in dlframe.

``from tensorflow.compat.v1.keras.layers import Dense``, ``import
tensorflow.compat.v2 as tf`` and ``from tensorflow.python.keras import backend``
name modules that are TF2's own under another path. A meta-path finder maps each
such name onto the one real module (``dlframe.keras.layers``), so classes keep one
identity; importing the file a second time under the alias would duplicate them.
Names with TF1-only additions (``compat.v1.keras.backend.set_session``) are
registered in ``sys.modules`` as pass-through namespaces instead.
"""

import importlib
import importlib.abc
import importlib.util
import sys

# alias prefix -> real prefix (longest match wins: listed longest first)
ALIASES = (("dlframe.compat.v1.keras", "dlframe.keras"),
           ("dlframe.python.keras", "dlframe.keras"),
           ("dlframe.compat.v2", "dlframe"))


class PassThrough:
    """A namespace putting a few names in front of a real module's.

    Args:
      base: zero-argument callable returning the module (resolved on first use).
      **extra: the names this namespace adds or replaces.
    """

    __path__ = ()   # lets submodules of the alias be imported (through the finder)
    __spec__ = None

    def __init__(self, base, **extra):
        self._base = base
        self.__dict__.update(extra)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._base(), name)

    def __dir__(self):
        return sorted((set(dir(self._base())) | set(self.__dict__)) - {"_base"})


class _ExistingModule(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass   # already executed under its real name


class AliasFinder(importlib.abc.MetaPathFinder):
    """Resolves an alias module name to the already imported real module."""

    def find_spec(self, fullname, path=None, target=None):
        for alias, real in ALIASES:
            if fullname == alias or fullname.startswith(alias + "."):
                return importlib.util.spec_from_loader(
                    fullname, _ExistingModule(real + fullname[len(alias):]))
        return None


def install():
    """Adds the finder to ``sys.meta_path`` once."""
    if not any(isinstance(f, AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, AliasFinder())
