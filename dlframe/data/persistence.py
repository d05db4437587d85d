"""``Dataset.save``/``Dataset.load`` (also ``tf.data.experimental.save``/``load``) and
``Dataset.snapshot``.

A saved dataset is a directory: ``dataset_spec.json`` (the element structure, dtypes,
shapes and ragged/sparse kinds, the element count and the compression) and one ``shard_<id>.dlshard``
file per shard in the record format of ``Dataset.cache`` (raw bytes, never pickles).
"""

import functools
import json
import os

import numpy as np

from dlframe.core.tensor_spec import TensorSpec
from dlframe.data import compression as _codecs
from dlframe.data import structure as S
from dlframe.data.cache import (
    _CacheDataset,
    _read_cache,
    _structure_from_json,
    _structure_json,
    _write_cache_element,
)
from dlframe.data.dataset import Dataset, call_fn_raw
from dlframe.errors import DataLossError, InvalidArgumentError, NotFoundError
from dlframe.ops.ragged_spec import RaggedTensorSpec

SPEC_FILE = "dataset_spec.json"


def _opener(compression):
    return functools.partial(_codecs.open_file, compression=compression)


def _leaf_spec_json(leaf):
    shape = leaf.shape.as_list() if leaf.shape.rank is not None else None
    desc = {"dtype": leaf.dtype.name, "shape": shape}
    if isinstance(leaf, RaggedTensorSpec):
        desc.update(kind="ragged", ragged_rank=leaf.ragged_rank,
                    row_splits_dtype=leaf.row_splits_dtype.name)
    elif isinstance(leaf, S.SparseTensorSpec):
        desc["kind"] = "sparse"
    elif not isinstance(leaf, TensorSpec):
        raise TypeError("Dataset.save supports datasets of dense, RaggedTensor and "
                        f"SparseTensor components; the element spec contains {leaf!r}.")
    return desc


def _spec_json(spec):
    leaves = [_leaf_spec_json(leaf) for leaf in S.flatten(spec)]
    return {"structure": _structure_json(spec), "leaves": leaves}


def _leaf_spec_from_json(desc):
    kind = desc.get("kind")
    if kind == "ragged":
        return RaggedTensorSpec(desc["shape"], desc["dtype"], desc["ragged_rank"],
                                desc["row_splits_dtype"])
    if kind == "sparse":
        return S.SparseTensorSpec(desc["shape"], desc["dtype"])
    return TensorSpec(desc["shape"], desc["dtype"])


def _sorted_keys(structure):
    """``structure`` with every dict's keys in sorted order, as TF's loaded spec
    (``structure`` itself when it holds no dict)."""
    if isinstance(structure, dict):
        return {k: _sorted_keys(structure[k]) for k in sorted(structure)}
    if isinstance(structure, tuple) and not hasattr(structure, "_fields"):
        items = tuple(_sorted_keys(v) for v in structure)
        return structure if all(a is b for a, b in zip(items, structure)) else items
    return structure


def _spec_from_json(desc):
    leaves = [_leaf_spec_from_json(d) for d in desc["leaves"]]
    return S.pack_sequence_as(_sorted_keys(_structure_from_json(desc["structure"])),
                              leaves)


def _shard_index(shard_func, element):
    raw = call_fn_raw(shard_func, element)
    value = np.asarray(S.to_host_array(raw))
    # as TF, a tensor index must be int64 (a tf.int32 one fails); Python ints pass
    wrong_tensor = getattr(raw, "dtype", None) is not None and value.dtype != np.int64
    if value.size != 1 or value.dtype.kind not in "iu" or wrong_tensor:
        raise InvalidArgumentError(
            None, None, "`shard_func` must return a scalar int64 shard index; it "
            f"returned {value.dtype} values of shape {value.shape}.")
    return int(value.reshape(()))


def save(dataset, path, compression=None, shard_func=None, checkpoint_args=None):
    """Writes every element of ``dataset`` under the directory ``path``.

    Args:
      dataset: a finite ``Dataset`` of dense, RaggedTensor or SparseTensor
        components.
      path: the directory (created; files of an earlier save are replaced).
      compression: 'GZIP', 'ZLIB' or 'SNAPPY'; None or any other string (as in
        TF: 'NONE', 'ZIP') writes uncompressed files.
      shard_func: ``element -> int64 scalar`` choosing each element's shard file
        (default: one shard).
      checkpoint_args: accepted for compatibility; saving is not resumable.
    """
    del checkpoint_args
    if not isinstance(dataset, Dataset):
        raise TypeError(f"`dataset` must be a tf.data.Dataset, got {type(dataset)}")
    if dataset._cardinality() == -1:
        raise ValueError("Cannot save an infinite dataset (cardinality -1).")
    compression = _codecs.parse(compression)
    path = os.fspath(path)
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.startswith("shard_") and name.endswith(".dlshard"):
            os.remove(os.path.join(path, name))
    spec = dataset.element_spec
    files, count = {}, 0
    try:
        for element in dataset._iter():
            shard = 0 if shard_func is None else _shard_index(shard_func, element)
            if shard not in files:
                files[shard] = _opener(compression)(
                    os.path.join(path, f"shard_{shard:05d}.dlshard"), "wb")
            _write_cache_element(files[shard], element)
            count += 1
    finally:
        for f in files.values():
            f.close()
    meta = dict(_spec_json(spec), cardinality=count, compression=compression,
                shards=sorted(files))
    with open(os.path.join(path, SPEC_FILE), "w", encoding="utf-8") as f:
        json.dump(meta, f)


