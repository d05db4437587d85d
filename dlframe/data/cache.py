"""``Dataset.cache``: in memory, or in a file that later pipelines and processes reuse.

The file holds one record per element: a JSON header (nesting, dtypes, shapes) and the
raw bytes of each component, so reading it never unpickles anything.
"""

import json
import os

import numpy as np

from dlframe.data import structure as S
from dlframe.data.transforms import _PassThrough


class _CacheDataset(_PassThrough):
    """In memory: filled by the first complete iteration. In a file: written to a
    temporary name and renamed when complete, then read by every later iteration
    (also by other pipelines and processes given the same ``filename``)."""

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
        path = self._filename + ".dlcache"
        if os.path.exists(path):
            yield from _read_cache(path)
            return
        tmp = f"{path}.tmp-{os.getpid()}-{id(self)}"
        complete = False
        try:
            with open(tmp, "wb") as f:
                for element in self._input._iter():
                    _write_cache_element(f, element)
                    yield element
            complete = True
            os.replace(tmp, path)
        finally:
            if not complete and os.path.exists(tmp):
                os.remove(tmp)


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


def _write_cache_element(f, element):
    leaves = S.flatten(element)
    meta = {"s": _structure_json(element), "l": []}
    payloads = []
    for leaf in leaves:
        if not isinstance(leaf, np.ndarray):
            raise TypeError(f"cache(filename) supports dense components only, got {leaf!r}")
        if leaf.dtype == object:
            items = [bytes(b) for b in leaf.reshape(-1)]
            meta["l"].append({"k": "s", "shape": list(leaf.shape),
                              "lens": [len(b) for b in items]})
            payloads.append(b"".join(items))
        else:
            meta["l"].append({"k": "a", "shape": list(leaf.shape), "dtype": leaf.dtype.str})
            payloads.append(np.ascontiguousarray(leaf).tobytes())
    header = json.dumps(meta).encode()
    f.write(len(header).to_bytes(8, "little"))
    f.write(header)
    for p in payloads:
        f.write(len(p).to_bytes(8, "little"))
        f.write(p)


def _read_cache(path, opener=open):
    with opener(path, "rb") as f:
        while True:
            size = f.read(8)
            if not size:
                return
            meta = json.loads(f.read(int.from_bytes(size, "little")))
            leaves = []
            for desc in meta["l"]:
                data = f.read(int.from_bytes(f.read(8), "little"))
                if desc["k"] == "s":
                    arr = np.empty(sum(1 for _ in desc["lens"]), dtype=object)
                    pos = 0
                    for i, n in enumerate(desc["lens"]):
                        arr[i] = data[pos:pos + n]
                        pos += n
                    leaves.append(arr.reshape(desc["shape"]))
                else:
                    leaves.append(np.frombuffer(data, dtype=np.dtype(desc["dtype"]))
                                  .reshape(desc["shape"]).copy())
            yield S.pack_sequence_as(_structure_from_json(meta["s"]), leaves)
