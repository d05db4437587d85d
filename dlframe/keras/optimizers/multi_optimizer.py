"""``MultiOptimizer``: different optimizers for different variables (Keras 3)."""

import collections.abc
import re

from dlframe.keras.optimizers.optimizer import Optimizer


def _path(variable):
    return getattr(variable, "path", None) or variable.name.split(":")[0]


def _check_inner(optimizer, what):
    """Raises ValueError unless ``optimizer`` may sit inside a MultiOptimizer."""
    if not isinstance(optimizer, Optimizer):
        raise ValueError(  # noqa: TRY004 - Keras raises ValueError
            f"{what} must be a Keras Optimizer instance. Received: "
                         f"{optimizer!r}")
    if hasattr(optimizer, "inner_optimizer"):
        raise ValueError("LossScaleOptimizer cannot be used inside a MultiOptimizer.")
    if isinstance(optimizer, MultiOptimizer):
        raise ValueError(  # noqa: TRY004 - Keras raises ValueError
            "MultiOptimizer cannot be used inside a MultiOptimizer.")


class OptimizerMap(collections.abc.MutableMapping):
    """Maps variable paths (exact, else regular expressions) to optimizers.

    A key is looked up exactly first, then every key is tried as a pattern with
    ``re.fullmatch``; a path no key matches gets ``default_optimizer``.

    Args:
      default_optimizer: the Optimizer for unmatched variables.
      optimizer_map: optional dict ``{path or pattern: Optimizer}``.

    Raises:
      TypeError: ``default_optimizer`` is not an Optimizer or ``optimizer_map`` is
        not a dict.
    """

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError("default_optimizer must be a Keras Optimizer instance. "
                            f"Received: {default_optimizer!r}")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"optimizer_map must be a dictionary. Received: "
                            f"{optimizer_map!r}")
        self._default_optimizer = default_optimizer
        self._optimizer_map = {}
        for key, optimizer in (optimizer_map or {}).items():
            self[key] = optimizer

    @property
    def default_optimizer(self):
        return self._default_optimizer

    def __getitem__(self, key):
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matches = [p for p in self._optimizer_map if re.fullmatch(p, key)]
        if len(matches) > 1:
            raise ValueError(f"Multiple optimizers assigned to variable {key}.")
        return self._optimizer_map[matches[0]] if matches else self._default_optimizer

    def __setitem__(self, key, optimizer):
        if not isinstance(key, str):
            raise ValueError(  # noqa: TRY004 - Keras raises ValueError
                f"key must be a string. Received: {key!r}")
        if key in self._optimizer_map:
            raise ValueError(f"'{key}' already exists in the OptimizerMap with value "
                             f"{self._optimizer_map[key]}. Please make sure to not use "
                             "duplicated keys.")
        _check_inner(optimizer, "optimizer")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        return self[_path(variable)]

    def get_config(self):
        from dlframe.keras.optimizers import serialize
        return {"default_optimizer": serialize(self._default_optimizer),
                "optimizer_map": {k: serialize(v)
                                  for k, v in self._optimizer_map.items()}}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from dlframe.keras.optimizers import deserialize
        return cls(deserialize(config["default_optimizer"], custom_objects),
                   {k: deserialize(v, custom_objects)
                    for k, v in config["optimizer_map"].items()})


