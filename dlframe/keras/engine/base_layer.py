"""Layer: the Keras layer lifecycle (DESIGN.md §6).

``__init__`` stores config; ``build(input_shape)`` runs lazily on the first call and
creates weights with ``add_weight`` under ``name_scope(layer.name)`` (so weights are
named 'dense/kernel:0'); ``call`` does the math. Layers assigned as attributes (also
inside lists and dicts) are tracked, so their weights and losses show up on the
parent. Calling a layer on KerasTensors records a node of a functional graph.
"""

import inspect
import weakref

from dlframe import autograph as _autograph
from dlframe.core import dtypes as _dt
from dlframe.core.primitive import STATE as _STATE
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.core.variable import Variable, name_scope
from dlframe.keras import backend, mixed_precision
from dlframe.keras.engine import input_spec as _input_spec
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
)
from dlframe.keras.engine.keras_tensor import KerasTensor
from dlframe.keras.engine.layer_state_api import LayerStateAPI
from dlframe.keras.utils import generic_utils, tree
from dlframe.ops import math as _math
from dlframe.ops.ragged_tensor import RaggedTensor

# Layers whose ``_losses`` list is not empty: while there are none, the outermost
# call skips walking the layer tree to clear them (most models add no losses).
_LAYERS_WITH_LOSSES = weakref.WeakSet()

_ALLOWED_KWARGS = {"input_dim", "input_shape", "batch_input_shape", "batch_size",
                   "weights", "activity_regularizer", "autocast", "implementation",
                   "dynamic", "input_dtype"}



