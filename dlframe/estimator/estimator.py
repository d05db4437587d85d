"""``tf.estimator.Estimator``: train/evaluate/predict a ``model_fn`` from checkpoints
in ``model_dir`` (TF 2.0-2.15's API; TF 2.16 removed it).

TensorFlow builds the ``model_fn`` into a graph and runs it in a session. dlframe
calls it eagerly once per batch inside a ``ModelScope`` (see there), which keeps the
variables across calls, and in TRAIN records it on a tape, so that
``optimizer.minimize(loss, global_step=...)`` applies the step where it is called.
"""

import contextlib
import copy
import logging
import os
import tempfile
import time

from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.estimator import hooks as _hooks
from dlframe.estimator import inputs as _inputs
from dlframe.estimator.model_fn import EstimatorSpec, ModeKeys, is_metric_object
from dlframe.estimator.model_scope import ModelScope
from dlframe.estimator.run_config import RunConfig
from dlframe.ops import random_kernels as _random
from dlframe.train import checkpoint_reader as _reader

_LOG = logging.getLogger("dlframe")


def _positive(name, value):
    if value is not None and (not isinstance(value, int) or value <= 0):
        raise ValueError(f"Must specify {name} > 0, given: {value!r}")
    return value


def _numpy(value):
    """A Tensor (or metric result) as NumPy; 0-d as a NumPy scalar."""
    if not isinstance(value, Tensor):
        value = convert_to_tensor(value)
    arr = value.numpy()
    return arr[()] if getattr(arr, "ndim", 1) == 0 else arr


class WarmStartSettings:
    """Where to warm-start variables from when ``model_dir`` has no checkpoint.

    Args:
      ckpt_to_initialize_from: a checkpoint prefix or a directory with checkpoints.
      vars_to_warm_start: a regular expression over variable names (default all
        trainable variables).
      var_name_to_vocab_info, var_name_to_prev_var_name: accepted; not supported
        when non-empty.
    """

    def __init__(self, ckpt_to_initialize_from, vars_to_warm_start=".*",
                 var_name_to_vocab_info=None, var_name_to_prev_var_name=None):
        if var_name_to_vocab_info or var_name_to_prev_var_name:
            raise NotImplementedError("WarmStartSettings: var_name_to_vocab_info and "
                                      "var_name_to_prev_var_name are not supported.")
        if isinstance(vars_to_warm_start, (list, tuple)):
            vars_to_warm_start = "|".join(f"(?:{v})" for v in vars_to_warm_start)
        self.ckpt_to_initialize_from = os.fspath(ckpt_to_initialize_from)
        self.vars_to_warm_start = vars_to_warm_start or ".*"


