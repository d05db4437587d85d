"""How a ConcreteFunction describes itself, in TF's words and layout.

``structured_input_signature`` binds the call to the Python function's parameters
(defaults filled in, keyword arguments of positional parameters moved to the
positional tuple) with TensorSpecs named after their parameter where tensors were;
``pretty_printed_signature`` prints parameters, output type and captures the way
``tf.types.experimental.FunctionType`` does.
"""

import inspect
import logging
import sys

from dlframe.core.tensor import Tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.core.tensor_spec import TensorSpec


def bind(python_function, args, kwargs):
    """[(name, kind, value)] per parameter, TF's canonical ``(args, kwargs)``."""
    try:
        sig = inspect.signature(python_function)
        bound = sig.bind(*args, **kwargs)
    except (TypeError, ValueError):
        params = [(f"args_{i}", "POSITIONAL_ONLY", a) for i, a in enumerate(args)]
        params += [(k, "KEYWORD_ONLY", v) for k, v in kwargs.items()]
        return params, tuple(args), dict(kwargs)
    bound.apply_defaults()
    params, pos, kw = [], [], {}
    for name, p in sig.parameters.items():
        value = bound.arguments.get(name)
        if p.kind is p.VAR_POSITIONAL:
            for i, a in enumerate(value or ()):
                params.append((f"{name}_{i}", "POSITIONAL_ONLY", a))
                pos.append(a)
        elif p.kind is p.VAR_KEYWORD:
            for k, a in (value or {}).items():
                params.append((k, "KEYWORD_ONLY", a))
                kw[k] = a
        elif p.kind is p.KEYWORD_ONLY:
            params.append((name, "KEYWORD_ONLY", value))
            kw[name] = value
        else:
            params.append((name, p.kind.name, value))
            pos.append(value)
    return params, tuple(pos), kw


def named(value, prefix):
    """``value`` with each unnamed TensorSpec named after its parameter path (and a
    dataset argument as its DatasetSpec)."""
    if isinstance(value, TensorSpec):
        return value if value.name else TensorSpec(value.shape, value.dtype, prefix)
    if isinstance(value, dict):
        return type(value)((k, named(v, f"{prefix}_{k}")) for k, v in value.items())
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*[named(v, f"{prefix}_{i}") for i, v in enumerate(value)])
    if isinstance(value, (list, tuple)):
        return type(value)(named(v, f"{prefix}_{i}") for i, v in enumerate(value))
    if hasattr(value, "_signature_spec"):   # a dataset argument: its DatasetSpec
        return value._signature_spec()
    return value


def type_str(value):
    """TF's text for the type of an argument or output structure."""
    if isinstance(value, CompositeOutput):
        return value.type_text()
    if hasattr(value, "shape") and hasattr(value, "dtype") and type(value).__name__ \
            .endswith("Spec"):
        return repr(value)
    if isinstance(value, dict):
        items = ", ".join(f"[{k!r}, {type_str(v)}]" for k, v in value.items())
        return f"Dict[{items}]"
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        items = ", ".join(f"[{f!r}, {type_str(v)}]"
                          for f, v in zip(value._fields, value))
        return f"{type(value).__name__}[{items}]"
    if isinstance(value, (list, tuple)):
        kind = "List" if isinstance(value, list) else "Tuple"
        return f"{kind}[{', '.join(type_str(v) for v in value)}]"
    if getattr(value, "_is_variable", False):
        return f"VariableSpec(shape={value.shape}, dtype={value.dtype!r})"
    if hasattr(value, "_signature_spec"):   # a dataset argument: its DatasetSpec
        return repr(value._signature_spec())
    return f"Literal[{value!r}]"


def pretty(params, outputs, captures, verbose=True):
    """The text of ``ConcreteFunction.pretty_printed_signature``."""
    out_type = type_str(outputs)
    if not verbose:
        parts, star = [], False
        for name, kind, value in params:
            if kind == "KEYWORD_ONLY" and not star:
                parts.append("*")
                star = True
            parts.append(f"{name}: {type_str(value)}")
        return f"({', '.join(parts)}) -> {out_type}"
    lines = ["Input Parameters:"]
    lines += [f"  {name} ({kind}): {type_str(value)}" for name, kind, value in params]
    lines += ["Output Type:", f"  {out_type}", "Captures:"]
    if captures:
        lines += [f"  {id(v)}: TensorSpec(shape=(), dtype=tf.resource, name=None)"
                  for v in captures]
    else:
        lines.append("  None")
    return "\n".join(lines)


