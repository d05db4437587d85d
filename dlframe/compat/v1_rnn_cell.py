"""``tf.compat.v1.nn.rnn_cell``: TF1's RNN cells, run eagerly as in TF 2.

A TF1 cell is called as ``cell(inputs, state, scope=None)`` and returns
``(output, new_state)``. It creates its variables on the first call through
``tf.compat.v1.get_variable``, inside the variable scope current at that call plus
the cell's own name, so ``dynamic_rnn(BasicLSTMCell(4), x, dtype=tf.float32)``
makes ``rnn/basic_lstm_cell/kernel`` and ``rnn/basic_lstm_cell/bias``; later calls
reuse them (the wrappers are in ``v1_rnn_wrappers``). TF1 kernels act on ``concat([inputs, h], 1)`` and LSTM gates are
ordered ``i, j, f, o`` with ``forget_bias`` added at run time (Keras cells keep
separate input/recurrent kernels ordered ``i, f, c, o``). Cells are Keras layers, so
a model holding one tracks its variables.
"""

import contextlib as _contextlib
from collections import namedtuple

import dlframe as _tf
from dlframe.compat import v1_variables as _vs
from dlframe.core import nest as _nest
from dlframe.keras import backend as _backend
from dlframe.keras.engine.base_layer import Layer


class LSTMStateTuple(namedtuple("LSTMStateTuple", ("c", "h"))):
    """The ``(c, h)`` state of an LSTM cell: cell state and output."""

    __slots__ = ()

    @property
    def dtype(self):
        c, h = self
        if c.dtype != h.dtype:
            raise TypeError(f"Inconsistent internal state: {c.dtype} vs {h.dtype}")
        return c.dtype


def _size_list(size):
    if isinstance(size, int):
        return [size]
    return [int(d) for d in (size.as_list() if hasattr(size, "as_list") else size)]


def _activation(activation):
    return _tf.math.tanh if activation is None else _tf.keras.activations.get(
        activation)


def _check_units(num_units):
    if isinstance(num_units, bool) or not isinstance(num_units, int) or \
            num_units <= 0:
        raise ValueError(f"num_units must be a positive integer, got "
                         f"num_units={num_units!r}")
    return num_units


