"""Batching: ``batch``, ``padded_batch`` and ``unbatch``.

Components are stacked by their spec: dense ones into one array, ragged ones
(``RaggedTensorSpec``, including the ragged_rank-0 rows of a sliced RaggedTensor) into a
RaggedTensor one ragged dimension deeper, sparse ones into a SparseTensor (see
``composite``).
"""

import numpy as np

from dlframe.core import dtypes as _dt
from dlframe.core.tensor import convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.data import composite
from dlframe.data import structure as S
from dlframe.data.dataset import Dataset, _spec_is_cheap
from dlframe.data.options import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY
from dlframe.data.sources import _TensorSliceDataset
from dlframe.data.transforms import _known, _PassThrough
from dlframe.errors import DataLossError, InvalidArgumentError


def stack_components(elements, first_index=None, specs=None, batch_dim=None):
    """Stacks a list of host elements into one batched element.

    Args:
      elements: equally structured host elements.
      first_index: position of ``elements[0]`` in the input (for error messages).
      specs: the flat element spec; a ``RaggedTensorSpec`` component is batched into a
        RaggedTensor even where its rows are dense arrays.
      batch_dim: the static batch size of the batched spec (None: unknown), which the
        ``TensorShape`` fields of batched extension types report.

    Raises:
      InvalidArgumentError: components of different shapes, naming the component, the
        element's position in the batch (and in the input) and both shapes.
    """
    structure = elements[0]
    columns = [S.flatten(e) for e in elements]
    out = []
    for c, first in enumerate(columns[0]):
        items = [col[c] for col in columns]
        if first is None:   # a NoneTensorSpec component batches to None
            out.append(None)
            continue
        if isinstance(first, Dataset):
            raise TypeError("Cannot batch elements that contain datasets; use "
                            "flat_map(lambda w: w.batch(n)) on windows.")
        batched = composite.stack_by_spec(items, specs[c] if specs else None,
                                          batch_dim)
        if batched is not None:
            out.append(batched)
            continue
        shape = first.shape
        for i, item in enumerate(items):
            if item.shape != shape:
                where = "" if first_index is None else \
                    f" (element {first_index + i} of the input dataset)"
                raise InvalidArgumentError(
                    None, None, f"Cannot batch tensors with different shapes in component "
                    f"{c}. First element had shape {list(shape)} and element {i} had shape "
                    f"{list(item.shape)}{where}. Use padded_batch or ragged batching "
                    "for elements of varying shape.")
        out.append(np.stack(items))
    return S.pack_sequence_as(structure, out)


def ragged_specs(dataset):
    """The flat element spec of ``dataset`` when a component is ragged, else None."""
    specs = S.flatten(dataset.element_spec)
    return specs if any(composite.is_ragged_spec(s) for s in specs) else None


def element_rows(element):
    """Yields the rows of one batched host ``element`` (``unbatch``, ``rebatch``).

    Raises:
      InvalidArgumentError: a scalar component, or components of different batch
        sizes (as TF's ``Input element must have the same batch size``).
    """
    flat = S.flatten(element)
    columns = []
    for leaf in flat:
        if leaf is None:   # a NoneTensorSpec component: None in every row
            continue
        rows = composite.unbatch_leaf(leaf)
        if rows is None:
            if not isinstance(leaf, np.ndarray) or leaf.ndim == 0:
                raise InvalidArgumentError(
                    None, None, "Input element must have a non-scalar value in "
                    "each component to unbatch.")
            rows = leaf
        columns.append(rows)
    sizes = [len(rows) for rows in columns]
    if any(n != sizes[0] for n in sizes):
        raise InvalidArgumentError(
            None, None, "Input element must have the same batch size in each "
            f"component; got {sizes}.")
    for i in range(sizes[0] if sizes else 0):
        row = iter([rows[i, ...] if isinstance(rows, np.ndarray) else rows[i]
                    for rows in columns])
        yield S.pack_sequence_as(element, [
            None if leaf is None else next(row) for leaf in flat])


