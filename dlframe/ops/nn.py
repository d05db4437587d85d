"""Neural-network ops (tf.nn): activations, softmax and cross-entropies; the tf.nn
name table (NN_NAMES) also covers ops/nn_impl.py (normalization, dropout, embeddings,
loss helpers).

Hot or numerically delicate ops are primitives (relu, softmax, the cross-entropies);
the rest are compositions of primitives without gradient rules of their own
(DESIGN.md §4). Convolution and pooling live in ops/conv.py and ops/pooling.py.
"""

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.static_dims import merge_dims
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops import array as a
from dlframe.ops import math as m
from dlframe.ops import reduction as r
from dlframe.ops import row_kernels as _rows
from dlframe.ops._util import operands, t
from dlframe.ops.math import sigmoid, softplus, softsign, tanh  # noqa: F401 - tf.nn names
from dlframe.ops.nn_impl import (  # noqa: F401
    REPLICA_HOOK,
    batch_normalization,
    bias_add,
    compute_average_loss,
    dropout,
    embedding_lookup,
    l2_normalize,
    moments,
    normalize_moments,
    scale_regularization_loss,
    sufficient_statistics,
    weighted_moments,
    zero_fraction,
)

_REAL_FLOAT_NAMES = "half, bfloat16, float, double"


def _require_float(op, x):
    if x._value.dtype.kind != "f" and not x.dtype.is_floating:  # bfloat16: kind "V"
        raise InvalidArgumentError(
            f"{op}: Value for attr 'T' of {x.dtype.name} is not in the list of allowed "
            f"values: {_REAL_FLOAT_NAMES} [Op:{op}]")


def _float_input(op, x):
    x = x if isinstance(x, Tensor) else convert_to_tensor(x)
    _require_float(op, x)
    return x


# ---------------------------------------------------------------- relu family
@primitive("Relu")
def relu_p(d, x):
    return d.xp.maximum(x, 0)


# NumPy's maximum against a broadcast scalar runs ~2.7x slower than against an
# array operand (the scalar path is not vectorized), so the CPU kernels compare
# row-long pieces with one cached row of zeros
_ZERO_ROW = 4096
_zero_rows = {}


def _zero_row(dtype):
    row = _zero_rows.get(dtype)
    if row is None:
        row = _zero_rows[dtype] = np.zeros(_ZERO_ROW, dtype)
        row.flags.writeable = False
    return row


def relu_into(x, out):
    """``max(x, 0)`` of a NumPy array into ``out`` (may be ``x``), as ``relu_p``."""
    n = x.size
    if (n < _ZERO_ROW or x.dtype.kind != "f" or not x.flags.c_contiguous
            or not out.flags.c_contiguous):
        return np.maximum(x, 0, out=out)
    flat, dst = x.reshape(-1), out.reshape(-1)
    body = n - n % _ZERO_ROW
    zero = _zero_row(x.dtype)
    np.maximum(flat[:body].reshape(-1, _ZERO_ROW), zero,
               out=dst[:body].reshape(-1, _ZERO_ROW))
    if body < n:
        np.maximum(flat[body:], zero[:n - body], out=dst[body:])
    return out


relu_p.into = relu_into


@primitive("ReluGrad")
def relu_grad_p(d, dy, out):
    return dy * (out > 0)


relu_grad_p.into = lambda dy, y, out: np.multiply(dy, y > 0, out=out)


@relu_p.defgrad
def _relu_grad(inputs, out, dy):
    return call(relu_grad_p, (dy, out))


@relu_grad_p.defgrad
def _relu_grad_grad(inputs, out, ddy):
    return call(relu_grad_p, (ddy, inputs[1])), m.zeros_like(inputs[1])


