"""One trace of a ``dlframe.function``: the signature it serves (given, relaxed by
``reduce_retracing`` or exact), the run of the Python function on fresh trace inputs,
and the ConcreteFunction made from it (``Function`` inherits ``TracingMixin``)."""

import inspect

from dlframe.core import function_scope as _scope
from dlframe.core import static_dims as _static_dims
from dlframe.core import trace as _trace
from dlframe.core.concrete_function import ConcreteFunction
from dlframe.core.function_inline import _InlineMemo
from dlframe.core.function_keys import _flat_leaves, _Signature, _variable_keys
from dlframe.core.function_structure import (
    _flatten,
    _leaf_shapes,
    _rebuild_outputs,
    _restore_py,
    _structure_outputs,
    _template_matches,
    _unflatten,
)
from dlframe.core.primitive import STATE
from dlframe.core.tensor import Tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.core.tensor_spec import TensorSpec

_STALE_LIMIT = 2   # quiet re-traces for an untaken py_function branch, see _trace


def _keras_call(python_function):
    """True for the ``call`` of a Keras layer (bound) that Keras builds by running
    ``call`` symbolically first: its ``build`` is Keras's own and a sub-layer is
    not built yet (Keras's rule). In TF its variables then exist before the
    function's first eager call, which traces once (no variable-lifting second
    trace). A layer creating its own variables in ``call`` still traces twice."""
    owner = getattr(python_function, "__self__", None)
    if getattr(python_function, "__name__", None) != "call" or not (
            hasattr(owner, "_maybe_build") and hasattr(owner, "_traced_call")):
        return False
    # built: called through Layer.__call__ (not ``layer.call(x)`` directly)
    if not owner.built or not type(owner).build.__module__.startswith(
            "dlframe.keras.engine"):
        return False
    return any(not getattr(layer, "built", True)
               for layer in owner._flatten_layers(include_self=False, recursive=False))

def _note_recursion(exc, function):
    """Marks a RecursionError raised while ``function`` ran inlined in a trace."""
    try:
        exc.dlframe_reentered = getattr(exc, "dlframe_reentered", frozenset()) | {
            id(function)}
    except RecursionError:   # no stack left here: an outer frame marks it
        pass


def _recursion_error(name):
    """The error of a function that calls itself while it is traced (TF: a
    StagingError ending in this RecursionError)."""
    return RecursionError(
        f"maximum recursion depth exceeded while tracing tf.function '{name}': it "
        "calls itself with arguments of the same signature, so each call traces its "
        "body again without end (the recursion cannot stop on a tensor's value while "
        "tracing). Recurse on Python values, or loop with tf.while_loop / a `for` "
        "over tf.range instead.")


