"""Random ops with TensorFlow's seed semantics, stateless ops and ``Generator``.

Seeds (as ``tf.random.set_seed``): a global seed plus an op seed pick a stream.
- both set: the stream of ``(op kind, dtype, global, op)``; repeated calls continue
  it (TF's cached kernel).
- only the global seed: each op call takes the next op seed from a sequence.
- only the op seed: the global seed defaults to ``DEFAULT_GRAPH_SEED``.
- neither: nondeterministic (a fresh random Philox key per draw).
As in TF, the op seeds of eager ops come from ``random.Random(global_seed)`` and
those of a traced function count 0, 1, 2, ...; ``set_seed`` restarts the sequence
and every stream, so re-running a program after the same ``set_seed`` gives the
same numbers. A stream is TF's Philox kernel state (key: global seed, counter:
op seed, advancing 256 blocks per output); it travels as a primitive attribute,
so a compiled function draws fresh numbers on every replay.

Uniform, normal, truncated normal and integer draws (stateful, stateless and
``Generator``), dropout masks, ``split`` and ``fold_in`` give TensorFlow's numbers
(``dlframe.ops.philox``; normals to within one float ulp), and so do categorical,
Gamma, Poisson, binomial and shuffle draws (``dlframe.ops.random_tf_samplers``;
categorical as TF does when it runs the op in one piece).
"""

import types

from dlframe import backends
from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.static_dims import note_shaped, shape_arg_static
from dlframe.core.tensor import Tensor, convert_to_tensor, copy_to_device
from dlframe.errors import InvalidArgumentError
from dlframe.ops import math as m
from dlframe.ops._util import t
from dlframe.ops.array_join import stack
from dlframe.ops.late_bound import reads_values
from dlframe.ops.random_generator import (
    Algorithm,
    Generator,
    create_rng_state,
    get_global_generator,
    set_global_generator,
)
from dlframe.ops.random_index_shuffle import index_shuffle
from dlframe.ops.random_kernels import (  # noqa: F401
    DEFAULT_GRAPH_SEED,
    _affine,
    _attrs,
    _float_dtype,
    _int_dtype,
    _shape,
    _source,
    _uniform,
    binomial_inputs,
    categorical_p,
    dropout_mask_p,
    gamma_p,
    get_seed,
    normal_p,
    poisson_p,
    set_seed,
    shuffle_p,
    stateless_binomial_p,
    stateless_bounded_normal_p,
    stateless_categorical_p,
    stateless_full_int_p,
    stateless_gamma_p,
    stateless_normal_p,
    stateless_poisson_p,
    stateless_shuffle_p,
    stateless_truncated_normal_p,
    stateless_uniform_int_p,
    stateless_uniform_p,
    truncated_normal_p,
    uniform_int_p,
    uniform_p,
)


