"""The Keras 3 layer methods around state and specs, mixed into ``Layer``.

``get_build_config``/``build_from_config`` rebuild a layer from the shape it was
built with (what ``.keras`` files store next to ``get_config``);
``save_own_variables``/``load_own_variables`` move the layer's *own* variables (not
its sub-layers') through a dict-like ``store`` keyed ``'0', '1', ...``;
``compute_output_spec`` runs the layer on placeholder KerasTensors. ``path`` is the
name scope the layer was built in, ``metrics`` the ``Metric`` objects it holds.
"""

import functools

from dlframe.core.tensor import convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.core.variable import current_scope
from dlframe.keras.engine.base_layer_tracking import keras_path
from dlframe.keras.engine.build_arguments import shapes_by_argument
from dlframe.ops import math as _math


def _plain_shape(shape):
    """A shape (or nested shapes) as tuples/lists of ints and None (JSON-friendly)."""
    if shape is None:
        return None
    if isinstance(shape, TensorShape):
        return tuple(shape.as_list()) if shape.rank is not None else None
    if isinstance(shape, dict):
        return {k: _plain_shape(v) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)):
        if all(d is None or isinstance(d, int) for d in shape):
            return tuple(shape)
        return [_plain_shape(s) for s in shape]
    return shape


def _recording_build(build, marks_built=False):
    """``build`` that remembers the shape it was first called with (also when a user
    calls ``layer.build(shape)`` directly), for ``get_build_config``. With
    ``marks_built`` (a user's class: Keras 3 wraps every ``build``) a build that
    returns also sets ``built``, though it never called ``super().build()``."""
    @functools.wraps(build)
    def wrapped(self, *args, **kwargs):
        shape = args[0] if args else kwargs.get("input_shape")
        out = build(self, *args, **kwargs)
        if self.__dict__.get("_build_input_shape") is None:
            self.__dict__["_build_input_shape"] = shape
        if marks_built:
            self.built = True
        return out
    wrapped._records_shape = True
    return wrapped



def attribute_metrics(layers, out=None):
    """``out`` (default empty) extended by the ``keras.metrics.Metric`` objects held
    in attributes (or lists/tuples in attributes) of ``layers``, each once."""
    from dlframe.keras.metrics import Metric
    out = [] if out is None else out
    seen = {id(m) for m in out}
    for layer in layers:
        for value in vars(layer).values():
            items = value if isinstance(value, (list, tuple)) else (value,)
            for m in items:
                if isinstance(m, Metric) and id(m) not in seen:
                    seen.add(id(m))
                    out.append(m)
    return out

