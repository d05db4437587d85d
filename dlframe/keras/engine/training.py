"""Keras training API mixed into ``keras.Model``: compile/fit/evaluate/predict.

``train_step``/``test_step``/``predict_step`` are overridable as in Keras. Unless
``run_eagerly=True`` a step runs through ``dlframe.function`` (one graph per input
signature, DESIGN.md §5).

The steps live in ``training_steps``, the first-batch checks in ``training_checks``,
the single-batch methods in ``training_batch`` and the file methods in
``training_saving``; their names are re-exported here.
"""

import itertools
import math
import warnings

from dlframe.core.tensor import Tensor
from dlframe.keras import optimizers as optimizers_mod
from dlframe.keras.callbacks.callback import CallbackList
from dlframe.keras.engine import training_data as data_mod
from dlframe.keras.engine import training_distributed as _dist
from dlframe.keras.engine.training_batch import (  # noqa: F401
    BatchMethodsMixin,
    _flat_values,
    _to_numpy,
)
from dlframe.keras.engine.training_checks import (  # noqa: F401
    FirstBatchChecksMixin,
    LabelRangeError,
)
from dlframe.keras.engine.training_compile import LossesContainer, MetricsContainer
from dlframe.keras.engine.training_generator import GeneratorMethodsMixin
from dlframe.keras.engine.training_saving import SavingMethodsMixin
from dlframe.keras.engine.training_steps import (  # noqa: F401
    NotCompiledError,
    StepsMixin,
    _accepts_training,
    _floats,
    _merge_dict_results,
    _sorted_logs,
)
from dlframe.keras.utils import tree
from dlframe.ops import array as _array


def _concat(parts):
    if len(parts) == 1:
        return parts[0]
    return _array.concat(parts, axis=0)


def _resolve_jit_compile(jit_compile, run_eagerly):
    """Keras 3's ``jit_compile``: "auto" is on only where a GPU is the default device
    (TF turns XLA off on CPU-only machines); True with ``run_eagerly`` warns and is
    turned off."""
    if jit_compile == "auto":
        from dlframe.backends import default_device
        return default_device().kind == "gpu" and not run_eagerly
    if jit_compile and run_eagerly:
        warnings.warn("If `run_eagerly` is True, then `jit_compile` cannot also be "
                      "True. Disabling `jit_compile`.", stacklevel=3)
        return False
    return jit_compile


