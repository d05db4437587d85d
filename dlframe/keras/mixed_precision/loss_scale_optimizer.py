"""``LossScaleOptimizer``: dynamic loss scaling for float16 training.

float16 gradients of small losses underflow to zero. The loss is multiplied by a large
scale before differentiation and the gradients divided by it before the update. The
scale halves (and the step is skipped) whenever a gradient is not finite, and doubles
after ``dynamic_growth_steps`` finite steps in a row.

Both Keras APIs work: Keras 2's ``get_scaled_loss`` / ``get_unscaled_gradients`` /
``apply_gradients(unscaled)`` and Keras 3's ``scale_loss`` / ``apply_gradients(scaled)``.
Which one a program speaks is decided by the scaling method it calls, and the choice
sticks (it does not reset per step): a ``tf.function`` replaying a traced
``scale_loss`` runs no Python, so a per-step flag would be lost on the second step.
After ``scale_loss`` (Keras 3, and ``Model.fit``) ``apply_gradients`` unscales the
gradients itself, and a skipped (non-finite) step does not count in ``iterations``;
after ``get_scaled_loss`` / ``get_unscaled_gradients`` (Keras 2), or when neither was
called, ``apply_gradients`` applies the gradients as given and a skipped step still
counts, as Keras 2 did.
"""

from dlframe.core import dtypes
from dlframe.core.indexed_slices import IndexedSlices, like_slices
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.variable import Variable
from dlframe.distribute.strategy import get_replica_context
from dlframe.keras.optimizers.optimizer import Optimizer, record_loss
from dlframe.ops import control_flow as _cf
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red


