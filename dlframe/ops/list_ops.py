"""Row primitives on a dense ``[rows, *element_shape]`` buffer: what a TensorArray
becomes inside a ``dlframe.function`` (TF's list ops play this part in TF graphs).

A write returns a new buffer (buffers are immutable values, so a loop carries them
like any tensor); with ``grow`` a write past the last row extends the buffer with
zero rows. Row indices are read on the host, so these primitives are stateful
(kept out of CUDA-graph capture, like the loop-history reads of control_flow).
Every gradient rule is written with these primitives, so they are differentiable
to any order and work with buffers whose row count is only known at run time.

A graph while_loop whose body only writes rows into a buffer (its old value is
dead after each write: ``_Branch.write_only_output``) hands that buffer to
``owned_rows``; writes then go in place, and a growing buffer keeps spare
capacity (doubling), so a loop of n writes costs O(n) elements, not O(n^2).
"""

import contextlib

from dlframe.core import basic
from dlframe.core.primitive import STATE, call, primitive
from dlframe.errors import InvalidArgumentError, OutOfRangeError
from dlframe.ops._util import probing_branch


def _host_rows(d, index):
    host = d.to_numpy(index)
    return host, (int(host.min()), int(host.max())) if host.size else None


def _check_read(d, index, rows):
    host, span = _host_rows(d, index)
    if span is not None and probing_branch() and rows and (
            span[0] < 0 or span[1] >= rows):
        host = host.clip(0, rows - 1)   # a probe's stand-in rows (see probing_branch)
        return host, d.xp.asarray(host)
    if span is not None:
        if span[0] < 0:
            raise OutOfRangeError(
                f"Reading from negative indices (index {span[0]}) is not allowed.")
        if span[1] >= rows:
            raise OutOfRangeError(f"Tried to read from index {span[1]} but array size "
                                  f"is: {rows}")
    return host, index


@primitive("TensorListWriteRows", stateful=True)
def write_rows_p(d, buffer, index, value, *, grow):
    """``buffer`` with rows ``index`` (a scalar or a vector) set to ``value``."""
    host, span = _host_rows(d, index)
    element = tuple(value.shape[host.ndim:])
    if tuple(buffer.shape[1:]) != element and not buffer.size:
        # no data yet (allocated before an element's unknown dims were seen): the
        # first write gives the element shape
        buffer = d.xp.zeros(buffer.shape[:1] + element, dtype=buffer.dtype)
    rows = buffer.shape[0]
    mismatched = tuple(buffer.shape[1:]) != element
    if span is not None and probing_branch() and (
            span[0] < 0 or (span[1] >= rows and not grow) or mismatched):
        return buffer.copy()   # a probe writes nothing out of range (probing_branch)
    if mismatched:
        raise InvalidArgumentError(
            f"TensorArray: writing an element of shape {list(element)} into an array "
            f"of elements of shape {list(buffer.shape[1:])}: inside a "
            "dlframe.function all elements of a TensorArray have one shape")
    if span is not None and span[0] < 0:
        raise OutOfRangeError(f"Writing to negative indices (index {span[0]}) is not "
                              "allowed.")
    if span is not None and span[1] >= rows and not grow:
        raise OutOfRangeError(f"Tried to write to index {span[1]} but array is not "
                              f"resizeable and size is: {rows}")
    need = rows if span is None else max(rows, span[1] + 1)
    owned = _OWNED.pop(id(buffer), None)
    if owned is not None and owned[0] is buffer:
        out, base = _owned_rows(d, buffer, owned[1], need)
        _OWNED[id(out)] = (out, base)
    elif need > rows:
        out = d.xp.zeros((need,) + tuple(buffer.shape[1:]), dtype=buffer.dtype)
        out[:rows] = buffer
    else:
        out = buffer.copy()
    if value.ndim == 0 and out.dtype == object:
        value = value[()]   # the element itself: an object array would hold the 0-d array
    out[int(host) if host.ndim == 0 else index] = value
    return out


# the gradient never reads the buffer's values, and the output is the input buffer
# with rows replaced: a loop may replay such a buffer from its final value
write_rows_p.writes_rows = True

# buffers whose old values nothing reads any more: id -> (buffer, capacity base)
_OWNED = {}


def _owned_rows(d, buffer, base, need):
    """``buffer`` (the leading rows of ``base``) with ``need`` rows, and its base:
    ``buffer`` itself or a longer view of ``base`` when it has the capacity, else
    a view of a new base of doubled capacity."""
    rows = buffer.shape[0]
    if need == rows:
        return buffer, base
    if base.shape[0] < need:
        base = d.xp.zeros((max(need, 2 * rows),) + tuple(buffer.shape[1:]),
                          dtype=buffer.dtype)
        base[:rows] = buffer
    return base[:need], base   # rows past ``rows`` of a base are never written


@contextlib.contextmanager
def owned_rows(state, slots):
    """Lets row writes go in place into ``state[i]`` for ``i`` in ``slots`` while
    the block runs; the block puts each new value back into ``state`` and calls
    the yielded ``claim()`` after each step, which owns the new values.

    Only for loop variables that nothing but row writes touch in the loop body
    (see the module docstring): the entry values are never written (the first
    write copies them), and the final values are released when the loop ends.
    """
    mine = []

    def claim():
        for i in slots:
            buf = state[i]
            if _OWNED.get(id(buf), (None,))[0] is not buf:
                _OWNED[id(buf)] = (buf, buf)   # (no spare rows known)
                mine.append(id(buf))

    try:
        yield claim
    finally:
        for key in mine:
            _OWNED.pop(key, None)
        for i in slots:
            _OWNED.pop(id(state[i]), None)