class Layer(LayerStateAPI):
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
            raise TypeError(f"Unrecognized keyword arguments passed to "
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

    # -- tracking ------------------------------------------------------------
    _NOT_TRACKED = frozenset({"_inbound_nodes", "_outbound_nodes", "_trainable_weights",
                              "_non_trainable_weights", "_losses", "_callable_losses",
                              "_graph_layers", "_nodes_in_order", "_seq_layers_unused"})

    def _tracked_values(self):
        for key, value in self.__dict__.items():
            if key not in self._NOT_TRACKED:
                yield value

    def _direct_children(self):
        """Layers held in attributes (also inside lists, tuples and dicts), in order."""
        out, seen = [], {id(self)}

        def visit(v, depth):
            if isinstance(v, Layer):
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
            elif depth < 4 and isinstance(v, (list, tuple)):
                for item in v:
                    visit(item, depth + 1)
            elif depth < 4 and isinstance(v, dict):
                for item in v.values():
                    visit(item, depth + 1)
        for value in self._tracked_values():
            visit(value, 0)
        return out

    def _attribute_variables(self):
        """tf.Variables assigned directly as attributes (not through add_weight)."""
        own = {id(v) for v in self._trainable_weights + self._non_trainable_weights}
        out = []
        for value in self._tracked_values():
            items = value if isinstance(value, (list, tuple)) else [value]
            for v in items:
                if isinstance(v, Variable) and id(v) not in own:
                    own.add(id(v))
                    out.append(v)
        return out

    def _flatten_layers(self, include_self=True, recursive=True):
        seen = set()
        stack = [self] if include_self else list(reversed(self._direct_children()))
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            yield layer
            if recursive or layer is self:
                stack.extend(reversed(layer._direct_children()))

    @property
    def _layers(self):
        return self._direct_children()

    @property
    def submodules(self):
        return list(self._flatten_layers(include_self=False))

    # -- weights -------------------------------------------------------------
    @keras3_positional(("shape", "initializer", "dtype", "trainable", "autocast",
                        "regularizer", "constraint", "aggregation",
                        "overwrite_with_gradient", "name"))
    def add_weight(self, name=None, shape=None, dtype=None, initializer=None,
                   regularizer=None, trainable=None, constraint=None, use_resource=None,
                   synchronization=None, aggregation=None, **kwargs):
        """Creates a weight Variable named '<layer scope>/<name>' and tracks it.

        Args:
          name: the weight's name.
          shape: its shape (default scalar).
          dtype: its dtype (default the layer's variable dtype).
          initializer: name, Initializer or callable (default glorot_uniform for
            floats, zeros otherwise).
          regularizer: optional penalty added to ``layer.losses``.
          trainable: whether it is listed in ``trainable_weights`` (default True).
          constraint: optional projection applied after optimizer updates.
        """
        from dlframe.keras import constraints, initializers, regularizers
        shape = () if shape is None else tuple(
            shape.as_list() if hasattr(shape, "as_list") else shape)
        dtype = _dt.as_dtype(dtype or self.variable_dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.is_floating else "zeros"
        init = initializers.get(initializer)
        if trainable is None:
            trainable = True
        from dlframe.core.variable import VariableAggregation, VariableSynchronization
        if synchronization == VariableSynchronization.ON_READ or synchronization == "on_read":
            trainable = False
        kw = {}
        if isinstance(synchronization, VariableSynchronization):
            kw["synchronization"] = synchronization
        if isinstance(aggregation, VariableAggregation):
            kw["aggregation"] = aggregation
        scope = name_scope(None if self._own_scope_depth else self._scope_name())
        with scope:
            var = Variable(lambda: init(shape, dtype=dtype), name=name or "Variable",
                           trainable=trainable, dtype=dtype,
                           constraint=constraints.get(constraint), **kw)
        try:
            var.path = var.name[:-2]
        except AttributeError:
            pass
        if regularizer is not None:
            reg = regularizers.get(regularizer)
            self._callable_losses.append(lambda v=var, r=reg: r(v))
        (self._trainable_weights if trainable else self._non_trainable_weights).append(var)
        return var

    add_variable = add_weight

    def _scope_name(self):
        return self._name

    _own_scope_depth = 0

    def _own_scope(self):
        return _OwnScope(self)

    @property
    def trainable_weights(self):
        if not self._trainable:
            return []
        out = list(self._trainable_weights) + [
            v for v in self._attribute_variables() if v.trainable]
        for child in self._direct_children():
            out.extend(child.trainable_weights)
        return _dedupe(out)

    @property
    def non_trainable_weights(self):
        if not self._trainable:
            out = (list(self._trainable_weights) + list(self._non_trainable_weights)
                   + self._attribute_variables())
            for child in self._direct_children():
                out.extend(child.weights)
            return _dedupe(out)
        out = list(self._non_trainable_weights) + [
            v for v in self._attribute_variables() if not v.trainable]
        for child in self._direct_children():
            out.extend(child.non_trainable_weights)
        return _dedupe(out)

    @property
    def weights(self):
        return _dedupe(self.trainable_weights + self.non_trainable_weights)

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        return self.non_trainable_weights

    @property
    def variables(self):
        return self.weights

    def get_weights(self):
        """The weights' values as NumPy arrays."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        """Assigns NumPy arrays (same order and shapes as ``get_weights()``)."""
        params = self.weights
        if len(params) != len(weights):
            raise ValueError(
                f'You called `set_weights(weights)` on layer "{self.name}" with a weight '
                f"list of length {len(weights)}, but the layer was expecting "
                f"{len(params)} weights. Provided weights: {str(weights)[:50]}...")
        for p, w in zip(params, weights):
            wshape = tuple(getattr(w, "shape", ()))
            if tuple(p.shape) != wshape:
                raise ValueError(f"Layer {self.name} weight shape {tuple(p.shape)} is not "
                                 f"compatible with provided weight shape {wshape}.")
            p.assign(convert_to_tensor(w, dtype=p.dtype))

    def count_params(self):
        """The number of scalars in the layer's weights."""
        if not self.built and not self.weights:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', "
                             "but the layer isn't built. You can build it manually via: "
                             f"`{self.name}.build(batch_input_shape)`.")
        total = 0
        for w in self.weights:
            n = 1
            for d in w.shape:
                n *= d
            total += n
        return total

    # -- losses --------------------------------------------------------------
    def add_loss(self, losses, inputs=None, **kwargs):
        """Adds a loss tensor (or zero-argument callable) to ``layer.losses``."""
        for loss in tree.flatten(losses):
            if loss is None:
                continue
            if callable(loss) and not isinstance(loss, Tensor):
                self._callable_losses.append(loss)
            elif isinstance(loss, KerasTensor):
                self._add_symbolic_loss(loss)
            else:
                self._losses.append(convert_to_tensor(loss))
                _LAYERS_WITH_LOSSES.add(self)

    def _add_symbolic_loss(self, loss):
        raise ValueError(
            f"add_loss received a symbolic (functional) tensor {loss!r} on layer "
            f"{self.name!r}; only a functional Model can hold one (Keras 2's "
            "`model.add_loss(tensor)`). Add the loss inside a layer's call instead.")

    @property
    def losses(self):
        """Activity/`add_loss` losses of the last call plus weight regularization."""
        out = []
        for layer in self._flatten_layers():
            out.extend(layer._losses)
            for fn in layer._callable_losses:
                value = fn()
                if value is not None:
                    out.append(convert_to_tensor(value))
        return out

    def _clear_losses(self):
        if not _LAYERS_WITH_LOSSES:
            return
        for layer in self._flatten_layers():
            if layer._losses:
                layer._losses = []
            _LAYERS_WITH_LOSSES.discard(layer)

    def add_metric(self, value, name=None, aggregation=None, **kwargs):
        """Keras 2's ``add_metric``: reports the running mean of ``value`` under
        ``name`` (``fit``/``evaluate`` logs, ``layer.metrics``).

        Args:
          value: a tensor computed in ``call`` (or, on a functional Model, a
            symbolic tensor of its graph).
          name: the metric's name in the logs (required).
          aggregation: None or 'mean' (values are averaged over the epoch).
        """
        if aggregation not in (None, "mean"):
            raise ValueError(f"We currently support only `mean` sample-wise metric "
                             f"aggregation. You provided aggregation={aggregation!r}")
        if not name:
            raise ValueError("Please provide a name for your metric like "
                             "`self.add_metric(tf.reduce_sum(inputs), "
                             f"name='mean_activation')`. Received: name={name!r}")
        if isinstance(value, KerasTensor):
            self._add_symbolic_metric(value, name)
            return
        metric = self._added_metric(name)
        if not in_dry_run():
            metric.update_state(value)

    def _added_metric(self, name):
        """The ``Mean`` behind ``add_metric(..., name=name)`` (made on first use; held
        in an attribute, so ``metrics`` and ``fit``'s logs list it)."""
        from dlframe.keras.metrics import Mean
        added = self.__dict__.setdefault("_added_metrics", [])
        metric = next((m for m in added if m.name == name), None)
        if metric is None:
            metric = Mean(name=name)
            added.append(metric)
        return metric

    def _add_symbolic_metric(self, value, name):
        raise ValueError(
            f"add_metric received a symbolic (functional) tensor {value!r} on layer "
            f"{self.name!r}; only a functional Model can hold one. Add the metric "
            "inside a layer's call instead.")

    def add_update(self, updates, inputs=None):
        pass

    # -- lifecycle -------------------------------------------------------------
    def build(self, input_shape):
        """Creates the layer's weights (subclasses override); sets ``built``."""
        self._build_input_shape = input_shape
        self.built = True

    def call(self, inputs, *args, **kwargs):
        return inputs

    def _maybe_build(self, inputs):
        if self.built:
            return
        shapes = _shapes_of(inputs)
        if self._input_dtype is None:
            first = tree.flatten(inputs)[0]
            dtype = getattr(first, "dtype", None)
            self._input_dtype = getattr(dtype, "name", None)
        with self._own_scope():
            self._record_path()
            self.build(shapes)
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
        if self._expects_mask and "mask" not in kwargs and has_mask:
            if "mask" in self._call_params or self.supports_masking:
                kwargs["mask"] = input_masks
        _input_spec.assert_input_compatibility(self._input_spec, inputs, self.name)
        outermost = ctx.depth == 0
        if outermost and not ctx.dry_run:
            self._clear_losses()
        if not self.built:
            self._maybe_build(inputs)
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
        if self._activity_regularizer is not None:
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
                    if isinstance(o, Tensor) and m is not None:
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

    # -- nodes: input/output of the functional graph ---------------------------
    def _node_attr(self, attr, what):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} is not connected, no {what} to "
                                 "return.")
        if len(self._inbound_nodes) > 1:
            raise AttributeError(f"Layer {self.name} has multiple inbound nodes, hence "
                                 f"the notion of \"layer {what}\" is ill-defined. Use "
                                 f"`get_{what}_at(node_index)` instead.")
        return getattr(self._inbound_nodes[0], attr)

    @property
    def input(self):
        return self._node_attr("input_tensors", "input")

    @property
    def output(self):
        return self._node_attr("output_tensors", "output")

    def get_input_at(self, node_index):
        return self._inbound_nodes[node_index].input_tensors

    def get_output_at(self, node_index):
        return self._inbound_nodes[node_index].output_tensors

    @property
    def input_shape(self):
        if not self._inbound_nodes and self._build_input_shape is not None:
            return _as_tuple_shapes(self._build_input_shape)
        return _as_tuple_shapes(tree.map_structure(lambda k: k.shape, self.input))

    @property
    def output_shape(self):
        if not self._inbound_nodes:
            raise AttributeError(f"The layer \"{self.name}\" has never been called and "
                                 "thus has no defined output shape.")
        shapes = {repr(_as_tuple_shapes(tree.map_structure(lambda k: k.shape,
                                                           n.output_tensors)))
                  for n in self._inbound_nodes}
        if len(shapes) > 1:
            raise AttributeError(f'The layer "{self.name}" has multiple inbound nodes, '
                                 "with different output shapes.")
        return _as_tuple_shapes(tree.map_structure(lambda k: k.shape, self.output))

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

    @property
    def inbound_nodes(self):
        return self._inbound_nodes

    @property
    def outbound_nodes(self):
        return self._outbound_nodes


