"""Data handling for ``fit``/``evaluate``/``predict``: arrays, Tensors, nested
lists/dicts of them, ``dlframe.data.Dataset``-like objects, Python generators and
``keras.utils.Sequence``-like objects, each yielding ``(x, y, sample_weight)`` batches.
"""

import itertools
import math
import random
import warnings

from dlframe.backends.base import np  # host-side shuffle order of in-memory arrays
from dlframe.core import dtypes
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.io.sparse_tensor import SparseTensor
from dlframe.keras import default_seeds
from dlframe.keras.utils import py_dataset, tree
from dlframe.ops import array as _array
from dlframe.ops import math as _m
from dlframe.ops import random_kernels as _random_kernels
from dlframe.ops import sparse_rows as _sparse_rows
from dlframe.ops.array_index import gather as _gather
from dlframe.ops.ragged_getitem import gather_rows as _gather_ragged_rows
from dlframe.ops.ragged_tensor import RaggedTensor


def is_dataset(x):
    return hasattr(x, "__iter__") and hasattr(x, "cardinality") and not _is_array(x)


def is_generator(x):
    return hasattr(x, "__next__") and not _is_array(x)


def is_sequence(x):
    """A ``keras.utils.PyDataset``/``Sequence`` or a duck-typed Keras 2 sequence."""
    return isinstance(x, py_dataset.PyDataset) or (
        hasattr(x, "__getitem__") and hasattr(x, "__len__") and not _is_array(x) and
        not isinstance(x, (list, tuple, dict, str)) and hasattr(x, "on_epoch_end"))


