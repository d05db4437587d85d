"""Layer wrappers: the ``Wrapper`` base, Bidirectional and TimeDistributed."""

from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.engine.base_layer_utils import bind_initial_state
from dlframe.keras.utils import generic_utils
from dlframe.ops import array as _array
from dlframe.ops import reduction as _reduction

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _layer_objects():
    from dlframe.keras.layers import recurrent, recurrent_cells
    objs = dict(recurrent_cells.CELLS)
    objs.update({name: getattr(recurrent, name) for name in ("RNN", "SimpleRNN", "LSTM",
                                                             "GRU")})
    try:
        from dlframe.keras.layers import conv_lstm
        objs["ConvLSTM2D"] = conv_lstm.ConvLSTM2D
    except ImportError:  # pragma: no cover
        pass
    try:
        from dlframe.keras import layers as _layers
        objs.update({k: v for k, v in vars(_layers).items() if isinstance(v, type)})
    except ImportError:  # pragma: no cover - keras.layers package not assembled yet
        pass
    return objs


def _clone(layer, **overrides):
    config = layer.get_config()
    config.update(overrides)
    return type(layer).from_config(config)


def _deserialize_layer(config, custom_objects=None):
    if isinstance(config, Layer):
        return config
    return generic_utils.deserialize_keras_object(config, _layer_objects(),
                                                  custom_objects, "layer")


def _with_dtype_name(config):
    """A copy of a layer config whose serialized dtype policy is reduced to its name."""
    config = dict(config)
    if isinstance(config.get("dtype"), dict):
        config["dtype"] = config["dtype"].get("config", {}).get("name")
    return config


