"""Keras 3's automatic ``get_config``: a layer whose ``__init__`` takes only plain
Python values records them without overriding ``get_config``."""

import inspect


def _plain(value):
    """Whether ``value`` is a JSON-friendly Python value (Keras 3 auto-config rule)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def _auto_config(layer, init, names):
    """Keras 3: the ``__init__`` arguments ``names`` the layer was created with, when
    they are all plain values (so ``get_config`` need not be overridden); else None."""
    args, kwargs = getattr(layer, "_init_call_args", ((), {}))
    try:
        bound = inspect.signature(init).bind(layer, *args, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    values = {}
    for key, value in bound.arguments.items():
        if key not in names:
            continue
        kind = bound.signature.parameters[key].kind
        if kind is inspect.Parameter.VAR_KEYWORD:   # `**kw` under any name
            values.update(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                return None
        else:
            values[key] = value
    if not all(_plain(v) for v in values.values()):
        return None
    return values
