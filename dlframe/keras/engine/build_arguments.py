"""Keras 3's ``build`` with one shape per tensor argument of ``call``.

A layer whose ``call(query, value)`` takes several tensors may declare
``build(self, query_shape, value_shape)``: each ``{arg}_shape`` parameter receives the
shape of the ``call`` argument ``arg``. A ``build`` with a single parameter keeps
Keras 2's form (the shape of the first input only), and so does one whose first
parameter names no call argument (``build(self, input_shape, extra=None)``).
"""

import inspect

from dlframe.core.tensor import Tensor
from dlframe.keras.engine.base_layer_utils import _shapes_of
from dlframe.keras.engine.keras_tensor import KerasTensor
from dlframe.keras.utils import tree

_NOT_SHAPES = ("training", "mask")


def _build_params(build):
    try:
        params = inspect.signature(build).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p for p in params
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _is_tensor_arg(value):
    return any(isinstance(x, (Tensor, KerasTensor)) for x in tree.flatten(value))


def maybe_build(layer, inputs, rest, kwargs):
    """``layer._maybe_build`` for a call: the further call arguments go along only when
    ``build`` takes several parameters (overrides of ``_maybe_build`` that know one
    input keep their one-argument form)."""
    if len(_build_params(layer.build)) < 2:
        layer._maybe_build(inputs)
    else:
        layer._maybe_build(inputs, rest, kwargs)


def build_arguments(layer, inputs, rest, kwargs):
    """The positional and keyword arguments of ``layer.build`` for this call.

    Args:
      layer: the layer being built.
      inputs: the first argument of the call.
      rest: the further positional arguments of the call.
      kwargs: the keyword arguments of the call.

    Returns:
      ``(args, kwargs)``: ``((shapes_of(inputs),), {})`` (Keras 2's form) unless
      ``build`` takes more than one parameter and the first is named
      ``{first call argument}_shape``, in which case each ``{arg}_shape`` parameter
      is filled with the shape of the call argument ``arg`` (Keras 3's form).

    Raises:
      ValueError: ``build`` has a required parameter that names no tensor argument
        of ``call``.
    """
    first = _shapes_of(inputs)
    params = _build_params(layer.build)
    if len(params) < 2:
        return (first,), {}
    bound = dict(zip(layer._call_params, (inputs,) + tuple(rest)))
    bound.update(kwargs or {})
    shapes = {f"{name}_shape": value for name, value in bound.items()
              if name not in _NOT_SHAPES and _is_tensor_arg(value)}
    if params[0].name not in shapes:
        return (first,), {}   # Keras 2's ``build(input_shape, ...)``
    named = {}
    for p in params:
        if p.name in shapes:
            named[p.name] = _shapes_of(shapes[p.name])
        elif p.default is inspect.Parameter.empty:
            raise ValueError(
                f"Layer {layer.name!r}: `build()` parameter {p.name!r} matches no "
                "tensor argument of `call()`. With several tensor arguments, name the "
                "parameters of `build()` after them with a `_shape` suffix (call "
                f"arguments: {list(bound)}; shapes available: {sorted(shapes)}).")
    return (), named


def shapes_by_argument(layer, shapes_dict):
    """``build_from_config``'s keyword arguments for ``layer.build`` when a saved
    ``shapes_dict`` holds one ``{arg}_shape`` entry per parameter of a several-parameter
    ``build`` (Keras 3's form), else None."""
    if not isinstance(shapes_dict, dict) or len(shapes_dict) < 2:
        return None
    names = [p.name for p in _build_params(layer.build)]
    if len(names) < 2 or not set(shapes_dict) <= set(names):
        return None
    return {k: tuple(v) if isinstance(v, list) and all(
        isinstance(d, int) or d is None for d in v) else v
        for k, v in shapes_dict.items()}
