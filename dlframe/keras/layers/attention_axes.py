"""Multi-head attention over any set of axes (``MultiHeadAttention(attention_axes=)``).

After projection a tensor has the layout ``(batch, d1, ..., dk, heads, channels)``.
The attention axes are some of ``0 .. heads``; every other axis but ``channels`` is a
batch axis, so the scores have the layout ``(*batch axes, *query attention axes,
*key attention axes)``, and the softmax runs over the key attention axes jointly.
The computation moves the attention axes last, flattens them into one sequence axis
and reuses a plain batched matmul / softmax. The masked softmax of every attention
layer lives here too.
"""

import functools
import operator
import string

from dlframe.core.tensor import convert_to_tensor
from dlframe.errors import ShapeMismatchError
from dlframe.ops import array as _array
from dlframe.ops import einsum as _einsum
from dlframe.ops import linalg as _linalg
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops import nn as _nn

# The Attention layers mask additively: -1e9 is added to masked scores
_NEG = -1e9


def mask_scores(scores, mask):
    """``scores`` with ``-1e9`` added where the (broadcastable) bool ``mask`` is False."""
    # -1e9 overflows float16 to -inf (and 0 * -inf is NaN): its lowest finite value
    neg = -65504.0 if scores.dtype.name == "float16" else _NEG
    return scores + (1.0 - _math.cast(mask, scores.dtype)) * neg


def _keep(mask):
    """A Keras Softmax mask as bool: True (or > 0.5) keeps a position."""
    mask = convert_to_tensor(mask)
    if mask.dtype.is_bool:
        return mask
    # integer masks too (0/1 from a tokenizer): compared as floats
    return _math.greater(_math.cast(mask, "float32"), 0.5)


def _where(keep, x, fill):
    return _logic.where(keep, x, _math.cast(fill, x.dtype))


def _large_negative(dtype):
    """Keras's Softmax fill for masked scores (-1e9 overflows float16)."""
    return -3e4 if dtype.name == "float16" else _NEG


def masked_softmax(scores, mask, axis=-1, softmax=_nn.softmax):
    """Softmax over ``axis`` masked as Keras 3's Softmax layer (MultiHeadAttention's).

    Masked scores are replaced by a large negative number and masked probabilities
    set to 0, so a row whose keys are all masked is all zeros (TF 2.21), not uniform.
    ``softmax(x, axis=)`` computes the unmasked softmax.
    """
    if mask is None:
        return softmax(scores, axis=axis)
    keep = _keep(mask)
    masked = _where(keep, scores, _large_negative(scores.dtype))
    return _where(keep, softmax(masked, axis=axis), 0.0)


def normalize_axes(axes, rank):
    """Attention axes of a projected tensor of rank ``rank`` as a tuple.

    ``None`` means every axis between the batch and the heads axis; a negative axis
    counts from the heads axis (``-1`` is the heads axis), as Keras does.
    """
    if axes is None:
        return tuple(range(1, rank - 2))
    out = tuple(a if a >= 0 else (rank - 1) + a for a in axes)
    for given, axis in zip(axes, out):
        if not 0 <= axis < rank - 1:
            raise ValueError(
                "Invalid value for argument `attention_axes`: each axis must index a "
                f"non-feature axis of the {rank - 2}-D input. Received: "
                f"attention_axes={tuple(axes)} (axis {given})")
    if len(set(out)) != len(out):
        raise ValueError("Invalid value for argument `attention_axes`: axes repeat. "
                         f"Received: attention_axes={tuple(axes)}")
    return out


def _dims(x):
    """``x``'s sizes: Python ints where known statically, scalar tensors elsewhere."""
    dynamic = None
    out = []
    for i, size in enumerate(x.shape):
        if size is None:
            dynamic = _array.shape(x) if dynamic is None else dynamic
            size = dynamic[i]
        out.append(size)
    return out


def _prod(sizes):
    return functools.reduce(operator.mul, sizes, 1)


def project(x, kernel, bias):
    """``x[..., d] @ kernel[d, *out] + bias[*out]`` (one EinsumDense projection)."""
    out = string.ascii_lowercase[1:kernel.shape.rank]
    y = _einsum.einsum(f"...a,a{out}->...{out}", x, kernel)
    return y if bias is None else y + bias


