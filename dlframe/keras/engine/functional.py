"""Functional models: a graph of layer calls from Input KerasTensors to outputs."""

from dlframe.core.dtypes import DType
from dlframe.core.tensor import Tensor, constant, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.errors import UnsupportedTypeError
from dlframe.io.sparse_tensor import SparseTensor
from dlframe.keras.engine import node as _node
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.engine.dict_inputs import match_dict_inputs, spec_names
from dlframe.keras.engine.input_layer import InputLayer
from dlframe.keras.engine.input_spec import InputSpec
from dlframe.keras.engine.keras_tensor import KerasTensor
from dlframe.keras.engine.model import Model
from dlframe.keras.utils import generic_utils, tree
from dlframe.ops import array as _array
from dlframe.ops import math as _math


def _history_node(kt):
    layer, index, _ = kt._keras_history
    return layer._inbound_nodes[index]


def remember_own_inputs(outer, own):
    """Records that a nested Sequential's ``.input`` reported ``outer`` (its first
    call's tensors, Keras 3) where Keras 2 reported ``own`` (its own graph's), so
    ``Model(seq.input, seq.layers[i].output)`` (Keras 2) can still be built."""
    for o, w in zip(tree.flatten(outer), tree.flatten(own)):
        o._keras2_own_input = w


def _own_input_of(kt):
    return getattr(kt, "_keras2_own_input", kt)