class CompositeOutput:
    """A composite output of a trace (RaggedTensor, SparseTensor) in an output
    structure of TensorSpecs: its structure description ``struct`` and the specs of
    its component tensors ``parts`` (a nested composite is one of them). TF lists
    the components as graph outputs: a ragged one's flat values, then its row
    splits from the outermost; a sparse one's indices, values and dense_shape."""

    __slots__ = ("parts", "struct")

    def __init__(self, struct, parts):
        self.struct = struct
        self.parts = list(parts)

    def _sparse_rank(self):
        shape = getattr(self.struct, "shape", None)
        if type(self.struct).__name__ != "_SparseStructure" or shape is None:
            return None
        return len(shape)

    def _specs(self):
        """The component specs, nested composites' first (a sparse dense_shape
        last), and the order TF lists them in (indices into the first list)."""
        specs, order = [], []
        for part in self.parts:
            if isinstance(part, CompositeOutput):
                inner, inner_order = part._specs()
                order += [len(specs) + i for i in inner_order]
                specs += inner
            else:
                order.append(len(specs))
                specs.append(part)
        rank = self._sparse_rank()
        if rank is not None:
            order.append(len(specs))
            specs.append(TensorSpec([rank], "int64"))
        elif type(self.struct).__name__ == "_RaggedStructure" and len(order) > 2:
            order = [order[0], order[-1]] + order[1:-1]   # outer splits first
        return specs, order

    def flat_specs(self):
        """The component TensorSpecs in TF's order."""
        specs, order = self._specs()
        return [specs[i] for i in order]

    def symbolic(self, convert):
        """The composite built of symbolic tensors (``convert(spec)`` each, called
        in TF's order), as TF's ``structured_outputs`` shows it; its description
        where it cannot be built."""
        specs, order = self._specs()
        tensors = [None] * len(specs)
        for i in order:
            tensors[i] = convert(specs[i])
        try:
            return self._build(iter(tensors))
        except (AttributeError, TypeError, ValueError, NotImplementedError) as exc:
            # the description still names the composite; say why it is not one
            logging.getLogger("dlframe").warning(
                "structured_outputs: could not rebuild a %s from its traced "
                "components (%s: %s); showing its structure instead",
                type(self.struct).__name__.strip("_"), type(exc).__name__, exc)
            return self.struct

    def _build(self, tensors):
        parts = [p._build(tensors) if isinstance(p, CompositeOutput) else next(tensors)
                 for p in self.parts]
        if self._sparse_rank() is not None:   # its dense_shape is an output too
            # the SparseTensor class lives above core: found by its structure's
            sparse = sys.modules[type(self.struct).__module__].SparseTensor
            return sparse(*parts, next(tensors))
        return self.struct._dlframe_unflatten(parts)

    def type_text(self):
        """TF's text of the composite's type spec (``pretty_printed_signature``)."""
        specs = self.flat_specs()
        rank = self._sparse_rank()
        if rank is not None:
            shape = TensorShape(list(self.struct.shape))
            return f"SparseTensorSpec({shape!r}, {specs[1].dtype!r})"
        if type(self.struct).__name__ != "_RaggedStructure":
            return f"Literal[{self.struct!r}]"
        flat, splits = specs[0], specs[1:]
        outer = splits[0].shape.as_list()[0]
        dims = [None if outer is None else outer - 1] + [None] * len(splits)
        shape = TensorShape(dims + (flat.shape.as_list()[1:]
                                    if flat.shape.rank is not None else []))
        return (f"RaggedTensorSpec({shape!r}, {flat.dtype!r}, {len(splits)}, "
                f"{splits[0].dtype!r})")

    def map_parts(self, other, fn):
        """This composite with ``fn(a, b)`` over its and ``other``'s components."""
        if not isinstance(other, CompositeOutput) or len(other.parts) != len(
                self.parts):
            return self
        return CompositeOutput(self.struct, [map_pairs(a, b, fn) for a, b in zip(
            self.parts, other.parts)])

    def __repr__(self):
        return repr(self.struct)


