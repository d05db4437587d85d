"""Text-pipeline string ops (``tf.strings``): ngrams, bytes_split, format and the
Unicode code-point codecs.

Like ``tf.strings.split``, an op whose rows can differ in length returns a
RaggedTensor for non-scalar inputs; dense inputs with equal-length rows give dense
Tensors where TensorFlow gives them (``ngrams``).
"""

from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops.array import expand_dims
from dlframe.ops.names import COMPOSITE_DISPATCH
from dlframe.ops.ragged_tensor import RaggedTensor
from dlframe.ops.strings import (
    _b,
    _str_tensor,
    _strings,
    ragged_rows,
    reduce_join,
    string_rows,
)


# ---------------------------------------------------------------- ngrams
def _row_ngrams(tokens, widths, separator, pad_values, padding_width,
                preserve_short):
    out = []
    for n in widths:
        pad = 0 if pad_values is None else (n - 1 if padding_width is None
                                             else padding_width)
        left, right = ([], []) if pad_values is None else (
            [pad_values[0]] * pad, [pad_values[1]] * pad)
        seq = left + list(tokens) + right
        out.extend(separator.join(seq[i:i + n]) for i in range(len(seq) - n + 1))
    if not out and preserve_short and tokens:
        out.append(separator.join(tokens))
    return out


def ngrams(data, ngram_width, separator=" ", pad_values=None, padding_width=None,
           preserve_short_sequences=False, name=None):
    """The n-grams of each row of strings (along the last axis), joined by
    ``separator``.

    Args:
      data: a string Tensor of rank >= 1, or a RaggedTensor (``tf.strings.split``).
      ngram_width: an int or a list of ints (all widths, in order).
      separator: the joining string.
      pad_values: a string or a ``(left, right)`` pair padding each row.
      padding_width: pad values added at each side (default ``width - 1``).
      preserve_short_sequences: a row too short for any n-gram gives itself, joined.

    Returns:
      A Tensor for dense input (rows of equal length give equally many n-grams), or
      a RaggedTensor for ragged input.
    """
    widths = [int(w) for w in (ngram_width if isinstance(ngram_width, (list, tuple))
                               else [ngram_width])]
    if any(w < 1 for w in widths):
        raise InvalidArgumentError(f"ngram_width must be >= 1, got {widths}")
    if pad_values is not None:
        pad_values = (pad_values, pad_values) if isinstance(pad_values, (str, bytes)) \
            else tuple(pad_values)
        pad_values = tuple(_b(v) for v in pad_values)
    sep = _b(separator)

    def row(tokens):
        return _row_ngrams([_b(v) for v in tokens], widths, sep, pad_values,
                           padding_width, preserve_short_sequences)
    if isinstance(data, RaggedTensor):
        if isinstance(data.values, RaggedTensor):
            return data.with_values(ngrams(data.values, ngram_width, separator,
                                           pad_values, padding_width,
                                           preserve_short_sequences))
        return ragged_rows([row(r) for r in data.to_list()], [data.nrows_static()])
    x = _strings(data, "StringNGrams")
    arr = x.numpy()
    if arr.ndim == 0:
        raise ValueError("ngrams: `data` must have rank >= 1, got a scalar")
    rows = [row(r) for r in arr.reshape(-1, arr.shape[-1])]
    width = len(rows[0]) if rows else 0
    if any(len(r) != width for r in rows):
        return ragged_rows(rows, arr.shape[:-1])
    return _str_tensor([v for r in rows for v in r], arr.shape[:-1] + (width,))


# ---------------------------------------------------------------- splitting bytes
def bytes_split(input, name=None):
    """Splits each string into its bytes: a 1-D Tensor for a scalar, else a
    RaggedTensor."""
    x = _strings(input, "BytesSplit")
    return string_rows(x, _bytes_of)


def _bytes_of(v):
    return [v[i:i + 1] for i in range(len(v))]


# ---------------------------------------------------------------- format
def _format_scalar(value):
    if isinstance(value, bytes):
        return '"' + value.decode("utf-8", "replace") + '"'
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _format_array(values, shape, summarize):
    """TF's tensor summary: nested brackets, '...' past ``summarize`` per axis."""
    if not shape:
        return _format_scalar(values[0])
    n, inner = shape[0], shape[1:]
    size = len(values) // n if n else 0
    if summarize >= 0 and n > 2 * summarize:
        shown = list(range(summarize)) + [None] + list(range(n - summarize, n))
    else:
        shown = list(range(n))
    parts = ["..." if i is None else
             _format_array(values[i * size:(i + 1) * size], inner, summarize)
             for i in shown]
    if not inner:
        return "[" + " ".join(parts) + "]"
    # nested rows start on new lines, indented past the opening bracket
    return "[" + ("\n" * len(inner) + " ").join(p.replace("\n", "\n ") for p in parts) + "]"


def format(template, inputs, placeholder="{}", summarize=3, name=None):
    """A scalar string: ``template`` with each ``placeholder`` replaced by the next
    input's value (tensors printed with at most ``summarize`` entries per side).

    Raises:
      ValueError: the number of placeholders differs from the number of inputs.
    """
    if not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    pieces = template.split(placeholder)
    if len(pieces) - 1 != len(inputs):
        raise ValueError(f"The template expects {len(pieces) - 1} tensors, but the inputs "
                         f"only has {len(inputs)}. Please ensure the number of "
                         "placeholders in template matches inputs length.")
    out = pieces[0]
    for value, piece in zip(inputs, pieces[1:]):
        t = value if isinstance(value, Tensor) else convert_to_tensor(value)
        arr = t.numpy()
        flat = [v.item() if hasattr(v, "item") else v
                for v in (arr.reshape(-1) if hasattr(arr, "reshape") else [arr])]
        out += _format_array(flat, tuple(t.shape), int(summarize)) + piece
    return _str_tensor([out.encode()], ())


