"""Convolution layers: Conv1D/2D/3D, Conv1D/2D/3DTranspose, DepthwiseConv2D,
SeparableConv2D."""

from dlframe.core.tensor_shape import TensorShape
from dlframe.errors import InvalidDTypeError
from dlframe.keras import activations, constraints, initializers, regularizers
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.engine.input_spec import InputSpec
from dlframe.keras.layers.layer_config import (
    WEIGHT_OPTION_MODULES,
    weight_options_config,
)
from dlframe.keras.layers.reshaping import _data_format
from dlframe.ops import array as _array
from dlframe.ops import conv as _conv
from dlframe.ops import nn as _nn

_FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}


def normalize_tuple(value, n, name, allow_zero=False):
    """An int or an iterable of n ints -> a tuple of n positive ints."""
    if isinstance(value, int):
        out = (value,) * n
    else:
        try:
            out = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. "
                             f"Received {name}={value!r}") from None
        if len(out) != n:
            raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. "
                             f"Received {name}={value!r}, including {len(out)} values")
    low = 0 if allow_zero else 1
    if any(v < low for v in out):
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. "
                         f"Received {name}={value!r}, including values that are "
                         f"{'negative' if allow_zero else 'not positive'}")
    return out


def conv_output_length(length, k, padding, stride, dilation=1):
    if length is None:
        return None
    k = (k - 1) * dilation + 1
    if padding in ("same", "causal"):
        out = length
    elif padding == "valid":
        out = length - k + 1
    else:  # full
        out = length + k - 1
    return (out + stride - 1) // stride


