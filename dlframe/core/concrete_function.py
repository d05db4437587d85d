"""``ConcreteFunction``: one traced graph of a ``dlframe.function``, callable and
describing itself as TF's does (signatures, output specs, variables, graph)."""

import inspect

from dlframe.backends.base import np
from dlframe.core import function_composites as _composites
from dlframe.core import function_signature as _sig
from dlframe.core import function_type as _function_type
from dlframe.core import trace as _trace
from dlframe.core.function_structure import (
    _LEAF,
    _flatten,
    _leaf_specs,
    _merge_shapes,
    _rebuild_outputs,
    _unflatten,
    python_mismatch,
)
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_spec import TensorSpec


def _as_requested(concrete, requested):
    """``concrete`` answering with the TensorSpecs (and names) get_concrete_function
    was given, when the cache held a trace for a more specific signature (an
    unknown-rank spec meets a scalar trace). It calls its Function for other shapes."""
    current = concrete._flat_specs
    if len(requested) != len(current) or all(
            r is None or r == c for r, c in zip(requested, current)):
        return concrete
    view = object.__new__(ConcreteFunction)
    view.__dict__.update(concrete.__dict__)
    view._flat_specs = [r if r is not None else c for r, c in zip(requested, current)]
    return view


def _conform(spec, value, index):
    if isinstance(spec, TensorSpec):
        t = value if isinstance(value, Tensor) else convert_to_tensor(
            value, dtype=spec.dtype)
        _trace.check_input(spec.shape, spec.dtype, t, index)
        return t
    if _composites.kind(spec) == "extension" and _composites.is_spec(spec):
        if not spec.is_compatible_with(value):
            raise TypeError(f"Binding inputs to tf.function failed: argument {index} "
                            f"({value!r}) is not compatible with {spec!r}")
        return value
    if _composites.kind(spec) in ("ragged", "sparse") and _composites.is_spec(spec):
        _check_composite(spec, value, index)
        return value
    if isinstance(spec, (list, tuple)):
        if not isinstance(value, (list, tuple)) or len(value) != len(spec):
            raise _structure_error(spec, value, index)
        items = [_conform(s, v, index) for s, v in zip(spec, value)]
        return _rebuild(value if hasattr(value, "_fields") else spec, items)
    if isinstance(spec, dict):
        if not isinstance(value, dict) or set(value) != set(spec):
            raise _structure_error(spec, value, index)
        return {k: _conform(s, value[k], index) for k, s in spec.items()}
    return value


def _check_composite(spec, value, index):
    """TF's binding check of a RaggedTensor / SparseTensor argument against its
    ``input_signature`` spec: same kind, dtype, ragged rank, row-splits dtype and a
    compatible shape, else a TypeError naming the argument and the difference."""
    kind = _composites.kind(spec)
    if _composites.kind(value) != kind or _composites.is_spec(value):
        raise _structure_error(spec, value, index)
    found = [("dtype", spec.dtype, value.dtype)]
    if kind == "ragged":
        found += [("ragged_rank", spec.ragged_rank, value.ragged_rank),
                  ("row_splits_dtype", spec.row_splits_dtype, value.row_splits.dtype)]
    found.append(("shape", spec.shape, value.shape))
    for what, want, got in found:
        ok = want.is_compatible_with(got) if what == "shape" else want == got
        if not ok:
            raise TypeError(f"Binding inputs to tf.function failed: argument {index} "
                            f"({value!r}) is not compatible with {spec!r}: its {what} "
                            f"is {got}, the input_signature's {want}")


def _structure_error(spec, value, index):
    return TypeError(f"Binding inputs to tf.function failed: argument {index} "
                     f"({value!r}) does not have the structure of {spec!r}")


def _rebuild(like, items):
    """A list/tuple of ``like``'s type holding ``items`` (namedtuple-like types, such
    as a distributed PerReplicaSpec's ``value_type``, take them as arguments)."""
    kind = getattr(like, "value_type", type(like))
    if not (isinstance(kind, type) and issubclass(kind, (list, tuple))):
        kind = type(like)
    return kind(*items) if hasattr(like, "_fields") else kind(items)




