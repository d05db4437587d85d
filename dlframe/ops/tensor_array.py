"""``tf.TensorArray``: a list of same-dtype tensors written and read by index.

Two representations, as in TensorFlow:

* Eagerly the array is a Python list of Tensors. ``write``/``unstack``/``scatter``
  change the array in place and return it (TF's eager semantics), elements may have
  different shapes when ``infer_shape=False``, and gradients flow through the
  ordinary ops (``stack``, ``unstack``...) that tapes record.
* Inside a ``dlframe.function`` the array is one immutable buffer tensor
  ``[size, *element_shape]`` and every write returns a new TensorArray (TF's graph
  semantics: ``ta = ta.write(i, x)``). The buffer is what a graph ``while_loop``
  carries, through the composite protocol of ``control_flow_branch``: an array not
  written yet (element shape unknown) is allocated at loop entry from one staged
  iteration of the body, a ``dynamic_size`` buffer may grow between iterations, and
  a buffer the body only writes into is replayed from its final value by the loop's
  gradient instead of being copied at every iteration. With ``infer_shape=False``
  and an element shape left unknown the buffer holds rows of their own shapes
  (``list_ops``: a ragged buffer), as TF's lists do.
"""

from dlframe.core import dtypes
from dlframe.core import static_dims as _static_dims
from dlframe.core.primitive import STATE
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.errors import InvalidArgumentError, OutOfRangeError
from dlframe.ops import array, list_ops
from dlframe.ops import math as _math
from dlframe.ops.creation import zeros


def _host_int(value, what):
    if isinstance(value, Tensor):
        if value._value.dtype.kind not in "iu":
            raise TypeError(f"TensorArray: {what} must be an integer, got {value.dtype.name}")
        return int(value)
    return int(value)


def _host_ints(values):
    if isinstance(values, Tensor):
        return [int(v) for v in values.numpy().reshape(-1)]
    return [int(v) for v in values]


def _static(value, skip=0):
    """The static shape of ``value`` past its first ``skip`` axes: inside a trace
    TF's graph shape (None where the signature leaves a size unknown), not the
    traced stand-in's sizes."""
    dims = _static_dims.graph_dims(value)
    if getattr(dims, "unknown_rank", False):
        return TensorShape(None)
    return TensorShape(list(dims)[skip:])


def _symbolic(x):
    trace = STATE.trace
    return isinstance(x, Tensor) and trace is not None and trace.is_symbolic(x)


