"""Iterators over a Dataset: ``iter(ds)`` (``OwnedIterator``), ``as_numpy_iterator``
and the ``Optional`` that ``get_next_as_optional`` returns."""

from dlframe import backends
from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import STATE as _STATE
from dlframe.core.tensor import _tracing_tensor, convert_to_tensor
from dlframe.data import structure as S
from dlframe.data.legacy_structure import LegacyOutputsMixin
from dlframe.errors import InvalidArgumentError, OutOfRangeError


class OwnedIterator(LegacyOutputsMixin):
    """Iterator over a Dataset (``iter(ds)``); elements are Tensors on the device that
    was current when the iterator was made."""

    def __init__(self, dataset, device=None):
        self._dataset = dataset
        self._device = backends.get_device(device) if device else backends.current_device()
        from dlframe.data.iterator_state import PositionTrackingIterator

        device = self._device   # (not ``self``: no cycle keeps a dropped iterator open)

        def start():   # a restored iterator replays its pipeline from a fresh start
            return dataset._iter_output(device)
        self._it = PositionTrackingIterator(start, dataset)
        if _STATE.trace is not None:
            self._graph_open()

    def _graph_open(self):
        """``iter(dataset)`` inside a dlframe.function: an op that opens a fresh
        iterator each time the graph runs (TF's AnonymousIterator + MakeIterator),
        over the pipeline rebuilt from the run's values of the traced tensors it
        was made from (graph_inputs)."""
        from dlframe.data.graph_inputs import GraphArgs
        from dlframe.data.iterator_state import PositionTrackingIterator
        from dlframe.ops.py_func import py_function
        built = self._built = GraphArgs(self._dataset)

        def reopen(*values):
            if values:
                self._it = PositionTrackingIterator(
                    lambda: built.elements(values, self._device))
            else:
                dataset = self._dataset
                self._it = PositionTrackingIterator(
                    lambda: dataset._iter_output(self._device), dataset)
            return np.int64(0)
        py_function(reopen, built.tensors, Tout=dtypes.int64)

    @property
    def element_spec(self):
        return self._dataset.element_spec

    @property
    def variables(self):
        """The iterator's position, for ``tf.train.Checkpoint`` (iterator_state)."""
        return self._it.variables()

    def _checkpoint_children(self):
        """(edge, Variable) of the iterator's state under TF's checkpoint key
        ``<path>/.ATTRIBUTES/ITERATOR_STATE`` (iterator_state)."""
        return self._it.checkpoint_children()

    def __iter__(self):
        return self

    def _graph_iteration(self):
        """Op builders for ``for x in iterator`` in a dlframe.function (graph_loop)."""
        from dlframe.data.graph_loop import feed
        # the iterator as it is when the graph runs (a trace's iter() reopens it)
        return feed(lambda: self._it, self.element_spec, restart=True)

    def __next__(self):
        if _STATE.trace is not None:
            return self._graph_next()
        return next(self._it)

    def next(self):
        return self.__next__()

    def get_next(self):
        """The next element; ``OutOfRangeError`` at the end (as TF's ``get_next``)."""
        if _STATE.trace is not None:
            return self._graph_next()
        try:
            return next(self._it)
        except StopIteration:
            raise OutOfRangeError(None, None, "End of sequence") from None

    def _refuse_stale(self):
        """Raises where an element taken at trace time would stand for every run of
        a pipeline made from traced tensors (graph_inputs)."""
        built = getattr(self, "_built", None)
        if built is not None and built.tensors:
            from dlframe.data.graph_inputs import raise_unfed
            raise_unfed(built)

    def _graph_next(self):
        """``next(iterator)`` inside a dlframe.function: an op that pulls the next
        element each time the graph runs (TF's IteratorGetNext), not a constant."""
        from dlframe.core.tensor_spec import TensorSpec
        from dlframe.ops.py_func import py_function
        spec = self.element_spec
        leaves = S.flatten(spec)
        if not leaves or any(type(s) is not TensorSpec for s in leaves):
            self._refuse_stale()
            return next(self._it)   # ragged/sparse elements: taken once, at trace time

        def pull():
            try:
                element = next(self._it)
            except StopIteration:
                raise OutOfRangeError(None, None, "End of sequence") from None
            return S.flatten(element)
        flat = py_function(pull, [], Tout=[s.dtype for s in leaves])
        return S.pack_sequence_as(spec, flat)

    def get_next_as_optional(self):
        """The next element as an ``Optional``, empty at the end of the data.

        Inside a dlframe.function it is an op pulling an element each time the graph
        runs, its ``has_value()`` a bool Tensor (TF's IteratorGetNextAsOptional).
        """
        if _STATE.trace is not None:
            found = self._graph_next_as_optional()
            if found is not None:
                return found
            self._refuse_stale()
        try:
            return Optional(next(self._it), self._dataset.element_spec)
        except StopIteration:
            return Optional(None, self._dataset.element_spec, empty=True)

    def _graph_next_as_optional(self):
        """``get_next_as_optional`` as a graph op (None for ragged/sparse elements):
        at the end it yields ``has_value`` False and empty tensors of the spec."""
        from dlframe.ops.py_func import py_function
        spec = self.element_spec
        leaves = S.flatten(spec)
        if not leaves or _placeholder(spec) is None:
            return None

        def pull():
            try:
                return [True] + S.flatten(next(self._it))
            except StopIteration:   # placeholders of the spec, unknown dims empty
                return [False] + S.flatten(_placeholder(spec))
        flat = py_function(pull, [], Tout=[dtypes.bool] + [s.dtype for s in leaves])
        return Optional(S.pack_sequence_as(spec, flat[1:]), spec, has_value=flat[0])

    def close(self):
        """Stops background work of this iterator now (it also stops when collected)."""
        self._it.close()

    def __repr__(self):
        return f"<dlframe.data.Iterator over {self._dataset!r}>"


