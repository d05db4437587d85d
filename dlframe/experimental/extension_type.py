"""``tf.experimental.ExtensionType``: user-defined composite values.

A subclass declares typed fields with annotations; the base class adds the
constructor (with conversion and ``__validate__``), immutability, ``__repr__``,
``__eq__`` and a nested ``Spec`` class (its ``tf.TypeSpec``). Tensors and composites
held by the fields are the value's components: ``tf.function`` traces them (the
trace is keyed on the spec's static part), ``tf.nest`` with ``expand_composites``
yields them, ``tf.cond`` / ``tf.while_loop`` carry them, and ``tf.data`` batches
them for a ``BatchableExtensionType``. Ops reach user implementations through
``tf.experimental.dispatch_for_api`` (see ``dispatch``).
"""

import inspect
import typing

from dlframe.core import function_composites as _composites
from dlframe.core.tensor import Tensor, constant
from dlframe.core.tensor_shape import TensorShape
from dlframe.core.tensor_spec import TensorSpec, TypeSpec
from dlframe.errors import CompositeTensorError
from dlframe.experimental import dispatch as _dispatch  # noqa: F401 - installs the hook
from dlframe.experimental import extension_type_field as F
from dlframe.ops import array, logic, math, reduction

_INIT_DEPTH = "_dlframe_init_depth"


def _mutable(obj):
    return obj.__dict__.get(_INIT_DEPTH, 0) > 0


def _frozen_setattr(kind):
    def __setattr__(self, name, value):
        if not _mutable(self):
            raise AttributeError(f"Cannot mutate attribute `{name}` outside the custom "
                                 f"constructor of {kind}.")
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        if not _mutable(self):
            raise AttributeError(f"Cannot mutate attribute `{name}` outside the custom "
                                 f"constructor of {kind}.")
        object.__delattr__(self, name)
    return __setattr__, __delattr__


def _wrap_init(user_init, finish):
    """``user_init`` run with mutation allowed; the outermost constructor then
    converts and validates the fields (``finish``)."""
    def __init__(self, *args, **kwargs):
        d = self.__dict__
        d[_INIT_DEPTH] = d.get(_INIT_DEPTH, 0) + 1
        try:
            user_init(self, *args, **kwargs)
        finally:
            d[_INIT_DEPTH] -= 1
        if d[_INIT_DEPTH] == 0:
            del d[_INIT_DEPTH]
            finish(self)
    __init__.__wrapped__ = user_init
    return __init__


def _resolved_fields(cls):
    """The class's fields with string / forward-reference annotations resolved (on
    first use, so a class may refer to itself: ``children: Tuple["Node", ...]``)."""
    fields = cls.__dict__.get("_dlframe_resolved")
    if fields is None:
        try:
            hints = typing.get_type_hints(cls)
        except NameError as e:
            raise TypeError(f"{cls.__name__}: cannot resolve a field annotation ({e})"
                            ) from None
        fields = []
        for f in cls._tf_extension_type_fields:
            annotation = hints.get(f.name, f.value_type)
            if annotation is not f.value_type:
                F.check_annotation(f.name, annotation)
            fields.append(F.Field(f.name, annotation, f.default))
        fields = tuple(fields)
        type.__setattr__(cls, "_dlframe_resolved", fields)
    return fields


def _declared_fields(cls):
    """Fields of ``cls`` and its ExtensionType bases, base classes first."""
    fields = {}
    for klass in reversed(cls.__mro__):
        if not issubclass(klass, ExtensionType) or _is_base(klass):
            continue
        for name, annotation in inspect.get_annotations(klass).items():
            if typing.get_origin(annotation) is typing.ClassVar or name.startswith("__"):
                continue
            if not isinstance(annotation, (str, typing.ForwardRef)):
                F.check_annotation(name, annotation)
            default = klass.__dict__.get(name, F._MISSING)
            if isinstance(default, (property, staticmethod, classmethod)) or callable(
                    default) and not isinstance(default, type):
                default = F._MISSING
            fields[name] = F.Field(name, annotation, default)
    return tuple(fields.values())


def _is_base(cls):
    """ExtensionType and BatchableExtensionType themselves declare no fields."""
    return cls.__dict__.get("_dlframe_base_class", False)


