"""Categorical preprocessing layers: CategoryEncoding, Discretization, Hashing,
StringLookup and IntegerLookup.

Lookups run on the host (strings live there, as in TF) through one primitive whose
attribute is the lookup table, so they also work inside ``dlframe.function``.
Output dtypes follow Keras 3 (TF 2.16+): lookups give int64 in every mode but
'tf_idf' (float32); Discretization gives int32 bucket indices.
"""

import math as _pymath

from dlframe.core import dtypes as _dt
from dlframe.core.primitive import STATE as _STATE
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.errors import InvalidArgumentError
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.layers.preprocessing import iter_batches
from dlframe.ops import array as _array
from dlframe.ops import creation as _creation
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red
from dlframe.ops import strings as _strings
from dlframe.ops.ragged_tensor import RaggedTensor

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def _tensor(x):
    return x if isinstance(x, Tensor) else convert_to_tensor(x)


def _eager():
    return _STATE.trace is None


def encode_categorical(x, depth, output_mode, count_weights=None, idf=None, dtype=None):
    """One-hot / multi-hot / count / tf-idf encoding of int indices in [0, depth)."""
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
    if len(x.shape) <= 1:
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


class CategoryEncoding(Layer):
    """Encodes integer tokens in [0, num_tokens) as 'one_hot', 'multi_hot' or 'count'
    vectors (float32). ``call(inputs, count_weights=None)``."""

    _casts_to_float = True

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode not in ("one_hot", "multi_hot", "count"):
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None or num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}")
        if sparse:
            raise NotImplementedError("CategoryEncoding(sparse=True) is not supported")
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = sparse

    def call(self, inputs, count_weights=None):
        if count_weights is not None and self.output_mode != "count":
            raise ValueError("`count_weights` is not used when `output_mode` is not "
                             f"'count'. Received output_mode={self.output_mode}")
        return encode_categorical(inputs, self.num_tokens, self.output_mode, count_weights,
                                  dtype=self.compute_dtype)

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
        if output_mode not in ("int", "one_hot", "multi_hot", "count"):
            raise ValueError(f"Unknown output_mode {output_mode!r}")
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

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError("Discretization has no bin boundaries: call adapt() first")
        x = _tensor(inputs)
        if not x.dtype.is_floating:
            x = _math.cast(x, _dt.float64)
        if self.bin_boundaries:
            bounds = _math.cast(convert_to_tensor(self.bin_boundaries), x.dtype)
            above = _math.greater_equal(_array.expand_dims(x, -1), bounds)
            idx = _red.reduce_sum(_math.cast(above, _dt.int32), [-1])
        else:
            idx = _math.cast(_math.multiply(x, 0), _dt.int32)
        if self.output_mode == "int":
            return idx
        return encode_categorical(idx, len(self.bin_boundaries) + 1, self.output_mode,
                                  dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return input_shape
        depth = len(self.bin_boundaries or []) + 1 if self.bin_boundaries else self.num_bins
        return CategoryEncoding(depth, self.output_mode).compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
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


class Hashing(Layer):
    """Hashes strings (or integers, via their decimal string) into ``num_bins`` bins
    with TF's FarmHash fingerprint (or keyed SipHash when ``salt`` is set), so bins
    equal TF's. With ``mask_value``, that value maps to 0 and the rest to
    [1, num_bins)."""

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int",
                 sparse=False, **kwargs):
        kwargs.setdefault("dtype", "int64" if output_mode == "int" else None)
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError(f"The `num_bins` for `Hashing` cannot be `None` or "
                             f"non-positive values. Received: num_bins={num_bins}.")
        if output_mode not in ("int", "one_hot", "multi_hot", "count"):
            raise ValueError(f"Unknown output_mode {output_mode!r}")
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.salt = salt
        self.output_mode = output_mode
        self.sparse = sparse

    @property
    def _fixed_output_dtype(self):
        return _dt.int64 if self.output_mode == "int" else _dt.float32

    def _key(self):
        if self.salt is None:
            return None
        if isinstance(self.salt, int):
            return [self.salt, self.salt]
        return list(self.salt)

    def _hash(self, x, bins):
        key = self._key()
        if key is None:
            return _strings.to_hash_bucket_fast(x, bins)
        return _strings.to_hash_bucket_strong(x, bins, key)

    def call(self, inputs):
        x = _tensor(inputs)
        strings = x if x.dtype == _dt.string else _strings.as_string(x)
        if self.mask_value is None:
            out = self._hash(strings, self.num_bins)
        else:
            value = self.mask_value
            if x.dtype == _dt.string and isinstance(value, str):
                value = value.encode()
            host = x if x.dtype == _dt.string else x.cpu()
            mask = call(lookup_p, (host,), {"table": _Table({value: True}, False),
                                            "dtype": "bool"})
            hashed = _math.add(self._hash(strings, self.num_bins - 1), 1)
            out = _math.where(mask, _math.multiply(hashed, 0), hashed)
        if self.output_mode == "int":
            return out
        return encode_categorical(out, self.num_bins, self.output_mode)

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


