"""A fingerprint of a dataset pipeline, for ``Dataset.snapshot``.

TF keeps a snapshot per fingerprint of the dataset graph, so changing the
pipeline (a map function, a constant it uses, the source data) writes a fresh
snapshot instead of reading a stale one. dlframe's pipeline is Python objects: the
fingerprint hashes each stage's class and configuration, user functions by their
bytecode, constants, default arguments, closure values (not the contents of
mutable containers) and the plain global values they read, and source arrays by
their bytes. Other objects count by type only.
"""

import hashlib
import types

from dlframe.backends.base import np  # host arrays' bytes
from dlframe.core.tensor import Tensor
from dlframe.data.traced_fn import DatasetFunction

_PLAIN = (bool, int, float, complex, str, bytes, type(None))
# filled lazily by iterating: not part of what the stage does
_SKIPPED_ATTRIBUTES = {"_spec", "_memory"}


def fingerprint(dataset):
    """A short hex digest identifying what ``dataset`` computes."""
    digest = hashlib.sha256()
    _feed(digest, dataset, set())
    return digest.hexdigest()[:16]


def _feed(digest, value, seen):
    if isinstance(value, _PLAIN):
        digest.update(f"{type(value).__name__}:{value!r};".encode())
        return
    if id(value) in seen:
        digest.update(b"<seen>;")
        return
    seen.add(id(value))
    digest.update(type(value).__qualname__.encode())
    if isinstance(value, Tensor):
        value = value.numpy()
    if isinstance(value, (np.ndarray, np.generic)):
        value = np.asarray(value)
        digest.update(f"{value.dtype}{value.shape}".encode())
        digest.update(value.tobytes() if value.dtype != object
                      else repr(value.tolist()).encode())
    elif isinstance(value, (list, tuple)):
        for item in value:
            _feed(digest, item, seen)
    elif isinstance(value, dict):
        for key in sorted(value, key=str):
            _feed(digest, key, seen)
            _feed(digest, value[key], seen)
    elif isinstance(value, DatasetFunction):   # its traces are filled lazily
        _feed(digest, value.fn, seen)
    elif isinstance(value, types.FunctionType):
        _feed_function(digest, value, seen)
    elif isinstance(value, types.MethodType):
        _feed(digest, value.__func__, seen)
    elif isinstance(value, types.CodeType):
        digest.update(value.co_code)
        _feed(digest, value.co_consts, seen)
        _feed(digest, value.co_names, seen)
    elif type(value).__module__.startswith("dlframe.data") and hasattr(value,
                                                                       "__dict__"):
        # a pipeline stage
        for name in sorted(vars(value)):
            if name not in _SKIPPED_ATTRIBUTES:
                digest.update(name.encode())
                _feed(digest, vars(value)[name], seen)
    elif hasattr(value, "as_numpy_dtype"):   # a DType
        digest.update(repr(value).encode())


def _feed_function(digest, fn, seen):
    _feed(digest, fn.__code__, seen)
    _feed(digest, fn.__defaults__, seen)
    for cell in fn.__closure__ or ():
        try:
            captured = cell.cell_contents
        except ValueError:   # an empty cell
            digest.update(b"<empty>;")
            continue
        # a mutable container (a list the function appends to) counts by type only
        _feed(digest, type(captured) if isinstance(captured, (list, dict, set))
              else captured, seen)
    for name in fn.__code__.co_names:   # module constants and helper functions used
        used = fn.__globals__.get(name)
        if isinstance(used, (*_PLAIN, types.FunctionType, np.ndarray)):
            _feed(digest, used, seen)
