"""More ``tf.debugging`` checks: static rank/dtype assertions (raised while the
program is built, as TF does for known shapes), ``assert_all_finite`` and the
check-numerics / traceback-filtering switches."""

import sys

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.tensor import Tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops import debugging as _dbg
from dlframe.ops._util import t

# the module (``dlframe.core.primitive`` the name is the decorator): NUMERICS_CHECK
_primitive = sys.modules["dlframe.core.primitive"]
_STATE = {"traceback_filtering": True, "check_numerics": False}


def assert_scalar(tensor, name=None, message=None):
    """Raises ValueError unless ``tensor`` is a scalar; returns None (TF2 eager)."""
    x = t(tensor)
    if x.ndim != 0:
        prefix = f"{message} " if message else ""
        raise ValueError(f"{prefix}Expected scalar shape, saw shape: {tuple(x.shape)}.")


def _rank_error(x, what, message, name):
    prefix = f"{message}.  " if message else ""
    return ValueError(f"{prefix}Tensor {name or ''} must have rank {what}.  Received "
                      f"rank {x.ndim}, shape {tuple(x.shape)}")


def assert_rank_at_least(x, rank, message=None, name=None):
    """Raises ValueError when ``x``'s rank is below ``rank``."""
    x = t(x)
    if x.ndim < int(rank):
        raise _rank_error(x, f"at least {int(rank)}", message, name)


def assert_rank_in(x, ranks, message=None, name=None):
    """Raises ValueError unless ``x``'s rank is one of ``ranks``."""
    x = t(x)
    ranks = tuple(int(r) for r in ranks)
    if x.ndim not in ranks:
        raise _rank_error(x, f"in {ranks}", message, name)


def assert_integer(x, message=None, name=None):
    """Raises TypeError unless ``x`` has an integer dtype."""
    x = t(x)
    if not x.dtype.is_integer:
        prefix = f"{message}  " if message else ""
        raise TypeError(f'{prefix}Expected "{name or "x"}" to be integer type.  Found: '
                        f"tensor of dtype {x.dtype!r}")


def assert_same_float_dtype(tensors=None, dtype=None):
    """The common floating dtype of ``tensors`` (and ``dtype``); float32 when neither
    gives one.

    Raises:
      ValueError: for mixed or non-floating dtypes.
    """
    want = dtypes.as_dtype(dtype) if dtype is not None else None
    first = None
    for x in tensors or ():
        x = t(x)
        if want is None:
            want, first = x.dtype, x
        elif x.dtype != want:
            raise ValueError(f"{x!r}, type={x.dtype!r}, must be of the same type ({want!r})"
                             + (f" as {first!r}." if first is not None else "."))
    want = want or dtypes.float32
    if not want.is_floating:
        raise ValueError(f"Expected floating point type, got {want!r}.")
    return want


def assert_all_finite(x, message, name=None):
    """Returns ``x``, raising InvalidArgumentError (when it runs) on NaN or Inf."""
    return _dbg.check_numerics(x, message)


