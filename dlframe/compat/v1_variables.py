"""TF1's variable API as it behaves eagerly in TF 2 (``tf.compat.v1.*``).

Eagerly, ``get_variable`` makes a new Variable named ``<variable scope>/<name>`` on
every call: ``reuse`` has nothing to share, since no graph remembers variables (TF2
reports every scope's ``reuse`` as ``AUTO_REUSE``). Sharing happens only inside
``make_template``, whose variable store returns the variable of the same full name
on later calls; that is how TF1 code shares weights when run eagerly.
"""

import enum
import threading

import dlframe as _tf
from dlframe.compat import v1_graph as _graph
from dlframe.core import dtypes as _dt
from dlframe.core.variable import Variable as _Variable
from dlframe.core.variable import name_scope as _name_scope


class _ReuseMode(enum.Enum):
    AUTO_REUSE = 1


AUTO_REUSE = _ReuseMode.AUTO_REUSE


class VariableScope:
    """A variable scope: name prefix and defaults for ``get_variable``.

    Args:
      reuse: accepted; eagerly always reported as ``AUTO_REUSE``.
      name: the full scope name ('outer/inner').
      initializer, regularizer, dtype, constraint: defaults for ``get_variable``.
    """

    def __init__(self, reuse, name="", initializer=None, regularizer=None,
                 caching_device=None, partitioner=None, custom_getter=None,
                 name_scope="", dtype=_dt.float32, use_resource=None,
                 constraint=None):
        self._name = name
        self.initializer = initializer
        self.regularizer = regularizer
        self.dtype = _dt.as_dtype(dtype)
        self.constraint = constraint
        self.caching_device = caching_device
        self.partitioner = partitioner
        self.custom_getter = custom_getter
        self.use_resource = True
        self.original_name_scope = name_scope

    name = property(lambda self: self._name)
    reuse = property(lambda self: AUTO_REUSE)

    def reuse_variables(self):
        """Accepted (eagerly every scope reuses)."""

    def set_initializer(self, initializer):
        self.initializer = initializer

    def set_regularizer(self, regularizer):
        self.regularizer = regularizer

    def set_dtype(self, dtype):
        self.dtype = _dt.as_dtype(dtype)

    def get_variable(self, name, *args, **kwargs):
        """``get_variable`` under this scope's name."""
        with variable_scope(self):
            return get_variable(name, *args, **kwargs)


class _State(threading.local):
    def __init__(self):
        self.scopes = [VariableScope(False)]
        self.stores = [None]     # innermost make_template's {full name: Variable}
        self.counts = [{}]       # default_name uses per enclosing scope


_STATE = _State()


def get_variable_scope():
    """The current ``VariableScope``."""
    return _STATE.scopes[-1]


class variable_scope:
    """Context manager prefixing ``get_variable`` names and setting its defaults.

    Args:
      name_or_scope: a name or a ``VariableScope`` to re-enter.
      default_name: used (made unique: 'name', 'name_1'...) when
        ``name_or_scope`` is None.
      values: accepted (TF1 graph bookkeeping).
      initializer, regularizer, dtype, constraint: defaults for variables inside.
      reuse: accepted (True, False, None or ``AUTO_REUSE``); see the module doc.
      auxiliary_name_scope: also open the name scope of the same name.
    """

    def __init__(self, name_or_scope, default_name=None, values=None,
                 initializer=None, regularizer=None, caching_device=None,
                 partitioner=None, custom_getter=None, reuse=None, dtype=None,
                 use_resource=None, constraint=None, auxiliary_name_scope=True):
        if name_or_scope is None and default_name is None:
            raise TypeError("If default_name is None then name_or_scope is required")
        if reuse not in (None, True, False, AUTO_REUSE):
            raise ValueError(f"The reuse parameter must be True or False or None or "
                             f"tf.compat.v1.AUTO_REUSE, got {reuse!r}.")
        if not isinstance(name_or_scope, (str, VariableScope, type(None))):
            raise TypeError("VariableScope: name_or_scope must be a string or "
                            f"VariableScope, got {name_or_scope!r}")
        self._name_or_scope = name_or_scope
        self._default_name = default_name
        self._defaults = {"initializer": initializer, "regularizer": regularizer,
                          "dtype": dtype, "constraint": constraint,
                          "caching_device": caching_device,
                          "partitioner": partitioner, "custom_getter": custom_getter}
        self._auxiliary = auxiliary_name_scope
        self._name_scope = None

    def _full_name(self):
        parent = get_variable_scope().name
        if isinstance(self._name_or_scope, VariableScope):
            return self._name_or_scope.name
        name = self._name_or_scope
        if name is None:
            counts = _STATE.counts[-1]
            uses = counts.get(self._default_name, 0)
            counts[self._default_name] = uses + 1
            name = self._default_name if uses == 0 else f"{self._default_name}_{uses}"
        return f"{parent}/{name}" if parent else name

    def __enter__(self):
        full = self._full_name()
        base = (self._name_or_scope if isinstance(self._name_or_scope, VariableScope)
                else get_variable_scope())
        settings = {k: getattr(base, k) for k in self._defaults}
        settings.update({k: v for k, v in self._defaults.items() if v is not None})
        scope = VariableScope(False, name=full, name_scope=full + "/" if full else "",
                              **settings)
        _STATE.scopes.append(scope)
        _STATE.counts.append({})
        if self._auxiliary:
            self._name_scope = _name_scope(full + "/")
            self._name_scope.__enter__()
        return scope

    def __exit__(self, *exc):
        if self._name_scope is not None:
            self._name_scope.__exit__(*exc)
            self._name_scope = None
        _STATE.scopes.pop()
        _STATE.counts.pop()
        return False


