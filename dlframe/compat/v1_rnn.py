"""TF1's recurrent loops: ``tf.compat.v1.nn.dynamic_rnn``, ``static_rnn``, their
bidirectional forms, ``static_state_saving_rnn`` and ``raw_rnn``, run eagerly.

Each loop calls a TF1 cell (``cell(inputs, state) -> (output, new_state)``) once per
timestep under the variable scope ``rnn`` (``bidirectional_rnn/fw`` and ``/bw``), so
the cell's variables get TF1's names. With ``sequence_length``, a sample's outputs
past its length are zeros and its state stays the one of its last valid step.
``dynamic_rnn`` runs the plain LSTM/GRU/basic RNN cells with dlframe's fused
sequence kernels (``dlframe.ops.rnn``: one primitive with its own BPTT gradient),
and any other cell step by step.
"""

import dlframe as _tf
from dlframe.compat import v1_variables as _vs
from dlframe.compat.v1_rnn_cell import assert_like_rnncell
from dlframe.compat.v1_rnn_fused import fused_sequence
from dlframe.core import nest as _nest


def _to_tensor(x):
    return x if isinstance(x, _tf.Tensor) else _tf.convert_to_tensor(x)


def _swap_batch_time(x):
    """[A, B, ...] -> [B, A, ...]."""
    rank = len(x.shape)
    if rank < 2:
        raise ValueError(f"Expected inputs of rank >= 2 ([batch, time, ...]), got "
                         f"shape {list(x.shape)}")
    return _tf.transpose(x, [1, 0] + list(range(2, rank)))


def _initial_state(cell, initial_state, batch_size, dtype):
    if initial_state is not None:
        return initial_state
    if dtype is None:
        raise ValueError("If no initial_state is provided, argument `dtype` must be "
                         "specified")
    if hasattr(cell, "get_initial_state"):
        return cell.get_initial_state(batch_size=batch_size, dtype=dtype)
    return cell.zero_state(batch_size, dtype)


def _sequence_length(sequence_length, batch_size):
    if sequence_length is None:
        return None
    lengths = _tf.cast(_to_tensor(sequence_length), _tf.int32)
    if len(lengths.shape) != 1:
        raise ValueError(f"sequence_length must be a vector of length batch_size, but "
                         f"saw shape: {list(lengths.shape)}")
    if lengths.shape[0] is not None and batch_size is not None and \
            lengths.shape[0] != batch_size:
        raise ValueError(f"sequence_length must have batch_size={batch_size} "
                         f"entries, got sequence_length of shape "
                         f"{list(lengths.shape)}")
    return lengths


def _select(keep, new, old):
    """``new`` where ``keep`` ([batch] bool), else ``old``, broadcast over the rest."""
    shape = [-1] + [1] * (len(new.shape) - 1)
    return _tf.where(_tf.reshape(keep, shape), new, old)


def _run_steps(cell, steps, state, lengths):
    """Calls ``cell`` on each of ``steps`` (time-ordered nested inputs); returns the
    list of outputs and the final state, masked past ``lengths``."""
    outputs = []
    for t, step in enumerate(steps):
        output, new_state = cell(step, state)
        _nest.assert_same_structure(state, new_state, check_types=False)
        if lengths is not None:
            valid = _tf.less(t, lengths)
            output = _nest.map_structure(
                lambda o, v=valid: _select(v, o, _tf.zeros_like(o)), output)
            new_state = _nest.map_structure(
                lambda n, o, v=valid: _select(v, n, o), new_state, state)
        outputs.append(output)
        state = new_state
    return outputs, state


