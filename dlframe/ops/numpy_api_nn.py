"""Keras 3 ``keras.ops.nn``: activations, softmax, one/multi-hot, normalization,
cross-entropies and attention, with Keras 3's argument names and defaults
(``gelu(approximate=True)``, ``leaky_relu(negative_slope=0.2)``, ``softmax(axis=-1)``).

Convolutions and pooling live in ``numpy_api_conv``.
"""

from dlframe import config, errors
from dlframe.core import dtypes
from dlframe.ops import array as _a
from dlframe.ops import array_index as _ai
from dlframe.ops import creation as _c
from dlframe.ops import ctc as _ctc
from dlframe.ops import math as _m
from dlframe.ops import nn as _nn
from dlframe.ops import nn_extra as _nx
from dlframe.ops import nn_impl as _ni
from dlframe.ops import reduction as _r
from dlframe.ops.numpy_api import (
    as_tensor,
    default_float,
    dtype_kind,
    float_tensor,
    keras_dtype,
    promote,
    scalar,
)
from dlframe.ops.numpy_api_index import take_along_axis
from dlframe.ops.numpy_api_shape import moveaxis


def _act(name, fn, doc, keep_int=False):
    def act(x):
        x = as_tensor(x)
        if keep_int and dtype_kind(x) in "iu":
            return fn(x)    # Keras 3 keeps integer dtypes here (as tf.nn.relu does)
        return fn(float_tensor(x))
    act.__name__ = act.__qualname__ = name
    act.__doc__ = f"{doc}\n\n    Args:\n      x: input tensor.\n    "
    return act


relu = _act("relu", _nn.relu, "Rectified linear unit ``max(x, 0)``.", keep_int=True)
relu6 = _act("relu6", _nn.relu6, "``min(max(x, 0), 6)``.", keep_int=True)
sigmoid = _act("sigmoid", _m.sigmoid, "Logistic sigmoid ``1 / (1 + exp(-x))``.")
softplus = _act("softplus", _m.softplus, "``log(1 + exp(x))``, computed stably.")
softsign = _act("softsign", _m.softsign, "``x / (1 + |x|)``.")
silu = _act("silu", _nn.silu, "Sigmoid linear unit ``x * sigmoid(x)`` (swish).")
swish = silu
selu = _act("selu", _nn.selu, "Scaled exponential linear unit.")
log_sigmoid = _act("log_sigmoid", _m.log_sigmoid, "``log(sigmoid(x))``, stably.")
sparse_plus = _act("sparse_plus", lambda x: _m.where(
    _m.less_equal(x, -1.0), _m.zeros_like(x), _m.where(
        _m.greater_equal(x, 1.0), x, _m.multiply(0.25, _m.square(_m.add(x, 1.0))))),
    "SparsePlus: 0 below -1, ``x`` above 1, ``(x + 1)**2 / 4`` between.")
hard_tanh = _act("hard_tanh", lambda x: _m.minimum(_m.maximum(x, -1.0), 1.0),
                 "``x`` clipped to [-1, 1].")
tanh_shrink = _act("tanh_shrink", lambda x: _m.subtract(x, _m.tanh(x)),
                   "``x - tanh(x)``.")


def hard_sigmoid(x):
    """Piecewise-linear sigmoid ``relu6(x + 3) / 6``.

    Args:
      x: input tensor.
    """
    return _m.divide(_nn.relu6(_m.add(float_tensor(x), 3.0)), 6.0)


def hard_silu(x):
    """``x * hard_sigmoid(x)`` (hard swish).

    Args:
      x: input tensor.
    """
    x = float_tensor(x)
    return _m.multiply(x, hard_sigmoid(x))


hard_swish = hard_silu


def gelu(x, approximate=True):
    """Gaussian error linear unit (tanh approximation by default, as Keras 3).

    Args:
      x: input tensor.
      approximate: use the tanh approximation instead of the exact erf form.
    """
    return _nn.gelu(float_tensor(x), approximate=approximate)


def elu(x, alpha=1.0):
    """Exponential linear unit ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``.

    Args:
      x: input tensor.
      alpha: scale of the negative part.
    """
    out = _nn.elu(float_tensor(x))
    if alpha == 1.0:
        return out
    return _m.where(_m.greater(out, 0.0), out, _m.multiply(out, float(alpha)))


