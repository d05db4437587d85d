"""``tf.compat.v1.nn``: TF1's extra ``nn`` functions in front of TF2's ``tf.nn``.

The RNN API lives in ``v1_rnn_cell`` and ``v1_rnn_wrappers`` (``rnn_cell``) and
``v1_rnn``; the native-op names (convolution backprops, ``fused_batch_norm``, CTC,
``experimental``'s dropouts) in ``v1_nn_native`` and the quantized ops in
``v1_nn_quantized``.
"""

from types import SimpleNamespace as _Namespace

import dlframe as _tf
from dlframe.compat import v1_nn_embedding as _embedding
from dlframe.compat import v1_nn_native as _native
from dlframe.compat import v1_nn_quantized as _quantized
from dlframe.compat import v1_ops_args as _args
from dlframe.compat import v1_rnn as _rnn
from dlframe.compat import v1_rnn_cell as _cells
from dlframe.compat import v1_rnn_wrappers as _cell_wrappers
from dlframe.compat.v1_ops import _one_of

rnn_cell = _Namespace(**{name: getattr(module, name)
                         for module in (_cells, _cell_wrappers)
                         for name in module.__all__})
experimental = _Namespace(general_dropout=_native.general_dropout,
                          stateless_dropout=_native.stateless_dropout)


def xw_plus_b(x, weights, biases, name=None):
    """``matmul(x, weights) + biases``."""
    return _tf.nn.bias_add(_tf.linalg.matmul(x, weights), biases, name=name)


def relu_layer(x, weights, biases, name=None):
    """``relu(matmul(x, weights) + biases)``."""
    return _tf.nn.relu(xw_plus_b(x, weights, biases), name=name)


def softmax_cross_entropy_with_logits_v2(labels, logits, axis=None, name=None,
                                         dim=None):
    """Softmax cross entropy along ``axis`` (or TF1's ``dim``; default -1)."""
    axis = _one_of(axis, "axis", dim, "dim")
    return _tf.nn.softmax_cross_entropy_with_logits(
        labels=labels, logits=logits, axis=-1 if axis is None else axis, name=name)


def softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None,
                                      dim=-1, name=None, axis=None):
    """TF1's keyword-only form (labels get no gradient in TF1; use ``_v2`` for
    that)."""
    if _sentinel is not None:
        raise ValueError("Only call `softmax_cross_entropy_with_logits` with named "
                         "arguments (labels=..., logits=..., ...). Received "
                         f"unnamed argument: {_sentinel!r}")
    axis = _one_of(axis, "axis", None if dim == -1 else dim, "dim")
    return softmax_cross_entropy_with_logits_v2(
        _tf.stop_gradient(labels), logits, axis=axis, name=name)


def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None,
                                             logits=None, name=None):
    """TF1's keyword-only form of ``tf.nn.sparse_softmax_cross_entropy_with_logits``."""
    if _sentinel is not None:
        raise ValueError("Only call `sparse_softmax_cross_entropy_with_logits` with "
                         "named arguments (labels=..., logits=..., ...). Received "
                         f"unnamed argument: {_sentinel!r}")
    return _tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                           logits=logits, name=name)


def max_pool_v2(input, ksize, strides, padding, data_format=None, name=None):
    """``tf.nn.max_pool`` (TF1's name)."""
    return _tf.nn.max_pool(input, ksize, strides, padding, data_format=data_format,
                           name=name)


def avg_pool_v2(input, ksize, strides, padding, data_format=None, name=None):
    """``tf.nn.avg_pool`` (TF1's name)."""
    return _tf.nn.avg_pool(input, ksize, strides, padding, data_format=data_format,
                           name=name)


_TABLES = (_native, _quantized, _rnn, _embedding)
globals().update({name: getattr(module, name) for module in _TABLES
                  for name in module.__all__})
globals().update({name: getattr(_args, name) for name in _args.NN_NAMES})

__all__ = [
    "avg_pool_v2",
    "experimental",
    "max_pool_v2",
    "relu_layer",
    "rnn_cell",
    "softmax_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits_v2",
    "sparse_softmax_cross_entropy_with_logits",
    "xw_plus_b",
] + [name for module in _TABLES for name in module.__all__] + [
    name for name in _args.NN_NAMES]
