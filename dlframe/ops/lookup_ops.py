"""``tf.lookup``: key-value tables (static, vocabulary with OOV buckets, mutable).

A table's contents live on the host. ``lookup`` is a stateful primitive holding the
table as an attribute, so a ``dlframe.function`` replays it (reading the current
contents of a mutable table) and ``Dataset.map`` functions use it like any op.
Inserts and removals are effect primitives: traced once, run at every call.
"""

import os
import types

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from dlframe.ops.strings import fingerprint64


def _key(v):
    """A hashable dict key for one host array element."""
    if isinstance(v, str):
        return v.encode()
    return v.item() if hasattr(v, "item") else v


# ---------------------------------------------------------------- primitives
@primitive("LookupTableFindV2", stateful=True, host_kernel=True)
def find_p(d, keys, default, *, table):
    host = d.to_numpy(keys)
    fill = d.to_numpy(default)
    found = table._contents
    shape = host.shape + fill.shape
    out = np.empty(shape, dtype=table.value_dtype.as_numpy_dtype)
    flat_keys = host.reshape(-1)
    flat_out = out.reshape((flat_keys.size,) + fill.shape)
    for i, k in enumerate(flat_keys):
        flat_out[i] = found.get(_key(k), fill)
    return d.asarray(out)


@primitive("LookupTableBucketize", stateful=True, host_kernel=True)
def vocab_find_p(d, keys, *, table):
    host = d.to_numpy(keys)
    found = table._contents
    vocab, buckets = table._vocab_size, table._num_oov_buckets
    out = np.empty(host.shape, dtype=np.int64)
    flat_out = out.reshape(-1)
    for i, k in enumerate(host.reshape(-1)):
        hit = found.get(_key(k))
        if hit is not None:
            flat_out[i] = hit
        elif buckets:
            text = k if isinstance(k, bytes) else str(_key(k)).encode()
            flat_out[i] = vocab + fingerprint64(text) % buckets
        else:
            flat_out[i] = -1
    return d.asarray(out)


@primitive("LookupTableInsertV2", effects=True, host_kernel=True)
def insert_p(d, keys, values, *, table):
    table._insert(d.to_numpy(keys), d.to_numpy(values))
    return d.xp.zeros((), dtype="int32")


@primitive("LookupTableRemoveV2", effects=True, host_kernel=True)
def remove_p(d, keys, *, table):
    table._remove(d.to_numpy(keys))
    return d.xp.zeros((), dtype="int32")


@primitive("LookupTableSizeV2", stateful=True, host_kernel=True)
def size_p(d, *, table):
    return d.xp.asarray(len(table._contents), dtype="int64")


@primitive("LookupTableExportV2", n_out=2, stateful=True, host_kernel=True)
def export_p(d, *, table):
    keys = list(table._contents)
    vals = list(table._contents.values())
    kd = table.key_dtype.as_numpy_dtype
    k = np.empty(len(keys), dtype=object) if kd == object else np.asarray(keys, kd)
    if kd == object:
        k[:] = keys
    shape = (len(vals),) + tuple(table._value_shape)
    v = np.empty(shape, dtype=table.value_dtype.as_numpy_dtype)
    for i, x in enumerate(vals):
        v[i] = x
    return d.asarray(k), d.asarray(v)


# ---------------------------------------------------------------- initializers
class TextFileIndex:
    """Special column indices of ``TextFileInitializer``."""

    WHOLE_LINE = -2
    LINE_NUMBER = -1


class TableInitializerBase:
    """Base of table initializers: ``key_dtype``, ``value_dtype`` and the host
    (keys, values) arrays a table imports."""

    def __init__(self, key_dtype, value_dtype):
        self._key_dtype = dtypes.as_dtype(key_dtype)
        self._value_dtype = dtypes.as_dtype(value_dtype)

    key_dtype = property(lambda self: self._key_dtype)
    value_dtype = property(lambda self: self._value_dtype)

    def _host_items(self):
        raise NotImplementedError


def _converted(value, dtype, what):
    want = None if dtype is None else dtypes.as_dtype(dtype)
    out = value if isinstance(value, Tensor) else convert_to_tensor(value, dtype=want)
    if want is not None and out.dtype != want:
        raise TypeError(f"`{what}` has dtype {out.dtype.name}, expected {want.name}")
    return out


