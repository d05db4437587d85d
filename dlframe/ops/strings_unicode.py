"""More of ``tf.strings``: Unicode decoding with byte offsets, transcoding, the ICU
script of code points, and ``unsorted_segment_join``."""

import codecs

from dlframe.backends.base import np as _np
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops.strings import _apply, _b, _strings, string_rows
from dlframe.ops.strings_text import _encoding, _input_encoding
from dlframe.ops.unicode_scripts import script_of

# Bytes per code unit, for stepping over an undecodable unit (else 1).
_UNIT = {"utf-16-be": 2, "utf-16-le": 2, "utf-32-be": 4, "utf-32-le": 4}


def _check_errors(errors):
    if errors not in ("replace", "ignore", "strict"):
        raise ValueError(f"errors must be 'strict', 'replace' or 'ignore', got "
                         f"{errors!r}")


def _is_control(code):
    return code < 32 or 127 <= code < 160


def _decode_offsets(data, enc, errors, replacement_char, replace_control_characters):
    """The code points of ``data`` and the byte offset where each one starts; an
    undecodable code unit becomes ``replacement_char`` (or is dropped, or raises)."""
    unit = _UNIT.get(enc, 1)
    codes, offsets, pos = [], [], 0
    while pos < len(data):
        for width in range(unit, 4 + 1, unit):
            try:
                text = codecs.decode(data[pos:pos + width], enc, "strict")
            except UnicodeDecodeError:
                continue
            if len(text) == 1:
                break
        else:
            if errors == "strict":
                raise InvalidArgumentError(None, None, "Invalid formatting on input "
                                           f"string at byte {pos}: {data!r}")
            if errors == "replace":
                codes.append(replacement_char)
                offsets.append(pos)
            pos += unit
            continue
        code = ord(text)
        codes.append(replacement_char if replace_control_characters and
                     _is_control(code) else code)
        offsets.append(pos)
        pos += width
    return codes, offsets


def _decoder(input_encoding, errors, replacement_char, replace_control_characters):
    enc = _input_encoding(input_encoding)
    _check_errors(errors)

    def decode(v):
        return _decode_offsets(_b(v), enc, errors, int(replacement_char),
                               replace_control_characters)
    return enc, decode


def unicode_decode_with_offsets(input, input_encoding, errors="replace",
                                replacement_char=65533,
                                replace_control_characters=False, name=None):
    """The code points of each string and the byte offset where each starts.

    Args:
      input: a string Tensor.
      input_encoding: "UTF-8", "UTF-16-BE" or "UTF-32-BE".
      errors: "replace", "ignore" or "strict" for undecodable bytes.
      replacement_char: the code point that replaces invalid input.
      replace_control_characters: replace C0/C1 control characters too.

    Returns:
      ``(codepoints, offsets)``: int32 and int64, 1-D for a scalar input, else
      RaggedTensors with one more (ragged) dimension.
    """
    x = _strings(input, "UnicodeDecodeWithOffsets")
    _, decode = _decoder(input_encoding, errors, replacement_char,
                         replace_control_characters)
    return (string_rows(x, lambda v: decode(v)[0], dtype="int32"),
            string_rows(x, lambda v: decode(v)[1], dtype="int64"))


class _Chars:
    """A string's characters, each encoded in the input's encoding."""

    def __init__(self, input_encoding, errors, replacement_char):
        self.key_ = (input_encoding, errors, int(replacement_char))
        self.enc, self.decode = _decoder(input_encoding, errors, replacement_char, False)

    def __call__(self, v):
        return [chr(c).encode(self.enc) for c in self.decode(v)[0]]

    def __eq__(self, other):
        return isinstance(other, _Chars) and other.key_ == self.key_

    def __hash__(self):
        return hash(("unicode_chars",) + self.key_)


def unicode_split(input, input_encoding, errors="replace", replacement_char=65533,
                  name=None):
    """Splits each string into its characters.

    Args:
      input: a string Tensor (or RaggedTensor).
      input_encoding: "UTF-8", "UTF-16-BE" or "UTF-32-BE".
      errors: "replace", "ignore" or "strict" for undecodable bytes.
      replacement_char: the code point that replaces invalid input.
      name: unused.

    Returns:
      The characters, each encoded in ``input_encoding``: 1-D for a scalar input,
      else a RaggedTensor with one more (ragged) dimension.

    Raises:
      InvalidArgumentError: undecodable input with ``errors="strict"``.
    """
    x = _strings(input, "UnicodeSplit")
    return string_rows(x, _Chars(input_encoding, errors, replacement_char))


def unicode_split_with_offsets(input, input_encoding, errors="replace",
                               replacement_char=65533, name=None):
    """Each string split into its characters (encoded in ``input_encoding``) and
    the byte offset where each starts.

    Args:
      input: a string Tensor.
      input_encoding: "UTF-8", "UTF-16-BE" or "UTF-32-BE".
      errors: "replace", "ignore" or "strict".
      replacement_char: the code point that replaces invalid input.

    Returns:
      ``(chars, offsets)``: string and int64, 1-D for a scalar input, else
      RaggedTensors.
    """
    x = _strings(input, "UnicodeSplitWithOffsets")
    chars = _Chars(input_encoding, errors, replacement_char)
    return (string_rows(x, chars),
            string_rows(x, lambda v: chars.decode(v)[1], dtype="int64"))