def relu(features, name=None):
    """Rectified linear unit: ``max(features, 0)``."""
    x = features if isinstance(features, Tensor) else convert_to_tensor(features)
    if x._value.dtype.kind not in "fiu" and not x.dtype.is_floating:
        raise InvalidArgumentError(
            f"Relu: Value for attr 'T' of {x.dtype.name} is not in the list of allowed "
            "values: float, double, int32, uint8, int16, int8, int64, bfloat16, uint16, "
            "half, uint32, uint64 [Op:Relu]")
    return call(relu_p, (x,))


@primitive("Relu6")
def relu6_p(d, x):
    return d.xp.clip(x, 0, 6).astype(x.dtype, copy=False)


@primitive("Relu6Grad")
def relu6_grad_p(d, dy, x):
    return (dy * ((x > 0) & (x < 6))).astype(dy.dtype, copy=False)


@relu6_p.defgrad
def _relu6_grad(inputs, out, dy):
    return call(relu6_grad_p, (dy, inputs[0]))


@relu6_grad_p.defgrad
def _relu6_grad_grad(inputs, out, ddy):
    return call(relu6_grad_p, (ddy, inputs[1])), m.zeros_like(inputs[1])


def relu6(features, name=None):
    """``min(max(features, 0), 6)``."""
    x = features if isinstance(features, Tensor) else convert_to_tensor(features)
    if x._value.dtype.kind not in "fiu" and not x.dtype.is_floating:
        raise InvalidArgumentError(f"Relu6: Value for attr 'T' of {x.dtype.name} is not "
                                   "in the list of allowed values: real numbers [Op:Relu6]")
    return call(relu6_p, (x,))


@primitive("LeakyRelu")
def leaky_relu_p(d, x, *, alpha):
    return d.xp.where(x > 0, x, x * alpha).astype(x.dtype, copy=False)


@primitive("LeakyReluGrad")
def leaky_relu_grad_p(d, dy, x, *, alpha):
    return d.xp.where(x > 0, dy, dy * alpha).astype(dy.dtype, copy=False)


@leaky_relu_p.defgrad
def _leaky_relu_grad(inputs, out, dy, *, alpha):
    return call(leaky_relu_grad_p, (dy, inputs[0]), {"alpha": alpha})


@leaky_relu_grad_p.defgrad
def _leaky_relu_grad_grad(inputs, out, ddy, *, alpha):
    return (call(leaky_relu_grad_p, (ddy, inputs[1]), {"alpha": alpha}),
            m.zeros_like(inputs[1]))


def leaky_relu(features, alpha=0.2, name=None):
    """``features`` where positive, else ``alpha * features`` (ints become float32)."""
    x = t(features)
    if x._value.dtype.kind in "iu":
        x = m.cast(x, dtypes.float32)
    _require_float("LeakyRelu", x)
    return call(leaky_relu_p, (x,), {"alpha": float(alpha)})


@primitive("Elu")
def elu_p(d, x, *, alpha):
    xp = d.xp
    return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0))).astype(x.dtype, copy=False)


@primitive("EluGrad")
def elu_grad_p(d, dy, out, *, alpha):
    # TF's EluGrad/SeluGrad: the linear branch at 0 too (selu'(0) = scale, not
    # scale * alpha)
    return d.xp.where(out < 0, dy * (out + alpha), dy).astype(dy.dtype, copy=False)


@elu_p.defgrad
def _elu_grad(inputs, out, dy, *, alpha):
    return call(elu_grad_p, (dy, out), {"alpha": alpha})


@elu_grad_p.defgrad
def _elu_grad_grad(inputs, out, ddy, *, alpha):
    dy, elu_out = inputs
    negative = m.cast(m.less(elu_out, 0), ddy.dtype)
    return (call(elu_grad_p, (ddy, elu_out), {"alpha": alpha}),
            m.multiply(m.multiply(ddy, dy), negative))


def _elu(x, alpha, op):
    x = _float_input(op, x)
    return call(elu_p, (x,), {"alpha": float(alpha)})


def elu(features, name=None):
    """Exponential linear unit: ``x`` if ``x > 0`` else ``exp(x) - 1``."""
    return _elu(features, 1.0, "Elu")


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(features, name=None):
    """Scaled ELU: ``scale * elu(x, alpha)`` with the self-normalizing constants."""
    return m.multiply(_elu(features, _SELU_ALPHA, "Selu"), _SELU_SCALE)


