"""Categorical preprocessing layers that need no vocabulary: CategoryEncoding,
Discretization and Hashing, and the shared ``encode_categorical``.

Output dtypes follow Keras 3 (TF 2.16+): Discretization gives int32 bucket indices,
Hashing int64 bins; vector outputs are float32.
"""

import math as _pymath
import warnings

from dlframe.core import dtypes as _dt
from dlframe.core.primitive import STATE as _STATE
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.errors import InvalidArgumentError
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.layers.preprocessing import iter_batches
from dlframe.ops import array as _array
from dlframe.ops import creation as _creation
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red
from dlframe.ops import segment as _segment
from dlframe.ops import sparse_tensor as _sparse
from dlframe.ops import strings as _strings
from dlframe.ops.ragged_tensor import RaggedTensor

_BUCKET_MODES = ("int", "one_hot", "multi_hot", "count")


def _tensor(x):
    return x if isinstance(x, Tensor) else convert_to_tensor(x)


def _eager():
    return _STATE.trace is None


_SPARSE_MESSAGES = {
    "lookup": "`sparse` may only be true if `output_mode` is `'one_hot'`, "
              "`'multi_hot'`, `'count'` or `'tf_idf'`.",
    "Discretization": "`sparse=True` may only be used if `output_mode` is "
                      "`'one_hot'`, `'multi_hot'`, or `'count'`.",
    "Hashing": "`sparse` may only be true if `output_mode` is `\"one_hot\"`, "
               "`\"multi_hot\"`, or `\"count\"`.",
}


def check_sparse(kind, sparse, output_mode):
    """``sparse=True`` needs a vector ``output_mode`` (TF's ValueError of the layer
    ``kind``: 'lookup', 'Discretization' or 'Hashing')."""
    if sparse and output_mode == "int":
        raise ValueError(f"{_SPARSE_MESSAGES[kind]} Received: sparse={sparse} and "
                         f"output_mode={output_mode}")
    return bool(sparse)


def check_max_tokens(layer_name, max_tokens):
    """A vocabulary layer's ``max_tokens`` holds at least two entries (TF)."""
    if max_tokens is not None and max_tokens <= 1:
        where = "`max_tokens` is set for `IntegerLookup`, it" \
            if layer_name == "IntegerLookup" else "set, `max_tokens`"
        raise ValueError(f"If {where} must be greater than 1. Received: "
                         f"max_tokens={max_tokens}")


def maybe_sparse(outputs, sparse):
    """``outputs`` as a SparseTensor of their nonzero entries when ``sparse``."""
    return _sparse.from_dense(outputs) if sparse else outputs


def check_output_mode(layer_name, output_mode, allowed, binary_alias=False):
    """The validated ``output_mode`` of a preprocessing layer.

    Args:
      layer_name: the class name, for the error.
      output_mode: what the user passed.
      allowed: the accepted modes.
      binary_alias: accept Keras 2's ``'binary'`` as ``'multi_hot'`` (TF 2.21
        still does for lookups, TextVectorization and CategoryEncoding).

    Raises:
      ValueError: ``output_mode`` is not one of ``allowed``.
    """
    if binary_alias and output_mode == "binary":
        return "multi_hot"
    if output_mode not in allowed:
        raise ValueError(f"Unknown value for `output_mode` argument of {layer_name}. "
                         f"Allowed values are: {tuple(allowed)}. Received: "
                         f"output_mode={output_mode}")
    return output_mode


def pop_renamed(kwargs, old, new, value, layer_name):
    """``value``, or the argument under its pre-TF-2.6 name ``old`` (popped from
    ``kwargs``), as Keras 2 still accepts ``CategoryEncoding(max_tokens=...)`` and
    ``IntegerLookup(max_values=...)``.

    Raises:
      ValueError: both the old and the new name were passed.
    """
    if old not in kwargs:
        return value
    old_value = kwargs.pop(old)
    if value is not None:
        raise ValueError(f"{layer_name} got both `{old}` (the deprecated name) and "
                         f"`{new}`. Received: {old}={old_value}, {new}={value}")
    warnings.warn(f"`{old}` is deprecated, please use `{new}` instead.",
                  DeprecationWarning, stacklevel=3)
    return old_value