def unicode_transcode(input, input_encoding, output_encoding, errors="replace",
                      replacement_char=65533, replace_control_characters=False,
                      name=None):
    """Re-encodes each string from ``input_encoding`` to ``output_encoding``.

    Args:
      input: a string Tensor.
      input_encoding: any encoding Python's codecs know ("UTF-8", "UTF-16-BE",
        "ISO-8859-1", ...).
      output_encoding: "UTF-8", "UTF-16-BE" or "UTF-32-BE".
      errors: "replace", "ignore" or "strict" for undecodable input.
      replacement_char: the code point that replaces invalid input.
      replace_control_characters: replace C0/C1 control characters too.

    Raises:
      InvalidArgumentError: undecodable input with ``errors="strict"``.
    """
    x = _strings(input, "UnicodeTranscode")
    out_enc = _encoding(output_encoding)
    _check_errors(errors)
    in_enc = _input_encoding(input_encoding)
    rep, rcc = int(replacement_char), replace_control_characters

    def transcode(v):
        codes, _ = _decode_offsets(_b(v), in_enc, errors, rep, rcc)
        return "".join(map(chr, codes)).encode(out_enc)
    return _apply(x, transcode)


# ---------------------------------------------------------------- scripts
@primitive("UnicodeScript", host_kernel=True)
def unicode_script_p(d, x):
    flat = d.to_numpy(x).reshape(-1)
    out = _np.asarray([script_of(int(c)) for c in flat], dtype=_np.int32)
    return d.xp.asarray(out.reshape(x.shape))


unicode_script_p.grad = None


def unicode_script(input, name=None):
    """The ICU script code (``UScriptCode``) of each int32 code point: 0 Common,
    1 Inherited, 25 Latin, 8 Cyrillic, 17 Han, ... and -1 for an invalid code point.

    The common scripts (Latin, Greek, Cyrillic, Armenian, Hebrew, Arabic, Syriac,
    Thaana, the Indic scripts, Thai, Lao, Tibetan, Myanmar, Georgian, Hangul,
    Ethiopic, Cherokee, Khmer, Mongolian, Hiragana, Katakana, Bopomofo, Han) are
    known; a letter of any other script gives 103 (Unknown).

    Args:
      input: an int32 Tensor of code points.
    """
    x = input if isinstance(input, Tensor) else convert_to_tensor(input, dtype="int32")
    if x.dtype.name != "int32":
        raise InvalidArgumentError(None, None, f"unicode_script: `input` must be int32 "
                                   f"code points, got {x.dtype.name}")
    return call(unicode_script_p, (x,), {})


# ---------------------------------------------------------------- segment join
@primitive("UnsortedSegmentJoin")
def unsorted_segment_join_p(d, inputs, segment_ids, *, num_segments, separator):
    data = d.to_numpy(inputs)
    ids = _np.asarray(d.to_numpy(segment_ids), dtype=_np.int64)
    inner = data.shape[ids.ndim:]
    flat_ids = ids.reshape(-1)
    rows = data.reshape(len(flat_ids), -1)
    if flat_ids.size and flat_ids.max() >= num_segments:
        raise InvalidArgumentError(None, None, "segment_ids are not allowed to exceed "
                                   f"num_segments ({num_segments}), got "
                                   f"{int(flat_ids.max())}")
    parts = [[[] for _ in range(int(_np.prod(inner, dtype=_np.int64)))]
             for _ in range(num_segments)]
    for row, seg in zip(rows, flat_ids):
        if seg < 0:
            continue   # negative ids are dropped, as TF's unsorted segment ops
        for j, v in enumerate(row):
            parts[seg][j].append(_b(v))
    out = _np.empty((num_segments,) + inner, dtype=object)
    flat_out = out.reshape(num_segments, -1)
    for s in range(num_segments):
        for j, pieces in enumerate(parts[s]):
            flat_out[s, j] = separator.join(pieces)
    return out


unsorted_segment_join_p.grad = None


def unsorted_segment_join(inputs, segment_ids, num_segments, separator="", name=None):
    """Joins the strings of ``inputs`` that share a segment id.

    Args:
      inputs: a string Tensor.
      segment_ids: int Tensor whose shape is a prefix of ``inputs``' shape; negative
        ids are dropped.
      num_segments: the number of output segments.
      separator: inserted between joined strings.

    Returns:
      A string Tensor of shape ``[num_segments] + inputs.shape[segment_ids.ndim:]``.

    Raises:
      InvalidArgumentError: a segment id ``>= num_segments``.
    """
    x = _strings(inputs, "UnsortedSegmentJoin")
    ids = segment_ids if isinstance(segment_ids, Tensor) else \
        convert_to_tensor(segment_ids)
    if tuple(x.shape[:ids.shape.rank]) != tuple(ids.shape):
        raise InvalidArgumentError(None, None, f"segment_ids.shape {list(ids.shape)} "
                                   f"must be a prefix of inputs.shape {list(x.shape)}")
    n = int(num_segments.numpy() if isinstance(num_segments, Tensor) else num_segments)
    if n < 0:
        raise InvalidArgumentError(None, None, f"num_segments must be >= 0, got {n}")
    sep = separator.decode() if isinstance(separator, bytes) else separator
    return call(unsorted_segment_join_p, (x, ids),
                {"num_segments": n, "separator": sep.encode()})


STRINGS_NAMES = ["unicode_decode_with_offsets", "unicode_split",
                 "unicode_split_with_offsets", "unicode_transcode", "unicode_script",
                 "unsorted_segment_join"]
