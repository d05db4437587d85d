"""``tf.debugging`` and ``tf.Assert``: run-time checks (also inside dlframe.function).

Each check is a side-effect primitive, so it runs every time a compiled graph runs,
and raises ``InvalidArgumentError`` with TF's message shape naming the data.
"""

from dlframe.backends.base import np
from dlframe.core.primitive import STATE, call, primitive
from dlframe.core.tensor import Tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops import debugging_messages as _msg
from dlframe.ops._util import operands, t


def _host(a):
    return np.asarray(a.get() if hasattr(a, "get") else a)


@primitive("Assert", effects=True)
def _assert_p(d, cond, *data, items, summarize):
    if not bool(_host(cond).all()):
        arrays = iter(data)
        values = [item if item is not None else _host(next(arrays)) for item in items]
        raise InvalidArgumentError(_msg.graph_failure(values, summarize))
    return d.xp.zeros((), dtype="int32")


_assert_p.dry_run = lambda d, *a, **k: d.xp.zeros((), dtype="int32")


def _eager_failed(cond):
    """True when, run eagerly, ``cond`` holds a False (no trace: TF's Python
    checks raise at once with their own report)."""
    return STATE.trace is None and not bool(_host(cond._value).all())


def _run_check(cond, items, summarize):
    """The run-time Assert node: ``items`` are strs and Tensors, in order."""
    attrs = {"items": tuple(x if isinstance(x, str) else None for x in items),
             "summarize": summarize or 3}
    call(_assert_p, (cond,) + tuple(x for x in items if not isinstance(x, str)), attrs)


def Assert(condition, data, summarize=None, name=None):
    """Raises InvalidArgumentError (at run time) when ``condition`` is false.

    Args:
      condition: a scalar bool (tensor).
      data: strings and tensors to report when it fails.
      summarize: how many entries of each tensor to report (default 3).
      name: unused (TF's op name).
    """
    cond = t(condition)
    items = [x if isinstance(x, (str, Tensor)) else t(x) for x in data]
    if _eager_failed(cond):
        raise InvalidArgumentError(_msg.eager_assert_failure(condition, [
            x if isinstance(x, str) else _host(x._value) for x in items], summarize or 3))
    _run_check(cond, items, summarize)


def _name(x, default):
    trace = STATE.trace
    name = trace.graph_name(x) if trace is not None else None
    return name or default


def _binary_assert(compare, description, show_indices=False):
    def check(x, y, message=None, summarize=None, name=None):
        from dlframe.ops import math as m
        a, b = operands(x, y, "Assert")
        cond = compare(m, a, b)
        if _eager_failed(cond):
            raise InvalidArgumentError(_msg.eager_binary_failure(
                message, description, _host(a._value), _host(b._value), summarize or 3,
                show_indices))
        items = [message] if message else []
        items += [f"Condition x {description} y did not hold element-wise:",
                  f"x ({_name(a, 'x:0')}) = ", a, f"y ({_name(b, 'y:0')}) = ", b]
        _run_check(cond, items, summarize)
    check.__doc__ = (f"Checks ``x {description} y`` elementwise; raises "
                     "InvalidArgumentError (eagerly, or when the graph runs) if not.")
    return check


assert_equal = _binary_assert(lambda m, a, b: m.equal(a, b), "==", show_indices=True)
assert_none_equal = _binary_assert(lambda m, a, b: m.not_equal(a, b), "!=")
assert_less = _binary_assert(lambda m, a, b: m.less(a, b), "<")
assert_less_equal = _binary_assert(lambda m, a, b: m.less_equal(a, b), "<=")
assert_greater = _binary_assert(lambda m, a, b: m.greater(a, b), ">")
assert_greater_equal = _binary_assert(lambda m, a, b: m.greater_equal(a, b), ">=")


def _unary_assert(compare, description):
    def check(x, message=None, summarize=None, name=None):
        from dlframe.ops import math as m
        a = t(x)
        cond = compare(m, a)
        if _eager_failed(cond):
            raise InvalidArgumentError(_msg.eager_unary_failure(
                message, description, _host(a._value), a.dtype.name, summarize or 3))
        condition = f"Condition x {description} did not hold element-wise:"
        _run_check(cond, [message or "", condition, f"x ({_name(a, 'x:0')}) = ", a],
                   summarize)
    check.__doc__ = (f"Checks ``x {description}`` elementwise; raises "
                     "InvalidArgumentError (eagerly, or when the graph runs) if not.")
    return check


