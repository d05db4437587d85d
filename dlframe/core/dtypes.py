"""TensorFlow-style DType objects (``dlframe.float32`` ...), mapped onto NumPy dtypes."""

from dlframe.backends.base import np

try:  # optional: bfloat16 through ml_dtypes (GPU.md §1.1)
    import ml_dtypes as _ml_dtypes
except ImportError:  # pragma: no cover - optional dependency
    _ml_dtypes = None


class DType:
    """A tensor element type.

    Attributes:
      name: 'float32', 'int32', ...
      as_numpy_dtype: the NumPy scalar type.
    """

    __slots__ = ("name", "_np", "as_numpy_dtype", "is_floating", "is_integer",
                 "is_complex", "is_bool", "is_unsigned", "size", "_hash")

    def __init__(self, name, np_dtype, kind):
        self.name = name
        self._np = np_dtype
        self.as_numpy_dtype = np_dtype.type if np_dtype is not None else None
        self.is_floating = kind == "f"
        self.is_integer = kind in ("i", "u")
        self.is_unsigned = kind == "u"
        self.is_complex = kind == "c"
        self.is_bool = kind == "b"
        self.size = np_dtype.itemsize if np_dtype is not None and kind != "O" else 0
        self._hash = hash(name)

    @property
    def base_dtype(self):
        return self

    @property
    def real_dtype(self):
        if self.name == "complex64":
            return float32
        if self.name == "complex128":
            return float64
        return self

    @property
    def is_numpy_compatible(self):
        return self.name != "resource"

    @property
    def is_quantized(self):
        return self.name in _QUANTIZED_NAMES

    @property
    def min(self):
        if self.is_floating:
            return _finfo(self._np).min   # a NumPy scalar of this dtype, as TF
        if self.is_integer:
            return int(np.iinfo(self._np).min)
        if self.is_bool:
            return False
        raise TypeError(f"Cannot find minimum value of {self.name}.")

    @property
    def max(self):
        if self.is_floating:
            return _finfo(self._np).max
        if self.is_integer:
            return int(np.iinfo(self._np).max)
        if self.is_bool:
            return True
        raise TypeError(f"Cannot find maximum value of {self.name}.")

    @property
    def as_datatype_enum(self):
        """TF's ``DataType`` protobuf number (``tf.float32.as_datatype_enum == 1``)."""
        return _ENUMS[self.name]

    @property
    def limits(self):
        return (self.min, self.max)

    def is_compatible_with(self, other):
        return self == as_dtype(other)

    @property
    def is_numeric(self):
        """True for integer, floating, complex and quantized types."""
        return (self.is_integer or self.is_floating or self.is_complex
                or self.is_quantized)

    def is_subtype_of(self, other):
        """TF's tracing relation: a DType is a subtype only of itself."""
        return isinstance(other, DType) and other is self

    def most_specific_common_supertype(self, others):
        """``self`` when every one of ``others`` is this dtype, else None."""
        return self if all(o is self for o in others) else None

    def __eq__(self, other):
        if other is self:
            return True
        if other is None:
            return False
        try:
            return as_dtype(other) is self
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return self._hash

    def __repr__(self):
        return f"tf.{self.name}"

    def __str__(self):
        return f"<dtype: '{self.name}'>"

    def __reduce__(self):
        return as_dtype, (self.name,)


def _finfo(np_dtype):
    if _ml_dtypes is not None and np_dtype == _BF16_NP:
        return _ml_dtypes.finfo(_ml_dtypes.bfloat16)
    return np.finfo(np_dtype)


_BF16_NP = np.dtype(_ml_dtypes.bfloat16) if _ml_dtypes is not None else None

float16 = DType("float16", np.dtype("float16"), "f")
half = float16
float32 = DType("float32", np.dtype("float32"), "f")
float64 = DType("float64", np.dtype("float64"), "f")
double = float64
int8 = DType("int8", np.dtype("int8"), "i")
int16 = DType("int16", np.dtype("int16"), "i")
int32 = DType("int32", np.dtype("int32"), "i")
int64 = DType("int64", np.dtype("int64"), "i")
uint8 = DType("uint8", np.dtype("uint8"), "u")
uint16 = DType("uint16", np.dtype("uint16"), "u")
uint32 = DType("uint32", np.dtype("uint32"), "u")
uint64 = DType("uint64", np.dtype("uint64"), "u")
bool = DType("bool", np.dtype("bool"), "b")  # noqa: A001 - TF's public name
complex64 = DType("complex64", np.dtype("complex64"), "c")
complex128 = DType("complex128", np.dtype("complex128"), "c")
string = DType("string", np.dtype("object"), "O")
bfloat16 = DType("bfloat16", _BF16_NP, "f") if _BF16_NP is not None else None