class TracingMixin:
    """The tracing half of ``Function``: it needs ``_signatures``, ``_cache``,
    ``_provisional``, ``_stale_runs``, ``_tracing_count``, ``_input_signature``,
    ``_reduce_retracing`` and ``_target()`` from the class it is mixed into."""

    def _signature_for(self, template, leaves, spec_shapes=None, source=None):
        """(signature, is_new): the known signature accepting these leaves, else a
        new one — from the input_signature / given specs (``source``: the call's
        arguments as given, specs included), relaxed from a known one under
        reduce_retracing, or exactly these shapes (composites: their trace types)."""
        for sig in self._signatures:
            if sig.accepts(template, leaves):
                return sig, False
        if self._reduce_retracing:
            for sig in reversed(self._signatures):
                if _template_matches(sig.template, template) and len(sig.specs) == len(
                        leaves):
                    relaxed = sig.relaxed(leaves)
                    if relaxed is not None:
                        return relaxed, True
        return self._new_signature(template, leaves, spec_shapes, source), True

    def _new_signature(self, template, leaves, spec_shapes=None, source=None):
        if self._input_signature is not None and source is not None:
            args, kwargs = source
            source = (tuple(self._input_signature) + tuple(args[len(
                self._input_signature):]), kwargs)
        pattern = template
        if source is not None:
            pattern = _flatten(source, [], specs_are_leaves=True)
            if spec_shapes is None:
                spec_shapes = _leaf_shapes(source)
        spec_shapes = list(spec_shapes or [])
        specs = []
        var_keys = _variable_keys(leaves)
        for i, t in enumerate(leaves):
            if t._is_variable:
                specs.append(var_keys[i])
                continue
            shape = spec_shapes[i] if i < len(spec_shapes) else None
            specs.append((shape if shape is not None else TensorShape(t._value.shape),
                          t._value.dtype, t._device))
        return _Signature(pattern, specs)

    def _trace(self, args, kwargs, template, leaves, key, spec_shapes=None,
               execute=True, requested=None, source=None):
        """Traces one call. With ``execute=False`` (get_concrete_function) side-effect
        ops (assign, print) are recorded but not done, as nothing is being run."""
        signature, visible = self._signature_for(template, leaves, spec_shapes,
                                                 source or (args, kwargs))
        first = not self._cache
        built_by_run = first and _keras_call(self._python_function)   # before tracing
        static = [spec[0] if spec[0] != "var" else None for spec in signature.specs]
        # a branch that computed with unshaped py_function placeholders makes the
        # graph provisional (re-traced at the next call, bodies not run, as TF);
        # after _STALE_LIMIT such calls the trace runs the bodies once and is kept
        bodies = execute and self._stale_runs.get(key, 0) >= _STALE_LIMIT
        tr, result = self._run_trace(args, kwargs, template, leaves, visible,
                                     allow_variables=first, execute=execute,
                                     static_shapes=static, run_py_bodies=bodies)
        if execute and tr.py_stale:
            self._stale_runs[key] = self._stale_runs.get(key, 0) + 1
        if first and tr.created_variables and not built_by_run:
            # as TF: a trace that created variables is followed at once by a second
            # trace that must create none (variables only once, TF's singleton rule);
            # it runs nothing and its graph is dropped, but it counts as a trace
            # inner tf.functions it calls give back their first results (TF finds
            # their traces cached): their Python bodies run once, as in TF
            tr.inline_memo.replaying = True
            again, _ = self._run_trace(args, kwargs, template, leaves, visible,
                                       allow_variables=False, execute=False,
                                       static_shapes=static, memo=tr.inline_memo)
            _scope.retire(again, self.__name__)
            if visible:
                self._tracing_count += 1
        out_leaves = []
        out_template = _structure_outputs(result, out_leaves)
        if execute and tr.tainted:
            tr.refuse_tainted(out_leaves)   # this run needs a failing op's result
        _scope.check_escapes(tr, out_leaves)
        graph = _trace.Graph(tr, out_leaves)
        # dims TF could not know at trace time (x[:2] of a None dim), for out_specs
        unknown = _static_dims.forced_unknown(tr, zip(tr.inputs, [
            spec[0] for spec, t in zip(signature.specs, leaves) if not t._is_variable]))
        requested = list(requested or [])
        requested += [None] * (len(leaves) - len(requested))
        specs = [TensorSpec(spec[0], t.dtype, getattr(r, "name", None))
                 for spec, t, r in zip(signature.specs, leaves, requested)
                 if not t._is_variable]
        composites = []
        _flatten(source or (args, kwargs), [], specs_are_leaves=True,
                 composites=composites)
        concrete = ConcreteFunction(
            graph, out_template, specs, self.__name__, owner=self,
            traced_shapes=[tuple(t._value.shape) for t in tr.inputs],
            in_template=(template, composites),
            variables=[(i, t) for i, t in enumerate(leaves) if t._is_variable],
            out_specs=_rebuild_outputs(out_template, iter(
                TensorSpec(_static_dims.static_dims(t, unknown), t.dtype)
                for t in out_leaves), specs=True))
        if tr.py_stale or not execute and tr.uses_unshaped_placeholders():
            # computed with py_function results whose shapes it never saw (their
            # bodies did not run, as in TF): it gives the signature and output
            # specs; the first call traces again, quietly, running them as it runs
            concrete._provisional = True
            self._provisional[key] = concrete
        else:
            self._cache[key] = concrete
        result = _rebuild_outputs(out_template, iter(
            Tensor(t._value, t._device) for t in out_leaves))
        _scope.retire(tr, self.__name__)   # leaked tensors fail where used again
        if not visible:
            return concrete, result
        signature.concrete = concrete
        self._signatures.append(signature)
        self._concretes.append(concrete)
        self._tracing_count += 1
        return concrete, result

    def _run_trace(self, args, kwargs, template, leaves, visible, allow_variables,
                   execute, static_shapes=(), run_py_bodies=False, memo=None):
        """(trace, result) of one run of the Python function on fresh trace inputs.
        ``static_shapes``: per leaf, the signature's shape (None dims: any size).

        A trace that runs nothing (``execute=False``) gives py_function placeholder
        results, as TF's tracing does not call their bodies; where the function
        cannot go on with those (it indexes one whose shape was never set), it is
        traced again with the bodies run."""
        try:
            return self._run_trace_once(args, kwargs, template, leaves, visible,
                                        allow_variables, execute, static_shapes,
                                        run_py_bodies, memo=memo)
        except Exception as exc:
            if execute or not getattr(exc, "after_py_placeholders", False):
                raise
        try:   # as TF, still without the bodies: placeholders of unknown rank >= 1
            return self._run_trace_once(args, kwargs, template, leaves, False,
                                        allow_variables, execute, static_shapes,
                                        placeholder_rank=1, memo=memo)
        except Exception as exc:
            if not getattr(exc, "after_py_placeholders", False):
                raise
        return self._run_trace_once(args, kwargs, template, leaves, False,
                                    allow_variables, execute, static_shapes,
                                    run_py_bodies=True, memo=memo)

    def _run_trace_once(self, args, kwargs, template, leaves, visible,
                        allow_variables, execute, static_shapes, run_py_bodies=False,
                        placeholder_rank=0, memo=None):
        tr = _trace.Trace(allow_variable_creation=allow_variables)
        tr.inline_memo = memo.restart() if memo is not None else _InlineMemo()
        tr.run_py_bodies = run_py_bodies
        tr.placeholder_rank = placeholder_rank   # of py_function placeholders
        tr.keeps_static = True   # set_shape refines static dims, as TF's graph
        tr.defers_errors = True  # an unused bad gather raises nothing, see Trace
        tr.run_effects = tr.py_runs_now = execute
        fresh = []
        names = self._leaf_names(args, kwargs, len(leaves))
        static_shapes = list(static_shapes)
        static_shapes += [None] * (len(leaves) - len(static_shapes))
        for t, name, shape in zip(leaves, names, static_shapes):
            if t._is_variable:
                fresh.append(t)
            else:
                inner = Tensor(t._value, t._device)
                tr.add_input(inner, name=name, static_shape=shape)
                fresh.append(inner)
        call_args, call_kwargs = _unflatten(template, iter(fresh))
        call_args = _restore_py(args, call_args)
        call_kwargs = _restore_py(kwargs, call_kwargs)
        quiet = STATE.silent_trace
        STATE.silent_trace = not visible or self._trace_quietly
        try:
            with _trace.tracing(tr):
                result = self._target()(*call_args, **call_kwargs)
        except RecursionError as exc:
            if id(self) in getattr(exc, "dlframe_reentered", ()):
                raise _recursion_error(self.__name__) from None
            raise
        except Exception as exc:
            if tr.made_placeholders and not run_py_bodies:
                exc.after_py_placeholders = True   # see _run_trace
            raise
        finally:
            STATE.silent_trace = quiet
        return tr, result

    def _leaf_names(self, args, kwargs, n_leaves):
        """Per tensor leaf of ``(args, kwargs)``, the name TF gives its graph input:
        the Python parameter's (a TensorSpec's own name first); leaves of one
        nested argument share it ("xs", "xs_1" once made unique)."""
        try:
            params = [p.name for p in inspect.signature(
                self._python_function).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            params = []
        sig = self._input_signature or ()
        names = []
        for i, value in enumerate(args):
            name = params[i] if i < len(params) else f"args_{i - len(params)}"
            spec = sig[i] if i < len(sig) else None
            if isinstance(spec, TensorSpec) and spec.name:
                name = spec.name
            names += [name] * len(_flat_leaves(value))
        for key in sorted(kwargs, key=str):
            names += [str(key)] * len(_flat_leaves(kwargs[key]))
        return names if len(names) == n_leaves else [None] * n_leaves
