"""``tf.random.Generator``: random draws from an explicit, Variable-held state.

The state is TF's Philox state ``[counter_lo, counter_hi, key]`` (int64 words of a
128-bit counter and a 64-bit key); a draw of ``n`` outputs reads the Philox blocks
from the counter on and advances it by ``256 n``, as TF's stateful kernels, so a
Generator gives TensorFlow's numbers (binomial draws too, advancing it as TF's
kernel does). A ThreeFry Generator holds TF's two-word state and,
as TF without XLA, refuses to draw.
"""

import enum
import threading

from dlframe import backends
from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import STATE, call
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.variable import Variable
from dlframe.errors import InvalidArgumentError, UnimplementedError
from dlframe.ops import philox
from dlframe.ops.array_join import stack
from dlframe.ops.logic import zeros_like
from dlframe.ops.random_kernels import (
    _MASK64,
    _affine,
    _attrs,
    _float_dtype,
    _int_dtype,
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
    """RNG algorithms (only the enum: every algorithm runs Philox, TF's CPU choice)."""

    PHILOX = 1
    THREEFRY = 2
    AUTO_SELECT = 3


def _alg(alg):
    if alg is None:
        return Algorithm.PHILOX.value
    if isinstance(alg, Algorithm):
        return alg.value
    if isinstance(alg, str) and alg.upper() in Algorithm.__members__:
        return Algorithm[alg.upper()].value
    if isinstance(alg, int) and alg in {a.value for a in Algorithm}:
        return alg
    raise ValueError(f"Argument `alg` got unsupported value {alg!r}. Supported values "
                     f"are 'philox', 'threefry' and 'auto_select' (or tf.random."
                     f"Algorithm members).")


def create_rng_state(seed, alg):
    """The int64 state a Generator of ``seed`` starts from: the integer's 64-bit
    words, lowest first (as TF: a seed of 1234 gives ``[1234, 0, 0]``, -3 gives
    ``[-3, -1, -1]``; ThreeFry states have two words).

    Args:
      seed: a Python integer, or a 1-D sequence of up to three int64 words.
      alg: the algorithm: Philox states ``[counter_lo, counter_hi, key]``,
        ThreeFry ``[counter, key]``.

    Returns:
      An int64 Tensor of shape [3] (Philox) or [2] (ThreeFry).
    """
    return convert_to_tensor(_state_words(seed, _state_size(_alg(alg))))


def _state_size(alg):
    """The words of a state of the algorithm value ``alg`` (TF: ThreeFry 2)."""
    return 2 if alg == Algorithm.THREEFRY.value else 3


def _state_words(seed, size=3):
    if isinstance(seed, Tensor):
        seed = seed.numpy()
    if isinstance(seed, (int, np.integer)):
        seed = int(seed)
        words = [(seed >> (64 * i)) & _MASK64 for i in range(size)]
        return np.array(words, dtype=np.uint64).view(np.int64)
    words = np.asarray(seed).reshape(-1)
    if words.size > size:
        raise ValueError(f"create_rng_state: seed must have at most {size} words, got "
                         f"{words.size}")
    out = np.zeros(size, dtype=np.int64)
    out[:words.size] = [np.uint64(int(w) & _MASK64).view(np.int64) for w in words]
    return out


class _GenSource:
    """Random source of a Generator: each draw reads and advances its state."""

    __slots__ = ("gen",)

    def __init__(self, gen):
        self.gen = gen

    def reserve(self, d, n):
        # A trace that only records effects (a data pipeline finding its spec, a
        # cond branch, get_concrete_function) draws without advancing the state:
        # TF's tracing consumes no draws; the graph's run does.
        trace = STATE.trace
        return self.gen._reserve(d, n, advance=trace is None or trace.run_effects)


class Generator:
    """A random number generator with explicit state, as ``tf.random.Generator``.

    The state is a non-trainable int64 Variable ``[counter_lo, counter_hi, key]``
    held on the CPU; a draw of ``n`` outputs reads Philox blocks from the counter
    on and advances it by ``256 n``, so equal states give equal draws (and TF's).

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
        self._state = self._make_state(state, _state_size(self._alg))
        self._source = _GenSource(self)

    @staticmethod
    def _host_state(state, size):
        host = np.asarray(state.numpy() if isinstance(state, Tensor) else state,
                          dtype=np.int64).reshape(-1)
        if host.shape != (size,):   # TF's message
            raise ValueError(f"Shapes {host.shape} and [{size}] are incompatible")
        return host

    @classmethod
    def _make_state(cls, state, size):
        host = cls._host_state(state, size)
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
        return cls(state=_state_words(seed, _state_size(_alg(alg))), alg=alg)

    @classmethod
    def from_non_deterministic_state(cls, alg=None):
        """A generator seeded from OS entropy."""
        words = np.random.default_rng().integers(0, 1 << 64, size=_state_size(_alg(alg)),
                                                 dtype=np.uint64)
        return cls(state=words.view(np.int64), alg=alg)

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
        self._state.assign(self._host_state(state, _state_size(self._alg)))

    def reset_from_seed(self, seed):
        self.reset(_state_words(int(seed), _state_size(self._alg)))

    def reset_from_key_counter(self, key, counter):
        key = np.asarray(key, dtype=np.int64).reshape(-1)
        counter = np.asarray(counter, dtype=np.int64).reshape(-1)
        self.reset([counter[0], counter[1] if counter.size > 1 else 0, key[0]])

    def skip(self, delta):
        """Advances the state as if draws of ``delta`` outputs had been made (the
        counter moves by ``256 * delta``)."""
        with self._lock:
            self._advance(int(delta) * philox.SAMPLES_PER_OUTPUT)

    def _counter(self):
        st = self._state._value.view(np.uint64)
        return int(st[0]) | (int(st[1]) << 64)

    def _check_alg(self):
        if self._alg == Algorithm.THREEFRY.value:   # as TF on CPUs and GPUs
            raise UnimplementedError("Non-XLA devices don't support the ThreeFry "
                                     "algorithm. [Op:RngReadAndSkip]")

    def _advance(self, n):
        self._check_alg()
        counter = philox.add_counter(self._counter(), n)
        st = self._state._value  # host array: advanced in place
        st[:2] = np.array([counter & _MASK64, counter >> 64], np.uint64).view(np.int64)

    def _reserve(self, d, n, advance=True):
        self._check_alg()
        with self._lock:
            key = int(self._state._value.view(np.uint64)[2])
            bits = philox.Bits(d.xp, (key, key >> 32), self._counter())
            if advance:
                self._advance(n * philox.SAMPLES_PER_OUTPUT)
        return bits

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
        try:
            return _uniform(shape, minval, maxval, d, self._source, op,
                            (uniform_p, uniform_int_p))
        except InvalidArgumentError as e:
            if d.is_integer and "Need minval < maxval" in str(e):
                # TF reads and skips the state before its kernel checks the bounds
                self.skip(philox.num_elements(_shape(shape, op)))
            raise

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
        """``count`` stateless seeds: an int64 tensor ``[2, count]`` (TF: new keys
        in the first row, zeros in the second)."""
        # built with ops, not on the host: inside a tf.data map or tf.function the
        # draw is symbolic, and a host copy would run it outside the trace
        keys = self.uniform_full_int([int(count)], dtype=dtypes.int64)
        return stack([keys, zeros_like(keys)])

    def split(self, count=1):
        """``count`` new independent Generators, states ``[0, 0, new key]``
        (advances this one)."""
        keys = self.uniform_full_int([int(count)], dtype=dtypes.int64).numpy()
        return [Generator(state=[0, 0, int(k)], alg=self._alg) for k in keys]

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