def gelu(features, approximate=False, name=None):
    """Gaussian error linear unit.

    Args:
      features: a floating point tensor.
      approximate: use the tanh approximation instead of the exact erf form.
    """
    x = _float_input("Gelu", features)
    if x.dtype in (dtypes.bfloat16, dtypes.float16):   # one rounding at the end, as TF
        return m.cast(gelu(m.cast(x, dtypes.float32), approximate), x.dtype)
    if approximate:
        inner = m.multiply(0.7978845608028654,
                           m.add(x, m.multiply(0.044715, m.multiply(x, m.square(x)))))
        return m.multiply(m.multiply(0.5, x), m.add(m.tanh(inner), 1.0))
    # TF's form: erfc keeps the far negative tail (1 + erf(x) rounds to 0 there)
    return m.multiply(m.multiply(0.5, x),
                      m.erfc(m.multiply(x, -0.7071067811865476)))


def silu(features, beta=1.0, name=None):
    """Sigmoid linear unit (swish): ``features * sigmoid(beta * features)``."""
    x = _float_input("Silu", features)
    z = x if beta == 1.0 else m.multiply(x, beta)
    return m.multiply(x, m.sigmoid(z))


swish = silu


def crelu(features, axis=-1, name=None):
    """Concatenated ReLU: ``concat([relu(x), relu(-x)], axis)``."""
    x = t(features)
    return a.concat([relu(x), relu(m.negative(x))], axis)


# ---------------------------------------------------------------- softmax
def _softmax_axis(axis, ndim):
    axis = -1 if axis is None else int(axis)
    if not -ndim <= axis < max(ndim, 1):
        raise InvalidArgumentError(
            f"`dim` must be in the range [{-ndim}, {ndim}) where {ndim} is the number of "
            f"dimensions in the input. Received: dim={axis}")
    return axis % max(ndim, 1)


@primitive("Softmax")
def softmax_p(d, x, *, axis):
    half = x.dtype.itemsize == 2   # float16 / bfloat16: one rounding, at the end
    if half:   # the float32 copy is the only float32 buffer: the steps run in place
        e = x.astype("float32")
        e -= _rows.max_keepdims(d.xp, e, axis)
    else:
        e = x - _rows.max_keepdims(d.xp, x, axis)
    d.xp.exp(e, out=e)
    e /= _rows.sum_keepdims(d.xp, e, axis)
    return e.astype(x.dtype) if half else e


@primitive("SoftmaxGrad")
def softmax_grad_p(d, dy, out, *, axis):
    return out * (dy - _rows.sum_keepdims(d.xp, dy * out, axis))


@softmax_p.defgrad
def _softmax_grad(inputs, out, dy, *, axis):
    return call(softmax_grad_p, (dy, out), {"axis": axis})


@softmax_grad_p.defgrad
def _softmax_grad_grad(inputs, out, ddy, *, axis):
    dy, sm = inputs
    g_dy = call(softmax_grad_p, (ddy, sm), {"axis": axis})
    s = r.reduce_sum(m.multiply(dy, sm), axis=axis, keepdims=True)
    q = r.reduce_sum(m.multiply(ddy, sm), axis=axis, keepdims=True)
    g_sm = m.subtract(m.multiply(ddy, m.subtract(dy, s)), m.multiply(dy, q))
    return g_dy, g_sm


def softmax(logits, axis=None, name=None):
    """``exp(logits) / reduce_sum(exp(logits), axis)``, computed stably."""
    x = _float_input("Softmax", logits)
    return call(softmax_p, (x,), {"axis": _softmax_axis(axis, x._value.ndim)})


@primitive("LogSoftmax")
def log_softmax_p(d, x, *, axis):
    xp = d.xp
    if x.size == 0:   # (no log(0) warning for an empty class axis)
        return x.copy()
    shifted = x - _rows.max_keepdims(xp, x, axis)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


