"""Random kernels: TF's seed state, Philox sources and the random primitives.

The public ops (``dlframe.ops.random``) and ``Generator`` (``random_generator``)
are written on these. See ``dlframe.ops.random`` for the seed semantics.

Uniform, normal, truncated normal and integer draws (and dropout masks, which TF
draws as uniforms) are TensorFlow's Philox kernels (``dlframe.ops.philox``), so
seeded programs see TF's numbers, as do categorical, Gamma, Poisson, binomial and
shuffle draws (``random_tf_samplers``) and the bounded normals of
``stateless_parameterized_truncated_normal`` (``random_bounded_normal``).

On a GPU, uniforms, normals and dropout masks draw from Philox counters held in
device memory (``GPUDevice.philox_stream`` when unseeded, a traced op's own
counter when seeded), read and advanced by kernels (``backends.philox_cuda``), so
a CUDA graph of a train step replays them with fresh numbers
(``Primitive.device_random``); the numbers are the ones host counters give.
"""

import random
import threading
import weakref

from dlframe import backends
from dlframe.backends import philox_cuda
from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import STATE, call, primitive
from dlframe.core.static_dims import note_shaped
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops import math as m
from dlframe.ops import philox
from dlframe.ops import random_bounded_normal
from dlframe.ops import random_tf_samplers as tf_samplers
from dlframe.ops._util import static_shape

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = (1 << 31) - 1
_MASK63 = (1 << 63) - 1
_MASK64 = (1 << 64) - 1


def _mix(*ints):
    """A 63-bit seed hashed from integers (host-side SeedSequence)."""
    seq = np.random.SeedSequence([int(i) & _MASK64 for i in ints])
    return int(seq.generate_state(1, np.uint64)[0]) & _MASK63


# ---------------------------------------------------------------- seed state
class _SeedState:
    def __init__(self):
        self.lock = threading.Lock()
        self.global_seed = None
        self.op_seeds = None   # eager op seeds: random.Random(global seed), as TF
        self.streams = {}
        self.epoch = 0   # bumped by set_seed: streams held by traced functions restart
        self.traced = weakref.WeakKeyDictionary()  # op seeds handed out per trace
        self.device_streams = weakref.WeakSet()   # _Streams with device counters


_SEEDS = _SeedState()
# draws from device-held counters (kernels launched in stream order): two threads must
# not both read a counter before either advances it
_DEVICE_DRAWS = threading.Lock()
_ENTROPY = np.random.default_rng()   # keys of unseeded draws


class _Stream:
    """A seeded kernel: Philox keyed by the global seed, its counter starting at
    the op seed and advancing 256 blocks per output element (TF's
    ``GuardedPhiloxRandom``); one counter per device."""

    __slots__ = ("__weakref__", "_counter0", "_counters", "_epoch", "_states", "key",
                 "seeds", "traced")

    def __init__(self, seeds, traced=False):
        self.seeds = seeds
        self.traced = traced   # a traced op's: its counters live on a GPU there
        self.key, self._counter0 = philox.seed_key_counter(*seeds)
        self._counters = {}
        self._states = {}   # device -> its uint32[6] state there (GPUs)
        self._epoch = _SEEDS.epoch

    def device_bits(self, d, n):
        """The bits of a draw of ``n`` outputs from this stream's counter held on
        device ``d`` (a ``philox.DeviceBits`` advancing it by TF's ``256 n`` blocks),
        the same numbers :meth:`reserve` gives."""
        state = self._states.get(d)
        if state is None:
            with _SEEDS.lock:
                state = self._states.get(d)
                if state is None:
                    state = self._states[d] = d.asarray(
                        philox_cuda.state_words(self.key, self._counter0))
                    _SEEDS.device_streams.add(self)
        return philox.DeviceBits(d.xp, state, n * philox.SAMPLES_PER_OUTPUT)

    def restart(self):
        """Rewinds the device-held counters in place (``set_seed``: graphs traced
        and captured earlier hold them)."""
        words = philox_cuda.state_words(self.key, self._counter0)
        for d, state in list(self._states.items()):
            with d.context():
                state[...] = d.asarray(words)

    def reserve(self, d, n):
        """The Philox bits of a draw of ``n`` outputs on device ``d``."""
        with _SEEDS.lock:
            if self._epoch != _SEEDS.epoch:
                # tf.random.set_seed restarts the sequences of ops traced earlier too
                self._counters, self._epoch = {}, _SEEDS.epoch
            counter = self._counters.get(d.name, self._counter0)
            self._counters[d.name] = philox.add_counter(
                counter, n * philox.SAMPLES_PER_OUTPUT)
        return philox.Bits(d.xp, self.key, counter)

    def __repr__(self):
        return f"<random stream {self.seeds}>"


