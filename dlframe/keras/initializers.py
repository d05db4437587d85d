"""``keras.initializers``: classes, snake_case function aliases, get/serialize/deserialize.

Random initializers draw through ``dlframe.random`` ops. A seeded initializer draws the
same values on every call by using the stateless ops with ``[seed, 0]``. An unseeded one
takes Keras 3's default seed at construction once ``keras.utils.set_random_seed`` has run
(the same weights as TF 2.21); before, it draws from the global-seed stream (Keras 2).
"""

import copy
import math
import numbers

from dlframe import config as _config
from dlframe.core import dtypes as _dt
from dlframe.core.tensor import convert_to_tensor
from dlframe.keras import default_seeds
from dlframe.keras.utils import generic_utils
from dlframe.ops import array as _array
from dlframe.ops import linalg as _linalg
from dlframe.ops import math as _math
from dlframe.ops import random as _random


def _dtype(dtype):
    return _dt.as_dtype(dtype or _config.floatx())


def _shape(shape):
    return [int(d) for d in (shape.as_list() if hasattr(shape, "as_list") else shape)]


def _draw(kind, shape, dtype, seed, **kw):
    """normal/uniform/truncated_normal draws: an int seed repeats them, a
    ``keras.random.SeedGenerator`` advances (Keras 3), None uses the global stream."""
    if seed is not None:
        stateless = getattr(_random, "stateless_" + kind, None)
        if stateless is not None:
            key = [int(seed), 0] if isinstance(seed, numbers.Integral) else seed.next()
            return stateless(shape, seed=key, dtype=dtype, **kw)
    return getattr(_random, kind)(shape, dtype=dtype, seed=seed, **kw)


def _seed_generator_class():
    from dlframe.keras.random import SeedGenerator   # keras.random builds on keras.backend
    return SeedGenerator


class Initializer:
    """Base class: ``__call__(shape, dtype=None, **kwargs)`` returns a Tensor."""

    def __call__(self, shape, dtype=None, **kwargs):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("dtype", None)
        return cls(**config)

    def clone(self):
        return self.__class__.from_config(self.get_config())


class _RandomInitializer(Initializer):
    """An initializer drawing with ``seed``, or with Keras 3's default seed taken at
    construction when ``seed`` is None (``get_config`` still reports None)."""

    def _set_seed(self, seed):
        generator = _seed_generator_class()
        if isinstance(seed, dict) and seed.get("class_name") == "SeedGenerator":
            seed = generator.from_config(seed["config"])   # a Keras 3 config
        if seed is not None and not isinstance(seed, (numbers.Integral, generator)):
            raise ValueError("`seed` argument should be an instance of "
                             "`keras.random.SeedGenerator()` or an integer. "
                             f"Received: seed={seed}")
        self.seed = seed
        self._default_seed = default_seeds.draw() if seed is None else None

    def _seed(self):
        # a subclass that sets ``seed`` without ``_set_seed`` draws as in Keras 2
        return getattr(self, "_default_seed", None) if self.seed is None else self.seed

    def _seed_config(self):
        if isinstance(self.seed, (type(None), numbers.Integral)):
            return self.seed
        return {"module": "keras.random", "class_name": "SeedGenerator",
                "config": self.seed.get_config(), "registered_name": None}


class Zeros(Initializer):
    def __call__(self, shape, dtype=None, **kwargs):
        return _array.zeros(_shape(shape), dtype=_dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape, dtype=None, **kwargs):
        return _array.ones(_shape(shape), dtype=_dtype(dtype))


class Constant(Initializer):
    """Fills with ``value`` (a scalar, or an array-like broadcastable to the shape)."""

    def __init__(self, value=0):
        self.value = value

    def __call__(self, shape, dtype=None, **kwargs):
        v = convert_to_tensor(self.value, dtype=_dtype(dtype))
        return _array.broadcast_to(v, _shape(shape))

    def get_config(self):
        return {"value": self.value}


