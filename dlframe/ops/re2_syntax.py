"""RE2 pattern syntax (what ``tf.strings.regex_replace`` and ``regex_full_match``
take) rewritten for Python's ``re``.

Python's ``re`` lacks some RE2 syntax: Unicode general categories (``\\pL``,
``\\p{P}``, ``\\P{Lu}``, ``\\p{^N}``, also inside classes: ``[\\p{L}\\d]``), ``\\z``
(end of text), ``\\Q...\\E`` (literal text) and POSIX classes (``[[:punct:]]``).
They become explicit code point ranges, ``\\Z``, escaped text and ASCII ranges;
``\\x{hex}`` becomes ``\\U`` escapes, RE2's ``\\s`` (no ``\\v``) explicit members, a
literal ``[`` in a class ``\\[``, and ``$`` outside multi-line mode (end of text in
RE2, also before a final newline in Python) ``\\Z``; the rest of a pattern is passed
through unchanged. Script classes (``\\p{Greek}``) cover the scripts that
``dlframe.ops.unicode_scripts`` knows; other script names raise a clear error.

Two more modes match as RE2 does on text that is not plain UTF-8: ``escaped`` for
input holding invalid UTF-8 bytes (decoded to lone surrogates, which no class, ``.``
or ``\\W`` may match, as RE2 matches no invalid byte), and ``bytes`` for patterns
with ``\\C`` (any one byte), matched against the input's bytes as Latin-1 text.
"""

import functools
import re
import string
import sys
import unicodedata

from dlframe.errors import InvalidArgumentError
from dlframe.ops.unicode_scripts import SCRIPT_NAMES, script_spans

_POSIX = {"punct": r"!-/:-@\[-`{-~", "alpha": "A-Za-z", "digit": "0-9",
          "alnum": "0-9A-Za-z", "space": r" \t\n\r\f\v", "upper": "A-Z",
          "lower": "a-z", "xdigit": "0-9A-Fa-f", "cntrl": r"\x00-\x1f\x7f",
          "print": r" -~", "graph": "!-~", "blank": r" \t", "word": r"\w",
          "ascii": r"\x00-\x7f"}

_SPACE = r"\t\n\f\r "   # RE2's \s
_MULTILINE = re.compile(r"\(\?[imsU]*m[imsU-]*[:)]")

# RE2's one-letter groups; its 'C' leaves out unassigned code points (Cn)
_GROUPS = {"C": ("Cc", "Cf", "Co", "Cs")}
_CATEGORIES = {"Cc", "Cf", "Cn", "Co", "Cs", "Ll", "Lm", "Lo", "Lt", "Lu", "Mc", "Me",
               "Mn", "Nd", "Nl", "No", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "Sc",
               "Sk", "Sm", "So", "Zl", "Zp", "Zs"}


@functools.cache
def _runs():
    """``(first, last, category)`` runs of consecutive code points (one pass over
    Unicode, done once)."""
    runs, start, current = [], 0, unicodedata.category("\0")
    for code in range(1, sys.maxunicode + 1):
        cat = unicodedata.category(chr(code))
        if cat != current:
            runs.append((start, code - 1, current))
            start, current = code, cat
    runs.append((start, sys.maxunicode, current))
    return tuple(runs)


def _categories(name):
    """The set of two-letter categories RE2's ``\\p{name}`` means; None: Any."""
    if name == "Any":
        return None
    if name in _GROUPS:
        return set(_GROUPS[name])
    if len(name) == 1 and any(c.startswith(name) for c in _CATEGORIES):
        return {c for c in _CATEGORIES if c.startswith(name) and c != "Cn"}
    if name in _CATEGORIES:
        return {name}
    raise InvalidArgumentError(
        None, None, f"Invalid pattern: invalid character class range \\p{{{name}}} "
        "(general categories such as L, Lu, N, P, S, Z, Any and the scripts "
        f"{', '.join(sorted(SCRIPT_NAMES))} are supported)")


def _complement(spans):
    out, start = [], 0
    for first, last in spans:
        if first > start:
            out.append((start, first - 1))
        start = last + 1
    if start <= sys.maxunicode:
        out.append((start, sys.maxunicode))
    return out


@functools.cache
def _ranges(name, negated):
    """The class body (``a-z...`` as ``\\U`` escapes) of the code points in
    Unicode category or script ``name``, or of all others when ``negated``."""
    if name in SCRIPT_NAMES:
        spans = script_spans(SCRIPT_NAMES[name])
        spans = _complement(spans) if negated else spans
    else:
        cats = _categories(name)
        spans = []
        whole = [(0, sys.maxunicode, "")]
        for first, last, cat in _runs() if cats is not None else whole:
            if (cats is None or cat in cats) != negated:
                if spans and spans[-1][1] == first - 1:
                    spans[-1][1] = last
                else:
                    spans.append([first, last])
    return "".join(_escape(a) if a == b else f"{_escape(a)}-{_escape(b)}"
                   for a, b in spans)


