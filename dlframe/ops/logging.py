"""``dlframe.print``: printing that happens when a graph runs, not when it is traced."""

import sys

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor
from dlframe.ops.ragged_tensor import RaggedTensor
from dlframe.ops.sparse_tensor import SparseTensor


def _on_host(array):
    """A NumPy copy of a host or CuPy array (CuPy's ``.get()``)."""
    return np.asarray(array.get() if hasattr(array, "get") else array)


def _float(value):
    """The shortest of TF's two precisions that reads back as the same number:
    6 then 9 significant digits for 32-bit floats, 15 then 17 for 64-bit."""
    if isinstance(value, np.float64):
        short, full = 15, 17
    else:   # half and bfloat16 print as the 32-bit float they widen to
        value, short, full = np.float32(value), 6, 9
    text = f"{value:.{short}g}"
    if np.isfinite(value) and type(value)(text) != value:
        text = f"{value:.{full}g}"
    return text


def _element(value, kind):
    """One element as TF prints it: floats as ``_float``, bools as 1/0, quoted
    strings."""
    if kind == "b":
        return "1" if value else "0"
    if kind == "f":
        return _float(value)
    if kind == "c":
        return f"({_float(value.real)},{_float(value.imag)})"
    if kind in "OSU":
        raw = value if isinstance(value, bytes) else str(value).encode()
        return '"' + _c_escape(raw).decode(errors="replace") + '"'
    return str(value)


_ESCAPES = {ord("\n"): b"\\n", ord("\r"): b"\\r", ord("\t"): b"\\t",
            ord('"'): b'\\"', ord("'"): b"\\'", ord("\\"): b"\\\\"}


def _c_escape(raw):
    """``raw`` with C escapes for quotes, backslashes and control bytes (octal),
    bytes from 0x80 kept: how TF's tf.print shows a string element."""
    out = bytearray()
    for c in raw:
        if c in _ESCAPES:
            out += _ESCAPES[c]
        elif c < 0x20 or c == 0x7F:
            out += b"\\%03o" % c
        else:
            out.append(c)
    return bytes(out)


def _format(array, summarize):
    """A tensor's value laid out as TF's ``tf.print`` does: ``[1 2.5]``, rows on their
    own lines, and only ``summarize`` items at each end of a long dimension."""
    host = _on_host(array)
    kind = "f" if host.dtype.name == "bfloat16" else host.dtype.kind
    if host.ndim == 0:
        return _element(host[()], kind)
    edge = summarize if summarize is not None and summarize >= 0 else None

    def block(a, depth):
        n = a.shape[0]
        picks = list(range(n))
        if edge is not None and n > 2 * edge:
            picks = list(range(edge)) + [None] + list(range(n - edge, n))
        if a.ndim == 1:
            return "[" + " ".join("..." if i is None else _element(a[i], kind)
                                  for i in picks) + "]"
        sep = "\n" * (a.ndim - 1) + " " * (depth + 1)
        return "[" + sep.join("..." if i is None else block(a[i], depth + 1)
                              for i in picks) + "]"
    return block(host, 0)


def _ragged_element(value, kind):
    """One ragged value as ``tf.strings.as_string`` writes it (TF's ragged print)."""
    if kind == "b":
        return "true" if value else "false"
    if kind == "f":
        return f"{value:f}"
    if kind in "OSU":
        text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
        return f"'{text}'"
    return str(value)


def _format_ragged(values, splits, summarize):
    """A RaggedTensor as TF prints it: ``[[1, 2], [3]]`` with ', ' separators."""
    host = _on_host(values)
    kind = "f" if host.dtype.name == "bfloat16" else host.dtype.kind
    splits = [_on_host(x) for x in splits]
    edge = summarize if summarize is not None and summarize >= 0 else None

    def pick(lo, hi):
        picks = list(range(lo, hi))
        if edge is not None and len(picks) > 2 * edge:
            picks = picks[:edge] + [None] + picks[-edge:]
        return picks

    def dense(a):   # a uniform inner dimension prints like a ragged one
        if np.ndim(a) == 0:   # object arrays index to plain bytes
            return _ragged_element(a[()] if isinstance(a, np.ndarray) else a, kind)
        return "[" + ", ".join("..." if i is None else dense(a[i])
                               for i in pick(0, a.shape[0])) + "]"

    def block(level, lo, hi):
        picks = pick(lo, hi)
        if level == len(splits):
            items = ["..." if i is None else dense(host[i]) for i in picks]
        else:
            row = splits[level]
            items = ["..." if i is None else block(level + 1, int(row[i]), int(row[i + 1]))
                     for i in picks]
        return "[" + ", ".join(items) + "]"
    return block(0, 0, len(splits[0]) - 1)