def flat_specs(outputs):
    """The TensorSpecs of an output structure in TF's flattened order (dict keys
    sorted, composites as their components)."""
    if isinstance(outputs, TensorSpec):
        return [outputs]
    if isinstance(outputs, CompositeOutput):
        return outputs.flat_specs()
    if isinstance(outputs, dict):
        return [s for k in sorted(outputs, key=str) for s in flat_specs(outputs[k])]
    if isinstance(outputs, (list, tuple)):
        return [s for v in outputs for s in flat_specs(v)]
    return []


def map_pairs(first, second, fn):
    """``fn(a, b)`` over the leaves of two structures of the same shape."""
    if isinstance(first, CompositeOutput):
        return first.map_parts(second, fn)
    if isinstance(first, dict) and isinstance(second, dict):
        return type(first)((k, map_pairs(v, second.get(k), fn))
                           for k, v in first.items())
    if isinstance(first, (list, tuple)) and isinstance(second, (list, tuple)) and \
            len(first) == len(second):
        items = [map_pairs(a, b, fn) for a, b in zip(first, second)]
        return type(first)(*items) if hasattr(first, "_fields") else type(first)(items)
    return fn(first, second)


def shapes_and_dtypes(outputs):
    """(output_shapes, output_dtypes) of an output structure of TensorSpecs, with
    Keras-2-era None outputs as ``TensorShape(None)`` / None."""
    def shape(v):
        if isinstance(v, CompositeOutput):   # TF: a list of its components'
            return [s.shape for s in v.flat_specs()]
        return v.shape if isinstance(v, TensorSpec) else TensorShape(None)

    def dtype(v):
        if isinstance(v, CompositeOutput):
            return [s.dtype for s in v.flat_specs()]
        return v.dtype if isinstance(v, TensorSpec) else None
    if not isinstance(outputs, (TensorSpec, CompositeOutput, list, tuple, dict)):
        return TensorShape(None), None
    return _map_leaves(outputs, shape), _map_leaves(outputs, dtype)


def _map_leaves(structure, fn):
    if isinstance(structure, dict):
        return type(structure)((k, _map_leaves(v, fn)) for k, v in structure.items())
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):
        return type(structure)(*[_map_leaves(v, fn) for v in structure])
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map_leaves(v, fn) for v in structure)
    return fn(structure)


class GraphView:
    """``ConcreteFunction.graph``: the traced program with TF's inspection methods
    where dlframe has an answer, and a clear error where it has none (GraphDef)."""

    def __init__(self, graph, concrete=None):
        self._graph = graph
        self._concrete = concrete

    def __getattr__(self, name):
        return getattr(self._graph, name)

    @property
    def inputs(self):
        """TF's graph inputs: a symbolic placeholder per tensor argument (named
        after its TensorSpec, ``x:0``), then the captured Variables."""
        specs = self._concrete.inputs if self._concrete is not None else []
        return [SymbolicTensor(s.shape, s.dtype, f"{s.name}:0")
                if isinstance(s, TensorSpec) else s for s in specs]

    @property
    def outputs(self):
        """TF's graph outputs: a symbolic tensor (``.shape``, ``.dtype``, ``.name``)
        per tensor the function returns, in flattened order."""
        if self._concrete is None:
            return self._graph.outputs
        return self._concrete.outputs

    # a function's graph (FuncGraph): never finalized, it builds a function
    building_function = True
    finalized = False

    @property
    def variables(self):
        """The Variables the function reads or writes."""
        return self._concrete.variables if self._concrete is not None else ()

    @property
    def trainable_variables(self):
        """The trainable ones among ``variables``."""
        return self._concrete.trainable_variables if self._concrete is not None \
            else ()

    @property
    def external_captures(self):
        """The captured values (the Variables' handles) the function is called with."""
        return self._concrete.captured_inputs if self._concrete is not None else []

    def get_operation_by_name(self, name):
        """The operation called ``name`` (KeyError when the graph has none)."""
        for op in self.get_operations():
            if op.name == name:
                return op
        raise KeyError(f"The name {name!r} refers to an Operation not in the graph.")

    def get_operations(self):
        """One entry per node of the optimized program (``.name``, ``.type``)."""
        ops, seen = [], {}
        for op_type in self._graph.node_names:
            count = seen[op_type] = seen.get(op_type, -1) + 1
            ops.append(_Operation(f"{op_type}_{count}" if count else op_type, op_type))
        return ops

    def as_graph_def(self, from_version=None, add_shapes=False):
        """The traced graph as a GraphDef-like object: ``.node`` lists NodeDefs
        (``name``, ``op``, ``input``) in TF's naming; not a protocol buffer."""
        return GraphDef([NodeDef(*d) for d in self._graph.node_defs])


