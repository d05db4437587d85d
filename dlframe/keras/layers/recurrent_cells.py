"""Recurrent cells: SimpleRNNCell, LSTMCell, GRUCell and StackedRNNCells.

A cell computes one timestep: ``call(inputs, states, training=None)`` returns
``(output, new_states)`` with ``states`` a list of tensors shaped like
``state_size``. ``keras.layers.RNN`` loops a cell over time; the LSTM/GRU/SimpleRNN
layers run the same equations with a fused sequence kernel when they can.
"""

import inspect
import numbers

from dlframe.keras import activations, constraints, default_seeds, initializers, regularizers
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.layers.layer_config import weight_options_config
from dlframe.keras.utils import generic_utils
from dlframe.ops import array as _array
from dlframe.ops import creation as _creation
from dlframe.ops import linalg as _linalg
from dlframe.ops import math as _math
from dlframe.ops import nn as _nn


def _check_units(units):
    if isinstance(units, float) and units.is_integer():
        units = int(units)
    if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
        raise ValueError(f"Received an invalid value for argument `units`, expected a "
                         f"positive integer, got {units!r}.")
    return units


def _check_rate(value, name):
    # any real number, as Keras' min/max clipping takes (True, np.float32(0.2))
    if not isinstance(value, numbers.Real):
        raise TypeError(f"Received an invalid value for argument `{name}`, expected a "
                        f"float, got {value!r}.")
    return float(value)


def _first(states):
    return states[0] if isinstance(states, (list, tuple)) else states


def _dropout_mask(like, rate, seed):
    """A keep mask scaled by ``1 / (1 - rate)``; a (clipped) rate of 1 drops all."""
    if rate >= 1:
        return _math.zeros_like(like)
    return _nn.dropout(_math.ones_like(like), rate, seed=seed)


class DropoutRNNCell:
    """Mixin: one dropout mask per sample, reused at every timestep of a call.

    The RNN layer calls ``reset_dropout_mask``/``reset_recurrent_dropout_mask`` before
    each sequence, so the masks stay constant over time (Keras semantics).
    """

    def _init_dropout(self):
        self._dropout_mask = None
        self._recurrent_dropout_mask = None

    # Keras 3's LSTMCell/GRUCell apply dropout only for 0 < rate < 1 (a clipped
    # rate of 1 leaves them undropped); SimpleRNNCell drops everything
    _drops_at_full_rate = True

    def _rate_applies(self, rate):
        return rate > 0 and (rate < 1 or self._drops_at_full_rate)

    def get_dropout_mask(self, step_input):
        if self._dropout_mask is None and self._rate_applies(self.dropout):
            self._dropout_mask = _dropout_mask(step_input, self.dropout, self.seed)
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, step_input):
        if self._recurrent_dropout_mask is None and \
                self._rate_applies(self.recurrent_dropout):
            self._recurrent_dropout_mask = _dropout_mask(
                step_input, self.recurrent_dropout, self.seed)
        return self._recurrent_dropout_mask

    def get_dropout_mask_for_cell(self, inputs, training, count=1):
        """Keras 2 name: the input mask (or None outside training)."""
        return self.get_dropout_mask(inputs) if training else None

    def get_recurrent_dropout_mask_for_cell(self, inputs, training, count=1):
        return self.get_recurrent_dropout_mask(inputs) if training else None

    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None


