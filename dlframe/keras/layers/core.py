"""Core layers: Dense, Activation, Masking, Lambda and operator layers
(Embedding: ``embedding.py``)."""

import base64
import inspect
import marshal
import sys
import types

from dlframe.core.tensor_shape import TensorShape
from dlframe.errors import InvalidArgumentError
from dlframe.io.sparse_tensor import SparseTensor
from dlframe.keras import activations, constraints, initializers, regularizers
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.engine.input_spec import InputSpec
from dlframe.keras.layers.layer_config import (
    reject_keras3_extensions,
    weight_options_config,
)
from dlframe.keras.layers.lora import LoraMixin, lora_weight_property
from dlframe.keras.utils import generic_utils, tree
from dlframe.ops import array as _array
from dlframe.ops import linalg as _linalg
from dlframe.ops import math as _math
from dlframe.ops import math_binary as _math_binary
from dlframe.ops import names as _names
from dlframe.ops import nn as _nn
from dlframe.ops import reduction as _red
from dlframe.ops import slicing as _slicing
from dlframe.ops import sparse_math as _sparse_math


def _positive_int(value, name):
    if hasattr(value, "__index__") and not isinstance(value, bool):
        value = value.__index__()  # NumPy integers (reduce_prod(shape).numpy())
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"Received an invalid value for `{name}`, expected a positive "
                         f"integer. Received: {name}={value!r}")
    return value




class Dense(LoraMixin, Layer):
    """``activation(dot(inputs, kernel) + bias)`` on the last axis.

    Args:
      units: positive int, output dimension.
      activation: activation name or callable (default linear).
      use_bias: whether to add a bias vector.
      kernel_initializer, bias_initializer: initializers (glorot_uniform, zeros).
      kernel_regularizer, bias_regularizer, activity_regularizer: optional penalties.
      kernel_constraint, bias_constraint: optional projections.
      lora_rank, lora_alpha: optional LoRA adapter (see ``enable_lora``).
    """

    _casts_to_float = True   # integer inputs are cast: compute-dtype outputs

    kernel = lora_weight_property("kernel")

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None,
                 lora_alpha=None, quantization_config=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        reject_keras3_extensions(self, quantization_config=quantization_config)
        self._init_lora(lora_rank, lora_alpha)
        self.units = _positive_int(int(units) if isinstance(units, float) and
                                   units.is_integer() else units, "units")
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        last = TensorShape(input_shape)[-1]
        if last is None:
            raise ValueError("The last dimension of the inputs to a Dense layer should be "
                             f"defined. Found None. Full input shape received: "
                             f"{tuple(TensorShape(input_shape).as_list())}")
        self.kernel = self.add_weight("kernel", shape=[last, self.units],
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = self.add_weight("bias", shape=[self.units],
                                    initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: last})
        self.built = True
        self._build_lora()

    def call(self, inputs):
        if not inputs.dtype.is_floating:
            inputs = _math.cast(inputs, self.compute_dtype)
        kernel = self.kernel
        if kernel.dtype != inputs.dtype:
            kernel = _math.cast(kernel, inputs.dtype)
        if isinstance(inputs, SparseTensor):   # as Keras: a sparse-dense product
            out = _sparse_math.sparse_dense_matmul(inputs, kernel)
        elif len(inputs.shape) == 2:
            out = _linalg.matmul(inputs, kernel)
        else:
            # the last leading axis (a sequence's) stays -1, resolved when a compiled
            # graph runs: graph loops over growing sequences (decoders) replay right
            lead = list(inputs.shape[:-1])
            if all(lead[:-1]) and self.units:   # (-1 cannot resolve from 0 values)
                lead[-1] = -1
            flat = _array.reshape(inputs, [-1, inputs.shape[-1]])
            out = _array.reshape(_linalg.matmul(flat, kernel), lead + [self.units])
        if self.use_bias:
            bias = self.bias if self.bias.dtype == out.dtype else _math.cast(self.bias,
                                                                             out.dtype)
            out = _nn.bias_add(out, bias)
        return self.activation(out) if self.activation is not None else out

    def compute_output_shape(self, input_shape):
        shape = TensorShape(input_shape)
        if shape.rank is not None and shape[-1] is None:
            raise ValueError("The last dimension of the input shape of a Dense layer "
                             "should be defined. Found None. Received: "
                             f"input_shape={tuple(shape.as_list())}")
        return TensorShape(shape.as_list()[:-1] + [self.units])

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units, "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_options_config(self, "kernel", "bias", activity=True),
            "quantization_config": None, **self._lora_config()})
        return config


