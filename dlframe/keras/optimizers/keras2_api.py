"""The Keras 2 subclassing API of optimizers, mixed into ``Optimizer``.

TF 2 programs subclass ``tf.keras.optimizers.Optimizer`` (or ``.legacy.Optimizer``)
in one of three styles, all supported here:

* Keras 2 (``OptimizerV2``): ``_set_hyper``/``_get_hyper``, ``_create_slots`` with
  ``add_slot``/``get_slot``, ``_resource_apply_dense(grad, var, apply_state)`` and
  ``_decayed_lr``; ``super().__init__(name, **kwargs)`` passes the name first.
* Keras 2.11+: ``build`` with ``add_variable_from_reference(model_variable=...,
  variable_name=...)``, ``_var_key``/``_index_dict`` and ``update_step(gradient,
  variable)`` (no learning-rate argument).
* Keras 3: ``update_step(gradient, variable, learning_rate)``.
"""

import inspect

from dlframe.core import dtypes
from dlframe.core.tape import graph_gradients
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.keras.optimizers.schedules import learning_rate_schedule as _schedules
from dlframe.ops import math as _math

_LR_NAMES = ("learning_rate", "lr")


class Keras2OptimizerApi:
    """Keras 2 hooks of ``Optimizer``: hyperparameters, named slots, ``apply_state``."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # a user's OptimizerV2-style class (TF <= 2.10 programs) creates slots for
        # variables it meets after build, as OptimizerV2 did
        if not cls.__module__.startswith("dlframe.") and any(
                name in cls.__dict__ for name in ("_create_slots", "_resource_apply_dense")):
            cls._extensible = True

    # -- graph-mode updates ---------------------------------------------------
    def get_gradients(self, loss, params):
        """Keras 2's graph-mode gradients of a loss tensor (in a ``tf.estimator``
        ``model_fn``, which records on a tape; elsewhere use ``tf.GradientTape``)."""
        params = list(params)
        grads = graph_gradients(loss, params)
        if grads is None:
            raise RuntimeError(
                "`get_gradients` differentiates a loss tensor, which needs a graph: it "
                "works inside a tf.estimator model_fn. Eagerly, use tf.GradientTape and "
                "`apply_gradients`.")
        return grads

    def get_updates(self, loss, params):
        """Keras 2's graph-mode update: applies the gradients of ``loss`` to
        ``params`` now; returns ``[iterations]`` (the "update op")."""
        params = list(params)
        return [self.apply_gradients(zip(self.get_gradients(loss, params), params))]

    # -- hyperparameters ------------------------------------------------------
    @property
    def _initial_decay(self):
        return self.decay

    def _set_hyper(self, name, value):
        """Sets hyperparameter ``name`` (``learning_rate``/``lr`` and ``decay``
        are the optimizer's own)."""
        if name in _LR_NAMES:
            self.learning_rate = value
        elif name == "decay":
            self.decay = float(value)
        else:
            self.__dict__.setdefault("_hyper", {})[name] = value

    def _get_hyper(self, name, dtype=None):
        """The value of hyperparameter ``name`` (a Tensor of ``dtype`` if given)."""
        if name in _LR_NAMES:
            value = self._current_lr()
        elif name == "decay":
            value = self.decay
        else:
            hyper = self.__dict__.get("_hyper", {})
            if name not in hyper:
                raise AttributeError(f"Unknown hyperparameter: {name!r}. Set it with "
                                     "`_set_hyper` first.")
            value = hyper[name]
            if callable(value) and not isinstance(value, Tensor):
                value = value()
        if dtype is None:
            return value
        return _math.cast(convert_to_tensor(value), dtypes.as_dtype(dtype))

    def _serialize_hyperparameter(self, name):
        """A config-friendly value of hyperparameter ``name``."""
        if name in _LR_NAMES:
            value = self._learning_rate
        elif name == "decay":
            return self.decay
        else:
            value = self.__dict__.get("_hyper", {})[name]
        if isinstance(value, _schedules.LearningRateSchedule):
            return _schedules.serialize(value)
        if callable(value) and not isinstance(value, Tensor):
            value = value()
        if isinstance(value, Tensor):
            return float(value.numpy())
        return value

    def _build_learning_rate(self, learning_rate):
        """Keras 2.11's setter of the rate (float or schedule); returns it."""
        self.learning_rate = learning_rate
        return self._learning_rate

    def _decayed_lr(self, var_dtype):
        """The learning rate of this step (after ``decay``) as ``var_dtype``."""
        return _math.cast(self._step_lr(), dtypes.as_dtype(var_dtype))

    def _step_lr(self):
        """The rate this step uses: the schedule's or the variable's value, divided
        by ``1 + decay * iterations`` when Keras 2's ``decay`` is set."""
        lr = self._current_lr()
        if self.decay:
            steps = _math.cast(self.iterations, dtypes.float32)
            lr = _math.divide(lr, _math.add(_math.multiply(steps, self.decay), 1.0))
        return lr

    # -- slots ----------------------------------------------------------------
    def add_slot(self, var, slot_name, initializer="zeros"):
        """Creates (once) the slot ``slot_name`` of ``var``; Keras 2's ``add_slot``."""
        slots = self.__dict__.setdefault("_named_slots", {})
        key = (id(var), slot_name)
        if key not in slots:
            slots[key] = self.add_variable_from_reference(var, slot_name, initializer)
        return slots[key]

    def get_slot(self, var, slot_name):
        """The slot ``slot_name`` of ``var`` made by ``add_slot``."""
        try:
            return self.__dict__.get("_named_slots", {})[(id(var), slot_name)]
        except KeyError:
            raise KeyError(f"No slot named {slot_name!r} for variable {var.name}; "
                           "create it with `add_slot` in `_create_slots`.") from None

    def get_slot_names(self):
        """Names of the slots made by ``add_slot``, in creation order."""
        names = [n for _, n in self.__dict__.get("_named_slots", {})]
        return list(dict.fromkeys(names))

    def _create_slots(self, var_list):
        """Keras 2 hook: creates per-variable slots (``add_slot``) in ``build``."""

    def _var_key(self, variable):
        """Key of ``variable`` in ``_index_dict`` (Keras 2.11+)."""
        return id(variable)

    @property
    def _index_dict(self):
        return self._index

    # -- the per-variable update --------------------------------------------
    def _prepare_local(self, var_device, var_dtype, apply_state):
        """Keras 2 hook filling ``apply_state[(var_device, var_dtype)]``."""
        apply_state[(var_device, var_dtype)]["lr_t"] = self._decayed_lr(var_dtype)

    def _fallback_apply_state(self, var_device, var_dtype):
        state = {(var_device, var_dtype): {}}
        self._prepare_local(var_device, var_dtype, state)
        return state[(var_device, var_dtype)]

    def _keras2_update(self, gradient, variable):
        """Runs a Keras 2 ``_resource_apply_dense`` for one variable."""
        key = (variable.device, variable.dtype.base_dtype)
        state = {key: self._fallback_apply_state(*key)}
        return self._resource_apply_dense(gradient, variable, apply_state=state)

    def _update_fn(self):
        """``update(gradient, variable, lr)`` for this class's update style."""
        cls = type(self)
        style = cls.__dict__.get("_update_style_cache")
        if style is None:
            style = _update_style(cls)
            cls._update_style_cache = style
        if style == "keras2":
            return lambda g, v, lr: self._keras2_update(g, v)
        if style == "two_args":
            return lambda g, v, lr: self.update_step(g, v)
        return self.update_step


def _update_style(cls):
    """'keras2' (``_resource_apply_dense``), 'two_args' (Keras 2.11+ ``update_step(
    gradient, variable)``) or 'keras3' (``update_step(gradient, variable, lr)``)."""
    if getattr(cls.update_step, "_base_update_step", False) and \
            hasattr(cls, "_resource_apply_dense"):
        return "keras2"
    try:
        params = inspect.signature(cls.update_step).parameters
    except (TypeError, ValueError):
        return "keras3"
    positional = [p for p in params.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) == 3 and not any(p.kind == p.VAR_POSITIONAL
                                        for p in params.values()):
        return "two_args"
    return "keras3"
