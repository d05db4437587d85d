"""String ops (``tf.strings``) on host string tensors: NumPy object arrays of bytes,
always on the CPU (as TF keeps strings on the host).

Hashing follows TF bit for bit: ``to_hash_bucket_fast`` and ``fingerprint`` use
FarmHash's 64-bit fingerprint (farmhashna::Hash64), ``to_hash_bucket_strong`` uses
SipHash-2-4; both are implemented here in plain Python from the published algorithms.
"""

import re as _re

from dlframe import backends
from dlframe.backends.base import np as _np
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError

_M = (1 << 64) - 1
_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F


# ---------------------------------------------------------------- FarmHash fingerprint64
def _f64(s, i):
    return int.from_bytes(s[i:i + 8], "little")


def _f32(s, i):
    return int.from_bytes(s[i:i + 4], "little")


def _rot(v, r):
    return v if r == 0 else ((v >> r) | (v << (64 - r))) & _M


def _smix(v):
    return v ^ (v >> 47)


def _h16(u, v, mul):
    a = ((u ^ v) * mul) & _M
    a ^= a >> 47
    b = ((v ^ a) * mul) & _M
    b ^= b >> 47
    return (b * mul) & _M


def _len0to16(s, n):
    if n >= 8:
        mul = _K2 + n * 2
        a = (_f64(s, 0) + _K2) & _M
        b = _f64(s, n - 8)
        c = (_rot(b, 37) * mul + a) & _M
        d = ((_rot(a, 25) + b) * mul) & _M
        return _h16(c, d, mul)
    if n >= 4:
        mul = _K2 + n * 2
        return _h16((n + (_f32(s, 0) << 3)) & _M, _f32(s, n - 4), mul)
    if n > 0:
        y = s[0] + (s[n >> 1] << 8)
        z = n + (s[n - 1] << 2)
        return (_smix(((y * _K2) ^ (z * _K0)) & _M) * _K2) & _M
    return _K2


def _len17to32(s, n):
    mul = _K2 + n * 2
    a = (_f64(s, 0) * _K1) & _M
    b = _f64(s, 8)
    c = (_f64(s, n - 8) * mul) & _M
    d = (_f64(s, n - 16) * _K2) & _M
    return _h16((_rot((a + b) & _M, 43) + _rot(c, 30) + d) & _M,
                (a + _rot((b + _K2) & _M, 18) + c) & _M, mul)


def _len33to64(s, n):
    mul = _K2 + n * 2
    a = (_f64(s, 0) * _K2) & _M
    b = _f64(s, 8)
    c = (_f64(s, n - 8) * mul) & _M
    d = (_f64(s, n - 16) * _K2) & _M
    y = (_rot((a + b) & _M, 43) + _rot(c, 30) + d) & _M
    z = _h16(y, (a + _rot((b + _K2) & _M, 18) + c) & _M, mul)
    e = (_f64(s, 16) * mul) & _M
    f = _f64(s, 24)
    g = ((y + _f64(s, n - 32)) * mul) & _M
    h = ((z + _f64(s, n - 24)) * mul) & _M
    return _h16((_rot((e + f) & _M, 43) + _rot(g, 30) + h) & _M,
                (e + _rot((f + a) & _M, 18) + g) & _M, mul)


def _weak32(s, i, a, b):
    w, x, y, z = _f64(s, i), _f64(s, i + 8), _f64(s, i + 16), _f64(s, i + 24)
    a = (a + w) & _M
    b = _rot((b + a + z) & _M, 21)
    c = a
    a = (a + x + y) & _M
    b = (b + _rot(a, 44)) & _M
    return (a + z) & _M, (b + c) & _M


