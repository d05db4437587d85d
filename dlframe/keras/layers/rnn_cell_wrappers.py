"""TF 2's RNN cell wrappers, ``tf.nn.RNNCellDropoutWrapper``,
``RNNCellResidualWrapper`` and ``RNNCellDeviceWrapper``.

Each wraps a Keras RNN cell (``call(inputs, states)`` plus ``state_size``) and is
itself a cell, so it can run inside ``keras.layers.RNN``. ``dlframe.nn`` reaches
them lazily, because ops (where ``tf.nn`` is collected) may not import keras.
"""

from dlframe import backends
from dlframe.core import nest as _nest
from dlframe.core.tensor import Tensor, copy_to_device
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.layers.recurrent_cells import _takes_training, deserialize_cell
from dlframe.keras.utils import generic_utils
from dlframe.ops import math as _math
from dlframe.ops import nn_impl as _nn
from dlframe.ops import random as _random


class _RNNCellWrapper(Layer):
    """Shared plumbing: forwards sizes, initial state, build and config to the
    wrapped cell; subclasses change ``_call_wrapped``."""

    def __init__(self, cell, **kwargs):
        super().__init__(**kwargs)
        if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
            raise TypeError(f"The parameter cell is not an RNN cell (it needs `call` "
                            f"and `state_size`). Received: cell={cell!r}")
        self.cell = cell

    @property
    def state_size(self):
        return self.cell.state_size

    @property
    def output_size(self):
        return getattr(self.cell, "output_size", None) or _first(self.cell.state_size)

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        return self.cell.get_initial_state(inputs=inputs, batch_size=batch_size,
                                           dtype=dtype)

    def build(self, input_shape):
        if isinstance(self.cell, Layer) and not self.cell.built:
            with self.cell._own_scope():
                self.cell.build(input_shape)
            self.cell.built = True
        self.built = True

    def _cell_call(self, inputs, state, training):
        kw = {"training": training} if training is not None and \
            _takes_training(self.cell) else {}
        return self.cell(inputs, state, **kw)

    def call(self, inputs, state, training=None, **kwargs):
        return self._call_wrapped(inputs, state, training)

    def get_config(self):
        config = super().get_config()
        config["cell"] = generic_utils.serialize_keras_object(self.cell)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cell = deserialize_cell(config.pop("cell"), custom_objects)
        return cls(cell, **config)


def _first(size):
    return size[0] if isinstance(size, (list, tuple)) else size


def _check_keep_prob(value, name):
    if not isinstance(value, (int, float)) or not 0.0 < float(value) <= 1.0:
        raise ValueError(f"Parameter {name} must be between 0 and 1: {value!r}")
    return float(value)


class DropoutWrapper(_RNNCellWrapper):
    """Applies dropout to a cell's inputs, outputs and new states.

    As in TF, dropout is applied on every call in which a keep probability is
    below 1 (there is no training switch: build an inference model with keep
    probabilities of 1). Kept values are scaled by ``1 / keep_prob``.

    Args:
      cell: the wrapped RNN cell.
      input_keep_prob, output_keep_prob, state_keep_prob: probabilities of keeping
        each input, output and new-state unit, in (0, 1].
      variational_recurrent: use one dropout mask per wrapper for every timestep
        (Gal & Ghahramani): drawn on the first call for that batch size and reused
        until ``reset_dropout_masks()``.
      input_size: accepted for TF compatibility (masks take their size from the
        data).
      dtype: accepted for TF compatibility.
      seed: random seed.
      dropout_state_filter_visitor: a function of one state tensor returning
        whether dropout applies to it (default: all states).
    """

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0,
                 state_keep_prob=1.0, variational_recurrent=False, input_size=None,
                 dtype=None, seed=None, dropout_state_filter_visitor=None, **kwargs):
        super().__init__(cell, dtype=dtype, **kwargs)
        self.input_keep_prob = _check_keep_prob(input_keep_prob, "input_keep_prob")
        self.output_keep_prob = _check_keep_prob(output_keep_prob, "output_keep_prob")
        self.state_keep_prob = _check_keep_prob(state_keep_prob, "state_keep_prob")
        if dropout_state_filter_visitor is not None and \
                not callable(dropout_state_filter_visitor):
            raise TypeError("dropout_state_filter_visitor must be callable. Received: "
                            f"{dropout_state_filter_visitor!r}")
        self._state_filter = dropout_state_filter_visitor or (lambda state: True)
        self.variational_recurrent = bool(variational_recurrent)
        self.input_size = input_size
        self.seed = seed
        self._masks = {}

    def reset_dropout_masks(self):
        """Draws new variational masks on the next call."""
        self._masks = {}

    def _dropout(self, value, keep_prob, key):
        if keep_prob >= 1.0:
            return value
        if not self.variational_recurrent:
            return _nn.dropout(value, rate=1.0 - keep_prob, seed=self.seed)
        mask_key = (key, tuple(value.shape))
        mask = self._masks.get(mask_key)
        if mask is None:
            noise = _random.uniform(list(value.shape), seed=self.seed)
            mask = _math.cast(_math.less(noise, keep_prob), value.dtype) / keep_prob
            self._masks[mask_key] = mask
        return value * mask

    def _call_wrapped(self, inputs, state, training):
        flat = _nest.flatten(inputs)
        inputs = _nest.pack_sequence_as(inputs, [
            self._dropout(x, self.input_keep_prob, ("input", i))
            for i, x in enumerate(flat)])
        output, new_state = self._cell_call(inputs, state, training)
        states = _nest.flatten(new_state)
        states = [self._dropout(s, self.state_keep_prob, ("state", i))
                  if self._state_filter(s) else s for i, s in enumerate(states)]
        new_state = _nest.pack_sequence_as(new_state, states)
        output = _nest.pack_sequence_as(output, [
            self._dropout(o, self.output_keep_prob, ("output", i))
            for i, o in enumerate(_nest.flatten(output))])
        return output, new_state

    def get_config(self):
        config = super().get_config()
        config.update({"input_keep_prob": self.input_keep_prob,
                       "output_keep_prob": self.output_keep_prob,
                       "state_keep_prob": self.state_keep_prob,
                       "variational_recurrent": self.variational_recurrent,
                       "input_size": self.input_size, "seed": self.seed})
        return config