class _Structure:
    """The static part of an extension value (its class and the non-tensor field
    values): the hashable structure ``tf.function`` keys traces on; rebuilds a value
    from components without running the constructor (as TF's ``_from_components``)."""

    __slots__ = ("cls", "layouts")

    def __init__(self, cls, layouts):
        self.cls = cls
        self.layouts = layouts

    def _dlframe_unflatten(self, parts):
        it = iter(parts)
        values = {name: F.join(layout, it) for name, layout in self.layouts}
        return self.cls._dlframe_from_fields(values)

    def _dlframe_batched(self, batch_size):
        """The structure of a batch of ``batch_size`` (None: unknown) values."""
        return self._dlframe_map_shapes(
            lambda shape: TensorShape([batch_size]).concatenate(shape))

    def _dlframe_unbatched(self):
        """The structure of one row of a batch."""
        return self._dlframe_map_shapes(lambda shape: shape[1:] if shape.rank else shape)

    def _dlframe_map_shapes(self, fn):
        return _Structure(self.cls, tuple((name, F.map_shapes(layout, fn))
                                          for name, layout in self.layouts))

    def __eq__(self, other):
        return (isinstance(other, _Structure) and self.cls is other.cls
                and self.layouts == other.layouts)

    def __hash__(self):
        return hash((self.cls, self.layouts))

    def __repr__(self):
        return f"{self.cls.__name__}Structure{self.layouts!r}"


# ================================================================ the spec
class ExtensionTypeSpec(TypeSpec):
    """The ``tf.TypeSpec`` of an ExtensionType (its ``Spec`` class derives from it).

    Its fields mirror the value's: tensors become ``tf.TensorSpec``, composites their
    specs, Python fields keep their values. ``Cls.Spec(field=spec, ...)`` builds one.
    """

    _dlframe_is_spec = True
    __setattr__, __delattr__ = _frozen_setattr("ExtensionTypeSpec")

    def __init__(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} is the base class of the Spec of each "
                        "ExtensionType; use MyType.Spec(...)")

    def __call__(self):
        # dlframe's internal protocol calls ``value._type_spec()``; TF exposes it as a
        # property, so the spec answers that call with itself.
        return self

    # -- construction -------------------------------------------------------------
    @classmethod
    def _dlframe_from_fields(cls, values):
        spec = object.__new__(cls)
        spec.__dict__.update(values)
        return spec

    @classmethod
    def from_value(cls, value):
        """The spec of an extension value."""
        return value._type_spec

    def _dlframe_finish(self):
        value_cls = self.value_type
        fields = _resolved_fields(value_cls)
        missing = {f.name for f in fields if f.name not in self.__dict__
                   and f.default is F._MISSING}
        if missing:
            raise ValueError(f"Missing required fields: {missing}")
        for f in fields:
            v = self.__dict__.get(f.name, f.default)
            self.__dict__[f.name] = F.convert(f.name, F.spec_of(v), f.value_type,
                                              for_spec=True)

    # -- structure ----------------------------------------------------------------
    def _dlframe_fields(self):
        return [(f.name, self.__dict__[f.name]) for f in _resolved_fields(self.value_type)]

    def _dlframe_split(self):
        parts = []
        layouts = tuple((name, F.split(v, parts, spec_mode=True))
                        for name, v in self._dlframe_fields())
        return _Structure(self.value_type, layouts), parts

    @property
    def _component_specs(self):
        return tuple(self._dlframe_split()[1])

    def _to_components(self, value):
        return tuple(value._dlframe_flatten()[1])

    def _from_components(self, components):
        return self._dlframe_split()[0]._dlframe_unflatten(list(components))

    def _dlframe_component_specs(self):
        """TensorSpecs of every tensor leaf under this spec, in tracing order."""
        out = []
        for part in self._dlframe_split()[1]:
            out.extend([part] if isinstance(part, TensorSpec)
                       else _composites.component_specs(part))
        return out

    def _dlframe_placeholder(self):
        """A value of this spec (None dimensions of size 1) to trace with."""
        parts = []
        for part in self._dlframe_split()[1]:
            if isinstance(part, TensorSpec):
                dims = [1 if d is None else d for d in (part.shape.as_list() if
                                                        part.shape.rank is not None
                                                        else [])]
                parts.append(array.zeros(dims, part.dtype))
            else:
                parts.append(_composites.placeholder(part))
        return self._from_components(parts)

    # -- TypeSpec interface ---------------------------------------------------------
    @property
    def value_type(self):
        return type(self)._dlframe_value_type

    def is_compatible_with(self, spec_or_value):
        other = spec_or_value
        if isinstance(other, ExtensionType):
            other = other._type_spec
        if type(other) is not type(self):
            return False
        s1, p1 = self._dlframe_split()
        s2, p2 = other._dlframe_split()
        return s1 == s2 and all(a.is_compatible_with(b) for a, b in zip(p1, p2))

    def most_specific_compatible_type(self, other):
        if type(other) is not type(self):
            raise ValueError(f"No TypeSpec is compatible with both {self!r} and "
                             f"{other!r}")
        s1, p1 = self._dlframe_split()
        s2, p2 = other._dlframe_split()
        if s1 != s2:
            raise ValueError(f"No TypeSpec is compatible with both {self!r} and "
                             f"{other!r}")
        merged = [a.most_specific_compatible_type(b) for a, b in zip(p1, p2)]
        return self._dlframe_with_parts(s1, merged)

    def _dlframe_with_parts(self, structure, part_specs):
        it = iter(part_specs)
        return type(self)._dlframe_from_fields(
            {name: F.join(layout, it) for name, layout in structure.layouts})

    def __eq__(self, other):
        if type(other) is not type(self):
            return False
        s1, p1 = self._dlframe_split()
        s2, p2 = other._dlframe_split()
        return s1 == s2 and p1 == p2

    def __hash__(self):
        s, p = self._dlframe_split()
        return hash((s, tuple(p)))

    def __repr__(self):
        fields = ", ".join(f"{n}={F.spec_repr(v)}" for n, v in self._dlframe_fields())
        return f"{self.value_type.__name__}.Spec({fields})"


