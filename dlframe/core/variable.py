"""Variable: a mutable tensor, plus TF-style name scopes.

A Variable is a Tensor whose buffer is updated in place by ``assign*`` (static
buffers are what compiled steps and CUDA graphs need). Assignments are stateful
primitives so they keep program order in traces. Primitives that may return a
view of a Variable's buffer copy it (see ``Primitive.aliases``), so a tensor read
from a variable never changes when the variable is assigned later.
"""

import contextlib
import enum
import functools
import inspect
import itertools
import sys
import threading
import weakref

from dlframe import backends
from dlframe.core import dtypes as _dt
from dlframe.core.primitive import STATE, call, copy_to_device, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.errors import InvalidArgumentError, OutOfRangeError, ShapeMismatchError

# the module (``dlframe.core.primitive`` the package attribute is the decorator)
_primitive = sys.modules["dlframe.core.primitive"]


class VariableSynchronization(enum.Enum):
    AUTO = 0
    NONE = 1
    ON_WRITE = 2
    ON_READ = 3


class VariableAggregationV2(enum.Enum):
    """How a distributed variable combines per-replica updates (TF 2's enum,
    printed ``VariableAggregationV2.MEAN`` as in TF)."""
    NONE = 0
    SUM = 1
    MEAN = 2
    ONLY_FIRST_REPLICA = 3


VariableAggregation = VariableAggregationV2


# Called with each new Variable (set by dlframe.distribute to mirror variables created
# in a multi-replica strategy's scope; core must not import it).
ON_CREATE = None


# ---------------------------------------------------------------- autocast
def _dims(shape):
    """A shape as TF's kernels print it: ``[2,3]``."""
    return "[" + ",".join(str(d) for d in shape) + "]"


class _Autocast(threading.local):
    dtype = None   # a mixed-precision Keras layer's compute dtype during its call


# Keras mixed precision (TF's AutoCastVariable): inside a mixed-precision layer's
# call, float variables made with ``autocast=True`` read as ``AUTOCAST.dtype``
# (keras.mixed_precision.autocast installs the reader as
# ``primitive.AUTOCAST_READ``); outside it they read as what they hold.
AUTOCAST = _Autocast()


# ---------------------------------------------------------------- name scopes
class _Names(threading.local):
    def __init__(self):
        self.scopes = []


_NAMES = _Names()


class name_scope:
    """Context manager prefixing names of variables created inside it ('outer/inner/')."""

    def __init__(self, name, *args, **kwargs):
        if name is not None and not isinstance(name, str):
            raise ValueError(f"name for name_scope must be a string, got {name!r}")
        self._name = name or ""
        self._pushed = False

    @property
    def name(self):
        return self._name

    def __enter__(self):
        self._graph = STATE.trace   # inside a function: the graph's unique op scope
        graph_scope = self._graph.enter_scope(self._name) if hasattr(
            self._graph, "enter_scope") else None
        name = self._name.rstrip("/")
        if self._name.endswith("/"):
            _NAMES.scopes.append(("abs", name))
        elif name:
            _NAMES.scopes.append(("rel", name))
        else:
            return graph_scope or ""
        self._pushed = True
        return graph_scope or current_scope() + "/"

    def __exit__(self, *exc):
        if self._pushed:
            _NAMES.scopes.pop()
        if hasattr(self._graph, "enter_scope"):
            self._graph.exit_scope()
        return False


def current_scope():
    """The current name scope as 'a/b' ('' at top level)."""
    parts = []
    for kind, name in _NAMES.scopes:
        if kind == "abs":
            parts = [name] if name else []
        else:
            parts.append(name)
    return "/".join(parts)


def scoped_name(name):
    scope = current_scope()
    return f"{scope}/{name}" if scope else name


