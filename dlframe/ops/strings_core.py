"""The machinery under ``tf.strings`` ops: host string tensors (NumPy object arrays
of bytes on the CPU), one primitive mapping a per-string function elementwise, and
one mapping each string to a row of a RaggedTensor.
"""

from dlframe import backends
from dlframe.backends.base import np as _np
from dlframe.core import dtypes
from dlframe.core.primitive import STATE, call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import DTypeMismatchError, InvalidArgumentError
from dlframe.ops._util import stand_in


# ---------------------------------------------------------------- elementwise machinery
def _strings(x, op):
    """``x`` as a string Tensor (Python str/bytes/lists are converted)."""
    x = x if isinstance(x, Tensor) else convert_to_tensor(x)
    if x.dtype != dtypes.string:
        # TF: InvalidArgumentError from an eager kernel, TypeError while tracing
        raise DTypeMismatchError(f"{op}: expected a string tensor, got {x.dtype.name}")
    return x


def _map(d, x, fn, dtype=object):
    flat = x.reshape(-1)
    out = d.xp.empty(flat.shape, dtype=dtype)
    for i, v in enumerate(flat):
        v = v.encode() if isinstance(v, str) else v
        try:
            out[i] = fn(v)
        except InvalidArgumentError:
            if v != b"" or not _SYMBOLIC_INPUT[0]:
                raise
            # while tracing, b"" stands in for a string TensorSpec input
            # (get_concrete_function, SavedModel signatures): the graph checks the
            # real strings when it runs
            out[i] = b"" if dtype is object else 0
            stand_in()
    return out.reshape(x.shape)


@primitive("StringMap", host_kernel=True)
def string_map_p(d, x, *, fn, dtype):
    return _map(d, x, fn, dtype)


_SYMBOLIC_INPUT = [False]   # string_map_p's input is a traced graph input


def _apply(x, fn, dtype=object):
    trace = STATE.trace
    if trace is None or not trace.is_symbolic(x):
        return call(string_map_p, (x,), {"fn": fn, "dtype": dtype})
    _SYMBOLIC_INPUT[0] = True
    try:
        return call(string_map_p, (x,), {"fn": fn, "dtype": dtype})
    finally:
        _SYMBOLIC_INPUT[0] = False


def _b(v):
    return v.encode() if isinstance(v, str) else bytes(v)

# ---------------------------------------------------------------- ragged results
def _str_tensor(flat, shape):
    """A host string Tensor of ``shape`` from a flat list of bytes (empty allowed)."""
    dev = backends.get_device("cpu:0")
    arr = dev.xp.empty(len(flat), dtype=object)
    for i, v in enumerate(flat):
        arr[i] = v
    return Tensor(arr.reshape(tuple(shape)), dev)


def ragged_rows(rows, shape, dtype=None):
    """A host RaggedTensor whose leading dims are ``shape`` (uniform) and whose last,
    ragged dim holds ``rows`` (a flat list, one Python list per position)."""
    from dlframe.ops.ragged_tensor import RaggedTensor
    flat = [v for r in rows for v in r]
    if dtype is None:
        values = _str_tensor(flat, (len(flat),))
    else:
        dev = backends.get_device("cpu:0")
        values = Tensor(dev.asarray(_np.asarray(flat, dtype=dtype).reshape(len(flat))),
                        dev)
    out = RaggedTensor.from_row_lengths(values, [len(r) for r in rows], validate=False)
    for dim in reversed(tuple(shape)[1:]):
        out = RaggedTensor.from_uniform_row_length(out, dim, validate=False)
    return out


@primitive("StringToRows", n_out=2, host_kernel=True)
def string_rows_p(d, x, *, fn, dtype):
    """Each string of ``x`` (row-major) becomes a row ``fn(bytes)``: the rows'
    values, flat, and their row splits."""
    rows = [fn(_b(v)) for v in x.reshape(-1)]
    flat = [v for r in rows for v in r]
    values = d.xp.empty(len(flat), dtype=object if dtype is None else dtype)
    for i, v in enumerate(flat):
        values[i] = v
    splits = d.xp.zeros(len(rows) + 1, dtype="int64")
    d.xp.cumsum(d.xp.asarray([len(r) for r in rows], dtype="int64"), out=splits[1:])
    return values, splits


string_rows_p.value_shaped = True   # its output size depends on input values


def string_rows(x, fn, dtype=None):
    """``fn`` (bytes -> list) applied to every string of host tensor ``x`` as one
    primitive, so ``dlframe.function`` replays it on new inputs: a 1-D Tensor for a
    scalar ``x``, else a RaggedTensor with one more (ragged) dimension."""
    from dlframe.ops.ragged_tensor import RaggedTensor
    values, splits = call(string_rows_p, (x,), {"fn": fn, "dtype": dtype})
    if x.ndim == 0:
        return values
    out = RaggedTensor.from_row_splits(values, splits, validate=False)
    for dim in reversed(tuple(x.shape)[1:]):
        out = RaggedTensor.from_uniform_row_length(out, dim, validate=False)
    return out