class LayerStateAPI:
    """Keras 3's build-config, variable-store, masking and spec methods."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if callable(build) and not getattr(build, "_records_shape", False):
            # dlframe's own layers set ``built`` themselves (some build in steps)
            cls.build = _recording_build(
                build, marks_built=not cls.__module__.startswith("dlframe."))

    # -- masking ---------------------------------------------------------------
    @property
    def supports_masking(self):
        """Whether ``compute_mask`` passes the input mask on (settable)."""
        return self.__dict__.get("_supports_masking", False)

    @supports_masking.setter
    def supports_masking(self, value):
        self.__dict__["_supports_masking"] = bool(value)

    # -- names and dtypes --------------------------------------------------------
    @property
    def path(self):
        """The layer's name scope path ('outer/inner'); None until it is built."""
        path = self.__dict__.get("_path")
        if path is None and self.built:
            return self.name
        return path

    def _record_path(self):
        """Called inside the layer's own name scope when it builds."""
        if self.__dict__.get("_path") is None:
            self.__dict__["_path"] = keras_path(current_scope() or self.name)

    @property
    def input_dtype(self):
        """The dtype inputs are converted to before ``call`` (the compute dtype)."""
        return self.compute_dtype

    @property
    def autocast(self):
        """Whether floating inputs are cast to the compute dtype (``autocast=``)."""
        return self.__dict__.get("_autocast", True)

    @autocast.setter
    def autocast(self, value):
        self.__dict__["_autocast"] = bool(value)

    @property
    def quantization_mode(self):
        """Keras 3's quantization mode; None (dlframe layers are not quantized)."""
        return self.__dict__.get("_quantization_mode")

    @property
    def supports_jit(self):
        """Keras 3: whether the layer may run inside a compiled function."""
        return True

    # -- metrics ---------------------------------------------------------------
    @property
    def metrics(self):
        """``keras.metrics.Metric`` objects held in attributes of this layer and its
        sub-layers."""
        return attribute_metrics(self._flatten_layers())

    @property
    def metrics_variables(self):
        """The variables of ``metrics``."""
        out = []
        for m in self.metrics:
            out.extend(m.variables)
        return out

    # -- build config ------------------------------------------------------------
    def get_build_config(self):
        """``{'input_shape': ...}`` of a built layer (None before it is built)."""
        if not self.built or self._build_input_shape is None:
            return None
        by_argument = self.__dict__.get("_build_shapes_dict")
        if by_argument:   # Keras 3's ``build(query_shape, value_shape)``
            return {"shapes_dict": {k: _plain_shape(v) for k, v in by_argument.items()}}
        shape = _plain_shape(self._build_input_shape)
        if isinstance(shape, dict):
            return {"shapes_dict": shape}
        return {"input_shape": shape}

    def build_from_config(self, config):
        """Builds the layer from ``get_build_config()``'s output (no-op for None/{})."""
        if not config:
            return
        if "input_shape" in config:
            shape = config["input_shape"]
        elif "shapes_dict" in config:
            shapes = config["shapes_dict"]
            shape = next(iter(shapes.values())) if len(shapes) == 1 else shapes
        else:
            raise ValueError(f"Layer {self.name!r}: `build_from_config` expects a dict "
                             f"with 'input_shape' or 'shapes_dict'. Received: "
                             f"config={config!r}")
        if shape is None or self.built:
            return
        if isinstance(shape, list) and shape and all(
                isinstance(d, int) or d is None for d in shape):
            shape = tuple(shape)
        by_argument = shapes_by_argument(self, config.get("shapes_dict"))
        with self._own_scope():
            self._record_path()
            if by_argument:
                self.build(**by_argument)
            else:
                self.build(shape)
        self.built = True
        if self._build_input_shape is None:
            self._build_input_shape = shape

    # -- variable store ---------------------------------------------------------
    def _own_variables(self):
        return list(self._trainable_weights) + list(self._non_trainable_weights)

    def save_own_variables(self, store):
        """Writes the layer's own variables into ``store['0']``, ``store['1']``, ...

        Args:
          store: a dict-like object; values are NumPy arrays.
        """
        for i, v in enumerate(self._own_variables()):
            store[str(i)] = v.numpy()

    def load_own_variables(self, store):
        """Assigns the layer's own variables from a store ``save_own_variables``
        wrote (the number of entries must match)."""
        variables = self._own_variables()
        keys = list(store.keys())
        if len(keys) != len(variables):
            if not variables and not self.built:
                raise ValueError(
                    f"Layer '{self.name}' was never built and thus it doesn't have any "
                    f"variables. However the weights file lists {len(keys)} variables "
                    "for this layer. Build the layer before loading its variables.")
            raise ValueError(
                f"Layer '{self.name}' expected {len(variables)} variables, but "
                f"received {len(keys)} variables during loading. Expected: "
                f"{[v.name.split('/')[-1].split(':')[0] for v in variables]}")
        for i, v in enumerate(variables):
            value = store[str(i)]
            shape = tuple(getattr(value, "shape", ()))
            if shape != tuple(v.shape):
                raise ValueError(f"Layer '{self.name}': variable {v.name} has shape "
                                 f"{tuple(v.shape)} but the store holds shape {shape} "
                                 f"under key '{i}'.")
            if hasattr(value, "numpy"):
                value = value.numpy()
            v.assign(convert_to_tensor(value, dtype=v.dtype))

    def stateless_call(self, trainable_variables, non_trainable_variables, *args,
                       return_losses=False, **kwargs):
        """Calls the layer with the given variable values; its own variables keep
        their values.

        Args:
          trainable_variables: values for ``self.trainable_variables``, in order.
          non_trainable_variables: values for ``self.non_trainable_variables``.
          *args: the call's inputs.
          return_losses: also return the losses ``add_loss`` added in the call.
          **kwargs: other call arguments (``training``, ``mask``...).

        Returns:
          ``(outputs, non_trainable_variables)`` with the non-trainable values after
          the call (a BatchNormalization's updated moving statistics), plus the
          losses when ``return_losses``. A GradientTape watching the trainable
          values passed in gets their gradients (the layers compute with them).

        Raises:
          ValueError: the layer is unbuilt or a list has the wrong length.
        """
        name = type(self).__name__
        if not self.built:
            raise ValueError(
                f"To call stateless_call, {name} must be built (i.e. its variables "
                "must have been already created). You can build it by calling it on "
                "some data.")
        variables = []
        for arg, given, own in (
                ("trainable_variables", trainable_variables, self.trainable_variables),
                ("non_trainable_variables", non_trainable_variables,
                 self.non_trainable_variables)):
            if len(given) != len(own):
                raise ValueError(
                    f"Argument `{arg}` must be a list of tensors corresponding 1:1 to "
                    f"{name}().{arg}. Received list with length {len(given)}, but "
                    f"expected {len(own)} variables.")
            variables.extend(own)
        saved = [v.read_value() for v in variables]
        given = [convert_to_tensor(value, dtype=v.dtype) for v, value in zip(
            variables, [*trainable_variables, *non_trainable_variables])]
        swapped = []
        try:
            for v, value in zip(variables, given):
                v.assign(value)
            by_id = {id(v): t for v, t in zip(self.trainable_variables,
                                              given[:len(trainable_variables)])}
            swapped = _swap_in(self, by_id)
            outputs = self(*args, **kwargs)
            updated = [v.read_value() for v in self.non_trainable_variables]
            losses = _losses_of(self, by_id) if return_losses else []
        finally:
            for layer, key, var in swapped:
                layer.__dict__[key] = var
            for v, value in zip(variables, saved):
                v.assign(value)
        if return_losses:
            return outputs, updated, losses
        return outputs, updated

    # -- specs -------------------------------------------------------------------
    def compute_output_spec(self, *args, **kwargs):
        """The output KerasTensor(s) for KerasTensor inputs (nothing is computed)."""
        from dlframe.keras.engine import node as _node
        if not args:
            raise TypeError(f"Layer {self.name}: `compute_output_spec` needs the inputs "
                            "as its first argument.")
        return _node.dry_run_outputs(self, args[0], args[1:], kwargs)


