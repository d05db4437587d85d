"""``TextVectorization``: strings -> token ids or bag-of-words vectors.

Standardize (lowercase and strip punctuation), split on whitespace, optionally
form n-grams, then look tokens up in a ``StringLookup`` vocabulary learned by
``adapt`` (tokens by frequency, ties by descending token, as TF) or given.
Runs on the host: strings live on the CPU in dlframe, as in TensorFlow.
"""

import math as _pymath
import re

from dlframe.core import dtypes as _dt
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.layers.preprocessing_categorical import (
    check_max_tokens,
    check_output_mode,
    check_sparse,
    maybe_sparse,
)
from dlframe.keras.layers.preprocessing import iter_string_batches
from dlframe.keras.layers.preprocessing_lookup import (
    StringLookup,
    load_idf_weights,
    save_idf_weights,
)
from dlframe.keras.utils import generic_utils
from dlframe.ops.strings import string_rows

_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~\']')
_MODES = ("int", "multi_hot", "count", "tf_idf")
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")


@primitive("TextTokenize", stateful=True)
def _tokenize_p(d, x, *, layer, length):
    """Host-side tokenization of a string batch into a ``[batch, width]`` grid padded
    with ``''`` (width = ``length`` or the longest document)."""
    docs = layer._documents(x)
    width = length if length is not None else max((len(doc) for doc in docs), default=0)
    grid = d.xp.full((len(docs), width), b"", dtype=object)
    for i, doc in enumerate(docs):
        for j, tok in enumerate(doc[:width]):
            grid[i, j] = tok.encode("utf-8")
    return grid


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class TextVectorization(Layer):
    """Maps raw strings to token indices (``'int'``) or vocabulary-sized vectors.

    Args:
      max_tokens: vocabulary size cap, special tokens included.
      standardize: 'lower_and_strip_punctuation', 'lower', 'strip_punctuation',
        None, or a callable on a string tensor.
      split: 'whitespace', 'character', None, or a callable.
      ngrams: None, an int n (1..n-grams) or a tuple of n values.
      output_mode: 'int', 'multi_hot', 'count' or 'tf_idf'.
      output_sequence_length: pad/truncate 'int' outputs to this length (ignored
        with ``ragged=True``, as Keras 3).
      pad_to_max_tokens: vector outputs have ``max_tokens`` columns.
      vocabulary: optional list of tokens (or a file path with one per line).
      idf_weights: per-token weights for 'tf_idf' with a given ``vocabulary``.
      ragged: 'int' outputs as a ``tf.RaggedTensor`` of token ids, one row per
        text with its own length (no padding).
    """

    # the weights file keeps the inner lookup's variables where Keras 3 does
    _keras3_private_children = ("_lookup_layer",)

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int",
                 output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", **kwargs):
        super().__init__(**kwargs)
        output_mode = check_output_mode("TextVectorization", output_mode, _MODES, True)
        if output_sequence_length is not None and output_mode != "int":
            raise ValueError("`output_sequence_length` must not be set if `output_mode` is "
                             f"not 'int'. Received: output_sequence_length="
                             f"{output_sequence_length}")
        if ragged and output_mode != "int":
            raise ValueError(f"`ragged=True` needs `output_mode='int'`. Received: "
                             f"ragged={ragged} and output_mode={output_mode!r}")
        sparse = check_sparse("lookup", sparse, output_mode)
        check_max_tokens("TextVectorization", max_tokens)
        _check_choice("standardize", standardize, _STANDARDIZE)
        _check_choice("split", split, _SPLIT)
        self._ngrams_arg = ngrams
        ngrams = _check_ngrams(ngrams)
        self.max_tokens = max_tokens
        self.standardize = standardize
        self.split = split
        self.ngrams = tuple(ngrams) if ngrams is not None else None
        self.output_mode = output_mode
        self.output_sequence_length = output_sequence_length
        self.pad_to_max_tokens = pad_to_max_tokens
        self.sparse, self.ragged, self.encoding = sparse, ragged, encoding
        self._lookup = StringLookup(
            max_tokens=max_tokens, mask_token="" if output_mode == "int" else None,
            output_mode=output_mode, pad_to_max_tokens=pad_to_max_tokens,
            vocabulary=_read_vocabulary(vocabulary), idf_weights=idf_weights,
            name=f"{self.name}_lookup")
        self._lookup_layer = self._lookup

    # -- text processing (host side) ---------------------------------------------
    def _standardize(self, text):
        mode = self.standardize
        if callable(mode):
            out = mode(convert_to_tensor([text]))
            return _text(out.numpy().reshape(-1)[0])
        if mode in ("lower", "lower_and_strip_punctuation"):
            # tf.strings.lower without an encoding: ASCII letters only, as Keras
            text = text.encode("utf-8", "surrogateescape").lower().decode(
                "utf-8", "surrogateescape")
        if mode in ("strip_punctuation", "lower_and_strip_punctuation"):
            text = _PUNCTUATION.sub("", text)
        return text

    def _split(self, text):
        if self.split is None:
            return [text]
        if self.split == "whitespace":
            return text.split()
        if self.split == "character":
            return list(text)
        if callable(self.split):
            out = self.split(convert_to_tensor([text]))
            rows = out.to_list() if hasattr(out, "to_list") else out.numpy().tolist()
            return [_text(t) for t in rows[0]]
        raise ValueError(f"Invalid value for argument `split`: {self.split!r}")

    def _tokens(self, value):
        words = self._split(self._standardize(_text(value)))
        if not self.ngrams:
            return words
        out = []
        for n in self.ngrams:
            out.extend(" ".join(words[i:i + n]) for i in range(len(words) - n + 1))
        return out

    def _token_bytes(self, value):
        return [tok.encode("utf-8") for tok in self._tokens(value)]

    def _documents(self, inputs):
        arr = inputs.numpy() if isinstance(inputs, Tensor) else inputs
        if isinstance(arr, (bytes, str)):   # one document (a scalar string)
            arr = [arr]
        rows = list(arr.reshape(-1)) if hasattr(arr, "reshape") else list(arr)
        return [self._tokens(r) for r in rows]

    # -- vocabulary ------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None):
        """Learns the vocabulary (and idf weights for 'tf_idf') from ``data``."""
        counts, doc_freq, num_docs = {}, {}, 0
        for batch in iter_string_batches(data, "TextVectorization"):
            for doc in self._documents(batch):
                num_docs += 1
                for tok in doc:
                    counts[tok] = counts.get(tok, 0) + 1
                for tok in set(doc):
                    doc_freq[tok] = doc_freq.get(tok, 0) + 1
        counts.pop("", None)
        ordered = sorted(counts, key=lambda t: (counts[t], t), reverse=True)
        reserved = 2 if self.output_mode == "int" else 1
        if self.max_tokens is not None:
            ordered = ordered[:max(self.max_tokens - reserved, 0)]
        idf = None
        if self.output_mode == "tf_idf":
            idf = [_pymath.log(1 + num_docs / (1 + doc_freq[t])) for t in ordered]
        self._lookup.set_vocabulary(ordered, idf_weights=idf)

    def get_vocabulary(self, include_special_tokens=True):
        return self._lookup.get_vocabulary(include_special_tokens)

    def set_vocabulary(self, vocabulary, idf_weights=None):
        self._lookup.set_vocabulary(_read_vocabulary(vocabulary), idf_weights)

    def vocabulary_size(self):
        return self._lookup.vocabulary_size()

    def vocab_size(self):
        """Deprecated Keras 2 name of ``vocabulary_size()``."""
        return self.vocabulary_size()

    @property
    def idf_weights(self):
        return self._lookup.idf_weights

    def save_own_variables(self, store):
        """Stores the 'tf_idf' weights as Keras 3 does (the vocabulary is in the
        config)."""
        save_idf_weights(self, store)

    def load_own_variables(self, store):
        load_idf_weights(self, store)

    # -- call ------------------------------------------------------------------
    def call(self, inputs):
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        if x.dtype != _dt.string:
            raise ValueError(f"TextVectorization expects string inputs, got {x.dtype.name}")
        # split=None looks up whole strings: a (batch,) input keeps its shape
        flat = x.ndim == 1 and self.split is None and self.output_mode == "int" \
            and self.output_sequence_length is None
        if x.ndim == 2 and x.shape[1] == 1:
            from dlframe.ops.array import squeeze
            x = squeeze(x, 1)
        if x.ndim > 1:
            raise ValueError(f"TextVectorization expects inputs of shape (batch,) or "
                             f"(batch, 1), got {tuple(x.shape)}")
        scalar = x.ndim == 0
        if scalar:
            x = convert_to_tensor([x.numpy()])
        if self.ragged and not scalar and self.split is not None:
            # Keras 3 ignores output_sequence_length here: rows keep their lengths
            return self._lookup(string_rows(x, self._token_bytes))
        length = self.output_sequence_length if self.output_mode == "int" else None
        tokens = call(_tokenize_p, (x,), {"layer": self, "length": length})
        out = self._lookup(tokens) if self.output_mode == "int" else self._encode(tokens)
        if flat:
            return out[:, 0]
        return maybe_sparse(out[0] if scalar else out, self.sparse)

    def _encode(self, tokens):
        """Bag-of-words outputs; the '' padding of short documents never counts."""
        from dlframe.keras.layers.preprocessing_lookup import lookup_p
        from dlframe.ops import creation, math, reduction
        lookup = self._lookup
        if not hasattr(lookup, "_forward"):
            lookup.set_vocabulary([])
        ids = call(lookup_p, (tokens,), {"table": lookup._forward, "dtype": "int64"})
        # the lookup's width (padded to max_tokens or not); a call freezes the
        # vocabulary size as Keras does in count/multi_hot/tf_idf modes
        depth = lookup._depth()
        valid = math.cast(math.not_equal(tokens, b""), _dt.float32)
        hot = math.multiply(creation.one_hot(ids, depth, dtype=_dt.float32),
                            valid[..., None])
        counts = reduction.reduce_sum(hot, axis=1)
        if self.output_mode == "multi_hot":
            return math.cast(math.greater(counts, 0.0), _dt.int64)
        if self.output_mode == "count":
            return math.cast(counts, _dt.int64)
        idf = list(lookup._idf or [])
        idf = convert_to_tensor(idf + [0.0] * (depth - len(idf)), dtype=_dt.float32)
        return math.multiply(counts, idf)

    @property
    def _fixed_output_dtype(self):
        # string in, ids/counts out: the symbolic dtype is the one ``call`` returns
        return _dt.float32 if self.output_mode == "tf_idf" else _dt.int64

    def compute_output_shape(self, input_shape):
        batch = input_shape[0] if len(input_shape) else None
        if self.output_mode == "int":
            return (batch, self.output_sequence_length)
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        return (batch, depth)

    def get_config(self):
        config = super().get_config()
        config.update({
            "max_tokens": self.max_tokens,
            "standardize": _serialize_callable(self.standardize),
            "split": _serialize_callable(self.split), "ngrams": self._ngrams_arg,
            "output_mode": self.output_mode,
            "output_sequence_length": self.output_sequence_length,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary": self.get_vocabulary(include_special_tokens=False) or None,
            "idf_weights": self._config_idf_weights(), "sparse": self.sparse,
            "ragged": self.ragged, "encoding": self.encoding,
            "vocabulary_size": self.vocabulary_size()})
        return config

    def _config_idf_weights(self):
        idf = self._lookup._idf
        if self.output_mode != "tf_idf" or idf is None:
            return None
        return list(idf[len(self._lookup._reserved()):])

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("vocabulary_size", None)
        if isinstance(config.get("ngrams"), list):   # a tuple read back from JSON
            config["ngrams"] = tuple(config["ngrams"])
        for key, known in (("standardize", _STANDARDIZE), ("split", _SPLIT)):
            config[key] = _deserialize_callable(key, config.get(key), known)
        return cls(**config)


