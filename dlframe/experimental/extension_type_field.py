"""The fields of an ``ExtensionType``: their annotations, checking and conversion.

An annotation says what a field holds: a tensor (``tf.Tensor``), a composite value
(``tf.RaggedTensor``, ``tf.SparseTensor``, another extension type), a Python value
(``int``, ``float``, ``str``, ``bool``, ``None``, ``tf.TensorShape``, ``tf.DType``)
or a ``typing.Tuple`` / ``typing.Mapping`` / ``typing.Union`` / ``typing.Optional``
of those. Tensors and composites are the value's components (traced by
``tf.function``, batched by ``tf.data``); everything else is static metadata that is
part of the value's type spec.
"""

import collections.abc
import typing

from dlframe.core import dtypes
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.core.tensor_spec import TensorSpec, TypeSpec

_MISSING = object()
_PY_TYPES = (int, float, str, bool, bytes, type(None))


class ImmutableDict(collections.abc.Mapping):
    """The read-only mapping that stores a ``typing.Mapping`` field."""

    def __init__(self, *args, **kwargs):
        self._dict = dict(*args, **kwargs)

    def __getitem__(self, key):
        return self._dict[key]

    def __iter__(self):
        return iter(self._dict)

    def __len__(self):
        return len(self._dict)

    def __repr__(self):
        return f"ImmutableDict({self._dict!r})"

    def __hash__(self):
        return hash(tuple(sorted(self._dict.items(), key=lambda kv: str(kv[0]))))

    def __eq__(self, other):
        return isinstance(other, collections.abc.Mapping) and dict(self) == dict(other)


class Field(typing.NamedTuple):
    """One declared field: its name, annotation and default (``_MISSING``: none)."""

    name: str
    value_type: object
    default: object = _MISSING


def is_composite_type(annotation):
    """True for classes whose values are composites (RaggedTensor, ExtensionType)."""
    return isinstance(annotation, type) and getattr(annotation, "_dlframe_composite",
                                                    False)


def check_annotation(name, annotation):
    """Raises TypeError when ``annotation`` is not a supported field type."""
    if annotation in _PY_TYPES or annotation is None or annotation in (
            Tensor, TensorShape, dtypes.DType):
        return
    if isinstance(annotation, (str, typing.ForwardRef)) or is_composite_type(annotation):
        return
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Union:
        for a in args:
            check_annotation(name, a)
        return
    if origin is tuple:
        for a in args:
            if a is not Ellipsis:
                check_annotation(name, a)
        return
    if origin is collections.abc.Mapping and len(args) == 2:
        check_annotation(name, args[0])
        check_annotation(name, args[1])
        return
    raise TypeError(f"In field {name!r}: Unsupported type annotation {annotation!r}")


def _type_name(annotation):
    return getattr(annotation, "__name__", None) or repr(annotation)


def convert(path, value, annotation, for_spec=False):
    """``value`` checked against ``annotation`` and converted (lists to tensors,
    sequences to tuples, dicts to ``ImmutableDict``). With ``for_spec`` a tensor or
    composite field holds a TypeSpec instead.

    Raises:
      TypeError: the value does not fit the annotation (the message names the field).
    """
    if annotation is None or annotation is type(None):
        if value is not None:
            raise TypeError(f"{path}: expected None, got {type(value).__name__!r}")
        return None
    if annotation is Tensor:
        if for_spec:
            if not isinstance(value, TensorSpec):
                raise TypeError(f"{path}: expected a TensorSpec, got {value!r}")
            return value
        if getattr(value, "_dlframe_composite", False):
            raise TypeError(f"{path}: expected a Tensor, got {type(value).__name__!r}")
        try:
            return convert_to_tensor(value)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{path}: expected a Tensor, got {value!r} ({e})") from None
    if is_composite_type(annotation):
        if for_spec:
            if not isinstance(value, TypeSpec) or not issubclass(
                    value.value_type, annotation):
                raise TypeError(f"{path}: expected a {_type_name(annotation)}.Spec, got "
                                f"{value!r}")
            return value
        if not isinstance(value, annotation):
            raise TypeError(f"{path}: expected {_type_name(annotation)!r}, got "
                            f"{type(value).__name__!r}")
        return value
    if annotation is TensorShape:
        return value if isinstance(value, TensorShape) else TensorShape(value)
    if annotation is dtypes.DType:
        try:
            return dtypes.as_dtype(value)
        except (TypeError, ValueError):
            raise TypeError(f"{path}: expected a DType, got {value!r}") from None
    if annotation in _PY_TYPES:
        if not isinstance(value, annotation):
            raise TypeError(f"{path}: expected {annotation.__name__!r}, got "
                            f"{type(value).__name__!r}")
        return value
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Union:
        return _convert_union(path, value, args, for_spec)
    if origin is tuple:
        return _convert_tuple(path, value, args, for_spec)
    if origin is collections.abc.Mapping:
        if not isinstance(value, collections.abc.Mapping):
            raise TypeError(f"{path}: expected a Mapping, got {type(value).__name__!r}")
        return ImmutableDict(
            (convert(f"{path}[key]", k, args[0], for_spec),
             convert(f"{path}[{k!r}]", v, args[1], for_spec)) for k, v in value.items())
    raise TypeError(f"{path}: Unsupported type annotation {annotation!r}")


