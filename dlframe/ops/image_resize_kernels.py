"""Kernel resampling matrices for ``tf.image.resize``: the lanczos3/lanczos5/gaussian/
mitchellcubic methods and every method with ``antialias=True``.

Each output sample sits at ``(o + 0.5) * in / out`` in input coordinates; its weights
are the kernel evaluated at the distances to the input pixel centers, the kernel
stretched by ``in / out`` when downsampling with antialiasing (so that it averages
over every input pixel the output pixel covers), then normalized to sum to one over
the pixels inside the image.
"""

import math


def _triangle(xp, x):
    return xp.maximum(0.0, 1.0 - x)


def _keys_cubic(xp, x):
    near = (1.5 * x - 2.5) * x * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return xp.where(x < 1.0, near, xp.where(x < 2.0, far, 0.0))


def _mitchell_cubic(xp, x):
    # Mitchell-Netravali with B = C = 1/3
    near = ((7.0 / 6.0) * x - 2.0) * x * x + 8.0 / 9.0
    far = (((-7.0 / 18.0) * x + 2.0) * x - 10.0 / 3.0) * x + 16.0 / 9.0
    return xp.where(x < 1.0, near, xp.where(x < 2.0, far, 0.0))


def _lanczos(radius):
    def kernel(xp, x):
        safe = xp.where(x < 1e-6, 1.0, x)
        value = radius * xp.sin(math.pi * safe) * xp.sin(math.pi * safe / radius) / (
            math.pi * math.pi * safe * safe)
        return xp.where(x < 1e-6, 1.0, xp.where(x < radius, value, 0.0))
    return kernel


def _gaussian(xp, x):
    radius, sigma = 1.5, 0.5   # a 3-pixel support, sigma = radius / 3
    return xp.where(x < radius, xp.exp(-x * x / (2.0 * sigma * sigma)), 0.0)


# name -> (kernel, radius)
KERNELS = {
    "bilinear": (_triangle, 1.0),
    "bicubic": (_keys_cubic, 2.0),
    "mitchellcubic": (_mitchell_cubic, 2.0),
    "lanczos3": (_lanczos(3.0), 3.0),
    "lanczos5": (_lanczos(5.0), 5.0),
    "gaussian": (_gaussian, 1.5),
}


def kernel_matrix(xp, kernel_name, n_in, n_out, antialias):
    """(n_out, n_in) resampling matrix of ``kernel_name``.

    Positions are computed in float32 as TF does: a pixel at exactly the kernel's
    radius gets the weight that float32 rounding gives it there.
    """
    kernel, radius = KERNELS[kernel_name]
    f32 = xp.float32
    inv_scale = f32(1.0) / (f32(n_out) / f32(n_in))
    stretch = max(inv_scale, f32(1.0)) if antialias else f32(1.0)
    support = f32(radius) * stretch
    center = (xp.arange(n_out, dtype=f32) + f32(0.5)) * inv_scale
    start = xp.clip(xp.ceil(center - support - f32(0.5)), 0, n_in - 1)
    stop = xp.clip(xp.floor(center + support - f32(0.5)), 0, n_in - 1) + 1
    source = xp.arange(n_in, dtype=f32)[None, :]
    inside = (source >= start[:, None]) & (source < stop[:, None])
    distance = xp.abs((source + f32(0.5) - center[:, None]) * (f32(1.0) / stretch))
    weights = kernel(xp, distance.astype("float64")) * inside
    total = weights.sum(axis=1, keepdims=True)
    return xp.where(xp.abs(total) > 1e-30, weights / xp.where(total == 0, 1.0, total),
                    weights)
