"""``tf.compat.v1.nn.rnn_cell``'s wrappers: ``DropoutWrapper``, ``ResidualWrapper``
and ``DeviceWrapper``.

They are TF2's ``tf.nn.RNNCell*Wrapper`` classes with TF1's calling convention:
``cell(inputs, state, scope=None)``, the wrapped cell creates its variables on its
own first call (so they are named as if it were not wrapped), and ``zero_state``.
"""

from dlframe.compat.v1_rnn_cell import LSTMStateTuple, RNNCell
from dlframe.core import nest as _nest
from dlframe.keras.layers import rnn_cell_wrappers as _wrappers


def _lstm_h_only(state):
    """TF1's default state filter: dropout on an LSTMStateTuple's ``h``, not ``c``."""
    if isinstance(state, LSTMStateTuple):
        return LSTMStateTuple(c=False, h=True)
    return True


def _state_flags(visitor, state):
    """One bool per flat state tensor: whether state dropout applies to it.

    ``visitor(substructure)`` returns a bool (True: recurse into it, False: no
    dropout anywhere in it) or a shallow structure of bools, one per item."""
    verdict = visitor(state)
    if not isinstance(state, (list, tuple)):
        return [bool(verdict)]
    flags = [verdict] * len(state) if isinstance(verdict, bool) else list(verdict)
    out = []
    for sub, flag in zip(state, flags):
        if flag:
            out.extend(_state_flags(visitor, sub))
        else:
            out.extend([False] * len(_nest.flatten(sub)))
    return out


class _V1Wrapper:
    """TF1 calling convention on top of ``tf.nn.RNNCell*Wrapper``: ``scope`` goes to
    the wrapped cell, which creates its variables on its own first call (so they
    are named as if unwrapped), and ``zero_state`` is forwarded."""

    _scope = None

    def __call__(self, inputs, state, scope=None, **kwargs):
        self._scope = scope
        try:
            return super().__call__(inputs, state, **kwargs)
        finally:
            self._scope = None

    def build(self, input_shape):
        self.built = True

    def _cell_call(self, inputs, state, training):
        if isinstance(self.cell, (RNNCell, _V1Wrapper)):
            return self.cell(inputs, state, scope=self._scope)
        return super()._cell_call(inputs, state, training)

    def zero_state(self, batch_size, dtype):
        """The wrapped cell's zero state."""
        if hasattr(self.cell, "zero_state"):
            return self.cell.zero_state(batch_size, dtype)
        return self.cell.get_initial_state(batch_size=batch_size, dtype=dtype)

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        if inputs is not None:
            batch_size, dtype = inputs.shape[0], dtype or inputs.dtype
        return self.zero_state(batch_size, dtype)


class DropoutWrapper(_V1Wrapper, _wrappers.DropoutWrapper):
    """TF1's dropout wrapper (see ``tf.nn.RNNCellDropoutWrapper`` for the
    arguments); by default an LSTM's cell state ``c`` gets no state dropout."""

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0,
                 state_keep_prob=1.0, variational_recurrent=False, input_size=None,
                 dtype=None, seed=None, dropout_state_filter_visitor=None, **kwargs):
        super().__init__(cell, input_keep_prob=input_keep_prob,
                         output_keep_prob=output_keep_prob,
                         state_keep_prob=state_keep_prob,
                         variational_recurrent=variational_recurrent,
                         input_size=input_size, dtype=dtype, seed=seed,
                         dropout_state_filter_visitor=dropout_state_filter_visitor,
                         **kwargs)
        self._visitor = dropout_state_filter_visitor or _lstm_h_only
        self._state_filter = lambda state: False   # state dropout happens below

    def _call_wrapped(self, inputs, state, training):
        output, new_state = super()._call_wrapped(inputs, state, training)
        if self.state_keep_prob >= 1.0:
            return output, new_state
        flags = _state_flags(self._visitor, new_state)
        flat = [self._dropout(s, self.state_keep_prob, ("state", k)) if keep else s
                for k, (s, keep) in enumerate(zip(_nest.flatten(new_state), flags))]
        return output, _nest.pack_sequence_as(new_state, flat)


class ResidualWrapper(_V1Wrapper, _wrappers.ResidualWrapper):
    """TF1's residual wrapper: ``output = inputs + cell output`` (see
    ``tf.nn.RNNCellResidualWrapper``)."""


class DeviceWrapper(_V1Wrapper, _wrappers.DeviceWrapper):
    """TF1's device wrapper: runs the cell on ``device`` (see
    ``tf.nn.RNNCellDeviceWrapper``)."""


__all__ = ["DeviceWrapper", "DropoutWrapper", "ResidualWrapper"]