@functools.cache
def _posix_complement(name):
    """The class body of every code point outside the POSIX class ``name``."""
    member = re.compile(f"[{_POSIX[name]}]", re.ASCII)
    spans = []
    for code in range(0x80):
        if member.match(chr(code)):
            continue
        if spans and spans[-1][1] == code - 1:
            spans[-1][1] = code
        else:
            spans.append([code, code])
    spans[-1][1] = sys.maxunicode   # every non-ASCII code point is outside
    return "".join(_escape(a) if a == b else f"{_escape(a)}-{_escape(b)}"
                   for a, b in spans)


def _escape(code):
    return f"\\U{code:08x}"


def _property(pattern, i):
    """``(class body, end index)`` of the ``\\p``/``\\P`` escape at ``pattern[i]``."""
    negated = pattern[i + 1] == "P"
    if pattern[i + 2:i + 3] == "{":
        close = pattern.find("}", i + 3)
        if close < 0:
            raise InvalidArgumentError(None, None, f"Invalid pattern: missing '}}' in "
                                                   f"{pattern!r}")
        name, end = pattern[i + 3:close], close + 1
    else:
        name, end = pattern[i + 2:i + 3], i + 3
    if name.startswith("^"):
        negated, name = not negated, name[1:]
    return _ranges(name, negated), end


_FLAGS = re.compile(r"\(\?([imsU]*)(?:-([imsU]*))?([:)])")
_REPEAT = re.compile(r"[*+?]|\{\d+(?:,\d*)?\}")
_MAX_REPEAT = 1000   # RE2's largest {n,m}
# Perl syntax RE2 refuses (TF: InvalidArgumentError) that Python's re would accept
_UNSUPPORTED = ("(?=", "(?!", "(?<=", "(?<!", "(?P=", "(?>", "(?#")


def _unsupported(pattern, what):
    return InvalidArgumentError(None, None, f"Invalid pattern: {pattern!r}, error: "
                                            f"RE2 does not support {what}")


def _group(pattern, i, out, stack, lazy):
    """Copies the ``(`` at ``pattern[i]``, dropping RE2's ``U`` (ungreedy) flag;
    returns ``(end index, lazy)`` with ``lazy`` the mode inside the group."""
    if pattern.startswith(_UNSUPPORTED, i):
        raise _unsupported(pattern, "lookaround, backreferences, atomic groups or "
                                    "comments")
    flags = _FLAGS.match(pattern, i)
    if flags is None:
        stack.append(lazy)
        out.append("(")
        return i + 1, lazy
    on, off, end = flags.group(1), flags.group(2) or "", flags.group(3)
    new = (lazy or "U" in on) and "U" not in off
    on, off = on.replace("U", ""), off.replace("U", "")
    text = "(?" + on + (f"-{off}" if off else "")
    if end == ":":
        stack.append(lazy)
        out.append(text + ":" if text != "(?" else "(?:")
    elif text != "(?":
        out.append(text + ")")
    return flags.end(), new


def _repeat(pattern, i, out):
    """Copies the repetition at ``pattern[i]`` with its greediness swapped (RE2's
    ``U`` flag); returns the end index."""
    rep = _REPEAT.match(pattern, i)
    end = rep.end()
    if pattern[end:end + 1] == "?":
        out.append(rep.group())
        return end + 1
    out.append(rep.group() + "?")
    return end


# no class, '.' or negated escape may match an invalid byte (escaped to a lone
# surrogate) in 'escaped' mode
_GUARD = "(?:(?![\\udc80-\\udcff])"
# one UTF-8 encoded character other than a newline, as bytes ('.' in 'bytes' mode)
_UTF8_CHAR = (r"(?:[\x00-\x09\x0b-\x7f]|[\xc2-\xdf][\x80-\xbf]"
              r"|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3})")
_ANY_BYTE = re.compile(r"(?<!\\)(?:\\\\)*\\C")
_DOTALL = re.compile(r"\(\?[imsU]*s[imsU-]*[:)]")


def uses_any_byte(pattern):
    """Whether the RE2 ``pattern`` holds ``\\C`` (one byte), so it matches bytes."""
    return _ANY_BYTE.search(pattern) is not None


def _bytes_unsupported(pattern, what):
    return InvalidArgumentError(None, None, f"Invalid pattern: {pattern!r}: with \\C "
                                            f"(any byte) {what} is not supported")


def _literal(text, mode):
    """``text`` as a literal pattern; in 'bytes' mode its UTF-8 bytes (a group per
    character, so that a repetition after it repeats the whole character)."""
    if mode != "bytes":
        return re.escape(text)
    return "".join(re.escape(ch) if ord(ch) < 0x80 else
                   "(?:" + "".join(f"\\x{b:02x}" for b in ch.encode()) + ")"
                   for ch in text)


