"""``tf.py_function`` and ``tf.numpy_function``: Python code as an op.

Eagerly the Python function is simply called (for ``py_function`` on the input
Tensors, under the active tapes, so it is differentiable as TF's is). Inside a
``dlframe.function`` it becomes a primitive whose forward calls the Python function
each time the graph runs, never baking its result into the graph; a py_function's
gradient is another such primitive that re-runs the function under a tape.

The primitives are effects (run in program order, never pruned). As TF, a trace
that runs no effects (a cond branch or loop body, ``get_concrete_function``) does
not call the body: its results are placeholders of the declared dtypes and unknown
shape, sized by ``set_shape`` / ``ensure_shape``, so a branch not taken never runs
it. Where the trace computes with a placeholder whose full shape it was never
given, dlframe's concrete graph would bake a wrong shape, so that branch is traced
again with the bodies run (their run then stands for the run right after it), and
a ``get_concrete_function`` graph is traced again at the first call. A loop
gradient replaying a body runs it (the values are needed), and so do dlframe's own
bodies (a Dataset loop's fetches). A tf.data spec trace (``Dataset.map``'s
``element_spec``) has its own placeholders (``data.spec_trace``).
"""

from dlframe.backends.base import np
from dlframe.core import dtypes, nest
from dlframe.core.primitive import STATE, call, primitive
from dlframe.core.static_dims import RANK, note_unknown_axes
from dlframe.core.tape import GradientTape
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_spec import TensorSpec
from dlframe.errors import InvalidArgumentError, OpError, OutOfRangeError, UnknownError


def _out_dtypes(Tout):
    """(dtypes, single) for ``Tout``: a dtype/TensorSpec or a list/tuple of them."""
    single = not isinstance(Tout, (list, tuple))
    specs = [Tout] if single else list(Tout)
    return [s.dtype if isinstance(s, TensorSpec) else dtypes.as_dtype(s)
            for s in specs], single


def _inputs(inp):
    items = inp if isinstance(inp, (list, tuple)) else [] if inp is None else [inp]
    return tuple(x if isinstance(x, Tensor) else convert_to_tensor(x) for x in items)


def _as_list(result, n, who):
    values = [] if result is None and n == 0 else list(result) if isinstance(
        result, (list, tuple)) else [result]
    if len(values) != n:
        raise InvalidArgumentError(f"{who} returns {len(values)} values, but expects "
                                   f"to see {n} values.")
    return values


def _op_error(exc, who):
    """A Python exception from user code as the OpError TF raises for it."""
    if isinstance(exc, OpError):
        return exc
    kind = (InvalidArgumentError if isinstance(exc, (ValueError, TypeError)) else
            OutOfRangeError if isinstance(exc, StopIteration) else UnknownError)
    return kind(None, who, f"{type(exc).__name__}: {exc}")


class _Isolated:
    """Runs Python code from inside a primitive: no active trace, no tapes."""

    def __enter__(self):
        self.saved = STATE.tapes, STATE.trace
        STATE.tapes, STATE.trace = [], None

    def __exit__(self, *exc):
        STATE.tapes, STATE.trace = self.saved
        return False


