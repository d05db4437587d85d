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
from dlframe.ops import logic as _logic


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