# ---------------------------------------------------------------- lookups
_NO_OOV = object()   # a _Table default: an unknown key is an error


class _Table:
    """Token -> index (or index -> token) map; hashable for primitive attributes."""

    def __init__(self, mapping, default, oov=None):
        self.mapping = mapping
        self.default = default
        self.oov = oov  # (offset, num_oov, hash_fn) for hashed OOV buckets
        self._id = id(self)

    def __call__(self, v):
        key = v.item() if hasattr(v, "item") else v
        if isinstance(key, str):
            key = key.encode()
        got = self.mapping.get(key)
        if got is not None:
            return got
        if self.oov is not None:
            offset, n, fn = self.oov
            return offset + (fn(key) % n if n > 1 else 0)
        if self.default is _NO_OOV:
            shown = key.decode(errors="replace") if isinstance(key, bytes) else key
            raise InvalidArgumentError(
                None, None, "When `num_oov_indices=0` all inputs should be in vocabulary, "
                f"found OOV values [{shown!r}], consider setting `num_oov_indices=1`.")
        return self.default

    def __hash__(self):
        return self._id

    def __eq__(self, other):
        return other is self


@primitive("LookupTableFind")
def lookup_p(d, x, *, table, dtype):
    flat = x.reshape(-1)
    out = d.xp.empty(flat.shape, dtype=dtype)
    for i, v in enumerate(flat):
        out[i] = table(v)
    return out.reshape(x.shape)


def _oov_hash_string(v):
    return _strings.fingerprint64(v)


def _oov_hash_int(v):
    return int(v)


