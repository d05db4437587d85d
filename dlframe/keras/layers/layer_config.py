"""Weight options shared by layers with weights: setting the initializers,
regularizers and constraints from constructor arguments, and their get_config
entries (serialized, in Keras's key order)."""

from dlframe.keras import constraints, initializers, regularizers

WEIGHT_OPTION_MODULES = {"initializer": initializers, "regularizer": regularizers,
                         "constraint": constraints}


def set_weight_options(layer, values, *kinds):
    """Sets ``layer.{kind}_{option}`` for every kind and option (initializer,
    regularizer, constraint) to ``module.get(values["{kind}_{option}"])``, e.g. with
    ``values=locals()`` in a constructor taking those arguments."""
    for option, module in WEIGHT_OPTION_MODULES.items():
        for kind in kinds:
            name = f"{kind}_{option}"
            setattr(layer, name, module.get(values[name]))


def serialize_or_none(module, obj):
    """``module.serialize(obj)``, or None for a missing option."""
    return module.serialize(obj) if obj is not None else None


def weight_options_config(layer, *kinds, activity=False):
    """``{kind}_initializer`` for every kind, then the regularizers (and
    ``activity_regularizer`` when ``activity``), then the constraints, read from the
    layer's attributes of those names and serialized."""
    config = {}
    for option, module in WEIGHT_OPTION_MODULES.items():
        for kind in kinds:
            name = f"{kind}_{option}"
            config[name] = serialize_or_none(module, getattr(layer, name))
        if activity and option == "regularizer":
            config["activity_regularizer"] = serialize_or_none(
                regularizers, layer.activity_regularizer)
    return config


def reject_keras3_extensions(layer, lora_rank=None, lora_alpha=None,
                             quantization_config=None):
    """Accepts Keras 3's ``lora_rank``/``lora_alpha``/``quantization_config``
    constructor arguments at their default (None), as saved Keras 3 configs carry
    them, and raises NotImplementedError naming the argument for any other value."""
    options = {"lora_rank": lora_rank, "lora_alpha": lora_alpha,
               "quantization_config": quantization_config}
    for name, value in options.items():
        if value is not None:
            raise NotImplementedError(
                f"{type(layer).__name__}({name}=...) is not supported. "
                f"Received: {name}={value!r}")