class LossScaleOptimizer(Optimizer):
    """An optimizer wrapper that applies (dynamic) loss scaling.

    ``Model.compile`` wraps its optimizer in one when the model's dtype policy is
    ``'mixed_float16'``; custom training loops scale the loss themselves.

    Args:
      inner_optimizer: the Optimizer doing the updates.
      dynamic: adapt the scale to the gradients (True) or keep ``initial_scale``.
      initial_scale: the starting scale (default ``2**15``; required when
        ``dynamic=False``).
      dynamic_growth_steps: finite steps in a row after which the scale doubles
        (default 2000).
      name: unused; the optimizer reports the inner optimizer's name.

    Example:

    >>> opt = tf.keras.mixed_precision.LossScaleOptimizer(tf.keras.optimizers.SGD())
    >>> with tf.GradientTape() as tape:
    ...     loss = loss_fn()
    ...     scaled_loss = opt.get_scaled_loss(loss)
    >>> grads = opt.get_unscaled_gradients(tape.gradient(scaled_loss, var_list))
    >>> opt.apply_gradients(zip(grads, var_list))
    """

    def __init__(self, inner_optimizer, dynamic=True, initial_scale=None,
                 dynamic_growth_steps=None, name=None, **kwargs):
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError("`inner_optimizer` must be an instance of "
                            "`tf.keras.optimizers.Optimizer`, but got: "
                            f"{inner_optimizer!r}")
        if isinstance(inner_optimizer, LossScaleOptimizer):
            raise TypeError("LossScaleOptimizer cannot wrap another LossScaleOptimizer.")
        if not dynamic and initial_scale is None:
            raise ValueError('"initial_scale" must be specified if "dynamic" is False')
        if not dynamic and dynamic_growth_steps is not None:
            raise ValueError('"dynamic_growth_steps" must be None if "dynamic" is False, '
                             f"but got: {dynamic_growth_steps}")
        kwargs.pop("loss_scale_factor", None)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        scale = 2.0 ** 15 if initial_scale is None else float(initial_scale)
        if scale <= 0:
            raise ValueError(f"`initial_scale` must be positive, got {initial_scale}")
        self.inner_optimizer = inner_optimizer
        self.dynamic = bool(dynamic)
        self.initial_scale = scale
        self.dynamic_growth_steps = (2000 if dynamic_growth_steps is None
                                     else int(dynamic_growth_steps))
        self.name = inner_optimizer.name
        self.loss_scale_factor = None
        self._loss_scale = Variable(scale, dtype=dtypes.float32, trainable=False,
                                    name="loss_scale")
        self._counter = Variable(0, dtype=dtypes.int64, trainable=False,
                                 name="dynamic_counter")
        self._keras3 = False   # the program scales with scale_loss (see module doc)

    # -- delegation to the inner optimizer ------------------------------------------
    @property
    def built(self):
        return self.inner_optimizer.built

    @built.setter
    def built(self, value):
        pass

    def build(self, var_list):
        self.inner_optimizer.build(var_list)

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    @iterations.setter
    def iterations(self, value):
        self.inner_optimizer.iterations = value

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    lr = learning_rate

    @property
    def variables(self):
        """The inner optimizer's variables, then the loss scale and growth counter."""
        return self.inner_optimizer.variables + [self._loss_scale, self._counter]

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    # -- loss scaling ---------------------------------------------------------------
    @property
    def loss_scale(self):
        """The current loss scale (a float32 scalar Variable)."""
        return self._loss_scale

    dynamic_scale = loss_scale   # Keras 3's name

    @property
    def dynamic_counter(self):
        """Finite steps since the scale last changed (an int64 Variable)."""
        return self._counter

    def _scale(self, loss):
        loss = loss if isinstance(loss, Tensor) else convert_to_tensor(loss)
        return _math.multiply(loss, _math.cast(self._loss_scale, loss.dtype))

    def get_scaled_loss(self, loss):
        """``loss * loss_scale`` (Keras 2); pass the gradients of it through
        ``get_unscaled_gradients`` before ``apply_gradients``."""
        self._keras3 = False
        if callable(loss):
            return lambda: self._scale(loss())
        return self._scale(loss)

    def scale_loss(self, loss):
        """``loss * loss_scale`` (Keras 3); ``apply_gradients`` then takes the
        gradients of it as they are and unscales them itself."""
        self._keras3 = True
        return self._scale(loss)

    def get_unscaled_gradients(self, grads):
        """Each gradient divided by the loss scale (None stays None); Keras 2's API,
        so ``apply_gradients`` then takes the gradients as they are."""
        self._keras3 = False
        return self._unscale(grads)

    def _unscale(self, grads):
        return [None if g is None else _unscale_one(g, self._loss_scale) for g in grads]

    def apply_gradients(self, grads_and_vars, name=None, skip_gradients_aggregation=False,
                        **kwargs):
        """Applies the gradients when all are finite; updates the loss scale.

        After ``scale_loss`` the gradients are the scaled ones and are unscaled here
        (Keras 3); otherwise they are applied as given (Keras 2).

        Returns:
          The inner optimizer's ``iterations`` (a skipped step counts in Keras 2's
          form only).
        """
        if "experimental_aggregate_gradients" in kwargs:   # Keras 2's other spelling
            skip_gradients_aggregation = not kwargs["experimental_aggregate_gradients"]
        return self._apply_pairs(list(grads_and_vars), unscale=self._keras3,
                                 aggregate=not skip_gradients_aggregation)

    def minimize(self, loss, var_list, tape=None, grad_loss=None, name=None):
        """Minimizes ``loss`` with loss scaling: the gradients are taken of the scaled
        loss, unscaled, and applied when finite (both Keras forms: a callable loss,
        or a Tensor loss recorded under ``tape``)."""
        if callable(loss):
            loss, tape = record_loss(loss, var_list)
        elif tape is None:
            raise ValueError("`tape` is required when a `Tensor` loss is passed. "
                             f"Received: loss={loss!r}, tape={tape}.")
        var_list = list(var_list() if callable(var_list) else var_list)
        loss = loss if isinstance(loss, Tensor) else convert_to_tensor(loss)
        # d(scale * loss) = scale * d(loss): the scale enters as the output gradient
        seed = _math.cast(self._loss_scale, loss.dtype)
        if grad_loss is not None:
            seed = _math.multiply(seed, grad_loss)
        seed = _math.multiply(_logic.ones_like(loss), seed)
        grads = tape.gradient(loss, var_list, output_gradients=seed)
        return self._apply_pairs(list(zip(grads, var_list)), unscale=True)

    def _apply_pairs(self, pairs, unscale, aggregate=True):
        keras3 = self._keras3
        if unscale:
            unscaled = self._unscale([g for g, _ in pairs])
            pairs = list(zip(unscaled, [v for _, v in pairs]))
        grads = [g for g, _ in pairs if g is not None]
        variables = [v for _, v in pairs]
        if not self.inner_optimizer.built:    # slots must not be created in a branch
            self.inner_optimizer.build(variables)
        if not self.dynamic:
            return self.inner_optimizer.apply_gradients(
                pairs, skip_gradients_aggregation=not aggregate)
        ctx = get_replica_context()
        if ctx is not None and ctx.num_replicas_in_sync > 1:
            # TF's rule: no merge_call inside a cond branch, so the replicas' gradients
            # are summed first and the finite check and update run cross-replica
            return ctx.merge_call(self._apply_merged, args=(pairs,),
                                  kwargs={"aggregate": aggregate})
        finite = _all_finite(grads)
        inner = self.inner_optimizer

        def apply():
            inner.apply_gradients(pairs)
            grown = _math.greater_equal(self._counter + 1, self.dynamic_growth_steps)
            self._counter.assign(_math.cast(
                _math.logical_not(grown), dtypes.int64) * (self._counter + 1))
            self._loss_scale.assign(self._loss_scale * _math.cast(
                _math.add(_math.cast(grown, dtypes.float32), 1.0), dtypes.float32))
            return convert_to_tensor(0)

        def skip():
            if not keras3:
                inner._iterations.assign_add(1)
            self._counter.assign(0)
            self._loss_scale.assign(_math.maximum(self._loss_scale * 0.5, 1.0))
            return convert_to_tensor(0)
        _cf.cond(finite, apply, skip)
        return inner.iterations

    def _apply_merged(self, strategy, pairs, aggregate=True):
        variables = [v for _, v in pairs]
        grads = [g for g, _ in pairs]
        # already summed by the caller (skip_gradients_aggregation): replica 0's
        grads = strategy.extended._reduce_gradients(grads) if aggregate else \
            strategy.experimental_local_results(grads)[0]
        iterations = self._apply_pairs(list(zip(grads, variables)), unscale=False)
        self.inner_optimizer._sync_components(variables)
        return iterations

    def apply(self, grads, trainable_variables=None):
        variables = (self.inner_optimizer._trainable_variables
                     if trainable_variables is None else trainable_variables)
        return self.apply_gradients(zip(grads, variables))

    # -- config ---------------------------------------------------------------------
    def get_config(self):
        from dlframe.keras import optimizers
        return {"name": self.name,
                "inner_optimizer": optimizers.serialize(self.inner_optimizer),
                "dynamic": self.dynamic,
                "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps if self.dynamic
                else None}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from dlframe.keras import optimizers
        config = dict(config)
        config["inner_optimizer"] = optimizers.deserialize(config["inner_optimizer"],
                                                           custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<LossScaleOptimizer inner={self.inner_optimizer!r}>"


def _unscale_one(grad, scale):
    """``grad / scale``; an IndexedSlices keeps its rows (only the values scale)."""
    if isinstance(grad, IndexedSlices):
        return like_slices(grad, _unscale_one(grad.values, scale), grad.indices)
    return _math.divide(grad, _math.cast(scale, grad.dtype))


def _all_finite(grads):
    flags = [_red.reduce_all(_math.is_finite(
        g.values if isinstance(g, IndexedSlices) else g)) for g in grads]
    out = flags[0] if flags else convert_to_tensor(True)
    for f in flags[1:]:
        out = _math.logical_and(out, f)
    return out