class Wrapper(Layer):
    """Base class of layers that wrap another layer (``self.layer``).

    Subclasses implement ``call`` (usually calling ``self.layer``); ``build`` builds
    the wrapped layer on the same input shape and ``get_config``/``from_config`` carry
    it along.

    Args:
      layer: the wrapped ``Layer``.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `Wrapper` layer with a "  # noqa: TRY004
                             f"`keras.layers.Layer` instance. Received: {layer}")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            with self.layer._own_scope():
                self.layer.build(input_shape)
            self.layer.built = True
        self.built = True

    def get_config(self):
        config = super().get_config()
        config["layer"] = generic_utils.serialize_keras_object(self.layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = _with_dtype_name(config)
        return cls(_deserialize_layer(config.pop("layer"), custom_objects), **config)


class Bidirectional(Wrapper):
    """Runs a recurrent layer forwards and a copy of it backwards, merging the outputs.

    ``layer`` is the layer passed in (as in Keras 2; it stays unbuilt and its weights
    are not tracked), ``forward_layer``/``backward_layer`` the two directions.

    Args:
      layer: an RNN layer (LSTM, GRU, SimpleRNN, RNN); it is cloned for the forward
        direction.
      merge_mode: 'concat' (default), 'sum', 'mul', 'ave' or None (return both).
      weights: optional initial weights (forward then backward).
      backward_layer: optional RNN layer for the backward direction (it must have
        ``go_backwards`` opposite to ``layer`` and the same return_* settings).
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None,
                 **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `Bidirectional` layer with a "  # noqa: TRY004 - Keras' type
                             f"`keras.layers.Layer` instance. Received: {layer}")
        if not all(hasattr(layer, a) for a in ("go_backwards", "return_sequences")):
            raise TypeError("`Bidirectional` wraps a recurrent layer (one with "
                            "`go_backwards` and `return_sequences`, e.g. LSTM, GRU, RNN). "
                            f"Received: layer={layer.__class__.__name__}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode "
                             "should be one of {'sum', 'mul', 'ave', 'concat', None}")
        Layer.__init__(self, **kwargs)
        self._original_layer = layer
        self.forward_layer = _clone(layer, name="forward_" + layer.name)
        if backward_layer is None:
            self.backward_layer = _clone(layer, name="backward_" + layer.name,
                                         go_backwards=not layer.go_backwards)
        else:
            if backward_layer.go_backwards == layer.go_backwards:
                raise ValueError("Forward layer and backward layer should have different "
                                 "`go_backwards` value. Received: "
                                 f"forward_layer.go_backwards={layer.go_backwards}, "
                                 "backward_layer.go_backwards="
                                 f"{backward_layer.go_backwards}")
            for attr in ("stateful", "return_state", "return_sequences"):
                if getattr(layer, attr) != getattr(backward_layer, attr):
                    raise ValueError(f"Forward layer and backward layer are expected to "
                                     f"have the same value for attribute `{attr}`, got "
                                     f"{getattr(layer, attr)} for forward layer and "
                                     f"{getattr(backward_layer, attr)} for backward layer")
            self.backward_layer = backward_layer
        # masked steps of the two directions must line up after the flip: zeros
        for sub in (self.forward_layer, self.backward_layer):
            if hasattr(sub, "zero_output_for_mask"):
                sub.zero_output_for_mask = bool(layer.return_sequences)
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = layer.stateful
        self.supports_masking = True
        self._initial_weights = weights

    # the constructor arguments (kept for get_config) would list the backward
    # layer first when it was passed in: the weights go forward, then backward
    _NOT_TRACKED = Wrapper._NOT_TRACKED | {"_original_layer", "_init_call_args"}

    @property
    def layer(self):
        """The layer passed to the constructor (the forward direction is a clone)."""
        return self._original_layer

    @property
    def input_spec(self):
        """The wrapped layer's spec (as Keras 3); the inner layers enforce it."""
        if self._input_spec is not None:
            return self._input_spec
        return self.forward_layer.input_spec

    @input_spec.setter
    def input_spec(self, value):
        self._input_spec = value

    @property
    def stateful(self):
        return self._stateful

    @stateful.setter
    def stateful(self, value):
        self._stateful = value

    def build(self, input_shape):
        if isinstance(input_shape, list) and input_shape and \
                hasattr(input_shape[0], "__len__"):
            input_shape = input_shape[0]
        for layer in (self.forward_layer, self.backward_layer):
            if not layer.built:
                with layer._own_scope():
                    layer.build(input_shape)
                layer.built = True
        self.built = True

    def __call__(self, inputs, *args, **kwargs):
        args, kwargs = bind_initial_state(args, kwargs)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, training=None, mask=None, initial_state=None):
        if isinstance(inputs, (list, tuple)):
            if initial_state is None and len(inputs) > 1:
                initial_state = list(inputs[1:])
            inputs = inputs[0]
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        kw = {"training": training}
        if mask is not None:
            kw["mask"] = mask
        fw_kw, bw_kw = dict(kw), dict(kw)
        if initial_state is not None:
            if len(initial_state) % 2:
                raise ValueError("When passing `initial_state` to a Bidirectional RNN, "
                                 "the state should be a list containing the states of "
                                 "the underlying RNNs. Received: "
                                 f"initial_state={initial_state}")
            half = len(initial_state) // 2
            fw_kw["initial_state"] = list(initial_state[:half])
            bw_kw["initial_state"] = list(initial_state[half:])
        y = self.forward_layer(inputs, **fw_kw)
        y_rev = self.backward_layer(inputs, **bw_kw)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            time_axis = 0 if getattr(self.forward_layer, "time_major", False) else 1
            y_rev = _array.reverse(y_rev, [time_axis])
        if self.merge_mode == "concat":
            output = _array.concat([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = [y, y_rev]
        if self.return_state:
            return (output if isinstance(output, list) else [output]) + states
        return output

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        outs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            n = len(self.forward_layer._state_sizes()) * 2
            return outs + [None] * n
        return outs if self.merge_mode is None else out

    @property
    def states(self):
        """The forward layer's state variables then the backward layer's (None until
        a stateful layer is built)."""
        fw, bw = self.forward_layer.states, self.backward_layer.states
        return tuple(fw) + tuple(bw) if fw and bw else None

    def reset_states(self, states=None):
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        if states is None:
            self.forward_layer.reset_states()
            self.backward_layer.reset_states()
            return
        half = len(states) // 2
        self.forward_layer.reset_states(states[:half])
        self.backward_layer.reset_states(states[half:])

    reset_state = reset_states   # the Keras 3 name

    def get_config(self):
        config = Layer.get_config(self)
        config["merge_mode"] = self.merge_mode
        config["layer"] = generic_utils.serialize_keras_object(self.forward_layer)
        config["backward_layer"] = generic_utils.serialize_keras_object(
            self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = _with_dtype_name(config)
        layer = _deserialize_layer(config.pop("layer"), custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            backward = _deserialize_layer(backward, custom_objects)
            # the clone keeps the forward name ('forward_x' -> 'x') for the wrapper
        if layer.name.startswith("forward_"):
            layer = _clone(layer, name=layer.name[len("forward_"):])
        return cls(layer, backward_layer=backward, **config)


class TimeDistributed(Wrapper):
    """Applies a layer to every temporal slice of ``[batch, time, ...]`` inputs.

    Args:
      layer: the layer applied to each ``[batch, ...]`` slice.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `TimeDistributed` layer with a "  # noqa: TRY004
                             f"`keras.layers.Layer` instance. Received: {layer}")
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def _check(self, shape):
        if len(shape) < 3:
            raise ValueError("`TimeDistributed` Layer should be passed an `input_shape` "
                             f"with at least 3 dimensions, received: {tuple(shape)}")

    def build(self, input_shape):
        shape = list(input_shape.as_list() if hasattr(input_shape, "as_list")
                     else input_shape)
        self._check(shape)
        if not self.layer.built:
            with self.layer._own_scope():
                self.layer.build(tuple([shape[0]] + shape[2:]))
            self.layer.built = True
        self.built = True

    def call(self, inputs, training=None, mask=None):
        shape = inputs.shape.as_list()
        self._check(shape)
        batch, steps = inputs.shape[0], inputs.shape[1]
        flat = _array.reshape(inputs, [-1] + shape[2:])
        kw = {}
        if self.layer._expects_training:
            kw["training"] = training
        if mask is not None and self.layer._expects_mask:
            kw["mask"] = _array.reshape(mask, [-1] + mask.shape.as_list()[2:])
        out = self.layer(flat, **kw)
        return _array.reshape(out, [batch, steps] + out.shape.as_list()[1:])

    def compute_mask(self, inputs, mask=None):
        """A per-timestep mask: the inner layer's mask of each slice, or (Keras 2)
        a slice is kept when any of its positions is, e.g. ``TimeDistributed(GRU)``
        over word-masked sentences gives a sentence mask."""
        if mask is None or len(mask.shape) <= 2:
            return mask
        batch, steps = mask.shape[0], mask.shape[1]
        flat_mask = _array.reshape(mask, [-1] + mask.shape.as_list()[2:])
        flat = _array.reshape(inputs, [-1] + inputs.shape.as_list()[2:])
        inner = self.layer.compute_mask(flat, flat_mask)
        if inner is None:
            return _reduction.reduce_any(mask, axis=list(range(2, len(mask.shape))))
        return _array.reshape(inner, [batch, steps] + inner.shape.as_list()[1:])