class _Body:
    """The Python function of one py_function/numpy_function call site."""

    def __init__(self, func, out_dtypes, numpy_args):
        self.func = func
        self.out_dtypes = out_dtypes
        self.numpy_args = numpy_args
        self.name = getattr(func, "__name__", "pyfunc")
        # dlframe's own bodies (a Dataset loop's fetches) run while traced: what
        # follows needs their real element shapes
        self.internal = str(getattr(func, "__module__", None)).startswith("dlframe.")

    def run(self, d, arrays):
        """Calls the function on ``arrays`` of device ``d``; returns output arrays.
        Its errors are marked ``from_py_function``: they belong to these inputs, not
        to the trace that ran the function (tf.data does not retry them eagerly)."""
        try:
            return self._run(d, arrays)
        except OpError as exc:
            exc.from_py_function = True
            raise

    def _run(self, d, arrays):
        if self.numpy_args:
            args = [d.to_numpy(a) for a in arrays]
            if not self.internal:   # as TF's graph op: 0-d inputs as NumPy scalars
                args = [a[()] if a.ndim == 0 else a for a in args]   # (bytes, ...)
        else:
            args = [Tensor(a, d) for a in arrays]
        with _Isolated():
            try:
                result = self.func(*args)
            except Exception as exc:
                raise _op_error(exc, self.name) from exc
        values = _as_list(result, len(self.out_dtypes), self.name)
        try:
            return tuple(self._array(d, i, v, dt)
                         for i, (v, dt) in enumerate(zip(values, self.out_dtypes)))
        except (TypeError, ValueError) as exc:   # a result Tout cannot hold
            raise _op_error(exc, self.name) from exc

    def _array(self, d, i, value, dtype):
        if isinstance(value, str) and dtype._np == object:   # as TF: UTF-8 bytes
            value = value.encode()
        if isinstance(value, Tensor):
            value = value._value if value._device is d else \
                value._device.to_numpy(value._value)   # (a GPU result, a host op)
        elif not isinstance(value, np.ndarray) and not hasattr(
                value, "__cuda_array_interface__"):
            value = self._from_python(value, dtype)
        elif not self.numpy_args and isinstance(value, np.ndarray) and \
                value.dtype.kind in "biuf" and dtype._np.kind in "biufc":
            # as TF's py_function converts a returned array to Tout (numpy_function
            # in a graph does not)
            value = value.astype(dtype._np, copy=False)
        elif value.dtype.kind in "SU" and dtype._np == object:   # NumPy text: tf.string
            value = _np_strings_as_bytes(value)
        if value.dtype != dtype._np:
            raise InvalidArgumentError(
                f"{i}-th value returned by {self.name} is {_tf_type_name(value.dtype)}"
                f", but expects {_tf_type_name(dtype._np)}")
        # strings stay in host memory (no GPU array holds them), as in TF
        return value if value.dtype == object else d.asarray(value)

    def _from_python(self, value, dtype):
        """A returned Python value or NumPy scalar as an array. As TF: a
        numpy_function's keeps its own dtype (NumPy's: Python ints are int64,
        floats float64), checked against ``Tout`` after; a py_function's NumPy
        scalar is cast to ``Tout`` and its Python value converted as
        ``convert_to_tensor(value, Tout)`` does (2.5 is no int32: TypeError)."""
        if dtype._np == object:   # strings: converted as they are
            return np.asarray(value, dtype=object)
        if self.numpy_args:
            return np.asarray(value)
        if isinstance(value, np.generic):
            return np.asarray(value, dtype=dtype._np)
        tensor = convert_to_tensor(value, dtype=dtype)
        return tensor._device.to_numpy(tensor._value)


_TF_TYPE_NAMES = {"float64": "double", "float32": "float", "float16": "half",
                  "object": "string"}


def _tf_type_name(np_dtype):
    """The name TF's messages give a dtype (float32 is "float", float64 "double")."""
    name = np.dtype(np_dtype).name
    return _TF_TYPE_NAMES.get(name, name)


def _np_strings_as_bytes(value):
    flat = [v.encode() if isinstance(v, str) else bytes(v) for v in value.ravel().tolist()]
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(value.shape)


def _root(trace):
    """The outermost trace of ``trace`` (None outside traces)."""
    while getattr(trace, "parent", None) is not None:
        trace = trace.parent
    return trace


def _forward(d, *arrays, body):
    """Runs the body, unless the branch trace just before it (of the same function
    call: the same root trace) ran it on equal inputs: that run counts as this one,
    so a py_function in a cond branch or loop body runs once per use on the first
    call too, as in TF."""
    pending = _take_pending(body, _root(STATE.trace), keep=False)
    if pending is not None and _equal(pending[0], arrays):
        return pending[1]
    return body.run(d, arrays)


def _take_pending(body, root, keep):
    """(inputs, outputs) of the run a branch trace of the call traced as ``root``
    made of ``body``'s Python function, or None; forgotten unless ``keep``. Kept
    per function, not per call site: each probe of a loop body (the one that sizes
    its TensorArrays, then its own trace) makes a new call site of the same
    function, and the environment step of an RL loop must run once, not per probe.
    """
    runs = getattr(root, "py_pending", None)
    if not runs:
        return None
    found = runs.get(id(body.func)) if keep else runs.pop(id(body.func), None)
    return found[1:] if found is not None and found[0] is body.func else None


def _equal(saved, arrays):
    return len(saved) == len(arrays) and all(
        a.shape == b.shape and a.dtype == b.dtype and bool((a == b).all())
        for a, b in zip(saved, arrays))


@primitive("EagerPyFunc", n_out=-1, effects=True)
def _py_func_p(d, *arrays, body):
    return _forward(d, *arrays, body=body)


