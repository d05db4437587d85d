"""``dlframe.print``: printing that happens when a graph runs, not when it is traced."""

import sys

from dlframe.backends.base import np
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor


def _format(array, summarize):
    host = np.asarray(array.get() if hasattr(array, "get") else array)
    if host.dtype == object:
        host = np.vectorize(lambda b: b.decode() if isinstance(b, bytes) else b,
                            otypes=[object])(host)
        return str(host.tolist()) if host.ndim else str(host.item())
    edge = summarize if summarize is not None and summarize >= 0 else sys.maxsize
    return np.array2string(host, separator=" ", threshold=2 * edge if edge < sys.maxsize
                           else sys.maxsize, edgeitems=edge if edge < sys.maxsize else 3)


@primitive("PrintV2", effects=True)
def print_p(d, *arrays, parts, sep, end, stream, summarize):
    pieces = []
    for p in parts:
        pieces.append(_format(arrays[p[1]], summarize) if p[0] == "t" else p[1])
    target = sys.stderr if stream == "stderr" else sys.stdout
    target.write(sep.join(pieces) + end)
    target.flush()
    return np.zeros((), dtype=np.int32) if d.xp is np else d.xp.zeros((), dtype="int32")


print_p.dry_run = lambda d, *arrays, **attrs: d.xp.zeros((), dtype="int32")


def print(*inputs, output_stream=sys.stderr, summarize=3, sep=" ", end="\n",  # noqa: A001
          name=None):
    """Prints tensors and Python values at run time (also inside dlframe.function).

    Args:
      *inputs: tensors and Python values.
      output_stream: sys.stdout or sys.stderr (default, like TF).
      summarize: elements printed at the start and end of each dimension (-1: all).
      sep, end: separators as for Python's print.
    """
    tensors, parts = [], []
    for x in inputs:
        if isinstance(x, Tensor):
            parts.append(("t", len(tensors)))
            tensors.append(x)
        else:
            parts.append(("s", str(x)))
    stream = "stdout" if output_stream is sys.stdout else "stderr"
    attrs = {"parts": tuple(parts), "sep": sep, "end": end, "stream": stream,
             "summarize": summarize}
    call(print_p, tuple(tensors), attrs)


__all__ = []