class Estimator:
    """Trains, evaluates and predicts with the model a ``model_fn`` builds.

    Args:
      model_fn: ``model_fn(features, labels, mode, params, config)`` (``labels``,
        ``mode``, ``params`` and ``config`` optional) returning an EstimatorSpec.
      model_dir: directory of checkpoints; None: ``config.model_dir`` or a new
        temporary directory (logged).
      config: a RunConfig.
      params: dict passed to ``model_fn`` (and ``input_fn`` if it takes ``params``).
      warm_start_from: a checkpoint path/directory or WarmStartSettings to initialize
        from when ``model_dir`` has no checkpoint yet.

    Raises:
      ValueError: for a ``model_fn`` with unexpected arguments, or ``model_dir``
        disagreeing with ``config.model_dir``.
    """

    def __init__(self, model_fn, model_dir=None, config=None, params=None,
                 warm_start_from=None):
        _inputs.verify_model_fn_args(model_fn, params)
        if config is None:
            config = RunConfig()
        elif not isinstance(config, RunConfig):
            raise ValueError(f"config must be an instance of `RunConfig`, but provided "
                             f"{config}.")
        model_dir = os.fspath(model_dir) if model_dir is not None else None
        if model_dir is not None and config.model_dir is not None and \
                os.path.abspath(model_dir) != os.path.abspath(config.model_dir):
            raise ValueError(
                "`model_dir` are set both in constructor and `RunConfig`, but with "
                f"different values. In constructor: '{model_dir}', in `RunConfig`: "
                f"'{config.model_dir}' ")
        model_dir = model_dir or config.model_dir
        if model_dir is None:
            model_dir = tempfile.mkdtemp()
            _LOG.warning("Using temporary folder as model directory: %s", model_dir)
        self._model_dir = model_dir
        self._config = config.replace(model_dir=model_dir)
        self._model_fn = model_fn
        self._params = copy.deepcopy(params or {})
        self._scope = ModelScope(model_dir)
        self._last_eval = None   # (name, results) of the latest evaluate
        if warm_start_from is not None:
            if not isinstance(warm_start_from, WarmStartSettings):
                warm_start_from = WarmStartSettings(warm_start_from)
            values = _reader.load_checkpoint(
                warm_start_from.ckpt_to_initialize_from)._values
            self._scope.set_warm_start(values, warm_start_from.vars_to_warm_start)
        _LOG.info("Using config: %s", self._config)

    # -- properties -------------------------------------------------------------
    model_dir = property(lambda self: self._model_dir)
    config = property(lambda self: copy.deepcopy(self._config))
    params = property(lambda self: copy.deepcopy(self._params))
    model_fn = property(lambda self: self._model_fn)

    def latest_checkpoint(self):
        """The newest checkpoint prefix in ``model_dir``, or None."""
        return self._scope.latest_checkpoint()

    def get_variable_names(self):
        """Names of the variables in the latest checkpoint.

        Raises:
          ValueError: when ``model_dir`` has no checkpoint yet.
        """
        return [name for name, _ in _reader.list_variables(self.model_dir)]

    def get_variable_value(self, name):
        """The value (NumPy) of variable ``name`` in the latest checkpoint."""
        return _reader.load_variable(self.model_dir, name)

    # -- model_fn ---------------------------------------------------------------
    def _call_model_fn(self, features, labels, mode):
        args = _inputs.fn_args(self._model_fn)
        kwargs = {}
        if "labels" in args:
            kwargs["labels"] = labels
        elif labels is not None:
            raise ValueError("model_fn does not take labels, but input_fn returns "
                             "labels.")
        if "mode" in args:
            kwargs["mode"] = mode
        if "params" in args:
            kwargs["params"] = self.params
        if "config" in args:
            kwargs["config"] = self._config
        with self._scope.model_call(mode):
            spec = self._model_fn(features=features, **kwargs)
        if not isinstance(spec, EstimatorSpec):
            raise ValueError(  # noqa: TRY004 - TF raises ValueError
                f"model_fn should return an EstimatorSpec, got "
                f"{type(spec).__name__}: {spec!r:.200}")
        if spec.mode != mode:
            raise ValueError(f"model_fn was called in mode {mode!r} but returned an "
                             f"EstimatorSpec of mode {spec.mode!r}.")
        return spec

    def _input_batches(self, input_fn, mode):
        result = _inputs.call_input_fn(input_fn, mode, self.params, self._config)
        return _inputs.batches(result)

    @contextlib.contextmanager
    def _seeded(self):
        """``config.tf_random_seed`` as the global seed during a call (TF's graph
        seed); the caller's seed is set again afterwards."""
        seed = self._config.tf_random_seed
        if seed is None:
            yield
            return
        previous = _random._SEEDS.global_seed
        _random.set_seed(seed)
        try:
            yield
        finally:
            _random.set_seed(previous)

    # -- train ------------------------------------------------------------------
    def train(self, input_fn, hooks=None, steps=None, max_steps=None,
              saving_listeners=None):
        """Trains for ``steps`` more steps, up to global step ``max_steps``, or until
        the input ends.

        Args:
          input_fn: returns a Dataset of ``(features, labels)``, or one such tuple.
          hooks: SessionRunHooks run around each step.
          steps: number of steps (None: until the input ends or ``max_steps``).
          max_steps: global step to stop at (training is skipped if reached).
          saving_listeners: CheckpointSaverListeners called around each save.

        Returns:
          self.

        Raises:
          ValueError: for both ``steps`` and ``max_steps``, non-positive counts, an
            input_fn of the wrong structure, or an invalid EstimatorSpec.
        """
        if steps is not None and max_steps is not None:
            raise ValueError("Can not provide both steps and max_steps.")
        _positive("steps", steps)
        _positive("max_steps", max_steps)
        hooks = _hooks.check_hooks(hooks, "Estimator.train")
        listeners = list(saving_listeners or ())
        scope = self._scope
        scope.sync()
        start = int(scope.global_step.numpy())
        if max_steps is not None and start >= max_steps:
            _LOG.info("Skipping training since max_steps has already saved.")
            return self
        budget = steps if steps is not None else (
            max_steps - start if max_steps is not None else None)
        scope.local.clear()
        with self._seeded():
            batches, is_dataset = self._input_batches(input_fn, ModeKeys.TRAIN)
            if not is_dataset and budget is None:
                raise ValueError(
                    "input_fn returned a single (features, labels) batch, which would "
                    "train forever: pass steps or max_steps, or return a "
                    "tf.data.Dataset.")
            with scope.activate(ModeKeys.TRAIN):
                self._train_loop(batches, is_dataset, budget, hooks, listeners)
        return self

    def _train_loop(self, batches, is_dataset, budget, hooks, listeners):
        scope, config = self._scope, self._config
        for h in hooks:
            h.begin()
        for listener in listeners:
            listener.begin()
        for h in hooks:
            h.after_create_session(None, None)
        done, loss, last_saved, spec_hooks = 0, None, None, False
        first = next(batches, None)
        batch_iter = batches if is_dataset else None
        tick, tick_step, save_time = time.time(), int(scope.global_step.numpy()), \
            time.time()
        batch = first
        while batch is not None and (budget is None or done < budget):
            context = _hooks.SessionRunContext()
            for h in hooks:
                h.before_run(context)
            before = int(scope.global_step.numpy())
            spec = self._call_model_fn(batch[0], batch[1], ModeKeys.TRAIN)
            if not spec_hooks:   # the first call's hooks (TF calls model_fn once)
                extra = list(spec.training_hooks) + list(spec.training_chief_hooks)
                for h in extra:
                    h.begin()
                hooks, spec_hooks = hooks + extra, True
            loss = float(spec.loss.numpy())
            step = int(scope.global_step.numpy())
            if step == before:
                _LOG.warning(
                    "It seems that global step (tf.train.get_global_step) has not been "
                    "increased. Current value (could be stable): %d. You could increase "
                    "the global step by passing tf.train.get_global_step() to "
                    "Optimizer.apply_gradients or Optimizer.minimize.", step)
            done += 1
            if config.log_step_count_steps and done % config.log_step_count_steps == 0:
                now = time.time()
                _LOG.info("loss = %s, step = %d", loss, step)
                if now > tick:
                    _LOG.info("global_step/sec: %g", (step - tick_step) / (now - tick))
                tick, tick_step = now, step
            due = (config.save_checkpoints_steps and
                   step % config.save_checkpoints_steps == 0) or \
                (config.save_checkpoints_secs and
                 time.time() - save_time >= config.save_checkpoints_secs)
            if due:
                last_saved = self._save(listeners)
                save_time = time.time()
            stop = False
            for h in hooks:
                h.after_run(context, _hooks.SessionRunValues(None, None, None))
                stop = stop or context.stop_requested
            if stop:
                break
            batch = next(batch_iter, None) if is_dataset else first
        if last_saved != int(self._scope.global_step.numpy()):
            self._save(listeners)
        for h in hooks:
            h.end(None)
        step = int(scope.global_step.numpy())
        for listener in listeners:
            listener.end(None, step)
        if loss is not None:
            _LOG.info("Loss for final step: %s.", loss)

    def _save(self, listeners):
        step = int(self._scope.global_step.numpy())
        for listener in listeners:
            listener.before_save(None, step)
        _LOG.info("Saving checkpoints for %d into %s.", step,
                  os.path.join(self.model_dir, "model.ckpt"))
        self._scope.save(self._config.keep_checkpoint_max)
        for listener in listeners:
            listener.after_save(None, step)
        return step

    # -- evaluate ---------------------------------------------------------------
    def evaluate(self, input_fn, steps=None, hooks=None, checkpoint_path=None,
                 name=None):
        """Evaluates the latest (or the given) checkpoint on ``input_fn``'s data.

        Args:
          input_fn: returns a Dataset of ``(features, labels)``, or one such tuple.
          steps: number of batches (None: until the input ends).
          hooks: SessionRunHooks run around each batch.
          checkpoint_path: a checkpoint to evaluate instead of the latest.
          name: name of this evaluation (TF's ``eval_<name>`` directory).

        Returns:
          dict of the EstimatorSpec's metrics, 'loss' (mean over batches) and
          'global_step', as NumPy values.

        Raises:
          ValueError: for non-positive ``steps``, empty input, an input_fn of the
            wrong structure, or an EstimatorSpec without loss.
        """
        _positive("steps", steps)
        hooks = _hooks.check_hooks(hooks, "Estimator.evaluate")
        scope = self._scope
        if scope.sync(checkpoint_path) is None:
            _LOG.info("Could not find trained model in model_dir: %s, running "
                      "initialization to evaluate.", self.model_dir)
        scope.local.clear()
        losses, spec = [], None
        _LOG.info("Starting evaluation at %s", time.strftime("%Y-%m-%dT%H:%M:%S"))
        with self._seeded(), scope.activate(ModeKeys.EVAL):
            batches, _ = self._input_batches(input_fn, ModeKeys.EVAL)
            for h in hooks:
                h.begin()
            for features, labels in batches:
                context = _hooks.SessionRunContext()
                for h in hooks:
                    h.before_run(context)
                spec = self._call_model_fn(features, labels, ModeKeys.EVAL)
                losses.append(float(spec.loss.numpy()))
                for h in hooks:
                    h.after_run(context, _hooks.SessionRunValues(None, None, None))
                if (steps is not None and len(losses) >= steps) or \
                        context.stop_requested:
                    break
            for h in hooks:
                h.end(None)
        if spec is None:
            raise ValueError("Estimator.evaluate: input_fn produced no data to "
                             "evaluate (an empty Dataset).")
        results = {"loss": _numpy(convert_to_tensor(sum(losses) / len(losses)))}
        for key, metric in spec.eval_metric_ops.items():
            value = metric.result() if is_metric_object(metric) else metric[0]
            results[key] = _numpy(value)
        results["global_step"] = _numpy(scope.global_step)
        _LOG.info("Saving dict for global step %d: %s", int(results["global_step"]),
                  ", ".join(f"{k} = {v}" for k, v in sorted(results.items())))
        self._last_eval = (name, results)
        return results

    # -- predict ----------------------------------------------------------------
    def predict(self, input_fn, predict_keys=None, hooks=None, checkpoint_path=None,
                yield_single_examples=True):
        """Yields predictions of the latest (or the given) checkpoint.

        Args:
          input_fn: returns a Dataset of features (or ``(features, labels)``, the
            labels ignored), or features / such a tuple directly.
          predict_keys: names of the predictions to keep (None: all).
          hooks: SessionRunHooks run around each batch.
          checkpoint_path: a checkpoint to predict with instead of the latest.
          yield_single_examples: yield one example at a time (else one batch).

        Yields:
          dicts of NumPy values (or the value itself when ``predictions`` is a
          single Tensor).

        Raises:
          ValueError: for unknown ``predict_keys`` or predictions whose batch sizes
            differ.
        """
        hooks = _hooks.check_hooks(hooks, "Estimator.predict")
        scope = self._scope
        if scope.sync(checkpoint_path) is None:
            _LOG.info("Could not find trained model in model_dir: %s, running "
                      "initialization to predict.", self.model_dir)
        scope.local.clear()
        if isinstance(predict_keys, str):
            predict_keys = [predict_keys]
        batches, _ = self._input_batches(input_fn, ModeKeys.PREDICT)
        for h in hooks:
            h.begin()
        for features, _labels in batches:
            context = _hooks.SessionRunContext()
            for h in hooks:
                h.before_run(context)
            with self._seeded():
                spec = self._call_model_fn(features, None, ModeKeys.PREDICT)
            preds = self._select(spec.predictions, predict_keys)
            for h in hooks:
                h.after_run(context, _hooks.SessionRunValues(None, None, None))
            yield from self._unbatch(preds, yield_single_examples)
            if context.stop_requested:
                break
        for h in hooks:
            h.end(None)

    @staticmethod
    def _select(predictions, predict_keys):
        if not isinstance(predictions, dict):
            return predictions.numpy()
        if predict_keys is not None:
            missing = [k for k in predict_keys if k not in predictions]
            if missing:
                raise ValueError(f"Expected to run at least one output from "
                                 f"{sorted(predictions)}, provided {predict_keys}.")
            predictions = {k: predictions[k] for k in predict_keys}
        return {k: v.numpy() for k, v in predictions.items()}

    @staticmethod
    def _unbatch(preds, single):
        if not single:
            yield preds
            return
        if not isinstance(preds, dict):
            yield from preds
            return
        sizes = {k: (len(v) if getattr(v, "ndim", 0) else None)
                 for k, v in preds.items()}
        if None in sizes.values() or len(set(sizes.values())) > 1:
            raise ValueError(f"Batch length of predictions should be same. {sizes}")
        n = next(iter(sizes.values()), 0)
        for i in range(n):
            yield {k: v[i] for k, v in preds.items()}

    def export_saved_model(self, export_dir_base, serving_input_receiver_fn,
                           assets_extra=None, as_text=False, checkpoint_path=None,
                           experimental_mode=ModeKeys.PREDICT):
        """Not supported: dlframe cannot serialize a ``model_fn`` as a graph."""
        raise NotImplementedError(
            "Estimator.export_saved_model is not supported by dlframe (a model_fn "
            "runs eagerly and is not traced into a SavedModel). Export a Keras model "
            "with tf.saved_model.save / model.save instead.")

    export_savedmodel = export_saved_model