class NodeDef:
    """One node of ``as_graph_def()``: ``name``, ``op``, ``input`` (names)."""

    __slots__ = ("attr", "device", "input", "name", "op")

    def __init__(self, name, op, inputs):
        self.name, self.op, self.input = name, op, list(inputs)
        self.attr, self.device = {}, ""

    def __repr__(self):
        lines = [f'name: "{self.name}"', f'op: "{self.op}"']
        lines += [f'input: "{i}"' for i in self.input]
        return "\n".join(lines)


class GraphDef:
    """What ``as_graph_def()`` returns: ``node`` (NodeDefs in graph order)."""

    def __init__(self, nodes):
        self.node = nodes

    def __repr__(self):
        return "\n".join("node {\n  " + repr(n).replace("\n", "\n  ") + "\n}"
                         for n in self.node)

    __str__ = __repr__


class _Operation:
    __slots__ = ("name", "type")

    def __init__(self, name, op_type):
        self.name = name
        self.type = op_type

    def __repr__(self):
        return f"<dlframe.Operation '{self.name}' type={self.type}>"


class _GraphOnly:
    """The device of a ``SymbolicTensor``: none; as a finished trace's tensor it
    counts as symbolic (a RaggedTensor of them prints its components)."""

    out_of_scope = True
    graph_name = None


class SymbolicTensor(Tensor):
    """An output of a ConcreteFunction's graph as TF shows it: a ``tf.Tensor``
    with a static ``shape`` (None where unknown), ``dtype`` and graph ``name``,
    and no value (``structured_outputs``, ``outputs``)."""

    __slots__ = ("_dtype", "_name", "_static_shape")
    _device = _GraphOnly()

    def __init__(self, shape, dtype, name):
        self._static_shape = TensorShape(shape)
        self._dtype = dtype
        self._name = name

    @property
    def shape(self):
        return self._static_shape

    def get_shape(self):
        """The static shape (``shape``)."""
        return self._static_shape

    @property
    def dtype(self):
        return self._dtype

    @property
    def name(self):
        return self._name

    @property
    def device(self):
        return ""

    @property
    def ndim(self):
        return self._static_shape.rank

    rank = ndim

    def numpy(self):
        raise NotImplementedError(
            f"{self._name} is a symbolic graph output of a ConcreteFunction: it has "
            "no value. Call the function to get tensors with values.")

    __array__ = __bool__ = __len__ = __float__ = __int__ = numpy

    def __repr__(self):
        return (f"<tf.Tensor '{self._name}' shape={_shape_text(self._static_shape)} "
                f"dtype={self._dtype.name}>")

    def __str__(self):
        return (f'Tensor("{self._name}", shape={_shape_text(self._static_shape)}, '
                f"dtype={self._dtype.name})")

    __hash__ = object.__hash__


def _shape_text(shape):
    return "<unknown>" if shape.rank is None else str(tuple(shape.as_list()))


def symbolic_outputs(outputs):
    """``outputs`` (a structure of TensorSpecs) with each TensorSpec made a
    ``SymbolicTensor`` named as TF names function outputs (``Identity_1:0``, in
    flattened order: dict keys sorted)."""
    count = [0]

    def convert(spec):
        n = count[0]
        count[0] += 1
        return SymbolicTensor(spec.shape, spec.dtype,
                              f"Identity_{n}:0" if n else "Identity:0")

    def walk(value):
        if isinstance(value, TensorSpec):
            return convert(value)
        if isinstance(value, CompositeOutput):
            return value.symbolic(convert)
        if isinstance(value, dict):
            done = {k: walk(value[k]) for k in sorted(value, key=str)}
            return type(value)((k, done[k]) for k in value)
        if isinstance(value, tuple) and hasattr(value, "_fields"):
            return type(value)(*[walk(v) for v in value])
        if isinstance(value, (list, tuple)):
            return type(value)(walk(v) for v in value)
        return value
    return walk(outputs)
