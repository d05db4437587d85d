"""Tensors of a traced loop or branch body that escape its scope.

A ``tf.while_loop`` / ``tf.cond`` body is traced once, as its own graph: a tensor it
computes exists only inside that graph. A Python side channel can leak one out
(``out.append(i)`` in a ``for i in tf.range(n)`` loop); TF then refuses to use it
with an ``InaccessibleTensorError`` instead of baking the trace-time value of one
iteration into the enclosing graph. ``close_branch`` remembers the symbolic
tensors of a finished body on the enclosing trace, and ``check_escapes`` refuses
them where the enclosing trace (or one of its own bodies) reads or returns them.

A whole ``dlframe.function`` trace is a graph of its own too: once it is done,
``retire`` moves the tensors it computed (and its input placeholders) onto an
``OutOfScope`` device, so a tensor leaked out of it through Python state (a list,
an attribute of ``self``) fails with TF's ``TypeError`` wherever it is used again:
eagerly or inside another function. Returned values are fresh tensors.
"""


class InaccessibleTensorError(ValueError):
    """A tensor of a loop or branch body used outside of it (TF's error)."""


def close_branch(parent, child):
    """Marks the tensors ``child`` (a finished body trace) computed from its inputs
    as out of scope for ``parent`` and the traces around it."""
    closed = parent.__dict__.setdefault("closed_tensors", {})
    closed.update(getattr(child, "closed_tensors", {}))
    for tensor in child.inputs:
        closed[id(tensor)] = (tensor, "body_input")
    for key, tensor in child.produced.items():
        if key not in child.static:
            closed[key] = (tensor, child.names.get(key, "body_output"))


def _closed(trace, tensor):
    """True when ``tensor`` was made by a finished body nested in ``trace`` (or in
    the traces around it) and is not one of ``trace``'s own tensors: its name in
    that body, else None."""
    key = id(tensor)
    if key in trace.produced or key in trace.input_ids:
        return None
    while trace is not None:
        closed = getattr(trace, "closed_tensors", None)
        if closed and closed.get(key, (None,))[0] is tensor:
            return closed[key][1]
        trace = trace.parent
    return None


def check_escapes(trace, outputs=()):
    """Raises ``InaccessibleTensorError`` when an op of ``trace`` reads, or it
    returns among ``outputs``, a tensor of a finished loop or branch body."""
    if not any(getattr(t, "closed_tensors", None) for t in _chain(trace)):
        return
    read = [t for _prim, inputs, _o, _a, _d in trace.nodes for t in inputs]
    for tensor in read + list(outputs):
        name = _closed(trace, tensor)
        if name is not None:
            _refuse(tensor, name)


def _chain(trace):
    while trace is not None:
        yield trace
        trace = trace.parent


def _refuse(tensor, name):
    raise InaccessibleTensorError(
        f"<tf.Tensor '{name}' shape={tuple(tensor._value.shape)} "
        f"dtype={tensor.dtype.name}> is out of scope and cannot be used here. Use "
        "return values, explicit Python locals or TensorFlow collections to access "
        "it. Please see https://www.tensorflow.org/guide/function"
        "#all_outputs_of_a_tffunction_must_be_return_values for more information. "
        "(It was computed inside the body of a loop or conditional, a graph of its "
        "own, and leaked out of it through Python state.)")


_OUT_OF_SCOPE = (
    "{tensor} is out of scope and cannot be used here. Use return values, explicit "
    "Python locals or TensorFlow collections to access it.\nPlease see "
    "https://www.tensorflow.org/guide/function"
    "#all_outputs_of_a_tffunction_must_be_return_values for more information.\n\n"
    "{tensor} was defined in the trace of dlframe.function {function!r}.")


class LeakedNumpyError(TypeError, AttributeError):
    """``numpy()`` of a tensor leaked out of a trace: an AttributeError in TF (a
    symbolic tensor has no ``numpy``), and dlframe's out-of-scope TypeError."""


class OutOfScope:
    """The device of a tensor whose function trace is over: any use of it (an op,
    ``numpy()``) asks the device for something, which raises TF's TypeError naming
    the tensor. Its graph name and static description stay readable (``repr``);
    the description is only formatted when asked for (every traced tensor gets one
    of these devices, at every trace)."""

    __slots__ = ("dtype", "function", "graph_name", "shape")
    out_of_scope = True

    def __init__(self, graph_name, shape, dtype, function):
        self.graph_name = graph_name
        self.shape = shape
        self.dtype = dtype
        self.function = function

    @property
    def description(self):
        return (f"<tf.Tensor '{self.graph_name}' shape={tuple(self.shape)} "
                f"dtype={self.dtype.name}>")

    def __getattr__(self, name):
        message = _OUT_OF_SCOPE.format(tensor=self.description, function=self.function)
        if name == "to_numpy":   # numpy(): TF's symbolic tensors have no such attribute
            raise LeakedNumpyError(message)
        raise TypeError(message)

    def __repr__(self):
        return f"<out of scope: {self.description}>"


def retire(trace, function_name):
    """Marks the tensors ``trace`` (a finished function trace) computed, and its
    inputs, as out of scope (see ``OutOfScope``). Tensors computed from constants
    only are left usable: dlframe's own lazily built constants may be such."""
    static, names = trace.static, trace.names
    tensors = [t for key, t in trace.produced.items() if key not in static]
    for t in tensors + list(trace.inputs):
        if t._is_variable or getattr(type(t._device), "out_of_scope", False):
            continue
        t._device = OutOfScope(names.get(id(t), "Tensor:0"), t._value.shape, t.dtype,
                               function_name)
