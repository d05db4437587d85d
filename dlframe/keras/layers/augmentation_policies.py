"""Keras 3's augmentation policies built from the single-op layers: RandAugment and
AugMix.

Both draw, per call, which operations run, as tensors (a ``switch_case`` picks the
branch), so a compiled function or a ``tf.data`` map draws new operations on every
batch instead of baking one choice into the trace. As in Keras the choice of
operations is made per batch, while each operation draws its own parameters per
image. Both are the identity unless called with ``training=True``.
"""

import functools

from dlframe.keras.layers.augmentation import (
    RandomBrightness,
    RandomContrast,
    RandomRotation,
    RandomTranslation,
    _factor,
    _RandomLayer,
)
from dlframe.keras.layers.augmentation_color import (
    AutoContrast,
    Equalization,
    RandomColorDegeneration,
    RandomPosterization,
    RandomSharpness,
    Solarization,
    _check_range,
)
from dlframe.keras.layers.augmentation_mix import RandomShear
from dlframe.ops import clip_ops as _clip
from dlframe.ops import control_flow as _cf
from dlframe.ops import math as _math
from dlframe.ops import random as _random
from dlframe.ops import reduction as _red

# Keras 3.15's operation lists, in its order
_GEOMETRIC = ("random_shear", "random_translation", "random_rotation")
_BASIC = ("random_posterization", "solarization", "auto_contrast", "equalization")
_COLOR = ("random_brightness", "random_color_degeneration", "random_contrast",
          "random_sharpness")
RAND_AUGMENT_OPS = _GEOMETRIC + _COLOR + _BASIC
AUGMIX_OPS_ALL = _GEOMETRIC + _BASIC + _COLOR
AUGMIX_OPS = _GEOMETRIC + _BASIC
# the order Keras 3.15 constructs the operations in (their default seeds follow it)
_RAND_AUGMENT_BUILD = _GEOMETRIC + _COLOR + ("solarization", "random_posterization",
                                             "auto_contrast", "equalization")
_AUGMIX_BUILD = _GEOMETRIC + ("solarization", "random_posterization", "auto_contrast",
                              "equalization")


def _positive_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}. Received: "
                         f"{name}={value!r}")
    return value


