"""Splitting CSV records into fields by TensorFlow's rules (``tf.io.decode_csv``,
``tf.data.experimental.CsvDataset``).

TF's rules are stricter than Python's ``csv`` module: with quoting on, a quote inside
an unquoted field, or text after a quoted field's closing quote, is an error rather
than a literal character; and a CR or LF inside an unquoted field is always an error.
"""

from dlframe.backends.base import np  # host values of parsed fields

from dlframe.errors import InvalidArgumentError

_UNQUOTED = "Unquoted fields cannot have quotes/CRLFs inside"
_TEXT_AFTER_QUOTE = "Quote inside a string has to be escaped by another quote"


class UnterminatedQuoteError(InvalidArgumentError):
    """A quoted field runs to the end of the text (a file reader reads on)."""


def _error(cls, message):
    return cls(None, None, message)


def split_record(text, delim=",", use_quote=True, unquoted_message=_UNQUOTED,
                 file_reader=False):
    """The fields of one CSV record ``text`` (str, no line terminator).

    Args:
      text: the record.
      delim: the one-character field separator.
      use_quote: treat ``"`` as field quoting (``""`` inside quotes is one quote).
      unquoted_message: the error text for a quote/CR/LF in an unquoted field.
      file_reader: TF's file reader's rule for a quote followed by text: the quoted
        field goes on (across lines) to a quote followed by the delimiter or the
        end, and the whole record is then the error (``decode_csv`` fails at once).

    Raises:
      InvalidArgumentError: a malformed record (TF's messages);
        ``UnterminatedQuoteError`` when a quoted field is not closed.
    """
    if not use_quote or '"' not in text:   # the common case: no quoting to parse
        if "\r" in text or "\n" in text:
            raise _error(InvalidArgumentError, unquoted_message)
        return text.split(delim)
    fields, i, n, stray = [], 0, len(text), False
    while True:
        if use_quote and i < n and text[i] == '"':
            parts, i = [], i + 1
            while True:
                j = text.find('"', i)
                if j < 0:
                    raise _error(UnterminatedQuoteError, "Quoted field has to end with "
                                 "quote followed by delim or end")
                parts.append(text[i:j])
                if j + 1 < n and text[j + 1] == '"':
                    parts.append('"')
                    i = j + 2
                    continue
                i = j + 1
                if i == n or text[i] == delim or not file_reader:
                    break
                stray = True   # a file reader reads on inside the quotes
            fields.append("".join(parts))
            if i == n:
                break
            if text[i] != delim:
                raise _error(InvalidArgumentError, _TEXT_AFTER_QUOTE)
            i += 1
            continue
        j = text.find(delim, i)
        end = n if j < 0 else j
        field = text[i:end]
        if "\r" in field or "\n" in field or (use_quote and '"' in field):
            raise _error(InvalidArgumentError, unquoted_message)
        fields.append(field)
        if j < 0:
            break
        i = j + 1
    if stray:
        raise _error(InvalidArgumentError, _TEXT_AFTER_QUOTE)
    return fields


def split_lines(lines, delim=",", use_quote=True,
                unquoted_message="Unquoted fields cannot have quotes inside"):
    """Records of a text file's ``lines`` (each with its line ending): yields the field
    list of each record, or the ``InvalidArgumentError`` of a malformed one (so that a
    reader can skip it). ``lines`` split at LF, CRLF or a lone CR (a text file opened
    with ``newline=""``). A quoted field may span lines and keeps their line breaks
    (CRLF in a Windows file); an empty line is a record of one empty field, as TF
    reads it."""
    pending = None
    for line in lines:
        body = line.rstrip("\r\n")
        ending = line[len(body):]   # LF, CRLF or a lone CR (old Mac files) end a line
        record = body if pending is None else pending + body
        pending = None
        try:
            yield split_record(record, delim, use_quote, unquoted_message,
                               file_reader=True)
        except UnterminatedQuoteError:
            pending = record + ending   # a quoted field keeps its line break as read
        except InvalidArgumentError as e:
            yield e
    if pending is not None:
        yield _error(InvalidArgumentError, "Reached end of file without closing quoted "
                     "field in record")


def check_delim(field_delim):
    """TF's check of ``field_delim``: exactly one character."""
    if not isinstance(field_delim, str) or len(field_delim) != 1:
        raise _error(InvalidArgumentError, "field_delim should be only 1 char")


def convert_field(text, dtype, default, col, rec, na_value):
    """The value of field ``col`` of record ``rec``: ``default`` when it is empty (or
    ``na_value``), else ``text`` parsed as ``dtype`` (bytes for strings, a NumPy scalar
    otherwise).

    Raises:
      InvalidArgumentError: a missing required field (``default`` None), or text that
        is not a valid ``dtype`` (out of range included).
    """
    if text == "" or (na_value and text == na_value):
        if default is None:
            raise _error(InvalidArgumentError, f"Field {col} is required but missing in "
                         f"record {rec}!")
        return default
    if dtype.name == "string":
        return text.encode()
    try:
        if dtype.is_integer:
            value = int(text)
            info = np.iinfo(dtype._np)
            if not info.min <= value <= info.max:
                raise OverflowError
            return np.asarray(value, dtype=dtype._np)
        return np.asarray(float(text), dtype=dtype._np)
    except (ValueError, OverflowError):
        raise _error(InvalidArgumentError, f"Field {col} in record {rec} is not a valid "
                     f"{dtype.name}: {text}") from None