def _dry_run(d, *arrays, body):
    """A trace that runs no effects (a cond branch or loop body, a
    ``get_concrete_function``) gives placeholder results of the declared dtypes
    (shape ``()`` until a ``set_shape`` / ``ensure_shape``, see
    ``Trace.shape_placeholder``): as TF's tracing, it does not call the body, so a
    branch not taken never runs it. Where the rest of the trace cannot run on
    placeholders, it is traced again with the bodies run (``Trace.run_py_bodies``;
    such a branch trace's run then stands for the run right after, see
    ``_forward``). A tf.data spec trace has its own placeholders
    (``placeholder_py_functions``). Recomputing values for a gradient, or running
    a graph, calls the body."""
    trace = STATE.trace
    root = _root(trace)
    if getattr(root, "placeholder_py_functions", False):
        root.made_placeholders = True
        value = getattr(root, "placeholder_fill", 0)
        return tuple(placeholder_array(d, (), dtype, value)
                     for dtype in body.out_dtypes)
    if not body.out_dtypes and getattr(root, "skip_output_free_py_functions", False):
        return ()
    if trace is not None and not hasattr(root, "placeholder_py_functions") and \
            not body.internal and (not STATE.dry_graphs or getattr(
                trace, "py_runs_now", None) is False) and \
            not getattr(trace, "needs_values", False) and \
            not getattr(trace, "py_bodies_run", lambda: True)():
        while trace is not None:
            trace.made_placeholders = True
            trace = trace.parent
        body.placeheld = True
        # rank 0, or where the function could not go on with that (``r[1:]``) the
        # retry's rank (see Function._run_trace); the static shape stays unknown
        shape = (1,) * getattr(root, "placeholder_rank", 0)
        return tuple(placeholder_array(d, shape, dtype, 1) for dtype in body.out_dtypes)
    pending = _take_pending(body, root, keep=True)
    if pending is not None and _equal(pending[0], arrays):
        return pending[1]   # another branch trace of this call ran it: the same run
    outs = body.run(d, arrays)
    if root is not None:
        if getattr(root, "py_pending", None) is None:
            root.py_pending = {}
        root.py_pending[id(body.func)] = (
            body.func, [d.xp.array(a, copy=True) for a in arrays], outs)
    return outs


def _hold_placeholders(body, outs):
    """Marks the traced results ``outs`` of a call site as shaped by its run (the
    body may return any shape each time: ``tf.shape`` of one runs with the graph,
    never folded from the traced value) and lets ``set_shape`` / ``ensure_shape``
    resize them when they are placeholders (the ``body`` did not run)."""
    trace = STATE.trace
    if hasattr(_root(trace), "placeholder_py_functions"):
        return outs   # a tf.data spec trace: its placeholders are its own
    if isinstance(getattr(trace, "dynamic", None), set):
        trace.dynamic.update(id(o) for o in outs)
    if getattr(body, "placeheld", False):
        trace.py_placeholders.update((id(o), [o, _resize, False]) for o in outs)
    return outs


def _resize(tensor, shape):
    """Gives the placeholder ``tensor`` the static ``shape`` (None dims: size 1);
    True when it changed."""
    dims = getattr(shape, "dims", shape)
    if dims is None:
        return False
    dims = [1 if getattr(n, "value", n) is None else int(getattr(n, "value", n))
            for n in dims]
    if list(tensor._value.shape) == dims:
        return False
    tensor._value = placeholder_array(tensor._device, dims, tensor.dtype, 1)
    return True


def placeholder_array(d, shape, dtype, value):
    """An array of ``shape`` and ``dtype`` on device ``d`` standing for unknown data:
    every element ``value`` (as a string for string dtypes)."""
    if dtype.name == "string":
        out = np.empty(shape, dtype=object)
        out.fill(str(value).encode())
        return out
    return d.xp.full(shape, value, dtype=dtype._np)


_py_func_p.dry_run = _dry_run


@_py_func_p.defgrad
def _py_func_grad(inputs, outs, dys, *, body):
    grads = call(_py_func_grad_p, tuple(inputs) + tuple(dys),
                 {"body": body, "n_in": len(inputs)})
    return tuple(g if x.dtype.is_floating else None for x, g in zip(inputs, grads))


@primitive("EagerPyFuncGrad", n_out=-1, stateful=True)
def _py_func_grad_p(d, *arrays, body, n_in):
    """Gradients of a py_function: its Python re-run under a tape (as TF does)."""
    xs = [Tensor(a, d) for a in arrays[:n_in]]
    dys = [Tensor(a, d) for a in arrays[n_in:]]
    floats = [x for x in xs if x.dtype.is_floating]
    with _Isolated():
        with GradientTape() as tape:
            for x in floats:
                tape.watch(x)
            result = body.func(*xs)
        ys = _as_list(result, len(body.out_dtypes), body.name)
        grads = iter(tape.gradient(ys, floats, output_gradients=dys,
                                   unconnected_gradients="zero") if floats else ())
    return tuple(next(grads)._value if x.dtype.is_floating
                 else d.xp.zeros_like(x._value)
                 for x in xs)


@primitive("PyFunc", n_out=-1, effects=True)
def _numpy_func_p(d, *arrays, body):
    return _forward(d, *arrays, body=body)


_numpy_func_p.dry_run = _dry_run


@primitive("PyFuncStateless", n_out=-1)
def _numpy_func_pure_p(d, *arrays, body):
    return body.run(d, arrays)


