"""``tf.raw_ops`` neural-network ops: activations, convolution, pooling, batch norm,
losses and image resizing."""

import math

import dlframe as tf
from dlframe.compat.v1_nn_native import fused_batch_norm_parts
from dlframe.errors import InvalidArgumentError
from dlframe.ops.framework_ops import _trace_time_value
from dlframe.raw_ops._builder import Table, outputs

OPS = Table()
nn = tf.nn

OPS.unary("features", Relu=nn.relu, Relu6=nn.relu6, Elu=nn.elu, Selu=nn.selu,
          Softplus=nn.softplus, Softsign=nn.softsign)
OPS.unary("logits", Softmax=nn.softmax, LogSoftmax=nn.log_softmax)
OPS.unary("t", L2Loss=nn.l2_loss)
OPS.op("LeakyRelu", "features",
       lambda features, alpha: nn.leaky_relu(features, alpha=alpha), alpha=0.2)
OPS.op("BiasAdd", "value bias",
       lambda value, bias, data_format: nn.bias_add(value, bias,
                                                    data_format=data_format),
       data_format="NHWC")
OPS.op("BiasAddV1", "value bias", lambda value, bias: nn.bias_add(value, bias))


def _padding(padding, explicit_paddings):
    """TF's ``padding`` + ``explicit_paddings`` attrs as tf.nn's padding argument."""
    if padding != "EXPLICIT":
        return padding
    flat = list(explicit_paddings)
    return [flat[i:i + 2] for i in range(0, len(flat), 2)]


def _conv2d(input, filter, strides, padding, use_cudnn_on_gpu, explicit_paddings,
            data_format, dilations):
    return nn.conv2d(input, filter, strides, _padding(padding, explicit_paddings),
                     data_format=data_format, dilations=list(dilations))


_CONV2D_ATTRS = {"use_cudnn_on_gpu": True, "explicit_paddings": (),
                 "data_format": "NHWC", "dilations": (1, 1, 1, 1)}
OPS.op("Conv2D", "input filter strides padding", _conv2d, **_CONV2D_ATTRS)
OPS.op("Conv3D", "input filter strides padding",
       lambda input, filter, strides, padding, data_format, dilations: nn.conv3d(
           input, filter, strides, padding, data_format=data_format,
           dilations=list(dilations)),
       data_format="NDHWC", dilations=(1, 1, 1, 1, 1))


def _conv2d_backprop_input(input_sizes, filter, out_backprop, strides, padding,
                           use_cudnn_on_gpu, explicit_paddings, data_format, dilations):
    return nn.conv2d_transpose(out_backprop, filter, input_sizes, strides,
                               padding=_padding(padding, explicit_paddings),
                               data_format=data_format, dilations=list(dilations))


OPS.op("Conv2DBackpropInput", "input_sizes filter out_backprop strides padding",
       _conv2d_backprop_input, **_CONV2D_ATTRS)
OPS.op("DepthwiseConv2dNative", "input filter strides padding",
       lambda input, filter, strides, padding, explicit_paddings, data_format,
       dilations: nn.depthwise_conv2d(
           input, filter, strides, _padding(padding, explicit_paddings),
           data_format=data_format, dilations=list(dilations)[1:3]
           if data_format == "NHWC" else list(dilations)[2:]),
       explicit_paddings=(), data_format="NHWC", dilations=(1, 1, 1, 1))
OPS.op("MaxPool", "input ksize strides padding",
       lambda input, ksize, strides, padding, explicit_paddings, data_format:
       nn.max_pool(input, ksize, strides, _padding(padding, explicit_paddings),
                   data_format=data_format),
       explicit_paddings=(), data_format="NHWC")
OPS.op("MaxPoolV2", "input ksize strides padding",
       lambda input, ksize, strides, padding, data_format: nn.max_pool(
           input, ksize, strides, padding, data_format=data_format),
       data_format="NHWC")
OPS.op("AvgPool", "value ksize strides padding",
       lambda value, ksize, strides, padding, data_format: nn.avg_pool(
           value, ksize, strides, padding, data_format=data_format),
       data_format="NHWC")
