"""TF1's native-op names in ``tf.compat.v1.nn``: convolution backprops, depthwise
``*_native`` ops, ``fused_batch_norm``, the ``*_v2`` CTC names, TF1's CTC
signatures and the candidate samplers; also TF2's top-level
``tf.conv2d_backprop_filter_v2`` / ``tf.conv2d_backprop_input_v2``.

All of them run dlframe's existing kernels (the Conv2D/Conv3D backprop primitives,
``tf.nn.conv2d_transpose``, ``tf.nn.depthwise_conv2d*``, ``tf.nn.ctc_loss``); they
differ from TF2's public functions only in their argument conventions.
"""

import dlframe as _tf
from dlframe.core.primitive import call as _call
from dlframe.errors import InvalidArgumentError
from dlframe.ops import conv as _conv
from dlframe.ops._util import operands as _operands
from dlframe.ops._util import static_shape as _static_shape

_FILTER_GRAD = {2: _conv.conv2d_backprop_filter_p, 3: _conv.conv3d_backprop_filter_p}


def _explicit(padding, explicit_paddings, op):
    """Raw-op padding: 'EXPLICIT' takes pairs from ``explicit_paddings``."""
    if padding == "EXPLICIT":
        flat = [int(p) for p in explicit_paddings]
        return [flat[k:k + 2] for k in range(0, len(flat), 2)]
    if explicit_paddings:
        raise InvalidArgumentError(f"{op}: explicit_paddings must be empty unless "
                                   f"padding is 'EXPLICIT', got explicit_paddings="
                                   f"{list(explicit_paddings)} [Op:{op}]")
    return padding


def _backprop_filter(op, r, input, filter_sizes, out_backprop, strides, padding,
                     data_format, dilations):
    """The gradient of an r-d convolution w.r.t. its filter of shape
    ``filter_sizes``."""
    fshape = _static_shape(filter_sizes, op, "filter_sizes")
    if len(fshape) != r + 2:
        raise ValueError(f"{op}: filter_sizes must have {r + 2} entries, got "
                         f"filter_sizes={list(fshape)}")
    last = _conv.channels_last(data_format, r, op)
    x, dy = _operands(input, out_backprop, op)
    for arg, value in (("input", x), ("out_backprop", dy)):
        if len(value.shape) != r + 2:
            raise ValueError(f"{op}: {arg} must be {r + 2}-dimensional, got shape "
                             f"{list(value.shape)}")
    if not last:
        x, dy = _conv.to_last(x, r), _conv.to_last(dy, r)
    strides = _conv.spatial_attr(strides, r, last, op, "strides")
    dilations = _conv.spatial_attr(dilations, r, last, op, "dilations")
    pads, out_sp = _conv.resolve_pads(padding, tuple(x.shape[1:-1]), fshape[:r],
                                      strides, dilations, r, last, op)
    if tuple(out_sp) != tuple(dy.shape[1:-1]) or dy.shape[-1] != fshape[-1]:
        raise InvalidArgumentError(
            f"{op}: out_backprop shape {list(dy.shape)} does not match the "
            f"convolution of input shape {list(x.shape)} with filter_sizes "
            f"{list(fshape)} (expected spatial {list(out_sp)}) [Op:{op}]")
    return _call(_FILTER_GRAD[r], (x, dy),
                 {"filter_shape": tuple(fshape), "strides": strides, "pads": pads,
                  "dilations": dilations})


def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding,
                           use_cudnn_on_gpu=True, data_format="NHWC",
                           dilations=(1, 1, 1, 1), name=None):
    """Gradient of ``conv2d`` w.r.t. its filter.

    Args:
      input: the convolution's 4-D input.
      filter_sizes: the filter's shape ``[h, w, in_channels, out_channels]``.
      out_backprop: the gradient w.r.t. the convolution's output.
      strides, padding, data_format, dilations: as given to ``conv2d``.
      use_cudnn_on_gpu, name: accepted.

    Returns:
      The filter gradient, shaped ``filter_sizes``.
    """
    return _backprop_filter("Conv2DBackpropFilter", 2, input, filter_sizes,
                            out_backprop, strides, padding, data_format, dilations)