Iterator = OwnedIterator


class Optional:
    """A value that may be absent (``tf.experimental.Optional``).

    Make one with ``Optional.from_value(value)`` or ``Optional.empty(element_spec)``;
    ``Iterator.get_next_as_optional()`` returns one.
    """

    _dlframe_composite = True   # crosses tf.function / while_loop / map boundaries

    def __init__(self, value, element_spec=None, empty=False, has_value=None):
        self._value, self._empty, self._element_spec = value, empty, element_spec
        # a bool Tensor known only when a graph runs (get_next_as_optional traced)
        self._has_value = has_value

    @property
    def element_spec(self):
        """The nested TypeSpec of the value this optional may hold."""
        return self._element_spec

    @staticmethod
    def empty(element_spec):
        """An Optional with no value, of the type ``element_spec``."""
        return Optional(None, element_spec, empty=True)

    @staticmethod
    def from_value(value):
        """An Optional holding ``value`` (a nested structure of tensor-like values,
        converted to Tensors)."""
        from dlframe.data.type_specs import type_spec_from_value
        value = S.lists_to_tuples(value) if isinstance(value, list) else value
        value = S.map_structure(
            lambda v: v if getattr(v, "_dlframe_composite", False) or not _dense(v)
            else convert_to_tensor(v), value)
        return Optional(value, S.map_structure(type_spec_from_value, value))

    def has_value(self, name=None):
        """A scalar bool Tensor: whether this optional holds a value."""
        if self._has_value is not None:
            return self._has_value
        return convert_to_tensor(not self._empty)

    def get_value(self, name=None):
        """The value; ``InvalidArgumentError`` when the optional is empty."""
        if self._has_value is not None and _tracing_tensor(self._has_value):
            from dlframe.ops.debugging import Assert
            Assert(self._has_value, ["The given optional does not have a value."])
            return self._value
        if not self._holds():
            raise InvalidArgumentError(None, None,
                                       "The given optional does not have a value.")
        return self._value

    def _holds(self):
        """Whether this (concrete) optional holds a value."""
        if self._has_value is not None:   # a function's or loop's bool result
            return bool(self._has_value.numpy())
        return not self._empty

    def _type_spec(self):
        from dlframe.data.type_specs import OptionalSpec
        return OptionalSpec(self._element_spec)

    # -- composite protocol: its parts are ``has_value`` and the (nested) value ----
    def _dlframe_flatten(self):
        value = self._value
        if value is None:   # placeholders, so both kinds nest alike
            value = _placeholder(self._element_spec)
        return _OptionalStructure(self._element_spec), [self.has_value(), value]

    def _map_value(self, fn):
        """The same optional with ``fn`` applied to its value (pipeline moves)."""
        if self._value is None:
            return self
        return Optional(fn(self._value), self._element_spec, self._empty,
                        self._has_value)

    def __repr__(self):
        traced = self._has_value is not None and _tracing_tensor(self._has_value)
        known = "?" if traced else self._holds()
        return f"<Optional has_value={known} spec={self._element_spec!r}>"


class _OptionalStructure:
    """Static part of an Optional in a function or loop template: its element spec."""

    def __init__(self, element_spec):
        self.element_spec = element_spec

    def __eq__(self, other):
        return isinstance(other, _OptionalStructure) and \
            other.element_spec == self.element_spec

    def __hash__(self):
        return hash(("Optional", repr(self.element_spec)))

    def __repr__(self):
        return f"Optional({self.element_spec!r})"

    def _dlframe_unflatten(self, parts):
        return Optional(parts[1], self.element_spec, has_value=parts[0])


def _placeholder(element_spec):
    """Zeros standing for the value of an empty optional (None dims empty), or None
    where the spec holds other than dense tensors."""
    from dlframe.core.tensor_spec import TensorSpec
    from dlframe.ops.array import zeros
    leaves = S.flatten(element_spec)
    if any(type(s) is not TensorSpec or s.shape.rank is None for s in leaves):
        return None
    return S.pack_sequence_as(element_spec, [
        zeros([0 if d is None else d for d in s.shape.as_list()], s.dtype)
        for s in leaves])


def _dense(value):
    """Whether ``value`` is converted to a Tensor by ``Optional.from_value``."""
    from dlframe.data.dataset import Dataset
    from dlframe.io.sparse_tensor import SparseTensor
    return not isinstance(value, (SparseTensor, Dataset, Optional, OwnedIterator))


class NumpyIterator:
    """``Dataset.as_numpy_iterator()``: elements as NumPy values."""

    def __init__(self, dataset):
        from dlframe.data.dataset import _spec_is_cheap
        if _spec_is_cheap(dataset):   # (else the first element tells, see to_numpy)
            for spec in S.flatten(dataset.element_spec):
                S.refuse_numpy(getattr(spec, "value_type", None))
        self._it = dataset._iter()

    def __iter__(self):
        return self

    def _graph_iteration(self):
        """Op builders for ``for x in iterator`` in a dlframe.function (graph_loop)."""
        from dlframe.data.graph_loop import feed
        return feed(lambda: self._it, self.element_spec, restart=False)

    def __next__(self):
        return S.to_numpy_value(next(self._it))

    next = __next__
