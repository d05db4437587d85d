"""A fingerprint of a dataset pipeline, for ``Dataset.snapshot``.

TF keeps a snapshot per fingerprint of the dataset graph, so changing the
pipeline (a map function, a constant it uses, the source data) writes a fresh
snapshot instead of reading a stale one. dlframe's pipeline is Python objects: the
fingerprint hashes each stage's class and configuration, user functions by their
bytecode, constants, default arguments, closure values (not the contents of
mutable containers) and the plain, array, tensor and dataset global values they
read, ``functools.partial`` arguments, the Python function of a ``tf.function``,
the attributes of user callables (and of a bound method's object), source arrays
by their bytes and ragged/sparse values by their component arrays. A seed drawn
from fresh entropy (no seed set) counts as unseeded, as TF's graph holds zeros
there. Other objects (Keras layers, for one) count by type only.
"""

import functools
import hashlib
import types

from dlframe.backends.base import np  # host arrays' bytes
from dlframe.core.function import Function
from dlframe.core.tensor import Tensor, _tracing_tensor
from dlframe.data.dataset import Dataset
from dlframe.data.seeds import DrawnSeed
from dlframe.data.structure import map_structure
from dlframe.data.traced_fn import DatasetFunction

_PLAIN = (bool, int, float, complex, str, bytes, type(None))
# filled lazily by iterating: not part of what the stage does
_SKIPPED_ATTRIBUTES = {"_spec", "_memory"}
# attributes repeating data hashed elsewhere in the stage: from_tensor_slices keeps
# its input structure beside private copies of its arrays (only the nesting counts),
# ragged/sparse slices the rows of the structure they keep (skipped)
_REPEATED = {("_TensorSliceDataset", "_structure"): "nesting",
             ("_CompositeSliceDataset", "_columns"): "skip"}


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
    if isinstance(value, DrawnSeed):
        return
    if isinstance(value, Tensor):
        if _tracing_tensor(value):   # a symbolic value (a pipeline built in a trace)
            return
        value = value.numpy()
    if isinstance(value, (np.ndarray, np.generic)):
        value = np.asarray(value)
        digest.update(f"{value.dtype}{value.shape}".encode())
        digest.update(np.ascontiguousarray(value).data if value.dtype != object
                      else repr(value.tolist()).encode())   # (no copy of big arrays)
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
        _feed(digest, value.__self__, seen)
    elif isinstance(value, functools.partial):
        _feed(digest, (value.func, value.args, value.keywords), seen)
    elif isinstance(value, Function):   # a tf.function
        _feed(digest, value.python_function, seen)
    elif hasattr(value, "_dlframe_flatten"):   # a RaggedTensor, SparseTensor, ...
        _feed(digest, value._dlframe_flatten()[1], seen)
    elif isinstance(value, types.CodeType):
        digest.update(value.co_code)
        _feed(digest, value.co_consts, seen)
        _feed(digest, value.co_names, seen)
    elif type(value).__module__.startswith("dlframe.data") and hasattr(value,
                                                                       "__dict__"):
        _feed_stage(digest, value, seen)
    elif hasattr(value, "as_numpy_dtype"):   # a DType
        digest.update(repr(value).encode())
    elif not type(value).__module__.startswith(("dlframe", "builtins")) and \
            hasattr(value, "__dict__"):   # a user object (a callable class)
        if callable(value) and isinstance(type(value).__call__, types.FunctionType):
            _feed(digest, type(value).__call__, seen)
        _feed(digest, vars(value), seen)


def _feed_stage(digest, stage, seen):
    for name in sorted(vars(stage)):
        repeated = _REPEATED.get((type(stage).__name__, name))
        if name in _SKIPPED_ATTRIBUTES or repeated == "skip":
            continue
        digest.update(name.encode())
        value = vars(stage)[name]
        if repeated == "nesting":
            value = map_structure(lambda leaf: type(leaf).__name__, value)
        _feed(digest, value, seen)


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
        if isinstance(used, (*_PLAIN, types.FunctionType, np.ndarray, Function, Tensor,
                             Dataset)):
            _feed(digest, used, seen)