def _is_array(x):
    return isinstance(x, Tensor) or (hasattr(x, "shape") and hasattr(x, "dtype"))


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` from a batch: ``x``, ``(x,)``, ``(x, y)`` or
    ``(x, y, sample_weight)``."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple) or getattr(type(data), "_dlframe_nest_leaf", False):
        return data, None, None   # (a PerReplica is one value, not (x, y))
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
                     f"`(x, y, sample_weight)`, found: {data}")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The batch a step receives: ``x`` alone (unless it is a list/tuple, then
    ``(x,)``), ``(x, y)`` or ``(x, y, sample_weight)``, as in Keras."""
    if y is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def to_tensor(value, arg):
    """A Tensor from an array-like, with errors naming the argument."""
    if value is None or isinstance(value, (Tensor, SparseTensor)):
        return value   # a SparseTensor is batched by rows (_rows)
    if getattr(type(value), "_dlframe_nest_leaf", False):  # tf.distribute PerReplica
        return type(value)([to_tensor(v, arg) for v in value])
    if isinstance(value, RaggedTensor):   # batched by rows too; floats fed as floatx
        if value.dtype == dtypes.float64:
            return value.with_flat_values(_m.cast(value.flat_values, dtypes.float32))
        return value
    if hasattr(value, "to_numpy") and not hasattr(value, "flat"):
        value = value.to_numpy()   # a pandas Series/DataFrame (pandas string columns)
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    sample = value.flat[0] if kind is not None and hasattr(value, "flat") and value.size \
        else None
    if kind in ("U", "S") or (kind == "O" and isinstance(sample, (str, bytes))):
        pass  # text for models whose inputs are strings (e.g. TextVectorization first)
    elif kind is not None and kind not in "biuf":
        raise ValueError(
            f"Invalid dtype for argument `{arg}`: expected numeric data, received an array "
            f"of dtype {value.dtype} (first value: {sample!r}). Convert it to numbers "
            "(e.g. with `.astype('float32')`) before calling fit/evaluate/predict.")
    try:
        t = convert_to_tensor(value)
    except Exception as exc:  # noqa: BLE001 - re-raised with the argument's name
        hint = (". Sequences of different lengths need padding "
                "(`keras.utils.pad_sequences`) or `tf.ragged.constant`"
                if "non-rectangular" in str(exc) else "")
        raise ValueError(f"Failed to convert argument `{arg}` to a tensor: received "
                         f"{type(value).__name__} {_short(value)} ({exc}){hint}") from None
    if t.dtype == dtypes.string:
        return t  # checked against the model's input dtypes on the first batch
    if not (t.dtype.is_floating or t.dtype.is_integer or t.dtype.is_bool):
        raise ValueError(f"Invalid dtype for argument `{arg}`: expected numeric data, "
                         f"received {t.dtype.name} values {_short(value)}")
    if t.dtype == dtypes.float64:
        t = _m.cast(t, dtypes.float32)  # Keras feeds floatx
    return t


def _short(value):
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."


def _is_list_of_scalars(value):
    """Keras 2 reads a (nested) Python list of numbers as one array, not as a list
    of inputs: ``predict([[1, 2], [3, 4]])`` is a batch of two samples."""
    while isinstance(value, (list, tuple)) and value:
        value = value[0]
    return isinstance(value, (bool, int, float, complex, str, bytes))


def _convert_structure(value, arg):
    if isinstance(value, (list, tuple)) and _is_list_of_scalars(value):
        return to_tensor(value, arg)   # a ragged list fails here, naming `arg`
    return tree.map_structure(lambda v: to_tensor(v, arg), value)


def _first_dim(t):
    if isinstance(t, SparseTensor):
        return int(t.dense_shape.numpy()[0])
    if isinstance(t, RaggedTensor):
        return t.nrows_static()
    shape = t._value.shape
    if not shape:
        raise ValueError(f"Expected arrays with a batch dimension, received a scalar {t}")
    return int(shape[0])


def check_cardinality(x, y, sample_weight):
    sizes = {}
    for name, value in (("x", x), ("y", y), ("sample_weight", sample_weight)):
        if value is None:
            continue
        # None leaves are the values of Input(optional=True)
        sizes[name] = [_first_dim(t) for t in tree.flatten(value) if t is not None]
    all_sizes = {s for v in sizes.values() for s in v}
    if len(all_sizes) > 1:
        lines = "\n".join(f"  {k} sizes: {', '.join(str(s) for s in v)}"
                          for k, v in sizes.items())
        raise ValueError(f"Data cardinality is ambiguous:\n{lines}\nMake sure all arrays "
                         "contain the same number of samples.")
    return all_sizes.pop() if all_sizes else 0


def _take(t, idx):
    if t is None:   # an Input(optional=True) left out
        return None
    if isinstance(t, SparseTensor):
        return _sparse_rows.take_rows(t, idx)
    if isinstance(t, RaggedTensor):
        return _gather_ragged_rows(t, idx)
    return _gather(t, idx, axis=0)


def _device_of(t):
    if isinstance(t, SparseTensor):
        return t.values._device
    if isinstance(t, RaggedTensor):
        return t.flat_values._device
    return t._device


def _rows(t, sl):
    """``t[sl]`` for a slice of rows (SparseTensors have no ``[]``; a RaggedTensor
    slices its rows)."""
    if t is None:   # an Input(optional=True) left out
        return None
    if isinstance(t, SparseTensor):
        return _sparse_rows.slice_rows(t, sl.start, sl.stop)
    return t[sl]


def check_batch_size(batch_size, arg="batch_size"):
    """``batch_size`` as an int (None and 0 mean 32, as in Keras 3); a float or
    string is a TypeError, a negative count a ValueError (as TF 2.21 refuses them)."""
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not hasattr(batch_size, "__index__"):
        raise TypeError(f"Argument `{arg}` must be an integer number of samples per "
                        f"batch, received: {arg}={batch_size!r} "
                        f"(of type {type(batch_size).__name__})")
    value = int(batch_size)
    if value < 0:
        raise ValueError(f"Argument `{arg}` must be a positive integer, received: "
                         f"{arg}={value}")
    return value or 32


def _epoch_rng():
    """The generator of one epoch's shuffle. Under ``tf.random.set_seed`` alone
    (Keras 2 programs) it follows the global seed as a TF shuffle op would (an op
    seed from the global sequence), so ``fit(shuffle=True)`` is reproducible; after
    ``keras.utils.set_random_seed`` (or with no seed) it comes from Python's
    ``random``, which that call seeds."""
    if not default_seeds.active():
        global_seed, op_seed = _random_kernels.get_seed(None)
        if global_seed is not None:
            return np.random.default_rng([global_seed, op_seed])
    return np.random.default_rng(random.getrandbits(64))


class ArrayAdapter:
    """Batches in-memory arrays; reshuffles at each new pass when ``shuffle``.

    An epoch is one pass over the data, or ``steps`` batches of it. ``steps`` never
    goes past the end of the data (TF 2.21: ``predict(x, steps=10)`` on 3 batches
    gives 3 batches): a pass that runs out first ends the epoch with Keras's "ran out
    of data" warning. With ``resume`` (``fit``'s ``steps_per_epoch``) the next epoch
    continues the pass where the last one stopped, and a new pass starts once one
    has run out.
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False,
                 steps=None, class_weight=None, resume=False):
        self._x = _convert_structure(x, "x")
        self._y = _convert_structure(y, "y") if y is not None else None
        self._sw = to_tensor(sample_weight, "sample_weight") \
            if sample_weight is not None and not isinstance(sample_weight, (dict, list)) \
            else (_convert_structure(sample_weight, "sample_weight")
                  if sample_weight is not None else None)
        self.num_samples = check_cardinality(self._x, self._y, self._sw)
        self.batch_size = check_batch_size(batch_size)
        self.shuffle = shuffle
        self._class_weight = class_weight
        full = max(1, math.ceil(self.num_samples / self.batch_size)) \
            if self.num_samples else 0
        self.steps = full if steps is None else int(steps)
        self._full_steps = full
        self._resume = resume and steps is not None
        self._pass = None   # (arrays, batch order) of the pass in progress
        self._pos = 0       # batches of that pass already given

    def split(self, validation_split):
        """(train adapter args, validation arrays) taking the last fraction as validation."""
        n = self.num_samples
        cut = int(n * (1.0 - validation_split))
        if cut == 0 or cut == n:
            raise ValueError(
                f"The model received too few samples for `validation_split`="
                f"{validation_split}: {n} samples would leave an empty "
                f"{'training' if cut == 0 else 'validation'} set.")

        def part(s, sl):
            return tree.map_structure(lambda t: _rows(t, sl), s) if s is not None \
                else None
        train = (part(self._x, slice(0, cut)), part(self._y, slice(0, cut)),
                 part(self._sw, slice(0, cut)))
        val = (part(self._x, slice(cut, n)), part(self._y, slice(cut, n)),
               part(self._sw, slice(cut, n)))
        return train, val

    def first_batch(self, size=2):
        size = min(size, self.num_samples)
        return self._batch((self._x, self._y, self._sw), 0, size)

    def _batch(self, arrays, start, stop):
        x, y, sw = (tree.map_structure(lambda t: _rows(t, slice(start, stop)), a)
                    if a is not None
                    else None for a in arrays)
        if self._class_weight is not None and y is not None:
            sw = apply_class_weight(y, sw, self._class_weight)
        return pack_x_y_sample_weight(x, y, sw)

    def _new_pass(self):
        arrays = (self._x, self._y, self._sw)
        order = None
        if self.shuffle and self.shuffle != "batch" and self.num_samples > 1:
            perm = _epoch_rng().permutation(self.num_samples)
            idx = convert_to_tensor(perm, dtype=dtypes.int64,
                                    device=_device_of(next(
                                        t for t in tree.flatten(self._x)
                                        if t is not None)))
            arrays = tuple(tree.map_structure(lambda t: _take(t, idx), a)
                           if a is not None else None for a in arrays)
        elif self.shuffle == "batch":
            order = _epoch_rng().permutation(self._full_steps).tolist()
        return arrays, order

    def epoch_iterator(self):
        if self._pass is None or not self._resume:
            self._pass, self._pos = self._new_pass(), 0
        arrays, order = self._pass
        bs = self.batch_size
        count = 0
        while count < self.steps and self._pos < self._full_steps:
            b = order[self._pos] if order is not None else self._pos
            self._pos += 1
            count += 1
            yield self._batch(arrays, b * bs, min((b + 1) * bs, self.num_samples))
        if self._pos >= self._full_steps:
            self._pass = None
            if count < self.steps:
                warnings.warn(_RAN_OUT, UserWarning, stacklevel=4)


def apply_class_weight(y, sample_weight, class_weight):
    flat = tree.flatten(y)
    if len(flat) != 1:
        raise ValueError("`class_weight` is only supported for Models with a single "
                         "output.")
    y = flat[0]
    n = max(int(k) for k in class_weight) + 1
    # classes missing from the dict (also labels >= n) weigh 1.0, as in Keras 3:
    # labels are clipped to n, whose table entry is 1.0
    table = convert_to_tensor([float(class_weight.get(i, 1.0)) for i in range(n)] +
                              [1.0], dtype=dtypes.float32, device=y._device)
    # per-pixel targets (segmentation, (b, h, w, 1)) get per-pixel weights
    if y.ndim >= 2 and y.shape[-1] > 1:
        from dlframe.keras.losses import argmax
        labels = argmax(y, -1)
    else:
        labels = _array.reshape(y, tuple(y.shape[:-1]) if y.ndim >= 2 else (-1,))
        if not labels.dtype.is_integer:
            labels = _m.cast(_m.round(labels), dtypes.int64)
    cw = _take(table, _m.minimum(labels, _m.cast(n, labels.dtype)))
    if sample_weight is None:
        return cw
    return _m.multiply(_m.cast(sample_weight, dtypes.float32), cw)


def _normalize_element(element, class_weight=None):
    data = element if isinstance(element, tuple) else \
        (tuple(element) if isinstance(element, list) and 1 <= len(element) <= 3 and
         not all(_is_array(e) for e in element[:1]) else element)
    x, y, sw = unpack_x_y_sample_weight(data)
    x = _convert_structure(x, "x")
    y = _convert_structure(y, "y") if y is not None else None
    sw = _convert_structure(sw, "sample_weight") if sw is not None else None
    if class_weight is not None and y is not None:
        sw = apply_class_weight(y, sw, class_weight)
    return pack_x_y_sample_weight(x, y, sw)


_RAN_OUT = ("Your input ran out of data; interrupting training. Make sure that your "
            "dataset or generator can generate at least `steps_per_epoch * epochs` "
            "batches. You may need to use the `.repeat()` function when building your "
            "dataset.")


class IterableAdapter:
    """Datasets and generators.

    A dataset is read in a fresh pass each epoch, unless ``resume_iterator`` (``fit``)
    and ``steps`` cut an epoch short of the dataset's cardinality: then the next epoch
    continues where the last one stopped (so ``ds.repeat()`` with ``steps_per_epoch``
    walks the whole data), and a pass that runs out early ends the epoch with Keras's
    "ran out of data" warning and restarts next epoch. A generator is always continued;
    once it is exhausted ``out_of_data`` tells ``fit`` to stop.
    """

    def __init__(self, data, steps=None, class_weight=None, kind="dataset",
                 resume_iterator=False):
        self._data = data
        self._kind = kind
        self._class_weight = class_weight
        self._iterator = None
        self._peeked = []
        self._warned = False
        self.exhausted = False
        self.steps = int(steps) if steps is not None else None
        card = None
        if kind == "dataset":
            card = _cardinality(data, ask=self.steps is None)
            if card == -1 and self.steps is None:
                raise ValueError(
                    "When passing an infinitely repeating dataset, please specify a "
                    "`steps_per_epoch` value so that epoch level callbacks continue "
                    "to work. The value should be the number of steps after which an "
                    "epoch is considered over.")
            if self.steps is None:
                self.steps = card if card >= 0 else None
        self._resume = kind == "generator" or (
            resume_iterator and steps is not None and card != self.steps)

    def _new_iterator(self):
        if self._kind == "generator":
            return self._data
        return iter(self._data)

    def _warn_ran_out(self):
        if not self._warned:
            warnings.warn(_RAN_OUT, UserWarning, stacklevel=4)
            self._warned = True

    def first_batch(self):
        if self._iterator is None:
            self._iterator = self._new_iterator()
        if not self._peeked:
            try:
                self._peeked.append(next(self._iterator))
            except StopIteration:
                return None
        return _normalize_element(self._peeked[0], self._class_weight)

    def out_of_data(self):
        """True (after warning) when a generator has no batch left for an epoch."""
        if self._kind == "generator" and not self.exhausted and not self._peeked:
            try:
                self._peeked.append(next(self._data))
            except StopIteration:
                self.exhausted = True
        if self.exhausted:
            self._warn_ran_out()
        return self.exhausted

    def _next_element(self, count):
        """The next raw element, or None at the end of the data."""
        if self._peeked:
            return self._peeked.pop()
        try:
            return next(self._iterator)
        except StopIteration:
            pass
        if self._kind == "generator":
            self.exhausted = True
            if self.steps is not None and count < self.steps:
                self._warn_ran_out()
            return None
        self._iterator = None
        if count == 0:   # the last epoch ended exactly at the end of a pass
            self._iterator = self._new_iterator()
            return next(self._iterator, None)
        if self.steps is not None and count < self.steps:
            warnings.warn(_RAN_OUT, UserWarning, stacklevel=4)
        return None

    def epoch_iterator(self):
        if self._iterator is None or not (self._resume or self._peeked):
            self._iterator = self._new_iterator()
        count = 0
        while self.steps is None or count < self.steps:
            element = self._next_element(count)
            if element is None:
                break
            count += 1
            yield _normalize_element(element, self._class_weight)
        if not self._resume:
            self._iterator = None


def _cardinality(data, ask):
    """The dataset's cardinality; with ``ask`` False (a step count was given) None
    when the object cannot tell without one (a ``DatasetCreator``)."""
    try:
        card = data.cardinality
        card = card() if callable(card) else card   # a DistributedDataset's property
    except ValueError:
        if ask:
            raise
        return None
    return int(card.numpy()) if hasattr(card, "numpy") else int(card)


def out_of_data(adapter):
    """True when ``adapter`` can give no more epochs (an exhausted generator)."""
    check = getattr(adapter, "out_of_data", None)
    return bool(check is not None and check())


class SequenceAdapter:
    """A ``PyDataset``/``Sequence``: every epoch is a fresh pass over its batches (in
    shuffled order when ``shuffle``) between ``on_epoch_begin`` and ``on_epoch_end``;
    ``steps`` smaller than the length ends the pass early, larger starts new passes."""

    def __init__(self, data, steps=None, class_weight=None, shuffle=False, workers=1,
                 use_multiprocessing=False, max_queue_size=10):
        self._data = data
        self._class_weight = class_weight
        self._count = py_dataset.num_batches(data)
        if steps is None and self._count is None:
            raise ValueError(
                f"The PyDataset {type(data).__name__} is endless (`num_batches` is "
                "None): pass `steps_per_epoch` (or `steps`) so that an epoch ends.")
        self.steps = int(steps) if steps is not None else self._count
        self._shuffle = bool(shuffle) and self._count is not None
        self._workers, self._queue = py_dataset.loader_settings(
            data, workers, use_multiprocessing, max_queue_size)

    def first_batch(self):
        if self._count == 0:
            return None
        return _normalize_element(self._data[0], self._class_weight)

    def _indices(self):
        if self._count is None:
            return range(self.steps)
        if self._count == 0:
            return range(0)

        def one_pass():
            if self._shuffle:
                return _epoch_rng().permutation(self._count).tolist()
            return list(range(self._count))
        passes = itertools.chain.from_iterable(one_pass() for _ in itertools.count())
        return itertools.islice(passes, self.steps)

    def epoch_iterator(self):
        begin = getattr(self._data, "on_epoch_begin", None)
        if begin is not None:
            begin()
        try:
            for batch in py_dataset.ordered_batches(self._data.__getitem__,
                                                    self._indices(), self._workers,
                                                    self._queue):
                yield _normalize_element(batch, self._class_weight)
        finally:  # also when the loop stops early (early stopping, errors)
            end = getattr(self._data, "on_epoch_end", None)
            if end is not None:
                end()


def make_adapter(x, y=None, sample_weight=None, batch_size=None, shuffle=False,
                 steps=None, class_weight=None, what="x", workers=1,
                 use_multiprocessing=False, max_queue_size=10, resume_iterator=False):
    """The adapter for ``x`` (and ``y``/``sample_weight`` for array inputs)."""
    if is_dataset(x) or is_generator(x) or is_sequence(x):
        kind = "dataset" if is_dataset(x) else ("sequence" if is_sequence(x)
                                                else "generator")
        if y is not None:
            raise ValueError(f"`y` argument is not supported when using a dataset, "
                             f"generator or Sequence as input (the targets belong in "
                             f"its batches). Received: y={_short(y)}")
        if sample_weight is not None:
            raise ValueError("`sample_weight` argument is not supported when using a "
                             "dataset, generator or Sequence as input.")
        if kind == "sequence":
            return SequenceAdapter(x, steps, class_weight, shuffle, workers,
                                   use_multiprocessing, max_queue_size)
        return IterableAdapter(x, steps=steps, class_weight=class_weight, kind=kind,
                               resume_iterator=resume_iterator)
    if x is None:
        raise ValueError("Unrecognized data type: x=None (you must provide `x`).")
    return ArrayAdapter(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle,
                        steps=steps, class_weight=class_weight, resume=resume_iterator)
