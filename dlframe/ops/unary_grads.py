"""Gradient primitives of sqrt, rsqrt and reciprocal with TF's zero rule.

TF computes these gradients with dedicated kernels (``SqrtGrad``, ``RsqrtGrad``,
``ReciprocalGrad``) that give 0 wherever the incoming gradient is 0, even where the
derivative itself is infinite. That is what keeps the common "safe" pattern
``tf.where(d > 0, tf.sqrt(d), 0.)`` free of NaN gradients at ``d == 0``: the branch
not taken receives a zero gradient, and ``0 * inf`` would otherwise be NaN.

Each kernel is ``dy * s(y)`` for the op's output ``y`` (``s`` the derivative written
in terms of the output), and is itself differentiable.
"""

from dlframe.backends.base import np
from dlframe.core.primitive import call, primitive
from dlframe.ops import math_binary as mb


def _scaled_grad_prim(name, scale, dscale):
    """Primitive ``name(y, dy) = dy * scale(y)``, 0 where ``dy == 0``; ``dscale`` is
    ``scale``'s derivative as a function of Tensors (for second derivatives)."""
    @primitive(name)
    def p(d, y, dy):
        xp = d.xp
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = dy * scale(y)   # (inf/NaN where dy == 0 are replaced below)
        return xp.where(dy == 0, xp.zeros((), dtype=out.dtype), out)

    @p.defgrad
    def _grad(inputs, out, g):
        y, dy = inputs
        return mb.multiply(g, mb.multiply(dy, dscale(y))), mb.multiply(g, scale(y))

    def apply(y, dy):
        return call(p, (y, dy))
    return apply


def _sqrt_dscale(y):
    return mb.divide(-0.5, mb.multiply(y, y))


def _rsqrt_dscale(y):
    return mb.multiply(-1.5, mb.multiply(y, y))


def _reciprocal_dscale(y):
    return mb.multiply(-2.0, y)


sqrt_grad = _scaled_grad_prim("SqrtGrad", lambda y: 0.5 / y, _sqrt_dscale)
rsqrt_grad = _scaled_grad_prim("RsqrtGrad", lambda y: -0.5 * y * y * y, _rsqrt_dscale)
reciprocal_grad = _scaled_grad_prim("ReciprocalGrad", lambda y: -(y * y),
                                    _reciprocal_dscale)