def encode_categorical(x, depth, output_mode, count_weights=None, idf=None, dtype=None):
    """One-hot / multi-hot / count / tf-idf encoding of int indices in [0, depth)
    (a RaggedTensor gives one vector per row)."""
    if isinstance(x, RaggedTensor):
        return _encode_ragged(x, depth, output_mode, count_weights, idf, dtype)
    x = _tensor(x)
    if not x.dtype.is_integer:
        x = _math.cast(x, _dt.int64)
    if _eager() and x.shape.num_elements():
        lo, hi = int(_red.reduce_min(x)), int(_red.reduce_max(x))
        if lo < 0 or hi >= depth:
            raise InvalidArgumentError(
                f"Input values must be in the range 0 <= values < num_tokens with "
                f"num_tokens={depth}, got values in [{lo}, {hi}]")
    out_dtype = dtype or _dt.float32
    if output_mode == "one_hot":
        if len(x.shape) > 1 and x.shape[-1] == 1:
            x = _array.squeeze(x, [-1])
        return _creation.one_hot(x, depth, dtype=out_dtype)
    if len(x.shape) == 0:   # a scalar is one sample, and so is a 1-D input (TF)
        x = _array.expand_dims(x, -1)
    hot = _creation.one_hot(x, depth, dtype=_dt.float32)  # (..., tokens, depth)
    if output_mode == "multi_hot":
        return _math.cast(_red.reduce_max(hot, [-2]), out_dtype)
    if count_weights is not None:
        w = _math.cast(_tensor(count_weights), _dt.float32)
        hot = _math.multiply(hot, _array.expand_dims(w, -1))
    counts = _red.reduce_sum(hot, [-2])
    if output_mode == "tf_idf":
        return _math.cast(_math.multiply(counts, _math.cast(idf, _dt.float32)), out_dtype)
    return _math.cast(counts, out_dtype)


def _encode_ragged(x, depth, output_mode, count_weights, idf, dtype):
    """Rows of ragged ids -> ``[rows, depth]`` multi-hot / count / tf-idf vectors."""
    if output_mode == "one_hot" or x.ragged_rank != 1:
        raise ValueError(f"A RaggedTensor input takes output_mode 'int', 'multi_hot', "
                         f"'count' or 'tf_idf' with one ragged dimension. Received: "
                         f"output_mode={output_mode}, ragged_rank={x.ragged_rank}")
    ids = x.flat_values
    if count_weights is not None:
        weights = count_weights.flat_values if isinstance(count_weights, RaggedTensor) \
            else _array.reshape(_tensor(count_weights), [-1])
        count_weights = _array.expand_dims(weights, -1)
    hot = encode_categorical(_array.expand_dims(ids, -1), depth, "count", count_weights,
                             dtype=_dt.float32)   # one [depth] row per token
    counts = _segment.unsorted_segment_sum(hot, x.value_rowids(), x.nrows())
    out_dtype = dtype or _dt.float32
    if output_mode == "multi_hot":
        return _math.cast(_math.greater(counts, 0.0), out_dtype)
    if output_mode == "tf_idf":
        counts = _math.multiply(counts, _math.cast(idf, _dt.float32))
    return _math.cast(counts, out_dtype)


def map_flat_values(fn, x):
    """``fn`` applied to the values of a RaggedTensor (row structure kept), or to a
    dense input."""
    if isinstance(x, RaggedTensor):
        return x.with_flat_values(fn(x.flat_values))
    return fn(x)


