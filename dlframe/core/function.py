"""``dlframe.function``: compile a Python function into replayable graphs.

One trace per input signature (tensor shapes/dtypes/devices, Python values,
nested structure). Calls with a known signature replay the optimized graph.
Variables may be created only during the first trace. A call made while an
eager GradientTape is recording runs the Python function eagerly, so the
outer tape sees every op (results are identical). How one trace is made:
``function_tracer``.
"""

import functools
import inspect
import weakref

from dlframe import config
from dlframe.core import function_inline as _inline
from dlframe.core import function_retracing as _retracing
from dlframe.core import function_type as _function_type
from dlframe.core.concrete_function import (  # noqa: F401 - ConcreteFunction re-exported
    ConcreteFunction,
    _as_requested,
    _conform,
)
# (names of the split modules stay importable from here)
from dlframe.core.function_inline import (  # noqa: F401
    _NOTHING,
    _InlineMemo,
    _same_specs,
    _traced_shapes,
)
from dlframe.core.function_keys import (  # noqa: F401
    _cache_key,
    _CallPlan,
    _flat_leaves,
    _flatten_call,
    _Signature,
    _spec_to_tensor,
    _variable_keys,
    larger_fills,
    saved_mismatch_error,
)
from dlframe.core.function_structure import (  # noqa: F401 - _LEAF for keras saving
    _LEAF,
    _flatten,
    _leaf_shapes,
    _leaf_specs,
    _merge_shapes,
    _rebuild_outputs,
    _restore_py,
    _structure_outputs,
    _template_matches,
    _unflatten,
)
from dlframe.core.function_tracer import _STALE_LIMIT, _keras_call  # noqa: F401
from dlframe.core.function_tracer import TracingMixin, _note_recursion
from dlframe.core.primitive import STATE
from dlframe.core.tensor import Tensor
from dlframe.errors import OpError

_IR_STAGES = ("hlo", "hlo_serialized", "optimized_hlo", "optimized_hlo_serialized",
              "optimized_hlo_proto_serialized", "optimized_hlo_dot")
# set by dlframe.autograph (it sits above ops; core must not import it)
CONVERTER = None
# set by dlframe.data: (slots, args, kwargs) -> (args, kwargs) with each Dataset
# argument in its slot, traced once per element spec as TF (data.function_args)
ARGUMENT_BINDER = None