def set_seed(seed):
    """Sets the global random seed (``None`` clears it: draws become nondeterministic).

    Restarts every seeded stream and the op-seed sequence, like ``tf.random.set_seed``.
    """
    if isinstance(seed, Tensor):
        seed = int(seed)
    with _SEEDS.lock:
        _SEEDS.global_seed = None if seed is None else int(seed)
        _SEEDS.op_seeds = None if seed is None else random.Random(int(seed))
        _SEEDS.streams = {}
        _SEEDS.epoch += 1
        restart = list(_SEEDS.device_streams)
    for stream in restart:   # traced seeded draws restart too, on the device
        stream.restart()
    for dev in backends.all_devices():  # unseeded draws follow the global seed too
        if hasattr(dev, "seed_rng"):
            dev.seed_rng(None if seed is None else _mix(int(seed), dev.index,
                                                       0 if dev.kind == "cpu" else 1))


def _next_op_seed():
    """The op seed of an op without one: TF draws eager ones from
    ``random.Random(global_seed)`` and numbers a function graph's 0, 1, 2, ..."""
    trace = STATE.trace
    if trace is None:
        return _SEEDS.op_seeds.randint(0, _MAXINT32)
    while getattr(trace, "parent", None) is not None:
        trace = trace.parent
    n = _SEEDS.traced.get(trace, 0)
    _SEEDS.traced[trace] = n + 1
    return n


def get_seed(op_seed):
    """The ``(global_seed, op_seed)`` pair an op uses, as ``tf.compat.v1.get_seed``."""
    if isinstance(op_seed, Tensor):
        op_seed = int(op_seed)
    with _SEEDS.lock:
        g = _SEEDS.global_seed
        if g is not None:
            if op_seed is None:
                op_seed = _next_op_seed()
            seeds = g % _MAXINT32, int(op_seed) % _MAXINT32
        elif op_seed is not None:
            seeds = DEFAULT_GRAPH_SEED, int(op_seed) % _MAXINT32
        else:
            return None, None
    # (0, 0) means "nondeterministic" to TF's kernels
    return (0, _MAXINT32) if seeds == (0, 0) else seeds


def _source(seed, kernel=None):
    """The random source of an op with op seed ``seed`` (None: unseeded).

    ``kernel`` names the op and its dtype: as in TF's kernel cache, eager ops
    with the same explicit seeds and ``kernel`` continue one stream. A traced op
    and an op seed taken from the sequence get a stream of their own.
    """
    explicit = seed is not None
    seeds = get_seed(seed)
    if seeds[0] is None:
        return None
    if not explicit or STATE.trace is not None:
        return _Stream(seeds, traced=STATE.trace is not None)
    key = (kernel, *seeds)
    with _SEEDS.lock:
        stream = _SEEDS.streams.get(key)
        if stream is None:
            stream = _SEEDS.streams[key] = _Stream(seeds)
    return stream


def _bits(d, source, n):
    """The Philox bits of a draw of ``n`` outputs from ``source`` on ``d``."""
    if source is None:  # unseeded: a fresh random key, TF's nondeterministic seeds
        key = _ENTROPY.integers(0, 1 << 32, size=2).tolist()
        counter = int(_ENTROPY.integers(0, 1 << 63)) << 64
        return philox.Bits(d.xp, key, counter, rng=d.rng())
    return source.reserve(d, n)


