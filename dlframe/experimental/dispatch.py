"""Type-based API dispatch: ``tf.experimental.dispatch_for_api`` and the elementwise
variants.

A public op that cannot convert an argument (an ExtensionType, a RaggedTensor...)
raises ``CompositeTensorError``; its wrapper (``dlframe.ops.names.public_op``) then
asks the hook installed here, which calls the first registered dispatch target whose
type signature matches the call. Calls on ordinary tensors never reach this module.
"""

import collections.abc
import functools
import importlib
import inspect
import typing

from dlframe.ops import names as _names

_TARGETS = {}        # op function -> [(dispatch target, {param: annotation})]
_ELEMENTWISE = []    # (kind, (x_type[, y_type]), handler)
_REGISTERED = {}     # dispatch target -> [op functions] (for unregister_dispatch_for)



def _split(text):
    return tuple(text.split())


# The elementwise APIs, by public name (TF's lists; names dlframe lacks are skipped).
_UNARY_NAMES = _split(
    "abs acos math.acosh math.asin math.asinh math.atan math.atanh bitwise.invert "
    "cast ceil clip_by_value math.conj math.cos math.cosh math.digamma math.erf "
    "math.erfc math.erfinv math.exp math.expm1 floor image.adjust_brightness "
    "image.adjust_gamma image.convert_image_dtype math.angle math.imag math.is_finite "
    "math.is_inf math.is_nan math.lgamma math.log math.log1p math.log_sigmoid "
    "math.logical_not math.ndtri math.negative math.nextafter math.real "
    "math.reciprocal math.reciprocal_no_nan math.rint math.round math.rsqrt "
    "math.sigmoid math.sign math.sin math.sinh math.softplus math.sqrt math.square "
    "math.tan math.tanh nn.elu nn.gelu nn.leaky_relu nn.log_softmax nn.relu "
    "nn.relu6 nn.selu nn.softsign nn.silu nn.swish ones_like zeros_like "
    "saturate_cast strings.as_string strings.length strings.lower strings.upper "
    "strings.strip strings.regex_full_match strings.regex_replace strings.substr "
    "strings.to_hash_bucket strings.to_hash_bucket_fast strings.to_hash_bucket_strong "
    "strings.to_number debugging.check_numerics math.special.bessel_i0 "
    "math.special.bessel_i1 math.bessel_i0e math.bessel_i1e math.special.dawsn "
    "math.special.expint math.special.spence")
_BINARY_NAMES = _split(
    "add bitwise.bitwise_and bitwise.bitwise_or bitwise.bitwise_xor "
    "bitwise.left_shift bitwise.right_shift complex math.divide_no_nan divide "
    "equal math.floordiv math.floormod math.logical_xor math.atan2 math.greater "
    "math.greater_equal math.less math.less_equal math.logical_and math.logical_or "
    "math.maximum math.minimum math.squared_difference math.xlogy math.xlog1py "
    "math.xdivy math.zeta math.multiply math.multiply_no_nan not_equal math.pow "
    "realdiv math.scalar_mul subtract math.truediv truncatediv truncatemod "
    "nn.sigmoid_cross_entropy_with_logits")
_ASSERT_NAMES = _split(
    "debugging.assert_equal debugging.assert_greater debugging.assert_greater_equal "
    "debugging.assert_less debugging.assert_less_equal debugging.assert_near "
    "debugging.assert_none_equal")


def _resolve(names):
    """{op function: public API} for the API names that exist in dlframe."""
    root = importlib.import_module("dlframe")
    found = {}
    for name in names:
        obj = root
        for part in name.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if callable(obj):
            found[_names.unwrap(obj)] = obj
    return found


@functools.cache
def _elementwise_apis(kind):
    names = {"unary": _UNARY_NAMES, "binary": _BINARY_NAMES, "assert": _ASSERT_NAMES}
    return _resolve(names[kind])


@functools.cache
def _signature(fn):
    return inspect.signature(fn)


# ---------------------------------------------------------------- type matching
def _matches(value, annotation):
    """Whether ``value`` fits a dispatch annotation (classes, Union, Optional,
    List/Sequence/Tuple/Iterable of them)."""
    if annotation is typing.Any:
        return True
    if annotation is None or annotation is type(None):
        return value is None
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Union:
        return any(_matches(value, a) for a in args)
    if origin in (list, tuple, collections.abc.Sequence, collections.abc.Iterable):
        if not isinstance(value, (list, tuple)):
            return False
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            return len(args) == len(value) and all(map(_matches, value, args))
        return not args or all(_matches(v, args[0]) for v in value)
    raise TypeError(f"Unsupported type annotation in a dispatch signature: "
                    f"{annotation!r}")


