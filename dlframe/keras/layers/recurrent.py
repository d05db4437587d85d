"""keras.layers.RNN (a Python loop of any cell over time) and SimpleRNN, LSTM, GRU.

``RNN(cell)`` calls ``cell(step_input, states)`` for each timestep. The built-in
layers compute the same equations with a fused sequence kernel when they can
(``rnn_kernels.choose``: cuDNN on GPUs, else the portable fused kernel) and fall back
to the cell loop otherwise; ``layer.last_kernel`` says which one ran.
"""

from dlframe.core.tensor import Tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.core.variable import Variable
from dlframe.errors import InvalidArgumentError, ShapeMismatchError
from dlframe.keras.engine.base_layer import Layer, in_dry_run
from dlframe.keras.engine.base_layer_utils import bind_initial_state
from dlframe.keras.engine.input_spec import InputSpec
from dlframe.keras.layers import ragged_inputs, rnn_kernels
from dlframe.keras.layers.rnn_config import (  # noqa: F401 - re-exported
    from_inlined_config,
    inline_cell_config,
)
from dlframe.keras.layers.recurrent_cells import (
    GRUCell,
    LSTMCell,
    SimpleRNNCell,
    StackedRNNCells,
    cell_initial_state,
    deserialize_cell,
)
from dlframe.keras.utils import generic_utils, tree
from dlframe.ops import array as _array
from dlframe.ops import creation as _creation
from dlframe.ops import math as _math

_RNN_ARGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
             "zero_output_for_mask")


def _flatten(structure):
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in _flatten(item)]
    return [structure]


def _pack(structure, flat):
    """``flat`` (a list) arranged like ``structure`` (ints in nested lists)."""
    it = iter(flat)

    def build(s):
        if isinstance(s, (list, tuple)):
            return [build(item) for item in s]
        return next(it)
    return build(structure)


def _size(s):
    return s.as_list()[-1] if hasattr(s, "as_list") else (s[-1] if isinstance(
        s, (list, tuple)) else s)


def _state_shape(s):
    """One state's shape without the batch axis: an int or a TensorShape."""
    return list(s.as_list()) if hasattr(s, "as_list") else [int(s)]


def _is_nested_input(inputs):
    """Keras 2 reads a tuple of sequences (each ``[batch, time, ...]``) as one nested
    input of the cell; a list (or a tuple holding ``[batch, units]`` states) is
    ``[inputs, *initial_states]``."""
    return (isinstance(inputs, tuple) and len(inputs) > 1
            and all(len(getattr(t, "shape", ())) >= 3 for t in tree.flatten(inputs)))


def _time_step_shape(shape):
    dims = list(shape.as_list() if hasattr(shape, "as_list") else shape)
    return TensorShape([dims[0]] + dims[2:])