class _OpPolicy(_RandomLayer):
    """Holds one instance of every single-op augmentation, all configured from the
    policy's ``factor`` (a float f means [0, f]) and ``value_range``."""

    def __init__(self, value_range, factor, interpolation, seed, data_format,
                 build_order, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = _check_range(value_range)
        self.factor = _factor(factor, "factor")
        if interpolation not in ("bilinear", "nearest"):
            raise NotImplementedError(f"Unknown `interpolation` {interpolation}. Only "
                                      "`nearest` and `bilinear` are supported.")
        self.interpolation = interpolation
        f, vr, i = self.factor, self.value_range, interpolation
        makers = {
            "random_shear": lambda: RandomShear(f, f, interpolation=i, seed=seed),
            "random_translation": lambda: RandomTranslation(f, f, interpolation=i,
                                                            seed=seed),
            "random_rotation": lambda: RandomRotation(f, interpolation=i, seed=seed),
            "random_brightness": lambda: RandomBrightness(f, value_range=vr, seed=seed),
            "random_color_degeneration": lambda: RandomColorDegeneration(
                f, value_range=vr, seed=seed),
            "random_contrast": lambda: RandomContrast(f, value_range=vr, seed=seed),
            "random_sharpness": lambda: RandomSharpness(f, value_range=vr, seed=seed),
            "random_posterization": lambda: RandomPosterization(
                max(1, int(8 * f[1])), value_range=vr, seed=seed),
            "solarization": lambda: Solarization(f, f, value_range=vr, seed=seed),
            "auto_contrast": lambda: AutoContrast(value_range=vr),
            "equalization": lambda: Equalization(value_range=vr),
        }
        # built in Keras 3's order: each unseeded one takes the next default seed
        self._ops = {name: makers[name]() for name in build_order}

    def _apply(self, name, x):
        layer = self._ops[name]
        out = layer.call(x) if name == "auto_contrast" else layer._augment(x)
        return _math.cast(out, x.dtype)

    def _random_op(self, x, names, identity=False):
        """Applies one of ``names`` (or, with ``identity``, possibly none), drawn
        uniformly as a tensor."""
        count = len(names) + int(identity)
        index = _random.uniform([], 0, count, dtype="int32", seed=self.seed)
        branches = [functools.partial(self._apply, n, x) for n in names]
        if identity:
            branches.append(lambda: x)
        return _cf.switch_case(index, branches)

    def get_config(self):
        config = super().get_config()
        config.update({"value_range": self.value_range, "factor": self.factor,
                       "interpolation": self.interpolation})
        return config


class RandAugment(_OpPolicy):
    """RandAugment (Cubuk et al., 2019): ``num_ops`` operations drawn uniformly (with
    repetition) from shear, translation, rotation, brightness, color degeneration,
    contrast, sharpness, posterization, solarization, auto-contrast and
    equalization, applied in sequence, each with strength ``factor``.

    Args:
      value_range: the (low, high) range of the pixel values, (0, 255) by default.
      num_ops: how many operations to apply to each batch (default 2).
      factor: the operations' strength, a float f in [0, 1] (meaning [0, f]) or a
        (low, high) pair (default 0.5).
      interpolation: 'bilinear' or 'nearest', for the geometric operations.
      seed: random seed.
      data_format: 'channels_last' only.
    """

    def __init__(self, value_range=(0, 255), num_ops=2, factor=0.5,
                 interpolation="bilinear", seed=None, data_format=None, **kwargs):
        super().__init__(value_range, factor, interpolation, seed, data_format,
                         _RAND_AUGMENT_BUILD, **kwargs)
        self.num_ops = _positive_int(num_ops, "num_ops", minimum=0)

    def _augment(self, x):
        for _ in range(self.num_ops):
            x = self._random_op(x, RAND_AUGMENT_OPS)
        return x

    def get_config(self):
        config = super().get_config()
        config["num_ops"] = self.num_ops
        return config


class AugMix(_OpPolicy):
    """AugMix (Hendrycks et al., 2020): ``num_chains`` chains of up to
    ``chain_depth`` random operations are mixed with Dirichlet(``alpha``) weights,
    and the mix is blended with the original by a Beta(``alpha``, ``alpha``)
    weight; the result is clipped to ``value_range``.

    Args:
      value_range: the (low, high) range of the pixel values, (0, 255) by default.
      num_chains: the number of chains mixed (default 3).
      chain_depth: the most operations a chain applies; each of its steps applies
        one operation or none, drawn uniformly (default 3).
      factor: the operations' strength, a float f in [0, 1] (meaning [0, f]) or a
        (low, high) pair (default 0.3).
      alpha: the Dirichlet and Beta concentration (default 1.0).
      all_ops: also use brightness, color degeneration, contrast and sharpness
        (default True).
      interpolation: 'bilinear' or 'nearest', for the geometric operations.
      seed: random seed.
      data_format: 'channels_last' only.
    """

    def __init__(self, value_range=(0, 255), num_chains=3, chain_depth=3, factor=0.3,
                 alpha=1.0, all_ops=True, interpolation="bilinear", seed=None,
                 data_format=None, **kwargs):
        super().__init__(value_range, factor, interpolation, seed, data_format,
                         _AUGMIX_BUILD + (_COLOR if all_ops else ()), **kwargs)
        self.num_chains = _positive_int(num_chains, "num_chains")
        self.chain_depth = _positive_int(chain_depth, "chain_depth")
        if not isinstance(alpha, (int, float)) or not alpha > 0:
            raise ValueError(f"`alpha` must be a positive number. Received: "
                             f"alpha={alpha!r}")
        self.alpha = alpha
        self.all_ops = bool(all_ops)
        self._names = AUGMIX_OPS_ALL if self.all_ops else AUGMIX_OPS

    def _augment(self, x):
        gammas = _random.gamma([self.num_chains], float(self.alpha), seed=self.seed)
        weights = _math.cast(gammas / _red.reduce_sum(gammas), x.dtype)
        pair = _random.gamma([2], float(self.alpha), seed=self.seed)
        keep = _math.cast(pair[0] / (pair[0] + pair[1]), x.dtype)
        mixed = None
        for chain in range(self.num_chains):
            y = x
            for _ in range(self.chain_depth):
                y = self._random_op(y, self._names, identity=True)
            term = y * weights[chain]
            mixed = term if mixed is None else mixed + term
        out = keep * x + (1.0 - keep) * mixed
        return _clip.clip_by_value(out, float(self.value_range[0]),
                                   float(self.value_range[1]))

    def get_config(self):
        config = super().get_config()
        config.update({"num_chains": self.num_chains, "chain_depth": self.chain_depth,
                       "alpha": self.alpha, "all_ops": self.all_ops})
        return config


__all__ = ["AugMix", "RandAugment"]