class Function(TracingMixin):
    """A Python function compiled per input signature (``dlframe.function``).

    Pickling (``copy.deepcopy``, ``tf.saved_model.save``) keeps the Python function
    and its options, not the traces: graphs hold device arrays and refer to the
    variables of one process, so a restored Function traces again on first call.

    Args:
      python_function: the function to compile.
      input_signature: optional list of TensorSpec; None dims accept any size.
      autograph: convert tensor-dependent ``if``/``while``/``for`` (see autograph).
      jit_compile: accepted for TF compatibility (graphs are always optimized).
      reduce_retracing: after a retrace, trace with the dimensions that changed
        left unknown, as TF does.
    """

    _TRACE_STATE = ("_cache", "_signatures", "_concretes", "_tracing_count",
                    "_variables_created", "_converted", "_instances", "_call_plan",
                    "_replayed", "_provisional", "_stale_runs", "_dataset_slots")
    _trace_quietly = False  # True: trace-time print() is silent (a loaded SavedModel)
    _saved_signatures = None   # a loaded SavedModel's traces: calls must fit one

    def __init__(self, python_function, input_signature=None, autograph=True,
                 jit_compile=None, reduce_retracing=False, name=None,
                 experimental_autograph_options=None, experimental_relax_shapes=None,
                 experimental_compile=None):
        self._python_function = python_function
        self._input_signature = (tuple(input_signature) if input_signature is not None
                                 else None)
        self._autograph = autograph
        self._jit_compile = jit_compile
        self._reduce_retracing = bool(reduce_retracing or experimental_relax_shapes)
        self._reset_traces()
        self.__name__ = name or getattr(python_function, "__name__", "function")
        functools.update_wrapper(self, python_function, updated=())

    def _reset_traces(self):
        self._cache = {}
        self._provisional = {}   # key -> get_concrete_function's graph, see _trace
        self._stale_runs = {}    # key -> calls that re-traced for placeholder branches
        self._signatures = []   # _Signature of each user-visible trace
        self._concretes = []    # and its ConcreteFunction
        self._tracing_count = 0
        self._variables_created = False
        self._converted = None
        self._instances = weakref.WeakKeyDictionary()
        self._call_plan = None   # (inspect.Signature, positional count), see _bind
        self._replayed = None    # counts a replay for the retracing warning
        self._dataset_slots = {}  # Dataset arguments, see ARGUMENT_BINDER

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k not in self._TRACE_STATE}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._reset_traces()

    name = property(lambda self: self.__name__, doc="TF's ``Function.name``.")

    @property
    def python_function(self):
        return self._python_function

    @property
    def input_signature(self):
        return self._input_signature

    @property
    def function_spec(self):
        """The Python function's arguments and input signature (TF's FunctionSpec)."""
        return _function_type.FunctionSpec(self._python_function,
                                           self._input_signature, self._jit_compile)

    @property
    def function_type(self):
        """The parameters (typed by the input signature when given)."""
        return _function_type.of_function(self._python_function, self._input_signature)

    def _target(self):
        if not self._autograph:
            return self._python_function
        if self._converted is None:
            self._converted = (CONVERTER(self._python_function) if CONVERTER is not None
                               else self._python_function)
        return self._converted

    def __get__(self, instance, owner):
        if instance is None:
            return self
        bound = self._instances.get(instance)
        if bound is None:
            bound = Function(self._python_function.__get__(instance, owner),
                             self._input_signature, self._autograph, self._jit_compile,
                             self._reduce_retracing)
            bound._trace_quietly = self._trace_quietly
            try:
                self._instances[instance] = bound
            except TypeError:
                pass
        return bound

    def __call__(self, *args, **kwargs):
        if config.functions_run_eagerly():
            return self._python_function(*args, **kwargs)
        if STATE.trace is not None or STATE.tapes:
            # inlined / differentiated eagerly: its input_signature still binds
            args, kwargs = self._canonicalize(args, kwargs)
            return self._call_inline(args, kwargs)
        args, kwargs = self._canonicalize(args, kwargs)
        args, kwargs = self._bind_arguments(args, kwargs)
        template, leaves = _flatten_call(args, kwargs)
        key = _cache_key(template, leaves)
        concrete = self._cache.get(key)
        if concrete is None:
            self._check_saved(args, kwargs, template, leaves)
            # the trace itself executed the function once: return those results
            count = self._tracing_count
            concrete, result = self._trace(args, kwargs, template, leaves, key)
            _retracing.record_call(self._python_function, self._tracing_count > count,
                                   warn=self._input_signature is None)
            return result
        replayed = self._replayed
        if replayed is None:
            replayed = self._replayed = _retracing.replay_counter(self._python_function)
        replayed()
        inputs = [t for t in leaves if not t._is_variable]
        return concrete._call_flat(inputs, leaves if len(inputs) != len(leaves)
                                   else None)

    def _call_inline(self, args, kwargs):
        """Runs the Python function in the caller's trace (or eagerly, under a
        tape). As TF traces it there: a signature it has not seen counts as a trace
        (``experimental_get_tracing_count``), and only then is its trace-time
        ``print`` output shown."""
        template, leaves = _flatten_call(args, kwargs)
        signature = next((sig for sig in self._signatures
                          if sig.accepts(template, leaves)), None)
        new = signature is None
        if new:
            self._check_saved(args, kwargs, template, leaves)
            signature, new = self._signature_for(
                template, leaves, None if self._input_signature is not None else
                _traced_shapes(STATE.trace, leaves, args, kwargs),
                source=(args, kwargs))
            self._signatures.append(signature)
            self._tracing_count += 1
        trace = STATE.trace
        memo = getattr(trace, "inline_memo", None)
        memo_key = (id(self), _cache_key(template, leaves)) if memo is not None \
            else None
        if memo_key is not None and not new:
            reused = memo.reuse(memo_key)
            # (under a tape its ops must be recorded: the body runs again)
            if reused is not _NOTHING and not STATE.tapes:
                return reused
        quiet = STATE.silent_trace
        STATE.silent_trace = quiet or not new
        try:
            if trace is None:   # eagerly under a tape: tf.gradients works
                with _inline.graph_view():
                    return self._target()(*args, **kwargs)
            args, kwargs, fresh = _inline.distinct_inputs(args, kwargs, template,
                                                          leaves, signature.specs)
            with _inline.gradient_frame(trace, [
                    t for t in fresh if isinstance(t, Tensor) and not t._is_variable]):
                result = self._target()(*args, **kwargs)
            if memo_key is not None:
                memo.keep(memo_key, result)
            return result
        except RecursionError as exc:
            _note_recursion(exc, self)
            raise
        finally:
            STATE.silent_trace = quiet

    def _saved_traces(self):
        """The signatures a SavedModel keeps for this function (a loaded one accepts
        only calls fitting one of them, as TF's), or None: none traced, or a
        function of dlframe's own."""
        if not self._signatures or _retracing.in_library(self._python_function):
            return None
        return [sig.saved() for sig in self._signatures]

    def _check_saved(self, args, kwargs, template, leaves):
        saved = self._saved_signatures
        if saved is not None and not any(sig.accepts(template, leaves)
                                         for sig in saved):
            raise saved_mismatch_error(args, kwargs, saved)

    def _bind(self, args, kwargs):
        """``(args, kwargs)`` bound as TF binds a call: keyword arguments of
        positional parameters become positional and defaults are filled in, so
        ``f(x)``, ``f(x=x)`` and ``f(x, training=False)`` share one trace."""
        plan = self._call_plan
        if plan is None:
            plan = self._call_plan = _CallPlan(self._python_function)
        if plan.names is None or (not kwargs and len(args) == len(plan.names)):
            return args, kwargs
        return plan.bind(args, kwargs)

    def _bind_arguments(self, args, kwargs):
        """``(args, kwargs)`` with each Dataset or iterator argument in its slot of
        this function (``ARGUMENT_BINDER``), bound to the call's."""
        if ARGUMENT_BINDER is None or not kwargs and all(
                type(a) is Tensor for a in args):
            return args, kwargs
        return ARGUMENT_BINDER(self._dataset_slots, args, kwargs)

    def _canonicalize(self, args, kwargs):
        args, kwargs = self._bind(args, kwargs)
        if self._input_signature is None:
            return args, kwargs
        sig = self._input_signature
        if kwargs:
            try:
                params = list(inspect.signature(self._python_function).parameters)
                args = tuple(args) + tuple(kwargs.pop(p)
                                           for p in params[len(args):len(sig)]
                                           if p in kwargs)
            except (TypeError, ValueError):
                pass
        if len(args) < len(sig):
            raise TypeError(f"{self.__name__}: input_signature has {len(sig)} entries "
                            f"but {len(args)} positional arguments were given")
        checked = []
        for i, (spec, a) in enumerate(zip(sig, args)):
            checked.append(_conform(spec, a, i))
        return tuple(checked) + tuple(args[len(sig):]), kwargs


    def get_concrete_function(self, *args, **kwargs):
        """Traces (if needed) and returns the ConcreteFunction for these arguments
        or specs."""
        if not args and not kwargs and self._input_signature is not None:
            args = self._input_signature
        args, kwargs = self._bind(args, kwargs)
        source = (args, kwargs)
        requested = _leaf_specs(source)
        spec_shapes = [spec.shape if spec is not None else None for spec in requested]
        try:
            concrete, template, leaves = self._placeholder_trace(
                args, kwargs, spec_shapes, requested, source, 1)
        except (ValueError, OpError) as exc:
            # a size check only the 1-sized placeholders fail: larger ones
            for fill in larger_fills(exc, spec_shapes):
                try:
                    concrete, template, leaves = self._placeholder_trace(
                        args, kwargs, spec_shapes, requested, source, fill)
                    break
                except (ValueError, OpError):
                    continue
            else:
                raise
        view = _as_requested(concrete, requested)
        if view is not concrete:
            # specs more general than the cached trace's (TensorSpec(None) meets a
            # scalar trace): calls they accept match it (and a SavedModel keeps it)
            signature = self._new_signature(template, leaves, spec_shapes, source)
            if not any(_same_specs(signature, sig) for sig in self._signatures):
                signature.concrete = view
                self._signatures.append(signature)
        return view

    def _placeholder_trace(self, args, kwargs, spec_shapes, requested, source, fill):
        """(concrete, template, leaves) of the trace on zero placeholders for the
        specs among ``args`` / ``kwargs`` (None dims of size ``fill``)."""
        args = tuple(_spec_to_tensor(a, fill) for a in args)
        kwargs = {k: _spec_to_tensor(v, fill) for k, v in kwargs.items()}
        args, kwargs = self._canonicalize(args, kwargs)
        args, kwargs = self._bind_arguments(args, kwargs)
        template, leaves = _flatten_call(args, kwargs)
        key = _cache_key(template, leaves)
        concrete = self._provisional.get(key) or self._cache.get(key)
        if concrete is None:
            concrete, _ = self._trace(args, kwargs, template, leaves, key,
                                      spec_shapes=spec_shapes, execute=False,
                                      requested=requested, source=source)
        return concrete, template, leaves

    def pretty_printed_concrete_signatures(self, verbose=True):
        """The signatures of this function's traces, one block each, in trace order."""
        return "\n\n".join(c.pretty_printed_signature(verbose)
                           for c in self._concretes)

    def experimental_get_compiler_ir(self, *args, **kwargs):
        """The program traced for these arguments, as TF's XLA IR getter.

        Returns:
          A function ``(stage="hlo", device_name=None, platform_name=None)`` giving a
          text listing of the optimized graph's operations (dlframe does not use
          XLA: the text names the graph's nodes, one a line, not HLO instructions).
        """
        concrete = self.get_concrete_function(*args, **kwargs)

        def compiler_ir(stage="hlo", device_name=None, platform_name=None):
            if stage not in _IR_STAGES:
                raise ValueError(f"Invalid stage: {stage!r}; expected one of "
                                 f"{', '.join(_IR_STAGES)}")
            lines = [f"HloModule {self.__name__} (dlframe graph, stage {stage})"]
            lines += [f"  {op.name} = {op.type}" for op in
                      concrete.graph.get_operations()]
            return "\n".join(lines) + "\n"
        return compiler_ir

    def experimental_get_tracing_count(self):
        """How many times the Python function has been traced."""
        return self._tracing_count

    def __repr__(self):
        return f"<dlframe.function {self.__name__}>"


def function(func=None, input_signature=None, autograph=True, jit_compile=None,
             reduce_retracing=False, experimental_implements=None,
             experimental_autograph_options=None, experimental_attributes=None,
             experimental_relax_shapes=None, experimental_compile=None,
             experimental_follow_type_hints=None, name=None):
    """Compiles ``func`` into graphs; usable as ``@function`` or ``function(f)``.

    Args:
      func: the Python function or method.
      input_signature: optional sequence of TensorSpec fixing the accepted inputs.
      autograph: convert tensor-dependent Python control flow (default True).
      jit_compile: accepted for TF compatibility.
      reduce_retracing: after a retrace, trace with the dimensions that changed
        left unknown, as TF does.
      experimental_implements, experimental_autograph_options,
        experimental_attributes, experimental_compile,
        experimental_follow_type_hints: accepted for TF compatibility.
    """
    def decorate(f):
        return Function(f, input_signature=input_signature, autograph=autograph,
                        jit_compile=jit_compile, reduce_retracing=reduce_retracing,
                        name=name, experimental_relax_shapes=experimental_relax_shapes)
    if func is None:
        return decorate
    return decorate(func)