class RNN(Layer):
    """Runs a cell over the time axis of ``[batch, time, ...]`` inputs.

    Args:
      cell: an RNN cell (``call(inputs, states)`` returning ``(output, new_states)``,
        and ``state_size``), or a list of cells (stacked).
      return_sequences: return the whole output sequence (else the last output).
      return_state: also return the final states.
      go_backwards: process the sequence in reverse (the returned sequence is in
        processing order, i.e. reversed).
      stateful: keep the final states of each batch as the initial states of the
        next (needs a fixed batch size; ``reset_states()`` zeroes them).
      unroll: accepted for compatibility (the loop is always a Python loop).
      time_major: inputs and sequence outputs are ``[time, batch, ...]``.
      zero_output_for_mask: masked steps output zeros instead of the previous output.

    Call arguments:
      inputs: a tensor, a list ``[inputs, *initial_states]``, or a tuple of
        sequences the cell takes as one nested input (Keras 2's nested cells).
      mask: optional ``[batch, time]`` bool (True = step is valid).
      training: whether dropout applies.
      initial_state: list of initial state tensors (default zeros).
    """

    _kernel_kind = None
    _nested_input = False
    # the stateful states are not weights (as in Keras)
    _NOT_TRACKED = Layer._NOT_TRACKED | {"states"}

    def __init__(self, cell, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, time_major=False,
                 zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not hasattr(cell, "call"):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: "
                             f"cell={cell!r}")
        if not hasattr(cell, "state_size"):
            raise ValueError("The RNN cell should have a `state_size` attribute (single "
                             f"integer or list of integers). Received: cell={cell!r}")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self._stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.time_major = bool(time_major)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self.states = None
        self.last_kernel = None

    @property
    def stateful(self):
        return self._stateful

    @property
    def state_size(self):
        """The cell's ``state_size``, wrapped in a list when it is a single size."""
        size = self.cell.state_size
        return size if isinstance(size, (list, tuple)) else [size]

    # -- state bookkeeping ------------------------------------------------------
    def _state_sizes(self):
        return [_size(s) for s in _flatten(self.cell.state_size)]

    def __call__(self, inputs, *args, **kwargs):
        args, kwargs = bind_initial_state(args, kwargs)
        if not self.built and _is_nested_input(inputs):
            self._nested_input = True
        spec = self._input_spec
        if spec is not None and isinstance(inputs, (list, tuple)):
            # Keras 2's ``[sequence, *initial_states]``: call() checks the sequence
            self._input_spec = None
            try:
                return super().__call__(inputs, *args, **kwargs)
            finally:
                self._input_spec = spec
        return super().__call__(inputs, *args, **kwargs)

    def _output_size(self):
        size = getattr(self.cell, "output_size", None)
        return _size(size) if size is not None else self._state_sizes()[0]

    def get_initial_state(self, batch_size, dtype=None):
        if getattr(batch_size, "ndim", 0):   # Keras 2 spelling: the inputs themselves
            batch_size = batch_size.shape[1 if self.time_major else 0]
        dtype = dtype or self.compute_dtype
        if hasattr(self.cell, "get_initial_state"):
            return _flatten(cell_initial_state(self.cell, batch_size, dtype))
        return [_creation.zeros([batch_size] + _state_shape(s), dtype=dtype)
                for s in _flatten(self.cell.state_size)]

    def reset_states(self, states=None):
        """Zeroes the states of a stateful RNN, or assigns ``states`` (a list)."""
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        if self.states is None:
            return
        if states is None:
            for v in self.states:
                v.assign(_math.zeros_like(v))
            return
        states = _flatten(states)
        if len(states) != len(self.states):
            raise ValueError(f"Layer {self.name} expects {len(self.states)} states, but "
                             f"it received {len(states)} state values.")
        for v, s in zip(self.states, states):
            if tuple(getattr(s, "shape", ())) != tuple(v.shape):
                raise ValueError(f"State {v.name} is incompatible with layer {self.name}:"
                                 f" expected shape={tuple(v.shape)} but found "
                                 f"shape={tuple(getattr(s, 'shape', ()))}")
            v.assign(_math.cast(s, v.dtype) if isinstance(s, Tensor) else s)

    reset_state = reset_states

    # -- lifecycle -----------------------------------------------------------------
    def build(self, input_shape):
        if self._nested_input:
            self._build_nested(input_shape)
            return
        if isinstance(input_shape, list) and input_shape and \
                not isinstance(input_shape[0], int) and input_shape[0] is not None \
                and hasattr(input_shape[0], "__len__"):
            input_shape = input_shape[0]
        shape = list(input_shape.as_list() if hasattr(input_shape, "as_list")
                     else input_shape)
        if self.time_major:
            shape[0], shape[1] = shape[1], shape[0]
        step_shape = tuple([shape[0]] + shape[2:])
        if isinstance(self.cell, Layer) and not self.cell.built:
            with self.cell._own_scope():
                self.cell.build(step_shape)
            self.cell.built = True
        if self.stateful:
            batch = shape[0]
            if batch is None:
                raise ValueError(
                    "When using `stateful=True` in a RNN, the batch size must be static. "
                    f"Found dynamic batch size: sequence.shape={tuple(shape)}")
            self.states = [Variable(z, trainable=False, name=f"state_{i}")
                           for i, z in enumerate(self.get_initial_state(batch))]
        self.built = True

    def _build_nested(self, input_shape):
        shapes = [TensorShape(s) for s in input_shape]
        if self.time_major:
            shapes = [TensorShape([s[1], s[0]] + s.as_list()[2:]) for s in shapes]
        if isinstance(self.cell, Layer) and not self.cell.built:
            with self.cell._own_scope():
                self.cell.build(tuple(_time_step_shape(s) for s in shapes))
            self.cell.built = True
        if self.stateful:
            raise ValueError("`stateful=True` is not supported for an RNN over nested "
                             f"inputs; received input shapes {shapes}")
        self.built = True

    def _standardize(self, inputs, mask, initial_state):
        if self._nested_input and _is_nested_input(inputs):
            if isinstance(mask, (list, tuple)):
                mask = mask[0]
            if initial_state is not None and not isinstance(initial_state,
                                                            (list, tuple)):
                initial_state = [initial_state]
            return tuple(inputs), mask, initial_state
        if isinstance(inputs, (list, tuple)):
            if initial_state is None and len(inputs) > 1:
                initial_state = list(inputs[1:])
            inputs = inputs[0]
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if initial_state is not None and not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        rank = len(inputs.shape)
        # a custom cell may step over [batch, time, ...]; the built-in ones need rank 3
        if rank < 3 or (rank != 3 and isinstance(self, _FusedRNN)):
            raise ValueError(f'Input 0 of layer "{self.name}" is incompatible with the '
                             f"layer: expected ndim=3, found ndim={len(inputs.shape)}. "
                             f"Full shape received: {tuple(inputs.shape.as_list())}")
        if isinstance(self, _FusedRNN) and self.cell.built:
            _check_features(self, inputs.shape.as_list())
        return inputs, mask, initial_state

    def _initial_states(self, x, initial_state):
        x = tree.flatten(x)[0]
        batch = x.shape[0]
        if not x.dtype.is_floating:   # integer features: float states (Keras 3)
            x = _math.cast(x, self.compute_dtype)
        if initial_state is not None:
            states = _flatten(list(initial_state))
            if len(states) != len(self._state_sizes()):
                raise ValueError(
                    f"Layer {self.name} expects {len(self._state_sizes())} state(s) "
                    f"matching `cell.state_size`={self.cell.state_size}, but it received "
                    f"{len(states)} initial state(s).")
            return [_math.cast(s, x.dtype) if s.dtype != x.dtype else s for s in states]
        if self.stateful:
            if self.states[0].shape[0] != batch:
                # TF fails when the graph runs: InvalidArgumentError (+ ValueError)
                raise ShapeMismatchError(
                    f"Stateful layer {self.name} was built for batch size "
                    f"{self.states[0].shape[0]}, but received a batch of size {batch}.")
            return [_math.cast(v, x.dtype) if v.dtype != x.dtype else _array.identity(v)
                    for v in self.states]
        return self.get_initial_state(batch, dtype=x.dtype)

    def call(self, inputs, mask=None, training=None, initial_state=None):
        x, mask, initial_state = self._standardize(inputs, mask, initial_state)
        row_lengths = None
        if ragged_inputs.is_ragged(x) and not self.time_major:   # padded + mask
            x, mask, row_lengths = ragged_inputs.dense_with_mask(x, mask, self.name)
        if self.time_major:
            x = tree.map_structure(_swap_batch_time, x)
            if mask is not None and len(mask.shape) == 2:
                mask = _array.transpose(mask, [1, 0])
        if mask is not None and mask.dtype.name != "bool":
            mask = _math.cast(mask, "bool")
        states = self._initial_states(x, initial_state)
        for reset in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
            if hasattr(self.cell, reset):
                getattr(self.cell, reset)()
        last, seq, states = self._run(x, states, mask, training)
        if self.zero_output_for_mask and mask is not None and seq is not None:
            m = _array.reverse(mask, [1]) if self.go_backwards else mask
            seq = tree.map_structure(lambda t: _math.where(
                _expand_to(m, t), t, _math.zeros_like(t)), seq)
        if self.stateful and not in_dry_run():
            for v, s in zip(self.states, states):
                v.assign(_math.cast(s, v.dtype) if s.dtype != v.dtype else s)
        output = last
        if self.return_sequences:
            output = seq
            if self.time_major:
                output = tree.map_structure(_swap_batch_time, seq)
            if row_lengths is not None:
                output = ragged_inputs.ragged_sequence(output, row_lengths,
                                                       self.go_backwards)
        if self.return_state:
            return [output] + self._nest_states(states)
        return output

    def _nest_states(self, states):
        """Final states as Keras returns them: one entry per ``state_size`` item."""
        structure = self.cell.state_size
        if isinstance(structure, (list, tuple)):
            return _pack(list(structure), list(states))
        return list(states)

    def _run(self, x, states, mask, training):
        """The cell loop. Returns (last output, sequence in processing order or None,
        final states as a flat list)."""
        self.last_kernel = "loop"
        cell = self.cell
        steps = tree.flatten(x)[0].shape[1]
        if isinstance(x, tuple):   # nested input: the cell gets a tuple per step
            xs = list(zip(*[_array.unstack(t, num=steps, axis=1) for t in x]))
        else:
            xs = _array.unstack(x, num=steps, axis=1)
        masks = _array.unstack(mask, num=steps, axis=1) if mask is not None else None
        structure = cell.state_size
        nested = isinstance(structure, (list, tuple))
        kw = {}
        if training is not None and _takes_training(cell):
            kw["training"] = training
        outputs, prev = [], None
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        for s in order:
            packed = _pack(structure, states) if nested else [states[0]]
            out, new = cell(xs[s], packed, **kw)
            new = _flatten(new if isinstance(new, (list, tuple)) else [new])
            if isinstance(out, list):
                out = tuple(out)
            if masks is not None:
                m = masks[s]
                new = [_math.where(_expand_to(m, n), n, o) for n, o in zip(new, states)]
                if prev is None:
                    prev = tree.map_structure(_math.zeros_like, out)
                out = tree.map_structure(
                    lambda o, p, m=m: _math.where(_expand_to(m, o), o, p), out, prev)
            states, prev = new, out
            if self.return_sequences:
                outputs.append(out)
        seq = None
        if self.return_sequences:
            seq = tree.map_structure(lambda *ts: _array.stack(list(ts), axis=1),
                                     *outputs)
        return prev, seq, states

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        output_size = getattr(self.cell, "output_size", None)
        if self._nested_input and isinstance(output_size, (list, tuple)):
            out = tuple(out for _ in output_size)
        if self.return_state:
            structure = self.cell.state_size
            n = len(structure) if isinstance(structure, (list, tuple)) else 1
            return [out] + [None] * n
        return out

    def get_config(self):
        config = super().get_config()
        for key in _RNN_ARGS:
            config[key] = getattr(self, key)
        if self.time_major:
            config["time_major"] = True
        config["cell"] = generic_utils.serialize_keras_object(self.cell)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cell = deserialize_cell(config.pop("cell"), custom_objects)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = config["dtype"].get("config", {}).get("name")
        return cls(cell, **config)


