"""Attention layers: MultiHeadAttention, (Luong-style) Attention and (Bahdanau-style)
AdditiveAttention."""

import math

from dlframe.core.tensor_shape import TensorShape
from dlframe.keras import config as _keras_config
from dlframe.keras import constraints, default_seeds, initializers, regularizers
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.layers import attention_axes as _axes
from dlframe.keras.layers.layer_config import weight_options_config
from dlframe.ops import array as _array
from dlframe.ops import creation as _creation
from dlframe.ops import linalg as _linalg
from dlframe.ops import math as _math
from dlframe.ops import nn as _nn
from dlframe.ops import reduction as _reduction


def _like(weight, x):
    """``weight`` in ``x``'s dtype (float32 variables under a mixed policy)."""
    if weight is None or weight.dtype == x.dtype:
        return weight
    return _math.cast(weight, x.dtype)


def _fresh(init):
    """Keras 3's per-sublayer clone: an unseeded initializer gets its own default seed."""
    if isinstance(init, initializers.Initializer) and getattr(init, "seed", 0) is None:
        return init.clone()
    return init


def flash_enabled(flash_attention, dropout):
    """Whether an attention layer uses flash attention (``None`` follows
    ``keras.config``); Keras refuses dropout with it."""
    enabled = flash_attention or _keras_config.is_flash_attention_enabled()
    if enabled and dropout > 0.0:
        raise ValueError("Dropout is not supported when flash attention is enabled. "
                         "Please set dropout to 0.0 to use flash attention. "
                         f"Received: dropout={dropout!r}")
    return enabled


def check_flash_scores(flash_enabled, return_attention_scores):
    """Keras refuses to return attention scores from flash attention."""
    if flash_enabled and return_attention_scores:
        raise ValueError("Returning attention scores is not supported when flash "
                         "attention is enabled. Please disable flash attention to "
                         "access attention scores.")


def _causal(t, s):
    """``[t, s]`` lower-triangular bool mask; ``t``/``s`` may be scalar tensors."""
    rows = _array.reshape(_creation.range(t), [-1, 1])
    cols = _array.reshape(_creation.range(s), [1, -1])
    return _math.greater_equal(rows, cols)


def _band_like(query, value, window):
    """``[T, S]`` bool mask of key positions less than ``window`` from each query."""
    rows = _array.reshape(_creation.range(_array.shape(query)[1]), [-1, 1])
    cols = _array.reshape(_creation.range(_array.shape(value)[1]), [1, -1])
    return _math.less(_math.abs(rows - cols), window)


def _sequence_shape(x, *rest):
    """``[batch, -1, *rest]`` for a reshape of ``x``'s rows: the sequence axis stays
    -1, resolved when a compiled graph runs, so a graph loop over a growing sequence
    (a translator's decoded tokens) replays right (exact when a size is 0)."""
    batch, steps = x.shape[0], x.shape[1]
    return [batch, -1 if batch and all(rest) else steps, *rest]


def _causal_like(query, value):
    """The causal mask for ``query`` attending to ``value`` (lengths read by
    ``tf.shape``: when a compiled loop grows the sequence, at each iteration)."""
    return _causal(_array.shape(query)[1], _array.shape(value)[1])


