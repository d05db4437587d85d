"""String ops (``tf.strings``) on host string tensors: NumPy object arrays of bytes,
always on the CPU (as TF keeps strings on the host).

Hashing follows TF bit for bit: ``to_hash_bucket_fast`` and ``fingerprint`` use
FarmHash's 64-bit fingerprint (farmhashna::Hash64), ``to_hash_bucket_strong`` uses
SipHash-2-4; both are in ``dlframe.ops.string_hashes``.
"""

import math as _math
import re as _re

from dlframe.backends.base import np as _np
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError, ShapeMismatchError
from dlframe.ops.string_hashes import _M, fingerprint64, murmur64a, siphash24
from dlframe.ops.strings_core import (  # noqa: F401 - re-exported
    _apply,
    _b,
    _map,
    _str_tensor,
    _strings,
    ragged_rows,
    string_map_p,
    string_rows,
    string_rows_p,
)
from dlframe.ops.strings_regex import (  # noqa: F401 - re-exported
    _scalar_str,
    regex_full_match,
    regex_replace,
)


def _lower_utf8(v):
    return v.decode().lower().encode()


def _upper_utf8(v):
    return v.decode().upper().encode()


def _ascii_lower(v):
    return v.lower()


def _ascii_upper(v):
    return v.upper()


def _strip(v):
    return v.strip()


def lower(input, encoding="", name=None):
    """Lower-cases strings (ASCII only unless ``encoding='utf-8'``)."""
    return _apply(_strings(input, "StringLower"),
                  _lower_utf8 if encoding.lower().replace("-", "") == "utf8" else _ascii_lower)


def upper(input, encoding="", name=None):
    """Upper-cases strings (ASCII only unless ``encoding='utf-8'``)."""
    return _apply(_strings(input, "StringUpper"),
                  _upper_utf8 if encoding.lower().replace("-", "") == "utf8" else _ascii_upper)


def strip(input, name=None):
    """Removes leading and trailing whitespace."""
    return _apply(_strings(input, "StringStrip"), _strip)


def _len_bytes(v):
    return len(v)


def _len_chars(v):
    return len(v.decode())


def length(input, unit="BYTE", name=None):   # TF 2 order (v1: name first)
    """String lengths in bytes or ('UTF8_CHAR') in Unicode characters, int32."""
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise ValueError(f"unit must be 'BYTE' or 'UTF8_CHAR', got {unit!r}")
    return _apply(_strings(input, "StringLength"),
                  _len_bytes if unit == "BYTE" else _len_chars, "int32")


# the smallest magnitude float32 rounding sends to infinity (FLT_MAX plus half an ulp)
_FLOAT32_OVERFLOW = (2.0 - 2.0 ** -24) * 2.0 ** 127
_HEX_FLOAT = _re.compile(r"\s*[+-]?0[xX]")


class _ToNumber:
    def __init__(self, integer, bits=64):
        self.integer = integer
        self.bits = bits
        self.low, self.high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1

    def __call__(self, v):
        text = v.decode()
        try:
            if "_" in text:   # Python's literal digit grouping is not a number to TF
                raise ValueError(text)
            if not self.integer:
                # strtod's hexadecimal forms ('0x1A', '-0x1.8p1') are numbers to TF
                hexadecimal = _HEX_FLOAT.match(text)
                number = float.fromhex(text) if hexadecimal else float(text)
                if self.bits == 32 and abs(number) >= _FLOAT32_OVERFLOW:
                    return number * _np.inf   # overflows to +-inf, without a warning
                return number
            number = int(text)
            if not self.low <= number <= self.high:
                raise ValueError(text)
            return number
        except ValueError:
            raise InvalidArgumentError(
                f"StringToNumberOp could not correctly convert string: {text}") from None

    def __eq__(self, other):
        return isinstance(other, _ToNumber) and (other.integer, other.bits) == (
            self.integer, self.bits)

    def __hash__(self):
        return hash(("to_number", self.integer, self.bits))


def to_number(input=None, out_type=dtypes.float32, name=None, string_tensor=None):
    """Parses strings as numbers of ``out_type`` (float32/64, int32/64).

    ``string_tensor`` is TF1's name of ``input`` (``compat.v1.string_to_number``).
    """
    string_tensor = _first_arg(input, string_tensor)
    d = dtypes.as_dtype(out_type)
    if d.name not in ("float32", "float64", "int32", "int64"):
        raise InvalidArgumentError(f"StringToNumber: Value for attr 'out_type' of "
                                   f"{d.name} is not in the list of allowed values: "
                                   f"float, double, int32, int64")
    return _apply(_strings(string_tensor, "StringToNumber"),
                  _ToNumber(d.is_integer, d.size * 8), d.name)


