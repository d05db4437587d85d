"""``RandomFourierFeatures`` (Keras 2's ``layers.experimental``): random features whose
inner products approximate a shift-invariant kernel (Rahimi & Recht, 2007)."""

import math

from dlframe.core.tensor import convert_to_tensor
from dlframe.keras import constraints, initializers
from dlframe.keras.engine.base_layer import Layer
from dlframe.ops import linalg as _la
from dlframe.ops import math as _m
from dlframe.ops import random as _rnd

_KERNELS = ("gaussian", "laplacian")


def _cauchy(shape, dtype=None, **kwargs):
    """Standard Cauchy samples: the spectral density of the Laplacian kernel."""
    u = _rnd.uniform(shape, minval=0.0, maxval=1.0, dtype=dtype or "float32")
    return _m.tan(_m.multiply(_m.subtract(u, 0.5), math.pi))


class RandomFourierFeatures(Layer):
    """Maps ``x`` to ``sqrt(2 / output_dim) * cos(x @ W / scale + b)``.

    Args:
      output_dim: number of random features.
      kernel_initializer: 'gaussian' (W ~ N(0, 1)), 'laplacian' (W ~ Cauchy(0, 1)) or
        an initializer for ``W``.
      scale: the kernel scale (default ``sqrt(input_dim / 2)`` for 'gaussian', 1 for
        'laplacian'); must be positive.
      trainable: whether ``scale`` is trained (W and b never are).
      name: layer name.
    """

    def __init__(self, output_dim, kernel_initializer="gaussian", scale=None,
                 trainable=False, name=None, **kwargs):
        if not isinstance(output_dim, int) or output_dim < 1:
            raise ValueError(f"`output_dim` should be a positive integer. Received: "
                             f"{output_dim}")
        if isinstance(kernel_initializer, str) and kernel_initializer not in _KERNELS:
            raise ValueError(f"Unsupported `kernel_initializer`: {kernel_initializer!r}. "
                             f"Expected one of {_KERNELS} or an initializer.")
        if scale is not None and scale <= 0.0:
            raise ValueError(f"When provided, `scale` should be a positive float. "
                             f"Received: {scale}")
        super().__init__(trainable=trainable, name=name, **kwargs)
        self.output_dim = output_dim
        self.kernel_initializer = kernel_initializer
        self.scale = scale

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"The last dimension of the inputs to RandomFourierFeatures "
                             f"should be defined. Found `None` in {input_shape}")
        init = self.kernel_initializer
        if init == "gaussian":
            init = initializers.RandomNormal(stddev=1.0)
        elif init == "laplacian":
            init = _cauchy
        self.unscaled_kernel = self.add_weight(
            name="unscaled_kernel", shape=(input_dim, self.output_dim),
            initializer=init, trainable=False)
        self.bias = self.add_weight(
            name="bias", shape=(self.output_dim,),
            initializer=initializers.RandomUniform(0.0, 2 * math.pi), trainable=False)
        scale = self.scale
        if scale is None:
            scale = math.sqrt(input_dim / 2.0) if self.kernel_initializer == \
                "gaussian" else 1.0
        self.kernel_scale = self.add_weight(
            name="kernel_scale", shape=(1,), initializer=initializers.Constant(scale),
            trainable=True, constraint=constraints.NonNeg())
        super().build(input_shape)

    def call(self, inputs):
        x = convert_to_tensor(inputs)
        if x.dtype != self.unscaled_kernel.dtype:
            x = _m.cast(x, self.unscaled_kernel.dtype)
        kernel = _m.divide(self.unscaled_kernel, self.kernel_scale)
        features = _m.add(_la.matmul(x, kernel), self.bias)
        return _m.multiply(_m.cos(features), math.sqrt(2.0 / self.output_dim))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.output_dim,)

    def get_config(self):
        init = self.kernel_initializer
        if not isinstance(init, str):
            init = initializers.serialize(initializers.get(init))
        config = super().get_config()
        config.update(output_dim=self.output_dim, kernel_initializer=init,
                      scale=self.scale)
        return config