class ConcreteFunction:
    """One traced graph of a Function for one input signature.

    Attributes:
      graph: the traced program (``get_operations()``; no TF GraphDef).
      name: the Python function's name.
      structured_input_signature: ``(args, kwargs)`` as the function was called,
        with TensorSpecs (named after their parameters) where tensors were.
      structured_outputs: the output structure with symbolic tensors.
    """

    _provisional = False   # its Function traces again at the first call
    _traced_python = None  # parameter name -> traced value (see _check_python_args)

    def __init__(self, graph, out_template, flat_specs, name, owner=None,
                 traced_shapes=None, in_template=None, variables=(), out_specs=None):
        self._graph = graph
        self._out_template = out_template
        self._flat_specs = flat_specs          # per tensor argument, in call order
        self.name = name
        self._owner = owner                  # the Function (other sizes of None dims)
        self._traced_shapes = traced_shapes  # input shapes this graph was traced at
        self._in_template = in_template      # (_flatten template, composite specs)
        self._arg_variables = list(variables)  # (leaf position, Variable) arguments
        self._out_specs = out_specs            # at the traced sizes
        self._general = None                   # [structured_outputs], when computed

    def __getstate__(self):
        # the graph belongs to this process; a restored one calls its Function instead
        return dict(self.__dict__, _graph=None, _traced_shapes=None)

    @property
    def graph(self):
        return _sig.GraphView(self._graph, self) if self._graph is not None else None

    def _call_flat(self, tensors, leaves=None):
        """Runs the graph on ``tensors`` (the tensor arguments); ``leaves``, all the
        call's leaves, gives the Variable arguments standing for the traced ones."""
        arrays = [t._value for t in tensors]
        graph = self._graph
        if leaves is not None and self._arg_variables:
            results = graph.run(arrays, variables=self._swapped(leaves))
        else:
            results = graph.run(arrays)
        template = self._out_template
        if template is _LEAF:   # one tensor returned
            return Tensor(results[0], graph.output_devices[0])
        outs = [Tensor(a, d) for a, d in zip(results, graph.output_devices)]
        return _rebuild_outputs(template, iter(outs))

    def _swapped(self, leaves):
        """The graph's (slot, Variable) list with each traced Variable argument
        replaced by the call's variable at its position (None: nothing swapped)."""
        swaps = {id(traced): leaves[pos] for pos, traced in self._arg_variables
                 if pos < len(leaves) and leaves[pos] is not traced}
        if not swaps:
            return None
        return [(s, swaps.get(id(v), v)) for s, v in self._graph.variables]

    def __call__(self, *args, **kwargs):
        bind = getattr(self._owner, "_bind_arguments", None)   # datasets: their slots
        if bind is not None:
            args, kwargs = bind(args, kwargs)
        self._check_python_args(args, kwargs)
        if kwargs and self._owner is not None:
            # bound as the trace was: ``cf(x=a, bias=b)`` takes the tensors in the
            # parameters' order, not in the (sorted) order of the keywords
            args, kwargs = self._owner._bind(args, kwargs)
        every = []
        _flatten((args, kwargs), every)
        leaves = [t for t in every if not t._is_variable]
        specs = self._flat_specs
        if len(leaves) != len(specs) and self._in_template is not None:
            # Python lists/numbers where tensors were traced: convert them as TF does
            args, kwargs = self._conform_call(args, kwargs)
            every = []
            _flatten((args, kwargs), every)
            leaves = [t for t in every if not t._is_variable]
        if len(leaves) != len(specs):
            raise TypeError(f"{self.name}: expected {len(specs)} tensor arguments, got "
                            f"{len(leaves)}")
        for i, (spec, t) in enumerate(zip(specs, leaves)):
            _trace.check_input(spec.shape, spec.dtype, t, i)
        if self._graph is None or self._provisional or (
                self._owner is not None and self._traced_shapes is not None and
                [tuple(t._value.shape) for t in leaves] != self._traced_shapes):
            # same signature, other sizes: with the Python values it was traced on
            args, kwargs = self._traced_call(every, args, kwargs)
            return self._owner(*args, **kwargs)
        self._check_variables(every)
        return self._call_flat(leaves, every)

    def _check_python_args(self, args, kwargs):
        """TF's TypeError for a Python argument the call gives with another value
        than the trace's (``square(x, b=3)`` of a trace with ``b=2``); arguments
        the call leaves out keep the traced values."""
        if self._owner is None or self._in_template is None or (
                self._in_template[1]):
            return
        if self._traced_python is None:
            self._traced_python = {name: value for name, _kind, value in
                                   self._parameters()[0]}
        try:
            given = inspect.signature(self._owner.python_function).bind_partial(
                *args, **kwargs).arguments
        except (TypeError, ValueError):
            return
        for name, value in given.items():
            if name not in self._traced_python:
                continue
            changed = python_mismatch(
                _flatten(self._traced_python[name], [], specs_are_leaves=True),
                _flatten(value, []))
            if changed is not None:
                raise TypeError(
                    f"Binding inputs to tf.function failed due to `Can not cast "
                    f"{changed[0]!r} to Literal[{changed[1]!r}]`. Received args: "
                    f"{args} and kwargs: {kwargs} for signature: "
                    f"{self.pretty_printed_signature(verbose=False)}.")

    def _traced_call(self, every, args, kwargs):
        """The call's tensors in the traced ``(args, kwargs)``, whose Python values
        (not the call's defaults) this concrete function stands for."""
        if self._in_template is None or self._in_template[1]:
            return args, kwargs
        leaves = iter(every)
        try:
            traced_args, traced_kwargs = _unflatten(self._in_template[0], leaves)
        except (StopIteration, TypeError, ValueError):
            return args, kwargs
        if next(leaves, None) is not None:
            return args, kwargs
        return traced_args, traced_kwargs

    def _check_variables(self, every):
        """TF's binding check of Variable arguments: the traced one's shape/dtype."""
        for pos, traced in self._arg_variables:
            var = every[pos] if pos < len(every) else None
            if var is traced:
                continue
            if var is None or not var._is_variable or var.dtype != traced.dtype or \
                    tuple(var._value.shape) != tuple(traced._value.shape):
                raise TypeError(
                    f"Binding inputs to tf.function failed: argument {pos} ({var!r}) "
                    f"is not compatible with the traced variable of shape "
                    f"{tuple(traced._value.shape)} and dtype {traced.dtype.name}")

    def _conform_call(self, args, kwargs):
        """``(args, kwargs)`` with values converted to the structured input signature's
        TensorSpecs; parameters are matched by position, then by name."""
        sig_args, sig_kwargs = self.structured_input_signature
        padded = sig_args + (None,) * len(args)
        args = tuple(_conform(s, a, i) if i < len(sig_args) else a
                     for i, (s, a) in enumerate(zip(padded, args)))
        by_name = {getattr(s, "name", None): s for s in sig_args}
        by_name.update(sig_kwargs)
        kwargs = {k: _conform(by_name[k], v, k) if k in by_name else v
                  for k, v in kwargs.items()}
        return args, kwargs

    # -- introspection, as TF's ConcreteFunction ----------------------------------
    def _parameters(self):
        if self._in_template is None:
            return ([(f"args_{i}", "POSITIONAL_ONLY", s)
                     for i, s in enumerate(self._flat_specs)],
                    tuple(self._flat_specs), {})
        comp = iter(self._in_template[1])
        args, kwargs = self._call_structure(self._flat_specs,
                                            lambda struct, parts: next(comp))
        fn = self._owner.python_function if self._owner is not None else None
        params, args, kwargs = _sig.bind(fn, args, kwargs)
        names = iter(name for name, _kind, _value in params)
        args = tuple(_sig.named(a, next(names)) for a in args)
        kwargs = {k: _sig.named(v, next(names)) for k, v in kwargs.items()}
        return params, args, kwargs

    def _call_structure(self, leaves, composite=None):
        """The call's ``(args, kwargs)`` with ``leaves`` for its tensor arguments."""
        leaves = list(leaves)
        for pos, var in self._arg_variables:
            leaves.insert(pos, var)
        return _unflatten(self._in_template[0], iter(leaves), composite)

    def _general_outputs(self):
        """Output specs with None where a None input dimension changes them: found
        from a second specialization at other sizes (traces are concrete)."""
        general = self._out_specs
        flexible = any(s.shape.rank is None or None in s.shape.as_list()
                       for s in self._flat_specs)
        if (not flexible or self._owner is None or self._in_template is None
                or self._in_template[1] or self._traced_shapes is None):
            return general
        from dlframe.core.tensor import constant
        def other_size(shape, spec):
            dims = (spec.shape.as_list() if spec.shape.rank is not None
                    else [None] * len(shape))
            return [d + 1 if s is None else d for d, s in zip(shape, dims)]
        stand_ins = [
            constant(np.zeros(other_size(shape, spec), spec.dtype.as_numpy_dtype))
            for shape, spec in zip(self._traced_shapes, self._flat_specs)]
        args, kwargs = self._call_structure(stand_ins)
        other = self._owner.get_concrete_function(*args, **kwargs)._out_specs

        def merge(a, b):
            if isinstance(a, TensorSpec) and isinstance(b, TensorSpec):
                if b.shape.rank is None:
                    return TensorSpec(None, a.dtype)
                return TensorSpec(_merge_shapes(a.shape, b.shape.as_list()), a.dtype)
            return a
        return _sig.map_pairs(general, other, merge)

    @property
    def structured_input_signature(self):
        _params, args, kwargs = self._parameters()
        return args, kwargs

    def _output_specs(self):
        """The output structure with TensorSpecs (None dims where unknown)."""
        if self._general is None:
            self._general = [self._general_outputs()]
        return self._general[0]

    @property
    def structured_outputs(self):
        """The output structure with symbolic tensors (``.shape``, ``.dtype``,
        ``.name``) where the function returns tensors, as TF's graph outputs."""
        return _sig.symbolic_outputs(self._output_specs())

    @property
    def output_shapes(self):
        return _sig.shapes_and_dtypes(self._output_specs())[0]

    @property
    def output_dtypes(self):
        return _sig.shapes_and_dtypes(self._output_specs())[1]

    @property
    def inputs(self):
        """The tensor arguments' specs (named), then the captured Variables."""
        specs = [s for s in _leaf_specs(self.structured_input_signature)
                 if s is not None]
        return specs + list(self.variables)

    @property
    def outputs(self):
        """The output tensors (symbolic), flattened."""
        return _sig.symbolic_outputs(_sig.flat_specs(self._output_specs()))

    @property
    def variables(self):
        """The Variables the graph reads or writes, in order of first use."""
        graph = self._graph
        return tuple(v for _s, v in graph.variables) if graph is not None else ()

    @property
    def captured_inputs(self):
        """TF's captured inputs: the handles of the Variables the graph uses
        (eager tensors it captured are constants of the graph, not listed)."""
        return [v.handle for v in self.variables]

    @property
    def trainable_variables(self):
        return tuple(v for v in self.variables if getattr(v, "trainable", True))

    @property
    def function_type(self):
        """Parameters with their types, output type and captures (TF's
        FunctionType: ``str`` the one-line form, ``repr`` the block)."""
        params, _args, _kwargs = self._parameters()
        return _function_type.of_concrete(params, self._output_specs(), self.variables)

    def pretty_printed_signature(self, verbose=True):
        """Parameters, output type and captures, laid out as TF prints them."""
        params, _args, _kwargs = self._parameters()
        return _sig.pretty(params, self._output_specs(), self.variables, verbose)

    def __repr__(self):
        return (f"<ConcreteFunction {self.pretty_printed_signature(verbose=False)} at "
                f"0x{id(self):X}>")

    def __str__(self):   # print(concrete): TF 2.21's layout, under a title
        return "ConcreteFunction " + self.pretty_printed_signature()
