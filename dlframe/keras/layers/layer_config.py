"""get_config entries shared by layers with weights: serialized initializers,
regularizers and constraints, in Keras's key order."""

from dlframe.keras import constraints, initializers, regularizers

WEIGHT_OPTION_MODULES = {"initializer": initializers, "regularizer": regularizers,
                         "constraint": constraints}


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
