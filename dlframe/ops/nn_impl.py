"""tf.nn helpers beyond activations and cross-entropies: moments and normalization,
bias_add, dropout, embedding lookup and the distributed loss-scaling helpers.

Names are exported under ``tf.nn`` by ``dlframe.ops.nn`` (its NN_NAMES).
"""

import numbers

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops import array as a
from dlframe.ops import array_index as _index
from dlframe.ops import math as m
from dlframe.ops import random as rnd
from dlframe.ops import reduction as r
from dlframe.ops._util import norm_axis, operands, t
from dlframe.ops.debugging import assert_non_negative
from dlframe.ops.stateless_dropout import select_kept


# ---------------------------------------------------------------- normalization
def moments(x, axes, shift=None, keepdims=False, name=None):
    """Mean and variance of ``x`` over ``axes`` (float16 computed in float32).

    Returns:
      ``(mean, variance)``.
    """
    x = t(x)
    axes = norm_axis(axes, x._value.ndim, "Moments")
    y = m.cast(x, dtypes.float32) if x._value.dtype.itemsize < 4 else x
    mean = r.reduce_mean(y, axis=axes, keepdims=True)
    variance = r.reduce_mean(m.squared_difference(y, a.stop_gradient(mean)), axis=axes,
                             keepdims=True)
    if not keepdims:
        mean = a.squeeze(mean, axes)
        variance = a.squeeze(variance, axes)
    if y is not x:
        mean, variance = m.cast(mean, x.dtype), m.cast(variance, x.dtype)
    return mean, variance


def sufficient_statistics(x, axes, shift=None, keepdims=False, name=None):
    """Count, (shifted) sum and sum of squares of ``x`` over ``axes``.

    Returns:
      ``(count, mean_ss, variance_ss, shift)`` as ``tf.nn.sufficient_statistics``.
    """
    x = t(x)
    axes = norm_axis(axes, x._value.ndim, "SufficientStatistics")
    count = 1
    for ax in axes:
        count *= x._value.shape[ax]
    count = convert_to_tensor(count, dtype=x.dtype, device=x._device)
    if shift is not None:
        shift = t(shift) if isinstance(shift, Tensor) else convert_to_tensor(
            shift, dtype=x.dtype, device=x._device)
        y = m.subtract(x, shift)
    else:
        y = x
    mean_ss = r.reduce_sum(y, axis=axes, keepdims=keepdims)
    var_ss = r.reduce_sum(m.square(y), axis=axes, keepdims=keepdims)
    return count, mean_ss, var_ss, shift


def normalize_moments(counts, mean_ss, variance_ss, shift, name=None):
    """Mean and variance from sufficient statistics."""
    divisor = m.reciprocal(t(counts))
    shifted_mean = m.multiply(mean_ss, divisor)
    mean = shifted_mean if shift is None else m.add(shifted_mean, shift)
    variance = m.subtract(m.multiply(variance_ss, divisor), m.square(shifted_mean))
    return mean, variance


def weighted_moments(x, axes, frequency_weights, keepdims=False, name=None):
    """Frequency-weighted mean and variance of ``x`` over ``axes``."""
    x = t(x)
    axes = norm_axis(axes, x._value.ndim, "WeightedMoments")
    w = m.cast(t(frequency_weights), x.dtype)
    total = r.reduce_sum(m.multiply(w, m.ones_like(x)), axis=axes, keepdims=True)
    mean = m.divide_no_nan(r.reduce_sum(m.multiply(w, x), axis=axes, keepdims=True), total)
    dev = m.squared_difference(x, a.stop_gradient(mean))
    variance = m.divide_no_nan(r.reduce_sum(m.multiply(w, dev), axis=axes, keepdims=True),
                               total)
    if not keepdims:
        mean, variance = a.squeeze(mean, axes), a.squeeze(variance, axes)
    return mean, variance


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """``scale * (x - mean) / sqrt(variance + variance_epsilon) + offset``."""
    x = t(x)
    inv = m.rsqrt(m.add(variance, variance_epsilon))
    if scale is not None:
        inv = m.multiply(inv, scale)
    shift = m.negative(m.multiply(mean, inv))
    if offset is not None:
        shift = m.add(offset, shift)
    return m.add(m.multiply(x, m.cast(inv, x.dtype)), m.cast(shift, x.dtype))


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """``x / sqrt(max(sum(|x| ** 2, axis), epsilon))`` (complex ``x`` too, as TF)."""
    x = t(x)
    axis = dim if axis is None else axis
    if x.dtype.is_complex:
        re, im = m.real(x), m.imag(x)
        square_sum = r.reduce_sum(m.add(m.square(re), m.square(im)), axis=axis,
                                  keepdims=True)
        inv_norm = m.rsqrt(m.maximum(square_sum, epsilon))
        return m.complex(m.multiply(re, inv_norm), m.multiply(im, inv_norm))
    square_sum = r.reduce_sum(m.square(x), axis=axis, keepdims=True)
    return m.multiply(x, m.rsqrt(m.maximum(square_sum, epsilon)))


