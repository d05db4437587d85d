"""SpectralNormalization: divides a layer's kernel by its largest singular value.

The singular value is estimated by power iteration (Miyato et al. 2018) with a
persistent left vector ``vector_u``. As in Keras 3, a call with ``training=True``
runs the iteration and *assigns* the normalized kernel and the new ``vector_u`` to the
variables before the wrapped layer runs; at inference the kernel is used as stored.
"""

from dlframe.keras import initializers
from dlframe.keras.layers.bidirectional import Wrapper
from dlframe.ops import array as _array
from dlframe.ops import linalg as _linalg
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops import nn_impl as _nn_impl
from dlframe.ops import reduction as _red


def power_iteration(kernel, vector_u, iterations):
    """(normalized kernel, new vector_u) of one spectral-normalization step.

    Args:
      kernel: the weight, viewed as a ``[-1, kernel.shape[-1]]`` matrix ``W``.
      vector_u: ``[1, kernel.shape[-1]]`` estimate of W's top right singular vector.
      iterations: number of power iterations (>= 1).
    """
    w = _array.reshape(kernel, [-1, kernel.shape[-1]])
    u = vector_u
    v = None
    for _ in range(iterations):
        v = _nn_impl.l2_normalize(_linalg.matmul(u, w, transpose_b=True))
        u = _nn_impl.l2_normalize(_linalg.matmul(v, w))
    u = _array.stop_gradient(u)
    v = _array.stop_gradient(v)
    sigma = _array.reshape(_linalg.matmul(_linalg.matmul(v, w), u, transpose_b=True), [])
    # an all-zero kernel has sigma 0: keep it (and u) unchanged
    zero = _red.reduce_all(_math.equal(kernel, 0))
    safe = _logic.where(zero, _math.ones_like(sigma), sigma)
    return (_logic.where(zero, kernel, kernel / safe),
            _logic.where(zero, vector_u, u))


class SpectralNormalization(Wrapper):
    """Wraps a layer with a ``kernel`` (or ``embeddings``) and keeps its spectral norm
    at 1.

    Args:
      layer: the wrapped layer (Dense, Conv*, Embedding, ...).
      power_iterations: power iterations per training call (default 1).
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if not isinstance(power_iterations, int) or power_iterations <= 0:
            raise ValueError("`power_iterations` should be greater than zero. Received: "
                             f"`power_iterations={power_iterations}`")
        self.power_iterations = power_iterations

    def build(self, input_shape):
        super().build(input_shape)
        for attr in ("kernel", "embeddings"):
            kernel = getattr(self.layer, attr, None)
            if kernel is not None:
                self._kernel_attr = attr
                break
        else:
            raise ValueError(f"{type(self.layer).__name__} object has no attribute "
                             "'kernel' nor 'embeddings'")
        self.vector_u = self.add_weight(
            "vector_u", shape=(1, kernel.shape[-1]),
            initializer=initializers.TruncatedNormal(stddev=0.02), trainable=False,
            dtype=kernel.dtype)
        self.built = True

    @property
    def kernel(self):
        return getattr(self.layer, self._kernel_attr)

    @property
    def weights(self):
        # Keras 3's order (get_weights/set_weights): the kernel, vector_u, then the
        # wrapped layer's other weights.
        inner = super().weights
        if not self.built:
            return inner
        kernel = self.kernel
        rest = [w for w in inner if w is not kernel and w is not self.vector_u]
        return [kernel, self.vector_u, *rest]

    def normalized_weights(self):
        """(new vector_u, normalized kernel) without assigning them."""
        kernel, u = power_iteration(self.kernel, self.vector_u, self.power_iterations)
        return u, kernel

    def call(self, inputs, training=False):
        if training:
            u, kernel = self.normalized_weights()
            self.vector_u.assign(u)
            self.kernel.assign(kernel)
        output = self.layer(inputs)
        return output if output.dtype == inputs.dtype else _math.cast(output,
                                                                      inputs.dtype)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config["power_iterations"] = self.power_iterations
        return config


__all__ = ["SpectralNormalization"]