def conv2d_backprop_input(input_sizes, filter=None, out_backprop=None, strides=None,
                          padding=None, use_cudnn_on_gpu=True, data_format="NHWC",
                          dilations=(1, 1, 1, 1), name=None, filters=None):
    """Gradient of ``conv2d`` w.r.t. its input of shape ``input_sizes``
    (``tf.nn.conv2d_transpose``); ``filters`` is TF2's name of ``filter``."""
    if (filter is None) == (filters is None):
        raise ValueError(f"conv2d_backprop_input: specify exactly one of `filter` "
                         f"and `filters`, got filter={filter!r}, filters={filters!r}")
    return _tf.nn.conv2d_transpose(out_backprop, filter if filters is None else filters,
                                   input_sizes, strides, padding,
                                   data_format=data_format, dilations=dilations)


def conv3d_backprop_filter(input, filter_sizes, out_backprop, strides, padding,
                           data_format="NDHWC", dilations=(1, 1, 1, 1, 1), name=None):
    """Gradient of ``conv3d`` w.r.t. its filter of shape ``filter_sizes``."""
    return _backprop_filter("Conv3DBackpropFilterV2", 3, input, filter_sizes,
                            out_backprop, strides, padding, data_format, dilations)


conv3d_backprop_filter_v2 = conv3d_backprop_filter


def conv2d_backprop_filter_v2(input, filter, out_backprop, strides, padding,
                              use_cudnn_on_gpu=True, explicit_paddings=(),
                              data_format="NHWC", dilations=(1, 1, 1, 1), name=None):
    """``conv2d_backprop_filter`` taking the filter's shape from ``filter``;
    ``padding`` may be 'EXPLICIT' with ``explicit_paddings`` (8 ints)."""
    op = "Conv2DBackpropFilterV2"
    return _backprop_filter(op, 2, input, list(_tf.convert_to_tensor(filter).shape),
                            out_backprop, strides,
                            _explicit(padding, explicit_paddings, op), data_format,
                            dilations)


def conv2d_backprop_input_v2(input, filter, out_backprop, strides, padding,
                             use_cudnn_on_gpu=True, explicit_paddings=(),
                             data_format="NHWC", dilations=(1, 1, 1, 1), name=None):
    """``conv2d_backprop_input`` taking the input's shape from ``input``."""
    op = "Conv2DBackpropInputV2"
    return _tf.nn.conv2d_transpose(out_backprop, filter,
                                   list(_tf.convert_to_tensor(input).shape), strides,
                                   _explicit(padding, explicit_paddings, op),
                                   data_format=data_format, dilations=dilations)


def depthwise_conv2d_native(input, filter, strides, padding, data_format="NHWC",
                            dilations=(1, 1, 1, 1), name=None):
    """``DepthwiseConv2dNative``: ``tf.nn.depthwise_conv2d`` with 4-entry strides."""
    return _tf.nn.depthwise_conv2d(input, filter, strides, padding,
                                   data_format=data_format, dilations=dilations)


def depthwise_conv2d_native_backprop_filter(input, filter_sizes, out_backprop,
                                            strides, padding, data_format="NHWC",
                                            dilations=(1, 1, 1, 1), name=None):
    """Gradient of ``depthwise_conv2d_native`` w.r.t. its filter."""
    return _tf.nn.depthwise_conv2d_backprop_filter(
        input, filter_sizes, out_backprop, strides, padding, data_format=data_format,
        dilations=dilations)


def depthwise_conv2d_native_backprop_input(input_sizes, filter, out_backprop,
                                           strides, padding, data_format="NHWC",
                                           dilations=(1, 1, 1, 1), name=None):
    """Gradient of ``depthwise_conv2d_native`` w.r.t. its input."""
    return _tf.nn.depthwise_conv2d_backprop_input(
        input_sizes, filter, out_backprop, strides, padding, data_format=data_format,
        dilations=dilations)


