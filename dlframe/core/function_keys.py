"""How ``dlframe.function`` keys a call: binding it to the Python parameters
(``_CallPlan``), flattening it into a template and tensor leaves, the cache key of
one trace, and the user-visible signature (``_Signature``) a trace serves.
"""

import inspect
import re

from dlframe.backends.base import np
from dlframe.core import function_composites as _composites
from dlframe.core.concrete_function import _rebuild
from dlframe.core.function_structure import (
    _flatten,
    _merge_shapes,
    _template_matches,
)
from dlframe.core.tensor import Tensor
from dlframe.core.tensor_spec import TensorSpec


class _Signature:
    """The inputs one user-visible trace accepts.

    A trace of a signature with None dimensions (``input_signature``, a TensorSpec
    given to ``get_concrete_function``, or shapes relaxed by ``reduce_retracing``)
    serves every size in those dimensions: the function is traced once, as in TF.
    Graphs are specialized per concrete shape underneath (dlframe traces with real
    values), by re-running the traced Python quietly — trace-time ``print`` output and
    the tracing count belong to the first trace only.
    """

    __slots__ = ("concrete", "described", "specs", "template")

    def __init__(self, template, specs, described=None):
        self.template = template
        # per leaf: a _variable_keys entry | (TensorShape, numpy dtype, device)
        self.specs = specs
        self.concrete = None          # its ConcreteFunction (a top-level trace)
        self.described = described    # (args, kwargs) with TensorSpecs, for errors

    def saved(self):
        """A copy to keep in a SavedModel: no graph, its call described by specs."""
        described = self.described
        if described is None and self.concrete is not None:
            described = self.concrete.structured_input_signature
        return _Signature(self.template, self.specs, described)

    def accepts(self, template, leaves):
        if not _template_matches(self.template, template) or len(leaves) != len(
                self.specs):
            return False
        var_keys = _variable_keys(leaves)
        for i, (spec, t) in enumerate(zip(self.specs, leaves)):
            if t._is_variable or spec[0] == "var":
                if spec != var_keys.get(i):
                    return False
            elif (spec[1] != t._value.dtype or not spec[0].is_compatible_with(
                    t._value.shape) or (spec[2] is not t._device and spec[1] != object)):
                return False   # (strings live on the host whatever a SavedModel says)
        return True

    def relaxed(self, leaves):
        """Specs covering this signature and ``leaves`` (differing dims become None),
        or None when the leaves differ in dtype, device or variables."""
        specs = []
        var_keys = _variable_keys(leaves)
        for i, (spec, t) in enumerate(zip(self.specs, leaves)):
            if t._is_variable or spec[0] == "var":
                if spec != var_keys.get(i):
                    return None
                specs.append(spec)
                continue
            if spec[1] != t._value.dtype or spec[2] is not t._device:
                return None
            specs.append((_merge_shapes(spec[0], t._value.shape), spec[1], spec[2]))
        return _Signature(self.template, specs)


def _variable_keys(leaves):
    """{leaf index: trace key} of the Variable leaves. As TF's VariableSpec, a
    variable argument is keyed by its shape, dtype, device and trainability, and by
    which earlier argument it aliases (``f(v, v)`` and ``f(v, w)`` trace apart), not
    by the object: another variable of the same kind replays the trace on itself."""
    keys, first = {}, {}
    for i, t in enumerate(leaves):
        if t._is_variable:
            value = t._value
            keys[i] = ("var", tuple(value.shape), value.dtype, t._device,
                       bool(getattr(t, "trainable", True)),
                       first.setdefault(id(t), i))
    return keys


_TENSOR_ARGS = {}   # n -> the _flatten template of ((Tensor,) * n, {})


def _tensor_args_template(n):
    from dlframe.core.tensor import constant
    template = _TENSOR_ARGS[n] = _flatten(((constant(0.0),) * n, {}), [])
    return template


def _flatten_call(args, kwargs):
    """``(template, leaves)`` of a call's arguments; the common call (positional
    tensors only) reuses a template built once per argument count."""
    if not kwargs and all(type(a) is Tensor for a in args):
        return (_TENSOR_ARGS.get(len(args)) or _tensor_args_template(len(args)),
                list(args))
    leaves = []
    return _flatten((args, kwargs), leaves), leaves


def _cache_key(template, leaves):
    key = tuple([(tuple(t._value.shape), t._value.dtype, t._device) if not
                 t._is_variable else None for t in leaves])
    if None in key:
        var_keys = _variable_keys(leaves)
        key = tuple(var_keys.get(i, k) for i, k in enumerate(key))
    return (template, key)


