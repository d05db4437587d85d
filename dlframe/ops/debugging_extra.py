"""More ``tf.debugging`` checks: static rank/dtype assertions (raised while the
program is built, as TF does for known shapes), ``assert_all_finite`` and the
check-numerics / traceback-filtering switches."""

from dlframe.core import dtypes
from dlframe.core.tensor import Tensor
from dlframe.ops import debugging as _dbg
from dlframe.ops._util import t

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


def enable_check_numerics(stack_height_limit=30, path_length_limit=50):
    """Recorded only: use ``tf.debugging.check_numerics`` on the tensors to check."""
    _STATE["check_numerics"] = True


def disable_check_numerics():
    """Turns off ``enable_check_numerics``."""
    _STATE["check_numerics"] = False


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
