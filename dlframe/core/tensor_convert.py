"""Host-side conversion of Python and NumPy values into arrays, as TF infers them.

One job: turn a Python scalar, nested list, string or NumPy value into a NumPy array
with TensorFlow's dtype inference (Python ints are int32 unless they overflow,
floats float32, strings UTF-8 bytes) and its refusal rules (mixed or ragged lists,
lossy casts such as ``constant(1.0, tf.int32)``). ``dlframe.core.tensor`` wraps the
arrays into Tensors and places them on a device.
"""

from dlframe.backends.base import np
from dlframe.core import dtypes as _dt
from dlframe.core.tensor_shape import TensorShape
from dlframe.errors import UnsupportedTypeError

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_OUT_OF_RANGE = "Can't convert Python sequence with out-of-range integer to Tensor."

# the eager Tensor class, installed by core.tensor right after defining it (tensor.py
# imports this module, so importing it back would be a cycle); a list may hold
# Tensors, which are packed by value
_tensor_class = ()


def _is_host_array(value):
    return isinstance(value, (np.ndarray, np.generic))


def _infer_python(value, kinds=None, strict=True):
    """NumPy array for a Python scalar or nested list with TF's dtype inference
    (``kinds``: the list's ``_leaf_kinds`` when the caller has them; ``strict``:
    the dtype is inferred, not requested, so TF's mixed-type rules apply)."""
    if isinstance(value, bool):
        return np.asarray(value, dtype=np.bool_)
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            if strict:   # an inferred dtype is at most int64
                raise ValueError(_OUT_OF_RANGE)
            return np.asarray(value, dtype=np.uint64 if 0 <= value < 2**64
                              else np.float64)
        return np.asarray(value, dtype=np.int32 if _INT32_MIN <= value <= _INT32_MAX
                          else np.int64)
    if isinstance(value, float):
        return np.asarray(value, dtype=np.float32)
    if isinstance(value, complex):
        return np.asarray(value, dtype=np.complex128)
    if isinstance(value, (str, bytes)):
        return np.asarray(value.encode() if isinstance(value, str) else value, dtype=object)
    if isinstance(value, (list, tuple)):
        kinds = _leaf_kinds(value) if kinds is None else kinds
        if kinds & _TENSOR_LEAF:
            return _pack_nested(value)
        if kinds & _STRING_LEAF:
            # build the object array directly: NumPy's fixed-width 'S' dtype would
            # silently drop trailing NUL bytes
            return _string_array(value)
        if kinds & _MIXABLE_LEAVES:
            _check_mixed(value, kinds, strict)
        try:
            arr = np.asarray(value)
        except ValueError:   # NumPy's "inhomogeneous shape" of a ragged list
            raise ValueError("Can't convert non-rectangular Python sequence to Tensor: "
                             f"{_short_repr(value)}") from None
        kind = arr.dtype.kind
        if kind == "O":
            _refuse_objects(value)
            if kinds & _NUMBER_LEAF:   # NumPy keeps ints beyond 64 bits as objects
                if strict:
                    raise ValueError(_OUT_OF_RANGE)
                return np.asarray(value, dtype=np.float64)
        if arr.dtype == np.uint64 and strict and not kinds & _NUMPY_LEAF:
            raise ValueError(_OUT_OF_RANGE)   # [2**63]: TF infers int64 only
        if kind == "c" and strict:   # TF: a list led by a complex is complex128
            return arr.astype(np.complex128)
        if kind == "f" and kinds & _NUMPY_LEAF:
            # TF: the first leaf's type decides ([np.float32(1), 2.0] is float32,
            # a leading Python float makes float32)
            first = _first_leaf(value)
            want = first.dtype if _is_host_array(first) and first.dtype.kind == "f" \
                else np.float32
            return arr.astype(want) if arr.dtype != want else arr
        if kind == "f" and arr.dtype == np.float64:
            return arr.astype(np.float32)
        if kind in "iu" and kinds & _NUMPY_LEAF and arr.dtype != np.uint64:
            arr = arr.astype(np.int64)   # NumPy integers infer like Python ints
        if kind in "iu" and arr.dtype == np.int64 and (
                arr.size == 0 or (arr.min() >= _INT32_MIN and arr.max() <= _INT32_MAX)):
            return arr.astype(np.int32)
        if kind in ("U", "S"):
            return np.vectorize(lambda s: s.encode() if isinstance(s, str) else s,
                                otypes=[object])(arr)
        if arr.size == 0 and arr.dtype == np.float64:
            return arr.astype(np.float32)
        return arr
    return None


