"""``tf.RaggedTensor``: rows of different lengths, as ``values`` plus ``row_splits``.

``values`` is a Tensor (or, for nested ragged dimensions, another RaggedTensor) and
``row_splits`` an int64 (or int32) vector: row ``i`` is ``values[splits[i]:splits[i+1]]``.
Every computation goes through ops on those component tensors, so gradients reach the
values through the tape and a ``dlframe.function`` replays with new row partitions.
"""

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core import static_dims as _static_dims
from dlframe.core.primitive import STATE, call
from dlframe.core.tensor import Tensor, _tracing_tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.errors import CompositeTensorError, InvalidArgumentError
from dlframe.ops import ragged_kernels as K
from dlframe.ops.array import concat, reshape
from dlframe.ops.array_index import gather
from dlframe.ops.array_meta import shape as _shape_of
from dlframe.ops.logic import cast
from dlframe.ops.math import subtract
from dlframe.ops.ragged_tensor_splits import (  # noqa: F401 - re-exported
    _prepend_zero,
    _splits_arg,
    _zero_splits,
    row_splits_to_segment_ids,
    segment_ids_to_row_splits,
)
from dlframe.ops.reduction import reduce_max


def _symbolic(*tensors):
    return any(isinstance(x, Tensor) and _tracing_tensor(x) for x in tensors)


def _flat(values):
    return values.flat_values if isinstance(values, RaggedTensor) else values


def _values_arg(values):
    if isinstance(values, (Tensor, RaggedTensor)):
        return values
    return convert_to_tensor(values)


def _nvals(values):
    return values.nrows_static() if isinstance(values, RaggedTensor) else \
        values._value.shape[0]


def _whole_rows(ragged, dense, ragged_rank):
    """Marks the ``ragged_rank`` levels of ``ragged`` (the whole rows of ``dense``)
    uniform with ``dense``'s static sizes, as TF: a dimension unknown while a
    function is traced stays unknown (the traced size holds for this call only)."""
    level = ragged
    for width in _static_dims.graph_dims(dense)[1:ragged_rank + 1]:
        level._uniform_row_length = width
        level = level.values
    return ragged