def _channel_axis(data_format, rank):
    if data_format in ("NHWC", "NDHWC"):
        expected = 4 if data_format == "NHWC" else 5
        axis = rank - 1
    elif data_format in ("NCHW", "NCDHW"):
        expected = 4 if data_format == "NCHW" else 5
        axis = 1
    else:
        raise ValueError(f"fused_batch_norm: data_format must be one of NHWC, NCHW, "
                         f"NDHWC, NCDHW, got data_format={data_format!r}")
    if rank != expected:
        raise ValueError(f"fused_batch_norm: x must be {expected}-dimensional for "
                         f"data_format={data_format!r}, got rank {rank}")
    return axis


def fused_batch_norm(x, scale, offset, mean=None, variance=None, epsilon=0.001,
                     data_format="NHWC", is_training=True, name=None,
                     exponential_avg_factor=1.0):
    """Batch normalization of a 4-D (or 5-D) ``x`` over all axes but channels.

    Args:
      x: the input, float16, bfloat16 or float32 (or float64).
      scale, offset: ``[channels]`` gamma and beta.
      mean, variance: ``[channels]`` population statistics: used when not
        training; when training with ``exponential_avg_factor`` f != 1 the
        returned statistics are ``(1 - f) * mean + f * batch_mean`` (same for the
        variance).
      epsilon: added to the variance.
      data_format: 'NHWC' (default), 'NCHW', 'NDHWC' or 'NCDHW'.
      is_training: normalize with the batch's statistics.
      name: accepted.
      exponential_avg_factor: the running-average factor described above.

    Returns:
      ``(y, batch_mean, batch_variance)`` with y in ``x``'s dtype and the
      statistics in ``scale``'s. While training the returned variance is the
      unbiased (n - 1) one; the normalization uses the biased one.

    Raises:
      ValueError: without ``mean``/``variance`` when they are needed, or for a bad
        ``data_format`` or rank.
    """
    if (not is_training or exponential_avg_factor != 1.0) and (
            mean is None or variance is None):
        raise ValueError(f"Both `mean` and `variance` must be a 1D tensor when "
                         f"`is_training` is False or `exponential_avg_factor` != 1.0. "
                         f"Received: `mean` {mean!r} and `variance` {variance!r}")
    return fused_batch_norm_parts(x, scale, offset, mean, variance, epsilon,
                                  data_format, is_training, exponential_avg_factor)[:3]


def fused_batch_norm_parts(x, scale, offset, mean, variance, epsilon, data_format,
                           is_training, exponential_avg_factor):
    """``(y, running mean, running variance, used mean, used variance)`` of
    ``fused_batch_norm`` (the raw ``FusedBatchNorm*`` ops also return the statistics
    the normalization used: the batch's, biased, while training)."""
    x = _tf.convert_to_tensor(x)
    axis = _channel_axis(data_format, len(x.shape))
    scale, offset = _tf.convert_to_tensor(scale), _tf.convert_to_tensor(offset)
    stat_dtype = scale.dtype
    axes = [a for a in range(len(x.shape)) if a != axis]
    shape = [1] * len(x.shape)
    shape[axis] = -1
    xs = _tf.cast(x, stat_dtype)
    if is_training:
        batch_mean, batch_var = _tf.nn.moments(xs, axes)
        count = 1
        for a in axes:
            count *= x.shape[a]
        unbiased = batch_var * (count / max(count - 1, 1))
        if exponential_avg_factor != 1.0:
            f = exponential_avg_factor
            out_mean = (1 - f) * _tf.cast(mean, stat_dtype) + f * batch_mean
            out_var = (1 - f) * _tf.cast(variance, stat_dtype) + f * unbiased
        else:
            out_mean, out_var = batch_mean, unbiased
        use_mean, use_var = batch_mean, batch_var
    else:
        out_mean = use_mean = _tf.cast(mean, stat_dtype)
        out_var = use_var = _tf.cast(variance, stat_dtype)
    y = _tf.nn.batch_normalization(
        xs, _tf.reshape(use_mean, shape), _tf.reshape(use_var, shape),
        _tf.reshape(offset, shape), _tf.reshape(scale, shape), epsilon)
    return _tf.cast(y, x.dtype), out_mean, out_var, use_mean, use_var