class KeyValueTensorInitializer(TableInitializerBase):
    """Table contents from a keys tensor and a values tensor of equal length.

    Args:
      keys: the keys (a Tensor or Python list).
      values: the values, one per key.
      key_dtype, value_dtype: optional dtypes to convert to.
    """

    def __init__(self, keys, values, key_dtype=None, value_dtype=None, name=None):
        self._keys = _converted(keys, key_dtype, "keys")
        self._values = _converted(values, value_dtype, "values")
        if tuple(self._keys.shape)[:1] != tuple(self._values.shape)[:1]:
            raise ValueError(f"keys and values must have the same length, got "
                             f"{list(self._keys.shape)} and {list(self._values.shape)}")
        super().__init__(self._keys.dtype, self._values.dtype)

    def _host_items(self):
        return self._keys.numpy().reshape(-1), self._values.numpy()


class TextFileInitializer(TableInitializerBase):
    """Table contents from a text file: one entry per line, key and value taken from
    delimiter-separated columns, the whole line, or the line number.

    Args:
      filename: the file path.
      key_dtype: ``tf.string`` or an integer dtype.
      key_index: a column index, ``TextFileIndex.WHOLE_LINE`` or ``LINE_NUMBER``.
      value_dtype: the value dtype.
      value_index: as ``key_index``.
      vocab_size: read only the first ``vocab_size`` lines (the file must have them).
      delimiter: column separator (default tab).
      value_index_offset: added to line-number values.
    """

    def __init__(self, filename, key_dtype, key_index, value_dtype, value_index,
                 vocab_size=None, delimiter="\t", name=None, value_index_offset=0):
        super().__init__(key_dtype, value_dtype)
        if isinstance(filename, Tensor):
            filename = filename.numpy()
        self._filename = filename.decode() if isinstance(filename, bytes) else \
            os.fspath(filename)
        for index, dt, what in ((key_index, self.key_dtype, "key_index"),
                                (value_index, self.value_dtype, "value_index")):
            if index < -2:
                raise ValueError(f"Invalid {what} {index}")
            if index == TextFileIndex.LINE_NUMBER and not dt.is_integer:
                raise ValueError(f"{what} LINE_NUMBER needs an integer dtype, got "
                                 f"{dt.name}")
            if index == TextFileIndex.WHOLE_LINE and dt != dtypes.string:
                raise ValueError(f"{what} WHOLE_LINE needs dtype string, got {dt.name}")
        self._key_index, self._value_index = key_index, value_index
        self._vocab_size = vocab_size
        self._delimiter = delimiter
        self._offset = value_index_offset

    def _column(self, line, number, index, dt, offset=0):
        if index == TextFileIndex.LINE_NUMBER:
            return number + offset
        if index == TextFileIndex.WHOLE_LINE:
            return line
        cols = line.split(self._delimiter.encode())
        if index >= len(cols):
            raise InvalidArgumentError(f"Invalid number of columns in {self._filename} "
                                       f"line {number} ({line!r}): expected at least "
                                       f"{index + 1}, got {len(cols)}")
        text = cols[index]
        if dt == dtypes.string:
            return text
        try:
            return int(text) if dt.is_integer else float(text)
        except ValueError:
            raise InvalidArgumentError(f"Field {text!r} in line {number} of "
                                       f"{self._filename} is not a valid "
                                       f"{dt.name}") from None

    def _host_items(self):
        if not os.path.exists(self._filename):
            raise NotFoundError(f"{self._filename}; No such file or directory")
        with open(self._filename, "rb") as f:
            lines = f.read().split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        lines = [ln[:-1] if ln.endswith(b"\r") else ln for ln in lines]
        if self._vocab_size is not None:
            if len(lines) < self._vocab_size:
                raise InvalidArgumentError(f"Invalid vocab_size in {self._filename}: "
                                           f"expected {self._vocab_size} lines, the "
                                           f"file has {len(lines)}")
            lines = lines[:self._vocab_size]
        keys = [self._column(ln, i, self._key_index, self.key_dtype)
                for i, ln in enumerate(lines)]
        vals = [self._column(ln, i, self._value_index, self.value_dtype, self._offset)
                for i, ln in enumerate(lines)]
        kd, vd = self.key_dtype.as_numpy_dtype, self.value_dtype.as_numpy_dtype
        k = np.empty(len(keys), dtype=object) if kd == object else np.asarray(keys, kd)
        v = np.empty(len(vals), dtype=object) if vd == object else np.asarray(vals, vd)
        if kd == object:
            k[:] = keys
        if vd == object:
            v[:] = vals
        return k, v


# ---------------------------------------------------------------- tables
def _check_keys(table, keys):
    if isinstance(keys, Tensor):
        if keys.dtype != table.key_dtype:
            raise TypeError(f"Dtype of argument `keys` must be {table.key_dtype!r}, "
                            f"received: {keys.dtype!r}")
        return keys
    return convert_to_tensor(keys, dtype=table.key_dtype)


