"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector, UpSampling, ZeroPadding,
Cropping."""

import numbers

from dlframe.core.tensor_shape import TensorShape
from dlframe.keras import backend
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.engine.input_spec import InputSpec
from dlframe.ops import array as _array
from dlframe.ops import image as _image
from dlframe.ops import math as _math
from dlframe.ops.array_index import repeat as _repeat


def _data_format(value):
    value = value or backend.image_data_format()
    if value not in ("channels_last", "channels_first"):
        raise ValueError("The `data_format` argument must be one of 'channels_first', "
                         f"'channels_last'. Received: data_format={value!r}")
    return value


def _dims(shape):
    return TensorShape(shape).as_list()


class Flatten(Layer):
    """Flattens everything but the batch dimension: (batch, ...) -> (batch, n)."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs):
        if self.data_format == "channels_first" and len(inputs.shape) > 2:
            inputs = _array.transpose(inputs, [0] + list(range(2, len(inputs.shape))) + [1])
        if len(inputs.shape) == 1:
            return _array.expand_dims(inputs, 1)
        return _array.reshape(inputs, [inputs.shape[0], -1])

    def compute_output_shape(self, input_shape):
        dims = _dims(input_shape)
        if len(dims) == 1:
            return TensorShape([dims[0], 1])
        n = 1
        for d in dims[1:]:
            n = None if d is None or n is None else n * d
        return TensorShape([dims[0], n])

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshapes to ``(batch,) + target_shape``; one entry may be -1."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)
        if sum(1 for d in self.target_shape if d == -1) > 1:
            raise ValueError("There must be at most one unknown dimension in "
                             f"target_shape. Received: target_shape={self.target_shape}")

    def _resolve(self, input_dims):
        target = list(self.target_shape)
        known = 1
        for d in input_dims[1:]:
            known = None if d is None or known is None else known * d
        if -1 in target and known is not None:
            rest = 1
            for d in target:
                if d != -1:
                    rest *= d
            if rest == 0 or known % rest:
                raise ValueError(f"The total size of the tensor must be unchanged. "
                                 f"Received: input_shape={tuple(input_dims[1:])}, "
                                 f"target_shape={self.target_shape}")
            target[target.index(-1)] = known // rest
        elif -1 not in target and known is not None:
            total = 1
            for d in target:
                total *= d
            if total != known:
                raise ValueError(f"The total size of the tensor must be unchanged. "
                                 f"Received: input_shape={tuple(input_dims[1:])}, "
                                 f"target_shape={self.target_shape}")
        return [None if d == -1 else d for d in target]

    def call(self, inputs):
        self._resolve(list(inputs.shape))
        return _array.reshape(inputs, [inputs.shape[0]] + list(self.target_shape))

    def compute_output_shape(self, input_shape):
        dims = _dims(input_shape)
        return TensorShape([dims[0]] + self._resolve(dims))

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config


class Permute(Layer):
    """Permutes non-batch dimensions; ``dims`` are 1-based (e.g. (2, 1))."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError("Invalid permutation argument `dims` for Permute Layer. The "
                             "set of indices in `dims` must be consecutive and start "
                             f"from 1. Received dims={self.dims}")
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs):
        return _array.transpose(inputs, [0] + list(self.dims))

    def compute_output_shape(self, input_shape):
        dims = _dims(input_shape)
        return TensorShape([dims[0]] + [dims[i] for i in self.dims])

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config


class RepeatVector(Layer):
    """Repeats a (batch, features) input ``n`` times: (batch, n, features)."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        return _array.tile(_array.expand_dims(inputs, 1), [1, self.n, 1])

    def compute_output_shape(self, input_shape):
        dims = _dims(input_shape)
        return TensorShape([dims[0], self.n, dims[1]])

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


def _tuple(value, n, name):
    if isinstance(value, int):
        return (value,) * n
    value = tuple(value)
    if len(value) != n:
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. "
                         f"Received: {name}={value}")
    return value


class _Spatial(Layer):
    """Shared channels_first handling for the N-D spatial reshaping layers."""

    rank = 2

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format) if self.rank > 1 else "channels_last"
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _to_last(self, x):
        if self.data_format == "channels_first":
            return _array.transpose(x, [0] + list(range(2, self.rank + 2)) + [1])
        return x

    def _from_last(self, x):
        if self.data_format == "channels_first":
            return _array.transpose(x, [0, self.rank + 1] + list(range(1, self.rank + 1)))
        return x

    def _spatial_axes(self):
        start = 2 if self.data_format == "channels_first" else 1
        return list(range(start, start + self.rank))

    def call(self, inputs):
        return self._from_last(self._apply(self._to_last(inputs)))

    def compute_output_shape(self, input_shape):
        dims = _dims(input_shape)
        for i, axis in enumerate(self._spatial_axes()):
            if dims[axis] is not None:
                dims[axis] = self._out_dim(i, dims[axis])
        return TensorShape(dims)

    def get_config(self):
        config = super().get_config()
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class UpSampling1D(_Spatial):
    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = int(size)

    def _apply(self, x):
        return _repeat(x, self.size, axis=1)

    def _out_dim(self, i, d):
        return d * self.size

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size
        return config


class _UpSampling(_Spatial):
    """Repeats each spatial dimension ``size[i]`` times (nearest neighbour)."""

    def __init__(self, size, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.size = _tuple(size, self.rank, "size")

    def _apply(self, x):
        for axis, n in enumerate(self.size, start=1):
            x = _repeat(x, n, axis=axis)
        return x

    def _out_dim(self, i, d):
        return d * self.size[i]

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size
        return config


# Keras 3 accepts the first five (and 'area'); Keras 2 also gaussian/mitchellcubic
_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area",
                   "gaussian", "mitchellcubic")