def _first_leaf(seq):
    """The first non-list leaf of a nested list (None for an empty one)."""
    while isinstance(seq, (list, tuple)):
        if not seq:
            return None
        seq = seq[0]
    return seq


def _string_array(seq):
    def enc(item):
        if isinstance(item, (list, tuple)):
            return [enc(i) for i in item]
        if item is None or _leaf_bits(item):   # TF refuses ["a", 1], ["a", None]
            raise ValueError(_MIXED_TYPES)
        return item.encode() if isinstance(item, str) else item
    if _first_leaf(seq) is None:
        _refuse_objects(seq)   # [None, "a"]: None is the unsupported value
    nested = enc(seq)
    shape = np.shape(np.asarray(nested, dtype=object)) if nested else (0,)
    out = np.empty(shape, dtype=object)
    flat = out.reshape(-1)

    def fill(item, pos):
        if isinstance(item, list):
            for i in item:
                pos = fill(i, pos)
            return pos
        flat[pos] = item
        return pos + 1
    fill(nested, 0)
    return out


_TENSOR_LEAF, _STRING_LEAF, _NUMPY_LEAF = 1, 2, 4
# the leaf classes TF's list inference keeps apart (Python bool, NumPy bool,
# complex, other numbers)
_BOOL_LEAF, _NP_BOOL_LEAF, _COMPLEX_LEAF, _NUMBER_LEAF = 8, 16, 32, 64
_MIXABLE_LEAVES = _BOOL_LEAF | _NP_BOOL_LEAF | _COMPLEX_LEAF
_PLAIN_LEAF_BITS = {int: _NUMBER_LEAF, float: _NUMBER_LEAF, bool: _BOOL_LEAF,
                    complex: _COMPLEX_LEAF}
_NUMPY_KIND_BITS = {"b": _NP_BOOL_LEAF, "c": _COMPLEX_LEAF, "i": _NUMBER_LEAF,
                    "u": _NUMBER_LEAF, "f": _NUMBER_LEAF}
# what may follow a first leaf of each class when TF infers the dtype: Python
# bools pass as numbers after a number, NumPy bools never mix, nothing but a
# complex list takes complex values
_ALLOWED_AFTER = {
    _BOOL_LEAF: _BOOL_LEAF | _NP_BOOL_LEAF,
    _NP_BOOL_LEAF: _BOOL_LEAF | _NP_BOOL_LEAF,
    _NUMBER_LEAF: _NUMBER_LEAF | _BOOL_LEAF,
    _COMPLEX_LEAF: _COMPLEX_LEAF | _NUMBER_LEAF | _BOOL_LEAF,
}
_MIXED_TYPES = "Can't convert Python sequence with mixed types to Tensor."


def _leaf_bits(item):
    """The class bits of one scalar leaf (0 for a non-number)."""
    bits = _PLAIN_LEAF_BITS.get(type(item))
    if bits is not None:
        return bits
    if _is_host_array(item):
        return _NUMPY_KIND_BITS.get(item.dtype.kind, 0)
    return 0


