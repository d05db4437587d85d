"""``tf.random.Generator``: random draws from an explicit, Variable-held state."""

import enum
import threading

from dlframe import backends
from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import call
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.variable import Variable
from dlframe.ops.random_kernels import (
    _MASK63,
    _MASK64,
    _affine,
    _attrs,
    _float_dtype,
    _int_dtype,
    _mix,
    _shape,
    _uniform,
    binomial_inputs,
    binomial_p,
    full_int_p,
    normal_p,
    truncated_normal_p,
    uniform_int_p,
    uniform_p,
)


class Algorithm(enum.Enum):
    """RNG algorithms (only the enum; every algorithm maps to the device generator)."""

    PHILOX = 1
    THREEFRY = 2
    AUTO_SELECT = 3


def _alg(alg):
    if alg is None or alg == "auto_select":
        return Algorithm.PHILOX.value
    if isinstance(alg, Algorithm):
        return alg.value
    if isinstance(alg, str):
        return Algorithm[alg.upper()].value
    return int(alg)


def create_rng_state(seed, alg):
    """The int64 state ``[counter0, counter1, key]`` a Generator of ``seed`` starts from."""
    return np.array([0, 0, _mix(0x6E4, int(seed))], dtype=np.int64)


class _GenSource:
    """Random source of a Generator: each draw advances its state counter."""

    __slots__ = ("gen",)

    def __init__(self, gen):
        self.gen = gen

    def generator(self, d):
        return self.gen._next_rng(d)