class Activation(Layer):
    """Applies an activation function (name or callable)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Masking(Layer):
    """Masks timesteps whose features all equal ``mask_value`` (and zeroes them)."""

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if mask_value is None or isinstance(mask_value, str):
            raise ValueError("Invalid value received for argument `mask_value`: expected "
                             f"a number. Received: mask_value={mask_value!r}")
        self.supports_masking = True
        self.mask_value = mask_value

    def _keep(self, inputs):
        differs = _math.cast(_math.not_equal(inputs, self.mask_value), "float32")
        return _math.greater(_red.reduce_max(differs, axis=-1), 0.0)

    def call(self, inputs):
        keep = _array.expand_dims(self._keep(inputs), -1)
        return inputs * _math.cast(keep, inputs.dtype)

    def compute_mask(self, inputs, mask=None):
        return self._keep(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config


# ---------------------------------------------------------------- Lambda
def func_dump(func):
    """Serializes a Python function's code (Keras 2's format: base64 marshal)."""
    code = base64.b64encode(marshal.dumps(func.__code__)).decode("ascii")
    closure = tuple(c.cell_contents for c in func.__closure__) if func.__closure__ else None
    return code, func.__defaults__, closure


def func_load(code, defaults=None, closure=None, globs=None):
    if isinstance(code, (tuple, list)):
        code, defaults, closure = code
        if isinstance(defaults, list):
            defaults = tuple(defaults)
    raw = marshal.loads(base64.b64decode(code.encode("ascii")))

    def cell(value):
        return (lambda: value).__closure__[0]
    cells = tuple(cell(v) for v in closure) if closure else None
    return types.FunctionType(raw, globs if globs is not None else globals(),
                              name=raw.co_name, argdefs=defaults, closure=cells)


def _keras3_lambda_code(value):
    """``(code, defaults, closure)`` of a Keras 3 serialized lambda
    (``{"class_name": "__lambda__", "config": {...}}``), else None."""
    if value.get("class_name") != "__lambda__":
        return None
    inner = value.get("config") or {}
    return inner.get("code"), inner.get("defaults"), inner.get("closure")


def _keras3_named_function(value, main, custom_objects):
    """The function a Keras 3 ``{"class_name": "function", "config": name}`` entry
    names: a custom object, else an attribute of its recorded module or of the main
    script, else a Keras activation of that name."""
    name = value.get("config")
    found = (custom_objects or {}).get(name) or generic_utils.get_custom_objects().get(
        name)
    for module in (sys.modules.get(value.get("module") or ""), main):
        if found is None and module is not None:
            found = getattr(module, name, None)
    if found is None:
        try:
            found = activations.get(name)
        except ValueError:   # Keras 3 raises TypeError naming the function
            raise TypeError(
                f"Could not locate function '{name}'. Make sure custom classes and "
                "functions are decorated with "
                "`@keras.saving.register_keras_serializable()`, or pass them in "
                f"`custom_objects`. Full object config: {value!r}") from None
    if not callable(found):
        raise TypeError(f"Lambda's function {name!r} is not callable. Received: "
                         f"function={value!r}")
    return found


def _findable_by_name(fn):
    """Whether ``fn`` is a named top-level function its module still holds under
    that name (a library op such as ``tf.nn.relu`` included), so a Lambda stores it
    by name instead of bytecode."""
    name = getattr(fn, "__name__", "<lambda>")
    if not isinstance(fn, types.FunctionType) or name == "<lambda>" or \
            "<locals>" in getattr(fn, "__qualname__", "<locals>"):
        return False
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    found = getattr(module, name, None)
    return found is fn or (callable(found) and fn.__module__.startswith("dlframe."))


def _lambda_globals(module):
    """Globals for a reloaded lambda: this module's plus those of ``module`` (the one
    that defined it, when imported), so ``lambda t: tf.abs(t)`` finds ``tf``."""
    globs = dict(globals())
    if module is not None:
        globs.update(vars(module))
    return globs


class Lambda(Layer):
    """Wraps an arbitrary function of the inputs as a layer.

    Args:
      function: called as ``function(inputs, **arguments)``.
      output_shape: optional output shape (or function of the input shape).
      mask: optional output mask (or function ``mask(inputs, mask)``).
      arguments: extra keyword arguments for ``function``.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        if not callable(function):
            raise TypeError("Argument `function` of Lambda must be a callable. "
                            f"Received: function={function!r} of type {type(function)}")
        super().__init__(**kwargs)
        self.function = function
        self.arguments = arguments or {}
        self._output_shape = output_shape
        self.mask = mask
        self.supports_masking = mask is not None
        import inspect
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            params = {}
        self._fn_expects_training = "training" in params
        self._fn_expects_mask = "mask" in params

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask:
            kwargs["mask"] = mask
        if self._fn_expects_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    @property
    def _symbolic_outputs(self):
        # Without output_shape, Keras 2 runs the function on the symbolic inputs
        # themselves: their dtypes reach it (a string Input fed to table.lookup) and
        # the output dtype is the function's own (int64 ids, not the input's).
        if self._output_shape is not None:
            return None   # compute_output_shape tells the shape
        from dlframe.keras.engine import node as _node
        return lambda inputs, rest, kwargs: _node.dry_run_outputs(
            self, inputs, rest, kwargs)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return Layer.compute_output_shape(self, input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        batch = tree.flatten(input_shape)[0] if not isinstance(
            input_shape, TensorShape) else input_shape[0]
        if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(
                input_shape[0], (list, tuple, TensorShape)):
            batch = TensorShape(input_shape[0])[0]
        return TensorShape([batch] + list(self._output_shape))

    def get_config(self):
        config = super().get_config()
        fn = self.function
        name = getattr(fn, "__name__", None)
        if name and name != "<lambda>" and generic_utils.get_registered_object(
                generic_utils.get_registered_name(fn)) is fn:
            config.update({"function": generic_utils.get_registered_name(fn),
                           "function_type": "function"})
            return self._shape_config(config)
        # a tf.function-decorated function is saved as the function it compiles
        fn = getattr(fn, "python_function", fn)
        if not isinstance(fn, types.FunctionType):
            raise TypeError(f"Cannot serialize object {fn!r} of type {type(fn)} as "
                            "a Lambda's function: pass a named or lambda function, "
                            "or register the callable with "
                            "`keras.saving.register_keras_serializable()`.")
        if _findable_by_name(fn) and (fn.__closure__ or
                                      fn.__module__.startswith("dlframe.")):
            # a library op or a decorated function: its closure is not JSON, so by
            # name as Keras 3 (``.keras`` stores every named function so)
            config.update({"function": fn.__name__, "function_type": "function",
                           "module": fn.__module__})
        else:
            dumped = getattr(self, "_fn_dump", None)
            config.update({"function": dumped or func_dump(fn), "function_type": "lambda",
                           "module": getattr(self, "_fn_module", None) or getattr(
                               fn, "__module__", None)})
        return self._shape_config(config)

    def _shape_config(self, config):
        out = self._output_shape
        config["output_shape"] = func_dump(out) if callable(out) else out
        config["output_shape_type"] = "lambda" if callable(out) else "raw"
        config["arguments"] = self.arguments
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        fn = config.pop("function")
        kind = config.pop("function_type", "lambda")
        module = config.pop("module", None)
        # Keras 3 files do not record the module: the main script's is likeliest
        mod = sys.modules.get(module if isinstance(module, str) else "__main__")
        dumped = None
        if isinstance(fn, dict):   # Keras 3: a lambda's code or a named function
            code = _keras3_lambda_code(fn)
            if code is not None:
                fn, kind = code, "lambda"
            else:
                fn = _keras3_named_function(fn, mod, custom_objects)
        if isinstance(config.get("output_shape"), dict):
            code = _keras3_lambda_code(config["output_shape"])
            if code is not None:
                config["output_shape"], config["output_shape_type"] = code, "lambda"
        if callable(fn):
            pass
        elif isinstance(fn, str) and ">" not in fn and \
                generic_utils.get_registered_object(fn, custom_objects) is None:
            # a named function: custom object, else its module's, else an activation
            fn = _keras3_named_function({"config": fn, "module": module}, mod,
                                        custom_objects)
        elif kind == "function" or isinstance(fn, str):
            fn = generic_utils.deserialize_keras_object(fn, custom_objects=custom_objects,
                                                        printable_module_name="function")
        else:   # the lambda's names resolve in the module that defined it
            dumped, fn = fn, func_load(fn, globs=_lambda_globals(mod))
        if config.pop("output_shape_type", "raw") == "lambda":
            config["output_shape"] = func_load(config["output_shape"],
                                               globs=_lambda_globals(mod))
        config.pop("output_shape_module", None)
        config.pop("mask_type", None)
        layer = cls(fn, **config)
        layer._fn_module = module
        if dumped is not None:
            layer._fn_dump = tuple(dumped) if isinstance(dumped, list) else dumped
        return layer


# ---------------------------------------------------------------- operator layers
def _getitem(x, key=None, slice_spec=None):
    """``x[key]``; a list key (a tuple after a JSON round trip) indexes as a tuple,
    as TF's slicing reads it; ``slice_spec`` is Keras 2's SlicingOpLambda argument."""
    key = slice_spec if key is None and slice_spec is not None else key
    if isinstance(key, list):
        key = tuple(_keras2_slice(k) for k in key)
    return x[_keras2_slice(key)]


def _keras2_slice(k):
    """Keras 2 configs write a slice as ``{'start', 'stop', 'step'}``."""
    if isinstance(k, dict) and set(k) == {"start", "stop", "step"}:
        return slice(k["start"], k["stop"], k["step"])
    return k


_OPERATORS = {
    "add": _math_binary._add,   # the ``+`` operator: a scalar takes the tensor's dtype
    "subtract": _math.subtract, "multiply": _math.multiply,
    "truediv": _math.truediv, "floordiv": _math.floordiv, "floormod": _math.floormod,
    "pow": _math.pow, "matmul": _linalg.matmul, "negative": _math.negative,
    "abs": _math.abs, "less": _math.less, "less_equal": _math.less_equal,
    "greater": _math.greater, "greater_equal": _math.greater_equal,
    "getitem": _getitem,
}


class TFOpLambda(Layer):
    """A dlframe op applied to KerasTensors inside a functional model.

    Operators (``x + y``, ``x[:, 0]``) and, as in Keras 2, any public op called on
    KerasTensors (``tf.nn.relu(x)``, ``tf.concat([a, b], -1)``) become one of these.

    Args:
      function: an operator name (``'add'``, ``'getitem'``, ...) or the op's public
        API path (``'nn.relu'``, ``'concat'``, ``'math.reduce_mean'``,
        ``'keras.ops.expand_dims'``).
      op_kwargs: keyword arguments bound to every call (a Keras 3 operation's
        constructor arguments: ``{'axis': -1}`` of ``ExpandDims``).
    """

    def __init__(self, function, op_kwargs=None, **kwargs):
        function = _KERAS2_OPERATORS.get(function, function)
        self._fn = _resolve_op(function)
        kwargs.setdefault("name", _op_name(function))
        kwargs["autocast"] = False
        super().__init__(**kwargs)
        self.function = function
        self.op_kwargs = dict(op_kwargs or {})
        self._convert_args = False

    def _convert_inputs(self, inputs):
        return inputs

    def call(self, *args, **kwargs):
        kwargs.pop("training", None)
        kwargs.pop("mask", None)
        if self.function in _JOINING_OPS and args and isinstance(args[0], (list, tuple)):
            # Keras 2's lookup/encoding layers gave float32 where Keras 3's give
            # int64: a Keras 2 functional ``tf.concat([numeric, one_hot], -1)``
            # joins them as the merge layers do
            from dlframe.keras.layers.merge import _common_dtype
            args = (_common_dtype(args[0]),) + args[1:]
        return self._fn(*args, **self.op_kwargs, **kwargs)

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype,
                  "function": self.function}
        if self.op_kwargs:
            config["op_kwargs"] = dict(self.op_kwargs)
        return config

    def _symbolic_outputs(self, inputs, rest, kwargs):
        from dlframe.keras.engine import node as _node
        try:
            out = _node.dry_run_outputs(self, inputs, rest, kwargs)
        except InvalidArgumentError:
            if self.function not in _BROADCASTING_OPERATORS or len(rest) != 1:
                raise
            return _node.broadcast_outputs(self, inputs, rest, kwargs)
        key = rest[0] if rest else None
        key = tuple(key) if isinstance(key, list) else key   # a JSON-loaded key
        parts = key if isinstance(key, tuple) else (key,)
        if (self.function == "getitem" and getattr(inputs, "shape", None) is not None
                and inputs.shape.rank is not None
                and all(_is_static_index(k) for k in parts)):
            # x[:2] of an unknown dimension stays unknown, as TF's shape inference
            dims = _slicing.getitem_static_shape(inputs.shape.as_list(), key)
            if dims is not None and len(dims) == out.shape.rank:
                out._shape = TensorShape([None if d is None else o for d, o in
                                          zip(dims, out.shape.as_list())])
        return out


