"""DepthwiseConv1D and SeparableConv1D: the 2-D layers run on a height-1 image."""

from dlframe.keras.layers.convolutional import DepthwiseConv2D, SeparableConv2D
from dlframe.ops import array as _array


class _Via2D:
    """Shared 1-D plumbing: causal padding, a height axis added and removed."""

    _conv_rank = 1

    def _image(self, inputs):
        padding = self.padding.upper()
        first = self.data_format == "channels_first"
        if self.padding == "causal":
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            pads = [[0, 0], [0, 0], [left, 0]] if first else [[0, 0], [left, 0], [0, 0]]
            inputs = _array.pad(inputs, pads)
            padding = "VALID"
        return _array.expand_dims(inputs, 2 if first else 1), padding, (
            "NCHW" if first else "NHWC")

    def _strides_and_dilations(self):
        return [1, 1, self.strides[0], 1], [1, self.dilation_rate[0]]

    def _unimage(self, y):
        return _array.squeeze(y, [2 if self.data_format == "channels_first" else 1])

    def _kernel_2d(self, kernel):
        return _array.expand_dims(kernel, 0)


class DepthwiseConv1D(_Via2D, DepthwiseConv2D):
    """Per-channel 1-D convolution; ``depth_multiplier`` outputs per input channel.

    Args:
      kernel_size: length of the window.
      strides: stride of the window.
      padding: 'valid', 'same' or 'causal'.
      depth_multiplier: output channels per input channel.
      data_format: 'channels_last' (default) or 'channels_first'.
      dilation_rate: dilation of the window.
      activation, use_bias: as ``Conv1D``.
      depthwise_initializer, depthwise_regularizer, depthwise_constraint: for the
        ``(kernel_size, channels, depth_multiplier)`` kernel.
      bias_initializer, bias_regularizer, bias_constraint, activity_regularizer: as
        ``Conv1D``.
    """

    # The 2-D layer's arguments with 1-D defaults for strides and dilation_rate.
    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint,
                         **kwargs)


class SeparableConv1D(_Via2D, SeparableConv2D):
    """Depthwise 1-D convolution followed by a pointwise (size-1) convolution.

    Args:
      filters: output channels.
      kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
        activation, use_bias: as ``DepthwiseConv1D``.
      depthwise_*, pointwise_*: initializer, regularizer and constraint of the
        ``(kernel_size, channels, depth_multiplier)`` and
        ``(1, channels * depth_multiplier, filters)`` kernels.
      bias_initializer, bias_regularizer, bias_constraint, activity_regularizer: as
        ``Conv1D``.
    """

    # The 2-D layer's arguments with 1-D defaults for strides and dilation_rate.
    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, depth_multiplier=1, activation=None,
                 use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format,
                         dilation_rate, depth_multiplier, activation, use_bias,
                         depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, pointwise_constraint,
                         bias_constraint, **kwargs)


SeparableConvolution1D = SeparableConv1D