def _device(inputs):
    return inputs[0]._device if inputs else None


def py_function(func=None, inp=None, Tout=None, name=None):
    """Wraps a Python function of Tensors into an op (run eagerly each time).

    Args:
      func: a Python function taking ``len(inp)`` Tensors and returning Tensors (or
        values convertible to them) matching ``Tout``.
      inp: a list of input Tensors (or convertible values).
      Tout: a dtype or TensorSpec (the result is one Tensor) or a list/tuple of them
        (the result is a list; ``[]`` for a function returning None).
      name: unused.

    Returns:
      The function's results as Tensors of the ``Tout`` dtypes.

    Raises:
      InvalidArgumentError: a result of the wrong number, or one ``Tout`` cannot
        hold (a Python 2.5 for int32; NumPy values are cast); a ValueError or
        TypeError raised by ``func`` (others become UnknownError).
    """
    if func is None:   # @tf.py_function(Tout=...)
        return lambda f: (lambda *args: py_function(f, list(args), Tout, name))
    if Tout is None:
        raise TypeError("Missing required argument: 'Tout'. If using tf.py_function as "
                        "a decorator, set `Tout` **by name** above the function: "
                        "`@tf.py_function(Tout=tout)`")
    inputs = _inputs(inp)
    out_dtypes, single = _out_dtypes(Tout)
    body = _Body(func, out_dtypes, numpy_args=False)
    if STATE.trace is None:
        try:
            result = func(*inputs)
        except Exception as exc:
            raise _op_error(exc, body.name) from exc
        try:
            outs = [_eager_output(v, dt, i, body.name) for i, (v, dt) in
                    enumerate(zip(_as_list(result, len(out_dtypes), body.name),
                                  out_dtypes))]
        except (TypeError, ValueError) as exc:   # a result Tout cannot hold
            raise _op_error(exc, body.name) from exc
    else:
        outs = _hold_placeholders(body, _unknown_shaped(call(
            _py_func_p, inputs, {"body": body}, device=_device(inputs))))
    return outs[0] if single else list(outs)


def _unknown_shaped(outs):
    """Traced results: as TF, their static shape is unknown (rank too) until the
    caller's ``set_shape``."""
    for out in outs:
        note_unknown_axes(out, frozenset(range(out._value.ndim)) | {RANK})
    return outs


def _eager_output(value, dtype, i, who):
    if isinstance(value, Tensor):
        if value._value.dtype != dtype._np:
            raise InvalidArgumentError(
                f"ValueError: Tensor conversion requested dtype {dtype.name} for "
                f"Tensor with dtype {value.dtype.name}: {value!r}")
        return value
    return convert_to_tensor(value, dtype=dtype)


def numpy_function(func=None, inp=None, Tout=None, stateful=True, name=None):
    """Wraps a Python function of NumPy arrays into an op (not differentiable).

    Args:
      func: a Python function taking ``len(inp)`` NumPy arrays and returning arrays
        (or Python values) matching ``Tout``.
      inp: a list of input Tensors (or convertible values).
      Tout: a dtype or TensorSpec, or a list/tuple of them (as ``py_function``).
      stateful: False lets a compiled graph fold or merge calls with equal inputs.
      name: unused.

    Returns:
      The function's results as Tensors. Eagerly, as TF, the function's result is
      flattened and converted as it is, and a single tensor is returned alone (also
      for a list ``Tout``).

    Raises:
      InvalidArgumentError: in a graph, a result whose own dtype (NumPy's: a Python
        float is float64) is not its ``Tout`` dtype; results are never cast.
    """
    if func is None:
        return lambda f: (lambda *args: numpy_function(f, list(args), Tout, stateful,
                                                       name))
    if Tout is None:
        raise TypeError("Missing required argument: 'Tout'")
    inputs = _inputs(inp)
    out_dtypes, single = _out_dtypes(Tout)
    if STATE.trace is None:
        # as TF eagerly: a plain call; the result's leaves are converted as they are
        # (``Tout`` is not applied) and a single leaf is returned alone
        leaves = nest.flatten(func(*[x._device.to_numpy(x._value) for x in inputs]))
        outs = [None if v is None else convert_to_tensor(v) for v in leaves]
        return outs[0] if len(outs) == 1 else outs
    else:
        # in a cond branch or loop body a stateless one is recorded as stateful too,
        # so that tracing the branch does not run it (see _dry_run)
        prim = _numpy_func_pure_p if not stateful and getattr(
            STATE.trace, "run_effects", True) else _numpy_func_p
        body = _Body(func, out_dtypes, numpy_args=True)
        outs = _hold_placeholders(body, _unknown_shaped(call(
            prim, inputs, {"body": body}, device=_device(inputs))))
    return outs[0] if single else list(outs)


__all__ = ["numpy_function", "py_function"]
