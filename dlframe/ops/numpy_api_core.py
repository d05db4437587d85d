"""Keras 3 ``keras.ops.core`` (conversion, control flow, scatter/slice updates) and
``keras.ops.math`` (top_k, segments, FFTs as ``(real, imag)`` pairs, STFT).

Control flow goes through dlframe's ``cond``/``while_loop``, so it works eagerly and
inside ``dlframe.function`` traces; ``scan`` and ``associative_scan`` unroll over
the (static) leading dimension.
"""

from dlframe.backends.base import np
from dlframe.core import custom_gradient as _cg
from dlframe.core import dtypes, nest
from dlframe.core.primitive import STATE
from dlframe.core.tensor import Tensor
from dlframe.core.tensor import is_tensor as _is_tensor
from dlframe.ops import array as _a
from dlframe.ops import array_index as _ai
from dlframe.ops import control_flow as _cf
from dlframe.ops import creation as _c
from dlframe.ops import functional_ops as _fo
from dlframe.ops import math as _m
from dlframe.ops import reduction as _r
from dlframe.ops import segment as _seg
from dlframe.ops import signal as _sig
from dlframe.ops import signal_spectral as _spec
from dlframe.ops import slicing as _sl
from dlframe.ops.numpy_api import (
    as_tensor,
    float_tensor,
    keras_dtype,
    promote,
    to_float,
)


# ---------------------------------------------------------------- conversion
def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """``x`` as a tensor, cast to ``dtype`` when given.

    Args:
      x: a tensor, array, Python scalar or nested list.
      dtype: optional element type.
      sparse: accepted for compatibility (dense results).
      ragged: accepted for compatibility (dense results).
    """
    return as_tensor(x, dtype)


def convert_to_numpy(x):
    """``x`` as a NumPy array.

    Args:
      x: a tensor or array-like.
    """
    if isinstance(x, Tensor):
        return x.numpy()
    return np.asarray(x)


def cast(x, dtype):
    """``x`` cast to ``dtype``.

    Args:
      x: input tensor.
      dtype: target dtype (name or DType).
    """
    return _m.cast(as_tensor(x), keras_dtype(dtype))


def saturate_cast(x, dtype):
    """``x`` cast to ``dtype`` with values clamped to its range.

    Args:
      x: input tensor.
      dtype: target dtype.
    """
    return _m.saturate_cast(as_tensor(x), keras_dtype(dtype))


def dtype(x):
    """The dtype name of ``x`` (``'float32'``, ...).

    Args:
      x: a tensor, KerasTensor or value.
    """
    dt = getattr(x, "dtype", None)
    if dt is None or isinstance(x, (list, tuple)):
        dt = as_tensor(x).dtype
    return dtypes.as_dtype(dt).name


def is_tensor(x):
    """Whether ``x`` is a dlframe tensor (or Variable).

    Args:
      x: any value.
    """
    return _is_tensor(x)


def stop_gradient(variable):
    """``variable`` with gradients blocked.

    Args:
      variable: input tensor.
    """
    return _a.stop_gradient(as_tensor(variable))


def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis`` as a list.

    Args:
      x: input tensor.
      num: expected number of slices.
      axis: the unstacked axis.
    """
    return _a.unstack(as_tensor(x), num=num, axis=axis)


def custom_gradient(f):
    """Decorator: ``f(*args)`` returns ``(output, grad_fn)`` with ``grad_fn(upstream)``.

    Args:
      f: the function.
    """
    return _cg.custom_gradient(f)


# ---------------------------------------------------------------- control flow
def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()`` (a graph conditional in traces).

    Args:
      pred: scalar bool.
      true_fn: callable.
      false_fn: callable.
    """
    return _cf.cond(pred, true_fn, false_fn)