# ---------------------------------------------------------------- primitives
@primitive("AssignVariableOp", effects=True)
def _assign_p(d, var, value, *, mode):
    if mode == "resize":   # a Variable(shape=[None]) given another size in a graph:
        # a new buffer (tensors and views made from the old one keep it); the
        # caller, or the graph running this node (trace.Graph), points the
        # variable at it
        return d.xp.array(value, dtype=var.dtype, order="C", copy=True)
    if mode == "set":
        d.xp.copyto(var, value, casting="unsafe")
    elif mode == "add":
        d.xp.add(var, value, out=var, casting="unsafe")
    else:
        d.xp.subtract(var, value, out=var, casting="unsafe")
    return var


@primitive("ResourceCountUpTo", effects=True)
def _count_up_to_p(d, var, *, limit):
    old = var.copy()
    if int(old) >= limit:
        raise OutOfRangeError(f"Reached limit of {limit} [Op:ResourceCountUpTo]")
    d.xp.add(var, 1, out=var, casting="unsafe")
    return old


def _autocast_host(var, value):
    """``value`` (NumPy) of ``var`` in the dtype ``var.dtype`` reports (the
    compute dtype of a mixed-precision layer's call)."""
    np_dtype = var.dtype._np
    return value if value.dtype == np_dtype else value.astype(np_dtype)


@primitive("ReadVariableOp", stateful=True)
def _read_p(d, var):
    return var.copy()


@_read_p.defgrad
def _read_grad(inputs, out, dy):
    return dy


# ---------------------------------------------------------------- creator scopes
class _Creators(threading.local):
    def __init__(self):
        self.stack = []


_CREATORS = _Creators()


@contextlib.contextmanager
def variable_creator_scope(variable_creator):
    """Routes ``tf.Variable(...)`` calls in this context through ``variable_creator``.

    Args:
      variable_creator: ``creator(next_creator, **kwargs)`` returning a Variable; it
        may call ``next_creator(**kwargs)`` (the next outer creator, at the end the
        real constructor) with changed arguments, or return an existing Variable.
        ``kwargs`` holds every ``tf.Variable`` argument (defaults filled in).
    """
    _CREATORS.stack.append(variable_creator)
    try:
        yield
    finally:
        _CREATORS.stack.pop()


