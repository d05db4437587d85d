"""More Keras-2 ``keras.backend`` functions: convolution/pooling/padding wrappers with
Keras's ``data_format`` names, ``batch_dot``, ``rnn``, CTC helpers, dtype helpers.

``dlframe.keras.backend`` re-exports everything here.
"""

from dlframe import config as _config
from dlframe.core import dtypes as _dtypes
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.variable import Variable
from dlframe.ops import array as _array
from dlframe.ops import array_index as _array_index
from dlframe.ops import conv as _conv
from dlframe.ops import ctc as _ctc
from dlframe.ops import einsum as _einsum
from dlframe.ops import image as _image
from dlframe.ops import math as _math
from dlframe.ops import nn as _nn
from dlframe.ops import pooling as _pool
from dlframe.ops import random as _random
from dlframe.ops.numpy_api import dtype_attr as _dtype_attr
from dlframe.ops.numpy_api import dtype_result_type, keras_dtype
from dlframe.ops.sparse_tensor import SparseTensor
from dlframe.ops.sparse_tensor import to_dense as _to_dense


def backend():
    """The backend name Keras code checks for (``'tensorflow'``: dlframe is TF's API)."""
    return "tensorflow"


def _t(x):
    return x if isinstance(x, Tensor) else convert_to_tensor(x)


# ---------------------------------------------------------------- dtypes
def standardize_dtype(dtype):
    """A dtype's canonical string name ('float32'); ValueError if unknown."""
    if dtype is None:
        return _config.floatx()
    return keras_dtype(_dtype_attr(dtype)).name


def is_float_dtype(dtype):
    """Whether ``dtype`` is a floating point type."""
    return _dtypes.as_dtype(standardize_dtype(dtype)).is_floating


def is_int_dtype(dtype):
    """Whether ``dtype`` is a (signed or unsigned) integer type."""
    return _dtypes.as_dtype(standardize_dtype(dtype)).is_integer


def result_type(*dtypes):
    """The dtype name of an op on ``dtypes`` under Keras 3 promotion
    (``result_type('int32', 'float16') == 'float16'``; Python types are weak)."""
    return dtype_result_type(*dtypes)


def to_dense(tensor):
    """A dense Tensor of a SparseTensor (other values pass through)."""
    return _to_dense(tensor) if isinstance(tensor, SparseTensor) else tensor


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    """A Variable drawn from ``N(mean, scale^2)``."""
    value = _random.normal(shape, mean=mean, stddev=scale, dtype=dtype or
                           _config.floatx(), seed=seed)
    return Variable(value, name=name)


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    """A Variable drawn uniformly from ``[low, high)``."""
    value = _random.uniform(shape, minval=low, maxval=high, dtype=dtype or
                            _config.floatx(), seed=seed)
    return Variable(value, name=name)


# ---------------------------------------------------------------- products
def batch_dot(x, y, axes=None):
    """Per-sample dot product of ``x`` and ``y`` (batch axis 0) contracting ``axes``.

    Args:
      x, y: tensors of rank >= 2 with equal batch sizes.
      axes: an int or ``(axis_x, axis_y)``; default the last axis of ``x`` and the
        second-to-last of ``y`` (its last when ``y`` is 2-D).

    Returns:
      ``x``'s remaining axes then ``y``'s; a (batch, 1) tensor when nothing remains.
    """
    x, y = _t(x), _t(y)
    nx, ny = x.ndim, y.ndim
    if nx < 2 or ny < 2:
        raise ValueError(f"batch_dot requires inputs of rank >= 2; received x.shape="
                         f"{tuple(x.shape)}, y.shape={tuple(y.shape)}")
    if axes is None:
        axes = (nx - 1, ny - 1 if ny == 2 else ny - 2)
    elif isinstance(axes, int):
        axes = (axes, axes)
    ax, ay = (int(a) % n for a, n in zip(axes, (nx, ny)))
    if ax == 0 or ay == 0:
        raise ValueError(f"batch_dot cannot contract the batch axis; received axes={axes}")
    letters = "abcdefghijklmnopqrstuvwxyz"
    xs = ["z"] + list(letters[:nx - 1])
    ys = ["z"] + list(letters[nx - 1:nx + ny - 2])
    ys[ay] = xs[ax]
    out = ["z"] + [c for i, c in enumerate(xs[1:], 1) if i != ax] + \
        [c for i, c in enumerate(ys[1:], 1) if i != ay]
    result = _einsum.einsum(f"{''.join(xs)},{''.join(ys)}->{''.join(out)}", x, y)
    return _array.expand_dims(result, 1) if result.ndim == 1 else result


