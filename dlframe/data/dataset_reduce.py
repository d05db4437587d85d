"""``Dataset.reduce`` where the pipeline's host-side fold does not fit.

The pipeline folds host arrays through one traced ``reduce_func`` (``Dataset.reduce``).
Two cases take another road, as TF's ``ReduceDataset`` allows:

* inside a ``dlframe.function`` the reduction is a graph ``while_loop`` that pulls
  the dataset's elements each time the graph runs (the ``for x in dataset`` feed of
  ``graph_loop``), so a state computed from the function's inputs or variables is
  read when the graph runs, not baked in at trace time;
* a state holding a ``tf.TensorArray`` (which has no host-array form) is folded
  eagerly, element by element.
"""

import numpy as np

from dlframe.core import dtypes as _dt
from dlframe.core import function as _function
from dlframe.core.primitive import STATE
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.data import structure as S
from dlframe.errors import InvalidArgumentError
from dlframe.ops import control_flow
from dlframe.ops.tensor_array import TensorArray


def _tensors(state):
    """``state`` with lists as tuples and its non-TensorArray leaves as Tensors."""
    return S.map_structure(
        lambda x: x if isinstance(x, (Tensor, TensorArray)) else convert_to_tensor(x),
        S.lists_to_tuples(state))


def _holds_tensor_array(state):
    return any(isinstance(x, TensorArray) for x in S.flatten(state))


def _converted(reduce_func):
    convert = _function.CONVERTER
    return convert(reduce_func) if convert is not None else reduce_func


def reduce_off_pipeline(dataset, initial_state, reduce_func):
    """The reduction of ``dataset`` by ``reduce_func`` from ``initial_state``, or
    None when the pipeline's own fold applies (eager, no TensorArray)."""
    traced = STATE.trace is not None
    if not traced and not _holds_tensor_array(initial_state):
        return None
    hooks = dataset._graph_iteration() if traced else None
    if traced and hooks is None:
        if not _holds_tensor_array(initial_state):
            return None   # elements a graph feed cannot pull: the host fold
        raise NotImplementedError(
            "Dataset.reduce with a TensorArray in its state inside a "
            "dlframe.function needs a dataset of dense tensors")
    fn = _converted(reduce_func)
    state = _tensors(initial_state)
    if not traced:
        for element in dataset:
            state = S.lists_to_tuples(fn(state, element))
        return state
    start, has_next, get = hooks
    template = state

    def body(i, *leaves):
        new = S.lists_to_tuples(fn(S.pack_sequence_as(template, list(leaves)), get(i)))
        new_leaves = S.flatten(new)
        # as TF's ReduceDataset, a state whose shape changes is relaxed to the
        # shape common to its start and its update (``[0]`` then ``[1]``: ``[None]``)
        control_flow.set_loop_options(shape_invariants=[None] + [
            _relaxed_shape(a, b) for a, b in zip(leaves, new_leaves)])
        return (i + 1, *new_leaves)
    _, *leaves = control_flow.while_loop(
        lambda i, *leaves: has_next(i), body, (start(), *S.flatten(state)))
    return S.pack_sequence_as(template, leaves)


def _relaxed_shape(before, after):
    """The most specific shape of both ``before`` and ``after`` (loop state values;
    None for non-tensor parts, which keep their own checks)."""
    if not isinstance(before, Tensor) or not isinstance(after, Tensor):
        return None
    return before.shape.most_specific_compatible_shape(after.shape)


def check_reduce_state(initial, new):
    """``new`` when it keeps the components and dtypes of ``initial`` (as TF's
    ReduceDataset requires of the first update)."""
    before, after = S.flatten(initial), S.flatten(new)
    if len(before) != len(after):
        raise InvalidArgumentError(
            None, None, "The number of components of the initial state and the reduce "
            f"function output does not match. (initial_state={len(before)}, "
            f"output={len(after)}).")
    for old, now in zip(before, after):
        if isinstance(old, np.ndarray) and isinstance(now, np.ndarray) and \
                old.dtype != now.dtype:
            raise TypeError(
                "The element types for the new state must match the initial state. "
                f"Expected {_dt.from_numpy(old.dtype)} but got "
                f"{_dt.from_numpy(now.dtype)}.")
    return new