class _VariableMeta(type):
    """Sends ``Variable(...)`` through the active creator scopes (innermost first)."""

    def __call__(cls, *args, **kwargs):
        if cls is not Variable or not _CREATORS.stack:
            return super().__call__(*args, **kwargs)
        bound = _INIT_SIGNATURE.bind(None, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        del arguments["self"]
        make = functools.partial(type.__call__, cls)
        for creator in list(_CREATORS.stack):
            make = functools.partial(creator, make)
        return make(**arguments)


# ---------------------------------------------------------------- the class
_CREATION_ORDER = itertools.count()


def _refuse_tensor_cast(value, dtype):
    """TF's refusal to cast a Tensor (or Variable) ``initial_value`` to another
    ``dtype`` (Python and NumPy values are converted; a Tensor must match)."""
    if isinstance(value, Variable):
        raise ValueError(
            f"Incompatible type conversion requested to type {dtype.name} for "
            f"`tf.Variable of type {value.dtype.name}. (Variable: {value!r})")
    raise ValueError(
        f"initial_value: Tensor conversion requested dtype {dtype.name} for Tensor "
        f"with dtype {value.dtype.name}: {value!r}")


class Variable(Tensor, metaclass=_VariableMeta):
    """A mutable tensor, as ``tf.Variable``.

    Args:
      initial_value: a Tensor/array/Python value, or a callable returning one.
      trainable: whether gradient tapes watch it automatically (default True).
      validate_shape: kept for TF compatibility.
      name: the variable's name (':0' is appended, the name scope prefixed).
      dtype: element type to convert the initial value to.
      constraint: an optional projection applied by optimizers after updates.
      synchronization, aggregation: how distributed replicas combine it.
      shape: optional static shape (None dims allow differently shaped assigns).
    """

    __slots__ = (
        "__dict__",
        "_aggregation",
        "_constraint",
        "_distribute",
        "_name",
        "_shape",
        "_synchronization",
        "_trainable",
    )
    _is_variable = True
    _taped = None   # the gradient tapes whose entries read this variable (weak)
    _autocast = False   # read in a mixed-precision layer's compute dtype (add_weight)

    def __init__(self, initial_value=None, trainable=None, validate_shape=True,
                 caching_device=None, name=None, variable_def=None, dtype=None,
                 import_scope=None, constraint=None,
                 synchronization=VariableSynchronization.AUTO,
                 aggregation=VariableAggregation.NONE, shape=None,
                 experimental_enable_variable_lifting=True):
        if initial_value is None:
            raise ValueError("The `initial_value` arg (`None`) must be specified when "
                             "creating a Variable.")
        if callable(initial_value) and not isinstance(initial_value, Tensor):
            initial_value = initial_value()
        if constraint is not None and not callable(constraint):
            raise ValueError(f"The `constraint` argument must be a callable, got {constraint!r}")
        # ON_READ defaults to non-trainable; TF 2 accepts an explicit trainable=True.
        if trainable is None:
            trainable = synchronization != VariableSynchronization.ON_READ
        dev = backends.current_device()
        if isinstance(initial_value, Tensor):
            if dtype is not None and initial_value.dtype != _dt.as_dtype(dtype):
                _refuse_tensor_cast(initial_value, _dt.as_dtype(dtype))
            src = initial_value
            if dev.is_gpu and src._value.dtype == object:
                dev = src._device   # strings live on the host (TF: a CPU variable)
            if src._device is not dev:
                value = dev.asarray(src._device.to_numpy(src._value))
            else:  # C order: slots made like it and updates mixing it with grads stay fast
                value = dev.xp.array(src._value, copy=True, order="C")
        else:
            from dlframe.core.tensor import constant
            value = constant(initial_value, dtype=dtype)._value
            if dev.is_gpu and value.dtype == object:
                dev = backends.get_device("cpu:0")   # strings live on the host
            value = dev.asarray(value) if not dev.is_array(value) else value.copy()
        if not hasattr(value, "flags"):
            value = dev.xp.array(value)
        super().__init__(value, dev)
        self._name = scoped_name(name or "Variable")
        self._trainable = bool(trainable)
        self._constraint = constraint
        self._synchronization = synchronization
        self._aggregation = aggregation
        self._shape = TensorShape(shape) if shape is not None else TensorShape(value.shape)
        if shape is not None and not self._shape.is_compatible_with(tuple(value.shape)):
            raise ValueError(f"In this `tf.Variable` creation, the initial value's "
                             f"shape ({tuple(value.shape)}) is not "
                             "compatible with the explicitly supplied `shape` argument "
                             f"({shape!r}).")
        self._distribute = None
        # creation order: TF lists a tape's watched variables in this order
        self._creation_order = next(_CREATION_ORDER)
        from dlframe.core.primitive import STATE
        if STATE.trace is not None:
            STATE.trace.variable_created(self, initial_value)
        if ON_CREATE is not None:
            ON_CREATE(self)

    # -- attributes ----------------------------------------------------------
    @property
    def name(self):
        return self._name + ":0"

    @property
    def path(self):
        """Keras 3's ``Variable.path``: the scoped name without ':0' (a layer's
        ``add_weight`` records a longer one when a model's scope encloses the build)."""
        return self.__dict__.get("_path", self._name)

    @path.setter
    def path(self, value):
        self.__dict__["_path"] = value

    @property
    def dtype(self):
        """The dtype; an autocast float variable reports its reading layer's
        compute dtype inside a mixed-precision layer's call (Keras's
        AutoCastVariable)."""
        if self._autocast and _primitive.AUTOCAST_READ is not None:
            target = AUTOCAST.dtype
            if target is not None and _dt.from_numpy(self._value.dtype).is_floating:
                return _dt.as_dtype(target)
        return _dt.from_numpy(self._value.dtype)

    @property
    def trainable(self):
        return self._trainable

    @property
    def constraint(self):
        return self._constraint

    @property
    def synchronization(self):
        return self._synchronization

    @property
    def aggregation(self):
        return self._aggregation

    @property
    def shape(self):
        if self._shape.is_fully_defined():
            return TensorShape(self._value.shape)
        return self._shape

    def get_shape(self):
        """Alias of ``shape`` (the declared shape of a ``shape=`` variable)."""
        return self.shape

    @property
    def handle(self):
        return self

    @property
    def initial_value(self):
        return self.read_value()

    # -- tapes -------------------------------------------------------------
    def _taped_by(self, tape):
        taped = self._taped
        if taped is None:
            self._taped = taped = weakref.WeakSet()
        taped.add(tape)

    def _before_write(self):
        """Called before an in-place write: tapes that read this variable keep its
        current value (one snapshot, recorded by traces, not by tapes)."""
        tapes = [t for t in self._taped if t._entries]
        self._taped = None
        if not tapes:
            return
        recording, STATE.tapes = STATE.tapes, []
        autocast, AUTOCAST.dtype = AUTOCAST.dtype, None   # the stored value itself
        try:
            snapshot = call(_read_p, (self,))
        finally:
            STATE.tapes = recording
            AUTOCAST.dtype = autocast
        for tape in tapes:
            tape._snapshot_input(self, snapshot)

    # -- reads -------------------------------------------------------------
    def value(self):
        """The current value as a Tensor (a snapshot)."""
        return call(_read_p, (self,))

    read_value = value

    def numpy(self):
        """The value as NumPy; inside a mixed-precision layer's call an autocast
        variable gives the compute dtype (as Keras's autocast read)."""
        value = Tensor.numpy(self)
        if self._autocast and _primitive.AUTOCAST_READ is not None:
            value = _autocast_host(self, value)
        return value

    def __array__(self, dtype=None, copy=None):
        value = Tensor.__array__(self)
        if self._autocast and _primitive.AUTOCAST_READ is not None:
            value = _autocast_host(self, value)
        return value if dtype is None else value.astype(dtype, copy=False)

    def __hash__(self):
        raise TypeError("Variable is unhashable. Instead, use variable.ref() as the key. "
                        f"(Variable: {self!r})")

    def __deepcopy__(self, memo):
        v = Variable(self.read_value(), trainable=self._trainable, name=self._name,
                     constraint=self._constraint, synchronization=self._synchronization,
                     aggregation=self._aggregation)
        memo[id(self)] = v
        return v

    def __reduce__(self):
        return _rebuild_variable, (self.numpy(), self._name, self._trainable)

    # -- writes ------------------------------------------------------------
    def _coerce(self, value, op):
        if isinstance(value, Tensor):
            if value._value.dtype != self._value.dtype:
                raise ValueError(
                    f"Tensor conversion requested dtype "
                    f"{_dt.from_numpy(self._value.dtype).name} for Tensor with "
                    f"dtype {value.dtype.name}: {value!r}")
            if value._device is not self._device:
                # a write goes to the variable's device, as in TF, which copies the
                # value there (a recorded copy: a traced function replays it)
                value = copy_to_device(value, self._device)
            t = value
        else:
            t = convert_to_tensor(value, dtype=_dt.from_numpy(self._value.dtype),
                                  device=self._device)
        vshape, tshape = tuple(self._value.shape), tuple(t._value.shape)
        if vshape != tshape:
            if op == "assign" and not self._shape.is_fully_defined() and \
                    self._shape.is_compatible_with(tshape):
                return t, True
            # TF: ValueError from assign, InvalidArgumentError from assign_add/sub
            # (ShapeMismatchError is both), each with its own message
            if op != "assign":
                raise ShapeMismatchError(
                    f"Cannot update variable with shape {_dims(vshape)} using a Tensor "
                    f"with shape {_dims(tshape)}, shapes must be equal.")
            declared = vshape if self._shape.is_fully_defined() else \
                tuple(self._shape.as_list())
            raise ShapeMismatchError(
                f"Cannot assign value to variable ' {self.name}': Shape mismatch.The "
                f"variable shape {declared}, and the assigned value shape {tshape} are "
                "incompatible.")
        return t, False

    def assign(self, value, use_locking=None, name=None, read_value=True):
        """Writes ``value`` into the variable; returns the variable (or None)."""
        if self._distribute is not None:
            return self._distribute.assign(self, value, "assign", read_value)
        t, reshape = self._coerce(value, "assign")
        if STATE.trace is not None and (reshape or not self._shape.is_fully_defined()):
            # a graph run may give another size: a new buffer the variable is
            # pointed at (a dry run of a branch's trace returns the current one)
            self._value = call(_assign_p, (self, t), {"mode": "resize"})._value
        elif reshape:
            if self._taped is not None:
                self._before_write()
            self._value = self._device.xp.array(t._value, copy=True, order="C")
        else:
            call(_assign_p, (self, t), {"mode": "set"})
        return self if read_value else None

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        """Adds ``delta`` in place; returns the variable (or None)."""
        if self._distribute is not None:
            return self._distribute.assign(self, delta, "assign_add", read_value)
        t, _ = self._coerce(delta, "assign_add")
        call(_assign_p, (self, t), {"mode": "add"})
        return self if read_value else None

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        """Subtracts ``delta`` in place; returns the variable (or None)."""
        if self._distribute is not None:
            return self._distribute.assign(self, delta, "assign_sub", read_value)
        t, _ = self._coerce(delta, "assign_sub")
        call(_assign_p, (self, t), {"mode": "sub"})
        return self if read_value else None

    def count_up_to(self, limit):
        """Increments the variable by one and returns its value before, until it
        reaches ``limit`` (deprecated in TF, which suggests ``Dataset.range``).

        Args:
          limit: the value at which counting stops.

        Raises:
          OutOfRangeError: the variable already holds ``limit`` (or more).
          InvalidArgumentError: the variable is not an int32/int64 scalar.
        """
        if self.dtype.name not in ("int32", "int64"):
            raise InvalidArgumentError(
                f"count_up_to: Value for attr 'T' of {self.dtype.name} is not in the "
                "list of allowed values: int32, int64")
        if self._value.ndim:
            raise InvalidArgumentError(f"count_up_to: the variable must be a scalar, "
                                       f"got shape {tuple(self._value.shape)}")
        return call(_count_up_to_p, (self,), {"limit": int(limit)})

    def _no_inplace(self, other):
        raise RuntimeError("`variable += value` with `tf.Variable`s is not supported. "
                           "Use `variable.assign_add(value)` to modify the variable, or "
                           "`out = variable + value` if you need to get a new output "
                           "Tensor.")

    # TF refuses augmented assignment instead of silently rebinding to a Tensor
    __iadd__ = __isub__ = __imul__ = __itruediv__ = __ifloordiv__ = __ipow__ = \
        _no_inplace

    def __repr__(self):
        from dlframe.core.tensor import _numpy_repr
        body = _numpy_repr(self)
        sep = "\n" if "\n" in body else ""  # TF starts a multi-line array on its own line
        return (f"<tf.Variable '{self.name}' shape={tuple(self._value.shape)} "
                f"dtype={self.dtype.name}, numpy={sep}{body}>")

    __str__ = __repr__

    def __format__(self, format_spec):
        # as TF: "{}".format(v) gives str(v); a Variable (unlike a Tensor) refuses a
        # format spec, so f"{v:.2f}" fails as it does in TF (use v.numpy())
        if format_spec:
            raise TypeError(f"unsupported format string passed to "
                            f"{type(self).__name__}.__format__: {format_spec!r}")
        return str(self)


_INIT_SIGNATURE = inspect.signature(Variable.__init__)


def _rebuild_variable(array, name, trainable):
    return Variable(array, name=name, trainable=trainable)


def assign_raw(var, array):
    """Replaces a variable's buffer with a same-device array (checkpoint loading)."""
    var._value = var._device.xp.ascontiguousarray(var._device.asarray(array))
