"""The Keras optimizer base class: variables, learning rate, clipping, weight decay, EMA.

Built-in optimizers update each variable with one fused primitive (see ``_kernels``);
custom subclasses follow Keras 3's API: ``build`` creates slots with
``add_variable_from_reference`` and ``update_step(gradient, variable, learning_rate)``
updates them with ``self.assign``/``assign_add``/``assign_sub``.
"""

import re
import warnings

from dlframe import distribute as _distribute
from dlframe.core import dtypes
from dlframe.core.indexed_slices import IndexedSlices
from dlframe.core.primitive import call
from dlframe.core.tape import GradientTape, graph_gradients
from dlframe.core.tensor import Tensor, convert_to_tensor, copy_to_device
from dlframe.core.variable import Variable
from dlframe.errors import ShapeMismatchError
from dlframe.keras.optimizers.clipping import (
    _every,
    clip_by_global_norm,  # noqa: F401
    clip_gradients,
)
from dlframe.keras.optimizers.keras2_api import Keras2OptimizerApi
from dlframe.keras.optimizers.optimizer_variables import OptimizerVariables
from dlframe.keras.optimizers.schedules import learning_rate_schedule as _schedules
from dlframe.keras.optimizers.slice_gradients import (
    clip_slices,
    concat_replica_slices,
    replica_slices,
)
from dlframe.ops import control_flow as _cf
from dlframe.ops import math as _math
from dlframe.ops import training_ops as _kernels


def _is_float(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)



def record_loss(loss_fn, var_list):
    """``(loss, tape)``: calls Keras 2's loss callable ``loss_fn`` under a new tape
    that watches ``var_list`` (unless it is a callable, resolved after the loss)."""
    with GradientTape() as tape:
        if not callable(var_list):
            tape.watch(list(var_list))
        loss = loss_fn()
    return loss, tape


def _scalar_on(scalar, device):
    """The optimizer's ``scalar`` for a kernel on ``device``: a variable on another
    device (a cell under RNNCellDeviceWrapper) gets a recorded copy, which a compiled
    step replays; a distributed one is read per replica by the call itself."""
    if scalar._device is device or isinstance(scalar, _distribute.DistributedVariable):
        return scalar
    return copy_to_device(scalar, device)


