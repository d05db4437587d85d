"""``dlframe.linalg``: the tf.linalg name table (aliases, never second implementations).

Every module of ``dlframe.ops`` lists the names it contributes to ``tf.linalg`` in
``LINALG_NAMES``; this table collects them.
"""

import importlib as _importlib
import pkgutil as _pkgutil

from dlframe import ops as _ops

for _info in sorted(_pkgutil.iter_modules(_ops.__path__), key=lambda i: i.name):
    _mod = _importlib.import_module(f"dlframe.ops.{_info.name}")
    globals().update({_n: getattr(_mod, _n) for _n in getattr(_mod, "LINALG_NAMES", ())})
del _info, _mod
