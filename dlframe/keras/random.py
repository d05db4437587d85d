"""``keras.random``: Keras 3's random functions and ``SeedGenerator``.

Every function draws through dlframe's stateless ops from a ``[2]`` seed:
- ``seed=<int>``: the fixed seed ``[seed, 0]``, so repeated calls give equal draws
  (as in Keras 3);
- ``seed=SeedGenerator``: the generator's current state, which then advances, so
  successive calls differ but a generator built with the same seed replays them;
- ``seed=None``: after ``keras.utils.set_random_seed``, Keras 3's global
  ``SeedGenerator`` (made from Python's ``random`` at its first use, dropped by
  ``set_random_seed``; each draw scrambles its state); before, a seed drawn from
  TensorFlow's global random state (``tf.random.set_seed`` makes it reproducible).
As Keras 3 on TensorFlow, a seed ``[a, b]`` reaches the stateless op as the int32
pair ``[a mod (2**31 - 2), b mod (2**31 - 2)]``, so after ``set_random_seed`` the
draws equal TF 2.21's. Inside ``tf.function`` the seed is part of the graph (a
variable read or a stateful draw), so each replay draws fresh numbers.
"""

import numbers
import random as _py_random

from dlframe import config as _config
from dlframe.core import dtypes
from dlframe.core.primitive import call
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.variable import Variable
from dlframe.keras import backend as _backend
from dlframe.keras import default_seeds as _default_seeds
from dlframe.ops import array as _array
from dlframe.ops import array_index as _index
from dlframe.ops import math as _math
from dlframe.ops import random as _random
from dlframe.ops import sorting as _sorting
from dlframe.ops import stateless_dropout as _dropout
from dlframe.ops.random_kernels import stateless_gamma_p

_SEED_MAX = 2**31 - 1
_SEED_MOD = 2**31 - 2     # Keras 3 folds int64 seed states into int32 modulo this
_GLOBAL = {"generator": None}


