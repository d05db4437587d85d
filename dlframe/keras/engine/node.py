"""Nodes of the functional graph and symbolic (KerasTensor) layer calls.

A Node records one call of a layer on KerasTensors: the call's arguments (KerasTensors
are the graph's edges, everything else is kept as a constant argument) and the
KerasTensors it produced. Output specs come from ``compute_output_shape`` when a layer
defines it, otherwise from running the layer on placeholder data with unknown
dimensions set to 2 and 3: dimensions that differ between the runs are unknown. A
user's layer runs once, under a trace that shows its code TF's ``None`` dimensions
(``symbolic_trace``); the run at 3 follows, quietly, only when that trace cannot tell
the outputs' unknown dimensions.
"""

import contextlib
import io
import re
import warnings

from dlframe.core import trace as _trace
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.errors import InvalidArgumentError
from dlframe.keras.engine import input_spec as _input_spec
from dlframe.keras.engine import symbolic_trace as _symbolic_trace
from dlframe.keras.engine.build_arguments import maybe_build
from dlframe.keras.engine.keras_tensor import KerasTensor
from dlframe.keras.utils import tree
from dlframe.ops import array as _array
from dlframe.ops import math_binary as _math_binary
from dlframe.ops.ragged_tensor import RaggedTensor
from dlframe.ops.sparse_tensor import SparseTensor


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
    # ragged inputs dry-run on ragged placeholders: the outputs' raggedness is real
    ragged = any(getattr(x, "ragged", False) for x in tree.flatten(inputs))
    if not extra and not ragged and \
            type(layer).compute_output_shape is not Layer.compute_output_shape:
        try:
            shapes = layer.compute_output_shape(_shapes(inputs))
        except NotImplementedError:
            shapes = None
        if shapes is not None:
            specs = _shape_tree_to_specs(shapes, output_dtype(layer, inputs))
            _attach_symbolic_mask(layer, inputs, kwargs, specs)
            if getattr(layer, "_sparse_outputs", False):   # CategoryEncoding(sparse)
                for spec in tree.flatten(specs):
                    spec.sparse = True
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


def _placeholder_maker(fill, trace=None, int_fill=0):
    """``x -> concrete placeholder`` for KerasTensors (unknown dims = ``fill``);
    with ``trace`` (a ``MarkTrace``), each placeholder is one of its inputs. Integer
    placeholders hold ``int_fill`` (0: a valid index for any lookup)."""
    def concrete(x):
        if not isinstance(x, KerasTensor):
            return x
        if x._dry_values is not None:   # e.g. tf.shape(x)[0]: the matching value
            value = x._dry_values[fill]
            if trace is not None:
                value = Tensor(value._value, value._device)
                trace.add_placeholder(value, x.shape, value_depends_on_size=True)
            return value
        shape = [fill if d is None else d for d in x.shape.as_list()]
        if x.dtype.is_floating or x.dtype.is_complex or x.dtype.is_bool:
            value = _array.ones(shape, dtype=x.dtype)   # bool: an all-True mask
        else:
            make = _array.ones if int_fill else _array.zeros
            value = make(shape, dtype=x.dtype)
        if x.ragged and len(shape) > 1:
            value = _ragged_placeholder(value, x.shape.as_list())
        elif trace is not None:
            trace.add_placeholder(value, x.shape)
        if x._keras_mask is not None:   # the symbolic mask reaches call(mask=)
            value._keras_mask = concrete(x._keras_mask)
        return value
    return concrete


def _ragged_placeholder(value, dims):
    """``value`` as a RaggedTensor whose ``None`` dims (after the batch) are ragged."""
    ragged_rank = max([i for i, d in enumerate(dims) if d is None and i > 0] or [1])
    return RaggedTensor.from_tensor(value, ragged_rank=min(ragged_rank, value.ndim - 1))


def dry_run_outputs(layer, inputs, rest, kwargs):
    """Runs the layer on placeholders (unknown dims = 2, then 3) to infer output specs;
    a user's layer runs once when its trace tells the unknown dims. Integer
    placeholders are zeros, unless they divide (``7 % i``): then ones, as TF's
    shape inference never divides by the user's data."""
    try:
        return _dry_run_outputs(layer, inputs, rest, kwargs, 0)
    except InvalidArgumentError as exc:
        fills = _fills_for_fixed_reshape(str(exc))
        for fill in fills:
            try:
                return _fixed_size_outputs(layer, inputs, rest, kwargs, fill)
            except Exception:  # noqa: BLE001, S112 - the first run's error tells
                continue
        if fills:
            raise exc from None
        if "division by zero" not in str(exc):
            raise
        # ones in the int placeholders; then a constant zero divisor (``i % 0``):
        # TF builds it, the call raises
        for unchecked in (contextlib.nullcontext, _math_binary.unchecked_int_division):
            try:
                with unchecked():
                    return _dry_run_outputs(layer, inputs, rest, kwargs, 1)
            except Exception:  # noqa: BLE001, S112 - the first run's error tells
                continue
        raise exc from None