def _check_ngrams(ngrams):
    """The n-gram widths of the ``ngrams`` argument (None, n for 1..n, or a tuple)."""
    if ngrams is None:
        return None
    if isinstance(ngrams, int):
        if ngrams < 1:   # TF fails later, when the layer runs
            raise ValueError(f"`ngrams` must be None, a positive integer or a tuple "
                             f"of integers. Received: ngrams={ngrams}")
        return tuple(range(1, ngrams + 1))
    if not isinstance(ngrams, tuple) or not all(isinstance(n, int) for n in ngrams):
        raise ValueError(f"`ngrams` must be None, an integer, or a tuple of integers. "
                         f"Received: ngrams={ngrams}")
    bad = [n for n in ngrams if n < 1]
    if bad:
        raise ValueError(f"All ngram_widths must be greater than 0. Got {bad[0]}")
    return ngrams


def _check_choice(key, value, allowed):
    if value is None or callable(value) or value in allowed:
        return
    raise ValueError(f"Unknown value for `{key}` argument of TextVectorization. "
                     f"Allowed values are: {allowed} (or a callable). Received: "
                     f"{key}={value!r}")


def _serialize_callable(value):
    """A custom ``standardize``/``split`` function as Keras 3 writes it (found again
    on load by its registered name); strings and None pass through."""
    if not callable(value):
        return value
    registered = generic_utils.get_registered_name(value)
    custom = registered != value.__name__
    return {"module": None if custom else value.__module__, "class_name": "function",
            "config": value.__name__,
            "registered_name": registered if custom else "function"}


def _deserialize_callable(key, value, known):
    if value is None or callable(value) or value in known:
        return value
    if isinstance(value, dict) and value.get("class_name") == "function":
        registered = value.get("registered_name")
        value = registered if registered and ">" in registered else value["config"]
    found = generic_utils.get_registered_object(value) if isinstance(value, str) \
        else None
    if found is None:
        raise ValueError(
            f"Unknown function for argument `{key}`: {value!r}. Register it with "
            "`keras.saving.register_keras_serializable()` or pass it in "
            "`custom_objects`.")
    return found


def _read_vocabulary(vocabulary):
    if isinstance(vocabulary, str):
        with open(vocabulary, encoding="utf-8") as f:
            return [line.rstrip("\n") for line in f]
    return vocabulary