def _swap_batch_time(t):
    return _array.transpose(t, [1, 0] + list(range(2, len(t.shape))))


def _expand_to(mask, t):
    """A step mask with trailing axes added until it broadcasts against ``t``."""
    for _ in range(len(t.shape) - len(mask.shape)):
        mask = _array.expand_dims(mask, -1)
    return mask


def _takes_training(cell):
    from dlframe.keras.layers.recurrent_cells import _takes_training as takes
    return takes(cell)


# ---------------------------------------------------------------- built-in layers
def _check_features(layer, shape):
    """TF's error (InvalidArgumentError from the cell's matmul) for a sequence whose
    feature size differs from the one the layer was built for."""
    kernel = layer.cell.kernel.shape.as_list()
    if shape[-1] is not None and shape[-1] != kernel[0]:
        raise InvalidArgumentError(
            f"Exception encountered when calling {type(layer.cell).__name__}.call() of "
            f'layer "{layer.name}" (built for {kernel[0]} input features, received '
            f"{shape[-1]}): Matrix size-incompatible: In[0]: [{shape[0]},{shape[-1]}], "
            f"In[1]: {kernel}")


class _FusedRNN(RNN):
    """An RNN over a built-in cell: fused kernels when possible, the loop otherwise."""

    _cell_class = None
    _spec_in_list = False
    # Keras's positional order after ``units`` (shared by Keras 2 and 3)
    _positional = ("activation", "recurrent_activation", "use_bias",
                   "kernel_initializer", "recurrent_initializer", "bias_initializer",
                   "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
                   "bias_regularizer", "activity_regularizer", "kernel_constraint",
                   "recurrent_constraint", "bias_constraint", "dropout",
                   "recurrent_dropout")

    def __init__(self, units, *args, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, time_major=False,
                 zero_output_for_mask=False, use_cudnn="auto", activity_regularizer=None,
                 **kwargs):
        if len(args) > len(self._positional):
            raise TypeError(f"{type(self).__name__}() takes at most "
                            f"{len(self._positional) + 1} positional arguments "
                            f"(units, {', '.join(self._positional)}); received "
                            f"{len(args) + 1}")
        for key, value in zip(self._positional, args):
            if key in kwargs or (key == "activity_regularizer"
                                 and activity_regularizer is not None):
                raise TypeError(f"{type(self).__name__}() got multiple values for "
                                f"argument {key!r}")
            kwargs[key] = value
        activity_regularizer = kwargs.pop("activity_regularizer", activity_regularizer)
        layer_kw = {k: kwargs.pop(k) for k in list(kwargs)
                    if k in ("name", "trainable", "dtype", "input_shape", "input_dim",
                             "batch_input_shape", "batch_size", "weights", "autocast",
                             "dynamic", "input_dtype")}
        implementation = kwargs.pop("implementation", None)
        if implementation is not None and self._cell_class is not SimpleRNNCell:
            kwargs["implementation"] = implementation   # LSTMCell/GRUCell keep it
        kwargs.pop("time_major", None)
        if use_cudnn not in ("auto", True, False):
            raise ValueError(f"Invalid value received for argument `use_cudnn`. Expected "
                             f"one of {{'auto', True, False}}. Received: "
                             f"use_cudnn={use_cudnn!r}")
        cell = self._cell_class(units, name=self._cell_name,
                                dtype=layer_kw.get("dtype"),
                                trainable=layer_kw.get("trainable", True), **kwargs)
        super().__init__(cell, return_sequences=return_sequences,
                         return_state=return_state, go_backwards=go_backwards,
                         stateful=stateful, unroll=unroll, time_major=time_major,
                         zero_output_for_mask=zero_output_for_mask,
                         activity_regularizer=activity_regularizer, **layer_kw)
        self.use_cudnn = use_cudnn
        # Keras 3 files SimpleRNN's spec in a list, LSTM's and GRU's bare
        spec = InputSpec(ndim=3)
        self.input_spec = [spec] if self._spec_in_list else spec

    def __getattr__(self, name):
        # units, activation, dropout, ... live on the cell (Keras exposes them here)
        if name.startswith("_") or name in ("cell", "states", "implementation"):
            raise AttributeError(name)
        cell = self.__dict__.get("cell")
        if cell is not None and name in cell.__dict__:
            return cell.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def kernel(self):
        return self.cell.kernel

    @property
    def recurrent_kernel(self):
        return self.cell.recurrent_kernel

    @property
    def bias(self):
        return self.cell.bias

    _casts_to_float = True   # integer features give compute-dtype outputs (Keras 3)

    def call(self, inputs, mask=None, training=None, initial_state=None):
        if isinstance(inputs, Tensor) and not inputs.dtype.is_floating:
            inputs = _math.cast(inputs, self.compute_dtype)
        return super().call(inputs, mask=mask, training=training,
                            initial_state=initial_state)

    def _run(self, x, states, mask, training):
        kind, _ = rnn_kernels.choose(self, x, mask)
        if kind == "loop":
            return super()._run(x, states, mask, training)
        self.last_kernel = kind
        ys, states = rnn_kernels.run(self, kind, x, states, mask, training)
        steps = x.shape[1]
        last = ys[:, 0] if self.go_backwards else ys[:, steps - 1]
        seq = None
        if self.return_sequences:
            seq = _array.reverse(ys, [1]) if self.go_backwards else ys
        return last, seq, states

    def get_config(self):
        config = Layer.get_config(self)
        for key in _RNN_ARGS:
            config[key] = getattr(self, key)
        if self.time_major:
            config["time_major"] = True
        return inline_cell_config(self, config)

    from_config = classmethod(from_inlined_config)