class BatchableExtensionTypeSpec(ExtensionTypeSpec):
    """The spec of a BatchableExtensionType: ``_batch`` / ``_unbatch`` batch every
    component spec (Python fields stay as they are)."""

    def _batch(self, batch_size):
        encoder = self.value_type.__batch_encoder__
        return encoder.batch(self, batch_size)

    def _unbatch(self):
        return self.value_type.__batch_encoder__.unbatch(self)


def _batch_part(spec, batch_size):
    if isinstance(spec, TensorSpec):
        dims = None if spec.shape.rank is None else [batch_size] + spec.shape.as_list()
        return TensorSpec(dims, spec.dtype)
    if not hasattr(spec, "_batch"):
        raise ValueError(f"{spec!r} can not be batched")
    return spec._batch(batch_size)


def _unbatch_part(spec):
    if isinstance(spec, TensorSpec):
        if spec.shape.rank == 0:
            raise ValueError(f"Unbatching a tensor is only supported for rank >= 1, got "
                             f"{spec!r}")
        return TensorSpec(None if spec.shape.rank is None else spec.shape.as_list()[1:],
                          spec.dtype)
    if not hasattr(spec, "_unbatch"):
        raise ValueError(f"{spec!r} can not be unbatched")
    return spec._unbatch()


class ExtensionTypeBatchEncoder:
    """How a BatchableExtensionType is batched (``tf.experimental.ExtensionTypeBatchEncoder``).

    The default batches each component: a batch of values with tensor fields of
    shape ``S`` has those fields of shape ``[batch_size] + S``.
    """

    def batch(self, spec, batch_size):
        """The spec of ``batch_size`` (None: unknown) values of ``spec``."""
        structure, parts = spec._dlframe_split()
        return spec._dlframe_with_parts(structure._dlframe_batched(batch_size),
                                        [_batch_part(p, batch_size) for p in parts])

    def unbatch(self, spec):
        """The spec of the items of a batched ``spec``."""
        structure, parts = spec._dlframe_split()
        return spec._dlframe_with_parts(structure._dlframe_unbatched(),
                                        [_unbatch_part(p) for p in parts])

    def encode(self, spec, value, minimum_rank=0):
        """The components of ``value``."""
        return list(spec._to_components(value))

    def decode(self, spec, encoded_value):
        """The value of ``spec`` with components ``encoded_value``."""
        return spec._from_components(encoded_value)

    def encoding_specs(self, spec):
        """The specs of ``encode``'s result."""
        return list(spec._component_specs)