@log_softmax_p.defgrad
def _log_softmax_grad(inputs, out, dy, *, axis):
    total = r.reduce_sum(dy, axis=axis, keepdims=True)
    return m.subtract(dy, m.multiply(m.exp(out), total))


def log_softmax(logits, axis=None, name=None):
    """``logits - log(reduce_sum(exp(logits), axis))``, computed stably."""
    x = _float_input("LogSoftmax", logits)
    return call(log_softmax_p, (x,), {"axis": _softmax_axis(axis, x._value.ndim)})


# ---------------------------------------------------------------- cross-entropies
@primitive("SoftmaxCrossEntropyWithLogits")
def softmax_xent_p(d, labels, logits, *, axis):
    xp = d.xp
    shifted = logits - logits.max(axis=axis, keepdims=True)
    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
    return -(labels * log_probs).sum(axis=axis)


def _softmax_xent_static_shape(in_dims, attrs):
    dims = merge_dims(*in_dims)
    return [n for i, n in enumerate(dims) if i != attrs["axis"] % len(dims)]


softmax_xent_p.static_shape = _softmax_xent_static_shape


@softmax_xent_p.defgrad
def _softmax_xent_grad(inputs, out, dy, *, axis):
    labels, logits = inputs
    dy = a.expand_dims(dy, axis)
    sm = call(softmax_p, (logits,), {"axis": axis})
    label_mass = r.reduce_sum(labels, axis=axis, keepdims=True)
    g_logits = m.multiply(dy, m.subtract(m.multiply(sm, label_mass), labels))
    g_labels = m.multiply(dy, m.negative(call(log_softmax_p, (logits,), {"axis": axis})))
    return g_labels, g_logits


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    """Cross-entropy between ``labels`` (a distribution) and ``softmax(logits)``.

    Args:
      labels: broadcastable to ``logits``; each slice along ``axis`` a distribution.
        As TF, they are cast to the logits' dtype (integer one-hot labels work).
      logits: unscaled log probabilities.
      axis: the class dimension.

    Returns:
      A tensor of the shape of ``logits`` without ``axis``.
    """
    logits = t(logits)
    _require_float("SoftmaxCrossEntropyWithLogits", logits)
    labels = t(labels) if isinstance(labels, Tensor) else convert_to_tensor(
        labels, dtype=logits.dtype)
    if labels.dtype != logits.dtype:
        labels = m.cast(labels, logits.dtype)
    labels, logits = operands(labels, logits, "SoftmaxCrossEntropyWithLogits")
    if labels._value.shape != logits._value.shape:
        try:
            np.broadcast_shapes(labels._value.shape, logits._value.shape)
            if np.broadcast_shapes(labels._value.shape,
                                   logits._value.shape) != logits._value.shape:
                raise ValueError
        except ValueError:
            raise InvalidArgumentError(
                f"logits and labels must be broadcastable: logits_size="
                f"{list(logits._value.shape)} labels_size={list(labels._value.shape)} "
                "[Op:SoftmaxCrossEntropyWithLogits]") from None
        labels = a.broadcast_to(labels, list(logits._value.shape))
    ax = _softmax_axis(axis, logits._value.ndim)
    if logits.dtype in (dtypes.float16, dtypes.bfloat16):   # computed in float32, as TF
        loss = call(softmax_xent_p, (m.cast(labels, dtypes.float32),
                                     m.cast(logits, dtypes.float32)), {"axis": ax})
        return m.cast(loss, logits.dtype)
    return call(softmax_xent_p, (labels, logits), {"axis": ax})