class RNNCell(Layer):
    """Base class of TF1 RNN cells.

    Subclasses define ``state_size``, ``output_size``, ``build(input_shape)`` (with
    ``add_variable``) and ``call(inputs, state)``.

    Args:
      trainable: whether the variables are trainable.
      name: the cell's variable-scope name (default: its snake_case class name).
      dtype: the variables' dtype (default: the first inputs' dtype).
      **kwargs: other Keras layer arguments.
    """

    _default_name = "rnn_cell"

    def __init__(self, trainable=True, name=None, dtype=None, **kwargs):
        kwargs.pop("_reuse", None)
        kwargs.setdefault("autocast", False)
        unique = name or _backend.unique_object_name(self._default_name)
        super().__init__(trainable=trainable, name=unique, dtype=dtype, **kwargs)
        self._base_name = name or self._default_name
        self._explicit_dtype = dtype
        self._var_dtype = None
        self._in_scope = False

    @property
    def state_size(self):
        """The size(s) of the state: an int, TensorShape or nested tuple of them."""
        raise NotImplementedError("Abstract method")

    @property
    def output_size(self):
        """The size of the output: an int or TensorShape."""
        raise NotImplementedError("Abstract method")

    def __call__(self, inputs, state, scope=None, **kwargs):
        """Runs the cell on one timestep; the first call creates the variables
        under ``scope`` (a name or VariableScope; default the cell's name)."""
        if isinstance(state, list) and len(state) == 1 and \
                not _nest.is_nested(self.state_size):
            # keras.layers.RNN passes a flat state as a one-element list
            output, new_state = self(inputs, state[0], scope, **kwargs)
            return output, [new_state]
        if self.built:
            return super().__call__(inputs, state, **kwargs)
        with self._scope_of_first_call(
                scope, getattr(_nest.flatten(inputs)[0], "dtype", None)):
            return super().__call__(inputs, state, **kwargs)

    def build_in_scope(self, input_shape, dtype, scope=None):
        """Builds the cell (if not built) as its first call would: under ``scope``
        (default the cell's name) inside the current variable scope."""
        if not self.built:
            with self._scope_of_first_call(scope, dtype):
                self.build(input_shape)
            self.built = True

    @_contextlib.contextmanager
    def _scope_of_first_call(self, scope, input_dtype):
        if self._var_dtype is None:
            self._var_dtype = _tf.as_dtype(self._explicit_dtype or input_dtype or
                                           "float32")
        with _vs.variable_scope(scope or self._base_name):
            self._in_scope = True
            try:
                yield
            finally:
                self._in_scope = False

    def add_variable(self, name, shape, initializer=None, dtype=None):
        """A variable ``<cell scope>/<name>`` made with ``get_variable`` and tracked."""
        dtype = dtype or self._var_dtype or _tf.float32
        if self._in_scope:
            var = _vs.get_variable(name, shape=shape, dtype=dtype,
                                   initializer=initializer)
        else:   # built directly (cell.build(shape)): open the cell's scope here
            with _vs.variable_scope(self._base_name):
                var = _vs.get_variable(name, shape=shape, dtype=dtype,
                                       initializer=initializer)
        self._trainable_weights.append(var)
        return var

    add_weight = add_variable

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """Zeros shaped like ``state_size`` for ``batch_size`` (or ``inputs``'s)."""
        if inputs is not None:
            batch_size = inputs.shape[0]
            dtype = dtype or inputs.dtype
        if batch_size is None or dtype is None:
            raise ValueError(f"get_initial_state needs `inputs` or both `batch_size` "
                             f"and `dtype`; got batch_size={batch_size!r}, "
                             f"dtype={dtype!r}.")
        return self.zero_state(batch_size, dtype)

    def zero_state(self, batch_size, dtype):
        """Zero-filled state tensor(s) ``[batch_size, size]`` for each state size."""
        def zeros(size):
            return _tf.zeros([batch_size] + _size_list(size), dtype=dtype)
        size = self.state_size
        if isinstance(size, (list, tuple)):
            return _nest.map_structure(zeros, size)
        return zeros(size)

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                "dtype": None if self._explicit_dtype is None
                else _tf.as_dtype(self._explicit_dtype).name}


LayerRNNCell = RNNCell


def _input_depth(input_shape, cell):
    depth = list(input_shape)[-1]
    if depth is None:
        raise ValueError(f"Expected inputs.shape[-1] to be known for "
                         f"{type(cell).__name__}, saw shape: {list(input_shape)}")
    return int(depth)


def _linear(inputs, state, kernel, bias):
    """``concat([inputs, state], 1) @ kernel + bias``."""
    out = _tf.linalg.matmul(_tf.concat([inputs, state], 1), kernel)
    return out if bias is None else _tf.nn.bias_add(out, bias)