def fingerprint64(s):
    """FarmHash Fingerprint64 of ``bytes`` (TF's ``Fingerprint64``)."""
    n = len(s)
    if n <= 16:
        return _len0to16(s, n)
    if n <= 32:
        return _len17to32(s, n)
    if n <= 64:
        return _len33to64(s, n)
    seed = 81
    x = seed
    y = (seed * _K1 + 113) & _M
    z = (_smix((y * _K2 + 113) & _M) * _K2) & _M
    v0 = v1 = w0 = w1 = 0
    x = (x * _K2 + _f64(s, 0)) & _M
    end = ((n - 1) // 64) * 64
    last64 = end + ((n - 1) & 63) - 63
    i = 0
    while True:
        x = (_rot((x + y + v0 + _f64(s, i + 8)) & _M, 37) * _K1) & _M
        y = (_rot((y + v1 + _f64(s, i + 48)) & _M, 42) * _K1) & _M
        x ^= w1
        y = (y + v0 + _f64(s, i + 40)) & _M
        z = (_rot((z + w0) & _M, 33) * _K1) & _M
        v0, v1 = _weak32(s, i, (v1 * _K1) & _M, (x + w0) & _M)
        w0, w1 = _weak32(s, i + 32, (z + w1) & _M, (y + _f64(s, i + 16)) & _M)
        z, x = x, z
        i += 64
        if i == end:
            break
    mul = _K1 + ((z & 0xFF) << 1)
    i = last64
    w0 = (w0 + ((n - 1) & 63)) & _M
    v0 = (v0 + w0) & _M
    w0 = (w0 + v0) & _M
    x = (_rot((x + y + v0 + _f64(s, i + 8)) & _M, 37) * mul) & _M
    y = (_rot((y + v1 + _f64(s, i + 48)) & _M, 42) * mul) & _M
    x ^= (w1 * 9) & _M
    y = (y + v0 * 9 + _f64(s, i + 40)) & _M
    z = (_rot((z + w0) & _M, 33) * mul) & _M
    v0, v1 = _weak32(s, i, (v1 * mul) & _M, (x + w0) & _M)
    w0, w1 = _weak32(s, i + 32, (z + w1) & _M, (y + _f64(s, i + 16)) & _M)
    z, x = x, z
    return _h16((_h16(v0, w0, mul) + _smix(y) * _K0 + z) & _M,
                (_h16(v1, w1, mul) + x) & _M, mul)




# ---------------------------------------------------------------- SipHash-2-4
def _sip_round(v0, v1, v2, v3):
    v0 = (v0 + v1) & _M
    v1 = _rotl(v1, 13) ^ v0
    v0 = _rotl(v0, 32)
    v2 = (v2 + v3) & _M
    v3 = _rotl(v3, 16) ^ v2
    v0 = (v0 + v3) & _M
    v3 = _rotl(v3, 21) ^ v0
    v2 = (v2 + v1) & _M
    v1 = _rotl(v1, 17) ^ v2
    v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def _rotl(v, r):
    return ((v << r) | (v >> (64 - r))) & _M


def siphash24(k0, k1, s):
    """SipHash-2-4 of ``bytes`` with the 128-bit key (k0, k1)."""
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573
    n = len(s)
    full = n - n % 8
    for i in range(0, full, 8):
        m = _f64(s, i)
        v3 ^= m
        for _ in range(2):
            v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
        v0 ^= m
    m = ((n & 0xFF) << 56) | int.from_bytes(s[full:], "little")
    v3 ^= m
    for _ in range(2):
        v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
    v0 ^= m
    v2 ^= 0xFF
    for _ in range(4):
        v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


# ---------------------------------------------------------------- elementwise machinery
def _strings(x, op):
    """``x`` as a string Tensor (Python str/bytes/lists are converted)."""
    x = x if isinstance(x, Tensor) else convert_to_tensor(x)
    if x.dtype != dtypes.string:
        raise InvalidArgumentError(f"{op}: expected a string tensor, got {x.dtype.name}")
    return x


def _map(d, x, fn, dtype=object):
    flat = x.reshape(-1)
    out = d.xp.empty(flat.shape, dtype=dtype)
    for i, v in enumerate(flat):
        out[i] = fn(v.encode() if isinstance(v, str) else v)
    return out.reshape(x.shape)


@primitive("StringMap")
def string_map_p(d, x, *, fn, dtype):
    return _map(d, x, fn, dtype)


def _apply(x, fn, dtype=object):
    return call(string_map_p, (x,), {"fn": fn, "dtype": dtype})


def _b(v):
    return v.encode() if isinstance(v, str) else bytes(v)


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


def length(input, name=None, unit="BYTE"):
    """String lengths in bytes or ('UTF8_CHAR') in Unicode characters, int32."""
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise ValueError(f"unit must be 'BYTE' or 'UTF8_CHAR', got {unit!r}")
    return _apply(_strings(input, "StringLength"),
                  _len_bytes if unit == "BYTE" else _len_chars, "int32")


_POSIX = {"punct": r"!-/:-@\[-`{-~", "alpha": "A-Za-z", "digit": "0-9", "alnum": "0-9A-Za-z",
          "space": r" \t\n\r\f\v", "upper": "A-Z", "lower": "a-z", "xdigit": "0-9A-Fa-f",
          "cntrl": r"\x00-\x1f\x7f", "print": r" -~", "graph": "!-~", "blank": r" \t",
          "word": r"\w"}


def _re2_to_python(pattern):
    """Translates RE2's POSIX classes (``[[:punct:]]``) to Python's ``re`` syntax."""
    pattern = pattern.decode() if isinstance(pattern, bytes) else pattern
    return _re.sub(r"\[:(\w+):\]", lambda m: _POSIX.get(m.group(1), m.group(0)), pattern)


class _Regex:
    """A hashable compiled-pattern callable (primitive attributes are compared)."""

    def __init__(self, pattern, rewrite, count):
        self.key = (pattern, rewrite, count)
        self.regex = _re.compile(_re2_to_python(pattern).encode())
        self.rewrite = _b(rewrite)
        self.count = count

    def __call__(self, v):
        return self.regex.sub(self.rewrite, v, count=self.count)

    def __eq__(self, other):
        return isinstance(other, _Regex) and other.key == self.key

    def __hash__(self):
        return hash(self.key)


def _scalar_str(v, what):
    if isinstance(v, Tensor):
        v = v.numpy()
        v = v.item() if hasattr(v, "item") else v
    if isinstance(v, bytes):
        return v.decode()
    if not isinstance(v, str):
        raise TypeError(f"{what} must be a string, got {v!r}")
    return v


def regex_replace(input, pattern, rewrite, replace_global=True, name=None):
    """Replaces matches of the RE2 ``pattern`` with ``rewrite`` (``\\1`` groups)."""
    fn = _Regex(_scalar_str(pattern, "pattern"), _scalar_str(rewrite, "rewrite"),
                0 if replace_global else 1)
    return _apply(_strings(input, "StaticRegexReplace"), fn)


class _FullMatch(_Regex):
    def __call__(self, v):
        return self.regex.fullmatch(v) is not None


def regex_full_match(input, pattern, name=None):
    """Whether each whole string matches the RE2 ``pattern``."""
    return _apply(_strings(input, "RegexFullMatch"),
                  _FullMatch(_scalar_str(pattern, "pattern"), "", 0), bool)


class _ToNumber:
    def __init__(self, integer):
        self.integer = integer

    def __call__(self, v):
        text = v.decode()
        try:
            return int(text) if self.integer else float(text)
        except ValueError:
            raise InvalidArgumentError(
                f"StringToNumberOp could not correctly convert string: {text}") from None

    def __eq__(self, other):
        return isinstance(other, _ToNumber) and other.integer == self.integer

    def __hash__(self):
        return hash(("to_number", self.integer))


def to_number(string_tensor, out_type=dtypes.float32, name=None):
    """Parses strings as numbers of ``out_type`` (float32/64, int32/64)."""
    d = dtypes.as_dtype(out_type)
    if d.name not in ("float32", "float64", "int32", "int64"):
        raise TypeError(f"to_number: out_type must be float32, float64, int32 or int64, "
                        f"got {d.name}")
    return _apply(_strings(string_tensor, "StringToNumber"), _ToNumber(d.is_integer),
                  d.name)


class _Format:
    def __init__(self, spec):
        self.spec = spec

    def __call__(self, v):
        if self.spec == "bool":
            return b"true" if v else b"false"
        return (self.spec % v).encode()

    def __eq__(self, other):
        return isinstance(other, _Format) and other.spec == self.spec

    def __hash__(self):
        return hash(self.spec)


@primitive("AsString")
def as_string_p(d, x, *, fn):
    return _map(d, x, fn)


def as_string(input, precision=-1, scientific=False, shortest=False, width=-1,
              fill="", name=None):
    """Formats numbers and bools as strings ('%d', '%f', '%e' or '%g' like TF)."""
    x = input if isinstance(input, Tensor) else convert_to_tensor(input)
    if x.dtype == dtypes.string:
        raise InvalidArgumentError("AsString: Value for attr 'T' of string is not in the "
                                   "list of allowed values")
    if scientific and shortest:
        raise InvalidArgumentError("Cannot select both scientific and shortest notation")
    flags = "0" if fill == "0" else ("-" if fill == "-" else "")
    w = str(width) if width > -1 else ""
    if x.dtype.is_bool:
        spec = "bool"
    elif x.dtype.is_floating:
        prec = f".{precision}" if precision > -1 else ""
        kind = "e" if scientific else ("g" if shortest else "f")
        spec = f"%{flags}{w}{prec}{kind}"
    else:
        spec = f"%{flags}{w}d"
    return call(as_string_p, (x,), {"fn": _Format(spec)})


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
    """Joins lists of string tensors elementwise (broadcasting) with ``separator``."""
    xs = [_strings(v, "StringJoin") for v in inputs]
    if not xs:
        raise InvalidArgumentError("StringJoin: at least one input is required")
    return call(string_join_p, tuple(xs), {"separator": _b(separator)})


@primitive("ReduceJoin")
def reduce_join_p(d, x, *, axes, keepdims, separator):
    xp = d.xp
    keep = [i for i in range(x.ndim) if i not in axes]
    moved = xp.transpose(x, keep + list(axes))
    lead = moved.shape[:len(keep)]
    rows = moved.reshape(lead + (-1,)) if lead else moved.reshape(1, -1)
    flat = rows.reshape(-1, rows.shape[-1])
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


class _Substr:
    def __init__(self, pos, length, chars):
        self.key = (pos, length, chars)

    def __call__(self, v):
        pos, n, chars = self.key
        seq = v.decode() if chars else v
        if pos > len(seq) or pos < -len(seq):
            raise InvalidArgumentError(f"pos {pos} out of range for string {v!r} at index "
                                       "0 [Op:Substr]")
        start = pos if pos >= 0 else len(seq) + pos
        piece = seq[start:start + n]
        return piece.encode() if chars else piece

    def __eq__(self, other):
        return isinstance(other, _Substr) and other.key == self.key

    def __hash__(self):
        return hash(self.key)


def substr(input, pos, len, name=None, unit="BYTE"):
    """Substrings of ``len`` bytes (or UTF-8 characters) starting at ``pos`` (negative
    counts from the end). Scalar ``pos`` and ``len``."""
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise ValueError(f"unit must be 'BYTE' or 'UTF8_CHAR', got {unit!r}")
    return _apply(_strings(input, "Substr"), _Substr(int(pos), int(len),
                                                     unit == "UTF8_CHAR"))


# ---------------------------------------------------------------- ragged results
def _str_tensor(flat, shape):
    """A host string Tensor of ``shape`` from a flat list of bytes (empty allowed)."""
    dev = backends.get_device("cpu:0")
    arr = dev.xp.empty(len(flat), dtype=object)
    for i, v in enumerate(flat):
        arr[i] = v
    return Tensor(arr.reshape(tuple(shape)), dev)


def ragged_rows(rows, shape, dtype=None):
    """A host RaggedTensor whose leading dims are ``shape`` (uniform) and whose last,
    ragged dim holds ``rows`` (a flat list, one Python list per position)."""
    from dlframe.ops.ragged_tensor import RaggedTensor
    flat = [v for r in rows for v in r]
    if dtype is None:
        values = _str_tensor(flat, (len(flat),))
    else:
        dev = backends.get_device("cpu:0")
        values = Tensor(dev.asarray(_np.asarray(flat, dtype=dtype).reshape(len(flat))),
                        dev)
    out = RaggedTensor.from_row_lengths(values, [len(r) for r in rows], validate=False)
    for dim in reversed(tuple(shape)[1:]):
        out = RaggedTensor.from_uniform_row_length(out, dim, validate=False)
    return out


def _ragged_or_dense(x, fn):
    arr = x._value
    if arr.ndim == 0:
        parts = list(fn(_b(arr.item())))
        return _str_tensor(parts, (len(parts),))
    rows = [fn(_b(v)) for v in arr.reshape(-1)]
    return ragged_rows(rows, arr.shape)


def split(input, sep=None, maxsplit=-1, name=None):
    """Splits strings on ``sep`` (runs of whitespace when None). A scalar gives a 1-D
    string Tensor; a tensor of rank >= 1 gives a RaggedTensor (one more dim)."""
    x = _strings(input, "StringSplit")
    sep_b = None if sep is None else _b(_scalar_str(sep, "sep"))
    if sep_b == b"":
        raise InvalidArgumentError("StringSplit: sep must not be empty")

    def fn(v):
        return v.split(sep_b, maxsplit) if sep_b is not None else v.split(None, maxsplit)
    return _ragged_or_dense(x, fn)


def unicode_split(input, input_encoding, errors="replace", replacement_char=65533,
                  name=None):
    """Splits strings into their Unicode characters (as UTF-8 bytes)."""
    x = _strings(input, "UnicodeSplit")
    enc = input_encoding.lower()

    def fn(v):
        return [c.encode() for c in v.decode(enc, errors="replace")]
    return _ragged_or_dense(x, fn)


# ---------------------------------------------------------------- hashing
class _Bucket:
    def __init__(self, num_buckets, key=None):
        self.key_ = (num_buckets, key)

    def __call__(self, v):
        num, key = self.key_
        h = fingerprint64(_b(v)) if key is None else siphash24(key[0], key[1], _b(v))
        return h % num

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


def to_hash_bucket(string_tensor, num_buckets, name=None):
    """Alias of ``to_hash_bucket_fast`` (TF's legacy op uses a different hash)."""
    return to_hash_bucket_fast(string_tensor, num_buckets)


STRINGS_NAMES = [
    "lower", "upper", "strip", "length", "regex_replace", "regex_full_match", "to_number",
    "as_string", "join", "reduce_join", "substr", "split", "unicode_split",
    "to_hash_bucket_fast", "to_hash_bucket_strong", "to_hash_bucket",
]