def celu(x, alpha=1.0):
    """Continuously differentiable ELU ``max(x, 0) + min(0, alpha*(exp(x/alpha)-1))``.

    Args:
      x: input tensor.
      alpha: the ELU scale.
    """
    x = float_tensor(x)
    neg = _m.multiply(float(alpha), _m.expm1(_m.divide(_m.minimum(x, 0.0), float(alpha))))
    return _m.add(_m.maximum(x, 0.0), neg)


def leaky_relu(x, negative_slope=0.2):
    """``x`` for positive inputs, ``negative_slope * x`` otherwise.

    Args:
      x: input tensor.
      negative_slope: slope of the negative part.
    """
    return _nn.leaky_relu(float_tensor(x), alpha=negative_slope)


def squareplus(x, b=4):
    """``(x + sqrt(x**2 + b)) / 2``.

    Args:
      x: input tensor.
      b: smoothness (non-negative).
    """
    x = float_tensor(x)
    return _m.multiply(0.5, _m.add(x, _m.sqrt(_m.add(_m.square(x), float(b)))))


def threshold(x, threshold, default_value):
    """``x`` where ``x > threshold``, else ``default_value``.

    Args:
      x: input tensor.
      threshold: the threshold.
      default_value: the replacement value.
    """
    x = as_tensor(x)
    return _m.where(_m.greater(x, scalar(threshold, x)), x,
                    _m.multiply(_m.ones_like(x), scalar(default_value, x)))


def hard_shrink(x, threshold=0.5):
    """``x`` where ``|x| > threshold``, else 0.

    Args:
      x: input tensor.
      threshold: the threshold.
    """
    x = float_tensor(x)
    return _m.where(_m.greater(_m.abs(x), float(threshold)), x, _m.zeros_like(x))


def soft_shrink(x, threshold=0.5):
    """``x`` moved toward 0 by ``threshold`` (0 inside ``[-threshold, threshold]``).

    Args:
      x: input tensor.
      threshold: the threshold.
    """
    x = float_tensor(x)
    th = float(threshold)
    return _m.where(_m.greater(x, th), _m.subtract(x, th),
                    _m.where(_m.less(x, -th), _m.add(x, th), _m.zeros_like(x)))


def glu(x, axis=-1):
    """Gated linear unit: halves ``a, b`` of ``x`` along ``axis`` give ``a*sigmoid(b)``.

    Args:
      x: input tensor (even size along ``axis``).
      axis: the split axis.
    """
    x = float_tensor(x)
    if x._value.shape[axis] % 2:
        raise ValueError(f"glu: axis {axis} of `x` must have an even size, got shape "
                         f"{tuple(x._value.shape)}")
    a, b = _a.split(x, 2, axis=axis)
    return _m.multiply(a, _m.sigmoid(b))


def _norm_axes(axis, ndim):
    axes = axis if isinstance(axis, (list, tuple)) else (axis,)
    for a in axes:
        if not -ndim <= int(a) < ndim:
            raise errors.AxisError(None, None, f"Invalid reduction dimension ({a} for "
                                   f"input with {ndim} dimension(s)); got axes={axis!r}")
    return tuple(int(a) % ndim for a in axes)


