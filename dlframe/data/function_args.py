"""Datasets and iterators passed as arguments of a ``dlframe.function``.

TF passes a dataset to a ``tf.function`` as a tensor of its ``DatasetSpec``: the
function is traced once per element structure and each call's graph reads the
dataset it was given. dlframe's pipelines live on the host, so a dataset argument
is replaced by a ``_VariantDataset`` kept per argument position and element spec:
the trace is made with it (the pipelines built from it in the function hold it as
their input) and every call binds it to the dataset that call gives, before the
graph runs. Calls with new dataset objects of a known element spec replay a trace.
An iterator argument (TF's ``IteratorSpec``) is kept the same way in an
``IteratorArgument``, whose ops pull from the iterator a call gives. A dataset or
iterator whose elements are not all dense tensors (ragged, sparse) stays itself:
a graph loop cannot pull those at each run, so each one is traced anew.
"""

import weakref

from dlframe.backends.base import np
from dlframe.core import dtypes as _dt
from dlframe.core import function as _function
from dlframe.core.primitive import STATE
from dlframe.data import structure as S
from dlframe.data.dataset import Dataset
from dlframe.data.iterators import OwnedIterator
from dlframe.data.structure import DatasetSpec


class _VariantDataset(Dataset):
    """A dataset argument of a traced function (TF's name for a dataset given as a
    tensor): it reads the dataset bound last.

    In a trace it is built from a scalar op giving, at each run, the dataset the
    call bound (``_built_from``), so the pipelines the function builds on it are
    made again from each call's dataset (graph_inputs), as TF runs its dataset ops
    at each call: a ``cache()``, ``get_single_element()`` or ``cardinality()`` of
    such a pipeline reads the call's dataset, not the first call's."""

    def __init__(self, spec, tokens=None, origin=None):   # noqa: D107
        self._spec = spec
        self._current = None
        self._tokens = []   # the binding op of each trace that read it
        self._built = (spec, self._tokens, self), {}
        self._rebuilt = origin is not None
        if self._rebuilt:   # a run's rebuild: the entry that run's value replaced
            fed = [t for t, o in zip(tokens, origin._tokens) if t is not o]
            self._current = _BOUND[int(fed[0].numpy())]

    @property
    def _inputs(self):   # none before a call binds one (get_concrete_function)
        return (self._current,) if self._current is not None else ()

    @property
    def _built_from(self):
        """How graph_inputs rebuilds it at each run: from the binding op of the
        trace; None where its elements are not all dense tensors (a graph loop
        cannot pull those: the stand-in reads the bound dataset)."""
        if self._rebuilt or not _dense(self._spec):
            return None
        trace = STATE.trace
        if trace is not None and self._current is not None and not any(
                trace.is_symbolic(t) for t in self._tokens):
            from dlframe.ops.py_func import py_function
            token = py_function(lambda: np.int64(id(self._current)), [],
                                Tout=_dt.int64)
            token.set_shape([])
            self._tokens.append(token)
        return self._built if self._tokens else None

    @_built_from.setter
    def _built_from(self, value):   # Dataset.__new__'s note: the property decides
        pass

    def bind(self, dataset):
        _BOUND[id(dataset)] = dataset
        self._current = dataset
        return self

    def _iter(self):
        return self._current._iter()

    def _sample_iter(self):
        return self._current._sample_iter()

    def _compute_spec(self):
        return self._current.element_spec

    def _cardinality(self):
        return self._current._cardinality()

    def _signature_spec(self):
        """How a concrete function's signature shows it (TF's DatasetSpec)."""
        return DatasetSpec(self.element_spec)

    def cardinality(self):
        """As ``Dataset.cardinality``; in a trace, an op reading the bound dataset's
        at each run."""
        if STATE.trace is None:
            return super().cardinality()
        from dlframe.ops.py_func import py_function
        n = py_function(lambda: np.int64(self._cardinality()), [], Tout=_dt.int64)
        n.set_shape([])
        return n


# the datasets bound to dataset arguments, by id (a run's binding op gives the id)
_BOUND = weakref.WeakValueDictionary()


class IteratorArgument(OwnedIterator):
    """An iterator argument of a traced function: it reads the iterator bound last
    (its position moves on with the run's pulls)."""

    def __init__(self):   # noqa: D107 - all state is the bound iterator's
        self._current = None

    def bind(self, iterator):
        self._current = iterator
        return self

    _dataset = property(lambda self: self._current._dataset)
    _device = property(lambda self: self._current._device)
    _it = property(lambda self: self._current._it,
                   lambda self, value: setattr(self._current, "_it", value))

    def __repr__(self):
        return repr(self._current)


def _dense(spec):
    """Whether every leaf of an element spec is a dense tensor (a graph loop pulls
    only those at each run)."""
    return all(type(s) is S.TensorSpec for s in S.flatten(spec))


def _spec_key(spec):
    """What a dataset argument is traced on (TF's DatasetSpec): its element spec."""
    return type(spec), repr(spec)


def _slot(slots, key, make):
    slot = slots.get(key)
    if slot is None:
        slot = slots[key] = make()
    return slot


def bind_datasets(slots, args, kwargs):
    """``(args, kwargs)`` with every Dataset and iterator (nested in lists, tuples
    and dicts) put in its slot of ``slots`` (``{(path, kind, spec key): argument}``)
    bound to it; a DatasetSpec (``get_concrete_function``) gives its dataset slot.
    The same objects where there are none."""
    def walk(value, path):
        if isinstance(value, (Dataset, DatasetSpec)):
            if isinstance(value, _VariantDataset):
                return value
            spec = value.element_spec
            if isinstance(value, Dataset) and not _dense(spec):
                return value   # a graph loop cannot pull its elements: traced per dataset
            slot = _slot(slots, (path, "dataset", _spec_key(spec)),
                         lambda: _VariantDataset(spec))
            if isinstance(value, Dataset):
                return slot.bind(value)
            if slot._current is None:   # traced on one element of zeros
                slot.bind(_placeholder(spec))
            return slot
        if isinstance(value, OwnedIterator) and not isinstance(value, IteratorArgument):
            if not _dense(value.element_spec):
                return value   # its pulls are not ops of the trace: traced per iterator
            return _slot(slots, (path, "iterator", _spec_key(value.element_spec)),
                         IteratorArgument).bind(value)
        if isinstance(value, dict):
            new = {k: walk(v, path + (k,)) for k, v in value.items()}
            if all(new[k] is value[k] for k in value):
                return value
            return _rebuilt_mapping(value, new)
        if isinstance(value, (list, tuple)):
            items = [walk(v, path + (i,)) for i, v in enumerate(value)]
            if all(a is b for a, b in zip(items, value)):
                return value
            if isinstance(value, tuple) and hasattr(value, "_fields"):
                return type(value)(*items)
            return type(value)(items)
        return value
    new_args = walk(tuple(args), ("args",))
    new_kwargs = walk(kwargs, ("kwargs",)) if kwargs else kwargs
    return new_args, new_kwargs


def _placeholder(spec):
    """A dataset of one element of zeros of ``spec`` (None dims: 1)."""
    from dlframe.core.function_keys import _spec_to_tensor
    return Dataset.from_tensors(S.map_structure(_spec_to_tensor, spec))


def _rebuilt_mapping(value, new):
    """``new`` as a mapping of ``value``'s type where that type takes a dict."""
    try:
        return type(value)(new)
    except TypeError:
        return new


_function.ARGUMENT_BINDER = bind_datasets
