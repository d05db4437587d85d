"""What a layer holds: sub-layers found in its attributes, and its weights.

Mixed into ``Layer``. Layers assigned as attributes (also inside lists, tuples and
dicts) are tracked, so their weights show up on the parent; ``add_weight`` creates
a Variable under the layer's name scope (so weights are named 'dense/kernel:0').
"""

from dlframe.core import dtypes as _dt
from dlframe.core.tensor import convert_to_tensor
from dlframe.core.variable import Variable, current_scope, name_scope
from dlframe.keras.engine.base_layer_utils import keras3_positional


class LayerTrackingMixin:
    """Sub-layer tracking and the weights API of ``Layer``."""

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
            if isinstance(v, LayerTrackingMixin):  # i.e. a Layer
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
            var.path = keras_path(var.name[:-2])
        except AttributeError:
            pass
        if dtype.is_floating and kwargs.get("autocast", kwargs.get(
                "experimental_autocast", True)) and hasattr(var, "__dict__"):
            var._autocast = True   # read as the compute dtype in a mixed call
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
        # a weight frozen after creation (LoRA's base kernel) keeps its place in
        # ``weights`` but leaves the trainable list, as in Keras 3
        out = [v for v in self._trainable_weights if v.trainable] + [
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
        out = [v for v in self._trainable_weights if not v.trainable] + list(
            self._non_trainable_weights) + [
            v for v in self._attribute_variables() if not v.trainable]
        for child in self._direct_children():
            out.extend(child.non_trainable_weights)
        return _dedupe(out)

    @property
    def weights(self):
        # Layer order (own weights, then each sub-layer's), independent of the
        # ``trainable`` flags, so get_weights()/set_weights() lists keep matching
        # across models where some layers are frozen (as in Keras).
        out = (list(self._trainable_weights) + list(self._non_trainable_weights)
               + self._attribute_variables())
        for child in self._direct_children():
            out.extend(child.weights)
        return _dedupe(out)

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
            # host values convert on the variable's own device, whatever the current
            # device scope (TF); a tensor from another device is copied by assign
            p.assign(convert_to_tensor(w, dtype=p.dtype, device=getattr(p, "_device", None)))

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


_PATH_SCOPES = []   # (name scope when entered, model name) of the models building


class path_scope:
    """Prefixes ``model_name`` to the Keras 3 ``path`` (not the ``name``) of the
    weights created inside: a Sequential builds its layers in its own scope, so
    paths read 'sequential/dense/kernel' while names stay 'dense/kernel:0'."""

    def __init__(self, model_name):
        self._entry = None
        self._model_name = model_name

    def __enter__(self):
        self._entry = (current_scope(), self._model_name)
        _PATH_SCOPES.append(self._entry)

    def __exit__(self, *exc):
        _PATH_SCOPES.remove(self._entry)
        return False


def keras_path(scoped_name):
    """``scoped_name`` ('dense/kernel') with the enclosing ``path_scope`` names
    inserted where those scopes were entered."""
    path = scoped_name
    for base, model_name in reversed(_PATH_SCOPES):
        if base and not path.startswith(base + "/"):
            continue
        cut = len(base) + 1 if base else 0
        path = path[:cut] + model_name + "/" + path[cut:]
    return path


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

