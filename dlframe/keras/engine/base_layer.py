"""Layer: the Keras layer lifecycle (DESIGN.md §6).

``__init__`` stores config; ``build(input_shape)`` runs lazily on the first call and
creates weights with ``add_weight`` under ``name_scope(layer.name)`` (so weights are
named 'dense/kernel:0'); ``call`` does the math. Layers assigned as attributes (also
inside lists and dicts) are tracked, so their weights and losses show up on the
parent. Calling a layer on KerasTensors records a node of a functional graph.

The weights and tracking API lives in ``base_layer_tracking``, losses and metrics in
``base_layer_losses``, the functional-graph properties in ``base_layer_nodes``; the
names below are re-exported for the modules that import them from here.
"""

import inspect

from dlframe import autograph as _autograph
from dlframe.core import dtypes as _dt
from dlframe.core.primitive import STATE as _STATE
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.keras import backend, mixed_precision
from dlframe.keras.engine import input_spec as _input_spec
from dlframe.keras.engine.base_layer_config import _auto_config, _plain  # noqa: F401
from dlframe.keras.engine.base_layer_losses import (
    _LAYERS_WITH_LOSSES,
    LayerLossesMixin,
)
from dlframe.keras.engine.base_layer_nodes import (  # noqa: F401
    LayerNodesMixin,
    _as_tuple_shapes,
)
from dlframe.keras.engine.base_layer_tracking import (  # noqa: F401
    LayerTrackingMixin,
    _dedupe,
    _OwnScope,
)
from dlframe.keras.engine.base_layer_utils import (  # noqa: F401
    CALL_CONTEXT,
    DTypePolicy,
    _is_array_like,
    _params,
    _policy_from,
    _shapes_of,
    get_mask,
    in_dry_run,
    keras3_positional,
    name_positional_flags,
)
from dlframe.keras.engine.build_arguments import build_arguments, maybe_build
from dlframe.keras.engine.keras_tensor import KerasTensor
from dlframe.keras.engine.layer_state_api import LayerStateAPI
from dlframe.keras.utils import generic_utils, tree
from dlframe.ops import math as _math
from dlframe.ops.ragged_tensor import RaggedTensor

_ALLOWED_KWARGS = {"input_dim", "input_shape", "batch_input_shape", "batch_size",
                   "weights", "activity_regularizer", "autocast", "implementation",
                   "dynamic", "input_dtype"}


class UnrecognizedKwargsError(TypeError, ValueError):
    """Unknown constructor keyword arguments: Keras 2 raised TypeError, Keras 3 raises
    ValueError; this subclasses both."""


