"""``CuDNNLSTM`` and ``CuDNNGRU``: TF1 / early TF2's cuDNN-only recurrent layers
(``tf.compat.v1.keras.layers``).

They are LSTM and GRU fixed to the configuration cuDNN computes: tanh activation,
sigmoid recurrent activation, biases, no dropout, no unrolling and, for the GRU,
``reset_after=True``. dlframe's LSTM/GRU run that configuration with cuDNN on a GPU
and with the portable fused kernel on a CPU, so these layers run anywhere (TF's
needed a GPU). Weights use the LSTM/GRU layout, which is what Keras 2 converted
CuDNN weights to when loading them into LSTM/GRU.
"""

from dlframe.keras.layers.recurrent import GRU, LSTM

# Fixed by cuDNN: not arguments of the CuDNN layers (Keras 2 rejected them too).
_FIXED = ("activation", "recurrent_activation", "use_bias", "dropout",
          "recurrent_dropout", "unroll", "implementation", "reset_after", "use_cudnn",
          "time_major", "zero_output_for_mask", "seed")


def _reject_fixed(cls, kwargs):
    bad = sorted(k for k in kwargs if k in _FIXED)
    if bad:
        raise TypeError(f"{cls.__name__} does not take {bad}: cuDNN fixes them "
                        f"(received {', '.join(f'{k}={kwargs[k]!r}' for k in bad)}). "
                        f"Use tf.keras.layers.{cls.__name__[5:]} to change them.")


class _CuDNNMixin:
    """Config without the fixed arguments, so ``from_config`` round-trips."""

    def get_config(self):
        config = super().get_config()
        for key in _FIXED:
            config.pop(key, None)
        return config

    @classmethod
    def from_config(cls, config):
        config = {k: v for k, v in config.items() if k not in _FIXED}
        return super().from_config(config)


class CuDNNLSTM(_CuDNNMixin, LSTM):
    """LSTM in cuDNN's configuration (tanh/sigmoid, bias, no dropout).

    Args:
      units: dimensionality of the output space.
      kernel_initializer, recurrent_initializer, bias_initializer: initializers of
        the input kernel, recurrent kernel and bias.
      unit_forget_bias: add 1 to the forget gate's bias at initialization.
      kernel_regularizer, recurrent_regularizer, bias_regularizer,
        activity_regularizer: regularizers.
      kernel_constraint, recurrent_constraint, bias_constraint: constraints.
      return_sequences: return the whole output sequence, not only the last output.
      return_state: also return the final states ``[h, c]``.
      go_backwards: process the sequence backwards.
      stateful: carry the final states of a batch over to the next batch.
      **kwargs: base Layer arguments (name, dtype, input_shape, ...).

    Raises:
      TypeError: an argument cuDNN fixes is given (activation, dropout, ...).
    """

    def __init__(self, units, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None,
                 return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, **kwargs):
        _reject_fixed(type(self), kwargs)
        super().__init__(
            units, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            return_sequences=return_sequences, return_state=return_state,
            go_backwards=go_backwards, stateful=stateful, **kwargs)


class CuDNNGRU(_CuDNNMixin, GRU):
    """GRU in cuDNN's configuration (tanh/sigmoid, bias, ``reset_after=True``).

    Args:
      units: dimensionality of the output space.
      kernel_initializer, recurrent_initializer, bias_initializer: initializers of
        the input kernel, recurrent kernel and bias.
      kernel_regularizer, recurrent_regularizer, bias_regularizer,
        activity_regularizer: regularizers.
      kernel_constraint, recurrent_constraint, bias_constraint: constraints.
      return_sequences: return the whole output sequence, not only the last output.
      return_state: also return the final state.
      go_backwards: process the sequence backwards.
      stateful: carry the final state of a batch over to the next batch.
      **kwargs: base Layer arguments (name, dtype, input_shape, ...).

    Raises:
      TypeError: an argument cuDNN fixes is given (activation, reset_after, ...).
    """

    def __init__(self, units, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, **kwargs):
        _reject_fixed(type(self), kwargs)
        super().__init__(
            units, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            return_sequences=return_sequences, return_state=return_state,
            go_backwards=go_backwards, stateful=stateful, reset_after=True, **kwargs)


__all__ = ["CuDNNGRU", "CuDNNLSTM"]
