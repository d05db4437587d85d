"""``keras.ops`` (Keras 3): the numpy, nn, math, core and linalg operations
flattened into one namespace, plus the submodules ``numpy``, ``nn``, ``math``,
``linalg``, ``image`` and ``core``.

Results are dlframe tensors; the functions are differentiable, run inside
``dlframe.function`` and build op layers on symbolic Keras tensors.
"""

from dlframe.keras.ops import core, image, linalg, math, nn, numpy  # noqa: F401
from dlframe.keras.ops._tables import build as _build

globals().update(_build(""))