def _first_arg(input, string_tensor):
    """The strings given as TF2's ``input`` or TF1's ``string_tensor`` (one of them)."""
    if (input is None) == (string_tensor is None):
        raise TypeError("pass the strings as `input` (or TF1's `string_tensor`), once; "
                        f"received input={input!r}, string_tensor={string_tensor!r}")
    return string_tensor if input is None else input


class _Format:
    """One value to bytes with a printf ``spec``; complex values print as
    ``(real,imag)`` with the spec applied to each part, bools as true/false."""

    def __init__(self, spec, kind=""):
        self.spec = spec
        self.kind = kind

    def __call__(self, v):
        if self.kind == "bool":
            return b"true" if v else b"false"
        if self.kind == "complex":
            return f"({self.spec % v.real},{self.spec % v.imag})".encode()
        if self.kind == "string":
            return (self.spec % _b(v).decode("utf-8", "surrogateescape")).encode(
                "utf-8", "surrogateescape")
        return (self.spec % v).encode()

    def __eq__(self, other):
        return isinstance(other, _Format) and (other.spec, other.kind) == (
            self.spec, self.kind)

    def __hash__(self):
        return hash((self.spec, self.kind))


@primitive("AsString", host_kernel=True)
def as_string_p(d, x, *, fn):
    return _map(d, x, fn)


def _as_string_spec(dtype, precision, scientific, shortest, width, fill):
    """The printf spec (and value kind) TensorFlow's AsString kernel formats with."""
    def refuse(what):
        raise InvalidArgumentError(f"AsString: {what} not supported for datatype "
                                   f"{dtype.name}")
    if len(fill) > 1:
        raise InvalidArgumentError(f"AsString: Fill string must be one or fewer "
                                   f"characters; received fill={fill!r}")
    if fill and fill not in " +-0#":
        raise InvalidArgumentError(f'AsString: Fill argument not supported: "{fill}"')
    if scientific and shortest:
        raise InvalidArgumentError("Cannot select both scientific and shortest notation")
    inexact = dtype.is_floating or dtype.is_complex
    if not inexact:
        if scientific:
            refuse("scientific")
        if shortest:
            refuse("shortest")
        if precision > -1 and dtype != dtypes.string:
            refuse("precision")
    if dtype.is_bool:
        return "", "bool"
    flags = fill.strip()
    w = str(width) if width > -1 else ""
    if dtype == dtypes.string:
        return f"%{flags}{w}s", "string"
    if not inexact:
        return f"%{flags}{w}d", ""
    prec = f".{precision}" if precision > -1 else ""
    kind = "e" if scientific else ("g" if shortest else "f")
    return f"%{flags}{w}{prec}{kind}", "complex" if dtype.is_complex else ""


def as_string(input, precision=-1, scientific=False, shortest=False, width=-1,
              fill="", name=None):
    """Formats each element as a string, like printf.

    Args:
      input: a numeric, bool or string Tensor.
      precision: digits after the point for floats (-1: printf's default of 6).
      scientific: exponent notation (``%e``) for floats.
      shortest: the shorter of ``%e`` and ``%f`` (``%g``) for floats.
      width: pad to this many characters (-1: no padding).
      fill: the padding: ``""``/``" "`` (spaces), ``"0"``, ``"-"`` (left
        justify), ``"+"`` (always a sign) or ``"#"``.
      name: unused.

    Returns:
      A string Tensor of ``input``'s shape; complex numbers print as
      ``(real,imag)``, bools as ``true``/``false``.

    Raises:
      InvalidArgumentError: an unsupported ``fill`` or an option that does not
        apply to ``input``'s dtype.
    """
    x = input if isinstance(input, Tensor) else convert_to_tensor(input)
    spec, kind = _as_string_spec(x.dtype, int(precision), scientific, shortest,
                                 int(width), fill)
    return call(as_string_p, (x,), {"fn": _Format(spec, kind)})


def _to_bytes_array(d, value):
    return _map(d, value, _b)


@primitive("StringJoin")
def string_join_p(d, *xs, separator):
    xp = d.xp
    parts = xp.broadcast_arrays(*xs)
    shape = parts[0].shape
    flat = [p.reshape(-1) for p in parts]
    out = xp.empty(flat[0].shape, dtype=object)
    for i in range(out.shape[0]):
        out[i] = separator.join(_b(f[i]) for f in flat)
    return out.reshape(shape)


