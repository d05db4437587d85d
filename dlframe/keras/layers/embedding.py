"""The Embedding layer: integer ids to dense vectors (optionally LoRA-adapted)."""

from dlframe.core.tensor_shape import TensorShape
from dlframe.keras import constraints, initializers, regularizers
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.layers.core import _positive_int
from dlframe.keras.layers.layer_config import (
    reject_keras3_extensions,
    weight_options_config,
)
from dlframe.keras.layers.lora import LoraMixin, lora_weight_property
from dlframe.ops import math as _math
from dlframe.ops import nn as _nn


class Embedding(LoraMixin, Layer):
    """Maps non-negative integer indices to dense vectors of size ``output_dim``.

    Args:
      input_dim: vocabulary size (largest index + 1).
      output_dim: embedding size.
      embeddings_initializer: default 'uniform' (U(-0.05, 0.05)).
      embeddings_regularizer, activity_regularizer, embeddings_constraint: optional.
      mask_zero: whether index 0 is padding (outputs then carry a mask).
      input_length: optional fixed sequence length (Keras 2).
      lora_rank, lora_alpha: optional LoRA adapter (see ``enable_lora``).
    """

    _casts_to_float = True
    _lora_target = "embeddings"
    embeddings = lora_weight_property("embeddings")

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, activity_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, input_length=None,
                 sparse=False, lora_rank=None, lora_alpha=None,
                 quantization_config=None, **kwargs):
        if "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)
        kwargs.setdefault("autocast", False)   # ids in; call casts the vectors out
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        reject_keras3_extensions(self, quantization_config=quantization_config)
        self._init_lora(lora_rank, lora_alpha)
        self.input_dim = _positive_int(input_dim, "input_dim")
        self.output_dim = _positive_int(output_dim, "output_dim")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        self.input_length = input_length
        self._input_dtype = self._input_dtype or "int32"

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(
            "embeddings", shape=[self.input_dim, self.output_dim],
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint)
        self.built = True
        self._build_lora()

    def call(self, inputs):
        if getattr(inputs, "_dlframe_composite", False):   # ragged ids: ragged vectors
            return inputs.with_flat_values(self.call(inputs.flat_values))
        if not inputs.dtype.is_integer:
            inputs = _math.cast(inputs, "int32")
        out = _nn.embedding_lookup(self.embeddings, inputs)
        if out.dtype.name != self.compute_dtype:
            out = _math.cast(out, self.compute_dtype)
        return out

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        if getattr(inputs, "_dlframe_composite", False):   # ragged ids: ragged mask
            return inputs.with_flat_values(_math.not_equal(inputs.flat_values, 0))
        return _math.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return TensorShape(TensorShape(input_shape).as_list() + [self.output_dim])

    def get_config(self):
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim, "output_dim": self.output_dim,
            **weight_options_config(self, "embeddings", activity=True),
            "mask_zero": self.mask_zero, "input_length": self.input_length,
            "quantization_config": None, **self._lora_config()})
        return config