# ---------------------------------------------------------------- conv / pool
def _format(data_format):
    data_format = data_format or _config.image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"Unknown data_format: {data_format!r}; expected "
                         "'channels_first' or 'channels_last'")
    return data_format


def _last(x, data_format, rank):
    """``x`` in channels-last layout (and a function mapping results back)."""
    if _format(data_format) == "channels_last":
        return x, lambda y: y
    to_last = (0,) + tuple(range(2, rank + 2)) + (1,)
    back = (0, rank + 1) + tuple(range(1, rank + 1))
    return _array.transpose(x, to_last), lambda y: _array.transpose(y, back)


def _tuple(value, rank):
    return (value,) * rank if isinstance(value, int) else tuple(value)


def _conv_nd(x, kernel, strides, padding, data_format, dilation_rate, rank):
    x, back = _last(_t(x), data_format, rank)
    padding = padding.lower()
    if padding == "causal":
        if rank != 1:
            raise ValueError("padding='causal' is only valid for conv1d")
        left = _tuple(dilation_rate, 1)[0] * (int(kernel.shape[0]) - 1)
        x = _array.pad(x, [[0, 0], [left, 0], [0, 0]])
        padding = "valid"
    out = _conv.convolution(x, kernel, strides=_tuple(strides, rank),
                            padding=padding.upper(), dilations=_tuple(dilation_rate, rank))
    return back(out)


def conv1d(x, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """1-D convolution; ``padding`` 'valid', 'same' or 'causal'."""
    return _conv_nd(x, kernel, strides, padding, data_format, dilation_rate, 1)


def conv2d(x, kernel, strides=(1, 1), padding="valid", data_format=None,
           dilation_rate=(1, 1)):
    """2-D convolution of ``x`` with ``kernel`` (``[kh, kw, in, out]``)."""
    return _conv_nd(x, kernel, strides, padding, data_format, dilation_rate, 2)


def conv3d(x, kernel, strides=(1, 1, 1), padding="valid", data_format=None,
           dilation_rate=(1, 1, 1)):
    """3-D convolution of ``x`` with ``kernel`` (``[kd, kh, kw, in, out]``)."""
    return _conv_nd(x, kernel, strides, padding, data_format, dilation_rate, 3)


def conv2d_transpose(x, kernel, output_shape, strides=(1, 1), padding="valid",
                     data_format=None, dilation_rate=(1, 1)):
    """Transposed 2-D convolution; ``output_shape`` in ``data_format`` layout."""
    x, back = _last(_t(x), data_format, 2)
    shape = list(output_shape)
    if _format(data_format) == "channels_first":
        shape = [shape[0], shape[2], shape[3], shape[1]]
    out = _conv.conv2d_transpose(x, kernel, shape, strides=(1,) + _tuple(strides, 2) +
                                 (1,), padding=padding.upper(),
                                 dilations=_tuple(dilation_rate, 2))
    return back(out)


def depthwise_conv2d(x, depthwise_kernel, strides=(1, 1), padding="valid",
                     data_format=None, dilation_rate=(1, 1)):
    """Depthwise 2-D convolution (``[kh, kw, in, multiplier]`` kernel)."""
    x, back = _last(_t(x), data_format, 2)
    return back(_conv.depthwise_conv2d(x, depthwise_kernel, (1,) + _tuple(strides, 2) +
                                       (1,), padding.upper(),
                                       dilations=_tuple(dilation_rate, 2)))


def separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides=(1, 1),
                     padding="valid", data_format=None, dilation_rate=(1, 1)):
    """Depthwise then pointwise 2-D convolution."""
    x, back = _last(_t(x), data_format, 2)
    return back(_conv.separable_conv2d(x, depthwise_kernel, pointwise_kernel,
                                       (1,) + _tuple(strides, 2) + (1,), padding.upper(),
                                       dilations=_tuple(dilation_rate, 2)))