def deconv_output_length(length, k, padding, output_padding, stride, dilation=1):
    if length is None:
        return None
    k = (k - 1) * dilation + 1
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(k - stride, 0)
        if padding == "full":
            return length * stride - (stride + k - 2)
        return length * stride
    pad = {"same": k // 2, "valid": 0, "full": k - 1}[padding]
    return (length - 1) * stride + k - 2 * pad + output_padding


def _check_padding(padding, allowed):
    padding = str(padding).lower()
    if padding not in allowed:
        raise ValueError(f"The `padding` argument must be one of {allowed}. Received: "
                         f"padding={padding!r}")
    return padding


class Conv(Layer):
    """N-D convolution base: ``activation(conv(inputs, kernel) + bias)``."""

    rank = 2
    # Keras checks this for full and transposed convolutions, not depthwise ones
    _checks_strided_dilation = True
    # a symbolic integer input gives a compute-dtype output (Keras 3's spec; an
    # eager call refuses it, see _check_float_inputs)
    _casts_to_float = True

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.rank = rank
        if filters is not None and (not isinstance(filters, int) or filters <= 0):
            raise ValueError("Invalid value for argument `filters`. Expected a strictly "
                             f"positive value. Received filters={filters!r}.")
        self.filters = filters
        if groups is None:
            groups = 1
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError("The number of groups must be a positive integer. "
                             f"Received: groups={groups!r}.")
        self.groups = groups
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate")
        if (self._checks_strided_dilation and max(self.strides) > 1
                and max(self.dilation_rate) > 1):
            raise ValueError("`strides > 1` not supported in conjunction with "
                             f"`dilation_rate > 1`. Received: strides={self.strides} "
                             f"and dilation_rate={self.dilation_rate}")
        allowed = ("valid", "same", "causal") if rank == 1 else ("valid", "same")
        self.padding = _check_padding(padding, allowed)
        self.data_format = _data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=rank + 2)
        if filters is not None and filters % self.groups:
            raise ValueError("The number of filters must be evenly divisible by the "
                             f"number of groups. Received: groups={self.groups}, "
                             f"filters={filters}.")

    @property
    def _channel_axis(self):
        return 1 if self.data_format == "channels_first" else -1

    def _in_channels(self, input_shape):
        channels = TensorShape(input_shape)[self._channel_axis]
        if channels is None:
            raise ValueError("The channel dimension of the inputs should be defined. The "
                             f"input_shape received is {tuple(TensorShape(input_shape))}, "
                             f"where axis {self._channel_axis} (0-based) is the channel "
                             "dimension, which found to be `None`.")
        return channels

    def _bias_weight(self):
        """The ``(filters,)`` bias, or None without ``use_bias``."""
        if not self.use_bias:
            return None
        return self.add_weight("bias", shape=(self.filters,),
                               initializer=self.bias_initializer,
                               regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint)

    def build(self, input_shape):
        channels = self._in_channels(input_shape)
        if channels % self.groups:
            raise ValueError("The number of input channels must be evenly divisible by "
                             f"the number of groups. Received groups={self.groups}, but "
                             f"the input has {channels} channels (full input shape is "
                             f"{tuple(TensorShape(input_shape))}).")
        shape = self.kernel_size + (channels // self.groups, self.filters)
        self.kernel = self.add_weight("kernel", shape=shape,
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = self._bias_weight()
        self.input_spec = InputSpec(min_ndim=self.rank + 2,
                                    axes={self._channel_axis: channels})
        self.built = True

    def _op_format(self):
        return _FORMATS[self.rank][self.data_format == "channels_first"]

    def _check_float_inputs(self, inputs):
        """Refuses integer ``inputs`` (every conv layer's ``call``): Keras 3 raises
        ``ValueError`` (its float kernel cannot convert to the input dtype) or the
        op's ``InvalidArgumentError``, as Keras 2 does; the error is both."""
        dtype = getattr(inputs, "dtype", None)
        if dtype is not None and not (dtype.is_floating or dtype.is_complex):
            raise InvalidDTypeError(
                f"{type(self).__name__} (layer '{self.name}') needs floating-point "
                f"`inputs` to convolve with its {self.compute_dtype} kernel; "
                f"received inputs of dtype {dtype.name}. Cast them first, e.g. "
                f"tf.cast(inputs, tf.float32) / 255.")

    def _convolve(self, inputs):
        self._check_float_inputs(inputs)
        padding = self.padding.upper()
        if self.padding == "causal":
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            steps = 2 if self.data_format == "channels_first" else 1
            pads = [[0, 0], [0, 0], [0, 0]]
            pads[steps] = [left, 0]
            inputs = _array.pad(inputs, pads)
            padding = "VALID"
        fmt = self._op_format()
        fn = {1: _conv.conv1d, 2: _conv.conv2d, 3: _conv.conv3d}[self.rank]
        strides = self.strides[0] if self.rank == 1 else list(self.strides)
        return fn(inputs, self.kernel, strides, padding, data_format=fmt,
                  dilations=list(self.dilation_rate))

    def _bias_and_activation(self, out):
        if self.use_bias:
            fmt = "NCHW" if self.data_format == "channels_first" else None
            if fmt and self.rank != 2:
                shape = [1, self.filters] + [1] * self.rank
                out = out + _array.reshape(self.bias, shape)
            else:
                out = _nn.bias_add(out, self.bias, data_format=fmt)
        return self.activation(out) if self.activation is not None else out

    def call(self, inputs):
        return self._bias_and_activation(self._convolve(inputs))

    def _spatial(self, input_shape):
        dims = TensorShape(input_shape).as_list()
        return dims[2:] if self.data_format == "channels_first" else dims[1:-1]

    def _assemble(self, input_shape, spatial, channels):
        batch = TensorShape(input_shape)[0]
        if self.data_format == "channels_first":
            return TensorShape([batch, channels] + spatial)
        return TensorShape([batch] + spatial + [channels])

    def compute_output_shape(self, input_shape):
        spatial = [conv_output_length(d, k, self.padding, s, r) for d, k, s, r in zip(
            self._spatial(input_shape), self.kernel_size, self.strides, self.dilation_rate)]
        for d in spatial:
            if d is not None and d <= 0:
                raise ValueError(
                    f"One of the dimensions in the output is <= 0 due to downsampling in "
                    f"{self.name}. Consider increasing the input size. Received "
                    f"input shape {tuple(TensorShape(input_shape))} which would produce "
                    f"output shape with a zero or negative value in a dimension.")
        return self._assemble(input_shape, spatial, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters, "kernel_size": self.kernel_size,
            "strides": self.strides, "padding": self.padding,
            "data_format": self.data_format, "dilation_rate": self.dilation_rate,
            "groups": self.groups, "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_options_config(self, "kernel", "bias", activity=True)})
        return config


def _fixed_rank(rank, name, doc):
    class Fixed(Conv):
        def __init__(self, filters, kernel_size, strides=1, padding="valid",
                     data_format=None, dilation_rate=1, groups=1, activation=None,
                     use_bias=True, kernel_initializer="glorot_uniform",
                     bias_initializer="zeros", kernel_regularizer=None,
                     bias_regularizer=None, activity_regularizer=None,
                     kernel_constraint=None, bias_constraint=None, **kwargs):
            super().__init__(rank, filters, kernel_size, strides, padding, data_format,
                             dilation_rate, groups, activation, use_bias,
                             kernel_initializer, bias_initializer, kernel_regularizer,
                             bias_regularizer, activity_regularizer, kernel_constraint,
                             bias_constraint, **kwargs)
    Fixed.__name__ = Fixed.__qualname__ = name
    Fixed.__doc__ = doc
    return Fixed


Conv1D = _fixed_rank(1, "Conv1D", "1-D convolution over (batch, steps, channels).")
Conv2D = _fixed_rank(2, "Conv2D", "2-D convolution over (batch, rows, cols, channels).")
Conv3D = _fixed_rank(3, "Conv3D", "3-D convolution over 5-D inputs.")


class _ConvTranspose(Conv):
    """Transposed convolution (the gradient of a convolution w.r.t. its input)."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 output_padding=None, data_format=None, dilation_rate=1, **kwargs):
        super().__init__(rank, filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, **kwargs)
        self.output_padding = None if output_padding is None else normalize_tuple(
            output_padding, rank, "output_padding", allow_zero=True)
        if self.output_padding is not None:
            for p, s in zip(self.output_padding, self.strides):
                if p >= s:
                    raise ValueError(f"Strides {self.strides} must be greater than "
                                     f"output padding {self.output_padding}. Received "
                                     f"strides={self.strides}, "
                                     f"output_padding={self.output_padding}.")

    def build(self, input_shape):
        channels = self._in_channels(input_shape)
        self.kernel = self.add_weight("kernel", shape=self.kernel_size + (
            self.filters, channels), initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = self._bias_weight()
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: channels})
        self.built = True

    def _out_spatial(self, spatial):
        pads = self.output_padding or (None,) * self.rank
        return [deconv_output_length(d, k, self.padding, p, s, r) for d, k, p, s, r in zip(
            spatial, self.kernel_size, pads, self.strides, self.dilation_rate)]

    def call(self, inputs):
        self._check_float_inputs(inputs)
        shape = list(inputs.shape)
        out = self._assemble(shape, self._out_spatial(self._spatial(shape)),
                             self.filters).as_list()
        fn = {1: _conv.conv1d_transpose, 2: _conv.conv2d_transpose,
              3: _conv.conv3d_transpose}[self.rank]
        strides = list(self.strides)
        y = fn(inputs, self.kernel, out, strides, padding=self.padding.upper(),
               data_format=self._op_format(), dilations=list(self.dilation_rate))
        return self._bias_and_activation(y)

    def compute_output_shape(self, input_shape):
        return self._assemble(input_shape, self._out_spatial(self._spatial(input_shape)),
                              self.filters)

    def get_config(self):
        config = super().get_config()
        config.pop("groups")
        config["output_padding"] = self.output_padding
        return config


def _keras3_transpose_order(output_padding, data_format):
    """Whether the 5th/6th positional values are Keras 3's ``(data_format,
    output_padding)``: a format string in the padding slot, or a padding (number or
    sequence) in the format slot; the two can never be mistaken for each other."""
    if isinstance(output_padding, str):
        return not isinstance(data_format, str)
    return data_format is not None and not isinstance(data_format, str) and (
        output_padding is None)


def _fixed_transpose_rank(rank, name, doc):
    default = (1,) * rank if rank > 1 else 1

    class Fixed(_ConvTranspose):
        # explicit arguments keep TF's positional order (activation is 8th)
        def __init__(self, filters, kernel_size, strides=default, padding="valid",
                     output_padding=None, data_format=None, dilation_rate=default,
                     activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                     bias_initializer="zeros", kernel_regularizer=None,
                     bias_regularizer=None, activity_regularizer=None,
                     kernel_constraint=None, bias_constraint=None, **kwargs):
            if rank == 3 and _keras3_transpose_order(output_padding, data_format):
                # Keras 3's Conv3DTranspose takes data_format before output_padding
                output_padding, data_format = data_format, output_padding
            super().__init__(rank, filters, kernel_size, strides, padding,
                             output_padding, data_format, dilation_rate,
                             activation=activation, use_bias=use_bias,
                             kernel_initializer=kernel_initializer,
                             bias_initializer=bias_initializer,
                             kernel_regularizer=kernel_regularizer,
                             bias_regularizer=bias_regularizer,
                             activity_regularizer=activity_regularizer,
                             kernel_constraint=kernel_constraint,
                             bias_constraint=bias_constraint, **kwargs)
    Fixed.__name__ = Fixed.__qualname__ = name
    Fixed.__doc__ = doc
    return Fixed


Conv1DTranspose = _fixed_transpose_rank(
    1, "Conv1DTranspose", "1-D transposed convolution; kernel shape (k, filters, in).")
Conv2DTranspose = _fixed_transpose_rank(
    2, "Conv2DTranspose",
    "2-D transposed convolution; kernel shape (kh, kw, filters, in_channels).")
Conv3DTranspose = _fixed_transpose_rank(
    3, "Conv3DTranspose",
    "3-D transposed convolution; kernel shape (kd, kh, kw, filters, in_channels).")


class _DepthwiseBase(Conv):
    """Shared parts of the depthwise and separable convolutions.

    Subclasses for 1-D inputs run the 2-D ops on a height-1 image by overriding the
    ``_image``/``_unimage``/``_kernel_2d``/``_strides_and_dilations`` hooks (here
    they leave the 2-D inputs as they are) and ``_conv_rank``.
    """

    _conv_rank = 2
    _checks_strided_dilation = False

    def __init__(self, filters, kernel_size, depth_multiplier, depthwise_options,
                 **conv_kwargs):
        """``depthwise_options``: the depthwise kernel's (initializer, regularizer,
        constraint); ``conv_kwargs`` go to ``Conv``."""
        # no unused Conv kernel initializer: it would take a Keras 3 default seed
        conv_kwargs.setdefault("kernel_initializer", None)
        super().__init__(self._conv_rank, filters, kernel_size, **conv_kwargs)
        self.depth_multiplier = self._check_depth_multiplier(depth_multiplier)
        self._set_kernel_args("depthwise", *depthwise_options)

    @staticmethod
    def _check_depth_multiplier(depth_multiplier):
        if isinstance(depth_multiplier, int) and depth_multiplier <= 0:
            raise ValueError("Invalid value for argument `depth_multiplier`. Expected a "
                             "strictly positive value. Received "
                             f"depth_multiplier={depth_multiplier}.")
        return depth_multiplier

    def _set_kernel_args(self, kind, initializer, regularizer, constraint):
        """Sets ``<kind>_initializer``/``_regularizer``/``_constraint`` from their ids."""
        for (arg, module), value in zip(WEIGHT_OPTION_MODULES.items(),
                                        (initializer, regularizer, constraint)):
            setattr(self, f"{kind}_{arg}", module.get(value))

    def _kernel_args_config(self, *kinds):
        """get_config entries of the kernels ``kinds``: initializers, regularizers,
        constraints (in that order)."""
        return weight_options_config(self, *kinds)

    def _depthwise_weight(self, channels):
        return self.add_weight(
            "depthwise_kernel", shape=self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)

    def _image(self, inputs):
        """(op input, op padding, op data format)."""
        return inputs, self.padding.upper(), self._op_format()

    def _strides_and_dilations(self):
        return [1] + list(self.strides) + [1], list(self.dilation_rate)

    def _unimage(self, y):
        return y

    def _kernel_2d(self, kernel):
        return kernel

    def _config_without(self, *keys):
        config = super().get_config()
        for key in keys:
            config.pop(key)
        return config


class DepthwiseConv2D(_DepthwiseBase):
    """Per-channel 2-D convolution; ``depth_multiplier`` outputs per input channel."""

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(None, kernel_size, depth_multiplier, (
            depthwise_initializer, depthwise_regularizer, depthwise_constraint),
            strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, bias_constraint=bias_constraint,
            **kwargs)

    def build(self, input_shape):
        channels = self._in_channels(input_shape)
        self.depthwise_kernel = self._depthwise_weight(channels)
        self.filters = channels * self.depth_multiplier
        self.bias = self._bias_weight()
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: channels})
        self.built = True

    @property
    def kernel(self):
        """Keras 3's name for ``depthwise_kernel`` (the same variable)."""
        return self.depthwise_kernel

    def call(self, inputs):
        self._check_float_inputs(inputs)
        image, padding, fmt = self._image(inputs)
        strides, dilations = self._strides_and_dilations()
        y = _conv.depthwise_conv2d(image, self._kernel_2d(self.depthwise_kernel), strides,
                                   padding, data_format=fmt, dilations=dilations)
        return self._bias_and_activation(self._unimage(y))

    def compute_output_shape(self, input_shape):
        channels = TensorShape(input_shape)[self._channel_axis]
        self.filters = None if channels is None else channels * self.depth_multiplier
        return Conv.compute_output_shape(self, input_shape)

    def get_config(self):
        config = self._config_without("filters", "kernel_initializer",
                                      "kernel_regularizer", "kernel_constraint", "groups")
        config["depth_multiplier"] = self.depth_multiplier
        config.update(self._kernel_args_config("depthwise"))
        return config


class SeparableConv2D(_DepthwiseBase):
    """Depthwise convolution followed by a 1x1 pointwise convolution to ``filters``."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1), depth_multiplier=1,
                 activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(filters, kernel_size, depth_multiplier, (
            depthwise_initializer, depthwise_regularizer, depthwise_constraint),
            strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, bias_constraint=bias_constraint,
            **kwargs)
        self._set_kernel_args("pointwise", pointwise_initializer, pointwise_regularizer,
                              pointwise_constraint)

    def build(self, input_shape):
        channels = self._in_channels(input_shape)
        self.depthwise_kernel = self._depthwise_weight(channels)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel",
            shape=(1,) * self.rank + (channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        self.bias = self._bias_weight()
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: channels})
        self.built = True

    def call(self, inputs):
        self._check_float_inputs(inputs)
        image, padding, fmt = self._image(inputs)
        strides, dilations = self._strides_and_dilations()
        y = _conv.separable_conv2d(image, self._kernel_2d(self.depthwise_kernel),
                                   self._kernel_2d(self.pointwise_kernel), strides,
                                   padding, data_format=fmt, dilations=dilations)
        return self._bias_and_activation(self._unimage(y))

    def get_config(self):
        config = self._config_without("kernel_initializer", "kernel_regularizer",
                                      "kernel_constraint", "groups")
        config["depth_multiplier"] = self.depth_multiplier
        config.update(self._kernel_args_config("depthwise", "pointwise"))
        return config


Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution1DTranspose, Convolution2DTranspose = Conv1DTranspose, Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution2D = SeparableConv2D
Conv2DTranspose.__module__ = __name__