class MultiOptimizer(Optimizer):
    """Delegates each variable to the optimizer an ``OptimizerMap`` (or a callable
    ``variable -> Optimizer``) chooses.

    ``learning_rate`` is not defined on the wrapper (each sub-optimizer has its
    own); ``optimizers`` lists them and ``variables`` holds all their state.

    Args:
      optimizer_map: an ``OptimizerMap`` or a callable returning an Optimizer for
        a variable.
      loss_scale_factor: overrides the sub-optimizers' ``loss_scale_factor``.
      name: the optimizer's name.

    Raises:
      ValueError: (at build) a variable maps to something that is not a plain
        Optimizer (a LossScaleOptimizer or MultiOptimizer included).
    """

    _default_name = "multi_optimizer"
    _extensible = True

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        if not callable(optimizer_map):
            raise TypeError("`optimizer_map` must be an OptimizerMap or a callable "
                            f"returning an optimizer. Received: {optimizer_map!r}")
        self._inner_optimizers = []
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor,
                         name=name)
        self._optimizer_map = optimizer_map
        known = list(getattr(optimizer_map, "values", list)())
        default = getattr(optimizer_map, "default_optimizer", None)
        for optimizer in [*known, default]:
            if optimizer is not None:
                self._add_inner(optimizer)
        self._owner = {}   # id(variable) -> index into _inner_optimizers

    def _add_inner(self, optimizer):
        if not any(o is optimizer for o in self._inner_optimizers):
            optimizer.loss_scale_factor = self.loss_scale_factor
            self._inner_optimizers.append(optimizer)
        return next(i for i, o in enumerate(self._inner_optimizers) if o is optimizer)

    @property
    def optimizers(self):
        """The sub-optimizers."""
        return list(self._inner_optimizers)

    @property
    def use_ema(self):
        return any(o.use_ema for o in self._inner_optimizers)

    @use_ema.setter
    def use_ema(self, value):
        pass   # set by each sub-optimizer

    @property
    def learning_rate(self):
        raise AttributeError(
            "Learning rate cannot be accessed on a MultiOptimizer. Access the learning "
            "rate on the individual sub-optimizers instead.")

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError(
            "Learning rate cannot be set on a MultiOptimizer. Set the learning rate on "
            "the individual sub-optimizers instead.")

    lr = learning_rate

    @property
    def variables(self):
        """The wrapper's own variables, then each sub-optimizer's."""
        out = list(self._variables)
        for optimizer in self._inner_optimizers:
            out.extend(optimizer.variables)
        return out

    def build(self, var_list):
        groups = {}
        for var in var_list:
            if id(var) in self._owner:
                continue
            optimizer = self._optimizer_map(var)
            _check_inner(optimizer, f"The optimizer for variable {_path(var)}")
            index = self._add_inner(optimizer)
            self._owner[id(var)] = index
            groups.setdefault(index, []).append(var)
        for index, variables in groups.items():
            self._inner_optimizers[index].build(variables)
        start = len(self._trainable_variables)
        for i, var in enumerate(var_list):
            self._index.setdefault(id(var), start + i)
        self._trainable_variables.extend(var_list)
        self.built = True

    def _grouped(self, values, variables):
        groups = {}
        for value, var in zip(values, variables):
            groups.setdefault(self._owner[id(var)], []).append((value, var))
        return groups

    def apply(self, grads, trainable_variables=None):
        """Sends each gradient to its variable's sub-optimizer."""
        resolved = self._apply_arguments(grads, trainable_variables)
        if resolved is None:
            return
        grads, variables = resolved
        new = [v for v in variables if id(v) not in self._owner]
        if new:
            self.build(new)
        for index, pairs in self._grouped(grads, variables).items():
            self._inner_optimizers[index].apply([g for g, _ in pairs],
                                                [v for _, v in pairs])
        self._iterations.assign_add(1)

    def finalize_variable_values(self, var_list):
        known = [v for v in var_list if id(v) in self._owner]
        for index, pairs in self._grouped(known, known).items():
            self._inner_optimizers[index].finalize_variable_values(
                [v for _, v in pairs])

    def set_weights(self, weights):
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet "
                "been built. Please call `optimizer.build(trainable_variables)` to "
                "create the optimizer weights before calling `set_weights()`.")
        weights = list(weights)
        if len(weights) != len(self.variables):
            raise ValueError("Optimizer variable count mismatch: the optimizer has "
                             f"{len(self.variables)} variables, received "
                             f"{len(weights)} values.")
        for var, value in zip(self.variables, weights):
            var.assign(value)

    def get_weights(self):
        return [v.numpy() for v in self.variables]

    def get_config(self):
        if not isinstance(self._optimizer_map, OptimizerMap):
            raise NotImplementedError("A MultiOptimizer built on a callable cannot be "
                                      "serialized; use an OptimizerMap.")
        return {"optimizer_map": {"class_name": "OptimizerMap",
                                  "config": self._optimizer_map.get_config()},
                "loss_scale_factor": self.loss_scale_factor, "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["optimizer_map"] = OptimizerMap.from_config(
            config["optimizer_map"]["config"], custom_objects)
        return cls(**config)
