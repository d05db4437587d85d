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
            specs = _shape_tree_to_specs(shapes, output_dtype(layer, inputs))
            _attach_symbolic_mask(layer, inputs, kwargs, specs)
            return specs
    return dry_run_outputs(layer, inputs, rest, kwargs)


def _attach_symbolic_mask(layer, inputs, kwargs, specs):
    """Sets Keras' symbolic output mask on ``specs`` (computed by running the layer's
    ``compute_mask`` on placeholders), as a run of ``call`` would on tensors."""
    from dlframe.keras.engine.base_layer import Layer
    custom = type(layer).compute_mask is not Layer.compute_mask
    if not (custom or layer.supports_masking):
        return
    in_mask = kwargs.get("mask")
    if in_mask is None:
        in_mask = tree.map_structure(
            lambda x: x._keras_mask if isinstance(x, KerasTensor) else None, inputs)
    if not custom:   # the default compute_mask passes the input mask through
        out_mask = in_mask if not isinstance(in_mask, (list, tuple, dict)) else None
    else:
        runs = []
        for fill in (2, 3):
            concrete = _placeholder_maker(fill)
            runs.append(layer.compute_mask(tree.map_structure(concrete, inputs),
                                           tree.map_structure(concrete, in_mask)))
        if all(m is None for m in tree.flatten(runs[0])):
            return
        out_mask = tree.pack_sequence_as(runs[0], [
            None if a is None else KerasTensor(_merged_dims(a, b), "bool")
            for a, b in zip(tree.flatten(runs[0]), tree.flatten(runs[1]))])
    if out_mask is None:
        return
    flat_specs, flat_masks = tree.flatten(specs), tree.flatten(out_mask)
    if len(flat_masks) == 1 and len(flat_specs) > 1:
        flat_masks = flat_masks * len(flat_specs)
    for spec, m in zip(flat_specs, flat_masks):
        if isinstance(spec, KerasTensor) and isinstance(m, KerasTensor):
            spec._keras_mask = m


def _merged_dims(a, b):
    return [da if da == db else None for da, db in zip(a.shape, b.shape)]


def _placeholder_maker(fill):
    """``x -> concrete placeholder`` for KerasTensors (unknown dims = ``fill``)."""
    def concrete(x):
        if not isinstance(x, KerasTensor):
            return x
        if x._dry_values is not None:   # e.g. tf.shape(x)[0]: the matching value
            return x._dry_values[fill]
        shape = [fill if d is None else d for d in x.shape.as_list()]
        if x.dtype.is_floating or x.dtype.is_complex or x.dtype.is_bool:
            value = _array.ones(shape, dtype=x.dtype)   # bool: an all-True mask
        else:
            value = _array.zeros(shape, dtype=x.dtype)
        if x._keras_mask is not None:   # the symbolic mask reaches call(mask=)
            value._keras_mask = concrete(x._keras_mask)
        return value
    return concrete


def dry_run_outputs(layer, inputs, rest, kwargs):
    """Runs the layer on placeholders (unknown dims = 2, then 3) to infer output specs."""
    from dlframe.keras.engine.base_layer import CALL_CONTEXT
    runs = []
    for fill in (2, 3):
        concrete = _placeholder_maker(fill)
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
        spec = KerasTensor(_merged_dims(a, b), a.dtype)
        mask_a, mask_b = getattr(a, "_keras_mask", None), getattr(b, "_keras_mask", None)
        if mask_a is not None and mask_b is not None:   # Keras' symbolic mask
            spec._keras_mask = KerasTensor(_merged_dims(mask_a, mask_b), "bool")
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
    out._keras_mask = kt._keras_mask
    return out
