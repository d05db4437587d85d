"""Text-pipeline string ops (``tf.strings``): ngrams, bytes_split, format and the
Unicode code-point codecs.

Like ``tf.strings.split``, an op whose rows can differ in length returns a
RaggedTensor for non-scalar inputs; dense inputs with equal-length rows give dense
Tensors where TensorFlow gives them (``ngrams``).
"""

import codecs as _codecs

from dlframe.backends.base import np as _np  # host index arithmetic
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops.array import expand_dims, reshape
from dlframe.ops.logging import _part, _render
from dlframe.ops.names import COMPOSITE_DISPATCH
from dlframe.ops.ragged_tensor import RaggedTensor
from dlframe.ops.strings import (
    _b,
    _strings,
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


@primitive("StringNGrams", n_out=2)
def string_ngrams_p(d, values, splits, *, widths, separator, pad_values,
                    padding_width, preserve_short):
    """The n-grams of each row ``values[splits[i]:splits[i + 1]]``: the new
    values, flat, and their row splits."""
    rows = [_row_ngrams([_b(v) for v in values[int(splits[i]):int(splits[i + 1])]],
                        widths, separator, pad_values, padding_width, preserve_short)
            for i in range(len(splits) - 1)]
    flat = [v for r in rows for v in r]
    out = d.xp.empty(len(flat), dtype=object)
    for i, v in enumerate(flat):
        out[i] = v
    new_splits = d.xp.zeros(len(rows) + 1, dtype="int64")
    d.xp.cumsum(d.xp.asarray([len(r) for r in rows], dtype="int64"),
                out=new_splits[1:])
    return out, new_splits


string_ngrams_p.value_shaped = True   # its output size depends on the row lengths


def _count_ngrams(length, widths, pad_values, padding_width, preserve_short):
    """How many n-grams a row of ``length`` tokens gives (static, for dense rows)."""
    count = 0
    for n in widths:
        pad = 0 if pad_values is None else (n - 1 if padding_width is None
                                             else padding_width)
        count += max(0, length + 2 * pad - n + 1)
    return 1 if count == 0 and preserve_short and length else count


def _map_innermost(rt, fn):
    """``rt`` with its innermost RaggedTensor replaced by ``fn(innermost)``."""
    if isinstance(rt.values, RaggedTensor):
        return rt.with_values(_map_innermost(rt.values, fn))
    return fn(rt)


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
      name: unused.

    Returns:
      A Tensor for dense input (its rows are equally long, so they give equally
      many n-grams), or a RaggedTensor for ragged input.

    Raises:
      ValueError: a width below 1, or a scalar ``data``.
    """
    widths = tuple(int(w) for w in (ngram_width if isinstance(ngram_width, (list, tuple))
                                    else [ngram_width]))
    if any(w < 1 for w in widths):
        raise ValueError(f"All ngram_widths must be greater than 0; received "
                         f"ngram_width={ngram_width}")
    if pad_values is not None:
        pad_values = (pad_values, pad_values) if isinstance(pad_values, (str, bytes)) \
            else tuple(pad_values)
        pad_values = tuple(_b(v) for v in pad_values)
    attrs = {"widths": widths, "separator": _b(separator), "pad_values": pad_values,
             "padding_width": None if padding_width is None else int(padding_width),
             "preserve_short": bool(preserve_short_sequences)}

    def rows(values, splits):
        return call(string_ngrams_p, (values, splits), attrs)
    if isinstance(data, RaggedTensor):
        return _map_innermost(data, lambda rt: RaggedTensor.from_row_splits(
            *rows(rt.values, rt.row_splits), validate=False))
    x = _strings(data, "StringNGrams")
    if x.ndim == 0:
        raise ValueError("ngrams: `data` must have rank >= 1, got a scalar")
    shape = tuple(int(n) for n in x.shape)
    length, nrows = shape[-1], int(_np.prod(shape[:-1], dtype=_np.int64))
    splits = convert_to_tensor(_np.arange(nrows + 1, dtype=_np.int64) * length)
    values, _ = rows(reshape(x, [-1]), splits)
    count = _count_ngrams(length, widths, pad_values, attrs["padding_width"],
                          attrs["preserve_short"])
    return reshape(values, list(shape[:-1]) + [count])


# ---------------------------------------------------------------- splitting bytes
def bytes_split(input, name=None):
    """Splits each string into its bytes: a 1-D Tensor for a scalar, else a
    RaggedTensor."""
    x = _strings(input, "BytesSplit")
    return string_rows(x, _bytes_of)


def _bytes_of(v):
    return [v[i:i + 1] for i in range(len(v))]


# ---------------------------------------------------------------- format
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
    tensors = []   # ragged inputs travel as their flat values and row splits
    parts = tuple(_part(v if isinstance(v, (Tensor, RaggedTensor)) else
                        convert_to_tensor(v), tensors) for v in inputs)
    return call(string_format_p, tuple(tensors),
                {"pieces": tuple(pieces), "parts": parts, "summarize": int(summarize)})


@primitive("StringFormat", host_kernel=True)
def string_format_p(d, *arrays, pieces, parts, summarize):
    out = pieces[0]
    for part, piece in zip(parts, pieces[1:]):
        # the same layout and number formatting as ``tf.print``
        out += _render(part, arrays, summarize) + piece
    result = d.xp.empty((), dtype=object)
    result[()] = out.encode()
    return result


# ---------------------------------------------------------------- Unicode
def _encoding(name):
    enc = name.upper().replace("-", "")
    codecs = {"UTF8": "utf-8", "UTF16BE": "utf-16-be", "UTF32BE": "utf-32-be"}
    if enc not in codecs:
        raise InvalidArgumentError(f"Unsupported encoding {name!r}: one of UTF-8, "
                                   "UTF-16-BE, UTF-32-BE")
    return codecs[enc]


def _input_encoding(name):
    """The Python codec of an input encoding: as ICU, any known character set
    ("ISO-8859-1", "windows-1252", "US-ASCII", ...); UTF-16/32 without a byte
    order are big-endian."""
    try:
        return _encoding(name)
    except InvalidArgumentError:
        pass
    try:
        codec = _codecs.lookup(name).name
    except LookupError:
        raise InvalidArgumentError(None, None, "Could not create converter for input "
                                   f"encoding: {name}") from None
    return {"utf-16": "utf-16-be", "utf-32": "utf-32-be"}.get(codec, codec)


def unicode_decode(input, input_encoding, errors="replace",
                   replacement_char=65533, replace_control_characters=False, name=None):
    """The Unicode code points (int32) of a scalar string (a 1-D Tensor), or of each
    string of a tensor of rank >= 1 (a RaggedTensor, as TF)."""
    x = _strings(input, "UnicodeDecode")
    enc = _input_encoding(input_encoding)
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


@primitive("UnicodeEncode", host_kernel=True)
def unicode_encode_p(d, codes, splits, *, encoding, errors, replacement_char):
    """Row ``codes[splits[i]:splits[i + 1]]`` of code points to one string each."""
    codes = d.to_numpy(codes)
    out = d.xp.empty(len(splits) - 1, dtype=object)
    for i in range(len(out)):
        out[i] = _encode_codes(codes[int(splits[i]):int(splits[i + 1])].tolist(),
                               encoding, errors, replacement_char)
    return out


def unicode_encode(input, output_encoding, errors="replace",
                   replacement_char=65533, name=None):
    """Encodes int32 code points along the last axis into strings.

    Args:
      input: int32 code points, a Tensor of rank >= 1 or a RaggedTensor.
      output_encoding: "UTF-8", "UTF-16-BE" or "UTF-32-BE".
      errors: "replace", "ignore" or "strict" for invalid code points.
      replacement_char: the code point written for an invalid one.
      name: unused.

    Returns:
      A string Tensor (or RaggedTensor) of one rank less.

    Raises:
      InvalidArgumentError: a non-int32 ``input``, or an invalid code point with
        ``errors="strict"``.
    """
    attrs = {"encoding": _encoding(output_encoding), "errors": errors,
             "replacement_char": int(replacement_char)}
    if isinstance(input, RaggedTensor):
        inner = _innermost(input)
        joined = call(unicode_encode_p, (_code_points(inner.values), inner.row_splits),
                      attrs)
        return _replace_innermost(input, joined)
    x = _code_points(input)
    if x.ndim == 0:
        raise ValueError("unicode_encode: `input` must have rank >= 1")
    shape = tuple(int(n) for n in x.shape)
    nrows = int(_np.prod(shape[:-1], dtype=_np.int64))
    splits = convert_to_tensor(_np.arange(nrows + 1, dtype=_np.int64) * shape[-1])
    joined = call(unicode_encode_p, (reshape(x, [-1]), splits), attrs)
    return reshape(joined, list(shape[:-1]))


def _code_points(values):
    x = values if isinstance(values, Tensor) else convert_to_tensor(values,
                                                                    dtype="int32")
    if x.dtype != dtypes.int32:
        raise InvalidArgumentError(f"unicode_encode: input must be an int32 tensor of "
                                   f"code points; received dtype {x.dtype.name}")
    return x


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
