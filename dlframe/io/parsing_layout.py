"""The tf.io parsers as graph ops: one host primitive per parse call, whose kernel
parses the records it gets each run and returns the flat list of result arrays,
and the ``Part`` layout that packs them back into Tensors, SparseTensors and
RaggedTensors with TF's static shapes.

A ``Part`` describes one parsed feature: its kind, dtype and static shape, where
``BATCH`` stands for the input's first dimension (the batch of a ``parse_example``)
and None for a size the data decides. The primitive's ``static_shape`` rule turns
the parts into TF's shapes (so ``ConcreteFunction.structured_outputs`` and
``Dataset.map``'s ``element_spec`` agree with TF), and a function's trace on
records that do not parse (the empty strings a ``TensorSpec`` stands for) gets
empty stand-ins of the same layout, the error deferred to the runs that need it.
"""

import collections

from dlframe.backends.base import np  # host arrays for file I/O
from dlframe.core import dtypes as _dt
from dlframe.core.primitive import STATE, call
from dlframe.io.host_ops import host_primitive, on_host
from dlframe.io.sparse_tensor import SparseTensor

BATCH = "batch"


class Part(collections.namedtuple("Part", ["kind", "dtype", "shape", "n_splits",
                                           "splits_dtype"])):
    """One parsed feature's layout.

    Attributes:
      kind: ``"dense"`` (one array), ``"sparse"`` (indices, values, dense shape)
        or ``"ragged"`` (flat values, then ``n_splits`` row splits outermost
        first; a plain Tensor when there are none).
      dtype: the values' dtype name.
      shape: dense: the result's shape; sparse: the dense shape; ragged: the
        values' inner (uniform) dims. ``BATCH`` is the input's batch size, None a
        size the data decides.
      n_splits: ragged row-partition count.
      splits_dtype: the row splits' dtype name.
    """

    def __new__(cls, kind, dtype, shape, n_splits=0, splits_dtype="int64"):
        return super().__new__(cls, kind, _dt.as_dtype(dtype).name, tuple(shape),
                               n_splits, splits_dtype)

    def n_out(self):
        return {"dense": 1, "sparse": 3}.get(self.kind, 1 + self.n_splits)

    def static_dims(self, batch):
        """The static dims of this part's outputs for an input batch size ``batch``."""
        shape = [batch if d == BATCH else d for d in self.shape]
        if self.kind == "dense":
            return [shape]
        if self.kind == "sparse":
            return [[None, len(shape)], [None], [len(shape)]]
        splits = [[None]] * self.n_splits
        if splits and self.shape[:1] == (BATCH,):   # one row per record
            splits[0] = [None if batch is None else batch + 1]
            shape = shape[1:]
        return [[None] + shape] + splits

    def blank(self, batch):
        """Empty arrays of this layout for ``batch`` records (a trace's stand-in)."""
        np_dtype = object if self.dtype == "string" else np.dtype(self.dtype)
        sizes = [batch if d == BATCH else 0 if d is None else d for d in self.shape]
        if self.kind == "dense":
            return [_filled(sizes, np_dtype)]
        if self.kind == "sparse":
            return [np.zeros((0, len(sizes)), np.int64), _filled([0], np_dtype),
                    np.asarray(sizes, np.int64)]
        splits = [np.zeros(1, self.splits_dtype)] * self.n_splits
        if splits and self.shape[:1] == (BATCH,):
            splits[0] = np.zeros(batch + 1, self.splits_dtype)
            sizes = sizes[1:]
        return [_filled([0] + sizes, np_dtype)] + splits


def _filled(shape, np_dtype):
    out = np.zeros(shape, dtype=np_dtype)
    if np_dtype is object:
        out.fill(b"")
    return out


def _exact_key(value):
    """A hashable key equal only for equal values: arrays by their bytes (their
    ``repr`` elides the middle of large arrays and rounds floats), containers
    item by item, anything else by ``repr``."""
    if isinstance(value, np.ndarray):
        data = value.tobytes() if value.dtype != object else repr(value.tolist())
        return ("ndarray", value.dtype.str, value.shape, data)
    if isinstance(value, dict):
        return ("dict",) + tuple((_exact_key(k), _exact_key(v))
                                 for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__,) + tuple(_exact_key(v) for v in value)
    return repr(value)


class Static:
    """A static attribute compared by value (feature configs hold lists and
    arrays, so a graph's CSE merges two parses only when their configs agree)."""

    def __init__(self, value):
        self.value = value
        self._key = _exact_key(value)

    def __eq__(self, other):
        return isinstance(other, Static) and other._key == self._key

    def __hash__(self):
        return hash(self._key)

    def __repr__(self):
        return repr(self.value)


def _flat_dims(parts, in_dims):
    batch = in_dims[0][0] if in_dims and in_dims[0] else None
    return [dims for _key, part in parts for dims in part.static_dims(batch)]


def _blank(serialized, *, kernel, parts, config):
    batch = serialized.shape[0] if serialized.ndim else 1
    return tuple(a for _key, part in parts for a in part.blank(batch))


def _parse_forward(serialized, *, kernel, parts, config):
    arrays = kernel.value(serialized, config.value)
    return tuple(a for key, _part in parts for a in arrays[key])


def parser_primitive(name):
    """A host primitive ``name`` running ``kernel(serialized, config) -> {key: [arrays]}``
    (attributes ``kernel`` and ``config`` wrapped in ``Static``, ``parts`` a tuple
    of ``(key, Part)``), with TF's static shapes."""
    prim = host_primitive(name, _blank, n_out=-1)(_parse_forward)
    prim.static_shape = lambda in_dims, attrs: _flat_dims(attrs["parts"], in_dims)
    return prim


def run_parser(prim, serialized, kernel, config, parts):
    """Runs the parser primitive on the host string Tensor ``serialized`` and packs
    its outputs as ``{key: Tensor | SparseTensor | RaggedTensor}`` in ``parts``'
    order."""
    serialized = on_host(serialized)
    outs = call(prim, (serialized,), {"kernel": Static(kernel), "config": Static(config),
                                      "parts": tuple(parts)})
    batch = serialized._value.shape[0] if serialized._value.ndim else None
    result, at = {}, 0
    for key, part in parts:
        pieces = outs[at:at + part.n_out()]
        at += part.n_out()
        result[key] = _pack(part, pieces, batch)
    return result


def _pack(part, pieces, batch):
    """One part's Tensors as the value the parser returns; a ``Dataset.map`` spec
    run (real records) is told TF's static shape of sparse and padded results."""
    # TF leaves the batch dim of a sparse result unknown even for a known batch
    lead = None if part.kind == "sparse" else batch
    static = [lead if d == BATCH else d for d in part.shape]
    if part.kind == "dense":
        value = pieces[0]
        if None not in static:
            return value
    elif part.kind == "sparse":
        value = SparseTensor(*pieces)
        if STATE.trace is not None:   # a function's trace sees the known sizes
            value.set_shape(static)
    else:
        if not part.n_splits:
            return pieces[0]
        from dlframe.ops.ragged_tensor import RaggedTensor
        return RaggedTensor.from_nested_row_splits(pieces[0], list(pieces[1:]),
                                                   validate=False)
    note = getattr(STATE.trace, "note_parsed_shape", None)
    if note is not None:
        note(value, static)
    return value