def _rng(d, source):
    """A device ``default_rng`` for samplers outside the Philox contract."""
    return d.rng() if source is None else source.reserve(d, 1).numpy_rng()


def _stateless_bits(d, seed):
    s = d.to_numpy(seed).reshape(-1)
    key, counter = philox.stateless_key_counter(int(s[0]), int(s[1]))
    return philox.Bits(d.xp, key, counter)


# ---------------------------------------------------------------- samplers
def _gen_dtype(xp, dtype):
    return xp.float64 if dtype.itemsize == 8 else xp.float32


def _sample_normal(bits, xp, *, shape, dtype):
    return philox.normal(bits, shape, dtype)


def _sample_uniform(bits, xp, *, shape, dtype):
    return philox.uniform(bits, shape, dtype)


def _sample_truncated(bits, xp, *, shape, dtype):
    return philox.truncated_normal(bits, shape, dtype)


def _sample_uniform_int(bits, xp, *, shape, dtype, minval, maxval):
    return philox.uniform_int(bits, shape, dtype, minval, maxval)


def _sample_full_int(bits, xp, *, shape, dtype):
    return philox.full_int(bits, shape, dtype)


def _sample_dropout_mask(rng, xp, *, shape, dtype, rate):
    # TF: uniform >= rate keeps, kept values scaled by 1 / (1 - rate) in x's dtype.
    # On the CPU the uniforms come from the device generator, not Philox: masks are
    # not TF's bits, but dropout runs at generator speed (Philox costs 3-7x here;
    # a GPU runs Philox in one kernel: _sample_dropout_philox)
    gen = _gen_dtype(xp, np.dtype(dtype))
    one = np.dtype(dtype).type(1)   # NumPy scalars: a 0-d host array is no CuPy operand
    scale = one / (one - np.dtype(dtype).type(rate))
    mask = _uniform_at_least(rng, xp, shape, gen, rate).astype(dtype)
    mask *= scale
    return mask


def _sample_dropout_philox(bits, xp, *, shape, dtype, rate):
    # on a GPU: TF's rule on Philox uniforms from the device-held stream
    return philox.dropout_mask(bits, shape, dtype, rate)


_WORD_GENERATORS = (np.random.PCG64, np.random.PCG64DXSM)