def ctc_loss_v2(labels, logits, label_length, logit_length, logits_time_major=True,
                unique=None, blank_index=None, name=None):
    """TF2's ``tf.nn.ctc_loss`` (see there)."""
    return _tf.nn.ctc_loss(labels, logits, label_length, logit_length,
                           logits_time_major=logits_time_major, unique=unique,
                           blank_index=blank_index)


def ctc_beam_search_decoder_v2(inputs, sequence_length, beam_width=100, top_paths=1):
    """TF2's ``tf.nn.ctc_beam_search_decoder`` (see there)."""
    return _tf.nn.ctc_beam_search_decoder(inputs, sequence_length,
                                          beam_width=beam_width, top_paths=top_paths)


def ctc_loss(labels, inputs=None, sequence_length=None,
             preprocess_collapse_repeated=False, ctc_merge_repeated=True,
             ignore_longer_outputs_than_inputs=False, time_major=True, logits=None):
    """TF1's CTC loss: SparseTensor labels, the blank is the last class.

    Args:
      labels: an int ``SparseTensor`` of label rows.
      inputs: logits ``[max_time, batch, num_classes]`` (batch-major when
        ``time_major`` is False); ``logits`` is its other name.
      sequence_length: ``[batch]`` valid frames per sequence.
      preprocess_collapse_repeated: collapse repeated labels before the loss.
      ctc_merge_repeated: only True (standard CTC) is supported.
      ignore_longer_outputs_than_inputs: give a 0 loss (and gradient) to samples
        whose labels cannot fit in their frames instead of ``inf``.
      time_major: the layout of ``inputs``.

    Returns:
      ``[batch]`` negative log-likelihoods.

    Raises:
      TypeError: if ``labels`` is not a SparseTensor.
      NotImplementedError: for ``ctc_merge_repeated=False``.
    """
    if (inputs is None) == (logits is None):
        raise ValueError("ctc_loss: specify exactly one of `inputs` and `logits`.")
    if not isinstance(labels, _tf.SparseTensor):
        raise TypeError(f"Expected labels (first argument) to be a SparseTensor, got "
                        f"{type(labels).__name__}")
    if not ctc_merge_repeated:
        raise NotImplementedError("ctc_loss(ctc_merge_repeated=False) is not "
                                  "supported by dlframe (standard CTC only).")
    dense = _tf.sparse.to_dense(labels)
    lengths = _tf.math.bincount(_tf.cast(labels.indices[:, 0], _tf.int32),
                                minlength=int(labels.dense_shape[0]))
    if preprocess_collapse_repeated:
        dense, lengths = _tf.nn.collapse_repeated(dense, lengths)
    loss = _tf.nn.ctc_loss(dense, inputs if logits is None else logits, lengths,
                           sequence_length, logits_time_major=time_major,
                           blank_index=-1)
    if ignore_longer_outputs_than_inputs:
        # frames needed: one per label plus a blank between equal neighbours
        valid = _tf.sequence_mask(lengths - 1, _tf.shape(dense)[1] - 1)
        repeats = _tf.reduce_sum(_tf.cast(
            _tf.logical_and(_tf.equal(dense[:, 1:], dense[:, :-1]), valid),
            lengths.dtype), axis=1)
        too_long = _tf.greater(_tf.cast(lengths + repeats, _tf.int64),
                               _tf.cast(sequence_length, _tf.int64))
        loss = _tf.where(_tf.logical_or(too_long, _tf.math.is_inf(loss)),
                         _tf.zeros_like(loss), loss)
    return loss


def _merge_repeats(sparse):
    """Each row of an int64 SparseTensor with consecutive repeats merged."""
    values, indices = sparse.values.numpy().tolist(), sparse.indices.numpy().tolist()
    rows = {}
    for (b, _), v in zip(indices, values):
        row = rows.setdefault(b, [])
        if not row or row[-1] != v:
            row.append(v)
    new_idx = [[b, i] for b in sorted(rows) for i in range(len(rows[b]))]
    new_val = [v for b in sorted(rows) for v in rows[b]]
    width = max((len(r) for r in rows.values()), default=0)
    return _tf.SparseTensor(
        _tf.constant(new_idx, dtype=_tf.int64, shape=[len(new_idx), 2]),
        _tf.constant(new_val, dtype=_tf.int64, shape=[len(new_val)]),
        _tf.constant([int(sparse.dense_shape[0]), width], dtype=_tf.int64))