class SeedGenerator:
    """A random seed state to pass as ``seed=`` to ``keras.random`` functions and
    layers; each draw advances it.

    Args:
      seed: an int; None picks one from Python's ``random`` (seeded by
        ``keras.utils.set_random_seed``).
      name: the name of the state variable's scope (default ``'seed_generator'``).
      **kwargs: ``backend`` and ``dtype`` are accepted for compatibility.

    Attributes:
      state: the int64 ``[2]`` Variable ``[seed, counter]``.
    """

    def __init__(self, seed=None, name=None, **kwargs):
        unknown = set(kwargs) - {"backend", "dtype"}
        if unknown:
            raise ValueError(f"Unrecognized keyword arguments passed to SeedGenerator: "
                             f"{sorted(unknown)}")
        self._config_seed = seed   # as Keras 3: the config keeps a None seed
        if seed is None:
            seed = _py_random.randint(1, int(1e9))
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise ValueError(  # noqa: TRY004 - Keras raises ValueError here
                f"Argument `seed` must be an integer. Received: seed={seed}")
        self._initial_seed = int(seed)
        self.name = name or _backend.unique_object_name("seed_generator")
        self._step = None   # the [0, 1] advance (a constant: no per-call conversion)
        self.state = Variable([self._initial_seed, 0], dtype=dtypes.int64,
                              trainable=False, name=f"{self.name}/seed_generator_state")

    def next(self, ordered=True):
        """The current seed (an int64 ``[2]`` Tensor); advances the state: the
        counter by one, or (``ordered=False``, the global generator) both words
        scrambled to ``(state + 1) * 5387 % 933199`` as Keras 3 does."""
        current = self.state.read_value()
        if ordered:   # on the state's device (a tf.data map: host)
            step = self._step
            if step is None or step._device is not current._device:
                step = self._step = convert_to_tensor([0, 1], dtype=dtypes.int64,
                                                      device=current._device)
            self.state.assign_add(step)
        else:
            self.state.assign(_random.seed_mod(
                _math.multiply(_math.add(current, 1), 5387), 933199))
        return current

    def get_config(self):
        return {"seed": self._config_seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator name={self.name}, seed={self._initial_seed}>"


def global_seed_generator():
    """Keras 3's global ``SeedGenerator`` behind ``seed=None`` draws (made at its
    first use, from Python's ``random``)."""
    if _GLOBAL["generator"] is None:
        _GLOBAL["generator"] = SeedGenerator(name="global_seed_generator")
    return _GLOBAL["generator"]


def reset_global_seed_generator():
    """Drops the global generator (``keras.utils.set_random_seed``): the next
    ``seed=None`` draw makes a new one from the reseeded Python ``random``."""
    _GLOBAL["generator"] = None


def _fold_seed(seed_t):
    """An int64 seed pair as the int32 pair Keras 3 passes to TF's stateless ops."""
    if seed_t.dtype == dtypes.int32:
        return seed_t
    return _random.seed_mod(seed_t, _SEED_MOD, dtypes.int32)


def draw_seed(seed):
    """The int32 ``[2]`` stateless seed for ``seed`` (None, an int or a
    ``SeedGenerator``); see the module docstring."""
    return _fold_seed(_raw_seed(seed))


def _raw_seed(seed):
    """``draw_seed`` before the fold: a generator's int64 state, or int32."""
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        pair = [int(seed) % _SEED_MOD, 0]
        return convert_to_tensor(pair, dtype=dtypes.int32)
    if seed is None:
        if _default_seeds.active():
            return global_seed_generator().next(ordered=False)
        return _random.uniform([2], 0, _SEED_MAX, dtype=dtypes.int64)
    raise ValueError("Argument `seed` must be either an integer or an instance of "
                     f"`SeedGenerator`. Received: seed={seed} (of type {type(seed)})")


def _float(dtype):
    d = dtypes.as_dtype(dtype or _config.floatx())
    if not d.is_floating:
        raise ValueError(f"Argument `dtype` must be a floating point type. Received: "
                         f"dtype={dtype!r}")
    return d


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples from a normal distribution.

    Args:
      shape: the output shape.
      mean: mean of the distribution.
      stddev: standard deviation of the distribution.
      dtype: a float dtype (default ``keras.config.floatx()``).
      seed: None, an int or a ``SeedGenerator``.
    """
    return _random.stateless_normal(shape, draw_seed(seed), mean=mean, stddev=stddev,
                                    dtype=_float(dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples redrawn beyond two standard deviations (args as ``normal``)."""
    return _random.stateless_truncated_normal(shape, draw_seed(seed), mean=mean,
                                              stddev=stddev, dtype=_float(dtype))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples uniformly from ``[minval, maxval)``.

    Args:
      shape: the output shape.
      minval, maxval: the bounds.
      dtype: a float dtype (default ``keras.config.floatx()``); use ``randint``
        for integers.
      seed: None, an int or a ``SeedGenerator``.
    """
    if dtype is not None and not dtypes.as_dtype(dtype).is_floating:
        raise ValueError("`keras.random.uniform` requires a floating point `dtype`. "
                         f"Received: dtype={dtype}. Use `keras.random.randint` for "
                         "integers.")
    return _random.stateless_uniform(shape, draw_seed(seed), minval=minval,
                                     maxval=maxval, dtype=_float(dtype))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Samples integers uniformly from ``[minval, maxval)``.

    Args:
      shape: the output shape.
      minval, maxval: the integer bounds.
      dtype: an integer dtype (default int32).
      seed: None, an int or a ``SeedGenerator``.
    """
    d = dtypes.as_dtype(dtype)
    if not d.is_integer:
        raise ValueError(f"`keras.random.randint` requires an integer `dtype`. "
                         f"Received: dtype={dtype}")
    # as Keras 3: int32 and int64 draw in their own dtype (other dtypes: int64)
    inner = d if d in (dtypes.int32, dtypes.int64) else dtypes.int64
    out = _random.stateless_uniform(shape, draw_seed(seed), minval=minval,
                                    maxval=maxval, dtype=inner)
    return out if inner == d else _math.cast(out, d)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Draws ``num_samples`` class indices for each row of 2-D ``logits``.

    Args:
      logits: ``[batch, num_classes]`` unnormalized log-probabilities.
      num_samples: draws per row.
      dtype: int32 (default) or int64.
      seed: None, an int or a ``SeedGenerator``.
    """
    logits = convert_to_tensor(logits)
    if len(logits.shape) != 2:
        raise ValueError("`logits` should be a 2-D tensor with shape "
                         f"[batch_size, num_classes]. Received: logits={logits}")
    out = _random.stateless_categorical(logits, num_samples, draw_seed(seed),
                                        dtype="int64")
    return _math.cast(out, dtypes.as_dtype(dtype))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zeroes entries with probability ``rate`` and scales the rest by
    ``1 / (1 - rate)``.

    Args:
      inputs: a float tensor.
      rate: the drop probability in ``[0, 1]``.
      noise_shape: the mask's shape, broadcastable to ``inputs`` (None entries
        take ``inputs``' sizes).
      seed: None, an int or a ``SeedGenerator``.
    """
    if (isinstance(rate, bool) or not isinstance(rate, (numbers.Real, Tensor))
            or not 0 <= float(rate) <= 1):
        raise ValueError("`rate` must be a scalar tensor or a float in the range "
                         f"[0, 1). Received: rate={rate}")
    x = convert_to_tensor(inputs)
    if not x.dtype.is_floating:
        raise ValueError("`x.dtype` must be a floating point tensor as `x` will be "
                         f"scaled. Received: x_dtype={x.dtype!r}")
    shape = list(x.shape)
    if noise_shape is None:
        mask_shape = shape
    else:
        mask_shape = [s if n is None else int(n) for n, s in zip(noise_shape, shape)]
        if len(noise_shape) != len(shape):
            raise ValueError(f"`noise_shape` must have rank {len(shape)} like `inputs`. "
                             f"Received: noise_shape={noise_shape}")
    rate = float(rate)
    if rate == 0:
        return x
    if rate == 1:   # Keras 3: everything dropped, no draw
        return _math.zeros_like(x)
    # TF's (x * scale) * cast(uniform >= rate, x.dtype) in two primitives
    seed_t = _random._seed_tensor(_raw_seed(seed), "StatelessRandomUniformV2", x._device)
    keep = call(_dropout.stateless_dropout_mask_p, (seed_t,),
                {"shape": tuple(int(s) for s in mask_shape), "dtype": x.dtype._np,
                 "rate": rate, "fold": _SEED_MOD})
    return call(_dropout.scale_keep_p, (x, keep), {"scale": 1.0 / (1.0 - rate)})


def shuffle(x, axis=0, seed=None):
    """Randomly permutes ``x`` along ``axis``.

    Args:
      x: the tensor.
      axis: the axis to shuffle (default 0).
      seed: None, an int or a ``SeedGenerator``.
    """
    x = convert_to_tensor(x)
    if not x.shape:
        raise ValueError(f"`x` must have at least one dimension. Received: x={x}")
    size = x.shape[axis]
    keys = _random.stateless_uniform([size], draw_seed(seed), dtype=dtypes.float32)
    return _index.gather(x, _sorting.argsort(keys), axis=axis)


def gamma(shape, alpha, dtype=None, seed=None):
    """Gamma samples with concentration ``alpha`` (and rate 1).

    Args:
      shape: the output shape.
      alpha: the concentration (a positive float).
      dtype: a float dtype (default ``keras.config.floatx()``).
      seed: None, an int or a ``SeedGenerator``.
    """
    d = _float(dtype)
    alpha = _math.cast(convert_to_tensor(alpha), d)
    return _gamma(shape, alpha, d, draw_seed(seed))


def _gamma(shape, alpha, d, seed_t):
    shp = tuple(int(s) for s in shape)
    return call(stateless_gamma_p, (seed_t, alpha), {"shape": shp, "dtype": d._np})


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Beta samples: ``X / (X + Y)`` with ``X ~ Gamma(alpha)``, ``Y ~ Gamma(beta)``.

    Args:
      shape: the output shape.
      alpha, beta: the positive shape parameters (floats or tensors
        broadcastable to ``shape``).
      dtype: a float dtype (default ``keras.config.floatx()``).
      seed: None, an int or a ``SeedGenerator``.
    """
    d = _float(dtype)
    seed_t = draw_seed(seed)
    full = _array.zeros(shape, dtype=d)
    a = _math.add(full, _math.cast(convert_to_tensor(alpha), d))
    b = _math.add(full, _math.cast(convert_to_tensor(beta), d))
    x = _gamma((), a, d, seed_t)
    y = _gamma((), b, d, _math.add(seed_t, 12))   # Keras 3's second seed
    return _math.divide(x, _math.add(x, y))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Binomial samples: successes in ``counts`` trials of probability
    ``probabilities`` (``tf.random.stateless_binomial``, as Keras 3 on TF).

    Args:
      shape: the output shape.
      counts: the number of trials (broadcastable to ``shape``).
      probabilities: the success probability (broadcastable to ``shape``).
      dtype: a float dtype for the result (default ``keras.config.floatx()``).
      seed: None, an int or a ``SeedGenerator``.
    """
    d = _float(dtype)
    inner = dtypes.float32 if d == dtypes.bfloat16 else d
    out = _random.stateless_binomial([int(s) for s in shape], draw_seed(seed),
                                     counts, probabilities, output_dtype=inner)
    return out if inner == d else _math.cast(out, d)