class RaggedTensor:
    """A tensor with one or more ragged (variable-length) dimensions.

    Build one with ``tf.ragged.constant`` or the ``from_*`` factories; the
    constructor itself is internal (as in TF).
    """

    _dlframe_composite = True
    _is_tensor_like = True   # tf.is_tensor

    def __init__(self, values, row_splits, internal=False):
        if not internal:
            raise ValueError("RaggedTensor constructor is private; please use one of "
                             "the factory methods instead (e.g., "
                             "RaggedTensor.from_row_lengths())")
        self._values = values
        self._row_splits = row_splits

    # -- factories --------------------------------------------------------------------
    @classmethod
    def _make(cls, values, row_splits, validate=True):
        values = _values_arg(values)
        if values.shape.rank == 0:
            raise ValueError("values must have rank >= 1, got a scalar")
        splits_dtype = (values.row_splits.dtype if isinstance(values, RaggedTensor)
                        else None)
        splits = _splits_arg(row_splits, "row_splits", splits_dtype, values)
        if validate and not _symbolic(splits):
            host = splits.numpy()
            if host.size == 0 or host[0] != 0:
                raise InvalidArgumentError(f"Arguments to from_row_splits do not form a "
                                           f"valid RaggedTensor: first element of "
                                           f"row_splits must be zero, got {host.tolist()}")
            if (host[1:] < host[:-1]).any():
                raise InvalidArgumentError("Arguments to from_row_splits do not form a "
                                           "valid RaggedTensor: row_splits must be "
                                           f"sorted in ascending order, got "
                                           f"{host.tolist()}")
            if host[-1] != _nvals(values):
                raise InvalidArgumentError(
                    "Arguments to from_row_splits do not form a valid RaggedTensor: "
                    f"last element of row_splits ({host[-1]}) must equal the number of "
                    f"values ({_nvals(values)})")
        return cls(values, splits, internal=True)

    @classmethod
    def from_row_splits(cls, values, row_splits, name=None, validate=True):
        """Row ``i`` is ``values[row_splits[i]:row_splits[i + 1]]``.

        Args:
          values: a Tensor (or RaggedTensor) whose first dimension holds the rows'
            items back to back.
          row_splits: int64/int32 vector starting at 0, ascending, ending at
            ``values.shape[0]``.
          validate: check the splits (eagerly).
        """
        return cls._make(values, row_splits, validate)

    @classmethod
    def from_row_lengths(cls, values, row_lengths, name=None, validate=True):
        """Rows of ``row_lengths[i]`` consecutive values."""
        values = _values_arg(values)
        lengths = _splits_arg(row_lengths, "row_lengths", like=values)
        return cls._make(values, _prepend_zero(lengths), validate)

    @classmethod
    def from_value_rowids(cls, values, value_rowids, nrows=None, name=None,
                          validate=True):
        """``values[j]`` belongs to row ``value_rowids[j]`` (sorted); ``nrows`` rows
        (default ``max(value_rowids) + 1``)."""
        ids = _splits_arg(value_rowids, "value_rowids")
        return cls._make(values, segment_ids_to_row_splits(ids, nrows, ids.dtype),
                         validate)

    @classmethod
    def from_row_starts(cls, values, row_starts, name=None, validate=True):
        """Row ``i`` starts at ``row_starts[i]`` and runs to the next start."""
        values = _values_arg(values)
        starts = _splits_arg(row_starts, "row_starts")
        end = convert_to_tensor(np.array([_nvals(values)],
                                         dtype=starts.dtype.as_numpy_dtype))
        return cls._make(values, concat([starts, end], 0), validate)

    @classmethod
    def from_row_limits(cls, values, row_limits, name=None, validate=True):
        """Row ``i`` ends at ``row_limits[i]`` and starts where the previous ended."""
        limits = _splits_arg(row_limits, "row_limits")
        zero = convert_to_tensor(np.zeros((1,), dtype=limits.dtype.as_numpy_dtype))
        return cls._make(values, concat([zero, limits], 0), validate)

    @classmethod
    def from_uniform_row_length(cls, values, uniform_row_length, nrows=None,
                                validate=True, name=None):
        """Rows of ``uniform_row_length`` values each."""
        values = _values_arg(values)
        width = int(uniform_row_length)
        n = _nvals(values) // width if nrows is None else int(nrows)
        out = cls._make(values, np.arange(n + 1, dtype=np.int64) * width, validate)
        out._uniform_row_length = width   # a static dimension of the shape, as in TF
        return out

    @classmethod
    def from_nested_row_splits(cls, flat_values, nested_row_splits, name=None,
                               validate=True):
        """Ragged dimensions from the outermost partition to the innermost."""
        if isinstance(nested_row_splits, Tensor):
            raise TypeError("nested_row_splits must be a list of Tensors")
        result = _values_arg(flat_values)
        for splits in reversed(list(nested_row_splits)):
            result = cls._make(result, splits, validate)
        return result

    @classmethod
    def from_nested_row_lengths(cls, flat_values, nested_row_lengths, name=None,
                                validate=True):
        """Like ``from_nested_row_splits`` with lengths."""
        result = _values_arg(flat_values)
        for lengths in reversed(list(nested_row_lengths)):
            result = cls.from_row_lengths(result, lengths, validate=validate)
        return result

    @classmethod
    def from_nested_value_rowids(cls, flat_values, nested_value_rowids,
                                 nested_nrows=None, name=None, validate=True):
        """Like ``from_nested_row_splits`` with row ids."""
        ids = list(nested_value_rowids)
        nrows = [None] * len(ids) if nested_nrows is None else list(nested_nrows)
        result = _values_arg(flat_values)
        for rowids, n in reversed(list(zip(ids, nrows))):
            result = cls.from_value_rowids(result, rowids, n, validate=validate)
        return result

    @classmethod
    def from_tensor(cls, tensor, lengths=None, padding=None, ragged_rank=1, name=None,
                    row_splits_dtype=dtypes.int64):
        """Rows of a dense tensor, cut to ``lengths`` or with trailing ``padding``
        removed (all of each row when neither is given).

        Args:
          tensor: a Tensor of rank >= ``ragged_rank + 1``.
          lengths: optional int vector of row lengths (``ragged_rank=1``).
          padding: optional padding value (scalar, or of shape ``tensor.shape[2:]``).
          ragged_rank: how many leading dimensions after the first become ragged.
        """
        x = tensor if isinstance(tensor, Tensor) else convert_to_tensor(tensor)
        ragged_rank = int(ragged_rank)
        if lengths is not None and padding is not None:
            raise ValueError("Specify argument `lengths` or `padding`, but not both.")
        if not 1 <= ragged_rank < x.ndim:
            raise ValueError(f"ragged_rank must be in [1, {x.ndim - 1}] for a tensor of "
                             f"rank {x.ndim}, got {ragged_rank}")
        split_dt = dtypes.as_dtype(row_splits_dtype)
        shape = list(x._value.shape)
        if ragged_rank > 1:
            if lengths is not None or padding is not None:
                raise NotImplementedError("from_tensor: lengths/padding with "
                                          "ragged_rank > 1 are not supported")
            inner = cls.from_tensor(reshape(x, [-1] + shape[2:]),
                                    ragged_rank=ragged_rank - 1,
                                    row_splits_dtype=split_dt)
            splits = np.arange(shape[0] + 1, dtype=split_dt.as_numpy_dtype) * shape[1]
            return _whole_rows(cls._make(inner, splits, validate=False), x, ragged_rank)
        if lengths is None and padding is None:
            flat = reshape(x, [-1] + shape[2:])
            splits = np.arange(shape[0] + 1, dtype=split_dt.as_numpy_dtype) * shape[1]
            return _whole_rows(cls._make(flat, splits, validate=False), x, 1)
        if padding is not None:
            pad = padding if isinstance(padding, Tensor) else \
                convert_to_tensor(padding, dtype=x.dtype)
            lens = call(K.padding_lengths_p, (x, pad))
        else:
            lens = _splits_arg(lengths, "lengths")
        splits = _prepend_zero(cast(lens, split_dt))
        return cls._make(call(K.from_dense_p, (x, splits)), splits, validate=False)

    # -- components -------------------------------------------------------------------
    @property
    def values(self):
        """The concatenated rows (a Tensor, or a RaggedTensor when nested)."""
        return self._values

    @property
    def row_splits(self):
        """Row ``i`` spans ``values[row_splits[i]:row_splits[i + 1]]``."""
        return self._row_splits

    @property
    def flat_values(self):
        """The innermost values: a dense Tensor."""
        v = self._values
        while isinstance(v, RaggedTensor):
            v = v._values
        return v

    @property
    def nested_row_splits(self):
        """The row_splits of every ragged dimension, outermost first."""
        out, v = [self._row_splits], self._values
        while isinstance(v, RaggedTensor):
            out.append(v._row_splits)
            v = v._values
        return tuple(out)

    @property
    def ragged_rank(self):
        """The number of ragged partitions (nesting depth)."""
        v = self._values
        return 1 + (v.ragged_rank if isinstance(v, RaggedTensor) else 0)

    @property
    def dtype(self):
        return self.flat_values.dtype

    @property
    def row_splits_dtype(self):
        return self._row_splits.dtype

    @property
    def shape(self):
        """TensorShape with ``None`` for the ragged dimensions."""
        inner = self._values.shape
        width = getattr(self, "_uniform_row_length", None)
        # traced: the rows as TF's graph knows them (None for a batch of None)
        splits = _static_dims.graph_dims(self._row_splits)[:1]
        rows = splits[0] - 1 if splits and splits[0] is not None else None
        return TensorShape([rows, width] + inner.as_list()[1:])

    def get_shape(self):
        return self.shape

    @property
    def uniform_row_length(self):
        """The length of every row as a scalar Tensor of ``row_splits_dtype`` when
        the rows were built uniform (``from_uniform_row_length``), else None."""
        width = getattr(self, "_uniform_row_length", None)
        if width is None:
            return None
        return convert_to_tensor(np.asarray(width, self.row_splits_dtype.as_numpy_dtype))

    @property
    def ndim(self):
        return self.shape.rank

    @property
    def device(self):
        return self.flat_values.device

    def nrows_static(self):
        return self._row_splits._value.shape[0] - 1

    def nrows(self, out_type=None, name=None):
        """The number of rows, a scalar (dtype of the splits or ``out_type``)."""
        dt = self._row_splits.dtype if out_type is None else dtypes.as_dtype(out_type)
        if STATE.trace is None:
            n = np.array(self.nrows_static(), dtype=dt.as_numpy_dtype)
            return convert_to_tensor(n)
        # traced: the splits' length, a value TF's graph does not know when the
        # input's row count is unknown (the static shapes of row reductions)
        return subtract(_shape_of(self._row_splits, out_type=dt)[0], 1)

    def row_starts(self, name=None):
        return self._row_splits[:-1]

    def row_limits(self, name=None):
        return self._row_splits[1:]

    def row_lengths(self, axis=1, name=None):
        """Row lengths along ragged ``axis`` (1: a vector; deeper: a RaggedTensor)."""
        axis = int(axis)
        if axis == 0:
            raise ValueError("axis=0 is not a ragged dimension; use nrows()")
        if axis == 1:
            return subtract(self._row_splits[1:], self._row_splits[:-1])
        if not isinstance(self._values, RaggedTensor):
            raise ValueError(f"axis={axis} is not a ragged dimension")  # noqa: TRY004
        return self.with_values(self._values.row_lengths(axis - 1))

    def nested_row_lengths(self, name=None):
        return tuple(subtract(s[1:], s[:-1]) for s in self.nested_row_splits)

    def value_rowids(self, name=None):
        """For each value, the index of its row."""
        return call(K.row_ids_p, (self._row_splits,))

    def nested_value_rowids(self, name=None):
        out, rt = [], self
        while isinstance(rt, RaggedTensor):
            out.append(rt.value_rowids())
            rt = rt._values
        return tuple(out)

    def bounding_shape(self, axis=None, name=None, out_type=None):
        """The shape of the smallest dense tensor holding this one (int64)."""
        dt = dtypes.as_dtype(out_type) if out_type is not None else \
            self._row_splits.dtype
        dims = [self.nrows(dt)]
        rt = self
        while isinstance(rt, RaggedTensor):
            lens = cast(rt.row_lengths(), dt)
            zero = convert_to_tensor(np.zeros((1,), dtype=dt.as_numpy_dtype))
            dims.append(reduce_max(concat([zero, lens], 0)))
            rt = rt._values
        for d in rt._value.shape[1:]:
            dims.append(convert_to_tensor(np.array(d, dtype=dt.as_numpy_dtype)))
        from dlframe.ops.array import stack
        out = stack(dims)
        return out if axis is None else out[axis]

    # -- rebuilding ----------------------------------------------------------------------
    def with_values(self, new_values):
        """This row partition over ``new_values`` (same number of rows)."""
        new_values = _values_arg(new_values)
        if not _symbolic(self._row_splits) and _nvals(new_values) != _nvals(self._values):
            raise ValueError(f"with_values: new values have {_nvals(new_values)} rows, "
                             f"expected {_nvals(self._values)}")
        return self._same_partition(RaggedTensor(new_values, self._row_splits,
                                                 internal=True))

    def _same_partition(self, out):
        """``out`` (built on this row partition) keeps a uniform row length."""
        width = getattr(self, "_uniform_row_length", None)
        if width is not None:
            out._uniform_row_length = width
        return out

    def with_flat_values(self, new_values):
        """These nested row partitions over new flat values."""
        if isinstance(self._values, RaggedTensor):
            return self.with_values(self._values.with_flat_values(new_values))
        return self.with_values(new_values)

    def with_row_splits_dtype(self, dtype):
        dt = dtypes.as_dtype(dtype)
        values = self._values
        if isinstance(values, RaggedTensor):
            values = values.with_row_splits_dtype(dt)
        return self._same_partition(RaggedTensor(
            values, cast(self._row_splits, dt) if self._row_splits.dtype != dt
            else self._row_splits, internal=True))

    def merge_dims(self, outer_axis, inner_axis):
        """Merges dimensions ``outer_axis..inner_axis`` (inclusive) into one."""
        rank = self.shape.rank
        a = int(outer_axis) + (rank if int(outer_axis) < 0 else 0)
        b = int(inner_axis) + (rank if int(inner_axis) < 0 else 0)
        if not 0 <= a <= b < rank:
            raise ValueError(f"Expected outer_axis ({outer_axis}) to be less than or "
                             f"equal to inner_axis ({inner_axis}), both within rank "
                             f"{rank}")
        if a == b:
            return self
        if a > 1:
            return self.with_values(_merge(self._values, a - 1, b - 1))
        if a == 0:
            return _merge(self._values, 0, b - 1)
        splits, values = self._row_splits, self._values
        for _ in range(b - 1):   # fold the partitions of dims 2..b into dim 1's
            if isinstance(values, RaggedTensor):
                splits, values = gather(values._row_splits, splits), values._values
            else:
                shape = list(values._value.shape)
                splits = splits * shape[1]
                values = reshape(values, [-1] + shape[2:])
        return RaggedTensor(values, splits, internal=True)

    # -- conversion -------------------------------------------------------------------
    def to_tensor(self, default_value=None, name=None, shape=None):
        """A dense Tensor, rows padded with ``default_value`` (zero / empty string).

        Args:
          default_value: the padding value (a scalar or of the inner values' shape).
          shape: optional output shape; ``None`` dims take the bounding size, given
            dims pad or truncate.
        """
        shape = None if shape is None else TensorShape(shape)
        want = None if shape is None or shape.rank is None else shape.as_list()
        if want is not None and len(want) != self.shape.rank:
            text = ",".join(str(-1 if d is None else d) for d in want)
            raise InvalidArgumentError(
                f"rt_input.shape and shape=[{text}] are incompatible: rt_input.rank = "
                f"{self.shape.rank} but shape.rank = {len(want)}")
        dense = _to_dense(self, default_value, want[1:] if want else None)
        rows = dense._value.shape[0]
        if want and want[0] is not None and want[0] != rows:
            if want[0] < rows:   # as TF: extra rows are cut, missing rows padded
                return dense[:want[0]]
            inner = list(dense._value.shape[1:])
            empty = reshape(dense[:0], [0] + inner[1:])
            filler = call(K.to_dense_p, (empty, _zero_splits(want[0] - rows),
                                         _default(dense.dtype, default_value)),
                          {"width": inner[0]})
            dense = concat([dense, filler], 0)
        return dense

    def to_list(self):
        """The rows as nested Python lists (bytes for strings)."""
        flat = self.flat_values.numpy().tolist()
        for splits in reversed(self.nested_row_splits):
            s = splits.numpy().tolist()
            flat = [flat[s[i]:s[i + 1]] for i in range(len(s) - 1)]
        return flat

    def numpy(self):
        """The rows as NumPy: an object array of row arrays, or (as TF) a regular
        array when every row has the same length."""
        values = self._values.numpy()
        s = self._row_splits.numpy().tolist()
        rows = [values[s[i]:s[i + 1]] for i in range(len(s) - 1)]
        if not rows:
            return np.zeros((0, 0) + values.shape[1:], dtype=values.dtype)
        if any(len(r) != len(rows[0]) for r in rows):
            out = np.empty(len(rows), dtype=object)
            out[:] = [None] * len(rows)
            for i, r in enumerate(rows):
                out[i] = r
            return out
        return np.array(rows)

    def _dlframe_tensor_(self, dtype=None):
        raise CompositeTensorError("a RaggedTensor cannot be converted to a dense Tensor "
                                   "implicitly")

    def __array__(self, dtype=None, copy=None):
        raise CompositeTensorError("a RaggedTensor cannot be converted to a NumPy array; "
                                   "use rt.numpy() or rt.to_tensor()")

    # -- composite protocol (function inputs/outputs, cond and while_loop) ---------------
    def _dlframe_flatten(self):
        return _RAGGED_STRUCTURE, [self._values, self._row_splits]

    def _type_spec(self):
        from dlframe.ops.ragged_spec import RaggedTensorSpec
        return RaggedTensorSpec.from_value(self)

    # -- indexing and iteration -----------------------------------------------------------
    def __getitem__(self, key):
        from dlframe.ops.ragged_getitem import ragged_getitem
        return ragged_getitem(self, key)

    def __iter__(self):
        return (self[i] for i in range(self.nrows_static()))

    def __bool__(self):
        raise TypeError("The truth value of a RaggedTensor is ambiguous")

    __hash__ = None

    # -- printing -----------------------------------------------------------------------
    def __repr__(self):
        if _symbolic(self.flat_values, *self.nested_row_splits):
            return (f"tf.RaggedTensor(values={self._values!r}, "
                    f"row_splits={self._row_splits!r})")
        return f"<tf.RaggedTensor {_format(self)}>"

    __str__ = __repr__