class RandomNormal(_RandomInitializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        self._set_seed(seed)

    def __call__(self, shape, dtype=None, **kwargs):
        return _draw("normal", _shape(shape), _dtype(dtype), self._seed(), mean=self.mean,
                     stddev=self.stddev)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self._seed_config()}


class TruncatedNormal(RandomNormal):
    def __call__(self, shape, dtype=None, **kwargs):
        return _draw("truncated_normal", _shape(shape), _dtype(dtype), self._seed(),
                     mean=self.mean, stddev=self.stddev)


class RandomUniform(_RandomInitializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval = minval, maxval
        self._set_seed(seed)

    def __call__(self, shape, dtype=None, **kwargs):
        return _draw("uniform", _shape(shape), _dtype(dtype), self._seed(),
                     minval=self.minval, maxval=self.maxval)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self._seed_config()}


def compute_fans(shape):
    """(fan_in, fan_out) for a dense (in, out) or conv (..., in, out) kernel shape."""
    shape = _shape(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = 1
    for d in shape[:-2]:
        receptive *= d
    return shape[-2] * receptive, shape[-1] * receptive


class VarianceScaling(_RandomInitializer):
    """Samples with variance ``scale / n`` (n from fan_in, fan_out or their average)."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal",
                 seed=None, input_axes=None, output_axes=None):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: "
                             f"scale={scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: {mode!r}; expected one of "
                             "'fan_in', 'fan_out', 'fan_avg'.")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"Invalid `distribution` argument: {distribution!r}")
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self._set_seed(seed)
        # Keras 3.15: fans of a multi-axis kernel are the products of these axes.
        self.input_axes, self.output_axes = input_axes, output_axes

    def __call__(self, shape, dtype=None, **kwargs):
        fan_in, fan_out = compute_fans(shape)
        if self.input_axes is not None and self.output_axes is not None:
            dims = _shape(shape)
            fan_in = math.prod(dims[a] for a in self.input_axes)
            fan_out = math.prod(dims[a] for a in self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out,
             "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        var = self.scale / max(1.0, n)
        dtype, shape, seed = _dtype(dtype), _shape(shape), self._seed()
        if self.distribution == "truncated_normal":
            # stddev of a unit normal truncated to [-2, 2]
            std = math.sqrt(var) / 0.87962566103423978
            return _draw("truncated_normal", shape, dtype, seed, mean=0.0, stddev=std)
        if self.distribution == "untruncated_normal":
            return _draw("normal", shape, dtype, seed, mean=0.0, stddev=math.sqrt(var))
        limit = math.sqrt(3.0 * var)
        return _draw("uniform", shape, dtype, seed, minval=-limit, maxval=limit)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "seed": self._seed_config(),
                **self._axes_config()}

    def _axes_config(self):
        # Keras 2's config has no axes; Keras 3.15 writes them (None by default).
        if self.input_axes is None and self.output_axes is None:
            return {}
        return {"input_axes": self.input_axes, "output_axes": self.output_axes}


def for_einsum_kernel(initializer, input_axes, output_axes):
    """The initializer of an einsum kernel (EinsumDense, MultiHeadAttention projections).

    After ``keras.utils.set_random_seed`` (Keras 3 mode) a VarianceScaling initializer
    without axes is copied, keeping its seed, with fans taken as the products of the
    kernel's ``input_axes`` and ``output_axes`` (Keras 3.15); otherwise ``initializer``
    itself (Keras 2 fans from the full shape).
    """
    if (not default_seeds.active() or not isinstance(initializer, VarianceScaling)
            or (initializer.input_axes is not None
                and initializer.output_axes is not None)):
        return initializer
    init = copy.copy(initializer)
    init.input_axes, init.output_axes = list(input_axes), list(output_axes)
    return init


def _fixed(name, scale, mode, distribution):
    class Fixed(VarianceScaling):
        def __init__(self, seed=None, input_axes=None, output_axes=None):
            super().__init__(scale=scale, mode=mode, distribution=distribution,
                             seed=seed, input_axes=input_axes, output_axes=output_axes)

        def get_config(self):
            return {"seed": self._seed_config(), **self._axes_config()}
    Fixed.__name__ = Fixed.__qualname__ = name
    return Fixed


GlorotUniform = _fixed("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _fixed("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _fixed("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _fixed("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _fixed("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _fixed("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None, **kwargs):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D "
                             f"matrices. Received: shape={tuple(shape)} of rank {len(shape)}.")
        dtype = _dtype(dtype)
        rows = _array.reshape(_math.cast(_range(shape[0]), "int32"), [-1, 1])
        cols = _array.reshape(_math.cast(_range(shape[1]), "int32"), [1, -1])
        return _math.cast(_math.equal(rows, cols), dtype) * self.gain

    def get_config(self):
        return {"gain": self.gain}


def _range(n):
    return convert_to_tensor(list(range(n)), dtype="int32")


class Orthogonal(_RandomInitializer):
    """A (semi-)orthogonal matrix from the QR decomposition of a normal draw, times gain."""

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        self._set_seed(seed)

    def __call__(self, shape, dtype=None, **kwargs):
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional. "
                             f"Received: shape={tuple(shape)} of rank {len(shape)}.")
        dtype = _dtype(dtype)
        rows = 1
        for d in shape[:-1]:
            rows *= d
        cols = shape[-1]
        flat = (max(rows, cols), min(rows, cols))
        # TF draws the normal matrix in the weight's dtype; QR runs in float64
        a = _draw("normal", list(flat), dtype, self._seed(), mean=0.0, stddev=1.0)
        q = _orthonormal_columns(_math.cast(a, "float64"))
        if rows < cols:
            q = _array.transpose(q)
        return _math.cast(_array.reshape(q * self.gain, shape), dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self._seed_config()}


def _orthonormal_columns(a):
    """Q of a tall matrix's QR with sign(diag(R)) folded in (unique, uniform Q)."""
    qr = getattr(_linalg, "qr", None)
    if qr is not None:
        q, r = qr(a)
        return q * _diag_sign_row(r)
    cols = []
    n = a.shape[1]
    for j in range(n):
        v = a[:, j:j + 1]
        for _ in range(2):  # re-orthogonalize once for numerical safety
            if cols:
                q = _array.concat(cols, 1)
                v = v - _linalg.matmul(q, _linalg.matmul(q, v, transpose_a=True))
        norm = _math.sqrt(_reduce_sum_sq(v))
        cols.append(v / norm)
    return _array.concat(cols, 1)


def _diag_sign_row(r):
    n = min(r.shape[0], r.shape[1])
    eye = _math.cast(_math.equal(_array.reshape(_range(n), [-1, 1]),
                                 _array.reshape(_range(n), [1, -1])), r.dtype)
    from dlframe.ops import reduction
    diag = reduction.reduce_sum(r[:n, :n] * eye, axis=0)
    return _array.reshape(_math.sign(diag) + _math.cast(_math.equal(diag, 0), r.dtype),
                          [1, -1])


def _reduce_sum_sq(v):
    from dlframe.ops import reduction
    return reduction.reduce_sum(v * v)


_WINDOWS = {"hann": (0.5, 0.5), "hamming": (0.54, 0.46)}
_STFT_SCALINGS = ("density", "spectrum", None)


class STFT(Initializer):
    """Kernel of a Conv1D computing the real or imaginary part of a windowed DFT.

    For a kernel shape ``(frame_length, 1, num_bins)``, entry ``[n, 0, k]`` is
    ``w[n] cos(2 pi k n / L)`` ('real') or ``-w[n] sin(2 pi k n / L)`` ('imag')
    with ``L = 2 (num_bins - 1)``, so a stride-``frame_step`` convolution gives the
    one-sided spectrum of each frame (``keras.layers.STFTSpectrogram``).

    Args:
      side: 'real' or 'imag'.
      window: 'hann', 'hamming', a sequence of ``frame_length`` weights, or None
        (rectangular, never scaled).
      scaling: 'density' (window divided by its L2 norm), 'spectrum' (by its sum)
        or None.
      periodic: named windows are periodic (DFT-even) rather than symmetric.

    Raises:
      ValueError: an unknown ``side``, ``window`` name or ``scaling``.
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ("real", "imag"):
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str) and window not in _WINDOWS:
            raise ValueError(f"Invalid value for argument `window`: expected one of "
                             f"{sorted(_WINDOWS)}, a sequence of weights or None. "
                             f"Received: window={window!r}")
        if scaling not in _STFT_SCALINGS:
            raise ValueError("Invalid value for argument `scaling`: expected "
                             f"'density', 'spectrum' or None. Received: scaling={scaling!r}")
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype=None, **kwargs):
        shape = _shape(shape)
        if len(shape) != 3:
            raise ValueError("The STFT initializer makes Conv1D kernels: `shape` must be "
                             f"(frame_length, 1, num_bins). Received: shape={tuple(shape)}")
        dtype = _dtype(dtype)
        frame_length, bins = shape[0], shape[-1]
        dft_length = max(2 * (bins - 1), 1)
        n = _array.reshape(_math.cast(_range(frame_length), "float64"), [-1, 1])
        k = _array.reshape(_math.cast(_range(bins), "float64"), [1, -1])
        angle = n * k * (2.0 * math.pi / dft_length)
        kernel = _math.cos(angle) if self.side == "real" else -_math.sin(angle)
        if self.window is not None:
            window = self._window(frame_length)
            if self.scaling == "density":
                window = window / _math.sqrt(_reduce_sum_sq(window))
            elif self.scaling == "spectrum":
                from dlframe.ops import reduction
                window = window / reduction.reduce_sum(window)
            kernel = kernel * _array.reshape(window, [-1, 1])
        return _math.cast(_array.reshape(kernel, [frame_length, 1, bins]), dtype)

    def _window(self, length):
        if not isinstance(self.window, str):
            window = convert_to_tensor(self.window, dtype="float64")
            if tuple(window.shape) != (length,):
                raise ValueError(f"The window has shape {tuple(window.shape)} but the "
                                 f"kernel's frame_length is {length}.")
            return window
        a, b = _WINDOWS[self.window]
        denom = length if self.periodic else max(length - 1, 1)
        k = _math.cast(_range(length), "float64")
        return a - b * _math.cos(k * (2.0 * math.pi / denom))

    def get_config(self):
        window = self.window
        if window is not None and not isinstance(window, str):
            window = [float(w) for w in convert_to_tensor(window).numpy().tolist()]
        return {"side": self.side, "window": window, "periodic": self.periodic,
                "scaling": self.scaling}


_CLASSES = {c.__name__: c for c in (
    Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
    GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Identity,
    Orthogonal, STFT)}
_ALIASES = {
    "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
    "random_normal": RandomNormal, "normal": RandomNormal,
    "random_uniform": RandomUniform, "uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal, "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal, "identity": Identity, "orthogonal": Orthogonal,
    "Identity": Identity, "IdentityInitializer": Identity,
    "OrthogonalInitializer": Orthogonal, "stft": STFT, "STFTInitializer": STFT,
}
_OBJECTS = dict(_CLASSES)
_OBJECTS.update(_ALIASES)
globals().update({k: v for k, v in _ALIASES.items() if k[0].islower()})
IdentityInitializer = Identity   # Keras 3 class names
OrthogonalInitializer = Orthogonal
STFTInitializer = STFT


serialize, deserialize, get = generic_utils.object_lookup(_OBJECTS, "initializer", Initializer)


def initial_value(initializer, shape, dtype):
    """The starting value of a state variable (metric or optimizer slot) of ``shape``.

    Args:
      initializer: a callable ``(shape, dtype=...)``, or an initializer name or
        config ("zeros" and "ones" skip the lookup).
      shape: the variable's shape.
      dtype: its dtype.
    """
    if callable(initializer) and not isinstance(initializer, str):
        return initializer(shape, dtype=dtype)
    if initializer in ("zeros", None):
        return _array.zeros(shape, dtype=dtype)
    if initializer == "ones":
        return _array.ones(shape, dtype=dtype)
    return get(initializer)(shape, dtype=dtype)