def _stack_time(outputs, time_major):
    flat = [_nest.flatten(o) for o in outputs]
    stacked = [_tf.stack(list(items), axis=0 if time_major else 1)
               for items in zip(*flat)]
    return _nest.pack_sequence_as(outputs[0], stacked)


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None,
                parallel_iterations=None, swap_memory=False, time_major=False,
                scope=None):
    """Runs ``cell`` over the time axis of ``inputs``.

    Args:
      cell: a TF1 RNN cell.
      inputs: ``[batch, time, ...]`` (``[time, batch, ...]`` when ``time_major``),
        or a nested structure of such tensors.
      sequence_length: optional int vector ``[batch]``: outputs past a sample's
        length are zeros and its state is copied through.
      initial_state: the initial state (default ``cell.zero_state``).
      dtype: the initial state's dtype; required without ``initial_state``.
      parallel_iterations, swap_memory: accepted (graph-mode tuning).
      time_major: the layout of ``inputs`` and ``outputs``.
      scope: the variable scope (default 'rnn').

    Returns:
      ``(outputs, state)``: outputs stacked in the layout of ``inputs``, and the
      final state.

    Raises:
      TypeError: if ``cell`` is not an RNN cell.
      ValueError: without ``initial_state`` and ``dtype``, or for a bad
        ``sequence_length``.
    """
    assert_like_rnncell("cell", cell)
    flat = [_to_tensor(x) for x in _nest.flatten(inputs)]
    if len(flat[0].shape) < 3:
        raise ValueError(f"dynamic_rnn: inputs must have rank >= 3 ([batch, time, "
                         f"...] or time-major), got shape {list(flat[0].shape)}")
    batch_size = flat[0].shape[1 if time_major else 0]
    with _vs.variable_scope(scope or "rnn"):
        state = _initial_state(cell, initial_state, batch_size, dtype)
        lengths = _sequence_length(sequence_length, batch_size)
        if len(flat) == 1:
            fused = fused_sequence(
                cell, _swap_batch_time(flat[0]) if time_major else flat[0], state,
                lengths)
            if fused is not None:
                outputs, state = fused
                return (_swap_batch_time(outputs) if time_major else outputs), state
        if not time_major:
            flat = [_swap_batch_time(x) for x in flat]
        steps = [_nest.pack_sequence_as(inputs, [x[t] for x in flat])
                 for t in range(flat[0].shape[0])]
        if not steps:
            raise ValueError(f"dynamic_rnn needs at least one timestep, got inputs "
                             f"of shape {list(_nest.flatten(inputs)[0].shape)}")
        outputs, state = _run_steps(cell, steps, state, lengths)
    return _stack_time(outputs, time_major), state


def _check_step_list(inputs):
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"inputs must be a sequence, got inputs={inputs!r}")
    if not inputs:
        raise ValueError("inputs must not be empty")
    return list(inputs)


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None,
               scope=None):
    """Runs ``cell`` over a Python list of timesteps.

    Args:
      cell: a TF1 RNN cell.
      inputs: a non-empty list of ``[batch, ...]`` tensors (or nested structures).
      initial_state, dtype, sequence_length, scope: as in ``dynamic_rnn``.

    Returns:
      ``(outputs, state)``: the list of outputs, one per timestep, and the final
      state.
    """
    assert_like_rnncell("cell", cell)
    steps = [_nest.map_structure(_to_tensor, s) for s in _check_step_list(inputs)]
    batch_size = _nest.flatten(steps[0])[0].shape[0]
    with _vs.variable_scope(scope or "rnn"):
        state = _initial_state(cell, initial_state, batch_size, dtype)
        lengths = _sequence_length(sequence_length, batch_size)
        return _run_steps(cell, steps, state, lengths)


def _reverse_time(x, lengths, time_axis, batch_axis):
    """``x`` reversed along time (only the first ``lengths[b]`` steps of each b)."""
    if lengths is None:
        return _tf.reverse(x, [time_axis])
    return _tf.reverse_sequence(x, _tf.cast(lengths, _tf.int64), seq_axis=time_axis,
                                batch_axis=batch_axis)


