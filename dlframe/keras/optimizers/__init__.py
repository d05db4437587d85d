"""``keras.optimizers``: the optimizers, ``get``/``serialize``/``deserialize``."""

from dlframe.keras.optimizers import legacy, schedules
from dlframe.keras.optimizers.adafactor import Adafactor, Lamb
from dlframe.keras.optimizers.adagrad import Adadelta, Adagrad
from dlframe.keras.optimizers.adam import Adam, AdamW
from dlframe.keras.optimizers.adamax import Adamax
from dlframe.keras.optimizers.ftrl import Ftrl, Lion
from dlframe.keras.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap
from dlframe.keras.optimizers.muon import Muon
from dlframe.keras.optimizers.nadam import Nadam
from dlframe.keras.optimizers.optimizer import Optimizer
from dlframe.keras.optimizers.rmsprop import RMSprop
from dlframe.keras.optimizers.schedule_free_adamw import ScheduleFreeAdamW
from dlframe.keras.optimizers.sgd import SGD

_BY_NAME = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW,
            "adamax": Adamax, "nadam": Nadam, "adagrad": Adagrad, "adadelta": Adadelta,
            "ftrl": Ftrl, "lion": Lion, "adafactor": Adafactor, "lamb": Lamb,
            "muon": Muon, "schedulefreeadamw": ScheduleFreeAdamW,
            "multioptimizer": MultiOptimizer}


def __getattr__(name):
    # LossScaleOptimizer lives in keras.mixed_precision (which imports this package)
    if name == "LossScaleOptimizer":
        from dlframe.keras.mixed_precision.loss_scale_optimizer import (
            LossScaleOptimizer,
        )
        return LossScaleOptimizer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def serialize(optimizer):
    """``{'class_name', 'config'}`` of an optimizer."""
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """An optimizer from ``serialize``'s output (or a name)."""
    if isinstance(config, str):
        return get(config)
    from dlframe.keras.utils.generic_utils import (
        custom_object_scope,
        get_registered_object,
    )
    name = config["class_name"]
    cls = (get_registered_object(config.get("registered_name") or name, custom_objects)
           or _BY_NAME.get(name.lower()))
    if cls is None and name in ("LossScaleOptimizer", "LossScaleOptimizerV3"):
        from dlframe.keras.mixed_precision import loss_scale_optimizer
        cls = loss_scale_optimizer.LossScaleOptimizer
    if cls is None:
        raise ValueError(f"Could not interpret optimizer identifier: {config!r}")
    # the scope lets a custom schedule inside the config resolve too
    with custom_object_scope(custom_objects or {}):
        return cls.from_config(config["config"])


def get(identifier):
    """An optimizer from a name ('adam'), a config dict or an Optimizer instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is not None:
            return cls()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")


__all__ = [
    "SGD",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Ftrl",
    "Lamb",
    "Lion",
    "LossScaleOptimizer",
    "MultiOptimizer",
    "Muon",
    "Nadam",
    "Optimizer",
    "OptimizerMap",
    "RMSprop",
    "ScheduleFreeAdamW",
    "deserialize",
    "get",
    "legacy",
    "schedules",
    "serialize",
]