class MultiHeadAttention(Layer):
    """Multi-head scaled dot-product attention (Vaswani et al.), over axis 1 of
    ``(batch, seq, features)`` inputs or over any ``attention_axes``.

    Args:
      num_heads: number of attention heads.
      key_dim: size of each head for query and key.
      value_dim: size of each head for value (default key_dim).
      dropout: dropout rate on the attention probabilities.
      seed: optional seed of that dropout.
      use_bias: whether the projections use biases.
      output_shape: last dimension of the output (default: query's last dimension).
      attention_axes: axes of the inputs attention runs over (an int or a
        tuple; negative axes count back from the feature axis). ``None``: every
        axis between the batch and the feature axis. Normalized to a tuple on
        build.
      sliding_window: optional positive int; each query position attends only to
        key positions less than ``sliding_window`` away (a symmetric band; with
        ``use_causal_mask=True`` a causal window).
      flash_attention: a kernel choice only (``None`` follows
        ``keras.config.is_flash_attention_enabled()``); when on, ``dropout`` must
        be 0 and attention scores cannot be returned, as in Keras.
      use_gate: Keras 3's gated attention: the attention output is multiplied by
        ``sigmoid`` of a per-head projection of ``query`` (weights ``gate/*``).

    Call arguments: ``query``, ``value``, ``key=None``, ``attention_mask=None``,
    ``return_attention_scores=False``, ``training=None``, ``use_causal_mask=False``.
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, sliding_window=None,
                 flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 use_gate=False, seed=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if sliding_window is not None and (
                not isinstance(sliding_window, int) or isinstance(sliding_window, bool)
                or sliding_window <= 0):
            raise ValueError("Received an invalid value for argument `sliding_window`, "
                             "expected a positive integer or None. Received: "
                             f"sliding_window={sliding_window!r}")
        self.sliding_window = sliding_window
        self.flash_attention = flash_attention
        self._flash_attention = flash_enabled(flash_attention, dropout)
        self.use_gate = bool(use_gate)
        for arg, val in (("num_heads", num_heads), ("key_dim", key_dim)):
            if not isinstance(val, int) or isinstance(val, bool) or val <= 0:
                raise ValueError(f"Received an invalid value for argument `{arg}`, "
                                 f"expected a positive integer. Received: {arg}={val}")
        self.seed = seed
        self.supports_masking = True
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim if value_dim else key_dim
        self.dropout = dropout
        self.use_bias = use_bias
        if isinstance(output_shape, int):   # Keras 3 keeps it as a tuple
            output_shape = (output_shape,)
        self._output_shape = tuple(output_shape) if output_shape else output_shape
        if isinstance(attention_axes, int) and not isinstance(attention_axes, bool):
            attention_axes = (attention_axes,)
        elif attention_axes is not None and (
                not isinstance(attention_axes, (list, tuple)) or not all(
                    isinstance(a, int) and not isinstance(a, bool)
                    for a in attention_axes)):
            raise ValueError("`attention_axes` must be an int, list, or tuple of ints. "
                             f"Received: attention_axes={attention_axes!r}")
        self.attention_axes = attention_axes
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self._weights_ready = False

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is not None:
            query_shape = TensorShape(query_shape)
            self._create(query_shape[-1], TensorShape(value_shape)[-1],
                         TensorShape(key_shape or value_shape)[-1], query_shape.rank)
        self.built = True

    def _dense(self, name, shape, bias_shape, num_input_axes=1):
        kernel_init, bias_init = self.kernel_initializer, self.bias_initializer
        if default_seeds.active():   # Keras 3 gives each projection fresh clones
            axes = list(range(len(shape)))
            kernel_init = initializers.for_einsum_kernel(
                _fresh(kernel_init), axes[:num_input_axes], axes[num_input_axes:])
            bias_init = _fresh(bias_init)
        kw = {"initializer": kernel_init, "regularizer": self.kernel_regularizer,
              "constraint": self.kernel_constraint}
        kernel = self.add_weight(f"{name}/kernel", shape=shape, **kw)
        bias = self.add_weight(f"{name}/bias", shape=bias_shape,
                               initializer=bias_init,
                               regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint) if self.use_bias else None
        return kernel, bias

    def _create(self, q_dim, v_dim, k_dim, rank):
        # Keras keeps the normalized axes (projected rank = rank + 1)
        self.attention_axes = _axes.normalize_axes(self.attention_axes, rank + 1)
        h = self.num_heads
        self._query = self._dense("query", [q_dim, h, self.key_dim], [h, self.key_dim])
        self._key = self._dense("key", [k_dim, h, self.key_dim], [h, self.key_dim])
        self._gate = self._dense("gate", [q_dim, h, self.value_dim],
                                 [h, self.value_dim]) if self.use_gate else None
        self._value = self._dense("value", [v_dim, h, self.value_dim], [h, self.value_dim])
        if self.dropout > 0 and self.seed is None:
            default_seeds.draw()   # Keras 3's Dropout sublayer takes a default seed here
        out_dims = self._output_shape or q_dim
        out_dims = list(out_dims) if isinstance(out_dims, (list, tuple)) else [out_dims]
        self._out_dims = out_dims
        self._output = self._dense("attention_output", [h, self.value_dim, *out_dims],
                                   out_dims, num_input_axes=2)
        self._weights_ready = True

    def _project(self, x, params, heads, size):
        kernel, bias = (_like(w, x) for w in params)
        d = x.shape[-1]
        y = _linalg.matmul(_array.reshape(x, [-1, d]), _array.reshape(kernel, [d, -1]))
        if bias is not None:
            y = y + _array.reshape(bias, [-1])
        return _array.transpose(_array.reshape(y, _sequence_shape(x, heads, size)),
                                [0, 2, 1, 3])

    def call(self, query, value, key=None, query_mask=None, value_mask=None,
             key_mask=None, attention_mask=None, return_attention_scores=False,
             training=None, use_causal_mask=False, mask=None):
        key = value if key is None else key
        if not query.dtype.is_floating:   # Keras 3 promotes integer features
            query = _math.cast(query, self.compute_dtype)
        value, key = _like(value, query), _like(key, query)   # one compute dtype
        check_flash_scores(self._flash_attention, return_attention_scores)
        for name, x in (("value", value), ("key", key)):
            if len(x.shape) != len(query.shape):
                raise ValueError(f'Layer "{self.name}" expects `{name}` of the same rank '
                                 f"as `query` {tuple(query.shape)}; received shape "
                                 f"{tuple(x.shape)}")
        if tuple(value.shape[1:-1]) != tuple(key.shape[1:-1]):
            raise ValueError("All dimensions of `value` and `key`, except the last one, "
                             f"must be equal. Received: value_shape={tuple(value.shape)} "
                             f"and key_shape={tuple(key.shape)}")
        if not self._weights_ready:
            self._create(query.shape[-1], value.shape[-1], key.shape[-1],
                         len(query.shape))
        full = self._attention_mask(query, value, key, attention_mask, use_causal_mask,
                                    query_mask, value_mask, key_mask)

        def dropout(probs):
            if training and self.dropout > 0:
                return _nn.dropout(probs, rate=self.dropout, seed=self.seed)
            return probs
        if len(query.shape) == 3 and self.attention_axes == (1,):
            out, probs = self._attend_sequence(query, key, value, full, dropout)
        else:
            out, probs = self._attend_axes(query, key, value, full, dropout)
        if return_attention_scores:
            return out, probs
        return out

    def _attend_sequence(self, query, key, value, full, dropout):
        """Attention over axis 1 of rank-3 inputs, as batched matmuls."""
        h = self.num_heads
        q = self._project(query, self._query, h, self.key_dim)
        k = self._project(key, self._key, h, self.key_dim)
        v = self._project(value, self._value, h, self.value_dim)
        q = q * (1.0 / math.sqrt(float(self.key_dim)))
        scores = _linalg.matmul(q, k, transpose_b=True)  # (B, H, T, S)
        if full is not None:
            full = _axes.expand_mask(full, 4, 1, scores.shape)
        probs = _axes.masked_softmax(scores, full)
        ctx = _linalg.matmul(dropout(probs), v)   # (B, H, T, Dv)
        if self._gate is not None:
            ctx = ctx * _math.sigmoid(self._project(query, self._gate, h, self.value_dim))
        ctx = _array.transpose(ctx, [0, 2, 1, 3])  # (B, T, H, Dv)
        kernel, bias = (_like(w, ctx) for w in self._output)
        out = _linalg.matmul(_array.reshape(ctx, [-1, h * self.value_dim]),
                             _array.reshape(kernel, [h * self.value_dim, -1]))
        if bias is not None:
            out = out + _array.reshape(bias, [-1])
        return _array.reshape(out, _sequence_shape(ctx, *self._out_dims)), probs

    def _attend_axes(self, query, key, value, full, dropout):
        """Attention over ``attention_axes`` of inputs of any rank (einsum layout)."""
        q = _axes.project(query, *(_like(w, query) for w in self._query))
        k = _axes.project(key, *(_like(w, query) for w in self._key))
        v = _axes.project(value, *(_like(w, query) for w in self._value))
        q = q * (1.0 / math.sqrt(float(self.key_dim)))
        ctx, probs = _axes.attend(q, k, v, self.attention_axes, full, dropout)
        if self._gate is not None:
            ctx = ctx * _math.sigmoid(
                _axes.project(query, *(_like(w, query) for w in self._gate)))
        return _axes.combine(ctx, *(_like(w, ctx) for w in self._output)), probs

    def _attention_mask(self, query, value, key, attention_mask, use_causal_mask,
                        query_mask, value_mask, key_mask):
        q_mask = query_mask if query_mask is not None else getattr(query, "_keras_mask", None)
        v_mask = value_mask if value_mask is not None else getattr(value, "_keras_mask", None)
        k_mask = key_mask if key_mask is not None else getattr(key, "_keras_mask", None)
        mask = None

        def both(a, b):
            a = _math.cast(a, "bool")
            return a if mask is None else _math.logical_and(mask, a)
        if q_mask is not None:
            mask = both(_array.expand_dims(q_mask, -1), None)
        if v_mask is not None:
            mask = both(_array.expand_dims(v_mask, -2), None)
        if k_mask is not None:
            mask = both(_array.expand_dims(k_mask, -2), None)
        if use_causal_mask:
            mask = both(_array.expand_dims(_causal_like(query, value), 0), None)
        if attention_mask is not None:
            mask = both(attention_mask, None)
        if self.sliding_window is not None:
            mask = both(_array.expand_dims(_band_like(query, value, self.sliding_window),
                                           0), None)
        return mask

    def compute_mask(self, query, mask=None):
        return getattr(query, "_keras_mask", None)

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        dims = TensorShape(query_shape).as_list()
        out = self._output_shape or dims[-1]
        if isinstance(out, (list, tuple)):
            return TensorShape(dims[:-1] + list(out))
        return TensorShape(dims[:-1] + [out])

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_heads": self.num_heads, "key_dim": self.key_dim,
            "value_dim": self.value_dim, "dropout": self.dropout,
            "use_bias": self.use_bias, "output_shape": self._output_shape,
            "attention_axes": self.attention_axes,
            "sliding_window": self.sliding_window, "use_gate": self.use_gate,
            "seed": self.seed,
            **weight_options_config(self, "kernel", "bias", activity=True)})
        return config


def _check_attention_inputs(input_shape):
    """Early error for ``Attention``/``AdditiveAttention`` not called on a list."""
    if not isinstance(input_shape, (list, tuple)) or not input_shape or isinstance(
            input_shape[0], int) or input_shape[0] is None:
        raise ValueError("Attention layer must be called on a list of inputs, namely "
                         "[query, value] or [query, value, key]. Received: "
                         f"inputs={input_shape}.")
    if len(input_shape) not in (2, 3):
        raise ValueError("Attention layer accepts inputs list of length 2 or 3, namely "
                         "[query, value] or [query, value, key]. Received length: "
                         f"{len(input_shape)}.")


class Attention(Layer):
    """Dot-product attention: ``softmax(query @ key^T [* scale]) @ value``.

    Args:
      use_scale: if True, learn a scalar ``scale`` multiplying the scores.
      score_mode: 'dot' (``q . k``) or 'concat' (``sum(tanh(q + k))``).
      dropout: dropout rate on the attention probabilities (training only).
      seed: optional seed of that dropout.

    Call with ``[query, value]`` or ``[query, value, key]``; optional ``mask`` list
    ``[query_mask, value_mask]``, ``return_attention_scores``, ``use_causal_mask``.
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        if score_mode not in ("dot", "concat"):
            raise ValueError("Invalid value for argument score_mode. Expected one of "
                             f"{{'dot', 'concat'}}. Received: score_mode={score_mode}")
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.supports_masking = True

    def build(self, input_shape):
        _check_attention_inputs(input_shape)
        self.scale = self.add_weight("scale", shape=(), initializer="ones") \
            if self.use_scale else None
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight("concat_score_weight", shape=(),
                                                       initializer="ones")
        self.built = True

    def call(self, inputs, mask=None, training=None, return_attention_scores=False,
             use_causal_mask=False):
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        scores = self._scores(q, k)
        v_mask = mask[1] if mask is not None and len(mask) > 1 else None
        full = None if v_mask is None else _array.expand_dims(v_mask, -2)
        if use_causal_mask:
            causal = _array.expand_dims(_causal_like(q, k), 0)
            full = causal if full is None else _math.logical_and(full, causal)
        # Keras's Attention subtracts 1e9 from masked scores (no zeroed rows)
        probs = _nn.softmax(scores if full is None else _axes.mask_scores(scores, full),
                            axis=-1)
        if training and self.dropout > 0:
            probs = _nn.dropout(probs, rate=self.dropout, seed=self.seed)
        out = _linalg.matmul(probs, v)
        q_mask = mask[0] if mask is not None else None
        if q_mask is not None:
            out = out * _array.expand_dims(_math.cast(q_mask, out.dtype), -1)
        return (out, probs) if return_attention_scores else out

    def _scores(self, q, k):
        """(batch, Tq, Tv) attention logits."""
        if self.score_mode == "dot":
            scores = _linalg.matmul(q, k, transpose_b=True)
            return scores * self.scale if self.scale is not None else scores
        scale = self.scale if self.scale is not None else 1.0
        summed = _reduction.reduce_sum(
            _math.tanh(scale * (_array.expand_dims(q, -2) + _array.expand_dims(k, -3))),
            axis=-1)
        return self.concat_score_weight * summed

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else mask[0]

    def _symbolic_outputs(self, inputs, rest, kwargs):
        # the output structure depends on the call argument return_attention_scores,
        # which compute_output_shape cannot see: run the layer on placeholders
        from dlframe.keras.engine import node as _node
        return _node.dry_run_outputs(self, inputs, rest, kwargs)

    def compute_output_shape(self, input_shape):
        q, v = TensorShape(input_shape[0]).as_list(), TensorShape(input_shape[1]).as_list()
        return TensorShape(q[:-1] + v[-1:])

    def get_config(self):
        config = super().get_config()
        config.update({"use_scale": self.use_scale, "score_mode": self.score_mode,
                       "dropout": self.dropout, "seed": self.seed})
        return config


