"""``keras.dtype_policies``: Keras 3's names for the mixed precision policies.

``DTypePolicy`` is ``keras.mixed_precision.Policy`` (one policy class, so a layer's
``dtype_policy`` is an instance of both). Quantized policies are not provided.
"""

from dlframe.keras import mixed_precision as _mp
from dlframe.keras.mixed_precision import Policy as DTypePolicy


class FloatDTypePolicy(DTypePolicy):
    """Keras 3's deprecated name of a floating-point ``DTypePolicy``."""


def serialize(dtype_policy):
    """``{'module', 'class_name', 'config', 'registered_name'}`` of a policy.

    Raises:
      ValueError: ``dtype_policy`` is not a DTypePolicy.
    """
    if not isinstance(dtype_policy, DTypePolicy):
        raise ValueError(  # noqa: TRY004 - Keras raises ValueError
            "`dtype_policy` must be a DTypePolicy instance. Received: "
                         f"dtype_policy={dtype_policy!r}")
    return {"module": "keras", "class_name": "DTypePolicy",
            "config": dtype_policy.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """A policy from ``serialize``'s output.

    Raises:
      ValueError: the config names no known policy class.
    """
    name = config.get("class_name") if isinstance(config, dict) else None
    classes = {"DTypePolicy": DTypePolicy, "FloatDTypePolicy": FloatDTypePolicy,
               "Policy": DTypePolicy, **(custom_objects or {})}
    if name not in classes:
        raise ValueError(f"Could not interpret dtype policy config: {config!r}")
    return classes[name].from_config(config["config"])


def get(identifier):
    """A policy from a policy, a dtype or policy name, a config dict or None.

    Args:
      identifier: None (the global policy), a DTypePolicy, a string such as
        'mixed_float16' or 'float32', or ``serialize``'s output.

    Raises:
      ValueError: the identifier cannot be interpreted.
    """
    if identifier is None:
        return _mp.global_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    name = getattr(identifier, "name", None)   # a DType
    if isinstance(name, str) and hasattr(identifier, "is_floating"):
        return DTypePolicy(name)
    raise ValueError("Cannot interpret `dtype` argument. Expected a string or an "
                     f"instance of DTypePolicy. Received: dtype={identifier!r}")


__all__ = ["DTypePolicy", "FloatDTypePolicy", "deserialize", "get", "serialize"]