def combine(ctx, kernel, bias):
    """Output projection: ``ctx[..., heads, channels] @ kernel[heads, channels, *out]``."""
    out = string.ascii_lowercase[2:kernel.shape.rank]
    y = _einsum.einsum(f"...ab,ab{out}->...{out}", ctx, kernel)
    return y if bias is None else y + bias


def expand_mask(mask, scores_rank, num_axes, scores_shape):
    """Keras's mask expansion: new axes before the query attention axes until the
    mask has the scores' rank; then a check that it broadcasts to the scores."""
    mask = _math.cast(mask, "bool")
    axis = -2 * num_axes - 1
    while mask.shape.rank < scores_rank:
        if axis < -mask.shape.rank - 1:
            raise ValueError(
                f"The attention mask of shape {tuple(mask.shape)} cannot be expanded to "
                f"the attention scores of shape {tuple(scores_shape)}: axis {axis} is "
                f"out of bounds for a mask with {mask.shape.rank} dimensions.")
        mask = _array.expand_dims(mask, axis)
    if mask.shape.rank > scores_rank or any(
            m is not None and s is not None and m not in (1, s)
            for m, s in zip(mask.shape, scores_shape)):
        # TF: InvalidArgumentError from the eager kernel, ValueError when traced
        raise ShapeMismatchError(
            "The `mask` must be broadcastable to `inputs`. Each mask dimension must "
            "be 1 or match the corresponding input dimension. Received: "
            f"inputs.shape={tuple(scores_shape)}, mask.shape={tuple(mask.shape)}")
    return mask


def _to_sequence(x, batch, axes):
    """``x`` with its attention axes flattened into one axis before the channels."""
    dims = _dims(x)
    rank = len(dims)
    moved = _array.transpose(x, list(batch) + list(axes) + [rank - 1])
    flat = [dims[a] for a in batch] + [_prod(dims[a] for a in axes), dims[-1]]
    return _array.reshape(moved, flat), [dims[a] for a in axes]


def attend(q, k, v, axes, mask=None, dropout=None):
    """Scaled-already ``q`` attends to ``k``/``v`` over ``axes`` of the projected layout.

    Args:
      q, k, v: projected tensors ``(batch, ..., heads, channels)`` of equal rank.
      axes: normalized attention axes (see ``normalize_axes``).
      mask: optional bool mask, expanded as Keras does (``expand_mask``).
      dropout: optional function applied to the probabilities before they weight
        the values (training dropout).

    Returns:
      ``(context, probabilities)``: context in ``q``'s layout with ``v``'s channels;
      probabilities ``(*batch axes, *query attention axes, *key attention axes)``.
    """
    rank = q.shape.rank
    batch = [a for a in range(rank - 1) if a not in axes]
    q_seq, q_sizes = _to_sequence(q, batch, axes)
    k_seq, k_sizes = _to_sequence(k, batch, axes)
    v_seq, _ = _to_sequence(v, batch, axes)
    scores = _linalg.matmul(q_seq, k_seq, transpose_b=True)   # (*batch, Tq, Tk)
    batch_sizes = _dims(scores)[:-2]
    full_shape = batch_sizes + q_sizes + k_sizes
    keep = None
    if mask is not None:   # in the scores' (*batch, Tq, Tk) layout
        static = [s if isinstance(s, int) else None for s in full_shape]
        keep = expand_mask(mask, len(full_shape), len(axes), static)
        keep = _array.reshape(_array.broadcast_to(keep, full_shape), _dims(scores))
    probs = masked_softmax(scores, keep)
    weighted = dropout(probs) if dropout is not None else probs
    ctx = _linalg.matmul(weighted, v_seq)
    ctx = _array.reshape(ctx, batch_sizes + q_sizes + [_dims(v)[-1]])
    order = list(batch) + list(axes) + [rank - 1]
    inverse = [order.index(a) for a in range(rank)]
    return (_array.transpose(ctx, inverse),
            _array.reshape(probs, full_shape))

