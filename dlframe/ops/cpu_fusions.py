"""Fused kernels for the compiled graph's CPU remapping pass (``graph_passes``).

Like TensorFlow's remapper (``_FusedConv2D`` with BiasAdd and Relu), the pass
rewrites two chains of a traced CNN step into one node each; both compute the
same values as the chains they replace:

* ``Conv2D``/``Conv3D`` -> ``AddV2`` of a per-channel bias [-> ``Relu``]: the bias
  and the ReLU are applied in place to the convolution's fresh output (with one
  input channel the bias is added inside the GEMM, equal up to float rounding);
  when the step also takes the filter gradient of the same input, the forward's patch
  matrix is kept for it (one im2col copy instead of two).
* ``MaxPoolGrad`` of a ReLU output -> ``ReluGrad``: the ReLU gradient mask is
  applied to the pooled gradient first (the gradient lands only on window maxima,
  which are positive exactly where the window's output is), a quarter of the work
  for 2x2 windows, and all-zero windows then need no tie-breaking.

These primitives only appear in optimized graphs (the graph already holds its
backward pass), so they have no gradient rules.
"""

from dlframe.backends.base import np
from dlframe.core.primitive import primitive
from dlframe.ops.conv_kernels import (  # noqa: F401 - add_bias re-exported
    add_bias,
    conv_forward_cols,
    filter_grad_from_cols,
)
from dlframe.ops.nn import relu_into
from dlframe.ops.pooling import (
    _needs_scan,
    _tiled,
    _tiled_max_pool_grad,
    max_pool_grad,
)

__all__ = []


def relu_in_place(xp, y):
    """``y = max(y, 0)``, with the faster NumPy kernel on host arrays."""
    if type(y) is np.ndarray:
        return relu_into(y, y)
    return xp.maximum(y, 0, out=y)


def _conv_bias_act(d, x, w, bias, strides, pads, dilations, relu, want_cols=True):
    y, cols = conv_forward_cols(d, x, w, strides=strides, pads=pads,
                                dilations=dilations, bias=bias, want_cols=want_cols)
    return (relu_in_place(d.xp, y) if relu else y), cols


@primitive("_FusedConv2D")
def fused_conv_p(d, x, w, bias, *, strides, pads, dilations, relu):
    """Convolution + bias [+ ReLU] (float32/float64 inputs)."""
    return _conv_bias_act(d, x, w, bias, strides, pads, dilations, relu, False)[0]


@primitive("_FusedConv2DKeepPatches", n_out=2)
def fused_conv_patches_p(d, x, w, bias, *, strides, pads, dilations, relu):
    """``_FusedConv2D`` that also returns its patch matrix, for the filter gradient
    (``_Conv2DBackpropFilterFromPatches``) to skip a second im2col copy."""
    return _conv_bias_act(d, x, w, bias, strides, pads, dilations, relu)


@primitive("_Conv2DBackpropFilterFromPatches")
def filter_grad_from_patches_p(d, cols, dy, *, filter_shape):
    """Conv2DBackpropFilter given the forward pass's patch matrix instead of x."""
    return filter_grad_from_cols(d, cols, dy, filter_shape=filter_shape)


@primitive("_ReluMaxPoolGrad")
def relu_max_pool_grad_p(d, x, y, dy, *, ksize, strides, pads, dilations):
    """``ReluGrad(MaxPoolGrad(x, y, dy), x)`` for a ReLU output ``x``."""
    if _needs_scan(d, x, y):   # a NaN may take the gradient, which ReluGrad drops
        return max_pool_grad(d, x, y, dy, ksize=ksize, strides=strides, pads=pads,
                             dilations=dilations) * (x > 0)
    dy = dy * (y > 0)
    if _tiled(ksize, strides, pads, dilations):
        return _tiled_max_pool_grad(d, x, y, dy, ksize, zero_ties_free=True)
    return max_pool_grad(d, x, y, dy, ksize=ksize, strides=strides, pads=pads,
                         dilations=dilations)
