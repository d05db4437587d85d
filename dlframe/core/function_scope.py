"""Tensors of a traced loop or branch body that escape its scope.

A ``tf.while_loop`` / ``tf.cond`` body is traced once, as its own graph: a tensor it
computes exists only inside that graph. A Python side channel can leak one out
(``out.append(i)`` in a ``for i in tf.range(n)`` loop); TF then refuses to use it
with an ``InaccessibleTensorError`` instead of baking the trace-time value of one
iteration into the enclosing graph. ``close_branch`` remembers the symbolic
tensors of a finished body on the enclosing trace, and ``check_escapes`` refuses
them where the enclosing trace (or one of its own bodies) reads or returns them.
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