# ================================================================ the value
class ExtensionType:
    """Base class of user-defined composite types (``tf.experimental.ExtensionType``).

    Declare fields with type annotations::

        class MaskedTensor(tf.experimental.ExtensionType):
          values: tf.Tensor
          mask: tf.Tensor

    Supported annotations: ``tf.Tensor``, ``tf.RaggedTensor``, other extension types,
    ``int``, ``float``, ``str``, ``bool``, ``None``, ``tf.TensorShape``, ``tf.DType``
    and ``typing.Tuple`` / ``Mapping`` / ``Union`` / ``Optional`` of them.
    """

    _dlframe_composite = True
    _dlframe_base_class = True
    _dlframe_spec_base = ExtensionTypeSpec
    _tf_extension_type_fields = ()
    __setattr__, __delattr__ = _frozen_setattr("ExtensionType")
    __hash__ = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if _is_base(cls):
            return
        fields = _declared_fields(cls)
        type.__setattr__(cls, "_tf_extension_type_fields", fields)
        for f in fields:   # defaults live in the fields, not as class attributes
            if f.name in cls.__dict__ and f.default is not F._MISSING:
                type.__delattr__(cls, f.name)
        if "__init__" in cls.__dict__:
            user_init = cls.__dict__["__init__"]
            type.__setattr__(cls, "__init__", _wrap_init(user_init, _finish_value))
        elif not any("__init__" in k.__dict__ and not _is_base(k)
                     for k in cls.__mro__[1:] if issubclass(k, ExtensionType)):
            type.__setattr__(cls, "__init__", _wrap_init(_default_init, _finish_value))
        _make_spec_class(cls)

    # -- construction ---------------------------------------------------------------
    @classmethod
    def _dlframe_from_fields(cls, values):
        value = object.__new__(cls)
        value.__dict__.update(values)
        return value

    # -- TF protocol ----------------------------------------------------------------
    @property
    def _type_spec(self):
        spec = self.__dict__.get("_dlframe_spec")
        if spec is None:
            fields = {f.name: F.spec_of(self.__dict__[f.name])
                      for f in _resolved_fields(type(self))}
            spec = type(self).Spec._dlframe_from_fields(fields)
            self.__dict__["_dlframe_spec"] = spec
        return spec

    def _dlframe_flatten(self):
        parts = []
        layouts = tuple((f.name, F.split(self.__dict__[f.name], parts))
                        for f in _resolved_fields(type(self)))
        return _Structure(type(self), layouts), parts

    def _dlframe_component_specs(self):
        return self._type_spec._dlframe_component_specs()

    def _dlframe_tensor_(self, dtype=None):
        raise CompositeTensorError(self._dlframe_not_a_tensor())

    def _dlframe_not_a_tensor(self):
        """TF's message for converting this value to a Tensor."""
        try:
            shown = repr(self)
        except (AttributeError, TypeError):   # a user __repr__ reading traced values
            shown = ExtensionType.__repr__(self)
        return (f"Attempt to convert a value ({shown}) with an unsupported type "
                f"({type(self)}) to a Tensor.")

    def __array__(self, dtype=None, copy=None):
        raise CompositeTensorError(f"a {type(self).__name__} cannot be converted to a "
                                   "NumPy array")

    # -- Python protocol ------------------------------------------------------------
    def __repr__(self):
        fields = ", ".join(f"{f.name}={self.__dict__.get(f.name)!r}"
                           for f in _resolved_fields(type(self)))
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other):
        if type(other) is not type(self):
            return False
        pairs = _tensor_pairs(self, other)
        if pairs is None:
            return False
        if not pairs:
            return constant(True)
        checks = [reduction.reduce_all(math.equal(a, b)) for a, b in pairs]
        return checks[0] if len(checks) == 1 else reduction.reduce_all(
            array.stack(checks))

    def __ne__(self, other):
        eq = self.__eq__(other)
        return (not eq) if isinstance(eq, bool) else logic.logical_not(eq)

    def __bool__(self):
        return True


