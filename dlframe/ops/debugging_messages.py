"""The texts of TF's failed run-time checks, eager and in a graph.

A failed ``tf.Assert`` node of a graph reports ``assertion failed: [item] [item]``,
each data item a string or the summarized values of a tensor (``[1 -2]``); the
``tf.debugging.assert_*`` checks give it the condition and the operands' names.
Run eagerly, TF's Python checks phrase their own reports (``Condition x == y did
not hold.`` followed by the first differing values).
"""

from dlframe.backends.base import np


def _number(v):
    """One element as TF's summaries print it (``1``, ``-2``, ``3.5``, ``True``)."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode("utf-8", "replace")
    if isinstance(v, (float, np.floating)):
        text = repr(float(v))
        return text.removesuffix(".0")
    return str(v)


def summarize_graph(value, summarize):
    """A run-time Assert's view of an array, as it goes between the item's brackets:
    ``1 -2``, ``3.5``, ``[1 2] [3 4]`` (at most ``summarize`` elements, then
    ``...``)."""
    value = np.asarray(value)
    if value.ndim == 0:
        return _number(value.item())
    flat = value.ravel()
    shown = [_number(v) for v in flat[:summarize].tolist()]
    more = "..." if flat.size > summarize else ""
    if value.ndim == 1:
        return " ".join(shown) + more
    width = value.shape[-1] or 1
    rows = [" ".join(shown[i:i + width]) for i in range(0, len(shown), width)]
    return "[" + "] [".join(rows) + more + "]"


def graph_failure(items, summarize):
    """The message of a failed Assert node: each item (a str or an array)."""
    shown = [item if isinstance(item, str) else summarize_graph(item, summarize)
             for item in items]
    return "assertion failed: " + " ".join(f"[{s}]" for s in shown)


def _first(value, summarize):
    return np.array2string(np.asarray(value).ravel()[:summarize])


def eager_binary_failure(message, description, x, y, summarize, show_indices):
    """TF's eager report of ``assert_equal`` / ``assert_less`` / ... on arrays."""
    x, y = np.asarray(x), np.asarray(y)
    lines = [message] if message else []
    lines.append(f"Condition x {description} y did not hold.")
    if show_indices and x.shape == y.shape:
        bad = np.argwhere(x != y)[:summarize]
        lines += [f"Indices of first {len(bad)} different values:", str(bad),
                  "Corresponding x values:", _first(x[tuple(bad.T)], summarize),
                  "Corresponding y values:", _first(y[tuple(bad.T)], summarize)]
    lines += [f"First {min(x.size, summarize)} elements of x:", _first(x, summarize),
              f"First {min(y.size, summarize)} elements of y:", _first(y, summarize)]
    return "\n".join(lines)


def eager_unary_failure(message, description, x, dtype_name, summarize):
    """TF's eager report of ``assert_positive`` / ``assert_negative`` / ..."""
    x = np.asarray(x)
    values = [str(v) for v in x.ravel()[:summarize].tolist()]
    condition = f"Condition x {description} did not hold element-wise:"
    return "\n".join([message or "", condition,
                      f"x (shape={x.shape} dtype={dtype_name}) = ", str(values)])


def eager_assert_failure(condition, items, summarize):
    """TF's eager ``tf.debugging.Assert`` report: the condition and its data."""
    shown = []
    for item in items:
        if isinstance(item, str):
            shown.append(repr(item.encode()))
        else:
            flat = np.asarray(item).ravel()[:summarize].tolist()
            shown.append(", ".join(_number(v) for v in flat))
    return f"Expected '{condition!s}' to be true. Summarized data: " + "\n".join(shown)