def _eager_loop(cond, body, state, maximum_iterations):
    """The loop run eagerly as TF runs it: Python numbers stay Python numbers
    inside (``v + i`` of a float and a Python-int index works) and the final
    values come back as tensors."""
    steps = 0
    while maximum_iterations is None or steps < int(maximum_iterations):
        if not bool(cond(*state)):
            break
        state = tuple(body(*state))
        steps += 1
    return tuple(nest.map_structure(as_tensor, v) for v in state)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Repeats ``body(*loop_vars)`` while ``cond(*loop_vars)``.

    Args:
      cond: callable returning a scalar bool.
      body: callable returning new loop variables.
      loop_vars: a tuple/list of loop variables (unpacked into the calls), or one
        tensor.
      maximum_iterations: optional iteration cap.

    Returns:
      The final loop variables (same structure as ``loop_vars``).
    """
    is_seq = isinstance(loop_vars, (list, tuple))
    state = tuple(loop_vars) if is_seq else (loop_vars,)

    def _cond(*args):
        return cond(*args)

    def _body(*args):
        out = body(*args)
        return tuple(out) if is_seq else (out,)
    if STATE.trace is None:
        out = _eager_loop(_cond, _body, state, maximum_iterations)
    else:
        out = _cf.while_loop(_cond, _body, state, maximum_iterations=maximum_iterations)
    out = tuple(out) if isinstance(out, (list, tuple)) else (out,)
    if not is_seq:
        return out[0]
    return list(out) if isinstance(loop_vars, list) else out


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for ``i`` in ``[lower, upper)``.

    Args:
      lower: first index.
      upper: end index (exclusive).
      body_fun: callable ``(i, val) -> val``.
      init_val: initial value (a tensor or structure).
    """
    if STATE.trace is None:
        state = _eager_loop(lambda i, v: i < upper,
                            lambda i, v: (i + 1, body_fun(i, v)), (lower, init_val), None)
        return state[1]
    lower = as_tensor(lower, dtypes.int32) if not isinstance(lower, Tensor) else lower
    upper = _m.cast(as_tensor(upper), lower.dtype)
    _, out = _cf.while_loop(lambda i, v: _m.less(i, upper),
                            lambda i, v: (_m.add(i, 1), body_fun(i, v)),
                            (lower, init_val))
    return out


def _leading(xs):
    leaves = nest.flatten(xs)
    return leaves, leaves[0]._value.shape[0] if leaves else 0


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Scans ``f(carry, x) -> (carry, y)`` over the leading axis of ``xs``.

    Args:
      f: callable.
      init: initial carry (tensor or structure).
      xs: sequence structure (None: ``length`` steps with ``x=None``).
      length: number of steps when ``xs`` is None.
      reverse: scan from the end.
      unroll: accepted for compatibility.

    Returns:
      ``(final_carry, stacked_ys)``.
    """
    if xs is None:
        if length is None:
            raise ValueError("scan: `length` is required when `xs` is None")
        steps, rows = int(length), None
    else:
        leaves, steps = _leading(nest.map_structure(as_tensor, xs))
        rows = [_a.unstack(leaf, num=steps) for leaf in leaves]
        if length is not None and int(length) != steps:
            raise ValueError(f"scan: `length` {length} does not match the leading "
                             f"dimension {steps} of `xs`")
    carry, ys = init, []
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for i in order:
        x = None if rows is None else nest.pack_sequence_as(xs, [r[i] for r in rows])
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    carry = nest.map_structure(as_tensor, carry)   # a Python init comes back a tensor
    if not ys or all(leaf is None for leaf in nest.flatten(ys[0])):
        return carry, None
    stacked = nest.map_structure(lambda *v: _a.stack(list(v)), *ys)
    return carry, stacked


def map(f, xs):
    """``f`` applied to each slice along the leading axis of ``xs``, stacked.

    Args:
      f: callable of one slice (with the structure of ``xs``).
      xs: tensor or structure of tensors.
    """
    leaves, n = _leading(nest.map_structure(as_tensor, xs))
    if n == 0:
        raise ValueError("map: `xs` must have a non-empty leading dimension")
    outs = [f(nest.pack_sequence_as(xs, [leaf[i] for leaf in leaves])) for i in range(n)]
    return nest.map_structure(lambda *v: _a.stack([as_tensor(a) for a in v]), *outs)


def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive scan of the associative ``f`` along ``axis``.

    Args:
      f: associative binary callable.
      elems: tensor or structure of tensors.
      reverse: scan from the end.
      axis: the scanned axis.
    """
    leaves = [as_tensor(e) for e in nest.flatten(elems)]
    n = leaves[0]._value.shape[axis]
    rows = [_a.unstack(leaf, num=n, axis=axis) for leaf in leaves]
    order = list(range(n - 1, -1, -1)) if reverse else list(range(n))
    acc = nest.pack_sequence_as(elems, [r[order[0]] for r in rows])
    out = {order[0]: acc}
    for i in order[1:]:
        cur = nest.pack_sequence_as(elems, [r[i] for r in rows])
        acc = f(cur, acc) if reverse else f(acc, cur)
        out[i] = acc
    return nest.map_structure(lambda *v: _a.stack(list(v), axis=axis),
                              *[out[i] for i in range(n)])