def join(inputs, separator="", name=None):
    """Joins lists of string tensors elementwise with ``separator``: the inputs have
    one shape, or are scalars (which repeat)."""
    xs = [_strings(v, "StringJoin") for v in inputs]
    if not xs:
        raise InvalidArgumentError("StringJoin: at least one input is required")
    shapes = [tuple(x._value.shape) for x in xs]
    shaped = [sh for sh in shapes if sh]   # scalars always repeat
    if any(sh != shaped[0] for sh in shaped):
        first, *rest = shaped
        bad = next(sh for sh in rest if sh != first)
        raise ShapeMismatchError(f"StringJoin: Input shapes do not match: "
                                 f"{list(first)} vs. {list(bad)} [Op:StringJoin]"
                                 ) from None
    return call(string_join_p, tuple(xs), {"separator": _b(separator)})


def add(x, y):
    """``x + y`` of string tensors: concatenation, broadcasting as AddV2 does
    (unlike ``join``, whose inputs share one shape)."""
    xs = (_strings(x, "AddV2"), _strings(y, "AddV2"))
    try:
        _np.broadcast_shapes(*(tuple(v._value.shape) for v in xs))
    except ValueError:
        raise ShapeMismatchError(
            f"Incompatible shapes: {list(xs[0]._value.shape)} vs. "
            f"{list(xs[1]._value.shape)} [Op:AddV2]") from None
    return call(string_join_p, xs, {"separator": b""})


@primitive("ReduceJoin")
def reduce_join_p(d, x, *, axes, keepdims, separator):
    xp = d.xp
    keep = [i for i in range(x.ndim) if i not in axes]
    moved = xp.transpose(x, keep + list(axes))
    lead = moved.shape[:len(keep)]
    # explicit sizes: a -1 cannot be inferred when a dimension is 0 (empty rows
    # join to b"")
    width = _math.prod(moved.shape[len(keep):])
    flat = moved.reshape(_math.prod(lead), width)
    out = xp.empty(flat.shape[0], dtype=object)
    for i in range(flat.shape[0]):
        out[i] = separator.join(_b(v) for v in flat[i])
    out = out.reshape(lead)
    if keepdims:
        out = out.reshape(tuple(1 if i in axes else s for i, s in enumerate(x.shape)))
    return out


def reduce_join(inputs, axis=None, keepdims=False, separator="", name=None):
    """Joins strings across ``axis`` (all axes when None)."""
    x = _strings(inputs, "ReduceJoin")
    nd = x._value.ndim
    if axis is None:
        axes = tuple(range(nd))
    else:
        axes = tuple(sorted(int(a) % nd for a in (axis if isinstance(axis, (list, tuple))
                                                  else [axis])))
    return call(reduce_join_p, (x,), {"axes": axes, "keepdims": bool(keepdims),
                                      "separator": _b(separator)})


def _substr_one(v, pos, n, chars, index):
    seq = v.decode() if chars else v
    if pos > len(seq) or pos < -len(seq):
        raise InvalidArgumentError(f"pos {pos} out of range for string {v!r} at index "
                                   f"{index} [Op:Substr]")
    start = pos if pos >= 0 else len(seq) + pos
    piece = seq[start:start + n]
    return piece.encode() if chars else piece


@primitive("Substr", host_kernel=True)
def substr_p(d, x, pos, length, *, chars):
    parts = d.xp.broadcast_arrays(x, pos, length)
    out = d.xp.empty(parts[0].size, dtype=object)
    for i, (v, p, n) in enumerate(zip(*(a.reshape(-1) for a in parts))):
        out[i] = _substr_one(_b(v), int(p), int(n), chars, i)
    return out.reshape(parts[0].shape)


def substr(input, pos, len, unit="BYTE", name=None):   # TF 2 order (v1: name first)
    """Substrings of ``len`` bytes (or UTF-8 characters) starting at ``pos``.

    Args:
      input: string Tensor.
      pos: int32/int64 start positions (negative counts from the end); a scalar or
        a Tensor broadcasting against ``input``.
      len: lengths of the substrings, shaped like ``pos``.
      unit: ``"BYTE"`` or ``"UTF8_CHAR"``.
      name: unused.

    Returns:
      A string Tensor of the broadcast shape.

    Raises:
      InvalidArgumentError: a ``pos`` outside its string.
    """
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise ValueError(f"unit must be 'BYTE' or 'UTF8_CHAR', got {unit!r}")
    x = _strings(input, "Substr")
    # Python positions go where the strings live (the host), not the default GPU
    pos = pos if isinstance(pos, Tensor) else convert_to_tensor(
        pos, dtypes.int32, device=x._device)
    length = len if isinstance(len, Tensor) else convert_to_tensor(
        len, pos.dtype, device=x._device)
    if not pos.dtype.is_integer or pos.shape.rank != length.shape.rank:
        raise InvalidArgumentError(f"Substr: pos and len must be integer Tensors of "
                                   f"the same rank, got {pos!r} and {length!r}")
    return call(substr_p, (x, pos, length), {"chars": unit == "UTF8_CHAR"})