assert_positive = _unary_assert(lambda m, a: m.greater(a, 0), "> 0")
assert_negative = _unary_assert(lambda m, a: m.less(a, 0), "< 0")
assert_non_negative = _unary_assert(lambda m, a: m.greater_equal(a, 0), ">= 0")
assert_non_positive = _unary_assert(lambda m, a: m.less_equal(a, 0), "<= 0")


def assert_near(x, y, rtol=None, atol=None, message=None, summarize=None, name=None):
    """Checks ``|x - y| <= atol + rtol * |y|`` elementwise (defaults depend on dtype)."""
    from dlframe.ops import math as m
    a, b = operands(x, y, "Assert")
    eps = float(np.finfo(a.dtype.as_numpy_dtype).eps) if a.dtype.is_floating else 0.0
    rtol = 10 * eps if rtol is None else rtol
    atol = 10 * eps if atol is None else atol
    ok = m.less_equal(m.abs(m.subtract(a, b)), m.add(m.multiply(rtol, m.abs(b)), atol))
    items = [message] if message else []
    _run_check(ok, items + [f"x and y not equal to tolerance rtol = {rtol}, atol = {atol}",
                            "x (x:0) = ", a, "y (y:0) = ", b], summarize)


def assert_rank(x, rank, message=None, name=None):
    """Raises ValueError when the static rank of ``x`` is not ``rank``."""
    a = t(x)
    if a.ndim != int(rank):
        raise ValueError(f"{message + ' ' if message else ''}Tensor must have rank {int(rank)}."
                         f" Received rank {a.ndim}, shape {list(a.shape)}")


def assert_type(tensor, tf_type, message=None, name=None):
    """Raises TypeError unless ``tensor`` has dtype ``tf_type``."""
    a = t(tensor)
    if a.dtype != tf_type:
        raise TypeError(f"{message + ' ' if message else ''}tensor must be of type "
                        f"{tf_type}, got {a.dtype}")


def assert_shapes(shapes, data=None, summarize=None, message=None, name=None):
    """Checks tensors against symbolic shapes like ``[(x, ('N', 'D')), (y, ('N',))]``."""
    sizes = {}
    for tensor, spec in (shapes.items() if isinstance(shapes, dict) else shapes):
        shape = list(t(tensor).shape)
        spec = list(spec)
        if len(spec) != len(shape):
            raise ValueError(f"{message + ' ' if message else ''}Specified by tensor shape "
                             f"{shape}: expected rank {len(spec)}")
        for dim, want in zip(shape, spec):
            if isinstance(want, str):
                if sizes.setdefault(want, dim) != dim:
                    raise ValueError(f"{message + ' ' if message else ''}Dimension {want!r} "
                                     f"is {sizes[want]} in one tensor and {dim} in another")
            elif want is not None and int(want) != dim:
                raise ValueError(f"{message + ' ' if message else ''}expected dimension "
                                 f"{want}, got {dim} in shape {shape}")


@primitive("CheckNumerics", aliases=True)
def _check_numerics_p(d, x, *, message):
    if not bool(_host(d.xp.isfinite(x).all())):
        nan, inf = bool(_host(d.xp.isnan(x).any())), bool(_host(d.xp.isinf(x).any()))
        found = "Inf and NaN" if nan and inf else "NaN" if nan else "Inf"
        raise InvalidArgumentError(f"{message} : Tensor had {found} values")
    return x


@_check_numerics_p.defgrad
def _check_numerics_grad(inputs, out, dy, *, message):
    return dy


def check_numerics(tensor, message, name=None):
    """Returns ``tensor``, raising InvalidArgumentError if it holds NaN or Inf
    (or if it is not a floating tensor, as TF's kernel only takes floats)."""
    x = t(tensor)
    if not x.dtype.is_floating:
        raise InvalidArgumentError(
            f"Value for attr 'T' of {x.dtype.name} is not in the list of allowed "
            "values: bfloat16, half, float, double [Op:CheckNumerics]")
    return call(_check_numerics_p, (x,), {"message": message})


def set_log_device_placement(enabled):
    """Kept for TF compatibility (dlframe never places ops implicitly)."""


DEBUGGING_NAMES = [
    "Assert", "assert_equal", "assert_none_equal", "assert_less", "assert_less_equal",
    "assert_greater", "assert_greater_equal", "assert_positive", "assert_negative",
    "assert_non_negative", "assert_non_positive", "assert_near", "assert_rank",
    "assert_type", "assert_shapes", "check_numerics", "set_log_device_placement",
]
__all__ = ["Assert", "assert_equal", "assert_less", "assert_greater", "assert_rank",
           "assert_type", "check_numerics"]