def ctc_beam_search_decoder(inputs, sequence_length, beam_width=100, top_paths=1,
                            merge_repeated=True):
    """TF1's beam search decoder: TF2's, with consecutive repeated labels of each
    decoded path merged when ``merge_repeated`` (TF1's default)."""
    decoded, log_probs = ctc_beam_search_decoder_v2(inputs, sequence_length,
                                                    beam_width, top_paths)
    if merge_repeated:
        decoded = [_merge_repeats(d) for d in decoded]
    return decoded, log_probs


def log_uniform_candidate_sampler(true_classes, num_true, num_sampled, unique,
                                  range_max, seed=None, name=None):
    """``tf.random.log_uniform_candidate_sampler``."""
    return _tf.random.log_uniform_candidate_sampler(true_classes, num_true,
                                                    num_sampled, unique, range_max,
                                                    seed=seed)


def uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                              seed=None, name=None):
    """``tf.random.uniform_candidate_sampler``."""
    return _tf.random.uniform_candidate_sampler(true_classes, num_true, num_sampled,
                                                unique, range_max, seed=seed)


def general_dropout(x, rate, uniform_sampler, noise_shape=None, name=None):
    """Dropout whose uniform noise comes from ``uniform_sampler(shape, dtype)``:
    units whose noise is ``>= rate`` are kept and scaled by ``1 / (1 - rate)``.

    Args:
      x: a floating-point tensor.
      rate: the drop probability, in [0, 1).
      uniform_sampler: ``f(shape=..., dtype=...)`` returning noise in [0, 1).
      noise_shape: the noise's shape, broadcast against ``x`` (default ``x``'s).
      name: accepted.

    Raises:
      ValueError: for a ``rate`` outside [0, 1) or a non-float ``x``.
    """
    x = _tf.convert_to_tensor(x)
    if not x.dtype.is_floating:
        raise ValueError(f"x has to be a floating point tensor since it's going to "
                         f"be scaled. Got a {x.dtype.name} tensor instead.")
    if isinstance(rate, (int, float)) and not 0 <= rate < 1:
        raise ValueError(f"`rate` must be a scalar tensor or a float in the range "
                         f"[0, 1). Received: rate={rate}")
    if isinstance(rate, (int, float)) and rate == 0:
        return x
    shape = _tf.shape(x) if noise_shape is None else noise_shape
    noise = uniform_sampler(shape=shape, dtype=x.dtype)
    scaled = x * (1.0 / (1.0 - _tf.cast(rate, x.dtype)))
    # a select as TF: dropped entries are 0 even where x is inf or NaN
    return _tf.where(_tf.greater_equal(noise, rate), scaled, _tf.zeros_like(scaled))


def stateless_dropout(x, rate, seed, rng_alg=None, noise_shape=None, name=None):
    """Dropout with ``tf.random.stateless_uniform`` noise: the same ``seed`` gives
    the same mask (see ``general_dropout`` for the other arguments)."""
    def sampler(shape, dtype):
        return _tf.random.stateless_uniform(shape, seed=seed, dtype=dtype,
                                            alg=rng_alg or "auto_select")
    return general_dropout(x, rate, sampler, noise_shape=noise_shape)


__all__ = [
    "conv2d_backprop_filter",
    "conv2d_backprop_input",
    "conv3d_backprop_filter",
    "conv3d_backprop_filter_v2",
    "ctc_beam_search_decoder",
    "ctc_beam_search_decoder_v2",
    "ctc_loss",
    "ctc_loss_v2",
    "depthwise_conv2d_native",
    "depthwise_conv2d_native_backprop_filter",
    "depthwise_conv2d_native_backprop_input",
    "fused_batch_norm",
    "log_uniform_candidate_sampler",
    "uniform_candidate_sampler",
]