class _IndexLookup(Layer):
    """Shared implementation of StringLookup and IntegerLookup."""

    _string = True

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None,
                 oov_token="[UNK]", vocabulary=None, idf_weights=None, invert=False,
                 output_mode="int", pad_to_max_tokens=False, sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode not in _MODES:
            raise ValueError(f"Invalid value for argument `output_mode`. Expected one of "
                             f"{list(_MODES)}. Received: output_mode={output_mode}")
        if invert and output_mode != "int":
            raise ValueError(f"`output_mode` must be `'int'` when `invert` is true. "
                             f"Received: output_mode={output_mode}")
        if num_oov_indices < 0:
            raise ValueError(f"`num_oov_indices` must be greater than or equal to 0. "
                             f"Received: num_oov_indices={num_oov_indices}")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError("`idf_weights` should only be set if `output_mode` is "
                             f"`'tf_idf'`. Received: output_mode={output_mode}")
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.invert = invert
        self.output_mode = output_mode
        self.pad_to_max_tokens = pad_to_max_tokens
        self.sparse = sparse
        self._tokens = []
        self._idf = None
        self._init_vocabulary = vocabulary
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    @property
    def _fixed_output_dtype(self):
        if self.invert:
            return _dt.string if self._string else _dt.int64
        return _dt.float32 if self.output_mode == "tf_idf" else _dt.int64

    # -- vocabulary ------------------------------------------------------------
    def _norm(self, token):
        if self._string:
            if isinstance(token, str):
                return token.encode()
            return bytes(token)
        return int(token)

    def _show(self, token):
        return token.decode() if self._string and isinstance(token, bytes) else token

    def _reserved(self):
        out = [] if self.mask_token is None else [self.mask_token]
        return out + [self.oov_token] * self.num_oov_indices

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary: mask token, OOV tokens, then the learned/given tokens."""
        tokens = [self._show(t) for t in self._tokens]
        return (self._reserved() if include_special_tokens else []) + tokens

    def vocabulary_size(self):
        return len(self._reserved()) + len(self._tokens)

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary (list, array or Tensor; or a text file path for
        StringLookup) and, in 'tf_idf' mode, the idf weights."""
        if isinstance(vocabulary, str) and self._string:
            with open(vocabulary, encoding="utf-8") as f:
                vocabulary = [line.rstrip("\n") for line in f]
        if isinstance(vocabulary, Tensor):
            vocabulary = vocabulary.numpy()
        tokens = [self._norm(t) for t in list(vocabulary)]
        reserved = {self._norm(t) for t in self._reserved()}
        tokens_clean = list(tokens)
        # a vocabulary that already starts with the special tokens (get_vocabulary())
        n_res = len(self._reserved())
        if tokens[:n_res] == [self._norm(t) for t in self._reserved()] and n_res:
            tokens_clean = tokens[n_res:]
        seen, repeated = set(), []
        for t in tokens_clean:
            if t in seen:
                repeated.append(self._show(t))
            seen.add(t)
        if repeated:
            raise ValueError(f"The passed vocabulary has at least one repeated term. "
                             f"Please uniquify your dataset. The repeated terms are: "
                             f"{repeated}")
        if self.mask_token is not None and self._norm(self.mask_token) in seen:
            raise ValueError(f"Found reserved mask token {self.mask_token!r} in the "
                             "vocabulary.")
        del reserved
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'")
            w = [float(v) for v in (idf_weights.numpy() if isinstance(idf_weights, Tensor)
                                    else idf_weights)]
            if len(w) != len(tokens_clean):
                raise ValueError(f"`idf_weights` must be the same length as vocabulary. "
                                 f"len(idf_weights) is {len(w)}; len(vocabulary) is "
                                 f"{len(tokens_clean)}")
            self._set(tokens_clean, w)
        else:
            self._set(tokens_clean, None)

    def _set(self, tokens, idf):
        self._tokens = tokens
        if idf is not None:
            mean = sum(idf) / len(idf) if idf else 0.0
            pad = [mean] * self.num_oov_indices
            mask = [0.0] if self.mask_token is not None else []
            self._idf = mask + pad + list(idf)
        self._build_tables()

    def _build_tables(self):
        n_res = len(self._reserved())
        mask_offset = 1 if self.mask_token is not None else 0
        mapping = {t: n_res + i for i, t in enumerate(self._tokens)}
        if self.mask_token is not None:
            mapping[self._norm(self.mask_token)] = 0
        oov = (mask_offset, self.num_oov_indices,
               _oov_hash_string if self._string else _oov_hash_int)
        self._forward = _Table(mapping, _NO_OOV, oov if self.num_oov_indices else None)
        inverse = {n_res + i: t for i, t in enumerate(self._tokens)}
        for i in range(mask_offset, n_res):
            inverse[i] = self._norm(self.oov_token)
        if self.mask_token is not None:
            inverse[0] = self._norm(self.mask_token)
        self._inverse = _Table(inverse, self._norm(self.oov_token))

    def adapt(self, data, batch_size=None, steps=None):
        """Builds the vocabulary from ``data``: tokens by descending frequency (ties by
        descending token, as TF), capped by ``max_tokens``."""
        counts, doc_freq, num_docs = {}, {}, 0
        for batch in iter_batches(data):
            arr = batch.numpy()
            rows = arr.reshape(arr.shape[0], -1) if arr.ndim > 1 else arr.reshape(-1, 1)
            for row in rows:
                num_docs += 1
                seen = set()
                for v in row.tolist():
                    t = self._norm(v)
                    counts[t] = counts.get(t, 0) + 1
                    seen.add(t)
                for t in seen:
                    doc_freq[t] = doc_freq.get(t, 0) + 1
        skip = {self._norm(t) for t in self._reserved()}
        ordered = sorted((t for t in counts if t not in skip),
                         key=lambda t: (counts[t], t), reverse=True)
        if self.max_tokens is not None:
            ordered = ordered[:max(self.max_tokens - len(self._reserved()), 0)]
        idf = None
        if self.output_mode == "tf_idf":
            idf = [_pymath.log(1 + num_docs / (1 + doc_freq[t])) for t in ordered]
        self._set(ordered, idf)

    # -- call ------------------------------------------------------------------
    def call(self, inputs):
        if isinstance(inputs, RaggedTensor):
            if self.output_mode != "int":
                raise ValueError(f"{type(self).__name__} takes a RaggedTensor only with "
                                 f"output_mode='int'. Received: output_mode="
                                 f"{self.output_mode!r}")
            return inputs.with_flat_values(self.call(inputs.flat_values))
        x = _tensor(inputs)
        if not hasattr(self, "_forward"):
            self._set([], [] if self.output_mode == "tf_idf" else None)
        if self.invert:
            xi = x if x.dtype.is_integer else _math.cast(x, _dt.int64)
            out_dtype = object if self._string else "int64"
            return call(lookup_p, (xi.cpu() if hasattr(xi, "cpu") else xi,),
                        {"table": self._inverse, "dtype": out_dtype})
        if self._string and x.dtype != _dt.string:
            raise ValueError(f"StringLookup expects string inputs, got {x.dtype.name}")
        host = x.cpu() if hasattr(x, "cpu") and x.dtype != _dt.string else x
        idx = call(lookup_p, (host,), {"table": self._forward, "dtype": "int64"})
        if self.output_mode == "int":
            return idx
        depth = self.vocabulary_size()
        if self.pad_to_max_tokens and self.max_tokens is not None:
            depth = max(depth, self.max_tokens)
        idf = None
        if self.output_mode == "tf_idf":
            w = list(self._idf or [])
            idf = convert_to_tensor(w + [0.0] * (depth - len(w)), dtype="float32")
        return encode_categorical(idx, depth, self.output_mode, idf=idf,
                                  dtype=_dt.float32 if self.output_mode == "tf_idf"
                                  else _dt.int64)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return input_shape
        depth = self.vocabulary_size()
        if self.pad_to_max_tokens and self.max_tokens is not None:
            depth = max(depth, self.max_tokens)
        return CategoryEncoding(depth, "multi_hot" if self.output_mode == "tf_idf"
                                else self.output_mode).compute_output_shape(input_shape)

    @property
    def idf_weights(self):
        return None if self._idf is None else convert_to_tensor(self._idf, dtype="float32")

    def get_config(self):
        config = super().get_config()
        vocab = self._init_vocabulary
        if isinstance(vocab, Tensor):
            vocab = vocab.numpy().tolist()
        elif hasattr(vocab, "tolist"):
            vocab = vocab.tolist()
        config.update({
            "invert": self.invert, "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
            "mask_token": self.mask_token, "output_mode": self.output_mode,
            "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
            "idf_weights": (None if self._init_vocabulary is None or self._idf is None
                            else self._idf[len(self._reserved()):]),
            "vocabulary": vocab, "vocabulary_size": self.vocabulary_size()})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("vocabulary_size", None)
        return cls(**config)