def softmax(x, axis=-1):
    """Softmax along ``axis`` (an int or a tuple of axes).

    Args:
      x: input tensor.
      axis: int or tuple of ints.
    """
    x = float_tensor(x)
    if isinstance(axis, (list, tuple)):
        return _m.exp(log_softmax(x, axis))
    return _nn.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    """Log of the softmax along ``axis`` (an int or a tuple of axes), computed stably.

    Args:
      x: input tensor.
      axis: int or tuple of ints.
    """
    x = float_tensor(x)
    if isinstance(axis, (list, tuple)):
        axes = _norm_axes(axis, x._value.ndim)
        return _m.subtract(x, _r.reduce_logsumexp(x, axis=axes, keepdims=True))
    return _nn.log_softmax(x, axis=axis)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encoding of integer ``x`` (out-of-range indices give all zeros).

    Args:
      x: integer tensor.
      num_classes: depth of the encoding.
      axis: position of the new class axis.
      dtype: result dtype (default floatx).
      sparse: must be False.
    """
    if sparse:
        raise ValueError("one_hot: sparse=True is not supported")
    idx = as_tensor(x)
    if dtype_kind(idx) not in "iu":
        idx = _m.cast(idx, dtypes.int32)
    dt = keras_dtype(dtype) if dtype is not None else default_float()
    return _c.one_hot(idx, int(num_classes), axis=axis, dtype=dt)


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """Multi-hot encoding: 1 for every class present in the last axis of ``inputs``.

    Args:
      inputs: integer tensor ``[..., n]`` (rank 1 is one sample).
      num_classes: depth of the encoding (``num_tokens`` is accepted too).
      axis: position of the class axis.
      dtype: result dtype (default floatx).
      sparse: must be False.
      **kwargs: ``num_tokens`` (a Keras 2 alias of ``num_classes``).
    """
    num_classes = kwargs.pop("num_tokens", num_classes)
    if kwargs:
        raise TypeError(f"multi_hot: unexpected keyword arguments {sorted(kwargs)}")
    if num_classes is None:
        raise ValueError("multi_hot: `num_classes` is required")
    x = as_tensor(inputs)
    rank1 = x._value.ndim == 1
    if rank1:
        x = _a.expand_dims(x, 0)
    encoded = one_hot(x, num_classes, axis=-1, dtype=dtype, sparse=sparse)
    out = _r.reduce_max(encoded, axis=-2)
    if axis != -1:
        out = moveaxis(out, -1, axis)
    return _a.squeeze(out, 0) if rank1 else out


def moments(x, axes, keepdims=False, synchronized=False):
    """Mean and variance of ``x`` over ``axes`` (float16 computed in float32).

    Args:
      x: input tensor.
      axes: int or sequence of ints.
      keepdims: keep reduced axes with length 1.
      synchronized: accepted for compatibility (single replica).

    Returns:
      ``(mean, variance)``.
    """
    return tuple(_ni.moments(float_tensor(x), list(_norm_axes(axes, as_tensor(x).ndim)),
                             keepdims=keepdims))


def batch_normalization(x, mean, variance, axis, offset=None, scale=None,
                        epsilon=1e-3):
    """Normalizes ``x`` with 1-D statistics along ``axis``.

    Args:
      x: input tensor.
      mean: 1-D mean, the size of ``x``'s ``axis``.
      variance: 1-D variance.
      axis: the feature axis.
      offset: optional 1-D beta.
      scale: optional 1-D gamma.
      epsilon: variance epsilon.
    """
    x = float_tensor(x)
    shape = [1] * x._value.ndim
    shape[axis] = -1

    def stat(v):
        return None if v is None else _a.reshape(_m.cast(as_tensor(v), x.dtype), shape)
    return _ni.batch_normalization(x, stat(mean), stat(variance), stat(offset),
                                   stat(scale), epsilon)


def _epsilon(epsilon):
    return config.epsilon() if epsilon is None else float(epsilon)


def normalize(x, axis=-1, order=2, epsilon=None):
    """``x / max(norm(x, order, axis), epsilon)``.

    Args:
      x: input tensor.
      axis: the normalized axis.
      order: the norm order.
      epsilon: lower bound of the norm (default: the Keras epsilon).
    """
    from dlframe.ops.numpy_api_linalg import norm
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    x = float_tensor(x)
    n = norm(x, ord=order, axis=axis, keepdims=True)
    return _m.divide(x, _m.maximum(n, _m.cast(_epsilon(epsilon), n.dtype)))


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """Layer normalization over ``axis`` with optional scale ``gamma`` and ``beta``.

    Args:
      x: input tensor.
      gamma: optional scale.
      beta: optional offset.
      axis: int or sequence of ints.
      epsilon: variance epsilon (default: the Keras epsilon).
      **kwargs: ``rms_scaling`` (bool) normalizes by the RMS only.
    """
    if kwargs.pop("rms_scaling", False):
        return rms_normalization(x, gamma, axis, epsilon)
    x = float_tensor(x)
    axes = list(_norm_axes(axis, x._value.ndim))
    mean, var = _ni.moments(x, axes, keepdims=True)
    out = _m.multiply(_m.subtract(x, mean), _m.rsqrt(_m.add(var, _epsilon(epsilon))))
    if gamma is not None:
        out = _m.multiply(out, _m.cast(as_tensor(gamma), x.dtype))
    if beta is not None:
        out = _m.add(out, _m.cast(as_tensor(beta), x.dtype))
    return out


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """``x / sqrt(mean(x**2, axis) + epsilon) * scale``.

    Args:
      x: input tensor.
      scale: optional scale.
      axis: int or sequence of ints.
      epsilon: epsilon (default: the Keras epsilon).
    """
    x = float_tensor(x)
    axes = list(_norm_axes(axis, x._value.ndim))
    ms = _r.reduce_mean(_m.square(x), axis=axes, keepdims=True)
    out = _m.multiply(x, _m.rsqrt(_m.add(ms, _epsilon(epsilon))))
    return out if scale is None else _m.multiply(out, _m.cast(as_tensor(scale), x.dtype))


def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio ``20 log10(max_val) - 10 log10(mse)`` (a scalar).

    Args:
      x1: first image batch.
      x2: second image batch.
      max_val: the dynamic range of the pixel values.
    """
    a, b = promote(x1, x2)
    a, b = float_tensor(a), float_tensor(b)
    mse = _r.reduce_mean(_m.square(_m.subtract(a, b)))
    ln10 = 2.302585092994046
    return _m.subtract(_m.multiply(20.0 / ln10, _m.log(scalar(max_val, a))),
                       _m.multiply(10.0 / ln10, _m.log(mse)))