class Functional(Model):
    """A Model defined by ``inputs`` and ``outputs`` KerasTensors."""

    def _init_graph_network(self, inputs, outputs):
        for kind, value in (("inputs", inputs), ("outputs", outputs)):
            for x in tree.flatten(value):
                if not isinstance(x, KerasTensor) or x._keras_history is None:
                    raise UnsupportedTypeError(   # Keras 3: ValueError, Keras 2: TypeError
                        f"All `{kind}` values of a functional Model must be KerasTensors "
                        "(from `keras.Input` or layers called on them). Received: "
                        f"{kind}={value!r} (including {x!r} of type {type(x).__name__})")
        # Keras 3: model.input/model.output keep the structure given (Model([x], y)
        # has a one-item list input); the flat lists are model.inputs/outputs
        self._nested_inputs = inputs
        self._nested_outputs = outputs
        self.inputs = tree.flatten(inputs)
        self.outputs = tree.flatten(outputs)
        self._is_graph_network = True
        try:
            self._nodes_in_order = self._topological_nodes()
        except ValueError:   # maybe Keras 2's Model(seq.input, seq.layers[i].output)
            own = [_own_input_of(kt) for kt in self.inputs]
            if all(a is b for a, b in zip(own, self.inputs)):
                raise
            self.inputs = own
            self._nested_inputs = tree.pack_sequence_as(inputs, own)
            self._nodes_in_order = self._topological_nodes()
        self._graph_layers = self._layers_by_depth()
        _check_unique_names(self._graph_layers)
        self.input_names = [kt._keras_history[0].name for kt in self.inputs]
        self.output_names = _unique_names(
            [kt._keras_history[0].name for kt in self.outputs])
        self._input_spec = [InputSpec(shape=tuple([None] + kt.shape.as_list()[1:]),
                                      allow_last_axis_squeeze=True, name=name,
                                      optional=getattr(kt._keras_history[0], "optional",
                                                       False))
                            for kt, name in zip(self.inputs, spec_names(
                                self._nested_inputs, self.input_names))]
        self.built = True

    def _add_symbolic_loss(self, loss):
        """Keras 2's ``model.add_loss(tensor)``: ``loss`` is a KerasTensor computed from
        this model's inputs; it is evaluated at every call and added to the losses."""
        self._symbolic_losses = list(getattr(self, "_symbolic_losses", ())) + [loss]
        self._add_symbolic_loss_or_metric()

    def _add_symbolic_loss_or_metric(self):
        self._nodes_in_order = self._topological_nodes()
        for node in self._nodes_in_order:
            if all(node.layer is not lay for lay in self._graph_layers):
                self._graph_layers.append(node.layer)

    def _add_symbolic_metric(self, value, name):
        """Keras 2's ``model.add_metric(tensor, name=...)`` on graph tensors: the
        value is computed at every call and averaged under ``name``."""
        self._symbolic_metrics = list(getattr(self, "_symbolic_metrics", ())) + [
            (value, name)]
        self._add_symbolic_loss_or_metric()
        self._added_metric(name)

    def _layers_by_depth(self):
        """Layers as Keras lists them: by decreasing depth (distance to the outputs),
        ties in the order a walk from the outputs first reaches them."""
        input_ids = {id(kt) for kt in self.inputs}
        depth = {}
        for node in reversed(self._nodes_in_order):
            below = depth.setdefault(id(node.layer), 0)
            for kt in node.flat_inputs:
                parent = kt._keras_history[0]
                depth[id(parent)] = max(depth.get(id(parent), 0), below + 1)
        order = []
        unused = [kt._keras_history[0] for kt in self.inputs
                  if id(kt._keras_history[0]) not in depth]
        for node in self._nodes_in_order:
            for kt in node.flat_inputs:
                if id(kt) in input_ids:
                    order.append(kt._keras_history[0])
            order.append(node.layer)
        for kt in self.inputs:   # an input that is also an output
            order.append(kt._keras_history[0])
        layers, seen = [], set()
        for layer in unused + order:
            if id(layer) not in seen:
                seen.add(id(layer))
                layers.append(layer)
        top = max(depth.values(), default=0) + 1
        found = self._discovery
        return sorted(layers, key=lambda lay: (-depth.get(id(lay), top),
                                               found.get(id(lay), -1)))

    def _topological_nodes(self):
        """Non-input nodes between inputs and outputs (and symbolic losses), parents
        before children."""
        input_ids = {id(kt) for kt in self.inputs}
        done, ordered, accessed = set(), [], []
        # Keras sorts layers of one depth by when a walk from the outputs (inputs
        # of a node in argument order) first reaches them
        self._discovery = discovery = {}
        extra = list(getattr(self, "_symbolic_losses", ())) + [
            kt for kt, _ in getattr(self, "_symbolic_metrics", ())]
        for out in self.outputs + extra:
            stack = [(out, False)]
            while stack:
                kt, expanded = stack.pop()
                discovery.setdefault(id(kt._keras_history[0]), len(discovery))
                if id(kt) in input_ids:
                    continue
                node = _history_node(kt)
                if id(node) in done:
                    continue
                if node.is_input:
                    raise ValueError(
                        f"Graph disconnected: cannot obtain value for tensor {kt!r} at "
                        f'layer "{node.layer.name}". The following previous layers were '
                        f"accessed without issue: {accessed}")
                if expanded:
                    done.add(id(node))
                    ordered.append(node)
                    accessed.append(node.layer.name)
                    continue
                stack.append((kt, True))
                for parent in reversed(node.flat_inputs):
                    stack.append((parent, False))
        return ordered

    # -- layers and weights ---------------------------------------------------
    def _direct_children(self):
        children = list(getattr(self, "_graph_layers", []))
        for layer in super()._direct_children():
            if all(layer is not c for c in children):
                children.append(layer)
        return children

    @property
    def layers(self):
        return list(self._graph_layers)

    @property
    def operations(self):
        """Keras 3's name for the graph's layers (input layers included)."""
        return self.layers

    @property
    def input(self):
        return self._nested_inputs

    @property
    def output(self):
        return self._nested_outputs

    @property
    def input_shape(self):
        """The input shape tuple; a list of them for several inputs (Keras 3
        flattens a list or dict of inputs)."""
        return _flat_shapes(self.inputs)

    @property
    def output_shape(self):
        """The output shape tuple; a list of them for several outputs."""
        return _flat_shapes(self.outputs)

    # -- execution --------------------------------------------------------------
    def _convert_inputs(self, inputs):
        # several inputs fed a dict: by structure keys (Keras 3) or Input names; a
        # single input (a Sequential's too) is matched by its spec / call as before
        if isinstance(inputs, dict) and isinstance(
                getattr(self, "_nested_inputs", None), (dict, list, tuple)):
            inputs = match_dict_inputs(self._nested_inputs, self.input_names, inputs)
        return super()._convert_inputs(inputs)

    def _flatten_call_inputs(self, inputs):
        if isinstance(inputs, dict):
            try:
                inputs = match_dict_inputs(self._nested_inputs, self.input_names,
                                           inputs)
            except ValueError:   # call() itself: Keras 2 flattened what it could
                if len(tree.flatten(inputs)) != len(self.inputs):
                    raise
        flat = tree.flatten(inputs)
        if len(flat) != len(self.inputs):
            raise ValueError(f'Layer "{self.name}" expects {len(self.inputs)} input(s), '
                             f"but it received {len(flat)} input tensors. Inputs "
                             f"received: {inputs}")
        return flat

    def _conform(self, kt, value):
        if value is None:   # Input(optional=True), checked by the input spec
            return None
        if isinstance(value, SparseTensor) or getattr(value, "_dlframe_composite", False):
            return value   # sparse/ragged inputs reach the layers as they are
        if not isinstance(value, (Tensor, KerasTensor)):
            value = convert_to_tensor(value)
        ref = kt.shape
        if (isinstance(value, Tensor) and ref.rank and len(value.shape) == ref.rank - 1
                and ref[-1] == 1):   # Keras 2: a [batch] feature for Input(shape=(1,))
            value = _array.expand_dims(value, -1)
        if isinstance(value, Tensor) and value.dtype != kt.dtype:
            mask = value._keras_mask
            value = _math.cast(value, kt.dtype)
            if mask is not None:
                value._keras_mask = mask
        return value

    @staticmethod
    def _conform_symbolic(kt, value):
        # A float Input fed to a model declared with Input(dtype="int32") reaches the
        # inner layers as int32, as the concrete call's cast does (see _conform).
        if (not isinstance(value, KerasTensor) or value.dtype == kt.dtype
                or value.sparse or value.ragged or kt.sparse or kt.ragged):
            return value
        cast = KerasTensor(value.shape, dtype=kt.dtype, name=value.name)
        cast._keras_mask = value._keras_mask
        return cast

    def _run_graph(self, flat_inputs, run_layer):
        values = {id(kt): v for kt, v in zip(self.inputs, flat_inputs)}

        def sub(x):
            return values[id(x)] if isinstance(x, KerasTensor) else x
        for node in self._nodes_in_order:
            args = tree.map_structure(sub, node.call_args)
            kwargs = tree.map_structure(sub, node.call_kwargs)
            outs = run_layer(node.layer, args, kwargs)
            for kt, v in zip(node.flat_outputs, tree.flatten(outs)):
                values[id(kt)] = v
        for kt in getattr(self, "_symbolic_losses", ()):
            if isinstance(values.get(id(kt)), Tensor):   # concrete runs only
                self.add_loss(values[id(kt)])
        for kt, name in getattr(self, "_symbolic_metrics", ()):
            if isinstance(values.get(id(kt)), Tensor):
                self.add_metric(values[id(kt)], name=name)
        return tree.pack_sequence_as(self._nested_outputs,
                                     [values[id(kt)] for kt in self.outputs])

    def call(self, inputs, training=None, mask=None):
        flat = [self._conform(kt, v) for kt, v in
                zip(self.inputs, self._flatten_call_inputs(inputs))]
        if mask is not None:
            for v, m in zip(flat, tree.flatten(mask)):
                if m is not None and isinstance(v, Tensor):
                    v._keras_mask = m
        out = self._run_graph(flat, lambda layer, a, k: layer(*a, **k))
        # Model(inputs, [y]) called on data gives y itself (Keras 2 and 3); the
        # symbolic call keeps the list (Keras 3), see _symbolic_outputs.
        if isinstance(self._nested_outputs, (list, tuple)) and len(out) == 1:
            return out[0]
        return out

    def _symbolic_outputs(self, inputs, rest, kwargs):
        flat = [self._conform_symbolic(kt, v) for kt, v in
                zip(self.inputs, self._flatten_call_inputs(inputs))]
        out = self._run_graph(flat, lambda layer, a, k: _node.symbolic_outputs(
            layer, a[0], a[1:], k))
        return out

    def compute_output_shape(self, input_shape):
        specs = tree.map_structure(lambda s: KerasTensor(s), input_shape) if not (
            isinstance(input_shape, (tuple, list)) and all(
                d is None or isinstance(d, int) for d in input_shape)) else KerasTensor(
            input_shape)
        out = self._symbolic_outputs(specs, (), {})
        return tree.map_structure(lambda k: k.shape, out)

    def build(self, input_shape):
        self.built = True

    def get_build_config(self):
        """Keras 3's ``{'input_shape': None}``: the graph itself fixes the inputs."""
        config = super().get_build_config()
        return {"input_shape": None} if config is None and self.built else config

    # -- config -------------------------------------------------------------------
    def _node_indices(self):
        """Index of each node among its layer's nodes that belong to this model."""
        member = {id(n) for n in self._nodes_in_order}
        for kt in self.inputs:
            member.add(id(_history_node(kt)))
        index = {}
        for layer in self._graph_layers:
            k = 0
            for n in layer._inbound_nodes:
                if id(n) in member:
                    index[id(n)] = k
                    k += 1
        return index

    def get_config(self):
        index = self._node_indices()

        def ref(kt):
            node = _history_node(kt)
            return [kt._keras_history[0].name, index[id(node)], kt._keras_history[2]]

        def encode(x):
            if isinstance(x, KerasTensor):
                return {"class_name": "__keras_tensor__",
                        "config": {"shape": x.shape.as_list(), "dtype": x.dtype.name,
                                   "keras_history": ref(x)}}
            return _encode_constant(x)
        layers = []
        for layer in self._graph_layers:
            nodes = [n for n in layer._inbound_nodes if id(n) in index and not n.is_input]
            nodes.sort(key=lambda n: index[id(n)])
            layers.append({
                "class_name": type(layer).__name__ if not hasattr(layer, "_registered")
                else layer._registered,
                "config": layer.get_config(),
                "name": layer.name,
                "inbound_nodes": [{"args": tree.map_structure(encode, list(n.call_args)),
                                   "kwargs": tree.map_structure(encode, n.call_kwargs)}
                                  for n in nodes]})
            reg = generic_utils.get_registered_name(type(layer))
            if reg != type(layer).__name__:
                layers[-1]["class_name"] = reg
        return {"name": self.name, "trainable": self.trainable, "layers": layers,
                "input_layers": tree.map_structure(ref, self._nested_inputs),
                "output_layers": tree.map_structure(ref, self._nested_outputs)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from dlframe.keras.layers import deserialize as deserialize_layer

        def make_layer(data):
            return deserialize_layer({"class_name": data["class_name"],
                                      "config": data["config"]}, custom_objects)
        return cls._rebuild(config, make_layer)

    @classmethod
    def _rebuild(cls, config, make_layer, input_tensors=None):
        """The model ``config`` describes, with each layer made by ``make_layer(data)``
        (``data``: the layer's entry in ``config['layers']``); ``input_tensors``
        ({input layer name: KerasTensor}) replace those input layers' tensors."""
        produced, pending = {}, []
        for data in config["layers"]:
            if input_tensors and data["name"] in input_tensors:
                produced[(data["name"], 0)] = input_tensors[data["name"]]
                continue
            layer = make_layer(data)
            if isinstance(layer, InputLayer):
                produced[(data["name"], 0)] = layer._input_tensor
            for i, node in enumerate(data.get("inbound_nodes", [])):
                pending.append((data["name"], layer, i, _normalize_node(node)))

        def ready(x):
            if isinstance(x, dict) and x.get("class_name") == "__keras_tensor__":
                name, ni, _ = x["config"]["keras_history"]
                return (name, ni) in produced
            return True

        def decode(x):
            if isinstance(x, dict) and x.get("class_name") == "__keras_tensor__":
                name, ni, ti = x["config"]["keras_history"]
                return tree.flatten(produced[(name, ni)])[ti]
            if isinstance(x, dict) and x.get("class_name") == "__slice__":
                c = x["config"]
                return slice(c["start"], c["stop"], c["step"])
            if isinstance(x, dict) and x.get("class_name") == "__ellipsis__":
                return Ellipsis
            if isinstance(x, dict) and x.get("class_name") == "__tensor__":
                c = x["config"]
                return constant(c["value"], dtype=c["dtype"])
            return x
        while pending:
            progressed = False
            for item in list(pending):
                name, layer, i, (args, kwargs) = item
                if all(ready(x) for x in _leaves(args) + _leaves(kwargs)):
                    a = _map_leaves(decode, args)
                    k = _map_leaves(decode, kwargs)
                    produced[(name, i)] = layer(*a, **k)
                    pending.remove(item)
                    progressed = True
            if not progressed:
                raise ValueError("Cannot rebuild the functional graph: some layers' inputs "
                                 f"are never produced ({[p[0] for p in pending]}).")

        def lookup(ref):
            name, ni, ti = ref
            return tree.flatten(produced[(name, ni)])[ti]
        inputs = _map_refs(lookup, config["input_layers"])
        outputs = _map_refs(lookup, config["output_layers"])
        return cls(inputs=inputs, outputs=outputs, name=config.get("name"))


def _encode_constant(x):
    """JSON form of a non-tensor call argument of a node (op layers take dtypes,
    shapes and constant tensors: ``tf.cast(x, tf.float16)``)."""
    if isinstance(x, slice):   # x[:, ::2]: Keras 3's JSON form of a slice
        return {"class_name": "__slice__", "config": {
            "start": _encode_constant(x.start), "stop": _encode_constant(x.stop),
            "step": _encode_constant(x.step)}}
    if x is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(x, DType):
        return x.name
    if isinstance(x, TensorShape):
        return x.as_list()
    if isinstance(x, Tensor):
        return {"class_name": "__tensor__",
                "config": {"value": x.numpy().tolist(), "dtype": x.dtype.name}}
    if hasattr(x, "dtype") and hasattr(x, "tolist"):   # NumPy arrays and scalars
        return x.tolist()
    return x


def _is_ref(x):
    return (isinstance(x, (list, tuple)) and len(x) == 3 and isinstance(x[0], str)
            and isinstance(x[1], int) and isinstance(x[2], int))


def _map_refs(fn, refs):
    if _is_ref(refs):
        return fn(refs)
    if isinstance(refs, dict):
        return {k: _map_refs(fn, v) for k, v in refs.items()}
    return [_map_refs(fn, r) for r in refs]


def _flat_shapes(tensors):
    shapes = [tuple(k.shape.as_list()) for k in tensors]
    return shapes[0] if len(shapes) == 1 else shapes


def _leaves(x):
    if isinstance(x, dict) and not x.get("class_name", "").startswith("__"):
        return [y for v in x.values() for y in _leaves(v)]
    if isinstance(x, (list, tuple)):
        return [y for v in x for y in _leaves(v)]
    return [x]


def _map_leaves(fn, x):
    if isinstance(x, dict) and not str(x.get("class_name", "")).startswith("__"):
        return {k: _map_leaves(fn, v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_map_leaves(fn, v) for v in x)
    return fn(x)


def _normalize_node(node):
    """(args, kwargs) from a Keras-3 dict node or a Keras-2 list of [name, ni, ti, kw]."""
    if isinstance(node, dict):
        return list(node.get("args", [])), dict(node.get("kwargs", {}))
    refs, kwargs = [], {}
    for entry in node:
        name, ni, ti = entry[0], entry[1], entry[2]
        if len(entry) > 3 and entry[3]:
            kwargs.update(entry[3])
        refs.append({"class_name": "__keras_tensor__",
                     "config": {"keras_history": [name, ni, ti]}})
    return [refs[0] if len(refs) == 1 else refs], kwargs


Layer._functional_class = Functional


def _check_unique_names(layers):
    """Keras refuses a graph holding two different layers of one name (their weights
    could not be told apart when saving)."""
    seen = {}
    for layer in layers:
        if seen.setdefault(layer.name, layer) is not layer:
            count = sum(lay.name == layer.name for lay in layers)
            raise ValueError(f'The name "{layer.name}" is used {count} times in the '
                             "model. All layer names should be unique.")


def _unique_names(names):
    """Keras 2's output names: a layer with several outputs gives 'x', 'x_1', ..."""
    out, counts = [], {}
    for name in names:
        proposal = name
        while proposal in out:
            counts[name] = counts.get(name, 0) + 1
            proposal = f"{name}_{counts[name]}"
        out.append(proposal)
    return out