class UpSampling2D(_UpSampling):
    """Upsamples rows and columns by ``size`` factors.

    Args:
      size: an int or 2 ints, the factors for (rows, columns).
      data_format: 'channels_last' (default) or 'channels_first'.
      interpolation: 'nearest' (repeats pixels), or one of 'bilinear', 'bicubic',
        'lanczos3', 'lanczos5', 'area', 'gaussian', 'mitchellcubic', resampled as
        ``tf.image.resize`` does (half-pixel centers, no antialiasing).
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format=data_format, **kwargs)
        if interpolation not in _INTERPOLATIONS:
            raise ValueError("Invalid value for argument `interpolation`. Expected one "
                             f"of {_INTERPOLATIONS}. Received: "
                             f"interpolation={interpolation!r}")
        self.interpolation = interpolation

    def _apply(self, x):
        if self.interpolation == "nearest":
            return super()._apply(x)
        h, w = x.shape[1], x.shape[2]
        y = _image.resize(x, (h * self.size[0], w * self.size[1]),
                          method=self.interpolation)
        return y if y.dtype == x.dtype else _math.cast(y, x.dtype)

    def get_config(self):
        config = super().get_config()
        config["interpolation"] = self.interpolation
        return config


def _bad_pairs(value, rank, name):
    shapes = "a tuple of 2 ints" if rank == 1 else (
        f"a tuple of {rank} ints or a tuple of {rank} tuples of 2 ints")
    return ValueError(f"`{name}` should be an int or {shapes} (all >= 0). Received: "
                      f"{name}={value!r}")


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _as_pair(p):
    """An int or two ints -> a (before, after) pair of ints >= 0, else None."""
    if _is_int(p):
        p = (p, p)
    if not isinstance(p, (tuple, list)) or len(p) != 2:
        return None
    if not all(_is_int(v) and v >= 0 for v in p):
        return None
    return tuple(int(v) for v in p)


def _pad_pairs(value, rank, name="padding"):
    """``padding``/``cropping`` as ``rank`` (before, after) pairs: from an int, ``rank``
    ints or ``rank`` pairs (for rank 1 an int or one pair); else a ValueError."""
    if rank == 1:
        pairs = (_as_pair(value),)
    elif _is_int(value):
        pairs = (_as_pair(value),) * rank
    elif isinstance(value, (tuple, list)) and len(value) == rank:
        pairs = tuple(_as_pair(p) for p in value)
    else:
        pairs = (None,)
    if any(p is None for p in pairs):
        raise _bad_pairs(value, rank, name)
    return pairs


class ZeroPadding1D(_Spatial):
    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format)   # Keras 3 pads either layout
        self.padding = _pad_pairs(padding, 1)[0]

    def _apply(self, x):
        return _array.pad(x, [[0, 0], list(self.padding), [0, 0]])

    def _out_dim(self, i, d):
        return d + sum(self.padding)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config


class _ZeroPadding(_Spatial):
    """Pads each spatial dimension with zeros by a (before, after) pair."""

    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.padding = _pad_pairs(padding, self.rank)

    def _apply(self, x):
        return _array.pad(x, [[0, 0]] + [list(p) for p in self.padding] + [[0, 0]])

    def _out_dim(self, i, d):
        return d + sum(self.padding[i])

    def get_config(self):
        config = super().get_config()
        config["padding"] = self.padding
        return config


class ZeroPadding2D(_ZeroPadding):
    """Pads rows and columns with zeros: int, (rows, cols) or ((top, bottom), (l, r))."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format=data_format, **kwargs)


class Cropping1D(_Spatial):
    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pad_pairs(cropping, 1, "cropping")[0]

    def _apply(self, x):
        a, b = self.cropping
        return x[:, a:x.shape[1] - b, :]

    def _out_dim(self, i, d):
        return d - sum(self.cropping)

    def get_config(self):
        config = super().get_config()
        config["cropping"] = self.cropping
        return config


class _Cropping(_Spatial):
    """Crops each spatial dimension by a (before, after) pair."""

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.cropping = _pad_pairs(cropping, self.rank, "cropping")

    def _apply(self, x):
        spatial = x.shape[1:self.rank + 1]
        if any(a + b >= n for (a, b), n in zip(self.cropping, spatial)):
            raise ValueError(f"Cropping {self.cropping} is too large for input of shape "
                             f"{tuple(x.shape)} in layer {self.name}.")
        kept = tuple(slice(a, n - b) for (a, b), n in zip(self.cropping, spatial))
        return x[(slice(None),) + kept + (slice(None),)]

    def _out_dim(self, i, d):
        return d - sum(self.cropping[i])

    def get_config(self):
        config = super().get_config()
        config["cropping"] = self.cropping
        return config


class Cropping2D(_Cropping):
    """Crops rows and columns: int, (rows, cols) or ((top, bottom), (left, right))."""

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format=data_format, **kwargs)


class UpSampling3D(_UpSampling):
    """Repeats the three spatial dimensions ``size`` times each (nearest neighbour).

    Args:
      size: an int or 3 ints, the factors for (dim1, dim2, dim3).
      data_format: 'channels_last' (default) or 'channels_first'.
    """

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format=data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Pads the three spatial dimensions with zeros.

    Args:
      padding: an int, 3 ints (symmetric per dimension) or 3 pairs (before, after).
      data_format: 'channels_last' (default) or 'channels_first'.
    """

    rank = 3

    def __init__(self, padding=(1, 1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format=data_format, **kwargs)


class Cropping3D(_Cropping):
    """Crops the three spatial dimensions.

    Args:
      cropping: an int, 3 ints (symmetric per dimension) or 3 pairs (before, after).
      data_format: 'channels_last' (default) or 'channels_first'.
    """

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format=data_format, **kwargs)
