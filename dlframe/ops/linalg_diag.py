"""Diagonals of batched matrices: ``tf.linalg.diag``, ``diag_part``, ``set_diag`` with
TF's ``k`` (one diagonal or a band ``(lo, hi)``), ``num_rows``/``num_cols``,
``padding_value`` and ``align``.

A band's diagonals are stored as rows of a ``[..., num_diags, width]`` array, the
highest diagonal first; a diagonal shorter than ``width`` sits at the left or the
right of its row as ``align`` says (its first word for superdiagonals, its second
for subdiagonals). All three primitives move values between the matrix cells of the
band and that array through one index map, so each is the other's gradient.
"""

from numbers import Integral

from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops import math as m
from dlframe.ops._util import operands, t
from dlframe.ops.late_bound import reads_values

_ALIGNS = ("LEFT_RIGHT", "RIGHT_LEFT", "LEFT_LEFT", "RIGHT_RIGHT")


def _diag_len(rows, cols, d):
    """Length of diagonal ``d`` of a rows x cols matrix (<= 0: no such diagonal)."""
    return min(rows + min(d, 0), cols - max(d, 0))


def _width(rows, cols, lo, hi):
    # lengths rise towards the main diagonal: the longest is the one nearest to it
    return max(0, _diag_len(rows, cols, min(max(0, lo), hi)))


def _index_map(xp, rows, cols, lo, hi, width, align):
    """(row, col, j, p): the band's matrix cells and, for each, its place ``[j, p]``
    in the array of diagonals."""
    super_left, sub_left = (part == "LEFT" for part in align.split("_"))
    parts = ([], [], [], [])
    for d in range(hi, lo - 1, -1):
        n = _diag_len(rows, cols, d)
        if n <= 0:
            continue
        left = (d >= 0 and super_left) or (d <= 0 and sub_left)
        i = xp.arange(n)
        parts[0].append(i - min(d, 0))
        parts[1].append(i + max(d, 0))
        parts[2].append(xp.full(n, hi - d))
        parts[3].append(i if left else i + (width - n))
    if not parts[0]:
        empty = xp.zeros(0, dtype="int64")
        return empty, empty, empty, empty
    return tuple(xp.concatenate(p) for p in parts)


def _as_band(v, lo, hi):
    """``v`` viewed as ``[..., num_diags, width]``."""
    return v[..., None, :] if lo == hi else v


@primitive("MatrixDiagV3")
def diag_p(d, v, *, rows, cols, lo, hi, align, padding):
    v = _as_band(v, lo, hi)
    out = d.xp.full(v.shape[:-2] + (rows, cols), padding, dtype=v.dtype)
    r, c, j, p = _index_map(d.xp, rows, cols, lo, hi, v.shape[-1], align)
    out[..., r, c] = v[..., j, p]
    return out


@primitive("MatrixDiagPartV3")
def diag_part_p(d, x, *, lo, hi, align, padding):
    rows, cols = x.shape[-2:]
    width = _width(rows, cols, lo, hi)
    out = d.xp.full(x.shape[:-2] + (hi - lo + 1, width), padding, dtype=x.dtype)
    r, c, j, p = _index_map(d.xp, rows, cols, lo, hi, width, align)
    out[..., j, p] = x[..., r, c]
    return out[..., 0, :] if lo == hi else out


@primitive("MatrixSetDiagV3")
def set_diag_p(d, x, v, *, lo, hi, align):
    v = _as_band(v, lo, hi)
    out = x.copy()
    r, c, j, p = _index_map(d.xp, x.shape[-2], x.shape[-1], lo, hi, v.shape[-1], align)
    out[..., r, c] = v[..., j, p]
    return out


# TF's shape functions: batch dims follow the input's; a diagonal's length or a
# matrix's size is known only when the dims it comes from are
def _diag_dims(in_dims, attrs):
    v = list(in_dims[0])
    batch = v[:-1] if attrs["lo"] == attrs["hi"] else v[:-2]
    known = v[-1] is not None
    return batch + [attrs["rows"] if known else None, attrs["cols"] if known else None]


def _diag_part_dims(in_dims, attrs):
    x = list(in_dims[0])
    lo, hi = attrs["lo"], attrs["hi"]
    rows, cols = x[-2:]
    width = None if None in (rows, cols) else _width(rows, cols, lo, hi)
    return x[:-2] + ([] if lo == hi else [hi - lo + 1]) + [width]


diag_p.static_shape = _diag_dims
diag_part_p.static_shape = _diag_part_dims
set_diag_p.static_shape = lambda in_dims, attrs: list(in_dims[0])


@diag_p.defgrad
def _diag_grad(inputs, out, dy, *, rows, cols, lo, hi, align, padding):
    return call(diag_part_p, (dy,), {"lo": lo, "hi": hi, "align": align, "padding": 0})


@diag_part_p.defgrad
def _diag_part_grad(inputs, out, dy, *, lo, hi, align, padding):
    rows, cols = inputs[0]._value.shape[-2:]
    return call(diag_p, (dy,), {"rows": rows, "cols": cols, "lo": lo, "hi": hi,
                                "align": align, "padding": 0})