def _leaf_kinds(seq):
    """Bit set of what a nested list holds: Tensors, strings, NumPy scalars/arrays
    and the number classes of its leaves (one pass over the leaves)."""
    kinds = 0
    for item in seq:
        bits = _PLAIN_LEAF_BITS.get(type(item))
        if bits is not None:
            kinds |= bits
        elif isinstance(item, (list, tuple)):
            kinds |= _leaf_kinds(item)
        elif isinstance(item, _tensor_class):
            kinds |= _TENSOR_LEAF
        elif isinstance(item, (str, bytes)):
            kinds |= _STRING_LEAF
        elif _is_host_array(item):
            kinds |= _NUMPY_LEAF | _NUMPY_KIND_BITS.get(item.dtype.kind, 0)
    return kinds


def _check_mixed(seq, kinds, strict):
    """TF's ValueError for a list mixing bools, numbers and complex values: with an
    inferred dtype the first leaf's class decides what may follow; a requested
    dtype still refuses NumPy bools among numbers."""
    if strict:
        first = _leaf_bits(_first_leaf(seq))
        allowed = _ALLOWED_AFTER.get(first, ~0)
    else:
        allowed = ~0 if not kinds & _NP_BOOL_LEAF else _BOOL_LEAF | _NP_BOOL_LEAF
    if kinds & (_MIXABLE_LEAVES | _NUMBER_LEAF) & ~allowed:
        raise ValueError(_MIXED_TYPES)


def _refuse_objects(seq):
    """TF's errors for a list holding a non-number (None, an arbitrary object):
    unsupported when it leads the list, a mixed-type list otherwise."""
    def leaves(s):
        for item in s:
            if isinstance(item, (list, tuple)):
                yield from leaves(item)
            else:
                yield item
    for pos, item in enumerate(leaves(seq)):
        if not _leaf_bits(item) and not isinstance(item, (str, bytes)):
            if pos == 0:
                raise UnsupportedTypeError(
                    f"Attempt to convert a value ({_short_repr(item)}) with an "
                    f"unsupported type ({type(item)}) to a Tensor.")
            raise ValueError(_MIXED_TYPES)


def _pack_nested(seq):
    """Host array for a list that contains Tensors (TF packs them)."""
    def to_host(s):
        if isinstance(s, _tensor_class):
            return s.numpy()
        if isinstance(s, (list, tuple)):
            return [to_host(i) for i in s]
        return s
    parts = to_host(seq)
    first = next(iter(_leaves(seq)))
    return np.asarray(parts, dtype=first._value.dtype)


def _leaves(s):
    for i in s:
        if isinstance(i, (list, tuple)):
            yield from _leaves(i)
        elif isinstance(i, _tensor_class):
            yield i


def _host_value(value, dtype, kinds=None, strict=None):
    """Host NumPy array for ``value`` converted to ``dtype`` (a DType or None;
    ``strict``: apply TF's mixed-list rules of inference, default when no dtype)."""
    strict = dtype is None if strict is None else strict
    if _is_host_array(value):
        arr = np.asarray(value)
        if arr.dtype.kind == "U":   # string tensors hold UTF-8 bytes, as in TF
            arr = np.vectorize(str.encode, otypes=[object])(arr) if arr.size else \
                arr.astype(object)
        elif arr.dtype.kind == "S":
            arr = arr.astype(object)
        elif arr.dtype == object and arr.size and isinstance(arr.flat[0], str):
            # an object array of str (a pandas column): UTF-8 bytes, as TF
            arr = np.vectorize(lambda s: s.encode() if isinstance(s, str) else s,
                               otypes=[object])(arr)
        if dtype is not None and arr.dtype != dtype._np:
            arr = _cast_host(arr, dtype, value)
        return arr
    if dtype is not None and isinstance(value, (list, tuple)):
        kinds = _leaf_kinds(value) if kinds is None else kinds
        if kinds & _MIXABLE_LEAVES and not kinds & (_TENSOR_LEAF | _STRING_LEAF):
            _check_requested(value, kinds, dtype)
    arr = _infer_python(value, kinds, strict=strict)
    if arr is None:
        if isinstance(value, range):   # TF converts a range like the list it spans
            return _host_value(list(value), dtype, strict=strict)
        if isinstance(value, TensorShape):   # tf.constant(x.shape)
            if not value.is_fully_defined():
                raise ValueError(f"Cannot convert a partially known TensorShape "
                                 f"{value} to a Tensor.")
            return _host_value(value.as_list(), dtype, strict=strict)
        if hasattr(value, "__array__"):
            return _host_value(np.asarray(value), dtype)
        raise UnsupportedTypeError(
            f"Attempt to convert a value ({_short_repr(value)}) with an unsupported type "
            f"({type(value)}) to a Tensor.")
    if dtype is not None and arr.dtype != dtype._np:
        if arr.dtype == np.float32 and dtype._np.itemsize > 4 and dtype._np.kind in "fc":
            # Python floats default to float32; re-read them at full precision so
            # constant(1.3, float64) is not rounded through float32
            arr = np.asarray(_infer_python_f64(value))
        arr = _cast_host(arr, dtype, value)
    return arr


