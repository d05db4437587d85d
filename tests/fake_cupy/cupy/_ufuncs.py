"""Strict ufuncs of the fake CuPy and the ``ndarray`` operators built on them.

CuPy's ufuncs accept device arrays, Python scalars and NumPy scalars only: a host
``numpy.ndarray`` (even 0-d) or a list is a TypeError ("Unsupported type").
"""

import numpy

from cupy._core import is_scalar, ndarray, refuse_cublas, reject_host, wrap


def _operand(value, name):
    if isinstance(value, ndarray):
        return value._a
    if isinstance(value, numpy.ndarray):
        reject_host(value, f"cupy.{name}")
    if value is None or is_scalar(value):
        return value
    raise TypeError(f"Unsupported type {type(value)} in cupy.{name}")


def _out_kwargs(name, kwargs):
    out = kwargs.get("out")
    if out is None:
        return kwargs, None
    outs = out if isinstance(out, tuple) else (out,)
    for o in outs:
        if o is not None and not isinstance(o, ndarray):
            raise TypeError(f"Output array of cupy.{name} must be a cupy.ndarray, "
                            f"got {type(o)}")
    host = tuple(None if o is None else o._a for o in outs)
    kwargs = dict(kwargs, out=host if isinstance(out, tuple) else host[0])
    return kwargs, out


def _kw(name, kwargs):
    return {k: (_operand(v, name) if k == "where" else v) for k, v in kwargs.items()}


class ufunc:
    """A NumPy ufunc run on the wrapped data with CuPy's argument rules."""

    def __init__(self, np_ufunc):
        self._u = np_ufunc
        self.__name__ = np_ufunc.__name__
        self.nin = np_ufunc.nin
        self.nout = np_ufunc.nout
        self.nargs = np_ufunc.nargs
        self.types = np_ufunc.types
        self.identity = np_ufunc.identity

    def __repr__(self):
        return f"<ufunc 'cupy_{self.__name__}'>"

    def _run(self, method, args, kwargs):
        kwargs, out = _out_kwargs(self.__name__, kwargs)
        host = [_operand(a, self.__name__) for a in args]
        result = method(*host, **_kw(self.__name__, kwargs))
        return out if out is not None else wrap(result)

    def __call__(self, *args, **kwargs):
        if self.__name__ == "matmul":
            refuse_cublas("matmul", *args)
        return self._run(self._u, args, kwargs)

    def reduce(self, array, *args, **kwargs):
        return self._run(self._u.reduce, (array,) + args, kwargs)

    def accumulate(self, array, *args, **kwargs):
        return self._run(self._u.accumulate, (array,) + args, kwargs)

    def reduceat(self, array, indices, *args, **kwargs):
        if not isinstance(indices, ndarray) and not is_scalar(indices):
            raise TypeError(f"Unsupported type {type(indices)} in cupy.{self.__name__}"
                            ".reduceat")
        return self._run(self._u.reduceat, (array, indices) + args, kwargs)

    def outer(self, a, b, **kwargs):
        return self._run(self._u.outer, (a, b), kwargs)

    def at(self, a, indices, b=None):
        if not isinstance(a, ndarray):
            raise TypeError(f"cupy.{self.__name__}.at needs a cupy.ndarray, got {type(a)}")
        idx = indices if isinstance(indices, tuple) else (indices,)
        idx = tuple(_operand(i, self.__name__ + ".at") if not isinstance(i, slice)
                    else i for i in idx)
        args = () if b is None else (_operand(b, self.__name__ + ".at"),)
        check_at(self.__name__, a.dtype)
        args = tuple(like_cupy_at(self.__name__, a.dtype, v) for v in args)
        self._u.at(a._a, idx if isinstance(indices, tuple) else idx[0], *args)


# ``ufunc.at`` dtypes as CuPy 14.2 on an H100 takes them (subtract: int32/uint32
# only; multiply/true_divide/floor_divide.at: none)
_AT_FLOATS = {"float16", "float32", "float64"}
_AT_DTYPES = {"add": {"int32", "int64", "uint32", "uint64"} | _AT_FLOATS,
              "subtract": {"int32", "uint32"},
              "maximum": {"int32", "int64", "uint32", "uint64", "float32", "float64"},
              "minimum": {"int32", "int64", "uint32", "uint64", "float32", "float64"},
              "multiply": set(), "true_divide": set(), "floor_divide": set(),
              "divide": set()}


def check_at(name, dtype):
    """Refuses the ``<name>.at`` calls real CuPy refuses: NotImplementedError for a
    ufunc without ``.at``, TypeError for a dtype it does not take."""
    allowed = _AT_DTYPES.get(name)
    if allowed is not None and not allowed:
        raise NotImplementedError(f"`cupy_{name}.at` is not supported yet")
    if allowed is not None and numpy.dtype(dtype).name not in allowed:
        raise TypeError(f"cupy.{name}.at only supports {', '.join(sorted(allowed))}, "
                        "as data type")


def like_cupy_at(name, dtype, value):
    """CuPy 14.2's float64 max/min atomics work in float32 precision (measured on an
    H100): the fake rounds the values the same way."""
    if name in ("maximum", "minimum") and numpy.dtype(dtype) == numpy.float64:
        return numpy.asarray(value, numpy.float64).astype(numpy.float32).astype(
            numpy.float64)
    return value


UFUNCS = {name: ufunc(obj) for name, obj in vars(numpy).items()
          if isinstance(obj, numpy.ufunc)}


def _binary(name, reflected=False, inplace=False):
    uf = UFUNCS[name]

    def op(self, other):
        if other is None or not (isinstance(other, (ndarray, numpy.ndarray))
                                 or is_scalar(other)):
            if isinstance(other, (list, tuple)):
                raise TypeError(f"Unsupported type {type(other)}")
            return NotImplemented
        if inplace:
            return uf(self, other, out=self)
        return uf(other, self) if reflected else uf(self, other)
    return op


_OPS = {"add": "add", "sub": "subtract", "mul": "multiply", "truediv": "true_divide",
        "floordiv": "floor_divide", "mod": "remainder", "pow": "power",
        "matmul": "matmul", "and": "bitwise_and", "or": "bitwise_or",
        "xor": "bitwise_xor", "lshift": "left_shift", "rshift": "right_shift"}
for _short, _name in _OPS.items():
    setattr(ndarray, f"__{_short}__", _binary(_name))
    setattr(ndarray, f"__r{_short}__", _binary(_name, reflected=True))
    setattr(ndarray, f"__i{_short}__", _binary(_name, inplace=True))
for _short, _name in {"lt": "less", "le": "less_equal", "gt": "greater",
                      "ge": "greater_equal", "eq": "equal", "ne": "not_equal"}.items():
    setattr(ndarray, f"__{_short}__", _binary(_name))
ndarray.__hash__ = None
ndarray.__divmod__ = lambda self, o: UFUNCS["divmod"](self, o)
ndarray.__neg__ = lambda self: UFUNCS["negative"](self)
ndarray.__pos__ = lambda self: UFUNCS["positive"](self)
ndarray.__abs__ = lambda self: UFUNCS["absolute"](self)
ndarray.__invert__ = lambda self: UFUNCS["invert"](self)