def _pool_nd(x, pool_size, strides, padding, data_format, pool_mode, rank):
    if pool_mode not in ("max", "avg"):
        raise ValueError(f"Invalid pool_mode: {pool_mode!r}; expected 'max' or 'avg'")
    x, back = _last(_t(x), data_format, rank)
    strides = _tuple(strides or 1, rank)
    fn = _pool.max_pool if pool_mode == "max" else _pool.avg_pool
    return back(fn(x, _tuple(pool_size, rank), strides, padding.upper()))


def pool2d(x, pool_size, strides=(1, 1), padding="valid", data_format=None,
           pool_mode="max"):
    """2-D max or average pooling."""
    return _pool_nd(x, pool_size, strides, padding, data_format, pool_mode, 2)


def pool3d(x, pool_size, strides=(1, 1, 1), padding="valid", data_format=None,
           pool_mode="max"):
    """3-D max or average pooling."""
    return _pool_nd(x, pool_size, strides, padding, data_format, pool_mode, 3)


def _pad_spatial(x, padding, data_format, rank):
    pads = [[int(a), int(b)] for a, b in padding]
    if len(pads) != rank:
        raise ValueError(f"padding must hold {rank} (before, after) pairs; received "
                         f"padding={padding}")
    if _format(data_format) == "channels_last":
        full = [[0, 0]] + pads + [[0, 0]]
    else:
        full = [[0, 0], [0, 0]] + pads
    return _array.pad(_t(x), full)


def temporal_padding(x, padding=(1, 1)):
    """Zero-pads the middle (time) axis of a 3-D tensor."""
    return _array.pad(_t(x), [[0, 0], list(padding), [0, 0]])


def spatial_2d_padding(x, padding=((1, 1), (1, 1)), data_format=None):
    """Zero-pads the two spatial axes of a 4-D tensor."""
    return _pad_spatial(x, padding, data_format, 2)


def spatial_3d_padding(x, padding=((1, 1), (1, 1), (1, 1)), data_format=None):
    """Zero-pads the three spatial axes of a 5-D tensor."""
    return _pad_spatial(x, padding, data_format, 3)


def resize_images(x, height_factor, width_factor, data_format, interpolation="nearest"):
    """Upsamples the spatial axes of a 4-D tensor by integer factors."""
    x, back = _last(_t(x), data_format, 2)
    size = (int(x.shape[1]) * int(height_factor), int(x.shape[2]) * int(width_factor))
    if interpolation not in ("nearest", "bilinear", "bicubic", "area"):
        raise ValueError(f"interpolation should be one of 'nearest', 'bilinear', "
                         f"'bicubic', 'area'; received interpolation={interpolation!r}")
    out = _image.resize(x, size, method=interpolation)
    return back(_math.cast(out, x.dtype))


def resize_volumes(x, depth_factor, height_factor, width_factor, data_format):
    """Repeats the three spatial axes of a 5-D tensor by integer factors."""
    axes = (1, 2, 3) if _format(data_format) == "channels_last" else (2, 3, 4)
    out = _t(x)
    for axis, factor in zip(axes, (depth_factor, height_factor, width_factor)):
        out = _array_index.repeat(out, int(factor), axis=axis)
    return out


