"""``WideDeepModel``: a linear ("wide") and a DNN ("deep") model trained jointly."""

import inspect

from dlframe.core.tape import GradientTape
from dlframe.keras import activations
from dlframe.keras import optimizers as _optimizers
from dlframe.keras.engine.model import Model
from dlframe.keras.utils import tree, unpack_x_y_sample_weight
from dlframe.ops import math as _math


class _OptimizerPair(list):
    """``[linear_optimizer, dnn_optimizer]`` as ``compile(optimizer=[a, b])`` sets
    ``model.optimizer`` in Keras 2; builds each on its own model's variables."""

    def __init__(self, optimizers, model):
        super().__init__(optimizers)
        self._model = model

    @property
    def built(self):
        return all(opt.built for opt in self)

    def build(self, var_list=None):
        del var_list   # each optimizer owns one sub-model's variables
        self[0].build(self._model.linear_model.trainable_variables)
        self[1].build(self._model.dnn_model.trainable_variables)


def _accepts_training(layer):
    try:
        return "training" in inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return False


class WideDeepModel(Model):
    """Wide & Deep model: ``activation(0.5 * (linear_model(x1) + dnn_model(x2)))``.

    Called on ``[linear_inputs, dnn_inputs]`` or on one input both models share.
    ``compile(optimizer=[linear_opt, dnn_opt], ...)`` trains each part with its own
    optimizer; a single optimizer trains both.

    Args:
      linear_model: a ``LinearModel`` (or any model) whose outputs match the DNN's.
      dnn_model: a Keras model.
      activation: activation of the combined output (None: linear).
      **kwargs: Model arguments (name, ...).
    """

    def __init__(self, linear_model, dnn_model, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.linear_model = linear_model
        self.dnn_model = dnn_model
        self.activation = activations.get(activation)

    def call(self, inputs, training=None):
        if isinstance(inputs, (list, tuple)) and len(inputs) == 2:
            linear_inputs, dnn_inputs = inputs
        else:
            linear_inputs = dnn_inputs = inputs
        linear_output = self.linear_model(linear_inputs)
        if _accepts_training(self.dnn_model):
            dnn_output = self.dnn_model(dnn_inputs, training=training)
        else:
            dnn_output = self.dnn_model(dnn_inputs)
        output = tree.map_structure(
            lambda a, b: _math.multiply(0.5, _math.add(a, b)), linear_output, dnn_output)
        if self.activation is not None:
            output = tree.map_structure(self.activation, output)
        return output

    def compile(self, optimizer="rmsprop", *args, **kwargs):
        """``Model.compile``; ``optimizer`` may be ``[linear_opt, dnn_opt]``.

        Raises:
          ValueError: ``optimizer`` is a list of other than two optimizers.
        """
        if not isinstance(optimizer, (list, tuple)):
            return super().compile(optimizer, *args, **kwargs)
        if len(optimizer) != 2:
            raise ValueError("WideDeepModel takes one optimizer or a list of two "
                             "[linear_optimizer, dnn_optimizer]. Received: "
                             f"optimizer={optimizer!r}")
        pair = [_optimizers.get(opt) for opt in optimizer]
        super().compile(pair[0], *args, **kwargs)
        self.optimizer = _OptimizerPair(pair, self)
        return None

    def train_step(self, data):
        if not isinstance(self.optimizer, _OptimizerPair):
            return super().train_step(data)
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
        linear_vars = self.linear_model.trainable_variables
        dnn_vars = self.dnn_model.trainable_variables
        linear_grads, dnn_grads = tape.gradient(loss, (linear_vars, dnn_vars))
        self.optimizer[0].apply_gradients(zip(linear_grads, linear_vars))
        self.optimizer[1].apply_gradients(zip(dnn_grads, dnn_vars))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def get_config(self):
        from dlframe.keras.utils.generic_utils import serialize_keras_object
        return {"linear_model": serialize_keras_object(self.linear_model),
                "dnn_model": serialize_keras_object(self.dnn_model),
                "activation": activations.serialize(self.activation)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from dlframe.keras import layers
        config = dict(config)
        for key in ("linear_model", "dnn_model"):
            config[key] = layers.deserialize(config[key], custom_objects)
        return cls(**config)
