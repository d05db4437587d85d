"""Preprocessing layers: Rescaling, Normalization (with ``adapt``), Resizing, CenterCrop
and Identity; GroupNormalization (in ``normalization.py``) is re-exported here too.

The random augmentation layers live in ``augmentation.py``; the categorical/lookup
layers in ``preprocessing_lookup.py``; TextVectorization in ``preprocessing_text.py``.
"""

from dlframe.core import dtypes as _dt
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.keras import backend
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.layers.normalization import GroupNormalization
from dlframe.ops import array as _array
from dlframe.ops import image as _image
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red
from dlframe.ops.ragged_tensor import RaggedTensor


def _to_float(inputs, dtype):
    x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
    return x if x.dtype == dtype else _math.cast(x, dtype)


def iter_batches(data, min_rank=1):
    """Tensors from a NumPy array, Tensor, list or dlframe Dataset (for ``adapt``).

    A dataset whose elements have fewer than ``min_rank`` dimensions is taken as
    unbatched and read in batches of 128, as Keras does.
    """
    if hasattr(data, "as_numpy_iterator") or (hasattr(data, "__iter__") and
                                             hasattr(data, "element_spec")):
        rank = getattr(getattr(data.element_spec, "shape", None), "rank", None)
        if rank is not None and rank < min_rank and hasattr(data, "batch"):
            data = data.batch(128)
        for batch in data:
            if isinstance(batch, tuple):
                raise ValueError("adapt() expects a dataset of inputs only, got a "  # noqa: TRY004
                                 f"dataset of tuples {type(batch)}")
            yield _as_batch(batch)
        return
    yield _as_batch(data)


def iter_string_batches(data, layer_name):
    """``iter_batches`` for layers that learn a vocabulary of strings: data of
    another dtype is refused (TF cannot convert it), not read as text."""
    for batch in iter_batches(data):
        if batch.dtype != _dt.string:
            raise ValueError(f"`{layer_name}.adapt()` expects string data. Failed to "
                             f"convert a NumPy array to a Tensor (received dtype "
                             f"{batch.dtype.name}).")
        yield batch


def _as_batch(value):
    if isinstance(value, (Tensor, RaggedTensor)):
        return value
    return convert_to_tensor(value)


class Rescaling(Layer):
    """``inputs * scale + offset`` (cast to the layer's compute dtype).

    Args:
      scale: float (or per-channel list) multiplier.
      offset: float (or per-channel list) added after scaling.
    """

    _casts_to_float = True

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.supports_masking = True

    def call(self, inputs):
        x = _to_float(inputs, self.compute_dtype)
        return _math.add(_math.multiply(x, _math.cast(self.scale, x.dtype)),
                         _math.cast(self.offset, x.dtype))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale, "offset": self.offset})
        return config


def _check_fixed_statistics(mean, variance, axis):
    """TF's checks of ``Normalization(mean=..., variance=...)``: one shape, of rank at
    most the number of kept axes."""
    mean_shape = tuple(convert_to_tensor(mean, dtype="float32").shape)
    variance_shape = tuple(convert_to_tensor(variance, dtype="float32").shape)
    if mean_shape != variance_shape:
        raise ValueError("When setting values directly, `mean` and `variance` must "
                         f"have the same shape. Received: mean shape {mean_shape} and "
                         f"variance shape {variance_shape}")
    if len(mean_shape) > len(axis):
        raise ValueError(f"The rank of `mean` must be less than or equal to the number "
                         f"of axes ({len(axis)}). Received: mean shape {mean_shape} for "
                         f"axis {axis}")