def batch_normalization(x, mean, var, beta, gamma, axis=-1, epsilon=1e-3):
    """``gamma * (x - mean) / sqrt(var + epsilon) + beta``."""
    return _nn.batch_normalization(_t(x), mean, var, beta, gamma, epsilon)


# ---------------------------------------------------------------- rnn
def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None,
        constants=None, unroll=False, input_length=None, time_major=False,
        zero_output_for_mask=False, return_all_outputs=True):
    """Runs ``step_function(input_t, states) -> (output_t, new_states)`` over time.

    Args:
      step_function: the cell step.
      inputs: ``[batch, time, ...]`` (``[time, batch, ...]`` when ``time_major``).
      initial_states: list of state tensors.
      go_backwards: iterate from the last step.
      mask: optional ``[batch, time]`` booleans; masked steps keep the previous
        state and output (zeros for the output when ``zero_output_for_mask``).
      constants: extra tensors passed to every step after the states.
      unroll, input_length: accepted for compatibility (the loop is always unrolled).
      time_major: the layout of ``inputs`` and of the returned outputs.
      return_all_outputs: return every step's output (else only the last).

    Returns:
      ``(last_output, outputs, new_states)``.
    """
    inputs = _t(inputs)
    steps = _array.unstack(inputs if time_major else _array.transpose(
        inputs, (1, 0) + tuple(range(2, inputs.ndim))))
    masks = None
    if mask is not None:
        mask = _t(mask)
        masks = _array.unstack(_array.transpose(mask, (1, 0)) if not time_major else mask)
    order = list(range(len(steps)))[::-1] if go_backwards else list(range(len(steps)))
    states = list(initial_states)
    outputs, prev = [], None
    for i in order:
        out, new_states = step_function(steps[i], states + list(constants or []))
        new_states = list(new_states) if isinstance(new_states, (list, tuple)) else \
            [new_states]
        if masks is not None:
            keep = masks[i]

            def pick(new, old, keep=keep):
                cond = _array.reshape(keep, [-1] + [1] * (new.ndim - 1))
                return _math.where(_array.broadcast_to(cond, tuple(new.shape)), new, old)
            old_out = _math.zeros_like(out) if prev is None or zero_output_for_mask \
                else prev
            out = pick(out, old_out)
            new_states = [pick(n, o) for n, o in zip(new_states, states)]
        outputs.append(out)
        prev, states = out, new_states
    stacked = _array.stack(outputs if return_all_outputs else outputs[-1:], axis=0)
    if not time_major:
        stacked = _array.transpose(stacked, (1, 0) + tuple(range(2, stacked.ndim)))
    return outputs[-1], stacked, states


# ---------------------------------------------------------------- ctc
def ctc_label_dense_to_sparse(labels, label_lengths):
    """A SparseTensor of the first ``label_lengths[b]`` entries of each label row."""
    from dlframe.backends.base import np
    dense = _t(labels).numpy()
    lengths = _t(label_lengths).numpy().reshape(-1).astype(np.int64)
    keep = np.arange(dense.shape[1])[None, :] < lengths[:, None]
    idx = np.argwhere(keep)
    return SparseTensor(idx.astype(np.int64), convert_to_tensor(dense[keep]),
                        np.asarray(dense.shape, dtype=np.int64))


def ctc_batch_cost(y_true, y_pred, input_length, label_length):
    """Per-sample CTC loss of softmax outputs ``y_pred [batch, time, classes]`` (the
    blank is the last class) against labels ``y_true [batch, max_label_length]``.

    Returns:
      ``[batch, 1]`` losses.
    """
    y_pred = _t(y_pred)
    log_probs = _math.log(_math.add(_array.transpose(y_pred, (1, 0, 2)),
                                    _config.epsilon()))
    loss = _ctc.ctc_loss(_math.cast(_t(y_true), _dtypes.int32), log_probs,
                         _array.reshape(_t(label_length), (-1,)),
                         _array.reshape(_t(input_length), (-1,)), blank_index=-1)
    return _array.expand_dims(loss, 1)