@primitive("SparseSoftmaxCrossEntropyWithLogits")
def sparse_softmax_xent_p(d, labels, logits):
    xp = d.xp
    classes = logits.shape[-1]
    bad = (labels < 0) | (labels >= classes)
    if not d.is_gpu and labels.size and bad.any():
        value = int(labels[bad].ravel()[0])
        shown = " ".join(str(int(v)) for v in labels.ravel()[:64])
        raise InvalidArgumentError(
            f"Received a label value of {value} which is outside the valid range of "
            f"[0, {classes}).  Label values: {shown} [Op:SparseSoftmaxCrossEntropyWithLogits]")
    safe = xp.where(bad, 0, labels) if d.is_gpu else labels
    shifted = logits - logits.max(axis=-1, keepdims=True)
    lse = xp.log(xp.exp(shifted).sum(axis=-1))
    picked = xp.take_along_axis(shifted, safe[..., None].astype(xp.intp), axis=-1)[..., 0]
    loss = lse - picked
    if d.is_gpu:  # like TF on GPU: no host sync, NaN for out-of-range labels
        loss = xp.where(bad, xp.asarray(float("nan"), dtype=loss.dtype), loss)
    return loss.astype(logits.dtype, copy=False)   # (CuPy widens bfloat16 math)


@primitive("OneHotSubtract")
def _onehot_sub_p(d, probs, labels):
    out = probs.copy()
    rows = out.reshape(-1, out.shape[-1])
    flat = labels.reshape(-1)
    rows[d.xp.arange(flat.size), flat] -= 1
    return out


@_onehot_sub_p.defgrad
def _onehot_sub_grad(inputs, out, dy):
    return dy, None


sparse_softmax_xent_p.static_shape = lambda in_dims, attrs: merge_dims(
    in_dims[0], in_dims[1][:-1])


@sparse_softmax_xent_p.defgrad
def _sparse_softmax_xent_grad(inputs, out, dy):
    labels, logits = inputs
    sm = call(softmax_p, (logits,), {"axis": logits._value.ndim - 1})
    return None, m.multiply(a.expand_dims(dy, -1), call(_onehot_sub_p, (sm, labels)))


def sparse_softmax_cross_entropy_with_logits(labels, logits, name=None):
    """Cross-entropy between integer class ``labels`` and ``softmax(logits)``.

    Args:
      labels: int32/int64 class indices of shape ``logits.shape[:-1]``, in
        ``[0, num_classes)`` (out-of-range labels raise on CPU, give NaN on GPU).
      logits: float tensor ``[..., num_classes]``.
    """
    logits = t(logits)
    labels = t(labels) if isinstance(labels, Tensor) else convert_to_tensor(
        labels, device=logits._device)
    _require_float("SparseSoftmaxCrossEntropyWithLogits", logits)
    if logits._value.ndim == 0:
        raise InvalidArgumentError("SparseSoftmaxCrossEntropyWithLogits: logits must have "
                                   "rank >= 1 (a class dimension), got a scalar")
    shapes = (tuple(labels._value.shape), tuple(logits._value.shape))
    if len(shapes[0]) != len(shapes[1]) - 1:   # TF checks ranks before dtypes
        raise ValueError(
            "`labels.shape.rank` must equal `logits.shape.rank - 1`. Received: "
            f"labels.shape={shapes[0]} of rank {len(shapes[0])} and "
            f"logits.shape={shapes[1]} of rank {len(shapes[1])}")
    if shapes[0] != shapes[1][:-1]:
        raise ValueError(
            "`labels.shape` must equal `logits.shape` except for the last dimension. "
            f"Received: labels.shape={shapes[0]} and logits.shape={shapes[1]}")
    if labels._value.dtype.kind not in "iu":
        raise InvalidArgumentError(
            f"SparseSoftmaxCrossEntropyWithLogits: labels must be int32 or int64, got "
            f"{labels.dtype.name}")
    return call(sparse_softmax_xent_p, (labels, logits))


@primitive("SigmoidCrossEntropyWithLogits")
def sigmoid_xent_p(d, labels, logits):
    xp = d.xp
    return xp.maximum(logits, 0) - logits * labels + xp.log1p(xp.exp(-xp.abs(logits)))