class _BatchDataset(_PassThrough):
    def __init__(self, input_dataset, batch_size, drop_remainder):
        if batch_size <= 0:
            raise InvalidArgumentError(None, None, "Batch size must be greater than zero, "
                                       f"got batch_size={batch_size}.")
        super().__init__(input_dataset)
        self._batch_size = batch_size
        self._drop = drop_remainder

    def _compute_spec(self):
        # (a drop_remainder read from a traced tensor: TF's batch size is unknown)
        dim = self._batch_size if self._drop and not hasattr(self._drop, "tensor") \
            else None
        return S.map_structure(lambda s: S.batch_spec(s, dim), self._input.element_spec)

    def _iter(self):
        src, b = self._input, self._batch_size
        if isinstance(src, _TensorSliceDataset):  # slice instead of stacking
            n = src._n
            stop = n - n % b if self._drop else n
            for start in range(0, stop, b):
                yield src._slices(start, min(start + b, stop))
            return
        buf, count, specs = [], 0, ragged_specs(src)
        dim = b if self._drop else None
        for element in src._iter():
            buf.append(element)
            if len(buf) == b:
                yield stack_components(buf, count, specs, dim)
                count += b
                buf = []
        if buf and not self._drop:
            yield stack_components(buf, count, specs)

    def _cardinality(self):
        n = self._input._cardinality()
        if not _known(n):
            return n
        return n // self._batch_size if self._drop else -(-n // self._batch_size)


class _PaddedBatchDataset(_BatchDataset):
    def __init__(self, input_dataset, batch_size, padded_shapes, padding_values,
                 drop_remainder):
        super().__init__(input_dataset, batch_size, drop_remainder)
        spec = input_dataset.element_spec
        flat_spec = S.flatten(spec)
        for s in flat_spec:
            if not isinstance(s, S.TensorSpec):
                raise TypeError(f"padded_batch supports dense components only, got {s}")
        self._spec_shapes = None
        if padded_shapes is None:
            for s in flat_spec:
                if s.shape.rank is None:
                    raise ValueError("You must provide `padded_shapes` when a component "
                                     "has unknown rank.")
            shapes = [TensorShape([None] * s.shape.rank) for s in flat_spec]
            # the spec reports the input's known sizes (as TF); padding still goes to
            # the longest in each batch, the input's spec being inferred from samples
            self._spec_shapes = [s.shape for s in flat_spec]
        else:
            shapes = [TensorShape([None if d is None or (not isinstance(d, TensorShape)
                                                          and int(d) < 0) else d
                                   for d in _dims(p)])
                      for p in _flatten_up_to(spec, padded_shapes)]
        for s, p in zip(flat_spec, shapes):
            if not p.is_compatible_with(TensorShape([None] * p.rank)) or (
                    s.shape.rank is not None and s.shape.rank != p.rank) or (
                    s.shape.rank is not None and _pads_smaller(s.shape, p)):
                raise ValueError(f"The padded shape {p} is not compatible with the shape "
                                 f"{s.shape} of the corresponding input component.")
        if padding_values is None:
            pads = [None] * len(flat_spec)
        elif not S.is_nested(padding_values) and S.is_nested(spec):
            pads = [padding_values] * len(flat_spec)
        else:
            pads = _flatten_up_to(spec, padding_values)
        # as TF, a None component pads with the dtype's default
        pads = [(b"" if s.dtype is _dt.string else 0) if v is None
                else _check_padding_value(v, s) for v, s in zip(pads, flat_spec)]
        self._pad_shapes = shapes
        self._pad_values = [np.asarray(S.to_host_array(v), dtype=s.dtype._np).reshape(())
                            for v, s in zip(pads, flat_spec)]
        self._spec_in = spec

    def _compute_spec(self):
        dim = self._batch_size if self._drop else None
        shapes = self._spec_shapes or self._pad_shapes
        flat = [S.TensorSpec([dim] + p.dims, s.dtype)
                for p, s in zip(shapes, S.flatten(self._spec_in))]
        return S.pack_sequence_as(self._spec_in, flat)

    def _iter(self):
        buf = []
        for element in self._input._iter():
            buf.append(element)
            if len(buf) == self._batch_size:
                yield self._pad(buf)
                buf = []
        if buf and not self._drop:
            yield self._pad(buf)

    def _pad(self, elements):
        columns = [S.flatten(e) for e in elements]
        out = []
        for c, (pshape, pad) in enumerate(zip(self._pad_shapes, self._pad_values)):
            arrays = [col[c] for col in columns]
            target = []
            for axis, d in enumerate(pshape.dims):
                longest = max(a.shape[axis] for a in arrays)
                if d is not None and longest > d:
                    raise DataLossError(   # TF's type for this error
                        None, None, "Attempted to pad to a smaller size than the input "
                        f"element: component {c} has dimension {axis} of size {longest} "
                        f"but the padded shape is {pshape}.")
                target.append(longest if d is None else d)
            batch = np.full([len(arrays)] + target, pad, dtype=pad.dtype)
            for i, a in enumerate(arrays):
                # a 0-d object array would be stored as itself in a string slot
                batch[(i,) + tuple(slice(0, k) for k in a.shape)] = a if a.ndim else a[()]
            out.append(batch)
        return S.pack_sequence_as(elements[0], out)


