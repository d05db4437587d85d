"""``tf.strings.regex_replace`` and ``regex_full_match``: RE2 patterns (rewritten
for Python's ``re`` by ``dlframe.ops.re2_syntax``) matched as RE2 matches them.

RE2 matches UTF-8 text by code point and never matches an invalid byte; a global
replace skips an empty match where the previous match ended; ``\\C`` matches one
byte. Each string is matched on the host.
"""

import functools as _functools
import re as _re

from dlframe.core.tensor import Tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops.re2_syntax import re2_to_python, uses_any_byte
from dlframe.ops.strings_core import _apply, _b, _strings


def _compile(pattern, mode):
    # RE2's \d \w \s and POSIX classes are ASCII-only
    try:
        return _re.compile(re2_to_python(pattern, mode), _re.ASCII)
    except _re.error as err:
        raise InvalidArgumentError(None, None, f"Invalid pattern: {pattern!r}, "
                                               f"error: {err}") from None


def _latin1(text):
    """``text``'s UTF-8 bytes as Latin-1 text (how 'bytes' mode sees strings)."""
    return text.encode().decode("latin-1")


@_functools.lru_cache(maxsize=256)
def _may_match_empty(regex):
    """Whether the compiled ``regex`` can match an empty string somewhere."""
    try:
        return _re._parser.parse(regex.pattern, regex.flags).getwidth()[0] == 0
    except Exception:   # noqa: BLE001 - a private parser: assume the worst
        return True


def _replace_all(regex, text, expand):
    """RE2's global replace: as ``regex.sub``, except that an empty match right
    where the previous match ended is skipped (one character is copied instead)."""
    out, pos, last_end = [], 0, -1
    while pos <= len(text):
        match = regex.search(text, pos)
        if match is None:
            break
        start, end = match.span()
        out.append(text[pos:start])
        if start == end == last_end:
            out.append(text[start:start + 1])
            pos = start + 1
            continue
        out.append(expand(match))
        pos = last_end = end
    out.append(text[pos:])
    return "".join(out)


class _Regex:
    """A hashable compiled-pattern callable (primitive attributes are compared).

    RE2 matches UTF-8 text by code point and never matches an invalid byte (a
    string holding one is matched by a second pattern that keeps every class off
    its escaped bytes); a pattern with ``\\C`` (any byte) matches bytes.
    """

    def __init__(self, pattern, rewrite, count):
        self.key = (pattern, rewrite, count)
        self.bytes_mode = uses_any_byte(pattern)
        self.regex = _compile(pattern, "bytes" if self.bytes_mode else "text")
        self._escaped = None   # the pattern for input that is not valid UTF-8
        self.rewrite, valid = _rewrite_parts(rewrite, self.regex.groups)
        if self.bytes_mode:
            self.rewrite = tuple(p if isinstance(p, int) else _latin1(p)
                                 for p in self.rewrite)
        self.count = count
        # RE2 (as TF) logs a bad rewrite instead of failing: a group past the last
        # leaves every string unchanged; a bad escape truncates the rewrite there
        # when replacing globally and leaves the string unchanged otherwise
        self.identity = valid is None or (not valid and count == 1)

    def _expand(self, match):
        return "".join(p if isinstance(p, str) else (match.group(p) or "")
                       for p in self.rewrite)

    def _text(self, v):
        """``(text, compiled pattern, codec, errors)`` for the bytes ``v``."""
        v = _b(v)
        if self.bytes_mode:
            return v.decode("latin-1"), self.regex, "latin-1", "strict"
        try:
            return v.decode(), self.regex, "utf-8", "strict"
        except UnicodeDecodeError:
            if self._escaped is None:
                self._escaped = _compile(self.key[0], "escaped")
            text = v.decode("utf-8", "surrogateescape")
            return text, self._escaped, "utf-8", "surrogateescape"

    def __call__(self, v):
        if self.identity:
            return _b(v)
        text, regex, codec, errors = self._text(v)
        if self.count or not _may_match_empty(regex):
            out = regex.sub(self._expand, text, count=self.count)
        else:
            out = _replace_all(regex, text, self._expand)
        return out.encode(codec, errors)

    def __eq__(self, other):
        return isinstance(other, _Regex) and other.key == self.key

    def __hash__(self):
        return hash(self.key)


def _rewrite_parts(rewrite, groups):
    """RE2's rewrite string as literal text and group numbers: only ``\\N`` (group
    N, ``\\0`` the whole match) and ``\\\\`` are escapes, as in TF.

    Returns ``(parts, valid)``: ``valid`` is None when the rewrite names a group past
    ``groups``, False when it holds another escape (``parts`` then stop before it).
    """
    escaped = _re.findall(r"\\(.)", rewrite, _re.DOTALL)   # pairs, as RE2 scans them
    if max((int(c) for c in escaped if c.isdigit()), default=0) > groups:
        return (), None
    parts, literal, i, valid = [], "", 0, True
    while i < len(rewrite):
        c = rewrite[i]
        if c != "\\":
            literal += c
            i += 1
            continue
        nxt = rewrite[i + 1:i + 2]
        if nxt == "\\":
            literal += nxt
        elif nxt.isdigit():
            parts += [literal, int(nxt)]
            literal = ""
        else:
            valid = False
            break
        i += 2
    parts.append(literal)
    return tuple(p for p in parts if p != ""), valid


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
        text, regex, _, _ = self._text(v)
        return regex.fullmatch(text) is not None


def regex_full_match(input, pattern, name=None):
    """Whether each whole string matches the RE2 ``pattern``."""
    return _apply(_strings(input, "RegexFullMatch"),
                  _FullMatch(_scalar_str(pattern, "pattern"), "", 0), bool)
