"""ReversibleEmbedding: an Embedding that can also project vectors back to logits
over the vocabulary (tied or separate output weights), as keras_hub/Keras 3."""

from dlframe.keras.layers.embedding import Embedding
from dlframe.ops import linalg as _linalg
from dlframe.ops import math as _math


class ReversibleEmbedding(Embedding):
    """``call(ids)`` looks up embeddings; ``call(x, reverse=True)`` returns
    ``x @ embeddings^T`` (``tie_weights=True``) or ``x @ reverse_embeddings``.

    Args:
      input_dim, output_dim, embeddings_initializer, embeddings_regularizer,
      activity_regularizer, embeddings_constraint, mask_zero: as in Embedding.
      tie_weights: reuse ``embeddings`` for the reverse projection (default True);
        otherwise a separate ``reverse_embeddings`` [output_dim, input_dim] weight.
      reverse_dtype: dtype of the reverse projection (default the compute dtype).
      logit_soft_cap: if set, reverse logits become ``tanh(l / cap) * cap``.
    """

    def __init__(self, input_dim, output_dim, tie_weights=True,
                 embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, reverse_dtype=None,
                 logit_soft_cap=None, **kwargs):
        kwargs.pop("quantization_config", None)
        super().__init__(input_dim, output_dim,
                         embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer,
                         embeddings_constraint=embeddings_constraint,
                         mask_zero=mask_zero, **kwargs)
        self.tie_weights = bool(tie_weights)
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap

    def build(self, input_shape=None):
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(
                "reverse_embeddings", shape=[self.output_dim, self.input_dim],
                initializer=self.embeddings_initializer)
        self.built = True

    def call(self, inputs, reverse=False):
        if not reverse:
            return super().call(inputs)
        dtype = self.reverse_dtype or self.compute_dtype
        x = _math.cast(inputs, dtype)
        if self.tie_weights:
            logits = _linalg.matmul(x, _math.cast(self.embeddings, dtype),
                                    transpose_b=True)
        else:
            logits = _linalg.matmul(x, _math.cast(self.reverse_embeddings, dtype))
        if self.logit_soft_cap is not None:
            cap = float(self.logit_soft_cap)
            logits = _math.tanh(logits / cap) * cap
        return logits

    def compute_mask(self, inputs, mask=None):
        return super().compute_mask(inputs, mask)

    def get_config(self):
        config = super().get_config()
        config.pop("input_length", None)
        config.update({"tie_weights": self.tie_weights,
                       "reverse_dtype": self.reverse_dtype,
                       "logit_soft_cap": self.logit_soft_cap})
        return config


__all__ = ["ReversibleEmbedding"]
