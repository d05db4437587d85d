"""keras.Sequential: a linear stack of layers (a Functional model once its input is known)."""

import inspect

from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.errors import UnsupportedTypeError
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.engine.base_layer_tracking import path_scope
from dlframe.keras.engine.functional import Functional, remember_own_inputs
from dlframe.keras.engine.input_layer import InputLayer
from dlframe.keras.engine.keras_tensor import KerasTensor
from dlframe.keras.engine.layer_state_api import _plain_shape
from dlframe.keras.engine.model import Model
from dlframe.keras.utils import tree


def _nested(inputs):
    return isinstance(inputs, dict) or len(tree.flatten(inputs)) > 1


def _check_single_input(layer):
    """Keras 3 refuses, when a Sequential links ``layer``, a ``call`` needing more
    than its input positionally (``call(self, x, training)``: nothing passes it)."""
    try:
        params = inspect.signature(layer.call).parameters.values()
    except (TypeError, ValueError):   # a builtin or C callable: nothing to tell
        return
    required = [p for p in params if p.default is p.empty and p.kind in (
        p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(required) > 1:
        raise ValueError(
            "Layers added to a Sequential model can only have a single required "
            "positional argument, the input tensor. Layer "
            f"{type(layer).__name__} has multiple required positional arguments: "
            f"{required}")


class Sequential(Functional):
    """A stack of single-input, single-output layers.

    Args:
      layers: optional list of layers (or an ``Input`` tensor first) to add.
      name: model name (default 'sequential', 'sequential_1', ...).

    The graph is built as soon as the input shape is known: from an ``Input``, an
    ``InputLayer``, a first layer's ``input_shape``/``batch_input_shape``/``input_dim``,
    ``build(input_shape)`` or the first call on data.
    """

    def __init__(self, layers=None, name=None, trainable=True, **kwargs):
        Model.__init__(self, name=name, trainable=trainable, **kwargs)
        self._seq_layers = []
        self._input_layer = None
        self._seq_outputs = []
        self._graph_layers = []
        self._nodes_in_order = []
        self.built = False
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        return list(self._seq_layers)

    # Keras 3: a Sequential called inside another functional graph reports the
    # tensors of its first call there (so ``keras.Model(outer.input,
    # outer.layers[i].output)`` works); before that its own graph's, as in Keras 2
    @property
    def input(self):
        if self._inbound_nodes:
            outer = self._inbound_nodes[0].input_tensors
            try:
                own = Functional.input.fget(self)
            except (AttributeError, ValueError):   # no graph of its own yet
                own = None
            if own is not None:   # Keras 2 read its own graph's: Model() falls back
                remember_own_inputs(outer, own)
            return outer
        return self._own_graph(Functional.input, "input")

    @property
    def output(self):
        if self._inbound_nodes:
            return self._inbound_nodes[0].output_tensors
        return self._own_graph(Functional.output, "output")

    @property
    def input_shape(self):
        return self._own_graph(Functional.input_shape, "input")

    @property
    def output_shape(self):
        return self._own_graph(Functional.output_shape, "output")

    def _own_graph(self, prop, what):
        """``prop`` of this model's graph; before there is one (no ``Input``, never
        built or called) the AttributeError says so instead of naming internals."""
        if not hasattr(self, f"_nested_{what}s") or not hasattr(self, f"{what}s"):
            raise AttributeError(
                f"Sequential model '{self.name}' has no defined {what} yet: it has "
                "never been built or called. Start it with `keras.Input(shape)`, call "
                "`build(input_shape)`, or call it on data first.")
        return prop.fget(self)

    def _direct_children(self):
        children = list(self._seq_layers)
        seen = {id(c) for c in children}   # a set: deep models stay linear
        for layer in Model._direct_children(self):
            if id(layer) not in seen and not isinstance(layer, InputLayer):
                seen.add(id(layer))
                children.append(layer)
        return children

    def add(self, layer):
        """Appends a layer (or an ``Input`` tensor / InputLayer first)."""
        if isinstance(layer, KerasTensor) and layer._keras_history is not None:
            layer = layer._keras_history[0]
        if not isinstance(layer, Layer):
            raise UnsupportedTypeError(   # Keras 3: ValueError, Keras 2: TypeError
                "Only instances of `keras.Layer` can be added to a Sequential model "
                "(the added layer must be an instance of class Layer). "
                f"Received: layer={layer!r} (of type {type(layer)})")
        if isinstance(layer, InputLayer):
            if self._seq_layers or self._input_layer is not None:
                raise ValueError("An InputLayer can only be added first to a "
                                 f"Sequential model. Received: {layer}")
            self._input_layer = layer
            self._relink()
            return
        names = [lay.name for lay in self._seq_layers]
        if layer.name in names:
            raise ValueError(f"All layers added to a Sequential model should have unique "
                             f"names. Name '{layer.name}' is already the name of a layer "
                             "in this model. Update the `name` argument to pass a unique "
                             "name.")
        self._seq_layers.append(layer)
        batch_shape = layer._batch_input_shape
        if batch_shape is None and isinstance(layer, Functional) and (
                len(getattr(layer, "inputs", None) or []) == 1):
            # a built model first (an augmentation Sequential): its input is ours
            batch_shape = tuple(layer.inputs[0].shape)
        if (self._input_layer is None and len(self._seq_layers) == 1
                and batch_shape is not None):
            dtype = layer._input_dtype or layer.dtype
            self._input_layer = InputLayer(batch_input_shape=batch_shape,
                                           dtype=dtype, name=f"{layer.name}_input")
            self._relink()
        elif self._input_layer is not None:
            self._link(layer)

    def _link(self, layer):
        try:
            _check_single_input(layer)
        except ValueError:
            if self._seq_layers and self._seq_layers[-1] is layer:
                self._seq_layers.pop()
            raise
        current = (self._seq_outputs[-1] if self._seq_outputs
                   else self._input_layer._input_tensor)
        with path_scope(self.name):   # Keras 3 builds the layers in the model's scope
            out = layer(current)
        if len(tree.flatten(out)) != 1:
            self._seq_layers.pop()
            raise ValueError("All layers in a Sequential model should have a single "
                             "output tensor. For multi-output layers, use the functional "
                             "API.")
        self._seq_outputs.append(out)
        self._init_graph_network(self._input_layer._input_tensor, out)

    def _relink(self):
        self._seq_outputs = []
        if not self._seq_layers:
            self._graph_layers = [self._input_layer]
            self._nested_inputs = self._input_layer._input_tensor
            self.inputs = [self._nested_inputs]
            self.built = False
            return
        layers, self._seq_layers = self._seq_layers, []
        for layer in layers:
            self._seq_layers.append(layer)
            self._link(layer)

    def pop(self):
        """Removes the last layer."""
        if not self._seq_layers:
            raise TypeError("There are no layers in the model.")
        layer = self._seq_layers.pop()
        if self._input_layer is not None:
            self._relink()
        return layer

    def build(self, input_shape=None):
        """Builds the graph for ``input_shape`` (batch dimension included)."""
        if self._input_layer is not None and self._seq_outputs:
            self.built = True
            return
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        shape = TensorShape(input_shape)
        dtype = self._build_dtype or (self._seq_layers[0]._input_dtype
                                      if self._seq_layers else None)
        self._input_layer = InputLayer(batch_input_shape=tuple(shape.as_list()),
                                       dtype=dtype or self.dtype)
        self._relink()

    _build_dtype = None

    def get_build_config(self):
        """``{'input_shape': ...}``, also for a model built from its ``Input``."""
        config = super().get_build_config()
        if (config or {}).get("input_shape") is None and self.built and \
                self._input_layer is not None:
            config = {"input_shape": _plain_shape(self._input_layer._input_tensor.shape)}
        return config

    def _maybe_build(self, inputs):
        if self._input_layer is not None and self._seq_outputs:
            return
        if _nested(inputs):   # dict/multi inputs (DenseFeatures first): Keras 2's
            self.built = True  # deferred mode runs the layers one by one, no graph
            return
        first = tree.flatten(inputs)[0]
        shape = [None] + list(first.shape)[1:]
        self._build_dtype = getattr(first.dtype, "name", None)
        self.build(shape)
        self._shape_inferred = True
        self._input_spec = None  # checked (and relaxed) by call, as Keras 2

    _shape_inferred = False

    def _deferred(self, inputs):
        """Keras 2's answer to a call that does not fit a shape inferred from data.

        Dims that differ are relaxed to None and the graph rebuilt (an augmentation
        stack first called on one image size, later on another); a different rank
        runs the layers one by one.
        """
        if not (self._shape_inferred and self._seq_outputs) or _nested(inputs):
            return False
        new = TensorShape(tree.flatten(inputs)[0].shape)
        old = self.inputs[0].shape
        if new.rank is None or new.rank != old.rank:
            return True
        if old.is_compatible_with(new):
            return False
        dims = [a if a == b else None for a, b in zip(old.as_list(), new.as_list())]
        self._input_layer, self._seq_outputs = None, []
        self.build(dims)
        self._input_spec = None
        return False

    def _conform(self, kt, value):
        if self._shape_inferred and (isinstance(value, Tensor) or (
                hasattr(value, "__array__") and not isinstance(value, KerasTensor))):
            # a dtype seen on the first call is no contract (Keras 3): float images
            # after a first uint8 one are not cast to uint8
            return convert_to_tensor(value)
        return Functional._conform(self, kt, value)

    def call(self, inputs, training=None, mask=None):
        if (not self._seq_outputs and _nested(inputs)) or self._deferred(inputs):
            for layer in self._seq_layers:
                inputs = layer(inputs, training=training)
            return inputs
        if not self._seq_outputs:
            self._maybe_build(inputs)
        return Functional.call(self, inputs, training=training, mask=mask)

    def _symbolic_outputs(self, inputs, rest, kwargs):
        if (not self._seq_outputs and _nested(inputs)) or self._deferred(inputs):
            from dlframe.keras.engine import node as _node
            return _node.dry_run_outputs(self, inputs, rest, kwargs)
        if not self._seq_outputs:
            self._maybe_build(inputs)
        return Functional._symbolic_outputs(self, inputs, rest, kwargs)

    @property
    def input_spec(self):
        return self._input_spec if self._seq_outputs else None

    @input_spec.setter
    def input_spec(self, value):
        self._input_spec = value

    def get_config(self):
        from dlframe.keras.utils import generic_utils
        layers = []
        if self._input_layer is not None and self._input_layer.name != (
                f"{self._seq_layers[0].name}_input" if self._seq_layers else None):
            layers.append(generic_utils.serialize_keras_object(self._input_layer))
        layers.extend(generic_utils.serialize_keras_object(lay) for lay in self._seq_layers)
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": self._dtype_policy.name, "layers": layers}
        shape = None
        if self.built:
            shape = (self.get_build_config() or {}).get("input_shape")
        if shape is not None:
            config["build_input_shape"] = tuple(shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from dlframe.keras.layers import deserialize as deserialize_layer
        if isinstance(config, list):
            config = {"layers": config}
        model = cls(name=config.get("name"))
        for data in config["layers"]:
            model.add(deserialize_layer(data, custom_objects))
        build_shape = config.get("build_input_shape")
        if not model.built and build_shape is not None:
            model.build(build_shape)
        return model