class _OwnScope:
    """``name_scope(layer.name)`` that also tells add_weight it is already inside."""

    def __init__(self, layer):
        self._layer = layer
        self._scope = name_scope(layer._scope_name())

    def __enter__(self):
        self._scope.__enter__()
        self._layer._own_scope_depth += 1

    def __exit__(self, *exc):
        self._layer._own_scope_depth -= 1
        return self._scope.__exit__(*exc)


def _dedupe(variables):
    seen, out = set(), []
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def _as_tuple_shapes(shapes):
    if isinstance(shapes, TensorShape):
        return tuple(shapes.as_list()) if shapes.rank is not None else None
    if isinstance(shapes, (list, tuple)):
        return [_as_tuple_shapes(s) for s in shapes]
    if isinstance(shapes, dict):
        return {k: _as_tuple_shapes(v) for k, v in shapes.items()}
    return shapes


def _plain(value):
    """Whether ``value`` is a JSON-friendly Python value (Keras 3 auto-config rule)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def _auto_config(layer, init, names):
    """Keras 3: the ``__init__`` arguments ``names`` the layer was created with, when
    they are all plain values (so ``get_config`` need not be overridden); else None."""
    args, kwargs = getattr(layer, "_init_call_args", ((), {}))
    try:
        bound = inspect.signature(init).bind(layer, *args, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    values = {k: v for k, v in bound.arguments.items() if k in names}
    if not all(_plain(v) for v in values.values()):
        return None
    return values