class StringLookup(_IndexLookup):
    """Maps strings to integer indices from a vocabulary (given or learned with
    ``adapt``): index 0 is the mask token when ``mask_token`` is set, then
    ``num_oov_indices`` OOV buckets (FarmHash of the token when more than one), then
    the vocabulary. ``invert=True`` maps indices back to strings.

    Args:
      max_tokens: cap on the vocabulary size, special tokens included.
      num_oov_indices: out-of-vocabulary buckets (default 1).
      mask_token: token mapped to index 0 (None: no mask).
      oov_token: the string ``invert`` returns for OOV indices (default '[UNK]').
      vocabulary: list/array/Tensor of tokens or a text file path.
      idf_weights: per-token weights for 'tf_idf'.
      invert: map indices to strings.
      output_mode: 'int', 'one_hot', 'multi_hot', 'count' or 'tf_idf'.
      pad_to_max_tokens: non-int outputs have ``max_tokens`` columns.
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None,
                 oov_token="[UNK]", vocabulary=None, idf_weights=None, invert=False,
                 output_mode="int", pad_to_max_tokens=False, sparse=False,
                 encoding="utf-8", **kwargs):
        self.encoding = encoding
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                         idf_weights, invert, output_mode, pad_to_max_tokens, sparse,
                         **kwargs)

    def get_config(self):
        config = super().get_config()
        config["encoding"] = self.encoding
        return config


class IntegerLookup(_IndexLookup):
    """Maps integers to contiguous indices from a vocabulary (given or learned with
    ``adapt``); like StringLookup with ``oov_token=-1`` and OOV buckets chosen by
    ``value % num_oov_indices``."""

    _string = False

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 output_mode="int", sparse=False, vocabulary=None, vocabulary_dtype="int64",
                 idf_weights=None, invert=False, pad_to_max_tokens=False, **kwargs):
        self.vocabulary_dtype = vocabulary_dtype
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                         idf_weights, invert, output_mode, pad_to_max_tokens, sparse,
                         **kwargs)

    def get_config(self):
        config = super().get_config()
        config["vocabulary_dtype"] = self.vocabulary_dtype
        return config


__all__ = [
    "CategoryEncoding",
    "Discretization",
    "Hashing",
    "IntegerLookup",
    "StringLookup",
]
