"""Which sequence kernel an LSTM/GRU/SimpleRNN layer runs, and running it.

Three kernels compute the same Keras equations:
- 'cudnn': the device's fused cuDNN kernel (``device.rnn_kernel``; GPUs only), when
  the layer's configuration and mask meet cuDNN's rules (GPU.md §3.6);
- 'fused': the portable fused sequence kernels of ``ops/rnn.py``;
- 'loop': ``keras.layers.RNN``'s Python loop over the cell (any activation,
  recurrent dropout).
The layer records its choice in ``layer.last_kernel``.
"""

from dlframe.core.primitive import STATE as _STATE
from dlframe.core.primitive import recording as _recording
from dlframe.keras import activations
from dlframe.ops import array as _array
from dlframe.ops import creation as _creation
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red
from dlframe.ops import rnn as _rnn
from dlframe.ops import rnn_cudnn as _rnn_cudnn

# activations whose fused-kernel definition is the same function as the Keras one
_FUSED_ACTS = {activations.tanh: "tanh", activations.sigmoid: "sigmoid",
               activations.relu: "relu", activations.linear: "linear",
               activations.hard_sigmoid: "hard_sigmoid"}


def activation_name(fn):
    """The fused-kernel name of activation ``fn``, or None when it has none."""
    name = _FUSED_ACTS.get(fn)
    return name if name is not None and _rnn.supported_activation(name) else None


def fused_reason(layer):
    """Why the fused kernels cannot run this layer (None when they can)."""
    cell = layer.cell
    if activation_name(cell.activation) is None:
        return f"activation={activations.serialize(cell.activation)!r} has no fused kernel"
    ract = getattr(cell, "recurrent_activation", None)
    if ract is not None and activation_name(ract) is None:
        return (f"recurrent_activation={activations.serialize(ract)!r} has no fused "
                "kernel")
    if cell.recurrent_dropout:
        return f"recurrent_dropout={cell.recurrent_dropout} needs the cell loop"
    return None


def cudnn_config_reason(layer):
    """Why cuDNN cannot run this layer's configuration (None when it can)."""
    cell = layer.cell
    if layer._kernel_kind not in ("lstm", "gru"):
        return f"{type(layer).__name__} has no cuDNN kernel"
    if cell.activation is not activations.tanh:
        return (f"activation={activations.serialize(cell.activation)!r} (cuDNN needs "
                "'tanh')")
    if cell.recurrent_activation is not activations.sigmoid:
        return (f"recurrent_activation={activations.serialize(cell.recurrent_activation)!r}"
                " (cuDNN needs 'sigmoid')")
    if cell.recurrent_dropout:
        return f"recurrent_dropout={cell.recurrent_dropout} (cuDNN needs 0)"
    if layer.unroll:
        return "unroll=True (cuDNN needs unroll=False)"
    if not cell.use_bias:
        return "use_bias=False (cuDNN needs use_bias=True)"
    if layer._kernel_kind == "gru" and not cell.reset_after:
        return "reset_after=False (cuDNN needs reset_after=True)"
    return None


def _mask_reason(mask, steps):
    """Why cuDNN cannot take this mask (None when right-padded with no empty row)."""
    trace = _STATE.trace
    if trace is not None and trace.is_symbolic(mask):
        return "a mask inside dlframe.function (its padding is only known at run time)"
    lengths = _red.reduce_sum(_math.cast(mask, "int32"), axis=1)
    if not bool(_red.reduce_all(_math.equal(mask, _creation.sequence_mask(lengths,
                                                                          steps)))):
        return "the mask is not strictly right-padded"
    if not bool(_red.reduce_min(lengths) >= 1):
        return "the mask has a sample with no valid step"
    return None


def choose(layer, x, mask):
    """('cudnn' | 'fused' | 'loop', device kernel or None) for this call.

    Raises:
      ValueError: ``use_cudnn=True`` and cuDNN cannot run this call.
    """
    use_cudnn = layer.use_cudnn
    reason = fused_reason(layer)
    if reason is not None:
        if use_cudnn is True:
            raise ValueError(f"use_cudnn=True was specified, but {reason}. Pass "
                             "use_cudnn='auto' to fall back to a non-cuDNN kernel.")
        return "loop", None
    if use_cudnn is False or layer._kernel_kind not in ("lstm", "gru"):
        return "fused", None
    reason = cudnn_config_reason(layer)
    kernel = None
    if reason is None:
        kernel = x._device.rnn_kernel(layer._kernel_kind)
        if kernel is None:
            reason = f"device {x._device.name} offers no cuDNN kernel"
    if reason is None and not kernel.supports(x._value.dtype):
        reason = f"cuDNN does not support dtype {x.dtype.name}"
    if reason is None and mask is not None:
        reason = _mask_reason(mask, x.shape[1])
    if reason is not None:
        if use_cudnn is True:
            raise ValueError(f"use_cudnn=True was specified, but cuDNN cannot run this "
                             f"layer: {reason}. Pass use_cudnn='auto' to fall back to a "
                             "non-cuDNN kernel.")
        return "fused", None
    return "cudnn", kernel


def run(layer, kind, x, states, mask, training):
    """Runs the fused or cuDNN kernel of ``layer`` over ``x [B, T, F]``.

    Returns:
      (outputs [B, T, U] indexed by input step, list of final states).
    """
    cell = layer.cell
    dropped = cell.get_dropout_mask(x[:, 0]) if training else None
    if dropped is not None:
        x = x * _array.expand_dims(dropped, 1)
    kernel = cell._w(cell.kernel, x)
    rkernel = cell._w(cell.recurrent_kernel, x)
    bias = None if cell.bias is None else cell._w(cell.bias, x)
    h0 = states[0]
    back = layer.go_backwards
    if kind == "cudnn":
        lstm = layer._kernel_kind == "lstm"
        c0 = states[1] if lstm else _math.zeros_like(h0)
        outs = _rnn_cudnn.cudnn_rnn(layer._kernel_kind, x, h0, c0, kernel, rkernel, bias,
                                    mask=mask, go_backwards=back,
                                    training=_recording())
        return outs[0], list(outs[1:])
    act = activation_name(cell.activation)
    if layer._kernel_kind == "lstm":
        ys, h, c = _rnn.lstm(x, h0, states[1], kernel, rkernel, bias, mask=mask,
                             activation=act,
                             recurrent_activation=activation_name(cell.recurrent_activation),
                             go_backwards=back)
        return ys, [h, c]
    if layer._kernel_kind == "gru":
        ys, h = _rnn.gru(x, h0, kernel, rkernel, bias, mask=mask, activation=act,
                         recurrent_activation=activation_name(cell.recurrent_activation),
                         go_backwards=back, reset_after=cell.reset_after)
        return ys, [h]
    ys, h = _rnn.simple_rnn(x, h0, kernel, rkernel, bias, mask=mask, activation=act,
                            go_backwards=back)
    return ys, [h]