for _name, _fn in (("MaxPool3D", nn.max_pool3d), ("AvgPool3D", nn.avg_pool3d)):
    OPS.op(_name, "input ksize strides padding",
           lambda input, ksize, strides, padding, data_format, _fn=_fn: _fn(
               input, ksize, strides, padding, data_format=data_format),
           data_format="NDHWC")
OPS.op("LRN", "input",
       lambda input, depth_radius, bias, alpha, beta: nn.local_response_normalization(
           input, depth_radius=depth_radius, bias=bias, alpha=alpha, beta=beta),
       depth_radius=5, bias=1, alpha=1, beta=0.5)
OPS.op("Dilation2D", "input filter strides rates padding",
       lambda input, filter, strides, rates, padding: nn.dilation2d(
           input, filter, strides, padding, data_format="NHWC", dilations=rates))

_XENT = outputs("SoftmaxCrossEntropyWithLogits", "loss backprop")
_SPARSE_XENT = outputs("SparseSoftmaxCrossEntropyWithLogits", "loss backprop")


def _xent(features, labels):
    """Per-example loss and its gradient w.r.t. the logits (softmax - labels)."""
    features = tf.convert_to_tensor(features)
    labels = tf.convert_to_tensor(labels, features.dtype)
    loss = nn.softmax_cross_entropy_with_logits(labels=labels, logits=features)
    return _XENT(loss, nn.softmax(features) - labels)


def _sparse_xent(features, labels):
    features = tf.convert_to_tensor(features)
    loss = nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=features)
    onehot = tf.one_hot(labels, tf.shape(features)[-1], dtype=features.dtype)
    return _SPARSE_XENT(loss, nn.softmax(features) - onehot)


OPS.op("SoftmaxCrossEntropyWithLogits", "features labels", _xent)
OPS.op("SparseSoftmaxCrossEntropyWithLogits", "features labels", _sparse_xent)


def _fused_batch_norm(op_name, fields):
    result = outputs(op_name, fields)

    def impl(x, scale, offset, mean, variance, epsilon, exponential_avg_factor,
             data_format, is_training):
        parts = fused_batch_norm_parts(x, scale, offset, mean, variance, epsilon,
                                       data_format, is_training, exponential_avg_factor)
        extra = (tf.zeros([0], parts[0].dtype),) if len(result._fields) == 6 else ()
        return result(*parts, *extra)
    return impl


_BN_ATTRS = {"epsilon": 0.0001, "exponential_avg_factor": 1, "data_format": "NHWC",
             "is_training": True}
_BN_FIELDS = "y batch_mean batch_variance reserve_space_1 reserve_space_2"
for _name, _fields in (("FusedBatchNorm", _BN_FIELDS), ("FusedBatchNormV2", _BN_FIELDS),
                       ("FusedBatchNormV3", _BN_FIELDS + " reserve_space_3")):
    OPS.op(_name, "x scale offset mean variance", _fused_batch_norm(_name, _fields),
           **_BN_ATTRS)


# Image resizing with TF's three sampling conventions. TF2's tf.image.resize is
# half_pixel_centers=True; the raw ops default to the legacy TF1 grid
# (source = out_index * in/out), and align_corners maps corner to corner.
def _source_positions(n_in, n_out, align_corners, half_pixel):
    if align_corners and n_out > 1:
        scale = (n_in - 1) / (n_out - 1)
    else:
        scale = n_in / n_out
    if half_pixel:
        return [(i + 0.5) * scale for i in range(n_out)], scale
    return [i * scale for i in range(n_out)], scale


def _nearest_indices(n_in, n_out, align_corners, half_pixel):
    pos, _ = _source_positions(n_in, n_out, align_corners, half_pixel)
    pick = (lambda p: math.floor(p + 0.5)) if align_corners else math.floor
    return [min(pick(p), n_in - 1) for p in pos]


