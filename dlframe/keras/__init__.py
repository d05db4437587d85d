# ruff: noqa: F401 - re-export tables
"""``dlframe.keras``: the tf.keras API (layers, models, training, serialization).

Submodules written by other issues (optimizers, losses, metrics, callbacks, datasets,
saving) are imported when present, so the package works while they land.
"""

import importlib as _importlib

from dlframe.keras import (
    activations,
    backend,
    constraints,
    initializers,
    layers,
    mixed_precision,
    models,
    regularizers,
    utils,
)
from dlframe.keras.engine.input_layer import Input
from dlframe.keras.engine.keras_tensor import KerasTensor
from dlframe.keras.engine.model import Model
from dlframe.keras.engine.sequential import Sequential
from dlframe.keras.layers import InputSpec, Layer
from dlframe.keras.layers.core import symbolic_op_call as _symbolic_op_call
from dlframe.ops import names as _op_names

_op_names.SYMBOLIC_OP_HOOK[0] = _symbolic_op_call   # tf ops on KerasTensors -> op layers


def _optional(name):
    try:
        return _importlib.import_module(f"dlframe.keras.{name}")
    except ModuleNotFoundError as e:
        if e.name != f"dlframe.keras.{name}":
            raise
        return None


for _name in ("optimizers", "losses", "metrics", "callbacks", "datasets", "saving",
              "preprocessing", "experimental", "regularizers", "config", "random",
              "wrappers"):
    _mod = _optional(_name)
    if _mod is not None:
        globals()[_name] = _mod
del _name, _mod

# Keras 3's top-level names
from dlframe.keras import dtype_policies, tree
from dlframe.keras.dtype_policies import DTypePolicy, FloatDTypePolicy
from dlframe.keras.initializers import Initializer
from dlframe.keras.losses import Loss
from dlframe.keras.metrics import Metric
from dlframe.keras.optimizers import Optimizer
from dlframe.keras.regularizers import Regularizer
from dlframe.keras.variables import Variable, device, name_scope

__version__ = "2.15.0"
version = lambda: __version__

# Imported on first use (import time): ~20 application modules and keras.ops' tables.
_LAZY = ("applications", "ops", "export")


def __getattr__(name):
    if name in _LAZY:
        return _importlib.import_module(f"dlframe.keras.{name}")
    if name == "estimator":   # tf.keras.estimator.model_to_estimator (TF <= 2.15)
        return _importlib.import_module("dlframe.estimator.keras_estimator")
    raise AttributeError(f"module 'dlframe.keras' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | {"estimator"})