class _GatedCell(DropoutRNNCell, Layer):
    """Weights and config shared by the three built-in cells."""

    _gates = 1
    _casts_to_float = True   # integer inputs give compute-dtype outputs
    # Keras 3 makes the cell's dropout seed state (one default seed) before the
    # initializers in SimpleRNNCell, after them in LSTMCell/GRUCell
    _seed_state_first = False

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.units = _check_units(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        if seed is None and self._seed_state_first:
            default_seeds.draw()
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        if seed is None and not self._seed_state_first:
            default_seeds.draw()
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        # Keras clips the rates into [0, 1] (dropout=1.5 drops everything)
        self.dropout = min(1.0, max(0.0, _check_rate(dropout, "dropout")))
        self.recurrent_dropout = min(1.0, max(0.0, _check_rate(recurrent_dropout,
                                                               "recurrent_dropout")))
        self.seed = seed
        self._init_dropout()

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self):
        return self.units

    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if hasattr(input_dim, "value"):
            input_dim = input_dim.value
        if input_dim is None:
            raise ValueError(f"The last dimension of the inputs to {type(self).__name__} "
                             f"should be defined. Found None (input shape "
                             f"{input_shape}).")
        n = self._gates * self.units
        self.kernel = self.add_weight("kernel", shape=(input_dim, n),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            "recurrent_kernel", shape=(self.units, n),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", shape=self._bias_shape(),
                                        initializer=self._bias_initializer(),
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    def _float_inputs(self, inputs):
        """Integer step inputs in the compute dtype (Keras 3 promotes them in the
        matmul: an LSTM over int features gives float outputs)."""
        if inputs.dtype.is_floating:
            return inputs
        return _math.cast(inputs, self.compute_dtype)

    def _w(self, var, like):
        """The weight in the compute dtype (mixed precision casts float32 weights)."""
        return var if var.dtype == like.dtype else _math.cast(var, like.dtype)

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        if batch_size is None:
            batch_size = inputs.shape[0]
        dtype = dtype or self.compute_dtype
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [
            self.state_size]
        out = [_creation.zeros([batch_size, s], dtype=dtype) for s in sizes]
        return out if isinstance(self.state_size, (list, tuple)) else out[0]

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units, "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_options_config(self, "kernel", "recurrent", "bias"),
            "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed})
        return config


class SimpleRNNCell(_GatedCell):
    """One step of ``h = activation(x @ kernel + h_prev @ recurrent_kernel + bias)``.

    Args:
      units: positive int, dimensionality of the output and state.
      activation: activation (default tanh).
      use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
      kernel/recurrent/bias_regularizer and _constraint: as in Dense.
      dropout: fraction of the inputs dropped (one mask per sample, all steps).
      recurrent_dropout: fraction of the recurrent state dropped.
      seed: random seed of the dropout masks.
    """

    _seed_state_first = True

    def call(self, inputs, states, training=None):
        prev = _first(states)
        inputs = self._float_inputs(inputs)
        dp = self.get_dropout_mask(inputs) if training else None
        rdp = self.get_recurrent_dropout_mask(prev) if training else None
        if dp is not None:
            inputs = inputs * dp
        h = _linalg.matmul(inputs, self._w(self.kernel, inputs))
        if self.bias is not None:
            h = h + self._w(self.bias, h)
        if rdp is not None:
            prev = prev * rdp
        out = h + _linalg.matmul(prev, self._w(self.recurrent_kernel, prev))
        if self.activation is not None:
            out = self.activation(out)
        return out, ([out] if isinstance(states, (list, tuple)) else out)


class LSTMCell(_GatedCell):
    """One LSTM step with Keras gates [i, f, c, o] (kernel ``(in, 4u)``).

    Args:
      units, activation, use_bias, initializers, regularizers, constraints,
      dropout, recurrent_dropout, seed: as in SimpleRNNCell.
      recurrent_activation: gate activation (default sigmoid).
      unit_forget_bias: add 1 to the forget-gate bias at initialization.
    """

    _drops_at_full_rate = False
    _gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        # explicit arguments keep TF's positional order (units ... seed)
        self.implementation = kwargs.pop("implementation", 2)
        super().__init__(units, activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, kernel_regularizer,
                         recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout,
                         recurrent_dropout, seed, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self):
        return [self.units, self.units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, units = self.bias_initializer, self.units

        def forget_bias_one(shape, dtype=None, **kwargs):
            return _array.concat([init((units,), dtype=dtype),
                                  initializers.get("ones")((units,), dtype=dtype),
                                  init((2 * units,), dtype=dtype)], axis=0)
        return forget_bias_one

    def call(self, inputs, states, training=None):
        h_prev, c_prev = states[0], states[1]
        inputs = self._float_inputs(inputs)
        dp = self.get_dropout_mask(inputs) if training else None
        rdp = self.get_recurrent_dropout_mask(h_prev) if training else None
        if dp is not None:
            inputs = inputs * dp
        if rdp is not None:
            h_prev = h_prev * rdp
        z = _linalg.matmul(inputs, self._w(self.kernel, inputs))
        z = z + _linalg.matmul(h_prev, self._w(self.recurrent_kernel, h_prev))
        if self.bias is not None:
            z = z + self._w(self.bias, z)
        u = self.units
        i = self.recurrent_activation(z[:, :u])
        f = self.recurrent_activation(z[:, u:2 * u])
        c = f * c_prev + i * self.activation(z[:, 2 * u:3 * u])
        o = self.recurrent_activation(z[:, 3 * u:])
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class GRUCell(_GatedCell):
    """One GRU step with Keras gates [z, r, h] (kernel ``(in, 3u)``).

    Args:
      units, activation, use_bias, initializers, regularizers, constraints,
      dropout, recurrent_dropout, seed: as in SimpleRNNCell.
      recurrent_activation: gate activation (default sigmoid).
      reset_after: apply the reset gate after the recurrent matmul (cuDNN
        compatible; bias ``(2, 3u)``) or before it (bias ``(3u,)``).
    """

    _drops_at_full_rate = False

    _gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 reset_after=True, seed=None, **kwargs):
        # explicit arguments keep TF's positional order (units ... reset_after, seed)
        self.implementation = kwargs.pop("implementation", 2)
        super().__init__(units, activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, kernel_regularizer,
                         recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout,
                         recurrent_dropout, seed, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, inputs, states, training=None):
        h_prev = _first(states)
        inputs = self._float_inputs(inputs)
        dp = self.get_dropout_mask(inputs) if training else None
        rdp = self.get_recurrent_dropout_mask(h_prev) if training else None
        if dp is not None:
            inputs = inputs * dp
        h_rec = h_prev * rdp if rdp is not None else h_prev
        u = self.units
        xz = _linalg.matmul(inputs, self._w(self.kernel, inputs))
        rk = self._w(self.recurrent_kernel, h_prev)
        bias = None if self.bias is None else self._w(self.bias, xz)
        if bias is not None:
            xz = xz + (bias[0] if self.reset_after else bias)
        if self.reset_after:
            rh = _linalg.matmul(h_rec, rk)
            if bias is not None:
                rh = rh + bias[1]
            z = self.recurrent_activation(xz[:, :u] + rh[:, :u])
            r = self.recurrent_activation(xz[:, u:2 * u] + rh[:, u:2 * u])
            hh = self.activation(xz[:, 2 * u:] + r * rh[:, 2 * u:])
        else:
            rh = _linalg.matmul(h_rec, rk[:, :2 * u])
            z = self.recurrent_activation(xz[:, :u] + rh[:, :u])
            r = self.recurrent_activation(xz[:, u:2 * u] + rh[:, u:])
            hh = self.activation(xz[:, 2 * u:] + _linalg.matmul(r * h_rec, rk[:, 2 * u:]))
        h = z * h_prev + (1 - z) * hh
        return h, ([h] if isinstance(states, (list, tuple)) else h)

    def get_config(self):
        config = super().get_config()
        config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["reset_after"] = self.reset_after
        return config


class StackedRNNCells(Layer):
    """Runs a list of cells as one: each cell's output feeds the next.

    Args:
      cells: list of cells (objects with ``call(inputs, states)`` and ``state_size``).
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
                raise ValueError("All cells must have a `call` method and a `state_size` "
                                 f"attribute. Received cells={cells!r}")
        self.cells = list(cells)

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        last = self.cells[-1]
        if getattr(last, "output_size", None) is not None:
            return last.output_size
        size = last.state_size
        return size[0] if isinstance(size, (list, tuple)) else size

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        out = []
        for cell in self.cells:
            if hasattr(cell, "get_initial_state"):
                out.append(cell_initial_state(cell, batch_size, dtype))
            else:
                sizes = cell.state_size if isinstance(cell.state_size, (list, tuple)) \
                    else [cell.state_size]
                states = [_creation.zeros([batch_size, s], dtype=dtype) for s in sizes]
                out.append(states if isinstance(cell.state_size, (list, tuple))
                           else states[0])
        return out

    def call(self, inputs, states, training=None, **kwargs):
        new_states = []
        for cell, state in zip(self.cells, states):
            nested = isinstance(state, (list, tuple))
            kw = {"training": training} if _takes_training(cell) else {}
            inputs, new = cell(inputs, list(state) if nested else [state], **kw)
            if not isinstance(new, (list, tuple)):
                new = [new]
            new_states.append(list(new) if nested else new[0])
        return inputs, new_states

    def build(self, input_shape):
        shape = list(input_shape)
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                with cell._own_scope():
                    cell.build(tuple(shape))
                cell.built = True
            size = getattr(cell, "output_size", None)
            if size is None:
                size = _first(cell.state_size)
            shape = shape[:-1] + [size]
        self.built = True

    def reset_dropout_mask(self):
        for cell in self.cells:
            if hasattr(cell, "reset_dropout_mask"):
                cell.reset_dropout_mask()

    def reset_recurrent_dropout_mask(self):
        for cell in self.cells:
            if hasattr(cell, "reset_recurrent_dropout_mask"):
                cell.reset_recurrent_dropout_mask()

    def get_config(self):
        config = super().get_config()
        config["cells"] = [generic_utils.serialize_keras_object(c) for c in self.cells]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [deserialize_cell(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)


def cell_initial_state(cell, batch_size, dtype):
    """``cell.get_initial_state(batch_size=...)``, with ``dtype`` where the cell takes
    it: Keras 3 cells define ``get_initial_state(self, batch_size=None)``."""
    try:
        params = inspect.signature(cell.get_initial_state).parameters.values()
    except (TypeError, ValueError):   # a builtin or C callable: pass everything
        params = None
    if params is None or any(p.name == "dtype" or p.kind is p.VAR_KEYWORD
                             for p in params):
        return cell.get_initial_state(batch_size=batch_size, dtype=dtype)
    return cell.get_initial_state(batch_size=batch_size)


def _takes_training(cell):
    params = getattr(cell, "_call_params", None)
    if params is not None:
        return cell._expects_training
    try:
        return "training" in inspect.signature(cell.call).parameters
    except (TypeError, ValueError):
        return False


CELLS = {"SimpleRNNCell": SimpleRNNCell, "LSTMCell": LSTMCell, "GRUCell": GRUCell,
         "StackedRNNCells": StackedRNNCells}


def deserialize_cell(config, custom_objects=None):
    """A cell from its ``serialize_keras_object`` dict (built-in or custom)."""
    if not isinstance(config, dict):
        return config
    objs = dict(CELLS)
    from dlframe.keras.layers.rnn_cell_wrappers import WRAPPERS  # they import us
    objs.update(WRAPPERS)
    objs.update(custom_objects or {})
    return generic_utils.deserialize_keras_object(config, objs, custom_objects,
                                                  "cell")