def _check_padding_value(value, spec):
    """``value`` as a Tensor, checked as TF: a padding value is a scalar of its
    component's dtype, Python numbers taking their default dtype (``0`` is int32,
    ``0.`` float32)."""
    value = convert_to_tensor(value)
    if value.shape.rank != 0:
        raise ValueError("Invalid `padding_values`. `padding_values` values should be "
                         f"scalars, but got {tuple(value.shape)}.")
    if value.dtype != spec.dtype:
        raise TypeError(f"Invalid `padding_values`. `padding_values` values type "
                        f"{value.dtype!r} does not match type {spec.dtype!r} of the "
                        "corresponding input component.")
    return value


def _dims(shape):
    if isinstance(shape, TensorShape):
        return shape.dims
    if hasattr(shape, "numpy"):
        shape = shape.numpy().tolist()
    return list(shape)


def _pads_smaller(shape, padded):
    """Whether a known input dim exceeds its known padded dim (TF: ValueError)."""
    return any(a is not None and b is not None and a > b
               for a, b in zip(shape.as_list(), padded.as_list()))


def _flatten_up_to(spec, values):
    """Leaves of ``values`` at ``spec``'s leaf positions (values' leaves may be lists)."""
    if isinstance(spec, dict):
        return [x for k in sorted(spec) for x in _flatten_up_to(spec[k], values[k])]
    if isinstance(spec, tuple):
        return [x for s, v in zip(spec, values) for x in _flatten_up_to(s, v)]
    return [values]


class _UnbatchDataset(_PassThrough):
    def __init__(self, input_dataset, *args, **kwargs):
        known = input_dataset._spec   # checked when known (a map's spec is lazy)
        for spec in S.flatten(known) if known is not None else ():
            if isinstance(spec, S.TensorSpec) and spec.shape.rank == 0:
                raise ValueError("Cannot unbatch an input with scalar components: "
                                 f"element_spec={known}")
        super().__init__(input_dataset, *args, **kwargs)

    def _compute_spec(self):
        return S.map_structure(lambda s: S.unbatch_spec(s), self._input.element_spec)

    def _iter(self):
        for element in self._input._iter():
            yield from element_rows(element)

    def _cardinality(self):
        n = self._input._cardinality()
        if n == INFINITE_CARDINALITY or not _known(n):
            return n
        if not _spec_is_cheap(self._input):
            return UNKNOWN_CARDINALITY
        # TF knows the count when every component has the same static batch size
        sizes = {s.shape.dims[0] if getattr(s, "shape", None) is not None and
                 s.shape.rank else None for s in S.flatten(self._input.element_spec)}
        size = sizes.pop() if len(sizes) == 1 else None
        return UNKNOWN_CARDINALITY if size is None else n * size