def ctc_decode(y_pred, input_length, greedy=True, beam_width=100, top_paths=1):
    """Decodes softmax outputs ``y_pred [batch, time, classes]`` (blank: last class).

    Returns:
      ``(decoded, log_prob)``: a list of ``[batch, time]`` int64 label tensors padded
      with -1 (one per path) and their scores.
    """
    y_pred = _t(y_pred)
    log_probs = _math.log(_math.add(_array.transpose(y_pred, (1, 0, 2)),
                                    _config.epsilon()))
    lengths = _array.reshape(_t(input_length), (-1,))
    if greedy:
        decoded, log_prob = _ctc.ctc_greedy_decoder(log_probs, lengths)
    else:
        decoded, log_prob = _ctc.ctc_beam_search_decoder(log_probs, lengths, beam_width,
                                                         top_paths)
    shape = [int(y_pred.shape[0]), int(y_pred.shape[1])]
    dense = [_to_dense(SparseTensor(st.indices, st.values, shape), default_value=-1)
             for st in decoded]
    return dense, log_prob


def gradients(loss, variables):
    """Keras 2's symbolic gradients: graph-mode only, as in TF 2."""
    from dlframe.ops.gradients import gradients as _gradients
    return _gradients(loss, variables)


class _KerasFunction:
    """What ``backend.function`` returns: call it with a list of input arrays."""

    def __init__(self, model, single_output, unwrap=False):
        self._model = model
        self._single = single_output
        self._unwrap = unwrap

    def __call__(self, inputs):
        if isinstance(inputs, dict):
            inputs = [inputs[t.name] for t in self._model.inputs]
        if not isinstance(inputs, (list, tuple)):
            inputs = [inputs]
        if len(inputs) != len(self._model.inputs):
            raise ValueError(f"This function takes {len(self._model.inputs)} input(s); "
                             f"received {len(inputs)}.")
        outs = self._model(list(inputs) if len(inputs) > 1 else inputs[0],
                           training=False)
        if self._unwrap:
            return outs.numpy()
        outs = [outs] if self._single else list(outs)
        return [o.numpy() for o in outs]


def function(inputs, outputs, updates=None, name=None, **kwargs):
    """Keras 2's ``backend.function``: a callable mapping input arrays to the values
    of ``outputs`` (Keras tensors of a functional model, e.g. a layer's output).

    Args:
      inputs: a list of input Keras tensors (``model.input`` may stand alone).
      outputs: a Keras tensor or a list of them.
      updates: must be empty (TF2 has no graph updates).
      name: unused.

    Returns:
      ``f(list_of_arrays) -> list of NumPy arrays``, one per output; as in Keras 2,
      a lone (non-list) ``outputs`` tensor gives one NumPy array, not a list.
    """
    from dlframe.keras.engine.functional import Functional
    if kwargs:
        raise ValueError("Session keyword arguments are not supported during eager "
                         f"execution. You passed: {kwargs!r}")
    if updates:
        raise ValueError("`updates` are not supported by backend.function in "
                         f"TensorFlow 2; received updates={updates!r}.")
    single_in = not isinstance(inputs, (list, tuple))
    single_out = not isinstance(outputs, (list, tuple))
    ins = [inputs] if single_in else list(inputs)
    outs = [outputs] if single_out else list(outputs)
    model = Functional(ins if len(ins) > 1 else ins[0],
                       outs if len(outs) > 1 else outs[0], name=name)
    return _KerasFunction(model, single_output=len(outs) == 1, unwrap=single_out)


__all__ = [n for n in dir() if not n.startswith("_") and n not in (
    "Tensor", "Variable", "SparseTensor", "convert_to_tensor")]
