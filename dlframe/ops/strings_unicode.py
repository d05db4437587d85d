"""More of ``tf.strings``: Unicode decoding with byte offsets, transcoding, the ICU
script of code points, and ``unsorted_segment_join``."""

import codecs
import unicodedata

from dlframe.backends.base import np as _np
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops.strings import _apply, _b, _strings, string_rows
from dlframe.ops.strings_text import _encoding

# Bytes per code unit, for stepping over an undecodable unit.
_UNIT = {"utf-8": 1, "utf-16-be": 2, "utf-32-be": 4}


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
    enc = _encoding(input_encoding)
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
    try:
        in_enc = _encoding(input_encoding)
    except InvalidArgumentError:
        try:
            in_enc = codecs.lookup(input_encoding).name
        except LookupError:
            raise InvalidArgumentError(None, None, f"Could not create converter for "
                                       f"input encoding: {input_encoding}") from None
    rep, rcc = int(replacement_char), replace_control_characters

    def transcode(v):
        codes, _ = _decode_offsets(_b(v), in_enc, errors, rep, rcc)
        return "".join(map(chr, codes)).encode(out_enc)
    return _apply(x, transcode)


# ---------------------------------------------------------------- scripts
# ICU UScriptCode values (uscript.h) and the blocks of each script's characters.
_SCRIPT_RANGES = {
    2: [(0x600, 0x6FF), (0x750, 0x77F), (0x8A0, 0x8FF), (0xFB50, 0xFDFF),
        (0xFE70, 0xFEFF)],                                           # ARABIC
    3: [(0x530, 0x58F), (0xFB13, 0xFB17)],                           # ARMENIAN
    4: [(0x980, 0x9FF)],                                             # BENGALI
    5: [(0x3100, 0x312F), (0x31A0, 0x31BF)],                         # BOPOMOFO
    6: [(0x13A0, 0x13FF), (0xAB70, 0xABBF)],                         # CHEROKEE
    8: [(0x400, 0x52F), (0x1C80, 0x1C8F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F)],
    10: [(0x900, 0x97F), (0xA8E0, 0xA8FF)],                          # DEVANAGARI
    11: [(0x1200, 0x139F), (0x2D80, 0x2DDF)],                        # ETHIOPIC
    12: [(0x10A0, 0x10FF), (0x1C90, 0x1CBF), (0x2D00, 0x2D2F)],      # GEORGIAN
    14: [(0x370, 0x3FF), (0x1F00, 0x1FFF)],                          # GREEK
    15: [(0xA80, 0xAFF)],                                            # GUJARATI
    16: [(0xA00, 0xA7F)],                                            # GURMUKHI
    17: [(0x2E80, 0x2FDF), (0x3005, 0x3005), (0x3007, 0x3007), (0x3021, 0x3029),
         (0x3038, 0x303B), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
         (0x20000, 0x3134F)],                                        # HAN
    18: [(0x1100, 0x11FF), (0x3131, 0x318E), (0xA960, 0xA97F), (0xAC00, 0xD7FF),
         (0xFFA0, 0xFFDC)],                                          # HANGUL
    19: [(0x590, 0x5FF), (0xFB1D, 0xFB4F)],                          # HEBREW
    20: [(0x3041, 0x3096), (0x309D, 0x309F)],                        # HIRAGANA
    21: [(0xC80, 0xCFF)],                                            # KANNADA
    22: [(0x30A1, 0x30FA), (0x30FD, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF6F),
         (0xFF71, 0xFF9D)],                                          # KATAKANA
    23: [(0x1780, 0x17FF), (0x19E0, 0x19FF)],                        # KHMER
    24: [(0xE80, 0xEFF)],                                             # LAO
    25: [(0x41, 0x5A), (0x61, 0x7A), (0xAA, 0xAA), (0xBA, 0xBA), (0xC0, 0xD6),
         (0xD8, 0xF6), (0xF8, 0x2AF), (0x1D00, 0x1D7F), (0x1E00, 0x1EFF),
         (0x2C60, 0x2C7F), (0xA720, 0xA7FF), (0xAB30, 0xAB6F), (0xFB00, 0xFB06),
         (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)],                        # LATIN
    26: [(0xD00, 0xD7F)],                                            # MALAYALAM
    27: [(0x1800, 0x18AF)],                                          # MONGOLIAN
    28: [(0x1000, 0x109F), (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F)],      # MYANMAR
    31: [(0xB00, 0xB7F)],                                            # ORIYA
    33: [(0xD80, 0xDFF)],                                            # SINHALA
    34: [(0x700, 0x74F), (0x860, 0x86F)],                            # SYRIAC
    35: [(0xB80, 0xBFF)],                                            # TAMIL
    36: [(0xC00, 0xC7F)],                                            # TELUGU
    37: [(0x780, 0x7BF)],                                            # THAANA
    38: [(0xE00, 0xE7F)],                                            # THAI
    39: [(0xF00, 0xFFF)],                                            # TIBETAN
}
_INHERITED_RANGES = [(0x300, 0x36F), (0x485, 0x486), (0x64B, 0x655), (0x670, 0x670),
                     (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x200C, 0x200D),
                     (0x20D0, 0x20FF), (0x3099, 0x309A), (0xFE00, 0xFE0F),
                     (0xFE20, 0xFE2F), (0xE0100, 0xE01EF)]
# Characters inside those blocks that Unicode's Scripts.txt assigns to Common.
_COMMON_RANGES = [(0x374, 0x374), (0x37E, 0x37E), (0x385, 0x385), (0x387, 0x387),
                  (0x589, 0x589), (0x605, 0x605), (0x60C, 0x60C), (0x61B, 0x61B),
                  (0x61F, 0x61F), (0x640, 0x640), (0x6DD, 0x6DD), (0x964, 0x965),
                  (0xE3F, 0xE3F), (0xFD5, 0xFD8), (0x10FB, 0x10FB), (0x1802, 0x1803),
                  (0x1805, 0x1805), (0x3030, 0x3037), (0x303C, 0x303F),
                  (0x30FB, 0x30FC), (0xFD3E, 0xFD3F), (0xFEFF, 0xFEFF),
                  (0xFF70, 0xFF70), (0xFF9E, 0xFF9F)]
_COMMON, _INHERITED, _UNKNOWN = 0, 1, 103


def _in(code, ranges):
    return any(lo <= code <= hi for lo, hi in ranges)


def _script_of(code):
    if not 0 <= code <= 0x10FFFF:
        return -1
    category = unicodedata.category(chr(code))
    if category in ("Cs", "Co", "Cn"):
        return _UNKNOWN
    if category.startswith("M") and _in(code, _INHERITED_RANGES):
        return _INHERITED
    if category == "Zs" or _in(code, _COMMON_RANGES):
        return _COMMON
    for script, ranges in _SCRIPT_RANGES.items():
        if _in(code, ranges):
            return script
    return _UNKNOWN if category[0] == "L" else _COMMON   # L: a script not listed


@primitive("UnicodeScript", host_kernel=True)
def unicode_script_p(d, x):
    flat = d.to_numpy(x).reshape(-1)
    out = _np.asarray([_script_of(int(c)) for c in flat], dtype=_np.int32)
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