class TensorArray:
    """Class wrapping dynamic-sized, per-time-step Tensor arrays.

    Args:
      dtype: the dtype of every element.
      size: number of elements (int or scalar int Tensor). Required.
      dynamic_size: whether writes past the end grow the array.
      clear_after_read: eagerly, whether an element is cleared once read (reading
        it again is an error). Default True.
      tensor_array_name, handle, flow, colocate_with_first_write_call, name:
        accepted for TF compatibility.
      infer_shape: whether the first write fixes the element shape (later writes
        must match it). With False and an element shape left unknown, the
        elements may differ in shape, inside a function too (``concat`` joins
        them; ``stack`` needs one shape).
      element_shape: the shape of each element, when known.
    """

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None,
                 tensor_array_name=None, handle=None, flow=None, infer_shape=True,
                 element_shape=None, colocate_with_first_write_call=True, name=None):
        if size is None:
            raise ValueError("Size must be declared for TensorArrays when eager "
                             "execution is enabled.")
        self._dtype = dtypes.as_dtype(dtype)
        self._dynamic_size = bool(dynamic_size)
        self._clear_after_read = True if clear_after_read is None else bool(
            clear_after_read)
        self._infer_shape = bool(infer_shape)
        self._element_shape = TensorShape(element_shape)
        self._graph = STATE.trace is not None
        if self._graph:
            self._buffer = None
            self._size = size if _symbolic(size) else _host_int(size, "size")
            # TF knows the stacked length only for a fixed size it can fold to a
            # constant (tensor_util.constant_value: not tf.shape(x)[0], not n + 1)
            self._rows_known = not self._dynamic_size and not _symbolic(size) and (
                not isinstance(size, Tensor) or _static_dims.static_value(
                    STATE.trace, size) is not None)
        else:
            self._elements = [None] * _host_int(size, "size")
            self._cleared = set()

    def _new(self, buffer, element_shape=None):
        """A graph TensorArray with these settings holding ``buffer``."""
        out = object.__new__(TensorArray)
        out._dtype, out._dynamic_size = self._dtype, self._dynamic_size
        out._clear_after_read, out._infer_shape = self._clear_after_read, self._infer_shape
        out._graph = True
        out._rows_known = self._rows_known
        out._buffer = buffer
        out._size = self._size if buffer is None else None
        out._element_shape = self._element_shape if element_shape is None \
            else element_shape
        return out

    # -- properties --------------------------------------------------------------
    @property
    def dtype(self):
        """The dtype of the elements."""
        return self._dtype

    @property
    def element_shape(self):
        """The TensorShape of the elements (unknown until known)."""
        return self._element_shape

    @property
    def dynamic_size(self):
        """Whether writes past the end grow the array."""
        return self._dynamic_size

    @property
    def handle(self):
        return None

    @property
    def flow(self):
        if self._graph and self._buffer is not None:
            return self._buffer
        return convert_to_tensor(0, dtype=dtypes.int32)

    # -- shared checks -----------------------------------------------------------
    def _value(self, value):
        if isinstance(value, Tensor) and value._value.dtype != self._dtype._np:
            raise InvalidArgumentError(f"TensorArray dtype is {self._dtype.name} but Op is "
                                       f"trying to write dtype {value.dtype.name} ")
        return convert_to_tensor(value, dtype=self._dtype)

    def _merge_shape(self, shape):
        """Checks ``shape`` against the element shape; returns the merged shape."""
        shape = TensorShape(shape)
        if not self._element_shape.is_compatible_with(shape):
            raise ValueError(f"Incompatible shape for value ({_dims(shape)}), expected "
                             f"({_dims(self._element_shape)})")
        return self._element_shape.merge_with(shape) if self._infer_shape \
            else self._element_shape

    def _zero_element(self):
        if not self._element_shape.is_fully_defined():
            raise ValueError(f"TensorArray has unwritten elements whose shape is "
                             f"unknown (element_shape {self._element_shape}): write them "
                             "first or pass element_shape. Cannot convert a partially "
                             f"known TensorShape {self._element_shape} to a Tensor.")
        return zeros(self._element_shape.as_list(), self._dtype)

    def _empty(self):
        """A 0-element result: [0, *element_shape] when the element shape is known."""
        shape = self._element_shape
        return zeros([0] + (shape.as_list() if shape.is_fully_defined() else []),
                     self._dtype)

    # -- writing -----------------------------------------------------------------
    def write(self, index, value, name=None):
        """Writes ``value`` at ``index``; returns the (new, in graphs) TensorArray."""
        value = self._value(value)
        if self._graph:
            shape = self._merge_shape(_static(value))
            return self._graph_write(index, value, shape)
        i = _host_int(index, "index")
        if i < 0:
            raise OutOfRangeError(f"Writing to negative indices (index {i}) is not "
                                  "allowed.")
        if i >= len(self._elements):
            if not self._dynamic_size:
                raise OutOfRangeError(f"Tried to write to index {i} but array is not "
                                      f"resizeable and size is: {len(self._elements)}")
            self._elements.extend([None] * (i + 1 - len(self._elements)))
        self._element_shape = self._merge_shape(value.shape)
        self._elements[i] = value
        return self

    def _graph_write(self, index, value, shape, rows=None):
        """Graph write of ``value`` at rows ``index`` (``rows``: vector of indices);
        the buffer's element shape was checked statically (``_merge_shape``), the
        sizes TF leaves unknown are checked by the write when the graph runs."""
        buffer = self._buffer
        if buffer is None:   # (an unknown rank: the traced rank, every size unknown)
            rank = value._value.ndim - (1 if rows else 0)
            buffer = self._allocate(shape.as_list() if shape.rank == rank
                                    else [None] * rank)
        index = convert_to_tensor(index, dtype=dtypes.int32) if not isinstance(
            index, Tensor) else index
        return self._new(list_ops.write_rows(buffer, index, value, self._dynamic_size),
                         shape)

    def _allocate(self, element):
        # an unknown size is allocated empty (0): the first write, when the graph
        # runs, gives the buffer its element shape (list_ops.write_rows)
        size = self._size
        if self._ragged_rows(element):
            return list_ops.reserve_ragged(size if isinstance(size, Tensor) else
                                           convert_to_tensor(size, dtype=dtypes.int32))
        element = [0 if d is None else d for d in element or ()]
        if isinstance(size, Tensor):
            return list_ops.reserve(_math.cast(size, dtypes.int32), element, self._dtype)
        return zeros([size] + list(element), self._dtype)

    def _ragged_rows(self, element):
        """Whether a buffer for elements of static shape ``element`` (a list, None:
        unknown rank) holds them row by row: elements of different shapes, as TF
        allows when ``infer_shape=False`` leaves the element shape unknown."""
        # (infer_shape=True keeps one dense buffer, fast on a GPU: elements of
        # different shapes are then a run-time error naming infer_shape=False)
        return not self._infer_shape and (element is None or None in element)

    def _note_ragged(self, out, shift):
        """``out`` (elements read, stacked when ``shift`` is 1) with the sizes an
        element shape leaves unknown marked so in the trace (TF's static shape)."""
        element = self._element_shape
        if element.rank is None or not element.is_fully_defined():
            return _static_dims.note_unknown_axes(out, _unknown_axes(element, shift))
        return out

    def unstack(self, value, name=None):
        """Splits ``value`` along its first axis into the elements of the array."""
        value = self._value(value)
        if value._value.ndim == 0:
            raise ValueError("TensorArray.unstack: value must have rank >= 1, got a scalar")
        n = value._value.shape[0]
        size = None if self._graph and self._buffer is None and isinstance(
            self._size, Tensor) else self._static_size()
        if not self._dynamic_size and size is not None and n > size:
            raise ValueError(f"Cannot unstack {n} tensors into a TensorArray of static "
                             f"size {size} ")
        shape = self._merge_shape(_static(value, 1) if self._graph else value.shape[1:])
        if self._graph:
            return self._new(value, shape)
        self._element_shape = shape
        self._elements = list(array.unstack(value)) if n else []
        return self

    def _static_size(self):
        if not self._graph:
            return len(self._elements)
        if self._buffer is None:
            return None if isinstance(self._size, Tensor) else self._size
        return self._buffer._value.shape[0]

    def scatter(self, indices, value, name=None):
        """Writes the rows of ``value`` at ``indices``."""
        value = self._value(value)
        if self._graph:
            shape = self._merge_shape(_static(value, 1))
            idx = indices if isinstance(indices, Tensor) else convert_to_tensor(
                indices, dtype=dtypes.int32)
            return self._graph_write(idx, value, shape, rows=True)
        rows = array.unstack(value) if value._value.shape[0] else []
        for i, row in zip(_host_ints(indices), rows):
            self.write(i, row)
        return self

    def split(self, value, lengths, name=None):
        """Splits ``value`` along its first axis into pieces of ``lengths`` rows."""
        value = self._value(value)
        if self._graph:
            return self._graph_split(value, lengths)
        lengths = _host_ints(lengths)
        size = self._static_size()
        if not self._dynamic_size and size is not None and len(lengths) != size:
            raise InvalidArgumentError(
                f"TensorArray's size is not equal to the size of lengths ({size} vs. "
                f"{len(lengths)}), and the TensorArray is not marked as dynamically "
                "resizeable.")
        ragged = len(set(lengths)) > 1
        rows = None if ragged or not lengths else lengths[0]
        shape = self._merge_shape([rows] + value.shape.as_list()[1:])
        self._element_shape = shape
        self._elements = list(array.split(value, lengths)) if lengths else []
        return self

    def _graph_split(self, value, lengths):
        """Graph ``split``: the pieces' lengths are read when the graph runs (TF
        knows them statically only from a constant)."""
        known = None if _symbolic(lengths) else _host_ints(lengths)
        count = len(known) if known is not None else _static_dims.graph_dims(
            convert_to_tensor(lengths))[0]
        size = self._static_size()
        if not self._dynamic_size and None not in (size, count) and count != size:
            raise InvalidArgumentError(
                f"TensorArray's size is not equal to the size of lengths ({size} vs. "
                f"{count}), and the TensorArray is not marked as dynamically "
                "resizeable.")
        rows = known[0] if known and len(set(known)) == 1 else None
        shape = self._merge_shape([rows] + _static(value).as_list()[1:])
        ragged = self._ragged_rows(shape.as_list() if shape.rank is not None else None)
        if known is not None and rows is None and known and not ragged:
            raise ValueError(f"TensorArray.split: pieces of lengths {known} into a "
                             f"TensorArray of element shape {shape} (infer_shape=True)"
                             ": pass infer_shape=False for pieces of different sizes")
        lengths = convert_to_tensor(lengths, dtype=dtypes.int32) if not isinstance(
            lengths, Tensor) else _math.cast(lengths, dtypes.int32)
        return self._new(list_ops.split_rows(value, lengths, ragged), shape)

    # -- reading -----------------------------------------------------------------
    def read(self, index, name=None):
        """The element at ``index``."""
        if self._graph:
            out = list_ops.read_rows(self._graph_buffer(), convert_to_tensor(
                index, dtype=dtypes.int32) if not isinstance(index, Tensor) else index)
            return self._note_ragged(out, 0)
        return self._read(_host_int(index, "index"))

    def _read(self, i):
        n = len(self._elements)
        if i < 0:
            raise OutOfRangeError(f"Reading from negative indices (index {i}) is not "
                                  "allowed.")
        if i >= n:
            raise OutOfRangeError(f"Tried to read from index {i} but array size is: {n}")
        value = self._elements[i]
        if value is None:
            if i in self._cleared:
                raise InvalidArgumentError(
                    f"Could not read index {i} twice because it was cleared after a "
                    "previous read (perhaps try setting clear_after_read = false?)")
            value = self._zero_element()
        if self._clear_after_read:
            self._elements[i] = None
            self._cleared.add(i)
        return value

    def _graph_buffer(self):
        if self._buffer is not None:
            return self._buffer
        if self._element_shape.is_fully_defined():
            return self._allocate(self._element_shape.as_list())
        if not isinstance(self._size, Tensor) and self._size == 0:
            return zeros([0], self._dtype)
        raise InvalidArgumentError(
            "Tried to stack list which only contains uninitialized tensors and has a "
            f"non-fully-defined element_shape: {self._element_shape}")

    def _filled(self, indices):
        out = []
        for i in indices:
            value = self._elements[i]
            out.append(value if value is not None else self._zero_element())
        return out

    def stack(self, name=None):
        """All elements stacked along a new first axis: ``[size, *element_shape]``."""
        if self._graph:
            buffer = self._graph_buffer()
            element = self._element_shape
            if not element.is_fully_defined():
                # a ragged buffer, or a dense one turned ragged by elements of
                # different shapes (list_ops.write_rows_p)
                out = list_ops.stack_rows(buffer, self._dtype, _tf_text(element))
                return _static_dims.note_unknown_axes(out, _unknown_axes(element, 1) | (
                    set() if self._rows_known else {0}))
            if self._rows_known:
                return buffer
            # the graph's static shape has an unknown length ([None, *element])
            return _static_dims.note_unknown_axes(array.identity(buffer), {0})
        if not self._elements:
            return self._empty()
        return array.stack(self._filled(range(len(self._elements))))

    def gather(self, indices, name=None):
        """The elements at ``indices`` stacked along a new first axis."""
        if self._graph:
            idx = indices if isinstance(indices, Tensor) else convert_to_tensor(
                indices, dtype=dtypes.int32)
            return self._note_ragged(list_ops.read_rows(self._graph_buffer(), idx), 1)
        idx = _host_ints(indices)
        n = len(self._elements)
        for i in idx:
            if not 0 <= i < n:
                raise OutOfRangeError(f"Tried to gather index {i} but array size is: {n}")
        return array.stack(self._filled(idx)) if idx else self._empty()

    def concat(self, name=None):
        """All elements concatenated along their first axis."""
        if self._graph:
            element = self._element_shape
            if element.rank == 0:
                raise InvalidArgumentError("Concat saw a scalar shape at index 0 but "
                                           "requires at least vectors.")
            out = list_ops.concat_rows(self._graph_buffer(), self._dtype)
            # TF's static shape: [None, *element[1:]]
            return _static_dims.note_unknown_axes(out, _unknown_axes(element, 0) | {0})
        if not self._elements:
            shape = self._element_shape
            return zeros([0] + (shape.as_list()[1:] if shape.is_fully_defined() else []),
                         self._dtype)
        values = self._filled(range(len(self._elements)))
        for i, v in enumerate(values):
            if v._value.ndim == 0:
                raise InvalidArgumentError(f"Concat saw a scalar shape at index {i} but "
                                           "requires at least vectors.")
        return array.concat(values, 0)

    def size(self, name=None):
        """The number of elements as an int32 scalar."""
        if not self._graph:
            return convert_to_tensor(len(self._elements), dtype=dtypes.int32)
        if self._buffer is not None:
            return list_ops.length(self._buffer)
        if isinstance(self._size, Tensor):
            return _math.cast(self._size, dtypes.int32)
        return convert_to_tensor(self._size, dtype=dtypes.int32)

    def identity(self):
        """The same array (TF's control-dependency anchor; nothing to order here)."""
        return self._new(self._buffer) if self._graph else self

    def close(self, name=None):
        """Closes the array (nothing to release)."""
        return

    def mark_used(self):
        """Kept for TF compatibility."""

    # -- composite protocol (control_flow_branch._flat) -----------------------------
    def _dlframe_flatten(self):
        if not self._graph:
            return _ListSpec(self), list(self._elements)
        if self._buffer is None:
            return _GraphSpec(self, lazy=True), []
        return _GraphSpec(self), [self._buffer]

    @property
    def _dlframe_lazy(self):
        return self._graph and self._buffer is None

    def _dlframe_settle(self, staged):
        """This unwritten array allocated with the element shape of ``staged`` (the
        array as one iteration of a loop body leaves it)."""
        if not isinstance(staged, TensorArray) or not staged._graph or \
                staged._buffer is None:
            return self
        element = staged._element_shape
        dims = element.as_list() if element.rank is not None else None \
            if self._ragged_rows(None) else [None] * (staged._buffer._value.ndim - 1)
        return self._new(self._allocate(dims), element)