# ---------------------------------------------------------------- losses
def _clipped_probs(output):
    eps = config.epsilon()
    return _m.minimum(_m.maximum(output, eps), 1.0 - eps)


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise binary cross-entropy (no reduction).

    Args:
      target: labels in [0, 1].
      output: probabilities, or logits when ``from_logits``.
      from_logits: whether ``output`` holds logits.
    """
    t, o = promote(target, output)
    t, o = float_tensor(t), float_tensor(o)
    if from_logits:
        return _nn.sigmoid_cross_entropy_with_logits(labels=t, logits=o)
    o = _clipped_probs(o)
    return _m.negative(_m.add(_m.multiply(t, _m.log(o)),
                              _m.multiply(_m.subtract(1.0, t), _m.log(_m.subtract(1.0, o)))))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy between one-hot/soft ``target`` and ``output`` along ``axis``.

    Args:
      target: target distributions.
      output: probabilities (renormalized along ``axis``), or logits.
      from_logits: whether ``output`` holds logits.
      axis: the class axis.
    """
    t, o = promote(target, output)
    t, o = float_tensor(t), float_tensor(o)
    if tuple(t._value.shape) != tuple(o._value.shape):
        raise ValueError(f"categorical_crossentropy: `target` and `output` must have the "
                         f"same shape, got {tuple(t._value.shape)} and "
                         f"{tuple(o._value.shape)}")
    if from_logits:
        return _m.negative(_r.reduce_sum(_m.multiply(t, _nn.log_softmax(o, axis=axis)),
                                         axis=axis))
    o = _m.divide(o, _r.reduce_sum(o, axis=axis, keepdims=True))
    return _m.negative(_r.reduce_sum(_m.multiply(t, _m.log(_clipped_probs(o))), axis=axis))


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy between integer class ``target`` and ``output`` along ``axis``.

    Args:
      target: integer class indices (a trailing axis of size 1 is accepted).
      output: probabilities, or logits when ``from_logits``.
      from_logits: whether ``output`` holds logits.
      axis: the class axis of ``output``.
    """
    o = float_tensor(output)
    t = as_tensor(target)
    if t._value.ndim == o._value.ndim and t._value.shape[-1] == 1:
        t = _a.squeeze(t, -1)
    t = _m.cast(t, dtypes.int32)
    o = moveaxis(o, axis, -1)
    if from_logits:
        logp = _nn.log_softmax(o, axis=-1)
    else:
        o = _m.divide(o, _r.reduce_sum(o, axis=-1, keepdims=True))
        logp = _m.log(_clipped_probs(o))
    picked = take_along_axis(logp, _a.expand_dims(t, -1), axis=-1)
    return _m.negative(_a.squeeze(picked, -1))


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """CTC loss per batch element.

    Args:
      target: int labels ``[batch, max_label_length]``.
      output: logits ``[batch, max_length, num_classes]``.
      target_length: ``[batch]`` label lengths.
      output_length: ``[batch]`` numbers of valid frames.
      mask_index: the blank class.
    """
    return _ctc.ctc_loss(_m.cast(as_tensor(target), dtypes.int32), float_tensor(output),
                         _m.cast(as_tensor(target_length), dtypes.int32),
                         _m.cast(as_tensor(output_length), dtypes.int32),
                         logits_time_major=False, blank_index=mask_index)


# ---------------------------------------------------------------- attention
def dot_product_attention(query, key, value, bias=None, mask=None, scale=None,
                          is_causal=False, flash_attention=None,
                          attn_logits_soft_cap=None):
    """Scaled dot-product attention on ``[batch, length, heads, head_dim]`` tensors
    (grouped-query attention when ``key``/``value`` have fewer heads).

    Args:
      query: ``[B, T, N, H]``.
      key: ``[B, S, K, H]`` with ``N % K == 0``.
      value: ``[B, S, K, H]``.
      bias: optional logits bias broadcastable to ``[B, N, T, S]``.
      mask: optional bool mask broadcastable to ``[B, N, T, S]`` (True = attend).
      scale: logits scale (default ``1 / sqrt(H)``).
      is_causal: apply a causal (lower-triangular) mask.
      flash_attention: must be None or False (no fused kernel).
      attn_logits_soft_cap: optional ``cap * tanh(logits / cap)``.
    """
    if flash_attention:
        raise ValueError("dot_product_attention: flash_attention=True is not supported")
    q, k, v = (float_tensor(a) for a in (query, key, value))
    if q._value.ndim != 4:
        raise ValueError(f"dot_product_attention: `query` must be [B, T, N, H], got "
                         f"shape {tuple(q._value.shape)}")
    heads, kv_heads = q._value.shape[2], k._value.shape[2]
    if heads % kv_heads:
        raise ValueError(f"dot_product_attention: query heads ({heads}) must be a "
                         f"multiple of key heads ({kv_heads})")
    if kv_heads != heads:
        k = _ai.repeat(k, heads // kv_heads, axis=2)
        v = _ai.repeat(v, heads // kv_heads, axis=2)
    work = dtypes.float32 if q._value.dtype.itemsize < 4 else q.dtype
    qw, kw = _m.cast(q, work), _m.cast(k, work)
    s = 1.0 / float(q._value.shape[-1]) ** 0.5 if scale is None else float(scale)
    from dlframe.ops.einsum import einsum
    logits = _m.multiply(einsum("btnh,bsnh->bnts", qw, kw), s)
    if bias is not None:
        logits = _m.add(logits, _m.cast(as_tensor(bias), work))
    if attn_logits_soft_cap is not None:
        cap = float(attn_logits_soft_cap)
        logits = _m.multiply(cap, _m.tanh(_m.divide(logits, cap)))
    keep = None if mask is None else _m.cast(as_tensor(mask), dtypes.bool)
    if is_causal:
        t_len, s_len = q._value.shape[1], k._value.shape[1]
        causal = _m.less_equal(_a.reshape(_c.range(s_len), [1, -1]),
                               _a.reshape(_c.range(t_len), [-1, 1]))
        keep = causal if keep is None else _m.logical_and(keep, causal)
    if keep is not None:
        keep = _a.broadcast_to(keep, tuple(logits._value.shape))
        logits = _m.where(keep, logits, _m.multiply(_m.ones_like(logits), -1e9))
    probs = _m.cast(_nn.softmax(logits, axis=-1), v.dtype)
    return einsum("bnts,bsnh->btnh", probs, v)


def _nchw_or_nhwc(data_format):
    first = (data_format or config.image_data_format()) == "channels_first"
    return "NCHW" if first else "NHWC"


def space_to_depth(x, block_size, data_format=None):
    """Moves spatial blocks into the channel axis.

    Args:
      x: 4-D image batch.
      block_size: the block edge.
      data_format: 'channels_last' (default) or 'channels_first'.
    """
    return _nx.space_to_depth(as_tensor(x), block_size, data_format=_nchw_or_nhwc(data_format))


def depth_to_space(x, block_size, data_format=None):
    """Moves channel blocks into spatial blocks.

    Args:
      x: 4-D image batch.
      block_size: the block edge.
      data_format: 'channels_last' (default) or 'channels_first'.
    """
    return _nx.depth_to_space(as_tensor(x), block_size, data_format=_nchw_or_nhwc(data_format))


__all__ = [
    "batch_normalization", "binary_crossentropy", "categorical_crossentropy", "celu",
    "ctc_loss", "depth_to_space", "dot_product_attention", "elu", "gelu", "glu",
    "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh",
    "layer_normalization", "leaky_relu", "log_sigmoid", "log_softmax", "moments",
    "multi_hot", "normalize", "one_hot", "psnr", "relu", "relu6", "rms_normalization",
    "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign",
    "space_to_depth", "sparse_categorical_crossentropy", "sparse_plus", "squareplus",
    "swish", "tanh_shrink", "threshold",
]
