"""Host primitives: the ``tf.io`` codecs (image decoders and encoders, decode_raw,
parse_tensor) as graph ops, so a ``dlframe.function`` records them and runs them on
the bytes each call gets.

A codec kernel takes host arrays (the string tensors' object arrays, an image's
pixels) and returns a NumPy array; it is not differentiable and its output size
follows the data (``value_shaped``), so shape queries of its results run with the
graph. Its static shape is TF's: the wrapper names the axes TF leaves unknown
(``static_dims.RANK`` for an unknown rank) with ``mark_unknown``.

Inside a function's trace a kernel may meet bytes that are not an image (the empty
strings a ``TensorSpec`` stands for, a branch not taken): there it gives a small
stand-in of the right dtype and rank and the trace defers its error to the runs
that need the result (``core.trace_deferred``), where the kernel raises TF's
``InvalidArgumentError``.
"""

from dlframe import backends
from dlframe.backends.base import np  # host arrays for file I/O
from dlframe.core import dtypes as _dt
from dlframe.core.primitive import STATE, call, primitive
from dlframe.core.static_dims import RANK, note_unknown_axes
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops._util import probing_branch, stand_in

_HOST = backends.get_device("cpu:0")


def spec_run():
    """Whether ``Dataset.map``'s spec discovery traces real elements now (a trace
    that keeps TF's static shapes: parsers tell it theirs)."""
    return getattr(STATE.trace, "note_parsed_shape", None) is not None


def host_primitive(name, blank, value_shaped=True, n_out=1):
    """Decorator registering ``kernel(*host_arrays, **attrs) -> ndarray`` as the
    non-differentiable primitive ``name``.

    Args:
      name: TF's op name (``"DecodePng"``).
      blank: ``blank(*host_arrays, **attrs)``, the stand-in result a function's
        trace uses where the kernel raised ``InvalidArgumentError``.
      value_shaped: whether the output size follows the input values (or a
        predicate ``(inputs, attrs)``, see ``Primitive``).
      n_out: the number of outputs (-1: a tuple of any length, see ``Primitive``).
    """
    def wrap(kernel):
        def forward(d, *arrays, **attrs):
            try:
                return kernel(*arrays, **attrs)
            except InvalidArgumentError:
                if not probing_branch():
                    raise
                return stand_in(blank(*arrays, **attrs))

        forward.__name__ = kernel.__name__
        prim = primitive(name, n_out=n_out)(forward)
        prim.value_shaped = value_shaped
        return prim
    return wrap


def on_host(value, dtype=None):
    """``value`` as a Tensor on ``cpu:0`` (codecs run on host bytes, as TF's CPU
    kernels; a GPU image is copied over)."""
    t = value if isinstance(value, Tensor) else convert_to_tensor(value, dtype=dtype)
    return t.cpu() if t._device.is_gpu else t


def string_input(value, what, scalar=True):
    """``value`` (a string Tensor, bytes or str) as a string Tensor on the host.

    Raises:
      InvalidArgumentError: (ValueError inside a trace, as TF's shape check) a
        non-scalar when ``scalar``; TypeError for a non-string.
    """
    if not isinstance(value, Tensor):
        if isinstance(value, (bytes, bytearray, str)):
            arr = np.empty((), dtype=object)
            arr[()] = value.encode() if isinstance(value, str) else bytes(value)
            value = Tensor(arr, _HOST)
        else:
            value = convert_to_tensor(value)
    if value.dtype is not _dt.string:
        raise TypeError(f"`{what}` must be a string tensor, got {value.dtype.name}")
    if scalar and value.shape.rank not in (0, None):
        error = ValueError if STATE.trace is not None else InvalidArgumentError
        raise error(f"`{what}` must be a scalar string tensor (shape must be rank 0), "
                    f"got shape {value.shape}")
    return on_host(value)


def item_bytes(arr):
    """The Python bytes of one element of a host string array."""
    value = arr.item() if hasattr(arr, "item") else arr
    return value.encode() if isinstance(value, str) else bytes(value)


def run(prim, inputs, attrs=None, unknown=()):
    """Calls ``prim`` on ``inputs`` (host Tensors) and marks the ``unknown`` axes of
    its result as TF's static shape leaves them, inside a trace (``RANK``: the rank
    and so every axis)."""
    out = call(prim, tuple(inputs), attrs)
    if unknown and STATE.trace is not None:
        unknown = frozenset(unknown)
        if RANK in unknown:   # no dimension is known either
            unknown |= frozenset(range(out._value.ndim))
        note_unknown_axes(out, unknown)
    return out