def switch(index, branches, *operands):
    """``branches[index](*operands)`` (index clamped to the valid range).

    Args:
      index: scalar int.
      branches: list of callables.
      *operands: their arguments.
    """
    idx = _m.cast(as_tensor(index), dtypes.int32)
    idx = _m.minimum(_m.maximum(idx, 0), len(branches) - 1)
    return _cf.switch_case(idx, [lambda b=b: b(*operands) for b in branches])


def vectorized_map(function, elements):
    """``function`` mapped over the leading axis of ``elements``, stacked.

    Args:
      function: callable of one slice.
      elements: tensor or structure of tensors.
    """
    return _fo.vectorized_map(function, elements)


# ---------------------------------------------------------------- scatter / slices
def scatter(indices, values, shape):
    """A zero tensor of ``shape`` with ``values`` added at ``indices`` (duplicates sum).

    Args:
      indices: int ``[n, k]`` indices.
      values: ``[n, ...]`` values.
      shape: the result shape.
    """
    return _ai.scatter_nd(as_tensor(indices), as_tensor(values), list(shape))


def scatter_update(inputs, indices, updates, reduction=None):
    """``inputs`` with ``updates`` written (or reduced) at ``indices``.

    Args:
      inputs: the tensor to update.
      indices: int ``[n, k]`` indices.
      updates: ``[n, ...]`` values.
      reduction: None (overwrite), 'add', 'max' or 'min'.
    """
    x = as_tensor(inputs)
    upd = _m.cast(as_tensor(updates), x.dtype)
    fn = {None: _ai.tensor_scatter_nd_update, "add": _ai.tensor_scatter_nd_add,
          "max": _ai.tensor_scatter_nd_max, "min": _ai.tensor_scatter_nd_min}.get(reduction)
    if fn is None:
        raise ValueError(f"scatter_update: `reduction` must be None, 'add', 'max' or "
                         f"'min', got {reduction!r}")
    return fn(x, as_tensor(indices), upd)


def _starts(start_indices):
    if isinstance(start_indices, Tensor):
        return [int(v) for v in start_indices.numpy().reshape(-1)]
    return [int(v.numpy()) if isinstance(v, Tensor) else int(v) for v in start_indices]


def slice(inputs, start_indices, shape):
    """The block of ``shape`` starting at ``start_indices``.

    Args:
      inputs: input tensor.
      start_indices: one start per axis.
      shape: block size per axis (-1: to the end).
    """
    return _sl.slice(as_tensor(inputs), _starts(start_indices), list(shape))


