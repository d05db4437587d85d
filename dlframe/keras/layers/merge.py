"""Merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot)
and their functional helpers (``add([x, y])``...)."""

from dlframe.core.tensor_shape import TensorShape
from dlframe.keras.backend_extra import result_type
from dlframe.keras.engine.base_layer import Layer
from dlframe.ops import array as _array
from dlframe.ops import linalg as _linalg
from dlframe.ops import math as _math
from dlframe.ops import nn as _nn
from dlframe.ops import reduction as _red


def _dims(shape):
    return TensorShape(shape).as_list()


def _common_dtype(inputs):
    """``inputs`` cast to their Keras 3 result dtype (float32 + int64 -> float32), as
    Keras 3's merge ops promote mixed dtypes."""
    inputs = list(inputs)
    dtypes = {x.dtype.name for x in inputs if hasattr(x, "dtype")}
    if len(dtypes) < 2:
        return inputs
    target = result_type(*dtypes)
    return [x if x.dtype.name == target else _math.cast(x, target) for x in inputs]


class _Merge(Layer):
    """Elementwise merge of a list of same-shaped (broadcastable) inputs."""

    min_inputs = 1

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check_list(self, shapes):
        if not isinstance(shapes, (list, tuple)) or not shapes or not isinstance(
                shapes[0], (list, tuple, TensorShape)):
            raise ValueError("A merge layer should be called on a list of inputs. "
                             f"Received: input_shape={shapes} (not a list of shapes)")
        if len(shapes) < self.min_inputs:
            raise ValueError(f"A merge layer should be called on a list of at least "
                             f"{self.min_inputs} inputs. Got {len(shapes)} inputs. "
                             f"Full input_shape received: {shapes}")

    def build(self, input_shape):
        self._check_list(input_shape)
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        out = _dims(input_shape[0])
        for shape in input_shape[1:]:
            dims = _dims(shape)
            if len(dims) != len(out):
                raise ValueError("Inputs have incompatible shapes. Received shapes "
                                 f"{tuple(out)} and {tuple(dims)}")
            merged = []
            for a, b in zip(out, dims):
                if a is None or b is None:  # 1 broadcasts to the unknown size
                    known = a if b is None else b
                    merged.append(None if known == 1 else known)
                elif a == 1 or b == 1 or a == b:
                    merged.append(max(a, b) if 1 in (a, b) else a)
                else:
                    raise ValueError("Inputs have incompatible shapes. Received shapes "
                                     f"{tuple(_dims(input_shape[0]))} and {tuple(dims)}")
            out = merged
        return TensorShape(out)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError("A merge layer should be called on a list of inputs. "
                             f"Received: inputs={inputs} (not a list of tensors)")
        inputs = _common_dtype(inputs)
        out = inputs[0]
        for x in inputs[1:]:
            out = self._merge(out, x)
        return self._finish(out, len(inputs))

    def _finish(self, out, n):
        return out

    def compute_mask(self, inputs, mask=None):
        if mask is None or all(m is None for m in mask):
            return None
        out = None
        for m in mask:
            if m is not None:
                out = m if out is None else _math.logical_and(out, m)
        return out


def _elementwise(name, merge, doc, finish=None, min_inputs=1):
    attrs = {"_merge": staticmethod(merge), "__doc__": doc, "min_inputs": min_inputs}
    if finish is not None:
        attrs["_finish"] = finish
    cls = type(name, (_Merge,), attrs)
    cls.__module__ = __name__
    return cls


Add = _elementwise("Add", _math.add, "Sums a list of inputs elementwise.")
Multiply = _elementwise("Multiply", _math.multiply,
                        "Multiplies a list of inputs elementwise.")
Maximum = _elementwise("Maximum", _math.maximum, "Elementwise maximum of a list of inputs.")
Minimum = _elementwise("Minimum", _math.minimum, "Elementwise minimum of a list of inputs.")
Average = _elementwise("Average", _math.add, "Elementwise mean of a list of inputs.",
                       finish=lambda self, out, n: out / float(n))