@set_diag_p.defgrad
def _set_diag_grad(inputs, out, dy, *, lo, hi, align):
    band = {"lo": lo, "hi": hi, "align": align}
    dx = call(set_diag_p, (dy, m.zeros_like(inputs[1])), band)
    return dx, call(diag_part_p, (dy,), dict(band, padding=0))


# ---------------------------------------------------------------- argument checks
def _band(k, op):
    """(lo, hi) of TF's ``k``: an int or one or two ints (a list or an int tensor)."""
    if isinstance(k, Tensor):
        k = k.numpy().tolist()
    values = list(k) if isinstance(k, (list, tuple)) else [k]
    # a pair of scalar tensors (``k=(k0, k0 + 1)`` inside a function)
    values = [v.numpy().item() if isinstance(v, Tensor) and v._value.ndim == 0 else v
              for v in values]
    if not 1 <= len(values) <= 2:
        raise InvalidArgumentError(f"{op}: diag_index must have only one or two "
                                   f"elements, received {len(values)} elements.")
    if not all(isinstance(v, Integral) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{op}: k must be an integer or a pair of integers, got k={k!r}")
    lo, hi = int(values[0]), int(values[-1])
    if lo > hi:
        raise InvalidArgumentError(f"{op}: lower_diag_index must not be larger than "
                                   f"upper_diag_index: {lo} > {hi}")
    return lo, hi


def _align(align, op):
    if align not in _ALIGNS:
        raise InvalidArgumentError(f"{op}: Value for attr 'align' of {align!r} is not in "
                                   f"the list of allowed values: {', '.join(_ALIGNS)}")
    return align


def _padding(value, x, op):
    """``padding_value`` as a Python scalar of ``x``'s kind of number."""
    if isinstance(value, Tensor):
        value = value.numpy()
    value = getattr(value, "item", lambda: value)()
    kind = x._value.dtype.kind
    if kind in "iub" and isinstance(value, float) and not value.is_integer():
        raise TypeError(f"{op}: cannot use padding_value={value!r} with a "
                        f"{x.dtype.name} tensor")
    return value


def _check_matrix(x, op):
    if x._value.ndim < 2:
        raise InvalidArgumentError(f"{op}: input must be at least 2-dim, received shape: "
                                   f"{list(x._value.shape)}")


def _check_in_bounds(rows, cols, lo, hi, op):
    for name, k in (("lower_diag_index", lo), ("upper_diag_index", hi)):
        if not (-rows < k < cols or k == 0):
            raise InvalidArgumentError(f"{op}: {name} is out of bound: {k}. It must be "
                                       f"between {-rows} and {cols}")


def _size_arg(value, name):
    if value is None:
        raise ValueError(f"{name} must be an integer (-1: derived from the diagonal), "
                         f"got {name}=None")
    return int(value)


def _matrix_size(width, lo, hi, num_rows, num_cols):
    """TF's output size: the smallest matrix holding the band, square when neither
    dimension is given."""
    min_rows, min_cols = width - min(hi, 0), width + max(lo, 0)
    if num_rows != -1 and num_rows < min_rows:
        raise InvalidArgumentError("MatrixDiagV3: The number of rows is too small "
                                   f"(num_rows={num_rows}, at least {min_rows}).")
    if num_cols != -1 and num_cols < min_cols:
        raise InvalidArgumentError("MatrixDiagV3: The number of columns is too small "
                                   f"(num_cols={num_cols}, at least {min_cols}).")
    if num_rows == -1 and num_cols == -1:
        num_rows = num_cols = max(min_rows, min_cols)
    elif num_rows == -1:
        num_rows = min_rows
    elif num_cols == -1:
        num_cols = min_cols
    if num_rows != min_rows and num_cols != min_cols:
        raise InvalidArgumentError(
            "MatrixDiagV3: The number of rows or columns is not consistent with the "
            f"specified d_lower, d_upper, and diagonal (num_rows={num_rows}, "
            f"num_cols={num_cols}, k=({lo}, {hi}), diagonal length {width}).")
    return num_rows, num_cols


# ---------------------------------------------------------------- public ops
@reads_values("k", "num_rows", "num_cols", "padding_value")
def diag(diagonal, name="diag", k=0, num_rows=-1, num_cols=-1, padding_value=0,
         align="RIGHT_LEFT"):
    """Batched matrices with ``diagonal`` on their ``k``-th diagonal(s).

    Args:
      diagonal: ``[..., width]`` for one diagonal, ``[..., num_diags, width]`` for a
        band ``k=(lo, hi)`` (rows from diagonal ``hi`` down to ``lo``).
      name: ignored (TF's op name).
      k: the diagonal offset (0 main, > 0 above, < 0 below) or a pair ``(lo, hi)``.
      num_rows: rows of the result; -1 derives it from the diagonal.
      num_cols: columns of the result; -1 derives it from the diagonal.
      padding_value: the value of the cells outside the diagonals.
      align: where shorter diagonals sit in their rows: 'RIGHT_LEFT' (default),
        'LEFT_RIGHT', 'LEFT_LEFT' or 'RIGHT_RIGHT' (superdiagonals, subdiagonals).

    Returns:
      A ``[..., num_rows, num_cols]`` tensor of ``diagonal``'s dtype.
    """
    op = "MatrixDiagV3"
    v = t(diagonal)
    align = _align(align, op)
    lo, hi = _band(k, op)
    shape = tuple(v._value.shape)
    if not shape:
        raise InvalidArgumentError(f"{op}: diagonal must be at least 1-dim, received "
                                   "shape: []")
    if lo != hi and (len(shape) < 2 or shape[-2] != hi - lo + 1):
        raise InvalidArgumentError(
            f"{op}: The number of diagonals provided in the input does not match the "
            f"lower_diag_index and upper_diag_index range: k=({lo}, {hi}) needs "
            f"diagonal of shape [..., {hi - lo + 1}, width], got {list(shape)}")
    rows, cols = _matrix_size(shape[-1], lo, hi, _size_arg(num_rows, "num_rows"),
                              _size_arg(num_cols, "num_cols"))
    return call(diag_p, (v,), {"rows": rows, "cols": cols, "lo": lo, "hi": hi,
                               "align": align,
                               "padding": _padding(padding_value, v, op)})


def _traced_k(input, name="diag_part", k=0, *args, **kwargs):
    """A traced ``k`` sets how many diagonals and how long: TF's graph knows
    neither (rank unknown too); a traced padding_value changes no size."""
    parts = k if isinstance(k, (list, tuple)) else [k]
    return "rank" if any(isinstance(v, Tensor) for v in parts) else False


@reads_values("k", "padding_value", sizes_follow=_traced_k)
def diag_part(input, name="diag_part", k=0, padding_value=0,
              align="RIGHT_LEFT"):
    """The ``k``-th diagonal(s) of batched matrices.

    Args:
      input: ``[..., M, N]`` matrices.
      name: ignored (TF's op name).
      k: the diagonal offset or a pair ``(lo, hi)``; each within ``(-M, N)``.
      padding_value: fills the places of a band's shorter diagonals.
      align: 'RIGHT_LEFT' (default), 'LEFT_RIGHT', 'LEFT_LEFT' or 'RIGHT_RIGHT'.

    Returns:
      ``[..., width]`` for one diagonal, ``[..., hi - lo + 1, width]`` for a band,
      where ``width`` is the band's longest diagonal.
    """
    op = "MatrixDiagPartV3"
    x = t(input)
    align = _align(align, op)
    _check_matrix(x, op)
    lo, hi = _band(k, op)
    _check_in_bounds(*x._value.shape[-2:], lo, hi, op)
    return call(diag_part_p, (x,), {"lo": lo, "hi": hi, "align": align,
                                    "padding": _padding(padding_value, x, op)})


@reads_values("k")
def set_diag(input, diagonal, name="set_diag", k=0, align="RIGHT_LEFT"):
    """``input`` with its ``k``-th diagonal(s) replaced by ``diagonal``.

    Args:
      input: ``[..., M, N]`` matrices.
      diagonal: ``[..., width]`` (one diagonal) or ``[..., hi - lo + 1, width]``
        (a band), ``width`` the band's longest diagonal.
      name: ignored (TF's op name).
      k: the diagonal offset or a pair ``(lo, hi)``.
      align: 'RIGHT_LEFT' (default), 'LEFT_RIGHT', 'LEFT_LEFT' or 'RIGHT_RIGHT'.

    Returns:
      A tensor like ``input``.
    """
    op = "MatrixSetDiagV3"
    x, v = operands(input, diagonal, op)
    align = _align(align, op)
    _check_matrix(x, op)
    lo, hi = _band(k, op)
    shape = tuple(x._value.shape)
    rows, cols = shape[-2:]
    _check_in_bounds(rows, cols, lo, hi, op)
    vshape = tuple(v._value.shape)
    if lo != hi and (len(vshape) < 2 or vshape[-2] != hi - lo + 1):
        raise InvalidArgumentError(
            f"{op}: The number of diagonals provided in `diag` is not consistent with "
            f"`lower_diag_index` and `upper_diag_index`: k=({lo}, {hi}), diagonal "
            f"shape {list(vshape)}")
    expect = shape[:-2] + ((hi - lo + 1,) if lo != hi else ()) + (
        _width(rows, cols, lo, hi),)
    if vshape != expect:
        raise InvalidArgumentError(
            f"{op}: Either first dimensions of diagonal don't match input.shape[:-2], "
            "or diagonal.shape[:-1] is not equal to the longests diagonal in range "
            f"[lower_diag_index:upper_diag_index].\nInput shape: {list(shape)}\n"
            f"Diagonal shape: {list(vshape)}\nExpected diagonal shape: {list(expect)}")
    return call(set_diag_p, (x, v), {"lo": lo, "hi": hi, "align": align})


LINALG_NAMES = ["diag", "diag_part", "set_diag"]