def _convert_union(path, value, args, for_spec):
    # exact Python types first, so Union[int, tf.Tensor] keeps 3 an int
    ordered = sorted(args, key=lambda a: a is Tensor)
    for a in ordered:
        try:
            return convert(path, value, a, for_spec)
        except TypeError:
            continue
    names = ", ".join(_type_name(a) for a in args)
    raise TypeError(f"{path}: expected one of ({names}), got {type(value).__name__!r}")


def _convert_tuple(path, value, args, for_spec):
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{path}: expected a tuple, got {type(value).__name__!r}")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(convert(f"{path}[{i}]", v, args[0], for_spec)
                     for i, v in enumerate(value))
    if args == ((),):
        args = ()
    if len(args) != len(value):
        raise TypeError(f"{path}: expected a tuple of length {len(args)}, got "
                        f"{len(value)}")
    return tuple(convert(f"{path}[{i}]", v, a, for_spec)
                 for i, (v, a) in enumerate(zip(value, args)))


# ---------------------------------------------------------------- components
def is_component(value):
    """A tensor or composite: a part that tracing and batching see."""
    return isinstance(value, Tensor) or getattr(value, "_dlframe_composite", False)


def split(value, parts, spec_mode=False):
    """The static layout of a field value; its components are appended to ``parts``
    (in order). A layout is hashable: ``("T",)`` marks a component."""
    if (spec_mode and isinstance(value, TypeSpec)) or (not spec_mode
                                                       and is_component(value)):
        parts.append(value)
        return ("T",)
    if isinstance(value, tuple):
        return ("tuple", tuple(split(v, parts, spec_mode) for v in value))
    if isinstance(value, collections.abc.Mapping):
        return ("map", tuple((k, split(v, parts, spec_mode)) for k, v in value.items()))
    return ("py", value)


def join(layout, parts_iter):
    """The field value of ``layout`` with its components taken from ``parts_iter``."""
    kind = layout[0]
    if kind == "T":
        return next(parts_iter)
    if kind == "tuple":
        return tuple(join(x, parts_iter) for x in layout[1])
    if kind == "map":
        return ImmutableDict((k, join(x, parts_iter)) for k, x in layout[1])
    return layout[1]


def map_shapes(layout, fn):
    """``layout`` with ``fn`` applied to its TensorShape values (a batch of values
    has ``[n] + shape`` there, as TF's default batch encoder does)."""
    kind = layout[0]
    if kind == "tuple":
        return ("tuple", tuple(map_shapes(x, fn) for x in layout[1]))
    if kind == "map":
        return ("map", tuple((k, map_shapes(x, fn)) for k, x in layout[1]))
    if kind == "py" and isinstance(layout[1], TensorShape):
        return ("py", fn(layout[1]))
    return layout


def spec_of(value):
    """The TypeSpec-valued mirror of a field value (tensors -> TensorSpec)."""
    if isinstance(value, Tensor):
        return TensorSpec(value.shape, value.dtype)
    if getattr(value, "_dlframe_composite", False):
        spec = value._type_spec
        return spec() if callable(spec) and not isinstance(spec, TypeSpec) else spec
    if isinstance(value, tuple):
        return tuple(spec_of(v) for v in value)
    if isinstance(value, collections.abc.Mapping):
        return ImmutableDict((k, spec_of(v)) for k, v in value.items())
    return value


def spec_repr(value):
    """A spec field as TF prints it (mappings as plain dicts)."""
    if isinstance(value, collections.abc.Mapping):
        return "{" + ", ".join(f"{k!r}: {spec_repr(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple):
        inner = ", ".join(spec_repr(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)