# ---------------------------------------------------------------- Unicode
def _encoding(name):
    enc = name.upper().replace("-", "")
    codecs = {"UTF8": "utf-8", "UTF16BE": "utf-16-be", "UTF32BE": "utf-32-be"}
    if enc not in codecs:
        raise InvalidArgumentError(f"Unsupported encoding {name!r}: one of UTF-8, "
                                   "UTF-16-BE, UTF-32-BE")
    return codecs[enc]


def unicode_decode(input, input_encoding, errors="replace",
                   replacement_char=65533, replace_control_characters=False, name=None):
    """The Unicode code points (int32) of a scalar string (a 1-D Tensor), or of each
    string of a tensor of rank >= 1 (a RaggedTensor, as TF)."""
    x = _strings(input, "UnicodeDecode")
    enc = _encoding(input_encoding)
    if errors not in ("replace", "ignore", "strict"):
        raise ValueError(f"errors must be 'strict', 'replace' or 'ignore', got {errors!r}")

    def points(v):
        try:
            text = v.decode(enc, errors="strict" if errors == "strict" else "replace")
        except UnicodeDecodeError as e:
            raise InvalidArgumentError(f"Invalid formatting on input string: {e}") \
                from None
        codes = [ord(c) for c in text]
        if errors == "ignore":
            codes = [c for c in codes if c != 0xFFFD]
        elif replacement_char != 0xFFFD:
            codes = [replacement_char if c == 0xFFFD else c for c in codes]
        if replace_control_characters:
            codes = [replacement_char if c < 32 or 127 <= c < 160 else c for c in codes]
        return codes
    return string_rows(x, points, dtype="int32")


def _encode_codes(codes, enc, errors, replacement_char):
    chars = []
    for c in codes:
        if 0 <= c <= 0x10FFFF and not 0xD800 <= c <= 0xDFFF:
            chars.append(chr(c))
        elif errors == "strict":
            raise InvalidArgumentError(f"Invalid code point {c}")
        elif errors == "replace":
            chars.append(chr(replacement_char))
    return "".join(chars).encode(enc)


def unicode_encode(input, output_encoding, errors="replace",
                   replacement_char=65533, name=None):
    """Encodes int code points along the last axis (ragged or uniform) into strings
    (one rank less)."""
    enc = _encoding(output_encoding)
    if isinstance(input, RaggedTensor):
        if isinstance(input.values, RaggedTensor):
            return input.with_values(unicode_encode(input.values, output_encoding,
                                                    errors, replacement_char))
        rows = [_encode_codes(r, enc, errors, replacement_char) for r in input.to_list()]
        return _str_tensor(rows, (len(rows),))
    x = input if isinstance(input, Tensor) else convert_to_tensor(input, dtype="int32")
    arr = x.numpy()
    if arr.ndim == 0:
        raise ValueError("unicode_encode: `input` must have rank >= 1")
    rows = [_encode_codes(r.tolist(), enc, errors, replacement_char)
            for r in arr.reshape(-1, arr.shape[-1])]
    return _str_tensor(rows, arr.shape[:-1])


# ---------------------------------------------------------------- ragged reduce_join
@primitive("RaggedReduceJoin")
def ragged_reduce_join_p(d, values, splits, *, separator):
    out = d.xp.empty(len(splits) - 1, dtype=object)
    for i in range(len(out)):
        out[i] = separator.join(_b(v) for v in values[int(splits[i]):int(splits[i + 1])])
    return out


def _replace_innermost(rt, new_values):
    if isinstance(rt.values, RaggedTensor):
        return rt.with_values(_replace_innermost(rt.values, new_values))
    return new_values


def _innermost(rt):
    return _innermost(rt.values) if isinstance(rt.values, RaggedTensor) else rt


def ragged_reduce_join(inputs, axis=None, keepdims=False, separator="", name=None):
    """``tf.strings.reduce_join`` of a RaggedTensor: over every value (``axis=None``),
    the innermost ragged axis (one rank less, as TF) or a uniform inner axis."""
    rt = inputs
    if axis is None:
        return reduce_join(rt.flat_values, None, keepdims, separator)
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            raise NotImplementedError("reduce_join of a RaggedTensor reduces one axis; "
                                      f"received axis={axis!r}")
        axis = axis[0]
    rank = rt.shape.rank
    a = int(axis) % rank
    if a > rt.ragged_rank:
        return rt.with_flat_values(reduce_join(rt.flat_values, a - rt.ragged_rank,
                                               keepdims, separator))
    inner = _innermost(rt)
    if a != rt.ragged_rank or inner.values.shape.rank != 1:
        raise NotImplementedError(
            "reduce_join of a RaggedTensor supports axis=None, the innermost ragged "
            f"axis or a uniform inner axis; received axis={axis!r} for a RaggedTensor "
            f"of rank {rank} and ragged_rank {rt.ragged_rank}")
    joined = call(ragged_reduce_join_p, (inner.values, inner.row_splits),
                  {"separator": _b(separator)})
    if keepdims:
        joined = expand_dims(joined, -1)
    return _replace_innermost(rt, joined)


COMPOSITE_DISPATCH[reduce_join] = ragged_reduce_join

STRINGS_NAMES = ["ngrams", "bytes_split", "format", "unicode_decode", "unicode_encode"]