def _is_static_index(k):
    """An index part with no tensor in it (int, None, Ellipsis, constant slice)."""
    if isinstance(k, slice):
        return all(v is None or isinstance(v, int) for v in (k.start, k.stop, k.step))
    return k is None or k is Ellipsis or isinstance(k, int)


# elementwise binary operators: their specs follow TF's static broadcasting
_BROADCASTING_OPERATORS = frozenset({
    "add", "subtract", "multiply", "truediv", "floordiv", "floormod", "pow", "less",
    "less_equal", "greater", "greater_equal", "math.logical_and", "math.logical_or",
    "math.logical_xor", "bitwise.bitwise_and", "bitwise.bitwise_or",
    "bitwise.bitwise_xor"})

# ops on KerasTensors whose list of inputs is promoted to one dtype (TFOpLambda.call)
_JOINING_OPS = ("concat", "stack")

# Keras 2 configs name operators by their TF path
_KERAS2_OPERATORS = {f"__operators__.{name}": name for name in _OPERATORS}


def _resolve_op(function):
    if function in _OPERATORS:
        return _OPERATORS[function]
    import dlframe
    obj = dlframe
    for part in str(function).split("."):
        obj = getattr(obj, part, None)
        if obj is None or part.startswith("_"):
            raise ValueError(f"Unknown op {function!r} for TFOpLambda: expected an "
                             f"operator ({sorted(_OPERATORS)}) or a public op path such "
                             "as 'nn.relu' or 'concat'")
    return _names.unwrap(obj)


def _op_name(function):
    from dlframe.keras import backend
    if function not in _OPERATORS:
        return backend.unique_object_name(f"tf.{function}")
    base = f"tf.__operators__.{function}" if function in (
        "add", "getitem", "matmul") else f"tf.math.{function}"
    return backend.unique_object_name(base)


def symbolic_op_call(fn, api_name, args, kwargs):
    """A public op called on KerasTensors: inserts a TFOpLambda node (Keras 2 behaviour;
    Keras 3 refuses, which programs written for it never rely on)."""
    from dlframe.keras.engine.keras_tensor import KerasTensor
    if not any(isinstance(x, KerasTensor) for x in tree.flatten([list(args), kwargs])):
        return NotImplemented
    if not args:  # the layer's first input must be positional
        bound = inspect.signature(fn).bind(*args, **kwargs)
        args, kwargs = bound.args, bound.kwargs
    return TFOpLambda(api_name)(*args, **kwargs)


def _operator_call(function, args):
    return TFOpLambda(function)(*args)
