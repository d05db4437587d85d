"""``dynamic_rnn``'s fast path: TF1's plain cells on dlframe's fused sequence kernels.

``BasicRNNCell``, ``BasicLSTMCell``, ``LSTMCell`` without peepholes, clipping or
projection, and ``GRUCell`` compute what Keras's SimpleRNN, LSTM and GRU
(``reset_after=False``) compute; only the weight layout differs. Their TF1
variables are re-laid out with differentiable ops (slices and concats, so
gradients reach the TF1 variables) and the whole sequence runs as one primitive
of ``dlframe.ops.rnn`` (DESIGN.md §11). Sequence lengths become a Keras mask,
which freezes the state past each length; the outputs there are then zeroed as
TF1 does.
"""

import dlframe as _tf
from dlframe.compat import v1_rnn_cell as _cells
from dlframe.ops import rnn as _rnn


def _activation_name(fn):
    for name in ("tanh", "sigmoid", "relu"):
        if fn in (getattr(_tf.math, name, None), getattr(_tf.nn, name, None),
                  getattr(_tf.keras.activations, name, None)):
            return name
    return None


def _kind(cell):
    """'lstm', 'gru', 'rnn' or None (no fused kernel for this cell)."""
    kind = {_cells.BasicLSTMCell: "lstm", _cells.LSTMCell: "lstm",
            _cells.GRUCell: "gru", _cells.BasicRNNCell: "rnn"}.get(type(cell))
    if kind is None:
        return None
    if type(cell) is _cells.LSTMCell and (
            cell._use_peepholes or cell._cell_clip is not None
            or cell._num_proj is not None):
        return None
    name = _activation_name(cell._activation)
    if name is None or (kind != "rnn" and name != "tanh"):
        return None
    return kind


def _blocks(w, units, order):
    """Column blocks of ``w`` (``units`` wide each) in ``order``, concatenated."""
    return _tf.concat([w[..., k * units:(k + 1) * units] for k in order], -1)


def _lstm(cell, x, state, mask):
    u = cell._num_units
    c0, h0 = _cells._split_lstm_state(state, cell._state_is_tuple, u)
    depth = x.shape[-1]
    kernel = _blocks(cell._kernel, u, (0, 2, 1, 3))     # i, j, f, o -> i, f, j, o
    i, j, f, o = _tf.split(cell._bias, 4)
    bias = _tf.concat([i, f + cell._forget_bias, j, o], 0)
    out, h, c = _rnn.lstm(x, h0, c0, kernel[:depth], kernel[depth:], bias, mask=mask)
    return out, _cells._join_lstm_state(c, h, cell._state_is_tuple)


def _gru(cell, x, state, mask):
    u, depth = cell._num_units, x.shape[-1]
    gates = _blocks(cell._gate_kernel, u, (1, 0))        # r, u -> z(=u), r
    kernel = _tf.concat([gates, cell._candidate_kernel], 1)
    bias = _tf.concat([_blocks(cell._gate_bias, u, (1, 0)), cell._candidate_bias], 0)
    out, h = _rnn.gru(x, state, kernel[:depth], kernel[depth:], bias, mask=mask,
                      reset_after=False)
    return out, h


def _simple(cell, x, state, mask):
    depth = x.shape[-1]
    out, h = _rnn.simple_rnn(x, state, cell._kernel[:depth], cell._kernel[depth:],
                             cell._bias, mask=mask,
                             activation=_activation_name(cell._activation))
    return out, h


_RUN = {"lstm": _lstm, "gru": _gru, "rnn": _simple}


def fused_sequence(cell, x, state, lengths):
    """Runs ``cell`` over batch-major ``x`` ``[batch, time, depth]`` with one fused
    primitive, or returns None when no kernel fits (the caller loops instead).

    Args:
      cell: the TF1 cell (built here, in the current variable scope, if needed).
      x: the inputs, a float Tensor.
      state: the initial state.
      lengths: None or an int32 ``[batch]`` tensor of sequence lengths.

    Returns:
      ``(outputs [batch, time, units], final_state)`` or None.
    """
    kind = _kind(cell)
    if kind is None or len(x.shape) != 3 or x.shape[1] == 0 or \
            x.dtype not in (_tf.float32, _tf.float64) or \
            any(getattr(s, "dtype", None) != x.dtype for s in _tf.nest.flatten(state)):
        return None
    cell.build_in_scope([x.shape[0], x.shape[2]], x.dtype)
    if cell._var_dtype != x.dtype:
        return None
    mask = None if lengths is None else _tf.sequence_mask(lengths, x.shape[1])
    outputs, state = _RUN[kind](cell, x, state, mask)
    if mask is not None:
        outputs = _tf.where(mask[:, :, None], outputs, _tf.zeros_like(outputs))
    return outputs, state


__all__ = []