class Normalization(Layer):
    """Standardizes features: ``(x - mean) / sqrt(variance)`` per index of ``axis``.

    Args:
      axis: int, tuple of ints or None: the axes that keep separate statistics (the
        rest are reduced). None: one scalar mean and variance.
      mean, variance: fixed statistics (then ``adapt`` is not used).
      invert: apply the inverse transform ``x * sqrt(variance) + mean``.

    ``adapt(data)`` computes the statistics from a NumPy array, Tensor or Dataset,
    merging per-batch means and variances exactly (Chan et al.). Weights: 'mean',
    'variance' and 'count' (non-trainable); 'count' holds the number of samples seen.
    """

    _casts_to_float = True

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True   # elementwise: a mask passes through
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(axis)
        self.axis = axis
        if (mean is None) != (variance is None):
            raise ValueError("When setting values directly, both `mean` and `variance` "
                             f"must be set. Received: mean={mean} and variance={variance}")
        if mean is not None:
            _check_fixed_statistics(mean, variance, axis)
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        self._adapted = False

    def _keep_axes(self, ndim):
        keep = []
        for a in self.axis:
            if not -ndim <= a < ndim:
                raise ValueError(f"All `axis` values must be in the range [-ndim, ndim). "
                                 f"Received inputs with ndim={ndim}, while axis={self.axis}")
            keep.append(a % ndim)
        return sorted(keep)

    def build(self, input_shape):
        shape = TensorShape(input_shape).as_list()
        ndim = len(shape)
        keep = self._keep_axes(ndim)
        self._ndim = ndim
        self._keep = keep
        for a in keep:
            if shape[a] is None:
                raise ValueError(f"All `axis` values to be kept must have a known shape. "
                                 f"Received axis={self.axis}, inputs.shape={shape}, with "
                                 f"unknown axis at index {a}")
        self._stat_shape = [shape[a] for a in keep]
        self._bcast_shape = [shape[i] if i in keep else 1 for i in range(ndim)]
        if self.input_mean is None:
            self.adapt_mean = self.add_weight("mean", self._stat_shape, initializer="zeros",
                                              trainable=False)
            self.adapt_variance = self.add_weight("variance", self._stat_shape,
                                                  initializer="ones", trainable=False)
            self.count = self.add_weight("count", (), dtype="int64",
                                         initializer="zeros", trainable=False)
        self.built = True

    def adapt(self, data, batch_size=None, steps=None):
        """Computes mean and variance of ``data`` (array, Tensor or Dataset)."""
        total, mean, m2 = 0, None, None
        for batch in iter_batches(data, min_rank=2):
            x = _math.cast(batch, _dt.float64)
            if not self.built:
                self.build(x.shape)
                self.built = True
            reduce = [i for i in range(self._ndim) if i not in self._keep]
            n = 1
            for i in reduce:
                n *= x.shape[i]
            if n == 0:
                continue
            bmean = _array.reshape(_red.reduce_mean(x, reduce, keepdims=True),
                                   self._stat_shape)
            bvar = _array.reshape(_red.reduce_variance(x, reduce, keepdims=True),
                                  self._stat_shape)
            if mean is None:
                total, mean, m2 = n, bmean, bvar * n
                continue
            new_total = total + n
            delta = bmean - mean
            mean = mean + delta * (n / new_total)
            m2 = m2 + bvar * n + delta * delta * (total * n / new_total)
            total = new_total
        if mean is None:
            raise ValueError("adapt() received no data")
        if self.input_mean is not None:
            raise ValueError("Cannot adapt a Normalization layer created with fixed "
                             "`mean` and `variance`.")
        self.adapt_mean.assign(_math.cast(mean, self.adapt_mean.dtype))
        self.adapt_variance.assign(_math.cast(m2 / total, self.adapt_variance.dtype))
        self.count.assign(convert_to_tensor(total, dtype="int64"))
        self._adapted = True

    def _stats(self, dtype):
        if self.input_mean is not None:
            mean = _math.cast(convert_to_tensor(self.input_mean), dtype)
            var = _math.cast(convert_to_tensor(self.input_variance), dtype)
        else:
            mean = _math.cast(self.adapt_mean, dtype)
            var = _math.cast(self.adapt_variance, dtype)
        if len(mean.shape) or self._bcast_shape:
            mean = _array.reshape(_array.broadcast_to(mean, self._stat_shape),
                                  self._bcast_shape)
            var = _array.reshape(_array.broadcast_to(var, self._stat_shape),
                                 self._bcast_shape)
        return mean, var

    @property
    def mean(self):
        """The mean, shaped to broadcast against the inputs (``[1, ..., features]``)."""
        return self._stat("mean", 0)

    @property
    def variance(self):
        """The variance, shaped to broadcast against the inputs."""
        return self._stat("variance", 1)

    def _stat(self, name, index):
        if not self.built and self.input_mean is not None:
            given = self.input_mean if index == 0 else self.input_variance
            return convert_to_tensor(given, dtype=self.compute_dtype)
        if not self.built:
            raise AttributeError(f"Normalization has no `{name}` before it is built or "
                                 "adapted.")
        return self._stats(_dt.as_dtype(self.compute_dtype))[index]

    def call(self, inputs):
        x = _to_float(inputs, self.compute_dtype)
        mean, var = self._stats(x.dtype)
        std = _math.sqrt(var)
        if self.invert:
            return _math.add(mean, _math.multiply(x, std))
        return _math.divide(_math.subtract(x, mean),
                            _math.maximum(std, _math.cast(backend.epsilon(), x.dtype)))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "invert": self.invert,
                       "mean": _listify(self.input_mean),
                       "variance": _listify(self.input_variance)})
        return config


