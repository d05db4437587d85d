"""``Dataset.cache``: in memory, or in a file that later pipelines and processes reuse.

The file holds one record per element: a JSON header (nesting, dtypes, shapes) and the
raw bytes of each component (RaggedTensor and SparseTensor components as the raw bytes
of their arrays), so reading it never unpickles anything.
"""

import atexit
import gc
import json
import os
import threading
import time

import numpy as np

from dlframe.data import structure as S
from dlframe.data.composite import _ragged_from_parts, _ragged_parts, is_ragged
from dlframe.data.transforms import _PassThrough
from dlframe.errors import AlreadyExistsError, NotFoundError
from dlframe.io.sparse_tensor import SparseTensor


class CacheDataset(_PassThrough):
    """In memory: filled by the first complete iteration. In a file: written to a
    temporary name and renamed when complete, then read by every later iteration
    (also by other pipelines and processes given the same ``filename``)."""

    # TF guards a file cache being written with a lockfile; snapshot does not
    _locks_writes = True

    def __init__(self, input_dataset, filename):
        super().__init__(input_dataset)
        self._filename = filename
        self._memory = None

    def _cardinality(self):
        return self._input._cardinality()

    def _sample_iter(self):
        return self._input._sample_iter()

    def _iter(self):
        if not self._filename:
            if self._memory is not None:
                yield from self._memory
                return
            items = []
            for element in self._input._iter():
                items.append(element)
                yield element
            self._memory = items
            return
        data, index = _cache_paths(self._filename)
        if os.path.exists(index) and os.path.exists(data):
            yield from _read_cache(data)
            return
        lockfile = _acquire_lock(self._filename) if self._locks_writes else None
        tmp = f"{data}.tmp-{os.getpid()}-{id(self)}"
        complete = False
        try:
            count = 0
            with open(tmp, "wb") as f:
                for element in self._input._iter():
                    _write_cache_element(f, element)
                    count += 1
                    yield element
            complete = True
            os.replace(tmp, data)
            with open(index, "w") as f:   # written last: marks the cache complete
                json.dump({"format": "dlframe-cache", "elements": count}, f)
        finally:
            if not complete and os.path.exists(tmp):
                os.remove(tmp)
            _release_lock(lockfile)


# TF's repr says <CacheDataset ...>; the private spelling stays for importers
_CacheDataset = CacheDataset


# lockfiles this process holds: a dropped iterator not yet collected (a reference
# cycle, a prefetch thread winding down) does not count as a concurrent writer
_HELD = {}   # lockfile -> the pid that made it (a forked child's are not its own)
_HELD_LOCK = threading.Lock()
# how long a writer waits for a lock this process holds before calling it concurrent
# (a dropped iterator under prefetch closes on its thread; on a loaded machine that
# took over a second, and a false error would stop `for x in ds: break` + `fit(ds)`)
OWN_LOCK_WAIT_S = 10.0


def _acquire_lock(filename):
    """Creates ``{filename}_0.lockfile`` for the writing iterator, as TF does, so a
    second iterator writing the same cache while the first is unfinished fails."""
    lockfile = f"{filename}_0.lockfile"
    try:
        fd = _create_lockfile(lockfile)
    except FileExistsError:
        with open(lockfile) as f:
            contents = f.read()
        raise AlreadyExistsError(
            None, None,
            "There appears to be a concurrent caching iterator running - cache "
            f"lockfile already exists ('{lockfile}'). If you are sure no other "
            "running TF computations are using this cache prefix, delete the "
            f"lockfile and re-initialize the iterator. Lockfile contents: {contents}"
        ) from None
    except (FileNotFoundError, NotADirectoryError):
        raise NotFoundError(
            None, None, f"{lockfile}; No such file or directory") from None
    with _HELD_LOCK:
        _HELD[lockfile] = os.getpid()
    with os.fdopen(fd, "w") as f:
        f.write(f"Created at: {int(time.time())}")
    return lockfile