def _initial_value(name, shape, dtype, initializer, scope):
    initializer = initializer if initializer is not None else scope.initializer
    if initializer is None:
        if shape is None:
            raise ValueError(f"Variable {name} did not get an initializer, so its "
                             "`shape` argument must be specified.")
        init = (_tf.keras.initializers.GlorotUniform() if dtype.is_floating
                else _tf.keras.initializers.Zeros())
        return lambda: init(shape, dtype=dtype)
    if isinstance(initializer, type):
        initializer = initializer()
    if callable(initializer) and not isinstance(initializer, _tf.Tensor):
        if shape is None:
            raise ValueError(f"Variable {name} did not get an initializer, so its "
                             "`shape` argument must be specified.")
        return lambda: initializer(shape, dtype=dtype)
    if shape is not None:
        raise ValueError("If initializer is a constant, do not specify shape.")
    return initializer


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=None, collections=None, caching_device=None,
                 partitioner=None, validate_shape=True, use_resource=None,
                 custom_getter=None, constraint=None, synchronization=None,
                 aggregation=None):
    """A Variable named ``<variable scope>/<name>`` (see the module doc on sharing).

    Args:
      name: the name inside the current variable scope.
      shape: the shape (not with a constant ``initializer``).
      dtype: default the scope's (float32).
      initializer: an initializer (instance or class), a Tensor or a Python value;
        default the scope's, else glorot-uniform (zeros for non-float dtypes).
      regularizer: ``regularizer(variable)`` goes to the REGULARIZATION_LOSSES
        collection (computed once, at creation).
      trainable: default True.
      collections, caching_device, partitioner, validate_shape, use_resource,
        custom_getter, synchronization, aggregation: accepted for TF1 code.
      constraint: projection applied by optimizers after updates.

    Returns:
      The Variable.

    Raises:
      ValueError: without a shape and a non-constant initializer, with a shape
        and a constant initializer, or on a shape mismatch with a shared variable.
    """
    scope = get_variable_scope()
    full = f"{scope.name}/{name}" if scope.name else name
    store = _STATE.stores[-1]
    if store is not None and full in store:
        found = store[full]
        if shape is not None and not found.shape.is_compatible_with(shape):
            raise ValueError(f"Trying to share variable {full}, but specified shape "
                             f"{tuple(shape)} and found shape {tuple(found.shape)}.")
        return found
    dtype = _dt.as_dtype(dtype) if dtype is not None else scope.dtype
    if shape is not None:
        shape = [int(d) for d in shape]
    value = _initial_value(name, shape, dtype, initializer, scope)
    if not callable(value) and dtype is not None and not isinstance(value, _tf.Tensor):
        value = _tf.convert_to_tensor(value, dtype=dtype)
    with _name_scope(scope.name + "/" if scope.name else "/"):
        variable = _Variable(value, trainable=True if trainable is None else trainable,
                             name=name, dtype=dtype if callable(value) else None,
                             constraint=constraint or scope.constraint)
    regularizer = regularizer or scope.regularizer
    if regularizer is not None:
        loss = regularizer(variable)
        if loss is not None:
            _graph.add_to_collection(_graph.GraphKeys.REGULARIZATION_LOSSES, loss)
    if store is not None:
        store[full] = variable
    return variable


class Template:
    """``func_`` wrapped so that every call shares the variables the first made.

    Args:
      name: the variable scope the variables live under (made unique).
      func: the function; its ``get_variable`` calls are shared across calls.
      **kwargs: bound into every call of ``func``.
    """

    def __init__(self, name, func, unique_name=None, **kwargs):
        self._func = func
        self._kwargs = kwargs
        with variable_scope(unique_name, default_name=name) as scope:
            self._variable_scope = scope
        self._store = {}
        self._name = name

    def __call__(self, *args, **kwargs):
        _STATE.stores.append(self._store)
        try:
            with variable_scope(self._variable_scope):
                return self._func(*args, **{**self._kwargs, **kwargs})
        finally:
            _STATE.stores.pop()

    name = property(lambda self: self._name)
    variable_scope = property(lambda self: self._variable_scope)
    variable_scope_name = property(lambda self: self._variable_scope.name)
    variables = property(lambda self: list(self._store.values()))
    global_variables = variables
    trainable_variables = property(
        lambda self: [v for v in self._store.values() if v.trainable])
    non_trainable_variables = property(
        lambda self: [v for v in self._store.values() if not v.trainable])
    trainable_weights = trainable_variables
    weights = variables


def make_template(name_, func_, create_scope_now_=False, unique_name_=None,
                  custom_getter_=None, **kwargs):
    """Wraps ``func_`` so its variables are created on the first call and shared by
    the later ones (see ``Template``)."""
    return Template(name_, func_, unique_name=unique_name_, **kwargs)


def name_scope(name, default_name=None, values=None):
    """TF1's ``name_scope(name, default_name, values)``: ``tf.name_scope(name or
    default_name)``."""
    return _name_scope(name if name is not None else default_name)


class _VariableV1Meta(type(_Variable)):
    def __call__(cls, *args, use_resource=None, collections=None,
                 expected_shape=None, **kwargs):
        return _Variable(*args, **kwargs)

    def __instancecheck__(cls, instance):
        return isinstance(instance, _Variable)


class VariableV1(_Variable, metaclass=_VariableV1Meta):
    """TF1's ``Variable``: ``tf.Variable`` also accepting ``use_resource``,
    ``collections`` and ``expected_shape`` (ignored: dlframe's variables are always
    resource variables). Instances are ``tf.Variable``s."""


__all__ = [
    "AUTO_REUSE",
    "Template",
    "VariableScope",
    "VariableV1",
    "get_variable",
    "get_variable_scope",
    "make_template",
    "name_scope",
    "variable_scope",
]