def split(input, sep=None, maxsplit=-1, name=None):
    """Splits strings on ``sep`` (runs of whitespace when None). A scalar gives a 1-D
    string Tensor; a tensor of rank >= 1 gives a RaggedTensor (one more dim)."""
    x = _strings(input, "StringSplit")
    sep_b = None if sep is None else _b(_scalar_str(sep, "sep"))
    if sep_b == b"":   # TF: an empty sep splits on whitespace, like None
        sep_b = None

    maxsplit = int(maxsplit)
    if sep_b is not None:
        return string_rows(x, _SepSplit(sep_b, maxsplit))
    return string_rows(x, _WhitespaceSplit(maxsplit))


class _SepSplit:
    def __init__(self, sep, maxsplit):
        self.key_ = (sep, maxsplit)

    def __call__(self, v):
        return v.split(*self.key_)

    def __eq__(self, other):
        return isinstance(other, _SepSplit) and other.key_ == self.key_

    def __hash__(self):
        return hash(("sep_split",) + self.key_)


class _WhitespaceSplit:
    """Whitespace splitting as TensorFlow's StringSplitV2 kernel does it: with
    ``maxsplit`` = 0 the string is returned whole; once ``maxsplit`` tokens are
    taken the rest after the following whitespace is one more token, even
    when that rest is empty (``"abc"``, maxsplit 1 -> ``["abc", ""]``)."""

    def __init__(self, maxsplit):
        self.maxsplit = maxsplit

    def __call__(self, v):
        if self.maxsplit < 0:
            return v.split()
        if self.maxsplit == 0:
            return [v]
        tokens = []
        rest = v.lstrip()
        while rest:
            head, *tail = rest.split(None, 1)
            tokens.append(head)
            rest = tail[0] if tail else b""
            if len(tokens) == self.maxsplit:
                tokens.append(rest)
                break
        return tokens

    def __eq__(self, other):
        return isinstance(other, _WhitespaceSplit) and other.maxsplit == self.maxsplit

    def __hash__(self):
        return hash(("whitespace_split", self.maxsplit))


# ---------------------------------------------------------------- hashing
class _Bucket:
    def __init__(self, num_buckets, key=None):
        self.key_ = (num_buckets, key)

    def __call__(self, v):
        num, key = self.key_
        if key is None:
            return fingerprint64(_b(v)) % num
        if key == "murmur":
            return murmur64a(_b(v)) % num
        return siphash24(key[0], key[1], _b(v)) % num

    def __eq__(self, other):
        return isinstance(other, _Bucket) and other.key_ == self.key_

    def __hash__(self):
        return hash(self.key_)


def _buckets(num_buckets):
    n = int(num_buckets)
    if n < 1:
        raise InvalidArgumentError(f"num_buckets must be >= 1, got {n}")
    return n


def to_hash_bucket_fast(input, num_buckets, name=None):
    """FarmHash Fingerprint64 of each string modulo ``num_buckets`` (int64), as TF."""
    return _apply(_strings(input, "StringToHashBucketFast"), _Bucket(_buckets(num_buckets)),
                  "int64")


def to_hash_bucket_strong(input, num_buckets, key, name=None):
    """Keyed SipHash-2-4 of each string modulo ``num_buckets`` (int64), as TF."""
    if len(key) != 2:
        raise InvalidArgumentError(f"Key must have 2 elements, got {key!r}")
    k = (int(key[0]) & _M, int(key[1]) & _M)
    return _apply(_strings(input, "StringToHashBucketStrong"),
                  _Bucket(_buckets(num_buckets), k), "int64")


def to_hash_bucket(input=None, num_buckets=None, name=None, string_tensor=None):
    """MurmurHash64A (TF's legacy ``StringToHashBucket``) of each string modulo
    ``num_buckets`` (int64); prefer ``to_hash_bucket_fast``. ``string_tensor`` is
    TF1's name of ``input``."""
    string_tensor = _first_arg(input, string_tensor)
    return _apply(_strings(string_tensor, "StringToHashBucket"),
                  _Bucket(_buckets(num_buckets), "murmur"), "int64")


STRINGS_NAMES = [
    "lower", "upper", "strip", "length", "regex_replace", "regex_full_match", "to_number",
    "as_string", "join", "reduce_join", "substr", "split",
    "to_hash_bucket_fast", "to_hash_bucket_strong", "to_hash_bucket",
]
