"""Collects the per-namespace name tables that ops modules declare.

Each module of ``dlframe.ops`` may list the names it contributes to ``tf.math``
(``MATH_NAMES``), ``tf.linalg`` (``LINALG_NAMES``), ``tf.nn`` (``NN_NAMES``) and
``tf.random`` (``RANDOM_NAMES``); ``dlframe.math`` etc. are built from them, so an
alias is always the same object, never a second implementation.
"""

import importlib
import pkgutil

from dlframe import ops


def collect(table):
    """{name: object} over every ops module's list attribute ``table``."""
    found = {}
    for info in sorted(pkgutil.iter_modules(ops.__path__), key=lambda i: i.name):
        mod = importlib.import_module(f"dlframe.ops.{info.name}")
        for name in getattr(mod, table, ()):
            found[name] = getattr(mod, name)
    return found