class TrainingMixin(StepsMixin, FirstBatchChecksMixin, BatchMethodsMixin,
                    SavingMethodsMixin, GeneratorMethodsMixin):
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
    _compile_strategy = None

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
          steps_per_execution: how many batches one execution runs; callbacks see
            one ``on_*_batch_begin``/``end`` per execution (indices of its first and
            last batch). ``'auto'`` (Keras 2) means 1.
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
        self._steps_per_execution = _check_steps_per_execution(steps_per_execution)
        self._jit_compile = _resolve_jit_compile(jit_compile, run_eagerly)
        self.train_function = self.test_function = self.predict_function = None
        self.stop_training = False
        self._is_compiled = True
        self._checked_first_batch = False
        self._compile_strategy = _dist.active_strategy()

    @property
    def compiled(self):
        """Whether ``compile`` has configured the model (Keras 3)."""
        return bool(self._is_compiled)

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

    @jit_compile.setter
    def jit_compile(self, value):   # Keras 3's setter does not look at run_eagerly
        self._jit_compile = _resolve_jit_compile(value, run_eagerly=False)

    @property
    def steps_per_execution(self):
        return self._steps_per_execution

    @property
    def distribute_strategy(self):
        """The strategy whose scope created the model (or holds its weights), else
        the current one (``tf.distribute.get_strategy()``), as in TF."""
        return _dist.model_strategy(self) or _dist.current_strategy(
            getattr(self, "_creation_strategy", None))

    def _assert_compile_was_called(self):
        if not self._is_compiled:
            raise NotCompiledError()

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
        # as in Keras 3, `batch_size` is ignored for datasets and generators
        if validation_split and validation_data is None:
            # arrays and array-likes (pandas frames and series) can be split
            if not (isinstance(x, Tensor) or data_mod._is_array(x) or
                    hasattr(x, "__array__") or isinstance(x, (list, tuple, dict))):
                raise ValueError(
                    "`validation_split` is only supported for Tensors or NumPy arrays, "
                    f"found following types in the input: {[type(x).__name__]}")
            full = data_mod.ArrayAdapter(x, y, sample_weight, batch_size)
            (x, y, sample_weight), validation_data = full.split(validation_split)
        train = data_mod.make_adapter(x, y, sample_weight, batch_size, shuffle,
                                      steps_per_epoch, class_weight, workers=workers,
                                      use_multiprocessing=use_multiprocessing,
                                      max_queue_size=max_queue_size,
                                      resume_iterator=True)
        val = None
        if validation_data is not None:
            val = self._validation_adapter(validation_data,
                                           validation_batch_size or batch_size,
                                           validation_steps)
        if not self._checked_first_batch:
            self._check_first_batch(*_first_batch_and_labels(train))
            self._checked_first_batch = True
        if self.optimizer is not None and not self.optimizer.built and self.built:
            # an unbuilt model (custom train_step) builds it on its first apply
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
            if data_mod.out_of_data(train):   # an exhausted generator: stop (warned)
                break
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            step = -1
            for begin, batches in _executions(train, self._steps_per_execution):
                if want_batch_logs:
                    cbs.on_train_batch_begin(begin)
                for data in batches:
                    logs = train_fn(data)
                step = begin + len(batches) - 1
                if want_batch_logs:
                    cbs.on_train_batch_end(step, _sorted_logs(_merge_dict_results(logs),
                                                              logs))
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
            # no warning when a callback (TerminateOnNaN) already stopped the run
            if isinstance(loss_value, float) and not math.isfinite(loss_value) \
                    and not self.stop_training:
                warnings.warn(f"Epoch {epoch + 1}: the training loss is {loss_value} "
                              "(NaN or infinite). Check the learning rate, the inputs "
                              "and the labels; TerminateOnNaN stops training at the "
                              "first such batch.", RuntimeWarning, stacklevel=2)
            if val is not None and self._should_eval(epoch, validation_freq):
                val_logs = self._evaluate_loop(val, cbs, in_fit=True)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
                raw = {**(logs if isinstance(logs, dict) else {}),
                       **{"val_" + k: v for k, v in val_logs.items()}}
            else:
                raw = logs
            epoch_logs = _sorted_logs(epoch_logs, raw)
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
        return data_mod.make_adapter(vx, vy, vsw, batch_size, False, steps)

    # -- evaluate / predict ------------------------------------------------------------
    def _evaluate_loop(self, adapter, cbs, in_fit=False):
        test_fn = self.make_test_function()
        for m in self.metrics:
            m.reset_state()
        cbs.on_test_begin()
        want = cbs.needs_batch_logs("test")
        logs = None
        step = -1
        for begin, batches in _executions(adapter, self._steps_per_execution):
            if want:
                cbs.on_test_batch_begin(begin)
            for data in batches:
                logs = test_fn(data)
            step = begin + len(batches) - 1
            if want:
                cbs.on_test_batch_end(step, _sorted_logs(_merge_dict_results(logs), logs))
        if logs is None:
            raise ValueError("Unexpected result of `test_function` (Empty logs): the "
                             "evaluation data is empty.")
        if adapter.steps is None:
            adapter.steps = step + 1
        result = _sorted_logs(_floats(self._metrics_or_logs(logs)), logs)
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
            self._check_first_batch(*_first_batch_and_labels(adapter), step="test_step")
            self._checked_first_batch = True
        cbs = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
            callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
            steps=adapter.steps)
        logs = self._evaluate_loop(adapter, cbs)
        if return_dict:
            return logs
        values = [logs[k] for k in self._log_order(list(logs))]
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
        for begin, batches in _executions(adapter, self._steps_per_execution):
            if want:
                cbs.on_predict_batch_begin(begin)
            for data in batches:
                out = predict_fn(data)
                flat = tree.flatten(out)
                if outputs is None:
                    outputs, structure = [[t] for t in flat], out
                else:
                    for acc, t in zip(outputs, flat):
                        acc.append(t)
            if want:
                # one execution's outputs together, as Keras hands them over
                recent = [_concat(acc[-len(batches):]) for acc in outputs]
                cbs.on_predict_batch_end(begin + len(batches) - 1, {
                    "outputs": tree.pack_sequence_as(structure, recent)})
        if outputs is None:
            raise ValueError("Unexpected result of `predict_function` (Empty batch_outputs)"
                             ". Please use `Model.compile(..., run_eagerly=True)`, or "
                             "`tf.config.run_functions_eagerly(True)` for more information"
                             " of where went wrong, or file a issue/bug to `tf.keras`.")
        cbs.on_predict_end()
        merged = [_concat(parts).numpy() for parts in outputs]
        return tree.pack_sequence_as(structure, merged)


def _check_steps_per_execution(value):
    if value == "auto" or value is None:
        return 1
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError("Argument `steps_per_execution` must be a positive integer or "
                        f"'auto', received: steps_per_execution={value!r} "
                        f"(of type {type(value).__name__})")
    if int(value) < 1:
        raise ValueError("Argument `steps_per_execution` must be a positive integer, "
                         f"received: steps_per_execution={value!r}")
    return int(value)


def _executions(adapter, steps_per_execution):
    """``(index of the first batch, batches)`` per execution of up to
    ``steps_per_execution`` batches of one epoch (the last one may be shorter)."""
    iterator = iter(adapter.epoch_iterator())
    begin = 0
    while True:
        batches = list(itertools.islice(iterator, steps_per_execution))
        if not batches:
            return
        yield begin, batches
        begin += len(batches)


def _first_batch_and_labels(adapter):
    """``(first batch, all labels or None)`` for the checks before the first step:
    array data gives a whole batch (a subclassed model builds at the shape it trains
    at) and all its labels at once."""
    if isinstance(adapter, data_mod.ArrayAdapter):
        return adapter.first_batch(adapter.batch_size), adapter._y
    return adapter.first_batch(), None