class Layer(LayerTrackingMixin, LayerLossesMixin, LayerNodesMixin, LayerStateAPI):
    """Base class of all layers.

    Args:
      trainable: whether the layer's weights are updated in training.
      name: the layer's name (default: snake_case class name made unique).
      dtype: the dtype of the layer's weights and computations (default floatx).
      dynamic: kept for Keras 2 compatibility.
      **kwargs: ``input_shape``, ``batch_input_shape``, ``batch_size``, ``input_dim``,
        ``autocast``, ``activity_regularizer``, ``weights``.
    """

    def __new__(cls, *args, **kwargs):
        instance = object.__new__(cls)
        instance._init_call_args = (args, kwargs)   # Keras 3's automatic get_config
        return instance

    def __init__(self, trainable=True, name=None, dtype=None, dynamic=False, **kwargs):
        unknown = {k: v for k, v in kwargs.items() if k not in _ALLOWED_KWARGS}
        if unknown:
            raise UnrecognizedKwargsError(f"Unrecognized keyword arguments passed to "
                                          f"{type(self).__name__}: {unknown}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Argument `name` must be a string. Received: name={name!r} "
                            f"(of type {type(name)})")
        object.__setattr__(self, "_trainable_weights", [])
        self._non_trainable_weights = []
        self._trainable = bool(trainable)
        self._name = name if name else backend.unique_object_name(
            generic_utils.to_snake_case(type(self).__name__))
        self._dtype_policy = _policy_from(dtype)
        self.built = False
        self._input_spec = None
        self.supports_masking = getattr(self, "supports_masking", False)
        self._losses = []
        self._callable_losses = []
        self._inbound_nodes = []
        self._outbound_nodes = []
        self._autocast = kwargs.get("autocast", True)
        self._initial_weights = kwargs.get("weights")
        self.dynamic = dynamic
        self._activity_regularizer = None
        if kwargs.get("activity_regularizer") is not None:
            from dlframe.keras import regularizers
            self._activity_regularizer = regularizers.get(kwargs["activity_regularizer"])
        batch_input_shape = kwargs.get("batch_input_shape")
        if batch_input_shape is None and ("input_shape" in kwargs or "input_dim" in kwargs):
            shape = kwargs.get("input_shape")
            if shape is None:
                shape = (kwargs["input_dim"],)
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            batch_input_shape = (kwargs.get("batch_size"),) + shape
        self._batch_input_shape = (tuple(batch_input_shape)
                                   if batch_input_shape is not None else None)
        self._input_dtype = kwargs.get("input_dtype")
        params, has_kwargs = _params(self.call)
        self._call_params = params
        self._expects_training = "training" in params or has_kwargs
        self._expects_mask = "mask" in params or has_kwargs
        # Keras 3 fills ``{arg}_mask`` call arguments from the masks of ``arg``
        self._arg_mask_names = tuple(n for n in params
                                     if n.endswith("_mask") and n[:-5] in params)
        self._build_input_shape = None

    # -- attributes ----------------------------------------------------------
    @property
    def name(self):
        return self._name

    @property
    def dtype(self):
        """The dtype of the layer's weights."""
        return self._dtype_policy.variable_dtype

    @property
    def compute_dtype(self):
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self):
        return self._dtype_policy.variable_dtype

    @property
    def dtype_policy(self):
        return self._dtype_policy

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        for layer in self._flatten_layers():
            layer._trainable = bool(value)

    @property
    def input_spec(self):
        return self._input_spec

    @input_spec.setter
    def input_spec(self, value):
        self._input_spec = value

    @property
    def activity_regularizer(self):
        return self._activity_regularizer

    @activity_regularizer.setter
    def activity_regularizer(self, value):
        self._activity_regularizer = value

    @property
    def stateful(self):
        return False

    # -- lifecycle -------------------------------------------------------------
    def build(self, input_shape):
        """Creates the layer's weights (subclasses override); sets ``built``."""
        self._build_input_shape = input_shape
        self.built = True

    def call(self, inputs, *args, **kwargs):
        return inputs

    def _maybe_build(self, inputs, rest=(), kwargs=None):
        if self.built:
            return
        shapes = _shapes_of(inputs)
        build_args, build_kwargs = build_arguments(self, inputs, rest, kwargs)
        if self._input_dtype is None:
            first = tree.flatten(inputs)[0]
            dtype = getattr(first, "dtype", None)
            self._input_dtype = getattr(dtype, "name", None)
        with self._own_scope():
            self._record_path()
            self.build(*build_args, **build_kwargs)
        if build_kwargs:   # for get_build_config
            self.__dict__["_build_shapes_dict"] = build_kwargs
        self.built = True
        if self._build_input_shape is None:
            self._build_input_shape = shapes
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _convert_inputs(self, inputs):
        if type(inputs) is Tensor and not (
                self._autocast and inputs.dtype.is_floating
                and inputs.dtype.name != self.compute_dtype):
            return inputs

        def conv(x):
            if isinstance(x, (Tensor, KerasTensor, RaggedTensor)) or x is None:
                t = x
            elif _is_array_like(x):
                t = convert_to_tensor(x)
            else:
                return x
            if (self._autocast and isinstance(t, Tensor) and t.dtype.is_floating
                    and t.dtype.name != self.compute_dtype
                    and _dt.as_dtype(self.compute_dtype).is_floating):
                mask = get_mask(t)
                t = _math.cast(t, self.compute_dtype)
                if mask is not None:
                    t._keras_mask = mask
            return t
        return tree.map_structure(conv, inputs)

    def _traced_call(self):
        """``self.call``, AutoGraph-converted while a dlframe.function traces it, so a
        tensor-dependent ``if`` in a user's call() becomes a graph cond (as Keras does)."""
        if _STATE.trace is None:
            return self.call
        return _autograph.convert(self.call)

    def __call__(self, *args, **kwargs):
        if args:
            inputs, rest = args[0], args[1:]
        elif "inputs" in kwargs:
            inputs, rest = kwargs.pop("inputs"), ()
        elif self._call_params and next(iter(self._call_params)) in kwargs:
            inputs, rest = kwargs.pop(next(iter(self._call_params))), ()
        else:
            raise TypeError(f"Layer {self.name} was called without an input tensor.")
        if rest:
            rest, kwargs = name_positional_flags(self._call_params, rest, kwargs)
        inputs = self._convert_inputs(inputs)
        plain = type(inputs) is Tensor and not rest and all(
            not isinstance(v, (KerasTensor, list, tuple, dict))
            for v in kwargs.values())
        if not plain and any(isinstance(x, KerasTensor)
                             for x in tree.flatten([inputs, rest, kwargs])):
            from dlframe.keras.engine import node as _node
            return _node.symbolic_call(self, inputs, rest, kwargs)
        ctx = CALL_CONTEXT
        training = kwargs.get("training")
        if training is None and ctx.training and ctx.training[-1] is not None:
            training = ctx.training[-1]
        if training is None:
            p = self._call_params.get("training")
            if p is not None and p.default is not inspect.Parameter.empty:
                training = p.default
        if self._expects_training:
            if training is not None or "training" in kwargs:
                kwargs["training"] = training
        else:
            kwargs.pop("training", None)
        if type(inputs) is Tensor:
            input_masks = getattr(inputs, "_keras_mask", None)
            has_mask = input_masks is not None
        else:
            input_masks = tree.map_structure(get_mask, inputs)
            has_mask = any(m is not None for m in tree.flatten(input_masks))
        if self._expects_mask and "mask" not in kwargs and has_mask and (
                "mask" in self._call_params or self.supports_masking):
            kwargs["mask"] = input_masks
        if self._arg_mask_names and (rest or kwargs):
            _fill_argument_masks(self, inputs, rest, kwargs)
        _input_spec.assert_input_compatibility(self._input_spec, inputs, self.name)
        outermost = ctx.depth == 0
        if outermost and not ctx.dry_run:
            self._clear_losses()
        if not self.built:
            maybe_build(self, inputs, rest, kwargs)
            if not self.built:  # a build() override may forget super().build()
                self.built = True
            # build() may have set the input_spec
            _input_spec.assert_input_compatibility(self._input_spec, inputs, self.name)
        ctx.depth += 1
        ctx.training.append(training)
        try:
            with self._own_scope(), mixed_precision.autocast_variables(self):
                outputs = self._traced_call()(inputs, *rest, **kwargs)
        finally:
            ctx.training.pop()
            ctx.depth -= 1
        if self._activity_regularizer is not None and not ctx.dry_run:
            for out in tree.flatten(outputs):
                loss = self._activity_regularizer(out)
                batch = _math.cast(out.shape[0] or 1, loss.dtype)
                self._losses.append(loss / batch)
                _LAYERS_WITH_LOSSES.add(self)
        if self.supports_masking or type(self).compute_mask is not Layer.compute_mask:
            out_mask = self.compute_mask(inputs, kwargs.get("mask", input_masks)
                                         if has_mask or "mask" in kwargs else None)
            if out_mask is not None:
                flat_out, flat_mask = tree.flatten(outputs), tree.flatten(out_mask)
                if len(flat_mask) == 1 and len(flat_out) > 1:
                    flat_mask = flat_mask * len(flat_out)
                for o, m in zip(flat_out, flat_mask):
                    if isinstance(o, (Tensor, RaggedTensor)) and m is not None:
                        o._keras_mask = m
        return outputs

    def compute_mask(self, inputs, mask=None):
        """The output mask: the input mask when ``supports_masking``, else None."""
        if not self.supports_masking:
            return None
        return mask

    def compute_output_shape(self, input_shape):
        """Output shape(s), inferred by running the layer on placeholder data."""
        from dlframe.keras.engine import node as _node

        def spec(s):
            return KerasTensor(s, self.compute_dtype)
        if isinstance(input_shape, (list, tuple)) and input_shape and \
                isinstance(input_shape[0], (list, tuple, TensorShape)):
            specs = [spec(s) for s in input_shape]
        else:
            specs = spec(input_shape)
        out = _node.dry_run_outputs(self, specs, (), {})
        return tree.map_structure(lambda k: k.shape, out)

    def compute_output_signature(self, input_signature):
        from dlframe.keras.engine import node as _node
        return _node.dry_run_outputs(self, input_signature, (), {})

    # -- config ----------------------------------------------------------------
    def get_config(self):
        """The constructor arguments as a JSON-friendly dict."""
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": self._dtype_policy.name}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        own_init = type(self).__init__
        if type(self).get_config is Layer.get_config and own_init is not Layer.__init__:
            extra = set(inspect.signature(own_init).parameters) - {
                "self", "trainable", "name", "dtype", "dynamic", "kwargs", "args"}
            if extra:
                auto = _auto_config(self, own_init, extra)
                if auto is None:
                    raise NotImplementedError(
                        f"Layer {type(self).__name__} has arguments {sorted(extra)} in "
                        "`__init__()` and therefore must override `get_config()` (they "
                        "are not all plain Python values Keras 3 records by itself).")
                config.update(auto)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):  # Keras 3 DTypePolicy config
            config["dtype"] = config["dtype"].get("config", {}).get("name")
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

    def __setattr__(self, name, value):
        if isinstance(value, Layer) and value is self:
            raise ValueError("A layer cannot be assigned as an attribute of itself.")
        object.__setattr__(self, name, value)

    @property
    def name_scope(self):
        return self._name


def _fill_argument_masks(layer, inputs, rest, kwargs):
    """Keras 3: with several tensor arguments, ``call(query, value, query_mask=None,
    value_mask=None)`` receives each argument's Keras mask in ``{arg}_mask``."""
    bound = dict(zip(layer._call_params, (inputs,) + tuple(rest)))
    positional = set(bound)
    bound.update(kwargs)
    tensor_args = [name for name, value in bound.items()
                   if name not in ("mask", "training") and not name.endswith("_mask")
                   and any(isinstance(x, Tensor) for x in tree.flatten(value))]
    if len(tensor_args) < 2:
        return
    for mask_name in layer._arg_mask_names:
        if mask_name in positional or bound.get(mask_name) is not None or \
                mask_name[:-5] not in tensor_args:
            continue
        masks = tree.map_structure(get_mask, bound[mask_name[:-5]])
        if any(m is not None for m in tree.flatten(masks)):
            kwargs[mask_name] = masks