def assert_proper_iterable(values):
    """Raises TypeError for a tensor, string/bytes or non-iterable ``values``."""
    if isinstance(values, (Tensor, str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError('Expected argument "values" to be a "proper" iterable.  Found: '
                        f"{type(values)}")


def is_numeric_tensor(tensor):
    """Whether ``tensor`` is a Tensor of a numeric (not string/bool) dtype."""
    return isinstance(tensor, Tensor) and (tensor.dtype.is_floating or
                                           tensor.dtype.is_integer or
                                           tensor.dtype.is_complex)


def _is_checked(dtype):
    """TF checks floating outputs only (bfloat16 too; complex and integers not)."""
    return getattr(dtype, "kind", "") == "f" or getattr(dtype, "name", "") == "bfloat16"


def _bad_counts(xp, value):
    """[(label, count)] of -Inf, +Inf and NaN in a float array; [] when finite."""
    if not _is_checked(getattr(value, "dtype", None)) or \
            bool(_dbg._host(xp.isfinite(value).all())):
        return []
    values = _dbg._host(value)
    return [(label, int(count)) for label, count in (
        ("-Inf", (values == -np.inf).sum()), ("+Inf", (values == np.inf).sum()),
        ("+NaN", np.isnan(values).sum())) if count]


def _numerics_error(op_name, where, k, n_out, value, counts, inputs=()):
    lines = [(f"!!! Detected Infinity or NaN in output {k} of {where} op "
              f'"{op_name}" (# of outputs: {n_out}) !!!'),
             f"  dtype: {dtypes.as_dtype(value.dtype)!r}", f"  shape: {tuple(value.shape)}"]
    lines += [f"  # of {label} elements: {count}" for label, count in counts]
    lines += [f"  Input tensor: {x!r}" for x in inputs]
    found = " and ".join(sorted({"NaN" if lb == "+NaN" else "Inf" for lb, _ in counts},
                                reverse=True))
    return InvalidArgumentError("\n".join(lines) + f"\n : Tensor had {found} values")


class _NumericsChecker:
    """``NUMERICS_CHECK`` while ``enable_check_numerics`` is on: called on every
    eager op's outputs, and asked for a checked copy of a compiled graph's program
    (a ``dlframe.function`` graph runs its nodes without ``call``)."""

    def __init__(self):
        self._programs = {}

    def __call__(self, prim, inputs, outs):
        if prim is _dbg._check_numerics_p:   # raises its own, clearer error
            return
        outs = outs if isinstance(outs, tuple) else (outs,)
        # an op run while a function is traced is a graph op
        where = "eagerly-executing" if _primitive.STATE.trace is None else "graph"
        _check_outputs(prim.name, where, outs[0]._device.xp,
                       [out._value for out in outs], inputs)

    def checked_program(self, program, node_names):
        """``program`` (a graph's steps) with every node's outputs checked."""
        entry = self._programs.get(id(program))
        if entry is None:
            if len(node_names) != len(program):   # fused steps: name them by kernel
                node_names = [getattr(s[0], "__name__", "Fused") for s in program]
            checked = [(_checked_forward(step[0], name),) + tuple(step[1:])
                       if not _is_fused(step[0]) else
                       (_checked_fused(step[0]),) + tuple(step[1:])
                       for step, name in zip(program, node_names)]
            # the program is kept with its copy, so its id stays unique
            entry = self._programs[id(program)] = (program, checked)
        return entry[1]


def _check_outputs(name, where, xp, values, inputs=()):
    """Raises ``_numerics_error`` for the first of an op's output arrays ``values``
    holding NaN or Inf."""
    for k, value in enumerate(values):
        counts = _bad_counts(xp, value)
        if counts:
            raise _numerics_error(name, where, k, len(values), value, counts, inputs)


def _is_fused(forward):
    """Whether a program step runs a fused elementwise chain (GPU graphs)."""
    return hasattr(forward, "steps") and hasattr(forward, "plain")


def _checked_fused(fused):
    """A fused chain run op by op, each member's output checked under its own name
    (TF names the op that produced the NaN, not the kernel it was fused into)."""
    names = fused.name.split("+")

    def checked(device, *ext):
        vals = []
        for (forward, refs, attrs), name in zip(fused.steps, names):
            out = forward(device, *[ext[i] if kind == "e" else vals[i]
                                    for kind, i in refs], **attrs)
            _check_outputs(name, "graph", device.xp, (out,))
            vals.append(out)
        return vals[-1]
    return checked


def _checked_forward(forward, name):
    def checked(device, *arrays, **attrs):
        result = forward(device, *arrays, **attrs)
        _check_outputs(name, "graph", device.xp,
                       result if isinstance(result, (tuple, list)) else (result,))
        return result
    return checked


def enable_check_numerics(stack_height_limit=30, path_length_limit=50):
    """Makes every op (eager, or a node of a compiled ``tf.function`` graph) raise
    InvalidArgumentError when a floating output holds NaN or Inf.

    Args:
      stack_height_limit: kept for TF compatibility (dlframe reports no stack).
      path_length_limit: kept for TF compatibility.
    """
    _STATE["check_numerics"] = True
    if _primitive.NUMERICS_CHECK is None:
        _primitive.NUMERICS_CHECK = _NumericsChecker()


def disable_check_numerics():
    """Turns off ``enable_check_numerics``."""
    _STATE["check_numerics"] = False
    _primitive.NUMERICS_CHECK = None


def enable_traceback_filtering():
    """Kept for TF compatibility (dlframe tracebacks are not filtered)."""
    _STATE["traceback_filtering"] = True


def disable_traceback_filtering():
    """Kept for TF compatibility."""
    _STATE["traceback_filtering"] = False


def is_traceback_filtering_enabled():
    """The flag set by ``enable/disable_traceback_filtering``."""
    return _STATE["traceback_filtering"]


def get_log_device_placement():
    """Always False (dlframe never logs placements)."""
    return False


DEBUGGING_NAMES = [
    "assert_scalar", "assert_rank_at_least", "assert_rank_in", "assert_integer",
    "assert_same_float_dtype", "assert_all_finite", "assert_proper_iterable",
    "is_numeric_tensor", "enable_check_numerics", "disable_check_numerics",
    "enable_traceback_filtering", "disable_traceback_filtering",
    "is_traceback_filtering_enabled", "get_log_device_placement",
]
__all__ = [
    "assert_integer",
    "assert_proper_iterable",
    "assert_rank_at_least",
    "assert_rank_in",
    "assert_same_float_dtype",
    "assert_scalar",
    "is_numeric_tensor",
]