class CategoryEncoding(Layer):
    """Encodes integer tokens in [0, num_tokens) as 'one_hot', 'multi_hot' or 'count'
    vectors (float32). ``call(inputs, count_weights=None)``."""

    _casts_to_float = True

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        num_tokens = pop_renamed(kwargs, "max_tokens", "num_tokens", num_tokens,
                                 "CategoryEncoding")
        super().__init__(**kwargs)
        output_mode = check_output_mode("CategoryEncoding", output_mode,
                                        ("one_hot", "multi_hot", "count"), True)
        if num_tokens is None or num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}")
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = sparse

    def call(self, inputs, count_weights=None):
        if count_weights is not None and self.output_mode != "count":
            raise ValueError("`count_weights` is not used when `output_mode` is not "
                             f"'count'. Received output_mode={self.output_mode}")
        out = encode_categorical(inputs, self.num_tokens, self.output_mode,
                                 count_weights, dtype=self.compute_dtype)
        return maybe_sparse(out, self.sparse)

    @property
    def _sparse_outputs(self):   # the symbolic output is marked sparse (node.py)
        return bool(self.sparse)

    def compute_output_shape(self, input_shape):
        shape = list(TensorShape(input_shape).as_list())
        if not shape:
            return TensorShape([self.num_tokens])
        if self.output_mode == "one_hot" and shape[-1] != 1:
            return TensorShape(shape + [self.num_tokens])
        return TensorShape(shape[:-1] + [self.num_tokens])

    def get_config(self):
        config = super().get_config()
        config.update({"num_tokens": self.num_tokens, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config


class Discretization(Layer):
    """Buckets continuous values: bucket i holds ``boundaries[i-1] <= x < boundaries[i]``.

    Args:
      bin_boundaries: sorted boundaries, or None to learn ``num_bins`` quantile bins
        with ``adapt``.
      num_bins: number of bins for ``adapt``.
      epsilon: kept for Keras compatibility (``adapt`` computes exact quantiles: the
        boundary for quantile q is the smallest sample with at least q of the data at
        or below it, which is what TF's summary gives on data it holds exactly).
      output_mode: 'int' (int32 bucket indices), 'one_hot', 'multi_hot' or 'count'.
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int",
                 sparse=False, **kwargs):
        super().__init__(**kwargs)
        check_output_mode("Discretization", output_mode, _BUCKET_MODES)
        check_sparse("Discretization", sparse, output_mode)
        if bin_boundaries is not None and num_bins is not None:
            raise ValueError("Both `num_bins` and `bin_boundaries` should not be set. "
                             f"Received: num_bins={num_bins} and "
                             f"bin_boundaries={bin_boundaries}")
        if bin_boundaries is None and num_bins is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        self.bin_boundaries = list(bin_boundaries) if bin_boundaries is not None else None
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = sparse

    @property
    def _fixed_output_dtype(self):
        return _dt.int32 if self.output_mode == "int" else _dt.as_dtype(self.compute_dtype)

    def adapt(self, data, batch_size=None, steps=None):
        """Learns ``num_bins`` quantile boundaries from ``data``."""
        if self.num_bins is None:
            raise ValueError("Cannot adapt a Discretization layer created with "
                             "`bin_boundaries`; pass `num_bins` instead.")
        values = []
        for batch in iter_batches(data):
            values.extend(float(v) for v in _math.cast(batch, _dt.float64).numpy().ravel())
        if not values:
            raise ValueError("adapt() received no data")
        values.sort()
        n = len(values)
        self.bin_boundaries = [values[max(_pymath.ceil(i * n / self.num_bins) - 1, 0)]
                               for i in range(1, self.num_bins)]

    def _bucketize(self, x):
        x = _tensor(x)
        if not x.dtype.is_floating:
            x = _math.cast(x, _dt.float64)
        if not self.bin_boundaries:
            return _math.cast(_math.multiply(x, 0), _dt.int32)
        if any(b > a for a, b in zip(self.bin_boundaries[1:], self.bin_boundaries)):
            raise InvalidArgumentError(None, None, "Expected sorted boundaries, got "
                                       f"bin_boundaries={self.bin_boundaries}")
        bounds = _math.cast(convert_to_tensor(self.bin_boundaries), x.dtype)
        # the boundaries not above x (TF's Bucketize: NaN is past every one)
        below = _math.logical_not(_math.less(_array.expand_dims(x, -1), bounds))
        return _red.reduce_sum(_math.cast(below, _dt.int32), [-1])

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError("Discretization has no bin boundaries: call adapt() first")
        idx = map_flat_values(self._bucketize, inputs)
        if self.output_mode == "int":
            return idx
        out = encode_categorical(idx, len(self.bin_boundaries) + 1, self.output_mode,
                                 dtype=self.compute_dtype)
        return maybe_sparse(out, self.sparse)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return input_shape
        depth = len(self.bin_boundaries or []) + 1 if self.bin_boundaries else self.num_bins
        return CategoryEncoding(depth, self.output_mode).compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.pop("trainable", None)   # Keras 3's Discretization does not take it
        config.update({"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins,
                       "epsilon": self.epsilon, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config

    @classmethod
    def from_config(cls, config):
        # An adapted layer's config holds both num_bins and the learned boundaries,
        # which __init__ refuses together: set the boundaries after construction.
        config = dict(config)
        boundaries = config.pop("bin_boundaries", None)
        if config.get("num_bins") is None:
            config["bin_boundaries"] = boundaries
            boundaries = None
        layer = cls(**config)
        if boundaries is not None:
            layer.bin_boundaries = list(boundaries)
        return layer


def salt_pair(salt, name="salt"):
    """Keras 3's ``salt``: None, or an int used for both SipHash key halves, or a
    pair of ints; returned as None or a two-int list."""
    if salt is None:
        return None
    if isinstance(salt, int) and not isinstance(salt, bool):
        return [salt, salt]
    if (isinstance(salt, (list, tuple)) and len(salt) == 2
            and all(isinstance(k, int) and not isinstance(k, bool) for k in salt)):
        return list(salt)
    raise ValueError(f"`{name}` must be None, an int or a pair of ints. "
                     f"Received: {name}={salt!r}")


class Hashing(Layer):
    """Hashes strings (or integers, via their decimal string; floats are truncated to
    int64 first, as TF 2.21) into ``num_bins`` bins with TF's FarmHash fingerprint
    (or keyed SipHash when ``salt`` is set), so bins
    equal TF's. With ``mask_value``, that value maps to 0 and the rest to
    [1, num_bins)."""

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int",
                 sparse=False, **kwargs):
        kwargs.setdefault("dtype", "int64" if output_mode == "int" else None)
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError(f"The `num_bins` for `Hashing` cannot be `None` or "
                             f"non-positive values. Received: num_bins={num_bins}.")
        check_output_mode("Hashing", output_mode, _BUCKET_MODES)
        check_sparse("Hashing", sparse, output_mode)
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.salt = salt_pair(salt)
        self.output_mode = output_mode
        self.sparse = sparse

    @property
    def _fixed_output_dtype(self):
        return _dt.int64 if self.output_mode == "int" else _dt.float32

    def _hash(self, x, bins):
        if self.salt is None:
            return _strings.to_hash_bucket_fast(x, bins)
        return _strings.to_hash_bucket_strong(x, bins, self.salt)

    def _bins(self, x):
        x = _tensor(x)
        strings = x
        if x.dtype.is_floating:   # the mask below still compares the float values
            strings = _math.cast(x, _dt.int64)
        if strings.dtype != _dt.string:
            strings = _strings.as_string(strings)
        if self.mask_value is None:
            return self._hash(strings, self.num_bins)
        mask = _math.equal(x, convert_to_tensor(self.mask_value, dtype=x.dtype))
        hashed = _math.add(self._hash(strings, self.num_bins - 1), 1)
        return _math.where(mask, _math.multiply(hashed, 0), hashed)

    def call(self, inputs):
        out = map_flat_values(self._bins, inputs)
        if self.output_mode == "int":
            return out
        return maybe_sparse(encode_categorical(out, self.num_bins, self.output_mode),
                            self.sparse)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return input_shape
        return CategoryEncoding(self.num_bins, self.output_mode).compute_output_shape(
            input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"num_bins": self.num_bins, "salt": self.salt,
                       "mask_value": self.mask_value, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config