def _ragged_aware(lookup):
    """Lets ``lookup`` take a RaggedTensor (its flat values are looked up)."""
    def wrapped(self, keys, name=None):
        if getattr(keys, "_dlframe_composite", False):
            return keys.with_flat_values(lookup(self, keys.flat_values))
        return lookup(self, keys)
    wrapped.__doc__ = lookup.__doc__
    wrapped.__name__ = lookup.__name__
    return wrapped


class _Table:
    """Shared table machinery: host contents, ``size``, ``export``, ``[]``."""

    def __init__(self, key_dtype, value_dtype, value_shape=()):
        self._key_dtype = dtypes.as_dtype(key_dtype)
        self._value_dtype = dtypes.as_dtype(value_dtype)
        self._value_shape = tuple(value_shape)
        self._contents = {}

    key_dtype = property(lambda self: self._key_dtype)
    value_dtype = property(lambda self: self._value_dtype)

    @property
    def resource_handle(self):
        return self

    def size(self, name=None):
        """The number of entries (int64 scalar)."""
        return call(size_p, (), {"table": self})

    def export(self, name=None):
        """All (keys, values) as two tensors."""
        return call(export_p, (), {"table": self})

    def __getitem__(self, keys):
        return self.lookup(keys)

    def _value_of(self, v):
        return v.item() if getattr(v, "ndim", 1) == 0 and hasattr(v, "item") else v

    def _insert(self, keys, values, static=False):
        values = np.asarray(values)
        if values.shape[:1] != keys.reshape(-1).shape[:1] and keys.ndim:
            raise InvalidArgumentError(f"Expected shape {list(keys.shape) + list(self._value_shape)} "
                                       f"for value, got {list(values.shape)}")
        values = values.reshape((-1,) + self._value_shape)
        for k, v in zip(keys.reshape(-1), values):
            k = _key(k)
            self._check_insert_key(k)
            if static and k in self._contents and np.any(self._contents[k] != v):
                raise FailedPreconditionError(
                    f"HashTable has different value for same key. Key {_show(k)} has "
                    f"{_show(self._contents[k])} and trying to add value {_show(v)}")
            self._contents[k] = np.array(v, copy=True) if self._value_shape else \
                self._value_of(v)

    def _check_insert_key(self, key):
        pass

    def _remove(self, keys):
        for k in keys.reshape(-1):
            self._contents.pop(_key(k), None)


def _show(v):
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return v.item() if hasattr(v, "item") and getattr(v, "ndim", 0) == 0 else v


class StaticHashTable(_Table):
    """An immutable table filled once by an initializer.

    Args:
      initializer: a ``KeyValueTensorInitializer`` or ``TextFileInitializer``.
      default_value: the value of missing keys (scalar of the value dtype).
    """

    def __init__(self, initializer, default_value, name=None,
                 experimental_is_anonymous=False):
        super().__init__(initializer.key_dtype, initializer.value_dtype)
        self._initializer = initializer
        self._default_value = default_value if isinstance(default_value, Tensor) \
            else convert_to_tensor(default_value, dtype=self.value_dtype)
        if self._default_value.dtype != self.value_dtype:
            raise TypeError(f"default_value has dtype {self._default_value.dtype.name}, "
                            f"expected the table's value dtype {self.value_dtype.name}")
        keys, values = initializer._host_items()
        self._insert(keys, values, static=True)
        self._name = name

    @property
    def default_value(self):
        return self._default_value

    @property
    def initializer(self):
        return self._initializer

    @property
    def name(self):
        return self._name or "hash_table"

    @_ragged_aware
    def lookup(self, keys, name=None):
        """The values of ``keys`` (same shape), ``default_value`` where missing."""
        keys = _check_keys(self, keys)
        return call(find_p, (keys, self._default_value), {"table": self})


