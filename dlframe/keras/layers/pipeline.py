"""Pipeline: applies a list of (preprocessing) layers in order, as one layer."""

from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.utils import generic_utils


class Pipeline(Layer):
    """Calls ``layers`` one after the other (a lightweight ``Sequential`` for
    preprocessing: it is a Layer, not a Model, and passes ``training`` on).

    Args:
      layers: list of layers.
      name: the layer's name.
    """

    def __init__(self, layers, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        layers = list(layers)
        for layer in layers:
            if not isinstance(layer, Layer):
                raise ValueError(  # noqa: TRY004 - Keras raises ValueError
                    "Every item of `layers` passed to Pipeline must be a Layer. "
                    f"Received: {layer!r}")
        self._pipeline_layers = layers
        self.supports_masking = True

    @property
    def layers(self):
        return list(self._pipeline_layers)

    def call(self, inputs, training=True, mask=None):
        for layer in self._pipeline_layers:
            kwargs = {}
            if layer._expects_training:
                kwargs["training"] = training
            if mask is not None and layer._expects_mask:
                kwargs["mask"] = mask
            inputs = layer(inputs, **kwargs)
            mask = getattr(inputs, "_keras_mask", None)
        return inputs

    def compute_output_shape(self, input_shape):
        for layer in self._pipeline_layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def get_config(self):
        return {"layers": [generic_utils.serialize_keras_object(layer)
                           for layer in self._pipeline_layers], "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from dlframe.keras import layers as layers_mod
        config = dict(config)
        layers = [layers_mod.deserialize(c, custom_objects=custom_objects)
                  for c in config.pop("layers")]
        return cls(layers, **config)


__all__ = ["Pipeline"]
