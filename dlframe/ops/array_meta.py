"""Identity, stop_gradient and shape metadata: shape, shape_n, size, rank."""

from dlframe import backends
from dlframe.core import dtypes
from dlframe.core import indexed_slices as _slices
from dlframe.core.primitive import STATE as _STATE
from dlframe.core.primitive import call, numbers_device, primitive
from dlframe.core.static_dims import note_shape_of
from dlframe.core.tensor import convert_to_tensor
from dlframe.ops._util import t


@primitive("Identity")
def identity_p(d, x):
    return x.copy()


@identity_p.defgrad
def _identity_grad(inputs, out, dy):
    return dy


def identity(input, name=None):
    """Returns a copy of ``input`` (placed on the current device scope if it differs).

    An IndexedSlices stays one (its values and indices are copied), as in TF.
    """
    if isinstance(input, _slices.IndexedSlices):
        return _slices.like_slices(input, identity(input.values), identity(input.indices))
    x = t(input)
    dev = backends.current_device()
    if x._device is not dev and backends._stack() and not (
            dev.is_gpu and x._value.dtype == object):   # strings stay in host memory
        from dlframe.core.tensor import copy_to_device
        return copy_to_device(x, dev)
    return call(identity_p, (x,))


@primitive("StopGradient")
def stop_gradient_p(d, x):
    return x


def stop_gradient(input, name=None):
    """Passes ``input`` through but blocks gradients."""
    return call(stop_gradient_p, (t(input),))


@primitive("Shape")
def _shape_p(d, x, *, dtype):
    return d.xp.asarray(x.shape, dtype=dtype)


_shape_p.static_shape = lambda in_dims, attrs: [len(in_dims[0])]
_shape_p.sized_by_rank = True   # of an input of unknown rank: static shape [None]


@primitive("Size")
def _size_p(d, x, *, dtype):
    return d.xp.asarray(x.size, dtype=dtype)


_size_p.static_shape = lambda in_dims, attrs: []


def _dynamic(x):
    trace = _STATE.trace
    return trace is not None and trace.is_dynamic(x)


def shape(input, out_type=dtypes.int32, name=None):
    """The shape of ``input`` as a 1-D int tensor (read when a compiled graph runs
    for a tensor whose size depends on values, e.g. a loop's stacked outputs)."""
    x = t(input)
    if _dynamic(x):   # (the dims TF does not know stay unknown values)
        return note_shape_of(call(_shape_p, (x,), {
            "dtype": dtypes.as_dtype(out_type)._np}), x)
    return note_shape_of(convert_to_tensor(list(x._value.shape), dtype=out_type,
                                           device=numbers_device(x)), x)


def shape_n(input, out_type=dtypes.int32, name=None):
    return [shape(x, out_type) for x in input]


def size(input, out_type=dtypes.int32, name=None):
    """Number of elements of ``input`` as a scalar int tensor."""
    x = t(input)
    if _dynamic(x):
        return note_shape_of(call(_size_p, (x,), {
            "dtype": dtypes.as_dtype(out_type)._np}), x, size=True)
    return note_shape_of(convert_to_tensor(int(x._value.size), dtype=out_type,
                                           device=numbers_device(x)), x, size=True)


def rank(input, name=None):
    """Rank of ``input`` as a scalar int32 tensor."""
    x = t(input)
    return convert_to_tensor(int(x._value.ndim), dtype=dtypes.int32,
                             device=numbers_device(x))
