"""Arg-max / arg-min reductions (``tf.math.argmax``, ``tf.math.argmin``), with TF's
``output_type`` rules and its CPU kernels' NaN handling."""

from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor
from dlframe.errors import AxisError, InvalidArgumentError
from dlframe.ops import math as m
from dlframe.ops._util import t
from dlframe.ops.late_bound import reads_values

_INDEX_TYPES = {"int16", "uint16", "int32", "int64"}
m._ALLOWED.setdefault("fiub", m._ALLOWED["fiu"] + ", bool")


def _arg(name, fn):
    p = primitive(name)(lambda d, x, *, axis, dtype: fn(d.xp)(x, axis=axis).astype(dtype))
    p.static_shape = lambda in_dims, attrs: [
        n for i, n in enumerate(in_dims[0]) if i != attrs["axis"]]

    def op(input, axis=None, output_type=dtypes.int64, name=None):  # noqa: A002
        x = t(input)
        m._check(p.name, x, "fiub")
        out = dtypes.as_dtype(output_type)
        if out.name not in _INDEX_TYPES:
            raise InvalidArgumentError(
                f"{p.name}: Value for attr 'output_type' of {out.name} is not in the list "
                f"of allowed values: int16, uint16, int32, int64 [Op:{p.name}]")
        nd = x._value.ndim
        a = 0 if axis is None else (int(axis.numpy()) if isinstance(axis, Tensor)
                                    else int(axis))
        if not -nd <= a < max(nd, 0) or nd == 0:
            raise AxisError(f"{p.name}: Expected dimension in the range [{-nd}, {nd}), but "
                            f"got {a} [Op:{p.name}]")
        a %= nd
        if x._value.shape[a] == 0:
            raise InvalidArgumentError(f"{p.name}: Reduction axis {a} is empty in shape "
                                       f"{list(x._value.shape)} [Op:{p.name}]")
        return call(p, (x,), {"axis": a, "dtype": out._np})
    op.__doc__ = (f"Index of the {'largest' if name == 'ArgMax' else 'smallest'} value "
                  "along ``axis`` (default 0; first index on ties; NaNs are skipped "
                  "unless all values are NaN), as ``output_type``.")
    return reads_values("axis", sizes_follow=True)(op)


def _skipping_nan(name, fill):
    """``xp.<name>`` with NaNs never chosen unless all values are NaN (then index 0),
    as TF's CPU kernels (NumPy would return the first NaN)."""
    def fn(xp):
        def arg(x, axis):
            if x.dtype.kind == "f" or x.dtype.kind == "V":
                nan = xp.isnan(x)
                # on a GPU always replace: ``nan.any()`` would read the device (a
                # sync per call, and an error inside a CUDA-graph capture)
                if xp.__name__ != "numpy" or nan.any():
                    x = xp.where(nan, xp.asarray(fill, dtype=x.dtype), x)
            return getattr(xp, name)(x, axis=axis)
        return arg
    return fn


argmax = _arg("ArgMax", _skipping_nan("argmax", -float("inf")))
argmin = _arg("ArgMin", _skipping_nan("argmin", float("inf")))

__all__ = []   # re-exported by dlframe.ops.reduction, which lists them in MATH_NAMES
