"""Normalization layers: BatchNormalization, LayerNormalization, RMSNormalization,
UnitNormalization, GroupNormalization."""

import warnings

from dlframe import config as _config
from dlframe.core.tensor import convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.distribute.collectives import sync_moments
from dlframe.distribute.strategy import get_replica_context
from dlframe.keras import constraints, initializers, regularizers
from dlframe.keras.engine.base_layer import Layer, in_dry_run
from dlframe.keras.engine.input_spec import InputSpec
from dlframe.keras.layers.layer_config import serialize_or_none as _ser
from dlframe.keras.layers.layer_config import weight_options_config
from dlframe.ops import array as _array
from dlframe.ops import math as _math
from dlframe.ops import nn as _nn
from dlframe.ops import reduction as _red
from dlframe.ops.layer_norm import layer_norm as _layer_norm


def _axes(axis, ndim, layer):
    axes = [axis] if isinstance(axis, int) else list(axis)
    out = []
    for a in axes:
        b = a + ndim if a < 0 else a
        if not 0 <= b < ndim:
            raise ValueError(f"Invalid axis: {axis} for layer {layer} with an input of "
                             f"rank {ndim}.")
        out.append(b)
    return sorted(set(out))


def _moments(x, axes, synchronized):
    """Batch mean and variance over ``axes``; with ``synchronized`` inside a replica
    of several, over the global batch (sums and counts all-reduced, so the gradient
    flows to every replica's inputs as in TF's SyncBatchNormalization)."""
    ctx = get_replica_context()
    if not synchronized or ctx is None or ctx.num_replicas_in_sync < 2:
        return _nn.moments(x, axes, keepdims=False)
    return sync_moments(ctx, x, axes)  # stable for a large mean (no E[x^2] - mean^2)


def _masked_moments(x, mask, axes):
    """Mean and variance over ``axes`` counting only the positions ``mask`` keeps (as
    Keras 3): a ``[batch, steps]`` mask spreads over the trailing feature axes, and
    ``config.epsilon()`` in the count keeps an all-masked batch finite."""
    weights = _math.cast(convert_to_tensor(mask), x.dtype)
    while len(weights.shape) < len(x.shape):
        weights = _array.expand_dims(weights, -1)
    weights = _array.broadcast_to(weights, _array.shape(x))
    count = _red.reduce_sum(weights, axes, keepdims=True) + _config.epsilon()
    mean = _red.reduce_sum(weights * x, axes, keepdims=True) / count
    centred = x - mean
    variance = _red.reduce_sum(weights * centred * centred, axes, keepdims=True) / count
    return _array.squeeze(mean, axes), _array.squeeze(variance, axes)


def _set_affine_options(layer, center, scale, beta_initializer, gamma_initializer,
                        beta_regularizer, gamma_regularizer, beta_constraint,
                        gamma_constraint):
    """Stores whether ``layer`` learns beta / gamma and their weight options."""
    layer.center = center
    layer.scale = scale
    layer.beta_initializer = initializers.get(beta_initializer)
    layer.gamma_initializer = initializers.get(gamma_initializer)
    layer.beta_regularizer = regularizers.get(beta_regularizer)
    layer.gamma_regularizer = regularizers.get(gamma_regularizer)
    layer.beta_constraint = constraints.get(beta_constraint)
    layer.gamma_constraint = constraints.get(gamma_constraint)


def _add_gamma_beta(layer, shape):
    """Creates ``layer.gamma`` / ``layer.beta`` of ``shape`` (None when not learned)."""
    layer.gamma = layer.add_weight(
        "gamma", shape=shape, initializer=layer.gamma_initializer,
        regularizer=layer.gamma_regularizer, constraint=layer.gamma_constraint,
        dtype=layer.variable_dtype, autocast=False) if layer.scale else None
    layer.beta = layer.add_weight(
        "beta", shape=shape, initializer=layer.beta_initializer,
        regularizer=layer.beta_regularizer, constraint=layer.beta_constraint,
        dtype=layer.variable_dtype, autocast=False) if layer.center else None


def _float_inputs(layer, inputs):
    """Integer inputs normalize in the layer's compute dtype (as Keras), floats as is."""
    return inputs if inputs.dtype.is_floating else _math.cast(inputs, layer.compute_dtype)


