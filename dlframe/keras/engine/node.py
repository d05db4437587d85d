"""Nodes of the functional graph and symbolic (KerasTensor) layer calls.

A Node records one call of a layer on KerasTensors: the call's arguments (KerasTensors
are the graph's edges, everything else is kept as a constant argument) and the
KerasTensors it produced. Output specs come from ``compute_output_shape`` when a layer
defines it, otherwise from running the layer twice on placeholder data with unknown
dimensions set to 2 and 3: dimensions that differ between the runs are unknown.
"""

import warnings

from dlframe.core.tensor_shape import TensorShape
from dlframe.keras.engine import input_spec as _input_spec
from dlframe.keras.engine.keras_tensor import KerasTensor
from dlframe.keras.utils import tree
from dlframe.ops import array as _array


class Node:
    """One call of ``layer`` inside a functional graph."""

    def __init__(self, layer, call_args, call_kwargs, outputs):
        self.layer = layer
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs)
        self.outputs = outputs
        self.flat_inputs = [x for x in tree.flatten([self.call_args, self.call_kwargs])
                            if isinstance(x, KerasTensor)]
        self.flat_outputs = tree.flatten(outputs)
        self.is_input = False
        node_index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for kt in self.flat_inputs:
            if kt._keras_history is not None:
                kt._keras_history[0]._outbound_nodes.append(self)
        for i, kt in enumerate(self.flat_outputs):
            kt._keras_history = (layer, node_index, i)

    @property
    def input_tensors(self):
        return self.call_args[0] if self.call_args else []

    @property
    def output_tensors(self):
        return self.outputs

    @property
    def parent_nodes(self):
        out = []
        for kt in self.flat_inputs:
            if kt._keras_history is not None:
                layer, index, _ = kt._keras_history
                node = layer._inbound_nodes[index]
                if node not in out:
                    out.append(node)
        return out

    @property
    def inbound_layers(self):
        return [n.layer for n in self.parent_nodes]


def _is_shape(s):
    if isinstance(s, TensorShape):
        return True
    return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, int)
                                                for d in s)


def _shape_tree_to_specs(shapes, dtype):
    if _is_shape(shapes):
        return KerasTensor(TensorShape(shapes), dtype)
    if isinstance(shapes, dict):
        return {k: _shape_tree_to_specs(v, dtype) for k, v in shapes.items()}
    return type(shapes)(_shape_tree_to_specs(s, dtype) for s in shapes)


def _shapes(inputs):
    if isinstance(inputs, KerasTensor):
        return inputs.shape
    if isinstance(inputs, (list, tuple)):
        return [_shapes(i) for i in inputs]
    if isinstance(inputs, dict):
        return {k: _shapes(v) for k, v in inputs.items()}
    return getattr(inputs, "shape", None)


def output_dtype(layer, inputs):
    """Output dtype of a layer with compute_output_shape: float inputs -> compute dtype."""
    fixed = getattr(layer, "_fixed_output_dtype", None)
    if fixed is not None:
        return fixed
    first = tree.flatten(inputs)[0]
    dtype = getattr(first, "dtype", None)
    if dtype is None or dtype.is_floating or getattr(layer, "_casts_to_float", False):
        return layer.compute_dtype
    return dtype


def symbolic_outputs(layer, inputs, rest, kwargs):
    """The KerasTensors ``layer(inputs, *rest, **kwargs)`` would produce (no node)."""
    custom = getattr(layer, "_symbolic_outputs", None)
    if custom is not None:
        return custom(inputs, rest, kwargs)
    from dlframe.keras.engine.base_layer import Layer
    extra = [x for x in tree.flatten([list(rest), kwargs]) if isinstance(x, KerasTensor)]
    if not extra and type(layer).compute_output_shape is not Layer.compute_output_shape:
        try:
            shapes = layer.compute_output_shape(_shapes(inputs))
        except NotImplementedError:
            shapes = None
        if shapes is not None:
            return _shape_tree_to_specs(shapes, output_dtype(layer, inputs))
    return dry_run_outputs(layer, inputs, rest, kwargs)


def dry_run_outputs(layer, inputs, rest, kwargs):
    """Runs the layer on placeholders (unknown dims = 2, then 3) to infer output specs."""
    from dlframe.keras.engine.base_layer import CALL_CONTEXT
    runs = []
    for fill in (2, 3):
        def concrete(x, fill=fill):
            if not isinstance(x, KerasTensor):
                return x
            if x._dry_values is not None:   # e.g. tf.shape(x)[0]: the matching value
                return x._dry_values[fill]
            shape = [fill if d is None else d for d in x.shape.as_list()]
            if x.dtype.is_floating or x.dtype.is_complex:
                return _array.ones(shape, dtype=x.dtype)
            return _array.zeros(shape, dtype=x.dtype)
        args = tree.map_structure(concrete, (inputs,) + tuple(rest))
        kw = tree.map_structure(concrete, kwargs)
        CALL_CONTEXT.dry_run += 1
        CALL_CONTEXT.depth += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                runs.append(layer(*args, **kw))
        finally:
            CALL_CONTEXT.depth -= 1
            CALL_CONTEXT.dry_run -= 1
    flat_a, flat_b = tree.flatten(runs[0]), tree.flatten(runs[1])
    specs = []
    for a, b in zip(flat_a, flat_b):
        dims = [da if da == db else None for da, db in zip(a.shape, b.shape)]
        spec = KerasTensor(dims, a.dtype)
        if a.dtype.is_integer and a.shape == b.shape and a.shape.num_elements() <= 64:
            # small int results (shapes, sizes) stay known per placeholder fill, so
            # later ops computing with them (reshape to [batch, -1]) dry-run right
            spec._dry_values = {2: a, 3: b}
        specs.append(spec)
    return tree.pack_sequence_as(runs[0], specs)


def symbolic_call(layer, inputs, rest, kwargs):
    """``layer(KerasTensors...)``: builds the layer, infers outputs, records a Node."""
    _input_spec.assert_input_compatibility(layer.input_spec, inputs, layer.name)
    if not layer.built:
        layer._maybe_build(inputs)
    _input_spec.assert_input_compatibility(layer.input_spec, inputs, layer.name)
    outputs = symbolic_outputs(layer, inputs, rest, kwargs)
    outputs = tree.map_structure(_fresh, outputs)
    Node(layer, (inputs,) + tuple(rest), kwargs, outputs)
    return outputs


def _fresh(kt):
    out = KerasTensor(kt.shape, kt.dtype)
    out._dry_values = kt._dry_values
    return out
