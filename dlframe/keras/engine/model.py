"""keras.Model: subclassed models; ``Model(inputs, outputs)`` makes a Functional model."""

from dlframe.keras.engine import training_distributed as _dist
from dlframe.keras.engine.base_layer import Layer, UnrecognizedKwargsError, _auto_config
from dlframe.keras.engine.keras_tensor import KerasTensor
from dlframe.keras.engine.training import TrainingMixin
from dlframe.keras.utils import tree


def _functional_args(args, kwargs):
    if "inputs" in kwargs or "outputs" in kwargs:
        return True
    return len(args) >= 2 or (len(args) == 1 and "outputs" in kwargs)


class Model(TrainingMixin, Layer):
    """A layer with training (compile/fit/...) that groups layers.

    Subclass it and define layers in ``__init__`` and the forward pass in ``call``, or
    call it as ``Model(inputs=..., outputs=...)`` with KerasTensors (functional API).
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and _functional_args(args, kwargs):
            from dlframe.keras.engine.functional import Functional
            return object.__new__(Functional)
        return Layer.__new__(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", None)
        outputs = kwargs.pop("outputs", None)
        if len(args) == 1 and args[0] is self and outputs is None:
            args = ()   # `super().__init__(self)` (text-generation tutorial): Keras 2
        if args:    # ignored positionals that were not functional inputs/outputs
            inputs, args = args[0], args[1:]
            if args:
                outputs, args = args[0], args[1:]
        if args:
            raise TypeError(f"Model got unexpected positional arguments: {args}")
        functional = inputs is not None or outputs is not None
        allowed = {"name", "trainable", "dtype", "dynamic", "autocast"}
        unknown = {k: v for k, v in kwargs.items() if k not in allowed}
        if unknown:
            raise UnrecognizedKwargsError(f"Unrecognized keyword arguments passed to "
                                          f"{type(self).__name__}: {unknown}")
        if functional and not kwargs.get("name") and type(self) is Model._functional_cls():
            from dlframe.keras import backend
            kwargs["name"] = backend.unique_object_name("model")
        super().__init__(**kwargs)
        self._creation_strategy = _dist.active_strategy(any_replicas=True)
        self._is_graph_network = False
        self._run_eagerly = None
        if functional:
            if inputs is None or outputs is None:
                raise ValueError("A functional Model needs both `inputs` and `outputs`.")
            from dlframe.keras.engine.functional import Functional
            if not isinstance(self, Functional):
                cls = type(self)
                self.__class__ = type(cls.__name__, (cls, Functional),
                                      {"__module__": cls.__module__})
            self._init_graph_network(inputs, outputs)

    @staticmethod
    def _functional_cls():
        from dlframe.keras.engine.functional import Functional
        return Functional

    @property
    def layers(self):
        return list(self._flatten_layers(include_self=False, recursive=False))

    def _maybe_build(self, inputs, rest=(), kwargs=None):
        if not self.built and type(self).build is Model.build:
            # A subclassed model creates its weights in the call that follows.
            from dlframe.keras.engine.base_layer_utils import _shapes_of
            self.built = True
            if self._build_input_shape is None:   # for get_build_config (.keras)
                self._build_input_shape = _shapes_of(inputs)
            return
        super()._maybe_build(inputs, rest, kwargs)

    def get_layer(self, name=None, index=None):
        """The sub-layer with this ``name`` (or at this ``index`` of ``layers``)."""
        if index is not None and name is not None:
            raise ValueError("Provide only a layer name or a layer index. Received: "
                             f"index={index}, name={name}.")
        layers = self.layers
        if index is not None:
            if len(layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model "
                                 f"only has {len(layers)} layers.")
            return layers[index]
        if name is not None:
            for layer in layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: "
                             f"{[layer.name for layer in layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    @property
    def stateful(self):
        """Whether any layer (also inside nested models) keeps state across batches,
        as Keras 2's ``Model.stateful``."""
        return any(getattr(layer, "stateful", False) for layer in self.layers)

    def reset_states(self):
        """Zeroes the states of the model's stateful layers (stateful RNNs), as
        Keras 2's ``Model.reset_states``."""
        for layer in self.layers:
            if getattr(layer, "stateful", False) and hasattr(layer, "reset_states"):
                layer.reset_states()

    def build(self, input_shape):
        """Creates the weights of a subclassed model by calling it on placeholder data."""
        if type(self).call is Model.call:
            self.built = True
            return
        from dlframe.core.tensor_shape import TensorShape
        from dlframe.keras.engine import node as _node
        if isinstance(input_shape, (list, tuple)) and input_shape and all(
                isinstance(s, (list, tuple, TensorShape)) for s in input_shape):
            specs = [KerasTensor(s, self.compute_dtype) for s in input_shape]
        elif isinstance(input_shape, dict):
            specs = {k: KerasTensor(s, self.compute_dtype) for k, s in input_shape.items()}
        else:
            if input_shape is None:
                raise ValueError("You must provide an `input_shape` argument.")
            specs = KerasTensor(input_shape, self.compute_dtype)
        self.built = True
        _node.dry_run_outputs(self, specs, (), {})
        self._build_input_shape = input_shape

    def call(self, inputs, training=None, mask=None):
        raise NotImplementedError(f"Model {type(self).__name__} does not have a `call()` "
                                  "method implemented.")

    def summary(self, line_length=None, positions=None, print_fn=None,
                expand_nested=False, show_trainable=False, layer_range=None):
        """Prints a table of layers, output shapes and parameter counts."""
        from dlframe.keras.utils import layer_utils

        # an unbuilt model is summarized too, as Keras 3 does (Keras 2 refused)
        layer_utils.print_summary(self, line_length=line_length, positions=positions,
                                  print_fn=print_fn, expand_nested=expand_nested,
                                  show_trainable=show_trainable,
                                  layer_range=layer_range)

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        if type(self).__init__ is not Model.__init__ and \
                type(self).get_config is Model.get_config:  # super() from an override
            import inspect
            params = inspect.signature(type(self).__init__).parameters
            extra = set(params) - {"self", "name", "trainable", "dtype", "kwargs", "args"}
            if extra:
                auto = _auto_config(self, type(self).__init__, extra)
                if auto is None:
                    named = sorted(n for n in extra if params[n].kind not in (
                        inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD))
                    raise NotImplementedError(
                        f"Model {type(self).__name__} has arguments {named} in "
                        "`__init__()` and therefore must override `get_config()` (they "
                        "are not all plain Python values Keras 3 records by itself).")
                config.update(auto)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if "layers" in config and "input_layers" in config:
            functional = cls._functional_cls()
            target = cls if issubclass(cls, functional) else functional
            return functional.from_config.__func__(target, config, custom_objects)
        return cls(**config)

    def to_json(self, **kwargs):
        """The model's architecture as a JSON string (``model_from_json`` reads it)."""
        import json

        from dlframe.keras.utils import generic_utils
        data = generic_utils.serialize_keras_object(self)
        data["keras_version"] = "2.15.0"
        data["backend"] = "tensorflow"
        return json.dumps(data, default=_json_default, **kwargs)

    # -- Keras 3 compile config ---------------------------------------------------
    def get_compile_config(self):
        """The ``compile()`` arguments as a serializable dict ({} before compile)."""
        if not self._is_compiled:
            return {}
        from dlframe.keras import losses, metrics, optimizers

        def ser(spec, module):
            if isinstance(spec, dict):
                return {k: ser(v, module) for k, v in spec.items()}
            if isinstance(spec, (list, tuple)):
                return [ser(v, module) for v in spec]
            if spec is None or isinstance(spec, str):
                return spec
            return module.serialize(spec)
        return {
            "optimizer": optimizers.serialize(self.optimizer),
            "loss": ser(self.compiled_loss._spec, losses),
            "loss_weights": self.compiled_loss._weights_spec,
            "metrics": ser(self.compiled_metrics._spec, metrics),
            "weighted_metrics": ser(self.compiled_metrics._weighted_spec, metrics),
            "run_eagerly": self.run_eagerly,
            "steps_per_execution": self.steps_per_execution,
            "jit_compile": self.jit_compile,
        }

    def compile_from_config(self, config):
        """Compiles the model from ``get_compile_config()``'s output; creates the
        optimizer's variables when the model is already built."""
        if not config:
            return
        if not isinstance(config, dict):
            raise TypeError(f"`compile_from_config` expects a dict. Received: "
                            f"config={config!r}")
        from dlframe.keras import losses, metrics, optimizers

        def de(spec, module):
            if isinstance(spec, dict) and "class_name" not in spec:
                return {k: de(v, module) for k, v in spec.items()}
            if isinstance(spec, (list, tuple)):
                return [de(v, module) for v in spec]
            if isinstance(spec, dict):
                return module.deserialize(spec)
            return spec
        config = dict(config)
        config["optimizer"] = optimizers.get(config.get("optimizer", "rmsprop"))
        for key, module in (("loss", losses), ("metrics", metrics),
                            ("weighted_metrics", metrics)):
            if key in config:
                config[key] = de(config[key], module)
        self.compile(**config)
        if self.built and self.trainable_variables and not self.optimizer.built:
            self.optimizer.build(self.trainable_variables)

    @property
    def state_updates(self):
        return []

    def _flat_outputs(self, outputs):
        return tree.flatten(outputs)


def _json_default(obj):
    if hasattr(obj, "as_list"):
        return obj.as_list()
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, slice):
        return {"class_name": "__slice__",
                "config": {"start": obj.start, "stop": obj.stop, "step": obj.step}}
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    raise TypeError(f"Not JSON Serializable: {obj!r}")
