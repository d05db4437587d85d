"""Vocabulary lookups: StringLookup and IntegerLookup (CategoryEncoding,
Discretization and Hashing, re-exported here, live in ``preprocessing_categorical``).

Lookups run on the host (strings live there, as in TF) through one primitive whose
attribute is the lookup table, so they also work inside ``dlframe.function``.
Output dtypes follow Keras 3 (TF 2.16+): lookups give int64 in every mode but
'tf_idf' (float32); Discretization gives int32 bucket indices.
"""

import functools
import math as _pymath

from dlframe.core import dtypes as _dt
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.keras.engine.base_layer import Layer, in_dry_run
from dlframe.keras.layers.preprocessing import iter_batches, iter_string_batches
from dlframe.keras.layers.preprocessing_categorical import (
    CategoryEncoding,
    Discretization,
    Hashing,
    _tensor,
    check_max_tokens,
    check_output_mode,
    check_sparse,
    encode_categorical,
    map_flat_values,
    maybe_sparse,
    pop_renamed,
    salt_pair,
)
from dlframe.ops import math as _math
from dlframe.ops import strings as _strings
from dlframe.ops.ragged_tensor import RaggedTensor
from dlframe.ops.string_hashes import siphash24

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


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
            if in_dry_run():   # a symbolic call's placeholder, not user data
                return 0
            shown = key.decode(errors="replace") if isinstance(key, bytes) else key
            raise InvalidArgumentError(
                None, None, "When `num_oov_indices=0` all inputs should be in vocabulary, "
                f"found OOV values [{shown!r}], consider setting `num_oov_indices=1`.")
        return self.default

    def lookup_many(self, values):
        """``[self(v) for v in values]``, with each miss resolved once."""
        out = list(map(self.mapping.get, values))
        if None not in out:
            return out
        misses = {}
        for i, got in enumerate(out):
            if got is None:
                v = values[i]
                got = misses.get(v)
                if got is None:
                    got = misses[v] = self(v)
                out[i] = got
        return out

    def __hash__(self):
        return self._id

    def __eq__(self, other):
        return other is self


@primitive("LookupTableFind", host_kernel=True)
def lookup_p(d, x, *, table, dtype):
    out = table.lookup_many(x.reshape(-1).tolist())
    return d.xp.asarray(out, dtype=dtype).reshape(x.shape)


def _oov_hash_string(v):
    return _strings.fingerprint64(v)


def _oov_hash_int(v):
    return int(v)


def _oov_hash_salted(key, v):
    """Keras 3's salted OOV buckets: keyed SipHash-2-4 of the token's bytes."""
    return siphash24(key[0], key[1], v if isinstance(v, bytes) else str(v).encode())


def _oov_hash_int_farmhash(v):
    return _strings.fingerprint64(str(v).encode())


