"""Keras training API mixed into ``keras.Model``: compile/fit/evaluate/predict.

``train_step``/``test_step``/``predict_step`` are overridable as in Keras. Unless
``run_eagerly=True`` a step runs through ``dlframe.function`` (one graph per input
signature, DESIGN.md §5).
"""

import inspect
import math
import warnings

from dlframe.core import dtypes
from dlframe.core.function import function as _compile
from dlframe.core.tape import GradientTape
from dlframe.core.tensor import Tensor
from dlframe.errors import InvalidArgumentError
from dlframe.keras import optimizers as optimizers_mod
from dlframe.keras.callbacks.callback import CallbackList
from dlframe.keras.engine import training_data as data_mod
from dlframe.keras.engine import training_distributed as _dist
from dlframe.keras.engine.layer_state_api import attribute_metrics
from dlframe.keras.engine.training_compile import LossesContainer, MetricsContainer
from dlframe.keras.engine.training_generator import GeneratorMethodsMixin
from dlframe.keras.utils import tree
from dlframe.ops import array as _array
from dlframe.ops import reduction as _red


class LabelRangeError(InvalidArgumentError, ValueError):
    """Sparse labels outside ``[0, num_classes)`` (TF raises InvalidArgumentError)."""


def _concat(parts):
    if len(parts) == 1:
        return parts[0]
    return _array.concat(parts, axis=0)


def _to_numpy(structure):
    return tree.map_structure(lambda t: t.numpy() if isinstance(t, Tensor) else t,
                              structure)


def _merge_dict_results(logs):
    """Logs with dict values (e.g. Keras 3's ``compile_metrics``) merged in."""
    if not isinstance(logs, dict) or not any(isinstance(v, dict) for v in logs.values()):
        return logs
    out = {}
    for k, v in logs.items():
        if isinstance(v, dict):
            out.update(v)
        else:
            out[k] = v
    return out


def _accepts_training(method):
    """Whether an overridden ``compute_loss`` takes ``training`` (Keras 3's does; the
    keras.io examples' ``compute_loss(x, y, y_pred, sample_weight, allow_empty)``
    and Keras 2 overrides do not)."""
    try:
        params = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == "training" or p.kind is p.VAR_KEYWORD for p in params)


def _floats(logs):
    out = {}
    for k, v in (logs or {}).items():
        if isinstance(v, Tensor):
            v = v.numpy()
            v = float(v) if getattr(v, "ndim", 0) == 0 else v
        out[k] = v
    return out