def _check_cells(cell_fw, cell_bw):
    assert_like_rnncell("cell_fw", cell_fw)
    assert_like_rnncell("cell_bw", cell_bw)


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None,
                              initial_state_fw=None, initial_state_bw=None,
                              dtype=None, parallel_iterations=None, swap_memory=False,
                              time_major=False, scope=None):
    """A forward and a backward ``dynamic_rnn`` over the same inputs.

    The backward cell reads each sample's first ``sequence_length`` steps in
    reverse; its outputs are reversed back, so both outputs align in time.

    Args:
      cell_fw, cell_bw: TF1 RNN cells (variables under ``<scope>/fw``, ``/bw``).
      inputs, sequence_length, dtype, time_major: as in ``dynamic_rnn``.
      initial_state_fw, initial_state_bw: initial states of each direction.
      parallel_iterations, swap_memory: accepted.
      scope: the variable scope (default 'bidirectional_rnn').

    Returns:
      ``((output_fw, output_bw), (state_fw, state_bw))``.
    """
    _check_cells(cell_fw, cell_bw)
    time_axis, batch_axis = (0, 1) if time_major else (1, 0)
    with _vs.variable_scope(scope or "bidirectional_rnn"):
        with _vs.variable_scope("fw") as fw_scope:
            out_fw, state_fw = dynamic_rnn(
                cell_fw, inputs, sequence_length, initial_state_fw, dtype,
                time_major=time_major, scope=fw_scope)
        with _vs.variable_scope("bw") as bw_scope:
            lengths = None if sequence_length is None else _to_tensor(sequence_length)
            reversed_inputs = _nest.map_structure(
                lambda x: _reverse_time(_to_tensor(x), lengths, time_axis, batch_axis),
                inputs)
            out_bw, state_bw = dynamic_rnn(
                cell_bw, reversed_inputs, sequence_length, initial_state_bw, dtype,
                time_major=time_major, scope=bw_scope)
    out_bw = _nest.map_structure(
        lambda x: _reverse_time(x, lengths, time_axis, batch_axis), out_bw)
    return (out_fw, out_bw), (state_fw, state_bw)


def _reverse_steps(steps, lengths):
    """A list of timesteps reversed within each sample's ``lengths``."""
    if lengths is None:
        return steps[::-1]
    flat = [_tf.stack(list(items), axis=1) for items in
            zip(*[_nest.flatten(s) for s in steps])]
    flat = [_reverse_time(x, lengths, 1, 0) for x in flat]
    return [_nest.pack_sequence_as(steps[0], [x[:, t] for x in flat])
            for t in range(len(steps))]


def static_bidirectional_rnn(cell_fw, cell_bw, inputs, initial_state_fw=None,
                             initial_state_bw=None, dtype=None, sequence_length=None,
                             scope=None):
    """A forward and a backward ``static_rnn`` over a list of timesteps.

    Args:
      cell_fw, cell_bw: TF1 RNN cells (variables under ``<scope>/fw``, ``/bw``).
      inputs: a non-empty list of ``[batch, input_size]`` tensors.
      initial_state_fw, initial_state_bw, dtype, sequence_length: as in
        ``bidirectional_dynamic_rnn``.
      scope: the variable scope (default 'bidirectional_rnn').

    Returns:
      ``(outputs, state_fw, state_bw)``: ``outputs[t]`` is
      ``concat([output_fw[t], output_bw[t]], 1)``.
    """
    _check_cells(cell_fw, cell_bw)
    steps = [_to_tensor(s) for s in _check_step_list(inputs)]
    lengths = None if sequence_length is None else _to_tensor(sequence_length)
    with _vs.variable_scope(scope or "bidirectional_rnn"):
        with _vs.variable_scope("fw") as fw_scope:
            out_fw, state_fw = static_rnn(cell_fw, steps, initial_state_fw, dtype,
                                          sequence_length, scope=fw_scope)
        with _vs.variable_scope("bw") as bw_scope:
            out_bw, state_bw = static_rnn(cell_bw, _reverse_steps(steps, lengths),
                                          initial_state_bw, dtype, sequence_length,
                                          scope=bw_scope)
    out_bw = _reverse_steps(out_bw, lengths)
    outputs = [_tf.concat([f, b], 1) for f, b in zip(out_fw, out_bw)]
    return outputs, state_fw, state_bw


