"""Unicode scripts of code points as ICU numbers them (``UScriptCode``), shared by
``tf.strings.unicode_script`` and RE2's script classes (``\\p{Greek}``).

The common scripts are known by their blocks; a letter of any other script is
Unknown (103).
"""

import functools
import sys
import unicodedata

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


def script_of(code):
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


# RE2's script names of the scripts known here
SCRIPT_NAMES = {
    "Common": 0, "Inherited": 1, "Arabic": 2, "Armenian": 3, "Bengali": 4,
    "Bopomofo": 5, "Cherokee": 6, "Cyrillic": 8, "Devanagari": 10, "Ethiopic": 11,
    "Georgian": 12, "Greek": 14, "Gujarati": 15, "Gurmukhi": 16, "Han": 17,
    "Hangul": 18, "Hebrew": 19, "Hiragana": 20, "Kannada": 21, "Katakana": 22,
    "Khmer": 23, "Lao": 24, "Latin": 25, "Malayalam": 26, "Mongolian": 27,
    "Myanmar": 28, "Oriya": 31, "Sinhala": 33, "Syriac": 34, "Tamil": 35,
    "Telugu": 36, "Thaana": 37, "Thai": 38, "Tibetan": 39,
}


@functools.cache
def script_spans(script):
    """``((first, last), ...)`` runs of the assigned code points of ICU ``script``."""
    if script in _SCRIPT_RANGES:
        candidates = (c for lo, hi in _SCRIPT_RANGES[script] for c in range(lo, hi + 1))
    else:   # Common and Inherited reach over every block
        candidates = range(sys.maxunicode + 1)
    spans = []
    for code in candidates:
        if script_of(code) != script:
            continue
        if spans and spans[-1][1] == code - 1:
            spans[-1][1] = code
        else:
            spans.append([code, code])
    return tuple(tuple(s) for s in spans)
