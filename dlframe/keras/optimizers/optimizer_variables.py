"""The optimizer's variables: slot creation (Keras 3's ``add_variable``,
``add_variable_from_reference``, ``add_optimizer_variables``; Keras 2.11's argument
names) and the ``assign`` helpers custom ``update_step`` methods call.
"""

import functools

from dlframe.core import dtypes
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.variable import Variable
from dlframe.device_scope import device as _device_scope
from dlframe.keras.initializers import initial_value
from dlframe.ops import array as _array


def builds_new_variables_once(build):
    """``build`` that only sees variables the optimizer has no slots for yet (each
    once): building again with known variables (``optimizer.build(
    model.trainable_variables)`` after some steps) keeps their slots, as Keras'
    build is a no-op then, instead of making fresh zero slots."""
    @functools.wraps(build)
    def wrapped(self, var_list=None, **kwargs):
        if var_list is None and len(kwargs) == 1:   # Keras 3 names it ``variables``
            (var_list,) = kwargs.values()
        known = self.__dict__.get("_index") or {}
        fresh = list({id(v): v for v in var_list if id(v) not in known}.values())
        if fresh or not getattr(self, "built", False):
            return build(self, fresh)
        return None
    wrapped._builds_once = True
    return wrapped


class OptimizerVariables:
    """Mixin of ``Optimizer``: expects ``self.name`` and the list ``self._variables``
    that every variable made here joins. The built-in optimizers' ``build`` is
    wrapped by ``builds_new_variables_once`` (Keras' own ``build`` returns when
    built); a user's ``build`` runs as written: one without that guard makes fresh
    slots when called again, as in Keras 2 and 3."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if callable(build) and not getattr(build, "_builds_once", False) and \
                cls.__module__.startswith("dlframe."):
            cls.build = builds_new_variables_once(build)

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="none",
                     name=None):
        """Creates a non-trainable optimizer variable of ``shape``."""
        dtype = dtype or dtypes.float32
        value = initial_value(initializer, shape, dtype)
        var = Variable(value, trainable=False, name=f"{self.name}/{name or 'variable'}")
        self._variables.append(var)
        return var

    def add_variable_from_reference(self, reference_variable=None, name=None,
                                    initializer="zeros", *, model_variable=None,
                                    variable_name=None, shape=None, initial_value=None):
        """A non-trainable variable shaped like ``reference_variable``, on its device.

        Args:
          reference_variable: the model variable the slot belongs to.
          name: suffix of the slot's name.
          initializer: "zeros", "ones", a number, a Tensor or an initializer
            callable ``(shape, dtype)``.
          model_variable, variable_name, shape, initial_value: Keras 2.11's names of
            the reference, the name, a shape other than the reference's and a
            starting value.
        """
        ref = reference_variable if reference_variable is not None else model_variable
        if ref is None:
            raise ValueError("`reference_variable` is required. Received: None")
        name = name or variable_name
        if initial_value is not None:
            initializer = convert_to_tensor(initial_value, dtype=ref.dtype)
        shape = tuple(ref._value.shape) if shape is None else tuple(shape)
        base = ref.name.split(":")[0].replace("/", "_")
        with _device_scope(ref._device):
            if isinstance(initializer, Tensor):
                value = initializer.read_value() if initializer._is_variable \
                    else initializer
            elif callable(initializer):
                value = initializer(shape, dtype=ref.dtype)
            elif isinstance(initializer, (int, float)) and initializer != 0:
                value = _array.fill(shape, convert_to_tensor(initializer, dtype=ref.dtype))
            elif initializer == "ones":
                value = _array.ones(shape, dtype=ref.dtype)
            else:
                value = _array.zeros(shape, dtype=ref.dtype)
            var = Variable(value, trainable=False, name=f"{self.name}/{base}_{name}")
        self._variables.append(var)
        return var

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """Keras 3: one slot per variable (a list); with lists of ``name`` and
        ``initializer``, a tuple of such lists, one per name."""
        names = [name] if isinstance(name, str) else list(name)
        inits = [initializer] if isinstance(name, str) else list(initializer)
        if len(names) != len(inits):
            raise ValueError("The number of provided names must match the number of "
                             f"provided initializers. Received name={name!r}, "
                             f"initializer={initializer!r}")
        slots = tuple([self.add_variable_from_reference(v, n, i)
                       for v in trainable_variables] for n, i in zip(names, inits))
        return slots[0] if isinstance(name, str) else slots

    def assign(self, variable, value):
        variable.assign(value)

    def assign_add(self, variable, value):
        variable.assign_add(value)

    def assign_sub(self, variable, value):
        variable.assign_sub(value)