def _short_repr(value, limit=200):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _infer_python_f64(value):
    if isinstance(value, (list, tuple)):
        return [_infer_python_f64(v) for v in value]
    if isinstance(value, _tensor_class):
        return value.numpy()
    return value


def _cast_host(arr, dtype, original):
    target = dtype._np
    if dtype is _dt.string:
        if arr.dtype == object:
            return arr
        if arr.size == 0:   # constant([], tf.string): an empty string tensor
            return np.empty(arr.shape, dtype=object)
        if _is_host_array(original):
            raise ValueError("Failed to convert a NumPy array to a Tensor (Unsupported "
                             f"object type {type(arr.flat[0].item()).__name__}).")
        raise TypeError(f"Cannot convert {original!r} to EagerTensor of dtype string")
    if arr.dtype == object:
        raise TypeError(f"Cannot convert {original!r} to EagerTensor of dtype {dtype.name}")
    if (arr.size == 0 or _is_host_array(original)) and arr.dtype.kind in "fiub" \
            and dtype._np.kind in "fiuc":
        # TF casts NumPy input to the requested numeric dtype (truncating floats),
        # while Python floats never become integers (below)
        with np.errstate(invalid="ignore", over="ignore"):
            return arr.astype(target)
    lossy = (arr.dtype.kind == "f" and dtype.is_integer) or \
        (arr.dtype.kind == "c" and not dtype.is_complex)
    if lossy and arr.size:   # TF: constant(1.0, tf.int32) is a TypeError even for
        # whole numbers; an empty list (read as float32) has no values to lose
        if arr.dtype.kind == "f" and _only_ints(original):
            # ints beyond int64 (NumPy reads them as floats): [1, 2**63] is a
            # valid uint64 list, anything else is out of range
            return _big_python_ints(original, target)
        raise TypeError(f"Cannot convert {original!r} to EagerTensor of dtype {dtype.name}")
    if arr.dtype.kind == "b" and arr.size and target not in BOOL_READERS and \
            not _is_host_array(original):
        # TF: constant(True, tf.uint8) is a TypeError, constant(True, tf.int32) is 1
        raise TypeError(f"Cannot convert {original!r} to EagerTensor of dtype "
                        f"{dtype.name}")
    if dtype.is_integer and arr.size:
        if arr.dtype.kind in "iu":
            return wrap_python_ints(arr, target, original)
    if dtype.is_bool and arr.dtype.kind != "b" and arr.size:
        raise TypeError(f"Cannot convert {original!r} to EagerTensor of dtype bool")
    return arr.astype(target)


# the dtypes whose TF converters read Python bools directly (others refuse them)
BOOL_READERS = frozenset(np.dtype(d) for d in (
    np.bool_, np.int32, np.int64, np.uint64, np.float16, np.float32, np.float64,
    np.complex128))