class Subtract(_Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""

    def _check_list(self, shapes):
        super()._check_list(shapes)
        if len(shapes) != 2:
            raise ValueError("A `Subtract` layer should be called on exactly 2 inputs. "
                             f"Received: input_shape={shapes}")

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError("A `Subtract` layer should be called on exactly 2 inputs. "
                             f"Received: inputs={inputs}")
        return _math.subtract(*_common_dtype(inputs))


class Concatenate(_Merge):
    """Concatenates a list of inputs along ``axis`` (default -1)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        shapes = [_dims(s) for s in input_shape]
        rank = len(shapes[0])
        axis = self.axis % rank if rank else 0
        out = list(shapes[0])
        for s in shapes[1:]:
            ok = len(s) == rank and all(
                a is None or b is None or a == b
                for i, (a, b) in enumerate(zip(out, s)) if i != axis)
            if not ok:
                raise ValueError(
                    "A `Concatenate` layer requires inputs with matching shapes except "
                    "for the concatenation axis. Received: input_shape="
                    f"{[tuple(x) for x in shapes]}")
            out[axis] = None if out[axis] is None or s[axis] is None else out[axis] + s[axis]
            out = [b if (a is None and i != axis) else a for i, (a, b) in
                   enumerate(zip(out, s))]
        return TensorShape(out)

    def call(self, inputs):
        return _array.concat(_common_dtype(inputs), axis=self.axis)

    def compute_mask(self, inputs, mask=None):
        if mask is None or all(m is None for m in mask):
            return None
        parts = []
        for x, m in zip(inputs, mask):
            shape = list(x.shape)
            if m is None:
                m = _array.ones(shape[:-1] + [1], dtype="float32")
            else:
                m = _math.cast(m, "float32")
                if len(m.shape) < len(shape):
                    m = _array.expand_dims(m, -1)
                m = _array.broadcast_to(m, shape[:-1] + [m.shape[-1]])
            parts.append(m)
        joined = _array.concat(parts, axis=self.axis)
        return _math.greater(_red.reduce_min(joined, axis=-1), 0.0)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Dot(_Merge):
    """Dot product of two samples along ``axes`` (batch-wise); optional L2 ``normalize``."""

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int) and not (isinstance(axes, (list, tuple))
                                              and len(axes) == 2):
            raise TypeError("Invalid type/value for `axes` argument. Expected an int or "
                            f"a list/tuple of 2 ints. Received: axes={axes}")
        self.axes = axes
        self.normalize = normalize
        self.supports_masking = False

    def _axes_for(self, r1, r2):
        axes = [self.axes, self.axes] if isinstance(self.axes, int) else list(self.axes)
        return [a % r for a, r in zip(axes, (r1, r2))]

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError("A `Dot` layer should be called on a list of 2 inputs. "
                             f"Received: input_shape={input_shape}")
        s1, s2 = _dims(input_shape[0]), _dims(input_shape[1])
        a1, a2 = self._axes_for(len(s1), len(s2))
        if s1[a1] is not None and s2[a2] is not None and s1[a1] != s2[a2]:
            raise ValueError("Incompatible input shapes: "
                             f"axis values {s1[a1]} (at axis {a1}) != {s2[a2]} "
                             f"(at axis {a2}). Full input shapes: {tuple(s1)}, {tuple(s2)}")
        out = [s1[0]] + [d for i, d in enumerate(s1) if i not in (0, a1)] + [
            d for i, d in enumerate(s2) if i not in (0, a2)]
        return TensorShape(out if len(out) > 1 else out + [1])

    def call(self, inputs):
        x, y = inputs
        a1, a2 = self._axes_for(len(x.shape), len(y.shape))
        if self.normalize:
            x = _nn.l2_normalize(x, axis=a1)
            y = _nn.l2_normalize(y, axis=a2)
        rx, ry = len(x.shape), len(y.shape)
        # x -> (batch, rest..., contracted), y -> (batch, contracted, rest...)
        x = _array.transpose(x, [i for i in range(rx) if i != a1] + [a1])
        y = _array.transpose(y, [0, a2] + [i for i in range(1, ry) if i != a2])
        xs, ys = list(x.shape), list(y.shape)
        x2 = _array.reshape(x, [xs[0], -1, xs[-1]])
        y2 = _array.reshape(y, [ys[0], ys[1], -1])
        out = _linalg.matmul(x2, y2)
        final = [xs[0]] + xs[1:-1] + ys[2:]
        return _array.reshape(out, final if len(final) > 1 else final + [1])

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config


def add(inputs, **kwargs):
    """Functional interface to the Add layer."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional interface to the Concatenate layer."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