class AdditiveAttention(Attention):
    """Additive (Bahdanau-style) attention: ``softmax(sum(scale * tanh(q + k))) @ v``.

    Args:
      use_scale: if True, learn a per-feature ``scale`` vector (glorot-uniform
        initialized) multiplying the ``tanh`` terms before they are summed.
      dropout: dropout rate on the attention probabilities (training only).
      seed: optional seed of that dropout.

    Call with ``[query, value]`` or ``[query, value, key]`` of shapes
    ``(batch, Tq, dim)``/``(batch, Tv, dim)``; optional ``mask=[query_mask,
    value_mask]``, ``return_attention_scores``, ``use_causal_mask``.
    """

    def __init__(self, use_scale=True, dropout=0.0, seed=None, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, seed=seed, **kwargs)

    def build(self, input_shape):
        _check_attention_inputs(input_shape)
        dim = TensorShape(input_shape[0])[-1]
        self.scale = self.add_weight("scale", shape=(dim,),
                                     initializer="glorot_uniform") if self.use_scale else None
        self.built = True

    def _scores(self, q, k):
        terms = _math.tanh(_array.expand_dims(q, -2) + _array.expand_dims(k, -3))
        if self.scale is not None:
            terms = terms * self.scale
        return _reduction.reduce_sum(terms, axis=-1)

    def get_config(self):
        config = super().get_config()
        config.pop("score_mode", None)
        return config