# Quantized types: names and sizes only (TF's quantized kernels have no dlframe ops);
# as in TF their NumPy type is a one-field structured dtype.
_QUANTIZED_NAMES = ("qint8", "quint8", "qint16", "quint16", "qint32")


def _quantized(name, base):
    d = DType(name, np.dtype([(name, base)]), "q")
    d.as_numpy_dtype = d._np
    return d


qint8 = _quantized("qint8", "i1")
quint8 = _quantized("quint8", "u1")
qint16 = _quantized("qint16", "<i2")
quint16 = _quantized("quint16", "<u2")
qint32 = _quantized("qint32", "<i4")
QUANTIZED_DTYPES = frozenset({qint8, quint8, qint16, quint16, qint32})

_ALL = [float16, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32,
        uint64, bool, complex64, complex128, string]
if bfloat16 is not None:
    _ALL.append(bfloat16)

_BY_NAME = {d.name: d for d in _ALL + sorted(QUANTIZED_DTYPES, key=str)}
_BY_NAME.update({"half": float16, "float": float32, "double": float64,
                 "bool_": bool, "str": string, "bytes": string, "object": string})
_BY_NP = {d._np: d for d in _ALL if d is not string}
_BY_NP[np.dtype("object")] = string
for _kind in ("U", "S"):
    pass
# TF's DataType enum values (types.proto)
_ENUMS = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6,
          "string": 7, "complex64": 8, "int64": 9, "bool": 10, "qint8": 11,
          "quint8": 12, "qint32": 13, "bfloat16": 14, "qint16": 15, "quint16": 16,
          "uint16": 17, "complex128": 18, "float16": 19, "uint32": 22, "uint64": 23}
# TF maps the Python float to float32 (tf.cast(x, float)); NumPy-style APIs map it
# to float64 themselves
_BY_PY = {float: float32, int: int64, complex: complex128, str: string, bytes: string}
_BY_PY[type(True)] = bool


def from_numpy(np_dtype):
    """DType for a NumPy dtype (fast path used by ``Tensor.dtype``)."""
    d = _BY_NP.get(np_dtype)
    if d is None:
        if np_dtype.kind in ("U", "S", "O"):
            return string
        raise TypeError(f"Unsupported NumPy dtype {np_dtype!r} for a dlframe tensor.")
    return d


def as_dtype(type_value):
    """Converts a DType, NumPy dtype/type, Python type or name string to a DType.

    Raises:
      TypeError: when ``type_value`` names no supported type.
    """
    if isinstance(type_value, DType):
        return type_value
    if isinstance(type_value, str):
        d = _BY_NAME.get(type_value)
        if d is not None:
            return d
        raise TypeError(f"Cannot convert {type_value!r} to a dlframe DType.")
    d = _BY_PY.get(type_value) if isinstance(type_value, type) else None
    if d is not None:
        return d
    if type(type_value) is int:
        # TF's DataType enum number (``tf.as_dtype(1)`` is float32)
        for name, number in _ENUMS.items():
            if number == type_value:
                return _BY_NAME[name]
        raise TypeError(f"Cannot convert {type_value!r} to a dlframe DType.")
    dt = getattr(type_value, "dtype", None)
    if isinstance(dt, DType):
        return dt
    try:
        npd = np.dtype(type_value)
    except TypeError:
        raise TypeError(f"Cannot convert {type_value!r} to a dlframe DType.") from None
    return from_numpy(npd)


def numpy_dtype(dtype):
    """The NumPy dtype behind a DType-like value."""
    return as_dtype(dtype)._np


def result_float(dtype):
    """The float dtype an op on ``dtype`` produces (ints -> float32 as in TF casts)."""
    d = as_dtype(dtype)
    return d if d.is_floating or d.is_complex else float32


__all__ = ["DType", "QUANTIZED_DTYPES", "as_dtype", "from_numpy", "numpy_dtype"] + \
    sorted({d.name for d in _ALL} | {"half", "double"} | set(_QUANTIZED_NAMES))