def slice_update(inputs, start_indices, updates):
    """``inputs`` with the block at ``start_indices`` replaced by ``updates``.

    Args:
      inputs: input tensor.
      start_indices: one start per axis.
      updates: the new block.
    """
    x = as_tensor(inputs)
    upd = _m.cast(as_tensor(updates), x.dtype)
    starts = _starts(start_indices)
    pads = [[s, n - s - u] for s, n, u in zip(starts, x._value.shape, upd._value.shape)]
    if any(p[1] < 0 or p[0] < 0 for p in pads):
        raise ValueError(f"slice_update: `updates` of shape {tuple(upd._value.shape)} at "
                         f"{starts} does not fit in shape {tuple(x._value.shape)}")
    mask = _m.not_equal(_a.pad(_m.ones_like(upd, dtype=dtypes.int8), pads), 0)
    return _m.where(mask, _a.pad(upd, pads), x)


# ---------------------------------------------------------------- math
def top_k(x, k, sorted=True):
    """The ``k`` largest entries along the last axis and their indices.

    Args:
      x: input tensor.
      k: number of entries.
      sorted: accepted (results are always sorted).

    Returns:
      ``(values, indices)``.
    """
    return _r.top_k(as_tensor(x), k=int(k), sorted=sorted)


def in_top_k(targets, predictions, k):
    """Whether each target is among the ``k`` largest predictions of its row.

    Args:
      targets: int ``[batch]`` class indices.
      predictions: ``[batch, classes]`` scores.
      k: number of top entries.
    """
    return _r.in_top_k(as_tensor(targets), as_tensor(predictions), int(k))


def _segment(unsorted, sorted_fn, data, segment_ids, num_segments, is_sorted):
    data, ids = as_tensor(data), as_tensor(segment_ids)
    if num_segments is None:
        if is_sorted:
            return sorted_fn(data, ids)
        num_segments = int(_r.reduce_max(ids).numpy()) + 1
    return unsorted(data, ids, int(num_segments))


def _segment_op(name, unsorted, sorted_fn, what):
    def op(data, segment_ids, num_segments=None, sorted=False):
        return _segment(unsorted, sorted_fn, data, segment_ids, num_segments, sorted)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = (f"{what} of ``data`` rows per segment id.\n\n    Args:\n"
                  "      data: input tensor.\n      segment_ids: int ids, one per leading "
                  "row.\n      num_segments: number of segments (default: max id + 1).\n"
                  "      sorted: whether the ids are sorted.\n    ")
    return op


segment_sum = _segment_op("segment_sum", _seg.unsorted_segment_sum, _seg.segment_sum,
                          "Sums")
segment_max = _segment_op("segment_max", _seg.unsorted_segment_max, _seg.segment_max,
                          "Maximum (the dtype's lowest for empty segments)")
segment_min = _segment_op("segment_min", _seg.unsorted_segment_min, _seg.segment_min,
                          "Minimum (the dtype's largest for empty segments)")
segment_prod = _segment_op("segment_prod", _seg.unsorted_segment_prod,
                           _seg.segment_prod, "Product (1 for empty segments)")


def _complex_pair(x, op):
    if not isinstance(x, (list, tuple)) or len(x) != 2:
        raise ValueError(f"{op}: `x` must be a (real, imag) tuple of tensors, got {x!r}")
    re, im = promote(*x)
    re, im = to_float(re), to_float(im)
    if tuple(re._value.shape) != tuple(im._value.shape):
        raise ValueError(f"{op}: real and imaginary parts must have the same shape, got "
                         f"{tuple(re._value.shape)} and {tuple(im._value.shape)}")
    return _m.complex(re, im)


def _pair(z):
    return _m.real(z), _m.imag(z)


def fft(x):
    """FFT along the last axis of the complex tensor given as ``(real, imag)``.

    Args:
      x: ``(real, imag)`` tuple.
    """
    return _pair(_sig.fft(_complex_pair(x, "fft")))


