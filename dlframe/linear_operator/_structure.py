"""A LinearOperator as a composite value: its tensors plus a static description.

TF's LinearOperators are composite tensors: a ``tf.function`` may take one as an
argument or return one, and ``tf.cond`` / ``tf.while_loop`` / ``tf.nest`` (with
``expand_composites``) see its component tensors. dlframe's composite protocol is
``value._dlframe_flatten() -> (structure, parts)`` and
``structure._dlframe_unflatten(parts) -> value`` (as SparseTensor's). An operator
is described by its class and its constructor arguments (``parameters``): each
Tensor argument (Variables and those of nested operators included) becomes a part,
every other argument stays in the structure, and rebuilding calls the constructor
again with the parts put back.
"""

from dlframe.backends.base import np
from dlframe.core.tensor import Tensor, convert_to_tensor

_PART = ("part",)


def _describe(value, parts):
    """A hashable template of one constructor argument; its tensors go to ``parts``."""
    if isinstance(value, Tensor):
        parts.append(value)
        return _PART
    if isinstance(value, np.ndarray):   # converted as the constructor would
        parts.append(convert_to_tensor(value))
        return _PART
    if getattr(value, "_dlframe_linear_operator", False):
        return ("operator", type(value), _describe_parameters(value.parameters, parts))
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return (type(value), tuple(_describe(v, parts) for v in value))
    return ("value", value)


def _describe_parameters(parameters, parts):
    return tuple((k, _describe(parameters[k], parts)) for k in sorted(parameters))


def _rebuild(template, parts):
    if template == _PART:
        return next(parts)
    if template[0] == "operator":
        return _construct(template[1], template[2], parts)
    if template[0] == "value":
        return template[1]
    return template[0](_rebuild(t, parts) for t in template[1])


def _construct(cls, parameters, parts):
    return cls(**{k: _rebuild(t, parts) for k, t in parameters})


def _key(value):
    """A hashable stand-in of a template (unhashable Python arguments by repr)."""
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


class OperatorStructure:
    """Static part of a LinearOperator in a function or loop template: its class and
    non-tensor constructor arguments."""

    def __init__(self, cls, parameters):
        self.cls = cls
        self.parameters = parameters

    def __eq__(self, other):
        return (isinstance(other, OperatorStructure) and other.cls is self.cls
                and _key(other.parameters) == _key(self.parameters))

    def __hash__(self):
        return hash((self.cls, _key(self.parameters)))

    def __repr__(self):
        return f"{self.cls.__name__}Spec"

    def _dlframe_unflatten(self, parts):
        return _construct(self.cls, self.parameters, iter(parts))


def flatten(operator):
    """``(OperatorStructure, parts)`` of a LinearOperator."""
    parts = []
    parameters = _describe_parameters(operator.parameters, parts)
    return OperatorStructure(type(operator), parameters), parts
