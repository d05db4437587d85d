"""GroupQueryAttention: attention where groups of query heads share key/value heads
(Ainslie et al. 2023); ``num_key_value_heads == num_query_heads`` is multi-head
attention, ``1`` is multi-query attention.

The projections are EinsumDense sub-layers named ``query``, ``key``, ``value`` and
``attention_output`` (weights ``<layer>/query/kernel`` ...), as in Keras 3.
"""

import math

from dlframe.core.tensor_shape import TensorShape
from dlframe.keras import backend
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.layers import attention_axes as _axes
from dlframe.keras.layers.attention import (
    MultiHeadAttention,
    check_flash_scores,
    flash_enabled,
)
from dlframe.keras.layers.core import _positive_int
from dlframe.keras.layers.einsum_dense import EinsumDense
from dlframe.keras.layers.layer_config import (
    set_weight_options,
    weight_options_config,
)
from dlframe.ops import array_index as _index
from dlframe.ops import einsum as _einsum
from dlframe.ops import nn as _nn


class GroupQueryAttention(Layer):
    """Grouped-query scaled dot-product attention over rank-3 inputs.

    Args:
      head_dim: size of each attention head.
      num_query_heads: number of query heads.
      num_key_value_heads: number of key/value heads (divides num_query_heads).
      dropout: dropout rate on the attention probabilities.
      use_bias: whether the projections have biases.
      kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
      activity_regularizer, kernel_constraint, bias_constraint: as in Dense.
      sliding_window: optional positive int: each query attends only to keys
        less than ``sliding_window`` positions away.
      flash_attention: a kernel choice only (``None`` follows
        ``keras.config.is_flash_attention_enabled()``); when on, ``dropout`` must
        be 0 and scores cannot be returned.
      use_gate: multiply the attention output by ``sigmoid`` of a per-head
        projection of ``query`` (sub-layer ``gate``).
      seed: seed of the dropout.

    Call arguments: ``query`` [B, T, dim], ``value`` [B, S, dim_v], ``key=None``
    (default value), ``query_mask``, ``value_mask``, ``key_mask``,
    ``attention_mask`` [B, T, S], ``return_attention_scores`` (also returns the
    [B, num_query_heads, T, S] probabilities), ``training``, ``use_causal_mask``.
    """

    def __init__(self, head_dim, num_query_heads, num_key_value_heads, dropout=0.0,
                 use_bias=True, sliding_window=None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None,
                 **kwargs):
        if not kwargs.get("name"):  # Keras names it after GroupedQueryAttention
            kwargs["name"] = backend.unique_object_name("grouped_query_attention")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.supports_masking = True
        self.head_dim = _positive_int(head_dim, "head_dim")
        self.num_query_heads = _positive_int(num_query_heads, "num_query_heads")
        self.num_key_value_heads = _positive_int(num_key_value_heads,
                                                 "num_key_value_heads")
        if num_query_heads % num_key_value_heads:
            raise ValueError("`num_query_heads` must be divisible by "
                             "`num_key_value_heads`. Received: num_query_heads="
                             f"{num_query_heads}, num_key_value_heads="
                             f"{num_key_value_heads}")
        if sliding_window is not None and (
                not isinstance(sliding_window, int) or isinstance(sliding_window, bool)
                or sliding_window <= 0):
            raise ValueError("`sliding_window` must be `None` or a positive integer. "
                             f"Received: sliding_window={sliding_window!r}")
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout = float(dropout)
        self._flash_attention = flash_enabled(flash_attention, dropout)
        self.use_bias = use_bias
        self.sliding_window = sliding_window
        self.use_gate = bool(use_gate)
        self.seed = seed
        set_weight_options(self, locals(), "kernel", "bias")
        self._query_dense = self._dense("query", "bqm,muh->bquh", num_query_heads, "uh")
        self._key_dense = self._dense("key", "bkm,mvh->bkvh", num_key_value_heads, "vh")
        self._gate_dense = self._dense(
            "gate", "bqm,muh->bquh", num_query_heads, "uh",
            activation="sigmoid") if self.use_gate else None
        self._value_dense = self._dense("value", "bkm,mvh->bkvh", num_key_value_heads,
                                        "vh")
        self._output_dense = None

    def _dense(self, name, equation, heads, bias_axes, output_shape=None,
               activation=None):
        return EinsumDense(
            equation, output_shape=output_shape or (None, heads, self.head_dim),
            activation=activation,
            bias_axes=bias_axes if self.use_bias else None, name=name,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            kernel_regularizer=self.kernel_regularizer,
            bias_regularizer=self.bias_regularizer,
            kernel_constraint=self.kernel_constraint,
            bias_constraint=self.bias_constraint, dtype=self._dtype_policy.name)

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is not None:
            key_shape = key_shape or value_shape
            subs = [(self._query_dense, query_shape), (self._key_dense, key_shape),
                    (self._gate_dense, query_shape), (self._value_dense, value_shape)]
            for sub, shape in subs:
                if sub is None:
                    continue
                with sub._own_scope():
                    sub.build(shape)
                sub.built = True
            out = self._output(TensorShape(query_shape)[-1])
            with out._own_scope():
                out.build((None, None, self.num_query_heads, self.head_dim))
            out.built = True
        self.built = True

    def _output(self, feature_dim):
        if self._output_dense is None:
            self._output_dense = self._dense("attention_output", "bquh,uhm->bqm", 0,
                                             "m", output_shape=(None, feature_dim))
        return self._output_dense

    def call(self, query, value, key=None, query_mask=None, value_mask=None,
             key_mask=None, attention_mask=None, return_attention_scores=False,
             training=None, use_causal_mask=False, mask=None):
        key = value if key is None else key
        check_flash_scores(self._flash_attention, return_attention_scores)
        for name, x in (("query", query), ("value", value), ("key", key)):
            if len(x.shape) != 3:
                raise ValueError(f'Layer "{self.name}" expects rank-3 `{name}` inputs '
                                 f"(batch, seq, features); received shape "
                                 f"{tuple(x.shape)}")
        # the mask logic is MultiHeadAttention's (it reads no layer state)
        full = MultiHeadAttention._attention_mask(
            self, query, value, key, attention_mask, use_causal_mask, query_mask,
            value_mask, key_mask)
        q = self._query_dense(query)
        k = self._key_dense(key)
        v = self._value_dense(value)
        if self.num_repeats > 1:
            k = _index.repeat(k, self.num_repeats, axis=2)
            v = _index.repeat(v, self.num_repeats, axis=2)
        q = q * (1.0 / math.sqrt(float(self.head_dim)))
        scores = _einsum.einsum("bquh,bkuh->buqk", q, k)
        probs = _axes.masked_softmax(scores, None if full is None else
                                _axes.expand_mask(full, 4, 1, scores.shape))
        dropped = _nn.dropout(probs, rate=self.dropout, seed=self.seed) if (
            training and self.dropout > 0) else probs
        ctx = _einsum.einsum("buqk,bkuh->bquh", dropped, v)
        if self._gate_dense is not None:
            ctx = ctx * self._gate_dense(query)
        out = self._output(query.shape[-1])(ctx)
        if return_attention_scores:
            return out, probs
        return out

    def compute_mask(self, query, mask=None):
        return getattr(query, "_keras_mask", None)

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        return TensorShape(query_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "head_dim": self.head_dim, "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads, "use_bias": self.use_bias,
            "use_gate": self.use_gate, "sliding_window": self.sliding_window,
            "dropout": self.dropout,
            **weight_options_config(self, "kernel", "bias", activity=True),
            "seed": self.seed})
        return config


__all__ = ["GroupQueryAttention"]