class StaticVocabularyTable(_Table):
    """A vocabulary: known keys map to their int64 ids, unknown ones to one of
    ``num_oov_buckets`` extra ids ``vocab_size + hash(key) % num_oov_buckets`` (the
    FarmHash fingerprint of the key, of its decimal text for integers, as TF).

    Args:
      initializer: an initializer with int64 values (the ids).
      num_oov_buckets: number of out-of-vocabulary buckets (> 0).
      lookup_key_dtype: the dtype of looked-up keys (default: the initializer's).
    """

    def __init__(self, initializer, num_oov_buckets, lookup_key_dtype=None, name=None,
                 experimental_is_anonymous=False):
        if int(num_oov_buckets) <= 0:
            raise ValueError(f"`num_oov_buckets` must be > 0; use StaticHashTable "
                             f"instead. Received: {num_oov_buckets}")
        if initializer.value_dtype != dtypes.int64:
            raise TypeError(f"Invalid `value_dtype`, expected {dtypes.int64!r} but got "
                            f"{initializer.value_dtype!r}")
        key_dtype = initializer.key_dtype if lookup_key_dtype is None else \
            dtypes.as_dtype(lookup_key_dtype)
        super().__init__(key_dtype, dtypes.int64)
        keys, values = initializer._host_items()
        self._insert(keys, values, static=True)
        self._vocab_size = len(self._contents)
        self._num_oov_buckets = int(num_oov_buckets)
        self._initializer = initializer
        self._name = name

    def size(self, name=None):
        """Vocabulary size plus the number of OOV buckets."""
        return convert_to_tensor(np.array(self._vocab_size + self._num_oov_buckets,
                                          dtype=np.int64))

    @property
    def name(self):
        return self._name or "vocabulary_table"

    @_ragged_aware
    def lookup(self, keys, name=None):
        """The int64 ids of ``keys`` (OOV keys hash into the extra buckets)."""
        keys = _check_keys(self, keys)
        return call(vocab_find_p, (keys,), {"table": self})


class MutableHashTable(_Table):
    """A table updated with ``insert``/``remove``.

    Args:
      key_dtype, value_dtype: the dtypes.
      default_value: the value of missing keys; its shape is the value shape.
    """

    def __init__(self, key_dtype, value_dtype, default_value, name="MutableHashTable",
                 checkpoint=True, experimental_is_anonymous=False):
        default = convert_to_tensor(default_value, dtype=value_dtype) \
            if not isinstance(default_value, Tensor) else default_value
        super().__init__(key_dtype, value_dtype, tuple(default._value.shape))
        self._default_value = default
        self._name = name

    @property
    def default_value(self):
        return self._default_value

    @property
    def name(self):
        return self._name

    def insert(self, keys, values, name=None):
        """Adds or overwrites entries."""
        keys = _check_keys(self, keys)
        values = values if isinstance(values, Tensor) else \
            convert_to_tensor(values, dtype=self.value_dtype)
        if values.dtype != self.value_dtype:
            raise TypeError(f"Dtype of argument `values` must be {self.value_dtype!r}, "
                            f"received: {values.dtype!r}")
        return call(insert_p, (keys, values), {"table": self})

    insert_or_assign = insert

    def remove(self, keys, name=None):
        """Removes ``keys`` (missing keys are ignored)."""
        return call(remove_p, (_check_keys(self, keys),), {"table": self})

    erase = remove

    @_ragged_aware
    def lookup(self, keys, dynamic_default_values=None, name=None):
        """The values of ``keys``; missing keys give ``default_value``."""
        keys = _check_keys(self, keys)
        return call(find_p, (keys, self._default_value), {"table": self})


class DenseHashTable(MutableHashTable):
    """A mutable table whose ``empty_key`` and ``deleted_key`` are reserved (TF's
    open-addressing table; here only the reservation is observable).

    Args:
      key_dtype, value_dtype, default_value: as ``MutableHashTable``.
      empty_key, deleted_key: two distinct keys never stored.
      initial_num_buckets: accepted for compatibility.
    """

    def __init__(self, key_dtype, value_dtype, default_value, empty_key, deleted_key,
                 initial_num_buckets=None, name="MutableDenseHashTable",
                 checkpoint=True, experimental_is_anonymous=False):
        super().__init__(key_dtype, value_dtype, default_value, name)
        self._empty = _key(np.asarray(convert_to_tensor(empty_key, dtype=key_dtype)
                                      .numpy()))
        self._deleted = _key(np.asarray(convert_to_tensor(deleted_key, dtype=key_dtype)
                                        .numpy()))
        if self._empty == self._deleted:
            raise InvalidArgumentError("Empty and deleted keys must have different "
                                       f"values, both are {_show(self._empty)}")

    def _check_insert_key(self, key):
        if key == self._empty:
            raise InvalidArgumentError("Using the empty_key as a table key is not "
                                       "allowed")
        if key == self._deleted:
            raise InvalidArgumentError("Using the deleted_key as a table key is not "
                                       "allowed")


experimental = types.SimpleNamespace(MutableHashTable=MutableHashTable,
                                     DenseHashTable=DenseHashTable,
                                     MutableDenseHashTable=DenseHashTable)

__all__ = [
    "DenseHashTable",
    "KeyValueTensorInitializer",
    "MutableHashTable",
    "StaticHashTable",
    "StaticVocabularyTable",
    "TextFileIndex",
    "TextFileInitializer",
    "experimental",
]