class BasicRNNCell(RNNCell):
    """``h = activation(concat([x, h_prev]) @ kernel + bias)``.

    Args:
      num_units: the number of units (output and state size).
      activation: the activation (default tanh).
      reuse: accepted (eagerly a cell always reuses its own variables).
      name, dtype, **kwargs: see ``RNNCell``.
    """

    _default_name = "basic_rnn_cell"

    def __init__(self, num_units, activation=None, reuse=None, name=None, dtype=None,
                 **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        self._num_units = _check_units(num_units)
        self._activation = _activation(activation)

    state_size = property(lambda self: self._num_units)
    output_size = property(lambda self: self._num_units)

    def build(self, input_shape):
        depth = _input_depth(input_shape, self)
        self._kernel = self.add_variable("kernel", [depth + self._num_units,
                                                    self._num_units])
        self._bias = self.add_variable("bias", [self._num_units],
                                       initializer=_tf.zeros_initializer())
        self.built = True

    def call(self, inputs, state):
        output = self._activation(_linear(inputs, state, self._kernel, self._bias))
        return output, output

    def get_config(self):
        return {"num_units": self._num_units,
                "activation": _tf.keras.activations.serialize(self._activation),
                **super().get_config()}


def _split_lstm_state(state, state_is_tuple, c_size):
    if state_is_tuple:
        return state[0], state[1]
    return state[:, :c_size], state[:, c_size:]


def _join_lstm_state(c, h, state_is_tuple):
    return LSTMStateTuple(c, h) if state_is_tuple else _tf.concat([c, h], 1)


class BasicLSTMCell(RNNCell):
    """The basic LSTM cell (no peepholes, clipping or projection).

    ``i, j, f, o`` are the four column blocks of
    ``concat([x, h]) @ kernel + bias``; ``c = c_prev * sigmoid(f + forget_bias) +
    sigmoid(i) * activation(j)`` and ``h = activation(c) * sigmoid(o)``.

    Args:
      num_units: the number of units.
      forget_bias: added to the forget gate's pre-activation (default 1.0).
      state_is_tuple: state as ``LSTMStateTuple(c, h)`` (default) or the
        concatenation ``[c, h]`` along axis 1.
      activation: the activation of the cell input and output (default tanh).
      reuse, name, dtype, **kwargs: see ``BasicRNNCell``.
    """

    _default_name = "basic_lstm_cell"

    def __init__(self, num_units, forget_bias=1.0, state_is_tuple=True,
                 activation=None, reuse=None, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        self._num_units = _check_units(num_units)
        self._forget_bias = float(forget_bias)
        self._state_is_tuple = bool(state_is_tuple)
        self._activation = _activation(activation)

    @property
    def state_size(self):
        u = self._num_units
        return LSTMStateTuple(u, u) if self._state_is_tuple else 2 * u

    output_size = property(lambda self: self._num_units)

    def build(self, input_shape):
        depth = _input_depth(input_shape, self)
        self._kernel = self.add_variable("kernel", [depth + self._num_units,
                                                    4 * self._num_units])
        self._bias = self.add_variable("bias", [4 * self._num_units],
                                       initializer=_tf.zeros_initializer())
        self.built = True

    def call(self, inputs, state):
        c, h = _split_lstm_state(state, self._state_is_tuple, self._num_units)
        i, j, f, o = _tf.split(_linear(inputs, h, self._kernel, self._bias), 4, axis=1)
        sigmoid = _tf.math.sigmoid
        new_c = c * sigmoid(f + self._forget_bias) + sigmoid(i) * self._activation(j)
        new_h = self._activation(new_c) * sigmoid(o)
        return new_h, _join_lstm_state(new_c, new_h, self._state_is_tuple)

    def get_config(self):
        return {"num_units": self._num_units, "forget_bias": self._forget_bias,
                "state_is_tuple": self._state_is_tuple,
                "activation": _tf.keras.activations.serialize(self._activation),
                **super().get_config()}


class LSTMCell(RNNCell):
    """The full TF1 LSTM cell: optional peepholes, cell clipping and projection.

    Args:
      num_units: the number of units in the cell.
      use_peepholes: add diagonal peephole weights ``w_f_diag``, ``w_i_diag``,
        ``w_o_diag`` from the cell state to the gates.
      cell_clip: if set, the cell state is clipped to ``[-cell_clip, cell_clip]``.
      initializer: initializer of the kernel, peephole and projection weights
        (default the variable scope's, else glorot-uniform).
      num_proj: if set, the output ``h`` is projected to this size by
        ``projection/kernel``.
      proj_clip: if set (with ``num_proj``), the projection is clipped to
        ``[-proj_clip, proj_clip]``.
      num_unit_shards, num_proj_shards: deprecated variable partitioning; accepted
        and ignored (the values are the same unpartitioned).
      forget_bias: added to the forget gate's pre-activation (default 1.0).
      state_is_tuple: state as ``LSTMStateTuple(c, h)`` (default) or ``[c, h]``
        concatenated along axis 1.
      activation: the activation of the cell input and output (default tanh).
      reuse, name, dtype, **kwargs: see ``BasicRNNCell``.
    """

    _default_name = "lstm_cell"

    def __init__(self, num_units, use_peepholes=False, cell_clip=None,
                 initializer=None, num_proj=None, proj_clip=None,
                 num_unit_shards=None, num_proj_shards=None, forget_bias=1.0,
                 state_is_tuple=True, activation=None, reuse=None, name=None,
                 dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        self._num_units = _check_units(num_units)
        self._use_peepholes = bool(use_peepholes)
        self._cell_clip = cell_clip
        self._initializer = initializer
        self._num_proj = None if num_proj is None else _check_units(num_proj)
        self._proj_clip = proj_clip
        self._forget_bias = float(forget_bias)
        self._state_is_tuple = bool(state_is_tuple)
        self._activation = _activation(activation)

    @property
    def state_size(self):
        u, h = self._num_units, self._num_proj or self._num_units
        return LSTMStateTuple(u, h) if self._state_is_tuple else u + h

    output_size = property(lambda self: self._num_proj or self._num_units)

    def build(self, input_shape):
        depth = _input_depth(input_shape, self)
        u, h_depth = self._num_units, self._num_proj or self._num_units
        init = self._initializer
        self._kernel = self.add_variable("kernel", [depth + h_depth, 4 * u],
                                         initializer=init)
        self._bias = self.add_variable("bias", [4 * u],
                                       initializer=_tf.zeros_initializer())
        if self._use_peepholes:
            self._w_f_diag = self.add_variable("w_f_diag", [u], initializer=init)
            self._w_i_diag = self.add_variable("w_i_diag", [u], initializer=init)
            self._w_o_diag = self.add_variable("w_o_diag", [u], initializer=init)
        if self._num_proj is not None:
            self._proj_kernel = self.add_variable("projection/kernel",
                                                  [u, self._num_proj],
                                                  initializer=init)
        self.built = True

    def call(self, inputs, state):
        c_prev, m_prev = _split_lstm_state(state, self._state_is_tuple,
                                           self._num_units)
        i, j, f, o = _tf.split(_linear(inputs, m_prev, self._kernel, self._bias), 4,
                               axis=1)
        sigmoid, act = _tf.math.sigmoid, self._activation
        if self._use_peepholes:
            f = f + self._w_f_diag * c_prev
            i = i + self._w_i_diag * c_prev
        c = sigmoid(f + self._forget_bias) * c_prev + sigmoid(i) * act(j)
        if self._cell_clip is not None:
            c = _tf.clip_by_value(c, -self._cell_clip, self._cell_clip)
        if self._use_peepholes:
            o = o + self._w_o_diag * c
        m = sigmoid(o) * act(c)
        if self._num_proj is not None:
            m = _tf.linalg.matmul(m, self._proj_kernel)
            if self._proj_clip is not None:
                m = _tf.clip_by_value(m, -self._proj_clip, self._proj_clip)
        return m, _join_lstm_state(c, m, self._state_is_tuple)

    def get_config(self):
        return {"num_units": self._num_units, "use_peepholes": self._use_peepholes,
                "cell_clip": self._cell_clip, "num_proj": self._num_proj,
                "proj_clip": self._proj_clip, "forget_bias": self._forget_bias,
                "state_is_tuple": self._state_is_tuple,
                "activation": _tf.keras.activations.serialize(self._activation),
                **super().get_config()}


class GRUCell(RNNCell):
    """TF1's GRU cell (reset gate applied before the candidate's matmul).

    ``r, u = split(sigmoid(concat([x, h]) @ gates/kernel + gates/bias))``,
    ``c = activation(concat([x, r * h]) @ candidate/kernel + candidate/bias)`` and
    ``h_new = u * h + (1 - u) * c``.

    Args:
      num_units: the number of units.
      activation: the candidate's activation (default tanh).
      reuse: accepted (see ``BasicRNNCell``).
      kernel_initializer: initializer of both kernels (default glorot-uniform).
      bias_initializer: initializer of both biases (default: ones for the gates,
        zeros for the candidate).
      name, dtype, **kwargs: see ``RNNCell``.
    """

    _default_name = "gru_cell"

    def __init__(self, num_units, activation=None, reuse=None,
                 kernel_initializer=None, bias_initializer=None, name=None,
                 dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        self._num_units = _check_units(num_units)
        self._activation = _activation(activation)
        self._kernel_initializer = kernel_initializer
        self._bias_initializer = bias_initializer

    state_size = property(lambda self: self._num_units)
    output_size = property(lambda self: self._num_units)

    def build(self, input_shape):
        depth, u = _input_depth(input_shape, self), self._num_units
        kinit, binit = self._kernel_initializer, self._bias_initializer
        self._gate_kernel = self.add_variable("gates/kernel", [depth + u, 2 * u],
                                              initializer=kinit)
        self._gate_bias = self.add_variable(
            "gates/bias", [2 * u],
            initializer=binit or _tf.constant_initializer(1.0))
        self._candidate_kernel = self.add_variable("candidate/kernel", [depth + u, u],
                                                   initializer=kinit)
        self._candidate_bias = self.add_variable(
            "candidate/bias", [u], initializer=binit or _tf.zeros_initializer())
        self.built = True

    def call(self, inputs, state):
        gates = _tf.math.sigmoid(_linear(inputs, state, self._gate_kernel,
                                         self._gate_bias))
        r, u = _tf.split(gates, 2, axis=1)
        c = self._activation(_linear(inputs, r * state, self._candidate_kernel,
                                     self._candidate_bias))
        new_h = u * state + (1 - u) * c
        return new_h, new_h

    def get_config(self):
        return {"num_units": self._num_units,
                "activation": _tf.keras.activations.serialize(self._activation),
                **super().get_config()}


def _flat_size(size):
    return sum(_size_list(s)[-1] for s in _nest.flatten(size))


class MultiRNNCell(RNNCell):
    """Stacks cells: each cell's output is the next one's input.

    Cell ``k`` runs under the variable scope ``cell_k``.

    Args:
      cells: a non-empty list of RNN cells.
      state_is_tuple: state as a tuple with one entry per cell (default), or all
        states concatenated along axis 1 (the cells' states must then be flat).
    """

    _default_name = "multi_rnn_cell"

    def __init__(self, cells, state_is_tuple=True):
        super().__init__()
        if not isinstance(cells, (list, tuple)):
            raise TypeError(f"cells must be a list or tuple, but saw: {cells!r}.")
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        self._cells = list(cells)
        self._state_is_tuple = bool(state_is_tuple)
        if not self._state_is_tuple and any(
                _nest.is_nested(c.state_size) for c in self._cells):
            raise ValueError(f"Some cells return tuples of states, but the flag "
                             f"state_is_tuple is not set. State sizes are: "
                             f"{[c.state_size for c in self._cells]}")

    @property
    def state_size(self):
        sizes = tuple(c.state_size for c in self._cells)
        return sizes if self._state_is_tuple else sum(_flat_size(s) for s in sizes)

    output_size = property(lambda self: self._cells[-1].output_size)

    def zero_state(self, batch_size, dtype):
        states = tuple(c.zero_state(batch_size, dtype) for c in self._cells)
        return states if self._state_is_tuple else _tf.concat(list(states), 1)

    def build(self, input_shape):
        self.built = True    # each cell builds on its first call, under cell_k

    def call(self, inputs, state):
        output, new_states, start = inputs, [], 0
        for k, cell in enumerate(self._cells):
            with _vs.variable_scope(f"cell_{k}"):
                if self._state_is_tuple:
                    cell_state = state[k]
                else:
                    size = _flat_size(cell.state_size)
                    cell_state = state[:, start:start + size]
                    start += size
                output, new_state = cell(output, cell_state)
                new_states.append(new_state)
        if self._state_is_tuple:
            return output, tuple(new_states)
        return output, _tf.concat(new_states, 1)

    def get_config(self):
        raise NotImplementedError("MultiRNNCell is not serializable (as in TF).")


def assert_like_rnncell(cell_name, cell):
    """Raises TypeError unless ``cell`` has ``output_size``, ``state_size``, a
    zero/initial-state method and is callable."""
    problems = []
    if not hasattr(cell, "output_size"):
        problems.append("'output_size' property is missing")
    if not hasattr(cell, "state_size"):
        problems.append("'state_size' property is missing")
    if not (hasattr(cell, "zero_state") or hasattr(cell, "get_initial_state")):
        problems.append("either 'zero_state' or 'get_initial_state' method is "
                        "required")
    if not callable(cell):
        problems.append("is not callable")
    if problems:
        raise TypeError(f"The argument {cell_name!r} ({cell}) is not an RNNCell: "
                        + ", ".join(problems) + ".")


__all__ = [
    "BasicLSTMCell",
    "BasicRNNCell",
    "GRUCell",
    "LSTMCell",
    "LSTMStateTuple",
    "MultiRNNCell",
    "RNNCell",
]