def _linear_taps(n_in, n_out, align_corners, half_pixel):
    pos, _ = _source_positions(n_in, n_out, align_corners, half_pixel)
    if half_pixel:
        pos = [p - 0.5 for p in pos]
    low = [max(math.floor(p), 0) for p in pos]
    high = [min(math.ceil(p), n_in - 1) for p in pos]
    frac = [p - math.floor(p) for p in pos]
    return low, high, frac


def _cubic(x, a=-0.75):
    """TF1's cubic convolution weight at distance ``x`` (``a = -0.75``)."""
    x = abs(x)
    if x <= 1:
        return ((a + 2) * x - (a + 3)) * x * x + 1
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a


def _cubic_taps(n_in, n_out, align_corners):
    """Indices and weights of the 4 taps of TF1's legacy-grid bicubic resize: the
    fraction is quantized to 1/1024 (TF's weight table) and taps past an edge repeat
    the edge pixel."""
    pos, _ = _source_positions(n_in, n_out, align_corners, False)
    indices, weights = [], []
    for p in pos:
        low = math.floor(p)
        frac = round((p - low) * 1024) / 1024   # half to even, as lrintf
        indices.append([min(max(low + k, 0), n_in - 1) for k in (-1, 0, 1, 2)])
        weights.append([_cubic(frac + 1 - k) for k in range(4)])
    return indices, weights


def _resize(images, size, align_corners, half_pixel_centers, method):
    if align_corners and half_pixel_centers:
        raise InvalidArgumentError(
            None, None, "If half_pixel_centers is True, align_corners must be False.")
    images = tf.convert_to_tensor(images)
    size = [int(s) for s in _trace_time_value(tf.convert_to_tensor(size)).tolist()]
    if len(size) != 2 or min(size) <= 0:
        raise InvalidArgumentError(
            None, None, f"size must be 2 positive output sizes, got {size}")
    if images.shape.rank != 4:
        raise InvalidArgumentError(
            None, None, f"images must be 4-dimensional, got shape {images.shape}")
    out = images if method == "nearest" else tf.cast(images, tf.float32)
    for axis, n_out in ((1, size[0]), (2, size[1])):
        n_in = images.shape[axis]
        if method == "nearest":
            out = tf.gather(out, _nearest_indices(n_in, n_out, align_corners,
                                                  half_pixel_centers), axis=axis)
            continue
        if method == "bicubic":   # the legacy grids (TF2's grid is tf.image.resize's)
            indices, weights = _cubic_taps(n_in, n_out, align_corners)
            taps = tf.gather(out, indices, axis=axis)   # [..., n_out, 4, ...]
            weights = tf.reshape(tf.constant(weights, tf.float32),
                                 [n_out, 4] + [1] * (3 - axis))
            out = tf.reduce_sum(taps * weights, axis=axis + 1)
            continue
        low, high, frac = _linear_taps(n_in, n_out, align_corners, half_pixel_centers)
        frac = tf.reshape(tf.constant(frac, tf.float32), [-1] + [1] * (3 - axis))
        lo, hi = tf.gather(out, low, axis=axis), tf.gather(out, high, axis=axis)
        out = lo + (hi - lo) * frac
    return out


def _resize_op(method):
    def impl(images, size, align_corners, half_pixel_centers):
        if method == "bicubic" and half_pixel_centers and not align_corners:
            return tf.image.resize(images, size, method="bicubic")
        return _resize(images, size, align_corners, half_pixel_centers, method)
    return impl


for _name, _method in (("ResizeBilinear", "bilinear"),
                       ("ResizeNearestNeighbor", "nearest"),
                       ("ResizeBicubic", "bicubic")):
    OPS.op(_name, "images size", _resize_op(_method), align_corners=False,
           half_pixel_centers=False)
OPS.op("SpaceToDepth", "input block_size",
       lambda input, block_size, data_format: nn.space_to_depth(
           input, block_size, data_format=data_format), data_format="NHWC")
OPS.op("DepthToSpace", "input block_size",
       lambda input, block_size, data_format: nn.depth_to_space(
           input, block_size, data_format=data_format), data_format="NHWC")