class _Normalization(Layer):
    """gamma/beta bookkeeping shared by batch and layer normalization."""

    _casts_to_float = True   # integer inputs give compute-dtype outputs

    def __init__(self, axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                 beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint,
                 **kwargs):
        super().__init__(**kwargs)
        self.axis = axis if isinstance(axis, int) else list(axis)
        self.epsilon = epsilon
        _set_affine_options(self, center, scale, beta_initializer, gamma_initializer,
                            beta_regularizer, gamma_regularizer, beta_constraint,
                            gamma_constraint)
        self.supports_masking = True

    def _param_shape(self, input_shape):
        dims = TensorShape(input_shape).as_list()
        self._ndim = len(dims)
        self._param_axes = _axes(self.axis, len(dims), self.name)
        shape = [dims[a] for a in self._param_axes]
        if any(d is None for d in shape):
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined "
                             f"dimension but the layer received an input with shape "
                             f"{tuple(dims)}.")
        written = [self.axis] if isinstance(self.axis, int) else list(self.axis)
        self.input_spec = InputSpec(ndim=len(dims), axes={  # keyed as written: {-1: C}
            int(a): dims[a % len(dims)] for a in written})
        return shape

    def _make_gamma_beta(self, shape):
        _add_gamma_beta(self, shape)

    def _broadcast(self, param, ndim):
        if param is None:
            return None
        if self._param_axes == [ndim - 1]:
            return param
        shape = [1] * ndim
        for a in self._param_axes:
            shape[a] = param.shape[self._param_axes.index(a)]
        return _array.reshape(param, shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
            "scale": self.scale,
            **weight_options_config(self, "beta", "gamma")})
        return config