class Optimizer(OptimizerVariables, Keras2OptimizerApi):
    """Base class of Keras optimizers.

    Subclasses implement Keras 3's ``update_step(gradient, variable,
    learning_rate)``, Keras 2.11's ``update_step(gradient, variable)`` or Keras 2's
    ``_resource_apply_dense`` (see ``keras2_api``).

    Args:
      learning_rate: a float, a ``LearningRateSchedule`` or a callable returning a float.
      weight_decay: if set, decoupled weight decay ``var -= var * weight_decay * lr``.
      clipnorm: clip each gradient to this L2 norm.
      clipvalue: clip each gradient element to ``[-clipvalue, clipvalue]``.
      global_clipnorm: clip all gradients jointly to this global L2 norm.
      use_ema: keep an exponential moving average of the variables.
      ema_momentum: momentum of that average.
      ema_overwrite_frequency: every how many steps the variables are overwritten by
        their average (None: only by ``finalize_variable_values``).
      loss_scale_factor: gradients are divided by it before the update.
      gradient_accumulation_steps: apply the mean gradient every this many steps.
      name: the optimizer's name (prefix of its variables).
      **kwargs: Keras 2 arguments: ``lr`` (alias of ``learning_rate``) and ``decay``
        (time-based decay: each step uses ``lr / (1 + decay * iterations)``).
    """

    _default_name = "optimizer"
    # Keras 3 raises for variables the optimizer was not built with; the Keras 2
    # ``optimizers.legacy`` classes create their slots instead
    _extensible = False

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if isinstance(learning_rate, str) and name is None:
            # Keras 2 subclasses call ``super().__init__(name, **kwargs)`` and set
            # the rate with ``_set_hyper`` afterwards
            name, learning_rate = learning_rate, 0.001
        if "lr" in kwargs:
            learning_rate = kwargs.pop("lr")
        decay = kwargs.pop("decay", None) or 0.0
        for legacy in ("jit_compile", "is_legacy_optimizer", "mesh"):
            kwargs.pop(legacy, None)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}")
        if use_ema and not 0 <= ema_momentum <= 1:
            raise ValueError("`ema_momentum` must be in the range [0, 1]. "
                             f"Received: ema_momentum={ema_momentum}")
        if gradient_accumulation_steps is not None and int(gradient_accumulation_steps) < 2:
            raise ValueError("`gradient_accumulation_steps` must be an integer >= 2. "
                             f"Received: gradient_accumulation_steps="
                             f"{gradient_accumulation_steps}")
        if not _is_float(decay) or decay < 0:
            raise ValueError(f"`decay` must be a float >= 0. Received: decay={decay!r}")
        self.decay = float(decay)
        self.name = name or self._default_name
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False
        self._variables = []
        self._trainable_variables = []
        self._index = {}
        self._exclude_ids = set()
        self._exclude_names = []
        self._averages = []
        self._accumulated = []
        self._iterations = Variable(0, dtype=dtypes.int64, trainable=False,
                                    name=f"{self.name}/iteration")
        self._variables.append(self._iterations)
        self._learning_rate = None
        self._lr_var = None
        self._set_learning_rate(learning_rate)

    # -- learning rate -------------------------------------------------------
    def _set_learning_rate(self, value):
        if isinstance(value, _schedules.LearningRateSchedule):
            self._learning_rate = value
            return
        if callable(value) and not isinstance(value, Tensor):
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, _schedules.LearningRateSchedule):
            # as Keras: a float cannot replace a schedule (LearningRateScheduler,
            # ReduceLROnPlateau on such an optimizer fail instead of dropping it)
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not "
                f"settable (received learning_rate={value!r}). If you need the learning "
                "rate to be settable, instantiate the optimizer with a float "
                "`learning_rate` argument.")
        try:
            if isinstance(value, (str, bytes)):   # float("0.01") would accept it
                raise TypeError(value)
            val = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                "Argument `learning_rate` should be float, or an instance of "
                "LearningRateSchedule, or a callable (that takes in the current "
                f"iteration value and returns the corresponding learning rate value). "
                f"Received instead: learning_rate={value!r}") from None
        if self._lr_var is None:
            self._lr_var = Variable(val, dtype=dtypes.float32, trainable=False,
                                    name=f"{self.name}/learning_rate")
            self._variables.insert(1, self._lr_var)
        else:
            self._lr_var.assign(val)
        self._learning_rate = self._lr_var

    @property
    def learning_rate(self):
        """The current learning rate (a Variable, or the schedule's value now)."""
        return self._current_lr()

    @learning_rate.setter
    def learning_rate(self, value):
        if value is not self._lr_var:
            self._set_learning_rate(value)

    lr = learning_rate

    def _current_lr(self):
        lr = self._learning_rate
        if lr is self._lr_var:
            return lr
        if isinstance(lr, _schedules.LearningRateSchedule):
            return lr(self._iterations)
        value = lr()
        return value if isinstance(value, Tensor) else \
            convert_to_tensor(float(value), dtype=dtypes.float32)

    @property
    def iterations(self):
        """Number of updates so far: ``apply_gradients`` calls (an int64 Variable), or
        with ``gradient_accumulation_steps`` the calls divided by the steps (a Tensor),
        as in Keras 3."""
        if self.gradient_accumulation_steps:
            return _math.floordiv(self._iterations, int(self.gradient_accumulation_steps))
        return self._iterations

    @iterations.setter
    def iterations(self, value):
        if isinstance(value, Variable):   # Keras 2: adopt it (e.g. the global step)
            self._variables[self._variables.index(self._iterations)] = value
            self._iterations = value
            return
        self._iterations.assign(int(value))

    @property
    def variables(self):
        """All variables of the optimizer: iterations, learning rate and slots."""
        return list(self._variables)

    def get_weights(self):
        return [v.numpy() for v in self._variables]

    def __getstate__(self):
        # _index/_exclude_ids hold id()s, which do not survive pickling (SavedModel)
        state = dict(self.__dict__)
        state["_exclude_ids"] = [v for v in self._trainable_variables
                                 if id(v) in self._exclude_ids]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._index = {id(v): i for i, v in enumerate(self._trainable_variables)}
        self._exclude_ids = {id(v) for v in state["_exclude_ids"]}

    def set_weights(self, weights):
        if len(weights) != len(self._variables):
            raise ValueError(
                f"Optimizer variable count mismatch: the optimizer has "
                f"{len(self._variables)} variables, received {len(weights)} values.")
        for v, w in zip(self._variables, weights):
            v.assign(w)

    # -- variables -----------------------------------------------------------
    def build(self, var_list):
        """Records ``var_list`` and creates the optimizer's per-variable state."""
        start = len(self._trainable_variables)
        for i, var in enumerate(var_list):
            self._index[id(var)] = start + i
            self._trainable_variables.append(var)
            if self.use_ema:
                self._averages.append(self.add_variable_from_reference(
                    var, "average", initializer=var))
            if self.gradient_accumulation_steps:
                self._accumulated.append(self.add_variable_from_reference(
                    var, "gradient_accumulator"))
        self._create_slots(var_list)
        self.built = True

    def _get_variable_index(self, variable):
        try:
            return self._index[id(variable)]
        except KeyError:
            raise KeyError(f"The optimizer cannot recognize variable {variable.name}. "
                           "This usually means you are trying to call the optimizer to "
                           "update different parts of the model separately. Please call "
                           "`optimizer.build(variables)` with the full list of trainable "
                           "variables before the training loop or use legacy optimizer "
                           "`tf.keras.optimizers.legacy.{self.__class__.__name__}.") \
                from None

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Excludes variables (or variables whose name contains a string) from decay."""
        for v in var_list or ():
            self._exclude_ids.add(id(v))
        self._exclude_names.extend(var_names or ())

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        name = variable.name
        return not any(re.search(n, name) for n in self._exclude_names)

    # -- the update ----------------------------------------------------------
    def scale_loss(self, loss):
        """``loss * loss_scale_factor`` when that is set (``apply`` divides the
        gradients by it again); ``loss`` unchanged otherwise."""
        if self.loss_scale_factor is None:
            return loss
        return _math.multiply(loss, float(self.loss_scale_factor))

    def minimize(self, loss, var_list, tape=None, grad_loss=None, name=None):
        """Computes gradients of ``loss`` and applies them to ``var_list``.

        Args:
          loss: a callable returning the loss (Keras 2) or a loss Tensor computed
            under ``tape`` (Keras 3).
          var_list: variables, or a callable returning them.
          tape: the GradientTape that recorded a Tensor ``loss``.
          grad_loss: optional gradient of the final loss w.r.t. ``loss`` (Keras 2).
          name: ignored (Keras 2's op name).
        """
        if tape is None and not callable(loss):
            params = list(var_list() if callable(var_list) else var_list)
            grads = graph_gradients(loss, params)
            if grads is not None:   # a tf.estimator model_fn (a graph in Keras 2)
                return self.apply_gradients(zip(grads, params))
            raise ValueError("`tape` is required when a `Tensor` loss is passed. "
                             f"Received: loss={loss!r}, tape={tape}.")
        if callable(loss):
            loss, tape = record_loss(loss, var_list)
        if callable(var_list):
            var_list = var_list()
        var_list = list(var_list)
        grads = tape.gradient(loss, var_list, output_gradients=grad_loss)
        return self.apply_gradients(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars, name=None, skip_gradients_aggregation=False,
                        **kwargs):
        """Applies ``(gradient, variable)`` pairs; returns ``iterations``.

        Inside ``strategy.run`` with several replicas the gradients are summed over
        the replicas (``skip_gradients_aggregation=True``: they already were, and the
        first replica's are used) and each variable is updated once.
        """
        pairs = list(grads_and_vars)
        if "experimental_aggregate_gradients" in kwargs:   # Keras 2's other spelling
            skip_gradients_aggregation = not kwargs["experimental_aggregate_gradients"]
        ctx = _distribute.get_replica_context()
        if ctx is not None and ctx.num_replicas_in_sync > 1:
            return ctx.merge_call(self._apply_merged, args=(pairs,),
                                  kwargs={"aggregate": not skip_gradients_aggregation})
        grads = [g for g, _ in pairs]
        variables = [v for _, v in pairs]
        self.apply(grads, variables)
        return self._iterations

    def _apply_merged(self, strategy, pairs, aggregate=True):
        """Cross-replica part of ``apply_gradients``: one update from the replicas'
        gradients (PerReplica values), then the mirrored copies are refreshed."""
        variables = [v for _, v in pairs]
        grads = [g for g, _ in pairs]
        if aggregate:
            sparse = {i: concat_replica_slices(g) for i, g in enumerate(grads)
                      if replica_slices(g)}
            dense = strategy.extended._reduce_gradients(
                [None if i in sparse else g for i, g in enumerate(grads)])
            grads = [sparse.get(i, g) for i, g in enumerate(dense)]
        else:
            grads = [g.values[0] if isinstance(g, _distribute.PerReplica) else g
                     for g in grads]
        with strategy.scope():
            self.apply(grads, variables)
        self._sync_components(variables)
        return self._iterations

    def _sync_components(self, variables):
        """Copies the updated ``variables`` and this optimizer's own (slots written
        in place) to the other replicas' buffers of each distributed variable."""
        for v in list(variables) + self._variables:
            sync = getattr(v, "_sync_mirrors", None)
            if sync is not None:
                sync()

    def _apply_arguments(self, grads, trainable_variables):
        """``apply``'s gradients and variables as two lists of one length (the built
        variables when none are given); None when there are no gradients."""
        grads = list(grads)
        if not grads:
            return None
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already "
                    "be built on a list of variables. Call `optimizer.build("
                    "trainable_variables)` first.")
            variables = list(self._trainable_variables)
        else:
            variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"Expected {len(variables)} gradients, one per variable, "
                             f"received {len(grads)}.")
        return grads, variables

    def apply(self, grads, trainable_variables=None):
        """Updates ``trainable_variables`` with ``grads`` (one gradient per variable)."""
        resolved = self._apply_arguments(grads, trainable_variables)
        if resolved is None:
            return
        grads, variables = resolved
        index = self._index
        new = [v for v in variables if id(v) not in index]
        if new:
            if self.built and not self._extensible:
                var = new[0]   # no value in the text: it may be a traced capture
                raise ValueError(
                    "Unknown variable: <Variable path="
                    f"{getattr(var, 'path', None) or var.name.split(':')[0]}, "
                    f"shape={tuple(var.shape)}, dtype={var.dtype.name}>. "
                    "This optimizer can only be called for "
                    "the variables it was originally built with. When working with a new "
                    "set of variables, you should recreate a new optimizer instance.")
            self.build(new)
        if all(g is None for g in grads):   # Keras 2 and 3 raise here
            raise ValueError(f"No gradients provided for any variable: "
                             f"{[v.name for v in variables]}.")
        if any(g is None for g in grads):
            missing = [v.name for g, v in zip(grads, variables) if g is None]
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the "
                "loss. If using `model.compile()`, did you forget to provide a `loss` "
                "argument?", stacklevel=3)
            kept = [(g, v) for g, v in zip(grads, variables) if g is not None]
            grads = [g for g, _ in kept]
            variables = [v for _, v in kept]
        if grads:
            sparse = self._takes_slices()
            if self.loss_scale_factor is not None:   # unscaled before any clipping (TF)
                grads = [_unscaled(g, v, float(self.loss_scale_factor))
                         for g, v in zip(grads, variables)]
            rows_clipped = self._clip_slice_rows(grads)
            if rows_clipped is not None:
                grads = rows_clipped
            grads = [g if isinstance(g, Tensor) or (sparse and isinstance(g, IndexedSlices))
                     else convert_to_tensor(g, dtype=v.dtype)   # slices: dense, summed
                     for g, v in zip(grads, variables)]
            _check_gradient_shapes(grads, variables)
            if self.gradient_accumulation_steps:
                self._accumulate_and_update(grads, variables)
            else:
                self._update(grads, variables, clipped=rows_clipped is not None)
        self._iterations.assign_add(1)

    def _clip_slice_rows(self, grads):
        """The gradients clipped before IndexedSlices are densified (their rows, as
        TF); None when no slices need it."""
        if self.gradient_accumulation_steps:
            return None
        return clip_slices(grads, self.clipnorm, self.global_clipnorm, self.clipvalue)

    def _update(self, grads, variables, clipped=False):
        if not clipped and (self.clipnorm or self.clipvalue or self.global_clipnorm):
            grads = self._clip_gradients(grads)
        lr = self._step_lr()
        if self._decays_weights():
            self._apply_weight_decay(variables, lr)
        self._prepare_step(lr)
        update = self._update_fn()
        for g, v in zip(grads, variables):
            update(g, v, lr)
        for v in variables:
            if v._constraint is not None:
                v.assign(v._constraint(v))
        if self.use_ema:
            self._update_ema(variables)

    def _accumulate_and_update(self, grads, variables):
        steps = int(self.gradient_accumulation_steps)
        accs = [self._accumulated[self._index[id(v)]] for v in variables]

        def update():
            mean = [_math.divide(_math.add(g, a), float(steps)) for g, a in zip(grads, accs)]
            self._update(mean, variables)
            for a in accs:
                a.assign(_math.zeros_like(a))
            return convert_to_tensor(0)

        def accumulate():
            for a, g in zip(accs, grads):
                a.assign_add(_math.cast(g, a.dtype))
            return convert_to_tensor(0)
        # a tensor condition, so a compiled step decides at run time
        _cf.cond(_every(self._iterations, steps), update, accumulate)

    def _takes_slices(self):
        """Whether ``update_step`` gets IndexedSlices gradients as they are (an
        optimizer whose sparse update equals the dense one, with no clipping, loss
        scaling or accumulation that works on dense gradients); otherwise they are
        densified first, so every update equals the dense-gradient update."""
        return False

    def _sparse_update_applies(self, cls):
        """True when ``cls``'s own ``update_step`` (with a sparse path) runs and no
        dense transform (accumulation) comes first (``loss_scale_factor`` has divided
        and clipping has clipped the slices' rows, see ``_clip_slice_rows``)."""
        return (type(self).update_step is cls.update_step
                and not self.gradient_accumulation_steps)

    def _prepare_step(self, lr):
        """Hook run once per step before the per-variable updates."""

    def update_step(self, gradient, variable, learning_rate):
        """Updates one variable; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement `update_step`.")

    update_step._base_update_step = True

    def _clip_gradients(self, grads):
        return clip_gradients(grads, self.clipnorm, self.global_clipnorm,
                              self.clipvalue)

    def _decays_weights(self):
        """Whether ``_apply_weight_decay`` runs before the updates of a step."""
        return bool(self.weight_decay)

    def _apply_weight_decay(self, variables, lr):
        wd = float(self.weight_decay)
        for v in variables:
            if self._use_weight_decay(v):
                factor = _math.multiply(_math.cast(lr, v.dtype), wd)
                v.assign_sub(_math.multiply(v, factor))

    def _update_ema(self, variables):
        mom = float(self.ema_momentum)
        for v in variables:
            avg = self._averages[self._index[id(v)]]
            call(_kernels.ema_p, (avg, v, self._iterations), {"momentum": mom})
        freq = self.ema_overwrite_frequency
        if freq:
            def overwrite():
                self._overwrite_with_average(variables)
                return convert_to_tensor(0)
            _cf.cond(_every(self._iterations, int(freq)), overwrite,
                     lambda: convert_to_tensor(0))

    def _overwrite_with_average(self, variables):
        for v in variables:
            v.assign(self._averages[self._index[id(v)]])

    def finalize_variable_values(self, var_list):
        """With ``use_ema``, sets the variables to their moving averages (end of fit)."""
        if self.use_ema and self._averages:
            self._overwrite_with_average([v for v in var_list if id(v) in self._index])

    def _kernel_update(self, prim, variable, slots, gradient, learning_rate, attrs,
                       extra=()):
        """Runs a fused kernel (built-in optimizers' ``update_step``)."""
        device = variable._device
        lr = _scalar_on(learning_rate, device)
        if lr._device is not device:   # a distributed one on another replica's device
            lr = convert_to_tensor(lr.numpy(), device=device)
        it = _scalar_on(self.iterations, device)
        call(prim, (variable, *slots, gradient, lr, it, *extra), attrs)

    # -- config --------------------------------------------------------------
    def get_config(self):
        lr = self._learning_rate
        if isinstance(lr, _schedules.LearningRateSchedule):
            lr_conf = _schedules.serialize(lr)
        elif lr is self._lr_var:
            lr_conf = float(self._lr_var.numpy())
        else:
            lr_conf = lr
        return {
            "name": self.name, "learning_rate": lr_conf,
            "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
            "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
            **({"decay": self.decay} if self.decay else {}),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _schedules.deserialize(
                config["learning_rate"], custom_objects=custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


def _unscaled(grad, variable, factor):
    """``grad / factor`` (``loss_scale_factor``); an IndexedSlices keeps its rows."""
    if isinstance(grad, IndexedSlices):
        return IndexedSlices(_math.divide(grad.values, factor), grad.indices,
                             grad.dense_shape)
    if not isinstance(grad, Tensor):
        grad = convert_to_tensor(grad, dtype=variable.dtype)
    return _math.divide(grad, factor)


def _check_gradient_shapes(grads, variables):
    """TF's error for a dense gradient whose shape is not its variable's."""
    for g, v in zip(grads, variables):
        if not isinstance(g, Tensor):
            continue
        g_shape, v_shape = tuple(g.shape), tuple(v.shape)
        if None not in g_shape + v_shape and g_shape != v_shape:
            raise ShapeMismatchError(
                f"Cannot update variable {v.name!r} with shape {list(v.shape)} using a "
                f"gradient with shape {list(g.shape)}, shapes must be equal.")