def _bound(fn, args, kwargs):
    try:
        bound = _signature(fn).bind(*args, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    return bound.arguments


def _check_signature(api, signature):
    for annotation in signature.values():
        _matches(None, annotation)   # raises on an unsupported annotation
    params = _signature(_names.unwrap(api)).parameters
    unknown = [p for p in signature if p not in params]
    if unknown:
        raise ValueError(f"Dispatch signature for {api.__name__} names parameters "
                         f"{unknown} that the API does not have (its parameters: "
                         f"{list(params)})")


# ---------------------------------------------------------------- registration
def dispatch_for_api(api, *signatures):
    """Decorator that overrides ``api`` for calls matching a type signature.

    Args:
      api: the TensorFlow API to override (e.g. ``tf.math.add``).
      *signatures: dicts mapping parameter names to types (classes, ``Union``,
        ``Optional``, ``List[...]``); when none are given, the annotations of the
        decorated function's parameters are used.

    Returns:
      A decorator that registers its function and returns it unchanged.

    Example::

      @tf.experimental.dispatch_for_api(tf.math.add)
      def masked_add(x: MaskedTensor, y: MaskedTensor, name=None):
        return MaskedTensor(x.values + y.values, x.mask & y.mask)
    """
    fn = _names.unwrap(api)
    if not callable(fn):
        raise TypeError(f"api must be a TensorFlow API function, got {api!r}")
    for sig in signatures:
        _check_signature(api, sig)

    def decorator(dispatch_target):
        if not callable(dispatch_target):
            raise TypeError(f"Expected dispatch_target to be callable, got "
                            f"{dispatch_target!r}")
        sigs = list(signatures)
        if not sigs:
            params = inspect.signature(dispatch_target).parameters
            sigs = [{name: p.annotation for name, p in params.items()
                     if p.annotation is not inspect.Parameter.empty}]
            if not sigs[0]:
                raise ValueError(f"dispatch_for_api({api.__name__}): give a signature "
                                 "or annotate the parameters of "
                                 f"{dispatch_target.__name__}")
        for sig in sigs:
            if not signatures:
                _check_signature(api, sig)
            _TARGETS.setdefault(fn, []).append((dispatch_target, dict(sig)))
        _REGISTERED.setdefault(dispatch_target, []).append(fn)
        _install()
        return dispatch_target
    return decorator


def _elementwise(kind, types):
    for t in types:
        _matches(None, t)

    def decorator(handler):
        if not callable(handler):
            raise TypeError(f"Expected handler to be callable, got {handler!r}")
        _ELEMENTWISE.append((kind, tuple(types), handler))
        _REGISTERED.setdefault(handler, []).append(kind)
        _install()
        return handler
    return decorator


def dispatch_for_unary_elementwise_apis(x_type):
    """Decorator: ``handler(api_func, x)`` serves every unary elementwise API
    (``tf.abs``, ``tf.math.exp``, ``tf.cast``...) called with an ``x`` of ``x_type``;
    ``api_func(v)`` applies the API (with the call's other arguments) to ``v``.

    Args:
      x_type: the type (or Union) of ``x`` to dispatch on.
    """
    return _elementwise("unary", (x_type,))


def dispatch_for_binary_elementwise_apis(x_type, y_type):
    """Decorator: ``handler(api_func, x, y)`` serves every binary elementwise API
    (``tf.math.add``, ``tf.math.maximum``, ``tf.equal``...) when ``x`` fits ``x_type``
    and ``y`` fits ``y_type``.

    Args:
      x_type: the type (or Union) of the first operand.
      y_type: the type (or Union) of the second operand.
    """
    return _elementwise("binary", (x_type, y_type))


def dispatch_for_binary_elementwise_assert_apis(x_type, y_type):
    """Decorator: ``handler(assert_func, x, y)`` serves the binary assertions
    (``tf.debugging.assert_equal``, ``assert_less``...) for these operand types.

    Args:
      x_type: the type (or Union) of the first operand.
      y_type: the type (or Union) of the second operand.
    """
    return _elementwise("assert", (x_type, y_type))


def unregister_dispatch_for(dispatch_target):
    """Removes every registration of ``dispatch_target`` (a function given to one of
    the dispatch decorators).

    Raises:
      ValueError: ``dispatch_target`` was not registered.
    """
    if dispatch_target not in _REGISTERED:
        raise ValueError(f"Function {dispatch_target} was not registered using a "
                         "`dispatch_for_*` decorator.")
    del _REGISTERED[dispatch_target]
    for fn in list(_TARGETS):
        _TARGETS[fn] = [t for t in _TARGETS[fn] if t[0] is not dispatch_target]
        if not _TARGETS[fn]:
            del _TARGETS[fn]
    _ELEMENTWISE[:] = [e for e in _ELEMENTWISE if e[2] is not dispatch_target]


# ---------------------------------------------------------------- the hook
def _install():
    _names.API_DISPATCH_HOOK[0] = _dispatch


def _dispatch(fn, args, kwargs):
    """The registered implementation's result for this call, else NotImplemented."""
    for target, sig in _TARGETS.get(fn, ()):
        bound = _bound(fn, args, kwargs)
        if bound is not None and all(_matches(bound.get(p), a) for p, a in sig.items()):
            return target(*args, **kwargs)
    for kind, types, handler in reversed(_ELEMENTWISE):
        api = _elementwise_apis(kind).get(fn)
        if api is None:
            continue
        bound = _bound(fn, args, kwargs)
        if bound is None:
            continue
        operands = list(bound)[:len(types)]
        if all(_matches(bound[p], t) for p, t in zip(operands, types)):
            return handler(_bound_api(fn, api, bound, operands),
                           *[bound[p] for p in operands])
    if has_dispatchable(args, kwargs):
        # as TF: an extension value no dispatcher handles is not a tensor
        value = next(v for v in _flat_args(args, kwargs) if _is_extension(v))
        raise ValueError(value._dlframe_not_a_tensor())
    return NotImplemented


def _bound_api(fn, api, bound, operands):
    """``api`` as a function of its operands, the call's other arguments bound."""
    params = _signature(fn).parameters
    rest = {}
    for k, v in bound.items():
        kind = params[k].kind
        if k in operands or kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        if kind is inspect.Parameter.VAR_KEYWORD:
            rest.update(v)
        else:
            rest[k] = v

    def api_func(*values):
        return api(*values, **rest)
    return api_func


def _is_extension(value):
    return getattr(type(value), "_tf_extension_type_fields", None) is not None


def _flat_args(args, kwargs):
    for value in list(args) + list(kwargs.values()):
        yield from (value if isinstance(value, (list, tuple)) else (value,))


def has_dispatchable(args, kwargs):
    """True when an argument (or an item of a list argument) is an ExtensionType."""
    return any(_is_extension(v) for v in _flat_args(args, kwargs))


_install()
