"""Set-like functions of Keras 3's ``keras.ops.numpy``: ``histogram``, ``unique``
and ``isin`` (no gradient, as in every backend).
"""

from dlframe.core.primitive import call, primitive
from dlframe.ops.numpy_api import (
    as_tensor,
    default_int,
    float_tensor,
    promote,
)


@primitive("KerasHistogram", n_out=2)
def _histogram_p(d, x, *, bins, value_range):
    counts, edges = d.xp.histogram(x.reshape(-1), bins=bins, range=value_range)
    return counts.astype(x.dtype), edges.astype(x.dtype)


def histogram(x, bins=10, range=None):
    """Counts of ``x``'s values in ``bins`` equal-width bins.

    Args:
      x: input tensor (flattened).
      bins: number of bins.
      range: ``(low, high)`` of the bins (default: ``x``'s min and max).

    Returns:
      ``(counts, bin_edges)``: ``bins`` counts and ``bins + 1`` edges, both float.
    """
    x = float_tensor(x)
    if not isinstance(bins, int) or bins < 1:
        raise ValueError(f"histogram: `bins` must be a positive int, got {bins!r}")
    if range is not None:
        if len(range) != 2 or float(range[0]) > float(range[1]):
            raise ValueError(f"histogram: `range` must be (low, high) with low <= high, "
                             f"got {range!r}")
        range = (float(range[0]), float(range[1]))
    return call(_histogram_p, (x,), {"bins": bins, "value_range": range})


@primitive("KerasUnique", n_out=4)
def _unique_p(d, x, *, axis, keep_order, size, fill_value, index_dtype):
    xp = d.xp
    if axis is None:
        x = x.reshape(-1)
    values, first, inverse, counts = xp.unique(
        x, return_index=True, return_inverse=True, return_counts=True, axis=axis)
    inverse = inverse.reshape(-1)
    if keep_order:  # first-occurrence order
        order = xp.argsort(first, kind="stable")
        rank = xp.empty_like(order)
        rank[order] = xp.arange(order.size)
        values = xp.take(values, order, axis=0 if axis is None else axis)
        first, counts, inverse = first[order], counts[order], rank[inverse]
    if size is not None:
        n = first.shape[0]
        if n > size:
            take = xp.arange(size)
            values = xp.take(values, take, axis=0 if axis is None else axis)
            first, counts = first[:size], counts[:size]
        elif n < size:
            pad_axis = 0 if axis is None else axis
            widths = [(0, 0)] * values.ndim
            widths[pad_axis] = (0, size - n)
            fill = values.flat[0] if fill_value is None and values.size else fill_value
            values = xp.pad(values, widths, constant_values=fill if fill is not None
                            else 0)
            first = xp.pad(first, (0, size - n))
            counts = xp.pad(counts, (0, size - n))
    return (values, first.astype(index_dtype), inverse.astype(index_dtype),
            counts.astype(index_dtype))


_unique_p.value_shaped = True   # its output size depends on input values


def unique(x, sorted=True, return_index=False, return_inverse=False,
           return_counts=False, axis=None, size=None, fill_value=None):
    """The unique elements of ``x`` (NumPy's ``unique``).

    Args:
      x: input tensor.
      sorted: sort the unique values (False keeps first-occurrence order).
      return_index: also return the index of each value's first occurrence.
      return_inverse: also return, per element of ``x``, the index of its value.
      return_counts: also return how often each value occurs.
      axis: unique slices along this axis (default: over the flattened tensor).
      size: pad (with ``fill_value``, default the first unique value) or cut the
        result to this many entries, for static shapes.
      fill_value: the padding value when ``size`` is given.

    Returns:
      The unique values, or a tuple with the requested extra int32 arrays.
    """
    x = as_tensor(x)
    if axis is not None:
        axis = int(axis) % max(x._value.ndim, 1)
    values, first, inverse, counts = call(_unique_p, (x,), {
        "axis": axis, "keep_order": not sorted,
        "size": None if size is None else int(size), "fill_value": fill_value,
        "index_dtype": default_int()._np})
    extra = [t for flag, t in ((return_index, first), (return_inverse, inverse),
                               (return_counts, counts)) if flag]
    return tuple([values] + extra) if extra else values


@primitive("KerasIsIn")
def _isin_p(d, x1, x2, *, assume_unique, invert):
    return d.xp.isin(x1, x2, assume_unique=assume_unique, invert=invert)


def isin(x1, x2, assume_unique=False, invert=False):
    """Whether each element of ``x1`` occurs in ``x2`` (bool, shaped like ``x1``).

    Args:
      x1: the elements to test.
      x2: the values to look for.
      assume_unique: both inputs have unique elements (faster).
      invert: return the opposite test.
    """
    a, b = promote(x1, x2)
    return call(_isin_p, (a, b), {"assume_unique": bool(assume_unique),
                                  "invert": bool(invert)})