def _listify(v):
    if isinstance(v, Tensor):
        return v.numpy().tolist()
    if hasattr(v, "tolist"):
        return v.tolist()
    return v


# Keras 3's methods plus Keras 2's gaussian and mitchellcubic (all tf.image.resize's)
_RESIZE_METHODS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5",
                   "gaussian", "mitchellcubic")


def _aspect_sizes(x, th, tw):
    """``(h, w, h_for_w, w_for_h)``: the height and width of images ``x`` and the
    height (width) of aspect ratio tw/th at their width (height); ints, or tensors
    read when the graph runs (``image_hw``)."""
    h, w = _image.image_hw(x)
    if isinstance(h, int):
        return h, w, int(w * th / tw), int(h * tw / th)
    return h, w, _scaled(w, th, tw), _scaled(h, tw, th)


def _scaled(n, num, den):
    return _math.cast(_math.cast(n, "float64") * num / den, "int32")


def crop_to_aspect_and_resize(x, th, tw, interpolation="bilinear", antialias=False):
    """Crops the largest centred box of aspect ratio tw/th from ``x``, then resizes
    (Keras's ``crop_to_aspect_ratio``)."""
    h, w, h_for_w, w_for_h = _aspect_sizes(x, th, tw)
    ch = _image.greatest(_image.least(h, h_for_w), 1)
    cw = _image.greatest(_image.least(w, w_for_h), 1)
    if not isinstance(h, int) or (ch, cw) != (h, w):
        x = _image.crop_to_bounding_box(x, (h - ch) // 2, (w - cw) // 2, ch, cw)
    return _image.resize(x, (th, tw), method=interpolation, antialias=antialias)


def pad_to_aspect_and_resize(x, th, tw, interpolation="bilinear", fill_value=0.0,
                             antialias=False):
    """Pads ``x`` evenly with ``fill_value`` to the aspect ratio tw/th, then resizes
    (Keras's ``pad_to_aspect_ratio``: the image is not distorted nor cropped)."""
    h, w, h_for_w, w_for_h = _aspect_sizes(x, th, tw)
    pad_h = (_image.greatest(h, h_for_w) - h) // 2
    pad_w = (_image.greatest(w, w_for_h) - w) // 2
    if not isinstance(h, int) or pad_h or pad_w:
        pads = [[0, 0]] * (x.ndim - 3) + [[pad_h, pad_h], [pad_w, pad_w], [0, 0]]
        if not isinstance(h, int):
            pads = _array.stack([_array.stack(p) for p in pads])
        x = _array.pad(x, pads, constant_values=_math.cast(fill_value, x.dtype))
    return _image.resize(x, (th, tw), method=interpolation, antialias=antialias)


def resize_images(x, size, interpolation="bilinear", crop_to_aspect_ratio=False,
                  pad_to_aspect_ratio=False, fill_value=0.0, antialias=False):
    """``[..., h, w, c]`` images resized to ``size``, optionally without distortion
    (``antialias``: a downscale filters with the widened kernel, as tf.image.resize)."""
    th, tw = size
    if crop_to_aspect_ratio:
        return crop_to_aspect_and_resize(x, th, tw, interpolation, antialias)
    if pad_to_aspect_ratio:
        return pad_to_aspect_and_resize(x, th, tw, interpolation, fill_value, antialias)
    return _image.resize(x, (th, tw), method=interpolation, antialias=antialias)


class Resizing(Layer):
    """Resizes images to ``(height, width)``.

    Args:
      height, width: the output size.
      interpolation: one of ``_RESIZE_METHODS`` ('bilinear', 'nearest', 'bicubic',
        'area', 'lanczos3', 'lanczos5', 'gaussian', 'mitchellcubic').
      crop_to_aspect_ratio: first crop the largest centred window with the target
        aspect ratio, so the image is not distorted.
      pad_to_aspect_ratio: first pad the image evenly with ``fill_value`` to the
        target aspect ratio, so it is neither distorted nor cropped.
      fill_mode: how padding is filled; only 'constant' is supported.
      fill_value: the padding value.
      antialias: when downscaling, widen the interpolation kernel to filter out
        aliasing (as ``tf.image.resize(antialias=True)``).
      data_format: only 'channels_last' (or None) is supported.
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = int(height)
        self.width = int(width)
        if interpolation not in _RESIZE_METHODS:
            raise ValueError(f"Invalid value for argument `interpolation`: expected one "
                             f"of {', '.join(_RESIZE_METHODS)}. Received: "
                             f"interpolation={interpolation!r}")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` "
                             "can be set to `True`.")
        if fill_mode != "constant":
            raise ValueError(f"Resizing supports fill_mode='constant' only. Received: "
                             f"fill_mode={fill_mode!r}")
        self.data_format = _channels_last_only("Resizing", data_format)
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = antialias

    @property
    def _casts_to_float(self):
        return self.interpolation != "nearest"

    def call(self, inputs):
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        if self.interpolation != "nearest" or x.dtype.is_floating:
            x = _to_float(x, self.compute_dtype)
        out = resize_images(x, (self.height, self.width), self.interpolation,
                            self.crop_to_aspect_ratio, self.pad_to_aspect_ratio,
                            self.fill_value, self.antialias)
        return _to_float(out, x.dtype) if out.dtype != x.dtype else out

    def compute_output_shape(self, input_shape):
        shape = list(TensorShape(input_shape).as_list())
        shape[-3:-1] = [self.height, self.width]
        return TensorShape(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"height": self.height, "width": self.width,
                       "interpolation": self.interpolation,
                       "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                       "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
                       "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                       "antialias": self.antialias, "data_format": self.data_format})
        return config


class CenterCrop(Layer):
    """Crops the central ``height`` x ``width`` window (an image smaller than that is
    cropped to the target aspect ratio and resized up, as Keras does)."""

    _casts_to_float = True

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = int(height)
        self.width = int(width)
        self.data_format = _channels_last_only("CenterCrop", data_format)

    def call(self, inputs):
        x = _to_float(inputs, self.compute_dtype)
        h, w = x.shape[-3], x.shape[-2]
        if h >= self.height and w >= self.width:
            return _image.crop_to_bounding_box(x, (h - self.height) // 2,
                                               (w - self.width) // 2, self.height,
                                               self.width)
        return crop_to_aspect_and_resize(x, self.height, self.width)

    def compute_output_shape(self, input_shape):
        shape = list(TensorShape(input_shape).as_list())
        shape[-3:-1] = [self.height, self.width]
        return TensorShape(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"height": self.height, "width": self.width,
                       "data_format": self.data_format})
        return config


def _channels_last_only(layer, data_format):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{layer} supports data_format='channels_last' only. "
                         f"Received: data_format={data_format!r}")
    return "channels_last"


class Identity(Layer):
    """Returns its inputs unchanged (a placeholder layer)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


__all__ = [
    "CenterCrop",
    "GroupNormalization",
    "Identity",
    "Normalization",
    "Rescaling",
    "Resizing",
]