@sigmoid_xent_p.defgrad
def _sigmoid_xent_grad(inputs, out, dy):
    labels, logits = inputs
    return (m.multiply(dy, m.negative(logits)),
            m.multiply(dy, m.subtract(m.sigmoid(logits), labels)))


def _same_shape_pair(labels, logits, op):
    logits = t(logits)
    labels, logits = operands(labels, logits, op)
    _require_float(op, logits)
    if labels._value.shape != logits._value.shape:
        raise ValueError(
            f"`logits` and `labels` must have the same shape, received "
            f"({tuple(logits._value.shape)} vs {tuple(labels._value.shape)}).")
    return labels, logits


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Elementwise ``-z*log(sigmoid(x)) - (1-z)*log(1-sigmoid(x))``, computed stably."""
    if labels is None or logits is None:
        raise ValueError("Both `labels` and `logits` must be provided to "
                         "sigmoid_cross_entropy_with_logits.")
    labels, logits = _same_shape_pair(labels, logits, "SigmoidCrossEntropyWithLogits")
    return call(sigmoid_xent_p, (labels, logits))


def weighted_cross_entropy_with_logits(labels, logits, pos_weight, name=None):
    """Sigmoid cross-entropy with positive examples weighted by ``pos_weight``."""
    labels, logits = _same_shape_pair(labels, logits, "WeightedCrossEntropyWithLogits")
    if not isinstance(pos_weight, Tensor):
        pos_weight = convert_to_tensor(pos_weight, dtype=logits.dtype, device=logits._device)
    log_weight = m.add(m.multiply(m.subtract(pos_weight, 1.0), labels), 1.0)
    return m.add(m.multiply(m.subtract(1.0, labels), logits),
                 m.multiply(log_weight, m.softplus(m.negative(logits))))


def log_poisson_loss(targets, log_input, compute_full_loss=False, name=None):
    """Negative log-likelihood of ``targets`` under a Poisson of rate ``exp(log_input)``.

    Args:
      compute_full_loss: add the Stirling approximation of ``log(targets!)``.
    """
    log_input = t(log_input)
    targets, log_input = operands(targets, log_input, "LogPoissonLoss")
    if targets._value.shape != log_input._value.shape:
        raise ValueError(
            f"`log_input` and `targets` must have the same shape, received "
            f"({tuple(log_input._value.shape)} vs {tuple(targets._value.shape)}).")
    result = m.subtract(m.exp(log_input), m.multiply(log_input, targets))
    if compute_full_loss:
        safe = m.where(m.greater(targets, 0), targets, m.ones_like(targets))
        stirling = m.add(m.subtract(m.multiply(targets, m.log(safe)), targets),
                         m.multiply(0.5, m.log(m.multiply(6.283185307179586, safe))))
        small = m.logical_and(m.greater_equal(targets, 0), m.less_equal(targets, 1))
        result = m.add(result, m.where(small, m.zeros_like(targets), stirling))
    return result


def l2_loss(t_, name=None):
    """``sum(t ** 2) / 2``."""
    x = _float_input("L2Loss", t_)
    return m.multiply(r.reduce_sum(m.square(x)), 0.5)


__all__ = []  # tf.nn has no top-level (tf.X) names of its own
NN_NAMES = [
    "batch_normalization", "bias_add", "compute_average_loss", "crelu", "dropout", "elu",
    "embedding_lookup", "gelu", "l2_loss", "l2_normalize", "leaky_relu", "log_poisson_loss",
    "log_softmax", "moments", "normalize_moments", "relu", "relu6", "scale_regularization_loss", "selu",
    "sigmoid", "sigmoid_cross_entropy_with_logits", "silu", "softmax",
    "softmax_cross_entropy_with_logits", "softplus", "softsign",
    "sparse_softmax_cross_entropy_with_logits", "sufficient_statistics", "swish", "tanh",
    "weighted_cross_entropy_with_logits", "weighted_moments", "zero_fraction",
]

MATH_NAMES = ["softmax", "log_softmax", "l2_normalize", "zero_fraction"]
