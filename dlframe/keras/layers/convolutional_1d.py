"""DepthwiseConv1D and SeparableConv1D: the 2-D layers run on a height-1 image."""

from dlframe.keras import constraints, initializers, regularizers
from dlframe.keras.engine.input_spec import InputSpec
from dlframe.keras.layers.convolutional import Conv, DepthwiseConv2D, SeparableConv2D
from dlframe.ops import array as _array
from dlframe.ops import conv as _conv


class _Via2D:
    """Shared 1-D plumbing: causal padding, a height axis added and removed."""

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

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 bias_constraint=None, **kwargs):
        Conv.__init__(self, 1, None, kernel_size, strides=strides, padding=padding,
                      data_format=data_format, dilation_rate=dilation_rate,
                      activation=activation, use_bias=use_bias,
                      bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                      activity_regularizer=activity_regularizer,
                      bias_constraint=bias_constraint, **kwargs)
        self.depth_multiplier = depth_multiplier
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)

    def build(self, input_shape):
        DepthwiseConv2D.build(self, input_shape)
        self.input_spec = InputSpec(ndim=3, axes={self._channel_axis:
                                                  self._in_channels(input_shape)})

    def call(self, inputs):
        image, padding, fmt = self._image(inputs)
        strides, dilations = self._strides_and_dilations()
        y = _conv.depthwise_conv2d(image, self._kernel_2d(self.depthwise_kernel), strides,
                                   padding, data_format=fmt, dilations=dilations)
        return self._bias_and_activation(self._unimage(y))


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

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, depth_multiplier=1, activation=None,
                 use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        Conv.__init__(self, 1, filters, kernel_size, strides=strides, padding=padding,
                      data_format=data_format, dilation_rate=dilation_rate,
                      activation=activation, use_bias=use_bias,
                      bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                      activity_regularizer=activity_regularizer,
                      bias_constraint=bias_constraint, **kwargs)
        self.depth_multiplier = depth_multiplier
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape):
        channels = self._in_channels(input_shape)
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", shape=self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", shape=(1, channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        self.bias = self.add_weight("bias", shape=(self.filters,),
                                    initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.input_spec = InputSpec(ndim=3, axes={self._channel_axis: channels})
        self.built = True

    def call(self, inputs):
        image, padding, fmt = self._image(inputs)
        strides, dilations = self._strides_and_dilations()
        y = _conv.separable_conv2d(image, self._kernel_2d(self.depthwise_kernel),
                                   self._kernel_2d(self.pointwise_kernel), strides,
                                   padding, data_format=fmt, dilations=dilations)
        return self._bias_and_activation(self._unimage(y))


SeparableConvolution1D = SeparableConv1D
