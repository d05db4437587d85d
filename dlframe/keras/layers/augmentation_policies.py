"""Keras 3's augmentation policies built from the single-op layers: RandAugment and
AugMix.

As Keras 3, every call draws from the policy's own seed state: RandAugment the
operation indices (``randint``, one per step, as a tensor: a ``switch_case`` picks
the branch, so a compiled function draws new operations on every batch), then the
parameters of every operation once, in Keras's operation order (an operation
chosen twice applies the same parameters); AugMix the chain weights, the blend
weight, then each chosen operation's parameters as the chains apply them (its
operations are chosen with Python's ``random``, as Keras 3 does). Each operation
draws per image. Both are the identity unless called with ``training=True``.
"""

import functools
import random as _pyrandom

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
from dlframe.keras import default_seeds
from dlframe.keras import random as _keras_random
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


class _CountingSeeds:
    """An endless source of one fixed seed that counts the seeds taken."""

    def __init__(self):
        self.count = 0
        self.seed = _math.cast([0, 0], "int32")

    def __iter__(self):
        return self

    def __next__(self):
        self.count += 1
        return self.seed


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
        self._seed_counts = {}

    def _apply(self, name, x, seeds=None):
        """Operation ``name`` on ``x``, drawing the ``seeds`` given (a list, as
        ``_draw_seeds`` made) instead of from its own state."""
        layer = self._ops[name]
        if seeds is not None:
            layer._seed_source = iter(seeds).__next__
        try:
            out = layer.call(x) if name == "auto_contrast" else layer._augment(x)
        finally:
            layer._seed_source = None
        return _math.cast(out, x.dtype)

    def _draw_seeds(self, name, x):
        """The seeds operation ``name`` takes on ``x``, drawn now from the policy's
        state (Keras 3 draws each operation's parameters from it)."""
        count = self._seed_counts.get(name)
        if count is None:   # how many it takes: counted once, on a dry run
            counter = _CountingSeeds()
            self._apply(name, x, counter)
            count = self._seed_counts[name] = counter.count
        return [self._next_seed() for _ in range(count)]

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
        if not self.num_ops:
            return x
        index = _keras_random.randint((self.num_ops,), 0, len(RAND_AUGMENT_OPS),
                                      seed=self._seed_generator)
        seeds = {name: self._draw_seeds(name, x) for name in RAND_AUGMENT_OPS}
        for step in range(self.num_ops):
            branches = [functools.partial(self._apply, name, x, seeds[name])
                        for name in RAND_AUGMENT_OPS]
            x = _cf.switch_case(index[step], branches)
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
        # Keras 3's draws: Dirichlet chain weights, the Beta blend weight, then the
        # chosen operations' parameters, chain by chain
        gen = self._seed_generator
        gammas = _keras_random.gamma([self.num_chains], float(self.alpha), seed=gen)
        weights = _math.cast(gammas / _red.reduce_sum(gammas), x.dtype)
        keep = _math.cast(_keras_random.beta((), float(self.alpha), float(self.alpha),
                                             seed=gen), x.dtype)
        mixed = None
        for chain, weight in zip(self._chains(x), [weights[i] for i in
                                                   range(self.num_chains)]):
            y = x
            for step in chain:
                y = step(y)
            mixed = y * weight if mixed is None else mixed + y * weight
        out = keep * x + (1.0 - keep) * mixed
        return _clip.clip_by_value(out, float(self.value_range[0]),
                                   float(self.value_range[1]))

    def _chains(self, x):
        """Each chain's steps (callables on an image batch). After
        ``keras.utils.set_random_seed``, as Keras 3: each step picks an operation
        or none with Python's ``random`` (fixed per trace) and draws its parameters
        from the policy's state now; before, each step picks as a tensor."""
        chains = []
        for _ in range(self.num_chains):
            steps = []
            for _ in range(self.chain_depth):
                if not default_seeds.active():
                    steps.append(self._random_step)
                    continue
                name = _pyrandom.choice(list(self._names) + [None])
                if name is not None:
                    steps.append(functools.partial(self._apply, name,
                                                   seeds=self._draw_seeds(name, x)))
            chains.append(steps)
        return chains

    def _random_step(self, x):
        """One operation of the list, or none, chosen uniformly as a tensor."""
        index = _random.uniform([], 0, len(self._names) + 1, dtype="int32",
                                seed=self.seed)
        branches = [functools.partial(self._apply, n, x) for n in self._names]
        return _cf.switch_case(index, branches + [lambda: x])

    def get_config(self):
        config = super().get_config()
        config.update({"num_chains": self.num_chains, "chain_depth": self.chain_depth,
                       "alpha": self.alpha, "all_ops": self.all_ops})
        return config


__all__ = ["AugMix", "RandAugment"]