class _CallPlan:
    """A Python function's parameters, for binding calls to them (``Function._bind``).

    ``names`` (the positional parameters) is None where calls are left as given:
    no signature to read, or ``*args``.
    """

    __slots__ = ("defaults", "keyword_defaults", "loose", "names", "signature")

    def __init__(self, fn):
        self.names = None
        try:
            self.signature = inspect.signature(fn)
        except (TypeError, ValueError):
            return
        params = list(self.signature.parameters.values())
        if any(p.kind == p.VAR_POSITIONAL for p in params):
            return
        positional = [p for p in params
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        self.names = [p.name for p in positional]
        self.defaults = {p.name: p.default for p in positional
                         if p.default is not p.empty}
        self.keyword_defaults = {
            p.name: p.default for p in params
            if p.kind == p.KEYWORD_ONLY and p.default is not p.empty}
        # keyword-only parameters without default or **kwargs: leave to inspect
        self.loose = any(p.kind == p.VAR_KEYWORD or p.kind == p.KEYWORD_ONLY
                         and p.default is p.empty or p.kind == p.POSITIONAL_ONLY
                         for p in params)

    def bind(self, args, kwargs):
        if self.loose or len(args) > len(self.names):
            bound = self.signature.bind(*args, **kwargs)  # raises TypeError as Python
            bound.apply_defaults()
            return bound.args, bound.kwargs
        args = list(args)
        kwargs = dict(kwargs)
        for name in self.names[len(args):]:
            if name in kwargs:
                args.append(kwargs.pop(name))
            elif name in self.defaults:
                args.append(self.defaults[name])
            else:
                self.signature.bind(*args, **kwargs)   # the missing-argument TypeError
        for name, default in self.keyword_defaults.items():
            kwargs.setdefault(name, default)
        if len(kwargs) > len(self.keyword_defaults):
            self.signature.bind(*args, **kwargs)   # the unexpected-keyword TypeError
        return tuple(args), kwargs


def _flat_leaves(value):
    leaves = []
    _flatten(value, leaves)
    return leaves


def _spec_to_tensor(spec, fill=1):
    """A zero tensor standing in for a TensorSpec (None dims become ``fill``) when
    tracing."""
    if _composites.is_spec(spec):
        return _composites.placeholder(spec)
    if isinstance(spec, TensorSpec):
        dims = spec.shape.as_list() if spec.shape.rank is not None else []
        shape = [fill if d is None else d for d in dims]
        from dlframe.core.tensor import constant
        if spec.dtype.name == "string":   # empty strings, not integer zeros
            return constant(np.full(shape, b"", dtype=object))
        return constant(np.zeros(shape, dtype=spec.dtype.as_numpy_dtype))
    if isinstance(spec, (list, tuple)):
        return _rebuild(spec, [_spec_to_tensor(s, fill) for s in spec])
    if isinstance(spec, dict):
        return {k: _spec_to_tensor(v, fill) for k, v in spec.items()}
    return spec


_FILL_LADDER = (8, 64, 256)
_FILL_ELEMENTS = 1 << 24   # the most elements a larger placeholder may hold


def larger_fills(exc, spec_shapes):
    """Placeholder sizes for None dims at which a ``get_concrete_function`` trace
    that failed with ``exc`` at size 1 is tried again: a size check of the traced
    code (``random_crop(x, [224, 224, 3])``, ``crop_to_bounding_box``) that only the
    placeholder violates; TF's graph does not know the sizes and checks them when
    it runs. The largest number in the error's message first, then a few larger
    sizes, none giving a placeholder of more than ``_FILL_ELEMENTS`` elements."""
    dims = [s.as_list() for s in spec_shapes
            if s is not None and getattr(s, "rank", None) is not None]
    if not any(None in d for d in dims):
        return []
    numbers = [int(n) for n in re.findall(r"\d+", str(exc)) if len(n) < 7]
    fills = sorted({max(numbers, default=0)} | set(_FILL_LADDER))

    def elements(fill):
        return max(int(np.prod([fill if d is None else d for d in s], dtype=float))
                   for s in dims)
    return [f for f in fills if f > 1 and elements(f) <= _FILL_ELEMENTS]


def _describe_call(args, kwargs):
    lines = [f"  Positional arguments ({len(args)} total):"]
    lines += [f"    * {a!r}" for a in args]
    lines.append(f"  Keyword arguments: {kwargs!r}")
    return "\n".join(lines)


def saved_mismatch_error(args, kwargs, saved):
    """TF's ValueError for a call of a function loaded from a SavedModel that no
    saved trace (``saved``: ``_Signature.saved()`` copies) accepts."""
    options = []
    for i, sig in enumerate(saved, 1):
        if sig.described is not None:
            described = _describe_call(*sig.described)
        else:
            described = "  Tensor arguments:\n" + "\n".join(
                f"    * TensorSpec(shape={spec[0]}, dtype={np.dtype(spec[1]).name})"
                for spec in sig.specs if spec[0] != "var")
        options.append(f"Option {i}:\n{described}")
    return ValueError(
        "Could not find matching concrete function to call loaded from the "
        f"SavedModel. Got:\n{_describe_call(args, kwargs)}\n\n Expected these "
        f"arguments to match one of the following {len(saved)} option(s):\n\n"
        + "\n\n".join(options))