def fft2(x):
    """2-D FFT over the last two axes of ``(real, imag)``.

    Args:
      x: ``(real, imag)`` tuple.
    """
    return _pair(_sig.fft2d(_complex_pair(x, "fft2")))


def ifft2(x):
    """2-D inverse FFT over the last two axes of ``(real, imag)``.

    Args:
      x: ``(real, imag)`` tuple.
    """
    return _pair(_sig.ifft2d(_complex_pair(x, "ifft2")))


def rfft(x, fft_length=None):
    """Real FFT along the last axis; returns ``(real, imag)``.

    Args:
      x: real tensor.
      fft_length: FFT size (default: the last dimension).
    """
    x = float_tensor(x)
    return _pair(_sig.rfft(x, None if fft_length is None else [int(fft_length)]))


def irfft(x, fft_length=None):
    """Inverse real FFT of ``(real, imag)`` along the last axis.

    Args:
      x: ``(real, imag)`` tuple.
      fft_length: output length (default ``2 * (n - 1)``).
    """
    z = _complex_pair(x, "irfft")
    return _sig.irfft(z, None if fft_length is None else [int(fft_length)])


def _window(window, sequence_length, fft_length, dtype):
    if window is None:
        win = _c.ones([sequence_length], dtype=dtype)
    elif isinstance(window, str):
        fn = {"hann": _spec.hann_window, "hamming": _spec.hamming_window}.get(window)
        if fn is None:
            raise ValueError(f"stft: `window` must be 'hann', 'hamming', None or a "
                             f"tensor, got {window!r}")
        win = fn(sequence_length, periodic=True, dtype=dtype)
    else:
        win = _m.cast(as_tensor(window), dtype)
        if win._value.shape != (sequence_length,):
            raise ValueError(f"stft: a tensor `window` must have shape "
                             f"({sequence_length},), got {tuple(win._value.shape)}")
    left = (fft_length - sequence_length) // 2
    return _a.pad(win, [[left, fft_length - sequence_length - left]])


def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Short-time Fourier transform along the last axis; returns ``(real, imag)``.

    Args:
      x: real signal ``[..., samples]``.
      sequence_length: window length.
      sequence_stride: hop size.
      fft_length: FFT size (>= ``sequence_length``; the window is centred in it).
      window: 'hann', 'hamming', None or a 1-D tensor of ``sequence_length``.
      center: reflect-pad ``fft_length // 2`` samples on both sides first.
    """
    x = float_tensor(x)
    if fft_length < sequence_length:
        raise ValueError(f"stft: `fft_length` ({fft_length}) must be >= "
                         f"`sequence_length` ({sequence_length})")
    if center:
        pad = [[0, 0]] * (x._value.ndim - 1) + [[fft_length // 2, fft_length // 2]]
        x = _a.pad(x, pad, mode="REFLECT")
    frames = _sig.frame(x, fft_length, sequence_stride)
    win = _window(window, sequence_length, fft_length, x.dtype)
    return _pair(_sig.rfft(_m.multiply(frames, win), [fft_length]))


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of ``sequence_length`` every ``sequence_stride`` samples of the last axis.

    Args:
      x: input tensor ``[..., samples]``.
      sequence_length: frame length.
      sequence_stride: hop size.
    """
    return _sig.frame(as_tensor(x), int(sequence_length), int(sequence_stride))


__all__ = [
    "associative_scan", "cast", "cond", "convert_to_numpy", "convert_to_tensor",
    "custom_gradient", "dtype", "extract_sequences", "fft", "fft2", "fori_loop",
    "ifft2", "in_top_k", "irfft", "is_tensor", "map", "rfft", "saturate_cast", "scan",
    "scatter", "scatter_update", "segment_max", "segment_min", "segment_prod",
    "segment_sum", "slice", "slice_update",
    "stft", "stop_gradient", "switch", "top_k", "unstack", "vectorized_map",
    "while_loop",
]