class TrainingMixin(GeneratorMethodsMixin):
    """compile/fit/evaluate/predict and the overridable train/test/predict steps."""

    _is_compiled = False
    optimizer = None
    compiled_loss = None
    compiled_metrics = None
    loss = None
    stop_training = False
    history = None
    train_function = None
    test_function = None
    predict_function = None
    _steps_per_execution = 1
    _jit_compile = None

    # -- compile ---------------------------------------------------------------
    @_dist.in_strategy_scope
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=None, steps_per_execution=1,
                jit_compile=None, auto_scale_loss=True, **kwargs):
        """Configures the model for training.

        Args:
          optimizer: an optimizer name ('adam') or instance.
          loss: a loss name, function or ``Loss``; a list or dict for several outputs.
          metrics: metric names, functions or ``Metric``s ('accuracy' resolves by the
            loss and output shape); a list or dict per output.
          loss_weights: scalar weights of the per-output losses (list or dict).
          weighted_metrics: metrics that receive ``sample_weight``/``class_weight``.
          run_eagerly: run the steps as plain Python (no ``dlframe.function``).
          steps_per_execution: accepted for compatibility.
          jit_compile: accepted for compatibility.
          auto_scale_loss: when the model's dtype policy is ``'mixed_float16'``, wrap
            the optimizer in a ``LossScaleOptimizer`` (dynamic loss scaling).
        """
        kwargs.pop("experimental_steps_per_execution", None)
        kwargs.pop("pss_evaluation_shards", None)
        if kwargs:
            raise TypeError(f"Invalid keyword argument(s) in `compile()`: "
                            f"{tuple(kwargs)}. Valid keyword arguments include "
                            "\"cloning\", \"experimental_run_tf_function\", "
                            "\"distribute\", \"target_tensors\", or \"sample_weight_mode\".")
        try:
            self.optimizer = optimizers_mod.get(optimizer)
        except ValueError:
            raise ValueError(f"Could not interpret optimizer identifier: {optimizer!r} "
                             "(argument `optimizer` of `compile`)") from None
        if auto_scale_loss and getattr(self.dtype_policy, "name", None) == "mixed_float16":
            from dlframe.keras.mixed_precision import loss_scale_optimizer as lso
            if not isinstance(self.optimizer, lso.LossScaleOptimizer):
                self.optimizer = lso.LossScaleOptimizer(self.optimizer)
        names = list(getattr(self, "output_names", None) or [])
        self.loss = loss
        self.compiled_loss = LossesContainer(loss, loss_weights, names)
        self.compiled_metrics = MetricsContainer(metrics, weighted_metrics, names, loss)
        self._run_eagerly = run_eagerly
        self._steps_per_execution = int(steps_per_execution or 1)
        self._jit_compile = jit_compile
        self.train_function = self.test_function = self.predict_function = None
        self.stop_training = False
        self._is_compiled = True
        self._checked_first_batch = False

    @property
    def run_eagerly(self):
        value = getattr(self, "_run_eagerly", None)
        return bool(value)

    @run_eagerly.setter
    def run_eagerly(self, value):
        self._run_eagerly = value
        self.train_function = self.test_function = self.predict_function = None

    @property
    def jit_compile(self):
        return bool(self._jit_compile)

    @property
    def steps_per_execution(self):
        return self._steps_per_execution

    @property
    def distribute_strategy(self):
        """The multi-replica strategy whose scope built the model, else None."""
        return _dist.model_strategy(self)

    def _assert_compile_was_called(self):
        if not self._is_compiled:
            raise RuntimeError("You must compile your model before training/testing. Use "
                               "`model.compile(optimizer, loss)`.")

    # -- metrics ---------------------------------------------------------------
    @property
    def metrics(self):
        """Loss trackers, compiled metrics, then metrics held in attributes."""
        out = []
        if self._is_compiled:
            out.extend(self.compiled_loss.metrics)
            if self.compiled_metrics.built or not self.compiled_metrics.has_metrics:
                out.extend(self.compiled_metrics.metrics)
            else:
                out.append(self.compiled_metrics)  # Keras 3's 'compile_metrics'
        layers = self._flatten_layers() if hasattr(self, "_flatten_layers") else [self]
        return attribute_metrics(layers, out)

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    def get_metrics_result(self):
        """``{name: result}`` of every metric (dict results are merged in)."""
        return _merge_dict_results({m.name: m.result() for m in self.metrics})

    # -- the steps ---------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     training=True):
        """Compiled loss plus ``self.losses`` (updates the ``loss`` tracker)."""
        del x, training
        if self.compiled_loss is None:
            raise RuntimeError("You must compile your model before training/testing.")
        share = _dist.replica_share()  # a replica of a multi-replica strategy
        if share is not None and share[0] == 0:
            return _dist.empty_loss()
        loss = self.compiled_loss(y, y_pred, sample_weight,
                                  regularization_losses=self.losses)
        return _dist.scale_loss(loss, share)

    def _compute_loss(self, x, y, y_pred, sample_weight, training):
        """``compute_loss``, passing ``training`` only to overrides that take it. As in
        Keras 3, the ``loss`` metric of an overriding ``compute_loss`` (a distiller's,
        which never calls the compiled loss) is the total it returns."""
        kwargs = {"x": x, "y": y, "y_pred": y_pred, "sample_weight": sample_weight}
        if type(self).compute_loss is TrainingMixin.compute_loss:
            return self.compute_loss(**kwargs)
        if _accepts_training(self.compute_loss):
            kwargs["training"] = training
        container = self.compiled_loss
        if container is None or _dist.replica_share() is not None:
            return self.compute_loss(**kwargs)
        with container.total_tracked_by_caller():
            loss = self.compute_loss(**kwargs)
        container.track_total(loss, y_pred)
        return loss

    def _metrics_or_logs(self, logs):
        """The metrics' results, unless a custom train/test step returned its own
        names (e.g. ``{"loss": self.total_tracker.result()}``): then its last logs."""
        result = _dist.combine_logs(self, self.get_metrics_result())
        logs = _merge_dict_results(logs)
        if isinstance(logs, dict) and set(logs) != set(result):
            return logs
        return result

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Updates the compiled metrics; returns ``get_metrics_result()``."""
        del x
        self.compiled_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def train_step(self, data):
        """One optimization step on ``data``; returns the metrics' current results."""
        x, y, sample_weight = data_mod.unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self._compute_loss(x, y, y_pred, sample_weight, training=True)
            scale = getattr(self.optimizer, "scale_loss", None)  # mixed precision
            scaled = scale(loss) if scale is not None else loss
        variables = self.trainable_variables
        grads = tape.gradient(scaled, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        """Computes the loss and updates the metrics on ``data``."""
        x, y, sample_weight = data_mod.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        self._compute_loss(x, y, y_pred, sample_weight, training=False)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """The model's outputs on the inputs of ``data``."""
        x, _, _ = data_mod.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _wrap(self, step, kind):
        strategy = _dist.model_strategy(self)
        if strategy is not None:  # split each batch over the replicas
            return _dist.DistributedStep(self, kind, strategy)
        if self.run_eagerly:
            return step
        return _compile(step, reduce_retracing=True)

    def make_train_function(self, force=False):
        if self.train_function is None or force:
            self.train_function = self._wrap(lambda data: self.train_step(data), "train")
        return self.train_function

    def make_test_function(self, force=False):
        if self.test_function is None or force:
            self.test_function = self._wrap(lambda data: self.test_step(data), "test")
        return self.test_function

    def make_predict_function(self, force=False):
        if self.predict_function is None or force:
            self.predict_function = self._wrap(lambda data: self.predict_step(data),
                                               "predict")
        return self.predict_function

    # -- checks before the first step ---------------------------------------------
    def _check_string_inputs(self, x):
        """Text reaches only models whose declared inputs are strings (e.g. an
        ``Input(dtype=tf.string)`` feeding TextVectorization); subclassed models, which
        declare nothing, get the data as TF gives it to them."""
        declared = getattr(self, "inputs", None) or []
        takes_text = not declared or any(getattr(t, "dtype", None) == dtypes.string
                                          for t in tree.flatten(declared))
        for leaf in tree.flatten(x):
            if isinstance(leaf, Tensor) and leaf.dtype == dtypes.string and not takes_text:
                sample = leaf.numpy().reshape(-1)[:1].tolist()
                raise ValueError(
                    f"Invalid dtype for argument `x`: expected numeric data, received string "
                    f"values (first value: {sample}); the model's inputs are "
                    f"{[getattr(t, 'dtype', None) for t in tree.flatten(declared)]}. "
                    "Convert them to numbers, or start the model with "
                    "keras.Input(dtype=tf.string) and a TextVectorization layer.")

    def _uses_default_step(self, step):
        """Whether ``step`` ('train_step'/'test_step') is Keras's own: a user's step
        may take any data structure and the model need not be callable (a GAN)."""
        return getattr(type(self), step) is getattr(TrainingMixin, step)

    def _check_first_batch(self, batch, step="train_step"):
        """Runs the model, losses and metrics on a tiny batch so that bad labels, shapes
        and metric choices fail before any weight changes, with clear messages."""
        if batch is None or not self._uses_default_step(step):
            return
        x, y, sw = data_mod.unpack_x_y_sample_weight(batch)
        self._check_string_inputs(x)
        y_pred = self(x, training=False)
        if y is None or not self._is_compiled:
            return
        self._check_sparse_labels(y, y_pred)
        try:
            self.compiled_loss(y, y_pred, sw, update_tracker=False)
        except (ValueError, InvalidArgumentError) as exc:
            raise type(exc)(f"{exc}\n(while computing the loss "
                            f"{self.loss!r} on y of shape "
                            f"{[tuple(t.shape) for t in tree.flatten(y)]} and predictions "
                            f"of shape {[tuple(t.shape) for t in tree.flatten(y_pred)]})") \
                from None
        try:
            self.compiled_metrics.update_state(y, y_pred, sw)
        except (ValueError, InvalidArgumentError) as exc:
            raise ValueError(f"A metric cannot be applied to these outputs: {exc} "
                             f"(y shapes {[tuple(t.shape) for t in tree.flatten(y)]}, "
                             "predictions shapes "
                             f"{[tuple(t.shape) for t in tree.flatten(y_pred)]})") from None
        finally:
            self.compiled_metrics.reset_state()
        if self.optimizer is not None and not self.optimizer.built:
            self.optimizer.build(self.trainable_variables)

    def _check_sparse_labels(self, y, y_pred, full_y=None):
        losses = self.compiled_loss.losses if self.compiled_loss.built else []
        flat_pred = tree.flatten(y_pred)
        flat_y = tree.flatten(full_y if full_y is not None else y)
        from dlframe.keras import losses as losses_mod
        for i, loss in enumerate(losses):
            if getattr(loss, "fn", None) is not losses_mod.sparse_categorical_crossentropy:
                continue
            if i >= len(flat_y) or i >= len(flat_pred):
                continue
            labels, n = flat_y[i], int(flat_pred[i].shape[-1])
            ignore = getattr(loss, "_fn_kwargs", {}).get("ignore_class")
            lo = float(_red.reduce_min(labels).numpy())
            hi = float(_red.reduce_max(labels).numpy())
            if (lo < 0 and lo != ignore) or hi >= n:
                bad = hi if hi >= n else lo
                raise LabelRangeError(
                    None, None,
                    f"Received a label value of {bad:g} which is outside the valid range "
                    f"of [0, {n}) in argument `y` (sparse categorical cross-entropy over "
                    f"{n} model outputs). Label values range over [{lo:g}, {hi:g}].")

    # -- fit ---------------------------------------------------------------------
    @_dist.in_strategy_scope
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto",
            callbacks=None, validation_split=0.0, validation_data=None, shuffle=True,
            class_weight=None, sample_weight=None, initial_epoch=0, steps_per_epoch=None,
            validation_steps=None, validation_batch_size=None, validation_freq=1,
            max_queue_size=10, workers=1, use_multiprocessing=False):
        """Trains the model for ``epochs`` epochs; returns a ``History``."""
        self._assert_compile_was_called()
        verbose = 1 if verbose == "auto" else int(verbose)
        if batch_size is not None and (data_mod.is_dataset(x) or data_mod.is_generator(x)):
            raise ValueError("The `batch_size` argument must not be specified for the "
                             f"given input type. Received input: {type(x).__name__}, "
                             f"batch_size: {batch_size}")
        if validation_split and validation_data is None:
            if not (isinstance(x, Tensor) or data_mod._is_array(x) or
                    isinstance(x, (list, tuple, dict))):
                raise ValueError(
                    "`validation_split` is only supported for Tensors or NumPy arrays, "
                    f"found following types in the input: {[type(x).__name__]}")
            full = data_mod.ArrayAdapter(x, y, sample_weight, batch_size or 32)
            (x, y, sample_weight), validation_data = full.split(validation_split)
        train = data_mod.make_adapter(x, y, sample_weight, batch_size, shuffle,
                                      steps_per_epoch, class_weight, workers=workers,
                                      use_multiprocessing=use_multiprocessing,
                                      max_queue_size=max_queue_size)
        val = None
        if validation_data is not None:
            val = self._validation_adapter(validation_data,
                                           validation_batch_size or batch_size,
                                           validation_steps)
        if not self._checked_first_batch:
            self._check_first_batch(train.first_batch())
            if isinstance(train, data_mod.ArrayAdapter) and train._y is not None and \
                    self._uses_default_step("train_step"):
                self._check_sparse_labels(None, self(train.first_batch(1)[0],
                                                     training=False), full_y=train._y)
            self._checked_first_batch = True
        if self.optimizer is not None and not self.optimizer.built:
            self.optimizer.build(self.trainable_variables)
        cbs = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self,
            verbose=verbose, epochs=epochs, steps=train.steps)
        train_fn = self.make_train_function()
        self.stop_training = False
        self._initial_epoch_override = None
        cbs.on_train_begin()
        if self._initial_epoch_override is not None:  # BackupAndRestore resumed a run
            initial_epoch = max(initial_epoch, self._initial_epoch_override)
            self._initial_epoch_override = None
        logs, epoch_logs = None, {}
        want_batch_logs = cbs.needs_batch_logs("train")
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            step = -1
            for step, data in enumerate(train.epoch_iterator()):
                if want_batch_logs:
                    cbs.on_train_batch_begin(step)
                logs = train_fn(data)
                if want_batch_logs:
                    cbs.on_train_batch_end(step, _merge_dict_results(logs))
                if self.stop_training:
                    break
            if logs is None:
                raise ValueError("Unexpected result of `train_function` (Empty logs). This "
                                 "could be due to issues in input pipeline that resulted "
                                 "in an empty dataset. Otherwise, please use "
                                 "`Model.compile(..., run_eagerly=True)`, or "
                                 "`tf.config.run_functions_eagerly(True)` for more "
                                 "information of where went wrong, or file a issue/bug "
                                 "to `tf.keras`.")
            if train.steps is None:
                train.steps = step + 1
            epoch_logs = _floats(self._metrics_or_logs(logs) if step >= 0 else logs)
            loss_value = epoch_logs.get("loss")
            if isinstance(loss_value, float) and not math.isfinite(loss_value):
                warnings.warn(f"Epoch {epoch + 1}: the training loss is {loss_value} "
                              "(NaN or infinite). Check the learning rate, the inputs "
                              "and the labels; TerminateOnNaN stops training at the "
                              "first such batch.", RuntimeWarning, stacklevel=2)
            if val is not None and self._should_eval(epoch, validation_freq):
                val_logs = self._evaluate_loop(val, cbs, in_fit=True)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        if self.optimizer is not None and getattr(self.optimizer, "use_ema", False):
            self.optimizer.finalize_variable_values(self.trainable_variables)
        cbs.on_train_end(epoch_logs)
        return self.history

    @staticmethod
    def _should_eval(epoch, freq):
        if isinstance(freq, int):
            return (epoch + 1) % freq == 0
        return (epoch + 1) in freq

    def _validation_adapter(self, validation_data, batch_size, steps):
        if data_mod.is_dataset(validation_data) or data_mod.is_generator(validation_data) \
                or data_mod.is_sequence(validation_data):
            return data_mod.make_adapter(validation_data, steps=steps)
        if not isinstance(validation_data, (tuple, list)) or \
                len(validation_data) not in (2, 3):
            raise ValueError(
                "When passing validation_data, it must contain 2 (x_val, y_val) or 3 "
                "(x_val, y_val, val_sample_weights) items, however it contains "
                f"{len(validation_data) if hasattr(validation_data, '__len__') else '?'} "
                "items")
        vx, vy, vsw = data_mod.unpack_x_y_sample_weight(tuple(validation_data))
        return data_mod.make_adapter(vx, vy, vsw, batch_size or 32, False, steps)

    # -- evaluate / predict ------------------------------------------------------------
    def _evaluate_loop(self, adapter, cbs, in_fit=False):
        test_fn = self.make_test_function()
        for m in self.metrics:
            m.reset_state()
        cbs.on_test_begin()
        want = cbs.needs_batch_logs("test")
        logs = None
        step = -1
        for step, data in enumerate(adapter.epoch_iterator()):
            if want:
                cbs.on_test_batch_begin(step)
            logs = test_fn(data)
            if want:
                cbs.on_test_batch_end(step, _merge_dict_results(logs))
        if logs is None:
            raise ValueError("Unexpected result of `test_function` (Empty logs): the "
                             "evaluation data is empty.")
        if adapter.steps is None:
            adapter.steps = step + 1
        result = _floats(self._metrics_or_logs(logs))
        cbs.on_test_end(result)
        return result

    @_dist.in_strategy_scope
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, max_queue_size=10, workers=1,
                 use_multiprocessing=False, return_dict=False, **kwargs):
        """Loss and metrics on the data: a scalar, a list (``metrics_names`` order) or a
        dict with ``return_dict``."""
        self._assert_compile_was_called()
        verbose = 1 if verbose == "auto" else int(verbose)
        adapter = data_mod.make_adapter(x, y, sample_weight, batch_size, False, steps,
                                        workers=workers, max_queue_size=max_queue_size)
        if not self._checked_first_batch:
            self._check_first_batch(adapter.first_batch(), "test_step")
            self._checked_first_batch = True
        cbs = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
            callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
            steps=adapter.steps)
        logs = self._evaluate_loop(adapter, cbs)
        if return_dict:
            return logs
        values = [logs[k] for k in logs]
        return values[0] if len(values) == 1 else values

    @_dist.in_strategy_scope
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None,
                max_queue_size=10, workers=1, use_multiprocessing=False):
        """The model's outputs on ``x``, batched, as NumPy arrays."""
        verbose = 1 if verbose == "auto" else int(verbose)
        adapter = data_mod.make_adapter(x, None, None, batch_size, False, steps,
                                        workers=workers, max_queue_size=max_queue_size)
        cbs = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
            callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
            steps=adapter.steps)
        predict_fn = self.make_predict_function()
        cbs.on_predict_begin()
        want = cbs.needs_batch_logs("predict")
        outputs = None
        for step, data in enumerate(adapter.epoch_iterator()):
            if want:
                cbs.on_predict_batch_begin(step)
            out = predict_fn(data)
            flat = tree.flatten(out)
            if outputs is None:
                outputs, structure = [[t] for t in flat], out
            else:
                for acc, t in zip(outputs, flat):
                    acc.append(t)
            if want:
                cbs.on_predict_batch_end(step, {"outputs": out})
        if outputs is None:
            raise ValueError("Unexpected result of `predict_function` (Empty batch_outputs)"
                             ". Please use `Model.compile(..., run_eagerly=True)`, or "
                             "`tf.config.run_functions_eagerly(True)` for more information"
                             " of where went wrong, or file a issue/bug to `tf.keras`.")
        cbs.on_predict_end()
        merged = [_concat(parts).numpy() for parts in outputs]
        return tree.pack_sequence_as(structure, merged)

    # -- single batches ------------------------------------------------------------
    def _batch_data(self, x, y, sample_weight, class_weight=None):
        x = tree.map_structure(lambda v: data_mod.to_tensor(v, "x"), x)
        y = tree.map_structure(lambda v: data_mod.to_tensor(v, "y"), y) \
            if y is not None else None
        sw = data_mod.to_tensor(sample_weight, "sample_weight") \
            if sample_weight is not None else None
        if class_weight is not None and y is not None:
            sw = data_mod.apply_class_weight(y, sw, class_weight)
        return data_mod.pack_x_y_sample_weight(x, y, sw)

    @_dist.in_strategy_scope
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       reset_metrics=True, return_dict=False):
        """One gradient update on a single batch; returns loss/metrics."""
        self._assert_compile_was_called()
        if reset_metrics:
            self.reset_metrics()
        data = self._batch_data(x, y, sample_weight, class_weight)
        if not self._checked_first_batch:
            self._check_first_batch(data)
            self._checked_first_batch = True
        logs = _floats(self.make_train_function()(data))
        return logs if return_dict else _flat_values(logs)

    @_dist.in_strategy_scope
    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True,
                      return_dict=False):
        """Loss/metrics on a single batch."""
        self._assert_compile_was_called()
        if reset_metrics:
            self.reset_metrics()
        logs = _floats(self.make_test_function()(self._batch_data(x, y, sample_weight)))
        return logs if return_dict else _flat_values(logs)

    @_dist.in_strategy_scope
    def predict_on_batch(self, x):
        """The model's outputs on one batch, as NumPy arrays."""
        data = self._batch_data(x, None, None)
        return _to_numpy(self.make_predict_function()(data))

    # -- weights files ---------------------------------------------------------------
    def save_weights(self, filepath, overwrite=True, save_format=None, options=None):
        """Writes all weights to ``filepath``.

        Args:
          filepath: ``*.weights.h5`` (Keras 3 layout), ``*.h5`` (Keras 2 layout), or
            any other path: a TensorFlow checkpoint prefix (``<filepath>.index`` plus
            the directory's ``checkpoint`` file), which also holds the optimizer.
          overwrite: whether to replace an existing file.
          save_format: ``'tf'`` or ``'h5'`` to override the choice by suffix.
          options: unused; accepted for compatibility.
        """
        from dlframe.keras.saving import weights_io
        weights_io.save_weights(self, filepath, overwrite=overwrite,
                                save_format=save_format)

    def load_weights(self, filepath, skip_mismatch=False, by_name=False, options=None):
        """Reads weights written by ``save_weights`` (any of its formats).

        Args:
          filepath: an HDF5 weights file or a TensorFlow checkpoint prefix (for
            example ``tf.train.latest_checkpoint(directory)``).
          skip_mismatch: HDF5 only: skip layers whose weight count or shapes differ.
          by_name: HDF5 only: match layers by name instead of by order.
          options: unused; accepted for compatibility.

        Returns:
          For a checkpoint prefix, the load status (``expect_partial()`` etc.).
        """
        from dlframe.keras.saving import weights_io
        return weights_io.load_weights(self, filepath, skip_mismatch=skip_mismatch,
                                       by_name=by_name)

    def save(self, filepath, overwrite=True, save_format=None, **kwargs):
        """Saves architecture (config), weights, compile settings and optimizer state.

        Args:
          filepath: ``*.keras``: Keras 3's zip archive; ``*.h5``: one HDF5 file; any
            other path: a SavedModel directory (Keras 2's default); ``load_model``
            reads all three.
          overwrite: whether to replace an existing file.
          save_format: ``'tf'``, ``'h5'`` or ``'keras'`` to override the choice by
            suffix.
          **kwargs: ``include_optimizer`` (default True); others are ignored.
        """
        from dlframe.keras.saving import model_io
        model_io.save_model(self, filepath, overwrite=overwrite, save_format=save_format,
                            include_optimizer=kwargs.get("include_optimizer", True))

    def export(self, filepath, format="tf_saved_model", verbose=True,
               input_signature=None, **kwargs):
        """Writes an inference artifact (Keras 3): reload it with
        ``tf.saved_model.load(filepath).serve(x)`` or ``keras.layers.TFSMLayer``.

        Args:
          filepath: the directory to write (dlframe's format, see
            ``dlframe.keras.saving.export``).
          format: ``'tf_saved_model'``.
          verbose: print the endpoints written.
          input_signature: optional ``tf.TensorSpec`` (or list) of the inputs.
          **kwargs: other exporter options, ignored.
        """
        from dlframe.keras.saving import export
        export.export_model(self, filepath, format=format, verbose=verbose,
                            input_signature=input_signature, **kwargs)


def _flat_values(logs):
    values = list(logs.values())
    return values[0] if len(values) == 1 else values