@write_rows_p.defgrad
def _write_rows_grad(inputs, out, dy, *, grow):
    buffer, index, value = inputs
    d_buffer = call(write_rows_p, (dy, index, basic.zeros_like_t(value)), {"grow": False})
    # rows a grow added, or a data-free buffer the write gave its element shape
    d_buffer = take_rows_like(d_buffer, buffer)
    return d_buffer, None, read_rows(dy, index)


@primitive("TensorListReadRows", aliases=True, stateful=True)
def read_rows_p(d, buffer, index):
    """Rows ``index`` (a scalar or a vector) of ``buffer``."""
    if not buffer.shape[0] and probing_branch():   # a row to stand in for any
        buffer = d.xp.zeros((1,) + tuple(buffer.shape[1:]), dtype=buffer.dtype)
    host, index = _check_read(d, index, buffer.shape[0])
    return buffer[int(host)] if host.ndim == 0 else buffer[index]


read_rows_p.value_shaped = True   # its output size depends on input values


@read_rows_p.defgrad
def _read_rows_grad(inputs, out, dy):
    buffer, index = inputs
    return call(add_rows_p, (basic.zeros_like_t(buffer), index, dy)), None


@primitive("TensorListAddRows", stateful=True)
def add_rows_p(d, buffer, index, value):
    """``buffer`` with ``value`` added at rows ``index`` (repeated rows add up)."""
    if not buffer.shape[0] and probing_branch():
        return buffer.copy()   # nothing to add to (see probing_branch)
    host, index = _check_read(d, index, buffer.shape[0])
    out = buffer.copy()
    if host.ndim == 0:
        out[int(host)] += value
    else:
        d.scatter_add(out, index, value)
    return out


@add_rows_p.defgrad
def _add_rows_grad(inputs, out, dy):
    return dy, None, read_rows(dy, inputs[1])


@primitive("TensorListTakeRowsLike", aliases=True)
def take_rows_like_p(d, x, like):
    """The leading ``like.shape[0]`` rows of ``x`` (zeros like a data-free ``like``
    whose element shape ``x`` does not share)."""
    if x.shape[1:] != like.shape[1:] and not like.size:
        return d.xp.zeros(like.shape, dtype=x.dtype)
    n = like.shape[0]
    return x if x.shape[0] == n else x[:n]


take_rows_like_p.value_shaped = True   # its output size depends on input values


@take_rows_like_p.defgrad
def _take_rows_like_grad(inputs, out, dy):
    return call(pad_rows_like_p, (dy, inputs[0])), None


@primitive("TensorListPadRowsLike", aliases=True)
def pad_rows_like_p(d, x, like):
    """``x`` followed by zero rows up to ``like.shape[0]`` rows (zeros like
    ``like`` for a data-free ``x`` of another element shape)."""
    if x.shape[1:] != like.shape[1:] and not x.size:
        return d.xp.zeros(like.shape, dtype=x.dtype)
    if x.shape[0] == like.shape[0]:
        return x
    out = d.xp.zeros((like.shape[0],) + tuple(x.shape[1:]), dtype=x.dtype)
    out[:x.shape[0]] = x
    return out


pad_rows_like_p.value_shaped = True   # its output size depends on input values


@pad_rows_like_p.defgrad
def _pad_rows_like_grad(inputs, out, dy):
    return call(take_rows_like_p, (dy, inputs[0])), None


@primitive("TensorListLength")
def length_p(d, buffer):
    return d.xp.asarray(buffer.shape[0], dtype="int32")


@primitive("TensorListReserve", stateful=True)
def reserve_p(d, size, *, element_shape, dtype):
    """Zeros of shape ``[size, *element_shape]`` (``size`` read at run time)."""
    n = int(d.to_numpy(size))
    if n < 0:
        raise OutOfRangeError(f"TensorArray size must be non-negative, got {n}")
    return d.xp.zeros((n,) + tuple(element_shape), dtype=dtype)


# as many rows as a traced size says: TF's static shape leaves the count unknown
reserve_p.value_shaped = lambda inputs, attrs: STATE.trace is not None and \
    STATE.trace.is_symbolic(inputs[0])
reserve_p.static_shape = lambda in_dims, attrs: [None] + list(attrs["element_shape"])


def write_rows(buffer, index, value, grow=False):
    """``buffer`` with rows ``index`` set to ``value`` (grown first when ``grow``)."""
    return call(write_rows_p, (buffer, index, value), {"grow": bool(grow)})


def read_rows(buffer, index):
    """Rows ``index`` (a scalar or a vector) of ``buffer``."""
    return call(read_rows_p, (buffer, index))


def take_rows_like(x, like):
    """The leading rows of ``x``, as many as ``like`` has (a no-op when equal)."""
    if STATE.trace is None and x._value.shape == like._value.shape:
        return x  # (in a graph the row counts may differ at run time)
    return call(take_rows_like_p, (x, like))


def length(buffer):
    """The run-time row count of ``buffer`` as an int32 scalar."""
    return call(length_p, (buffer,))


def reserve(size, element_shape, dtype):
    """Zeros ``[size, *element_shape]`` of ``dtype`` for a scalar int tensor ``size``."""
    return call(reserve_p, (size,), {"element_shape": tuple(element_shape),
                                     "dtype": dtype._np})