def _tensor_pairs(a, b):
    """Corresponding tensors of two values, or None when their structures, dtypes or
    shapes differ (then they cannot be equal)."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        if not (isinstance(a, Tensor) and isinstance(b, Tensor)) or a.dtype != b.dtype \
                or not a.shape.is_compatible_with(b.shape):
            return None
        return [(a, b)]
    s1, p1 = a._dlframe_flatten()
    s2, p2 = b._dlframe_flatten()
    if s1 != s2 or len(p1) != len(p2):
        return None
    out = []
    for x, y in zip(p1, p2):
        sub = _tensor_pairs(x, y)
        if sub is None:
            return None
        out.extend(sub)
    return out


def _default_init(self, *args, **kwargs):
    sig = type(self).__dict__.get("_dlframe_signature")
    if sig is None:
        sig = _signature(type(self))
    bound = sig.bind(*args, **kwargs)
    for name, value in bound.arguments.items():
        object.__setattr__(self, name, value)


def _signature(cls):
    params, seen_default = [], False
    for f in cls._tf_extension_type_fields:
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        if f.default is F._MISSING and seen_default:
            kind = inspect.Parameter.KEYWORD_ONLY
        seen_default = seen_default or f.default is not F._MISSING
        params.append(inspect.Parameter(f.name, kind, default=(
            inspect.Parameter.empty if f.default is F._MISSING else f.default)))
    params.sort(key=lambda p: p.kind)
    sig = inspect.Signature(params)
    type.__setattr__(cls, "_dlframe_signature", sig)
    return sig


def _finish_value(self):
    """Fills defaults, converts every field and runs ``__validate__``."""
    fields = _resolved_fields(type(self))
    d = self.__dict__
    missing = {f.name for f in fields if f.name not in d and f.default is F._MISSING}
    if missing:
        raise ValueError(f"Missing required fields: {missing}")
    for f in fields:
        d[f.name] = F.convert(f.name, d.get(f.name, f.default), f.value_type)
    d.pop("_dlframe_spec", None)
    validate = getattr(self, "__validate__", None)
    if validate is not None:
        validate()


def _make_spec_class(cls):
    """``cls.Spec``: a subclass of the family's spec base (and of a ``Spec`` class the
    user nested in ``cls``, whose constructor may set the fields)."""
    base = cls._dlframe_spec_base
    user = cls.__dict__.get("Spec")
    bases = (base,) if user is None else tuple(
        b for b in user.__bases__ if not issubclass(base, b)) + (base,)
    namespace = {"__module__": cls.__module__, "__qualname__": f"{cls.__qualname__}.Spec",
                 "_dlframe_value_type": cls}
    if user is not None:
        namespace.update({k: v for k, v in user.__dict__.items()
                          if k not in ("__dict__", "__weakref__", "__init__")})
    if user is not None and "__init__" in user.__dict__:
        namespace["__init__"] = _wrap_init(user.__dict__["__init__"],
                                           ExtensionTypeSpec._dlframe_finish)
    else:
        namespace["__init__"] = _wrap_init(_default_init_spec,
                                           ExtensionTypeSpec._dlframe_finish)
    spec_cls = type(f"{cls.__name__}.Spec", bases, namespace)
    type.__setattr__(cls, "Spec", spec_cls)


def _default_init_spec(self, *args, **kwargs):
    sig = _signature(self.value_type)
    bound = sig.bind(*args, **kwargs)
    for name, value in bound.arguments.items():
        object.__setattr__(self, name, value)


class BatchableExtensionType(ExtensionType):
    """An ExtensionType that ``tf.data`` can batch and unbatch
    (``tf.experimental.BatchableExtensionType``): batching stacks each component."""

    _dlframe_batchable = True
    _dlframe_base_class = True
    _dlframe_spec_base = BatchableExtensionTypeSpec
    __batch_encoder__ = ExtensionTypeBatchEncoder()


def as_dict(value):
    """The fields of an extension value as a dict (``tf.experimental.extension_type.as_dict``).

    Args:
      value: an ExtensionType value.
    """
    if not isinstance(value, ExtensionType):
        raise TypeError(f"as_dict expects an ExtensionType value, got "
                        f"{type(value).__name__!r}: {value!r}")
    return {f.name: value.__dict__[f.name] for f in _resolved_fields(type(value))}