_FIXED_RESHAPE = re.compile(r"tensor with (\d+) values, but the requested shape has (\d+)")


def _fills_for_fixed_reshape(message):
    """The placeholder sizes for unknown dims at which a reshape to a fixed size (code
    written for one batch size: ``tf.reshape(x, [50, 8])``) may fit, as TF's shape
    inference accepts it, one per count of unknown dims feeding it (the caller tries
    each: ``(None, None, 4)`` to ``[10, 40]`` fits the second); empty when the
    message is no such reshape or no size fits."""
    found = _FIXED_RESHAPE.search(message)
    if not found:
        return []
    have, want = int(found.group(1)), int(found.group(2))
    fills = []
    for unknown_dims in (1, 2):   # the values grow as fill ** unknown_dims from fill 2
        fill = round(2 * (want / have) ** (1 / unknown_dims)) if have else 0
        if fill >= 1 and have * fill ** unknown_dims == want * 2 ** unknown_dims:
            fills.append(fill)
    return fills


def _fixed_size_outputs(layer, inputs, rest, kwargs, fill):
    """Output specs of one run at placeholder size ``fill``: dims a user's trace
    still sees following an unknown input dim stay None, the rest are known."""
    if not _symbolic_trace.applies_to(layer):
        out = _run_on_placeholders(layer, inputs, rest, kwargs, fill)
        return _merged_specs(out, out)
    trace = _symbolic_trace.MarkTrace()
    with _trace.tracing(trace):
        out = _run_on_placeholders(layer, inputs, rest, kwargs, fill, trace)
    return tree.pack_sequence_as(out, [_traced_spec(trace, a) for a in tree.flatten(out)])


def _dry_run_outputs(layer, inputs, rest, kwargs, int_fill):
    if _symbolic_trace.applies_to(layer) and not any(
            getattr(x, "ragged", False) for x in tree.flatten([inputs, rest, kwargs])):
        trace = _symbolic_trace.MarkTrace()
        try:
            with _trace.tracing(trace):
                first = _run_on_placeholders(layer, inputs, rest, kwargs, 2, trace,
                                             int_fill)
        except Exception:  # noqa: BLE001 - code TF's symbolic run refuses: plain runs
            first = None
        if first is not None and any(
                getattr(trace.static_shape(t), "unknown_rank", False)
                for t in tree.flatten(first) if isinstance(t, Tensor)):
            # of a py_function result no set_shape shaped (its placeholder is a
            # scalar): the plain runs (bodies run) tell the real shapes
            first = None
        if first is not None:
            flat = tree.flatten(first)
            masks = [m for m in (getattr(t, "_keras_mask", None) for t in flat)
                     if m is not None]
            # py_function results (placeholders: bodies do not run here, as TF)
            # have the static dims their set_shape gave: a plain run would run them
            if trace.made_placeholders or all(
                    isinstance(t, Tensor) and trace.is_certain(t) for t in flat + masks):
                return tree.pack_sequence_as(first, [_traced_spec(trace, a)
                                                     for a in flat])
            try:
                with contextlib.redirect_stdout(io.StringIO()):   # prints came at run 1
                    second = _run_on_placeholders(layer, inputs, rest, kwargs, 3,
                                                  int_fill=int_fill)
            except Exception:  # noqa: BLE001 - code made for the first size only
                # (tf.split(x, 2) along the batch): what the trace could tell
                return tree.pack_sequence_as(first, [_traced_spec(trace, a)
                                                     for a in flat])
            return _merged_specs(first, second)
    runs = [_run_on_placeholders(layer, inputs, rest, kwargs, fill, int_fill=int_fill)
            for fill in (2, 3)]
    return _merged_specs(*runs)


def _traced_spec(trace, out):
    """The KerasTensor of ``out`` of a single traced run (its dims as TF's graph
    knows them)."""
    spec = _spec(trace.static_dims(out), out, out)
    mask = getattr(out, "_keras_mask", None)
    if mask is not None:
        spec._keras_mask = KerasTensor(trace.static_dims(mask), "bool")
    return spec


