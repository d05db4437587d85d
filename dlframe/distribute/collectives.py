"""All-reduce inside a replica function, with TF's gradient.

``ReplicaContext.all_reduce`` is a ``merge_call``: every replica hands in its
leaves, the cross-replica context reduces them once, each replica gets the result.
Its gradient is the same all-reduce of the replicas' upstream gradients (replica
``i``'s input feeds every replica's output), so a loss on reduced values -- the
global batch statistics of a synchronized BatchNormalization -- backpropagates to
every replica's inputs. Every replica must take the gradient, as every replica made
the call.
"""

from dlframe.core.custom_gradient import custom_gradient
from dlframe.ops import array as _array
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red


def merge_all_reduce(ctx, op, leaves):
    """The all-reduce of ``leaves`` (a list of tensors) through ``ctx.merge_call``;
    this replica's reduced tensors, as a list."""
    def merge(strategy, *leaves):
        return tuple(strategy.extended._all_reduce_leaves(op, list(leaves)))
    return list(ctx.merge_call(merge, args=tuple(leaves)))


def differentiable_all_reduce(ctx, op, leaves):
    """``merge_all_reduce`` recorded on the active tapes with the all-reduce of the
    upstream gradients (same ``op``) as its gradient."""
    @custom_gradient
    def reduce_leaves(*xs):
        ys = merge_all_reduce(ctx, op, xs)

        def grad(*dys):
            dys = [_logic.zeros_like(y) if dy is None else dy for y, dy in zip(ys, dys)]
            return merge_all_reduce(ctx, op, dys)
        return ys, grad
    return list(reduce_leaves(*leaves))


def sync_moments(ctx, x, axes):
    """Mean and variance of ``x`` over ``axes`` and over the replicas of ``ctx``.

    Two all-reduces, NumPy's two-pass method on the global batch: the sums and
    counts give the global mean, then the replicas' sums of squared (and plain)
    deviations from it give the variance, with the rounding of the mean corrected.
    Unlike ``E[x^2] - mean^2`` this keeps float32 precision for inputs with a large
    mean and a small spread (pixel values near 1000, say). Both reductions are
    differentiable, so the gradient flows to every replica's inputs.

    Args:
      ctx: the ``ReplicaContext`` of the calling replica (several replicas).
      x: this replica's tensor.
      axes: list of the axes reduced.

    Returns:
      ``(mean, variance)``, the reduced axes dropped.
    """
    total, count = ctx.all_reduce("sum", [
        _red.reduce_sum(x, axis=axes, keepdims=True),
        _red.reduce_sum(_logic.ones_like(x), axis=axes, keepdims=True)])
    shift = total / count
    deviation = x - shift
    square_sum, deviation_sum = ctx.all_reduce("sum", [
        _red.reduce_sum(_math.square(deviation), axis=axes),
        _red.reduce_sum(deviation, axis=axes)])
    count = _array.squeeze(count, axes)
    correction = deviation_sum / count
    mean = _array.squeeze(shift, axes) + correction
    return mean, _math.maximum(square_sum / count - _math.square(correction), 0.0)