class Generator:
    """A random number generator with explicit state, as ``tf.random.Generator``.

    The state is a non-trainable int64 Variable ``[counter0, counter1, key]`` held
    on the CPU; every draw seeds a device generator from (key, counter) and
    advances the counter, so equal states give equal draws.

    Args:
      copy_from: another Generator to copy the state of.
      state: an int64 array/tensor of shape [3].
      alg: the algorithm (kept for API compatibility).
    """

    def __init__(self, copy_from=None, state=None, alg=None):
        self._alg = _alg(alg)
        self._lock = threading.Lock()
        if copy_from is not None:
            if state is not None:
                raise ValueError("Generator: give either `copy_from` or `state`, not both")
            self._alg = copy_from._alg
            state = copy_from._state.numpy()
        if state is None:
            raise ValueError("Generator: `copy_from` or `state` must be given; use "
                             "Generator.from_seed or from_non_deterministic_state")
        self._state = self._make_state(state)
        self._source = _GenSource(self)

    @staticmethod
    def _make_state(state):
        host = np.asarray(state.numpy() if isinstance(state, Tensor) else state,
                          dtype=np.int64).reshape(-1)
        if host.shape != (3,):
            raise ValueError(f"Generator: state must have shape [3], got {list(host.shape)}")
        backends.push_device(backends.get_device("cpu:0"))
        try:
            return Variable(host.copy(), trainable=False, name="StateVar")
        finally:
            backends.pop_device()

    @classmethod
    def from_seed(cls, seed, alg=None):
        """A generator whose draws are determined by the integer ``seed``."""
        if isinstance(seed, Tensor):
            seed = int(seed)
        return cls(state=create_rng_state(seed, alg), alg=alg)

    @classmethod
    def from_non_deterministic_state(cls, alg=None):
        """A generator seeded from OS entropy."""
        entropy = np.random.SeedSequence().entropy
        return cls(state=create_rng_state(entropy & _MASK63, alg), alg=alg)

    @classmethod
    def from_state(cls, state, alg):
        return cls(state=state, alg=alg)

    @classmethod
    def from_key_counter(cls, key, counter, alg):
        key = np.asarray(key, dtype=np.int64).reshape(-1)
        counter = np.asarray(counter, dtype=np.int64).reshape(-1)
        return cls(state=[counter[0], counter[1] if counter.size > 1 else 0, key[0]],
                   alg=alg)

    # -- state --------------------------------------------------------------
    @property
    def state(self):
        """The state Variable (int64, shape [3])."""
        return self._state

    @property
    def algorithm(self):
        return self._alg

    @property
    def key(self):
        return convert_to_tensor(np.int64(self._state._value[2]))

    def reset(self, state):
        host = np.asarray(state.numpy() if isinstance(state, Tensor) else state,
                          dtype=np.int64).reshape(3)
        self._state.assign(host)

    def reset_from_seed(self, seed):
        self.reset(create_rng_state(int(seed), self._alg))

    def reset_from_key_counter(self, key, counter):
        key = np.asarray(key, dtype=np.int64).reshape(-1)
        counter = np.asarray(counter, dtype=np.int64).reshape(-1)
        self.reset([counter[0], counter[1] if counter.size > 1 else 0, key[0]])

    def skip(self, delta):
        """Advances the state as if ``delta`` draws had been made."""
        with self._lock:
            self._advance(int(delta))

    def _advance(self, n):
        st = self._state._value  # host array: advanced in place
        total = (int(st[0]) & _MASK64) + n
        st[0] = np.uint64(total & _MASK64).view(np.int64)
        if total >> 64:
            st[1] = np.uint64(((int(st[1]) & _MASK64) + 1) & _MASK64).view(np.int64)

    def _next_rng(self, d):
        with self._lock:
            st = self._state._value
            seed = _mix(int(st[2]), int(st[1]), int(st[0]))
            self._advance(1)
        return d.xp.random.default_rng(seed)

    # -- draws --------------------------------------------------------------
    def normal(self, shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, name=None):
        """Normal samples (see ``dlframe.random.normal``)."""
        d = _float_dtype(dtype, "StatefulStandardNormalV2")
        z = call(normal_p, (), _attrs(_shape(shape, "StatefulStandardNormalV2"), d,
                                      source=self._source))
        return _affine(z, mean, stddev, d)

    def truncated_normal(self, shape, mean=0.0, stddev=1.0, dtype=dtypes.float32,
                         name=None):
        """Truncated normal samples (redrawn beyond two stddevs)."""
        d = _float_dtype(dtype, "StatefulTruncatedNormal")
        z = call(truncated_normal_p, (), _attrs(_shape(shape, "StatefulTruncatedNormal"),
                                                d, source=self._source))
        return _affine(z, mean, stddev, d)

    def uniform(self, shape, minval=0, maxval=None, dtype=dtypes.float32, name=None):
        """Uniform samples in ``[minval, maxval)``; integer dtypes need both bounds or
        neither (full range)."""
        d = dtypes.as_dtype(dtype)
        if d.is_integer:
            if minval is None and maxval is None:
                return self.uniform_full_int(shape, d)
            if minval is None or maxval is None:
                raise ValueError(
                    f"For integer dtype {d!r}, minval and maxval must be both `None` or "
                    f"both non-`None`; got minval={minval} and maxval={maxval}")
        op = "StatefulUniformInt" if d.is_integer else "StatefulUniform"
        return _uniform(shape, minval, maxval, d, self._source, op, (uniform_p, uniform_int_p))

    def uniform_full_int(self, shape, dtype=dtypes.uint64, name=None):
        """Integers uniform over the full range of ``dtype``."""
        d = _int_dtype(dtypes.as_dtype(dtype), "StatefulUniformFullInt")
        return call(full_int_p, (), _attrs(_shape(shape, "StatefulUniformFullInt"), d,
                                           source=self._source))

    def binomial(self, shape, counts, probs, dtype=dtypes.int32, name=None):
        """Binomial samples: successes in ``counts`` trials of probability ``probs``
        (both broadcast to ``shape``)."""
        shp, n, p, d = binomial_inputs(shape, counts, probs, dtype,
                                       "StatefulRandomBinomial")
        return call(binomial_p, (n, p), _attrs(shp, d, source=self._source))

    def make_seeds(self, count=1):
        """``count`` stateless seeds from this generator: an int64 tensor ``[2, count]``."""
        return self.uniform_full_int([2, int(count)], dtype=dtypes.int64)

    def split(self, count=1):
        """``count`` new independent Generators (advances this one)."""
        seeds = self.make_seeds(count).numpy()
        return [Generator(state=create_rng_state(_mix(int(seeds[0, i]), int(seeds[1, i])),
                                                 self._alg), alg=self._alg)
                for i in range(int(count))]

    def __repr__(self):
        return f"<dlframe.random.Generator state={self._state.numpy().tolist()}>"


_GLOBAL = {"generator": None}


def get_global_generator():
    """The global Generator (created from a nondeterministic state on first use)."""
    if _GLOBAL["generator"] is None:
        _GLOBAL["generator"] = Generator.from_non_deterministic_state()
    return _GLOBAL["generator"]


def set_global_generator(generator):
    """Replaces the global Generator."""
    if not isinstance(generator, Generator):
        raise TypeError(f"set_global_generator: expected a Generator, got {generator!r}")
    _GLOBAL["generator"] = generator