def _run_on_placeholders(layer, inputs, rest, kwargs, fill, trace=None, int_fill=0):
    from dlframe.keras.engine.base_layer import CALL_CONTEXT
    concrete = _placeholder_maker(fill, trace, int_fill)
    args = tree.map_structure(concrete, (inputs,) + tuple(rest))
    kw = tree.map_structure(concrete, kwargs)
    CALL_CONTEXT.dry_run += 1
    CALL_CONTEXT.depth += 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return layer(*args, **kw)
    finally:
        CALL_CONTEXT.depth -= 1
        CALL_CONTEXT.dry_run -= 1


def broadcast_outputs(layer, inputs, rest, kwargs):
    """The output spec of an elementwise binary op ``layer(inputs, rest[0])`` by TF's
    static broadcasting, for operands the placeholder runs cannot join (a constant of
    size 2 where a KerasTensor's dim is unknown: TF gives 2 there, None against 1).

    Raises:
      ValueError: the operands' known dims cannot broadcast (TF's message).
    """
    shapes = [_static_dims(x) for x in (inputs, rest[0])]
    dims = static_broadcast(*shapes)
    # at size 1 the unknown dims broadcast against anything: the run gives the dtype
    out = _run_on_placeholders(layer, inputs, rest, kwargs, 1)
    return KerasTensor(dims, out.dtype)


def _static_dims(x):
    if isinstance(x, KerasTensor):
        return x.shape.as_list()
    if not hasattr(x, "shape"):
        x = convert_to_tensor(x)
    return list(TensorShape(x.shape).as_list())


def static_broadcast(a, b):
    """TF's broadcast of static shapes ``a`` and ``b`` (None: unknown)."""
    rank = max(len(a), len(b))
    pad_a, pad_b = [1] * (rank - len(a)) + a, [1] * (rank - len(b)) + b
    dims = []
    for x, y in zip(pad_a, pad_b):
        if x == 1 or x == y:
            dims.append(y)
        elif y == 1:
            dims.append(x)
        elif x is None or y is None:
            dims.append(y if x is None else x)
        else:
            raise ValueError(
                f"Cannot broadcast shape, the failure dim has value {x}, which cannot "
                f"be broadcasted to {y}. Input shapes are: {a} and {b}.")
    return dims


def _merged_specs(run_a, run_b):
    flat_a, flat_b = tree.flatten(run_a), tree.flatten(run_b)
    return tree.pack_sequence_as(run_a, [_spec(_merged_dims(a, b), a, b)
                                         for a, b in zip(flat_a, flat_b)])


def _spec(dims, a, b):
    """The KerasTensor of dims ``dims`` for outputs ``a`` (run at 2) and ``b`` (at 3;
    ``b is a`` for a single run whose values do not depend on the unknown sizes)."""
    ragged = isinstance(a, RaggedTensor)
    spec = KerasTensor(dims, a.dtype, ragged=ragged, sparse=isinstance(a, SparseTensor))
    mask_a, mask_b = getattr(a, "_keras_mask", None), getattr(b, "_keras_mask", None)
    if mask_a is not None and mask_b is not None:   # Keras' symbolic mask
        spec._keras_mask = KerasTensor(_merged_dims(mask_a, mask_b), "bool")
    if a.dtype.is_integer and not ragged and a.shape == b.shape and \
            a.shape.num_elements() <= 64:
        # small int results (shapes, sizes) stay known per placeholder fill, so
        # later ops computing with them (reshape to [batch, -1]) dry-run right
        spec._dry_values = {2: a, 3: b}
    return spec


def symbolic_call(layer, inputs, rest, kwargs):
    """``layer(KerasTensors...)``: builds the layer, infers outputs, records a Node."""
    _input_spec.assert_input_compatibility(layer.input_spec, inputs, layer.name)
    if not layer.built:
        maybe_build(layer, inputs, rest, kwargs)
    _input_spec.assert_input_compatibility(layer.input_spec, inputs, layer.name)
    outputs = symbolic_outputs(layer, inputs, rest, kwargs)
    outputs = tree.map_structure(_fresh, outputs)
    Node(layer, (inputs,) + tuple(rest), kwargs, outputs)
    return outputs


def _fresh(kt):
    out = KerasTensor(kt.shape, kt.dtype, sparse=kt.sparse, ragged=kt.ragged)
    out._dry_values = kt._dry_values
    out._keras_mask = kt._keras_mask
    return out
