"""InputSpec: the rank/dtype/axis constraints a layer places on its inputs."""

from dlframe.core.tensor_shape import TensorShape


class InputSpec:
    """Specifies rank, dtype and shape of every input to a layer.

    Args:
      dtype: expected dtype of the input.
      shape: expected shape (None entries match anything).
      ndim, max_ndim, min_ndim: expected / maximum / minimum rank.
      axes: dict mapping axis index to the expected size of that axis.
      allow_last_axis_squeeze: accept a missing or extra trailing axis of size 1.
      name: expected input name (for dict inputs).
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes=None, allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = None if dtype is None else str(getattr(dtype, "name", dtype))
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        axes = axes or {}
        try:
            self.axes = {int(k): v for k, v in axes.items()}
        except (ValueError, TypeError) as e:
            raise TypeError(f"Argument `axes` must be a dict with integer keys. "
                            f"Received: axes={axes}") from e
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            top = (self.ndim if self.ndim is not None else self.max_ndim) - 1
            if max(self.axes) > top:
                raise ValueError(f"Axis {max(self.axes)} is greater than the maximum "
                                 f"allowed value: {top}")

    def __repr__(self):
        spec = [f"dtype={self.dtype}" if self.dtype else "",
                f"shape={self.shape}" if self.shape else "",
                f"ndim={self.ndim}" if self.ndim else "",
                f"max_ndim={self.max_ndim}" if self.max_ndim else "",
                f"min_ndim={self.min_ndim}" if self.min_ndim else "",
                f"axes={self.axes}" if self.axes else ""]
        return f"InputSpec({', '.join(x for x in spec if x)})"

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes,
                "optional": self.optional}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _shape_of(x):
    shape = getattr(x, "shape", None)
    return TensorShape(shape) if shape is not None else TensorShape(None)


def _display(shape):
    return str(tuple(shape.as_list())) if shape.rank is not None else "<unknown>"


def assert_input_compatibility(input_spec, inputs, layer_name):
    """Raises ValueError naming the layer when ``inputs`` violate ``input_spec``."""
    if not input_spec:
        return
    from dlframe.keras.utils import tree
    specs = tree.flatten(input_spec)
    if isinstance(inputs, dict) and any(s.name for s in specs if s is not None):
        for s in specs:
            if s is not None and s.name and s.name not in inputs and not s.optional:
                raise ValueError(
                    f'Missing data for input "{s.name}". You passed a data dictionary '
                    f"with keys {list(inputs)}. Expected the following keys: "
                    f"{[s.name for s in specs if s is not None]}")
        inputs = [inputs.get(s.name) for s in specs]
    flat = tree.flatten(inputs)
    if len(flat) != len(specs):
        raise ValueError(f'Layer "{layer_name}" expects {len(specs)} input(s), but it '
                         f"received {len(flat)} input tensors. Inputs received: {inputs}")
    for index, (x, spec) in enumerate(zip(flat, specs)):
        if spec is None or (x is None and spec.optional):
            continue
        if x is None and spec.name:   # a functional model's named input
            raise ValueError(f"The input '{spec.name}' is not optional, but None was "
                             "passed. Please provide a valid tensor.")
        if not hasattr(x, "shape"):
            raise TypeError(f'Inputs to layer "{layer_name}" should be tensors. Got: {x}')
        shape = _shape_of(x)
        ndim = shape.rank
        head = f'Input {index} of layer "{layer_name}" is incompatible with the layer: '
        if spec.ndim is not None and not spec.allow_last_axis_squeeze:
            if ndim != spec.ndim:
                raise ValueError(head + f"expected ndim={spec.ndim}, found ndim={ndim}. "
                                 f"Full shape received: {_display(shape)}")
        if spec.max_ndim is not None and ndim is not None and ndim > spec.max_ndim:
            raise ValueError(head + f"expected max_ndim={spec.max_ndim}, found "
                             f"ndim={ndim}")
        if spec.min_ndim is not None and ndim is not None and ndim < spec.min_ndim:
            raise ValueError(head + f"expected min_ndim={spec.min_ndim}, found "
                             f"ndim={ndim}. Full shape received: {_display(shape)}")
        if spec.dtype is not None:
            dtype = getattr(x.dtype, "name", str(x.dtype))
            if dtype != spec.dtype:
                raise ValueError(head + f"expected dtype={spec.dtype}, found "
                                 f"dtype={dtype}")
        if spec.axes and ndim is not None:
            for axis, value in spec.axes.items():
                if value is None:
                    continue
                i = axis if axis >= 0 else ndim + axis
                if i < 0 or i >= ndim or shape[i] not in (value, None):
                    raise ValueError(
                        head + f"expected axis {axis} of input shape to have value "
                        f"{value}, but received input with shape {_display(shape)}")
        if spec.shape is not None and ndim is not None:
            dims = shape.as_list()
            if spec.allow_last_axis_squeeze:
                if dims and dims[-1] == 1:
                    dims = dims[:-1]
                want = list(spec.shape)
                if want and want[-1] == 1:
                    want = want[:-1]
            else:
                want = list(spec.shape)
            # Keras 2 compares squeezed shapes dim by dim (zip): a [batch] feature
            # of batch 1 fits an Input(shape=(1,)) whose last axis is squeezed
            if (len(dims) != len(want) and not spec.allow_last_axis_squeeze) or any(
                    w is not None and d is not None and w != d for w, d in zip(want, dims)):
                raise ValueError(head + f"expected shape={spec.shape}, found "
                                 f"shape={_display(shape)}")