def bias_add(value, bias, data_format=None, name=None):
    """Adds a 1-D ``bias`` along the channel dimension of ``value``.

    Args:
      data_format: 'N...C' formats (default, e.g. 'NHWC') use the last dimension,
        'NC...' formats (e.g. 'NCHW') dimension 1.
    """
    # (a NumPy or list value takes the bias tensor's dtype, as in TF)
    value, bias = operands(value, bias, "BiasAdd")
    vshape, bshape = list(value._value.shape), list(bias._value.shape)
    if len(bshape) != 1:
        raise InvalidArgumentError(f"Biases must be 1D: {bshape} [Op:BiasAdd]")
    if len(vshape) < 2:
        raise InvalidArgumentError(f"Input tensor must be at least 2D: {vshape} [Op:BiasAdd]")
    channels_first = data_format is not None and str(data_format).startswith("NC")
    if data_format is not None and not channels_first and not (
            str(data_format).startswith("N") and str(data_format).endswith("C")):
        raise ValueError(f"bias_add: data_format must be 'N...C' or 'NC...', got "
                         f"{data_format!r}")
    axis = 1 if channels_first else len(vshape) - 1
    if vshape[axis] != bshape[0]:
        where = "last" if not channels_first else "channel"
        raise InvalidArgumentError(
            f"Must provide as many biases as the {where} dimension of the input tensor: "
            f"{bshape} vs. {vshape} [Op:BiasAdd]")
    if channels_first:
        bias = a.reshape(bias, [bshape[0]] + [1] * (len(vshape) - 2))
    return m.add(value, bias)


# ---------------------------------------------------------------- dropout
@primitive("MulMask")
def _mul_mask_p(d, x, mask):
    # a select as TF: dropped entries are +0 even where x is inf or NaN
    with np.errstate(invalid="ignore", over="ignore"):
        return select_kept(d.xp, x * mask, mask != 0)


@_mul_mask_p.defgrad
def _mul_mask_grad(inputs, out, dy):
    return call(_mul_mask_p, (dy, inputs[1])), None


def dropout(x, rate, noise_shape=None, seed=None, name=None):
    """Zeroes elements with probability ``rate``, scaling kept ones by ``1/(1-rate)``.

    Args:
      x: a floating point tensor.
      rate: drop probability in ``[0, 1)``.
      noise_shape: shape of the keep/drop mask, broadcastable to ``x``'s shape
        (``None`` entries take ``x``'s size).
      seed: op seed (see ``dlframe.random.set_seed``).
    """
    x = t(x)
    if x._value.dtype.kind != "f" and not x.dtype.is_floating:  # bfloat16: kind "V"
        raise ValueError("`x.dtype` must be a floating point tensor as `x` will be scaled. "
                         f"Received: x_dtype={x.dtype!r}")
    if isinstance(rate, Tensor) or isinstance(rate, numbers.Real) and not isinstance(rate, bool):
        rate_value = float(rate)
    else:
        raise ValueError(  # noqa: TRY004 - TF raises ValueError here
            "`rate` must be a scalar tensor or a float in the range [0, 1). "
            f"Received: rate={rate!r}")
    if not 0 <= rate_value < 1:
        raise ValueError("`rate` must be a scalar tensor or a float in the range [0, 1). "
                         f"Received: rate={rate!r}")
    shape = tuple(x._value.shape)
    if noise_shape is None:
        mask_shape = shape
    else:
        mask_shape = _noise_shape(noise_shape, shape)
    if rate_value == 0:
        return x
    mask = rnd._dropout_mask(mask_shape, rate_value, x._value.dtype, seed, x._device)
    return call(_mul_mask_p, (x, mask))


def _noise_shape(noise_shape, shape):
    if hasattr(noise_shape, "as_list"):
        noise_shape = noise_shape.as_list()
    if isinstance(noise_shape, Tensor):
        noise_shape = noise_shape.numpy().tolist()
    noise = list(noise_shape)
    if len(noise) != len(shape):
        raise ValueError(f"`noise_shape` {noise} must have the rank of `x` {list(shape)}")
    out = []
    for n, s in zip(noise, shape):
        n = s if n is None else int(n)
        if n not in (1, s):
            raise ValueError(f"`noise_shape` {noise} is not broadcastable to the shape of "
                             f"`x` {list(shape)}")
        out.append(n)
    return tuple(out)