def _render(part, arrays, summarize, top=True):
    kind = part[0]
    if kind == "t":
        return _format(arrays[part[1]], summarize)
    if kind == "raw":   # a lone string scalar prints as is, unquoted
        value = _on_host(arrays[part[1]])[()]
        return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    if kind == "ragged":
        return _format_ragged(arrays[part[1]], [arrays[i] for i in part[2]], summarize)
    if kind == "sparse":
        i, v, s = (_format(arrays[k], summarize) for k in part[1])
        return f"'SparseTensor(indices={i}, values={v}, shape={s})'"
    if kind == "s":
        return part[1] if top else part[2]
    items = [_render(p, arrays, summarize, top=False) for p in part[1]]
    if kind == "list":
        return "[" + ", ".join(items) + "]"
    if kind == "tuple":
        return "(" + ", ".join(items) + (",)" if len(items) == 1 else ")")
    return "{" + ", ".join(f"{k}: {v}" for k, v in zip(part[2], items)) + "}"


_LOG_LEVELS = {"log(info)": 20, "log(warning)": 30, "log(error)": 40}
_STDOUT, _STDERR = sys.stdout, sys.stderr


def _stream_name(output_stream):
    """TF's name of a print destination: stdout/stderr, ``file://<path>``
    (appended to), or a logging level for tf.compat.v1.logging.info/warning/error."""
    if any(output_stream is s for s in (sys.stdout, sys.__stdout__, _STDOUT)):
        return "stdout"
    if any(output_stream is s for s in (sys.stderr, sys.__stderr__, _STDERR)):
        return "stderr"   # (also print's default, bound when this module loaded)
    if isinstance(output_stream, str) and (
            output_stream in ("stdout", "stderr", *_LOG_LEVELS)   # raw_ops.PrintV2
            or output_stream.startswith("file://")):
        return output_stream
    compat = sys.modules.get("dlframe.compat.v1")   # (a table above ops: not imported)
    log = getattr(compat, "logging", None)
    for level in ("info", "warning", "error"):
        if log is not None and output_stream is getattr(log, level):
            return f"log({level})"
    raise ValueError(
        f"Unsupported output stream, logging level, or file.{output_stream}. Supported "
        "streams are sys.stdout, sys.stderr, tf.logging.info, tf.logging.warning, "
        "tf.logging.error. File needs to be in the form of 'file://<filepath>'.")


def _emit(stream, text):
    """Writes ``text`` where ``_stream_name`` named (resolved at run time)."""
    if stream.startswith("file://"):
        with open(stream[len("file://"):], "a", encoding="utf-8") as f:
            f.write(text)
    elif stream in _LOG_LEVELS:
        import logging as _py_logging
        _py_logging.getLogger("tensorflow").log(_LOG_LEVELS[stream], text.rstrip("\n"))
    else:
        target = sys.stderr if stream == "stderr" else sys.stdout
        target.write(text)
        target.flush()


@primitive("PrintV2", effects=True)
def print_p(d, *arrays, parts, sep, end, stream, summarize):
    pieces = [_render(p, arrays, summarize) for p in parts]
    _emit(stream, sep.join(pieces) + end)
    return np.zeros((), dtype=np.int32) if d.xp is np else d.xp.zeros((), dtype="int32")


print_p.dry_run = lambda d, *arrays, **attrs: d.xp.zeros((), dtype="int32")


def _part(value, tensors):
    """The print template of one input: tensors (also inside lists, tuples and dicts)
    become inputs of the print op, so they print their run-time values."""
    if isinstance(value, Tensor):
        tensors.append(value)
        return ("t", len(tensors) - 1)
    if isinstance(value, RaggedTensor):
        start = len(tensors)
        tensors.extend([value.flat_values, *value.nested_row_splits])
        return ("ragged", start, tuple(range(start + 1, len(tensors))))
    if isinstance(value, SparseTensor):
        start = len(tensors)
        tensors.extend([value.indices, value.values, value.dense_shape])
        return ("sparse", (start, start + 1, start + 2))
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return (type(value).__name__, tuple(_part(v, tensors) for v in value))
    if isinstance(value, dict):
        keys = list(value)
        return ("dict", tuple(_part(value[k], tensors) for k in keys),
                tuple(repr(k) for k in keys))
    return ("s", str(value), repr(value))


def print(*inputs, output_stream=sys.stderr, summarize=3, sep=" ", end="\n",
          name=None):
    """Prints tensors and Python values at run time (also inside dlframe.function).

    Args:
      *inputs: tensors, Python values, and lists/tuples/dicts of them.
      output_stream: sys.stdout, sys.stderr (default, like TF), a
        ``"file://<path>"`` to append to, or tf.compat.v1.logging.info/warning/error.
      summarize: elements printed at the start and end of each dimension (-1 or
        None: all).
      sep, end: separators as for Python's print.
      name: accepted for TF compatibility.
    """
    tensors = []
    parts = tuple(_part(x, tensors) for x in inputs)
    if len(inputs) == 1 and parts[0][0] == "t" and inputs[0].dtype == dtypes.string \
            and inputs[0]._value.ndim == 0:
        parts = (("raw", 0),)   # TF prints a lone string scalar as the string itself
    stream = _stream_name(output_stream)
    attrs = {"parts": parts, "sep": sep, "end": end, "stream": stream,
             "summarize": summarize}
    call(print_p, tuple(tensors), attrs)


__all__ = []