class _IndexLookup(Layer):
    """Shared implementation of StringLookup and IntegerLookup."""

    _string = True

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None,
                 oov_token="[UNK]", vocabulary=None, idf_weights=None, invert=False,
                 output_mode="int", pad_to_max_tokens=False, sparse=False,
                 oov_method="floormod", salt=None, **kwargs):
        super().__init__(**kwargs)
        output_mode = check_output_mode(type(self).__name__, output_mode, _MODES, True)
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError("`oov_method` must be 'floormod' or 'farmhash'. "
                             f"Received: oov_method={oov_method!r}")
        self.oov_method = oov_method
        self.salt = salt_pair(salt)
        if invert and output_mode != "int":
            raise ValueError(f"`output_mode` must be `'int'` when `invert` is true. "
                             f"Received: output_mode={output_mode}")
        check_max_tokens(type(self).__name__, max_tokens)
        if num_oov_indices < 0:
            raise ValueError(f"`num_oov_indices` must be greater than or equal to 0. "
                             f"Received: num_oov_indices={num_oov_indices}")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError("`idf_weights` should only be set if `output_mode` is "
                             f"`'tf_idf'`. Received: output_mode={output_mode}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError("If pad_to_max_tokens is True, must set `max_tokens`. "
                             f"Received: max_tokens={max_tokens}")
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.invert = invert
        self.output_mode = output_mode
        self.pad_to_max_tokens = pad_to_max_tokens
        self.sparse = check_sparse("lookup", sparse, output_mode)
        self._tokens = []
        self._idf = None
        self._saved_vocabulary_size = None
        self._init_vocabulary = vocabulary
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    @property
    def input_vocabulary(self):
        """The ``vocabulary`` argument as given to the constructor (None if none)."""
        return self._init_vocabulary

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

    @property
    def _mask_index(self):
        """Whether the mask token has index 0: in 'int' mode only; other modes
        leave it out of the vocabulary and drop it from their inputs (Keras 2/3)."""
        return self.mask_token is not None and self.output_mode == "int"

    def _reserved(self):
        out = [self.mask_token] if self._mask_index else []
        return out + [self.oov_token] * self.num_oov_indices

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary: mask token, OOV tokens, then the learned/given tokens."""
        tokens = [self._show(t) for t in self._tokens]
        return (self._reserved() if include_special_tokens else []) + tokens

    def vocabulary_size(self):
        return len(self._reserved()) + len(self._tokens)

    def vocab_size(self):
        """Deprecated Keras 2 name of ``vocabulary_size()``."""
        return self.vocabulary_size()

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
        self._check_vocabulary_size(tokens_clean)
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("When specifying the `vocabulary` argument, in TF-IDF "
                                 "output mode, the `idf_weights` argument must also be "
                                 "provided.")
            w = [float(v) for v in (idf_weights.numpy() if isinstance(idf_weights, Tensor)
                                    else idf_weights)]
            if len(w) == len(tokens) != len(tokens_clean):
                # Keras 3: a vocabulary with its special tokens comes with their
                # weights too
                self._tokens = tokens_clean
                self._idf = w
                self._build_tables()
                return
            if len(w) != len(tokens_clean):
                raise ValueError(f"`idf_weights` must be the same length as vocabulary. "
                                 f"len(idf_weights) is {len(w)}; len(vocabulary) is "
                                 f"{len(tokens_clean)}")
            self._set(tokens_clean, w)
        else:
            self._set(tokens_clean, None)

    def _check_vocabulary_size(self, tokens):
        """Keras: once the layer ran, a non-'int' output's width (the vocabulary
        size) is fixed unless it is padded to ``max_tokens``."""
        frozen = getattr(self, "_frozen_vocab_size", None)
        new = len(self._reserved()) + len(tokens)
        if frozen is not None and new != frozen:
            raise RuntimeError(
                f"When using `output_mode={self.output_mode}` and "
                "`pad_to_max_tokens=False`, the vocabulary size cannot be changed "
                f"after the layer is called. Old vocab size is {frozen}, new vocab "
                f"size is {new}")

    def _set(self, tokens, idf):
        self._check_vocabulary_size(tokens)
        self._tokens = tokens
        if idf is not None:
            mean = sum(idf) / len(idf) if idf else 0.0
            pad = [mean] * self.num_oov_indices
            mask = [0.0] if self._mask_index else []
            self._idf = mask + pad + list(idf)
        self._build_tables()

    def _oov_hash(self):
        """The function picking a token's OOV bucket (before the modulo)."""
        if self.salt is not None and (self._string or self.oov_method == "farmhash"):
            return functools.partial(_oov_hash_salted, tuple(self.salt))
        if self._string:
            return _oov_hash_string
        return _oov_hash_int_farmhash if self.oov_method == "farmhash" else _oov_hash_int

    def _build_tables(self):
        n_res = len(self._reserved())
        mask_offset = 1 if self._mask_index else 0
        mapping = {t: n_res + i for i, t in enumerate(self._tokens)}
        if self.mask_token is not None:   # -1: dropped by the encodings (call)
            mapping[self._norm(self.mask_token)] = 0 if self._mask_index else -1
        oov = (mask_offset, self.num_oov_indices, self._oov_hash())
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
        batches = iter_string_batches(data, type(self).__name__) if self._string \
            else iter_batches(data)
        for batch in batches:
            if isinstance(batch, RaggedTensor):   # one document per row
                rows = batch.merge_dims(1, -1).to_list() if batch.ragged_rank > 1 \
                    else batch.to_list()
            else:
                arr = batch.numpy()
                rows = (arr.reshape(arr.shape[0], -1) if arr.ndim > 1
                        else arr.reshape(-1, 1)).tolist()
            for row in rows:
                num_docs += 1
                seen = set()
                for v in row:
                    t = self._norm(v)
                    counts[t] = counts.get(t, 0) + 1
                    seen.add(t)
                for t in seen:
                    doc_freq[t] = doc_freq.get(t, 0) + 1
        skip = {self._norm(t) for t in self._reserved()}
        if self.mask_token is not None:
            skip.add(self._norm(self.mask_token))
        ordered = sorted((t for t in counts if t not in skip),
                         key=lambda t: (counts[t], t), reverse=True)
        if self.max_tokens is not None:
            ordered = ordered[:max(self.max_tokens - len(self._reserved()), 0)]
        idf = None
        if self.output_mode == "tf_idf":
            idf = [_pymath.log(1 + num_docs / (1 + doc_freq[t])) for t in ordered]
        self._set(ordered, idf)

    # -- call ------------------------------------------------------------------
    def _indices(self, x):
        x = _tensor(x)
        if self.invert:
            xi = x if x.dtype.is_integer else _math.cast(x, _dt.int64)
            out_dtype = object if self._string else "int64"
            # a host kernel: GPU ids go through its host twin, which a traced
            # function replays
            return call(lookup_p, (xi,), {"table": self._inverse, "dtype": out_dtype})
        if self._string and x.dtype != _dt.string:
            raise ValueError(f"StringLookup expects string inputs, got {x.dtype.name}")
        if not self._string and x.dtype == _dt.string:
            raise TypeError(f"IntegerLookup expects integer inputs; cannot convert "
                            f"string inputs to int64 (layer {self.name!r}).")
        if not self._string and x.dtype.is_floating:   # TF casts: 1.5 looks up 1
            x = _math.cast(x, _dt.int64)
        return call(lookup_p, (x,), {"table": self._forward, "dtype": "int64"})

    def call(self, inputs):
        if not hasattr(self, "_forward"):
            self._set([], [] if self.output_mode == "tf_idf" else None)
        idx = map_flat_values(self._indices, inputs)
        if self.output_mode == "int":
            return idx
        depth = self._depth()
        # mask tokens (index -1) are counted in one extra slot, cut off after
        width = depth + 1 if self.mask_token is not None else depth
        if width != depth:
            idx = map_flat_values(lambda i: _math.floormod(i, width), idx)
        idf = None
        if self.output_mode == "tf_idf":
            w = list(self._idf or [])
            idf = convert_to_tensor(w + [0.0] * (width - len(w)), dtype="float32")
        out = encode_categorical(idx, width, self.output_mode, idf=idf,
                                 dtype=_dt.float32 if self.output_mode == "tf_idf"
                                 else _dt.int64)
        return maybe_sparse(out if width == depth else out[..., :depth], self.sparse)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return input_shape
        return CategoryEncoding(self._depth(), "multi_hot" if self.output_mode == "tf_idf"
                                else self.output_mode).compute_output_shape(input_shape)

    def _depth(self):
        """The width of a non-'int' output. A layer re-made from a saved config
        has its vocabulary (an adapted one travels in the archive's assets) only
        after the model is rebuilt; until then the config's ``vocabulary_size``
        stands in, so layers built on this output get their saved shapes."""
        depth = self.vocabulary_size()
        if self._tokens and not self.pad_to_max_tokens:   # the layer ran: freeze
            self._frozen_vocab_size = depth
        if not self._tokens and self._saved_vocabulary_size is not None:
            depth = self._saved_vocabulary_size
        if self.pad_to_max_tokens and self.max_tokens is not None:
            depth = max(depth, self.max_tokens)
        return depth

    @property
    def idf_weights(self):
        return None if self._idf is None else convert_to_tensor(self._idf, dtype="float32")

    def save_own_variables(self, store):
        """Stores the 'tf_idf' weights (special tokens included) as Keras 3 does;
        the vocabulary travels in the config or the archive's assets."""
        save_idf_weights(self, store)

    def load_own_variables(self, store):
        load_idf_weights(self, store)

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
            "vocabulary": vocab, "vocabulary_size": self.vocabulary_size(),
            "oov_method": self.oov_method, "salt": self.salt})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        size = config.pop("vocabulary_size", None)
        layer = cls(**config)
        if config.get("vocabulary") is None:
            layer._saved_vocabulary_size = size
        return layer