def _swap_in(root, by_id):
    """Points the attributes of ``root``'s layers that hold a trainable variable
    ``by_id`` knows at its given tensor (so a tape watching the tensors
    differentiates the call); returns ``[(layer, attribute, variable)]`` to put
    back. The variables hold the same values too, for code that reads them another
    way; a mixed-precision layer gets its tensor in its compute dtype."""
    swapped = []
    for layer in root._flatten_layers(include_self=True):
        policy = getattr(layer, "_dtype_policy", None)
        cast_to = policy.compute_dtype if policy is not None and getattr(
            layer, "_autocast", False) and \
            policy.compute_dtype != policy.variable_dtype else None
        for key, value in list(vars(layer).items()):
            if not getattr(value, "_is_variable", False) or id(value) not in by_id:
                continue
            tensor = by_id[id(value)]
            if cast_to is not None and tensor.dtype.is_floating:
                tensor = _math.cast(tensor, cast_to)
            layer.__dict__[key] = tensor
            swapped.append((layer, key, value))
    return swapped


def _losses_of(root, by_id):
    """``root.losses`` with the weight regularizers (``add_weight``'s callables,
    ``lambda v=variable: regularizer(v)``) applied to the given tensors."""
    out = []
    for layer in root._flatten_layers():
        out.extend(layer._losses)
        for fn in layer._callable_losses:
            held = (getattr(fn, "__defaults__", None) or (None,))[0]
            given = by_id.get(id(held)) if getattr(held, "_is_variable", False) \
                else None
            value = fn() if given is None else fn(given)
            if value is not None:
                out.append(convert_to_tensor(value))
    return out
