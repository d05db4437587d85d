"""Pooling layers: Max/AveragePooling1D/2D/3D, the global pooling layers and the
adaptive pooling layers (fixed output size)."""

from dlframe.core.tensor import convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.engine.input_spec import InputSpec
from dlframe.keras.layers import ragged_inputs
from dlframe.keras.layers.convolutional import (
    _FORMATS,
    _check_padding,
    conv_output_length,
    normalize_tuple,
)
from dlframe.keras.layers.reshaping import _data_format
from dlframe.ops import array as _array
from dlframe.ops import array_index as _index
from dlframe.ops import math as _math
from dlframe.ops import pooling as _pool
from dlframe.ops import ragged_ops as _ragged
from dlframe.ops import reduction as _red


class Pooling(Layer):
    """Windowed max/average pooling over ``rank`` spatial dimensions."""

    rank = 2
    mode = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size")
        self.strides = normalize_tuple(strides if strides is not None else pool_size,
                                       self.rank, "strides")
        self.padding = _check_padding(padding, ("valid", "same"))
        self.data_format = _data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    @property
    def pool_mode(self):
        """Keras 3's name of the pooling kind: 'max' or 'average'."""
        return "max" if self.mode == "max" else "average"

    def call(self, inputs):
        fmt = _FORMATS[self.rank][self.data_format == "channels_first"]
        fn = _pool.max_pool if self.mode == "max" else _pool.avg_pool
        return fn(inputs, list(self.pool_size), list(self.strides), self.padding.upper(),
                  data_format=fmt)

    def compute_output_shape(self, input_shape):
        dims = TensorShape(input_shape).as_list()
        axes = range(2, 2 + self.rank) if self.data_format == "channels_first" else range(
            1, 1 + self.rank)
        for i, axis in enumerate(axes):
            dims[axis] = conv_output_length(dims[axis], self.pool_size[i], self.padding,
                                            self.strides[i])
            if dims[axis] is not None and dims[axis] <= 0:
                raise ValueError(f"Computed output size would be negative in layer "
                                 f"{self.name}. Received input shape "
                                 f"{tuple(TensorShape(input_shape).as_list())}, "
                                 f"pool_size={self.pool_size}.")
        return TensorShape(dims)

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "padding": self.padding,
                       "strides": self.strides, "data_format": self.data_format})
        return config


def _pooling(name, rank, mode, default_pool):
    class Pool(Pooling):
        def __init__(self, pool_size=default_pool, strides=None, padding="valid",
                     data_format=None, **kwargs):
            super().__init__(pool_size, strides, padding, data_format, **kwargs)
    Pool.rank, Pool.mode = rank, mode
    Pool.__name__ = Pool.__qualname__ = name
    Pool.__doc__ = f"{'Max' if mode == 'max' else 'Average'} pooling over {rank}-D windows."
    return Pool


MaxPooling1D = _pooling("MaxPooling1D", 1, "max", 2)
MaxPooling2D = _pooling("MaxPooling2D", 2, "max", (2, 2))
MaxPooling3D = _pooling("MaxPooling3D", 3, "max", (2, 2, 2))
AveragePooling1D = _pooling("AveragePooling1D", 1, "avg", 2)
AveragePooling2D = _pooling("AveragePooling2D", 2, "avg", (2, 2))
AveragePooling3D = _pooling("AveragePooling3D", 3, "avg", (2, 2, 2))