# ---------------------------------------------------------------- stateful ops
@reads_values("shape", stateful=True, static_shape=shape_arg_static)
def normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Samples from a normal distribution.

    Args:
      shape: output shape (list, TensorShape or 1-D int tensor).
      mean, stddev: scalars or tensors broadcastable to ``shape``.
      dtype: a floating point dtype.
      seed: op seed (see ``set_seed``).
    """
    d = _float_dtype(dtype, "RandomStandardNormal")
    shp = _shape(shape, "RandomStandardNormal")
    src = _source(seed, ("RandomStandardNormal", d.name))
    z = note_shaped(call(normal_p, (), _attrs(shp, d, source=src)), shape)
    return _affine(z, mean, stddev, d)


@reads_values("shape", stateful=True, static_shape=shape_arg_static)
def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None,
                     name=None):
    """Normal samples with values beyond two standard deviations redrawn."""
    d = _float_dtype(dtype, "TruncatedNormal")
    shp = _shape(shape, "TruncatedNormal")
    src = _source(seed, ("TruncatedNormal", d.name))
    z = note_shaped(call(truncated_normal_p, (), _attrs(shp, d, source=src)), shape)
    return _affine(z, mean, stddev, d)


@reads_values("shape", "minval", "maxval", stateful=True, static_shape=shape_arg_static)
def uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    """Samples uniformly from ``[minval, maxval)``.

    Args:
      shape: output shape.
      minval, maxval: bounds; ``maxval`` defaults to 1 for floats and is required
        for integer dtypes (then both must be scalars with ``minval < maxval``).
      dtype: float16/bfloat16/float32/float64 or int32/int64/uint32/uint64.
      seed: op seed (see ``set_seed``).
    """
    d = dtypes.as_dtype(dtype)
    if d.is_integer and maxval is None:
        raise ValueError(f"Must specify maxval for integer dtype {d!r}")
    op = "RandomUniformInt" if d.is_integer else "RandomUniform"
    return _uniform(shape, minval, maxval, d, _source(seed, (op, d.name)), op,
                    (uniform_p, uniform_int_p))


def _logits_2d(logits, op):
    x = t(logits)
    if x._value.ndim != 2:
        raise InvalidArgumentError(f"logits should be a matrix, got shape "
                                   f"{list(x._value.shape)} [Op:{op}]")
    if x._value.shape[1] == 0 and x._value.shape[0] != 0:
        raise InvalidArgumentError(f"num_classes should be positive, got 0 [Op:{op}]")
    if x._value.dtype.kind != "f" and not x.dtype.is_floating:  # bfloat16: kind "V"
        raise InvalidArgumentError(f"{op}: logits must be floating point, got "
                                   f"{x.dtype.name}")
    return x


def _index_dtype(dtype, op):
    d = dtypes.int64 if dtype is None else dtypes.as_dtype(dtype)
    if d not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"{op}: `dtype` must be int32 or int64, got {d.name}")
    return d


@reads_values("num_samples", stateful=True)
def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """Draws ``num_samples`` class indices per row of 2-D ``logits``.

    Returns:
      ``[batch, num_samples]`` indices (int64 unless ``dtype`` says int32).
    """
    x = _logits_2d(logits, "Multinomial")
    d = _index_dtype(dtype, "Multinomial")
    n = int(num_samples)
    if n < 0:
        raise InvalidArgumentError(f"num_samples should be nonnegative, got {n}")
    # TF's kernel cache: one stream per logits and output dtype
    src = _source(seed, ("Multinomial", x.dtype.name, d.name))
    return call(categorical_p, (x,), {"num_samples": n, "dtype": d._np, "source": src})


def multinomial(logits, num_samples, seed=None, name=None, output_dtype=None):
    """Deprecated alias of ``categorical``."""
    return categorical(logits, num_samples, output_dtype, seed)


def shuffle(value, seed=None, name=None):
    """Randomly permutes ``value`` along its first dimension."""
    x = t(value)
    return call(shuffle_p, (x,), {"source": _source(seed, ("RandomShuffle",
                                                           x.dtype.name))})


def poisson(shape, lam, dtype=dtypes.float32, seed=None, name=None):
    """Poisson samples of shape ``shape + lam.shape``."""
    d = dtypes.as_dtype(dtype)
    if not (d.is_floating or d in (dtypes.int32, dtypes.int64)):
        raise TypeError(f"RandomPoissonV2: `dtype` must be a float type, int32 or int64, "
                        f"got {d.name}")
    shp = _shape(shape, "RandomPoissonV2")
    rate = lam if isinstance(lam, Tensor) else convert_to_tensor(lam, dtype=dtypes.float32)
    src = _source(seed, ("RandomPoissonV2", d.name))
    return call(poisson_p, (rate,), _attrs(shp, d, source=src))


def gamma(shape, alpha, beta=None, dtype=dtypes.float32, seed=None, name=None):
    """Gamma samples of shape ``shape + broadcast(alpha, beta).shape``."""
    d = _float_dtype(dtype, "RandomGamma")
    shp = _shape(shape, "RandomGamma")
    alpha = alpha if isinstance(alpha, Tensor) else convert_to_tensor(alpha, dtype=d)
    alpha = m.cast(alpha, d)
    if beta is not None:
        beta = m.cast(beta if isinstance(beta, Tensor) else convert_to_tensor(beta, dtype=d),
                      d)
        alpha = m.add(alpha, m.zeros_like(beta))  # broadcast alpha against beta
    out = call(gamma_p, (alpha,), _attrs(shp, d, source=_source(seed, ("RandomGamma",
                                                                         d.name))))
    return out if beta is None else m.divide(out, beta)


def _dropout_mask(shape, rate, np_dtype, seed, device):
    """Scaled keep mask for ``nn.dropout``: ``1/(1-rate)`` with prob ``1-rate`` else 0."""
    # TF draws the mask as ``random_uniform(seed=seed)``: it shares that kernel's stream
    src = _source(seed, ("RandomUniform", np.dtype(np_dtype).name))
    return call(dropout_mask_p, (), {"shape": tuple(shape), "dtype": np_dtype,
                                     "rate": float(rate), "source": src},
                device=device)


# ---------------------------------------------------------------- stateless ops
def _seed_tensor(seed, op, device=None):
    """The seed as a [2] int tensor on ``device`` (default: the current device)."""
    dev = device if device is not None else backends.current_device()
    s = seed if isinstance(seed, Tensor) else convert_to_tensor(seed, device=dev)
    if s._device is not dev:  # outputs follow the op's device: a recorded copy,
        s = copy_to_device(s, dev)   # which a traced function replays on every call
    if tuple(s._value.shape) != (2,):
        raise InvalidArgumentError(f"seed must have shape [2], not {list(s._value.shape)} "
                                   f"[Op:{op}]")
    if s._value.dtype.kind not in "iu":
        raise InvalidArgumentError(f"{op}: seed must be int32 or int64, got {s.dtype.name}")
    return s


def stateless_normal(shape, seed, mean=0.0, stddev=1.0, dtype=dtypes.float32, name=None,
                     alg="auto_select"):
    """Deterministic normal samples: the same ``seed`` (shape [2]) gives the same output."""
    d = _float_dtype(dtype, "StatelessRandomNormalV2")
    s = _seed_tensor(seed, "StatelessRandomNormalV2")
    z = call(stateless_normal_p, (s,), _attrs(_shape(shape, "StatelessRandomNormalV2"), d))
    return _affine(z, mean, stddev, d)


def stateless_truncated_normal(shape, seed, mean=0.0, stddev=1.0, dtype=dtypes.float32,
                               name=None, alg="auto_select"):
    """Deterministic truncated normal samples (redrawn beyond two stddevs)."""
    d = _float_dtype(dtype, "StatelessTruncatedNormalV2")
    s = _seed_tensor(seed, "StatelessTruncatedNormalV2")
    z = call(stateless_truncated_normal_p, (s,),
             _attrs(_shape(shape, "StatelessTruncatedNormalV2"), d))
    return _affine(z, mean, stddev, d)


def stateless_uniform(shape, seed, minval=0, maxval=None, dtype=dtypes.float32, name=None,
                      alg="auto_select"):
    """Deterministic uniform samples in ``[minval, maxval)``.

    For integer dtypes ``minval`` and ``maxval`` are both given, or both None for
    the full range of the dtype.
    """
    d = dtypes.as_dtype(dtype)
    op = "StatelessRandomUniformIntV2" if d.is_integer else "StatelessRandomUniformV2"
    s = _seed_tensor(seed, op)
    if d.is_integer:
        if (minval is None) != (maxval is None):
            raise ValueError(
                f"For integer `dtype` argument {d!r}, argument `minval` and `maxval` must "
                f"be both None or not None. Got `minval`={minval} and `maxval`={maxval}.")
        if minval is None:
            _int_dtype(d, op)
            return call(stateless_full_int_p, (s,), _attrs(_shape(shape, op), d))
    return _uniform(shape, minval, maxval, d, None, op,
                    (stateless_uniform_p, stateless_uniform_int_p), seed_t=s)


def stateless_categorical(logits, num_samples, seed, dtype=dtypes.int64, name=None):
    """Deterministic ``categorical``: the same ``seed`` gives the same draws."""
    x = _logits_2d(logits, "StatelessMultinomial")
    d = _index_dtype(dtype, "StatelessMultinomial")
    s = _seed_tensor(seed, "StatelessMultinomial", x._device)
    return call(stateless_categorical_p, (s, x), {"num_samples": int(num_samples),
                                                  "dtype": d._np})


def _sample_dims(shp, param, arg, op):
    """The leading dimensions of ``shp`` before ``param``'s shape, which must end
    it (TF's stateless Poisson and Gamma: output ``[s, k]`` reads substream
    ``k * samples + s``)."""
    rank = len(param.shape)
    if rank > len(shp) or tuple(shp[len(shp) - rank:]) != tuple(param.shape):
        raise InvalidArgumentError(f"Shape passed in must end with broadcasted shape: "
                                   f"`shape` {list(shp)}, `{arg}` shape "
                                   f"{list(param.shape)} [Op:{op}]")
    return tuple(shp[:len(shp) - rank])


def stateless_poisson(shape, seed, lam, dtype=dtypes.int32, name=None):
    """Deterministic Poisson samples of shape ``shape`` (``lam`` broadcast to it, as
    TF: unlike ``tf.random.poisson``, the rates do not add dimensions)."""
    d = dtypes.as_dtype(dtype)
    rate = lam if isinstance(lam, Tensor) else convert_to_tensor(lam, dtype=dtypes.float32)
    s = _seed_tensor(seed, "StatelessRandomPoisson", rate._device)
    shp = _sample_dims(_shape(shape, "StatelessRandomPoisson"), rate, "lam",
                       "StatelessRandomPoisson")
    return call(stateless_poisson_p, (s, rate), _attrs(shp, d))


def stateless_binomial(shape, seed, counts, probs, output_dtype=dtypes.int32,
                       name=None):
    """Deterministic binomial samples: successes in ``counts`` trials of probability
    ``probs`` (both broadcast to ``shape``)."""
    s = _seed_tensor(seed, "StatelessRandomBinomial")
    shp, n, p, d = binomial_inputs(shape, counts, probs, output_dtype,
                                   "StatelessRandomBinomial", s._device)
    return call(stateless_binomial_p, (s, n, p), _attrs(shp, d))


def stateless_gamma(shape, seed, alpha, beta=None, dtype=dtypes.float32, name=None):
    """Deterministic Gamma samples of shape ``shape``, which must end with the
    broadcast shape of ``alpha`` and ``beta`` (the scale is ``1 / beta``)."""
    op = "StatelessRandomGammaV3"
    d = _float_dtype(dtype, op)
    if d == dtypes.bfloat16:   # TF's kernel: half, float, double only
        raise InvalidArgumentError(f"Value for attr 'dtype' of bfloat16 is not in the "
                                   f"list of allowed values: half, float, double "
                                   f"[Op:{op}]")
    s = _seed_tensor(seed, op)
    shp = _shape(shape, op)
    alpha, beta = (None if v is None else m.cast(
        v if isinstance(v, Tensor) else convert_to_tensor(v, dtype=d), d)
        for v in (alpha, beta))
    if beta is not None:
        alpha = m.add(alpha, m.zeros_like(beta))   # broadcast alpha against beta
    out = call(stateless_gamma_p, (s, alpha),
               _attrs(_sample_dims(shp, alpha, "alpha (with beta)", op), d))
    return out if beta is None else m.divide(out, beta)


def stateless_parameterized_truncated_normal(shape, seed, means=0.0, stddevs=1.0,
                                             minvals=-2.0, maxvals=2.0, name=None):
    """Deterministic normal samples of ``means``/``stddevs`` restricted to
    ``[minvals, maxvals]`` (all four broadcast to ``shape``)."""
    s = _seed_tensor(seed, "StatelessParameterizedTruncatedNormal")
    shp = _shape(shape, "StatelessParameterizedTruncatedNormal")
    parts = [t(v) if isinstance(v, Tensor) else convert_to_tensor(v, dtype=dtypes.float32)
             for v in (means, stddevs, minvals, maxvals)]
    d = parts[0].dtype
    _float_dtype(d, "StatelessParameterizedTruncatedNormal")
    parts = [m.cast(p, d) for p in parts]
    return call(stateless_bounded_normal_p, (s, *parts), _attrs(shp, d))


@primitive("StatelessSeedMod")
def _seed_mod_p(d, seed, *, modulus, dtype):
    # a nonzero constant modulus: no divisor check, so no host read (a GPU step
    # stays capturable, unlike ``floormod``)
    return d.xp.mod(seed, seed.dtype.type(modulus)).astype(dtype, copy=False)


def seed_mod(seed, modulus, dtype=None):
    """``seed mod modulus`` (floored) of an integer seed tensor by a positive int,
    as ``dtype`` (default: ``seed``'s): Keras 3 folds its int64 seed states into
    the int32 seeds of the stateless ops this way."""
    s = t(seed)
    _int_dtype(s.dtype, "StatelessSeedMod")
    if isinstance(modulus, bool) or not isinstance(modulus, int) or modulus < 1:
        raise ValueError(f"`modulus` must be a positive int. Received: "
                         f"modulus={modulus!r}")
    d = s.dtype if dtype is None else dtypes.as_dtype(dtype)
    return call(_seed_mod_p, (s,), {"modulus": int(modulus), "dtype": d._np})


def split(seed, num=2, alg="auto_select"):
    """``num`` new stateless seeds (shape ``[num, 2]``, ``seed``'s dtype) derived
    from ``seed``: TF's full-range stateless draw of that shape."""
    s = _seed_tensor(seed, "StatelessSplit")
    d = _int_dtype(s.dtype, "StatelessSplit")
    return call(stateless_full_int_p, (s,), _attrs((int(num), 2), d))


def fold_in(seed, data, alg="auto_select"):
    """A new stateless seed ``[draw, data]`` (shape [2], ``data``'s dtype) combining
    ``seed`` with the integer ``data``."""
    s = _seed_tensor(seed, "StatelessFoldIn")
    data = data if isinstance(data, Tensor) else convert_to_tensor(data,
                                                                   device=s._device)
    d = _int_dtype(data.dtype, "StatelessFoldIn")
    if tuple(data.shape) != ():
        raise InvalidArgumentError(f"StatelessFoldIn: `data` must be a scalar, got "
                                   f"shape {list(data.shape)}")
    drawn = call(stateless_full_int_p, (s,), _attrs((), d))
    return stack([drawn, data])


def stateless_shuffle(value, seed, alg="auto_select", name=None):
    """``value`` with its first dimension randomly permuted, deterministically by
    ``seed`` (TF's permutation: the same seed gives TF's order).

    Args:
      value: a Tensor of rank >= 1.
      seed: shape [2] integer seed.
      alg: the RNG algorithm (as ``stateless_uniform``).
      name: unused (TF compatibility).
    """
    x = t(value)
    if x.ndim < 1:
        raise InvalidArgumentError(f"stateless_shuffle: `value` must have rank >= 1, got "
                                   f"shape {list(x.shape)}")
    s = _seed_tensor(seed, "StatelessShuffle", x._device)
    return call(stateless_shuffle_p, (s, x), {})


experimental = types.SimpleNamespace(
    Algorithm=Algorithm, Generator=Generator, create_rng_state=create_rng_state,
    get_global_generator=get_global_generator, set_global_generator=set_global_generator,
    stateless_split=split, stateless_fold_in=fold_in, stateless_shuffle=stateless_shuffle,
    index_shuffle=index_shuffle)

__all__ = []  # tf.random names live under dlframe.random only
NN_NAMES = []
RANDOM_NAMES = [
    "Algorithm", "Generator", "categorical", "create_rng_state", "experimental", "fold_in",
    "gamma", "get_global_generator", "normal", "poisson", "set_global_generator",
    "set_seed", "shuffle", "split", "stateless_categorical", "stateless_normal",
    "stateless_binomial", "stateless_gamma", "stateless_parameterized_truncated_normal",
    "stateless_poisson",
    "stateless_truncated_normal", "stateless_uniform",
    "truncated_normal", "uniform",
]