class BatchNormalization(_Normalization):
    """Normalizes with batch statistics in training and moving statistics in inference.

    Args:
      axis: the feature axis (default -1).
      momentum: moving-average momentum (default 0.99).
      epsilon: variance fuzz (default 1e-3).
      center, scale: whether to learn beta / gamma.
      beta_initializer, gamma_initializer, moving_mean_initializer,
      moving_variance_initializer, *_regularizer, *_constraint: as in Keras.
      renorm: batch renormalization (Ioffe 2017): in training, the batch-normalized
        values become ``xhat * r + d`` with ``r = std_B / renorm_std`` and
        ``d = (mean_B - renorm_mean) / renorm_std`` (constants for the gradient),
        where ``renorm_mean``/``renorm_std`` are moving averages of the batch
        statistics; inference uses the moving statistics as usual.
      renorm_clipping: dict with optional keys 'rmax', 'rmin', 'dmax' clipping ``r``
        to [rmin, rmax] and ``d`` to [-dmax, dmax] (missing: unclipped).
      renorm_momentum: momentum of the renorm moving averages (default 0.99).

    A layer with ``trainable=False`` runs in inference mode (Keras 2 semantics).
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, renorm=False,
                 renorm_clipping=None, renorm_momentum=0.99, fused=None,
                 virtual_batch_size=None, adjustment=None, **kwargs):
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, beta_constraint,
                         gamma_constraint, **kwargs)
        if virtual_batch_size is not None or adjustment is not None:
            raise ValueError("dlframe's BatchNormalization does not implement "
                             "`virtual_batch_size` or `adjustment`. Received: "
                             f"virtual_batch_size={virtual_batch_size}, "
                             f"adjustment={adjustment}")
        unknown = set(renorm_clipping or {}) - {"rmax", "rmin", "dmax"}
        if renorm_clipping is not None and (not isinstance(renorm_clipping, dict)
                                            or unknown):
            raise ValueError("`renorm_clipping` must be a dict with keys among 'rmax', "
                             f"'rmin', 'dmax'. Received: renorm_clipping="
                             f"{renorm_clipping!r}")
        self.momentum = momentum
        self.renorm = bool(renorm)
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.synchronized = synchronized
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape):
        shape = self._param_shape(input_shape)
        self._make_gamma_beta(shape)
        self.moving_mean = self.add_weight(
            "moving_mean", shape=shape, initializer=self.moving_mean_initializer,
            trainable=False, dtype=self.variable_dtype, autocast=False)
        self.moving_variance = self.add_weight(
            "moving_variance", shape=shape, initializer=self.moving_variance_initializer,
            trainable=False, dtype=self.variable_dtype, autocast=False)
        if self.renorm:
            # moving_variance follows moving_stddev (std of the batches, averaged)
            for name, init in (("moving_stddev", "ones"), ("renorm_mean", "zeros"),
                               ("renorm_stddev", "ones")):
                setattr(self, name, self.add_weight(
                    name, shape=shape, trainable=False, dtype=self.variable_dtype,
                    autocast=False,
                    initializer=init))
            self.moving_stddev.assign(_math.sqrt(self.moving_variance))
        self.built = True

    def _renorm_normalize(self, x, mean, variance, ndim):
        """Batch-renormalized ``x`` (training); updates the renorm averages."""
        std = _math.sqrt(variance + self.epsilon)
        renorm_std = _math.maximum(_math.cast(self.renorm_stddev, x.dtype),
                                   self.epsilon ** 0.5)
        renorm_mean = _math.cast(self.renorm_mean, x.dtype)
        r, d = std / renorm_std, (mean - renorm_mean) / renorm_std
        clip = self.renorm_clipping or {}
        if clip.get("rmin") is not None:
            r = _math.maximum(r, clip["rmin"])
        if clip.get("rmax") is not None:
            r = _math.minimum(r, clip["rmax"])
        if clip.get("dmax") is not None:
            d = _math.minimum(_math.maximum(d, -clip["dmax"]), clip["dmax"])
        r, d = _array.stop_gradient(r), _array.stop_gradient(d)
        if not in_dry_run():
            for var, value, momentum in (
                    (self.moving_stddev, std, self.momentum),
                    (self.renorm_mean, mean, self.renorm_momentum),
                    (self.renorm_stddev, std, self.renorm_momentum)):
                var.assign_sub((var - _math.cast(value, var.dtype)) * (1.0 - momentum))
            self.moving_variance.assign(
                _math.square(self.moving_stddev) - self.epsilon)
        xhat = (x - self._broadcast(mean, ndim)) / self._broadcast(std, ndim)
        out = xhat * self._broadcast(r, ndim) + self._broadcast(d, ndim)
        if self.gamma is not None:
            out = out * self._broadcast(_math.cast(self.gamma, x.dtype), ndim)
        if self.beta is not None:
            out = out + self._broadcast(_math.cast(self.beta, x.dtype), ndim)
        return out

    def call(self, inputs, training=None, mask=None):
        inputs = _float_inputs(self, inputs)
        ndim = len(inputs.shape)
        reduce_axes = [a for a in range(ndim) if a not in self._param_axes]
        in_dtype = inputs.dtype
        x = inputs if in_dtype.name not in ("float16", "bfloat16") else _math.cast(
            inputs, "float32")
        if training and self.trainable:
            if mask is not None:
                mean, variance = _masked_moments(x, mask, reduce_axes)
            else:
                mean, variance = _moments(x, reduce_axes, self.synchronized)
            if not in_dry_run():
                decay = 1.0 - self.momentum
                updates = [(self.moving_mean, mean)]
                if not self.renorm:   # renorm derives it from moving_stddev
                    updates.append((self.moving_variance, variance))
                for var, value in updates:
                    var.assign_sub((var - _math.cast(value, var.dtype)) * decay)
            if self.renorm:
                out = self._renorm_normalize(x, mean, variance, ndim)
                return out if out.dtype == in_dtype else _math.cast(out, in_dtype)
        else:
            mean, variance = self.moving_mean, self.moving_variance
        mean, variance = _math.cast(mean, x.dtype), _math.cast(variance, x.dtype)
        gamma = None if self.gamma is None else _math.cast(self.gamma, x.dtype)
        beta = None if self.beta is None else _math.cast(self.beta, x.dtype)
        out = _nn.batch_normalization(
            x, self._broadcast(mean, ndim), self._broadcast(variance, ndim),
            self._broadcast(beta, ndim), self._broadcast(gamma, ndim), self.epsilon)
        return out if out.dtype == in_dtype else _math.cast(out, in_dtype)

    def get_config(self):
        config = super().get_config()
        config.update({
            "momentum": self.momentum,
            "moving_mean_initializer": _ser(initializers, self.moving_mean_initializer),
            "moving_variance_initializer": _ser(initializers,
                                                self.moving_variance_initializer),
            "renorm": self.renorm, "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum, "synchronized": self.synchronized})
        return config


class LayerNormalization(_Normalization):
    """Normalizes each sample over ``axis`` (default -1), then scales and shifts.

    Args:
      axis: int or list of ints, the normalized axes (default -1).
      epsilon: variance fuzz (default 1e-3).
      center, scale: whether to learn beta / gamma.
      rms_scaling: Keras 3's deprecated option: ``x * rsqrt(variance + epsilon) *
        gamma`` with no centering and no beta (it divides by the variance, not the
        root mean square; ``RMSNormalization`` is the correct layer).
      beta_initializer, gamma_initializer, *_regularizer, *_constraint: as in Keras.
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 rms_scaling=False, **kwargs):
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, beta_constraint,
                         gamma_constraint, **kwargs)
        self.rms_scaling = bool(rms_scaling)
        if self.rms_scaling:
            warnings.warn("You passed `rms_scaling=True`, which is deprecated: it scales "
                          "the input by the variance, not the root mean square. Use "
                          "`keras.layers.RMSNormalization` instead.", stacklevel=2)

    def build(self, input_shape):
        shape = self._param_shape(input_shape)
        self.input_spec = None
        if self.rms_scaling:
            self.beta = None
            self.gamma = self.add_weight(
                "gamma", shape=shape, initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
                dtype=self.variable_dtype, autocast=False)
        else:
            self._make_gamma_beta(shape)
        self.built = True

    def call(self, inputs):
        # one fused primitive (ops/layer_norm.py); halves are normalized in float32
        return _layer_norm(_float_inputs(self, inputs), self.gamma, self.beta,
                           self._param_axes, self.epsilon, self.rms_scaling)

    def get_config(self):
        config = super().get_config()
        config["rms_scaling"] = self.rms_scaling
        return config


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over ``axis``."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True

    def call(self, inputs):
        return _nn.l2_normalize(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class RMSNormalization(_Normalization):
    """``x * rsqrt(mean(x^2 over axis) + epsilon) * scale`` (root-mean-square layer
    normalization, Zhang & Sennrich 2019); ``scale`` starts at ones.

    Args:
      axis: int or list of ints, the normalized axes (default -1).
      epsilon: added to the mean square (default 1e-6).
    """

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(axis, epsilon, False, True, "zeros", "ones", None, None, None,
                         None, **kwargs)

    def build(self, input_shape):
        shape = self._param_shape(input_shape)
        self.input_spec = None
        self.scale = self.add_weight("scale", shape=shape, initializer="ones",
                                     dtype=self.variable_dtype)
        self.built = True

    def call(self, inputs):
        inputs = _float_inputs(self, inputs)
        in_dtype = inputs.dtype
        x = inputs if in_dtype.name not in ("float16", "bfloat16") else _math.cast(
            inputs, "float32")
        mean_square = _red.reduce_mean(_math.square(x), axis=self._param_axes,
                                        keepdims=True)
        scale = self._broadcast(_math.cast(self.scale, x.dtype), len(x.shape))
        out = x * _math.rsqrt(mean_square + self.epsilon) * scale
        return out if out.dtype == in_dtype else _math.cast(out, in_dtype)

    def get_config(self):
        config = Layer.get_config(self)
        config.update({"axis": self.axis, "epsilon": self.epsilon})
        return config


class GroupNormalization(Layer):
    """Normalizes each group of ``channels // groups`` channels by its own mean and
    variance over all non-batch positions, then scales by ``gamma`` and shifts by
    ``beta`` per channel.

    Args:
      groups: number of groups; must divide the channel count.
      axis: the channel axis.
      epsilon: added to the variance.
      center, scale: whether to learn ``beta`` and ``gamma``.
    """

    _casts_to_float = True

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.groups = groups
        self.axis = axis
        self.epsilon = epsilon
        _set_affine_options(self, center, scale, beta_initializer, gamma_initializer,
                            beta_regularizer, gamma_regularizer, beta_constraint,
                            gamma_constraint)

    def build(self, input_shape):
        shape = TensorShape(input_shape).as_list()
        axis = self.axis % len(shape)
        channels = shape[axis]
        if channels is None:
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined "
                             f"dimension but the layer received an input with shape "
                             f"{tuple(shape)}.")
        if self.groups == -1:
            self.groups = channels
        if channels < self.groups:
            raise ValueError(f"Number of groups ({self.groups}) cannot be more than "
                             f"the number of channels ({channels}).")
        if channels % self.groups:
            raise ValueError(f"Number of groups ({self.groups}) must be a multiple of "
                             f"the number of channels ({channels}).")
        self._axis = axis
        self.input_spec = InputSpec(ndim=len(shape), axes={self.axis: channels})
        _add_gamma_beta(self, (channels,))
        self.built = True

    def call(self, inputs):
        x = convert_to_tensor(inputs)
        x = x if x.dtype == self.compute_dtype else _math.cast(x, self.compute_dtype)
        shape = list(x.shape)
        axis = self._axis
        grouped = (shape[:axis] + [self.groups, shape[axis] // self.groups]
                   + shape[axis + 1:])
        g = _array.reshape(x, grouped)
        reduce = [i for i in range(1, len(grouped)) if i != axis]
        mean = _red.reduce_mean(g, reduce, keepdims=True)
        centered = _math.subtract(g, mean)
        var = _red.reduce_mean(_math.square(centered), reduce, keepdims=True)
        normed = _math.multiply(centered, _math.rsqrt(_math.add(
            var, _math.cast(self.epsilon, x.dtype))))
        out = _array.reshape(normed, shape)
        bshape = [1] * len(shape)
        bshape[axis] = shape[axis]
        if self.scale:
            out = _math.multiply(out, _array.reshape(_math.cast(self.gamma, x.dtype),
                                                     bshape))
        if self.center:
            out = _math.add(out, _array.reshape(_math.cast(self.beta, x.dtype), bshape))
        return out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({
            "groups": self.groups, "axis": self.axis, "epsilon": self.epsilon,
            "center": self.center, "scale": self.scale,
            **weight_options_config(self, "beta", "gamma")})
        return config