def _unknown_axes(element, shift):
    """The axes of a stacked (``shift`` 1) or concatenated (0) result that an
    element shape leaves unknown (its rank too: ``static_dims.RANK``)."""
    if element.rank is None:
        return {_static_dims.RANK}
    return {a + shift for a, d in enumerate(element.as_list()) if d is None}


def _tf_text(shape):
    """TF's text of a partly known shape: ``[?,3]``, ``<unknown>``."""
    if shape.rank is None:
        return "<unknown>"
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


def _dims(shape):
    return tuple(shape.as_list()) if shape.rank is not None else "unknown"


class _GraphSpec:
    """Static part of a graph TensorArray (a loop/branch template entry)."""

    def __init__(self, ta, lazy=False):
        self.ta = ta
        self.lazy = lazy
        # a dynamic array's buffer may grow; one allocated before its elements'
        # unknown sizes were seen gets them at its first write
        self.relaxed = (ta._dynamic_size or not ta._element_shape.is_fully_defined(),)
        size = ta._size if lazy else None
        self.key = (ta._dtype, ta._dynamic_size, ta._clear_after_read, ta._infer_shape,
                    lazy, ta._element_shape if lazy else None,
                    id(size) if isinstance(size, Tensor) else size)

    def __eq__(self, other):
        return isinstance(other, _GraphSpec) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def _dlframe_unflatten(self, parts):
        return self.ta._new(parts[0] if parts else None)


class _ListSpec:
    """Static part of an eager TensorArray; the elements are its parts."""

    def __init__(self, ta):
        self.ta = ta

    def __eq__(self, other):
        return isinstance(other, _ListSpec) and other.ta is self.ta

    def __hash__(self):
        return id(self.ta)

    def _dlframe_unflatten(self, parts):
        ta = self.ta
        if len(parts) == len(ta._elements) and all(
                a is b for a, b in zip(parts, ta._elements)):
            return ta
        out = object.__new__(TensorArray)
        out.__dict__.update(ta.__dict__)
        out._elements = list(parts)
        out._cleared = set(ta._cleared)
        return out


__all__ = ["TensorArray"]