def _create_lockfile(lockfile):
    """``os.open`` of a new ``lockfile``; where this process holds it, first lets
    unreachable iterators finish (TF destroys a dropped iterator at once)."""
    deadline = None
    while True:
        try:
            return os.open(lockfile, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            with _HELD_LOCK:   # (a release removes the file before forgetting it)
                ours = _HELD.get(lockfile) == os.getpid()
            if not ours and os.path.exists(lockfile):
                raise
            if deadline is None:
                gc.collect()
                deadline = time.monotonic() + OWN_LOCK_WAIT_S
            elif time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _release_lock(lockfile):
    if lockfile is None:
        return
    with _HELD_LOCK:
        try:
            os.remove(lockfile)
        except FileNotFoundError:
            pass
        _HELD.pop(lockfile, None)


@atexit.register
def _release_held_locks():
    """An iterator still open at exit leaves no lockfile behind (as TF's)."""
    for lockfile, pid in list(_HELD.items()):
        if pid == os.getpid():
            _release_lock(lockfile)


def _cache_paths(filename):
    """(data file, index file) of a file cache, named as TF names them, so that
    programs checking for ``filename + ".index"`` see a finished cache."""
    return f"{filename}.data-00000-of-00001", f"{filename}.index"


def _structure_json(element):
    if isinstance(element, dict):
        return {"d": {k: _structure_json(v) for k, v in element.items()}}
    if isinstance(element, tuple):
        return {"t": [_structure_json(v) for v in element]}
    return None


def _structure_from_json(desc):
    if desc is None:
        return 0
    if "d" in desc:
        return {k: _structure_from_json(v) for k, v in desc["d"].items()}
    return tuple(_structure_from_json(v) for v in desc["t"])


def _array_record(leaf):
    """(header, payload bytes) of one host array (strings as their byte lengths)."""
    leaf = np.asarray(leaf)
    if leaf.dtype == object:
        items = [bytes(b) for b in leaf.reshape(-1)]
        return ({"k": "s", "shape": list(leaf.shape), "lens": [len(b) for b in items]},
                b"".join(items))
    return ({"k": "a", "shape": list(leaf.shape), "dtype": leaf.dtype.str},
            np.ascontiguousarray(leaf).tobytes())


def _leaf_records(leaf):
    """(header, payloads) of one element component: a dense array, or a composite
    whose arrays follow its header (a SparseTensor's indices, values and shape; a
    RaggedTensor's flat values, then its row splits outermost first)."""
    if isinstance(leaf, SparseTensor):
        parts = [leaf.indices, leaf.values, leaf.dense_shape]
        kind = "sp"
    elif is_ragged(leaf):
        flat, splits = _ragged_parts(leaf)
        parts, kind = [flat] + splits, "r"
    elif isinstance(leaf, (np.ndarray, np.generic)):
        header, payload = _array_record(leaf)
        return header, [payload]
    else:
        raise TypeError("cache(filename), save and snapshot support dense, "
                        f"RaggedTensor and SparseTensor components; got {leaf!r}")
    records = [_array_record(S.to_host_array(x)) for x in parts]
    return {"k": kind, "parts": [h for h, _ in records]}, [b for _, b in records]


def _write_cache_element(f, element):
    leaves = S.flatten(element)
    meta = {"s": _structure_json(element), "l": []}
    payloads = []
    for leaf in leaves:
        header, data = _leaf_records(leaf)
        meta["l"].append(header)
        payloads.extend(data)
    header = json.dumps(meta).encode()
    f.write(len(header).to_bytes(8, "little"))
    f.write(header)
    for p in payloads:
        f.write(len(p).to_bytes(8, "little"))
        f.write(p)


def _read_array(f, desc):
    data = f.read(int.from_bytes(f.read(8), "little"))
    if desc["k"] == "s":
        arr = np.empty(len(desc["lens"]), dtype=object)
        pos = 0
        for i, n in enumerate(desc["lens"]):
            arr[i] = data[pos:pos + n]
            pos += n
        return arr.reshape(desc["shape"])
    return np.frombuffer(data, dtype=np.dtype(desc["dtype"])).reshape(
        desc["shape"]).copy()


def _read_leaf(f, desc):
    if desc["k"] not in ("sp", "r"):
        return _read_array(f, desc)
    parts = [_read_array(f, d) for d in desc["parts"]]
    if desc["k"] == "sp":
        return SparseTensor(*parts)
    return _ragged_from_parts(parts[0], parts[1:])


def _read_cache(path, opener=open):
    with opener(path, "rb") as f:
        while True:
            size = f.read(8)
            if not size:
                return
            meta = json.loads(f.read(int.from_bytes(size, "little")))
            leaves = [_read_leaf(f, desc) for desc in meta["l"]]
            yield S.pack_sequence_as(_structure_from_json(meta["s"]), leaves)
