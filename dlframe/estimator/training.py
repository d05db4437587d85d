"""``tf.estimator.train_and_evaluate`` with ``TrainSpec``/``EvalSpec`` (local: one
process trains, and evaluates after checkpoint saves and at the end)."""

import collections
import logging
import time

from dlframe.estimator.estimator import Estimator
from dlframe.estimator.hooks import CheckpointSaverListener, check_hooks

_LOG = logging.getLogger("dlframe")


class TrainSpec(collections.namedtuple(
        "TrainSpec", ("input_fn", "max_steps", "hooks", "saving_listeners"))):
    """What ``train_and_evaluate`` trains on.

    Args:
      input_fn: the training ``input_fn``.
      max_steps: global step to train to (None: until the input ends).
      hooks: SessionRunHooks for training.
      saving_listeners: CheckpointSaverListeners.
    """

    def __new__(cls, input_fn, max_steps=None, hooks=None, saving_listeners=None):
        if not callable(input_fn):
            raise TypeError(f"`input_fn` must be callable, given: {input_fn!r}")
        if max_steps is not None and max_steps <= 0:
            raise ValueError(f"Must specify max_steps > 0, given: {max_steps}")
        return super().__new__(cls, input_fn, max_steps,
                               tuple(check_hooks(hooks, "TrainSpec")),
                               tuple(saving_listeners or ()))


class EvalSpec(collections.namedtuple(
        "EvalSpec", ("input_fn", "steps", "name", "hooks", "exporters",
                     "start_delay_secs", "throttle_secs"))):
    """What ``train_and_evaluate`` evaluates on.

    Args:
      input_fn: the evaluation ``input_fn``.
      steps: batches per evaluation (default 100; None: the whole input).
      name: name of the evaluation.
      hooks: SessionRunHooks for evaluation.
      exporters: accepted; exporting is not supported (must be empty).
      start_delay_secs: accepted for compatibility.
      throttle_secs: evaluate after a checkpoint save only if this many seconds
        passed since the last evaluation (default 600).
    """

    def __new__(cls, input_fn, steps=100, name=None, hooks=None, exporters=None,
                start_delay_secs=120, throttle_secs=600):
        if not callable(input_fn):
            raise TypeError(f"`input_fn` must be callable, given: {input_fn!r}")
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        if exporters:
            raise NotImplementedError("EvalSpec exporters are not supported by "
                                      "dlframe (no SavedModel export of a model_fn).")
        if throttle_secs < 0:
            raise ValueError(f"Must specify throttle_secs >= 0, given: {throttle_secs}")
        return super().__new__(cls, input_fn, steps, name,
                               tuple(check_hooks(hooks, "EvalSpec")), (),
                               start_delay_secs, throttle_secs)


class _EvalListener(CheckpointSaverListener):
    def __init__(self, estimator, eval_spec):
        self._estimator, self._spec = estimator, eval_spec
        self._last_time = time.time()
        self.result, self.step = None, None

    def evaluate(self, step):
        spec = self._spec
        self.result = self._estimator.evaluate(spec.input_fn, steps=spec.steps,
                                               hooks=list(spec.hooks), name=spec.name)
        self.step, self._last_time = step, time.time()

    def after_save(self, session, global_step_value):
        if time.time() - self._last_time >= self._spec.throttle_secs:
            self.evaluate(global_step_value)


def train_and_evaluate(estimator, train_spec, eval_spec):
    """Trains ``estimator`` per ``train_spec``, evaluating per ``eval_spec`` after
    checkpoint saves (at most every ``throttle_secs``) and once at the end.

    Returns:
      (the final evaluation's metrics dict, export results: an empty list).

    Raises:
      TypeError: for arguments of the wrong types.
    """
    if not isinstance(estimator, Estimator):
        raise TypeError(f"`estimator` must have type `tf.estimator.Estimator`. Got: "
                        f"{type(estimator)}")
    if not isinstance(train_spec, TrainSpec):
        raise TypeError(f"`train_spec` must have type `tf.estimator.TrainSpec`. Got: "
                        f"{type(train_spec)}")
    if not isinstance(eval_spec, EvalSpec):
        raise TypeError(f"`eval_spec` must have type `tf.estimator.EvalSpec`. Got: "
                        f"{type(eval_spec)}")
    listener = _EvalListener(estimator, eval_spec)
    _LOG.info("Running training and evaluation locally (non-distributed).")
    estimator.train(train_spec.input_fn, hooks=list(train_spec.hooks),
                    max_steps=train_spec.max_steps,
                    saving_listeners=list(train_spec.saving_listeners) + [listener])
    step = int(estimator._scope.global_step.numpy())
    if listener.step != step:
        listener.evaluate(step)
    return listener.result, []