def _merge(values, a, b):
    """``values`` with dims a..b merged (values is a Tensor or RaggedTensor)."""
    if isinstance(values, RaggedTensor):
        return values.merge_dims(a, b)
    shape = list(values._value.shape)
    return reshape(values, shape[:a] + [-1] + shape[b + 1:])


def _to_dense(rt, default_value, inner_shape):
    """Pads ``rt`` (recursively, innermost first) into a dense Tensor."""
    values = rt._values
    width = inner_shape[0] if inner_shape else None
    rest = inner_shape[1:] if inner_shape else None
    if isinstance(values, RaggedTensor):
        values = _to_dense(values, default_value, rest)
    elif rest and any(d is not None and d != s for d, s in
                      zip(rest, values._value.shape[1:])):
        raise ValueError(f"to_tensor: shape {inner_shape} does not match the uniform "
                         f"inner dimensions {list(values._value.shape[1:])}")
    default = _default(values.dtype, default_value)
    return call(K.to_dense_p, (values, rt._row_splits, default), {"width": width})


def _default(dt, default_value):
    """The padding value of ``to_tensor`` as a Tensor of dtype ``dt``."""
    if default_value is None:
        return convert_to_tensor(np.array(b"" if dt == dtypes.string else 0,
                                          dtype=dt.as_numpy_dtype))
    return default_value if isinstance(default_value, Tensor) else \
        convert_to_tensor(default_value, dtype=dt)


def _format_item(x):
    """TF's printing of a RaggedTensor's ``numpy()`` (nested rows, wrapped lines)."""
    if isinstance(x, np.ndarray):
        if x.size:
            return np.array2string(x, separator=", ")
        return repr(x.tolist())
    return str(x)


def _format(rt):
    with np.printoptions(formatter={"all": _format_item}):
        return _format_item(rt.numpy())


class _RaggedStructure:
    """Static part of a RaggedTensor in a function/loop template (its parts are the
    values and the row_splits; shapes and dtypes are keyed separately)."""

    def __eq__(self, other):
        return isinstance(other, _RaggedStructure)

    def __hash__(self):
        return hash("RaggedTensor")

    def __repr__(self):
        return "RaggedTensor"

    @staticmethod
    def _dlframe_unflatten(parts):
        return RaggedTensor(parts[0], parts[1], internal=True)


_RAGGED_STRUCTURE = _RaggedStructure()


# Python operators (+, *, ==, ...) on RaggedTensor (after the class exists).
from dlframe.ops import ragged_elementwise  # noqa: F401