class _ShardDataset(Dataset):
    """The elements of one shard file."""

    def __init__(self, filename, spec, compression, saved_compression=None):
        super().__init__()
        self._filename, self._spec, self._compression = filename, spec, compression
        self._saved_compression = saved_compression

    def _iter(self):
        if self._compression != self._saved_compression:
            return self._wrong_compression()
        elements = _read_cache(self._filename, _opener(self._compression))
        if _sorted_keys(self._spec) is self._spec:   # no dict: as stored
            return elements
        # dicts come back in the loaded spec's (sorted) key order, as TF's
        return (S.pack_sequence_as(self._spec, S.flatten(e)) for e in elements)

    def _wrong_compression(self):
        # as TF, a mismatched `compression` fails when the first element is read
        detail = ("inflate() failed with error -3: incorrect header check"
                  if self._compression in ("GZIP", "ZLIB") else
                  "corrupted record at 0 (Is this even a TFRecord file?)")
        raise DataLossError(
            None, None, f"{detail}: {self._filename} was saved with compression="
            f"{self._saved_compression!r} but is read with compression="
            f"{self._compression!r}.")
        yield  # pragma: no cover - makes this a generator


class _LoadedDataset(Dataset):
    """All shards, read one element from each in turn (TF's default reader)."""

    def __init__(self, shards, spec, count):
        super().__init__(shards)
        self._spec, self._count = spec, count

    def _iter(self):
        iters = [shard._iter() for shard in self._inputs]
        while iters:
            for it in list(iters):
                try:
                    yield next(it)
                except StopIteration:
                    iters.remove(it)

    def _cardinality(self):
        return self._count


def load(path, element_spec=None, compression=None, reader_func=None):
    """The dataset saved under ``path`` by ``Dataset.save``.

    Args:
      path: the directory written by ``save``.
      element_spec: accepted for compatibility (the saved spec is used when None).
      compression: as given to ``save`` (its reading there: 'ZIP' is none); a
        different codec fails with ``DataLossError`` when the first element is
        read (as in TF).
      reader_func: ``datasets -> Dataset`` combining the dataset of shard datasets
        (default: one element of each shard in turn).

    Raises:
      NotFoundError: ``path`` holds no saved dataset.
    """
    compression = _codecs.parse(compression)
    path = os.fspath(path)
    spec_path = os.path.join(path, SPEC_FILE)
    if not os.path.exists(spec_path):
        raise NotFoundError(None, None, "tf.data snapshot element_spec file not found: "
                                        f"{spec_path}.")
    with open(spec_path, encoding="utf-8") as f:
        meta = json.load(f)
    spec = _spec_from_json(meta)
    if element_spec is not None:
        _check_given_spec(element_spec, spec)
        spec = element_spec
    shards = [_ShardDataset(os.path.join(path, f"shard_{i:05d}.dlshard"), spec,
                            compression, meta["compression"]) for i in meta["shards"]]
    if reader_func is None:
        return _LoadedDataset(shards, spec, int(meta["cardinality"]))
    from dlframe.data.sources import _ListDataset
    out = reader_func(_ListDataset(shards, S.DatasetSpec(spec)))
    if not isinstance(out, Dataset):
        raise TypeError("`reader_func` must return a Dataset, got "
                        f"{type(out).__name__}")
    return out


def _check_given_spec(given, saved, where="0"):
    """``load(element_spec=...)`` must describe what was saved (TF fails reading)."""
    def mismatch(expected, got):
        return InvalidArgumentError(
            None, None, f"Data type mismatch at component {where}: expected "
            f"{expected} but got {got}.")
    if isinstance(saved, dict) or isinstance(given, dict):
        if not (isinstance(saved, dict) and isinstance(given, dict)) or \
                set(saved) != set(given):
            raise mismatch(given, saved)
        for key in saved:
            _check_given_spec(given[key], saved[key], f"{where}/{key}")
    elif isinstance(saved, tuple) or isinstance(given, tuple):
        if not (isinstance(saved, tuple) and isinstance(given, tuple)) or \
                len(saved) != len(given):
            raise mismatch(given, saved)
        for i, (g, s) in enumerate(zip(given, saved)):
            _check_given_spec(g, s, f"{where}/{i}")
    elif type(given) is not type(saved) or \
            getattr(given, "dtype", None) != getattr(saved, "dtype", None):
        raise mismatch(given, saved)


class _SnapshotDataset(_CacheDataset):
    """``Dataset.snapshot``: the first complete iteration is written under ``path``;
    later iterations (and pipelines in other processes) read it back."""

    _locks_writes = False   # an unfinished snapshot is simply written again

    def __init__(self, input_dataset, path, compression):
        from dlframe.data.fingerprint import fingerprint
        # as TF, one snapshot per pipeline: a changed pipeline does not read it
        path = os.path.join(os.fspath(path), fingerprint(input_dataset))
        os.makedirs(path, exist_ok=True)
        super().__init__(input_dataset, os.path.join(path, "snapshot"))
        self._compression = compression


def snapshot(dataset, path, compression="AUTO", reader_func=None, shard_func=None):
    """``Dataset.snapshot``: a file cache under the directory ``path``.

    Args:
      dataset: the input dataset.
      path: the snapshot directory.
      compression: 'AUTO', 'GZIP', 'SNAPPY' or None (accepted; files are raw).
      reader_func, shard_func: accepted for compatibility.
    """
    del reader_func, shard_func
    if compression not in (None, "AUTO", "GZIP", "SNAPPY", "NONE", ""):
        raise ValueError("Invalid `compression`: expected 'AUTO', 'GZIP', 'SNAPPY' or "
                         f"None. Received: compression={compression!r}")
    return _SnapshotDataset(dataset, path, compression)