class ResidualWrapper(_RNNCellWrapper):
    """Adds the cell's inputs to its outputs: ``output = residual_fn(inputs,
    output)`` (default ``inputs + output``, structure by structure); the state
    passes unchanged.

    Args:
      cell: the wrapped RNN cell; its output must match the inputs' shape.
      residual_fn: a function ``(inputs, outputs) -> outputs``.
    """

    def __init__(self, cell, residual_fn=None, **kwargs):
        super().__init__(cell, **kwargs)
        if residual_fn is not None and not callable(residual_fn):
            raise TypeError(f"residual_fn must be callable. Received: "
                            f"residual_fn={residual_fn!r}")
        self._residual_fn = residual_fn

    def _call_wrapped(self, inputs, state, training):
        output, new_state = self._cell_call(inputs, state, training)
        if self._residual_fn is not None:
            return self._residual_fn(inputs, output), new_state
        _nest.assert_same_structure(inputs, output)
        flat_in, flat_out = _nest.flatten(inputs), _nest.flatten(output)
        for x, y in zip(flat_in, flat_out):
            if list(x.shape)[-1:] != list(y.shape)[-1:]:
                raise ValueError(f"RNNCellResidualWrapper: the cell's output shape "
                                 f"{list(y.shape)} does not match its input shape "
                                 f"{list(x.shape)}.")
        summed = [_math.add(_math.cast(x, y.dtype), y) for x, y in zip(flat_in,
                                                                       flat_out)]
        return _nest.pack_sequence_as(output, summed), new_state

    def get_config(self):
        config = super().get_config()
        if self._residual_fn is not None:
            config["residual_fn"] = generic_utils.serialize_keras_object(
                self._residual_fn)
        return config


class DeviceWrapper(_RNNCellWrapper):
    """Runs the wrapped cell on ``device`` (e.g. '/cpu:0', '/GPU:0').

    Args:
      cell: the wrapped RNN cell.
      device: the device name.
    """

    def __init__(self, cell, device, **kwargs):
        super().__init__(cell, **kwargs)
        if not isinstance(device, str):
            raise TypeError(f"device must be a device name string. Received: "
                            f"device={device!r}")
        backends.get_device(device)  # an unknown device fails here, not mid-loop
        self.device = device

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        backends.push_device(backends.get_device(self.device))
        try:
            return super().get_initial_state(inputs, batch_size, dtype)
        finally:
            backends.pop_device()

    def build(self, input_shape):
        backends.push_device(backends.get_device(self.device))
        try:  # the cell's weights live where it runs
            super().build(input_shape)
        finally:
            backends.pop_device()

    def _call_wrapped(self, inputs, state, training):
        # The wrapper is an explicit device boundary (TF copies implicitly here):
        # inputs and state are copied onto its device, and the output and new state
        # back to where the inputs and the state came from, so the loop around it
        # keeps each on one device. The copies are recorded (gradients, traces).
        device = backends.get_device(self.device)
        backends.push_device(device)
        try:
            out, new_state = self._cell_call(_moved(inputs, device),
                                             _moved(state, device), training)
        finally:
            backends.pop_device()
        return (_moved(out, _device_of(inputs, device)),
                _moved(new_state, _device_of(state, device)))

    def get_config(self):
        config = super().get_config()
        config["device"] = self.device
        return config


def _device_of(structure, default):
    """The device of the first Tensor in ``structure`` (else ``default``)."""
    for t in _nest.flatten(structure):
        if isinstance(t, Tensor):
            return t._device
    return default


def _moved(structure, device):
    """``structure`` with every Tensor copied onto ``device`` (a recorded copy)."""
    return _nest.map_structure(
        lambda t: copy_to_device(t, device) if isinstance(t, Tensor) else t,
        structure)


# TF's classes are DropoutWrapper etc., exported as tf.nn.RNNCell*Wrapper; configs
# carry the class names, so both spellings deserialize
RNNCellDropoutWrapper = DropoutWrapper
RNNCellResidualWrapper = ResidualWrapper
RNNCellDeviceWrapper = DeviceWrapper
WRAPPERS = {cls.__name__: cls for cls in (DropoutWrapper, ResidualWrapper,
                                          DeviceWrapper)}
WRAPPERS.update({"RNNCellDropoutWrapper": DropoutWrapper,
                 "RNNCellResidualWrapper": ResidualWrapper,
                 "RNNCellDeviceWrapper": DeviceWrapper})

__all__ = ["RNNCellDeviceWrapper", "RNNCellDropoutWrapper", "RNNCellResidualWrapper"]
