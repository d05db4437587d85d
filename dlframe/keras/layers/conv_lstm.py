"""ConvLSTM1D/2D/3D: LSTMs whose input and recurrent transforms are convolutions.

Portable only: ``keras.layers.RNN``'s loop over a ``ConvLSTMCell`` of the layer's
rank. The step convolves channels_last; channels_first inputs and states are
transposed around it (the weights are the same either way, as in Keras).
"""

from dlframe.keras.engine.input_spec import InputSpec
from dlframe.keras.layers.convolutional import normalize_tuple
from dlframe.keras.layers.recurrent import RNN, from_inlined_config, inline_cell_config
from dlframe.keras.layers.recurrent_cells import LSTMCell
from dlframe.ops import array as _array
from dlframe.ops import conv as _conv
from dlframe.ops import creation as _creation


def _out_len(n, k, stride, padding, dilation):
    if n is None:
        return None
    if padding == "same":
        return -(-n // stride)
    return -(-(n - (k - 1) * dilation) // stride)


class ConvLSTMCell(LSTMCell):
    """One ConvLSTM step over ``rank`` spatial dims; kernel ``(*kernel_size, in,
    4 filters)``, gates [i, f, c, o]."""

    rank = 2
    _seed_state_first = True   # Keras 3 takes the dropout seed before the initializers

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, **kwargs):
        super().__init__(filters, **kwargs)
        self.filters = filters
        self.kernel_size = normalize_tuple(kernel_size, self.rank, "kernel_size")
        self.strides = normalize_tuple(strides, self.rank, "strides")
        self.padding = str(padding).lower()
        if self.padding not in ("valid", "same"):
            raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. "
                             f"Received: padding={padding!r}")
        self.data_format = data_format or "channels_last"
        if self.data_format not in ("channels_last", "channels_first"):
            raise ValueError("The `data_format` argument must be one of "
                             "{'channels_first', 'channels_last'}. Received: "
                             f"data_format={data_format}")
        self._first = self.data_format == "channels_first"
        self.dilation_rate = normalize_tuple(dilation_rate, self.rank, "dilation_rate")
        self._spatial = None

    def build(self, input_shape):
        shape = list(input_shape)
        if self._first:
            shape = shape[:1] + shape[2:] + shape[1:2]
        channels = shape[-1]
        n = 4 * self.filters
        self._spatial = [_out_len(shape[1 + i], self.kernel_size[i], self.strides[i],
                                  self.padding, self.dilation_rate[i])
                         for i in range(self.rank)]
        self.kernel = self.add_weight("kernel", shape=self.kernel_size + (channels, n),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            "recurrent_kernel", shape=self.kernel_size + (self.filters, n),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", shape=(n,),
                                        initializer=self._bias_initializer(),
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        shape = [batch_size] + list(self._spatial) + [self.filters]
        if self._first:
            shape = shape[:1] + shape[-1:] + shape[1:-1]
        dtype = dtype or self.compute_dtype
        return [_creation.zeros(shape, dtype=dtype), _creation.zeros(shape, dtype=dtype)]

    def call(self, inputs, states, training=None):
        h_prev, c_prev = states[0], states[1]
        dp = self.get_dropout_mask(inputs) if training else None
        rdp = self.get_recurrent_dropout_mask(h_prev) if training else None
        if dp is not None:
            inputs = inputs * dp
        if rdp is not None:
            h_prev = h_prev * rdp
        if self._first:
            inputs, h_prev, c_prev = (self._channels(t, last=True)
                                      for t in (inputs, h_prev, c_prev))
        z = _conv.convolution(inputs, self._w(self.kernel, inputs),
                              strides=list(self.strides), padding=self.padding.upper(),
                              dilations=list(self.dilation_rate))
        z = z + _conv.convolution(h_prev, self._w(self.recurrent_kernel, h_prev),
                                  strides=[1] * self.rank, padding="SAME")
        if self.bias is not None:
            z = z + self._w(self.bias, z)
        i, f, g, o = _array.split(z, 4, axis=-1)
        i, f, o = (self.recurrent_activation(v) for v in (i, f, o))
        c = f * c_prev + i * self.activation(g)
        h = o * self.activation(c)
        if self._first:
            h, c = self._channels(h, last=False), self._channels(c, last=False)
        return h, [h, c]

    def _channels(self, t, last):
        """``t`` with its channel axis moved to the end (``last``) or to axis 1."""
        axes = list(range(self.rank + 2))
        perm = [0] + axes[2:] + [1] if last else [0, self.rank + 1] + axes[1:-1]
        return _array.transpose(t, perm)

    def get_config(self):
        config = super().get_config()
        config.pop("units", None)
        config.update({"filters": self.filters, "kernel_size": self.kernel_size,
                       "strides": self.strides, "padding": self.padding,
                       "data_format": self.data_format,
                       "dilation_rate": self.dilation_rate})
        return config


def _cell_class(rank):
    cls = type(f"ConvLSTM{rank}DCell", (ConvLSTMCell,), {
        "rank": rank, "__doc__": f"One ConvLSTM{rank}D step (see ``ConvLSTMCell``)."})
    cls.__module__ = __name__
    return cls


ConvLSTM1DCell, ConvLSTM2DCell, ConvLSTM3DCell = (_cell_class(r) for r in (1, 2, 3))
_CELLS = {1: ConvLSTM1DCell, 2: ConvLSTM2DCell, 3: ConvLSTM3DCell}


class ConvLSTM(RNN):
    """Convolutional LSTM over ``[batch, time, *spatial(rank), channels]`` inputs.

    Args:
      filters: number of output channels.
      kernel_size, strides, padding ('valid'/'same'), data_format
        ('channels_last' or 'channels_first'), dilation_rate: as in Conv1D/2D/3D
        (the recurrent convolution is always stride 1, 'same').
      activation, recurrent_activation, use_bias, initializers, unit_forget_bias,
      regularizers, constraints, dropout, recurrent_dropout, seed: as in LSTM.
      return_sequences, return_state, go_backwards, stateful: as in RNN.
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, activation="tanh",
                 recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, **kwargs):
        rnn_kw = {k: kwargs.pop(k) for k in ("unroll", "zero_output_for_mask",
                                             "time_major") if k in kwargs}
        cell = _CELLS[self.rank](
            filters, kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
            recurrent_activation=recurrent_activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, name="conv_lstm_cell",
            dtype=kwargs.get("dtype"))
        super().__init__(cell, return_sequences=return_sequences,
                         return_state=return_state, go_backwards=go_backwards,
                         stateful=stateful, activity_regularizer=activity_regularizer,
                         **rnn_kw, **kwargs)
        self.input_spec = InputSpec(ndim=self.rank + 3)

    def __getattr__(self, name):
        cell = self.__dict__.get("cell")
        if (not name.startswith("_") and name != "implementation" and cell is not None
                and name in cell.__dict__):
            return cell.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _standardize(self, inputs, mask, initial_state):
        x = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        if len(x.shape) != self.rank + 3:
            raise ValueError(f'Input 0 of layer "{self.name}" is incompatible with the '
                             f"layer: expected ndim={self.rank + 3}, found "
                             f"ndim={len(x.shape)}. Full "
                             f"shape received: {tuple(x.shape.as_list())}")
        return super()._standardize(inputs, mask, initial_state)

    def get_config(self):
        config = super().get_config()
        config.pop("cell")
        return inline_cell_config(self, config, dropped=("units", "implementation"))

    from_config = classmethod(from_inlined_config)


def _layer_class(rank):
    cls = type(f"ConvLSTM{rank}D", (ConvLSTM,), {
        "rank": rank,
        "__doc__": f"{rank}-D convolutional LSTM (see ``ConvLSTM`` for the arguments)."})
    cls.__module__ = __name__
    return cls


ConvLSTM1D, ConvLSTM2D, ConvLSTM3D = (_layer_class(r) for r in (1, 2, 3))

__all__ = ["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM2DCell", "ConvLSTM3D"]