class SimpleRNN(_FusedRNN):
    """Fully-connected RNN whose output is fed back as input (see SimpleRNNCell).

    Args:
      units and the SimpleRNNCell arguments; the RNN arguments (return_sequences,
      return_state, go_backwards, stateful, unroll, time_major); use_cudnn.
    """

    _cell_class = SimpleRNNCell
    _spec_in_list = True
    _positional = tuple(k for k in _FusedRNN._positional
                        if k not in ("recurrent_activation", "unit_forget_bias"))
    _cell_name = "simple_rnn_cell"
    _kernel_kind = "simple_rnn"


class LSTM(_FusedRNN):
    """Long Short-Term Memory layer (Hochreiter 1997), Keras gates [i, f, c, o].

    Uses cuDNN on GPUs when activation='tanh', recurrent_activation='sigmoid',
    recurrent_dropout=0, unroll=False, use_bias=True and any mask is right-padded
    (``use_cudnn='auto'``); the portable fused kernel or the cell loop otherwise.

    Args:
      units and the LSTMCell arguments; the RNN arguments; use_cudnn: 'auto', True
        (raise ValueError when ineligible) or False.
    """

    _cell_class = LSTMCell
    _cell_name = "lstm_cell"
    _kernel_kind = "lstm"


class GRU(_FusedRNN):
    """Gated Recurrent Unit (Cho 2014), Keras gates [z, r, h].

    Uses cuDNN on GPUs under the LSTM conditions plus ``reset_after=True``.

    Args:
      units and the GRUCell arguments (reset_after); the RNN arguments; use_cudnn.
    """

    _cell_class = GRUCell
    _cell_name = "gru_cell"
    _positional = tuple(k for k in _FusedRNN._positional if k != "unit_forget_bias")
    _kernel_kind = "gru"