class GlobalPooling(Layer):
    """Max/mean over all spatial dimensions (``keepdims`` keeps them as size 1)."""

    rank = 2
    mode = "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format)
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=self.rank + 2)
        self.supports_masking = self.rank == 1 and self.mode == "avg"

    def _axes(self):
        start = 2 if self.data_format == "channels_first" else 1
        return list(range(start, start + self.rank))

    def call(self, inputs, mask=None):
        axes = self._axes()
        if ragged_inputs.is_ragged(inputs):
            if mask is None:   # each row pools over its own length
                return _ragged.reduce(self.mode.replace("avg", "mean"), inputs, axes,
                                      self.keepdims)
            inputs, mask, _ = ragged_inputs.dense_with_mask(inputs, mask, self.name)
        if mask is not None and self.mode == "avg":
            steps_axis = axes[0]
            m = _math.cast(mask, inputs.dtype)
            m = _array.expand_dims(m, 2 if steps_axis == 1 else 1)
            total = _red.reduce_sum(inputs * m, axis=steps_axis, keepdims=self.keepdims)
            count = _red.reduce_sum(m, axis=steps_axis, keepdims=self.keepdims)
            return total / count   # Keras 2 and 3: a fully masked row is 0/0 = NaN
        fn = _red.reduce_max if self.mode == "max" else _red.reduce_mean
        return fn(inputs, axis=axes, keepdims=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        dims = TensorShape(input_shape).as_list()
        axes = self._axes()
        if self.keepdims:
            return TensorShape([1 if i in axes else d for i, d in enumerate(dims)])
        return TensorShape([d for i, d in enumerate(dims) if i not in axes])

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


def _variants(base, prefix, doc):
    """The subclasses ``{prefix}MaxPooling1D`` .. ``3D`` then ``{prefix}Average
    Pooling1D`` .. ``3D`` of ``base``, with ``doc(rank, mode)`` as docstrings."""
    classes = []
    for mode, word in (("max", "Max"), ("avg", "Average")):
        for rank in (1, 2, 3):
            cls = type(f"{prefix}{word}Pooling{rank}D", (base,),
                       {"rank": rank, "mode": mode, "__doc__": doc(rank, mode)})
            cls.__module__ = __name__
            classes.append(cls)
    return classes


(GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D, GlobalAveragePooling1D,
 GlobalAveragePooling2D, GlobalAveragePooling3D) = _variants(
    GlobalPooling, "Global",
    lambda rank, mode: f"Global {mode} pooling over {rank}-D inputs.")

def _adaptive_bins(n, out):
    """Gather indices [out, width] of output bin i = input [floor(i n/out),
    ceil((i+1) n/out)) (short bins repeat their last index) and the averaging
    weights (1/len on real entries, 0 on the repeats)."""
    idx, weights = [], []
    starts = [(i * n) // out for i in range(out)]
    ends = [-(-((i + 1) * n) // out) for i in range(out)]
    width = max(e - b for b, e in zip(starts, ends))
    for b, e in zip(starts, ends):
        idx.append([min(b + j, e - 1) for j in range(width)])
        weights.append([1.0 / (e - b) if j < e - b else 0.0 for j in range(width)])
    return idx, weights


class AdaptivePooling(Layer):
    """Pools each spatial dim of length n into ``output_size`` bins (bin i covers
    ``[floor(i n / out), ceil((i + 1) n / out))``), as PyTorch's adaptive pooling."""

    rank = 2
    mode = "max"

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.output_size = normalize_tuple(output_size, self.rank, "output_size")
        if any(d <= 0 for d in self.output_size):
            raise ValueError(f"`output_size` must be positive. Received: "
                             f"output_size={output_size!r}")
        self.data_format = _data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _axes(self):
        start = 2 if self.data_format == "channels_first" else 1
        return list(range(start, start + self.rank))

    def call(self, inputs):
        x = inputs
        for axis, out in zip(self._axes(), self.output_size):
            idx, weights = _adaptive_bins(x.shape[axis], out)
            g = _index.gather(x, idx, axis=axis)  # [..., out, width, ...]
            if self.mode == "max":
                x = _red.reduce_max(g, axis=axis + 1)
            else:
                shape = [1] * len(g.shape)
                shape[axis], shape[axis + 1] = len(weights), len(weights[0])
                w = _array.reshape(convert_to_tensor(weights, dtype=x.dtype), shape)
                x = _red.reduce_sum(g * w, axis=axis + 1)
        return x

    def compute_output_shape(self, input_shape):
        dims = TensorShape(input_shape).as_list()
        for axis, out in zip(self._axes(), self.output_size):
            dims[axis] = out
        return TensorShape(dims)

    def get_config(self):
        config = super().get_config()
        config.update({"output_size": self.output_size, "data_format": self.data_format})
        return config


def _adaptive_doc(rank, mode):
    return (f"Adaptive {'max' if mode == 'max' else 'average'} pooling of {rank}-D "
            "inputs to ``output_size``.\n\n    Args:\n      output_size: int or "
            "tuple of ints, the output's spatial size.\n      data_format: "
            "'channels_last' (default) or 'channels_first'.\n")


(AdaptiveMaxPooling1D, AdaptiveMaxPooling2D, AdaptiveMaxPooling3D,
 AdaptiveAveragePooling1D, AdaptiveAveragePooling2D,
 AdaptiveAveragePooling3D) = _variants(AdaptivePooling, "Adaptive", _adaptive_doc)

MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalMaxPool3D = GlobalMaxPooling3D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D
