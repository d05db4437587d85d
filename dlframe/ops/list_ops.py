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

A TensorArray whose elements may differ in shape (``infer_shape=False`` with an
element shape left unknown, as TF's lists allow) is a *ragged* buffer instead: a
host object vector holding one host array (or None, unwritten) per row. The row
primitives take both forms (on a GPU those of a ragged buffer run on the host);
``stack_rows``/``concat_rows`` turn either into one tensor on the op's device.
"""

import contextlib

from dlframe import backends
from dlframe.core import basic
from dlframe.core.primitive import STATE, call, primitive
from dlframe.errors import InvalidArgumentError, OutOfRangeError
from dlframe.ops._util import probing_branch
from dlframe.ops.late_bound import _made_up


def _host_rows(d, index):
    host = d.to_numpy(index)
    return host, (int(host.min()), int(host.max())) if host.size else None


def _check_read(d, index, rows):
    host, span = _host_rows(d, index)
    if span is not None and probing_branch() and rows and (
            span[0] < 0 or span[1] >= rows):
        host = host.clip(0, rows - 1)   # a probe's stand-in rows (see probing_branch)
        return host, d.xp.asarray(host)
    if span is not None and (span[0] < 0 or span[1] >= rows):
        # TF's graph (TensorListGetItem / TensorListGather) raises these
        bad = span[0] if span[0] < 0 else span[1]
        verb = "access" if host.ndim == 0 else "gather"
        raise InvalidArgumentError(f"Trying to {verb} element {bad} in a list with "
                                   f"{rows} elements.")
    return host, index


def holds_rows(buffer, value=None, index_rank=0):
    """Is the raw ``buffer`` a ragged one (an object vector of per-row arrays)?
    Written with ``value`` (at an index of rank ``index_rank``): when the value
    holds numbers, or elements of rank > 0 (a dense vector holds only scalars)."""
    if buffer.dtype != object or buffer.ndim != 1:
        return False
    if value is not None:
        return value.dtype != object or value.ndim > index_rank
    for row in buffer:
        if row is not None:
            return hasattr(row, "ndim")   # (a string buffer holds bytes)
    return buffer.size > 0


def _host_xp():
    return backends.get_device("cpu:0").xp


def _ragged_empty(n):
    rows = _host_xp().empty((n,), dtype=object)
    rows[:] = None
    return rows


def _check_write(span, rows, grow, vector=False):
    """TF's graph errors (TensorListSetItem / TensorListScatterIntoExistingList)
    for writes outside a list of ``rows`` elements (``grow``: past its end is
    fine)."""
    if span is None or (span[0] >= 0 and (span[1] < rows or grow)):
        return
    if vector and span[0] >= 0:
        raise InvalidArgumentError(f"Operation expected a list with {rows} elements "
                                   f"but got a list with {span[1] + 1} elements.")
    bad = span[0] if span[0] < 0 else span[1]
    raise InvalidArgumentError(f"Trying to modify element {bad} in a list with "
                               f"{rows} elements.")


def _write_ragged(d, buffer, host, value, grow):
    """A ragged ``buffer`` (see the module docstring) with rows ``host`` set."""
    value = d.to_numpy(value)
    span = (int(host.min()), int(host.max())) if host.size else None
    rows = buffer.shape[0]
    if span is not None and probing_branch() and (
            span[0] < 0 or (span[1] >= rows and not grow)):
        return buffer.copy()   # a probe writes nothing out of range (probing_branch)
    _check_write(span, rows, grow, host.ndim > 0)
    need = rows if span is None else max(rows, span[1] + 1)
    owned = _OWNED.pop(id(buffer), None)
    if owned is not None and owned[0] is buffer:   # in place (see owned_rows)
        out, base = _owned_rows(None, buffer, owned[1], need)
        _OWNED[id(out)] = (out, base)
    else:
        out = _ragged_empty(need)
        out[:rows] = buffer
    if host.ndim == 0:
        out[int(host)] = value
    else:
        for k, i in enumerate(host.tolist()):
            out[i] = value[k]
    return out


def _as_ragged(d, buffer):
    """The dense ``buffer`` as a ragged one (see the module docstring)."""
    out = _ragged_empty(buffer.shape[0])
    host = d.to_numpy(buffer)
    for i in range(host.shape[0]):
        out[i] = host[i]
    return out


def _on_ragged(inputs):
    """Host kernel predicate: the call's buffer is a ragged (host) one."""
    return inputs[0]._value.dtype == object and inputs[-1]._value.dtype != object \
        and inputs[0]._value.ndim == 1


@primitive("TensorListWriteRows", stateful=True, host_kernel=_on_ragged)
def write_rows_p(d, buffer, index, value, *, grow):
    """``buffer`` with rows ``index`` (a scalar or a vector) set to ``value``."""
    host, span = _host_rows(d, index)
    if holds_rows(buffer, value, host.ndim):
        return _write_ragged(d, buffer, host, value, grow)
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
        # an element shape the graph left partly unknown (a static mismatch fails
        # while tracing): as TF's lists, the elements may differ; the buffer turns
        # ragged (``stack`` then fails, ``concat`` joins them)
        return _write_ragged(d, _as_ragged(d, buffer), host, value, grow)
    _check_write(span, rows, grow, host.ndim > 0)
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
    a view of a new base of doubled capacity (a ragged one for ``d`` None)."""
    rows = buffer.shape[0]
    if need == rows:
        return buffer, base
    if base.shape[0] < need:
        size = max(need, 2 * rows)
        base = _ragged_empty(size) if d is None else d.xp.zeros(
            (size,) + tuple(buffer.shape[1:]), dtype=buffer.dtype)
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
    if dy._value.dtype == object and value._value.dtype != object:   # ragged
        return d_buffer, None, call(ragged_rows_like_p, (dy, index, value))
    return d_buffer, None, read_rows(dy, index)


@primitive("TensorListRaggedRowsLike", stateful=True, host_kernel=True)
def ragged_rows_like_p(d, buffer, index, value):
    """Rows ``index`` of the ragged gradient ``buffer``, zeros like ``value`` where
    no gradient reached a row (it holds a 0-d zero, or nothing): the gradient of
    the value a ragged write wrote."""
    host, _ = _check_read(d, index, buffer.shape[0])
    value = d.to_numpy(value)
    rows = value if host.ndim else [value]
    picked = [r if getattr(r, "shape", None) == w.shape else _host_xp().zeros_like(w)
              for r, w in zip((buffer[i] for i in host.reshape(-1).tolist()), rows)]
    return d.asarray(picked[0] if host.ndim == 0 else _stack_arrays(picked))


ragged_rows_like_p.value_shaped = True


@ragged_rows_like_p.defgrad
def _ragged_rows_like_grad(inputs, out, dy):
    return call(add_ragged_rows_p, (inputs[0], inputs[1], dy)), None, None


@primitive("TensorListReadRows", aliases=True, stateful=True,
           host_kernel=lambda inputs: inputs[0]._value.dtype == object)
def read_rows_p(d, buffer, index):
    """Rows ``index`` (a scalar or a vector) of ``buffer``."""
    if holds_rows(buffer):
        return _read_ragged(d, buffer, index)
    if not buffer.shape[0] and probing_branch():   # a row to stand in for any
        buffer = d.xp.zeros((1,) + tuple(buffer.shape[1:]), dtype=buffer.dtype)
    host, index = _check_read(d, index, buffer.shape[0])
    return buffer[int(host)] if host.ndim == 0 else buffer[index]


def _read_ragged(d, buffer, index):
    host, _ = _check_read(d, index, buffer.shape[0])
    picked = [buffer[i] for i in host.reshape(-1).tolist()]
    if any(row is None for row in picked):   # zeros shaped like the written rows
        written = [row for row in buffer if row is not None]
        if not written:
            i = host.reshape(-1).tolist()[[r is None for r in picked].index(True)]
            raise InvalidArgumentError(
                f"Could not read from TensorArray index {i} because it has not yet "
                "been written to and its element shape is not fully defined.")
        picked = [written[0] * 0 if r is None else r for r in picked]
    return d.asarray(picked[0] if host.ndim == 0 else _stack_arrays(picked))


def _is_ragged(inputs):
    """Host kernel predicate: a ragged buffer among the inputs (rows are in host
    memory; stacked results go to the op's device)."""
    return any(t._value.dtype == object for t in inputs)


def _stack_arrays(rows):
    shapes = {tuple(r.shape) for r in rows}
    if len(shapes) > 1:
        first, other = tuple(rows[0].shape), (shapes - {tuple(rows[0].shape)}).pop()
        raise InvalidArgumentError(
            f"TensorArray elements of shape {list(first)} and shape {list(other)} "
            "cannot be stacked (they must have one shape): Incompatible shapes "
            f"during merge: {list(first)} vs. {list(other)}")
    return _host_xp().stack(rows)


def _written_rows(buffer, what):
    rows = list(buffer)
    if any(r is None for r in rows):
        written = [r for r in rows if r is not None]
        if not written:
            raise InvalidArgumentError(
                f"Tried to {what} a TensorArray which only contains uninitialized "
                "elements and has a non-fully-defined element_shape")
        rows = [r if r is not None else written[0] * 0 for r in rows]   # (as TF)
    return rows


@primitive("TensorListStackRows", aliases=True, host_kernel=_is_ragged)
def stack_rows_p(d, buffer, *, dtype, partial=None):
    """All rows of ``buffer`` stacked along a new first axis; ``partial`` (TF's
    text of an element shape the graph leaves partly unknown) makes an empty
    buffer an error, as TF's TensorListStack (its result shape is unknown)."""
    if partial is not None and not buffer.shape[0] and not probing_branch() and \
            not _made_up():   # (a get_concrete_function trace's placeholder sizes)
        raise InvalidArgumentError("Tried to stack elements of an empty list with "
                                   f"non-fully-defined element_shape: {partial}")
    if not holds_rows(buffer) and (buffer.dtype != object or dtype == object):
        return buffer
    if not buffer.size:
        return d.xp.zeros((0,), dtype=dtype)
    return d.asarray(_stack_arrays(_written_rows(buffer, "stack")))


@primitive("TensorListConcatRows", aliases=True, host_kernel=_is_ragged)
def concat_rows_p(d, buffer, *, dtype):
    """All rows of ``buffer`` concatenated along their first axis."""
    if not holds_rows(buffer) and (buffer.dtype != object or dtype == object):
        if buffer.ndim < 2:
            raise InvalidArgumentError("Concat saw a scalar shape at index 0 but "
                                       "requires at least vectors.")
        return buffer.reshape((buffer.shape[0] * buffer.shape[1],)
                               + tuple(buffer.shape[2:]))
    if not buffer.size:
        return d.xp.zeros((0,), dtype=dtype)
    rows = _written_rows(buffer, "concat")
    for i, r in enumerate(rows):
        if r.ndim == 0:
            raise InvalidArgumentError(f"Concat saw a scalar shape at index {i} but "
                                       "requires at least vectors.")
    return d.asarray(_host_xp().concatenate(rows, axis=0))


stack_rows_p.value_shaped = True   # a ragged buffer's rows are only known at run time
concat_rows_p.value_shaped = True


@primitive("TensorListRowsLike", aliases=True, host_kernel=_is_ragged)
def rows_like_p(d, flat, like, *, concat):
    """``flat`` (a stacked or concatenated gradient) cut back into rows shaped
    like those of ``like``: the gradient of ``stack_rows``/``concat_rows``."""
    if not holds_rows(like):
        return flat.reshape(like.shape)
    out = _ragged_empty(like.shape[0])
    flat = d.to_numpy(flat)
    start = 0
    for i, row in enumerate(like):
        if row is None:
            out[i] = _host_xp().zeros((), dtype=flat.dtype)   # (see _ragged_zeros)
            continue
        if concat:
            out[i] = flat[start:start + row.shape[0]]
            start += row.shape[0]
        else:
            out[i] = flat[i]
    return out


rows_like_p.value_shaped = True


@stack_rows_p.defgrad
def _stack_rows_grad(inputs, out, dy, *, dtype, partial=None):
    return (call(rows_like_p, (dy, inputs[0]), {"concat": False}),)


@concat_rows_p.defgrad
def _concat_rows_grad(inputs, out, dy, *, dtype):
    return (call(rows_like_p, (dy, inputs[0]), {"concat": True}),)


@primitive("TensorListSplitRows", stateful=True, host_kernel=True)
def split_rows_p(d, value, lengths, *, ragged):
    """``value`` cut along its first axis into rows of ``lengths`` (read at run
    time): a ragged buffer when ``ragged``, else a dense one (equal lengths)."""
    sizes = [int(n) for n in d.to_numpy(lengths).reshape(-1)]
    if sum(sizes) != value.shape[0] or any(n < 0 for n in sizes):
        raise InvalidArgumentError(
            "Expected sum of lengths to be equal to values.shape[0], but sum of "
            f"lengths is {sum(sizes)} and value's shape is: {list(value.shape)}")
    if not ragged:
        if len(set(sizes)) > 1:
            raise InvalidArgumentError(
                f"TensorArray.split: pieces of lengths {sizes} into a TensorArray "
                "whose elements have one shape (pass infer_shape=False)")
        return value.reshape((len(sizes), sizes[0] if sizes else 0)
                             + tuple(value.shape[1:]))
    out = _ragged_empty(len(sizes))
    value = d.to_numpy(value)
    start = 0
    for i, n in enumerate(sizes):
        out[i] = value[start:start + n]
        start += n
    return out


split_rows_p.value_shaped = True


@split_rows_p.defgrad
def _split_rows_grad(inputs, out, dy, *, ragged):
    return call(concat_rows_p, (dy,), {"dtype": dy._value.dtype if not ragged
                                       else inputs[0]._value.dtype}), None


@primitive("TensorListReserveRagged", stateful=True, host_kernel=True)
def reserve_ragged_p(d, size):
    """A ragged buffer of ``size`` unwritten rows (see the module docstring)."""
    n = int(d.to_numpy(size))
    if n < 0:
        raise OutOfRangeError(f"TensorArray size must be non-negative, got {n}")
    return _ragged_empty(n)


reserve_ragged_p.value_shaped = True


read_rows_p.value_shaped = True   # its output size depends on input values


@read_rows_p.defgrad
def _read_rows_grad(inputs, out, dy):
    buffer, index = inputs
    if buffer._value.dtype == object and dy._value.dtype != object:   # ragged
        return call(add_ragged_rows_p, (buffer, index, dy)), None
    return call(add_rows_p, (basic.zeros_like_t(buffer), index, dy)), None


def _ragged_zeros(like, dtype):
    """Zeros shaped like each row of the ragged ``like``; a 0-d zero for a row
    not written (it adds to any row in a gradient sum)."""
    out = _ragged_empty(like.shape[0])
    for i, row in enumerate(like):
        out[i] = _host_xp().zeros(row.shape if row is not None else (), dtype=dtype)
    return out


@primitive("TensorListAddRaggedRows", stateful=True, host_kernel=True)
def add_ragged_rows_p(d, like, index, value):
    """Zeros like the rows of the ragged ``like`` with ``value`` added at rows
    ``index``: the gradient of a read from a ragged buffer."""
    out = _ragged_zeros(like, value.dtype)
    value = d.to_numpy(value)
    host, _ = _check_read(d, index, like.shape[0])
    if host.ndim == 0:
        out[int(host)] = out[int(host)] + value
    else:
        for k, i in enumerate(host.tolist()):
            out[i] = out[i] + value[k]
    return out


@add_ragged_rows_p.defgrad
def _add_ragged_rows_grad(inputs, out, dy):
    return None, None, read_rows(dy, inputs[1])


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


def reserve_ragged(size):
    """A ragged buffer of ``size`` (int or int32 scalar tensor) unwritten rows."""
    return call(reserve_ragged_p, (size,))


def split_rows(value, lengths, ragged):
    """``value`` cut into rows of ``lengths`` (int32 vector tensor): a buffer."""
    return call(split_rows_p, (value, lengths), {"ragged": bool(ragged)})


def stack_rows(buffer, dtype, partial=None):
    """The rows of ``buffer`` (dense or ragged) stacked into one tensor (``partial``:
    see ``stack_rows_p``)."""
    return call(stack_rows_p, (buffer,), {"dtype": dtype._np, "partial": partial})


def concat_rows(buffer, dtype):
    """The rows of ``buffer`` (dense or ragged) concatenated along their first axis."""
    return call(concat_rows_p, (buffer,), {"dtype": dtype._np})


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