def save_idf_weights(layer, store):
    """Writes ``layer.idf_weights`` (a lookup or TextVectorization) into a weights
    store under Keras 3's key ``'idf_weights'``, when the layer has them."""
    if layer.output_mode == "tf_idf" and layer.idf_weights is not None:
        store["idf_weights"] = layer.idf_weights.numpy()


def load_idf_weights(layer, store):
    """Reads what ``save_idf_weights`` wrote (or Keras 3 saved)."""
    if "idf_weights" not in store:
        return
    lookup = getattr(layer, "_lookup", layer)
    weights = [float(v) for v in store["idf_weights"]]
    if len(weights) != lookup.vocabulary_size():
        raise ValueError(f"Layer '{layer.name}': the file holds {len(weights)} idf "
                         f"weights for a vocabulary of {lookup.vocabulary_size()}.")
    lookup._idf = weights


class StringLookup(_IndexLookup):
    """Maps strings to integer indices from a vocabulary (given or learned with
    ``adapt``): index 0 is the mask token when ``mask_token`` is set, then
    ``num_oov_indices`` OOV buckets (FarmHash of the token when more than one), then
    the vocabulary. ``invert=True`` maps indices back to strings.

    Args:
      max_tokens: cap on the vocabulary size, special tokens included.
      num_oov_indices: out-of-vocabulary buckets (default 1).
      mask_token: token mapped to index 0 in 'int' mode (None: no mask); other
        modes leave it out of the vocabulary and drop it from the input.
      oov_token: the string ``invert`` returns for OOV indices (default '[UNK]').
      vocabulary: list/array/Tensor of tokens or a text file path.
      idf_weights: per-token weights for 'tf_idf'.
      invert: map indices to strings.
      output_mode: 'int', 'one_hot', 'multi_hot', 'count' or 'tf_idf'.
      pad_to_max_tokens: non-int outputs have ``max_tokens`` columns.
    """

    vocabulary_dtype = "string"

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None,
                 oov_token="[UNK]", vocabulary=None, idf_weights=None, invert=False,
                 output_mode="int", pad_to_max_tokens=False, sparse=False,
                 encoding="utf-8", salt=None, **kwargs):
        self.encoding = encoding
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                         idf_weights, invert, output_mode, pad_to_max_tokens, sparse,
                         salt=salt, **kwargs)

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
                 idf_weights=None, invert=False, pad_to_max_tokens=False,
                 oov_method="floormod", salt=None, **kwargs):
        # the TF 2.4/2.5 names, still accepted by Keras 2
        max_tokens = pop_renamed(kwargs, "max_values", "max_tokens", max_tokens,
                                 "IntegerLookup")
        mask_token = pop_renamed(kwargs, "mask_value", "mask_token", mask_token,
                                 "IntegerLookup")
        if "oov_value" in kwargs:
            oov_token = pop_renamed(kwargs, "oov_value", "oov_token", None,
                                    "IntegerLookup")
        self.vocabulary_dtype = vocabulary_dtype
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                         idf_weights, invert, output_mode, pad_to_max_tokens, sparse,
                         oov_method=oov_method, salt=salt, **kwargs)

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