def static_state_saving_rnn(cell, inputs, state_saver, state_name,
                            sequence_length=None, scope=None):
    """``static_rnn`` whose initial state comes from, and whose final state goes
    to, ``state_saver``.

    Args:
      cell: a TF1 RNN cell.
      inputs: a non-empty list of ``[batch, input_size]`` tensors.
      state_saver: any object with ``state(name)`` returning a state tensor and
        ``save_state(name, value)`` (TF1's ``SequenceQueueingStateSaver`` API).
      state_name: the name (or, for a nested state, a structure of names matching
        ``cell.state_size``) of the saved state.
      sequence_length, scope: as in ``static_rnn``.

    Returns:
      ``(outputs, state)`` as ``static_rnn``; the final state has been saved.
    """
    for method in ("state", "save_state"):
        if not callable(getattr(state_saver, method, None)):
            raise TypeError(f"state_saver must have a `{method}` method, got "
                            f"state_saver={state_saver!r}")
    nested = _nest.is_nested(state_name)
    if nested != _nest.is_nested(cell.state_size) or (
            nested and len(_nest.flatten(state_name)) !=
            len(_nest.flatten(cell.state_size))):
        raise ValueError(f"state_name should be the same type as cell.state_size. "
                         f"state_name: {state_name!r}, cell.state_size: "
                         f"{cell.state_size!r}")
    names = _nest.flatten(state_name)
    saved = [state_saver.state(name) for name in names]
    initial = _nest.pack_sequence_as(cell.state_size, saved) if nested else saved[0]
    outputs, state = static_rnn(cell, inputs, initial_state=initial,
                                sequence_length=sequence_length, scope=scope)
    for name, value in zip(names, _nest.flatten(state)):
        state_saver.save_state(name, value)
    return outputs, state


def raw_rnn(cell, loop_fn, parallel_iterations=None, swap_memory=False, scope=None):
    """Runs ``cell`` under full control of ``loop_fn`` (eagerly, in Python).

    ``loop_fn(time, cell_output, cell_state, loop_state)`` returns
    ``(finished, next_input, next_cell_state, emit_output, next_loop_state)``; at
    ``time == 0`` it gets ``cell_output = cell_state = loop_state = None`` and
    returns the initial state and, as ``emit_output``, the structure of what is
    emitted (None: the cell's outputs). The loop stops when every sample is
    finished; finished samples emit zeros and keep their state.

    Args:
      cell: a TF1 RNN cell.
      loop_fn: the callable above.
      parallel_iterations, swap_memory: accepted.
      scope: the variable scope (default 'rnn').

    Returns:
      ``(emit_ta, final_state, final_loop_state)``: ``emit_ta`` a ``TensorArray``
      (or structure of them, like the emit structure) of the per-step emits.

    Raises:
      TypeError: if ``loop_fn`` is not callable or ``cell`` is not a cell.
    """
    assert_like_rnncell("cell", cell)
    if not callable(loop_fn):
        raise TypeError(f"loop_fn must be a callable, got loop_fn={loop_fn!r}")
    with _vs.variable_scope(scope or "rnn"):
        finished, next_input, state, emit_structure, loop_state = loop_fn(
            0, None, None, None)
        finished = _to_tensor(finished)
        emits, time = [], 0
        while not bool(_tf.reduce_all(finished)):
            output, cell_state = cell(next_input, state)
            _nest.assert_same_structure(state, cell_state, check_types=False)
            (next_finished, next_input, next_state, emit, loop_state) = loop_fn(
                time + 1, output, cell_state, loop_state)
            _nest.assert_same_structure(state, next_state, check_types=False)
            emit = output if emit is None else emit
            running = _tf.logical_not(finished)
            emit = _nest.map_structure(
                lambda e, r=running: _select(r, e, _tf.zeros_like(e)), emit)
            state = _nest.map_structure(
                lambda new, old, r=running: _select(r, new, old), next_state, state)
            emits.append(emit)
            finished = _tf.logical_or(finished, _to_tensor(next_finished))
            time += 1
    template = emit_structure if emit_structure is not None else cell.output_size
    return _emit_arrays(emits, template, state), state, loop_state


def _emit_arrays(emits, template, state):
    """One TensorArray per emitted leaf, holding its per-step values."""
    if emits:
        flat = [_tf.stack(list(items)) for items in
                zip(*[_nest.flatten(e) for e in emits])]
        arrays = [_tf.TensorArray(x.dtype, size=int(x.shape[0])).unstack(x)
                  for x in flat]
        return _nest.pack_sequence_as(emits[0], arrays)
    dtype = getattr(_nest.flatten(state)[0], "dtype", _tf.float32)
    return _nest.map_structure(
        lambda leaf: _tf.TensorArray(getattr(leaf, "dtype", dtype), size=0), template)


__all__ = [
    "bidirectional_dynamic_rnn",
    "dynamic_rnn",
    "raw_rnn",
    "static_bidirectional_rnn",
    "static_rnn",
    "static_state_saving_rnn",
]