def _uniform_at_least(rng, xp, shape, gen, rate):
    """``rng.random(shape, dtype=gen) >= rate`` (bool).

    On the host the comparison runs on the generator's raw words instead, without
    building the floats: NumPy's float32 uniform is ``(word32 >> 8) * 2**-24`` and
    its float64 ``(word64 >> 11) * 2**-53``, so ``u >= rate`` is exactly ``word >=``
    the smallest word whose float reaches ``rate`` - the same keep probability and,
    from a fresh generator (seeded masks), the same mask (~1.4x faster). Only for
    the PCG64 generators of ``default_rng``, whose 32-bit draws are the low then
    the high half of each 64-bit word (other bit generators draw the floats)."""
    bit_gen = getattr(rng, "bit_generator", None)
    if xp is not np or type(bit_gen) not in _WORD_GENERATORS or not np.little_endian:
        return rng.random(shape, dtype=gen) >= gen(rate)
    n = philox.num_elements(shape)
    if gen == np.float32:
        words = bit_gen.random_raw((n + 1) // 2).view(np.uint32)[:n]
        drop, bits = 8, 24
    else:
        words = bit_gen.random_raw(n)
        drop, bits = 11, 53
    # the smallest k with k * 2**-bits >= rate (the float product is exact)
    k = int(np.ceil(np.asarray(rate, dtype=gen) * gen(2.0 ** bits)))
    if k >> bits:   # the rate rounded to 1 in gen: no uniform reaches it
        return xp.zeros(shape, bool)
    return (words >= words.dtype.type(k << drop)).reshape(shape)


def _draw_size(arrays, attrs):
    """Outputs a draw reserves counter room for (TF: the output size)."""
    shape = attrs.get("shape")
    if shape is not None:
        return philox.num_elements(shape)
    return max(1, int(arrays[0].size)) if arrays else 1


def _device_bits(d, source, n):
    """The Philox bits of a draw on ``d`` when it has a ``philox_stream`` (a GPU):
    ``philox.DeviceBits`` on its counter (unseeded) or a traced op's counter held
    there, host-counter ``Bits`` for an eager seeded op; None on the CPU and for a
    Generator's draw (the usual path)."""
    stream = getattr(d, "philox_stream", None)
    state = stream() if stream is not None else None
    if state is None:
        return None
    if source is None:   # unseeded: the device's stream, advanced by what it used
        return philox.DeviceBits(d.xp, state)
    if not isinstance(source, _Stream):   # a Generator's state: a host Variable
        return None
    if not source.traced:   # an eager op: host counters (the same numbers), no
        return source.reserve(d, n)   # device state made per call
    return source.device_bits(d, n)


def _draws_on_device(attrs):
    """Whether a stateful draw with ``attrs`` reads a device-held counter where the
    device has one (``Primitive.device_random``): not a Generator's."""
    source = attrs.get("source")
    return source is None or isinstance(source, _Stream) and source.traced


def _random_prims(name, stateless_name, sampler, exact=False, device_sampler=None,
                  draw_size=_draw_size, device_seed=False):
    """A stateful primitive (seeded by a source attr) and a stateless one (seed
    input). An ``exact`` sampler takes TF's Philox bits; the others a device
    ``default_rng`` keyed by them. With a ``device_sampler`` (Philox bits) the
    stateful one draws on a GPU from counters held there (``device_random``: CUDA
    graphs replay it), and the stateless one keys its bits from the seed there;
    ``device_seed`` gives the stateless one that alone (a sampler with no host
    reads of its own: the seed needs none either)."""
    seeded_on_device = device_sampler or (sampler if device_seed else None)
    def stateful(d, *arrays, source, **attrs):
        if device_sampler is not None:
            bits = _device_bits(d, source, draw_size(arrays, attrs))
            if bits is not None:
                if not isinstance(bits, philox.DeviceBits):
                    return device_sampler(bits, d.xp, *arrays, **attrs)
                with _DEVICE_DRAWS:   # read and advance a device counter as one step
                    out = device_sampler(bits, d.xp, *arrays, **attrs)
                    bits.commit()
                return out
        if source is None and not exact:   # unseeded: the device generator as is
            return sampler(d.rng(), d.xp, *arrays, **attrs)
        bits = _bits(d, source, draw_size(arrays, attrs))
        return sampler(bits if exact else bits.numpy_rng(), d.xp, *arrays, **attrs)

    def stateless(d, seed, *arrays, **attrs):
        if seeded_on_device is not None and d.xp is not np:
            # a GPU: the seed's key and counter made on the device, not read back
            # (a layer's seed state inside a captured step stays on the device)
            state = philox.stateless_device_state(d.xp, seed)
            return seeded_on_device(philox.DeviceBits(d.xp, state), d.xp, *arrays,
                                    **attrs)
        bits = _stateless_bits(d, seed)
        return sampler(bits if exact else bits.numpy_rng(), d.xp, *arrays, **attrs)

    sf = primitive(name, stateful=True)(stateful)
    sf.device_random = _draws_on_device if device_sampler is not None else False
    sl = primitive(stateless_name)(stateless) if stateless_name else None
    return sf, sl


normal_p, stateless_normal_p = _random_prims(
    "RandomStandardNormal", "StatelessRandomNormalV2", _sample_normal, exact=True,
    device_sampler=_sample_normal)
uniform_p, stateless_uniform_p = _random_prims(
    "RandomUniform", "StatelessRandomUniformV2", _sample_uniform, exact=True,
    device_sampler=_sample_uniform)
truncated_normal_p, stateless_truncated_normal_p = _random_prims(
    "TruncatedNormal", "StatelessTruncatedNormalV2", _sample_truncated, exact=True)
uniform_int_p, stateless_uniform_int_p = _random_prims(
    "RandomUniformInt", "StatelessRandomUniformIntV2", _sample_uniform_int, exact=True,
    device_seed=True)
full_int_p, stateless_full_int_p = _random_prims(
    "RandomUniformFullInt", "StatelessRandomUniformFullIntV2", _sample_full_int,
    exact=True, device_seed=True)
categorical_p, stateless_categorical_p = _random_prims(
    "Multinomial", "StatelessMultinomial", tf_samplers.categorical, exact=True,
    draw_size=tf_samplers.categorical_draw_size, device_seed=True)
shuffle_p, stateless_shuffle_p = _random_prims(
    "RandomShuffle", "StatelessShuffle", tf_samplers.shuffle, exact=True,
    draw_size=tf_samplers.shuffle_draw_size)
poisson_p, stateless_poisson_p = _random_prims(
    "RandomPoissonV2", "StatelessRandomPoisson", tf_samplers.poisson, exact=True,
    draw_size=tf_samplers.param_draw_size)
gamma_p, stateless_gamma_p = _random_prims(
    "RandomGamma", "StatelessRandomGammaV3", tf_samplers.gamma, exact=True,
    draw_size=tf_samplers.param_draw_size)
binomial_p, stateless_binomial_p = _random_prims(
    "StatefulRandomBinomial", "StatelessRandomBinomial", tf_samplers.binomial,
    exact=True, draw_size=tf_samplers.binomial_draw_size)
_, stateless_bounded_normal_p = _random_prims(
    "ParameterizedTruncatedNormal", "StatelessParameterizedTruncatedNormal",
    random_bounded_normal.sample, exact=True)
dropout_mask_p, _ = _random_prims("DropoutMask", None, _sample_dropout_mask,
                                  device_sampler=_sample_dropout_philox)


# ---------------------------------------------------------------- argument checks
_FLOATS = "half, bfloat16, float32, float64"


def _shape(shape, op):
    _check_shape_arg(shape, op)
    shp = static_shape(shape, op)
    if any(s < 0 for s in shp):
        raise InvalidArgumentError(f"{op}: shape must be non-negative, got {list(shp)}")
    return shp


def _check_shape_arg(shape, op):
    """TF's checks on a sampler's ``shape``: a fully known 1-D integer vector
    (``normal([2.5])``, ``normal(3)`` and a float shape tensor are refused)."""
    def refuse(why):
        raise InvalidArgumentError(f"{op}: `shape` must be a 1-D vector of "
                                   f"int32/int64 values, {why}; got {shape!r}")
    if isinstance(shape, (Tensor, np.ndarray)):
        kind = np.dtype(getattr(shape.dtype, "_np", shape.dtype)).kind
        if kind not in "iu":
            refuse(f"not {shape.dtype.name if isinstance(shape, Tensor) else shape.dtype}")
        rank = shape.shape.rank if isinstance(shape, Tensor) else shape.ndim
        if rank is not None and rank != 1:
            refuse(f"not a rank-{rank} value")
        return
    if hasattr(shape, "as_list"):   # a TensorShape
        if not shape.is_fully_defined():
            raise ValueError(f"{op}: cannot sample a partially known shape {shape}")
        return
    if not isinstance(shape, (list, tuple)):
        refuse("not a scalar" if isinstance(shape, (int, float, np.generic)) else
               f"not a {type(shape).__name__}")
    for dim in shape:
        if dim is None:
            raise ValueError(f"{op}: `shape` must be fully defined (no None), got "
                             f"{shape!r}")
        if isinstance(dim, Tensor):
            if not dim.dtype.is_integer or dim.shape.rank not in (0, None):
                refuse(f"its entry {dim!r} is not an integer scalar")
        elif isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            refuse(f"its entry {dim!r} is not an integer")


def _float_dtype(dtype, op):
    d = dtypes.as_dtype(dtype)
    if not d.is_floating:
        raise TypeError(f"{op}: `dtype` must be a floating point type ({_FLOATS}), got "
                        f"{d.name}")
    return d


def _int_dtype(d, op):
    if d not in (dtypes.int32, dtypes.int64, dtypes.uint32, dtypes.uint64):
        raise TypeError(f"{op}: integer `dtype` must be int32, int64, uint32 or uint64, "
                        f"got {d.name}")
    return d


def _scalar_int(v, arg, op):
    if isinstance(v, Tensor):
        if v._value.ndim != 0:
            raise InvalidArgumentError(f"{op}: `{arg}` must be a scalar for integer dtypes, "
                                       f"got shape {list(v._value.shape)}")
        return int(v)
    return int(v)


def _affine(z, loc, scale, dtype):
    """``z * scale + loc`` (skipped for the default 0/1 Python numbers)."""
    plain = (lambda v, w: not isinstance(v, Tensor) and not hasattr(v, "shape") and v == w)
    if not plain(scale, 1):
        z = m.multiply(z, scale if isinstance(scale, Tensor) else
                       convert_to_tensor(scale, dtype=dtype, device=z._device))
    if not plain(loc, 0):
        z = m.add(z, loc if isinstance(loc, Tensor) else
                  convert_to_tensor(loc, dtype=dtype, device=z._device))
    return z


def binomial_inputs(shape, counts, probs, dtype, op, device=None):
    """Checked ``(shape, counts, probs, dtype)`` of a binomial draw: counts and probs
    (float) must broadcast to ``shape``."""
    shp = _shape(shape, op)
    d = dtypes.as_dtype(dtype)
    if d not in (dtypes.int32, dtypes.int64, dtypes.float16, dtypes.float32,
                 dtypes.float64):
        raise TypeError(f"{op}: output dtype must be int32, int64 or a float type, got "
                        f"{d.name}")
    parts = []
    for name, v in (("counts", counts), ("probs", probs)):
        v = v if isinstance(v, Tensor) else convert_to_tensor(v, dtype=dtypes.float32,
                                                               device=device)
        try:
            ok = np.broadcast_shapes(tuple(v.shape), shp) == shp
        except ValueError:
            ok = False
        if not ok:
            raise InvalidArgumentError(f"{op}: `{name}` of shape {list(v.shape)} does not "
                                       f"broadcast to the output shape {list(shp)}")
        parts.append(v)
    return shp, parts[0], parts[1], d


def _attrs(shape, dtype, **extra):
    attrs = {"shape": shape, "dtype": dtype._np}
    attrs.update(extra)
    return attrs


def _uniform(shape, minval, maxval, dtype, source, op, prims, seed_t=None):
    d = dtypes.as_dtype(dtype)
    shp = _shape(shape, op)
    float_p, int_p = prims
    inputs = () if seed_t is None else (seed_t,)
    extra = {} if seed_t is not None else {"source": source}
    if d.is_integer:
        _int_dtype(d, op)
        lo, hi = _scalar_int(minval, "minval", op), _scalar_int(maxval, "maxval", op)
        if lo >= hi:
            raise InvalidArgumentError(f"Need minval < maxval, got {lo} >= {hi} [Op:{op}]")
        return note_shaped(call(int_p, inputs, _attrs(shp, d, minval=lo, maxval=hi,
                                                      **extra)), shape)
    if not d.is_floating:
        raise ValueError(f"{op}: Argument `dtype` got invalid value {d.name}; it must "
                         f"be a floating point or integer type")
    u = note_shaped(call(float_p, inputs, _attrs(shp, d, **extra)), shape)
    if maxval is None:
        maxval = 1
    plain = not isinstance(minval, Tensor) and not isinstance(maxval, Tensor) and \
        not hasattr(minval, "shape") and not hasattr(maxval, "shape")
    if plain:
        if minval == 0 and maxval == 1:
            return u
        # TF: u * (maxval - minval) + minval, the bounds cast to dtype first
        lo, hi = np.asarray(minval, dtype=d._np), np.asarray(maxval, dtype=d._np)
        span = convert_to_tensor(hi - lo, dtype=d, device=u._device)
        return m.add(m.multiply(u, span), convert_to_tensor(lo, dtype=d, device=u._device))
    lo = minval if isinstance(minval, Tensor) else convert_to_tensor(minval, dtype=d,
                                                                      device=u._device)
    hi = maxval if isinstance(maxval, Tensor) else convert_to_tensor(maxval, dtype=d,
                                                                      device=u._device)
    return m.add(m.multiply(u, m.subtract(hi, lo)), lo)