# ---------------------------------------------------------------- embeddings
def embedding_lookup(params, ids, max_norm=None, name=None):
    """Gathers rows of ``params`` (or of a list of 'div'-partitioned shards) at ``ids``.

    Args:
      params: a tensor ``[vocab, ...]`` or a list of shards concatenated along axis 0.
      ids: int32/int64 indices of any shape, in ``[0, vocab)`` (others raise
        InvalidArgumentError on the CPU and give zero rows on a GPU, as in TF).
      max_norm: clip each looked-up embedding to this L2 norm.

    Returns:
      A tensor of shape ``ids.shape + params.shape[1:]``; its gradient w.r.t.
      ``params`` is a ``tf.IndexedSlices`` of the looked-up rows.
    """
    if isinstance(params, (list, tuple)):
        if not params:
            raise ValueError("Need at least one param")
        params = a.concat(list(params), 0) if len(params) > 1 else t(params[0])
    params = t(params)
    ids = ids if isinstance(ids, Tensor) else convert_to_tensor(ids, device=params._device)
    if ids._device is not params._device:   # as ``gather``: the ids follow the table
        from dlframe.core.tensor import copy_to_device
        ids = copy_to_device(ids, params._device)
    if ids._value.dtype.kind not in "iu":
        raise TypeError(f"embedding_lookup: ids must be int32 or int64, got {ids.dtype.name}")
    if params._value.ndim == 0:
        raise ValueError("embedding_lookup: params must have rank >= 1")
    vocab = params._value.shape[0]
    # on a GPU, TF reads no index back: out-of-range ids give zero rows (GatherV2)
    host = None if params._device.is_gpu else ids._device.to_numpy(ids._value)
    if host is not None and host.size and (host.min() < 0 or host.max() >= vocab):
        bad = (host < 0) | (host >= vocab)
        index = ",".join(str(int(i)) for i in np.argwhere(bad)[0])
        raise InvalidArgumentError(f"indices[{index}] = {int(host[bad].ravel()[0])} is not in "
                                   f"[0, {vocab}) [Op:GatherV2]")
    # a row gather: its gradient is the IndexedSlices of the looked-up rows
    rows = call(_index.gather_p, (params, ids), {"axis": 0, "batch_dims": 0})
    if max_norm is not None:
        axes = list(range(ids._value.ndim, rows._value.ndim))
        if axes:
            norm = m.sqrt(r.reduce_sum(m.square(rows), axis=axes, keepdims=True))
            rows = m.divide(m.multiply(rows, max_norm), m.maximum(norm, max_norm))
    return rows


# ---------------------------------------------------------------- loss helpers
def _num_replicas_in_sync():
    """Replica count for loss scaling; the distribute package installs its own hook."""
    return 1


def _in_replica_context(caller):
    """Raises when ``caller`` runs in a cross-replica context (distribute's hook)."""


REPLICA_HOOK = {"num_replicas_in_sync": _num_replicas_in_sync,
                "in_replica_context": _in_replica_context}


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """Sum of (weighted) per-example losses divided by the global batch size.

    Args:
      per_example_loss: rank >= 1 losses, first dimension the per-replica batch.
      sample_weight: optional weights broadcastable to the losses.
      global_batch_size: a non-negative integer (or integer tensor); defaults to
        the per-replica batch times the replica count. A size of 0 gives 0.

    Raises:
      TypeError: ``global_batch_size`` is not an integer.
      InvalidArgumentError: ``global_batch_size`` is negative.
    """
    loss = t(per_example_loss)
    if loss._value.ndim == 0:
        raise ValueError(
            "Invalid value passed for `per_example_loss`. Expected a tensor with at least "
            f"rank 1. Received per_example_loss={loss.numpy()!r} with rank 0")
    if sample_weight is not None:
        weight = t(sample_weight)
        if weight._value.dtype != loss._value.dtype:
            weight = m.cast(weight, loss.dtype)
        loss = m.multiply(loss, weight)
    if global_batch_size is None:
        REPLICA_HOOK["in_replica_context"]("compute_average_loss")
        global_batch_size = loss._value.shape[0] * REPLICA_HOOK["num_replicas_in_sync"]()
    total = r.reduce_sum(loss)
    size = _global_batch_size(global_batch_size, total._device)
    # TF divides with div_no_nan: an empty global batch averages to 0, not NaN
    return m.divide_no_nan(total, m.cast(size, total.dtype))


def _global_batch_size(size, device):
    """``size`` as an integer tensor, checked non-negative (at run time when traced)."""
    if isinstance(size, (bool, np.bool_)) or (
            not isinstance(size, Tensor) and not isinstance(size, numbers.Integral)):
        raise TypeError("global_batch_size must be an integer. Received: "
                        f"global_batch_size={size!r}")
    if not isinstance(size, Tensor):
        if size < 0:    # a Python value: checked now, no run-time node in a trace
            raise InvalidArgumentError("global_batch_size must be non-negative. "
                                       f"Received: global_batch_size={size}")
        return convert_to_tensor(size, device=device)
    if not size.dtype.is_integer:
        raise TypeError("global_batch_size must be an integer. Received a tensor of "
                        f"dtype {size.dtype}: global_batch_size={size!r}")
    assert_non_negative(size, message="global_batch_size must be non-negative.")
    return size


def scale_regularization_loss(regularization_loss):
    """Sums ``regularization_loss`` and divides it by the number of replicas."""
    REPLICA_HOOK["in_replica_context"]("scale_regularization_loss")
    loss = r.reduce_sum(t(regularization_loss))
    return m.divide(loss, m.cast(REPLICA_HOOK["num_replicas_in_sync"](), loss.dtype))


def zero_fraction(value, name=None):
    """Fraction of zeros in ``value`` as a float32 scalar."""
    x = t(value)
    return r.reduce_mean(m.cast(m.equal(x, m.zeros_like(x)), dtypes.float32))