# what each such converter reads from a list's leaves: Python types and NumPy kinds
_DIRECT_LEAVES = {
    **dict.fromkeys(("int32", "int64", "uint64"), ((bool, int), "iu")),
    **dict.fromkeys(("float16", "float32", "float64"), ((bool, int, float), "iuf")),
    "complex128": ((bool, int, float, complex), "iufc"),
    "bool": ((bool,), "b"),
}


def _reads_directly(seq, dtype):
    """Whether TF's converter for ``dtype`` reads every leaf of ``seq`` as is."""
    spec = _DIRECT_LEAVES.get(dtype.name)
    if spec is None:
        return False
    types, kinds = spec
    for item in _all_leaves(seq):
        if type(item) not in types and not (
                _is_host_array(item) and item.dtype.kind in kinds):
            return False
    return True


def _all_leaves(s):
    for item in s:
        if isinstance(item, (list, tuple)):
            yield from _all_leaves(item)
        else:
            yield item


def _check_requested(seq, kinds, dtype):
    """TF's rules for a list of bools/complex values converted to ``dtype``: unless
    the dtype's converter reads every leaf directly, TF infers the list's dtype (its
    mixed-type ValueError applies) and casts it, which a bool list survives only
    into bool (``constant([True, 2], tf.uint8)`` and ``constant([True, 1.5],
    tf.int32)`` are mixed lists; ``constant([True, np.False_], tf.int32)`` a
    TypeError)."""
    if _reads_directly(seq, dtype):
        return
    _check_mixed(seq, kinds, strict=True)
    if _leaf_bits(_first_leaf(seq)) & (_BOOL_LEAF | _NP_BOOL_LEAF) and \
            not dtype.is_bool:
        raise TypeError(f"Cannot convert {_short_repr(seq)} to EagerTensor of dtype "
                        f"{dtype.name}")


def _big_python_ints(value, target):
    """Python ints beyond int64 as ``target``: uint64 takes ``[0, 2**64)``."""
    if target == np.uint64:
        try:
            return np.asarray(value, dtype=np.uint64)
        except OverflowError:
            # TF 2.21 raises a SystemError for both; a TypeError names the cause
            why = "negative value" if _min_int(value) < 0 else "value >= 2**64"
            raise TypeError(f"Cannot convert {_short_repr(value)} to EagerTensor "
                            f"of dtype uint64: {why}") from None
    raise ValueError(_OUT_OF_RANGE)


def _min_int(value):
    if isinstance(value, (list, tuple)):
        return min((_min_int(v) for v in value), default=0)
    return value


def _only_ints(value):
    """Whether a Python scalar or nested list holds only (non-bool) ints."""
    if isinstance(value, (list, tuple)):
        return all(_only_ints(v) for v in value)
    return isinstance(value, int) and not isinstance(value, bool)


def wrap_python_ints(arr, target, original):
    """Python ints (read into ``arr``) converted to integer NumPy dtype ``target``.

    TF casts them like C: any value in the int64 range wraps modulo ``2**bits``
    (``constant(300, tf.uint8)`` is 44, ``constant(-1, tf.uint16)`` is 65535);
    uint64 also takes ``[2**63, 2**64)``. Beyond that TF raises ValueError.

    Args:
        arr: int64 or uint64 NumPy array of the values.
        target: the requested NumPy integer dtype.
        original: the value as given, for the error message.

    Returns:
        ``arr`` cast to ``target``.
    """
    target = np.dtype(target)
    if arr.dtype == target:
        return arr
    if target == np.uint64:
        if arr.dtype.kind == "i" and arr.size and arr.min() < 0:
            # TF 2.21 fails here with a SystemError; a TypeError says why
            raise TypeError(f"Cannot convert {_short_repr(original)} to EagerTensor "
                            f"of dtype uint64: negative value")
        return arr.astype(target)
    if arr.dtype == np.uint64 and arr.size and arr.max() > _INT64_MAX:
        raise ValueError(_OUT_OF_RANGE)
    return arr.astype(np.int64).astype(target)