def re2_to_python(pattern, mode="text"):
    """Rewrites an RE2 ``pattern`` (str or bytes) in Python ``re`` syntax.

    ``mode``: 'text' (UTF-8 input decoded to str), 'escaped' (input with invalid
    UTF-8 bytes, decoded with ``surrogateescape``) or 'bytes' (input as Latin-1 text,
    for patterns with ``\\C``).
    """
    pattern = pattern.decode() if isinstance(pattern, bytes) else pattern
    out, i, in_class = [], 0, False
    stack, lazy = [], False   # enclosing groups' ungreedy modes, the current one
    # RE2's '$' is the end of text unless the m flag is set (any (?m...) group here)
    multiline = _MULTILINE.search(pattern) is not None
    guard, unguard = (_GUARD, ")") if mode == "escaped" else ("", "")

    def negated_class(body, what):
        if mode == "bytes":
            raise _bytes_unsupported(pattern, what)
        return f"{guard}{body}{unguard}"

    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt in "pP":
                if mode == "bytes":
                    raise _bytes_unsupported(pattern, f"\\{nxt}")
                body, i = _property(pattern, i)
                out.append(body if in_class else f"{guard}[{body}]{unguard}" if body
                           else "(?!)")
                continue
            if nxt == "C":
                if in_class:
                    raise _bytes_unsupported(pattern, "\\C in a class")
                out.append(r"[\x00-\xff]")
            elif nxt == "z" and not in_class:
                out.append(r"\Z")
            elif nxt in "123456789Z" and not in_class:
                raise _unsupported(pattern, f"the escape \\{nxt}")
            elif nxt == "s":   # RE2's \s leaves out \v, Python's does not
                out.append(_SPACE if in_class else f"[{_SPACE}]")
            elif nxt == "S" and not in_class:
                out.append(negated_class(f"[^{_SPACE}]", "\\S"))
            elif nxt in "WD" and not in_class:
                out.append(negated_class(pattern[i:i + 2], f"\\{nxt}"))
            elif nxt in "SWD" and mode == "bytes":
                raise _bytes_unsupported(pattern, f"\\{nxt}")
            elif nxt == "x" and pattern.startswith("{", i + 2):
                close = pattern.find("}", i + 3)
                digits = pattern[i + 3:close] if close > 0 else ""
                if not digits or any(ch not in string.hexdigits for ch in digits) \
                        or int(digits, 16) > sys.maxunicode:
                    raise InvalidArgumentError(None, None, f"Invalid pattern: bad \\x{{}} "
                                                           f"escape in {pattern!r}")
                code = int(digits, 16)
                if mode == "bytes" and code >= 0x80:
                    if in_class:
                        raise _bytes_unsupported(pattern, "a non-ASCII class member")
                    out.append(_literal(chr(code), mode))
                else:
                    out.append(_escape(code))
                i = close + 1
                continue
            elif nxt == "Q":
                close = pattern.find("\\E", i + 2)
                close = len(pattern) if close < 0 else close
                out.append(_literal(pattern[i + 2:close], mode))
                i = close + 2
                continue
            else:
                out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class and pattern.startswith("[:", i):
            close = pattern.find(":]", i + 2)
            name = pattern[i + 2:close] if close > 0 else None
            if name in _POSIX:
                out.append(_POSIX[name])
                i = close + 2
                continue
            if name and name[0] == "^" and name[1:] in _POSIX:   # [[:^digit:]]
                if mode == "bytes":
                    raise _bytes_unsupported(pattern, "a negated class")
                out.append(_posix_complement(name[1:]))
                i = close + 2
                continue
        if c == "[" and not in_class:
            in_class = True
            out.append(guard + c)
            i += 1
            # a ']' right after '[' or '[^' is a literal member
            if pattern[i:i + 1] == "^":
                if mode == "bytes":
                    raise _bytes_unsupported(pattern, "a negated class")
                out.append("^")
                i += 1
            if pattern[i:i + 1] == "]":
                out.append(r"\]")
                i += 1
            continue
        if not in_class and c == "(":
            i, lazy = _group(pattern, i, out, stack, lazy)
            continue
        if not in_class and c == "{":
            rep = _REPEAT.match(pattern, i)
            if rep and max(map(int, re.findall(r"\d+", rep.group()))) > _MAX_REPEAT:
                raise InvalidArgumentError(None, None, f"Invalid pattern: {pattern}, "
                                           f"error: invalid repetition size: "
                                           f"{rep.group()}")
        if not in_class and c == ")" and stack:
            lazy = stack.pop()
        elif lazy and not in_class and _REPEAT.match(pattern, i):
            i = _repeat(pattern, i, out)
            continue
        if c == "]" and in_class:
            in_class = False
            c += unguard
        elif c == "[" and in_class:   # a literal (Python warns of nested sets)
            c = r"\["
        elif c == "$" and not in_class and not multiline:
            c = r"\Z"
        elif c == "." and not in_class:
            if mode == "bytes":
                c = (_UTF8_CHAR[:-1] + r"|\n)" if _DOTALL.search(pattern)
                     else _UTF8_CHAR)
            else:
                c = f"{guard}.{unguard}"
        elif mode == "bytes" and ord(c) >= 0x80:
            if in_class:
                raise _bytes_unsupported(pattern, "a non-ASCII class member")
            c = _literal(c, mode)
        out.append(c)
        i += 1
    return "".join(out)
